/* SPDX-License-Identifier: MIT */
/* Node selectors: what a scenario names instead of n1..n3, so that one
 * scenario runs against any target, of any size and any node names.
 *
 *   all          every node
 *   one          one node, picked at random (seeded); in a field that takes
 *                one node, one that the step's other node fields do not
 *                name (inject's `to: one, from: leader`: two nodes)
 *   minority     (n-1)/2 nodes at random: fewer than half
 *   majority     n/2+1 nodes at random: more than half
 *   leader       the first node the target's `leader:` command names, asked
 *                when the step runs
 *   primaries    every node the `leader:` command names
 *   followers    every node the `leader:` command does not name
 *   follower     one of the followers, picked by the seed alone: the same
 *                node at every step of a run while the followers are the
 *                same (steps can name one node together: leave it, route
 *                through it, ...)
 *   left         the nodes that have left the lab (a topology leave): what
 *                a `join` brings back
 *   picked:ID    the nodes step ID's node fields resolved to when it ran
 *                (all its fields; a partition's first group), the same
 *                nodes even if the leader has changed since: `leave:
 *                follower` as step `gone`, later `route: {via: picked:gone}`
 *   rest         the nodes no other node field of the same step names
 *   ROLE         the nodes of a role of the target (roles: in the target)
 *   {{ip:SEL}}   (a single-node field) the address of the one node SEL
 *                picks ({{ip6:SEL}}: its IPv6 address), fixed when the
 *                step runs
 *   n2, db1      a node by its name
 *   random-halves, ring   (partition groups only) two random halves;
 *                every node sees a majority and no two see the same one
 *
 * Nodes that left the lab (a topology `leave`) are skipped by every
 * keyword and role: `all`, `majority`, `replica` count the nodes there
 * now; a node named explicitly still resolves (its step then says it
 * left). Items are joined with commas (`leader,n3`). Random picks come from a
 * PRNG keyed by (seed, salt, field), so the same seed selects the same
 * nodes. */
#ifndef FALLACY_SELECT_H
#define FALLACY_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

#define FL_SEL_MAX_NODES 64
#define FL_SEL_MAX_GROUPS 16 /* = FL_GROUPS_MAX of the partition kind */

typedef uint64_t fl_nodeset; /* bit i: node i */

#define FL_SEL_MAX_PICKS 64
#define FL_SEL_ID_MAX 32

/* What the steps of a run (or of its plan) picked, for picked:ID. */
struct fl_sel_picks {
	size_t n;
	struct {
		char id[FL_SEL_ID_MAX + 1];
		fl_nodeset set;
	} p[FL_SEL_MAX_PICKS];
};
/* Remember (or replace) what step id picked. */
void fl_sel_remember(struct fl_sel_picks *pk, const char *id, fl_nodeset set);

struct fl_sel_env {
	size_t n;
	const char *names[FL_SEL_MAX_NODES];
	const char *roles[FL_SEL_MAX_NODES]; /* NULL: the node has no role */
	fl_nodeset gone; /* nodes that left the lab: no selector picks them */
	uint64_t seed;
	const char *target; /* the target's name, for messages */
	bool has_leader; /* the target has a leader: command */
	/* Ask the leader: command now: order[] gets the indexes of the nodes
	 * its output names, the leader first. NULL while planning: leader and
	 * primaries then stand for the first node. */
	int (*leader)(void *arg, size_t *order, size_t *n, struct fl_err *err);
	void *arg;
	/* the steps' picks so far, filled by the step resolver; NULL: picked:ID
	 * is not available here (a check's node) */
	struct fl_sel_picks *picks;
};

/* A PRNG stream for one node field of one step (splitmix64). */
struct fl_sel_rng {
	uint64_t s;
};
void fl_sel_rng_init(struct fl_sel_rng *r, uint64_t seed, uint64_t salt, uint64_t field);
uint64_t fl_sel_rng_next(struct fl_sel_rng *r);
/* The stream of a command check's node: (check: its index in the
 * scenario), the same when planned and when run. */
void fl_sel_rng_check(struct fl_sel_rng *r, uint64_t seed, size_t check);

/* Is w (one item) a selector keyword (all, one, ..., ring)? */
bool fl_sel_is_keyword(const char *w);
/* Does the comma list expr use a keyword or a role of e (anything that is
 * not a node name or an address)? */
bool fl_sel_has_selector(const struct fl_sel_env *e, const char *expr);
/* Does expr name leader, primaries, follower or followers? */
bool fl_sel_needs_leader(const char *expr);
/* Group selectors, valid as a whole partition only. */
bool fl_sel_is_group_keyword(const char *w);

/* Resolve a comma list into a node set. rest: what `rest` stands for.
 * An item that is no node, role or keyword: an error when it is close to
 * one ("did you mean"), else it is left to the caller (*unknown set) so
 * that the data plane's own message names it. */
int fl_sel_nodes(const struct fl_sel_env *e, const char *expr, struct fl_sel_rng *rng,
		 fl_nodeset rest, fl_nodeset *out, bool *unknown, struct fl_err *err);
/* random-halves or ring into node groups. */
int fl_sel_groups(const struct fl_sel_env *e, const char *kw, struct fl_sel_rng *rng,
		  fl_nodeset *groups, size_t *n, struct fl_err *err);

/* A process request ("kill leader sentinel": ACTION NODES [PROCESS]), as
 * `fallacy process` sends it to a run; line is cut into words in place.
 * -EINVAL (err) on anything else. */
struct fl_proc_req {
	const char *action, *nodes, *process; /* process: NULL for every one */
};
int fl_proc_req_parse(char *line, struct fl_proc_req *req, struct fl_err *err);

/* k random nodes of set. */
fl_nodeset fl_sel_pick(const struct fl_sel_env *e, fl_nodeset set, size_t k,
		       struct fl_sel_rng *rng);
/* "n1,n3" */
void fl_sel_format(const struct fl_sel_env *e, fl_nodeset s, char *buf, size_t len);
/* Every node of e that is in the lab (not gone). */
fl_nodeset fl_sel_all(const struct fl_sel_env *e);
/* The index of node or role name (the first node of a role still in the
 * lab), -1 if none. */
int fl_sel_index(const struct fl_sel_env *e, const char *name);
/* Is name a role of e? */
bool fl_sel_is_role(const struct fl_sel_env *e, const char *name);

#endif
