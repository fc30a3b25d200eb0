// SPDX-License-Identifier: MIT
/* delay D [jitter J] [correlation C] [distribution uniform|normal|pareto|
 *       paretonormal] [reorder P [C]] [allow-reorder] [limit N]
 *       [fail-closed] [backend queue|netem|auto]
 * reorder P [C] [delay D] [backend B]
 *                             P of the packets skip a delay D (default
 *                             10ms) that the others get (netem's reorder)
 *
 * The BPF program marks every matching packet (FL_MARK_DELAY | slot); the
 * delay itself is drawn by the delay line (injector/delaymodel.h) with
 * fl_prng(seed, rule index, FL_STREAM_DELAY/REORDER, per-rule queue
 * sequence), so one seed gives one sequence of delays.
 * With backend netem (checked against the kernel before anything changes:
 * delay_check), the rule is encoded like a rate rule instead: the BPF
 * program writes an htb class into skb->priority, and that class of the
 * shaper carries a netem leaf (netem.h) where the packets leave.
 * params: dur[0] D, dur[1] J, dur[2] limit (packets), prob[0] correlation,
 * prob[1] reorder P, prob[2] reorder correlation, distribution; variant
 * bits: 1 allow-reorder, 2 fail-closed, 8 netem chosen, backend << 4. */
#include "fault.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "delaymodel.h"
#include "netem.h"
#include "places.h"
#include "probe.h"
#include "session.h"
#include "shape.h"
#include "sup_delay.h"
#include "supervisor_int.h"

#define V_ALLOW_REORDER 1
#define V_FAIL_CLOSED 2
#define V_NETEM 8 /* backend netem, checked against the kernel */
#define V_BACKEND_SHIFT 4

static void to_params(const struct fl_fault *f, struct fl_delay_params *p)
{
	const struct fl_fault_params *fp = &f->params;

	memset(p, 0, sizeof(*p));
	p->delay_ns = fp->dur[0];
	p->jitter_ns = fp->dur[1];
	p->limit = (uint32_t)fp->dur[2];
	p->delay_corr = fp->prob[0];
	p->reorder = fp->prob[1];
	p->reorder_corr = fp->prob[2];
	p->dist = (enum fl_delay_dist)fp->distribution;
	p->allow_reorder = fp->variant & V_ALLOW_REORDER;
	p->fail_closed = fp->variant & V_FAIL_CLOSED;
	p->backend = (enum fl_delay_backend)(fp->variant >> V_BACKEND_SHIFT & 3);
	p->seed = f->seed;
}

static void from_params(struct fl_fault *f, const struct fl_delay_params *p)
{
	struct fl_fault_params *fp = &f->params;

	fp->dur[0] = p->delay_ns;
	fp->dur[1] = p->jitter_ns;
	fp->dur[2] = p->limit ? p->limit : FL_DELAY_DEFAULT_LIMIT;
	fp->prob[0] = p->delay_corr;
	fp->prob[1] = p->reorder;
	fp->prob[2] = p->reorder_corr;
	fp->distribution = p->dist;
	fp->variant = (p->allow_reorder ? V_ALLOW_REORDER : 0) |
		      (p->fail_closed ? V_FAIL_CLOSED : 0) | (int)p->backend << V_BACKEND_SHIFT;
}

static int delay_parse(struct fl_fault *f, int argc, char **argv, struct fl_err *err)
{
	struct fl_delay_params p = { 0 };

	if (fl_delay_params_parse(argc, argv, &p, err))
		return -EINVAL;
	from_params(f, &p);
	return 0;
}

/* reorder P [C] [delay D] [backend B] == delay D reorder P [C] [backend B] */
static int reorder_parse(struct fl_fault *f, int argc, char **argv, struct fl_err *err)
{
	char *words[8] = { "10ms", "reorder" };
	int n = 2;

	if (argc < 1 || argc > 6) {
		fl_err_set(err, "reorder: expected P [C] [delay D] [backend B], e.g. reorder 25%% "
				"delay 10ms");
		return -EINVAL;
	}
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "delay") && i + 1 < argc) {
			words[0] = argv[++i];
			continue;
		}
		if (n >= 6) {
			fl_err_set(err, "reorder: expected P [C] [delay D] [backend B]");
			return -EINVAL;
		}
		words[n++] = argv[i];
	}
	return delay_parse(f, n, words, err);
}

static void delay_print(const struct fl_fault *f, struct fl_out *o)
{
	struct fl_delay_params p;

	to_params(f, &p);
	fl_out_dur(o, o->json ? "delay" : "", p.delay_ns);
	if (p.jitter_ns) {
		fl_out_dur(o, "jitter", p.jitter_ns);
		if (p.delay_corr > 0)
			fl_out_pct(o, "correlation", p.delay_corr);
		fl_out_str(o, "distribution", fl_delay_dist_name(p.dist));
	}
	if (p.reorder > 0) {
		fl_out_pct(o, "reorder", p.reorder);
		if (p.reorder_corr > 0)
			fl_out_pct(o, o->json ? "reorder_correlation" : "", p.reorder_corr);
	}
	if (p.allow_reorder)
		fl_out_flag(o, "allow-reorder");
	if (p.limit != FL_DELAY_DEFAULT_LIMIT)
		fl_out_u64(o, "limit", p.limit);
	if (p.fail_closed)
		fl_out_flag(o, "fail-closed");
	if (f->params.variant & V_NETEM)
		fl_out_str(o, "backend", "netem");
}

