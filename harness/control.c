// SPDX-License-Identifier: MIT
/* The control protocol's verb handler: one JSON request line in, one JSON
 * answer line out (docs/control.md). No transport here: ctlsock.c serves
 * it on a Unix socket, an agent on stdin/stdout. */
#include "control.h"
#include "control_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "dataplane/dataplane.h"
#include "json.h"
#include "lab/lab.h"
#include "log.h"
#include "parse.h"
#include "version.h"
#include "yaml.h"

static const char *const verbs[] = { "add",	"change",  "del", "list",  "clear", "counters",
				     "version", "targets", "put", "renew", "reset", "capture" };
static const char *const members[] = { "verb",	 "seq",	  "fault",   "id", "target",
				       "faults", "lease", "capture", NULL };
#define N_VERBS (sizeof(verbs) / sizeof(verbs[0]))

/* ---- the default operations: the session API ----------------------------- */

static int session_add(struct fl_ctl *c, const struct fl_fault *f, char **out, char **msg)
{
	return fl_fault_add_json(&c->target, f, out, msg);
}

static int session_request(struct fl_ctl *c, int argc, char **argv, char **out, char **msg)
{
	return fl_fault_request(&c->target, argc, argv, true, out, msg);
}

static int session_stats(struct fl_ctl *c, struct fl_fault_stat **v, int *n)
{
	return fl_fault_stats(&c->target, v, n);
}

static const struct fl_ctl_ops session_ops = {
	.add = session_add,
	.request = session_request,
	.stats = session_stats,
};

int fl_ctl_new(const struct fl_target *t, const char *scope, struct fl_ctl **out)
{
	struct fl_ctl *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->target = *t;
	c->scope = scope;
	c->ops = &session_ops;
	c->nsfd = -1;
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return 0;
}

void fl_ctl_free(struct fl_ctl *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->n_own; i++)
		free(c->key[i]);
	if (c->nsfd >= 0)
		close(c->nsfd);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* ---- our faults ------------------------------------------------------------ */

int fl_ctl_own_find(const struct fl_ctl *c, const char *id)
{
	for (int i = 0; i < c->n_own; i++)
		if (!strcmp(c->own[i], id))
			return i;
	return -1;
}

static void own_drop(struct fl_ctl *c, int i)
{
	free(c->key[i]);
	memmove(c->own[i], c->own[i + 1], (size_t)(c->n_own - i - 1) * sizeof(c->own[0]));
	memmove(&c->key[i], &c->key[i + 1], (size_t)(c->n_own - i - 1) * sizeof(c->key[0]));
	c->n_own--;
	c->key[c->n_own] = NULL;
}

/* Forget faults the session no longer has (a --duration ran out). */
void fl_ctl_own_sync(struct fl_ctl *c)
{
	struct fl_fault_stat *v = NULL;
	int n = 0;

	if (!c->n_own || c->ops->stats(c, &v, &n))
		return;
	for (int i = c->n_own - 1; i >= 0; i--) {
		bool found = false;

		for (int k = 0; k < n && !found; k++)
			found = !strcmp(v[k].id, c->own[i]);
		if (!found)
			own_drop(c, i);
	}
	free(v);
}

/* ---- the answer ------------------------------------------------------------ */

/* The request's seq, echoed as it came: a number or a string. */
static void put_seq(struct fl_out *o, const struct fl_ynode *seq)
{
	double d;

	if (!seq || seq->type != FL_Y_SCALAR || fl_yis_null(seq))
		return;
	/* an integer that fits int64 is echoed as a number (the range check
	 * first: casting 1e300 is undefined) */
	if (seq->plain && !fl_ynum(seq, &d) && d >= -9.2e18 && d <= 9.2e18 &&
	    d == (double)(int64_t)d)
		fl_out_i64(o, "seq", (int64_t)d);
	else
		fl_out_str(o, "seq", seq->text);
}

