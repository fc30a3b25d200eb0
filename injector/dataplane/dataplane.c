// SPDX-License-Identifier: MIT
/* Loads bpf/dataplane.bpf.c through its skeleton, attaches it with libbpf's
 * tc API (clsact + direct-action cls_bpf), and keeps the rule maps. */
#include "dataplane.h"

#include <errno.h>
#include <linux/ethtool.h>
#include <linux/pkt_sched.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netlink/route/qdisc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dataplane.skel.h"
#include "json.h"
#include "lab/lab.h"
#include "log.h"
#include "netns.h"
#include "state/journal.h"

#define FL_DP_MAX_POINTS 512

struct fl_point {
	char ns_spec[80];
	char ifname[IF_NAMESIZE];
	int nsfd;
	int ifindex;
	unsigned int dirs;
	bool created_clsact;
};

struct port_ent {
	struct fl_port_key key;
	__u32 rule;
};

struct fl_dp {
	struct dataplane_bpf *skel;
	unsigned int dirs; /* the programs loaded (FL_DIR_*) */
	struct fl_port_key *port_keys[2]; /* written per generation */
	int n_port_keys[2];
	bool has_nodes;
	uint64_t lease_ns; /* 0: rules never expire (--lease none) */
	__u32 live[FL_MAX_RULES]; /* slots of the active generation */
	int n_live;
	int n_points;
	struct fl_point points[FL_DP_MAX_POINTS];
	int grace_outer, grace_inner; /* see dp_grace(); -1 until first used */
};

int fl_dp_open(struct fl_dp **out, unsigned int dirs)
{
	struct fl_dp *dp = calloc(1, sizeof(*dp));
	int err = 0;

	if (!dp)
		return -ENOMEM;
	dp->skel = dataplane_bpf__open();
	/* a program that is never attached is not loaded: the verifier's time
	 * is most of a supervisor's start (a lab attaches ingress only) */
	if (dp->skel && !(dirs & FL_DIR_EGRESS))
		bpf_program__set_autoload(dp->skel->progs.fl_egress, false);
	if (dp->skel && !(dirs & FL_DIR_INGRESS))
		bpf_program__set_autoload(dp->skel->progs.fl_ingress, false);
	if (dp->skel && (err = dataplane_bpf__load(dp->skel))) {
		dataplane_bpf__destroy(dp->skel);
		dp->skel = NULL;
		errno = -err;
	}
	dp->dirs = dirs;
	dp->grace_outer = dp->grace_inner = -1;
	if (!dp->skel) {
		err = -errno;
		pr_err("loading the BPF data plane: %s (run fallacy doctor; needs root, BTF, clsact)",
		       strerror(-err));
		free(dp);
		return err ? err : -EINVAL;
	}
	*out = dp;
	return 0;
}

void fl_dp_close(struct fl_dp *dp)
{
	if (!dp)
		return;
	for (int i = 0; i < dp->n_points; i++)
		close(dp->points[i].nsfd);
	if (dp->grace_outer >= 0)
		close(dp->grace_outer);
	if (dp->grace_inner >= 0)
		close(dp->grace_inner);
	free(dp->port_keys[0]);
	free(dp->port_keys[1]);
	dataplane_bpf__destroy(dp->skel);
	free(dp);
}

/* 1 if IFINDEX has a clsact qdisc, 0 if none, -EBUSY for an ingress qdisc
 * (which holds the same parent and would block clsact). */
static int clsact_state(int ifindex)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_qdisc *q = NULL;
	struct nl_cache *cache = NULL;
	int ret = -ENOMEM;

	if (!sk)
		return -ENOMEM;
	if (nl_connect(sk, NETLINK_ROUTE) || rtnl_qdisc_alloc_cache(sk, &cache)) {
		ret = -EIO;
		goto out;
	}
	q = rtnl_qdisc_get_by_parent(cache, ifindex, TC_H_CLSACT);
	ret = 0;
	if (q)
		ret = strcmp(rtnl_tc_get_kind(TC_CAST(q)), "clsact") ? -EBUSY : 1;
	rtnl_qdisc_put(q);
