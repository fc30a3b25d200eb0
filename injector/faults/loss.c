// SPDX-License-Identifier: MIT
/* loss P                          Bernoulli: each packet lost with P
 * loss gemodel P [R [1-H [1-K]]]  Gilbert-Elliott with netem's parameter
 *   names: P = P(good -> bad), R = P(bad -> good) (default 100%),
 *   1-H = loss probability in the bad state (default 100%),
 *   1-K = loss probability in the good state (default 0%).
 * params: variant 0/1, prob[0..3] = P, R, 1-H, 1-K. */
#include "fault.h"

#include <errno.h>
#include <string.h>

static int loss_parse(struct fl_fault *f, int argc, char **argv, struct fl_err *err)
{
	static const char *const names[] = { "loss gemodel P", "R", "1-H", "1-K" };
	struct fl_fault_params *p = &f->params;
	int i = 0;

	if (argc >= 1 && !strcmp(argv[0], "random"))
		i = 1;
	if (argc >= 1 && !strcmp(argv[0], "gemodel")) {
		p->variant = 1;
		p->prob[1] = 1.0;
		p->prob[2] = 1.0;
		if (argc < 2 || argc > 5) {
			fl_err_set(err, "loss gemodel: expected P [R [1-H [1-K]]], e.g. loss gemodel 1%% 30%%");
			return -EINVAL;
		}
		for (i = 1; i < argc; i++)
			if (fl_parse_prob_word(names[i - 1], argv[i], &p->prob[i - 1], err))
				return -EINVAL;
		return 0;
	}
	if (argc != i + 1) {
		fl_err_set(err, "loss: expected one probability, e.g. loss 5%% (or loss gemodel P R)");
		return -EINVAL;
	}
	return fl_parse_prob_word("loss", argv[i], &p->prob[0], err);
}

static void loss_print(const struct fl_fault *f, struct fl_out *o)
{
	const struct fl_fault_params *p = &f->params;

	if (!p->variant) {
		fl_out_pct(o, o->json ? "probability" : "", p->prob[0]);
		return;
	}
	if (o->json) {
		fl_out_str(o, "model", "gemodel");
		fl_out_pct(o, "p", p->prob[0]);
		fl_out_pct(o, "r", p->prob[1]);
		fl_out_pct(o, "bad_loss", p->prob[2]);
		fl_out_pct(o, "good_loss", p->prob[3]);
		return;
	}
	fl_out_flag(o, "gemodel");
	for (int i = 0; i < 4; i++)
		fl_out_pct(o, "", p->prob[i]);
}

static void loss_encode(const struct fl_fault *f, struct fl_rule *r)
{
	const struct fl_fault_params *p = &f->params;

	if (!p->variant) {
		r->kind = FL_KIND_LOSS;
		r->prob = fl_prob_encode(p->prob[0]);
		return;
	}
	r->kind = FL_KIND_GEMODEL;
	r->ge_p = fl_prob_encode(p->prob[0]);
	r->ge_r = fl_prob_encode(p->prob[1]);
	r->ge_bad_loss = fl_prob_encode(p->prob[2]);
	r->ge_good_loss = fl_prob_encode(p->prob[3]);
}

const struct fault_ops fl_fault_loss = {
	.name = "loss",
	.usage = "loss P | loss gemodel P [R [1-H [1-K]]]",
	.help = "drop packets: independently with P, or in bursts (Gilbert-Elliott)",
	.parse = loss_parse,
	.print = loss_print,
	.encode = loss_encode,
};
