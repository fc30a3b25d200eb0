/* SPDX-License-Identifier: MIT */
/* Internal to harness/wrap*.c: the faults of a wrap session. They go to
 * the data plane's session supervisor for the wrap namespace (target
 * `--netns fl-wrap-PID`, fault point lo) through the session API as typed
 * faults; --scenario runs the harness timeline with the same backend. */
#ifndef FALLACY_WRAP_INT_H
#define FALLACY_WRAP_INT_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "fallacy/rule.h"
#include "log.h"
#include "steps.h"
#include "timeline.h"
#include "wrap.h"

struct fl_ctl;
struct fl_results;
struct fl_scenario;

struct wrap_fault_sum {
	uint64_t faults;
	struct fl_counters c;
};

struct wrap_faults {
	char netns[64];
	const struct fl_wrap_opts *o;
	struct fl_results *res; /* events sink or NULL */
	bool active; /* the supervisor has (had) faults of ours */
	bool lost; /* our supervisor died while the command ran (killed) */
	struct fl_scenario *sc;
	struct fl_timeline tl;
	struct fl_step_ctx ctx;
	pthread_t th;
	bool th_running;
	volatile sig_atomic_t stop;
	char *list_json; /* `fault list -j` just before the end, or NULL */
	pthread_mutex_t sum_lock; /* the timeline and the control thread add */
	struct wrap_fault_sum sum;
	unsigned int needs; /* enum fl_wrap_needs of every fault it may add */
};

/* Validate --scenario (load the file) before anything is created. */
int wrap_faults_prepare(struct wrap_faults *wf, const struct fl_wrap_opts *o, struct fl_err *err);
/* What the namespace must allow for the faults it may get (enum
 * fl_wrap_needs; after prepare). */
unsigned int wrap_faults_needs(const struct wrap_faults *wf);
/* Add the option faults to the namespace's lo (before the command runs,
 * so its first packet already suffers them); with a scenario, start the
 * session's supervisor ahead of the first step. */
int wrap_faults_start(struct wrap_faults *wf, const char *netns, struct fl_results *res,
		      struct fl_err *err);
/* Let ctl (wrap --control) add faults like the wrap's own: on lo's hook,
 * with the wrap's seed, logged as "fault"/"heal" events (source
 * "control") and counted in the totals. Also keeps the session's
 * supervisor up between faults. 0 or -errno after a message. */
int wrap_faults_control(struct wrap_faults *wf, struct fl_ctl *ctl);
/* Start the --scenario timeline (offsets from now: the command's exec). */
int wrap_faults_timeline(struct wrap_faults *wf, struct fl_err *err);
/* Stop the timeline, read the counters (list_json; sum adds those healed
 * by the timeline), clear the faults
 * (the supervisor then removes its tc filters, netfilter rule, delay line
 * and exits). */
void wrap_faults_end(struct wrap_faults *wf);
void wrap_faults_free(struct wrap_faults *wf);

#endif
