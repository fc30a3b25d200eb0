// SPDX-License-Identifier: MIT
/* Timeline executor. */
#include "timeline.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "clock.h"
#include "invrun.h"
#include "results.h"
#include "steps.h"

/* Sleeps are cut into slices of SLICE_NS (a stop request waits at most
 * that long); the last SPIN_NS before a step are spun. */
#define SLICE_NS (50 * FL_NSEC_PER_MSEC)
#define SPIN_NS (300 * FL_NSEC_PER_USEC)

static void sleep_until(uint64_t t)
{
	struct timespec ts = fl_ns_ts(t);

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void error_event(struct fl_timeline *tl, const struct fl_step *st, const char *msg)
{
	if (tl->res) {
		struct fl_out *o = fl_results_event_begin(
			tl->res, 0, "error", fl_step_is_heal(st) ? st->heal : st->id, NULL);

		fl_out_str(o, "message", msg);
		fl_results_event_end(tl->res);
	}
	pr_err("timeline step at line %d: %s", st->line, msg);
	tl->failed++;
}

/* A step's event: what it did (spec, the words as applied, and what its
 * selectors resolved to, or counters, a heal's fault list as the data
 * plane printed it), how late it started and how long applying took. */
static void step_event(struct fl_timeline *tl, uint64_t t, const char *ev, const char *id,
		       const char *spec, const char *counters, uint64_t late, uint64_t apply,
		       const char *extra_key, const char *extra)
{
	struct fl_out *o;

	if (!tl->res)
		return;
	o = fl_results_event_begin(tl->res, t, ev, id, NULL);
	if (spec)
		fl_out_str(o, "spec", spec);
	else
		fl_out_raw(o, "counters", counters[0] ? counters : "[]");
	fl_out_u64(o, "late_ns", late);
	fl_out_u64(o, "apply_ns", apply);
	if (extra && extra[0] == '[')
		fl_out_raw(o, extra_key, extra);
	else if (extra)
		fl_out_str(o, extra_key, extra);
	if (tl->ctx && tl->ctx->inv) /* over an inventory: the hosts it acted on */
		fl_invrun_event(tl->ctx->inv, id, o);
	fl_results_event_end(tl->res);
}

static void unpend(struct fl_timeline *tl, const char *id)
{
	for (size_t i = 0; i < tl->n_pending; i++)
		if (!strcmp(tl->pending[i].id, id)) {
			memmove(&tl->pending[i], &tl->pending[i + 1],
				(tl->n_pending - i - 1) * sizeof(tl->pending[0]));
			tl->n_pending--;
			return;
		}
}

/* Heal the active step id; why: NULL for a heal step, "duration" when its
 * duration ran out. */
static int heal_one(struct fl_timeline *tl, const char *id, uint64_t due, const char *why)
{
	char counters[8192] = "";
	struct fl_err err = { "" };
	const struct fl_step *st;
	uint64_t t, late, begin;
	size_t i;
	int ret;

	for (i = 0; i < tl->n_active && strcmp(tl->active[i]->id, id); i++)
		;
	if (i == tl->n_active)
		return 0; /* not active: nothing to heal */
	st = tl->active[i];
	begin = fl_clock_mono_ns();
	ret = st->ops->heal(tl->ctx, st, counters, sizeof(counters), &err);
	t = fl_clock_mono_ns();
	memmove(&tl->active[i], &tl->active[i + 1], (tl->n_active - i - 1) * sizeof(tl->active[0]));
	tl->n_active--;
	unpend(tl, st->id);
	if (ret) {
		pr_err("healing '%s': %s", id, err.msg);
		tl->failed++;
	}
	late = due && begin > due ? begin - due : 0;
	if (late > tl->max_late_ns)
		tl->max_late_ns = late;
	step_event(tl, t, "heal", id, NULL, counters, late, t - begin, "reason", why);
	fl_step_free((struct fl_step *)st);
	if (tl->after_step)
		tl->after_step(tl->arg);
	return ret;
}

static void heal_all_due(struct fl_timeline *tl, uint64_t due)
{
	while (tl->n_active)
		heal_one(tl, tl->active[tl->n_active - 1]->id, due, NULL);
}

void fl_timeline_heal_all(struct fl_timeline *tl)
{
	heal_all_due(tl, 0);
}

/* Active steps the new one ends (a join ends the node's leave): healed by
 * it, recorded as heals at that moment. */
static void ended_by(struct fl_timeline *tl, const struct fl_step *later, uint64_t t)
{
	struct fl_out *o;

	for (size_t i = 0; i < tl->n_active;) {
		const struct fl_step *st = tl->active[i];

		if (!st->ops->ended_by || !st->ops->ended_by(st, later)) {
			i++;
			continue;
		}
		memmove(&tl->active[i], &tl->active[i + 1],
			(tl->n_active - i - 1) * sizeof(tl->active[0]));
		tl->n_active--;
		unpend(tl, st->id);
		if (tl->res) {
			o = fl_results_event_begin(tl->res, t, "heal", st->id, NULL);
			fl_out_raw(o, "counters", "[]");
			fl_out_str(o, "by", later->id);
			fl_results_event_end(tl->res);
		}
		fl_step_free((struct fl_step *)st);
	}
}

/* The step with its node fields resolved, or an error event. */
static struct fl_step *resolved(struct fl_timeline *tl, const struct fl_step *st, char **select)
{
	struct fl_step *copy = NULL;
	struct fl_err err = { "" };

	if (fl_step_resolve(tl->ctx, st, &copy, select, &err)) {
		error_event(tl, st, err.msg);
		return NULL;
	}
	return copy;
}

static void do_step(struct fl_timeline *tl, const struct fl_step *st, uint64_t due)
{
	char words[1024], *select = NULL;
	struct fl_err err = { "" };
	uint64_t t, late, begin;
	struct fl_step *copy;
	bool kept;

	fl_step_words(st, words, sizeof(words));
	snprintf(tl->current, sizeof(tl->current), "%s %.90s",
		 fl_step_is_heal(st) ? "heal" : st->id, words);
	if (fl_step_is_heal(st)) {
		if (!strcmp(st->heal, "all"))
			heal_all_due(tl, due);
		else
			heal_one(tl, st->heal, due, NULL);
		return;
	}
	if (st->ops->heal && tl->n_active == FL_TIMELINE_MAX_ACTIVE) {
		error_event(tl, st, "too many steps active at once");
		return;
	}
	begin = fl_clock_mono_ns();
	late = begin > due ? begin - due : 0;
	copy = resolved(tl, st, &select);
	if (copy && select) { /* progress lines show the nodes, not the selectors */
		fl_step_words(copy, words, sizeof(words));
		snprintf(tl->current, sizeof(tl->current), "%s %.90s", st->id, words);
	}
	if (copy && copy->ops->apply(tl->ctx, copy, &err)) {
		error_event(tl, st, err.msg);
		fl_step_free(copy);
		copy = NULL;
	}
	if (!copy) {
		free(select);
		return;
	}
	t = fl_clock_mono_ns();
	if (late > tl->max_late_ns)
		tl->max_late_ns = late;
	fl_step_words(copy, words, sizeof(words));
	ended_by(tl, copy, t);
	kept = copy->ops->heal && (!copy->ops->lasting || copy->ops->lasting(tl->ctx, copy));
	if (kept) {
		tl->active[tl->n_active++] = copy;
		if (copy->duration_ns) {
			snprintf(tl->pending[tl->n_pending].id, sizeof(tl->pending[0].id), "%s",
				 copy->id);
			tl->pending[tl->n_pending++].due = due + copy->duration_ns;
		}
	}
	step_event(tl, t, copy->ops->event ? copy->ops->event(copy) : copy->ops->key, copy->id,
		   words, NULL, late, t - begin, "select", select);
	if (!kept)
		fl_step_free(copy);
	free(select);
	if (tl->after_step)
		tl->after_step(tl->arg);
}

/* Wake up on time: 1 ns timer slack, and real-time priority when allowed
 * (root), so that busy probes on a small machine do not delay a step. */
static void timely_thread(void)
{
	struct sched_param sp = { .sched_priority = 10 };

	prctl(PR_SET_TIMERSLACK, 1UL);
	/* this thread only (pid 0 = the calling thread); children it forks
	 * (a supervisor started on demand) get the normal policy back */
	if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp))
		pr_debug("timeline: no real-time priority; steps may start later under load");
}

