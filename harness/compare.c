// SPDX-License-Identifier: MIT
/* fallacy report --compare DIR1 DIR2: the runs of two results folders side
 * by side, paired by scenario and target (before and after a fix): checks,
 * then availability and latency percentiles per window with the deltas. */
#include "results.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

static const struct fl_row *partner(const struct fl_row *r, const struct fl_row *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].s->name, r->s->name) && !strcmp(v[i].s->target, r->s->target))
			return &v[i];
	return NULL;
}

static const struct fl_win *win_named(const struct fl_row *r, const char *name)
{
	if (!strcmp(name, "all"))
		return &r->all;
	for (size_t i = 0; i < r->n_win; i++)
		if (!strcmp(r->win[i].name, name))
			return &r->win[i];
	return NULL;
}

static const struct fl_case *case_named(const struct fl_suite *s, const char *name)
{
	for (size_t i = 0; i < s->n_cases; i++)
		if (!strcmp(s->cases[i].name, name))
			return &s->cases[i];
	return NULL;
}

static const char *verdict(const struct fl_suite *s)
{
	return s->error[0] ? "error" : fl_suite_failures(s) ? "fail" : "pass";
}

/* "1.2ms" / "-"; deltas signed: "+2.1ms", "-300us". */
static void lat(double v, bool delta, char *buf, size_t len)
{
	const char *sign = delta ? (v < 0 ? "-" : "+") : "";
	double a = fabs(v);

	if (isnan(v))
		snprintf(buf, len, "-");
	else if (a < 1e-3)
		snprintf(buf, len, "%s%.0fus", sign, a * 1e6);
	else if (a < 1)
		snprintf(buf, len, "%s%.3gms", sign, a * 1e3);
	else
		snprintf(buf, len, "%s%.3gs", sign, a);
}

/* A window's values from before (a) and after (b); either may be NULL. */
struct pair {
	const char *name;
	const struct fl_win *a, *b;
};

#define V(w, f) ((w) ? (w)->f : NAN)

/* ---- text ------------------------------------------------------------------- */

static void text_windows(FILE *f, const struct pair *p, size_t n)
{
	static const char *const what[] = { "p50", "p90", "p99" };
	char x[32], y[32], d[32];

	fprintf(f, "  %-20s %15s %24s %32s\n", "window", "ops", "availability", "latency");
	for (size_t i = 0; i < n; i++) {
		double va = V(p[i].a, avail), vb = V(p[i].b, avail);

		fprintf(f, "  %-20s %6zu -> %-6zu %7.4g -> %-7.4g (%+.4g)", p[i].name,
			p[i].a ? p[i].a->ops : 0, p[i].b ? p[i].b->ops : 0, va, vb, vb - va);
		for (int k = 0; k < 3; k++) {
			double a = k == 0 ? V(p[i].a, p50) :
				   k == 1 ? V(p[i].a, p90) :
					    V(p[i].a, p99);
			double b = k == 0 ? V(p[i].b, p50) :
				   k == 1 ? V(p[i].b, p90) :
					    V(p[i].b, p99);

			lat(a, false, x, sizeof(x));
			lat(b, false, y, sizeof(y));
			lat(b - a, true, d, sizeof(d));
			fprintf(f, "%s %s %s -> %s (%s)", k ? "," : "", what[k], x, y, d);
		}
		fputc('\n', f);
	}
}

static void text_checks(FILE *f, const struct fl_suite *a, const struct fl_suite *b)
{
	for (size_t i = 0; i < b->n_cases; i++) {
		const struct fl_case *cb = &b->cases[i], *ca = case_named(a, cb->name);

		fprintf(f, "  %-44s %-4s %-12s -> %-4s %s\n", cb->name,
			ca ? fl_case_verdict(ca) : "-", ca ? ca->measured : "", fl_case_verdict(cb),
			cb->measured);
	}
	for (size_t i = 0; i < a->n_cases; i++)
		if (!case_named(b, a->cases[i].name))
			fprintf(f, "  %-44s %-4s %-12s -> -\n", a->cases[i].name,
				fl_case_verdict(&a->cases[i]), a->cases[i].measured);
}

/* ---- the herd (either run had one) -------------------------------------------- */

static double h_peak(const struct fl_herd_sum *h)
{
	return h->peak_connects;
}

static double h_after(const struct fl_herd_sum *h)
{
	return h->peak_after_s;
}

static double h_hs(const struct fl_herd_sum *h)
{
	return h->handshake_p99_ms;
}

static double h_req(const struct fl_herd_sum *h)
{
	return h->request_p99_ms;
}

static double h_conn(const struct fl_herd_sum *h)
{
	return (double)h->connects;
}

static double h_backoff(const struct fl_herd_sum *h)
{
	return h->backoff;
}

