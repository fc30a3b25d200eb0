/* SPDX-License-Identifier: MIT */
/* Timeline step kinds: one table, like the fault kinds. A step kind is its
 * YAML key in a scenario's timeline, a parser that turns the step into the
 * words of the equivalent command (so a resolved scenario prints each step
 * as `KEY: "words"` and loads again), and how to apply and undo it where
 * the timeline runs: a lab (`fallacy run`) or one namespace (`fallacy wrap
 * --scenario`).
 *
 * Add a step kind: one file harness/step_NAME.c defining `const struct
 * fl_step_ops fl_step_NAME`, one line STEP(NAME) in harness/steps.c. The
 * parser, `fallacy run --dry-run`, the resolved scenario, events.jsonl and
 * `heal: all` follow from the table. */
#ifndef FALLACY_STEPS_H
#define FALLACY_STEPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "supervisor/session.h"
#include "yaml.h"

struct fl_step;
struct fl_scenario;
struct fl_sel_env;
struct fl_fault;
struct fl_lab;
struct fl_run;
struct fl_invrun;

/* What a step parser gets: the document (for file:line:col errors) and the
 * scenario so far (the steps before this one). */
struct fl_step_parse {
	const struct fl_ydoc *d;
	struct fl_err *err;
	const struct fl_scenario *sc;
};

/* Where steps act. */
struct fl_step_ctx {
	struct fl_target target; /* the session faults go to: the lab, or wrap's netns */
	const struct fl_lab *lab; /* the lab as it is now (topology steps move it); NULL in wrap */
	const struct fl_lab *lab0; /* the lab as the run started: what heals restore */
	struct fl_run *run; /* NULL in wrap */
	uint64_t seed; /* for faults that give no --seed */
	/* wrap: adapt a fault to the loopback fault point (hook, --port) */
	void (*adapt)(struct fl_step_ctx *c, struct fl_fault *f);
	/* wrap: called before a fault is healed (its counters still there) */
	void (*before_heal)(struct fl_step_ctx *c, const char *id);
	void *arg; /* the caller's */
	/* the nodes, roles and leader: command selectors resolve against
	 * (select.h); NULL: node fields are taken as they are written */
	const struct fl_sel_env *sel;
	/* a run over an inventory (invrun.h): fault and partition steps go
	 * to the nodes' agents; NULL: to target */
	struct fl_invrun *inv;
};

/* What a word of a step names (the selector resolver rewrites it). */
enum fl_step_field {
	FL_FIELD_NONE,
	FL_FIELD_NODES, /* a node list: n1,n2, a role, leader, minority, ... */
	FL_FIELD_NODE, /* one node: a selector that picks several is refused */
	FL_FIELD_GROUPS, /* a partition group; alone, the whole partition */
};

struct fl_step_ops {
	const char *key; /* the timeline key: "fault", "link", ... */
	const char *help; /* one line, for docs/scenarios.md */
	const char *const *extra_keys; /* other keys the step may have (NULL-terminated) */
	bool needs_lab; /* refused by `wrap --scenario` (one namespace, no lab) */
	/* v is the value of the step's key, step the whole step map; fills
	 * st->argv with the words of the equivalent command. */
	int (*parse)(struct fl_step_parse *p, struct fl_step *st, const struct fl_ynode *step,
		     const struct fl_ynode *v);
	/* The event name when applied (NULL: the key). */
	const char *(*event)(const struct fl_step *st);
	int (*apply)(struct fl_step_ctx *c, const struct fl_step *st, struct fl_err *err);
	/* Undo it (heal ID / heal all); counters: a JSON value seen at heal
	 * time, or left empty. NULL: the step leaves nothing to heal. */
	int (*heal)(struct fl_step_ctx *c, const struct fl_step *st, char *counters, size_t len,
		    struct fl_err *err);
	/* Check a parsed step against the lab it will run on (node names);
	 * a step that changes the lab (join, leave, readdress) changes lab,
	 * the plan later steps are checked against. NULL: nothing to check. */
	int (*validate)(const struct fl_step *st, struct fl_lab *lab, struct fl_err *err);
	/* Optional: what healing the step does to that plan (lab0: the lab
	 * the run starts with). */
	void (*plan_heal)(const struct fl_step *st, const struct fl_lab *lab0, struct fl_lab *lab);
	/* Optional, after apply: does the step leave anything to heal? false:
	 * it is not kept active (a join that brought back a node the run
	 * started with). NULL: it does when it has a heal hook. */
	bool (*lasting)(struct fl_step_ctx *c, const struct fl_step *st);
	/* Optional: does the later step end this active one (a node's join
	 * ends its leave, link up ends a flap)? The timeline then records
	 * this one's heal at that moment, done by the later step. */
	bool (*ended_by)(const struct fl_step *st, const struct fl_step *later);
	/* Optional: which words of st->argv name nodes. Those go through the
	 * one resolver (fl_step_resolve) before validate, apply and heal see
	 * the step, so every kind takes selectors the same way. */
	enum fl_step_field (*node_field)(const struct fl_step *st, size_t i);
	/* Optional: the node a step brings into the lab (join), for the
	 * selectors of the steps after it; NULL: none. */
	const char *(*joins)(const struct fl_step *st);
};

