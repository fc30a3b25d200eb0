/* SPDX-License-Identifier: MIT */
/* Processes inside lab nodes: started in the node's network namespace (and
 * its /etc/hosts), in their own process group, optionally as another user,
 * with output to a log file. Long-running ones are journaled as `pid`
 * records in the lab's session before they run a single instruction of the
 * target, so `fallacy cleanup` can stop them after a crash. */
#ifndef FALLACY_PROC_H
#define FALLACY_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct fl_state;

struct fl_spawn {
	const char *netns; /* NULL: stay in the current namespace */
	const char *cmd; /* a command line; run by /bin/sh -c if it needs a shell */
	char *const *env; /* extra KEY=VALUE, NULL-terminated, or NULL */
	const char *user; /* NULL: as ourselves */
	int out_fd; /* stdout and stderr; -1: /dev/null */
	struct fl_state *journal; /* record "pid PID START" here first, or NULL */
	bool die_with_parent; /* PR_SET_PDEATHSIG SIGKILL (probes) */
	bool split_err; /* stderr to err_fd (-1: /dev/null), stdout alone to out_fd */
	int err_fd;
};

/* Start; *pid is the process (and process group) id. */
int fl_proc_spawn(const struct fl_spawn *sp, pid_t *pid);
/* Wait up to timeout_ns (0: forever). 0 and *status = exit code (128+sig
 * when killed by a signal); -ETIMEDOUT after killing the group. */
int fl_proc_wait(pid_t pid, uint64_t timeout_ns, int *status);
/* Spawn and wait. */
int fl_proc_run(const struct fl_spawn *sp, uint64_t timeout_ns, int *status);
/* SIGTERM to the group, wait up to grace_ns, then SIGKILL; reaps. Returns
 * 1 if SIGKILL was needed. */
int fl_proc_stop(pid_t pid, uint64_t grace_ns, int *status);

#endif
