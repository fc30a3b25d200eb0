// SPDX-License-Identifier: MIT
/* Building a lab in the kernel, in-process, through libnl-route: one route
 * socket per namespace, no `ip`, no fork per node. Every object is
 * recorded in the journal before it is created. */
#include "lab_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/if.h>
#include <linux/if_addr.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>

#include "log.h"
#include "netns.h"
#include "nlutil.h"
#include "admin/admin.h"
#include "state/state.h"

#define ETC_NETNS "/etc/netns"

volatile sig_atomic_t fl_lab_interrupted;

static int nl_fail(int nlerr, const char *what, const char *obj, const char *ns)
{
	pr_err("%s %s in namespace %s: %s", what, obj, ns, nl_geterror(nlerr));
	return fl_nl_errno(nlerr);
}

/* Record, then create; EEXIST means somebody else's: withdraw the record. */
static int make_netns(struct fl_labnet *b, const char *name)
{
	struct fl_rec rec;
	int err;

	err = fl_state_begin(b->st, &rec, "netns", "%s", name);
	if (err)
		return err;
	err = fl_netns_create(name);
	if (err == -EEXIST) {
		err = fl_state_existed(&rec) ?: -EEXIST;
		pr_err("lab %s: network namespace %s appeared meanwhile (not ours); pick"
		       " another lab name",
		       b->lab->name, name);
	} else if (err) {
		pr_err("lab %s: creating network namespace %s: %s", b->lab->name, name,
		       strerror(-err));
	}
	return err;
}

/* /proc/sys/net is per network namespace: open it while inside. */
int fl_lab_sysctl(int nsfd, const char *key, const char *val)
{
	char path[256];
	int saved = -1, fd, err;
	size_t len = strlen(val);

	snprintf(path, sizeof(path), "/proc/sys/%s", key);
	err = fl_netns_enter(nsfd, &saved);
	if (err)
		return err;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	err = fd < 0 || write(fd, val, len) != (ssize_t)len ? -errno : 0;
	if (fd >= 0)
		close(fd);
	fl_netns_leave(saved);
	return err;
}

static int set_up(struct nl_sock *sk, int ifindex, const char *what, const char *ns)
{
	struct rtnl_link *l = rtnl_link_alloc();
	int err;

	if (!l)
		return -ENOMEM;
	rtnl_link_set_ifindex(l, ifindex);
	rtnl_link_set_flags(l, IFF_UP);
	err = rtnl_link_add(sk, l, 0); /* RTM_NEWLINK on an existing link = set */
	rtnl_link_put(l);
	return err < 0 ? nl_fail(err, "bringing up", what, ns) : 0;
}

