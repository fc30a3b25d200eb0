// SPDX-License-Identifier: MIT
/* Live topology changes in the kernel (see topo.h): carrier, nodes that
 * join and leave, new addresses, link MTUs and routes through a node.
 * Every object made here is recorded in the lab's journal first; objects
 * inside the lab's own namespaces go away with them, so cleanup after a
 * crash is the lab's ordinary cleanup. */
#include "topo.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/if.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include "lab_int.h"
#include "log.h"
#include "netns.h"
#include "nlutil.h"
#include "state/state.h"

#define ETC_NETNS "/etc/netns"

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- links: carrier, MTU ------------------------------------------------- */

/* RTM_NEWLINK on an existing link changes it: flags, MTU. */
static int link_set(const char *ns, const char *ifname, int up, unsigned int mtu,
		    struct fl_err *err)
{
	struct rtnl_link *l = rtnl_link_alloc();
	struct nl_sock *sk = NULL;
	int ret, idx;

	if (!l)
		return -ENOMEM;
	ret = fl_nl_route_in_spec(ns, &sk);
	idx = ret ? ret : fl_nl_ifindex(sk, ifname);
	if (idx < 0) {
		fl_err_set(err, "%s in namespace %s: %s", ifname, ns, strerror(-idx));
		ret = idx;
		goto out;
	}
	rtnl_link_set_ifindex(l, idx);
	if (up > 0)
		rtnl_link_set_flags(l, IFF_UP);
	else if (!up)
		rtnl_link_unset_flags(l, IFF_UP);
	if (mtu)
		rtnl_link_set_mtu(l, mtu);
	ret = rtnl_link_add(sk, l, 0);
	if (ret < 0) {
		fl_err_set(err, "changing %s in namespace %s: %s", ifname, ns, nl_geterror(ret));
		ret = fl_nl_errno(ret);
	}
out:
	rtnl_link_put(l);
	nl_socket_free(sk);
	return ret;
}

int fl_lab_link(const struct fl_lab *lab, const char *node, bool up, struct fl_err *err)
{
	const struct fl_node *n = fl_lab_node(lab, node);

	if (!n) {
		fl_err_set(err, "lab %s has no node '%s'", lab->name, node);
		return -ENOENT;
	}
	return link_set(lab->wire_netns, n->port, up, 0, err);
}

/* Both ends of the node's veth; lowering, the node's end first. */
static int set_mtu(const struct fl_lab *lab, const struct fl_node *n, unsigned int mtu,
		   struct fl_err *err)
{
	unsigned int m = mtu ? mtu : 1500;

	return link_set(n->netns, "eth0", -1, m, err) ?:
		       link_set(lab->wire_netns, n->port, -1, m, err);
}

/* ---- a node leaves ------------------------------------------------------- */

/* The processes whose network namespace is ns (one /proc scan). */
static size_t ns_pids(const struct stat *ns, pid_t *pids, size_t max)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	char path[64];
	struct stat sb;
	size_t n = 0;

	while (d && (de = readdir(d)) && n < max) {
		int pid = atoi(de->d_name);

		if (pid <= 1 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
		if (!stat(path, &sb) && sb.st_ino == ns->st_ino && sb.st_dev == ns->st_dev)
			pids[n++] = pid;
	}
	if (d)
		closedir(d);
	return n;
}

static size_t alive(pid_t *pids, size_t n)
{
	char buf[512];
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		const char *p = fl_proc_stat(pids[i], buf, sizeof(buf));

		if (p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X')
			pids[k++] = pids[i];
	}
	return k;
}

void fl_node_stop_processes(const struct fl_node *n, uint64_t grace_ns)
{
	char path[128];
	pid_t pids[4096];
	struct stat ns;
	size_t cnt;

	snprintf(path, sizeof(path), "/run/netns/%s", n->netns);
	if (stat(path, &ns))
		return;
	cnt = ns_pids(&ns, pids, sizeof(pids) / sizeof(pids[0]));
	for (size_t i = 0; i < cnt; i++)
		kill(pids[i], SIGTERM);
	for (uint64_t waited = 0; (cnt = alive(pids, cnt)) && waited < grace_ns;
	     waited += 20000000ULL)
		sleep_ms(20);
	for (size_t i = 0; i < cnt; i++) {
		pr_info("node %s leaves: process %d did not stop on SIGTERM, killing it", n->name,
			pids[i]);
		kill(pids[i], SIGKILL);
	}
	for (int i = 0; i < 100 && (cnt = alive(pids, cnt)); i++)
		sleep_ms(20);
}

/* Processes stopped, veth (both ends) deleted, namespace and /etc/netns
 * folder removed. Their journal records stay: undoing a gone object is a
 * no-op, and a node that rejoins records its objects again. */
