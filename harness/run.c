// SPDX-License-Identifier: MIT
/* One scenario run: lab up, targets, readiness, load, timeline, checks,
 * ordered shutdown, lab down, results. */
#include "run.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "capture/capture.h"
#include "dataplane/dataplane.h"
#include "faults/fault.h"
#include "invrun.h"
#include "lab/lab.h"
#include "labfile.h"
#include "parse.h"
#include "proc.h"
#include "state/state.h"
#include "supervisor/session.h"
#include "select.h"
#include "steps.h"
#include "tls.h"
#include "nines.h"
#include "transport.h"

/* The measured part: the load threads get START_DELAY_NS to start before
 * offset 0; the main thread looks at the load every MAIN_TICK_US and
 * reports progress every PROGRESS_TTY_NS on a terminal, PROGRESS_NS
 * otherwise. */
#define START_DELAY_NS (100 * FL_NSEC_PER_MSEC)
#define MAIN_TICK_US 50000
#define PROGRESS_TTY_NS (200 * FL_NSEC_PER_MSEC)
#define PROGRESS_NS (5 * FL_NSEC_PER_SEC)
/* fault-counters.jsonl: the lab's fault counters this often (the report
 * plots dropped, delayed and bytes over time from them) */
#define SAMPLE_NS (500 * FL_NSEC_PER_MSEC)

volatile sig_atomic_t fl_run_interrupted;

static int run_fail(struct fl_suite *s, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int run_fail(struct fl_suite *s, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->error, sizeof(s->error), fmt, ap);
	va_end(ap);
	pr_err("%s: %s", s->name, s->error);
	return ret ? ret : -EINVAL;
}

int fl_run_scratch_dir(struct fl_run *r, size_t i, struct fl_err *err)
{
	struct passwd *pw = r->t->user ? getpwnam(r->t->user) : NULL;
	struct fl_run_node *n = &r->nodes[i];
	char dir[sizeof(n->dir)];
	int ret;

	snprintf(dir, sizeof(dir), "%s/%s", r->scratch, n->name);
	memcpy(n->dir, dir, sizeof(dir));
	ret = fl_rm_rf(n->dir); /* a node that comes back starts afresh */
	if (!ret && mkdir(n->dir, 0700))
		ret = -errno;
	else if (!ret && pw && chown(n->dir, pw->pw_uid, pw->pw_gid))
		ret = -errno;
	if (ret)
		fl_err_set(err, "cannot create the scratch folder %s: %s", n->dir, strerror(-ret));
	return ret;
}

/* {{dir}} of each node: /tmp/fallacy-LAB.RANDOM/NODE, journaled with the lab
 * (so lab down and cleanup remove it), owned by the target's user. */
static int scratch_dirs(struct fl_run *r, struct fl_suite *s)
{
	unsigned int rnd;
	char why[300];
	struct fl_err err;
	int ret;

	if (r->t->user && !getpwnam(r->t->user))
		return run_fail(s, -ENOENT, "no user '%s' on this system (target %s)", r->t->user,
				r->t->file);
	/* Ours alone: a random suffix, recorded before mkdir, and an existing
	 * folder (never expected) is refused rather than adopted, so cleanup
	 * can only ever remove what this run made. */
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (unsigned int)getpid() ^ (unsigned int)time(NULL);
	snprintf(r->scratch, sizeof(r->scratch), "/tmp/fallacy-%s.%08x", r->lab_name, rnd);
	ret = fl_state_mkdir(r->st, r->scratch, 0755);
	if (ret)
		return run_fail(s, ret, "cannot create the scratch folders in %s: %s", r->scratch,
				strerror(-ret));
	for (size_t i = 0; i < r->n_nodes && !ret; i++)
		ret = fl_run_scratch_dir(r, i, &err);
	if (ret)
		return run_fail(s, ret, "%s", err.msg);
	if (fl_run_tls(r, why, sizeof(why)))
		return run_fail(s, -EIO, "%s", why);
	return 0;
}

