/* SPDX-License-Identifier: MIT */
/* The results folder of a run and the writers for people and CI:
 * events.jsonl, ops.jsonl, counters.json, logs/, summary.json, junit.xml,
 * TAP, the summary table, and report.html (report.c). */
#ifndef FALLACY_RESULTS_H
#define FALLACY_RESULTS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "checks.h"
#include "clock.h"
#include "json.h"
#include "log.h"

struct fl_results {
	char *dir;
	FILE *events, *ops;
	pthread_mutex_t lock;
	struct fl_out ev; /* the event line being written (under lock) */
	uint64_t n_ok, n_fail, n_timeout; /* ops so far, for progress */
};

/* Create DIR (and DIR/logs) and open events.jsonl and ops.jsonl. */
int fl_results_open(const char *dir, struct fl_results **out, struct fl_err *err);
void fl_results_close(struct fl_results *r);
/* "results/NAME-YYYYmmdd-HHMMSS" (+ "-N" if it exists). */
void fl_results_default_dir(const char *name, char *buf, size_t len);

/* One line of events.jsonl (schema: docs/results.md): "mono_ns", "wall_ns"
 * (of the same instant; mono_ns 0 means now), "event", "id" (left out when
 * NULL), then the event's own members, written by the caller through the
 * returned fl_out (compact JSON) until fl_results_event_end. The results
 * are locked in between. *t (if not NULL) gets the event's monotonic time. */
struct fl_out *fl_results_event_begin(struct fl_results *r, uint64_t mono_ns, const char *event,
				      const char *id, uint64_t *t);
void fl_results_event_end(struct fl_results *r);
/* An event with no members of its own. Returns its monotonic time. */
uint64_t fl_results_event(struct fl_results *r, uint64_t mono_ns, const char *event,
			  const char *id);
int fl_results_op(struct fl_results *r, const struct fl_op *op);

void fl_xml_str(FILE *f, const char *s);

/* One check as reported. */
struct fl_case {
	char name[160];
	char kind[16];
	bool pass;
	char measured[128];
	char bound[160];
	char message[640];
	/* history checks: the offending operations (a JSON array, and one
	 * per line for people); "" when none */
	char offending[2048];
	char offending_text[2048];
	bool skipped; /* not judged (message says why): neither passed nor failed */
};

struct fl_tcost; /* transport.h */
struct fl_nines; /* nines.h */
struct fl_recovery;

/* One scenario run as reported. */
struct fl_suite {
	char name[64];
	char target[64];
	char fallacy[32];
	char dir[512];
	char timestamp[32]; /* ISO 8601 UTC of the start */
	uint64_t seed;
	double seconds;
	char error[512]; /* non-empty: the run could not complete */
	uint64_t ops_ok, ops_fail, ops_timeout;
	struct fl_case *cases;
	size_t n_cases;
	struct fl_tcost *transport; /* cost per window (summary.json "transport") */
	size_t n_transport;
	/* availability of the whole run: ok ops / ops, and the share of 100 ms
	 * buckets with an operation in flight that saw an ok one (NAN: none) */
	double avail_ops, avail_time;
	/* nines and downtime per window and node, recovery phases per fault
	 * (nines.h; summary.json "availability"); malloc'ed */
	struct fl_nines *nines;
	size_t n_nines;
	struct fl_recovery *recovery;
	size_t n_recovery;
	/* process faults applied (kill, pause/stop, restart steps and requests) */
	unsigned int n_kill, n_pause, n_restart;
};

void fl_case_from_result(const struct fl_check_result *res, struct fl_case *c);
bool fl_suite_pass(const struct fl_suite *s);
/* Checks that failed, and checks skipped (neither failed nor passed). */
int fl_suite_failures(const struct fl_suite *s);
int fl_suite_skipped(const struct fl_suite *s);
/* "pass", "FAIL" or "skip"; and the class for HTML ("pass", "fail", "skip") */
const char *fl_case_verdict(const struct fl_case *c);
const char *fl_case_class(const struct fl_case *c);

int fl_summary_write(const char *path, const struct fl_suite *s);
int fl_summary_load(const char *path, struct fl_suite *s, struct fl_err *err);
void fl_suite_free_cases(struct fl_suite *s);
int fl_junit_write(const char *path, const struct fl_suite *suites, size_t n);
void fl_tap_write(FILE *f, const struct fl_suite *suites, size_t n);
void fl_summary_table(FILE *f, const struct fl_suite *suites, size_t n);

/* report.html: latency and throughput over time, per-node latency lanes,
 * fault counters over time (counters.jsonl), fault windows shaded. */
int fl_report_html(const char *path, const struct fl_suite *s, const struct fl_run_data *rd);
/* A failed history check's offending operations on a timeline (inline
 * SVG, report_history.c); nothing when it lists none. */
void fl_report_offending(FILE *f, const struct fl_case *c);

/* ---- many runs: the index, fallacy report's rows, --compare (reports.c) */

/* Operations of one window of a run: all of it, outside every fault
 * window, or one fault's window. Latency (s) of every op that started in
 * it; NAN without ops. */
struct fl_win {
	char name[FL_ID_MAX + 8];
	size_t ops, ok;
	double avail, p50, p90, p99;
};

#define FL_ROW_MAX_WINDOWS 16

/* A run's herd as --compare shows it (herd.jsonl and the heal events):
 * the largest spike of connect attempts after a heal, and the backoff
 * check's share. */
struct fl_herd_sum {
	bool on; /* the run had a herd */
	size_t connects; /* connect attempts in the whole run */
	char heal[FL_ID_MAX + 1]; /* the heal whose spike it is */
	double peak_after_s; /* when its busiest 100 ms began, after the heal */
	unsigned int peak_connects, peak_ok;
	double handshake_p99_ms, request_p99_ms; /* there; in the 5 s after the heal */
	double backoff; /* the backoff check's measured share; NAN: none */
};

/* One run as the index, `fallacy report` and --compare show it. */
struct fl_row {
	const struct fl_suite *s;
	struct fl_win all;
	struct fl_win win[FL_ROW_MAX_WINDOWS]; /* "outside", then each fault */
	size_t n_win;
	struct fl_herd_sum herd;
};

/* Read s->dir's ops and events into row (NANs when there are none). */
int fl_row_load(const struct fl_suite *s, struct fl_row *row);
/* Table (or a JSON array): scenario, target, verdict, checks passed,
 * availability, p99, folder. */
void fl_rows_print(FILE *f, const struct fl_row *rows, size_t n, bool json);
/* PATH (index.html): one row per run, linking each run's report.html,
 * summary.json and junit.xml relative to PATH's folder. */
int fl_report_index(const char *path, const struct fl_suite *suites, size_t n);
/* Two sets of runs side by side, paired by scenario and target: checks,
 * availability and latency percentiles per window, with deltas. Text (or
 * JSON) on f; HTML to html when not NULL. */
int fl_report_compare(FILE *f, const char *html, const struct fl_row *a, size_t na,
		      const struct fl_row *b, size_t nb, bool json);

#endif
