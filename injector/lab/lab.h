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
#include <stdint.h>
#include <signal.h>

#include "log.h"

#define FL_LAB_NAME_MAX 16
#define FL_NODE_NAME_MAX 12
#define FL_LAB_MAX_NODES 256
#define FL_LAB_MAX_ROUTES 64

/* A node's address families. */
#define FL_NODE_V4 1u
#define FL_NODE_V6 2u
#define FL_NODE_DUAL (FL_NODE_V4 | FL_NODE_V6)

struct fl_node {
	char name[FL_NODE_NAME_MAX + 1];
	char netns[64]; /* fl-LAB.NODE */
	char port[IFNAMSIZ]; /* p-NODE, in the wire namespace */
	/* The node's id in the lab, 0..255: its bit in fault node sets, its
	 * entry in the data plane's node map, its MAC. A node that leaves keeps
	 * its id (in lab->gone), so one that rejoins under the same name is
	 * the same node to every fault. */
	int index;
	unsigned int fam; /* FL_NODE_V4 | FL_NODE_V6 */
	unsigned int host; /* host number in the address plan (fl_lab_host4/6) */
	unsigned int mtu; /* eth0's MTU (both ends of the veth); 0 = 1500 */
	struct in_addr ip4; /* with FL_NODE_V4 */
	struct in6_addr ip6; /* with FL_NODE_V6 */
};

/* `fallacy route LAB --from A --to B --via C`: A's packets to B go
 * through C (a host route on A, forwarding on C). */
struct fl_route {
	char from[FL_NODE_NAME_MAX + 1];
	char to[FL_NODE_NAME_MAX + 1];
	char via[FL_NODE_NAME_MAX + 1];
};

struct fl_lab {
	char name[FL_LAB_NAME_MAX + 1];
	char wire_netns[64]; /* fl-LAB */
	char bridge[IFNAMSIZ]; /* inside the wire namespace */
	bool ipv6; /* nodes are dual-stack unless they say otherwise */
	int prefix4_len; /* the lab's IPv4 subnet length */
	struct in_addr net4; /* the lab's IPv4 subnet */
	size_t n_nodes;
	struct fl_node *nodes; /* room for FL_LAB_MAX_NODES */
	size_t n_gone;
	struct fl_node *gone; /* nodes that left: name and id kept */
	unsigned int next_host; /* where the search for a free host number starts */
	size_t n_routes;
	struct fl_route routes[FL_LAB_MAX_ROUTES];
	int index; /* the lab's slot: subnet 198.18.0.0 + index * 512, /23 */
	char state[16]; /* "building" while lab up runs, then "up" */
};

