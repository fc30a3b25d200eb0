/* SPDX-License-Identifier: MIT */
/* Operation histories in Jepsen's shape: one JSON object per line, in
 * real-time order, an invocation and later its completion per operation:
 *
 *   {"process": 3, "type": "invoke", "f": "write", "key": "k1", "value": 4, "time": 1234567}
 *   {"process": 3, "type": "ok", "f": "write", "key": "k1", "value": 4, "time": 1240000}
 *
 * type: invoke, then ok (took effect; a read carries the value it saw),
 * fail (did not take effect; for cas: the compare did not match at its
 * linearization point), or info (unknown: it may take effect at any time
 * after its invocation, or never). A missing completion counts as info.
 * f: read / write / cas ([expected, new]) for registers; get / put /
 * append for key-value stores with string values. No key = one register.
 * time in ns. Values are compared as written (4 and "4" differ; null is an
 * absent value). */
#ifndef FALLACY_HISTORY_H
#define FALLACY_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

enum fl_hf {
	FL_HF_READ,
	FL_HF_WRITE,
	FL_HF_CAS,
	FL_HF_GET,
	FL_HF_PUT,
	FL_HF_APPEND,
};

enum fl_hresult {
	FL_HR_OK,
	FL_HR_FAIL,
	FL_HR_INFO,
};

#define FL_HVAL_NULL (-1) /* an absent value (read of nothing) */
#define FL_HTIME_NEVER UINT64_MAX /* the completion of an info operation */

/* One operation: its invocation and its completion. */
struct fl_hop {
	int process;
	enum fl_hf f;
	enum fl_hresult result;
	int key; /* index into keys */
	int value; /* interned: write/put/append value; read/get: what was read */
	int expect; /* cas: the expected value */
	uint64_t call, ret; /* ns; ret = FL_HTIME_NEVER for info */
	int line, ret_line; /* where they were in the file */
};

struct fl_history {
	struct fl_hop *ops; /* in invocation order */
	size_t n, cap;
	char **values; /* interned values as written (JSON text) */
	size_t n_values, cap_values;
	char **keys; /* "" for the one register */
	size_t n_keys, cap_keys;
	/* open-addressing indexes of values and keys (interning in O(1)) */
	int *vslot, *kslot;
	size_t vsize, ksize;
};

/* Parse text (a whole file) into h. On malformed input -EINVAL with
 * "NAME:LINE: what is wrong". */
int fl_history_parse(const char *text, size_t len, const char *name, struct fl_history *h,
		     struct fl_err *err);
int fl_history_load(const char *path, struct fl_history *h, struct fl_err *err);
void fl_history_free(struct fl_history *h);
/* The value of id as written ("null" for FL_HVAL_NULL). */
const char *fl_history_value(const struct fl_history *h, int id);
/* Intern a value (for models that build new ones: append); -ENOMEM. */
int fl_history_intern(struct fl_history *h, const char *text);
const char *fl_hf_name(enum fl_hf f);

#endif
