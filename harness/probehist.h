/* SPDX-License-Identifier: MIT */
/* Probe runs as operations of a history (docs/consistency.md): a node's
 * clients and their process numbers, and what a run that ended says (its
 * type, the value it read, the value a cas expected). */
#ifndef FALLACY_PROBEHIST_H
#define FALLACY_PROBEHIST_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checks.h"
#include "target.h"

#define FL_CLIENTS_MAX 64

/* A node's clients, one per run that may be in flight. Each has a process
 * number; a run whose effect is unknown (info) retires it and the client
 * goes on under a new one (Jepsen's rule: a process never has two
 * operations open, nor invokes after an info). Numbers come from *next
 * (shared by every node, under *lock): 1, 2, ... */
struct fl_clients {
	uint64_t process[FL_CLIENTS_MAX]; /* 0: none given yet */
	bool busy[FL_CLIENTS_MAX];
	uint64_t *next;
	pthread_mutex_t *lock;
};

/* A free client (the first; the caller keeps fewer than FL_CLIENTS_MAX
 * busy), now busy, with a process number. */
size_t fl_clients_take(struct fl_clients *c);
/* Client k's run ended: free again; retired when its effect is unknown. */
void fl_clients_done(struct fl_clients *c, size_t k, bool unknown);

/* The first line of what a run printed, without newline or CR, in place;
 * bytes other than printable ASCII become '?' (a tampered reply). */
void fl_first_line(char *s);

/* The history members of a run of op t that ended with status st and exit
 * code (-1: it never ran), having printed out (its first line): t's f and
 * key; a write's (cas's new) value is seq when t's run has {{value}}; a
 * read's is out when ok; a cas expected out. Exit 1 is a failure without
 * effect, any other failure (and a timeout) of a write or cas unknown. A
 * cas's exit 1 (its compare did not match) is an answer: status ok (for
 * availability), type fail (no_match). */
void fl_probe_outcome(const struct fl_top *t, uint64_t seq, const char *key, enum fl_op_status st,
		      int code, const char *out, struct fl_op *op);

#endif
