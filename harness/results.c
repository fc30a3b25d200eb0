// SPDX-License-Identifier: MIT
/* Results folder: JSON lines, summary.json, JUnit XML, TAP, table. */
#include "results.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "yaml.h"

static int mkdir_p(const char *path)
{
	char buf[1200];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

void fl_results_default_dir(const char *name, char *buf, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;
	char ts[32];

	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y%m%d-%H%M%S", &tm);
	snprintf(buf, len, "results/%s-%s", name, ts);
	for (int i = 2; access(buf, F_OK) == 0 && i < 1000; i++)
		snprintf(buf, len, "results/%s-%s-%d", name, ts, i);
}

static FILE *open_in(const char *dir, const char *name, struct fl_err *err)
{
	char path[1100];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	if (!f)
		fl_err_set(err, "cannot write %s: %s", path, strerror(errno));
	else
		setvbuf(f, NULL, _IOLBF, 0);
	return f;
}

int fl_results_open(const char *dir, struct fl_results **out, struct fl_err *err)
{
	struct fl_results *r = calloc(1, sizeof(*r));
	char logs[1100];
	int ret;

	if (!r)
		return -ENOMEM;
	snprintf(logs, sizeof(logs), "%s/logs", dir);
	ret = mkdir_p(logs);
	if (ret) {
		fl_err_set(err, "cannot create %s: %s", logs, strerror(-ret));
		free(r);
		return ret;
	}
	pthread_mutex_init(&r->lock, NULL);
	r->dir = strdup(dir);
	r->events = open_in(dir, "events.jsonl", err);
	r->ops = r->events ? open_in(dir, "ops.jsonl", err) : NULL;
	if (!r->dir || !r->ops) {
		fl_results_close(r);
		return -EIO;
	}
	*out = r;
	return 0;
}

void fl_results_close(struct fl_results *r)
{
	if (!r)
		return;
	if (r->events)
		fclose(r->events);
	if (r->ops)
		fclose(r->ops);
	pthread_mutex_destroy(&r->lock);
	free(r->dir);
	free(r);
}

void fl_xml_str(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '<')
			fputs("&lt;", f);
		else if (c == '>')
			fputs("&gt;", f);
		else if (c == '&')
			fputs("&amp;", f);
		else if (c == '"')
			fputs("&quot;", f);
		else if (c == '\'')
			fputs("&apos;", f);
		else if (c < 0x20 && c != '\n' && c != '\t')
			fputc('?', f); /* not allowed in XML 1.0 */
		else
			fputc(c, f);
	}
}

struct fl_out *fl_results_event_begin(struct fl_results *r, uint64_t mono_ns, const char *event,
				      const char *id, uint64_t *t)
{
	uint64_t wall = fl_clock_wall_ns(), now = fl_clock_mono_ns();

	if (!mono_ns)
		mono_ns = now;
	if (t)
		*t = mono_ns;
	pthread_mutex_lock(&r->lock);
	r->ev = (struct fl_out){ .f = r->events, .json = true, .compact = true };
	fl_out_open(&r->ev, "", '{');
	fl_out_u64(&r->ev, "mono_ns", mono_ns);
	fl_out_u64(&r->ev, "wall_ns", wall - (now - mono_ns)); /* of the same instant */
	fl_out_str(&r->ev, "event", event);
	if (id)
		fl_out_str(&r->ev, "id", id);
	return &r->ev;
}

void fl_results_event_end(struct fl_results *r)
{
	fl_out_close(&r->ev, '}');
	fputc('\n', r->events);
	pthread_mutex_unlock(&r->lock);
}

uint64_t fl_results_event(struct fl_results *r, uint64_t mono_ns, const char *event, const char *id)
{
	uint64_t t;

	fl_results_event_begin(r, mono_ns, event, id, &t);
	fl_results_event_end(r);
	return t;
}

/* A value as the workload wrote it: a number as a number, "" as null. */
static void op_value(struct fl_out *o, const char *name, const char *v)
{
	unsigned long long n;
	char *end, back[32];

	if (!v[0]) {
		fl_out_null(o, name);
		return;
	}
	n = strtoull(v, &end, 10);
	snprintf(back, sizeof(back), "%llu", n);
	if (!*end && !strcmp(back, v))
		fl_out_u64(o, name, n);
	else
		fl_out_str(o, name, v);
}

static bool is_f(const struct fl_op *op, const char *a, const char *b)
{
	return !strcmp(op->f, a) || !strcmp(op->f, b);
}

/* The members a history has (docs/consistency.md): process, type (ok,
 * fail, or info for a timeout or an unknown effect), and for operations
 * of the history (the target's op has an f) f, key and value (a read's
 * what it read, a cas's [expected, new]); other ops keep the value they
 * wrote. */
static void op_history(struct fl_out *o, const struct fl_op *op)
{
	static const char *const types[] = { "ok", "fail", "info" };
	enum fl_op_status st = op->status <= FL_OP_TIMEOUT ? op->status : FL_OP_FAIL;

	if (op->process)
		fl_out_u64(o, "process", op->process);
	fl_out_str(o, "type", types[op->unknown ? FL_OP_TIMEOUT : op->no_match ? FL_OP_FAIL : st]);
	if (op->f[0]) /* an operation of the history */
		fl_out_str(o, "f", op->f);
	if (op->key[0])
		fl_out_str(o, "key", op->key);
	if (is_f(op, "read", "get")) {
		if (st == FL_OP_OK)
			op_value(o, "value", op->value);
	} else if (!strcmp(op->f, "cas")) {
		fl_out_open(o, "value", '[');
		op_value(o, "", op->expect);
		op_value(o, "", op->value);
		fl_out_close(o, ']');
	} else if (op->value[0]) {
		op_value(o, "value", op->value);
	}
	if (op->skipped)
		fl_out_bool(o, "skipped", true);
}

int fl_results_op(struct fl_results *r, const struct fl_op *op)
{
	struct fl_out o = { .f = r->ops, .json = true, .compact = true };
	int ret;

	pthread_mutex_lock(&r->lock);
	fl_out_open(&o, "", '{');
	fl_out_u64(&o, "start_ns", op->start_ns);
	fl_out_u64(&o, "end_ns", op->end_ns);
	fl_out_str(&o, "node", op->node);
	fl_out_str(&o, "op", op->op);
	fl_out_str(&o, "status", fl_op_status_name(op->status));
	fl_out_u64(&o, "latency_ns", op->end_ns - op->start_ns);
	op_history(&o, op);
	fl_out_close(&o, '}');
	ret = fputc('\n', r->ops) == EOF ? -1 : 0;
	if (op->status == FL_OP_OK)
		r->n_ok++;
	else if (op->status == FL_OP_FAIL)
		r->n_fail++;
	else
		r->n_timeout++;
	pthread_mutex_unlock(&r->lock);
	return ret < 0 ? -EIO : 0;
}
