/* SPDX-License-Identifier: MIT */
/* A scenario run over an inventory (`fallacy run --inventory FILE`,
 * docs/agent.md "Running a scenario over an inventory"): no lab; the
 * scenario's nodes are the inventory's hosts or pods, their addresses the
 * inventory's; the probes run where the run runs; the timeline's fault and
 * partition steps become each node's whole fault set, put through its
 * agent (struct fl_agents) with a lease that a thread of the run renews,
 * reset at the end.
 *
 * A step's words name nodes (--from n1, --to n2, --node n3, partition
 * groups); fl_invrun_translate turns them into the faults of each node's
 * agent, where the packets arrive (--dir in, --from the sender's
 * address), as a network drops them (KERNEL-NOTES: a drop on the sender's
 * own egress is an error its socket retries):
 *
 *	loss 10%                       every node: loss 10% --dir in
 *	delay 50ms --from n1 --to n2   n2: delay 50ms --from ADDR1 --dir in
 *	loss 5% --to n2                n2: loss 5% --dir in
 *	loss 5% --node n2              n2: --dir in; the others: --from ADDR2 --dir in
 *	partition n1 n2,n3             n1: partition --from ADDR2 --dir in, --from ADDR3;
 *	                               n2 and n3: partition --from ADDR1 --dir in
 *	loss 5% --to 198.18.9.0/24     (outside) every node: --to it --dir out
 *
 * Each fault gets --id STEP (STEP-K when the step gives a node several)
 * and the run's --seed unless it has one. */
#ifndef FALLACY_INVRUN_H
#define FALLACY_INVRUN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "agents.h"
#include "inventory.h"
#include "log.h"

struct fl_out;
struct fl_step;
struct fl_scenario;

/* The lease of every put when the run is given none (--lease). */
#define FL_INVRUN_LEASE_NS (10ULL * 1000000000ULL)

/* Faults one step gives one node at most; all steps' on one node. */
#define FL_INVRUN_STEP_MAX 64
#define FL_INVRUN_NODE_MAX 128

/* One step's faults, per node: words of `fault add`, malloc'ed. */
struct fl_invrun_faults {
	char *f[FL_INV_MAX][FL_INVRUN_STEP_MAX];
	int n[FL_INV_MAX];
};

/* The words of one step (its node fields resolved to node names) into
 * each node's faults: names[i] is node i, addrs[i] its address. 0, or
 * -EINVAL with a message (a node not in the inventory, --dir, --duration,
 * --id or --profile in the words: the run chooses those). */
int fl_invrun_translate(char *const *argv, int argc, const char *id, uint64_t seed,
			const char *const *names, const char *const *addrs, int n,
			struct fl_invrun_faults *out, struct fl_err *err);
void fl_invrun_faults_free(struct fl_invrun_faults *f);

/* Can sc run over an inventory? Its steps are fault, partition and heal
 * only (the others change a lab or act on processes the run started);
 * no capture. "FILE:LINE:COL: message" for the first that cannot. */
int fl_invrun_check(const struct fl_scenario *sc, struct fl_err *err);

struct fl_invrun {
	struct fl_inventory *inv;
	struct fl_inv_node node[FL_INV_MAX];
	const char *names[FL_INV_MAX]; /* the run's node names, n1.. */
	const char *addrs[FL_INV_MAX];
	int n;
	struct fl_agents agents;
	uint64_t lease_ns;
	pthread_mutex_t lock; /* puts, renewals, the sets below */
	struct {
		char id[40];
		char *words;
	} set[FL_INV_MAX][FL_INVRUN_NODE_MAX]; /* each node's faults now */
	int n_set[FL_INV_MAX];
	struct {
		char id[40];
		uint64_t nodes; /* the nodes the step put faults on */
	} steps[256];
	int n_steps;
	pthread_t renewer;
	bool renewing;
	pthread_cond_t cond;
	bool stop;
	int lost; /* renewals refused or lost */
	char cap[FL_INV_MAX][16]; /* each node's capture id on its agent, or "" */
};

/* The inventory FILE mapped onto the run's nodes (names[i], roles[i]);
 * every node needs an address. 0, or -errno with a message. */
int fl_invrun_open(const char *file, int n, const char *const *names, const char *const *roles,
		   uint64_t lease_ns, struct fl_invrun **out, struct fl_err *err);
/* Add step st's faults (words resolved) to the nodes' sets and put every
 * changed node's set; all acknowledged before it returns (the step's
 * start barrier). A node that refuses, or whose agent is lost: the nodes
 * put before it get their previous set again, -EIO with the answer. */
int fl_invrun_apply(struct fl_invrun *r, const struct fl_step *st, uint64_t seed,
		    struct fl_err *err);
/* Remove step id's faults from every node, put the changed sets. */
int fl_invrun_heal(struct fl_invrun *r, const char *id, struct fl_err *err);
/* "host": [the hosts step id put faults on] into an event. */
void fl_invrun_event(struct fl_invrun *r, const char *id, struct fl_out *o);
/* --capture: a capture of iface (NULL: eth0) on every node's target,
 * by its agent, until fl_invrun_capture_stop; 0 or -errno with err. */
int fl_invrun_capture_start(struct fl_invrun *r, const char *iface, struct fl_err *err);
/* Stop every node's capture and fetch its pcap into DIR/NODE.pcap (the
 * file streamed back in base64 pieces); each node's file and bytes into
 * done(arg, node, file, bytes). The number of nodes whose capture was
 * lost. */
int fl_invrun_capture_stop(struct fl_invrun *r, const char *dir,
			   void (*done)(void *arg, const char *node, const char *file,
					uint64_t bytes),
			   void *arg);
/* Renew every put each lease/3 from a thread, until fl_invrun_close. */
int fl_invrun_renew_start(struct fl_invrun *r);
/* Stop renewing, reset every agent's faults, close them; free r. The
 * number of resets refused or lost. */
int fl_invrun_close(struct fl_invrun *r);

#endif
