// SPDX-License-Identifier: MIT
/* report.html: one self-contained page (inline SVG and CSS, no scripts,
 * no network) with latency and throughput over time, a latency lane per
 * node, the fault counters over time (fault-counters.jsonl), fault windows
 * shaded, and the checks with measured values next to their bounds. */
#include "results.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "herd.h"
#include "nines.h"
#include "transport.h"
#include "yaml.h"

#define W 960
#define H 240
#define ML 60 /* left margin */
#define MB 30 /* bottom margin */
#define MT 20

struct plot {
	FILE *f;
	uint64_t t0, t1;
	double ymin, ymax;
	bool logy;
	double top, bottom; /* pixels of the plotting area; 0, 0: MT, H - MB */
	bool no_time; /* no time labels under the x axis (all but the last lane) */
};

static double top(const struct plot *p)
{
	return p->bottom > 0 ? p->top : MT;
}

static double bottom(const struct plot *p)
{
	return p->bottom > 0 ? p->bottom : H - MB;
}

static double px(const struct plot *p, uint64_t t)
{
	double span = p->t1 > p->t0 ? (double)(p->t1 - p->t0) : 1;

	if (t < p->t0)
		t = p->t0;
	return ML + (W - ML - 10) * ((double)(t - p->t0) / span);
}

static double py(const struct plot *p, double v)
{
	double a = p->logy ? log10(p->ymin) : p->ymin, b = p->logy ? log10(p->ymax) : p->ymax;
	double x = p->logy ? log10(v < p->ymin ? p->ymin : v) : v;

	if (b <= a)
		b = a + 1;
	return bottom(p) - (bottom(p) - top(p)) * ((x - a) / (b - a));
}

static void shade(const struct plot *p, const struct fl_run_data *rd)
{
	for (size_t i = 0; i < rd->n_spans; i++) {
		const struct fl_span *s = &rd->spans[i];
		double x0 = px(p, s->start_ns), x1 = px(p, s->end_ns);

		fprintf(p->f,
			"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"fault\" data-id=\"",
			x0, top(p), x1 - x0 > 1 ? x1 - x0 : 1, bottom(p) - top(p));
		fl_xml_str(p->f, s->id);
		fprintf(p->f, "\"/><text x=\"%.1f\" y=\"%.1f\" class=\"lbl\">", x0 + 2,
			top(p) + 10);
		fl_xml_str(p->f, s->id);
		fputs("</text>\n", p->f);
	}
}

static void axes(const struct plot *p, const char *ylabel)
{
	double secs = (p->t1 - p->t0) / 1e9;
	double step = secs > 120 ? 30 : secs > 40 ? 10 : secs > 10 ? 5 : 1;

	fprintf(p->f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"ax\"/>", ML,
		bottom(p), W - 10, bottom(p));
	fprintf(p->f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"ax\"/>", ML,
		top(p), ML, bottom(p));
	for (double s = 0; s <= secs + 1e-9 && !p->no_time; s += step)
		fprintf(p->f, "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\">%gs</text>",
			px(p, p->t0 + (uint64_t)(s * 1e9)), bottom(p) + 14, s);
	if (ylabel)
		fprintf(p->f, "<text x=\"4\" y=\"%.1f\" class=\"tick\">%s</text>\n", top(p) - 6,
			ylabel);
}

/* The plot's heading, its svg element, the fault windows and the axes. */
static void plot_open(const struct plot *p, const struct fl_run_data *rd, const char *chart,
		      const char *title, const char *ylabel)
{
	fprintf(p->f,
		"<h2>%s</h2>\n<svg class=\"chart\" data-chart=\"%s\" width=\"%d\" "
		"height=\"%d\">\n",
		title, chart, W, H);
	shade(p, rd);
	axes(p, ylabel);
}

static void ytick(const struct plot *p, double v, const char *label)
{
	fprintf(p->f,
		"<text x=\"%d\" y=\"%.1f\" class=\"tick ytick\">%s</text>"
		"<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"grid\"/>",
		ML - 4, py(p, v) + 4, label, ML, py(p, v), W - 10, py(p, v));
}