static void delay_encode(const struct fl_fault *f, struct fl_rule *r)
{
	const struct fl_fault_params *fp = &f->params;

	if (fp->variant & V_NETEM) { /* an htb class with a netem leaf */
		r->kind = FL_KIND_RATE;
		r->prob = FL_PROB_ONE;
		r->classid = 0; /* set by netem_apply once the slot is known */
		return;
	}
	r->kind = FL_KIND_DELAY;
	r->prob = FL_PROB_ONE; /* every match goes to the delay line */
	r->distribution = (__u32)fp->distribution;
	r->delay_ns = fp->dur[0];
	r->jitter_ns = fp->dur[1];
	r->delay_corr = fl_prob_encode(fp->prob[0]);
	r->reorder = fl_prob_encode(fp->prob[1]);
}

/* auto and queue: the delay line, without asking the kernel; netem: only
 * when the probe finds sch_netem (docs/delay-and-rate.md, "Backends"). */
static int delay_check(struct fl_fault *f, struct fl_err *err)
{
	struct fl_delay_params p;
	struct fl_probe_report rep;
	struct fl_netem n;
	bool present;

	to_params(f, &p);
	if (p.backend != FL_DELAY_BACKEND_NETEM)
		return 0;
	present = fl_probe_run(&rep) == 0 && fl_probe_ok(&rep, FL_PROBE_NETEM);
	if (fl_delay_backend_pick(p.backend, present) < 0) {
		fl_err_set(err, "backend netem: this kernel has no sch_netem (CONFIG_NET_SCH_NETEM "
				"is not set or the module is missing: %s); use backend queue "
				"(the NFQUEUE delay line, also what auto picks)",
			   rep.r[FL_PROBE_NETEM].detail);
		return -EOPNOTSUPP;
	}
	if (fl_netem_from_delay(&p, &n, err))
		return -EINVAL;
	f->params.variant |= V_NETEM;
	return 0;
}

static int netem_places(struct fl_sup *s, struct fl_fault *f, struct fl_places *pl)
{
	struct fl_delay_params p;
	struct fl_netem n;
	int rc = 0;

	to_params(f, &p);
	if (fl_netem_from_delay(&p, &n, NULL))
		return -EINVAL;
	for (int i = 0; !rc && i < pl->n; i++)
		for (int k = 0; !rc && k < f->n_rules; k++)
			rc = fl_shape_netem(fl_sup_state(s), fl_sup_ns_spec(s), pl->ifname[i],
					    (uint16_t)(f->slots[k] + 1), &n);
	return rc;
}

static void delay_heal(struct fl_sup *s, struct fl_fault *f)
{
	struct fl_places *pl = f->priv;

	for (int i = 0; pl && i < pl->n; i++)
		for (int k = 0; k < f->n_rules; k++)
			fl_shape_class_del(fl_sup_ns_spec(s), pl->ifname[i],
					   (uint16_t)(f->slots[k] + 1));
	free(pl);
	f->priv = NULL;
	for (int i = 0; !(f->params.variant & V_NETEM) && i < f->n_rules; i++)
		fl_sup_delay_clear(s, f->slots[i]);
}

/* Like a rate rule: the BPF program writes the class into skb->priority. */
static int netem_apply(struct fl_sup *s, struct fl_fault *f, struct fl_err *err)
{
	struct sup_fault *sf = (struct sup_fault *)((char *)f - offsetof(struct sup_fault, f));
	struct fl_places *pl = calloc(1, sizeof(*pl));
	int rc = 0;

	if (!pl)
		return -ENOMEM;
	f->priv = pl;
	if (fl_sup_lab(s))
		fl_places_lab(f, fl_sup_lab(s), pl);
	else
		rc = fl_places_ns(s, pl);
	if (!rc)
		rc = netem_places(s, f, pl);
	if (rc) {
		fl_err_set(err, "delay backend netem: failed: %s (see the message above)",
			   strerror(-rc));
		delay_heal(s, f);
		return rc;
	}
	for (int k = 0; k < sf->n_rules; k++)
		sf->rules[k].classid = FL_SHAPE_CLASSID(sf->rules[k].slot + 1);
	return 0;
}

static int delay_apply(struct fl_sup *s, struct fl_fault *f, struct fl_err *err)
{
	struct fl_delay_params p;
	int rc = 0;

	if (f->params.variant & V_NETEM)
		return netem_apply(s, f, err);
	to_params(f, &p);
	for (int i = 0; !rc && i < f->n_rules; i++) {
		p.rule_id = (uint32_t)i; /* the rule's prng_id: its index in the fault */
		rc = fl_sup_delay_set(s, f->slots[i], &p, err);
	}
	return rc;
}

const struct fault_ops fl_fault_delay = {
	.name = "delay",
	.usage = "delay D [jitter J] [correlation C] [distribution uniform|normal|pareto|"
		 "paretonormal] [reorder P [C]] [allow-reorder] [limit N] [fail-closed] "
		 "[backend queue|netem|auto]",
	.help = "hold packets for D (+- jitter), like netem (delay line on the receive path, or netem)",
	.parse = delay_parse,
	.check = delay_check,
	.print = delay_print,
	.encode = delay_encode,
	.apply = delay_apply,
	.heal = delay_heal,
};

const struct fault_ops fl_fault_reorder = {
	.name = "reorder",
	.usage = "reorder P [C] [delay D] [backend queue|netem|auto] (e.g. reorder 25% delay 10ms)",
	.help = "P of the packets skip a delay D (default 10ms) the others get",
	.parse = reorder_parse,
	.check = delay_check,
	.print = delay_print,
	.encode = delay_encode,
	.apply = delay_apply,
	.heal = delay_heal,
};