out:
	nl_cache_free(cache);
	nl_socket_free(sk);
	return ret;
}

static int attach_dir(struct fl_dp *dp, struct fl_state *st, struct fl_point *pt,
		      enum bpf_tc_attach_point where)
{
	const char *name = where == BPF_TC_INGRESS ? "ingress" : "egress";
	struct bpf_program *prog = where == BPF_TC_INGRESS ? dp->skel->progs.fl_ingress :
							     dp->skel->progs.fl_egress;
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = pt->ifindex, .attach_point = where);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = FL_TC_HANDLE, .priority = FL_TC_PRIO,
			    .flags = BPF_TC_F_REPLACE, .prog_fd = bpf_program__fd(prog));
	int err;

	err = fl_state_record(st, "tcfilter", "%s %s %s %d %d", pt->ns_spec, pt->ifname, name,
			      FL_TC_PRIO, FL_TC_HANDLE);
	if (err)
		return err;
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		pr_err("attaching the data plane to %s %s (%s): %s", pt->ns_spec, pt->ifname, name,
		       strerror(-err));
	return err;
}

/* clsact: ours when creating it works (recorded first), somebody else's on
 * EEXIST (the record withdrawn). Only then are the qdiscs listed, to tell
 * a clsact we can share from an ingress qdisc that blocks it; a join of a
 * node to a big lab thus never lists every port's qdiscs. */
static int make_clsact(struct fl_state *st, struct fl_point *pt)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = pt->ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	struct fl_rec rec;
	int err, have;

	err = fl_state_begin(st, &rec, "qdisc", "%s %s clsact", pt->ns_spec, pt->ifname);
	if (err)
		return err;
	err = bpf_tc_hook_create(&hook);
	pt->created_clsact = !err;
	if (err != -EEXIST) {
		if (err)
			pr_err("creating clsact on %s %s: %s", pt->ns_spec, pt->ifname,
			       strerror(-err));
		return err;
	}
	err = fl_state_existed(&rec); /* made meanwhile, or before us: not ours */
	have = err ? err : clsact_state(pt->ifindex);
	if (have < 0) {
		pr_err("%s %s: %s (fallacy needs a clsact qdisc there; remove the ingress qdisc)",
		       pt->ns_spec, pt->ifname,
		       have == -EBUSY ? "has an ingress qdisc" : "cannot list qdiscs");
		return have;
	}
	return 0;
}

static int attach_here(struct fl_dp *dp, struct fl_state *st, struct fl_point *pt)
{
	int err = make_clsact(st, pt);

	if (err)
		return err;
	if ((pt->dirs & FL_DIR_INGRESS) && (err = attach_dir(dp, st, pt, BPF_TC_INGRESS)))
		return err;
	if ((pt->dirs & FL_DIR_EGRESS) && (err = attach_dir(dp, st, pt, BPF_TC_EGRESS)))
		return err;
	return 0;
}

int fl_dp_attach(struct fl_dp *dp, struct fl_state *st, const char *ns_spec, int nsfd,
		 const char *ifname, unsigned int dirs)
{
	struct fl_point *pt;
	int saved = -1, err;

	if (dp->n_points >= FL_DP_MAX_POINTS)
		return -ENOSPC;
	if (dirs & ~dp->dirs)
		return -EINVAL; /* that direction's program was not loaded */
	pt = &dp->points[dp->n_points];
	memset(pt, 0, sizeof(*pt));
	snprintf(pt->ns_spec, sizeof(pt->ns_spec), "%s", ns_spec);
	snprintf(pt->ifname, sizeof(pt->ifname), "%s", ifname);
	pt->dirs = dirs;
	pt->nsfd = dup(nsfd);
	if (pt->nsfd < 0)
		return -errno;
	err = fl_netns_enter(nsfd, &saved);
	if (err)
		goto fail;
	pt->ifindex = (int)if_nametoindex(ifname);
	if (!pt->ifindex) {
		err = -ENODEV;
		pr_err("%s: no interface %s", ns_spec, ifname);
	} else {
		err = attach_here(dp, st, pt);
	}
	fl_netns_leave(saved);
	/* a half-attached point is still ours to detach */
	if (!err || pt->ifindex)
		dp->n_points++;
	if (!err)
		return 0;
	return err;
fail:
	close(pt->nsfd);
	return err;
}

