// SPDX-License-Identifier: MIT
/* The faults of `fallacy wrap`: option faults and the --scenario timeline,
 * sent to the data plane's supervisor of the wrap namespace through the
 * session API (injector/session.h). The harness never touches BPF or
 * netlink itself. Every wrap fault carries `--dir in`: a loopback packet
 * passes lo's egress and then its ingress hook, and must suffer its fault
 * once, on the receive path (never queue or drop in the sender's hooks,
 * KERNEL-NOTES). Rate caps are the exception (`--dir out`, see below). */
#include "wrap_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results.h"
#include "scenario.h"
#include "yaml.h"

#if __has_include("session.h") && __has_include("fault.h")
#include "fault.h"
#include "session.h"

static int request(struct wrap_faults *wf, char **argv, int argc, bool json, char **out,
		   struct fl_err *err)
{
	char *targv[] = {"--netns", wf->netns, NULL};
	struct fl_target t;
	char *msg = NULL, *o = NULL;
	int used = 0, ret;

	if (fl_target_parse(2, targv, &t, &used, err))
		return -EINVAL;
	ret = fl_fault_request(&t, argc, argv, json, out ? out : &o, &msg);
	if (ret) {
		size_t n = msg ? strlen(msg) : 0;

		while (n && msg[n - 1] == '\n')
			msg[--n] = 0;
		fl_err_set(err, "%s", msg && msg[0] ? msg : "the session supervisor refused");
	}
	free(o);
	free(msg);
	return ret ? -EINVAL : 0;
}

struct words {
	char *argv[96];
	int argc;
	char seed[24], port[16];
};

/* "add" KIND-WORDS --dir in|out [--port P] [--seed S] --id ID */
static void build_words(const struct fl_wrap_opts *o, const char *id, char **kind, int nkind,
			bool has_seed, struct words *w)
{
	w->argc = 0;
	w->argv[w->argc++] = "add";
	for (int i = 0; i < nkind && w->argc < 86; i++)
		w->argv[w->argc++] = kind[i];
	w->argv[w->argc++] = "--dir";
	/* a rate cap shapes on lo's egress qdisc: an ingress cap redirects
	 * through an ifb, which loopback traffic does not survive (measured:
	 * 0 bit/s) */
	w->argv[w->argc++] = nkind && !strcmp(kind[0], "rate") ? "out" : "in";
	if (o->has_port) {
		if (o->port.lo == o->port.hi)
			snprintf(w->port, sizeof(w->port), "%u", o->port.lo);
		else
			snprintf(w->port, sizeof(w->port), "%u-%u", o->port.lo, o->port.hi);
		w->argv[w->argc++] = "--port";
		w->argv[w->argc++] = w->port;
	}
	if (!has_seed) {
		snprintf(w->seed, sizeof(w->seed), "%llu", (unsigned long long)o->seed);
		w->argv[w->argc++] = "--seed";
		w->argv[w->argc++] = w->seed;
	}
	w->argv[w->argc++] = "--id";
	w->argv[w->argc++] = (char *)id;
	w->argv[w->argc] = NULL;
}

static int add_words(struct wrap_faults *wf, const char *id, char **kind, int nkind, bool has_seed,
		     struct fl_err *err)
{
	struct words w;

	build_words(wf->o, id, kind, nkind, has_seed, &w);
	wf->active = true;
	return request(wf, w.argv, w.argc, false, NULL, err);
}

/* The same words, checked by the data plane's parser without the kernel. */
static int check_words(const struct fl_wrap_opts *o, const char *id, char **kind, int nkind,
		       bool has_seed, struct fl_err *err)
{
	struct fl_fault f;
	struct words w;

	build_words(o, id, kind, nkind, has_seed, &w);
	memset(&f, 0, sizeof(f));
	return fl_fault_parse(&f, w.argc - 1, w.argv + 1, NULL, err);
}

static void fault_event(struct wrap_faults *wf, const char *id, char **kind, int n)
{
	char words[512] = "", q[600], extra[800];
	size_t len = 0;

	if (!wf->res)
		return;
	for (int i = 0; i < n && len < sizeof(words) - 1; i++)
		len += snprintf(words + len, sizeof(words) - len, "%s%s", i ? " " : "", kind[i]);
	fl_jstrbuf(q, sizeof(q), words);
	snprintf(extra, sizeof(extra), "\"fault\":%s,\"netns\":\"%.64s\",\"ifname\":\"lo\"", q,
		 wf->netns);
	fl_results_event(wf->res, 0, "fault", id, extra);
}