static int lab_up(struct fl_run *r, struct fl_suite *s)
{
	static int serial;
	const char *names[FL_RUN_MAX_NODES];
	struct fl_lab_spec spec = { 0 };
	int ret;

	if (r->o->lab)
		snprintf(r->lab_name, sizeof(r->lab_name), "%s", r->o->lab);
	else
		snprintf(r->lab_name, sizeof(r->lab_name), "fr%d-%d", (int)getpid() % 1000000,
			 ++serial);
	for (size_t i = 0; i < r->n_nodes; i++)
		names[i] = r->plan.names[i];
	spec.name = r->lab_name;
	spec.n_nodes = r->n_nodes;
	spec.node_names = names;
	spec.ipv6 = r->sc->ipv6;
	if (r->sc->lab)
		fl_labfile_spec(r->sc->lab, r->lab_name, &spec);
	ret = fl_lab_up(&spec, &r->lab);
	if (ret == -EEXIST)
		return run_fail(s, ret,
				"lab '%s' exists already (choose another --lab, or 'fallacy lab "
				"down %s')",
				r->lab_name, r->lab_name);
	if (ret)
		return run_fail(s, ret, "could not bring lab '%s' up (%s)", r->lab_name,
				strerror(-ret));
	ret = fl_state_open(r->lab_name, &r->st);
	if (ret)
		return run_fail(s, ret, "cannot open the journal of lab '%s': %s", r->lab_name,
				strerror(-ret));
	if (r->sc->lab) { /* the profiles: the lab's normal state, before anything runs */
		struct fl_err err;

		ret = fl_labfile_apply(r->sc->lab, r->lab_name, r->seed, &err);
		if (ret)
			return run_fail(s, ret, "lab '%s': applying its profiles: %s", r->lab_name,
					err.msg);
		fl_lab_free(r->lab);
		r->lab = NULL;
		if (fl_lab_load(r->lab_name, &r->lab))
			return run_fail(s, -EIO, "cannot read lab '%s' again", r->lab_name);
		fl_results_event(r->res, 0, "profiles", r->lab_name);
	}
	r->lab0 = fl_lab_dup(r->lab);
	if (!r->lab0)
		return run_fail(s, -ENOMEM, "out of memory");
	r->n_nodes = 0;
	fl_run_sync_nodes(r);
	fl_results_event(r->res, 0, "lab-up", r->lab_name);
	return scratch_dirs(r, s);
}

static int expand(const struct fl_run *r, size_t i, const char *tmpl, char **out,
		  struct fl_err *err)
{
	struct fl_tvars v;
	struct fl_err e;
	int ret;

	fl_run_vars(r, i, &v);
	ret = fl_template_expand(tmpl, &v, out, &e);
	if (ret)
		fl_err_set(err, "%s: %s", r->t->file, e.msg);
	return ret;
}

/* Open each node's log, start the target's processes, wait until ready. */
static int start_targets(struct fl_run *r, struct fl_suite *s)
{
	char path[700];
	struct fl_err err = { "" };

	for (size_t i = 0; i < r->n_nodes; i++) {
		snprintf(path, sizeof(path), "%s/logs/%s.log", r->dir, r->nodes[i].name);
		r->nodes[i].log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (r->nodes[i].log_fd < 0)
			return run_fail(s, -errno, "cannot write %s: %s", path, strerror(errno));
	}
	if (fl_run_targets_start(r, &err))
		return run_fail(s, -EINVAL, "%s", err.msg);
	return 0;
}

/* --capture: one pcap per node, of its eth0 (what the node sent and what
 * reached it through the wire's faults), from ready to the end. */
static int capture_start(struct fl_run *r, struct fl_suite *s)
{
	char dir[600], path[700];
	int ret = 0;

	/* plaintext and secure checks read the captures: they turn it on */
	if (!r->o->capture && !fl_scenario_needs_capture(r->sc))
		return 0;
	snprintf(dir, sizeof(dir), "%s/pcap", r->dir);
	if (mkdir(dir, 0755) && errno != EEXIST)
		return run_fail(s, -errno, "cannot create %s: %s", dir, strerror(errno));
	for (size_t i = 0; i < r->n_nodes && !ret; i++) {
		struct fl_run_node *n = &r->nodes[i];
		struct fl_capture_point pt = { .dir = FL_CAPTURE_INOUT };
		struct fl_capture_opts co = { .path = path };

		snprintf(pt.netns, sizeof(pt.netns), "%s", n->netns);
		snprintf(pt.ifname, sizeof(pt.ifname), "eth0");
		snprintf(path, sizeof(path), "%s/%s.pcap", dir, n->name);
		ret = fl_capture_open(&pt, 1, &co, &n->cap);
		if (!ret)
			ret = fl_capture_start(n->cap);
	}
	if (ret)
		return run_fail(s, ret, "capture: %s", strerror(-ret));
	return 0;
}

static void capture_stop(struct fl_run *r)
{
	for (size_t i = 0; i < r->n_nodes; i++) {
		struct fl_run_node *n = &r->nodes[i];
		struct fl_capture_stat st;
		struct fl_out *o;
		char file[128];

		if (!n->cap)
			continue;
		fl_capture_stop(n->cap);
		fl_capture_total(n->cap, &st);
		snprintf(file, sizeof(file), "pcap/%s.pcap", n->name);
		o = fl_results_event_begin(r->res, 0, "capture", n->name, NULL);
		fl_out_str(o, "file", file);
		fl_out_u64(o, "written", st.written);
		fl_out_u64(o, "dropped", st.dropped);
		fl_results_event_end(r->res);
		if (st.dropped)
			pr_warn("capture on %s lost %llu packets (kernel ring full)", n->name,
				(unsigned long long)st.dropped);
		fl_capture_free(n->cap);
		n->cap = NULL;
	}
}

struct tl_arg {
	struct fl_timeline *tl;
	int ret;
};

static void run_command_check(struct fl_run *r, const struct fl_check *ck,
			      struct fl_check_result *res);

/* Command checks with `at:` run during the measured part, each in a
 * thread of its own: a command may take its whole timeout, and a check due
 * at 3 s must not wait behind another's slow command (on a busy machine
 * an `iptables-save` at 3 s took seconds and pushed the next check past
 * the heal it was meant to precede). */
