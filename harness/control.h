/* SPDX-License-Identifier: MIT */
/* The control protocol (docs/control.md): JSON lines, one request and one
 * answer per line, verbs add, change, del, list, clear, counters and
 * version, fault bodies in the words of `fallacy fault add`.
 *
 * This is the verb handler only: it reads one request line and writes one
 * answer line, and knows nothing of where they come from. The transport
 * is separate: ctlsock.[ch] serves it on a Unix socket (`fallacy wrap
 * --control`, `fallacy lab up --control-user`); `fallacy agent --stdio`
 * serves the same handler on stdin/stdout.
 *
 *	struct fl_ctl *c;
 *	fl_ctl_new(&target, "wrap", &c);         // every fault goes to target
 *	fl_ctl_handle(c, "{\"verb\":\"add\",\"fault\":\"delay 200ms --port 6379\"}",
 *		      len, stdout);               // {"ok":true,"fault":{...}}
 *
 * A handler is scoped: it adds faults to its one session, and change, del,
 * clear, list and counters see only the faults it added itself (a wrap's
 * own --delay, a lab's faults from the shell are not the test code's). */
#ifndef FALLACY_CONTROL_H
#define FALLACY_CONTROL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "faults/fault.h"
#include "supervisor/session.h"

/* The protocol's version: answers of "version" carry it; a client may
 * refuse a server it does not know. */
#define FL_CTL_PROTOCOL 1
/* The longest request line, newline excluded. */
#define FL_CTL_LINE_MAX 65536
/* Faults one handler may own at once. */
#define FL_CTL_MAX_FAULTS 256

struct fl_ctl;
struct fl_out;
struct fl_err;

/* A capture request of the agent's (docs/agent.md): start one on a
 * target's interface, or stop capture id. */
struct fl_ctl_capture {
	bool start; /* else stop, or fetch */
	bool fetch; /* a piece of the file (docs/agent.md) */
	uint64_t offset; /* fetch: from this byte */
	const char *id; /* stop, fetch */
	const char *iface, *filter; /* start; filter may be NULL */
	uint64_t duration_ns; /* start: it stops by itself after this long */
};

/* `fallacy agent` (agent.h): one handler in front, routing each request
 * by its "target" member to a handler of that target's own (made on the
 * first put), and serving the verbs targets, put, renew and reset.
 * Handlers without a router refuse those. */
struct fl_ctl_router {
	/* The handler of target t, made on first use (a handler left with
	 * no faults after a request is forgotten). 0 or -errno with err. */
	int (*route)(struct fl_ctl *c, const struct fl_target *t, struct fl_ctl **tc,
		     struct fl_err *err);
	/* The i-th target's handler, NULL past the last. */
	struct fl_ctl *(*each)(struct fl_ctl *c, int i);
	/* Print the members of a "targets" answer: what the agent can see. */
	void (*targets)(struct fl_ctl *c, struct fl_out *o);
	/* Start or stop a capture on tc's namespace; prints the members of
	 * the "capture" answer into o. 0, or -errno with err. */
	int (*capture)(struct fl_ctl *c, struct fl_ctl *tc, const struct fl_ctl_capture *q,
		       struct fl_out *o, struct fl_err *err);
	/* The pod uid ({"pod": UID}) on this host: the pid whose namespace
	 * is the pod's, and that namespace open (*nsfd, held by the target's
	 * handler). 0, or -errno with err. May be NULL: pods are refused. */
	int (*pod)(struct fl_ctl *c, const char *uid, pid_t *pid, int *nsfd, struct fl_err *err);
	/* tc holds nothing of ours any more: drop it (and free it). */
	void (*forget)(struct fl_ctl *c, struct fl_ctl *tc);
};

/* What the handler asks of the session (the default: the session API of
 * supervisor/session.h); unit tests and fuzzers put fakes here. Each
 * returns a status (0 ok, else failed) and may set *out (JSON) and *msg
 * (the message of a failure), malloc'ed. */
struct fl_ctl_ops {
	int (*add)(struct fl_ctl *c, const struct fl_fault *f, char **out, char **msg);
	/* argv: the words of a session request ("change ID KIND...", "del ID",
	 * "list ID..."): *out is the JSON `fault list -j` prints for list */
	int (*request)(struct fl_ctl *c, int argc, char **argv, char **out, char **msg);
	int (*stats)(struct fl_ctl *c, struct fl_fault_stat **v, int *n);
};

struct fl_ctl {
	struct fl_target target; /* the session */
	const char *scope; /* "wrap", "lab": for messages */
	const struct fl_ctl_ops *ops;
	/* adapt a parsed fault before it is added (wrap: the loopback hook,
	 * the wrap's seed); NULL: as written */
	void (*adapt)(struct fl_ctl *c, struct fl_fault *f);
	/* after a fault of ours was added, before one is deleted (wrap: events
	 * and counters); may be NULL */
	void (*added)(struct fl_ctl *c, const struct fl_fault *f);
	void (*deleting)(struct fl_ctl *c, const char *id);
	void *arg;
	const struct fl_ctl_router *router; /* fallacy agent, else NULL */
	char own[FL_CTL_MAX_FAULTS][FL_FAULT_ID_MAX + 1]; /* ids of our faults */
	char *key[FL_CTL_MAX_FAULTS]; /* put: each one's words, canonical; or NULL */
	uint64_t lease_ns; /* put: the target's lease, */
	uint64_t lease_due_ns; /* and when it runs out (CLOCK_MONOTONIC; 0: no put) */
	int n_own;
	unsigned int next_id; /* c1, c2, ...: ids for faults without --id */
	pthread_mutex_t lock; /* one request at a time */
	char pod[40]; /* the agent's target named by pod UID, else "" */
	int nsfd; /* that pod's namespace, held while the target is (-1: none) */
};

/* A handler for the session of t; scope names it in messages. */
int fl_ctl_new(const struct fl_target *t, const char *scope, struct fl_ctl **out);
void fl_ctl_free(struct fl_ctl *c);

/* Handle one request line (len bytes, no newline needed) and write one
 * answer line, newline included, to out. Returns 0 when the request was
 * carried out, -EINVAL when it was refused (the answer says why). */
int fl_ctl_handle(struct fl_ctl *c, const char *line, size_t len, FILE *out);
/* The same into a malloc'ed string (*answer, newline-terminated). */
int fl_ctl_answer(struct fl_ctl *c, const char *line, size_t len, char **answer);

/* A target handler's lease ran out: remove every fault it put (and end
 * the session if nothing else is left in it). 0, or -EIO when some fault
 * could not be removed. */
int fl_ctl_expire(struct fl_ctl *tc);

/* put's plan, by canonical words: keep[j] is the index in have of the
 * fault kept for want[j], or -1 to add it; drop[i] is true for a fault of
 * have that no want matches. Each fault of have matches one want at most. */
void fl_ctl_plan(char *const *have, int n_have, char *const *want, int n_want, int *keep,
		 bool *drop);

#endif
