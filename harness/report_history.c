// SPDX-License-Identifier: MIT
/* report.html: the offending operations of a failed history check
 * (linearizable, lost-writes, stale-reads) on a timeline, one lane per
 * process (red: the read or write at fault; grey: unknown outcome). */
#include "results.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "yaml.h"

#define TW 720.0 /* the timeline's width */
#define LANE 22.0
#define MAX_OPS 48

struct tl_op {
	double start, end; /* ns; end 0: unknown (drawn to the window's end) */
	long process, line;
	const char *why, *f, *type;
	const struct fl_ynode *value;
};

static double num(const struct fl_ynode *m, const char *key)
{
	double v = 0;

	fl_ynum(fl_ymap_get(m, key), &v);
	return v;
}

static const char *str(const struct fl_ynode *m, const char *key)
{
	const struct fl_ynode *v = fl_ymap_get(m, key);

	return v && v->type == FL_Y_SCALAR ? v->text : "";
}

/* The listed operations, each once (by line). */
static size_t collect(const struct fl_ynode *root, struct tl_op *ops)
{
	size_t n = 0;

	for (size_t i = 0; root && root->type == FL_Y_SEQ && i < root->n && n < MAX_OPS; i++) {
		const struct fl_ynode *m = root->items[i];
		struct tl_op o;
		size_t k = 0;

		if (m->type != FL_Y_MAP)
			continue;
		o = (struct tl_op){ .start = num(m, "start_ns"),
				    .end = num(m, "end_ns"),
				    .process = (long)num(m, "process"),
				    .line = (long)num(m, "line"),
				    .why = str(m, "why"),
				    .f = str(m, "f"),
				    .type = str(m, "type"),
				    .value = fl_ymap_get(m, "value") };
		while (k < n && ops[k].line != o.line)
			k++;
		if (k == n)
			ops[n++] = o;
	}
	return n;
}

static void label(FILE *f, const struct tl_op *o)
{
	const struct fl_ynode *v = o->value;

	fprintf(f, "%s: %s ", o->why, o->f);
	if (v && v->type == FL_Y_SEQ && v->n == 2)
		fprintf(f, "%s -&gt; %s", v->items[0]->text ? v->items[0]->text : "?",
			v->items[1]->text ? v->items[1]->text : "?");
	else if (v && v->type == FL_Y_SCALAR)
		fl_xml_str(f, v->text);
	fprintf(f, " (line %ld)", o->line);
}

static bool at_fault(const struct tl_op *o)
{
	return !strcmp(o->why, "stale read") || !strcmp(o->why, "lost write") ||
	       !strcmp(o->why, "cannot be linearized");
}

static void draw(FILE *f, const struct tl_op *ops, size_t n)
{
	long lanes[MAX_OPS];
	size_t n_lanes = 0;
	double t0 = ops[0].start, t1 = 0;

	for (size_t i = 0; i < n; i++) {
		size_t l = 0;

		double end = ops[i].end > ops[i].start ? ops[i].end : ops[i].start;

		t0 = ops[i].start < t0 ? ops[i].start : t0;
		t1 = end > t1 ? end : t1;
		while (l < n_lanes && lanes[l] != ops[i].process)
			l++;
		if (l == n_lanes)
			lanes[n_lanes++] = ops[i].process;
	}
	t1 += (t1 - t0) / 10 + 1;
	fprintf(f, "<svg class=\"offending\" width=\"%.0f\" height=\"%.0f\">", TW + 90,
		LANE * (double)(n_lanes + 1));
	for (size_t l = 0; l < n_lanes; l++)
		fprintf(f, "<text x=\"0\" y=\"%.0f\" font-size=\"11\">process %ld</text>",
			LANE * (double)(l + 1) - 6, lanes[l]);
	for (size_t i = 0; i < n; i++) {
		const struct tl_op *o = &ops[i];
		double x0 = 80 + TW * (o->start - t0) / (t1 - t0),
		       x1 = 80 + TW * ((o->end > o->start ? o->end : t1) - t0) / (t1 - t0);
		size_t l = 0;

		while (lanes[l] != o->process)
			l++;
		fprintf(f,
			"<rect x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"14\" fill=\"%s\">"
			"<title>",
			x0, LANE * (double)(l + 1) - 17, x1 - x0 > 1 ? x1 - x0 : 1,
			at_fault(o)		 ? "#e05050" :
			!strcmp(o->type, "info") ? "#bbbbbb" :
						   "#7aa6d8");
		label(f, o);
		fprintf(f, "</title></rect><text x=\"%.1f\" y=\"%.0f\" font-size=\"10\">", x0 + 2,
			LANE * (double)(l + 1) - 6);
		label(f, o);
		fputs("</text>", f);
	}
	fputs("</svg>", f);
}

void fl_report_offending(FILE *f, const struct fl_case *c)
{
	struct tl_op ops[MAX_OPS];
	struct fl_ydoc *d = NULL;
	struct fl_err err;
	size_t n;

	if (!c->offending[0] || fl_yaml_load("offending", c->offending, &d, &err))
		return;
	n = collect(d->root, ops);
	if (n)
		draw(f, ops, n);
	fl_yaml_free(d);
}