static void latency_plot(FILE *f, const struct fl_run_data *rd, uint64_t t0, uint64_t t1)
{
	struct plot p = { f, t0, t1, 1e-4, 1e-3, true, 0, 0, false };
	static const char *const cls[] = { "ok", "bad", "to" };
	static const struct {
		double v;
		const char *l;
	} ticks[] = { { 1e-4, "0.1ms" }, { 1e-3, "1ms" }, { 1e-2, "10ms" },
		      { 0.1, "100ms" },	 { 1, "1s" },	  { 10, "10s" } };

	for (size_t i = 0; i < rd->n_ops; i++)
		p.ymax = fmax(p.ymax, (rd->ops[i].end_ns - rd->ops[i].start_ns) / 1e9);
	plot_open(&p, rd, "latency", "Latency of each operation", "latency (log)");
	for (size_t i = 0; i < sizeof(ticks) / sizeof(ticks[0]); i++)
		if (ticks[i].v <= p.ymax * 1.01)
			ytick(&p, ticks[i].v, ticks[i].l);
	for (size_t i = 0; i < rd->n_ops; i++) {
		const struct fl_op *o = &rd->ops[i];

		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\" class=\"%s\"/>",
			px(&p, o->start_ns), py(&p, (o->end_ns - o->start_ns) / 1e9),
			cls[o->status]);
	}
	fputs("\n</svg>\n", f);
}

static void polyline(const struct plot *p, const double *v, size_t n, uint64_t bucket,
		     const char *cls)
{
	fprintf(p->f, "<polyline class=\"%s series\" data-series=\"%s\" points=\"", cls, cls);
	for (size_t i = 0; i < n; i++)
		fprintf(p->f, "%.1f,%.1f ", px(p, p->t0 + i * bucket + bucket / 2), py(p, v[i]));
	fputs("\"/>\n", p->f);
}

/* Two series on a linear axis from 0: good (green, "lok") and bad (red,
 * "lbad"), one value per bucket, in a plot of its own. */
static void plot_good_bad(struct plot *p, const struct fl_run_data *rd, const char *id,
			  const char *title, const char *unit, const double *good,
			  const double *bad, size_t n, uint64_t bucket)
{
	char lbl[32];

	for (size_t i = 0; i < n; i++)
		p->ymax = fmax(p->ymax, fmax(good[i], bad[i]) * 1.1);
	plot_open(p, rd, id, title, unit);
	for (int i = 0; i <= 4; i++) {
		snprintf(lbl, sizeof(lbl), "%.3g", p->ymax * i / 4);
		ytick(p, p->ymax * i / 4, lbl);
	}
	polyline(p, good, n, bucket, "lok");
	polyline(p, bad, n, bucket, "lbad");
	fputs("</svg>\n", p->f);
}

static void throughput_plot(FILE *f, const struct fl_run_data *rd, uint64_t t0, uint64_t t1)
{
	struct plot p = { f, t0, t1, 0, 1, false, 0, 0, false };
	uint64_t bucket = (t1 - t0) / 60 > 1000000000ULL ? (t1 - t0) / 60 : 1000000000ULL;
	size_t n = (size_t)((t1 - t0) / bucket) + 1;
	double *ok = calloc(n, sizeof(double)), *bad = calloc(n, sizeof(double));

	if (!ok || !bad)
		goto out;
	for (size_t i = 0; i < rd->n_ops; i++) {
		const struct fl_op *o = &rd->ops[i];
		size_t b = o->start_ns >= t0 ? (size_t)((o->start_ns - t0) / bucket) : 0;

		if (b < n)
			(o->status == FL_OP_OK ? ok : bad)[b] += 1e9 / bucket;
	}
	plot_good_bad(&p, rd, "throughput",
		      "Operations per second (ok: green, failed or timed out: red)", "ops/s", ok,
		      bad, n, bucket);
out:
	free(ok);
	free(bad);
}

/* ---- the herd (herd.h): reconnects, requests and their latency ------------- */