static int make_bridge(struct fl_labnet *b)
{
	const char *ns = b->lab->wire_netns;
	struct rtnl_link *br = NULL;
	int err;

	err = fl_state_record(b->st, "link", "%s %s", ns, b->lab->bridge);
	if (err)
		return err;
	br = rtnl_link_alloc();
	if (!br)
		return -ENOMEM;
	rtnl_link_set_type(br, "bridge");
	rtnl_link_set_name(br, b->lab->bridge);
	rtnl_link_set_flags(br, IFF_UP);
	err = rtnl_link_add(b->wire, br, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(br);
	if (err < 0)
		return nl_fail(err, "creating bridge", b->lab->bridge, ns);
	err = fl_nl_ifindex(b->wire, b->lab->bridge);
	if (err < 0)
		return err;
	b->bridge_idx = err;
	return 0;
}

/* The wire: namespace fl-LAB, a bridge, and bridged traffic through
 * iptables/ip6tables (br_netfilter) for the delay line. Sysctls inside a
 * namespace we made die with it, so they are not journaled. */
static int make_wire(struct fl_labnet *b)
{
	static const char *const keys[] = { "net/bridge/bridge-nf-call-iptables",
					    "net/bridge/bridge-nf-call-ip6tables" };
	const char *ns = b->lab->wire_netns;
	int err;

	err = make_netns(b, ns);
	if (err)
		return err;
	b->wire_fd = fl_netns_open(ns);
	if (b->wire_fd < 0)
		return b->wire_fd;
	err = fl_nl_route_in(b->wire_fd, &b->wire);
	if (err) {
		pr_err("lab %s: route socket in %s: %s", b->lab->name, ns, strerror(-err));
		return err;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		err = fl_lab_sysctl(b->wire_fd, keys[i], "1");
		if (err) {
			pr_err("lab %s: setting %s=1 in %s: %s (is br_netfilter available?)",
			       b->lab->name, keys[i], ns, strerror(-err));
			return err;
		}
	}
	return make_bridge(b);
}

/* p-NODE in the wire (on the bridge, up) and its peer eth0 created
 * directly in the node's namespace (up): no name ever in the root ns. */
static int make_veth(struct fl_labnet *b, const struct fl_node *n, int node_fd)
{
	struct rtnl_link *veth, *peer;
	unsigned char mac[6];
	struct nl_addr *ll;
	int err;

	err = fl_state_record(b->st, "link", "%s %s", b->lab->wire_netns, n->port);
	if (err)
		return err;
	veth = rtnl_link_veth_alloc();
	if (!veth)
		return -ENOMEM;
	peer = rtnl_link_veth_get_peer(veth);
	rtnl_link_set_name(veth, n->port);
	rtnl_link_set_master(veth, b->bridge_idx);
	rtnl_link_set_flags(veth, IFF_UP);
	rtnl_link_set_name(peer, "eth0");
	rtnl_link_set_ns_fd(peer, node_fd);
	fl_lab_node_mac(b->lab, n, mac);
	ll = nl_addr_build(AF_LLC, mac, sizeof(mac));
	if (!ll) {
		rtnl_link_put(peer);
		rtnl_link_veth_release(veth);
		return -ENOMEM;
	}
	rtnl_link_set_addr(peer, ll);
	nl_addr_put(ll);
	if (n->mtu) {
		rtnl_link_set_mtu(veth, n->mtu);
		rtnl_link_set_mtu(peer, n->mtu);
	}
	err = rtnl_link_add(b->wire, veth, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(peer);
	rtnl_link_veth_release(veth);
	if (err < 0) {
		pr_err("lab %s: creating veth %s (in %s) with peer eth0 (in %s): %s", b->lab->name,
		       n->port, b->lab->wire_netns, n->netns, nl_geterror(err));
		return fl_nl_errno(err);
	}
	return 0;
}

int fl_lab_nl_addr(struct nl_sock *sk, int ifindex, int family, const void *a, int plen,
		   const struct fl_node *n, bool add)
{
	struct rtnl_addr *ra = rtnl_addr_alloc();
	struct nl_addr *local = nl_addr_build(family, a, family == AF_INET ? 4 : 16);
	char txt[INET6_ADDRSTRLEN] = "";
	int err = -ENOMEM;

	if (!ra || !local)
		goto out;
	nl_addr_set_prefixlen(local, plen);
	rtnl_addr_set_ifindex(ra, ifindex);
	rtnl_addr_set_local(ra, local);
	if (family == AF_INET6)
		rtnl_addr_set_flags(ra, IFA_F_NODAD); /* usable at once */
	err = add ? rtnl_addr_add(sk, ra, 0) : rtnl_addr_delete(sk, ra, 0);
	if (err < 0) {
		inet_ntop(family, a, txt, sizeof(txt));
		pr_err("%s address %s/%d %s eth0 in %s: %s", add ? "adding" : "removing", txt, plen,
		       add ? "to" : "from", n->netns, nl_geterror(err));
		err = fl_nl_errno(err);
	}
out:
	nl_addr_put(local);
	if (ra)
		rtnl_addr_put(ra);
	return err;
}

/* lo up, eth0's addresses: through a route socket living in the node. */
static int config_node(struct fl_labnet *b, const struct fl_node *n, int node_fd)
{
	struct nl_sock *sk = NULL;
	int err, idx;

	err = fl_nl_route_in(node_fd, &sk);
	if (err) {
		pr_err("lab %s: route socket in %s: %s", b->lab->name, n->netns, strerror(-err));
		return err;
	}
	err = set_up(sk, 1, "lo", n->netns);
	if (err)
		goto out;
	idx = err = fl_nl_ifindex(sk, "eth0");
	if (err < 0) {
		pr_err("lab %s: eth0 missing in %s: %s", b->lab->name, n->netns, strerror(-err));
		goto out;
	}
	/* (IFF_UP on the peer at creation fails with ENOTCONN on 6.18) */
	err = set_up(sk, idx, "eth0", n->netns);
	if (!err && (n->fam & FL_NODE_V4))
		err = fl_lab_nl_addr(sk, idx, AF_INET, &n->ip4, b->lab->prefix4_len, n, true);
	if (!err && (n->fam & FL_NODE_V6))
		err = fl_lab_nl_addr(sk, idx, AF_INET6, &n->ip6, FL_LAB_PREFIX6_LEN, n, true);
out:
	nl_socket_free(sk);
	return err;
}

/* ---- name resolution ------------------------------------------------------
 * Every node has its own hosts file, /etc/netns/fl-LAB.NODE/hosts (a
 * regular file), listing the addresses its family class can reach.
 * `ip netns exec` and fl_netns_exec bind it over /etc/hosts, so rewriting
 * it in place (same inode) reaches every process already running in the
 * node. A node's own file is what lets another administrator change one
 * node's view (fallacy admin NODE hosts): a rewrite after a topology
 * change keeps such entries (fl_admin_hosts_rebase). */

/* The text for nodes of class fam: every address of that family. */
static char *hosts_text(const struct fl_lab *lab, unsigned int fam)
{
	size_t cap = 256 + lab->n_nodes * 2 * (INET6_ADDRSTRLEN + FL_NODE_NAME_MAX + 2), n;
	char a[INET6_ADDRSTRLEN], *t = malloc(cap);

	if (!t)
		return NULL;
	n = (size_t)snprintf(t, cap,
			     "# written by fallacy for lab %s; removed by fallacy lab down\n"
			     "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
			     lab->name);
	for (size_t i = 0; (fam & FL_NODE_V4) && i < lab->n_nodes; i++) {
		if (!(lab->nodes[i].fam & FL_NODE_V4))
			continue;
		inet_ntop(AF_INET, &lab->nodes[i].ip4, a, sizeof(a));
		n += (size_t)snprintf(t + n, cap - n, "%s\t%s\n", a, lab->nodes[i].name);
	}
	for (size_t i = 0; (fam & FL_NODE_V6) && i < lab->n_nodes; i++) {
		if (!(lab->nodes[i].fam & FL_NODE_V6))
			continue;
		inet_ntop(AF_INET6, &lab->nodes[i].ip6, a, sizeof(a));
		n += (size_t)snprintf(t + n, cap - n, "%s\t%s\n", a, lab->nodes[i].name);
	}
	return t;
}

/* In place (same inode: the bind mounts of running processes see it); a
 * new file is recorded in st first, a symlink refused. */
static int write_in_place(const char *path, const char *text, struct fl_state *st)
{
	size_t len = strlen(text);
	struct fl_rec rec;
	int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC), err = 0;

	if (fd < 0 && errno == ENOENT) {
		err = fl_state_begin(st, &rec, "file", "%s", path);
		if (err)
			return err;
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 && errno == EEXIST && fl_state_existed(&rec))
			return -EIO;
	}
	if (fd < 0)
		return -errno;
	if (pwrite(fd, text, len, 0) != (ssize_t)len || ftruncate(fd, (off_t)len))
		err = errno ? -errno : -EIO;
	close(fd);
	return err;
}

