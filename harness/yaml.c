// SPDX-License-Identifier: MIT
/* YAML tree with positions, built from libfyaml events. */
#include "yaml.h"

#include <errno.h>
#include <libfyaml.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parse.h"
#include "fallacy/analyzer.h"

#define FL_YAML_DEPTH 64

struct ybuild {
	struct fl_ynode *stack[FL_YAML_DEPTH];
	struct fl_ynode *pending_key[FL_YAML_DEPTH];
	int depth;
	struct fl_ynode *root;
};

static void ynode_free(struct fl_ynode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++) {
		if (n->keys)
			ynode_free(n->keys[i]);
		ynode_free(n->items[i]);
	}
	free(n->keys);
	free(n->items);
	free(n->text);
	free(n);
}

int fl_jsonl_each(const char *file,
		  int (*fn)(void *arg, const struct fl_ydoc *d, struct fl_err *err), void *arg,
		  struct fl_err *err)
{
	FILE *f = fopen(file, "re");
	char *line = NULL, where[600];
	size_t cap = 0, lineno = 0;
	int ret = 0;

	if (!f) {
		ret = -errno;
		fl_err_set(err, "%s: %s", file, strerror(errno));
		return ret;
	}
	while (!ret && getline(&line, &cap, f) > 0) {
		struct fl_ydoc *d = NULL;

		snprintf(where, sizeof(where), "%s:%zu", file, ++lineno);
		if (line[0] == '\n')
			continue;
		ret = fl_yaml_load(where, line, &d, err);
		if (!ret && (!d->root || d->root->type != FL_Y_MAP))
			ret = fl_yerr(err, d, d->root, "not a JSON object");
		if (!ret)
			ret = fn(arg, d, err);
		fl_yaml_free(d);
	}
	free(line);
	fclose(f);
	return ret;
}

void fl_yaml_free(struct fl_ydoc *doc)
{
	if (!doc)
		return;
	ynode_free(doc->root);
	free(doc->file);
	free(doc);
}

static struct fl_ynode *ynode_new(enum fl_ytype t, struct fy_event *fye)
{
	struct fl_ynode *n = calloc(1, sizeof(*n));
	const struct fy_mark *m = fy_event_start_mark(fye);

	if (!n)
		return NULL;
	n->type = t;
	n->line = m ? m->line + 1 : 0;
	n->col = m ? m->column + 1 : 0;
	return n;
}

static int ynode_push(struct fl_ynode *parent, struct fl_ynode *key, struct fl_ynode *child)
{
	if (parent->n == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 4;
		struct fl_ynode **it = realloc(parent->items, cap * sizeof(*it));

		if (!it)
			return -ENOMEM;
		parent->items = it;
		if (parent->type == FL_Y_MAP) {
			struct fl_ynode **k = realloc(parent->keys, cap * sizeof(*k));

			if (!k)
				return -ENOMEM;
			parent->keys = k;
		}
		parent->cap = cap;
	}
	if (parent->type == FL_Y_MAP)
		parent->keys[parent->n] = key;
	parent->items[parent->n++] = child;
	return 0;
}

/* Attach a finished node to its parent (or make it the root). A node in
 * key position of a mapping waits in pending_key until its value comes. */
static int yattach(struct ybuild *b, struct fl_ynode *n)
{
	struct fl_ynode *p, *key;
	int d = b->depth;

	if (d == 0) {
		b->root = n;
		return 0;
	}
	p = b->stack[d - 1];
	if (p->type == FL_Y_SEQ)
		return ynode_push(p, NULL, n);
	if (!b->pending_key[d - 1]) {
		b->pending_key[d - 1] = n;
		return 0;
	}
	key = b->pending_key[d - 1];
	b->pending_key[d - 1] = NULL;
	/* an empty value ("seed:") has no mark of its own: errors about it
	 * point at its key */
	if (!n->line) {
		n->line = key->line;
		n->col = key->col;
	}
	return ynode_push(p, key, n);
}

static int yscalar(struct ybuild *b, struct fy_event *fye)
{
	struct fy_token *tok = fy_event_get_token(fye);
	struct fl_ynode *n = ynode_new(FL_Y_SCALAR, fye);
	const char *text;
	size_t len = 0;

	if (!n)
		return -ENOMEM;
	text = tok ? fy_token_get_text(tok, &len) : "";
	n->text = strndup(text ? text : "", len);
	n->plain = fy_event_get_node_style(fye) == FYNS_PLAIN;
	if (!n->text) {
		free(n);
		return -ENOMEM;
	}
	return yattach(b, n);
}