static void herd_counts(FILE *f, const struct fl_run_data *rd, const struct fl_herd_bucket *b,
			size_t n, uint64_t t0, uint64_t t1)
{
	struct plot p = { f, t0, t1, 0, 1, false, 0, 0, false };
	double *c = calloc(n, sizeof(double)), *r = calloc(n, sizeof(double));

	if (!c || !r)
		goto out;
	for (size_t i = 0; i < n; i++) {
		c[i] = b[i].connects;
		r[i] = b[i].requests;
	}
	plot_good_bad(&p, rd, "herd-counts",
		      "Herd: connect attempts (red) and requests (green) per 100 ms", "per 100ms",
		      r, c, n, FL_HERD_BUCKET_NS);
out:
	free(c);
	free(r);
}

static void herd_latency(FILE *f, const struct fl_run_data *rd, const struct fl_herd_bucket *b,
			 size_t n, uint64_t t0, uint64_t t1)
{
	struct plot p = { f, t0, t1, 0.1, 1, true, 0, 0, false };
	static const double ticks[] = { 0.1, 1, 10, 100, 1000, 10000 };
	char lbl[32];

	for (size_t i = 0; i < n; i++) {
		if (!isnan(b[i].p99_ms))
			p.ymax = fmax(p.ymax, b[i].p99_ms * 1.2);
		if (!isnan(b[i].connect_p99_ms))
			p.ymax = fmax(p.ymax, b[i].connect_p99_ms * 1.2);
	}
	plot_open(&p, rd, "herd-latency",
		  "Herd: request latency per 100 ms, p50 (blue) and p99 (red); connect "
		  "handshake p99 (orange)",
		  "ms (log)");
	for (size_t i = 0; i < sizeof(ticks) / sizeof(ticks[0]); i++) {
		snprintf(lbl, sizeof(lbl), "%gms", ticks[i]);
		if (ticks[i] <= p.ymax)
			ytick(&p, ticks[i], lbl);
	}
	for (int q = 0; q < 3; q++) {
		static const char *const cls[] = { "cost", "bad", "to" };

		fprintf(f, "<g class=\"%s\">", cls[q]);
		for (size_t i = 0; i < n; i++) {
			double v = q == 2 ? b[i].connect_p99_ms : q ? b[i].p99_ms : b[i].p50_ms;

			if (!isnan(v))
				fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\"/>",
					px(&p, t0 + i * FL_HERD_BUCKET_NS + FL_HERD_BUCKET_NS / 2),
					py(&p, v));
		}
		fputs("</g>\n", f);
	}
	fputs("</svg>\n", f);
}

/* The spike: for each heal, the busiest 100 ms of connect attempts in the
 * 5 s after it, its handshake p99 and the worst request p99 in those 5 s,
 * against the buckets from 1 s to the first fault. */
static void herd_table(FILE *f, const struct fl_run_data *rd, const struct fl_herd_bucket *b,
		       size_t n, uint64_t t0)
{
	uint64_t first = rd->n_spans ? rd->spans[0].start_ns : UINT64_MAX;
	double base = fl_herd_base_p99(b, n, t0, first);
	struct fl_herd_peak p;

	fprintf(f,
		"<table class=\"herd\"><tr><th>after</th><th>busiest 100 ms at</th>"
		"<th>connect attempts</th><th>of them ok</th><th>handshake p99 there</th>"
		"<th>worst request p99 in 5 s</th><th>worst request p99 from 1 s to the first fault</th>"
		"</tr>\n");
	for (size_t h = 0; h < rd->n_heals; h++) {
		if (fl_herd_peak(b, n, t0, rd->heals[h], &p))
			continue;
		fputs("<tr><td>heal of ", f);
		fl_xml_str(f, rd->heal_ids[h]);
		fprintf(f,
			"</td><td>%.1fs</td><td>%u</td><td>%u</td><td>%.1f ms</td><td>%.1f ms</td>"
			"<td>%.1f ms</td></tr>\n",
			p.bucket * FL_HERD_BUCKET_NS / 1e9, p.connects, p.connects_ok,
			p.handshake_p99_ms, p.request_p99_ms, base);
	}
	fputs("</table>\n", f);
}

