// SPDX-License-Identifier: MIT
/* delay D [jitter J] [correlation C] [distribution uniform|normal|pareto|
 *       paretonormal] [reorder P [C]] [allow-reorder] [limit N]
 *       [fail-closed] [backend queue|netem|auto]
 * reorder P [C] [delay D] [backend B]
 *                             P of the packets skip a delay D (default
 *                             10ms) that the others get (netem's reorder)
 *
 * Both kinds fill the delay line's own parameters (delay/delaymodel.h); in
 * reorder, C is the reorder correlation. The BPF program marks every
 * matching packet (FL_MARK_DELAY | slot); the delay itself is drawn by the
 * delay line with fl_prng(seed, rule index, FL_STREAM_DELAY/REORDER,
 * per-rule queue sequence), so one seed gives one sequence of delays.
 * With backend netem (checked against the kernel before anything changes:
 * delay_check), the rule is encoded like a rate rule instead: the BPF
 * program writes an htb class into skb->priority, and that class of the
 * shaper carries a netem leaf (shape/netem.h) where the packets leave. */
#include "fault.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "delay/delaymodel.h"
#include "delay/sup_delay.h"
#include "places.h"
#include "probe/probe.h"
#include "shape/netem.h"
#include "shape/shape.h"
#include "supervisor/sup.h"

struct delay {
	struct fl_delay_params p;
	bool netem; /* backend netem, checked against the kernel */
};

#define OFF(field) offsetof(struct delay, p.field)
#define STR_(x) #x
#define STR(x) STR_(x)

/* Indexed by enum fl_delay_dist (the parameter stores the word's index). */
static const char *const dists[] = { "uniform", "normal", "pareto", "paretonormal", NULL };
_Static_assert(sizeof(dists) / sizeof(dists[0]) == FL_DIST_COUNT + 1,
	       "one distribution word per enum fl_delay_dist");
static const char *const backends[] = { "auto", "queue", "netem", NULL };

static const struct fl_param delay_params[] = {
	{ .name = "delay",
	  .type = FL_PT_DURATION,
	  .off = OFF(delay_ns),
	  .flags = FL_PF_POSITIONAL | FL_PF_REQUIRED | FL_PF_LINK,
	  .wrap = "--delay",
	  .help = "how long each packet is held" },
	{ .name = "jitter",
	  .type = FL_PT_DURATION,
	  .off = OFF(jitter_ns),
	  .flags = FL_PF_POSITIONAL | FL_PF_LINK,
	  .wrap = "--jitter",
	  .help = "spread of the delay (uniform: D-J..D+J; normal: sd J)" },
	{ .name = "correlation",
	  .type = FL_PT_PERCENT,
	  .off = OFF(delay_corr),
	  .flags = FL_PF_POSITIONAL,
	  .help = "how much a delay follows the one before (netem's)" },
	{ .name = "distribution",
	  .type = FL_PT_WORD,
	  .off = OFF(dist),
	  .words = dists,
	  .def = "uniform",
	  .help = "shape of the jitter" },
	{ .name = "reorder",
	  .type = FL_PT_PERCENT,
	  .off = OFF(reorder),
	  .help = "this share of packets skips the delay (netem's reorder)" },
	{ .name = "reorder-correlation",
	  .type = FL_PT_PERCENT,
	  .off = OFF(reorder_corr),
	  .flags = FL_PF_AFTER_PREV,
	  .help = "correlation of the reorder draws" },
	{ .name = "allow-reorder",
	  .type = FL_PT_FLAG,
	  .off = OFF(allow_reorder),
	  .help = "jitter may reorder packets (netem's tfifo); default: order kept" },
	{ .name = "limit",
	  .type = FL_PT_COUNT,
	  .off = OFF(limit),
	  .def = STR(FL_DELAY_DEFAULT_LIMIT),
	  .min = 1,
	  .max = FL_DELAY_MAX_LIMIT,
	  .help = "packets held per rule; beyond it they are dropped and counted" },
	{ .name = "fail-closed",
	  .type = FL_PT_FLAG,
	  .off = OFF(fail_closed),
	  .help = "if the delay line dies, traffic stops (default: it passes undelayed)" },
	{ .name = "backend",
	  .type = FL_PT_WORD,
	  .off = OFF(backend),
	  .words = backends,
	  .def = "auto",
	  .help = "queue: the NFQUEUE delay line (auto); netem: sch_netem" },
	FL_PARAM_END,
};