struct at_check {
	struct fl_run *r;
	const struct fl_check *ck;
	struct fl_check_result *res;
	const struct fl_timeline *tl;
	pthread_t th;
	bool started;
};

static void sleep_until_mono(uint64_t t)
{
	uint64_t now;

	/* in slices, to see an interrupt */
	while (!fl_run_interrupted && (now = fl_clock_mono_ns()) < t)
		usleep(t - now > 50000000ULL ? 50000 : (useconds_t)((t - now) / 1000));
}

static void *at_check_thread(void *arg)
{
	struct at_check *a = arg;
	uint64_t due = a->r->t0 + a->ck->at_ns;

	sleep_until_mono(due);
	/* and after the steps due by then, however late they are */
	while (!fl_run_interrupted && !fl_timeline_done_by(a->tl, due))
		usleep(1000);
	if (!fl_run_interrupted)
		run_command_check(a->r, a->ck, a->res);
	return NULL;
}

/* One thread per check with at:; NULL when there is none (or no memory).
 * A check whose thread cannot start runs when the measured part ends
 * (at_checks_join). */
static struct at_check *at_checks_start(struct fl_run *r, struct fl_check_result *res,
					const struct fl_timeline *tl)
{
	const struct fl_scenario *sc = r->sc;
	struct at_check *a = NULL;
	size_t n = 0;

	for (size_t i = 0; i < sc->n_checks; i++)
		n += sc->checks[i].has_at;
	if (!n || !(a = calloc(sc->n_checks, sizeof(*a))))
		return NULL;
	for (size_t i = 0; i < sc->n_checks; i++) {
		if (!sc->checks[i].has_at)
			continue;
		a[i] = (struct at_check){ r, &sc->checks[i], &res[i], tl, 0, false };
		a[i].started = !pthread_create(&a[i].th, NULL, at_check_thread, &a[i]);
		if (!a[i].started)
			pr_warn("%s: check %s: no thread to run it at %.3f s; it runs when the "
				"measured part ends",
				sc->name, sc->checks[i].name, sc->checks[i].at_ns / 1e9);
	}
	return a;
}

/* Waits for every at: check; runs the ones that had no thread. */
static void at_checks_join(struct fl_run *r, struct at_check *a, struct fl_check_result *res)
{
	for (size_t i = 0; i < r->sc->n_checks; i++) {
		if (!r->sc->checks[i].has_at)
			continue;
		if (a && a[i].started)
			pthread_join(a[i].th, NULL);
		else if (!fl_run_interrupted)
			run_command_check(r, &r->sc->checks[i], &res[i]);
	}
	free(a);
}

static void *timeline_thread(void *arg)
{
	struct tl_arg *a = arg;

	a->ret = fl_timeline_run(a->tl);
	return NULL;
}

static void progress(struct fl_run *r, const struct fl_timeline *tl, bool final)
{
	uint64_t now = fl_clock_mono_ns();
	double el = now > r->t0 ? (now - r->t0) / 1e9 : 0, tot = r->sc->duration_ns / 1e9;

	if (el > tot)
		el = tot;
	if (r->o->progress_tty) {
		fprintf(stderr,
			"\r\033[K[%5.1fs/%.0fs] %-40.40s ops ok %llu fail %llu timeout %llu%s", el,
			tot, tl->current[0] ? tl->current : "-", (unsigned long long)r->res->n_ok,
			(unsigned long long)r->res->n_fail, (unsigned long long)r->res->n_timeout,
			final ? "\n" : "");
	} else {
		fprintf(stderr, "fallacy: %s: %.1fs/%.0fs %s; ops ok %llu fail %llu timeout %llu\n",
			r->sc->name, el, tot, tl->current[0] ? tl->current : "-",
			(unsigned long long)r->res->n_ok, (unsigned long long)r->res->n_fail,
			(unsigned long long)r->res->n_timeout);
	}
}

static void step_sample(void *arg)
{
	fl_run_sample_soon(arg);
}

/* One line of fault-counters.jsonl: {"mono_ns", "faults": [{"id", "kind",
 * counters...}]}, every fault of the lab's session at that moment. */
static void sample_counters(struct fl_run *r)
{
	struct fl_out o = { .json = true, .compact = true };
	struct fl_fault_stat *v = NULL;
	struct fl_target t;
	struct fl_err err;
	char path[700];
	int n = 0;

	if (r->inv) /* the agents' counters stay on their hosts */
		return;

	if (!r->fault_samples) {
		snprintf(path, sizeof(path), "%s/fault-counters.jsonl", r->dir);
		r->fault_samples = fopen(path, "we");
	}
	if (!r->fault_samples || fl_target_from_session(r->lab_name, &t, &err) ||
	    fl_fault_stats(&t, &v, &n))
		return;
	o.f = r->fault_samples;
	fl_out_open(&o, "", '{');
	fl_out_u64(&o, "mono_ns", fl_clock_mono_ns());
	fl_out_open(&o, "faults", '[');
	for (int i = 0; i < n; i++) {
		fl_out_open(&o, "", '{');
		fl_out_str(&o, "id", v[i].id);
		fl_out_str(&o, "kind", v[i].kind);
		fl_counters_print(&v[i].c, &o);
		fl_out_close(&o, '}');
	}
	fl_out_close(&o, ']');
	fl_out_close(&o, '}');
	fputc('\n', r->fault_samples);
	fflush(r->fault_samples); /* the report reads it before the run ends */
	free(v);
}