int fl_dp_attach_all(struct fl_dp *dp, struct fl_state *st, const char *ns_spec, int nsfd,
		     unsigned int dirs)
{
	struct if_nameindex *ifs = NULL, *i;
	int saved = -1, err, n = 0;

	err = fl_netns_enter(nsfd, &saved);
	if (err)
		return err;
	ifs = if_nameindex();
	err = ifs ? 0 : errno ? -errno : -ENOMEM;
	fl_netns_leave(saved);
	if (err)
		return err;
	for (i = ifs; i->if_index && !err; i++) {
		if (!strcmp(i->if_name, "lo"))
			continue;
		err = fl_dp_attach(dp, st, ns_spec, nsfd, i->if_name, dirs);
		n++;
	}
	if_freenameindex(ifs);
	/* a namespace with nothing but loopback (fallacy wrap): lo is the
	 * fault point */
	if (!err && !n)
		err = fl_dp_attach(dp, st, ns_spec, nsfd, "lo", dirs);
	return err;
}

static int detach_point(struct fl_point *pt)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = pt->ifindex);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = FL_TC_HANDLE, .priority = FL_TC_PRIO);
	int saved = -1, err, ret = 0;

	err = fl_netns_enter(pt->nsfd, &saved);
	if (err)
		return err;
	for (int d = FL_DIR_INGRESS; d <= FL_DIR_EGRESS; d <<= 1) {
		if (!(pt->dirs & d))
			continue;
		hook.attach_point = d == FL_DIR_INGRESS ? BPF_TC_INGRESS : BPF_TC_EGRESS;
		opts.prog_fd = opts.prog_id = opts.flags = 0;
		err = bpf_tc_detach(&hook, &opts);
		if (err && err != -ENOENT && err != -ENODEV && err != -EINVAL)
			ret = err;
	}
	if (pt->created_clsact) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		err = bpf_tc_hook_destroy(&hook);
		if (err && err != -ENOENT && err != -ENODEV && err != -EINVAL)
			ret = err;
	}
	fl_netns_leave(saved);
	return ret;
}

int fl_dp_detach_all(struct fl_dp *dp)
{
	int ret = 0, err;

	for (int i = dp->n_points - 1; i >= 0; i--) {
		err = detach_point(&dp->points[i]);
		if (err) {
			pr_warn("detaching from %s %s: %s", dp->points[i].ns_spec,
				dp->points[i].ifname, strerror(-err));
			ret = err;
		}
		close(dp->points[i].nsfd);
	}
	dp->n_points = 0;
	return ret;
}

static const __u32 offload_get[] = { ETHTOOL_GTSO, ETHTOOL_GGSO, ETHTOOL_GGRO, ETHTOOL_GTXCSUM };
/* TX checksum offload too: on a veth a locally sent packet keeps
 * CHECKSUM_PARTIAL (its checksum is never computed, and the receiver
 * trusts it), while a real wire carries computed checksums. Without it the
 * receiver verifies them, as it would behind a NIC. Set in this order:
 * the kernel refuses TSO on while TX checksumming is off. */
static const __u32 offload_set[] = { ETHTOOL_STSO, ETHTOOL_SGSO, ETHTOOL_SGRO, ETHTOOL_STXCSUM };
#define N_OFFLOADS (sizeof(offload_get) / sizeof(offload_get[0]))

static int ethtool_value(int fd, const char *ifname, __u32 cmd, __u32 *data)
{
	struct ethtool_value ev = { .cmd = cmd, .data = *data };
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		return -errno;
	*data = ev.data;
	return 0;
}

/* Run fn on an ethtool socket inside nsfd. */
static int in_ns(int nsfd, const char *ifname, unsigned int *bits,
		 int (*fn)(int fd, const char *ifname, unsigned int *bits))
{
	int saved = -1, fd, err;

	err = fl_netns_enter(nsfd, &saved);
	if (err)
		return err;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	err = fd < 0 ? -errno : fn(fd, ifname, bits);
	if (fd >= 0)
		close(fd);
	fl_netns_leave(saved);
	return err;
}