/* The index of the earliest duration heal (0 when there is none). */
static size_t first_pending(const struct fl_timeline *tl)
{
	size_t k = 0;

	for (size_t i = 1; i < tl->n_pending; i++)
		if (tl->pending[i].due < tl->pending[k].due)
			k = i;
	return k;
}

/* Sleep until due: in slices, so that a stop request is seen within a
 * slice, then to SPIN_NS before and spin (timer wake-ups on a loaded VM
 * are late by 0.1-1 ms, a short spin is not). false: stopped. */
static bool wait_for(struct fl_timeline *tl, uint64_t due)
{
	while (fl_clock_mono_ns() + SLICE_NS < due && !(tl->stop && *tl->stop))
		sleep_until(fl_clock_mono_ns() + SLICE_NS < due - SLICE_NS ?
				    fl_clock_mono_ns() + SLICE_NS :
				    due - SLICE_NS);
	if (tl->stop && *tl->stop)
		return false;
	if (due > SPIN_NS)
		sleep_until(due - SPIN_NS);
	while (fl_clock_mono_ns() < due)
		;
	return true;
}

bool fl_timeline_done_by(const struct fl_timeline *tl, uint64_t t)
{
	uint64_t next = __atomic_load_n(&tl->next_due, __ATOMIC_ACQUIRE);

	return next && next > t;
}

static void set_next_due(struct fl_timeline *tl, uint64_t due)
{
	__atomic_store_n(&tl->next_due, due, __ATOMIC_RELEASE);
}

static int timeline_run(struct fl_timeline *tl)
{
	for (;;) {
		const struct fl_step *st = tl->next < tl->n_steps ? &tl->steps[tl->next] : NULL;
		uint64_t due = st ? tl->t0 + st->at_ns : UINT64_MAX;
		size_t k = first_pending(tl);

		/* a duration that runs out when the next step is due ends first */
		if (tl->n_pending && tl->pending[k].due <= due &&
		    (!tl->t_end || tl->pending[k].due < tl->t_end)) {
			char id[FL_ID_MAX + 1];

			due = tl->pending[k].due;
			snprintf(id, sizeof(id), "%s", tl->pending[k].id);
			set_next_due(tl, due);
			if (!wait_for(tl, due))
				return -EINTR;
			heal_one(tl, id, due, "duration");
			continue;
		}
		if (!st)
			return 0;
		set_next_due(tl, due);
		if (!wait_for(tl, due))
			return -EINTR;
		do_step(tl, st, due);
		tl->next++;
	}
}

int fl_timeline_run(struct fl_timeline *tl)
{
	int ret;

	if (tl->realtime)
		timely_thread();
	ret = timeline_run(tl);
	set_next_due(tl, UINT64_MAX);
	return ret;
}