/* The words of option fault number k (0..4), or 0 if not given. */
static int option_words(const struct fl_wrap_opts *o, int k, char **w, char (*buf)[32],
			const char **id)
{
	switch (k) {
	case 0:
		if (!o->has_delay)
			return 0;
		*id = "wrap-delay";
		w[0] = "delay", w[1] = buf[0], w[2] = "jitter", w[3] = buf[1];
		fl_format_duration(o->delay_ns, buf[0], 32);
		fl_format_duration(o->jitter_ns, buf[1], 32);
		return o->has_jitter ? 4 : 2;
	case 1:
		if (!o->has_loss)
			return 0;
		*id = "wrap-loss", w[0] = "loss", w[1] = buf[0];
		fl_format_percent(o->loss, buf[0], 32);
		return 2;
	case 2:
		if (!o->has_duplicate)
			return 0;
		*id = "wrap-duplicate", w[0] = "duplicate", w[1] = buf[0];
		fl_format_percent(o->duplicate, buf[0], 32);
		return 2;
	case 3:
		if (!o->has_corrupt)
			return 0;
		*id = "wrap-corrupt", w[0] = "corrupt", w[1] = buf[0];
		fl_format_percent(o->corrupt, buf[0], 32);
		return 2;
	case 4:
		if (!o->has_rate)
			return 0;
		*id = "wrap-rate", w[0] = "rate", w[1] = buf[0];
		fl_format_rate(o->rate_bps, buf[0], 32);
		return 2;
	}
	return 0;
}

#define N_OPTION_FAULTS 5

/* One fault per option, ids wrap-KIND. */
static int add_option_faults(struct wrap_faults *wf, struct fl_err *err)
{
	char *w[4], buf[2][32];
	const char *id = NULL;
	int ret = 0, n;

	for (int k = 0; k < N_OPTION_FAULTS && !ret; k++) {
		n = option_words(wf->o, k, w, buf, &id);
		if (n && !(ret = add_words(wf, id, w, n, false, err)))
			fault_event(wf, id, w, n);
	}
	return ret;
}

/* Everything checked before the session exists: the option faults and the
 * scenario's steps, by the data plane's own parser. */
int wrap_faults_prepare(struct wrap_faults *wf, const struct fl_wrap_opts *o, struct fl_err *err)
{
	char *w[4], buf[2][32];
	const char *id = NULL;
	int n, ret;

	wf->o = o;
	for (int k = 0; k < N_OPTION_FAULTS; k++) {
		n = option_words(o, k, w, buf, &id);
		if (n && check_words(o, id, w, n, false, err))
			return -EINVAL;
	}
	if (!o->scenario)
		return 0;
	ret = fl_scenario_load(o->scenario, NULL, &wf->sc, err);
	for (size_t i = 0; !ret && i < wf->sc->n_steps; i++) {
		const struct fl_step *st = &wf->sc->steps[i];
		struct fl_err e;

		if (st->kind == FL_STEP_HEAL)
			continue;
		if (check_words(o, st->id, st->argv, (int)st->argc, true, &e)) {
			fl_err_set(err, "%s:%d:%d: %s", wf->sc->file, st->line, st->col, e.msg);
			ret = -EINVAL;
		}
	}
	return ret;
}

static void sum_counters(struct wrap_faults *wf, const char *json, const char *id);

static int tl_apply(void *ctx, const struct fl_step *st, struct fl_err *err)
{
	struct wrap_faults *wf = ctx;
	bool has_seed = false;

	for (size_t i = 0; i < st->argc; i++)
		has_seed |= !strcmp(st->argv[i], "--seed");
	return add_words(wf, st->id, st->argv, (int)st->argc, has_seed, err);
}

