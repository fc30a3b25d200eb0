// SPDX-License-Identifier: MIT
/* Timeline executor. */
#include "timeline.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "results.h"
#include "steps.h"

static void sleep_until(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ULL),
			       .tv_nsec = (long)(t % 1000000000ULL) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void event(struct fl_timeline *tl, uint64_t t, const char *ev, const char *id,
		  const char *extra)
{
	if (tl->res)
		fl_results_event(tl->res, t, ev, id, extra);
}

static void error_event(struct fl_timeline *tl, const struct fl_step *st, const char *msg)
{
	char extra[700], q[600];

	fl_jstrbuf(q, sizeof(q), msg);
	snprintf(extra, sizeof(extra), "\"message\":%s", q);
	event(tl, 0, "error", fl_step_is_heal(st) ? st->heal : st->id, extra);
	pr_err("timeline step at line %d: %s", st->line, msg);
	tl->failed++;
}

static int heal_one(struct fl_timeline *tl, const char *id, uint64_t due)
{
	char counters[8192] = "", extra[8400];
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
	if (ret) {
		pr_err("healing '%s': %s", id, err.msg);
		tl->failed++;
	}
	late = due && begin > due ? begin - due : 0;
	if (late > tl->max_late_ns)
		tl->max_late_ns = late;
	snprintf(extra, sizeof(extra), "\"counters\":%s,\"late_ns\":%llu,\"apply_ns\":%llu",
		 counters[0] ? counters : "{}", (unsigned long long)late,
		 (unsigned long long)(t - begin));
	event(tl, t, "heal", id, extra);
	return ret;
}

static void heal_all_due(struct fl_timeline *tl, uint64_t due)
{
	while (tl->n_active)
		heal_one(tl, tl->active[tl->n_active - 1]->id, due);
}

void fl_timeline_heal_all(struct fl_timeline *tl)
{
	heal_all_due(tl, 0);
}

static void do_step(struct fl_timeline *tl, const struct fl_step *st, uint64_t due)
{
	char words[1024], extra[1200], q[1100];
	struct fl_err err = { "" };
	uint64_t t, late, begin;

	fl_step_words(st, words, sizeof(words));
	snprintf(tl->current, sizeof(tl->current), "%s %.90s",
		 fl_step_is_heal(st) ? "heal" : st->id, words);
	if (fl_step_is_heal(st)) {
		if (!strcmp(st->heal, "all"))
			heal_all_due(tl, due);
		else
			heal_one(tl, st->heal, due);
		return;
	}
	if (st->ops->heal && tl->n_active == FL_TIMELINE_MAX_ACTIVE) {
		error_event(tl, st, "too many steps active at once");
		return;
	}
	begin = fl_clock_mono_ns();
	late = begin > due ? begin - due : 0;
	if (st->ops->apply(tl->ctx, st, &err)) {
		error_event(tl, st, err.msg);
		return;
	}
	t = fl_clock_mono_ns();
	if (late > tl->max_late_ns)
		tl->max_late_ns = late;
	if (st->ops->heal)
		tl->active[tl->n_active++] = st;
	fl_jstrbuf(q, sizeof(q), words);
	snprintf(extra, sizeof(extra), "\"spec\":%s,\"late_ns\":%llu,\"apply_ns\":%llu", q,
		 (unsigned long long)late, (unsigned long long)(t - begin));
	event(tl, t, st->ops->event ? st->ops->event(st) : st->ops->key, st->id, extra);
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

int fl_timeline_run(struct fl_timeline *tl)
{
	if (tl->realtime)
		timely_thread();
	for (; tl->next < tl->n_steps; tl->next++) {
		const struct fl_step *st = &tl->steps[tl->next];
		uint64_t due = tl->t0 + st->at_ns;

		/* sleep in slices so that a stop request is seen within 50 ms */
		while (fl_clock_mono_ns() + 50000000ULL < due && !(tl->stop && *tl->stop))
			sleep_until(fl_clock_mono_ns() + 50000000ULL < due - 50000000ULL ?
					    fl_clock_mono_ns() + 50000000ULL :
					    due - 50000000ULL);
		if (tl->stop && *tl->stop)
			return -EINTR;
		/* sleep to 300 us before, then spin: timer wake-ups on a loaded
		 * VM are late by 0.1-1 ms, a short spin is not */
		if (due > 300000)
			sleep_until(due - 300000);
		while (fl_clock_mono_ns() < due)
			;
		do_step(tl, st, due);
	}
	return 0;
}