static int get_all(int fd, const char *ifname, unsigned int *on)
{
	__u32 v;
	int err = 0;

	*on = 0;
	for (size_t i = 0; i < N_OFFLOADS && !err; i++) {
		v = 0;
		err = ethtool_value(fd, ifname, offload_get[i], &v);
		if (!err && v)
			*on |= 1u << i;
	}
	return err;
}

static int set_all(int fd, const char *ifname, unsigned int *on)
{
	int err = 0;

	/* on: TX checksum first (TSO needs it); off: TSO first */
	for (size_t k = 0; k < N_OFFLOADS && !err; k++) {
		size_t i = *on ? N_OFFLOADS - 1 - k : k;
		__u32 v = *on >> i & 1;

		err = ethtool_value(fd, ifname, offload_set[i], &v);
	}
	return err;
}

int fl_dp_offloads_get(int nsfd, const char *ifname, unsigned int *on)
{
	return in_ns(nsfd, ifname, on, get_all);
}

int fl_dp_offloads_set(int nsfd, const char *ifname, unsigned int on)
{
	int err = in_ns(nsfd, ifname, &on, set_all);

	if (err)
		pr_warn("turning %s the offloads of %s: %s", on ? "on" : "off", ifname,
			strerror(-err));
	return err;
}

/* Set or clear flags of fl_conf now (the rule table keeps them). */
static int conf_flags(struct fl_dp *dp, __u32 set, __u32 clear)
{
	struct bpf_map *map = dp->skel->maps.fl_conf;
	struct fl_conf conf;
	__u32 zero = 0;
	int err = bpf_map__lookup_elem(map, &zero, sizeof(zero), &conf, sizeof(conf), 0);

	if (err)
		return err;
	conf.flags = (conf.flags & ~clear) | set;
	return bpf_map__update_elem(map, &zero, sizeof(zero), &conf, sizeof(conf), BPF_ANY);
}

int fl_dp_node_set(struct fl_dp *dp, const struct fl_lab *lab, const struct fl_node *n,
		   bool present)
{
	struct bpf_map *map = dp->skel->maps.fl_nodes;
	struct fl_mac_key k = { 0 };
	__u32 idx = (__u32)n->index;
	int err;

	if (n->index < 0 || n->index >= FL_MAX_NODES)
		return -ERANGE;
	fl_lab_node_mac(lab, n, k.mac);
	if (!present) {
		err = bpf_map__delete_elem(map, &k, sizeof(k), 0);
		return err == -ENOENT ? 0 : err;
	}
	err = bpf_map__update_elem(map, &k, sizeof(k), &idx, sizeof(idx), BPF_ANY);
	if (!err && !dp->has_nodes) {
		dp->has_nodes = true;
		err = conf_flags(dp, FL_CONF_NODES, 0);
	}
	return err;
}

int fl_dp_ifb_set(struct fl_dp *dp, int ifindex, int ifb)
{
	__u32 key = (__u32)ifindex, val = (__u32)ifb;
	struct bpf_map *m = dp->skel->maps.fl_ifb;
	int err;

	if (ifindex <= 0 || ifb < 0)
		return -EINVAL;
	if (ifb)
		return bpf_map__update_elem(m, &key, sizeof(key), &val, sizeof(val), BPF_ANY);
	err = bpf_map__delete_elem(m, &key, sizeof(key), 0);
	return err == -ENOENT ? 0 : err;
}

int fl_dp_node_mtu(struct fl_dp *dp, int index, unsigned int mtu)
{
	__u32 key = (__u32)index, val = mtu;
	int err;

	if (index < 0 || index >= FL_MAX_NODES)
		return -ERANGE;
	err = bpf_map__update_elem(dp->skel->maps.fl_node_mtu, &key, sizeof(key), &val, sizeof(val),
				   BPF_ANY);
	if (err)
		return err;
	/* the check stays on once a node had an MTU: one array lookup per
	 * packet to a node, and entries of 0 answer nothing */
	return mtu ? conf_flags(dp, FL_CONF_MTU, 0) : 0;
}