/* Node n's file: base (the lab's text for its class, NULL: made here),
 * with the node's foreign hosts changes on top. */
static int node_hosts_write(const struct fl_lab *lab, const struct fl_node *n, const char *base,
			    struct fl_state *st)
{
	char path[300], sdir[4200], *own = base ? NULL : hosts_text(lab, n->fam), *text = NULL;
	int err;

	snprintf(path, sizeof(path), ETC_NETNS "/%s/hosts", n->netns);
	snprintf(sdir, sizeof(sdir), "%s/%s", fl_run_dir(), lab->name);
	if (base || own)
		text = fl_admin_hosts_rebase(sdir, lab, n->name, base ? base : own);
	err = text ? write_in_place(path, text, st) : -ENOMEM;
	if (err)
		pr_err("lab %s: writing %s: %s", lab->name, path, strerror(-err));
	free(text);
	free(own);
	return err;
}

/* One text per family class (FL_NODE_V4, V6, DUAL: 1..3), made once. */
int fl_lab_hosts_write(const struct fl_lab *lab, struct fl_state *st)
{
	char *text[4] = { NULL };
	int err = 0;

	for (size_t i = 0; !err && i < lab->n_nodes; i++) {
		unsigned int fam = lab->nodes[i].fam & FL_NODE_DUAL;

		if (!text[fam] && !(text[fam] = hosts_text(lab, fam)))
			err = -ENOMEM;
		if (!err)
			err = node_hosts_write(lab, &lab->nodes[i], text[fam], st);
	}
	for (size_t c = 0; c < 4; c++)
		free(text[c]);
	return err;
}

