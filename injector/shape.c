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
#include "state.h"

#define FRAME 1514u
#define GSO_MAX 65536u
#define TBF_MAX_BPS (2147483647ull * 8) /* libnl's tbf rate is an int of bytes/s */

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

int fl_rate_parse(int argc, char **argv, struct fl_rate *r, struct fl_err *err)
{
	memset(r, 0, sizeof(*r));
	if (argc < 1) {
		fl_err_set(err, "rate needs a value, e.g. 'rate 10mbit'");
		return -EINVAL;
	}
	if (fl_parse_rate(argv[0], &r->rate_bps, err))
		return -EINVAL;
	if (r->rate_bps < 8000 || r->rate_bps > TBF_MAX_BPS) {
		fl_err_set(err, "%s: rate out of range (8kbit .. 17gbit)", argv[0]);
		return -EINVAL;
	}
	for (int i = 1; i < argc; i += 2) {
		uint64_t *dst = !strcmp(argv[i], "burst") ? &r->burst
				: !strcmp(argv[i], "limit") ? &r->limit
							     : NULL;

		if (!dst) {
			fl_err_set(err, "%s: unknown rate parameter (use burst, limit)", argv[i]);
			return -EINVAL;
		}
		if (i + 1 >= argc) {
			fl_err_set(err, "%s needs a size, e.g. '%s 32kb'", argv[i], argv[i]);
			return -EINVAL;
		}
		if (fl_parse_size(argv[i + 1], dst, err))
			return -EINVAL;
	}
	return 0;
}

void fl_rate_format(const struct fl_rate *r, char *buf, size_t len)
{
	struct fl_rate d;
	char rate[32], burst[32], limit[32];

	fl_rate_defaults(r, &d);
	fl_format_rate(d.rate_bps, rate, sizeof(rate));
	fl_format_size(d.burst, burst, sizeof(burst));
	fl_format_size(d.limit, limit, sizeof(limit));
	snprintf(buf, len, "rate %s burst %s limit %s", rate, burst, limit);
}

/* A route socket in netns and the index of ifname there. */
static int open_dev(const char *netns, const char *ifname, struct nl_sock **sk)
{
	int err = fl_nl_route_in_spec(netns, sk), idx;

	if (err) {
		pr_err("shaping: cannot open a netlink socket in namespace %s: %s", netns,
		       strerror(-err));
		return err;
	}
	idx = fl_nl_ifindex(*sk, ifname);
	if (idx < 0) {
		pr_err("shaping: no interface %s in namespace %s", ifname, netns);
		nl_socket_free(*sk);
		*sk = NULL;
	}
	return idx;
}

static int nl_fail(const char *what, const char *ifname, const char *netns, int nlerr)
{
	pr_err("shaping: %s on %s in namespace %s: %s", what, ifname, netns, nl_geterror(nlerr));
	return fl_nl_errno(nlerr);
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

int fl_shape_tbf(struct fl_state *st, const char *netns, const char *ifname,
		 const struct fl_rate *r)
{
	struct nl_sock *sk = NULL;
	int idx, err;

	idx = open_dev(netns, ifname, &sk);
	if (idx < 0)
		return idx;
	err = st ? fl_state_record(st, "qdisc", "%s %s root", netns, ifname) : 0;
	if (!err) {
		err = tbf_add(sk, idx, TC_H_ROOT, TC_HANDLE(FL_SHAPE_MAJOR, 0), r);
		if (err < 0)
			err = nl_fail("adding tbf", ifname, netns, err);
	}
	nl_socket_free(sk);
	return err;
}

int fl_shape_tbf_del(const char *netns, const char *ifname)
{
	struct nl_sock *sk = NULL;
	struct rtnl_qdisc *q;
	int idx, err = -ENOMEM;

	idx = open_dev(netns, ifname, &sk);
	if (idx < 0)
		return idx == -ENODEV ? 0 : idx;
	q = rtnl_qdisc_alloc();
	if (q) {
		rtnl_tc_set_ifindex(TC_CAST(q), idx);
		rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
		rtnl_tc_set_handle(TC_CAST(q), TC_HANDLE(FL_SHAPE_MAJOR, 0));
		err = fl_nl_errno(rtnl_qdisc_delete(sk, q));
		rtnl_qdisc_put(q);
	}
	nl_socket_free(sk);
	return err == -ENOENT || err == -EINVAL ? 0 : err;
}