/* The measured part: load + timeline for the scenario's duration. */
static int run_timeline(struct fl_run *r, struct fl_suite *s, struct fl_check_result *res)
{
	struct fl_step_ctx ctx;
	struct fl_timeline tl = { .steps = r->sc->steps,
				  .n_steps = r->sc->n_steps,
				  .ctx = &ctx,
				  .res = r->res,
				  .stop = &fl_run_interrupted,
				  .realtime = true };
	struct tl_arg a = { &tl, 0 };
	struct at_check *ac;
	uint64_t last = 0, every = r->o->progress_tty ? PROGRESS_TTY_NS : PROGRESS_NS, sampled = 0;
	struct fl_err err;
	pthread_t th;
	int ret;

	if (fl_run_step_ctx(r, &ctx, &err))
		return run_fail(s, -EINVAL, "%s", err.msg);

	r->t0 = fl_clock_mono_ns() + START_DELAY_NS;
	r->t_end = r->t0 + r->sc->duration_ns;
	tl.t0 = r->t0;
	tl.t_end = r->t_end;
	tl.after_step = step_sample;
	tl.arg = r;
	ret = r->inv ? fl_invrun_renew_start(r->inv) : 0;
	if (ret)
		return run_fail(s, ret, "cannot start renewing the agents' leases: %s",
				strerror(-ret));
	ret = r->inv ? 0 : fl_run_samples_start(r);
	if (ret)
		pr_warn("%s: no transport counters (counters.jsonl): %s", r->sc->name,
			strerror(-ret));
	ret = fl_run_load_start(r) ?: fl_run_herd_start(r);
	if (ret) {
		fl_run_load_stop(r);
		fl_run_herd_stop(r);
		fl_run_samples_stop(r);
		return run_fail(s, ret, "cannot start the load: %s", strerror(-ret));
	}
	fl_results_event(r->res, r->t0, "start", NULL);
	ret = -pthread_create(&th, NULL, timeline_thread, &a);
	if (ret) {
		fl_run_load_stop(r);
		fl_run_herd_stop(r);
		fl_run_samples_stop(r);
		return run_fail(s, ret, "cannot start the timeline: %s", strerror(-ret));
	}
	ac = at_checks_start(r, res, &tl);
	while (!fl_run_interrupted && fl_clock_mono_ns() < r->t_end) {
		usleep(MAIN_TICK_US);
		if (fl_clock_mono_ns() - sampled >= SAMPLE_NS) {
			sampled = fl_clock_mono_ns();
			sample_counters(r);
		}
		if (fl_clock_mono_ns() - last >= every) {
			last = fl_clock_mono_ns();
			fl_run_load_poll(r);
			progress(r, &tl, false);
		}
	}
	pthread_join(th, NULL);
	at_checks_join(r, ac, res);
	fl_run_load_stop(r);
	fl_run_herd_stop(r);
	sample_counters(r);
	fl_timeline_heal_all(&tl);
	fl_run_samples_stop(r); /* after the load: its last operations' bytes count */
	fl_results_event(r->res, fl_run_interrupted ? 0 : r->t_end, "end", NULL);
	progress(r, &tl, true);
	if (tl.max_late_ns)
		pr_info("%s: worst step lateness %.3f ms", r->sc->name, tl.max_late_ns / 1e6);
	if (fl_run_interrupted)
		return run_fail(s, -EINTR, "interrupted");
	if (tl.failed)
		return run_fail(s, -EIO,
				"%d timeline step(s) could not be applied (see events.jsonl)",
				tl.failed);
	return 0;
}

/* One run of a command check's command: on node idx (SIZE_MAX: an
 * invariant, on the host), with the target's environment and the results'
 * paths. Returns its exit status, -1 when it could not run or timed out
 * (why says which, or where its output is). */
/* A command check's status on node idx (SIZE_MAX: the invariant, in the
 * controller's namespace), -1 when it has none (could not run, timed
 * out), CHECK_NO_COMMAND when it uses a command the target does not have
 * ({{verify}} on a target without one): the check is skipped, as history
 * checks are on targets without values. */