void fl_ctl_open(struct fl_out *o, const struct fl_ctl_req *r, bool ok)
{
	fl_out_open(o, "", '{');
	fl_out_jbool(o, "ok", ok);
	if (r)
		put_seq(o, r->seq);
	if (r && r->verb)
		fl_out_str(o, "verb", r->verb);
}

/* The session's JSON on one line (its strings have no raw newlines, so
 * only whitespace changes). */
static const char *one_line(char *json)
{
	size_t n = json ? strlen(json) : 0;

	for (size_t i = 0; i < n; i++)
		if (json[i] == '\n' || json[i] == '\r')
			json[i] = ' ';
	while (n && json[n - 1] == ' ')
		json[--n] = '\0';
	return json;
}

void fl_ctl_close(struct fl_out *o)
{
	fl_out_close(o, '}');
	fputc('\n', o->f);
}

/* A refusal: {"ok":false,"error":"..."}; the message's trailing newlines
 * and a session's "fallacy: " prefix go. */
int fl_ctl_refuse(struct fl_out *o, const struct fl_ctl_req *r, const char *fmt, ...)
{
	char buf[1024];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (n = strlen(buf); n && (buf[n - 1] == '\n' || buf[n - 1] == ' '); n--)
		buf[n - 1] = '\0';
	fl_ctl_open(o, r, false);
	fl_out_str(o, "error", buf);
	fl_ctl_close(o);
	return -EINVAL;
}

/* ---- reading the request --------------------------------------------------- */

