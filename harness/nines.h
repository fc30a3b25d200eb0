/* SPDX-License-Identifier: MIT */
/* Availability as nines and downtime per window and node, and a fault's
 * recovery in phases (detection, unavailability, failover, catch-up),
 * from a run's operations and events. Windows are those of the transport
 * costs: "before" the first fault, each fault or step (every span of its
 * id), "after" the last heal, and the whole "run". Written into
 * summary.json's "availability" (summary.c) and shown by report.html. */
#ifndef FALLACY_NINES_H
#define FALLACY_NINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct fl_run_data;

/* Availability of one window, for one node ("") or all of them. */
struct fl_nines {
	char window[40]; /* "before", a fault's id, "after", "run" */
	char node[24]; /* "": every node */
	uint64_t ops, ok; /* ops that started in the window */
	double avail; /* ok / ops; NAN without ops */
	double nines; /* -log10(1 - avail); NAN without ops or failed ops */
	/* FL_AVAIL_BUCKET_NS buckets of the window in which an op started,
	 * and those of them in which none that started was ok */
	uint64_t buckets, down;
	double downtime; /* seconds: down buckets times the bucket */
};

/* -log10(1 - a); NAN when a is NAN or 1 (no failure: no finite figure). */
double fl_nines_of(double a);
/* Every window, each first for all nodes then for each node (in the
 * order nodes first appear in the ops). malloc'ed. */
int fl_nines_compute(const struct fl_run_data *rd, struct fl_nines **out, size_t *n);

enum fl_phase_kind {
	FL_PH_DETECTION, /* fault began -> first failed op observed */
	FL_PH_UNAVAIL, /* that failure -> the first ok op after it */
	FL_PH_FAILOVER, /* fault began -> that ok op */
	FL_PH_CATCHUP, /* anchor -> latency back within 1.5x the pre-fault p50 */
	FL_PH__MAX,
};
extern const char *const fl_phase_names[]; /* "detection", ... */

/* Ops of the sliding window of catch-up, and its latency factor. */
#define FL_CATCHUP_OPS 5
#define FL_CATCHUP_FACTOR 1.5

struct fl_phase {
	bool has; /* false: a bounding event did not happen (why says which) */
	double seconds;
	uint64_t from_ns, to_ns; /* the bounding instants (events' clock) */
	char from[160], to[160]; /* what happened at them */
	char why[120];
};

/* The recovery of one fault or step (its first span), seen from the ops
 * of one node ("": every node). */
struct fl_recovery {
	char window[40];
	char node[24];
	uint64_t start_ns, heal_ns; /* heal_ns 0: never healed */
	double p50_before; /* s: ok ops that ended before the fault; NAN: none */
	struct fl_phase ph[FL_PH__MAX];
};

/* Per fault or step id, in the order applied: all nodes, then each node
 * (as fl_nines_compute). malloc'ed. */
int fl_recovery_compute(const struct fl_run_data *rd, struct fl_recovery **out, size_t *n);

struct fl_suite; /* results.h */
/* report.html's tables of s->nines and s->recovery; times from t0. */
void fl_report_nines(FILE *f, const struct fl_suite *s, uint64_t t0);

#endif
