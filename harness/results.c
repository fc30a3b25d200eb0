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

uint64_t fl_clock_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

uint64_t fl_clock_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

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

void fl_jstr(FILE *f, const char *s)
{
	char buf[4096];

	fl_jstrbuf(buf, sizeof(buf), s);
	fputs(buf, f);
}

void fl_jstrbuf(char *buf, size_t len, const char *s)
{
	size_t o = 0;

	if (len < 3)
		return;
	buf[o++] = '"';
	for (; s && *s && o + 8 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else if (c == '\t') {
			buf[o++] = '\\';
			buf[o++] = 't';
		} else if (c < 0x20 || c == 0x7f) {
			o += snprintf(buf + o, len - o, "\\u%04x", c);
		} else {
			buf[o++] = (char)c;
		}
	}
	buf[o++] = '"';
	buf[o] = 0;
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

uint64_t fl_results_event(struct fl_results *r, uint64_t mono_ns, const char *event, const char *id,
			  const char *extra)
{
	uint64_t wall = fl_clock_wall_ns(), now = fl_clock_mono_ns();
	char idj[256] = "";

	if (!mono_ns)
		mono_ns = now;
	/* wall clock of the same instant */
	wall -= now - mono_ns;
	if (id) {
		char q[200];

		fl_jstrbuf(q, sizeof(q), id);
		snprintf(idj, sizeof(idj), ",\"id\":%s", q);
	}
	pthread_mutex_lock(&r->lock);
	fprintf(r->events, "{\"mono_ns\":%llu,\"wall_ns\":%llu,\"event\":\"%s\"%s%s%s}\n",
		(unsigned long long)mono_ns, (unsigned long long)wall, event, idj,
		extra && extra[0] ? "," : "", extra ? extra : "");
	pthread_mutex_unlock(&r->lock);
	return mono_ns;
}

int fl_results_op(struct fl_results *r, const struct fl_op *op)
{
	char node[64], name[160];
	int ret;

	fl_jstrbuf(node, sizeof(node), op->node);
	fl_jstrbuf(name, sizeof(name), op->op);
	pthread_mutex_lock(&r->lock);
	ret = fprintf(r->ops,
		      "{\"start_ns\":%llu,\"end_ns\":%llu,\"node\":%s,\"op\":%s,\"status\":\"%s\","
		      "\"latency_ns\":%llu}\n",
		      (unsigned long long)op->start_ns, (unsigned long long)op->end_ns, node, name,
		      fl_op_status_name(op->status),
		      (unsigned long long)(op->end_ns - op->start_ns));
	if (op->status == FL_OP_OK)
		r->n_ok++;
	else if (op->status == FL_OP_FAIL)
		r->n_fail++;
	else
		r->n_timeout++;
	pthread_mutex_unlock(&r->lock);
	return ret < 0 ? -EIO : 0;
}