static int remove_node(const struct fl_lab *lab, const struct fl_node *n, uint64_t grace_ns,
		       struct fl_err *err)
{
	struct rtnl_link *l = rtnl_link_alloc();
	struct nl_sock *sk = NULL;
	char dir[256];
	int ret;

	if (!l)
		return -ENOMEM;
	fl_node_stop_processes(n, grace_ns);
	ret = fl_nl_route_in_spec(lab->wire_netns, &sk);
	if (!ret) {
		rtnl_link_set_name(l, n->port);
		ret = fl_nl_errno(rtnl_link_delete(sk, l));
	}
	rtnl_link_put(l);
	nl_socket_free(sk);
	if (ret && ret != -ENODEV && ret != -ENOENT) {
		fl_err_set(err, "deleting %s in %s: %s", n->port, lab->wire_netns, strerror(-ret));
		return ret;
	}
	ret = fl_netns_delete(n->netns);
	if (ret && ret != -ENOENT) {
		fl_err_set(err, "removing namespace %s: %s", n->netns, strerror(-ret));
		return ret;
	}
	snprintf(dir, sizeof(dir), ETC_NETNS "/%s", n->netns);
	return fl_rm_rf(dir);
}

static int add_node(struct fl_lab *next, struct fl_state *st, const struct fl_node *n,
		    struct fl_err *err)
{
	struct fl_labnet b;
	int ret = fl_labnet_open(&b, next, st);

	if (!ret)
		ret = fl_labnet_node(&b, n);
	fl_labnet_close(&b);
	if (ret) {
		fl_err_set(err, "making node %s: %s (see the message above)", n->name,
			   strerror(-ret));
		remove_node(next, n, 0, &(struct fl_err){ "" });
	}
	return ret;
}

/* ---- addresses ------------------------------------------------------------- */

static int node_addrs(const struct fl_lab *lab, const struct fl_node *n, bool add,
		      struct fl_err *err)
{
	struct nl_sock *sk = NULL;
	int ret, idx;

	ret = fl_lab_node_sock(lab, n, &sk);
	idx = ret ? ret : fl_nl_ifindex(sk, "eth0");
	ret = idx < 0 ? idx : 0;
	if (!ret && (n->fam & FL_NODE_V4))
		ret = fl_lab_nl_addr(sk, idx, AF_INET, &n->ip4, lab->prefix4_len, n, add);
	if (!ret && (n->fam & FL_NODE_V6))
		ret = fl_lab_nl_addr(sk, idx, AF_INET6, &n->ip6, FL_LAB_PREFIX6_LEN, n, add);
	nl_socket_free(sk);
	if (ret)
		fl_err_set(err, "%s the addresses of %s: %s", add ? "adding" : "removing", n->name,
			   strerror(-ret));
	return ret;
}

/* Old addresses off, new ones on: connections on the old ones break as
 * they would on a real network (nobody answers for them any more). */
static int readdress(const struct fl_lab *lab, const struct fl_node *old, const struct fl_node *new,
		     struct fl_err *err)
{
	int ret = node_addrs(lab, old, false, err);

	if (!ret)
		ret = node_addrs(lab, new, true, err);
	if (ret) /* put the old ones back */
		node_addrs(lab, old, true, &(struct fl_err){ "" });
	return ret;
}

/* ---- routes through a node --------------------------------------------------
 * A's packets to B go to C: a host route on A (B/32, B/128 via C), IP
 * forwarding on C with ICMP redirects off (C would otherwise tell A to go
 * straight to B), redirects ignored on A. */

static int route_one(struct nl_sock *sk, int idx, int family, const void *dst, const void *gw,
		     bool add)
{
	size_t alen = family == AF_INET ? 4 : 16;
	struct nl_addr *d = nl_addr_build(family, dst, alen), *g = NULL;
	struct rtnl_route *r = rtnl_route_alloc();
	struct rtnl_nexthop *nh = NULL;
	int ret = -ENOMEM;

	if (!d || !r)
		goto out;
	nl_addr_set_prefixlen(d, (int)alen * 8);
	rtnl_route_set_family(r, (uint8_t)family);
	rtnl_route_set_dst(r, d);
	rtnl_route_set_table(r, RT_TABLE_MAIN);
	if (add) {
		g = nl_addr_build(family, gw, alen);
		nh = rtnl_route_nh_alloc();
		if (!g || !nh)
			goto out;
		rtnl_route_nh_set_gateway(nh, g);
		rtnl_route_nh_set_ifindex(nh, idx);
		rtnl_route_add_nexthop(r, nh);
		nh = NULL;
		ret = fl_nl_errno(rtnl_route_add(sk, r, NLM_F_CREATE | NLM_F_REPLACE));
	} else {
		/* any scope: libnl would guess "link" for a route without a
		 * gateway, and the kernel would find none to delete */
		rtnl_route_set_scope(r, RT_SCOPE_NOWHERE);
		ret = fl_nl_errno(rtnl_route_delete(sk, r, 0));
		if (ret == -ENOENT || ret == -ESRCH)
			ret = 0;
	}
out:
	if (nh)
		rtnl_route_nh_free(nh);
	nl_addr_put(d);
	nl_addr_put(g);
	if (r)
		rtnl_route_put(r);
	return ret;
}

