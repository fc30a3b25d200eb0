// SPDX-License-Identifier: MIT
/* fallacy report DIR [--html F] [--junit F] [--tap]: summarise a results
 * folder again, and (re)write its HTML report or JUnit file. */
#include "cmd.h"

#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "log.h"
#include "results.h"

static void report_usage(FILE *f)
{
	fprintf(f,
		"usage: fallacy report DIR [--html FILE] [--junit FILE] [--tap]\n\n"
		"Print the summary of a results folder written by 'fallacy run'; with\n"
		"--html write the self-contained HTML report (latency and throughput over\n"
		"time, fault windows shaded), with --junit a JUnit XML file, with --tap\n"
		"the checks as TAP on stdout. DIR may also hold several results folders\n"
		"(fallacy run A.yaml B.yaml --out DIR): one table, one JUnit file.\n\nexamples:\n"
		"  fallacy report results/network-is-reliable-20260101-120000\n"
		"  fallacy report results/x --html /tmp/x.html\n");
}

static int report_dir(const char *dir, const char *html, const char *junit, bool tap)
{
	char sum[1100], ops[1100], ev[1100];
	struct fl_run_data rd = { 0 };
	struct fl_suite s;
	struct fl_err err;
	int ret;

	snprintf(sum, sizeof(sum), "%s/summary.json", dir);
	snprintf(ops, sizeof(ops), "%s/ops.jsonl", dir);
	snprintf(ev, sizeof(ev), "%s/events.jsonl", dir);
	if (fl_summary_load(sum, &s, &err)) {
		pr_err("report: %s (is %s a results folder of 'fallacy run'?)", err.msg, dir);
		return FL_EXIT_USAGE;
	}
	snprintf(s.dir, sizeof(s.dir), "%s", dir);
	ret = FL_EXIT_USAGE;
	if (html && fl_run_data_load(ops, ev, &rd, &err)) {
		pr_err("report: %s", err.msg);
		goto out;
	}
	if (html && fl_report_html(html, &s, &rd)) {
		pr_err("report: cannot write %s", html);
		goto out;
	}
	if (junit && fl_junit_write(junit, &s, 1)) {
		pr_err("report: cannot write %s", junit);
		goto out;
	}
	if (tap)
		fl_tap_write(stdout, &s, 1);
	else
		fl_summary_table(stdout, &s, 1);
	ret = fl_suite_pass(&s) ? FL_EXIT_OK : FL_EXIT_FAIL;
out:
	fl_run_data_free(&rd);
	fl_suite_free_cases(&s);
	return ret;
}

static int has_summary(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* A folder of results folders (fallacy run A.yaml B.yaml --out DIR). */
static int report_many(const char *dir, const char *junit, bool tap)
{
	struct dirent **ents = NULL;
	struct fl_suite *suites;
	int n = scandir(dir, &ents, has_summary, alphasort), k = 0, ret = FL_EXIT_OK;
	char sum[1100];
	struct fl_err err;

	suites = n > 0 ? calloc((size_t)n, sizeof(*suites)) : NULL;
	for (int i = 0; suites && i < n; i++) {
		snprintf(sum, sizeof(sum), "%s/%s/summary.json", dir, ents[i]->d_name);
		if (access(sum, F_OK) || fl_summary_load(sum, &suites[k], &err))
			continue;
		snprintf(suites[k].dir, sizeof(suites[k].dir), "%s/%s", dir, ents[i]->d_name);
		if (!fl_suite_pass(&suites[k]))
			ret = FL_EXIT_FAIL;
		k++;
	}
	if (!k) {
		pr_err("report: %s has no summary.json, nor folders with one (is it a results "
		       "folder of 'fallacy run'?)",
		       dir);
		ret = FL_EXIT_USAGE;
	} else if (junit && fl_junit_write(junit, suites, (size_t)k)) {
		pr_err("report: cannot write %s", junit);
		ret = FL_EXIT_USAGE;
	} else if (tap) {
		fl_tap_write(stdout, suites, (size_t)k);
	} else {
		fl_summary_table(stdout, suites, (size_t)k);
	}
	for (int i = 0; i < k; i++)
		fl_suite_free_cases(&suites[i]);
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	free(suites);
	return ret;
}

int do_report(int argc, char **argv)
{
	static const struct option opts[] = { { "html", required_argument, NULL, 'H' },
					      { "junit", required_argument, NULL, 'j' },
					      { "tap", no_argument, NULL, 't' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	const char *html = NULL, *junit = NULL;
	char sum[1100];
	bool tap = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'H':
			html = optarg;
			break;
		case 'j':
			junit = optarg;
			break;
		case 't':
			tap = true;
			break;
		case 'h':
			report_usage(stdout);
			return FL_EXIT_OK;
		default:
			report_usage(stderr);
			return FL_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		report_usage(stderr);
		return FL_EXIT_USAGE;
	}
	snprintf(sum, sizeof(sum), "%s/summary.json", argv[optind]);
	if (access(sum, F_OK) == 0)
		return report_dir(argv[optind], html, junit, tap);
	if (html) {
		pr_err("report: --html needs one scenario's results folder (%s has none)", sum);
		return FL_EXIT_USAGE;
	}
	return report_many(argv[optind], junit, tap);
}
