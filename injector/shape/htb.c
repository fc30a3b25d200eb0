// SPDX-License-Identifier: MIT
/* Per-rule rate classes: htb root FL_SHAPE_MAJOR: with one class per rate
 * rule, chosen by the BPF data plane through skb->priority. See shape.h. */
#include "shape.h"

#include <errno.h>
#include <linux/pkt_sched.h>
#include <string.h>

#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/class.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/fifo.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/tc.h>

#include "nlutil.h"
#include "state/journal.h"

/* htb's quantum is rate/100 within FL_SHAPE_FRAME..QUANTUM_MAX bytes (the
 * kernel warns about quanta above 200000). */
#define QUANTUM_MAX 200000

/* -NLE_EXIST when a root qdisc is there already (ours from an earlier rate
 * fault, or somebody else's). */
static int htb_root_fill(struct rtnl_qdisc *q, const struct fl_rate *r, const void *arg)
{
	(void)r;
	(void)arg;
	/* default 0: unclassified packets bypass the classes, unshaped */
	rtnl_htb_set_defcls(q, 0);
	return 0;
}

static int htb_root(struct nl_sock *sk, int idx)
{
	return fl_shape_qdisc_add(sk, idx, TC_H_ROOT, TC_HANDLE(FL_SHAPE_MAJOR, 0), "htb",
				  NLM_F_CREATE | NLM_F_EXCL, htb_root_fill, NULL, NULL);
}

static int htb_class(struct nl_sock *sk, int idx, uint16_t minor, const struct fl_rate *in)
{
	struct rtnl_class *c = rtnl_class_alloc();
	struct fl_rate r;
	uint64_t Bps = in->rate_bps / 8, quantum = Bps / 100;
	int err;

	if (!c)
		return -NLE_NOMEM;
	fl_rate_defaults(in, &r);
	if (quantum < FL_SHAPE_FRAME)
		quantum = FL_SHAPE_FRAME;
	if (quantum > QUANTUM_MAX)
		quantum = QUANTUM_MAX;
	rtnl_tc_set_ifindex(TC_CAST(c), idx);
	rtnl_tc_set_parent(TC_CAST(c), TC_HANDLE(FL_SHAPE_MAJOR, 0));
	rtnl_tc_set_handle(TC_CAST(c), FL_SHAPE_CLASSID(minor));
	err = rtnl_tc_set_kind(TC_CAST(c), "htb");
	if (!err) {
		rtnl_htb_set_rate64(c, Bps);
		rtnl_htb_set_ceil64(c, Bps);
		rtnl_htb_set_rbuffer(c, (uint32_t)r.burst);
		rtnl_htb_set_cbuffer(c, (uint32_t)r.burst);
		rtnl_htb_set_quantum(c, (uint32_t)quantum);
		err = rtnl_class_add(sk, c, NLM_F_CREATE);
	}
	rtnl_class_put(c);
	return err;
}

/* A byte FIFO of `limit` under the class instead of the default
 * 1000-packet pfifo, so a slow class does not buffer seconds of data. */
static int bfifo_fill(struct rtnl_qdisc *q, const struct fl_rate *in, const void *arg)
{
	struct fl_rate r;

	(void)arg;
	fl_rate_defaults(in, &r);
	rtnl_qdisc_fifo_set_limit(q, (int)r.limit);
	return 0;
}

int fl_shape_class(struct fl_state *st, const char *netns, const char *ifname, uint16_t minor,
		   const struct fl_rate *r)
{
	return fl_shape_class_leaf(st, netns, ifname, minor, r, "bfifo", bfifo_fill, NULL);
}

int fl_shape_class_leaf(struct fl_state *st, const char *netns, const char *ifname, uint16_t minor,
			const struct fl_rate *r, const char *kind, fl_shape_fill_fn fill,
			const void *arg)
{
	struct nl_sock *sk = NULL;
	struct fl_rec rec;
	int idx, err = 0;

	if (!minor)
		return -EINVAL;
	err = fl_nl_route_in_spec(netns, &sk);
	if (err)
		return err;
	idx = fl_nl_ifindex(sk, ifname);
	if (idx < 0) {
		pr_err("shaping: no interface %s in namespace %s", ifname, netns);
		err = idx;
		goto out;
	}
	err = fl_state_begin(st, &rec, "qdisc", "%s %s root", netns, ifname);
	if (err) {
		pr_err("shaping: journal of %s: %s", netns, strerror(-err));
		goto out;
	}
	err = htb_root(sk, idx);
	if (err == -NLE_EXIST) /* an earlier rate fault's root: its record stands */
		err = fl_state_existed(&rec) ? -NLE_FAILURE : 0;
	if (err < 0) {
		pr_err("shaping: adding htb on %s in namespace %s: %s (another root qdisc?)",
		       ifname, netns, nl_geterror(err));
		err = fl_nl_errno(err);
		goto out;
	}
	err = htb_class(sk, idx, minor, r);
	if (err >= 0)
		err = fl_shape_qdisc_add(sk, idx, FL_SHAPE_CLASSID(minor), TC_HANDLE(minor, 0),
					 kind, NLM_F_CREATE | NLM_F_REPLACE, fill, r, arg);
	if (err < 0) {
		pr_err("shaping: adding htb class %x:%x on %s in namespace %s: %s", FL_SHAPE_MAJOR,
		       minor, ifname, netns, nl_geterror(err));
		err = fl_nl_errno(err);
	}
out:
	nl_socket_free(sk);
	return err;
}

int fl_shape_class_del(const char *netns, const char *ifname, uint16_t minor)
{
	struct nl_sock *sk = NULL;
	struct rtnl_class *c = NULL;
	int idx, err;

	err = fl_nl_route_in_spec(netns, &sk);
	if (err)
		return err == -ENOENT ? 0 : err;
	idx = fl_nl_ifindex(sk, ifname);
	if (idx < 0) {
		err = 0;
		goto out;
	}
	c = rtnl_class_alloc();
	if (!c) {
		err = -ENOMEM;
		goto out;
	}
	rtnl_tc_set_ifindex(TC_CAST(c), idx);
	rtnl_tc_set_parent(TC_CAST(c), TC_HANDLE(FL_SHAPE_MAJOR, 0));
	rtnl_tc_set_handle(TC_CAST(c), FL_SHAPE_CLASSID(minor));
	err = fl_nl_errno(rtnl_class_delete(sk, c));
	if (err == -ENOENT || err == -EINVAL)
		err = 0;
out:
	if (c)
		rtnl_class_put(c);
	nl_socket_free(sk);
	return err;
}