#define CHECK_NO_COMMAND (-2)
static int check_run_on(struct fl_run *r, const struct fl_check *ck, size_t idx, char *why,
			size_t len)
{
	char env_ops[700], env_ev[700], env_dir[600], *extra[3] = { env_ops, env_ev, env_dir };
	const struct fl_run_node *n = idx == SIZE_MAX ? NULL : &r->nodes[idx];
	struct fl_spawn sp = { .die_with_parent = true };
	char path[700], *cmd = NULL, **env = NULL;
	const char *log = n ? n->name : "invariant";
	struct fl_err err;
	int status = -1, ret;

	snprintf(env_ops, sizeof(env_ops), "FALLACY_OPS=%s/ops.jsonl", r->dir);
	snprintf(env_ev, sizeof(env_ev), "FALLACY_EVENTS=%s/events.jsonl", r->dir);
	snprintf(env_dir, sizeof(env_dir), "FALLACY_RESULTS=%s", r->dir);
	why[0] = '\0';
	ret = expand(r, n ? idx : 0, ck->run, &cmd, &err) ?:
		      fl_run_env(r, n ? idx : SIZE_MAX, 0, extra, 3, &env, &err);
	if (ret) {
		snprintf(why, len, "%.150s", err.msg);
		free(cmd);
		return ret == -ENOENT ? CHECK_NO_COMMAND : -1;
	}
	snprintf(path, sizeof(path), "%s/logs/check-%s.log", r->dir, log);
	sp.out_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	sp.netns = n ? n->netns : NULL;
	sp.user = n ? r->t->user : NULL;
	sp.cmd = cmd;
	sp.env = env;
	ret = fl_proc_run(&sp, ck->timeout_ns, &status);
	if (ret == -ETIMEDOUT)
		snprintf(why, len, "timed out; output in logs/check-%s.log", log);
	else if (ret)
		snprintf(why, len, "could not run: %s", strerror(-ret));
	else if (status != ck->expect)
		snprintf(why, len, "output in logs/check-%s.log", log);
	if (sp.out_fd >= 0)
		close(sp.out_fd);
	free(cmd);
	fl_run_env_free(env);
	return ret ? -1 : status;
}

/* The nodes a command check's node: picks now: a node, every node of a
 * role, leader (asked now), minority, ... (select.h), the nodes that left
 * skipped; random picks keyed by the seed and the check's index, as
 * planned (fl_sel_rng_check). */
static int check_nodes(struct fl_run *r, const struct fl_check *ck, fl_nodeset *set,
		       struct fl_err *err)
{
	char names[FL_SEL_MAX_NODES * 14];
	struct fl_sel_rng rng;
	bool unknown = false;
	fl_nodeset gone;
	int ret;

	fl_sel_rng_check(&rng, r->seed, (size_t)(ck - r->sc->checks));
	pthread_rwlock_rdlock(&r->topo_lock);
	ret = fl_sel_nodes(&r->sel, ck->node, &rng, fl_sel_all(&r->sel), set, &unknown, err);
	gone = r->sel.gone;
	pthread_rwlock_unlock(&r->topo_lock);
	if (!ret && (unknown || !*set)) {
		fl_err_set(err, "'%s': no such node or role in the lab", ck->node);
		ret = -EINVAL;
	} else if (!ret && (*set & gone)) { /* named, or `left`: no namespace */
		fl_sel_format(&r->sel, *set & gone, names, sizeof(names));
		fl_err_set(err, "'%s': %.200s left the lab: nothing to run the command in",
			   ck->node, names);
		ret = -EINVAL;
	}
	return ret;
}

/* check-run: what the check ran on, each node's status, what its
 * selector resolved to, and for a check with at: how late it began (a
 * busy machine, or steps due before it that were late). */
static void check_event(struct fl_run *r, const struct fl_check *ck, fl_nodeset set,
			const int *status, uint64_t begin)
{
	struct fl_out *o = fl_results_event_begin(r->res, 0, "check-run", ck->name, NULL);
	uint64_t due = r->t0 + ck->at_ns;
	size_t k = 0;

	fl_out_open(o, "nodes", '[');
	for (size_t i = 0; i < r->sel.n; i++)
		if (set >> i & 1)
			fl_out_str(o, "", r->sel.names[i]);
	fl_out_close(o, ']');
	fl_out_open(o, "status", '[');
	for (size_t i = 0; i < r->sel.n; i++)
		if (set >> i & 1)
			fl_out_i64(o, "", status[k++]);
	fl_out_close(o, ']');
	if (ck->has_at && r->t0)
		fl_out_u64(o, "late_ns", begin > due ? begin - due : 0);
	if (fl_sel_has_selector(&r->sel, ck->node)) {
		fl_out_open(o, "select", '[');
		fl_out_open(o, "", '{');
		fl_out_str(o, "field", "node");
		fl_out_str(o, "selector", ck->node);
		fl_out_open(o, "nodes", '[');
		for (size_t i = 0; i < r->sel.n; i++)
			if (set >> i & 1)
				fl_out_str(o, "", r->sel.names[i]);
		fl_out_close(o, ']');
		fl_out_close(o, '}');
		fl_out_close(o, ']');
	}
	fl_results_event_end(r->res);
}

static void check_skipped(const struct fl_check *ck, const char *why, struct fl_check_result *res)
{
	fl_check_eval_status(ck, -1, why, res);
	res->skipped = true;
	snprintf(res->measured_text, sizeof(res->measured_text), "skipped");
}

/* A command check on every node its node: picks: it passes when every
 * node's command exits with the expected status. */
