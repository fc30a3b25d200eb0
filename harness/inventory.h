/* SPDX-License-Identifier: MIT */
/* Inventories (docs/kubernetes.md, docs/agent.md): where a scenario's
 * nodes are when they are not a lab on this machine, and how to reach
 * the agent of each. Either a list of hosts, each reached over ssh (or
 * this host's own agent) with its target there, or a Kubernetes selector
 * whose pods are reached through the agent pod of their node:
 *
 *	hosts:
 *	  - {name: h1, ssh: root@h1, netns: db}
 *	  - {name: h2, ssh: root@h2, ssh_options: [Port=2222], pid: 4242, node: n2,
 *	     address: 198.18.0.2}
 *	kubernetes: {namespace: db, selector: app=etcd, context: kind-lab}
 *
 *	struct fl_inventory *inv;
 *	fl_inventory_load("inv.yaml", NULL, &inv, &err);     // FILE:LINE:COL errors
 *	fl_inventory_map(inv, 3, nodes, &err);               // hosts: n1..n3
 *	fl_inventory_resolve(inv, 3, nodes, &err);           // kubernetes: kubectl get pods
 *	fl_inventory_carrier(&nodes[0], &carrier);           // its agent
 */
#ifndef FALLACY_INVENTORY_H
#define FALLACY_INVENTORY_H

#include <stdbool.h>

#include "carrier.h"
#include "log.h"

/* Hosts or pods one inventory maps at most. */
#define FL_INV_MAX 64

enum fl_inv_via { FL_INV_LOCAL, FL_INV_SSH, FL_INV_KUBECTL };

struct fl_inv_host {
	char *name;
	enum fl_inv_via via; /* LOCAL or SSH */
	char *ssh; /* USER@HOST */
	char **opts; /* "-o", OPT, ... NULL-terminated (or NULL) */
	char *remote; /* the agent's command, or NULL */
	char *target; /* the agent's target, JSON: {"netns":"db"} */
	int node; /* 1-based: `node: n2`; 0 by role or ordinal */
	char *role; /* `role: primary`: a node of the target's with that role */
	char address[48]; /* `address: 198.18.0.2`: where its target listens, or "" */
	int line; /* where it is written */
};

struct fl_inventory {
	char *file;
	bool kubernetes;
	struct fl_inv_host host[FL_INV_MAX];
	int n;
	struct {
		char *ns, *selector, *context; /* the pods under test */
		char *agent_ns, *agent_selector; /* the agents' DaemonSet */
		char *remote;
		char *role_label; /* a pod's role: the value of this label */
	} k8s;
};

/* One scenario node, where it is. */
struct fl_inv_node {
	char node[16]; /* n1 */
	char host[256]; /* the host's name, or the pod's node */
	char pod[256]; /* kubernetes: the pod */
	char agent[256]; /* kubernetes: the agent pod on its node */
	char target[320]; /* the target for the agent, JSON */
	const char *role; /* the target's role of the node, or NULL */
	char address[48]; /* the host's address:, the pod's status.podIP, or "" */
	enum fl_inv_via via;
	const struct fl_inv_host *h; /* hosts: its entry */
};

/* Parse an inventory (text NULL: read file). 0, or -EINVAL with
 * "FILE:LINE:COL: message", -errno for an unreadable file. */
int fl_inventory_load(const char *file, const char *text, struct fl_inventory **out,
		      struct fl_err *err);
void fl_inventory_free(struct fl_inventory *inv);

/* hosts: scenario nodes n1..nodes (0: as many as hosts) to hosts, a host
 * with `node: nK` at K, one with `role: R` at the first free node whose
 * role (roles[i], the target's; roles NULL: none known) is R, the others
 * in their order. The number mapped, or -EINVAL with a message at the
 * inventory's line. */
int fl_inventory_map(const struct fl_inventory *inv, int nodes, const char *const *roles,
		     struct fl_inv_node *out, struct fl_err *err);
/* kubernetes: nodes n1.. to the pods of `kubectl get pods -o json` text
 * pods (Running ones, by name, numbers compared as numbers), each with
 * the agent pod of its node from agents (the same, for the DaemonSet's
 * pods). With role_label, a node of role roles[k] takes the first pod
 * left whose label has that value, the others by name. The number
 * mapped, or -EINVAL with a message. */
int fl_inventory_pods(const struct fl_inventory *inv, const char *pods, const char *agents,
		      int nodes, const char *const *roles, struct fl_inv_node *out,
		      struct fl_err *err);
/* Either: hosts mapped, or the pods listed with kubectl and mapped. */
int fl_inventory_resolve(const struct fl_inventory *inv, int nodes, const char *const *roles,
			 struct fl_inv_node *out, struct fl_err *err);
/* The carrier to node n's agent (not open). */
int fl_inventory_carrier(const struct fl_inventory *inv, const struct fl_inv_node *n,
			 struct fl_carrier **out);

#endif