static void herd_section(FILE *f, const char *dir, const struct fl_run_data *rd, uint64_t t0,
			 uint64_t t1)
{
	struct fl_herd_bucket *b = NULL;
	struct fl_herd_rec *rec = NULL;
	size_t n = 0, nb = 0;
	struct fl_err err;
	char path[600];

	snprintf(path, sizeof(path), "%s/herd.jsonl", dir);
	if (fl_herd_load(path, &rec, &n, &err) || !n || fl_herd_buckets(rec, n, t0, t1, &b, &nb) ||
	    !nb)
		goto out;
	fputs("<h2>Thundering herd</h2>\n<p>Every client connection of the herd (herd.jsonl); "
	      "the busiest 100 ms of reconnects after each heal and the request latency "
	      "around it.</p>\n",
	      f);
	herd_table(f, rd, b, nb, t0);
	herd_counts(f, rd, b, nb, t0, t1);
	herd_latency(f, rd, b, nb, t0, t1);
out:
	free(b);
	free(rec);
}

/* ---- a latency lane per node ------------------------------------------------ */

#define LANE_H 64
#define MAX_LANES 32

static size_t node_names(const struct fl_run_data *rd, char (*names)[24], size_t max)
{
	size_t n = 0, k;

	for (size_t i = 0; i < rd->n_ops; i++) {
		for (k = 0; k < n && strcmp(names[k], rd->ops[i].node); k++)
			;
		if (k == n && n < max)
			snprintf(names[n++], sizeof(names[0]), "%s", rd->ops[i].node);
	}
	return n;
}

static void lane(FILE *f, const struct fl_run_data *rd, struct plot *p, const char *node)
{
	static const char *const cls[] = { "ok", "bad", "to" };

	shade(p, rd);
	axes(p, NULL);
	fputs("<g class=\"lane\" data-node=\"", f);
	fl_xml_str(f, node);
	fprintf(f, "\"><text x=\"4\" y=\"%.1f\" class=\"node\">", (p->top + p->bottom) / 2);
	fl_xml_str(f, node);
	fputs("</text>", f);
	for (size_t i = 0; i < rd->n_ops; i++) {
		const struct fl_op *o = &rd->ops[i];

		if (strcmp(o->node, node))
			continue;
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"1.5\" class=\"%s\"/>",
			px(p, o->start_ns), py(p, (o->end_ns - o->start_ns) / 1e9), cls[o->status]);
	}
	fputs("</g>\n", f);
}

/* The latency of each node's operations in a lane of its own, one scale
 * (log) for all, the fault windows shaded in each. */
static void lanes_plot(FILE *f, const struct fl_run_data *rd, uint64_t t0, uint64_t t1)
{
	char names[MAX_LANES][24];
	size_t n = node_names(rd, names, MAX_LANES);
	struct plot p = { f, t0, t1, 1e-4, 1e-3, true, 0, 0, false };
	int h = MT + (int)n * LANE_H + MB;

	if (!n)
		return;
	for (size_t i = 0; i < rd->n_ops; i++)
		p.ymax = fmax(p.ymax, (rd->ops[i].end_ns - rd->ops[i].start_ns) / 1e9);
	fprintf(f,
		"<h2>Latency per node (log scale, 0.1 ms to %.3g s)</h2>\n<svg class=\"chart\" "
		"data-chart=\"lanes\" width=\"%d\" height=\"%d\">\n",
		p.ymax, W, h);
	for (size_t k = 0; k < n; k++) {
		p.top = MT + (double)k * LANE_H + 4;
		p.bottom = MT + (double)(k + 1) * LANE_H - 4;
		p.no_time = k + 1 < n;
		lane(f, rd, &p, names[k]);
	}
	fputs("</svg>\n", f);
}

/* ---- fault counters over time (fault-counters.jsonl) ------------------------------- */

/* One sample: the cumulative counters of each fault at mono_ns. */
struct sample {
	uint64_t t;
	size_t n;
	struct {
		char id[FL_ID_MAX + 1];
		double dropped, delayed, bytes;
	} f[64];
};

static double member(const struct fl_ynode *m, const char *key)
{
	double d = 0;

	fl_ynum(fl_ymap_get(m, key), &d);
	return d;
}