static void one_line(char *s)
{
	for (; s && *s; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
}

static int tl_heal(void *ctx, const char *id, char *counters, size_t len, struct fl_err *err)
{
	struct wrap_faults *wf = ctx;
	char *list[] = {"list", NULL}, *del[] = {"del", (char *)id, NULL}, *out = NULL;
	struct fl_err lerr;

	if (!request(wf, list, 1, true, &out, &lerr) && out) {
		one_line(out);
		sum_counters(wf, out, id);
		if (strlen(out) < len)
			snprintf(counters, len, "%s", out);
	}
	free(out);
	return request(wf, del, 2, false, NULL, err);
}

static const struct fl_timeline_ops tl_ops = {.apply = tl_apply, .heal = tl_heal};

static void *timeline_thread(void *arg)
{
	struct wrap_faults *wf = arg;

	fl_timeline_run(&wf->tl);
	return NULL;
}

int wrap_faults_start(struct wrap_faults *wf, const char *netns, struct fl_results *res,
		      struct fl_err *err)
{
	char *targv[] = {"--netns", (char *)netns, NULL};
	struct fl_target t;
	int used = 0, ret;

	snprintf(wf->netns, sizeof(wf->netns), "%s", netns);
	wf->res = res;
	ret = add_option_faults(wf, err);
	if (ret || !wf->sc)
		return ret;
	/* Start the supervisor now, so the first step is not late by its
	 * start-up (measured: ~0.2 s for the first fault of a session). */
	if (!fl_target_parse(2, targv, &t, &used, err) && !fl_session_ensure(&t))
		wf->active = true;
	return 0;
}

int wrap_faults_timeline(struct wrap_faults *wf, struct fl_err *err)
{
	int ret;

	if (!wf->sc)
		return 0;
	wf->tl = (struct fl_timeline){.steps = wf->sc->steps,
				      .n_steps = wf->sc->n_steps,
				      .ops = &tl_ops,
				      .ctx = wf,
				      .res = wf->res,
				      .stop = &wf->stop,
				      .t0 = fl_clock_mono_ns()};
	ret = -pthread_create(&wf->th, NULL, timeline_thread, wf);
	if (ret) {
		fl_err_set(err, "cannot start the timeline: %s", strerror(-ret));
		return ret;
	}
	wf->th_running = true;
	return 0;
}

static bool session_alive(struct wrap_faults *wf)
{
	char *targv[] = {"--netns", wf->netns, NULL};
	struct fl_target t;
	struct fl_err err;
	int used = 0;

	return wf->netns[0] && !fl_target_parse(2, targv, &t, &used, &err) && fl_session_alive(&t);
}

static uint64_t get_u64(const struct fl_ynode *m, const char *key)
{
	const struct fl_ynode *v = fl_ymap_get(m, key);

	return v && v->type == FL_Y_SCALAR ? strtoull(v->text, NULL, 10) : 0;
}

/* Add the counters of the faults in `fault list -j` output (only the one
 * named id, when id is not NULL) to the session's totals. */
static void sum_counters(struct wrap_faults *wf, const char *json, const char *id)
{
	struct fl_ydoc *d = NULL;
	struct fl_err err;

	if (!json || fl_yaml_load("fault list", json, &d, &err))
		return;
	for (size_t i = 0; d->root && d->root->type == FL_Y_SEQ && i < d->root->n; i++) {
		const struct fl_ynode *f = d->root->items[i], *c = fl_ymap_get(f, "counters");
		const struct fl_ynode *fid = fl_ymap_get(f, "id");

		if (!c || c->type != FL_Y_MAP)
			continue;
		if (id && (!fid || !fid->text || strcmp(fid->text, id)))
			continue;
		wf->sum.faults++;
		wf->sum.packets += get_u64(c, "packets");
		wf->sum.dropped += get_u64(c, "dropped");
		wf->sum.delayed += get_u64(c, "delayed");
		wf->sum.duplicated += get_u64(c, "duplicated");
		wf->sum.corrupted += get_u64(c, "corrupted");
		wf->sum.shaped += get_u64(c, "shaped");
	}
	fl_yaml_free(d);
}

void wrap_faults_end(struct wrap_faults *wf)
{
	char *list[] = {"list", NULL}, *clear[] = {"clear", NULL};
	struct fl_err err = {""};

	if (wf->th_running) {
		wf->stop = 1;
		pthread_join(wf->th, NULL);
		wf->th_running = false;
	}
	/* Somebody may have attached live (`fault add --netns fl-wrap-PID`):
	 * clear whatever session the namespace has, not only ours. */
	if (!wf->active && !session_alive(wf))
		return;
	if (!request(wf, list, 1, true, &wf->list_json, &err)) {
		one_line(wf->list_json);
		sum_counters(wf, wf->list_json, NULL);
	}
	if (wf->res)
		fl_results_event(wf->res, 0, "heal", "all", NULL);
	if (request(wf, clear, 1, false, NULL, &err))
		pr_warn("wrap: clearing the faults of %s: %s", wf->netns, err.msg);
	wf->active = false;
}

#else /* no data plane in this build yet */

int wrap_faults_prepare(struct wrap_faults *wf, const struct fl_wrap_opts *o, struct fl_err *err)
{
	wf->o = o;
	if (!fl_wrap_has_faults(o) && !o->scenario)
		return 0;
	fl_err_set(err, "faults need the data plane (injector/session.h), which this build "
			"does not have yet");
	return -ENOTSUP;
}

int wrap_faults_start(struct wrap_faults *wf, const char *netns, struct fl_results *res,
		      struct fl_err *err)
{
	(void)err;
	snprintf(wf->netns, sizeof(wf->netns), "%s", netns);
	wf->res = res;
	return 0;
}

int wrap_faults_timeline(struct wrap_faults *wf, struct fl_err *err)
{
	(void)wf;
	(void)err;
	return 0;
}

void wrap_faults_end(struct wrap_faults *wf) { (void)wf; }
#endif

bool wrap_faults_may_use(const struct wrap_faults *wf, const char *kind)
{
	const struct fl_wrap_opts *o = wf->o;

	if (o && ((!strcmp(kind, "rate") && o->has_rate) ||
		  (!strcmp(kind, "duplicate") && o->has_duplicate)))
		return true;
	for (size_t i = 0; wf->sc && i < wf->sc->n_steps; i++)
		if (wf->sc->steps[i].argc && !strcmp(wf->sc->steps[i].argv[0], kind))
			return true;
	return false;
}

void wrap_faults_free(struct wrap_faults *wf)
{
	free(wf->list_json);
	wf->list_json = NULL;
	if (wf->sc)
		fl_scenario_free(wf->sc);
	wf->sc = NULL;
}
