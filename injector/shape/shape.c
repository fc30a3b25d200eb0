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

#define GSO_MAX 65536u /* one GSO super-packet */
#define GSO_MIN_RATE 100000000ull /* bits/s from which a burst holds one */

void fl_rate_defaults(const struct fl_rate *in, struct fl_rate *out)
{
	uint64_t Bps = in->rate_bps / 8, burst = Bps / 250; /* 4 ms */

	*out = *in;
	if (!out->burst) {
		if (burst < 2 * FL_SHAPE_FRAME)
			burst = 2 * FL_SHAPE_FRAME;
		if (in->rate_bps >= GSO_MIN_RATE && burst < GSO_MAX)
			burst = GSO_MAX;
		out->burst = burst;
	}
	if (!out->limit)
		out->limit = Bps / 10 + out->burst; /* 100 ms + burst */
}

int fl_shape_qdisc_add(struct nl_sock *sk, int ifindex, uint32_t parent, uint32_t handle,
		       const char *kind, int flags, fl_shape_fill_fn fill, const struct fl_rate *r,
		       const void *arg)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	int err;

	if (!q)
		return -NLE_NOMEM;
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), parent);
	rtnl_tc_set_handle(TC_CAST(q), handle);
	err = rtnl_tc_set_kind(TC_CAST(q), kind);
	if (!err && fill)
		err = fill(q, r, arg);
	if (!err)
		err = rtnl_qdisc_add(sk, q, flags);
	rtnl_qdisc_put(q);
	return err;
}

static int tbf_fill(struct rtnl_qdisc *q, const struct fl_rate *in, const void *arg)
{
	struct fl_rate r;

	(void)arg;
	fl_rate_defaults(in, &r);
	rtnl_qdisc_tbf_set_limit(q, (int)r.limit);
	rtnl_qdisc_tbf_set_rate(q, (int)(r.rate_bps / 8), (int)r.burst, 0);
	return 0;
}

int fl_shape_tbf_nl(struct nl_sock *sk, int ifindex, const struct fl_rate *r)
{
	return fl_shape_qdisc_add(sk, ifindex, TC_H_ROOT, TC_HANDLE(FL_SHAPE_MAJOR, 0), "tbf",
				  NLM_F_CREATE | NLM_F_REPLACE, tbf_fill, r, NULL);
}
