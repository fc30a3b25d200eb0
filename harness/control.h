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
	char own[FL_CTL_MAX_FAULTS][FL_FAULT_ID_MAX + 1]; /* ids of our faults */
	int n_own;
	unsigned int next_id; /* c1, c2, ...: ids for faults without --id */
	pthread_mutex_t lock; /* one request at a time */
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

#endif