static const struct fl_param reorder_params[] = {
	{ .name = "reorder",
	  .type = FL_PT_PERCENT,
	  .off = OFF(reorder),
	  .flags = FL_PF_POSITIONAL | FL_PF_REQUIRED,
	  .help = "this share of packets skips the delay the others get" },
	{ .name = "correlation",
	  .type = FL_PT_PERCENT,
	  .off = OFF(reorder_corr),
	  .flags = FL_PF_POSITIONAL,
	  .help = "correlation of the reorder draws" },
	{ .name = "delay",
	  .type = FL_PT_DURATION,
	  .off = OFF(delay_ns),
	  .def = "10ms",
	  .help = "the delay the other packets get" },
	{ .name = "backend",
	  .type = FL_PT_WORD,
	  .off = OFF(backend),
	  .words = backends,
	  .def = "auto",
	  .help = "queue: the NFQUEUE delay line (auto); netem: sch_netem" },
	FL_PARAM_END,
};

static struct delay *D(struct fl_fault *f)
{
	return FL_KIND_PARAMS(struct delay, f);
}

static const struct delay *CD(const struct fl_fault *f)
{
	return FL_KIND_PARAMS(const struct delay, f);
}

static int delay_validate(struct fl_fault *f, struct fl_err *err)
{
	struct delay *d = D(f);

	(void)err;
	if (d->p.jitter_ns > d->p.delay_ns && d->p.dist == FL_DIST_UNIFORM)
		pr_debug("jitter larger than the delay: delays below 0 count as 0");
	return 0;
}

static void delay_encode(const struct fl_fault *f, struct fl_rule *r)
{
	const struct delay *d = CD(f);

	if (d->netem) { /* an htb class with a netem leaf */
		r->kind = FL_KIND_RATE;
		r->prob = FL_PROB_ONE;
		r->classid = 0; /* set by netem_apply once the slot is known */
		return;
	}
	r->kind = FL_KIND_DELAY;
	r->prob = FL_PROB_ONE; /* every match goes to the delay line */
	r->distribution = (__u32)d->p.dist;
	r->delay_ns = d->p.delay_ns;
	r->jitter_ns = d->p.jitter_ns;
	r->delay_corr = fl_prob_encode(d->p.delay_corr);
	r->reorder = fl_prob_encode(d->p.reorder);
}

/* auto and queue: the delay line, without asking the kernel; netem: only
 * when the probe finds sch_netem (docs/delay-and-rate.md, "Backends"). */
static int delay_check(struct fl_fault *f, struct fl_err *err)
{
	struct delay *d = D(f);
	struct fl_probe_report rep;
	struct fl_netem n;
	bool present;

	if (d->p.backend != FL_DELAY_BACKEND_NETEM)
		return 0;
	present = fl_probe_run(&rep) == 0 && fl_probe_ok(&rep, FL_PROBE_NETEM);
	if (fl_delay_backend_pick(d->p.backend, present) < 0) {
		fl_err_set(err,
			   "backend netem: this kernel has no sch_netem (CONFIG_NET_SCH_NETEM "
			   "is not set or the module is missing: %s); use backend queue "
			   "(the NFQUEUE delay line, also what auto picks)",
			   rep.r[FL_PROBE_NETEM].detail);
		return -EOPNOTSUPP;
	}
	if (fl_netem_from_delay(&d->p, &n, err))
		return -EINVAL;
	d->netem = true;
	return 0;
}

static int delay_can_change(const struct fl_fault *old, const struct fl_fault *new,
			    struct fl_err *err)
{
	if (CD(old)->netem == CD(new)->netem)
		return 0;
	fl_err_set(err, "%s: the backend cannot change live (fault del it and add a new one)",
		   old->id);
	return -EINVAL;
}

/* Delay and reorder are served by the delay line unless backend netem. */
static enum fl_backend delay_backend(const struct fl_probe_report *rep)
{
	if (fl_probe_ok(rep, FL_PROBE_NFQUEUE))
		return FL_BACKEND_DELAY_LINE;
	return fl_probe_ok(rep, FL_PROBE_NETEM) ? FL_BACKEND_NETEM : FL_BACKEND_NONE;
}

static int netem_places(struct fl_kind_ctx *c, struct fl_fault *f, struct fl_places *pl)
{
	struct fl_netem n;
	int rc = 0;

	if (fl_netem_from_delay(&D(f)->p, &n, NULL))
		return -EINVAL;
	for (int i = 0; !rc && i < pl->n; i++)
		for (int k = 0; !rc && k < f->n_rules; k++)
			rc = fl_shape_netem(fl_sup_state(c->sup), fl_sup_ns_spec(c->sup),
					    pl->ifname[i], (uint16_t)(f->slots[k] + 1), &n);
	return rc;
}

