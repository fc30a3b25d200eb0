/* SPDX-License-Identifier: MIT */
/* Write-ahead state: one journal per session under fl_run_dir()/SESSION/.
 * Record an object BEFORE creating it; cleanup undoes the journal in
 * reverse order and tolerates objects that are already gone. This is the
 * public face (sessions, cleanup, the two records harness/ needs); the
 * injector's creators write records through journal.h. */
#ifndef FALLACY_STATE_H
#define FALLACY_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* $FALLACY_RUN_DIR or /run/fallacy. */
const char *fl_run_dir(void);

struct fl_state;

/* Create RUN_DIR/SESSION/ and an empty journal. -EEXIST if the session
 * exists (lab names are unique). */
int fl_state_create(const char *session, struct fl_state **out);
/* Open an existing session's journal for appending. -ENOENT if none. */
int fl_state_open(const char *session, struct fl_state **out);
void fl_state_close(struct fl_state *st);
/* RUN_DIR/SESSION */
const char *fl_state_dir(const struct fl_state *st);

/* Journal that process PID (started by the caller, not yet running the
 * target's code) belongs to the session, so cleanup stops it: a "pid PID
 * STARTTIME" record. */
int fl_state_track_pid(struct fl_state *st, pid_t pid) __attribute__((warn_unused_result));
/* mkdir PATH recorded as "dir PATH" (cleanup removes it with everything in
 * it). An existing PATH is somebody else's: -EEXIST, and the record is
 * withdrawn. */
int fl_state_mkdir(struct fl_state *st, const char *path, mode_t mode)
	__attribute__((warn_unused_result));
/* Undo everything a session recorded, newest first, then remove its folder.
 * Returns 0 when everything is gone (already-gone objects count as gone). */
int fl_state_cleanup(const char *session);
/* Flags of fl_state_cleanup_flags. */
enum fl_cleanup_flags {
	/* The caller knows that no process is left in the session's
	 * namespaces (a child subreaper whose descendants have all exited):
	 * the /proc scan that kills stragglers before a namespace goes is
	 * skipped. */
	FL_CLEANUP_NO_STRAYS = 1,
};
int fl_state_cleanup_flags(const char *session, unsigned int flags);

/* The processes a session journaled ("pid" records): how many still run
 * (same pid and start time) and how many are gone. A session whose
 * recorded processes are all gone (*alive == 0, *dead > 0) is the state of
 * a dead owner (a killed supervisor): fallacy doctor offers its cleanup. */
int fl_state_owners(const char *session, int *alive, int *dead);

/* Names of all sessions under RUN_DIR (caller frees with fl_strv_free). */
int fl_state_list(char ***names, size_t *n);
void fl_strv_free(char **v, size_t n);

/* Write PATH whole or not at all: fill(f, arg) writes PATH.tmp, which is
 * flushed, synced and renamed over PATH (readers see the old file or the
 * new one); on any error PATH.tmp is removed and PATH left as it was. */
int fl_write_atomic(const char *path, int (*fill)(FILE *f, const void *arg), const void *arg);

/* mkdir -p; 0 if it exists already. */
int fl_mkdir_p(const char *path, mode_t mode);
/* rm -r without following symlinks or crossing mounts; 0 if absent. */
int fl_rm_rf(const char *path);

/* Reads /proc/PID/stat into buf (len bytes) and returns its last ')',
 * the end of the command name (the state follows after a space), or NULL
 * when the process is gone. */
const char *fl_proc_stat(pid_t pid, char *buf, size_t len);
/* Start time of a process (field 22 of /proc/PID/stat), 0 if gone. */
unsigned long long fl_proc_starttime(pid_t pid);

#endif
