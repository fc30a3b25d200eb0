// SPDX-License-Identifier: MIT
/* delay D [jitter J] [correlation C] [distribution uniform|normal|pareto|
 *       paretonormal] [reorder P [C]] [allow-reorder] [limit N]
 *       [fail-closed] [backend queue|netem|auto]
 * reorder P [C] [delay D]     P of the packets skip a delay D (default
 *                             10ms) that the others get (netem's reorder)
 *
 * The BPF program marks every matching packet (FL_MARK_DELAY | slot); the
 * delay itself is drawn by the delay line (injector/delaymodel.h) with
 * fl_prng(seed, rule index, FL_STREAM_DELAY/REORDER, per-rule queue
 * sequence), so one seed gives one sequence of delays.
 * params: dur[0] D, dur[1] J, dur[2] limit (packets), prob[0] correlation,
 * prob[1] reorder P, prob[2] reorder correlation, distribution; variant
 * bits: 1 allow-reorder, 2 fail-closed, backend << 4. */
#include "fault.h"

#include <errno.h>
#include <string.h>

#include "delaymodel.h"
#include "probe.h"
#include "sup_delay.h"

#define V_ALLOW_REORDER 1
#define V_FAIL_CLOSED 2
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
	p->backend = (enum fl_delay_backend)(fp->variant >> V_BACKEND_SHIFT);
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

/* reorder P [C] [delay D] == delay D reorder P [C] */
static int reorder_parse(struct fl_fault *f, int argc, char **argv, struct fl_err *err)
{
	char *words[8] = { "10ms", "reorder" };
	int n = 2;

	if (argc < 1 || argc > 4) {
		fl_err_set(err, "reorder: expected P [C] [delay D], e.g. reorder 25%% delay 10ms");
		return -EINVAL;
	}
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "delay") && i + 1 < argc) {
			words[0] = argv[++i];
			continue;
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
}

static void delay_encode(const struct fl_fault *f, struct fl_rule *r)
{
	const struct fl_fault_params *fp = &f->params;

	r->kind = FL_KIND_DELAY;
	r->prob = FL_PROB_ONE; /* every match goes to the delay line */
	r->distribution = (__u32)fp->distribution;
	r->delay_ns = fp->dur[0];
	r->jitter_ns = fp->dur[1];
	r->delay_corr = fl_prob_encode(fp->prob[0]);
	r->reorder = fl_prob_encode(fp->prob[1]);
}

/* netem cannot be asked for on a kernel without it; auto means the queue
 * there. With netem present, this build still uses the delay line and
 * says so (the netem backend is not built: docs/delay-and-rate.md). */
static int check_backend(const struct fl_delay_params *p, struct fl_err *err)
{
	struct fl_probe_report rep;

	if (p->backend != FL_DELAY_BACKEND_NETEM)
		return 0;
	if (fl_probe_run(&rep) == 0 && !fl_probe_ok(&rep, FL_PROBE_NETEM)) {
		fl_err_set(err, "backend netem: this kernel has no sch_netem (%s); use backend "
				"queue (the NFQUEUE delay line) or auto",
			   rep.r[FL_PROBE_NETEM].detail);
		return -EOPNOTSUPP;
	}
	fl_err_set(err, "backend netem: not built in this version of fallacy; use backend queue "
			"or auto (the NFQUEUE delay line)");
	return -EOPNOTSUPP;
}

static int delay_apply(struct fl_sup *s, struct fl_fault *f, struct fl_err *err)
{
	struct fl_delay_params p;
	int rc;

	to_params(f, &p);
	rc = check_backend(&p, err);
	for (int i = 0; !rc && i < f->n_rules; i++) {
		p.rule_id = (uint32_t)i; /* the rule's prng_id: its index in the fault */
		rc = fl_sup_delay_set(s, f->slots[i], &p, err);
	}
	return rc;
}

static void delay_heal(struct fl_sup *s, struct fl_fault *f)
{
	for (int i = 0; i < f->n_rules; i++)
		fl_sup_delay_clear(s, f->slots[i]);
}

const struct fault_ops fl_fault_delay = {
	.name = "delay",
	.usage = "delay D [jitter J] [correlation C] [distribution uniform|normal|pareto|"
		 "paretonormal] [reorder P [C]] [allow-reorder] [limit N] [fail-closed] "
		 "[backend queue|netem|auto]",
	.help = "hold packets for D (+- jitter) on the receive path, like netem",
	.parse = delay_parse,
	.print = delay_print,
	.encode = delay_encode,
	.apply = delay_apply,
	.heal = delay_heal,
};

const struct fault_ops fl_fault_reorder = {
	.name = "reorder",
	.usage = "reorder P [C] [delay D] (e.g. reorder 25% delay 10ms)",
	.help = "P of the packets skip a delay D (default 10ms) the others get",
	.parse = reorder_parse,
	.print = delay_print,
	.encode = delay_encode,
	.apply = delay_apply,
	.heal = delay_heal,
};
