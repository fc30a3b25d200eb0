// SPDX-License-Identifier: MIT
/* The kinds whose only parameter is one probability:
 *   duplicate P   one extra copy of the packet with P (bpf_clone_redirect)
 *   corrupt P     flip one random bit of the transport payload with P;
 *                 checksums are left as they are
 *   reset [P]     TCP only: the segment is turned into the RST its peer would
 *                 send and returned to the sender (default 100%)
 * params: prob[0] = P. */
#include "fault.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

static int one_prob(struct fl_fault *f, int argc, char **argv, struct fl_err *err,
		    bool optional)
{
	if (optional && argc == 0) {
		f->params.prob[0] = 1.0;
		return 0;
	}
	if (argc != 1) {
		fl_err_set(err, "%s: expected %s", f->ops->name, f->ops->usage);
		return -EINVAL;
	}
	return fl_parse_prob_word(f->ops->name, argv[0], &f->params.prob[0], err);
}

static int prob_parse(struct fl_fault *f, int argc, char **argv, struct fl_err *err)
{
	return one_prob(f, argc, argv, err, false);
}

static int reset_parse(struct fl_fault *f, int argc, char **argv, struct fl_err *err)
{
	return one_prob(f, argc, argv, err, true);
}

static void prob_print(const struct fl_fault *f, struct fl_out *o)
{
	fl_out_pct(o, o->json ? "probability" : "", f->params.prob[0]);
}

static void encode(const struct fl_fault *f, struct fl_rule *r, uint8_t kind)
{
	r->kind = kind;
	r->prob = fl_prob_encode(f->params.prob[0]);
}

static void dup_encode(const struct fl_fault *f, struct fl_rule *r)
{
	encode(f, r, FL_KIND_DUPLICATE);
}

static void corrupt_encode(const struct fl_fault *f, struct fl_rule *r)
{
	encode(f, r, FL_KIND_CORRUPT);
}

static void reset_encode(const struct fl_fault *f, struct fl_rule *r)
{
	encode(f, r, FL_KIND_RESET);
}

const struct fault_ops fl_fault_duplicate = {
	.name = "duplicate",
	.usage = "duplicate P (e.g. duplicate 1%)",
	.help = "send one extra copy of a packet with probability P",
	.parse = prob_parse,
	.print = prob_print,
	.encode = dup_encode,
};

const struct fault_ops fl_fault_corrupt = {
	.name = "corrupt",
	.usage = "corrupt P (e.g. corrupt 0.1%)",
	.help = "flip one random payload bit with probability P (checksums not fixed)",
	.parse = prob_parse,
	.print = prob_print,
	.encode = corrupt_encode,
};

const struct fault_ops fl_fault_reset = {
	.name = "reset",
	.usage = "reset [P] (TCP; default 100%)",
	.help = "answer TCP segments with an RST to their sender (the segment is dropped)",
	.tcp_only = true,
	.parse = reset_parse,
	.print = prob_print,
	.encode = reset_encode,
};