static int sample_parse(const char *line, struct sample *sm)
{
	const struct fl_ynode *faults;
	struct fl_ydoc *d = NULL;
	struct fl_err err;
	double t = 0;

	if (fl_yaml_load("fault-counters.jsonl", line, &d, &err) || !d->root ||
	    d->root->type != FL_Y_MAP || fl_ynum(fl_ymap_get(d->root, "mono_ns"), &t)) {
		fl_yaml_free(d);
		return -EINVAL;
	}
	sm->t = (uint64_t)t;
	sm->n = 0;
	faults = fl_ymap_get(d->root, "faults");
	for (size_t i = 0; faults && faults->type == FL_Y_SEQ && i < faults->n && sm->n < 64; i++) {
		const struct fl_ynode *m = faults->items[i], *id = fl_ymap_get(m, "id");

		if (!id || id->type != FL_Y_SCALAR)
			continue;
		snprintf(sm->f[sm->n].id, sizeof(sm->f[0].id), "%s", id->text);
		sm->f[sm->n].dropped = member(m, "dropped");
		sm->f[sm->n].delayed = member(m, "delayed");
		sm->f[sm->n].bytes = member(m, "bytes");
		sm->n++;
	}
	fl_yaml_free(d);
	return 0;
}

/* Per-second rates between consecutive samples, summed over the faults
 * present in both (a new fault counts from zero; a healed one stops). */
struct rates {
	size_t n;
	uint64_t *t;
	double *dropped, *delayed, *bytes;
};

static void add_rate(struct rates *r, const struct sample *a, const struct sample *b)
{
	double dt = (b->t - a->t) / 1e9, dr = 0, de = 0, by = 0;

	for (size_t i = 0; i < b->n; i++) {
		double pd = 0, pe = 0, pb = 0;

		for (size_t k = 0; k < a->n; k++)
			if (!strcmp(a->f[k].id, b->f[i].id)) {
				pd = a->f[k].dropped;
				pe = a->f[k].delayed;
				pb = a->f[k].bytes;
			}
		dr += fmax(0, b->f[i].dropped - pd);
		de += fmax(0, b->f[i].delayed - pe);
		by += fmax(0, b->f[i].bytes - pb);
	}
	r->t[r->n] = a->t + (b->t - a->t) / 2;
	r->dropped[r->n] = dr / dt;
	r->delayed[r->n] = de / dt;
	r->bytes[r->n] = by / dt;
	r->n++;
}

static int rates_load(const char *dir, struct rates *r)
{
	struct sample *both = calloc(2, sizeof(*both)), *prev = both, *cur = both + 1, *tmp;
	char path[PATH_MAX], *line = NULL;
	size_t cap = 0, n = 0, max = 4096, faults = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/fault-counters.jsonl", dir);
	f = fopen(path, "re");
	r->t = calloc(max, sizeof(*r->t));
	r->dropped = calloc(max, sizeof(double));
	r->delayed = calloc(max, sizeof(double));
	r->bytes = calloc(max, sizeof(double));
	while (f && prev && r->t && r->dropped && r->delayed && r->bytes &&
	       getline(&line, &cap, f) > 0 && r->n < max) {
		if (sample_parse(line, cur))
			continue;
		faults += cur->n;
		if (n++ && cur->t > prev->t)
			add_rate(r, prev, cur);
		tmp = prev;
		prev = cur;
		cur = tmp;
	}
	free(line);
	free(both);
	if (f)
		fclose(f);
	return r->n && faults ? 0 : -ENOENT; /* no fault ever: nothing to plot */
}

static void rates_free(struct rates *r)
{
	free(r->t);
	free(r->dropped);
	free(r->delayed);
	free(r->bytes);
}

static void series(const struct plot *p, const uint64_t *t, const double *v, size_t n,
		   const char *name)
{
	fprintf(p->f, "<polyline class=\"%s series\" data-series=\"%s\" points=\"", name, name);
	for (size_t i = 0; i < n; i++)
		fprintf(p->f, "%.1f,%.1f ", px(p, t[i]), py(p, v[i]));
	fputs("\"/>\n", p->f);
}