int fl_dp_set_nodes(struct fl_dp *dp, const struct fl_lab *lab)
{
	int err = 0;

	for (size_t i = 0; i < lab->n_nodes && !err; i++) {
		err = fl_dp_node_set(dp, lab, &lab->nodes[i], true);
		if (!err && lab->nodes[i].mtu)
			err = fl_dp_node_mtu(dp, lab->nodes[i].index, lab->nodes[i].mtu);
	}
	return err;
}

int fl_dp_set_accounting(struct fl_dp *dp, bool on)
{
	struct fl_acct_key full = { .src = FL_ACCT_OTHER,
				    .dst = FL_ACCT_OTHER,
				    .family = FL_ACCT_FULL_FAMILY };
	int ncpu = libbpf_num_possible_cpus(), err;
	struct fl_acct_val *zero;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	zero = calloc((size_t)ncpu, sizeof(*zero));
	if (!zero)
		return -ENOMEM;
	/* the "map full" entry exists before the first packet needs it */
	err = bpf_map__update_elem(dp->skel->maps.fl_acct, &full, sizeof(full), zero,
				   (size_t)ncpu * sizeof(*zero), BPF_NOEXIST);
	free(zero);
	if (err && err != -EEXIST)
		return err;
	return conf_flags(dp, on ? FL_CONF_ACCT : 0, on ? 0 : FL_CONF_ACCT);
}

int fl_dp_acct_read(struct fl_dp *dp, struct fl_dp_acct **out, int *n)
{
	struct bpf_map *map = dp->skel->maps.fl_acct;
	int ncpu = libbpf_num_possible_cpus(), cnt = 0, cap = 0, err = 0;
	struct fl_acct_key key, next;
	struct fl_dp_acct *v = NULL;
	struct fl_acct_val *pc;
	const void *prev = NULL;

	*out = NULL;
	*n = 0;
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	pc = calloc((size_t)ncpu, sizeof(*pc));
	if (!pc)
		return -ENOMEM;
	while (!err && !bpf_map__get_next_key(map, prev, &next, sizeof(next))) {
		key = next;
		prev = &key;
		if (bpf_map__lookup_elem(map, &key, sizeof(key), pc, (size_t)ncpu * sizeof(*pc), 0))
			continue; /* deleted meanwhile: never happens, entries stay */
		if (cnt == cap) {
			struct fl_dp_acct *nv =
				realloc(v, (size_t)(cap = cap ? cap * 2 : 64) * sizeof(*v));

			if (!nv) {
				err = -ENOMEM;
				break;
			}
			v = nv;
		}
		memset(&v[cnt], 0, sizeof(v[cnt]));
		v[cnt].key = key;
		for (int i = 0; i < ncpu; i++) {
			v[cnt].val.packets += pc[i].packets;
			v[cnt].val.bytes += pc[i].bytes;
			v[cnt].val.payload += pc[i].payload;
		}
		cnt++;
	}
	free(pc);
	if (err) {
		free(v);
		return err;
	}
	*out = v;
	*n = cnt;
	return 0;
}

void fl_dp_forget(struct fl_dp *dp, const char *ns_spec, const char *ifname)
{
	for (int i = 0; i < dp->n_points; i++) {
		if (strcmp(dp->points[i].ns_spec, ns_spec) || strcmp(dp->points[i].ifname, ifname))
			continue;
		close(dp->points[i].nsfd);
		memmove(&dp->points[i], &dp->points[i + 1],
			(size_t)(dp->n_points - i - 1) * sizeof(dp->points[0]));
		dp->n_points--;
		return;
	}
}

/* ---- candidate index (rule.h) ------------------------------------------- */

static void bit_set(struct fl_bits *b, int i)
{
	b->w[i / 64] |= 1ULL << (i % 64);
}

/* nodes (FL_IDX_NODES entries) an endpoint may be: its node set, or every
 * entry when it is "any" or a prefix */
static void ep_nodes(const struct fl_endpoint *e, bool *in)
{
	for (int k = 0; k < FL_IDX_NODES; k++)
		in[k] = !e->use_nodes || (k < FL_MAX_NODES && ((e->nodes[k / 64] >> (k % 64)) & 1));
}

