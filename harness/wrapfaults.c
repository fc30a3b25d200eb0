// SPDX-License-Identifier: MIT
/* The faults of `fallacy wrap`: option faults and the --scenario timeline,
 * sent as typed faults to the data plane's supervisor of the wrap
 * namespace through the session API (injector/supervisor/session.h). The
 * harness never touches BPF or netlink itself. On loopback every packet
 * passes lo's egress and then its ingress hook, and must suffer its fault
 * once: each kind says where (fault_ops.loopback_dir: the receive path,
 * except for shapers). */
#include "wrap_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataplane/dataplane.h"
#include "results.h"
#include "scenario.h"
#include "steps.h"
#include "state/state.h"
#include "supervisor/session.h"

static int target(struct wrap_faults *wf, struct fl_target *t, struct fl_err *err)
{
	char *targv[] = { "--netns", wf->netns, NULL };
	int used = 0;

	return fl_target_parse(2, targv, t, &used, err);
}

/* What every wrap fault gets: the kind's hook on lo, --port, the seed. */
static void wrap_match(const struct fl_wrap_opts *o, struct fl_fault *f)
{
	f->dir = f->ops->loopback_dir ? f->ops->loopback_dir : FL_DIR_INGRESS;
	if (o->has_port) {
		f->port_mode = FL_PORT_EITHER;
		f->ports = o->port;
	}
	if (!f->seed_given) {
		f->seed = o->seed;
		f->seed_given = true;
	}
}

static int add_fault(struct wrap_faults *wf, const struct fl_fault *f, struct fl_err *err)
{
	struct fl_target t;
	char *msg = NULL;

	if (target(wf, &t, err))
		return -EINVAL;
	wf->active = true;
	return fl_session_refusal(fl_fault_add(&t, f, &msg), &msg, err);
}

/* The same "fault" event as a timeline step's (spec = the words), plus
 * where the fault sits. */
static void fault_event(struct wrap_faults *wf, const struct fl_fault *f)
{
	struct fl_out *o;
	char words[1024];

	if (!wf->res)
		return;
	fl_fault_format(f, words, sizeof(words));
	o = fl_results_event_begin(wf->res, 0, "fault", f->id, NULL);
	fl_out_str(o, "spec", words);
	fl_out_str(o, "netns", wf->netns);
	fl_out_str(o, "ifname", "lo");
	fl_results_event_end(wf->res);
}

static void adapt(struct fl_step_ctx *c, struct fl_fault *f)
{
	struct wrap_faults *wf = c->arg;

	wrap_match(wf->o, f);
}

static void sum_stats(struct wrap_faults *wf, const char *id);

static void before_heal(struct fl_step_ctx *c, const char *id)
{
	sum_stats(c->arg, id);
}

/* A scenario step's fault, as it will be added (checked, nothing sent). */
static int step_fault(const struct fl_wrap_opts *o, const struct fl_step *st, struct fl_fault *f,
		      struct fl_err *err)
{
	struct fl_rule rules[FL_FAULT_MAX_RULES];

	if (fl_fault_parse(f, (int)st->argc, st->argv, NULL, err) ||
	    fl_fault_rules(f, NULL, rules, FL_FAULT_MAX_RULES, err) < 0)
		return -EINVAL;
	wrap_match(o, f);
	return 0;
}

/* Everything checked before the session exists: the option faults and the
 * scenario's steps (faults only: a wrap has no lab), by the data plane's
 * own parser. */
int wrap_faults_prepare(struct wrap_faults *wf, const struct fl_wrap_opts *o, struct fl_err *err)
{
	struct fl_fault *f;
	int ret;

	wf->o = o;
	for (int i = 0; i < o->n_faults; i++) {
		wrap_match(o, o->faults[i]);
		wf->needs |= o->faults[i]->ops->wrap_needs;
	}
	if (!o->scenario)
		return 0;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	ret = fl_scenario_load(o->scenario, NULL, &wf->sc, err);
	for (size_t i = 0; !ret && i < wf->sc->n_steps; i++) {
		const struct fl_step *st = &wf->sc->steps[i];
		struct fl_err e;

		if (fl_step_is_heal(st))
			continue;
		if (st->ops->needs_lab || strcmp(st->ops->key, "fault")) {
			fl_err_set(err,
				   "%s:%d:%d: a '%s' step needs a lab (use fallacy run); wrap "
				   "runs faults on one namespace",
				   wf->sc->file, st->line, st->col, st->ops->key);
			ret = -EINVAL;
		} else if (step_fault(o, st, f, &e)) {
			fl_err_set(err, "%s:%d:%d: %s", wf->sc->file, st->line, st->col, e.msg);
			ret = -EINVAL;
		}
		wf->needs |= f->ops ? f->ops->wrap_needs : 0;
	}
	free(f);
	return ret;
}