static int route_sysctls(struct fl_state *st, const struct fl_node *n, const char *const *kv)
{
	int fd = fl_netns_open(n->netns), ret = fd < 0 ? fd : 0;
	char key[128];

	for (; !ret && kv[0]; kv += 3) {
		snprintf(key, sizeof(key), "%s", kv[0]);
		for (char *p = key; *p; p++)
			if (*p == '/')
				*p = '.';
		ret = fl_state_record(st, "sysctl", "%s %s %s", n->netns, key, kv[2]);
		if (!ret)
			ret = fl_lab_sysctl(fd, kv[0], kv[1]);
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Forwarding on (or back off) on C. */
static int forwarding(struct fl_state *st, const struct fl_node *c, bool on)
{
	static const char *const fwd_on[] = { "net/ipv4/ip_forward",
					      "1",
					      "0",
					      "net/ipv4/conf/all/send_redirects",
					      "0",
					      "1",
					      "net/ipv4/conf/eth0/send_redirects",
					      "0",
					      "1",
					      "net/ipv6/conf/all/forwarding",
					      "1",
					      "0",
					      NULL };
	static const char *const fwd_off[] = { "net/ipv4/ip_forward",
					       "0",
					       "0",
					       "net/ipv4/conf/all/send_redirects",
					       "1",
					       "1",
					       "net/ipv4/conf/eth0/send_redirects",
					       "1",
					       "1",
					       "net/ipv6/conf/all/forwarding",
					       "0",
					       "0",
					       NULL };

	return route_sysctls(st, c, on ? fwd_on : fwd_off);
}

static int no_redirects(struct fl_state *st, const struct fl_node *a)
{
	static const char *const kv[] = { "net/ipv4/conf/all/accept_redirects",
					  "0",
					  "1",
					  "net/ipv4/conf/eth0/accept_redirects",
					  "0",
					  "1",
					  "net/ipv6/conf/all/accept_redirects",
					  "0",
					  "1",
					  "net/ipv6/conf/eth0/accept_redirects",
					  "0",
					  "1",
					  NULL };

	return route_sysctls(st, a, kv);
}

/* The host routes on A for route r (to B via C), added or removed. */
static int host_routes(const struct fl_lab *lab, struct fl_state *st, const struct fl_route *r,
		       bool add)
{
	const struct fl_node *a = fl_lab_node(lab, r->from), *b = fl_lab_node(lab, r->to);
	const struct fl_node *c = fl_lab_node(lab, r->via);
	struct nl_sock *sk = NULL;
	char d[INET6_ADDRSTRLEN];
	int ret, idx;

	if (!a || !b || !c) /* a node left: its routes went with it */
		return 0;
	ret = fl_lab_node_sock(lab, a, &sk);
	idx = ret ? ret : fl_nl_ifindex(sk, "eth0");
	ret = idx < 0 ? idx : 0;
	if (!ret && (a->fam & b->fam & c->fam & FL_NODE_V4)) {
		inet_ntop(AF_INET, &b->ip4, d, sizeof(d));
		ret = add ? fl_state_record(st, "route", "%s %s/32", a->netns, d) : 0;
		ret = ret ?: route_one(sk, idx, AF_INET, &b->ip4, &c->ip4, add);
	}
	if (!ret && (a->fam & b->fam & c->fam & FL_NODE_V6)) {
		inet_ntop(AF_INET6, &b->ip6, d, sizeof(d));
		ret = add ? fl_state_record(st, "route", "%s %s/128", a->netns, d) : 0;
		ret = ret ?: route_one(sk, idx, AF_INET6, &b->ip6, &c->ip6, add);
	}
	nl_socket_free(sk);
	if (!ret && add)
		ret = no_redirects(st, a);
	return ret;
}

static const struct fl_route *find_route(const struct fl_lab *lab, const struct fl_route *r)
{
	for (size_t i = 0; i < lab->n_routes; i++)
		if (!strcmp(lab->routes[i].from, r->from) && !strcmp(lab->routes[i].to, r->to))
			return &lab->routes[i];
	return NULL;
}

static bool same_addrs(const struct fl_lab *a, const struct fl_lab *b, const char *node)
{
	const struct fl_node *x = fl_lab_node(a, node), *y = fl_lab_node(b, node);

	return x && y && x->host == y->host;
}

/* Is route r of lab the same in other (same via, same addresses)? */
static bool route_kept(const struct fl_lab *lab, const struct fl_lab *other,
		       const struct fl_route *r)
{
	const struct fl_route *o = find_route(other, r);

	return o && !strcmp(o->via, r->via) && same_addrs(lab, other, r->to) &&
	       same_addrs(lab, other, r->via);
}

static bool is_via(const struct fl_lab *lab, const char *node)
{
	for (size_t i = 0; i < lab->n_routes; i++)
		if (!strcmp(lab->routes[i].via, node))
			return true;
	return false;
}

/* Make the kernel's routes those of next (they were those of old). */
static int routes_sync(const struct fl_lab *old, const struct fl_lab *next, struct fl_state *st)
{
	int ret = 0;

	for (size_t i = 0; i < old->n_routes; i++)
		if (!route_kept(old, next, &old->routes[i]) &&
		    (ret = host_routes(old, st, &old->routes[i], false)))
			pr_warn("removing the route %s -> %s via %s: %s", old->routes[i].from,
				old->routes[i].to, old->routes[i].via, strerror(-ret));
	ret = 0;
	for (size_t i = 0; !ret && i < next->n_nodes; i++) {
		const struct fl_node *c = &next->nodes[i];
		bool now = is_via(next, c->name);

		if (now != is_via(old, c->name) || (now && !same_addrs(old, next, c->name)))
			ret = forwarding(st, c, now);
	}
	for (size_t i = 0; !ret && i < next->n_routes; i++)
		if (!route_kept(next, old, &next->routes[i]))
			ret = host_routes(next, st, &next->routes[i], true);
	return ret;
}

/* ---- one change ------------------------------------------------------------ */

static int kernel_change(struct fl_lab *lab, struct fl_lab *next, struct fl_state *st,
			 const struct fl_topo *t, uint64_t grace_ns, struct fl_err *err)
{
	const struct fl_node *o = fl_lab_node(lab, t->node), *n = fl_lab_node(next, t->node);
	int ret = 0;

	switch (t->op) {
	case FL_TOPO_LINK:
		return fl_lab_link(lab, t->node, t->up, err);
	case FL_TOPO_JOIN:
		return add_node(next, st, n, err);
	case FL_TOPO_LEAVE:
		ret = remove_node(lab, o, grace_ns, err);
		break;
	case FL_TOPO_READDRESS:
		ret = readdress(lab, o, n, err);
		break;
	case FL_TOPO_MTU:
		return set_mtu(lab, o, t->mtu, err);
	case FL_TOPO_ROUTE:
		break;
	default:
		fl_err_set(err, "%s: not a change of the lab itself", fl_topo_verb(t->op));
		return -EINVAL;
	}
	if (!ret && (ret = routes_sync(lab, next, st)))
		fl_err_set(err, "updating the routes: %s", strerror(-ret));
	return ret;
}

/* lab takes next's contents (both keep their own arrays). */
static void adopt(struct fl_lab *lab, const struct fl_lab *next)
{
	struct fl_node *nodes = lab->nodes, *gone = lab->gone;

	*lab = *next;
	lab->nodes = nodes;
	lab->gone = gone;
	memcpy(nodes, next->nodes, next->n_nodes * sizeof(*nodes));
	memcpy(gone, next->gone, next->n_gone * sizeof(*gone));
}

/* The state the lab file says now ("up" once lab up has finished): the
 * supervisor's copy was loaded while the lab was still being built. */
static void keep_state(struct fl_lab *next)
{
	struct fl_lab *cur = NULL;

	if (!fl_lab_load(next->name, &cur))
		snprintf(next->state, sizeof(next->state), "%s", cur->state);
	fl_lab_free(cur);
}

int fl_lab_change(struct fl_lab *lab, struct fl_state *st, const struct fl_topo *t,
		  uint64_t grace_ns, struct fl_err *err)
{
	struct fl_lab *next = fl_lab_dup(lab);
	int ret;

	if (!next) {
		fl_err_set(err, "out of memory");
		return -ENOMEM;
	}
	ret = fl_topo_plan(next, t, err);
	if (!ret)
		ret = kernel_change(lab, next, st, t, grace_ns, err);
	if (!ret && t->op != FL_TOPO_LINK) {
		if (t->op == FL_TOPO_JOIN || t->op == FL_TOPO_LEAVE || t->op == FL_TOPO_READDRESS)
			ret = fl_lab_hosts_write(next, st);
		keep_state(next);
		if (!ret)
			ret = fl_lab_save(next);
		if (ret)
			fl_err_set(err, "writing the lab's files: %s", strerror(-ret));
		else
			adopt(lab, next);
	}
	fl_lab_free(next);
	return ret;
}