static void index_nodes(const struct fl_rule *rules, int n, struct fl_bits *idx)
{
	bool src[FL_IDX_NODES], dst[FL_IDX_NODES];

	for (int i = 0; i < n; i++) {
		ep_nodes(&rules[i].src, src);
		ep_nodes(&rules[i].dst, dst);
		for (int k = 0; k < FL_IDX_NODES; k++) {
			bool s = src[k], d = dst[k];

			if (rules[i].flags & FL_RULE_BIDIR)
				s = d = src[k] || dst[k];
			if (s)
				bit_set(&idx[k], i);
			if (d)
				bit_set(&idx[FL_IDX_NODES + k], i);
		}
	}
}

static int cmp_port_ent(const void *a, const void *b)
{
	const struct port_ent *x = a, *y = b;

	if (x->key.side != y->key.side)
		return x->key.side - y->key.side;
	return (int)x->key.port - (int)y->key.port;
}

/* The (side, port) -> rule pairs of the rules with a narrow port range;
 * the others go to *any. Returns the count, or -E2BIG. */
static int port_pairs(const struct fl_rule *r, int n, __u8 gen, struct port_ent *out, int max,
		      struct fl_bits *any)
{
	int m = 0;

	for (int i = 0; i < n; i++) {
		bool narrow = r[i].port_mode && r[i].port_hi - r[i].port_lo < FL_IDX_PORT_SPAN;
		bool sides[2] = { r[i].port_mode & FL_PORT_SRC, r[i].port_mode & FL_PORT_DST };

		if (!narrow) {
			bit_set(any, i);
			continue;
		}
		if (r[i].flags & FL_RULE_BIDIR)
			sides[0] = sides[1] = true;
		for (__u8 side = 0; side < 2; side++) {
			for (__u32 p = r[i].port_lo; sides[side] && p <= r[i].port_hi; p++) {
				if (m == max)
					return -E2BIG;
				out[m].key = (struct fl_port_key){ .port = (__u16)p,
								   .side = side,
								   .gen = gen };
				out[m++].rule = (__u32)i;
			}
		}
	}
	return m;
}

static int write_ports(struct fl_dp *dp, __u8 gen, struct port_ent *e, int m)
{
	struct bpf_map *map = dp->skel->maps.fl_idx_port;
	struct fl_port_key *keys = calloc((size_t)m + 1, sizeof(*keys));
	struct fl_bits bits;
	int nk = 0, err = 0;

	if (!keys)
		return -ENOMEM;
	for (int i = 0; i < dp->n_port_keys[gen]; i++)
		bpf_map__delete_elem(map, &dp->port_keys[gen][i], sizeof(keys[0]), 0);
	qsort(e, (size_t)m, sizeof(*e), cmp_port_ent);
	for (int i = 0; i < m && !err; nk++) {
		int j = i;

		memset(&bits, 0, sizeof(bits));
		for (; j < m && !cmp_port_ent(&e[i], &e[j]); j++)
			bit_set(&bits, (int)e[j].rule);
		keys[nk] = e[i].key;
		err = bpf_map__update_elem(map, &keys[nk], sizeof(keys[0]), &bits, sizeof(bits),
					   BPF_ANY);
		i = j;
	}
	free(dp->port_keys[gen]);
	dp->port_keys[gen] = keys;
	dp->n_port_keys[gen] = nk;
	return err;
}

/* Index of generation gen; conf->port_any[gen] is filled here. */
static int write_index(struct fl_dp *dp, const struct fl_rule *rules, int n, __u32 gen,
		       struct fl_conf *conf)
{
	int max = FL_IDX_PORT_MAX / 2, m, err = -ENOMEM;
	struct fl_bits *node = calloc(2 * FL_IDX_NODES, sizeof(*node));
	struct port_ent *pe = calloc((size_t)max, sizeof(*pe));
	__u32 keys[2 * FL_IDX_NODES], count = 2 * FL_IDX_NODES;

