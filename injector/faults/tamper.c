// SPDX-License-Identifier: MIT
/* tamper P [offset N] [bytes HEX|"text"]
 *
 * With probability P the transport payload of a matching packet is
 * rewritten and its TCP/UDP/ICMP checksum fixed by the difference (RFC
 * 1624), so the receiver's kernel accepts it and only end-to-end integrity
 * (TLS, application checksums) can notice; corrupt is the kind whose damage
 * the kernel drops. Without bytes, one byte is inverted (xor 0xff); without
 * offset, the position is drawn per packet from the seed (fl_prng(seed,
 * rule, FL_STREAM_TAMPER_POS, n)), uniformly among the places where the
 * bytes fit. A packet too short for offset + bytes is counted as matched but
 * not tampered. */
#include "fault.h"

#include <errno.h>
#include <string.h>

/* The largest payload an IP packet can carry (IPv4, UDP). */
#define TAMPER_MAX_PAYLOAD 65507

struct tamper {
	double p;
	uint32_t offset;
	struct fl_bytes bytes;
};

static const struct fl_param tamper_params[] = {
	{ .name = "tamper",
	  .type = FL_PT_PERCENT,
	  .off = offsetof(struct tamper, p),
	  .flags = FL_PF_POSITIONAL | FL_PF_REQUIRED,
	  .help = "a matching packet's payload is rewritten with this probability" },
	{ .name = "offset",
	  .type = FL_PT_COUNT,
	  .off = offsetof(struct tamper, offset),
	  .max = TAMPER_MAX_PAYLOAD - 1,
	  .help = "payload byte where the rewrite starts (default: drawn per packet from the "
		  "seed)" },
	{ .name = "bytes",
	  .type = FL_PT_BYTES,
	  .off = offsetof(struct tamper, bytes),
	  .min = 1,
	  .max = FL_TAMPER_MAX,
	  .help = "what is written there (default: one byte, inverted)" },
	FL_PARAM_END,
};

static int tamper_validate(struct fl_fault *f, struct fl_err *err)
{
	const struct tamper *t = FL_KIND_PARAMS(const struct tamper, f);
	uint32_t len = t->bytes.len ? t->bytes.len : 1;

	if ((uint64_t)t->offset + len > TAMPER_MAX_PAYLOAD) {
		fl_err_set(err,
			   "tamper: offset %u + %u byte(s) is beyond any payload (an IP packet "
			   "carries at most %d bytes)",
			   t->offset, len, TAMPER_MAX_PAYLOAD);
		return -EINVAL;
	}
	return 0;
}

static void tamper_encode(const struct fl_fault *f, struct fl_rule *r)
{
	const struct tamper *t = FL_KIND_PARAMS(const struct tamper, f);

	r->kind = FL_KIND_TAMPER;
	r->prob = fl_prob_encode(t->p);
	r->tamper_off = fl_param_given(f, "offset") ? t->offset : FL_TAMPER_SEEDED;
	r->tamper_len = (__u16)t->bytes.len;
	memcpy(r->tamper, t->bytes.b, t->bytes.len);
}

const struct fault_ops fl_fault_tamper = {
	.name = "tamper",
	.help = "rewrite payload bytes with probability P and fix the checksums (the kernel "
		"accepts it)",
	.example = "tamper 1% offset 4 bytes \"EVIL\"",
	.params = tamper_params,
	.params_size = sizeof(struct tamper),
	.per_packet = fl_per_packet_always,
	.backend = fl_backend_tc_bpf,
	.validate = tamper_validate,
	.encode = tamper_encode,
};
