// SPDX-License-Identifier: MIT
/* The netem backend's kernel side: an uncapped htb class of the shaper
 * with a netem leaf qdisc (see netem.h), built through libnl. */
#include "netem.h"

#include <linux/pkt_sched.h>
#include <limits.h>

#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/tc.h>

#include "shape.h"

/* The class only carries the leaf: far above any veth rate. */
#define NETEM_CLASS_BPS (100ULL * 1000 * 1000 * 1000)

int fl_netem_fill(struct rtnl_qdisc *q, const struct fl_netem *n)
{
	char path[PATH_MAX];
	int err = 0;

	rtnl_netem_set_limit(q, (int)n->limit);
	rtnl_netem_set_delay(q, (int)n->delay_us);
	if (n->jitter_us) {
		rtnl_netem_set_jitter(q, (int)n->jitter_us);
		rtnl_netem_set_delay_correlation(q, (int)n->delay_corr);
	}
	if (n->reorder) {
		rtnl_netem_set_gap(q, (int)n->gap);
		rtnl_netem_set_reorder_probability(q, (int)n->reorder);
		rtnl_netem_set_reorder_correlation(q, (int)n->reorder_corr);
	}
	if (!n->dist)
		return 0;
	if (fl_netem_dist_path(n->dist, fl_netem_dist_dirs, path, sizeof(path))) {
		pr_err("netem: no %s.dist table in %s or the other iproute2 directories "
		       "(install iproute2)",
		       n->dist, fl_netem_dist_dirs[0]);
		return -NLE_OBJ_NOTFOUND;
	}
	err = rtnl_netem_set_delay_distribution(q, path);
	if (err < 0)
		pr_err("netem: loading %s: %s", path, nl_geterror(err));
	return err;
}

static int netem_fill(struct rtnl_qdisc *q, const struct fl_rate *r, const void *arg)
{
	int err = fl_netem_fill(q, arg);

	(void)r;
	return err < 0 ? err : 0;
}

int fl_shape_netem(struct fl_state *st, const char *netns, const char *ifname, uint16_t minor,
		   const struct fl_netem *n)
{
	struct fl_rate r = { .rate_bps = NETEM_CLASS_BPS };

	return fl_shape_class_leaf(st, netns, ifname, minor, &r, "netem", netem_fill, n);
}
