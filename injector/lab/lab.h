/* SPDX-License-Identifier: MIT */
/* Labs: named sets of nodes. Each node is a network namespace fl-LAB.NODE
 * with lo up and eth0 joined to a bridge in the wire namespace fl-LAB
 * through the wire-side port p-NODE. Addresses from 198.18.0.0/15 and
 * (with ipv6) fdfa:11ac::/64. The lab's description is saved in
 * RUN_DIR/LAB/lab so every command can resolve node names. */
#ifndef FALLACY_LAB_H
#define FALLACY_LAB_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <signal.h>

#include "log.h"

#define FL_LAB_NAME_MAX 16
#define FL_NODE_NAME_MAX 12
#define FL_LAB_MAX_NODES 256

struct fl_node {
	char name[FL_NODE_NAME_MAX + 1];
	char netns[64]; /* fl-LAB.NODE */
	char port[IFNAMSIZ]; /* p-NODE, in the wire namespace */
	int index; /* 0-based position in the lab */
	struct in_addr ip4;
	struct in6_addr ip6; /* valid when lab->ipv6 */
};

struct fl_lab {
	char name[FL_LAB_NAME_MAX + 1];
	char wire_netns[64]; /* fl-LAB */
	char bridge[IFNAMSIZ]; /* inside the wire namespace */
	bool ipv6;
	int prefix4_len; /* the lab's IPv4 subnet length */
	struct in_addr net4; /* the lab's IPv4 subnet */
	size_t n_nodes;
	struct fl_node *nodes;
	int index; /* the lab's slot: subnet 198.18.0.0 + index * 512, /23 */
	char state[16]; /* "building" while lab up runs, then "up" */
};

struct fl_lab_spec {
	const char *name;
	size_t n_nodes;
	const char *const *node_names; /* NULL: n1..nN */
	bool ipv6;
};

/* Checks names (lab <= 16, node <= 12 bytes, [a-z0-9][a-z0-9_-]*),
 * duplicates and the node count (1..256) without touching anything.
 * -EINVAL with err filled. */
int fl_lab_validate(const struct fl_lab_spec *spec, struct fl_err *err);

/* Address plan, the one place it is written down: every address fallacy
 * gives comes from 198.18.0.0/15 (RFC 2544) or fdfa:11ac::/64. Lab slot
 * 0..FL_LAB_MAX_LABS-1, node 0..255. IPv4 198.18.0.0/15 cut into /23s: lab
 * L gets 198.18.0.0 + L*512 and node K (0-based) gets host K+1 in it. IPv6
 * fdfa:11ac::L:K+1/64. */
#define FL_LAB_NET4 0xc6120000u /* 198.18.0.0, host byte order */
#define FL_LAB_NET4_LEN 15
#define FL_LAB_NET6                    \
	{                              \
		0xfd, 0xfa, 0x11, 0xac \
	} /* fdfa:11ac::, the rest zero */
#define FL_LAB_SUBNET6 "fdfa:11ac::/64"
#define FL_LAB_MAX_LABS 256
#define FL_LAB_PREFIX4_LEN 23
#define FL_LAB_PREFIX6_LEN 64
int fl_lab_addr4(int lab, int node, struct in_addr *net, struct in_addr *host);
void fl_lab_addr6(int lab, int node, struct in6_addr *host);
/* fdfa:11ac::/64 (its FL_LAB_PREFIX6_LEN bits). */
extern const struct in6_addr fl_lab_net6;

/* Set from a signal handler (SIGINT/SIGTERM): fl_lab_up stops after the
 * current node, removes what it made and returns -EINTR. */
extern volatile sig_atomic_t fl_lab_interrupted;

/* Validate everything first (names, sizes, uniqueness) and fail with
 * -EINVAL/-EEXIST and a message before creating anything. */
int fl_lab_up(const struct fl_lab_spec *spec, struct fl_lab **out);
/* The description of a lab as fl_lab_up would make it (slot 0), made in
 * memory only: for validating node names in faults before anything
 * exists (`fallacy run --dry-run`). Free with fl_lab_free. */
int fl_lab_plan(const struct fl_lab_spec *spec, struct fl_lab **out, struct fl_err *err);
/* Load RUN_DIR/NAME/lab. -ENOENT (and a message) if there is no such lab. */
int fl_lab_load(const char *name, struct fl_lab **out);
int fl_lab_down(const char *name);
void fl_lab_free(struct fl_lab *lab);
/* NULL if absent. */
const struct fl_node *fl_lab_node(const struct fl_lab *lab, const char *name);
/* "n1, n2, n3" (the first 8 and the last when there are more): for the
 * message about a node the lab does not have. */
void fl_lab_nodes_text(const struct fl_lab *lab, char *buf, size_t len);

/* In a forked child: enter a namespace of fallacy's (a lab node's
 * fl-LAB.NODE) with its /etc/netns/NAME files bound over /etc (its hosts
 * view) and /sys remounted, as `ip netns exec` does, and execvp argv.
 * Returns only on error (-errno). */
int fl_lab_exec(const char *netns, char *const argv[]);

/* ---- wrap namespaces --------------------------------------------------
 * The network namespace of a `fallacy wrap` session: lo up, and with
 * extra addresses 198.18.0.1/15 and fdfa:11ac::1/64 on lo so that servers
 * binding a non-loopback address work. On a loopback device the kernel
 * makes the whole prefix local, so any 198.18.x.y can be bound; all of it
 * travels over lo and through lo's fault point. */
#define FL_WRAP_ADDR4 "198.18.0.1" /* fl_lab_addr4(0, 0) (test_lab.c checks) */
#define FL_WRAP_PLEN4 FL_LAB_NET4_LEN
#define FL_WRAP_ADDR6 "fdfa:11ac::1" /* fl_lab_addr6(0, 0) */
#define FL_WRAP_PLEN6 FL_LAB_PREFIX6_LEN

struct fl_wrapns_opts {
	bool extra_addrs; /* 198.18.0.1/15 and fdfa:11ac::1/64 on lo */
	/* > 0: lo's MTU (rate caps: a 64 KiB loopback packet is too coarse
	 * for a 10 Mbit/s token bucket, measured 4.2 Mbit/s of 10 at MTU
	 * 65536, 9.96 at 16384) */
	unsigned int lo_mtu;
	/* accept IPv4 loopback packets that re-enter lo without their route
	 * (the data plane's duplicates): route_localnet=1 and accept_local=1
	 * on lo, else the copy of a 127.0.0.1 packet dies as a martian */
	bool loopback_copies;
};

/* Create the namespace NETNS of a wrap session (journaled in st first: an
 * existing NETNS is somebody else's, -EEXIST and nothing is recorded),
 * bring lo up inside and apply opts. Everything else in it goes away with
 * the namespace, so nothing more needs undoing. */
struct fl_state;
int fl_wrapns_create(struct fl_state *st, const char *netns, const struct fl_wrapns_opts *opts);

/* The MTU wrap gives lo when a rate cap may apply. */
#define FL_WRAP_RATE_MTU 16384

/* In a forked child, before dropping privileges and exec: enter the
 * namespace, make the mount namespace private (only the network and the
 * mount namespace change), remount /sys so it shows this namespace's
 * interfaces, and bind `hosts` over /etc/hosts when it is not NULL. */
int fl_wrapns_enter_child(const char *netns, const char *hosts);

#endif
