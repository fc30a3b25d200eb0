// SPDX-License-Identifier: MIT
/* replay P [after D] [limit N]
 *
 * With probability P a matching packet is let through at once and a copy
 * of it arrives again D later (default 1s), on the same path and in the
 * same direction: an attacker on the wire recording and re-sending it. The
 * BPF program clones the packet back into the hook it came from
 * (bpf_clone_redirect, as duplicate does) marked FL_MARK_REPLAY | slot; on
 * re-entry the mark becomes FL_MARK_DELAY | slot and the delay line holds
 * the copy for D in the rule's slot, configured here with a fixed delay.
 * Counters: `replayed` (copies made, BPF) and the delay line's `held` and
 * `overflow` (copies beyond `limit` are dropped).
 *
 * The delay line sits on the receive path, so only packets arriving at a
 * fault point are replayed: in a lab every packet (the wire-side ports'
 * ingress), in a --netns/--pid target what the namespace receives. */
#include "fault.h"

#include <errno.h>
#include <string.h>

#include "delay/delaymodel.h"
#include "delay/sup_delay.h"
#include "probe/probe.h"
#include "supervisor/sup.h"

struct replay {
	double p;
	uint64_t after_ns;
	uint32_t limit;
};

static const struct fl_param replay_params[] = {
	{ .name = "replay",
	  .type = FL_PT_PERCENT,
	  .off = offsetof(struct replay, p),
	  .flags = FL_PF_POSITIONAL | FL_PF_REQUIRED,
	  .help = "a matching packet arrives a second time with this probability" },
	{ .name = "after",
	  .type = FL_PT_DURATION,
	  .off = offsetof(struct replay, after_ns),
	  .def = "1s",
	  .min = 1000000,
	  .max = 3600000000000ULL,
	  .help = "how much later the copy arrives" },
	{ .name = "limit",
	  .type = FL_PT_COUNT,
	  .off = offsetof(struct replay, limit),
	  .def = "10000",
	  .min = 1,
	  .max = 65536,
	  .help = "copies waiting at once; beyond it they are dropped and counted (overflow)" },
	FL_PARAM_END,
};

static int replay_validate(struct fl_fault *f, struct fl_err *err)
{
	if (f->dir == FL_DIR_EGRESS) {
		fl_err_set(err, "replay: copies wait in the delay line on the receive path; "
				"--dir out cannot be replayed (use --dir in or both)");
		return -EINVAL;
	}
	return 0;
}

static void replay_encode(const struct fl_fault *f, struct fl_rule *r)
{
	r->kind = FL_KIND_REPLAY;
	r->prob = fl_prob_encode(FL_KIND_PARAMS(const struct replay, f)->p);
}

/* Each rule's slot in the delay line: a fixed delay of `after`. */
static int replay_apply(struct fl_kind_ctx *c, struct fl_fault *f, struct fl_err *err)
{
	const struct replay *rp = FL_KIND_PARAMS(const struct replay, f);
	struct fl_delay_params p;
	int rc = 0;

	memset(&p, 0, sizeof(p));
	p.delay_ns = rp->after_ns;
	p.limit = rp->limit;
	p.seed = f->seed;
	for (int i = 0; !rc && i < f->n_rules; i++) {
		p.rule_id = (uint32_t)i;
		rc = fl_sup_delay_set(c->sup, f->slots[i], &p, err);
	}
	return rc;
}

/* No new copies; those already waiting still arrive when they are due. */
static void replay_heal(struct fl_kind_ctx *c, struct fl_fault *f)
{
	for (int i = 0; i < f->n_rules; i++)
		fl_sup_delay_clear(c->sup, f->slots[i]);
}

static enum fl_backend replay_backend(const struct fl_probe_report *rep)
{
	return fl_probe_ok(rep, FL_PROBE_CLS_BPF) && fl_probe_ok(rep, FL_PROBE_NFQUEUE) ?
		       FL_BACKEND_DELAY_LINE :
		       FL_BACKEND_NONE;
}

const struct fault_ops fl_fault_replay = {
	.name = "replay",
	.help = "let a packet through and send a copy of it again D later (default 1s)",
	.example = "replay 1% after 500ms",
	.params = replay_params,
	.params_size = sizeof(struct replay),
	.wrap_needs = FL_WRAP_NEEDS_LOOPBACK_COPIES,
	.per_packet = fl_per_packet_always,
	.backend = replay_backend,
	.validate = replay_validate,
	.encode = replay_encode,
	.apply = replay_apply,
	.heal = replay_heal,
};
