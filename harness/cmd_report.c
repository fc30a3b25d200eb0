// SPDX-License-Identifier: MIT
/* fallacy report DIR... [--html F] [--junit F] [--tap] [-j] [--index F]:
 * summarise results folders again, and (re)write their HTML reports, an
 * index of them or one JUnit file; --compare DIR1 DIR2: two sets of runs
 * side by side. */
#include "cmd.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "log.h"
#include "results.h"
#include "transport.h"

static void report_usage(FILE *f)
{
	fprintf(f, "usage: fallacy report DIR... [-j] [--html FILE] [--index FILE] [--junit FILE]\n"
		   "                      [--tap]\n"
		   "       fallacy report --compare DIR1 DIR2 [-j] [--html FILE]\n\n"
		   "Print one row per run of the results folders written by 'fallacy run', in\n"
		   "the order given: scenario, target, verdict, checks passed, availability,\n"
		   "p99 latency, ops and the folder. A DIR may also hold several results\n"
		   "folders (fallacy run A.yaml B.yaml --out DIR).\n\n"
		   "  -j, --json    the rows as JSON, with latency percentiles per window\n"
		   "  --html FILE   the self-contained HTML report (latency, throughput and\n"
		   "                bytes on the wire per operation over time, per-node lanes,\n"
		   "                fault counters, fault windows shaded); with one run FILE is\n"
		   "                a path, with several a file name written inside each folder\n"
		   "  --index FILE  one HTML page listing every run, linking their reports\n"
		   "  --junit FILE  one JUnit XML file, a testsuite per run\n"
		   "  --tap         the checks as TAP on stdout instead of the table\n"
		   "  --compare DIR1 DIR2\n"
		   "                the runs of DIR1 and DIR2 side by side, paired by scenario\n"
		   "                and target (before and after a fix): checks, availability\n"
		   "                and latency p50/p90/p99 per window (all, outside faults,\n"
		   "                each fault) with the deltas, and of runs with a herd its\n"
		   "                busiest 100 ms of reconnects after a heal and the backoff\n"
		   "                check's share; --html FILE writes it as a page\n\n"
		   "EXAMPLES\n"
		   "  fallacy report results/network-is-reliable-20260101-120000\n"
		   "  fallacy report results/x --html /tmp/x.html\n"
		   "  fallacy report results/network-is-reliable-* --html report.html\n"
		   "  fallacy report results/ci --junit junit.xml -j\n"
		   "  fallacy report results/ci --index results/ci/index.html\n"
		   "  fallacy report --compare results/before results/after --html compare.html\n\n"
		   "Exit status: 0 every check held (with --compare: of DIR2's runs), 1 a check\n"
		   "failed, 2 a DIR is not a results folder (it is named) or a file cannot be\n"
		   "written.\n");
}

struct reports {
	struct fl_suite *s;
	size_t n, cap;
};

/* Load DIR/summary.json into the next suite; -ENOENT when there is none. */
static int load_one(const char *dir, struct reports *r)
{
	char sum[1100];
	struct fl_err err;

	snprintf(sum, sizeof(sum), "%s/summary.json", dir);
	if (access(sum, F_OK))
		return -ENOENT;
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 8;
		struct fl_suite *s = realloc(r->s, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		r->s = s;
		r->cap = cap;
	}
	memset(&r->s[r->n], 0, sizeof(r->s[r->n]));
	if (fl_summary_load(sum, &r->s[r->n], &err)) {
		pr_err("report: %s: %s", dir, err.msg);
		return -EINVAL;
	}
	snprintf(r->s[r->n].dir, sizeof(r->s[r->n].dir), "%s", dir);
	r->n++;
	return 0;
}

