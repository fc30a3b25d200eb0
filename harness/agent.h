/* SPDX-License-Identifier: MIT */
/* `fallacy agent --stdio` (docs/agent.md): the control handler
 * (control.h) with a router in front, serving one JSON request per line
 * on a file descriptor and one answer line each on a stream. Requests
 * name their target (a namespace by name or path, a process); each
 * target gets a handler of its own, and its lease: when the controller
 * stops renewing, the agent removes the target's faults (and the faults'
 * own --duration ends them even if the agent is gone).
 *
 *	struct fl_agent *a;
 *	fl_agent_new(&a);
 *	fl_agent_serve(a, 0, stdout);   // until EOF: then leases run out
 *	fl_agent_free(a);
 */
#ifndef FALLACY_AGENT_H
#define FALLACY_AGENT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "control.h"

/* Targets one agent holds faults on at once. */
#define FL_AGENT_MAX_TARGETS 64

/* Captures one agent runs at once. */
#define FL_AGENT_MAX_CAPTURES 16

/* A capture the agent started: `fallacy capture` in a child. */
struct fl_agent_capture {
	char id[16]; /* c1, c2, ... */
	char session[FL_SESSION_NAME_MAX]; /* its target's */
	char file[256];
	pid_t pid;
	int out_fd; /* its stdout: the -j summary */
};

struct fl_agent {
	struct fl_ctl *front; /* parses every request; routes to tc[] */
	struct fl_ctl *tc[FL_AGENT_MAX_TARGETS];
	int n;
	/* the target handlers' session operations: NULL for the session API
	 * (tests and fuzzers put fakes here) */
	const struct fl_ctl_ops *ops;
	const char *netns_dir; /* where named namespaces are: /run/netns */
	const char *proc_root; /* where pods' processes are found: /proc */
	bool processes; /* targets lists the namespaces of processes too */
	volatile int stop; /* a signal asks to end: reset every target */
	/* the signal mask while waiting for input (the ending signals are
	 * blocked otherwise, so none falls between a check and the wait);
	 * NULL: the mask as it is */
	const sigset_t *wait_mask;
	bool records; /* keep RUN_DIR/agent-sessions (the command does; tests not) */
	bool recorded[FL_AGENT_MAX_TARGETS]; /* tc[i]'s session is in them */
	struct fl_agent_capture cap[FL_AGENT_MAX_CAPTURES];
	int n_cap;
	unsigned int next_cap;
	/* where capture files go (default /var/tmp/fallacy-agent, made 0700)
	 * and the program that captures (default: this one) */
	const char *capture_dir, *self;
};

int fl_agent_new(struct fl_agent **out);
/* Removes nothing: a target's faults end with their lease. */
void fl_agent_free(struct fl_agent *a);

/* One request line (len bytes) answered on out. */
int fl_agent_handle(struct fl_agent *a, const char *line, size_t len, FILE *out);
/* Remove the faults of every target whose lease ran out by now_ns
 * (CLOCK_MONOTONIC); the number of targets expired. */
int fl_agent_expire(struct fl_agent *a, uint64_t now_ns);
/* Reset every target (the agent is told to end). */
void fl_agent_reset_all(struct fl_agent *a);

/* Serve lines from in_fd until EOF; then wait for the last lease to run
 * out (removing each target's faults as it does) and return 0. A line
 * longer than FL_CTL_LINE_MAX is refused and skipped. a->stop (a
 * signal) resets every target at once and returns 0. */
int fl_agent_serve(struct fl_agent *a, int in_fd, FILE *out);

/* capture requests (agent_capture.c): the router's capture hook. */
int fl_agent_capture(struct fl_ctl *c, struct fl_ctl *tc, const struct fl_ctl_capture *q,
		     struct fl_out *o, struct fl_err *err);
/* Stop every capture (the agent ends). */
void fl_agent_captures_stop(struct fl_agent *a);

/* The sessions agents started (RUN_DIR/agent-sessions, agent_records.c):
 * add or drop this agent's record of session. */
void fl_agent_record(const char *session, bool add);
/* On start: end the sessions of agents that are gone (killed) once
 * nothing is left in them. The number ended, or -errno. */
int fl_agent_recover(void);
/* fallacy cleanup --all: every session is gone, and the records with them. */
void fl_agent_records_clear(void);

#endif
