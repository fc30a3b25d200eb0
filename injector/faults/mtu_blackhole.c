// SPDX-License-Identifier: MIT
/* mtu-blackhole M   a path MTU black hole: matching IP packets larger than
 *                   M bytes (IP header included) are dropped, and so are the
 *                   ICMP "fragmentation needed" / ICMPv6 "packet too big"
 *                   messages that quote a packet of the matching path, so
 *                   path MTU discovery never learns (RFC 2923's black hole).
 *
 * Sizes are wire sizes: lab nodes have TSO/GSO off once a fault exists, and
 * a GSO packet elsewhere counts as the segments it stands for. IPv4 packets
 * without DF, which a router would fragment, are dropped too: the data
 * plane does not fragment. */
#include "fault.h"

struct mtu_bh {
	uint32_t mtu;
};

static const struct fl_param mtu_bh_params[] = {
	{ .name = "mtu",
	  .type = FL_PT_COUNT,
	  .off = offsetof(struct mtu_bh, mtu),
	  .flags = FL_PF_POSITIONAL | FL_PF_REQUIRED,
	  .min = 68,
	  .max = 65535,
	  .help = "the largest IP packet that passes (bytes, IP header included, as an MTU)" },
	FL_PARAM_END,
};

static void mtu_bh_encode(const struct fl_fault *f, struct fl_rule *r)
{
	r->kind = FL_KIND_MTU_BLACKHOLE;
	r->prob = FL_PROB_ONE;
	r->mtu = FL_KIND_PARAMS(const struct mtu_bh, f)->mtu;
}

const struct fault_ops fl_fault_mtu_blackhole = {
	.name = "mtu-blackhole",
	.help = "drop packets larger than N bytes and the ICMP \"too big\" messages about them",
	.example = "mtu-blackhole 1400 --from n1 --to n2",
	.params = mtu_bh_params,
	.params_size = sizeof(struct mtu_bh),
	.backend = fl_backend_tc_bpf,
	.encode = mtu_bh_encode,
};
