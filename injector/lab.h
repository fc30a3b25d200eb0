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

/* Address plan: lab slot 0..FL_LAB_MAX_LABS-1, node 0..255.
 * IPv4 198.18.0.0/15 cut into /23s: lab L gets 198.18.0.0 + L*512 and node
 * K (0-based) gets host K+1 in it. IPv6 fdfa:11ac::L:K+1/64. */
#define FL_LAB_MAX_LABS 256
#define FL_LAB_PREFIX4_LEN 23
#define FL_LAB_PREFIX6_LEN 64
int fl_lab_addr4(int lab, int node, struct in_addr *net, struct in_addr *host);
void fl_lab_addr6(int lab, int node, struct in6_addr *host);

/* Set from a signal handler (SIGINT/SIGTERM): fl_lab_up stops after the
 * current node, removes what it made and returns -EINTR. */
#include <signal.h>
extern volatile sig_atomic_t fl_lab_interrupted;

/* Validate everything first (names, sizes, uniqueness) and fail with
 * -EINVAL/-EEXIST and a message before creating anything. */
int fl_lab_up(const struct fl_lab_spec *spec, struct fl_lab **out);
/* Load RUN_DIR/NAME/lab. -ENOENT (and a message) if there is no such lab. */
int fl_lab_load(const char *name, struct fl_lab **out);
int fl_lab_down(const char *name);
void fl_lab_free(struct fl_lab *lab);
/* NULL if absent. */
const struct fl_node *fl_lab_node(const struct fl_lab *lab, const char *name);

#endif
