/* SPDX-License-Identifier: MIT */
/* A small YAML tree with positions, built from libfyaml's event stream, so
 * that every error names FILE:LINE:COL. Scenario, target, ops and events
 * files are read through it (JSON lines are YAML flow mappings). */
#ifndef FALLACY_YAML_H
#define FALLACY_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

enum fl_ytype {
	FL_Y_SCALAR,
	FL_Y_MAP,
	FL_Y_SEQ,
};

struct fl_ynode {
	enum fl_ytype type;
	int line, col; /* 1-based */
	char *text; /* scalar text; NULL for collections */
	bool plain; /* an unquoted scalar (so "~"/"null" mean null) */
	size_t n; /* number of items or pairs */
	size_t cap;
	struct fl_ynode **keys; /* mapping keys (scalars), n of them */
	struct fl_ynode **items; /* sequence items or mapping values */
};

struct fl_ydoc {
	char *file; /* as given, used in messages */
	struct fl_ynode *root; /* NULL for an empty document */
};

/* Parse FILE (or, with text != NULL, the string text named FILE). On a
 * syntax error fills err with "FILE:LINE:COL: message" and returns -EINVAL. */
int fl_yaml_load(const char *file, const char *text, struct fl_ydoc **out, struct fl_err *err);
void fl_yaml_free(struct fl_ydoc *doc);

/* A JSON-lines file (ops.jsonl, events.jsonl, samples): each non-empty
 * line parsed as "FILE:LINE" and handed to fn as a document whose root is
 * an object (anything else: an error at that line). Stops at the first
 * error (fn's or the parser's, err filled) and returns it; -errno when
 * FILE cannot be read. */
int fl_jsonl_each(const char *file,
		  int (*fn)(void *arg, const struct fl_ydoc *d, struct fl_err *err), void *arg,
		  struct fl_err *err);

/* Set err to "FILE:LINE:COL: message" at node n; returns -EINVAL. */
int fl_yerr(struct fl_err *err, const struct fl_ydoc *doc, const struct fl_ynode *n,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

const char *fl_ytype_name(enum fl_ytype t);
/* The value of KEY in mapping n, or NULL. */
struct fl_ynode *fl_ymap_get(const struct fl_ynode *n, const char *key);
/* The key node of KEY in mapping n, or NULL. */
struct fl_ynode *fl_ymap_key(const struct fl_ynode *n, const char *key);

/* Require type t ("WHAT must be a mapping, not a sequence"). */
int fl_yexpect(const struct fl_ydoc *d, const struct fl_ynode *n, enum fl_ytype t, const char *what,
	       struct fl_err *err);
/* Every key of mapping n must be in allowed[] (NULL-terminated); an unknown
 * key is reported at the key with a suggestion. */
int fl_ycheck_keys(const struct fl_ydoc *d, const struct fl_ynode *n, const char *what,
		   const char *const *allowed, struct fl_err *err);

/* Typed getters for KEY in mapping m. A missing key leaves *out alone and
 * returns 0 unless required; errors point at the value. */
int fl_yget_str(const struct fl_ydoc *d, const struct fl_ynode *m, const char *key, bool required,
		const char **out, struct fl_err *err);
int fl_yget_duration(const struct fl_ydoc *d, const struct fl_ynode *m, const char *key,
		     bool required, uint64_t *ns, struct fl_err *err);
int fl_yget_u64(const struct fl_ydoc *d, const struct fl_ynode *m, const char *key, bool required,
		uint64_t min, uint64_t max, uint64_t *out, struct fl_err *err);
/* *dst = a copy of s, the text of a value kept after the document is
 * freed; nothing when s is NULL. 0 or -ENOMEM. */
int fl_ydup(char **dst, const char *s);
/* A scalar or a sequence of scalars, as a NULL-terminated vector. */
int fl_yget_strv(const struct fl_ydoc *d, const struct fl_ynode *m, const char *key, char ***out,
		 size_t *n, struct fl_err *err);

/* True for a plain ~ / null / empty scalar. */
bool fl_yis_null(const struct fl_ynode *n);
/* Scalars only: number as double, -EINVAL if it is not one. */
int fl_ynum(const struct fl_ynode *n, double *out);

#endif