static int yevent(struct ybuild *b, struct fy_event *fye, const char *file, struct fl_err *err)
{
	struct fl_ynode *n;

	switch (fye->type) {
	case FYET_SCALAR:
		return yscalar(b, fye);
	case FYET_MAPPING_START:
	case FYET_SEQUENCE_START:
		if (b->depth >= FL_YAML_DEPTH) {
			fl_err_set(err, "%s: nested too deeply", file);
			return -EINVAL;
		}
		n = ynode_new(fye->type == FYET_MAPPING_START ? FL_Y_MAP : FL_Y_SEQ, fye);
		if (!n)
			return -ENOMEM;
		b->pending_key[b->depth] = NULL;
		b->stack[b->depth++] = n;
		return 0;
	case FYET_MAPPING_END:
	case FYET_SEQUENCE_END:
		n = b->stack[--b->depth];
		return yattach(b, n);
	case FYET_ALIAS: {
		const struct fy_mark *m = fy_event_start_mark(fye);

		fl_err_set(err,
			   "%s:%d:%d: YAML aliases are not supported here; write the value out",
			   file, m ? m->line + 1 : 0, m ? m->column + 1 : 0);
		return -EINVAL;
	}
	default:
		return 0;
	}
}

/* The first error libfyaml collected, as FILE:LINE:COL: message. */
static void yparse_error(struct fy_diag *diag, const char *file, struct fl_err *err)
{
	void *iter = NULL;
	struct fy_diag_error *de = diag ? fy_diag_errors_iterate(diag, &iter) : NULL;

	if (de)
		fl_err_set(err, "%s:%d:%d: %s", file, de->line, de->column, de->msg);
	else
		fl_err_set(err, "%s: not valid YAML", file);
}

static struct fy_parser *yparser(const char *file, const char *text, struct fy_diag **diag)
{
	struct fy_diag_cfg dcfg;
	struct fy_parse_cfg cfg = { .flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG };
	struct fy_parser *fyp;

	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.output_fn = NULL;
	*diag = fy_diag_create(&dcfg);
	if (!*diag)
		return NULL;
	fy_diag_set_collect_errors(*diag, true);
	cfg.diag = *diag;
	fyp = fy_parser_create(&cfg);
	if (!fyp)
		return NULL;
	if ((text ? fy_parser_set_string(fyp, text, strlen(text)) :
		    fy_parser_set_input_file(fyp, file))) {
		fy_parser_destroy(fyp);
		return NULL;
	}
	return fyp;
}

static int ybuild_run(struct fy_parser *fyp, struct ybuild *b, const char *file, struct fl_err *err)
{
	struct fy_event *fye;
	int ret = 0, docs = 0;

	while (!ret && (fye = fy_parser_parse(fyp))) {
		if (fye->type == FYET_DOCUMENT_START && ++docs > 1) {
			fl_err_set(err, "%s: more than one YAML document; use one per file", file);
			ret = -EINVAL;
		} else {
			ret = yevent(b, fye, file, err);
		}
		fy_parser_event_free(fyp, fye);
	}
	if (!ret && fy_parser_get_stream_error(fyp))
		ret = -EPROTO;
	return ret;
}

#define YAML_MAX_BYTES (16 << 20)

static int yaml_load(const char *file, const char *text, struct fl_ydoc **out, struct fl_err *err);

