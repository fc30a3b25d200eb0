/* SPDX-License-Identifier: MIT */
/* The agents of an inventory's nodes, for a controller (docs/kubernetes.md):
 * each node's agent opened through its carrier on first use, a put of a
 * node's whole fault set with a lease, renewals of every put, and a reset
 * of them all. The faults of a run's timeline go this way; so do those
 * of `fallacy agent inventory FILE --put`.
 *
 *	struct fl_agents a = { .inv = inv, .node = nodes, .n = n };
 *	fl_agents_put(&a, 0, faults, 2, 10 * NSEC, &answer);   // n1
 *	fl_agents_renew(&a);                                    // every lease/3
 *	fl_agents_reset(&a);                                    // and close
 */
#ifndef FALLACY_AGENTS_H
#define FALLACY_AGENTS_H

#include <stdint.h>

#include "carrier.h"
#include "inventory.h"

struct fl_agents {
	const struct fl_inventory *inv;
	const struct fl_inv_node *node;
	int n;
	struct fl_carrier *c[FL_INV_MAX]; /* open, or NULL */
	uint64_t lease_ns[FL_INV_MAX]; /* of the node's last put; 0: none */
};

/* Put node i's whole fault set (faults: n strings of `fault add` words)
 * with a lease: 0 with the agent's answer (malloc'ed) when done, 1 when
 * the agent refused it (the answer says why), -errno when the agent could
 * not be reached (a message said why). */
int fl_agents_put(struct fl_agents *a, int i, char *const *faults, int n, uint64_t lease_ns,
		  char **answer);
/* One request line to node i's agent (opened on first use): 0 with its
 * answer (malloc'ed), 1 refused (the answer says why), -errno lost. */
int fl_agents_call(struct fl_agents *a, int i, const char *line, char **answer);
/* Open every node's agent and ask its version: 0, or the first error
 * (-EPROTO: an agent that answered no). A run over an inventory does it
 * before its timeline, so a host it cannot reach fails the run before any
 * fault is put, and the first step does not wait for ssh. */
int fl_agents_open(struct fl_agents *a);
/* Renew every node's put: 0, or the number of renewals refused or lost. */
int fl_agents_renew(struct fl_agents *a);
/* Reset every node's put, then close every agent (each then exits). The
 * number of resets refused or lost. */
int fl_agents_reset(struct fl_agents *a);
/* Close every agent without resetting: their faults end with their lease
 * (each agent waits for it, then exits). The worst exit status. */
int fl_agents_close(struct fl_agents *a);

#endif
