/* SPDX-License-Identifier: MIT */
/* A linearizability checker for histories (history.h): Wing & Gong's
 * search with Lowe's memoisation of (linearized set, state), one key at a
 * time (P-compositionality: a history is linearizable iff each key's
 * sub-history is), keys checked in parallel.
 *
 * Models: register (read, write, cas; a failed cas observed a value other
 * than the expected one at its linearization point) and kv (get, put,
 * append: string values, append concatenates). Operations that failed did
 * not take effect (except cas, above); info operations may take effect at
 * any time after their invocation, or never; an info read constrains
 * nothing. */
#ifndef FALLACY_LIN_H
#define FALLACY_LIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "history.h"
#include "log.h"

enum fl_lin_model {
	FL_LIN_REGISTER,
	FL_LIN_KV,
};

enum fl_lin_verdict {
	FL_LIN_OK = 0, /* linearizable */
	FL_LIN_BAD = 1, /* not linearizable */
	FL_LIN_UNKNOWN = 2, /* the search limit was reached */
};

struct fl_lin_opts {
	enum fl_lin_model model;
	int threads; /* 0: one per online CPU */
	bool no_memo; /* the baseline: Wing & Gong without Lowe's cache */
	/* without the observer pruning (register, unique values: the state
	 * never leaves a value that a pending acknowledged read or cas still
	 * has to see); the baseline of bench/lin.sh's hot register */
	bool no_prune;
	uint64_t max_states; /* per key; 0: the default (FL_LIN_MAX_STATES) */
};

#define FL_LIN_MAX_STATES 20000000ULL

/* A violation read off real time alone (register model, unique values),
 * found before any search: the read, the write of what it read, and a
 * write that completed in between. */
enum fl_lin_anomaly {
	FL_ANOM_NONE,
	FL_ANOM_STALE_READ, /* read v after a later write completed */
	FL_ANOM_LOST_WRITE, /* read nothing after a write completed */
	FL_ANOM_NEVER_WRITTEN, /* read a value nobody wrote */
	FL_ANOM_FUTURE_READ, /* read v before its write began */
};

struct fl_lin_result {
	enum fl_lin_verdict verdict;
	size_t n_ops; /* operations checked (after dropping what cannot matter) */
	size_t n_keys;
	uint64_t states; /* search states visited, all keys */
	/* not linearizable: the first key that is not, and where */
	int bad_key;
	int bad_op; /* the op whose completion cannot be linearized */
	uint64_t bad_time; /* the end of the shortest prefix that is not */
	size_t prefix_ops; /* operations invoked in that prefix */
	int *concurrent; /* ops in flight at bad_time (indexes into h->ops) */
	size_t n_concurrent;
	enum fl_lin_anomaly anomaly; /* when the violation is one of these */
	int writer, overwriter; /* ops of the anomaly, or -1 */
};

const char *fl_lin_anomaly_name(enum fl_lin_anomaly a);

/* Check h. Returns 0 (r filled) or -errno with err set (-EINVAL: an
 * operation that is not of the model). */
int fl_lin_check(struct fl_history *h, const struct fl_lin_opts *o, struct fl_lin_result *r,
		 struct fl_err *err);
void fl_lin_result_free(struct fl_lin_result *r);
/* Parse "register" / "kv". */
int fl_lin_model_parse(const char *text, enum fl_lin_model *m, struct fl_err *err);

#endif
