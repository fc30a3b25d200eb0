/* SPDX-License-Identifier: MIT */
/* Scenario files: lab shape, a timeline of steps, checks. Parsing checks
 * every key and value and reports FILE:LINE:COL errors; the timeline is a
 * module of its own (timeline.h) so `fallacy wrap --scenario` reuses it. */
#ifndef FALLACY_SCENARIO_H
#define FALLACY_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "clock.h"
#include "faults/fault.h"
#include "herd.h"
#include "log.h"
#include "yaml.h"

/* A step's id becomes its fault's id. */
#define FL_ID_MAX FL_FAULT_ID_MAX

/* Defaults of the scenario file (docs/scenarios.md): a recovery check's
 * rate window, a command/invariant check's timeout. */
#define FL_CHECK_RATE_WINDOW_NS FL_NSEC_PER_SEC
#define FL_CHECK_RUN_TIMEOUT_NS (30 * FL_NSEC_PER_SEC)
/* a backoff check's window and bound (docs/scenarios.md) */
#define FL_CHECK_BACKOFF_WINDOW_NS (10 * 1000000ULL)
#define FL_CHECK_BACKOFF_BOUND "<= 0.1"

struct fl_step_ops;
struct fl_labfile;

struct fl_step {
	uint64_t at_ns; /* offset from the start of the timeline */
	const struct fl_step_ops *ops; /* its kind (steps.h) */
	char id[FL_ID_MAX + 1]; /* the step's id; "step-N" if not given */
	/* The words of the equivalent command, as the kind's parser made them:
	 * fault: what `fallacy fault add TARGET` takes, e.g. "delay" "200ms"
	 * "--from" "n1"; partition: "partition" "n1" "n2,n3" ["oneway"]. */
	char **argv;
	size_t argc;
	char heal[FL_ID_MAX + 1]; /* heal: an id or "all" */
	int line, col;
	/* duration: the timeline heals the step by itself this long after it
	 * was due (0: until a heal step or the end) */
	uint64_t duration_ns;
	size_t index; /* its place in the (expanded) timeline: selectors' salt */
	bool scheduled; /* made by a schedule: (resolved scenarios print it) */
};

enum fl_check_kind {
	FL_CHECK_AVAILABILITY,
	FL_CHECK_LATENCY,
	FL_CHECK_RECOVERY,
	FL_CHECK_PROGRESS,
	FL_CHECK_COMMAND,
	FL_CHECK_INVARIANT,
	FL_CHECK_TRANSPORT,
	FL_CHECK_PLAINTEXT, /* no marker in any captured payload (pcap) */
	FL_CHECK_SECURE, /* every captured TCP connection on the ports starts with TLS */
	/* over the run's history (ops.jsonl, the ops with f; checks_history.c) */
	FL_CHECK_LINEARIZABLE,
	FL_CHECK_LOST_WRITES, /* an acknowledged write missing from a final read */
	FL_CHECK_STALE_READS, /* a read older than a write completed before it */
	/* the herd's reconnects after a heal bunched in one window (herd.h) */
	FL_CHECK_BACKOFF,
};
#define FL_CHECK__LAST FL_CHECK_BACKOFF

#define FL_CHECK_MAX_PORTS 16

enum fl_cmp {
	FL_CMP_LT,
	FL_CMP_LE,
	FL_CMP_GT,
	FL_CMP_GE,
	FL_CMP_EQ,
};

enum fl_bound_unit {
	FL_UNIT_NUMBER, /* a number or a percentage ("0.95", "95%") */
	FL_UNIT_DURATION, /* "1s", "250ms": value in seconds */
	FL_UNIT_SIZE, /* "4kb", "1500b", "2mb": value in bytes */
};

struct fl_bound {
	enum fl_cmp op;
	double value; /* a ratio, ops/s, seconds for durations, bytes for sizes */
	bool is_duration;
	bool is_size;
	char text[48]; /* as written: ">= 0.95" */
};

enum fl_window_kind {
	FL_WIN_ALL, /* the whole run */
	FL_WIN_DURING, /* while fault ID (or any fault: "faults") is active */
	FL_WIN_OUTSIDE, /* while it is not */
};

struct fl_window {
	enum fl_window_kind kind;
	char id[FL_ID_MAX + 1]; /* a step id, or "faults" for every fault */
};