	if (!node || !pe)
		goto out;
	index_nodes(rules, n, node);
	for (__u32 k = 0; k < count; k++)
		keys[k] = FL_IDX_NODE(gen, 0, 0) + k;
	err = bpf_map_update_batch(bpf_map__fd(dp->skel->maps.fl_idx_node), keys, node, &count,
				   NULL);
	if (err)
		goto out;
	memset(&conf->port_any[gen], 0, sizeof(conf->port_any[gen]));
	m = port_pairs(rules, n, (__u8)gen, pe, max, &conf->port_any[gen]);
	if (m < 0) { /* too many ports: no port index for this generation */
		m = 0;
		for (int i = 0; i < n; i++)
			bit_set(&conf->port_any[gen], i);
	}
	err = write_ports(dp, (__u8)gen, pe, m);
	conf->flags &= ~(FL_CONF_PORTS0 << gen);
	if (dp->n_port_keys[gen])
		conf->flags |= FL_CONF_PORTS0 << gen;
	if (dp->has_nodes)
		conf->flags |= FL_CONF_NODES;
out:
	free(node);
	free(pe);
	return err;
}

/* ---- leases (rule.h) ------------------------------------------------------ */

uint64_t fl_dp_boottime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void fl_dp_set_lease(struct fl_dp *dp, uint64_t lease_ns)
{
	dp->lease_ns = lease_ns;
}

/* One batch write of expires_ns for n slots (no rule is rewritten). */
static int lease_write(struct fl_dp *dp, const __u32 *slots, int n)
{
	__u64 exp[FL_MAX_RULES];
	__u32 keys[FL_MAX_RULES], count = (__u32)n;
	__u64 until = dp->lease_ns ? fl_dp_boottime_ns() + dp->lease_ns : FL_LEASE_NEVER;

	if (n <= 0)
		return 0;
	if (n > FL_MAX_RULES)
		return -E2BIG;
	for (int i = 0; i < n; i++) {
		keys[i] = slots[i];
		exp[i] = until;
	}
	return bpf_map_update_batch(bpf_map__fd(dp->skel->maps.fl_lease), keys, exp, &count, NULL) ?
		       -errno :
		       0;
}

int fl_dp_renew(struct fl_dp *dp)
{
	if (!dp->lease_ns)
		return 0;
	return lease_write(dp, dp->live, dp->n_live);
}

/* Wait until no program still runs with what it read before the last
 * update. A program that loaded the old generation just before the flip
 * may drop one more packet with a removed rule; fault del reads the final
 * counters after this, so they hold that packet too. Userspace has no
 * synchronize_rcu(), but the kernel waits for running programs on every
 * update of a map-in-map (maybe_wait_bpf_programs() in kernel/bpf/syscall.c;
 * the kernel's own selftests use the same trick, kern_sync_rcu()). */
static int dp_grace(struct fl_dp *dp)
{
	__u32 zero = 0;
	int fd;

	if (dp->grace_inner < 0) {
		dp->grace_inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "fl_grace_in", sizeof(__u32),
						 sizeof(__u32), 1, NULL);
		if (dp->grace_inner < 0)
			return -errno;
	}
	if (dp->grace_outer < 0) {
		LIBBPF_OPTS(bpf_map_create_opts, o, .inner_map_fd = dp->grace_inner);

		dp->grace_outer = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "fl_grace",
						 sizeof(__u32), sizeof(__u32), 1, &o);
		if (dp->grace_outer < 0)
			return -errno;
	}
	fd = dp->grace_inner;
	return bpf_map_update_elem(dp->grace_outer, &zero, &fd, BPF_ANY) ? -errno : 0;
}