struct fl_lab_spec {
	const char *name;
	size_t n_nodes;
	const char *const *node_names; /* NULL: n1..nN */
	bool ipv6;
	/* per node FL_NODE_V4|V6, or NULL: dual-stack with ipv6, else IPv4 */
	const unsigned int *node_fam;
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
/* The same plan by host number: the nodes of lab up get hosts 1..N; a node
 * that joins and an address that changes take the next free host number
 * after the last one given (wrapping), up to FL_LAB_HOST_MAX: the /23's
 * last usable host (510) is kept for the source fallacy inject forges by
 * default. IPv4 net + host, IPv6 fdfa:11ac::L:host. */
#define FL_LAB_HOST_MAX 509
int fl_lab_host4(int lab, unsigned int host, struct in_addr *a);
void fl_lab_host6(int lab, unsigned int host, struct in6_addr *a);
/* The host number of an address of the lab, 0 if it is none. */
unsigned int fl_lab_host_of(const struct fl_lab *lab, int family, const void *addr);
/* eth0's MAC, fixed for the node's life: 02:fa:11:LAB:ID/256:ID%256. The
 * data plane knows nodes by it, so a new address changes nothing there. */
void fl_lab_node_mac(const struct fl_lab *lab, const struct fl_node *n, unsigned char mac[6]);
/* Does any node of the lab have IPv6? */
bool fl_lab_has6(const struct fl_lab *lab);
/* "4", "6" or "46" (dual) */
const char *fl_node_fam_name(unsigned int fam);

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
/* A node that left the lab (its id kept), NULL if none. */
const struct fl_node *fl_lab_gone(const struct fl_lab *lab, const char *name);
/* A deep copy. */
struct fl_lab *fl_lab_dup(const struct fl_lab *lab);

/* ---- live topology changes --------------------------------------------
 * One change as typed data: parsed from the words of a request (the CLI,
 * a scenario step and the supervisor all use fl_topo_parse), checked
 * against a lab, printed back as the same words. The kernel work is done
 * by the lab's supervisor (supervisor/session.h: fl_topo_request). */
enum fl_topo_op {
	FL_TOPO_LINK, /* link NODE down|up */
	FL_TOPO_FLAP, /* flap NODE --period P [--count N] [--down-for D] */
	FL_TOPO_JOIN, /* join NODE [--ipv4-only|--ipv6-only] [--ipv4 A] [--ipv6 A] */
	FL_TOPO_LEAVE, /* leave NODE */
	FL_TOPO_READDRESS, /* readdress NODE [--ipv4 A] [--ipv6 A] */
	FL_TOPO_MTU, /* mtu NODE M */
	FL_TOPO_ROUTE, /* route --from A --to B --via C | --direct */
};

struct fl_topo {
	enum fl_topo_op op;
	char node[FL_NODE_NAME_MAX + 1];
	bool up; /* link */
	uint64_t period_ns; /* flap: a down/up cycle */
	uint64_t down_ns; /* flap: how long each down lasts; 0 = half the period */
	uint32_t count; /* flap: cycles; 0 = until `link NODE up` */
	unsigned int fam; /* join: FL_NODE_*; 0 = the lab's default */
	bool has4, has6; /* join, readdress: addresses given */
	struct in_addr ip4;
	struct in6_addr ip6;
	unsigned int mtu;
	char from[FL_NODE_NAME_MAX + 1], to[FL_NODE_NAME_MAX + 1];
	char via[FL_NODE_NAME_MAX + 1]; /* route: "" = --direct */
};

#define FL_MTU_MIN4 68
#define FL_MTU_MIN6 1280
#define FL_MTU_MAX 65535

/* argv[0] is the verb (link, flap, join, leave, readdress, mtu, route).
 * Checks the form only; -EINVAL with err. */
int fl_topo_parse(int argc, char **argv, struct fl_topo *t, struct fl_err *err);
/* Against the lab as it is now: nodes exist (or not, for join), families
 * and addresses fit, MTU range. -EINVAL/-ENOENT/-EEXIST with err. */
int fl_topo_check(const struct fl_topo *t, const struct fl_lab *lab, struct fl_err *err);
/* The change made to lab in memory only (no kernel): join adds the node
 * (id, host number, addresses), leave moves it to lab->gone, readdress
 * picks the new addresses, mtu and route are recorded. Checks first. */
int fl_topo_plan(struct fl_lab *lab, const struct fl_topo *t, struct fl_err *err);
/* The processes in node n's namespace: SIGTERM, up to grace_ns, SIGKILL
 * (what a machine's shutdown does). Finding them reads /proc/PID/ns/net,
 * which needs CAP_SYS_PTRACE for processes with capabilities the caller
 * lacks: a lab's supervisor has dropped it (docs/security.md), so the
 * client that asks for a leave (root, `fallacy node remove` or a run)
 * stops them first; the supervisor's own pass then finds what it can. */
void fl_node_stop_processes(const struct fl_node *n, uint64_t grace_ns);
#define FL_NODE_LEAVE_GRACE_NS 2000000000ULL /* SIGTERM -> SIGKILL for a node that leaves */
/* The words again ("link n1 down"); buf is always terminated. */
void fl_topo_format(const struct fl_topo *t, char *buf, size_t len);
const char *fl_topo_verb(enum fl_topo_op op);
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