/* What --compare shows of two herds: JSON key, text label, value format. */
static const struct {
	const char *key, *label, *fmt;
	double (*get)(const struct fl_herd_sum *h);
} herd_metrics[] = {
	{ "peak_connects", "busiest 100 ms after a heal: connects", "%.0f", h_peak },
	{ "peak_after_s", "  begun, after the heal (s)", "%.1f", h_after },
	{ "handshake_p99_ms", "  handshake p99 there (ms)", "%.1f", h_hs },
	{ "request_p99_ms", "worst request p99 in 5 s (ms)", "%.1f", h_req },
	{ "connects", "connect attempts in the run", "%.0f", h_conn },
	{ "backoff_share", "backoff check: share in 10 ms", "%.3f", h_backoff },
};

#define N_HERD_METRICS (sizeof(herd_metrics) / sizeof(herd_metrics[0]))

/* A metric of a run, NAN when it had no herd. */
static double herd_val(const struct fl_row *r, size_t m)
{
	return r && r->herd.on ? herd_metrics[m].get(&r->herd) : NAN;
}

static void herd_fmt(double v, const char *fmt, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, fmt, v);
}

static void text_herd(FILE *f, const struct fl_row *a, const struct fl_row *b)
{
	char x[32], y[32];

	if (!a->herd.on && !b->herd.on)
		return;
	fprintf(f, "  herd (heal of %s -> %s)\n", a->herd.on ? a->herd.heal : "-",
		b->herd.on ? b->herd.heal : "-");
	for (size_t m = 0; m < N_HERD_METRICS; m++) {
		herd_fmt(herd_val(a, m), herd_metrics[m].fmt, x, sizeof(x));
		herd_fmt(herd_val(b, m), herd_metrics[m].fmt, y, sizeof(y));
		fprintf(f, "    %-40s %10s -> %s\n", herd_metrics[m].label, x, y);
	}
}

/* The windows of both runs, "all" first, each name once. */
static size_t pairs_of(const struct fl_row *a, const struct fl_row *b, struct pair *p)
{
	size_t n = 0;

	p[n++] = (struct pair){ "all", &a->all, &b->all };
	for (size_t i = 0; i < b->n_win; i++)
		p[n++] = (struct pair){ b->win[i].name, win_named(a, b->win[i].name), &b->win[i] };
	for (size_t i = 0; i < a->n_win; i++)
		if (!win_named(b, a->win[i].name))
			p[n++] = (struct pair){ a->win[i].name, &a->win[i], NULL };
	return n;
}

/* ---- JSON --------------------------------------------------------------------- */

static void jlat(struct fl_out *o, const char *key, double v)
{
	if (isnan(v))
		fl_out_null(o, key);
	else
		fl_out_i64(o, key, (int64_t)llround(v * 1e9));
}

static void jwin(struct fl_out *o, const char *key, const struct fl_win *w)
{
	if (!w) {
		fl_out_null(o, key);
		return;
	}
	fl_out_open(o, key, '{');
	fl_out_u64(o, "ops", w->ops);
	fl_out_u64(o, "ok", w->ok);
	if (isnan(w->avail))
		fl_out_null(o, "availability");
	else
		fl_out_pct(o, "availability", w->avail);
	jlat(o, "p50_ns", w->p50);
	jlat(o, "p90_ns", w->p90);
	jlat(o, "p99_ns", w->p99);
	fl_out_close(o, '}');
}

static void jcheck(struct fl_out *o, const char *key, const struct fl_case *c)
{
	if (!c) {
		fl_out_null(o, key);
		return;
	}
	fl_out_open(o, key, '{');
	if (c->skipped)
		fl_out_null(o, "pass");
	else
		fl_out_jbool(o, "pass", c->pass);
	if (c->skipped)
		fl_out_jbool(o, "skipped", true);
	fl_out_str(o, "measured", c->measured);
	fl_out_close(o, '}');
}

static void jherd_one(struct fl_out *o, const char *key, const struct fl_row *r)
{
	if (!r->herd.on) {
		fl_out_null(o, key);
		return;
	}
	fl_out_open(o, key, '{');
	fl_out_str(o, "heal", r->herd.heal);
	for (size_t m = 0; m < N_HERD_METRICS; m++)
		fl_out_double(o, herd_metrics[m].key, herd_val(r, m));
	fl_out_close(o, '}');
}

/* "herd": {"before": {...} | null, "after": ...}, when either had one */
static void jherd(struct fl_out *o, const struct fl_row *a, const struct fl_row *b)
{
	if (!a->herd.on && !b->herd.on)
		return;
	fl_out_open(o, "herd", '{');
	jherd_one(o, "before", a);
	jherd_one(o, "after", b);
	fl_out_close(o, '}');
}