static int make_dir(struct fl_labnet *b, const char *kind, const char *path)
{
	struct fl_rec rec;
	int err = fl_state_begin(b->st, &rec, kind, "%s", path);

	if (err)
		return err;
	if (!mkdir(path, 0755))
		return 0;
	err = -errno;
	if (err == -EEXIST && fl_state_existed(&rec))
		return -EIO;
	if (err == -EEXIST && !strcmp(kind, "rmdir"))
		return 0;
	pr_err("lab %s: creating %s: %s", b->lab->name, path, strerror(-err));
	return err;
}

static int make_hosts(struct fl_labnet *b, const struct fl_node *n)
{
	char dir[256];
	int err;

	snprintf(dir, sizeof(dir), ETC_NETNS "/%s", n->netns);
	err = make_dir(b, "dir", dir);
	return err ?: node_hosts_write(b->lab, n, NULL, b->st);
}

int fl_labnet_node(struct fl_labnet *b, const struct fl_node *n)
{
	int fd, err;

	err = make_netns(b, n->netns);
	if (err)
		return err;
	fd = fl_netns_open(n->netns);
	if (fd < 0)
		return fd;
	err = make_veth(b, n, fd);
	if (!err)
		err = config_node(b, n, fd);
	close(fd);
	if (!err)
		err = make_hosts(b, n);
	return err;
}

int fl_lab_node_sock(const struct fl_lab *lab, const struct fl_node *n, struct nl_sock **sk)
{
	int fd = fl_netns_open(n->netns), err;

	*sk = NULL;
	if (fd < 0) {
		pr_err("lab %s: node %s: namespace %s: %s", lab->name, n->name, n->netns,
		       strerror(-fd));
		return fd;
	}
	err = fl_nl_route_in(fd, sk);
	close(fd);
	if (err)
		pr_err("lab %s: route socket in %s: %s", lab->name, n->netns, strerror(-err));
	return err;
}

int fl_labnet_open(struct fl_labnet *b, struct fl_lab *lab, struct fl_state *st)
{
	int err;

	*b = (struct fl_labnet){ .lab = lab, .st = st, .wire_fd = -1 };
	b->wire_fd = fl_netns_open(lab->wire_netns);
	if (b->wire_fd < 0) {
		pr_err("lab %s: wire namespace %s: %s", lab->name, lab->wire_netns,
		       strerror(-b->wire_fd));
		return b->wire_fd;
	}
	err = fl_nl_route_in(b->wire_fd, &b->wire);
	if (!err) {
		err = fl_nl_ifindex(b->wire, lab->bridge);
		b->bridge_idx = err;
	}
	if (err < 0) {
		pr_err("lab %s: bridge %s in %s: %s", lab->name, lab->bridge, lab->wire_netns,
		       strerror(-err));
		fl_labnet_close(b);
		return err;
	}
	return 0;
}

void fl_labnet_close(struct fl_labnet *b)
{
	if (b->wire)
		nl_socket_free(b->wire);
	if (b->wire_fd >= 0)
		close(b->wire_fd);
	b->wire = NULL;
	b->wire_fd = -1;
}

int fl_lab_build(struct fl_lab *lab, struct fl_state *st)
{
	struct fl_labnet b = { .lab = lab, .st = st, .wire_fd = -1 };
	struct stat sb;
	int err = 0;

	if (stat(ETC_NETNS, &sb))
		err = make_dir(&b, "rmdir", ETC_NETNS);
	if (!err)
		err = make_wire(&b);
	for (size_t i = 0; !err && i < lab->n_nodes; i++) {
		if (fl_lab_interrupted) {
			pr_err("lab %s: interrupted; removing what was made", lab->name);
			err = -EINTR;
			break;
		}
		err = fl_labnet_node(&b, &lab->nodes[i]);
	}
	fl_labnet_close(&b);
	return err;
}
