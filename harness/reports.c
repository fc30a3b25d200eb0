// SPDX-License-Identifier: MIT
/* Reports over many runs: a row per run (verdict, checks, availability,
 * latency per window), the summary table, index.html, and two sets of runs
 * compared side by side (fallacy report --compare). */
#include "results.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "herd.h"
#include "parse.h"

/* ---- rows ------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Fill w from the latencies (s) of its ops, ok of them ok. */
static void win_fill(struct fl_win *w, double *lat, size_t n, size_t ok)
{
	w->ops = n;
	w->ok = ok;
	w->avail = w->p50 = w->p90 = w->p99 = NAN;
	if (!n)
		return;
	qsort(lat, n, sizeof(double), cmp_double);
	w->avail = (double)ok / (double)n;
	w->p50 = fl_percentile(lat, n, 50);
	w->p90 = fl_percentile(lat, n, 90);
	w->p99 = fl_percentile(lat, n, 99);
}

static bool in_span(const struct fl_span *sp, uint64_t t)
{
	return t >= sp->start_ns && t < sp->end_ns;
}

/* The ops in window k: -1 every op, -2 outside every fault window, else
 * in the windows of fault id (a fault added twice has two). */
static bool op_in(const struct fl_run_data *rd, const struct fl_op *o, int k, const char *id)
{
	bool any = false;

	if (k == -1)
		return true;
	for (size_t i = 0; i < rd->n_spans; i++) {
		if (!in_span(&rd->spans[i], o->start_ns))
			continue;
		if (k == -2 || !strcmp(rd->spans[i].id, id))
			any = true;
	}
	return k == -2 ? !any : any;
}

static void window(const struct fl_run_data *rd, int k, const char *id, const char *name,
		   struct fl_win *w, double *buf)
{
	size_t n = 0, ok = 0;

	for (size_t i = 0; i < rd->n_ops; i++) {
		const struct fl_op *o = &rd->ops[i];

		if (!op_in(rd, o, k, id))
			continue;
		buf[n++] = (o->end_ns - o->start_ns) / 1e9;
		ok += o->status == FL_OP_OK;
	}
	snprintf(w->name, sizeof(w->name), "%s", name);
	win_fill(w, buf, n, ok);
}

static bool seen_before(const struct fl_run_data *rd, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (!strcmp(rd->spans[k].id, rd->spans[i].id))
			return true;
	return false;
}

/* The backoff check's share, NAN without one (or skipped). */
static double backoff_share(const struct fl_suite *s)
{
	for (size_t i = 0; i < s->n_cases; i++)
		if (!strcmp(s->cases[i].kind, "backoff") && !s->cases[i].skipped)
			return strtod(s->cases[i].measured, NULL);
	return NAN;
}

/* The herd's largest spike after a heal (herd.jsonl; none: h->on false). */
static void herd_sum(const struct fl_suite *s, const struct fl_run_data *rd, struct fl_herd_sum *h)
{
	struct fl_herd_bucket *b = NULL;
	struct fl_herd_rec *rec = NULL;
	struct fl_herd_peak p;
	size_t n = 0, nb = 0;
	char path[PATH_MAX];
	struct fl_err err;

	h->backoff = backoff_share(s);
	snprintf(path, sizeof(path), "%s/herd.jsonl", s->dir);
	if (fl_herd_load(path, &rec, &n, &err) || !n ||
	    fl_herd_buckets(rec, n, rd->start_ns, rd->end_ns, &b, &nb))
		goto out;
	h->on = true;
	for (size_t i = 0; i < n; i++)
		h->connects += rec[i].connect;
	for (size_t i = 0; i < rd->n_heals; i++) {
		if (fl_herd_peak(b, nb, rd->start_ns, rd->heals[i], &p) ||
		    (h->heal[0] && p.connects <= h->peak_connects))
			continue;
		snprintf(h->heal, sizeof(h->heal), "%s", rd->heal_ids[i]);
		h->peak_after_s = fmax(0, (double)(rd->start_ns + p.bucket * FL_HERD_BUCKET_NS) -
						  (double)rd->heals[i]) /
				  1e9;
		h->peak_connects = p.connects;
		h->peak_ok = p.connects_ok;
		h->handshake_p99_ms = p.handshake_p99_ms;
		h->request_p99_ms = p.request_p99_ms;
	}
out:
	free(b);
	free(rec);
}

