// SPDX-License-Identifier: MIT
/* Rate caps through libnl: tbf, htb classes, ifb for ingress. See shape.h. */
#include "shape.h"

#include <errno.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/tc_act/tc_mirred.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/act/mirred.h>
#include <netlink/route/action.h>
#include <netlink/route/class.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/tc.h>

#include "nlutil.h"
#include "parse.h"
#include "state/state.h"

#define FRAME 1514u
#define GSO_MAX 65536u

void fl_rate_defaults(const struct fl_rate *in, struct fl_rate *out)
{
	uint64_t Bps = in->rate_bps / 8, burst = Bps / 250;

	*out = *in;
	if (!out->burst) {
		if (burst < 2 * FRAME)
			burst = 2 * FRAME;
		if (in->rate_bps >= 100000000ull && burst < GSO_MAX)
			burst = GSO_MAX;
		out->burst = burst;
	}
	if (!out->limit)
		out->limit = Bps / 10 + out->burst;
}

static int tbf_add(struct nl_sock *sk, int idx, uint32_t parent, uint32_t handle,
		   const struct fl_rate *in)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	struct fl_rate r;
	int err;

	if (!q)
		return -NLE_NOMEM;
	fl_rate_defaults(in, &r);
	rtnl_tc_set_ifindex(TC_CAST(q), idx);
	rtnl_tc_set_parent(TC_CAST(q), parent);
	rtnl_tc_set_handle(TC_CAST(q), handle);
	err = rtnl_tc_set_kind(TC_CAST(q), "tbf");
	if (!err) {
		rtnl_qdisc_tbf_set_limit(q, (int)r.limit);
		rtnl_qdisc_tbf_set_rate(q, (int)(r.rate_bps / 8), (int)r.burst, 0);
		err = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_REPLACE);
	}
	rtnl_qdisc_put(q);
	return err;
}

int fl_shape_tbf_nl(struct nl_sock *sk, int ifindex, const struct fl_rate *r)
{
	return tbf_add(sk, ifindex, TC_H_ROOT, TC_HANDLE(FL_SHAPE_MAJOR, 0), r);
}