int fl_ctl_words(const struct fl_ydoc *doc, const struct fl_ynode *f, char **buf, char **argv,
		 int *argc, struct fl_err *err)
{
	char *save = NULL;

	*argc = 0;
	if (f->type == FL_Y_SEQ) {
		for (size_t i = 0; i < f->n; i++) {
			if (f->items[i]->type != FL_Y_SCALAR || !f->items[i]->text ||
			    *argc >= CTL_MAX_WORDS)
				return fl_yerr(err, doc, f->items[i],
					       "'fault' words must be strings (at most %d)",
					       CTL_MAX_WORDS);
			argv[(*argc)++] = f->items[i]->text;
		}
	} else if (f->type == FL_Y_SCALAR && f->text) {
		*buf = strdup(f->text);
		if (!*buf)
			return -ENOMEM;
		for (char *w = strtok_r(*buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
			if (*argc >= CTL_MAX_WORDS)
				return fl_yerr(err, doc, f, "'fault': more than %d words",
					       CTL_MAX_WORDS);
			argv[(*argc)++] = w;
		}
	} else {
		return fl_yerr(err, doc, f, "'fault' must be a string of words or a list");
	}
	argv[*argc] = NULL;
	if (!*argc)
		return fl_yerr(err, doc, f, "'fault' is empty: expected KIND [PARAMS...]");
	return 0;
}

static int read_verb(struct fl_ctl_req *r, struct fl_err *err)
{
	const struct fl_ynode *v = fl_ymap_get(r->doc->root, "verb");
	const char *sug;

	if (!v)
		return fl_yerr(err, r->doc, r->doc->root,
			       "no 'verb' (add, change, del, list, clear, counters, version)");
	if (v->type != FL_Y_SCALAR || !v->text)
		return fl_yerr(err, r->doc, v, "'verb' must be a string");
	for (size_t i = 0; i < N_VERBS; i++)
		if (!strcmp(v->text, verbs[i])) {
			r->verb = verbs[i];
			return 0;
		}
	sug = fl_suggest(v->text, verbs, N_VERBS);
	if (sug)
		return fl_yerr(err, r->doc, v, "unknown verb '%s' (did you mean '%s'?)", v->text,
			       sug);
	return fl_yerr(err, r->doc, v,
		       "unknown verb '%s' (add, change, del, list, clear, counters, version)",
		       v->text);
}

/* JSON leaves duplicate members undefined: refuse them. */
static int no_duplicates(const struct fl_ctl_req *r, struct fl_err *err)
{
	const struct fl_ynode *m = r->doc->root;

	for (size_t i = 0; i < m->n; i++)
		for (size_t k = 0; k < i; k++)
			if (m->keys[i]->text && m->keys[k]->text &&
			    !strcmp(m->keys[i]->text, m->keys[k]->text))
				return fl_yerr(err, r->doc, m->keys[i], "'%s' given twice",
					       m->keys[i]->text);
	return 0;
}

static int read_request(struct fl_ctl_req *r, const char *line, struct fl_err *err)
{
	const struct fl_ynode *root;
	int ret = fl_yaml_load("request", line, &r->doc, err);

	if (ret)
		return ret;
	root = r->doc->root;
	if (!root || root->type != FL_Y_MAP)
		return fl_yerr(err, r->doc, root, "a request is one JSON object on one line");
	r->seq = fl_ymap_get(root, "seq");
	ret = fl_ycheck_keys(r->doc, root, "request", members, err);
	if (!ret)
		ret = no_duplicates(r, err);
	if (!ret)
		ret = read_verb(r, err);
	if (!ret)
		ret = fl_yget_str(r->doc, root, "id", false, &r->id, err);
	if (!ret)
		ret = fl_yget_str(r->doc, root, "lease", false, &r->lease, err);
	if (ret)
		return ret;
	r->target = fl_ymap_get(root, "target");
	r->faults = fl_ymap_get(root, "faults");
	r->capture = fl_ymap_get(root, "capture");
	r->fault = fl_ymap_get(root, "fault");
	return r->fault ? fl_ctl_words(r->doc, r->fault, &r->words, r->argv, &r->argc, err) : 0;
}

/* ---- the verbs -------------------------------------------------------------- */

static int need(struct fl_out *o, const struct fl_ctl_req *r, bool fault, bool id)
{
	if (fault && !r->fault)
		return fl_ctl_refuse(o, r, "%s: no 'fault' (its words, as for fallacy fault add)",
				     r->verb);
	if (id && !r->id)
		return fl_ctl_refuse(o, r, "%s: no 'id' (the fault's, as add answered it)",
				     r->verb);
	return 0;
}

static int owned(struct fl_ctl *c, struct fl_out *o, const struct fl_ctl_req *r)
{
	if (fl_ctl_own_find(c, r->id) >= 0)
		return 0;
	return fl_ctl_refuse(o, r, "%s: no fault '%s' added through this control socket (see list)",
			     r->verb, r->id);
}

/* The "id" member of the supervisor's `fault add -j` answer. */
static int added_id(const char *json, char *id, size_t len)
{
	struct fl_ydoc *d = NULL;
	struct fl_err err;
	const struct fl_ynode *v;
	int ret = -EPROTO;

	if (json && !fl_yaml_load("answer", json, &d, &err) && d->root &&
	    (v = fl_ymap_get(d->root, "id")) && v->type == FL_Y_SCALAR && v->text &&
	    strlen(v->text) < len) {
		snprintf(id, len, "%s", v->text);
		ret = 0;
	}
	fl_yaml_free(d);
	return ret;
}

int fl_ctl_parse(struct fl_ctl *c, int argc, char **argv, struct fl_fault *f, struct fl_err *err)
{
	struct fl_rule rules[FL_FAULT_MAX_RULES];
	struct fl_lab *lab = NULL;
	int ret = 0;

	if (c->target.kind == FL_TARGET_LAB && fl_lab_load(c->target.lab, &lab)) {
		fl_err_set(err, "lab %s is gone", c->target.lab);
		return -ENOENT;
	}
	if (fl_fault_parse(f, argc, argv, lab, err) ||
	    fl_fault_rules(f, lab, rules, FL_FAULT_MAX_RULES, err) < 0)
		ret = -EINVAL;
	fl_lab_free(lab);
	return ret;
}

int fl_ctl_add(struct fl_ctl *c, struct fl_fault *f, const char *key, char **out, char **msg)
{
	char id[FL_FAULT_ID_MAX + 1];
	int status;

	if (c->adapt)
		c->adapt(c, f);
	if (!f->seed_given) { /* chosen here, so that the answer can say it */
		if (getrandom(&f->seed, sizeof(f->seed), 0) != sizeof(f->seed))
			f->seed = (uint64_t)getpid() * 2654435761u;
		f->seed &= FL_SEED_MAX;
		f->seed_given = true;
	}
	status = c->ops->add(c, f, out, msg);
	if (!status && added_id(*out, id, sizeof(id)))
		status = 2;
	if (status)
		return status;
	snprintf(f->id, sizeof(f->id), "%s", id);
	c->key[c->n_own] = key ? strdup(key) : NULL;
	snprintf(c->own[c->n_own++], sizeof(c->own[0]), "%s", id);
	if (c->added)
		c->added(c, f);
	return 0;
}

static int verb_add(struct fl_ctl *c, struct fl_out *o, struct fl_ctl_req *r)
{
	struct fl_fault *f = calloc(1, sizeof(*f));
	char *out = NULL, *msg = NULL;
	struct fl_err err = { "" };
	int ret;

	if (!f)
		return fl_ctl_refuse(o, r, "add: out of memory");
	if (fl_ctl_parse(c, r->argc, r->argv, f, &err)) {
		ret = fl_ctl_refuse(o, r, "add: %s", err.msg);
		goto out;
	}
	fl_ctl_own_sync(c);
	if (c->n_own >= FL_CTL_MAX_FAULTS) {
		ret = fl_ctl_refuse(o, r, "add: %d faults added already (del or clear some)",
				    FL_CTL_MAX_FAULTS);
		goto out;
	}
	if (fl_ctl_add(c, f, NULL, &out, &msg)) {
		ret = fl_ctl_refuse(o, r, "%s", msg && *msg ? msg : "add: the session refused");
		goto out;
	}
	fl_ctl_open(o, r, true);
	fl_out_raw(o, "fault", one_line(out));
	fl_ctl_close(o);
	ret = 0;
out:
	free(out);
	free(msg);
	free(f);
	return ret;
}

/* A session request whose answer is only its status. */
static int simple(struct fl_ctl *c, struct fl_out *o, const struct fl_ctl_req *r, int argc,
		  char **argv)
{
	char *out = NULL, *msg = NULL;
	int status = c->ops->request(c, argc, argv, &out, &msg), ret = 0;

	if (status)
		ret = fl_ctl_refuse(o, r, "%s", msg && *msg ? msg : "the session refused");
	free(out);
	free(msg);
	return ret;
}

static int verb_change(struct fl_ctl *c, struct fl_out *o, struct fl_ctl_req *r)
{
	char *argv[CTL_MAX_WORDS + 3] = { "change", (char *)r->id };
	int ret = need(o, r, true, true) ?: owned(c, o, r);

	if (ret)
		return ret;
	memcpy(argv + 2, r->argv, (size_t)(r->argc + 1) * sizeof(char *));
	ret = simple(c, o, r, r->argc + 2, argv);
	if (ret)
		return ret;
	fl_ctl_open(o, r, true);
	fl_out_str(o, "id", r->id);
	fl_ctl_close(o);
	return 0;
}

/* Delete our fault i (its counters read first by the deleting hook). */
int fl_ctl_del(struct fl_ctl *c, int i, char **msg)
{
	char *argv[] = { "del", c->own[i], NULL }, *out = NULL;
	int status;

	if (c->deleting)
		c->deleting(c, c->own[i]);
	status = c->ops->request(c, 2, argv, &out, msg);
	free(out);
	own_drop(c, i); /* gone either way: healed now, or expired before */
	return status;
}

static int verb_del(struct fl_ctl *c, struct fl_out *o, const struct fl_ctl_req *r)
{
	char *msg = NULL;
	int ret = need(o, r, false, true) ?: owned(c, o, r);

	if (ret)
		return ret;
	if (fl_ctl_del(c, fl_ctl_own_find(c, r->id), &msg))
		ret = fl_ctl_refuse(o, r, "%s", msg && *msg ? msg : "del: the session refused");
	free(msg);
	if (ret)
		return ret;
	fl_ctl_open(o, r, true);
	fl_out_str(o, "id", r->id);
	fl_ctl_close(o);
	return 0;
}

static int verb_clear(struct fl_ctl *c, struct fl_out *o, const struct fl_ctl_req *r)
{
	char removed[FL_CTL_MAX_FAULTS][FL_FAULT_ID_MAX + 1];
	int n = 0, failed = 0;

	fl_ctl_own_sync(c);
	while (c->n_own) {
		char *msg = NULL;

		snprintf(removed[n++], sizeof(removed[0]), "%s", c->own[c->n_own - 1]);
		failed += fl_ctl_del(c, c->n_own - 1, &msg) != 0;
		free(msg);
	}
	if (failed)
		return fl_ctl_refuse(o, r, "clear: %d of %d faults could not be removed", failed,
				     n);
	fl_ctl_open(o, r, true);
	fl_out_open(o, "removed", '[');
	for (int i = 0; i < n; i++)
		fl_out_str(o, "", removed[i]);
	fl_out_close(o, ']');
	fl_ctl_close(o);
	return 0;
}

int fl_ctl_list(struct fl_ctl *c, char **out, char **msg)
{
	char *argv[FL_CTL_MAX_FAULTS + 2] = { "list" };
	int status = 0;

	*out = *msg = NULL;
	fl_ctl_own_sync(c);
	for (int i = 0; i < c->n_own; i++)
		argv[i + 1] = c->own[i];
	if (c->n_own)
		status = c->ops->request(c, c->n_own + 1, argv, out, msg);
	if (!status && !(*out && *one_line(*out))) {
		free(*out);
		*out = strdup("[]");
		if (!*out)
			status = 2;
	}
	return status;
}

static int verb_list(struct fl_ctl *c, struct fl_out *o, const struct fl_ctl_req *r)
{
	char *out = NULL, *msg = NULL;
	int status = fl_ctl_list(c, &out, &msg);

	if (status) {
		fl_ctl_refuse(o, r, "%s", msg && *msg ? msg : "list: the session refused");
	} else {
		fl_ctl_open(o, r, true);
		fl_out_raw(o, "faults", out);
		fl_ctl_close(o);
	}
	free(out);
	free(msg);
	return status ? -EINVAL : 0;
}

static void put_stat(struct fl_out *o, const struct fl_fault_stat *s)
{
	fl_out_open(o, "", '{');
	fl_out_str(o, "id", s->id);
	fl_out_str(o, "kind", s->kind);
	fl_counters_print(&s->c, o);
	fl_out_u64(o, "held", s->held);
	fl_out_u64(o, "overflow", s->overflow);
	fl_out_u64(o, "reordered", s->reordered);
	fl_out_u64(o, "bypassed", s->bypassed);
	fl_out_close(o, '}');
}

static int verb_counters(struct fl_ctl *c, struct fl_out *o, const struct fl_ctl_req *r)
{
	struct fl_fault_stat *v = NULL;
	int n = 0;

	if (r->id && owned(c, o, r))
		return -EINVAL;
	if (c->ops->stats(c, &v, &n))
		return fl_ctl_refuse(o, r, "counters: the session did not answer");
	fl_ctl_open(o, r, true);
	fl_out_open(o, "counters", '[');
	for (int i = 0; i < n; i++)
		if (fl_ctl_own_find(c, v[i].id) >= 0 && (!r->id || !strcmp(r->id, v[i].id)))
			put_stat(o, &v[i]);
	fl_out_close(o, ']');
	fl_ctl_close(o);
	free(v);
	return 0;
}

static int verb_version(struct fl_ctl *c, struct fl_out *o, const struct fl_ctl_req *r)
{
	fl_ctl_open(o, r, true);
	fl_out_str(o, "version", fl_version);
	fl_out_u64(o, "protocol", FL_CTL_PROTOCOL);
	fl_out_str(o, "scope", c->scope);
	if (c->target.session[0])
		fl_out_str(o, "session", c->target.session);
	fl_out_open(o, "verbs", '[');
	for (size_t i = 0; i < N_VERBS; i++)
		if (c->router ? !fl_ctl_agent_refused(verbs[i]) : !fl_ctl_agent_verb(verbs[i]))
			fl_out_str(o, "", verbs[i]);
	fl_out_close(o, ']');
	fl_out_open(o, "kinds", '[');
	for (int k = 0; fl_fault_kinds[k]; k++)
		fl_out_str(o, "", fl_fault_kinds[k]->name);
	fl_out_close(o, ']');
	fl_ctl_close(o);
	return 0;
}

int fl_ctl_dispatch(struct fl_ctl *c, struct fl_out *o, struct fl_ctl_req *r)
{
	if (!strcmp(r->verb, "add"))
		return need(o, r, true, false) ?: verb_add(c, o, r);
	if (!strcmp(r->verb, "change"))
		return verb_change(c, o, r);
	if (!strcmp(r->verb, "del"))
		return verb_del(c, o, r);
	if (!strcmp(r->verb, "clear"))
		return verb_clear(c, o, r);
	if (!strcmp(r->verb, "list"))
		return verb_list(c, o, r);
	if (!strcmp(r->verb, "counters"))
		return verb_counters(c, o, r);
	return verb_version(c, o, r);
}

int fl_ctl_handle(struct fl_ctl *c, const char *line, size_t len, FILE *out)
{
	struct fl_out o = { .f = out, .json = true, .compact = true };
	struct fl_ctl_req r = { 0 };
	struct fl_err err = { "" };
	char *text;
	int ret;

	if (len > FL_CTL_LINE_MAX)
		return fl_ctl_refuse(&o, NULL, "request longer than %d bytes", FL_CTL_LINE_MAX);
	if (memchr(line, '\0', len))
		return fl_ctl_refuse(&o, NULL, "a request is one line of JSON text (NUL found)");
	text = strndup(line, len);
	if (!text)
		return fl_ctl_refuse(&o, NULL, "out of memory");
	pthread_mutex_lock(&c->lock);
	ret = read_request(&r, text, &err);
	if (ret)
		ret = fl_ctl_refuse(&o, &r, "%s", err.msg);
	else if (c->router)
		ret = fl_ctl_agent_dispatch(c, &o, &r);
	else if (fl_ctl_agent_verb(r.verb) || r.target || r.faults || r.lease || r.capture)
		ret = fl_ctl_refuse(
			&o, &r,
			"%s: only fallacy agent serves targets, put, renew, reset and capture (and 'target', 'faults', 'lease', 'capture'); this is a %s control socket",
			r.verb, c->scope);
	else
		ret = fl_ctl_dispatch(c, &o, &r);
	pthread_mutex_unlock(&c->lock);
	fl_yaml_free(r.doc);
	free(r.words);
	free(text);
	return ret;
}

int fl_ctl_answer(struct fl_ctl *c, const char *line, size_t len, char **answer)
{
	size_t n = 0;
	FILE *f = open_memstream(answer, &n);
	int ret;

	if (!f) {
		*answer = NULL;
		return -ENOMEM;
	}
	ret = fl_ctl_handle(c, line, len, f);
	if (fclose(f))
		return -ENOMEM;
	return ret;
}