static void counters_plot(FILE *f, const struct fl_run_data *rd, const struct rates *r, uint64_t t0,
			  uint64_t t1, bool bytes)
{
	struct plot p = { f, t0, t1, 0, 1, false, 0, 0, false };
	char lbl[32];

	for (size_t i = 0; i < r->n; i++)
		p.ymax = fmax(p.ymax,
			      1.1 * (bytes ? r->bytes[i] : fmax(r->dropped[i], r->delayed[i])));
	plot_open(&p, rd, bytes ? "bytes" : "packets",
		  bytes ? "Bytes per second matched by the faults" :
			  "Packets per second the faults dropped (red) and delayed (blue)",
		  bytes ? "bytes/s" : "packets/s");
	for (int i = 0; i <= 4; i++) {
		snprintf(lbl, sizeof(lbl), "%.3g", p.ymax * i / 4);
		ytick(&p, p.ymax * i / 4, lbl);
	}
	if (bytes) {
		series(&p, r->t, r->bytes, r->n, "bytes");
	} else {
		series(&p, r->t, r->dropped, r->n, "dropped");
		series(&p, r->t, r->delayed, r->n, "delayed");
	}
	fputs("</svg>\n", f);
}

/* Bytes on the wire (the whole lab's) per successful operation, per second
 * of the run; seconds without a successful operation are gaps. */
static void cost_plot(FILE *f, const struct fl_run_data *rd, uint64_t t0, uint64_t t1)
{
	const uint64_t bucket = FL_NSEC_PER_SEC;
	size_t n = (size_t)((t1 - t0 + bucket - 1) / bucket);
	struct plot p = { f, t0, t1, 0, 1, false, 0, 0, false };
	double *v = calloc(n + 1, sizeof(double));
	struct fl_tparts parts = { .n = 1 };
	struct fl_tcost c;
	char lbl[32];
	bool open = false;

	if (!v)
		return;
	for (size_t i = 0; i < n; i++) {
		parts.a[0] = t0 + i * bucket;
		parts.b[0] = parts.a[0] + bucket < t1 ? parts.a[0] + bucket : t1;
		fl_tcost_over(rd, &parts, NULL, &c);
		v[i] = c.v[FL_TM_BYTES_PER_OP];
		if (isfinite(v[i]))
			p.ymax = fmax(p.ymax, v[i] * 1.1);
	}
	plot_open(&p, rd, "cost",
		  "Bytes on the wire per successful operation (whole lab, per second)", "bytes/op");
	for (int i = 0; i <= 4; i++) {
		fl_tmetric_format(FL_TM_BYTES_PER_OP, p.ymax * i / 4, lbl, sizeof(lbl));
		ytick(&p, p.ymax * i / 4, lbl);
	}
	for (size_t i = 0; i < n; i++) {
		double x = px(&p, t0 + i * bucket + bucket / 2);

		if (!isfinite(v[i])) {
			fputs(open ? "\"/>\n" : "", f);
			open = false;
			continue;
		}
		fprintf(f, "%s%.1f,%.1f ", open ? "" : "<polyline class=\"lcost\" points=\"", x,
			py(&p, v[i]));
		open = true;
	}
	fputs(open ? "\"/>\n" : "", f);
	for (size_t i = 0; i < n; i++)
		if (isfinite(v[i]))
			fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" class=\"cost\"/>",
				px(&p, t0 + i * bucket + bucket / 2), py(&p, v[i]));
	fputs("\n</svg>\n", f);
	free(v);
}

/* summary.json's transport windows as a table. */
static void cost_table(FILE *f, const struct fl_run_data *rd)
{
	struct fl_tcost *w = NULL;
	size_t n = 0;
	char b[32], pk[32], r[32], g[32];

	if (fl_tcost_windows(rd, &w, &n) || !n)
		return;
	fputs("<h2>Transport cost per window</h2>\n<table><tr><th>window</th><th>seconds</th>"
	      "<th>ok ops</th><th>bytes/op</th><th>packets/op</th><th>retransmitted</th>"
	      "<th>goodput/throughput</th><th>RTOs</th></tr>\n",
	      f);
	for (size_t i = 0; i < n; i++) {
		fl_tmetric_format(FL_TM_BYTES_PER_OP, w[i].v[FL_TM_BYTES_PER_OP], b, sizeof(b));
		fl_tmetric_format(FL_TM_PACKETS_PER_OP, w[i].v[FL_TM_PACKETS_PER_OP], pk,
				  sizeof(pk));
		fl_tmetric_format(FL_TM_RETRANSMITS, w[i].v[FL_TM_RETRANSMITS], r, sizeof(r));
		fl_tmetric_format(FL_TM_GOODPUT, w[i].v[FL_TM_GOODPUT], g, sizeof(g));
		fputs("<tr><td>", f);
		fl_xml_str(f, w[i].name);
		fprintf(f,
			"</td><td>%.1f</td><td>%llu</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
			"<td>%llu</td></tr>\n",
			w[i].seconds, (unsigned long long)w[i].ops_ok, b, pk, r, g,
			(unsigned long long)w[i].rtos);
	}
	fputs("</table>\n", f);
	free(w);
}