int fl_row_load(const struct fl_suite *s, struct fl_row *row)
{
	struct fl_run_data rd = { 0 };
	char ops[PATH_MAX], ev[PATH_MAX];
	struct fl_err err;
	double *buf;

	memset(row, 0, sizeof(*row));
	row->s = s;
	snprintf(row->all.name, sizeof(row->all.name), "all");
	win_fill(&row->all, NULL, 0, 0);
	snprintf(ops, sizeof(ops), "%s/ops.jsonl", s->dir);
	snprintf(ev, sizeof(ev), "%s/events.jsonl", s->dir);
	if (fl_run_data_load(ops, ev, &rd, &err))
		return -ENOENT;
	buf = malloc((rd.n_ops + 1) * sizeof(double));
	if (!buf) {
		fl_run_data_free(&rd);
		return -ENOMEM;
	}
	window(&rd, -1, NULL, "all", &row->all, buf);
	if (rd.n_spans)
		window(&rd, -2, NULL, "outside faults", &row->win[row->n_win++], buf);
	for (size_t i = 0; i < rd.n_spans && row->n_win < FL_ROW_MAX_WINDOWS; i++)
		if (!seen_before(&rd, i))
			window(&rd, (int)i, rd.spans[i].id, rd.spans[i].id, &row->win[row->n_win++],
			       buf);
	free(buf);
	herd_sum(s, &rd, &row->herd);
	fl_run_data_free(&rd);
	return 0;
}

static const char *verdict(const struct fl_suite *s)
{
	return s->error[0] ? "error" : fl_suite_failures(s) ? "fail" : "pass";
}

static void fmt_avail(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.4g", v);
}

/* For people: "850us", "12.3ms", "1.01s". */
static void fmt_lat(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else if (v < 1e-3)
		snprintf(buf, len, "%.0fus", v * 1e6);
	else if (v < 1)
		snprintf(buf, len, "%.3gms", v * 1e3);
	else
		snprintf(buf, len, "%.3gs", v);
}

/* ---- the table and -j ------------------------------------------------------ */

static void lat_json(struct fl_out *o, const char *key, double v)
{
	if (isnan(v))
		fl_out_null(o, key);
	else
		fl_out_dur(o, key, (uint64_t)llround(v * 1e9));
}

static void win_json(struct fl_out *o, const struct fl_win *w)
{
	fl_out_open(o, "", '{');
	fl_out_str(o, "window", w->name);
	fl_out_u64(o, "ops", w->ops);
	fl_out_u64(o, "ok", w->ok);
	if (isnan(w->avail))
		fl_out_null(o, "availability");
	else
		fl_out_pct(o, "availability", w->avail);
	lat_json(o, "p50", w->p50);
	lat_json(o, "p90", w->p90);
	lat_json(o, "p99", w->p99);
	fl_out_close(o, '}');
}

/* The checks judged: all but the skipped ones. */
static size_t judged(const struct fl_suite *s)
{
	return s->n_cases - (size_t)fl_suite_skipped(s);
}

static void row_json(struct fl_out *o, const struct fl_row *r)
{
	const struct fl_suite *s = r->s;
	char path[PATH_MAX];

	fl_out_open(o, "", '{');
	fl_out_str(o, "scenario", s->name);
	fl_out_str(o, "target", s->target);
	fl_out_str(o, "fallacy", s->fallacy);
	fl_out_str(o, "result", verdict(s));
	fl_out_u64(o, "checks_passed", judged(s) - (size_t)fl_suite_failures(s));
	fl_out_u64(o, "checks", s->n_cases);
	fl_out_u64(o, "checks_skipped", (uint64_t)fl_suite_skipped(s));
	fl_out_u64(o, "seed", s->seed);
	fl_out_open(o, "windows", '[');
	win_json(o, &r->all);
	for (size_t i = 0; i < r->n_win; i++)
		win_json(o, &r->win[i]);
	fl_out_close(o, ']');
	fl_out_str(o, "dir", s->dir);
	snprintf(path, sizeof(path), "%s/report.html", s->dir);
	fl_out_str(o, "report", path);
	if (s->error[0])
		fl_out_str(o, "error", s->error);
	fl_out_close(o, '}');
}