static void delay_heal(struct fl_kind_ctx *c, struct fl_fault *f)
{
	struct fl_places *pl = f->priv;

	for (int i = 0; pl && i < pl->n; i++)
		for (int k = 0; k < f->n_rules; k++)
			fl_shape_class_del(fl_sup_ns_spec(c->sup), pl->ifname[i],
					   (uint16_t)(f->slots[k] + 1));
	free(pl);
	f->priv = NULL;
	for (int i = 0; !CD(f)->netem && i < f->n_rules; i++)
		fl_sup_delay_clear(c->sup, f->slots[i]);
}

/* Like a rate rule: the BPF program writes the class into skb->priority. */
static int netem_apply(struct fl_kind_ctx *c, struct fl_fault *f, struct fl_err *err)
{
	struct fl_places *pl = calloc(1, sizeof(*pl));
	int rc;

	if (!pl)
		return -ENOMEM;
	free(f->priv);
	f->priv = pl;
	rc = fl_places_find(c->sup, f, pl);
	if (!rc)
		rc = netem_places(c, f, pl);
	if (rc) {
		fl_err_set(err, "delay backend netem: failed: %s (see the message above)",
			   strerror(-rc));
		delay_heal(c, f);
		return rc;
	}
	for (int k = 0; k < c->n_rules; k++)
		c->rules[k].classid = FL_SHAPE_CLASSID(c->rules[k].slot + 1);
	return 0;
}

static int delay_apply(struct fl_kind_ctx *c, struct fl_fault *f, struct fl_err *err)
{
	struct fl_delay_params p = D(f)->p;
	int rc = 0;

	if (D(f)->netem)
		return netem_apply(c, f, err);
	p.seed = f->seed;
	for (int i = 0; !rc && i < f->n_rules; i++) {
		p.rule_id = (uint32_t)i; /* the rule's prng_id: its index in the fault */
		rc = fl_sup_delay_set(c->sup, f->slots[i], &p, err);
	}
	return rc;
}

/* The delay line serves every port of the wire; netem classes live on the
 * ports and are made again for the new set. */
static int delay_nodes_changed(struct fl_kind_ctx *c, struct fl_fault *f, struct fl_err *err)
{
	return D(f)->netem ? netem_apply(c, f, err) : 0;
}

/* A fixed delay holds a super-packet as well as its segments; jitter and
 * reorder draw per packet. */
static bool delay_per_packet(const struct fl_fault *f)
{
	const struct delay *d = CD(f);

	return d->p.jitter_ns || d->p.reorder > 0;
}

const struct fault_ops fl_fault_delay = {
	.name = "delay",
	.help = "hold packets for D (+- jitter), like netem (delay line on the receive path, or netem)",
	.example = "delay 50ms jitter 5ms distribution normal",
	.params = delay_params,
	.params_size = sizeof(struct delay),
	.per_packet = delay_per_packet,
	.backend = delay_backend,
	.validate = delay_validate,
	.check = delay_check,
	.can_change = delay_can_change,
	.encode = delay_encode,
	.apply = delay_apply,
	.heal = delay_heal,
	.nodes_changed = delay_nodes_changed,
};

const struct fault_ops fl_fault_reorder = {
	.name = "reorder",
	.help = "P of the packets skip a delay D (default 10ms) the others get",
	.example = "reorder 25% delay 10ms",
	.params = reorder_params,
	.params_size = sizeof(struct delay),
	.per_packet = delay_per_packet,
	.backend = delay_backend,
	.check = delay_check,
	.can_change = delay_can_change,
	.encode = delay_encode,
	.apply = delay_apply,
	.heal = delay_heal,
	.nodes_changed = delay_nodes_changed,
};

int fl_delay_from_words(int argc, char **argv, struct fl_delay_params *p, struct fl_err *err)
{
	struct fl_fault *f = calloc(1, sizeof(*f));
	char *words[64] = { "delay" };
	int rc;

	if (!f)
		return -ENOMEM;
	if (argc > 62) {
		fl_err_set(err, "too many delay parameters");
		free(f);
		return -EINVAL;
	}
	memcpy(words + 1, argv, (size_t)argc * sizeof(*argv));
	rc = fl_fault_parse(f, argc + 1, words, NULL, err);
	if (!rc)
		*p = D(f)->p;
	free(f);
	return rc;
}
