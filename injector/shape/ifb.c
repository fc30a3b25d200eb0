// SPDX-License-Identifier: MIT
/* Ingress rate caps: an ifb device per link, shaped with tbf on its egress;
 * the data plane's program redirects the packets of the link's ingress
 * that a capping rule matches to it (bpf_redirect: no u32 + mirred, whose
 * match-all would outlive the rule's lease, and this kernel's u32 cannot
 * match marks). See shape.h. */
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
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/tc.h>

#include "nlutil.h"
#include "state/journal.h"

static void ifb_name(const char *ifname, char *buf, size_t len)
{
	snprintf(buf, len, "flb-%.11s", ifname);
}

/* The ifb, ours unless it existed (*own false then: never deleted). */
static int ifb_add(struct fl_state *st, struct nl_sock *sk, const char *netns, const char *name,
		   bool *own)
{
	struct rtnl_link *l = rtnl_link_alloc();
	struct fl_rec rec;
	int err;

	if (!l)
		return -ENOMEM;
	*own = false;
	err = fl_state_begin(st, &rec, "link", "%s %s", netns, name);
	if (!err) {
		rtnl_link_set_name(l, name);
		err = fl_nl_errno(rtnl_link_set_type(l, "ifb"));
	}
	if (!err) {
		rtnl_link_set_flags(l, IFF_UP);
		err = fl_nl_errno(rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL));
		*own = !err;
	}
	if (err == -EEXIST) /* somebody else's: used, left in place */
		err = fl_state_existed(&rec) ?: fl_nl_errno(rtnl_link_change(sk, l, l, 0));
	rtnl_link_put(l);
	return err;
}

/* Redirected ingress traffic arrives in bursts: with the egress default
 * (100 ms) TCP lost 5% of the rate to drops here (118 drops in 4 s at
 * 10 Mbit/s, 9.1 Mbit/s goodput); 300 ms gave none (9.59). */
static const struct fl_rate *ingress_defaults(const struct fl_rate *r, struct fl_rate *out)
{
	fl_rate_defaults(r, out);
	if (!r->limit)
		out->limit = r->rate_bps / 8 * 3 / 10 + out->burst;
	return out;
}

int fl_shape_ingress(struct fl_state *st, const char *netns, const char *ifname,
		     const struct fl_rate *r, bool *own_ifb, int *link_idx, int *ifb_idx_out)
{
	struct fl_rate in;
	struct nl_sock *sk = NULL;
	struct fl_rec rec;
	char ifb[IFNAMSIZ];
	const char *what = "opening";
	int idx, ifb_idx = 0, err;

	*own_ifb = false;
	err = fl_nl_route_in_spec(netns, &sk);
	if (err)
		return err;
	idx = err = fl_nl_ifindex(sk, ifname);
	if (err < 0)
		goto fail;
	ifb_name(ifname, ifb, sizeof(ifb));
	what = "creating ifb";
	err = ifb_add(st, sk, netns, ifb, own_ifb);
	if (!err)
		ifb_idx = err = fl_nl_ifindex(sk, ifb);
	if (err < 0)
		goto fail;
	what = "adding tbf on the ifb";
	err = fl_state_begin(st, &rec, "qdisc", "%s %s root", netns, ifb);
	if (!err)
		err = fl_nl_errno(fl_shape_tbf_nl(sk, ifb_idx, ingress_defaults(r, &in)));
	if (err < 0)
		goto fail;
	*link_idx = idx;
	*ifb_idx_out = ifb_idx;
	nl_socket_free(sk);
	return 0;
fail:
	pr_err("shaping ingress of %s in namespace %s: %s: %s", ifname, netns, what,
	       strerror(-err));
	nl_socket_free(sk);
	return err;
}

static int root_del(struct nl_sock *sk, int idx)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	int err;

	if (!q)
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(q), idx);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	err = fl_nl_errno(rtnl_qdisc_delete(sk, q));
	rtnl_qdisc_put(q);
	return err;
}

int fl_shape_ingress_del(const char *netns, const char *ifname, bool own_ifb)
{
	struct nl_sock *sk = NULL;
	struct rtnl_link *l = NULL;
	char ifb[IFNAMSIZ];
	int err;

	err = fl_nl_route_in_spec(netns, &sk);
	if (err)
		return err == -ENOENT ? 0 : err;
	l = rtnl_link_alloc();
	if (!l) {
		err = -ENOMEM;
		goto out;
	}
	ifb_name(ifname, ifb, sizeof(ifb));
	err = 0;
	if (own_ifb) {
		rtnl_link_set_name(l, ifb);
		err = fl_nl_errno(rtnl_link_delete(sk, l));
	} else if (fl_nl_ifindex(sk, ifb) > 0) { /* theirs: only our tbf goes */
		err = root_del(sk, fl_nl_ifindex(sk, ifb));
	}
	if (err == -ENODEV || err == -ENOENT || err == -EINVAL)
		err = 0;
out:
	if (l)
		rtnl_link_put(l);
	nl_socket_free(sk);
	return err;
}