/* The whole file, NUL-terminated; NULL with err set. */
static char *read_file(const char *file, struct fl_err *err)
{
	FILE *f = fopen(file, "re");
	char *buf = NULL;
	size_t n = 0, got;

	if (!f) {
		fl_err_set(err, "%s: cannot read: %s", file, strerror(errno));
		return NULL;
	}
	buf = malloc(YAML_MAX_BYTES + 1);
	if (buf)
		n = fread(buf, 1, YAML_MAX_BYTES + 1, f);
	got = !ferror(f);
	fclose(f);
	if (!buf || !got || n > YAML_MAX_BYTES) {
		fl_err_set(err, "%s: cannot read%s", file,
			   n > YAML_MAX_BYTES ? ": larger than 16 MiB" : "");
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* YAML directives (%YAML, %TAG) are of no use in fallacy's files, and
 * libfyaml 0.8 can loop forever on a malformed one (found by
 * fuzz_scenario): refuse them before parsing. A line starts after a
 * newline, a carriage return (YAML's line breaks: fuzz_control looped on
 * "\r%...") or the byte order mark. */
static int no_directives(const char *file, const char *text, struct fl_err *err)
{
	static const char bom[] = "\xef\xbb\xbf";
	const char *start = strncmp(text, bom, 3) ? text : text + 3;
	int line = 1;

	for (const char *p = start; *p; p++) {
		if ((p == start || p[-1] == '\n' || p[-1] == '\r') && *p == '%') {
			fl_err_set(err,
				   "%s:%d:1: YAML directives (%%YAML, %%TAG) are not supported "
				   "in fallacy's files; remove the line",
				   file, line);
			return -EINVAL;
		}
		line += *p == '\n' || (*p == '\r' && p[1] != '\n');
	}
	return 0;
}

int fl_yaml_load(const char *file, const char *text, struct fl_ydoc **out, struct fl_err *err)
{
	char *buf = NULL;
	int ret;

	if (!text) {
		buf = read_file(file, err);
		if (!buf)
			return -EINVAL;
		text = buf;
	}
	ret = no_directives(file, text, err) ?: yaml_load(file, text, out, err);
	free(buf);
	return ret;
}

static int yaml_load(const char *file, const char *text, struct fl_ydoc **out, struct fl_err *err)
{
	struct fy_diag *diag = NULL;
	struct fy_parser *fyp = NULL;
	struct ybuild b = { .depth = 0 };
	struct fl_ydoc *doc = NULL;
	int ret = -ENOMEM;

	fyp = yparser(file, text, &diag);
	if (!fyp) {
		fl_err_set(err, "%s: cannot read: %s", file, errno ? strerror(errno) : "error");
		ret = errno ? -errno : -EIO;
		goto out;
	}
	ret = ybuild_run(fyp, &b, file, err);
	if (ret == -EPROTO) {
		yparse_error(diag, file, err);
		ret = -EINVAL;
	}
	while (b.depth > 0) {
		b.depth--;
		ynode_free(b.pending_key[b.depth]);
		ynode_free(b.stack[b.depth]);
	}
	if (ret)
		goto out;
	doc = calloc(1, sizeof(*doc));
	if (!doc || !(doc->file = strdup(file))) {
		ret = -ENOMEM;
		goto out;
	}
	doc->root = b.root;
	b.root = NULL;
	*out = doc;
	doc = NULL;
out:
	ynode_free(b.root);
	fl_yaml_free(doc);
	if (fyp)
		fy_parser_destroy(fyp);
	if (diag)
		fy_diag_destroy(diag);
	return ret;
}

int fl_yerr(struct fl_err *err, const struct fl_ydoc *doc, const struct fl_ynode *n,
	    const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n)
		fl_err_set(err, "%s:%d:%d: %s", doc->file, n->line, n->col, msg);
	else
		fl_err_set(err, "%s: %s", doc->file, msg);
	return -EINVAL;
}

const char *fl_ytype_name(enum fl_ytype t)
{
	switch (t) {
	case FL_Y_MAP:
		return "a mapping";
	case FL_Y_SEQ:
		return "a list";
	default:
		return "a scalar";
	}
}

/* Position of the scalar key in mapping n, or -1 (also when n is no mapping). */
static long ymap_index(const struct fl_ynode *n, const char *key)
{
	if (!n || n->type != FL_Y_MAP)
		return -1;
	for (size_t i = 0; i < n->n; i++)
		if (n->keys[i]->type == FL_Y_SCALAR && !strcmp(n->keys[i]->text, key))
			return (long)i;
	return -1;
}

struct fl_ynode *fl_ymap_key(const struct fl_ynode *n, const char *key)
{
	long i = ymap_index(n, key);

	return i < 0 ? NULL : n->keys[i];
}

struct fl_ynode *fl_ymap_get(const struct fl_ynode *n, const char *key)
{
	long i = ymap_index(n, key);

	return i < 0 ? NULL : n->items[i];
}

int fl_yexpect(const struct fl_ydoc *d, const struct fl_ynode *n, enum fl_ytype t, const char *what,
	       struct fl_err *err)
{
	if (n && n->type == t)
		return 0;
	return fl_yerr(err, d, n, "%s must be %s, not %s", what, fl_ytype_name(t),
		       n ? fl_ytype_name(n->type) : "empty");
}

int fl_ycheck_keys(const struct fl_ydoc *d, const struct fl_ynode *n, const char *what,
		   const char *const *allowed, struct fl_err *err)
{
	size_t na = 0;

	while (allowed[na])
		na++;
	for (size_t i = 0; i < n->n; i++) {
		const struct fl_ynode *k = n->keys[i];
		const char *s;
		size_t j;

		if (k->type != FL_Y_SCALAR)
			return fl_yerr(err, d, k, "keys in %s must be plain words", what);
		for (j = 0; j < na && strcmp(allowed[j], k->text); j++)
			;
		if (j < na)
			continue;
		s = fl_suggest(k->text, allowed, na);
		if (s)
			return fl_yerr(err, d, k, "unknown key '%s' in %s (did you mean '%s'?)",
				       k->text, what, s);
		return fl_yerr(err, d, k, "unknown key '%s' in %s", k->text, what);
	}
	return 0;
}

bool fl_yis_null(const struct fl_ynode *n)
{
	if (!n)
		return true;
	if (n->type != FL_Y_SCALAR || !n->plain)
		return false;
	return !n->text[0] || !strcmp(n->text, "~") || !strcmp(n->text, "null");
}

static int yscalar_of(const struct fl_ydoc *d, const struct fl_ynode *v, const char *key,
		      struct fl_err *err)
{
	if (v->type == FL_Y_SCALAR && !fl_yis_null(v))
		return 0;
	if (v->type == FL_Y_SCALAR)
		return fl_yerr(err, d, v, "'%s' needs a value", key);
	return fl_yerr(err, d, v, "'%s' must be a scalar, not %s", key, fl_ytype_name(v->type));
}

static int ymissing(const struct fl_ydoc *d, const struct fl_ynode *m, const char *key,
		    bool required, struct fl_err *err)
{
	if (!required)
		return 1;
	return fl_yerr(err, d, m, "missing required key '%s'", key);
}

/* The scalar under key in m into *v: 0 (*v NULL when the key is absent
 * and not required), or -EINVAL with err set. */
static int yget_scalar(const struct fl_ydoc *d, const struct fl_ynode *m, const char *key,
		       bool required, const struct fl_ynode **v, struct fl_err *err)
{
	*v = fl_ymap_get(m, key);
	if (!*v)
		return ymissing(d, m, key, required, err) < 0 ? -EINVAL : 0;
	return yscalar_of(d, *v, key, err);
}

int fl_yget_str(const struct fl_ydoc *d, const struct fl_ynode *m, const char *key, bool required,
		const char **out, struct fl_err *err)
{
	const struct fl_ynode *v;
	int ret = yget_scalar(d, m, key, required, &v, err);

	if (!ret && v)
		*out = v->text;
	return ret;
}

int fl_yget_duration(const struct fl_ydoc *d, const struct fl_ynode *m, const char *key,
		     bool required, uint64_t *ns, struct fl_err *err)
{
	const struct fl_ynode *v;
	struct fl_err perr;

	if (yget_scalar(d, m, key, required, &v, err))
		return -EINVAL;
	if (v && fl_parse_duration(v->text, ns, &perr))
		return fl_yerr(err, d, v, "bad duration for '%s': %s", key, perr.msg);
	return 0;
}

int fl_yget_u64(const struct fl_ydoc *d, const struct fl_ynode *m, const char *key, bool required,
		uint64_t min, uint64_t max, uint64_t *out, struct fl_err *err)
{
	const struct fl_ynode *v;
	struct fl_err perr;

	if (yget_scalar(d, m, key, required, &v, err))
		return -EINVAL;
	if (v && fl_parse_u64(v->text, min, max, out, &perr))
		return fl_yerr(err, d, v, "bad value for '%s': %s", key, perr.msg);
	return 0;
}

/* gcc 12 -fanalyzer false positive (fallacy/analyzer.h): the copy belongs to *v; the caller frees the whole vector */
FL_LEAK_FP_BEGIN
static int strv_push(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(char *));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n] = strdup(s);
	if (!nv[*n])
		return -ENOMEM;
	nv[++*n] = NULL;
	return 0;
}
FL_LEAK_FP_END

