/* SPDX-License-Identifier: MIT */
/* Internals shared by the session client (session.c) and the supervisor
 * (supervisor.c, sup_faults.c). */
#ifndef FALLACY_SESSION_INT_H
#define FALLACY_SESSION_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FL_ST_ENDED 0x100 /* answer status bit: the session is ending */
#define FL_REQ_MAX (1 << 20)
/* Words of one request at most, the terminating NULL included. */
#define FL_REQ_MAX_WORDS 256

int fl_session_path(const char *session, const char *file, char *buf, size_t len);
/* A request's words: buf[0] is 'j' or 't', then NUL-terminated words, and
 * buf[len] is a NUL the reader added; argv gets at most max words and a
 * NULL. Returns the count. */
int fl_req_split(char *buf, uint32_t len, char **argv, int max);
/* The one check of who may send a control request: 0 when the peer of
 * the connected unix socket fd (SO_PEERCRED) is root or the user owner
 * (a socket made for a user, e.g. by wrap --control), else -EPERM. */
int fl_sup_peer_ok(int fd, uid_t owner);
/* Read or write exactly len bytes. */
int fl_io_full(int fd, void *buf, size_t len, bool wr);

#endif