static void run_command_check(struct fl_run *r, const struct fl_check *ck,
			      struct fl_check_result *res)
{
	int status[FL_SEL_MAX_NODES], bad = 0;
	bool failed = false;
	char why[160] = "", first[200] = "", names[FL_SEL_MAX_NODES * 14];
	size_t n = 0, ok = 0;
	fl_nodeset set = 0;
	struct fl_err err;
	uint64_t begin = fl_clock_mono_ns();

	if (ck->kind == FL_CHECK_INVARIANT) {
		int st = check_run_on(r, ck, SIZE_MAX, why, sizeof(why));

		if (st == CHECK_NO_COMMAND)
			check_skipped(ck, why, res);
		else
			fl_check_eval_status(ck, st, why, res);
		return;
	}
	if (check_nodes(r, ck, &set, &err)) {
		fl_check_eval_status(ck, -1, err.msg, res);
		return;
	}
	for (size_t i = 0; i < r->sel.n && i < FL_RUN_MAX_NODES; i++) {
		if (!(set >> i & 1))
			continue;
		status[n] = check_run_on(r, ck, i, why, sizeof(why));
		if (status[n] == CHECK_NO_COMMAND) { /* the same on every node */
			check_skipped(ck, why, res);
			return;
		}
		if (status[n] == ck->expect)
			ok++;
		else if (!failed) {
			failed = true;
			bad = status[n];
			snprintf(first, sizeof(first), "%.16s: %.160s", r->sel.names[i], why);
		}
		n++;
	}
	check_event(r, ck, set, status, begin);
	if (n == 1) { /* one node: as it always was */
		fl_check_eval_status(ck, status[0], why, res);
		return;
	}
	fl_sel_format(&r->sel, set, names, sizeof(names));
	fl_check_eval_status(ck, failed ? bad : ck->expect, "", res);
	res->pass = ok == n;
	snprintf(res->measured_text, sizeof(res->measured_text), "exit %d on %zu of %zu nodes",
		 ck->expect, ok, n);
	if (res->pass)
		snprintf(res->detail, sizeof(res->detail), "every one of %.200s", names);
	else
		snprintf(res->detail, sizeof(res->detail), "first failure %.200s", first);
}

static void ops_counts(struct fl_suite *s, const struct fl_run_data *rd)
{
	for (size_t i = 0; i < rd->n_ops; i++) {
		if (rd->ops[i].status == FL_OP_OK)
			s->ops_ok++;
		else if (rd->ops[i].status == FL_OP_FAIL)
			s->ops_fail++;
		else
			s->ops_timeout++;
	}
}

/* The run's availability per operation and per time. */
static void availability(struct fl_suite *s, const struct fl_run_data *rd)
{
	size_t ok = 0, all = 0;

	s->avail_ops = rd->n_ops ? (double)s->ops_ok / (double)rd->n_ops : NAN;
	fl_avail_time(NULL, rd, &ok, &all);
	s->avail_time = all ? (double)ok / (double)all : NAN;
	if (fl_nines_compute(rd, &s->nines, &s->n_nines) ||
	    fl_recovery_compute(rd, &s->recovery, &s->n_recovery))
		pr_warn("%s: no memory for the nines and recovery phases", s->name);
}

/* What this target cannot show: a history (no op with f) or a herd (no
 * herd:). The checks that need them are skipped, saying why. */
static void not_shown(const struct fl_run *r, struct fl_run_data *rd)
{
	if (!fl_sut_has_history(r->t))
		snprintf(rd->no_history, sizeof(rd->no_history), "target %.40s records no values",
			 r->t->name);
	if (r->sc->herd.on && !r->t->herd.on)
		snprintf(rd->no_herd, sizeof(rd->no_herd),
			 "target %.40s has no herd: (the protocol its clients speak)", r->t->name);
}

/* Data checks over the files, then everything into the suite. */
static int evaluate(struct fl_run *r, struct fl_check_result *res, struct fl_suite *s)
{
	char ops[700], ev[700], path[700];
	struct fl_run_data rd;
	struct fl_err err;
	int ret;

	snprintf(ops, sizeof(ops), "%s/ops.jsonl", r->dir);
	snprintf(ev, sizeof(ev), "%s/events.jsonl", r->dir);
	ret = fl_run_data_load(ops, ev, &rd, &err);
	if (ret)
		return run_fail(s, ret, "reading the run's records: %s", err.msg);
	snprintf(path, sizeof(path), "%s/counters.jsonl", r->dir);
	ret = fl_samples_load(path, &rd, &err);
	if (ret && ret != -ENOENT)
		pr_warn("%s: %s", r->sc->name, err.msg);
	fl_tcost_windows(&rd, &s->transport, &s->n_transport);
	snprintf(rd.dir, sizeof(rd.dir), "%s", r->dir); /* pcap/ of capture checks */
	not_shown(r, &rd);
	for (size_t i = 0; i < r->sc->n_checks; i++) {
		const struct fl_check *ck = &r->sc->checks[i];

		if (ck->kind != FL_CHECK_COMMAND && ck->kind != FL_CHECK_INVARIANT)
			fl_check_eval(ck, &rd, &res[i]);
		fl_case_from_result(&res[i], &s->cases[i]);
	}
	s->n_cases = r->sc->n_checks;
	ops_counts(s, &rd);
	availability(s, &rd);
	snprintf(path, sizeof(path), "%s/report.html", r->dir);
	fl_report_html(path, s, &rd);
	fl_run_data_free(&rd);
	return 0;
}