int fl_ydup(char **dst, const char *s)
{
	if (!s)
		return 0;
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

int fl_yget_strv(const struct fl_ydoc *d, const struct fl_ynode *m, const char *key, char ***out,
		 size_t *n, struct fl_err *err)
{
	const struct fl_ynode *v = fl_ymap_get(m, key);
	int ret = 0;

	if (!v)
		return 0;
	if (v->type == FL_Y_MAP)
		return fl_yerr(err, d, v, "'%s' must be a word or a list of words", key);
	if (v->type == FL_Y_SCALAR)
		return yscalar_of(d, v, key, err) ?: strv_push(out, n, v->text);
	for (size_t i = 0; i < v->n && !ret; i++) {
		if (v->items[i]->type != FL_Y_SCALAR || fl_yis_null(v->items[i]))
			return fl_yerr(err, d, v->items[i], "items of '%s' must be words", key);
		ret = strv_push(out, n, v->items[i]->text);
	}
	return ret;
}

int fl_ynum(const struct fl_ynode *n, double *out)
{
	char *end;

	if (!n || n->type != FL_Y_SCALAR || !n->text[0])
		return -EINVAL;
	errno = 0;
	*out = strtod(n->text, &end);
	if (errno || *end || !isfinite(*out))
		return -EINVAL;
	return 0;
}
