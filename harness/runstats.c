// SPDX-License-Identifier: MIT
/* A run's transport counters (injector/stats): counters.jsonl gets one line
 * just before the timeline's t0, one every second on its grid, one
 * right after every timeline step and one after the load stopped, each with
 * the events' clock (mono_ns), so that summary.json and the `transport`
 * check cut the run into windows at sampled instants. */
#include "run.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "stats/stats.h"
#include "transport.h"

void fl_run_sample(struct fl_run *r, const char *reason)
{
	struct fl_err e = { "" };
	struct fl_stats s;

	pthread_mutex_lock(&r->sample_io);
	if (r->samples && !fl_stats_read(r->lab_name, &s, NULL, &e)) {
		fl_sample_write(r->samples, &s, fl_clock_wall_ns(), reason);
		fflush(r->samples);
		fl_stats_free(&s);
	} else if (r->samples && !r->sample_warned) {
		r->sample_warned = true;
		pr_warn("%s: transport counters: %s (counters.jsonl misses samples)", r->sc->name,
			e.msg);
	}
	pthread_mutex_unlock(&r->sample_io);
}

void fl_run_sample_soon(struct fl_run *r)
{
	if (!r->sampling)
		return;
	pthread_mutex_lock(&r->sample_lock);
	r->sample_step = true;
	pthread_cond_signal(&r->sample_cond);
	pthread_mutex_unlock(&r->sample_lock);
}

/* The first sample just before t0 (the load starts at t0: windows that
 * start there then begin on a sample, not between two), then one on every
 * second of the timeline, and one whenever a step asks (the timeline's own
 * thread only signals: it never waits for a sample). */
static void *sampler(void *arg)
{
	struct fl_run *r = arg;
	uint64_t next = r->t0 - 2 * FL_NSEC_PER_MSEC;
	const char *reason = "start";
	struct timespec ts;
	bool step;

	pthread_mutex_lock(&r->sample_lock);
	while (!r->sample_stop) {
		ts = fl_ns_ts(next);
		if (!r->sample_step &&
		    pthread_cond_timedwait(&r->sample_cond, &r->sample_lock, &ts) != ETIMEDOUT &&
		    !r->sample_step)
			continue;
		step = r->sample_step;
		r->sample_step = false;
		pthread_mutex_unlock(&r->sample_lock);
		fl_run_sample(r, step ? "step" : reason);
		pthread_mutex_lock(&r->sample_lock);
		if (step)
			continue;
		reason = "tick";
		next = r->t0;
		while (next <= fl_clock_mono_ns())
			next += FL_NSEC_PER_SEC;
	}
	pthread_mutex_unlock(&r->sample_lock);
	return NULL;
}

int fl_run_samples_start(struct fl_run *r)
{
	pthread_condattr_t ca;
	char path[700];
	int ret;

	snprintf(path, sizeof(path), "%s/counters.jsonl", r->dir);
	r->samples = fopen(path, "we");
	if (!r->samples)
		return -errno;
	pthread_mutex_init(&r->sample_lock, NULL);
	pthread_mutex_init(&r->sample_io, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->sample_cond, &ca);
	pthread_condattr_destroy(&ca);
	ret = -pthread_create(&r->sampler, NULL, sampler, r);
	r->sampling = !ret;
	return ret;
}

void fl_run_samples_stop(struct fl_run *r)
{
	if (!r->samples)
		return;
	if (r->sampling) {
		pthread_mutex_lock(&r->sample_lock);
		r->sample_stop = true;
		pthread_cond_signal(&r->sample_cond);
		pthread_mutex_unlock(&r->sample_lock);
		pthread_join(r->sampler, NULL);
		r->sampling = false;
	}
	fl_run_sample(r, "end");
	fclose(r->samples);
	r->samples = NULL;
	pthread_cond_destroy(&r->sample_cond);
	pthread_mutex_destroy(&r->sample_lock);
	pthread_mutex_destroy(&r->sample_io);
}