int fl_wrap_check(const struct fl_wrap_opts *o)
{
	struct wrap_faults wf = { 0 };
	struct fl_err err;
	int ret = wrap_faults_prepare(&wf, o, &err);

	if (ret)
		pr_err("wrap: %s", err.msg);
	wrap_faults_free(&wf);
	return ret;
}

static void *timeline_thread(void *arg)
{
	struct wrap_faults *wf = arg;

	fl_timeline_run(&wf->tl);
	return NULL;
}

int wrap_faults_start(struct wrap_faults *wf, const char *netns, struct fl_results *res,
		      struct fl_err *err)
{
	struct fl_target t;
	int ret = 0;

	snprintf(wf->netns, sizeof(wf->netns), "%s", netns);
	wf->res = res;
	for (int i = 0; i < wf->o->n_faults && !ret; i++)
		if (!(ret = add_fault(wf, wf->o->faults[i], err)))
			fault_event(wf, wf->o->faults[i]);
	if (ret || !wf->sc)
		return ret;
	/* Start the supervisor now, so the first step is not late by its
	 * start-up (measured: ~0.2 s for the first fault of a session). */
	if (!target(wf, &t, err) && !fl_session_ensure(&t))
		wf->active = true;
	return 0;
}

int wrap_faults_timeline(struct wrap_faults *wf, struct fl_err *err)
{
	int ret;

	if (!wf->sc)
		return 0;
	if (target(wf, &wf->ctx.target, err))
		return -EINVAL;
	wf->ctx.seed = wf->o->seed;
	wf->ctx.adapt = adapt;
	wf->ctx.before_heal = before_heal;
	wf->ctx.arg = wf;
	wf->tl = (struct fl_timeline){ .steps = wf->sc->steps,
				       .n_steps = wf->sc->n_steps,
				       .ctx = &wf->ctx,
				       .res = wf->res,
				       .stop = &wf->stop,
				       .t0 = fl_clock_mono_ns() };
	ret = -pthread_create(&wf->th, NULL, timeline_thread, wf);
	if (ret) {
		fl_err_set(err, "cannot start the timeline: %s", strerror(-ret));
		return ret;
	}
	wf->th_running = true;
	return 0;
}

/* Add the counters of the session's faults (only the one named id, when
 * id is not NULL) to the wrap's totals. */
static void sum_stats(struct wrap_faults *wf, const char *id)
{
	struct fl_fault_stat *v = NULL;
	struct fl_target t;
	struct fl_err err;
	int n = 0;

	if (target(wf, &t, &err) || fl_fault_stats(&t, &v, &n))
		return;
	for (int i = 0; i < n; i++) {
		if (id && strcmp(v[i].id, id))
			continue;
		wf->sum.faults++;
		fl_counters_add(&wf->sum.c, &v[i].c);
	}
	free(v);
}

/* Our supervisor is gone although nobody ended it: one that ends the usual
 * way (its last fault removed) has its session folder removed by the
 * client that ended it; a killed one leaves its journal behind. */
static bool supervisor_lost(const struct fl_target *t)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s/journal", fl_run_dir(), t->session);
	return !fl_session_alive(t) && !access(path, F_OK);
}

void wrap_faults_end(struct wrap_faults *wf)
{
	char *list[] = { "list", NULL }, *clear[] = { "clear", NULL }, *msg = NULL, *out = NULL;
	struct fl_target t;
	struct fl_err err = { "" };
	bool lost;

	if (wf->th_running) {
		wf->stop = 1;
		pthread_join(wf->th, NULL);
		wf->th_running = false;
	}
	/* Somebody may have attached live (`fault add --netns fl-wrap-PID`):
	 * clear whatever session the namespace has, not only ours, and what a
	 * killed supervisor left (its journal: tc filters, the NFQUEUE rule). */
	if (!wf->netns[0] || target(wf, &t, &err))
		return;
	lost = supervisor_lost(&t);
	if (!wf->active && !lost && !fl_session_alive(&t))
		return;
	if (lost) {
		wf->lost = wf->active;
		pr_warn("wrap: the fault supervisor of %s died while '%s' ran (killed?): its "
			"faults stopped early and their counters are lost",
			wf->netns, wf->o->argv[0]);
	}
	sum_stats(wf, NULL);
	if (!fl_fault_request(&t, 1, list, true, &wf->list_json, &msg) && wf->list_json)
		for (char *p = wf->list_json; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
	free(msg);
	msg = NULL;
	if (wf->res)
		fl_results_event(wf->res, 0, "heal", "all");
	if (fl_fault_request(&t, 1, clear, false, &out, &msg))
		pr_warn("wrap: clearing the faults of %s: %s", wf->netns, msg ? msg : "refused");
	free(out);
	free(msg);
	wf->active = false;
}

unsigned int wrap_faults_needs(const struct wrap_faults *wf)
{
	return wf->needs;
}

void wrap_faults_free(struct wrap_faults *wf)
{
	free(wf->list_json);
	wf->list_json = NULL;
	if (wf->sc)
		fl_scenario_free(wf->sc);
	wf->sc = NULL;
}
