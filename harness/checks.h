/* SPDX-License-Identifier: MIT */
/* Checks evaluated over a run's ops.jsonl and events.jsonl. Each result
 * carries the measured value next to the bound, for people and for JUnit. */
#ifndef FALLACY_CHECKS_H
#define FALLACY_CHECKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "scenario.h"

enum fl_op_status {
	FL_OP_OK,
	FL_OP_FAIL,
	FL_OP_TIMEOUT,
};

struct fl_op {
	uint64_t start_ns, end_ns; /* CLOCK_MONOTONIC */
	char node[24];
	char op[64];
	enum fl_op_status status;
	/* history members (docs/consistency.md): the client that ran it (0:
	 * none), the value it wrote ("": none), and a probe run that was never
	 * started because `concurrent` runs were still in flight */
	uint64_t process;
	char value[64];
	bool skipped;
	/* an operation of the history: its function ("": the op's name), key
	 * ("": none), a cas's expected value; a read (get) or a cas expecting
	 * nothing has value (expect) "" and prints null; unknown: its effect is
	 * unknown (type info) */
	char f[8];
	char key[48];
	char expect[64];
	bool unknown;
	bool no_match; /* a cas whose compare did not match: served (status ok), type fail */
};

/* A window during which a fault (or partition) was active. */
struct fl_span {
	char id[FL_ID_MAX + 1];
	uint64_t start_ns, end_ns; /* end = heal time, or the end of the run */
	bool healed;
	/* a partition: its largest group (majority) and the other nodes
	 * (minority), ",n2,n3," as fl_check.on; "" for other steps */
	char majority[256], minority[256];
	char spec[256]; /* the step's words, selectors resolved (on: picked) */
};

/* A node's role, from its target-start event. */
struct fl_node_role {
	char node[24];
	char role[24];
};

/* A timeline event as the report shows it. */
struct fl_event {
	uint64_t t_ns; /* CLOCK_MONOTONIC */
	char event[16]; /* fault, partition, heal, error */
	char id[FL_ID_MAX + 1];
	char text[200]; /* spec, or an error message */
	int64_t late_ns, apply_ns; /* -1 if not recorded */
	int64_t dropped; /* heal: the fault's dropped packets, -1 if unknown */
};

struct fl_sample; /* transport.h */

struct fl_run_data {
	struct fl_op *ops;
	size_t n_ops;
	struct fl_span *spans;
	size_t n_spans;
	uint64_t start_ns, end_ns; /* of the timeline (events "start"/"end") */
	uint64_t start_wall_ns; /* the "start" event's CLOCK_REALTIME (pcap's clock), or 0 */
	char dir[512]; /* the results folder (its pcap/ for plaintext and secure), or "" */
	uint64_t *heals; /* times of heal events, in order */
	char (*heal_ids)[FL_ID_MAX + 1];
	size_t n_heals;
	struct fl_event *events;
	size_t n_events;
	struct fl_sample *samples; /* counters.jsonl (fl_samples_load), by time */
	size_t n_samples;
	struct fl_node_role *roles; /* the target's roles, for on: ROLE */
	size_t n_roles;
	/* leader events: when the target's leader: command named which nodes
	 * (",n2,"), for on: leader and on: followers */
	struct fl_leader_seen {
		uint64_t t_ns;
		char nodes[128];
	} * leaders;
	size_t n_leaders;
	char all_nodes[1024]; /* ",n1,n2,...," from target-start events */
	/* why the history checks (linearizable, lost-writes, stale-reads) and
	 * backoff have nothing to judge on this target: they are skipped, not
	 * failed ("target http records no values"); "": they are judged */
	char no_history[96], no_herd[96];
};

const char *fl_op_status_name(enum fl_op_status s);
int fl_op_status_parse(const char *s, enum fl_op_status *out);

/* Read DIR/ops.jsonl and DIR/events.jsonl. */
int fl_run_data_load(const char *ops_file, const char *events_file, struct fl_run_data *rd,
		     struct fl_err *err);
void fl_run_data_free(struct fl_run_data *rd);

