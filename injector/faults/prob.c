// SPDX-License-Identifier: MIT
/* The kinds whose only parameter is one probability:
 *   duplicate P   one extra copy of the packet with P (bpf_clone_redirect)
 *   corrupt P     flip one random bit of the transport payload with P;
 *                 checksums are left as they are, so the receiving kernel
 *                 drops the damage (see tamper for damage that gets through)
 *   reset [P]     TCP only: the segment is turned into the RST its peer would
 *                 send and returned to the sender (default 100%) */
#include "fault.h"

struct prob {
	double p;
};

static void encode(const struct fl_fault *f, struct fl_rule *r, uint8_t kind)
{
	r->kind = kind;
	r->prob = fl_prob_encode(FL_KIND_PARAMS(const struct prob, f)->p);
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

static const struct fl_param dup_params[] = {
	{ .name = "duplicate",
	  .type = FL_PT_PERCENT,
	  .off = offsetof(struct prob, p),
	  .flags = FL_PF_POSITIONAL | FL_PF_REQUIRED,
	  .wrap = "--duplicate",
	  .help = "each packet is sent twice with this probability" },
	FL_PARAM_END,
};

static const struct fl_param corrupt_params[] = {
	{ .name = "corrupt",
	  .type = FL_PT_PERCENT,
	  .off = offsetof(struct prob, p),
	  .flags = FL_PF_POSITIONAL | FL_PF_REQUIRED,
	  .wrap = "--corrupt",
	  .help = "one payload bit of a packet is flipped with this probability" },
	FL_PARAM_END,
};

static const struct fl_param reset_params[] = {
	{ .name = "reset",
	  .type = FL_PT_PERCENT,
	  .off = offsetof(struct prob, p),
	  .flags = FL_PF_POSITIONAL,
	  .def = "100%",
	  .help = "a TCP segment is answered with an RST with this probability" },
	FL_PARAM_END,
};

/* An RST answers a super-packet as well as a segment; only a chance below
 * 100% is a per-packet draw. */
static bool reset_per_packet(const struct fl_fault *f)
{
	return FL_KIND_PARAMS(const struct prob, f)->p < 1.0;
}

const struct fault_ops fl_fault_duplicate = {
	.name = "duplicate",
	.help = "send one extra copy of a packet with probability P",
	.example = "duplicate 1%",
	.params = dup_params,
	.params_size = sizeof(struct prob),
	.wrap_needs = FL_WRAP_NEEDS_LOOPBACK_COPIES,
	.per_packet = fl_per_packet_always,
	.backend = fl_backend_tc_bpf,
	.encode = dup_encode,
};

const struct fault_ops fl_fault_corrupt = {
	.name = "corrupt",
	.help = "flip one random payload bit with probability P (checksums not fixed)",
	.example = "corrupt 0.1%",
	.params = corrupt_params,
	.params_size = sizeof(struct prob),
	.per_packet = fl_per_packet_always,
	.backend = fl_backend_tc_bpf,
	.encode = corrupt_encode,
};

const struct fault_ops fl_fault_reset = {
	.name = "reset",
	.help = "answer TCP segments with an RST to their sender (the segment is dropped)",
	.example = "reset 10% --port 5201",
	.params = reset_params,
	.params_size = sizeof(struct prob),
	.tcp_only = true,
	.per_packet = reset_per_packet,
	.backend = fl_backend_tc_bpf,
	.encode = reset_encode,
};
