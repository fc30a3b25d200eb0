/* SPDX-License-Identifier: MIT */
/* The control protocol on a Unix socket (the transport of `fallacy wrap
 * --control` and `fallacy lab up --control-user`): DIR/control.sock in a
 * folder DIR of the session's, made 0700 and owned by the one user the
 * socket is for, the socket itself 0600 and theirs. Every connection's
 * SO_PEERCRED uid is checked too: that user or root, nobody else. A
 * connection carries any number of request lines, answered in order
 * (control.h does the answering). */
#ifndef FALLACY_CTLSOCK_H
#define FALLACY_CTLSOCK_H

#include <stdbool.h>
#include <sys/types.h>

#include "control.h"

struct fl_ctlsock;

/* Make DIR (0700, uid:gid; an existing DIR is refused) and listen on
 * DIR/control.sock for uid. Checks that uid can reach the socket through
 * every folder above it (a 0700 parent would lock them out): -EACCES
 * after a message naming the folder. */
int fl_ctlsock_open(const char *dir, uid_t uid, gid_t gid, struct fl_ctl *ctl,
		    struct fl_ctlsock **out);
const char *fl_ctlsock_path(const struct fl_ctlsock *s);

/* Serve in a thread of its own until fl_ctlsock_close. */
int fl_ctlsock_start(struct fl_ctlsock *s);
/* Serve in the caller's thread until stop_fd is readable (or, with -1, a
 * SIGTERM/SIGINT arrives: they must be blocked and are taken by the
 * loop's ppoll). */
int fl_ctlsock_run(struct fl_ctlsock *s, int stop_fd);
/* Stop serving, close every connection, remove the socket and DIR. */
void fl_ctlsock_close(struct fl_ctlsock *s);

/* A user by name or number, from /etc/passwd (--control-user U). */
struct fl_err;
int fl_ctlsock_user(const char *name, uid_t *uid, gid_t *gid, struct fl_err *err);

/* The check SO_PEERCRED gets is fl_peer_allowed (supervisor/session.h),
 * the same rule as the session supervisors' sockets. */

#endif