struct fl_check {
	enum fl_check_kind kind;
	char name[160]; /* a readable name for reports: "availability during cut" */
	int line, col;
	struct fl_bound bound; /* availability, latency, progress, recovery rate */
	struct fl_window win;
	double pctl; /* latency: 50, 90, 99 or 100 (max) */
	char op[64]; /* only operations with this name ("" = all) */
	char on[128]; /* only operations from these nodes, ",n2,n3," ("" = all); roles
		       * and majority/minority (the sides of the window's partition)
		       * are resolved when the check is evaluated */
	bool by_time; /* availability: share of 100 ms buckets, not of operations */
	/* recovery */
	char after[FL_ID_MAX + 1]; /* a heal step's target id, or "last-heal" */
	uint64_t within_ns;
	bool has_rate;
	/* recovery: the rate's window; backoff: the lock-step window */ /* bound is the ok-rate to get back to */
	uint64_t rate_window_ns;
	/* command (on the nodes node: selects) and invariant (on the ops file) */
	char node[FL_ID_MAX + 1];
	char *run;
	int expect;
	uint64_t timeout_ns;
	/* command: run at this offset of the measured part (while the timeline
	 * goes on) instead of after it */
	bool has_at;
	uint64_t at_ns;
	/* transport: one bound per metric (transport.h, enum fl_tmetric) */
	struct fl_bound tbound[4];
	unsigned int tmask; /* bit m: metric m has a bound */
	/* plaintext and secure: over the run's pcap files (--capture) */
	char **markers; /* byte strings that must not appear in a payload */
	size_t n_markers;
	uint16_t ports[FL_CHECK_MAX_PORTS]; /* either port of a packet; none = all */
	size_t n_ports;
	bool kv; /* linearizable: the kv model (get, put, append), not register */
};

/* schedule: a seeded random nemesis (Jepsen's generator): every `every`
 * from `from` until `until`, one of `pick` (chosen by the run's seed) for
 * `for`. Expanded into timeline steps once the seed is known. */
struct fl_schedule {
	uint64_t every_ns, for_ns, from_ns, until_ns;
	struct fl_step *picks; /* templates: kind and words, no at/id */
	size_t n_picks;
	char prefix[FL_ID_MAX - 8]; /* ids PREFIX-1, PREFIX-2, ...; default "sched" */
	int line, col;
};

/* Does the scenario have checks that read the run's captures? */
struct fl_scenario;
bool fl_scenario_needs_capture(const struct fl_scenario *sc);

struct fl_scenario {
	char *file;
	char *name;
	char *fallacy;
	char *description;
	uint64_t seed;
	bool has_seed;
	uint64_t duration_ns;
	size_t nodes; /* 0: as many as the target wants */
	bool ipv6;
	struct fl_labfile *lab; /* lab: the lab's nodes and profiles, or NULL */
	struct fl_step *steps;
	size_t n_steps;
	struct fl_check *checks;
	size_t n_checks;
	struct fl_schedule *schedules;
	size_t n_schedules;
	bool expanded; /* schedules are in steps[] (fl_scenario_expand) */
	struct fl_herd herd; /* herd: client connections held open (herd.h) */
};

int fl_scenario_load(const char *file, const char *text, struct fl_scenario **out,
		     struct fl_err *err);
/* Every time of sc (duration, steps' at and duration, schedules, recovery
 * within and window, command checks' at) times factor: `run --time-scale` (a scenario cut
 * short for CI). Before fl_scenario_expand. */
void fl_scenario_scale(struct fl_scenario *sc, double factor);
/* Write the schedules out as timeline steps with seed (the same seed, the
 * same steps), merged by time; printed from then on as plain steps, so a
 * resolved scenario replays exactly. Once; -EINVAL (err) on an id clash. */
int fl_scenario_expand(struct fl_scenario *sc, uint64_t seed, struct fl_err *err);
void fl_scenario_free(struct fl_scenario *sc);

/* Print the resolved scenario as a scenario file that loads again (faults
 * as the words of `fault add`), with seed (results/scenario.yaml, --dry-run). */
void fl_scenario_print(const struct fl_scenario *sc, uint64_t seed, FILE *f);
/* "delay 200ms jitter 50ms --from n1 --to n2,n3" into buf. */
void fl_step_words(const struct fl_step *st, char *buf, size_t len);
const char *fl_check_kind_name(enum fl_check_kind k);
/* Parse a bound such as ">= 0.95", "< 1s", "95%". */
int fl_bound_parse(const char *text, bool duration, struct fl_bound *b, struct fl_err *err);
/* The same for a unit; def is the comparison when the text has none. */
int fl_bound_parse_unit(const char *text, enum fl_bound_unit unit, enum fl_cmp def,
			struct fl_bound *b, struct fl_err *err);
bool fl_bound_holds(const struct fl_bound *b, double v);

#endif