struct fl_check_result {
	const struct fl_check *ck;
	bool pass;
	bool skipped; /* not judged: the target cannot show it (detail says why) */
	double measured; /* NAN when nothing could be measured */
	char measured_text[128]; /* "0.412", "1.2s", "exit 3", "bytes_per_op 3.2kb" */
	char detail[256]; /* "41 of 99 ops ok", "no ops in the window" */
	/* history checks: the offending operations, a JSON array of objects
	 * ("" when none) and the same for people, one per line */
	char offending[2048];
	char offending_text[2048];
};

/* The check kinds: YAML key and evaluation, indexed by enum fl_check_kind
 * (command and invariant are evaluated by the run, which runs them). */
struct fl_check_kind_ops {
	const char *name;
	void (*eval)(const struct fl_check *ck, const struct fl_run_data *rd,
		     struct fl_check_result *res);
};
extern const struct fl_check_kind_ops fl_check_kinds[];
extern const char *const fl_check_names[]; /* the names, NULL-terminated */
/* Does op count for ck (its op: and on: filters)? */
bool fl_check_op_on(const struct fl_check *ck, const struct fl_op *op);

/* Evaluate a data check (availability, latency, recovery, progress,
 * transport). */
void fl_check_eval(const struct fl_check *ck, const struct fl_run_data *rd,
		   struct fl_check_result *res);
/* Evaluate a command/invariant check from the exit status of its run
 * (status < 0: could not run, or timed out; detail says which). */
void fl_check_eval_status(const struct fl_check *ck, int status, const char *why,
			  struct fl_check_result *res);
/* A transport check's bounds: "bytes_per_op < 4kb, retransmits < 5%". */
void fl_check_transport_bounds(const struct fl_check *ck, char *buf, size_t len);
/* Evaluate a plaintext or secure check over the *.pcap files of pcap_dir
 * (checks_capture.c); rd (may be NULL) dates packets from the start. */
void fl_check_eval_capture(const struct fl_check *ck, const char *pcap_dir,
			   const struct fl_run_data *rd, struct fl_check_result *res);
/* The same over rd->dir/pcap: the kinds' table entry. */
void fl_check_eval_captures(const struct fl_check *ck, const struct fl_run_data *rd,
			    struct fl_check_result *res);
/* Evaluate linearizable, lost-writes or stale-reads over rd->dir's
 * ops.jsonl (checks_history.c). */
void fl_check_eval_history(const struct fl_check *ck, const struct fl_run_data *rd,
			   struct fl_check_result *res);
/* Evaluate a backoff check over rd->dir's herd.jsonl (checks_herd.c). */
void fl_check_eval_backoff(const struct fl_check *ck, const struct fl_run_data *rd,
			   struct fl_check_result *res);
/* The heal a recovery or backoff check's after: names (last-heal: the
 * last): 0 and its time; 1 and the step's own time for a step never
 * healed; -ENOENT if none. */
int fl_check_heal_time(const struct fl_check *ck, const struct fl_run_data *rd, uint64_t *h);
/* The bound as people read it: ">= 0.95", "exit 0", "linearizable
 * (register model)". */
void fl_check_bound(const struct fl_check *ck, char *bound, size_t len);
/* "measured 0.412 (41 of 99 ops ok), bound >= 0.95"; a skipped check:
 * "skipped: target http records no values" */
void fl_check_message(const struct fl_check_result *res, char *buf, size_t len);

/* Availability over time: the window (ck's; the whole run when ck is
 * NULL) cut into FL_AVAIL_BUCKET_NS buckets; of those in which one of ck's
 * operations started (*all), those in which an ok one started (*ok). Each
 * bucket weighs the same however many operations it has, so a stretch of
 * time counts by its length, not by how many operations it held. */
#define FL_AVAIL_BUCKET_NS (100 * 1000000ULL)
void fl_avail_time(const struct fl_check *ck, const struct fl_run_data *rd, size_t *ok,
		   size_t *all);

/* Percentile (0..100, nearest rank) of sorted values. */
double fl_percentile(const double *sorted, size_t n, double pct);

#endif