static void checks_table(FILE *f, const struct fl_suite *s)
{
	fputs("<h2>Checks</h2>\n<table><tr><th>result</th><th>check</th><th>measured</th>"
	      "<th>bound</th><th>details</th></tr>\n",
	      f);
	for (size_t i = 0; i < s->n_cases; i++) {
		const struct fl_case *c = &s->cases[i];

		fprintf(f, "<tr class=\"%s\"><td>%s</td><td>", fl_case_class(c),
			fl_case_verdict(c));
		fl_xml_str(f, c->name);
		fputs("</td><td>", f);
		fl_xml_str(f, c->measured);
		fputs("</td><td>", f);
		fl_xml_str(f, c->bound);
		fputs("</td><td>", f);
		fl_xml_str(f, c->message);
		if (c->offending_text[0] || c->offending[0]) { /* history checks: the operations */
			if (c->offending_text[0]) {
				fputs("<pre class=\"offending\">", f);
				fl_xml_str(f, c->offending_text);
				fputs("</pre>", f);
			}
			fl_report_offending(f, c);
		}
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void ns_cell(FILE *f, int64_t ns)
{
	if (ns < 0)
		fputs("<td></td>", f);
	else
		fprintf(f, "<td>%.3f ms</td>", ns / 1e6);
}

static void events_table(FILE *f, const struct fl_run_data *rd, uint64_t t0)
{
	if (!rd->n_events)
		return;
	fputs("<h2>Timeline</h2>\n<table><tr><th>at</th><th>event</th><th>id</th>"
	      "<th>what</th><th>late</th><th>apply</th><th>dropped</th></tr>\n",
	      f);
	for (size_t i = 0; i < rd->n_events; i++) {
		const struct fl_event *e = &rd->events[i];

		fprintf(f, "<tr%s><td>%.3f s</td><td>%s</td><td>",
			strcmp(e->event, "error") ? "" : " class=\"fail\"",
			e->t_ns >= t0 ? (e->t_ns - t0) / 1e9 : 0.0, e->event);
		fl_xml_str(f, e->id);
		fputs("</td><td>", f);
		fl_xml_str(f, e->text);
		fputs("</td>", f);
		ns_cell(f, e->late_ns);
		ns_cell(f, e->apply_ns);
		if (e->dropped >= 0)
			fprintf(f, "<td>%lld</td></tr>\n", (long long)e->dropped);
		else
			fputs("<td></td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void nodes_table(FILE *f, const struct fl_run_data *rd)
{
	char names[32][24];
	size_t n = 0, cnt[32][3] = { { 0 } };

	for (size_t i = 0; i < rd->n_ops; i++) {
		size_t k;

		for (k = 0; k < n && strcmp(names[k], rd->ops[i].node); k++)
			;
		if (k == n && n < 32)
			snprintf(names[n++], sizeof(names[0]), "%s", rd->ops[i].node);
		if (k < n)
			cnt[k][rd->ops[i].status]++;
	}
	fputs("<h2>Operations by node</h2>\n<table><tr><th>node</th><th>ok</th><th>fail</th>"
	      "<th>timeout</th></tr>\n",
	      f);
	for (size_t k = 0; k < n; k++) {
		fputs("<tr><td>", f);
		fl_xml_str(f, names[k]);
		fprintf(f, "</td><td>%zu</td><td>%zu</td><td>%zu</td></tr>\n", cnt[k][0], cnt[k][1],
			cnt[k][2]);
	}
	fputs("</table>\n", f);
}

static const char css[] =
	"body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}"
	"td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;font-size:90%}"
	"tr.fail td:first-child{color:#b00;font-weight:bold}tr.pass td:first-child{color:#080}"
	"tr.skip td:first-child{color:#666;font-style:italic}"
	".fault{fill:#f90;fill-opacity:.18}.lbl{font-size:11px;fill:#a50}"
	".ax{stroke:#444}.grid{stroke:#ddd}.tick{font-size:11px;fill:#444}.ytick{text-anchor:end}"
	".ok{fill:#2a2}.bad{fill:#d22}.to{fill:#e80}.lok{fill:none;stroke:#2a2;stroke-width:2}"
	".lbad{fill:none;stroke:#d22;stroke-width:2}.node{font-size:12px;fill:#222}"
	".dropped{fill:none;stroke:#d22;stroke-width:2}.delayed{fill:none;stroke:#25c;"
	"stroke-width:2}.bytes{fill:none;stroke:#666;stroke-width:2}"
	".lcost{fill:none;stroke:#26c;stroke-width:2}.cost{fill:#26c}";

int fl_report_html(const char *path, const struct fl_suite *s, const struct fl_run_data *rd)
{
	FILE *f = fopen(path, "we");
	uint64_t t0 = rd->start_ns, t1 = rd->end_ns;
	struct rates rates = { 0 };

	if (!f)
		return -errno;
	for (size_t i = 0; i < rd->n_ops && !t0; i++)
		t0 = rd->ops[i].start_ns;
	if (t1 <= t0)
		t1 = t0 + 1000000000ULL;
	fprintf(f, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>fallacy: ");
	fl_xml_str(f, s->name);
	fprintf(f, "</title><style>%s</style></head><body>\n<h1>", css);
	fl_xml_str(f, s->name);
	fputs(" against ", f);
	fl_xml_str(f, s->target);
	fprintf(f, ": %s</h1>\n<p>fallacy: ",
		s->error[0]	     ? "error" :
		fl_suite_failures(s) ? "FAIL" :
				       "pass");
	fl_xml_str(f, s->fallacy[0] ? s->fallacy : "-");
	fprintf(f, " &middot; seed %llu &middot; %.1f s &middot; started ",
		(unsigned long long)s->seed, s->seconds);
	fl_xml_str(f, s->timestamp);
	fprintf(f, " &middot; ops ok %llu, failed %llu, timed out %llu",
		(unsigned long long)s->ops_ok, (unsigned long long)s->ops_fail,
		(unsigned long long)s->ops_timeout);
	if (!isnan(s->avail_ops))
		fprintf(f, " &middot; availability %.4g per operation", s->avail_ops);
	if (!isnan(s->avail_time))
		fprintf(f, ", %.4g per time (100 ms buckets with an ok operation)", s->avail_time);
	if (s->n_kill + s->n_pause + s->n_restart)
		fprintf(f, " &middot; process faults: %u kill, %u pause, %u restart", s->n_kill,
			s->n_pause, s->n_restart);
	fputs(". Shaded: fault windows.</p>\n", f);
	if (s->error[0]) {
		fputs("<p><b>error:</b> ", f);
		fl_xml_str(f, s->error);
		fputs("</p>\n", f);
	}
	checks_table(f, s);
	fl_report_nines(f, s, t0);
	latency_plot(f, rd, t0, t1);
	throughput_plot(f, rd, t0, t1);
	lanes_plot(f, rd, t0, t1);
	herd_section(f, s->dir, rd, t0, t1);
	if (!rates_load(s->dir, &rates)) {
		counters_plot(f, rd, &rates, t0, t1, false);
		counters_plot(f, rd, &rates, t0, t1, true);
	}
	rates_free(&rates);
	if (rd->n_samples) {
		cost_plot(f, rd, t0, t1);
		cost_table(f, rd);
	}
	events_table(f, rd, t0);
	nodes_table(f, rd);
	fputs("</body></html>\n", f);
	return fclose(f) ? -errno : 0;
}