/* counters.json: {"heals": [...]}, every heal event as events.jsonl has it
 * (the fault list with its counters, as the data plane printed it). */
static void write_counters(const struct fl_run *r)
{
	char ev[700], path[700], *line = NULL;
	struct fl_out o = { .json = true };
	FILE *in, *out;
	size_t cap = 0;

	snprintf(ev, sizeof(ev), "%s/events.jsonl", r->dir);
	snprintf(path, sizeof(path), "%s/counters.json", r->dir);
	in = fopen(ev, "r");
	out = fopen(path, "we");
	if (!in || !out)
		goto out;
	o.f = out;
	fl_out_open(&o, "", '{');
	fl_out_open(&o, "heals", '[');
	while (getline(&line, &cap, in) > 0) {
		size_t len = strlen(line);

		if (!strstr(line, "\"event\":\"heal\""))
			continue;
		while (len && line[len - 1] == '\n')
			line[--len] = 0;
		fl_out_raw(&o, "", line);
	}
	fl_out_close(&o, ']');
	fl_out_close(&o, '}');
	fputc('\n', out);
out:
	free(line);
	if (in)
		fclose(in);
	if (out)
		fclose(out);
}

static void write_resolved(const struct fl_run *r)
{
	char path[700];
	FILE *f;

	snprintf(path, sizeof(path), "%s/scenario.yaml", r->dir);
	f = fopen(path, "we");
	if (!f)
		return;
	fprintf(f, "# resolved by fallacy run from %s against %s on %zu nodes (seed %llu",
		r->sc->file, r->t->file, r->n_nodes, (unsigned long long)r->seed);
	if (r->o->time_scale && r->o->time_scale != 1)
		fprintf(f, ", times scaled by %g", r->o->time_scale);
	fprintf(f, ")\n");
	fl_scenario_print(r->sc, r->seed, f);
	fclose(f);
}