int fl_dp_load_rules(struct fl_dp *dp, const struct fl_rule *rules, int n)
{
	struct bpf_map *conf_map = dp->skel->maps.fl_conf, *rmap = dp->skel->maps.fl_rules;
	struct fl_conf conf;
	__u32 zero = 0, idle, key;
	bool gone = false;
	int err;

	if (n < 0 || n > FL_MAX_RULES)
		return -E2BIG;
	err = bpf_map__lookup_elem(conf_map, &zero, sizeof(zero), &conf, sizeof(conf), 0);
	if (err)
		return err;
	idle = (conf.gen & 1) ^ 1;
	for (int i = 0; i < n; i++) {
		key = idle * FL_MAX_RULES + (__u32)i;
		err = bpf_map__update_elem(rmap, &key, sizeof(key), &rules[i], sizeof(rules[i]),
					   BPF_ANY);
		if (err)
			return err;
	}
	err = write_index(dp, rules, n, idle, &conf);
	if (err)
		return err;
	for (int i = 0; i < dp->n_live && !gone; i++) {
		gone = true;
		for (int j = 0; j < n && gone; j++)
			gone = rules[j].slot != dp->live[i];
	}
	for (int i = 0; i < n; i++)
		dp->live[i] = rules[i].slot;
	dp->n_live = n;
	/* leased before they can match (an old rule keeping its slot is
	 * renewed with it) */
	err = lease_write(dp, dp->live, n);
	if (err)
		return err;
	/* count and index first, then the generation: a reader never sees a
	 * new generation with a stale count */
	conf.n_rules[idle] = (__u32)n;
	err = bpf_map__update_elem(conf_map, &zero, sizeof(zero), &conf, sizeof(conf), BPF_ANY);
	if (err)
		return err;
	conf.gen = idle;
	err = bpf_map__update_elem(conf_map, &zero, sizeof(zero), &conf, sizeof(conf), BPF_ANY);
	/* a rule gone: when this returns, no packet meets it any more (the
	 * wait costs a grace period, ~15 ms, so only on removal) */
	return err ? err : gone ? dp_grace(dp) : 0;
}

int fl_dp_slot_reset(struct fl_dp *dp, uint32_t slot)
{
	int ncpu = libbpf_num_possible_cpus();
	struct fl_rule_state st = { 0 };
	struct fl_counters *c;
	int err;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	c = calloc((size_t)ncpu, sizeof(*c));
	if (!c)
		return -ENOMEM;
	err = bpf_map__update_elem(dp->skel->maps.fl_rstate, &slot, sizeof(slot), &st, sizeof(st),
				   BPF_ANY);
	if (!err)
		err = bpf_map__update_elem(dp->skel->maps.fl_counters, &slot, sizeof(slot), c,
					   (size_t)ncpu * sizeof(*c), BPF_ANY);
	free(c);
	return err;
}

int fl_dp_counters(struct fl_dp *dp, uint32_t slot, struct fl_counters *sum)
{
	int ncpu = libbpf_num_possible_cpus(), err;
	struct fl_counters *c;

	memset(sum, 0, sizeof(*sum));
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	c = calloc((size_t)ncpu, sizeof(*c));
	if (!c)
		return -ENOMEM;
	err = bpf_map__lookup_elem(dp->skel->maps.fl_counters, &slot, sizeof(slot), c,
				   (size_t)ncpu * sizeof(*c), 0);
	for (int i = 0; !err && i < ncpu; i++) {
		fl_counters_add(sum, &c[i]);
	}
	free(c);
	return err;
}

#define FIELD(n)                                    \
	{                                           \
#n, offsetof(struct fl_counters, n) \
	}

const struct fl_counter_field fl_counter_fields[] = {
	FIELD(packets),	  FIELD(bytes),	   FIELD(dropped), FIELD(duplicated),
	FIELD(corrupted), FIELD(reset),	   FIELD(delayed), FIELD(shaped),
	FIELD(tampered),  FIELD(replayed), { NULL, 0 },
};
_Static_assert(sizeof(fl_counter_fields) / sizeof(fl_counter_fields[0]) == FL_N_COUNTERS + 1,
	       "every member of struct fl_counters has a name in fl_counter_fields");

void fl_counters_add(struct fl_counters *sum, const struct fl_counters *c)
{
	for (const struct fl_counter_field *f = fl_counter_fields; f->name; f++)
		*fl_counter_at(sum, f) += fl_counter_get(c, f);
}

void fl_counters_print(const struct fl_counters *c, struct fl_out *o)
{
	for (const struct fl_counter_field *f = fl_counter_fields; f->name; f++)
		fl_out_u64(o, f->name, fl_counter_get(c, f));
}