void fl_rows_print(FILE *f, const struct fl_row *rows, size_t n, bool json)
{
	struct fl_out o = { .f = f, .json = true };
	char checks[32], av[32], p99[32];

	if (json) {
		fl_out_open(&o, "", '[');
		for (size_t i = 0; i < n; i++)
			row_json(&o, &rows[i]);
		fl_out_close(&o, ']');
		fputc('\n', f);
		return;
	}
	fprintf(f, "\n%-28s %-13s %-6s %7s %7s %10s %7s  %s\n", "SCENARIO", "TARGET", "RESULT",
		"CHECKS", "AVAIL", "P99", "OPS", "RESULTS");
	for (size_t i = 0; i < n; i++) {
		const struct fl_suite *s = rows[i].s;

		snprintf(checks, sizeof(checks), "%zu/%zu", judged(s) - fl_suite_failures(s),
			 judged(s));
		fmt_avail(rows[i].all.avail, av, sizeof(av));
		fmt_lat(rows[i].all.p99, p99, sizeof(p99));
		fprintf(f, "%-28s %-13s %-6s %7s %7s %10s %7zu  %s\n", s->name, s->target,
			verdict(s), checks, av, p99, rows[i].all.ops, s->dir);
		for (size_t j = 0; j < s->n_cases; j++)
			if (!s->cases[j].pass)
				fprintf(f, "    %s %s: %s\n", s->cases[j].skipped ? "skip" : "FAIL",
					s->cases[j].name,
					s->cases[j].message +
						(s->cases[j].skipped ? strlen("skipped: ") : 0));
		if (s->error[0])
			fprintf(f, "    ERROR %s\n", s->error);
	}
}

void fl_summary_table(FILE *f, const struct fl_suite *suites, size_t n)
{
	struct fl_row *rows = calloc(n + 1, sizeof(*rows));

	if (!rows)
		return;
	for (size_t i = 0; i < n; i++)
		fl_row_load(&suites[i], &rows[i]);
	fl_rows_print(f, rows, n, false);
	free(rows);
}

/* ---- HTML ------------------------------------------------------------------- */

static const char css[] =
	"body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}"
	"td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;font-size:90%}"
	"td.n{text-align:right}.pass{color:#080;font-weight:bold}.fail,.error{color:#b00;"
	"font-weight:bold}.better{color:#080}.worse{color:#b00}";

static void html_head(FILE *f, const char *title)
{
	fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>", f);
	fl_xml_str(f, title);
	fprintf(f, "</title><style>%s</style></head><body>\n<h1>", css);
	fl_xml_str(f, title);
	fputs("</h1>\n", f);
}

/* dir as seen from the folder base: relative when it lies inside it. */
static const char *rel(const char *dir, const char *base)
{
	size_t n = strlen(base);

	while (n > 1 && base[n - 1] == '/')
		n--;
	if (!strncmp(dir, base, n) && dir[n] == '/')
		return dir + n + 1;
	return dir;
}

static void link(FILE *f, const char *dir, const char *file, const char *label)
{
	fputs("<a href=\"", f);
	fl_xml_str(f, dir);
	fprintf(f, "/%s\">%s</a> ", file, label);
}

static void index_row(FILE *f, const struct fl_row *r, const char *base)
{
	const struct fl_suite *s = r->s;
	const char *d = rel(s->dir, base);
	char av[32], p99[32];

	fmt_avail(r->all.avail, av, sizeof(av));
	fmt_lat(r->all.p99, p99, sizeof(p99));
	fputs("<tr><td>", f);
	fl_xml_str(f, s->name);
	fputs("</td><td>", f);
	fl_xml_str(f, s->target);
	fprintf(f, "</td><td class=\"%s\">%s</td><td class=\"n\">%zu/%zu</td>", verdict(s),
		verdict(s), judged(s) - fl_suite_failures(s), judged(s));
	fprintf(f, "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%zu</td><td>", av,
		p99, r->all.ops);
	link(f, d, "report.html", "report");
	link(f, d, "summary.json", "summary");
	link(f, d, "junit.xml", "junit");
	link(f, d, "events.jsonl", "events");
	fputs("</td></tr>\n", f);
}

int fl_report_index(const char *path, const struct fl_suite *suites, size_t n)
{
	char base[PATH_MAX], *slash;
	struct fl_row row;
	size_t pass = 0;
	FILE *f;

	snprintf(base, sizeof(base), "%s", path);
	slash = strrchr(base, '/');
	snprintf(slash ? slash : base, sizeof(base) - (size_t)(slash ? slash - base : 0), "%s",
		 slash ? "" : ".");
	f = fopen(path, "we");
	if (!f)
		return -errno;
	for (size_t i = 0; i < n; i++)
		pass += fl_suite_pass(&suites[i]);
	html_head(f, "fallacy: runs");
	fprintf(f, "<p>%zu runs, %zu passed, %zu failed.</p>\n", n, pass, n - pass);
	fputs("<table><tr><th>scenario</th><th>target</th><th>verdict</th><th>checks</th>"
	      "<th>availability</th><th>p99</th><th>ops</th><th>results</th></tr>\n",
	      f);
	for (size_t i = 0; i < n; i++) {
		fl_row_load(&suites[i], &row);
		index_row(f, &row, base);
	}
	fputs("</table>\n</body></html>\n", f);
	return fclose(f) ? -errno : 0;
}
