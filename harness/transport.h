/* SPDX-License-Identifier: MIT */
/* What operations cost on the wire in a run: the samples of
 * counters.jsonl (lab-wide totals of injector/stats, every second and at
 * every step, on the events' clock), and per window (before the first
 * fault, during each fault, after the last heal, the whole run) the bytes
 * and packets per successful operation, the retransmitted share of TCP
 * segments and the goodput/throughput ratio. Used by summary.json, the
 * `transport` check and the HTML report. */
#ifndef FALLACY_TRANSPORT_H
#define FALLACY_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"
#include "stats/stats.h"

struct fl_run_data;
struct fl_check;

/* One line of counters.jsonl: lab-wide totals since the lab came up. */
struct fl_sample {
	uint64_t mono_ns;
	struct fl_stats_total tot;
};

/* Write one counters.jsonl line for s (cumulative counters, the lab-wide
 * total, every node and pair); reason: "start", "tick", "step", "end". */
void fl_sample_write(FILE *f, const struct fl_stats *s, uint64_t wall_ns, const char *reason);
/* Read counters.jsonl into rd->samples (sorted by time). A missing file
 * leaves none (-ENOENT, err filled). */
int fl_samples_load(const char *file, struct fl_run_data *rd, struct fl_err *err);

/* A set of time intervals [start, end) on CLOCK_MONOTONIC. */
#define FL_TWIN_MAX_PARTS 32
struct fl_tparts {
	uint64_t a[FL_TWIN_MAX_PARTS], b[FL_TWIN_MAX_PARTS];
	size_t n;
};

enum fl_tmetric {
	FL_TM_BYTES_PER_OP,
	FL_TM_PACKETS_PER_OP,
	FL_TM_RETRANSMITS,
	FL_TM_GOODPUT,
	FL_TM__MAX,
};

/* The cost of the operations of one window. */
struct fl_tcost {
	char name[40]; /* "before", a fault's id, "after", "run" */
	uint64_t start_ns, end_ns; /* first and last instant covered */
	double seconds; /* covered time */
	uint64_t ops_ok, ops_all;
	uint64_t packets, bytes, payload; /* on the wire, lab-wide */
	uint64_t tcp_packets, tcp_payload; /* TCP on the wire, retransmissions included */
	uint64_t retrans_segs, rtos; /* every node's kernel counters */
	double v[FL_TM__MAX]; /* metrics; NAN when not measurable */
};

extern const char *const fl_tmetric_names[]; /* "bytes_per_op", ..., NULL */

/* The cost over parts, counting ops that start inside (filtered by ck's
 * op/on when ck is not NULL). */
void fl_tcost_over(const struct fl_run_data *rd, const struct fl_tparts *parts,
		   const struct fl_check *ck, struct fl_tcost *c);
/* The end of a run's last window: the "end" event, or the last sample when
 * it is later (taken after the load stopped, so the traffic of operations
 * still in flight at the end counts with them). */
uint64_t fl_tcost_end(const struct fl_run_data *rd);
/* The windows of a run: "before", each fault or partition in the order
 * applied, "after" (when something was healed), "run". malloc'ed. */
int fl_tcost_windows(const struct fl_run_data *rd, struct fl_tcost **out, size_t *n);
/* "transport" member of summary.json: {"windows": [...]}. */
void fl_tcost_json(FILE *f, const struct fl_tcost *w, size_t n, const char *indent);
/* A metric as people read it: "3.2kb", "12.5", "4.1%", "0.93". */
void fl_tmetric_format(enum fl_tmetric m, double v, char *buf, size_t len);

#endif