extern const struct fl_step_ops *const fl_step_kinds[]; /* NULL-terminated */
extern const struct fl_step_ops fl_step_heal;
extern const struct fl_step_ops fl_step_fault; /* what partition steps become */
bool fl_step_is_heal(const struct fl_step *st);

/* ---- helpers for step parsers -------------------------------------------- */

/* Append one word to st->argv. */
int fl_step_push(struct fl_step *st, const char *w);
/* Split a scalar into words and append them. */
int fl_step_push_words(struct fl_step *st, const char *text);
/* A single, non-null scalar, else an error at v naming key. */
int fl_ystep_scalar(struct fl_step_parse *p, const struct fl_ynode *v, const char *key);
/* "n1" or [n2, n3] -> "n2,n3" */
int fl_ystep_nodes(struct fl_step_parse *p, const struct fl_ynode *v, const char *key, char *buf,
		   size_t len);
/* true or false. */
int fl_ystep_flag(struct fl_step_parse *p, const struct fl_ynode *v, const char *key, bool *on);
/* The earlier step named id (not a heal), or NULL. */
const struct fl_step *fl_step_find(const struct fl_scenario *sc, const char *id);

/* Every step of sc against lab, in order, the way the timeline will run
 * them: its selectors resolved against sel (NULL: words as written; a
 * node that joins is added to a copy, with the role t's roles: give it),
 * then its validate hook on a copy of lab that join, leave and heals
 * change as they will. "FILE:LINE:COL: message" in err. */
struct fl_sut;
int fl_steps_validate(const struct fl_scenario *sc, const struct fl_sel_env *sel,
		      const struct fl_sut *t, const struct fl_lab *lab, struct fl_err *err);

/* ---- selectors ----------------------------------------------------------- */

/* A copy of st whose node fields are resolved against c->sel (selectors
 * into node names; random picks keyed by the seed, st->index and the
 * word; `{{ip:SEL}}` and `{{ip6:SEL}}` into the address c->lab gives the
 * one node SEL picks), as validate, apply and heal get it. A selector
 * that picks several nodes for an FL_FIELD_NODE field is an error naming
 * them. *select (may be NULL) gets
 * what each selector resolved to, a JSON array for events.jsonl, or NULL
 * when the step used none. Free the copy with fl_step_free. */
int fl_step_resolve(const struct fl_step_ctx *c, const struct fl_step *st, struct fl_step **out,
		    char **select, struct fl_err *err);
void fl_step_free(struct fl_step *copy);
/* Before the nodes are known (a scenario file alone): a copy of st whose
 * selector fields are stand-in node names (n1; a whole-partition selector
 * n1 n2; an address template 198.18.0.1), for checking the rest of the
 * words. */
int fl_step_stand_in(const struct fl_step *st, struct fl_step **out);
/* Does st use leader or primaries (it needs the target's leader:)? */
bool fl_step_needs_leader(const struct fl_step *st);

#endif