static void json_pair(struct fl_out *o, const struct fl_row *a, const struct fl_row *b)
{
	struct pair p[2 * FL_ROW_MAX_WINDOWS + 1];
	size_t n = pairs_of(a, b, p);

	fl_out_open(o, "", '{');
	fl_out_str(o, "scenario", b->s->name);
	fl_out_str(o, "target", b->s->target);
	fl_out_open(o, "result", '{');
	fl_out_str(o, "before", verdict(a->s));
	fl_out_str(o, "after", verdict(b->s));
	fl_out_close(o, '}');
	fl_out_open(o, "dirs", '{');
	fl_out_str(o, "before", a->s->dir);
	fl_out_str(o, "after", b->s->dir);
	fl_out_close(o, '}');
	fl_out_open(o, "checks", '[');
	for (size_t i = 0; i < b->s->n_cases; i++) {
		fl_out_open(o, "", '{');
		fl_out_str(o, "name", b->s->cases[i].name);
		jcheck(o, "before", case_named(a->s, b->s->cases[i].name));
		jcheck(o, "after", &b->s->cases[i]);
		fl_out_close(o, '}');
	}
	fl_out_close(o, ']');
	fl_out_open(o, "windows", '[');
	for (size_t i = 0; i < n; i++) {
		fl_out_open(o, "", '{');
		fl_out_str(o, "window", p[i].name);
		jwin(o, "before", p[i].a);
		jwin(o, "after", p[i].b);
		fl_out_open(o, "delta", '{');
		if (isnan(V(p[i].b, avail) - V(p[i].a, avail)))
			fl_out_null(o, "availability");
		else
			fl_out_pct(o, "availability", V(p[i].b, avail) - V(p[i].a, avail));
		jlat(o, "p50_ns", V(p[i].b, p50) - V(p[i].a, p50));
		jlat(o, "p90_ns", V(p[i].b, p90) - V(p[i].a, p90));
		jlat(o, "p99_ns", V(p[i].b, p99) - V(p[i].a, p99));
		fl_out_close(o, '}');
		fl_out_close(o, '}');
	}
	fl_out_close(o, ']');
	jherd(o, a, b);
	fl_out_close(o, '}');
}

/* ---- HTML ----------------------------------------------------------------------- */

/* A delta cell: green when better (availability up, latency down). */
static void hdelta(FILE *f, double d, bool lat_kind)
{
	char buf[32];
	bool better = lat_kind ? d < 0 : d > 0, worse = lat_kind ? d > 0 : d < 0;

	if (lat_kind)
		lat(d, true, buf, sizeof(buf));
	else if (isnan(d))
		snprintf(buf, sizeof(buf), "-");
	else
		snprintf(buf, sizeof(buf), "%+.4g", d);
	fprintf(f, "<td class=\"n %s\">%s</td>", better ? "better" : worse ? "worse" : "", buf);
}

static void hval(FILE *f, double v, bool lat_kind)
{
	char buf[32];

	if (lat_kind)
		lat(v, false, buf, sizeof(buf));
	else if (isnan(v))
		snprintf(buf, sizeof(buf), "-");
	else
		snprintf(buf, sizeof(buf), "%.4g", v);
	fprintf(f, "<td class=\"n\">%s</td>", buf);
}

