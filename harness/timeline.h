/* SPDX-License-Identifier: MIT */
/* The timeline executor: runs a scenario's steps at their offsets
 * (clock_nanosleep TIMER_ABSTIME on CLOCK_MONOTONIC) through the step
 * kinds' own apply/heal hooks (steps.h) in a context (a lab or a wrap
 * namespace), and writes one event per applied or healed step. Used by
 * `fallacy run` and `fallacy wrap --scenario`. */
#ifndef FALLACY_TIMELINE_H
#define FALLACY_TIMELINE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "scenario.h"

struct fl_results;
struct fl_step_ctx;

#define FL_TIMELINE_MAX_ACTIVE 64

struct fl_timeline {
	/* set by the caller */
	const struct fl_step *steps;
	size_t n_steps;
	struct fl_step_ctx *ctx; /* where the steps act (steps.h) */
	struct fl_results *res; /* events sink, or NULL */
	uint64_t t0; /* CLOCK_MONOTONIC ns of offset 0 */
	volatile sig_atomic_t *stop; /* set to end early, or NULL */
	bool realtime; /* SCHED_FIFO for the calling thread (run it in its own) */
	/* called right after each step's event, or NULL (a run samples its
	 * transport counters there, so windows start and end on a sample) */
	void (*after_step)(void *arg);
	void *arg;
	/* end of the run (0: none): heals of a step's duration: due later are
	 * left to fl_timeline_heal_all */
	uint64_t t_end;
	/* state */
	size_t next; /* index of the next step */
	/* CLOCK_MONOTONIC ns of what it waits for next (a step or a
	 * duration's heal), UINT64_MAX once nothing is left; 0 before it
	 * starts. Read with fl_timeline_done_by() from another thread. */
	uint64_t next_due;
	/* applied, not healed: copies with their node fields resolved
	 * (fl_step_resolve), owned by the timeline */
	const struct fl_step *active[FL_TIMELINE_MAX_ACTIVE];
	size_t n_active;
	/* steps with a duration: their heal, due at (CLOCK_MONOTONIC) */
	struct {
		char id[FL_ID_MAX + 1];
		uint64_t due;
	} pending[FL_TIMELINE_MAX_ACTIVE];
	size_t n_pending;
	uint64_t max_late_ns; /* worst lateness of a step so far */
	int failed; /* steps that could not be applied */
	char current[128]; /* the last step, for progress lines */
};

/* Run every step at t0 + at (node fields resolved then, against
 * ctx->sel), and heal the steps with a duration at t0 + at + duration;
 * returns 0, or -EINTR when stopped early. A step that fails is an
 * "error" event and counted in failed. */
int fl_timeline_run(struct fl_timeline *tl);
/* Whether every step and duration's heal due at or before t (CLOCK_
 * MONOTONIC ns) has been applied: a command check at T waits for it, so
 * that on a busy machine a late step is still in place when the check
 * that follows it asks. Safe from any thread. */
bool fl_timeline_done_by(const struct fl_timeline *tl, uint64_t t);
/* Heal whatever is still active (end of the run, or interrupted). */
void fl_timeline_heal_all(struct fl_timeline *tl);

#endif