static int not_hidden(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* DIR is a results folder, or holds results folders (one level down). */
static int collect(const char *dir, struct reports *r)
{
	struct dirent **ents = NULL;
	size_t before = r->n;
	char sub[1100];
	int n, ret = load_one(dir, r);

	if (ret != -ENOENT)
		return ret;
	ret = 0;
	n = scandir(dir, &ents, not_hidden, alphasort);
	for (int i = 0; i < n; i++) {
		snprintf(sub, sizeof(sub), "%s/%s", dir, ents[i]->d_name);
		if (!ret) {
			ret = load_one(sub, r);
			ret = ret == -ENOENT ? 0 : ret;
		}
		free(ents[i]);
	}
	free(ents);
	if (!ret && r->n == before) {
		pr_err("report: %s has no summary.json, nor folders with one (is it a results "
		       "folder of 'fallacy run'?)",
		       dir);
		ret = -ENOENT;
	}
	return ret;
}

/* With one run FILE is a path; with several, a name inside each folder. */
static int write_html(const struct reports *r, const char *html)
{
	char path[1100], ops[1100], ev[1100], cnt[1100];
	struct fl_err err;

	if (r->n > 1 && strchr(html, '/')) {
		pr_err("report: --html %s: with %zu runs, give a file name (no '/'); it is written "
		       "inside each results folder",
		       html, r->n);
		return -EINVAL;
	}
	for (size_t i = 0; i < r->n; i++) {
		const struct fl_suite *s = &r->s[i];
		struct fl_run_data rd = { 0 };
		int ret;

		snprintf(path, sizeof(path), "%s%s%s", r->n > 1 ? s->dir : "", r->n > 1 ? "/" : "",
			 html);
		snprintf(ops, sizeof(ops), "%s/ops.jsonl", s->dir);
		snprintf(ev, sizeof(ev), "%s/events.jsonl", s->dir);
		snprintf(cnt, sizeof(cnt), "%s/counters.jsonl", s->dir);
		ret = fl_run_data_load(ops, ev, &rd, &err);
		/* transport counters: optional (runs before they existed) */
		if (!ret && fl_samples_load(cnt, &rd, &err) && access(cnt, F_OK) == 0)
			ret = -EINVAL;
		if (ret)
			pr_err("report: %s: %s", s->dir, err.msg);
		else if ((ret = fl_report_html(path, s, &rd)))
			pr_err("report: cannot write %s", path);
		fl_run_data_free(&rd);
		if (ret)
			return ret;
	}
	return 0;
}

struct report_args {
	const char *html, *junit, *index;
	bool tap, json, compare;
};

static void rows_free(struct fl_row *rows)
{
	free(rows);
}

static struct fl_row *rows_of(const struct reports *r)
{
	struct fl_row *rows = calloc(r->n + 1, sizeof(*rows));

	for (size_t i = 0; rows && i < r->n; i++)
		fl_row_load(&r->s[i], &rows[i]);
	return rows;
}

static int worst(const struct reports *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (!fl_suite_pass(&r->s[i]))
			return FL_EXIT_FAIL;
	return FL_EXIT_OK;
}

static int report(struct reports *r, const struct report_args *a)
{
	struct fl_row *rows;

	if (a->html && write_html(r, a->html))
		return FL_EXIT_USAGE;
	if (a->junit && fl_junit_write(a->junit, r->s, r->n)) {
		pr_err("report: cannot write %s", a->junit);
		return FL_EXIT_USAGE;
	}
	if (a->index && fl_report_index(a->index, r->s, r->n)) {
		pr_err("report: cannot write %s", a->index);
		return FL_EXIT_USAGE;
	}
	if (a->tap) {
		fl_tap_write(stdout, r->s, r->n);
	} else {
		rows = rows_of(r);
		if (!rows)
			return FL_EXIT_USAGE;
		fl_rows_print(stdout, rows, r->n, a->json);
		rows_free(rows);
	}
	return worst(r);
}

/* --compare DIR1 DIR2: each read into its own set. */
static int compare(const char *d1, const char *d2, const struct report_args *a)
{
	struct reports r1 = { 0 }, r2 = { 0 };
	struct fl_row *x = NULL, *y = NULL;
	int ret = collect(d1, &r1) || collect(d2, &r2) ? FL_EXIT_USAGE : FL_EXIT_OK;

	if (!ret) {
		x = rows_of(&r1);
		y = rows_of(&r2);
		if (!x || !y) {
			ret = FL_EXIT_USAGE;
		} else if (fl_report_compare(stdout, a->html, x, r1.n, y, r2.n, a->json)) {
			pr_err("report --compare: %s", a->html && access(a->html, W_OK) ?
							       "cannot write the --html file" :
							       "no scenario and target in both");
			ret = FL_EXIT_USAGE;
		} else {
			ret = worst(&r2);
		}
	}
	free(x);
	free(y);
	for (size_t i = 0; i < r1.n; i++)
		fl_suite_free_cases(&r1.s[i]);
	for (size_t i = 0; i < r2.n; i++)
		fl_suite_free_cases(&r2.s[i]);
	free(r1.s);
	free(r2.s);
	return ret;
}

/* 0, -1 after --help, or FL_EXIT_USAGE. */
static int parse_args(int argc, char **argv, struct report_args *a)
{
	static const struct option opts[] = { { "html", required_argument, NULL, 'H' },
					      { "junit", required_argument, NULL, 'J' },
					      { "index", required_argument, NULL, 'I' },
					      { "tap", no_argument, NULL, 't' },
					      { "json", no_argument, NULL, 'j' },
					      { "compare", no_argument, NULL, 'C' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "hj", opts, NULL)) != -1) {
		switch (c) {
		case 'H':
			a->html = optarg;
			break;
		case 'J':
			a->junit = optarg;
			break;
		case 'I':
			a->index = optarg;
			break;
		case 'j':
			a->json = true;
			break;
		case 'C':
			a->compare = true;
			break;
		case 't':
			a->tap = true;
			break;
		case 'h':
			report_usage(stdout);
			return -1;
		default:
			report_usage(stderr);
			return FL_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		pr_err("report: no results folder given (see fallacy report --help)");
		return FL_EXIT_USAGE;
	}
	if (a->compare && (argc - optind != 2 || a->junit || a->tap || a->index)) {
		pr_err("report --compare: expected two results folders, DIR1 DIR2 (and only -j, "
		       "--html)");
		return FL_EXIT_USAGE;
	}
	return 0;
}

int do_report(int argc, char **argv)
{
	struct report_args a = { 0 };
	struct reports r = { 0 };
	int ret = parse_args(argc, argv, &a);

	if (ret)
		return ret < 0 ? FL_EXIT_OK : ret;
	if (fl_cmd_check)
		return FL_EXIT_OK;
	if (a.compare)
		return compare(argv[optind], argv[optind + 1], &a);
	/* every folder is read before anything is printed or written */
	for (int i = optind; i < argc && !ret; i++)
		ret = collect(argv[i], &r);
	ret = ret ? FL_EXIT_USAGE : report(&r, &a);
	for (size_t i = 0; i < r.n; i++)
		fl_suite_free_cases(&r.s[i]);
	free(r.s);
	return ret;
}
