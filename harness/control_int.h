/* SPDX-License-Identifier: MIT */
/* Inside the control handler: the request as read, and the pieces the
 * agent's verbs (control_agent.c) share with the socket's (control.c). */
#ifndef FALLACY_CONTROL_INT_H
#define FALLACY_CONTROL_INT_H

#include "control.h"
#include "json.h"
#include "yaml.h"

#define CTL_MAX_WORDS 250

/* One request as read. */
struct fl_ctl_req {
	struct fl_ydoc *doc;
	const char *verb;
	const struct fl_ynode *seq, *fault, *target, *faults, *capture;
	const char *id, *lease;
	char *words; /* the fault's words, split in place */
	char *argv[CTL_MAX_WORDS + 8];
	int argc;
};

/* {"ok":...,"seq":...,"verb":...  and  }\n */
void fl_ctl_open(struct fl_out *o, const struct fl_ctl_req *r, bool ok);
void fl_ctl_close(struct fl_out *o);
/* A refusal line; returns -EINVAL. */
int fl_ctl_refuse(struct fl_out *o, const struct fl_ctl_req *r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The words of node n (a string of words or a list of strings) into argv
 * (at most CTL_MAX_WORDS, NULL-terminated); *buf is malloc'ed for a
 * string. */
int fl_ctl_words(const struct fl_ydoc *doc, const struct fl_ynode *n, char **buf, char **argv,
		 int *argc, struct fl_err *err);
/* Parse and check fault words as `fault add` would, for c's session. */
int fl_ctl_parse(struct fl_ctl *c, int argc, char **argv, struct fl_fault *f, struct fl_err *err);
/* Add f (a seed chosen when it has none) and own it, with key (copied,
 * may be NULL). 0, or the session's status with *msg. */
int fl_ctl_add(struct fl_ctl *c, struct fl_fault *f, const char *key, char **out, char **msg);
/* Delete our fault i (healed, or expired before). */
int fl_ctl_del(struct fl_ctl *c, int i, char **msg);
/* Our faults as `fault list -j` prints them, on one line, into *out
 * ("[]" for none). The session's status, with *msg. */
int fl_ctl_list(struct fl_ctl *c, char **out, char **msg);
int fl_ctl_own_find(const struct fl_ctl *c, const char *id);
void fl_ctl_own_sync(struct fl_ctl *c);

/* The socket's verbs, on handler c (the agent's, on a target's). */
int fl_ctl_dispatch(struct fl_ctl *c, struct fl_out *o, struct fl_ctl_req *r);
/* The agent's: routed by r->target, or targets/version/list of all. */
int fl_ctl_agent_dispatch(struct fl_ctl *c, struct fl_out *o, struct fl_ctl_req *r);
/* Is verb one of the agent's own (targets, put, renew, reset)? */
bool fl_ctl_agent_verb(const char *verb);
/* Is verb one the agent refuses (add, change, clear: it takes whole sets)? */
bool fl_ctl_agent_refused(const char *verb);

#endif
