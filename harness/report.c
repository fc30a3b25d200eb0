// SPDX-License-Identifier: MIT
/* report.html: one self-contained page (inline SVG and CSS, no scripts,
 * no network) with latency and throughput over time, fault windows shaded,
 * and the checks with measured values next to their bounds. */
#include "results.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "transport.h"

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
};

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
	return H - MB - (H - MB - MT) * ((x - a) / (b - a));
}

static void shade(const struct plot *p, const struct fl_run_data *rd)
{
	for (size_t i = 0; i < rd->n_spans; i++) {
		const struct fl_span *s = &rd->spans[i];
		double x0 = px(p, s->start_ns), x1 = px(p, s->end_ns);

		fprintf(p->f,
			"<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" class=\"fault\"/>"
			"<text x=\"%.1f\" y=\"%d\" class=\"lbl\">",
			x0, MT, x1 - x0 > 1 ? x1 - x0 : 1, H - MB - MT, x0 + 2, MT + 10);
		fl_xml_str(p->f, s->id);
		fputs("</text>\n", p->f);
	}
}

static void axes(const struct plot *p, const char *ylabel)
{
	double secs = (p->t1 - p->t0) / 1e9;
	double step = secs > 120 ? 30 : secs > 40 ? 10 : secs > 10 ? 5 : 1;

	fprintf(p->f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"ax\"/>", ML, H - MB,
		W - 10, H - MB);
	fprintf(p->f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"ax\"/>", ML, MT, ML,
		H - MB);
	for (double s = 0; s <= secs + 1e-9; s += step)
		fprintf(p->f, "<text x=\"%.1f\" y=\"%d\" class=\"tick\">%gs</text>",
			px(p, p->t0 + (uint64_t)(s * 1e9)), H - MB + 14, s);
	fprintf(p->f, "<text x=\"4\" y=\"%d\" class=\"tick\">%s</text>\n", MT - 6, ylabel);
}

/* The plot's heading, its svg element, the fault windows and the axes. */
static void plot_open(const struct plot *p, const struct fl_run_data *rd, const char *title,
		      const char *ylabel)
{
	fprintf(p->f,
		"<h2>%s</h2>\n<svg width=\"%d\" height=\"%d\" "
		"xmlns=\"http://www.w3.org/2000/svg\">\n",
		title, W, H);
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
	struct plot p = { f, t0, t1, 1e-4, 1e-3, true };
	static const char *const cls[] = { "ok", "bad", "to" };
	static const struct {
		double v;
		const char *l;
	} ticks[] = { { 1e-4, "0.1ms" }, { 1e-3, "1ms" }, { 1e-2, "10ms" },
		      { 0.1, "100ms" },	 { 1, "1s" },	  { 10, "10s" } };

	for (size_t i = 0; i < rd->n_ops; i++)
		p.ymax = fmax(p.ymax, (rd->ops[i].end_ns - rd->ops[i].start_ns) / 1e9);
	plot_open(&p, rd, "Latency of each operation", "latency (log)");
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
	fprintf(p->f, "<polyline class=\"%s\" points=\"", cls);
	for (size_t i = 0; i < n; i++)
		fprintf(p->f, "%.1f,%.1f ", px(p, p->t0 + i * bucket + bucket / 2), py(p, v[i]));
	fputs("\"/>\n", p->f);
}

static void throughput_plot(FILE *f, const struct fl_run_data *rd, uint64_t t0, uint64_t t1)
{
	struct plot p = { f, t0, t1, 0, 1, false };
	uint64_t bucket = (t1 - t0) / 60 > 1000000000ULL ? (t1 - t0) / 60 : 1000000000ULL;
	size_t n = (size_t)((t1 - t0) / bucket) + 1;
	double *ok = calloc(n, sizeof(double)), *bad = calloc(n, sizeof(double));
	char lbl[32];

	if (!ok || !bad)
		goto out;
	for (size_t i = 0; i < rd->n_ops; i++) {
		const struct fl_op *o = &rd->ops[i];
		size_t b = o->start_ns >= t0 ? (size_t)((o->start_ns - t0) / bucket) : 0;

		if (b < n)
			(o->status == FL_OP_OK ? ok : bad)[b] += 1e9 / bucket;
	}
	for (size_t i = 0; i < n; i++)
		p.ymax = fmax(p.ymax, fmax(ok[i], bad[i]) * 1.1);
	plot_open(&p, rd, "Operations per second (ok: green, failed or timed out: red)", "ops/s");
	for (int i = 0; i <= 4; i++) {
		snprintf(lbl, sizeof(lbl), "%.3g", p.ymax * i / 4);
		ytick(&p, p.ymax * i / 4, lbl);
	}
	polyline(&p, ok, n, bucket, "lok");
	polyline(&p, bad, n, bucket, "lbad");
	fputs("</svg>\n", f);
out:
	free(ok);
	free(bad);
}

/* Bytes on the wire (the whole lab's) per successful operation, per second
 * of the run; seconds without a successful operation are gaps. */
static void cost_plot(FILE *f, const struct fl_run_data *rd, uint64_t t0, uint64_t t1)
{
	const uint64_t bucket = FL_NSEC_PER_SEC;
	size_t n = (size_t)((t1 - t0 + bucket - 1) / bucket);
	struct plot p = { f, t0, t1, 0, 1, false };
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
	plot_open(&p, rd, "Bytes on the wire per successful operation (whole lab, per second)",
		  "bytes/op");
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

		fprintf(f, "<tr class=\"%s\"><td>%s</td><td>", c->pass ? "pass" : "fail",
			c->pass ? "pass" : "FAIL");
		fl_xml_str(f, c->name);
		fputs("</td><td>", f);
		fl_xml_str(f, c->measured);
		fputs("</td><td>", f);
		fl_xml_str(f, c->bound);
		fputs("</td><td>", f);
		fl_xml_str(f, c->message);
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
	".fault{fill:#f90;fill-opacity:.18}.lbl{font-size:11px;fill:#a50}"
	".ax{stroke:#444}.grid{stroke:#ddd}.tick{font-size:11px;fill:#444}.ytick{text-anchor:end}"
	".ok{fill:#2a2}.bad{fill:#d22}.to{fill:#e80}.lok{fill:none;stroke:#2a2;stroke-width:2}"
	".lbad{fill:none;stroke:#d22;stroke-width:2}"
	".lcost{fill:none;stroke:#26c;stroke-width:2}.cost{fill:#26c}";

int fl_report_html(const char *path, const struct fl_suite *s, const struct fl_run_data *rd)
{
	FILE *f = fopen(path, "we");
	uint64_t t0 = rd->start_ns, t1 = rd->end_ns;

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
	latency_plot(f, rd, t0, t1);
	throughput_plot(f, rd, t0, t1);
	if (rd->n_samples) {
		cost_plot(f, rd, t0, t1);
		cost_table(f, rd);
	}
	events_table(f, rd, t0);
	nodes_table(f, rd);
	fputs("</body></html>\n", f);
	return fclose(f) ? -errno : 0;
}
