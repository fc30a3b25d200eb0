/* SPDX-License-Identifier: MIT */
/* The journal's records, for the injector's creators (internal). Every
 * creator follows one pattern, so that cleanup never removes what fallacy
 * did not make:
 *
 *	struct fl_rec rec;
 *
 *	err = fl_state_begin(st, &rec, "link", "%s %s", netns, name);
 *	if (!err)
 *		err = create_the_link(...);	// -errno
 *	if (err == -EEXIST)
 *		err = fl_state_existed(&rec) ?: -EEXIST; // somebody else's
 *
 * st may be NULL (nothing is journaled: probes, tests). */
#ifndef FALLACY_STATE_JOURNAL_H
#define FALLACY_STATE_JOURNAL_H

#include "state.h"

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
 *   route NETNS DST/PLEN               delete that route (main table)
 *   pid PID STARTTIME                  SIGTERM, 1 s, SIGKILL (only if the
 *                                      start time in /proc/PID/stat matches)
 *   file PATH / dir PATH / mount PATH  unlink / rm -r (ours only) / umount
 *   restore PATH SAVED                 write SAVED's content over PATH, in
 *                                      place (a node's hosts file)
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
	__attribute__((format(printf, 3, 4), warn_unused_result));

/* Withdraw the newest record equal to "RECORD" (as written, without the
 * newline) because creating its object failed with EEXIST: the object is
 * somebody else's and cleanup must leave it alone. Appends "cancel RECORD". */
int fl_state_cancel(struct fl_state *st, const char *record) __attribute__((warn_unused_result));

/* Hold the journal's lock while a series of objects is being made (a
 * topology change in a lab's supervisor), so that a cleanup started
 * meanwhile waits for it (as it waits for lab up). */
int fl_state_lock(struct fl_state *st);
void fl_state_unlock(struct fl_state *st);

/* Remove the object of RECORD (as written) now, by its undo handler, and
 * withdraw the record (fl_state_cancel): healing one object the session
 * made while the session goes on (a foreign administrator's rule). 0 when
 * the object is gone. */
int fl_state_undo(struct fl_state *st, const char *record) __attribute__((warn_unused_result));

/* Tag every record this handle writes from now on with its writer, the
 * calling process ("@sup:PID:START KIND ARG..."; mine false: untagged
 * again). A lab's supervisor tags what it makes for its faults and leaves
 * lab structure (node add, ...) untagged, so that its successor can tell
 * a killed predecessor's leftovers from the lab's own objects. */
void fl_state_set_owner(struct fl_state *st, bool mine);
/* Undo, newest first, every active record tagged by a writer that is no
 * longer running (another pid, or the same pid with another start time),
 * each removed now and withdrawn like fl_state_undo. *undone counts them.
 * Untagged records are never touched. */
int fl_state_undo_dead_owners(struct fl_state *st, int *undone) __attribute__((warn_unused_result));

struct fl_rec {
	struct fl_state *st;
	char line[512]; /* the record as written, without the newline */
};

/* fl_state_record, remembering the record in rec for fl_state_existed. */
int fl_state_begin(struct fl_state *st, struct fl_rec *rec, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5), warn_unused_result));
/* The object existed before we tried: withdraw rec (fl_state_cancel). */
int fl_state_existed(struct fl_rec *rec) __attribute__((warn_unused_result));

#endif