static void html_checks(FILE *f, const struct fl_suite *a, const struct fl_suite *b)
{
	fputs("<table><tr><th>check</th><th>before</th><th>measured</th><th>after</th>"
	      "<th>measured</th></tr>\n",
	      f);
	for (size_t i = 0; i < b->n_cases; i++) {
		const struct fl_case *cb = &b->cases[i], *ca = case_named(a, cb->name);

		fputs("<tr><td>", f);
		fl_xml_str(f, cb->name);
		fprintf(f, "</td><td class=\"%s\">%s</td><td>", ca ? fl_case_class(ca) : "fail",
			ca ? fl_case_verdict(ca) : "-");
		fl_xml_str(f, ca ? ca->measured : "");
		fprintf(f, "</td><td class=\"%s\">%s</td><td>", fl_case_class(cb),
			fl_case_verdict(cb));
		fl_xml_str(f, cb->measured);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void html_windows(FILE *f, const struct pair *p, size_t n)
{
	fputs("<table><tr><th>window</th><th>ops</th><th>availability</th><th>after</th>"
	      "<th>&Delta;</th><th>p50</th><th>after</th><th>&Delta;</th><th>p90</th><th>after</th>"
	      "<th>&Delta;</th><th>p99</th><th>after</th><th>&Delta;</th></tr>\n",
	      f);
	for (size_t i = 0; i < n; i++) {
		fputs("<tr><td>", f);
		fl_xml_str(f, p[i].name);
		fprintf(f, "</td><td class=\"n\">%zu &rarr; %zu</td>", p[i].a ? p[i].a->ops : 0,
			p[i].b ? p[i].b->ops : 0);
		hval(f, V(p[i].a, avail), false);
		hval(f, V(p[i].b, avail), false);
		hdelta(f, V(p[i].b, avail) - V(p[i].a, avail), false);
		hval(f, V(p[i].a, p50), true);
		hval(f, V(p[i].b, p50), true);
		hdelta(f, V(p[i].b, p50) - V(p[i].a, p50), true);
		hval(f, V(p[i].a, p90), true);
		hval(f, V(p[i].b, p90), true);
		hdelta(f, V(p[i].b, p90) - V(p[i].a, p90), true);
		hval(f, V(p[i].a, p99), true);
		hval(f, V(p[i].b, p99), true);
		hdelta(f, V(p[i].b, p99) - V(p[i].a, p99), true);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void html_herd(FILE *f, const struct fl_row *a, const struct fl_row *b)
{
	char x[32], y[32];

	if (!a->herd.on && !b->herd.on)
		return;
	fputs("<table><tr><th>herd</th><th>before</th><th>after</th></tr>\n", f);
	for (size_t m = 0; m < N_HERD_METRICS; m++) {
		herd_fmt(herd_val(a, m), herd_metrics[m].fmt, x, sizeof(x));
		herd_fmt(herd_val(b, m), herd_metrics[m].fmt, y, sizeof(y));
		fputs("<tr><td>", f);
		fl_xml_str(f, herd_metrics[m].label);
		fprintf(f, "</td><td class=\"n\">%s</td><td class=\"n\">%s</td></tr>\n", x, y);
	}
	fputs("</table>\n", f);
}

static const char css[] =
	"body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;"
	"margin-bottom:1em}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;"
	"font-size:90%}td.n{text-align:right}.pass{color:#080;font-weight:bold}.fail{color:#b00;"
	"font-weight:bold}.better{color:#080}.worse{color:#b00}";

static void html_pair(FILE *f, const struct fl_row *a, const struct fl_row *b)
{
	struct pair p[2 * FL_ROW_MAX_WINDOWS + 1];
	size_t n = pairs_of(a, b, p);

	fputs("<h2>", f);
	fl_xml_str(f, b->s->name);
	fputs(" against ", f);
	fl_xml_str(f, b->s->target);
	fprintf(f, ": <span class=\"%s\">%s</span> &rarr; <span class=\"%s\">%s</span></h2>\n<p>",
		verdict(a->s), verdict(a->s), verdict(b->s), verdict(b->s));
	fl_xml_str(f, a->s->dir);
	fputs(" &rarr; ", f);
	fl_xml_str(f, b->s->dir);
	fputs("</p>\n", f);
	html_checks(f, a->s, b->s);
	html_windows(f, p, n);
	html_herd(f, a, b);
}

int fl_report_compare(FILE *f, const char *html, const struct fl_row *a, size_t na,
		      const struct fl_row *b, size_t nb, bool json)
{
	struct fl_out o = { .f = f, .json = true };
	struct pair p[2 * FL_ROW_MAX_WINDOWS + 1];
	FILE *h = html ? fopen(html, "we") : NULL;
	size_t pairs = 0;

	if (html && !h)
		return -1;
	if (h)
		fprintf(h,
			"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>fallacy: "
			"before and after</title><style>%s</style></head><body>\n"
			"<h1>fallacy: before and after</h1>\n",
			css);
	if (json)
		fl_out_open(&o, "", '[');
	for (size_t i = 0; i < nb; i++) {
		const struct fl_row *ra = partner(&b[i], a, na);

		if (!ra) {
			if (!json)
				fprintf(f, "\n%s against %s: only in the second set (%s)\n",
					b[i].s->name, b[i].s->target, b[i].s->dir);
			continue;
		}
		pairs++;
		if (json) {
			json_pair(&o, ra, &b[i]);
		} else {
			fprintf(f, "\n%s against %s: %s -> %s   (%s -> %s)\n", b[i].s->name,
				b[i].s->target, verdict(ra->s), verdict(b[i].s), ra->s->dir,
				b[i].s->dir);
			text_checks(f, ra->s, b[i].s);
			text_windows(f, p, pairs_of(ra, &b[i], p));
			text_herd(f, ra, &b[i]);
		}
		if (h)
			html_pair(h, ra, &b[i]);
	}
	for (size_t i = 0; i < na && !json; i++)
		if (!partner(&a[i], b, nb))
			fprintf(f, "\n%s against %s: only in the first set (%s)\n", a[i].s->name,
				a[i].s->target, a[i].s->dir);
	if (json) {
		fl_out_close(&o, ']');
		fputc('\n', f);
	}
	if (h) {
		fputs("</body></html>\n", h);
		fclose(h);
	}
	return pairs ? 0 : -1;
}
