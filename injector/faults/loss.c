// SPDX-License-Identifier: MIT
/* loss P                          Bernoulli: each packet lost with P
 * loss gemodel P [R [1-H [1-K]]]  Gilbert-Elliott with netem's parameter
 *   names: P = P(good -> bad), R = P(bad -> good) (default 100%),
 *   1-H = loss probability in the bad state (default 100%),
 *   1-K = loss probability in the good state (default 0%).
 * netem's correlated loss ("loss P C") is not offered: its model is known
 * to be broken; gemodel gives bursts with stated parameters. */
#include "fault.h"

#include <errno.h>

struct loss {
	double p;
	struct fl_pcts ge; /* P, R, 1-H, 1-K */
};

static const struct fl_param loss_params[] = {
	{ .name = "loss",
	  .type = FL_PT_PERCENT,
	  .off = offsetof(struct loss, p),
	  .flags = FL_PF_POSITIONAL | FL_PF_LINK,
	  .wrap = "--loss",
	  .help = "each packet is lost with this probability, independently" },
	{ .name = "gemodel",
	  .type = FL_PT_PERCENTS,
	  .off = offsetof(struct loss, ge),
	  .min = 1,
	  .max = 4,
	  .help = "bursts instead: P R 1-H 1-K (netem's Gilbert-Elliott; R, 1-H default 100%, "
		  "1-K 0%)" },
	FL_PARAM_END,
};

static int loss_validate(struct fl_fault *f, struct fl_err *err)
{
	struct loss *l = FL_KIND_PARAMS(struct loss, f);

	if (fl_param_given(f, "loss") == fl_param_given(f, "gemodel")) {
		fl_err_set(err, "loss: give P or gemodel P [R [1-H [1-K]]], one of them (e.g. loss "
				"5%% or loss gemodel 1%% 30%%)");
		return -EINVAL;
	}
	if (!l->ge.n)
		return 0;
	/* netem's defaults for what was left out */
	for (int i = l->ge.n; i < 4; i++)
		l->ge.v[i] = i < 3 ? 1.0 : 0.0;
	l->ge.n = 4;
	return 0;
}

static void loss_encode(const struct fl_fault *f, struct fl_rule *r)
{
	const struct loss *l = FL_KIND_PARAMS(const struct loss, f);

	if (!l->ge.n) {
		r->kind = FL_KIND_LOSS;
		r->prob = fl_prob_encode(l->p);
		return;
	}
	r->kind = FL_KIND_GEMODEL;
	r->ge_p = fl_prob_encode(l->ge.v[0]);
	r->ge_r = fl_prob_encode(l->ge.v[1]);
	r->ge_bad_loss = fl_prob_encode(l->ge.v[2]);
	r->ge_good_loss = fl_prob_encode(l->ge.v[3]);
}

const struct fault_ops fl_fault_loss = {
	.name = "loss",
	.help = "drop packets: independently with P, or in bursts (Gilbert-Elliott)",
	.example = "loss 5%",
	.params = loss_params,
	.params_size = sizeof(struct loss),
	.per_packet = fl_per_packet_always,
	.backend = fl_backend_tc_bpf,
	.validate = loss_validate,
	.encode = loss_encode,
};
