/* SPDX-License-Identifier: MIT */
/* Write-ahead state: one journal per session under fl_run_dir()/SESSION/.
 * Record an object BEFORE creating it; cleanup undoes the journal in
 * reverse order and tolerates objects that are already gone. */
#ifndef FALLACY_STATE_H
#define FALLACY_STATE_H

#include <stdbool.h>
#include <stddef.h>
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

/* Append one record "KIND ARG..." (words without spaces) and make it
 * durable against kill -9 (a write(2) to the journal) before returning.
 * Known kinds and their arguments (undo handlers in state.c):
 *   netns NAME                         umount + unlink /run/netns/NAME
 *   link NETNS IFNAME                  delete the link in that namespace
 *   qdisc NETNS IFNAME clsact          delete the clsact qdisc
 *   qdisc NETNS IFNAME root|HANDLE     delete that qdisc
 *   tcfilter NETNS IFNAME ingress|egress PRIO HANDLE
 *   iptables NETNS 4|6 TABLE CHAIN RULE...   delete with -D inside NETNS
 *   sysctl NETNS KEY OLDVALUE          write the old value back
 *   pid PID STARTTIME                  SIGTERM, 1 s, SIGKILL (only if the
 *                                      start time in /proc/PID/stat matches)
 *   file PATH / dir PATH / mount PATH  unlink / rm -r (ours only) / umount
 *   rmdir PATH                         remove PATH if it is empty (shared
 *                                      parents such as /etc/netns)
 *   cancel RECORD...                   the newest earlier identical RECORD
 *                                      was never ours (see fl_state_cancel)
 * Records whose NETNS is a namespace created by the same session (an
 * earlier "netns NAME" record) are not undone one by one: removing the
 * namespace removes them, and processes still inside it are killed first.
 * NETNS is a name under /run/netns, or "pid:PID" for --pid targets, or
 * "-" for the namespace fallacy itself runs in. */
int fl_state_record(struct fl_state *st, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Withdraw the newest record equal to "RECORD" (as written, without the
 * newline) because creating its object failed with EEXIST: the object is
 * somebody else's and cleanup must leave it alone. Appends "cancel RECORD". */
int fl_state_cancel(struct fl_state *st, const char *record);

/* Undo everything a session recorded, newest first, then remove its folder.
 * Returns 0 when everything is gone (already-gone objects count as gone). */
int fl_state_cleanup(const char *session);

/* Names of all sessions under RUN_DIR (caller frees with fl_strv_free). */
int fl_state_list(char ***names, size_t *n);
void fl_strv_free(char **v, size_t n);

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