static void suite_init(struct fl_run *r, struct fl_suite *s)
{
	time_t now = time(NULL);
	struct tm tm;

	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", r->sc->name);
	snprintf(s->target, sizeof(s->target), "%s", r->t->name);
	snprintf(s->fallacy, sizeof(s->fallacy), "%s", r->sc->fallacy ? r->sc->fallacy : "");
	snprintf(s->dir, sizeof(s->dir), "%s", r->dir);
	gmtime_r(&now, &tm);
	strftime(s->timestamp, sizeof(s->timestamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	s->seed = r->seed;
	s->avail_ops = s->avail_time = NAN;
}

uint64_t fl_run_seed(const struct fl_scenario *sc, const struct fl_run_opts *o)
{
	uint64_t seed;

	if (o->has_seed)
		return o->seed;
	if (sc->has_seed)
		return sc->seed;
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = fl_clock_mono_ns() ^ (uint64_t)getpid() << 32;
	return seed & FL_SEED_MAX;
}

size_t fl_run_nodes(const struct fl_scenario *sc, const struct fl_sut *t,
		    const struct fl_run_opts *o)
{
	return o && o->nodes ? o->nodes : sc->nodes ? sc->nodes : t->nodes;
}

/* What selectors resolve against: the plan's names and roles (lab_up
 * points them at the nodes), the seed, the leader: command. */
static void sel_init(struct fl_run *r)
{
	r->sel.n = r->n_nodes;
	r->sel.seed = r->seed;
	r->sel.target = r->t->name;
	r->sel.has_leader = r->t->leader != NULL;
	r->sel.leader = r->t->leader ? fl_run_leader : NULL;
	r->sel.arg = r;
	r->sel.picks = &r->picks;
	for (size_t i = 0; i < r->n_nodes; i++) {
		r->sel.names[i] = r->plan.names[i];
		r->sel.roles[i] = r->plan.roles[i];
	}
}

static int run_init(struct fl_run *r, const struct fl_scenario *sc, const struct fl_sut *t,
		    const struct fl_run_opts *o, struct fl_err *err)
{
	memset(r, 0, sizeof(*r));
	r->sc = sc;
	r->t = t;
	r->o = o;
	r->n_nodes = fl_run_nodes(sc, t, o);
	r->seed = fl_run_seed(sc, o);
	pthread_mutex_init(&r->seq_lock, NULL);
	pthread_rwlock_init(&r->topo_lock, NULL);
	pthread_mutex_init(&r->proc_lock, NULL);
	for (size_t i = 0; i < FL_RUN_MAX_NODES; i++)
		r->nodes[i].log_fd = -1;
	if (o->out)
		snprintf(r->dir, sizeof(r->dir), "%s", o->out);
	else
		fl_results_default_dir(sc->name, r->dir, sizeof(r->dir));
	if (r->n_nodes > FL_RUN_MAX_NODES) {
		fl_err_set(err, "at most %d nodes", FL_RUN_MAX_NODES);
		return -E2BIG;
	}
	if (fl_run_plan_nodes(sc, t, r->n_nodes, &r->plan, err))
		return -EINVAL;
	sel_init(r);
	return 0;
}

/* Everything after the lab is up; returns the first error. */
static int run_on_lab(struct fl_run *r, struct fl_check_result *res, struct fl_suite *s)
{
	struct fl_err err;
	int ret = fl_run_faults_check(r, &err);

	if (ret)
		return run_fail(s, ret, "%s", err.msg);
	if (r->inv && fl_run_inv_capture_start(r, &err))
		ret = run_fail(s, -EIO, "%s", err.msg);
	else if (!r->inv)
		ret = start_targets(r, s) ?: capture_start(r, s);
	/* a leader: command that finds no leader is bad input: found before
	 * the load or any step starts */
	if (!ret && fl_run_leader_check(r, &err))
		ret = run_fail(s, -EINVAL, "%s", err.msg);
	if (!ret && !r->inv && fl_runctl_start(r))
		pr_warn("%s: no control socket: `fallacy process` cannot reach this run",
			r->sc->name);
	if (!ret)
		ret = run_timeline(r, s, res);
	if (r->inv)
		fl_run_inv_capture_stop(r);
	else
		capture_stop(r);
	for (size_t i = 0; i < r->sc->n_checks && r->t0; i++) {
		const struct fl_check *ck = &r->sc->checks[i];

		if (ck->kind == FL_CHECK_COMMAND && !ck->has_at)
			run_command_check(r, ck, &res[i]);
	}
	fl_runctl_stop(r);
	if (r->t0 && !r->inv)
		fl_run_teardown(r);
	return ret;
}

int fl_run_scenario(const struct fl_scenario *sc, const struct fl_sut *t,
		    const struct fl_run_opts *o, struct fl_suite *s)
{
	struct fl_check_result *res = calloc(sc->n_checks + 1, sizeof(*res));
	uint64_t t_start = fl_clock_mono_ns();
	struct fl_run r;
	struct fl_err err = { "out of memory" };
	char path[700];
	int ret = run_init(&r, sc, t, o, &err);

	suite_init(&r, s);
	s->cases = calloc(sc->n_checks + 1, sizeof(*s->cases));
	if (ret || !res || !s->cases) {
		free(res);
		return run_fail(s, ret ?: -ENOMEM, "%s", err.msg);
	}
	for (size_t i = 0; i < sc->n_checks; i++)
		fl_check_eval_status(&sc->checks[i], -1, "not run", &res[i]);
	ret = fl_results_open(r.dir, &r.res, &err);
	if (ret) {
		free(res);
		return run_fail(s, ret, "%s", err.msg);
	}
	write_resolved(&r);
	if (o->inventory) {
		ret = fl_run_inv_up(&r, &err);
		if (ret)
			ret = run_fail(s, ret, "%s", err.msg);
	} else {
		ret = lab_up(&r, s);
	}
	if (!ret)
		ret = run_on_lab(&r, res, s);
	fl_run_targets_stop(&r);
	if (r.inv) { /* every agent reset (and each then exits) */
		int bad = fl_invrun_close(r.inv);

		if (bad && !ret)
			ret = run_fail(s, -EIO, "%d agent(s) did not reset their faults", bad);
		fl_results_event(r.res, 0, "agents-reset", NULL);
		r.inv = NULL;
		fl_lab_free(r.lab);
	} else if (r.lab) {
		if (fl_lab_down(r.lab_name) && !ret)
			ret = run_fail(s, -EIO, "lab '%s' did not come down cleanly", r.lab_name);
		fl_results_event(r.res, 0, "lab-down", r.lab_name);
		fl_lab_free(r.lab);
	}
	fl_lab_free(r.lab0);
	if (r.st)
		fl_state_close(r.st);
	for (size_t i = 0; i < sc->n_checks && ret; i++)
		if (sc->checks[i].kind == FL_CHECK_INVARIANT)
			fl_check_eval_status(&sc->checks[i], -1, "the run did not complete",
					     &res[i]);
	for (size_t i = 0; i < sc->n_checks && !ret; i++)
		if (sc->checks[i].kind == FL_CHECK_INVARIANT)
			run_command_check(&r, &sc->checks[i], &res[i]);
	s->seconds = (fl_clock_mono_ns() - t_start) / 1e9;
	s->n_kill = r.n_kill;
	s->n_pause = r.n_pause;
	s->n_restart = r.n_restart;
	evaluate(&r, res, s);
	write_counters(&r);
	snprintf(path, sizeof(path), "%s/summary.json", r.dir);
	fl_summary_write(path, s);
	snprintf(path, sizeof(path), "%s/junit.xml", r.dir);
	fl_junit_write(path, s, 1);
	fl_results_close(r.res);
	if (r.fault_samples)
		fclose(r.fault_samples);
	pthread_mutex_destroy(&r.seq_lock);
	pthread_rwlock_destroy(&r.topo_lock);
	pthread_mutex_destroy(&r.proc_lock);
	free(res);
	return ret;
}
