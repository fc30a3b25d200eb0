// SPDX-License-Identifier: MIT
/* The target's processes in a run: the start: items in order with their
 * ready checks, the setup: and teardown: commands, the leader: command,
 * and the process faults (kill, pause, resume, restart) that timeline
 * steps and `fallacy process` apply. One lock (r->proc_lock) guards the
 * process table against the timeline, the control socket and shutdown. */
#include "run.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "parse.h"
#include "proc.h"

/* Readiness: the ready command is run again every READY_RETRY_US, each run
 * given at most READY_RUN_MAX_NS. */
#define READY_RETRY_US 200000
#define READY_RUN_MAX_NS (5 * FL_NSEC_PER_SEC)
#define LEADER_OUT_MAX 4096
#define LEADER_RETRY_US 200000

static const char *const action_names[] = { "kill", "pause", "resume", "restart", "heal" };

const char *fl_proc_action_name(enum fl_proc_action a)
{
	return a <= FL_PROC_HEAL ? action_names[a] : "?";
}

/* ---- environments and commands -------------------------------------------- */

static int env_push(const struct fl_run *r, size_t i, uint64_t seq, const char *tmpl, char **slot,
		    struct fl_err *err)
{
	struct fl_tvars v;

	fl_run_vars(r, i == SIZE_MAX ? 0 : i, &v);
	v.seq = seq;
	return fl_template_expand(tmpl, &v, slot, err);
}

int fl_run_env(const struct fl_run *r, size_t i, uint64_t seq, char *const *extra, size_t n_extra,
	       char ***out, struct fl_err *err)
{
	const struct fl_sut *t = r->t;
	size_t n = t->n_tenv + n_extra, k = 0;
	char **v;
	int ret = 0;

	for (size_t s = 0; s < t->n_starts; s++)
		n += t->starts[s].n_env;
	v = calloc(n + 1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	for (size_t e = 0; e < t->n_tenv && !ret; e++)
		ret = env_push(r, i, seq, t->tenv[e], &v[k++], err);
	for (size_t s = 0; s < t->n_starts && !ret; s++) {
		const struct fl_tstart *it = &t->starts[s];

		if (i == SIZE_MAX ? it->on != NULL : !fl_tstart_on(it, &r->plan, i))
			continue;
		for (size_t e = 0; e < it->n_env && !ret; e++)
			ret = env_push(r, i, seq, it->env[e], &v[k++], err);
	}
	for (size_t e = 0; e < n_extra && !ret; e++)
		ret = env_push(r, i, seq, extra[e], &v[k++], err);
	if (ret) {
		fl_run_env_free(v);
		return ret;
	}
	*out = v;
	return 0;
}

void fl_run_env_free(char **env)
{
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}

static int expand(const struct fl_run *r, size_t i, const char *tmpl, char **out,
		  struct fl_err *err)
{
	struct fl_tvars v;
	struct fl_err e;

	fl_run_vars(r, i, &v);
	if (!fl_template_expand(tmpl, &v, out, &e))
		return 0;
	fl_err_set(err, "%s: %s", r->t->file, e.msg);
	return -EINVAL;
}

/* ---- starting ------------------------------------------------------------- */

/* "the target" (a start: map), or the start item's name ("sentinel"). */
static const char *label(const struct fl_run_proc *p, char *buf, size_t len)
{
	if (!strcmp(p->item->name, "target"))
		return "the target";
	snprintf(buf, len, "%s", p->item->name);
	return buf;
}

static void start_event(struct fl_run *r, size_t i, const struct fl_run_proc *p)
{
	struct fl_out *o =
		fl_results_event_begin(r->res, 0, "target-start", r->nodes[i].name, NULL);

	fl_out_str(o, "process", p->item->name);
	fl_out_u64(o, "pid", (uint64_t)p->pid);
	if (p->starts > 1)
		fl_out_bool(o, "restart", true);
	if (r->nodes[i].role)
		fl_out_str(o, "role", r->nodes[i].role);
	fl_results_event_end(r->res);
}

static int spawn(struct fl_run *r, size_t i, struct fl_run_proc *p, struct fl_err *err)
{
	struct fl_run_node *n = &r->nodes[i];
	struct fl_spawn sp = {
		.netns = n->netns, .user = p->item->user, .journal = r->st, .out_fd = n->log_fd
	};
	char *cmd = NULL, **env = NULL;
	int ret = expand(r, i, p->item->run, &cmd, err) ?: fl_run_env(r, i, 0, NULL, 0, &env, err);

	if (!ret) {
		sp.cmd = cmd;
		sp.env = env;
		dprintf(n->log_fd, "# fallacy: starting on %s (%s): %s%s%s\n", n->name, n->ip,
			strcmp(p->item->name, "target") ? p->item->name : "",
			strcmp(p->item->name, "target") ? ": " : "", cmd);
		ret = fl_proc_spawn(&sp, &p->pid);
		if (ret)
			fl_err_set(err, "cannot start %s on %s: %s", p->item->name, n->name,
				   strerror(-ret));
	}
	if (!ret) {
		p->state = FL_PROC_RUNNING;
		p->starts++;
		start_event(r, i, p);
	}
	free(cmd);
	fl_run_env_free(env);
	return ret;
}

/* Has pid exited? Leaves it to be reaped (WNOWAIT). */
static bool exited(pid_t pid, int *status)
{
	siginfo_t si = { .si_pid = 0 };

	if (pid <= 0 || waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) || !si.si_pid)
		return false;
	if (status)
		*status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
	return true;
}

/* Run the item's ready command on node i until it succeeds or the deadline. */
static int wait_ready(struct fl_run *r, size_t i, const struct fl_run_proc *p, uint64_t deadline,
		      struct fl_err *err)
{
	struct fl_run_node *n = &r->nodes[i];
	struct fl_spawn sp = { .netns = n->netns,
			       .user = p->item->user,
			       .out_fd = n->log_fd,
			       .die_with_parent = true };
	char *cmd = NULL, **env = NULL, limit[32], what[40];
	int status = -1, ret;

	if (!p->item->ready_run)
		return 0;
	ret = expand(r, i, p->item->ready_run, &cmd, err) ?:
							    fl_run_env(r, i, 0, NULL, 0, &env, err);
	sp.cmd = cmd;
	sp.env = env;
	while (!ret && !fl_run_interrupted && !exited(p->pid, NULL)) {
		uint64_t now = fl_clock_mono_ns();

		if (now >= deadline)
			break;
		if (!fl_proc_run(&sp,
				 deadline - now < READY_RUN_MAX_NS ? deadline - now :
								     READY_RUN_MAX_NS,
				 &status) &&
		    status == 0)
			break;
		usleep(READY_RETRY_US);
	}
	free(cmd);
	fl_run_env_free(env);
	if (!ret && exited(p->pid, &status)) {
		fl_err_set(err,
			   "%s on %s exited (status %d) before it was ready (see %s/logs/%s.log)",
			   label(p, what, sizeof(what)), n->name, status, r->dir, n->name);
		return -ECHILD;
	}
	if (ret || status == 0 || fl_run_interrupted)
		return ret;
	fl_format_duration(p->item->ready_timeout_ns, limit, sizeof(limit));
	fl_err_set(err, "target '%s' was not ready on %s within %s (see %s/logs/%s.log)",
		   r->t->name, n->name, limit, r->dir, n->name);
	return -ETIMEDOUT;
}

/* One start item: its process on each of its nodes, then their readiness. */
static int start_item(struct fl_run *r, const struct fl_tstart *it, struct fl_err *err)
{
	uint64_t deadline;
	int ret = 0;

	for (size_t i = 0; i < r->n_nodes && !ret; i++) {
		struct fl_run_node *n = &r->nodes[i];

		if (!fl_tstart_on(it, &r->plan, i))
			continue;
		n->procs[n->n_procs] = (struct fl_run_proc){ .item = it };
		ret = spawn(r, i, &n->procs[n->n_procs], err);
		if (!ret)
			n->n_procs++;
	}
	deadline = fl_clock_mono_ns() + it->ready_timeout_ns;
	for (size_t i = 0; i < r->n_nodes && !ret; i++)
		for (size_t k = 0; k < r->nodes[i].n_procs && !ret; k++)
			if (r->nodes[i].procs[k].item == it)
				ret = wait_ready(r, i, &r->nodes[i].procs[k], deadline, err);
	return ret;
}

/* setup:/teardown: commands: on: absent runs once on the first node, a
 * role or all on each of those nodes. */
static int run_cmds(struct fl_run *r, const struct fl_tcmd *cmds, size_t n, const char *what,
		    struct fl_err *err)
{
	char path[700];
	int ret = 0, fd;

	snprintf(path, sizeof(path), "%s/logs/%s.log", r->dir, what);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	for (size_t c = 0; c < n && !ret; c++) {
		for (size_t i = 0; i < r->n_nodes && !ret; i++) {
			struct fl_spawn sp = { .netns = r->nodes[i].netns, .out_fd = fd };
			char *cmd = NULL, **env = NULL;
			int status = -1, rr;

			if (cmds[c].on ? !fl_tplan_on(cmds[c].on, &r->plan, i) : i > 0)
				continue;
			if (!r->nodes[i].present) /* it left (a topology step) */
				continue;
			ret = expand(r, i, cmds[c].run, &cmd, err) ?:
				      fl_run_env(r, i, 0, NULL, 0, &env, err);
			if (!ret) {
				sp.cmd = cmd;
				sp.env = env;
				sp.user = r->t->user;
				dprintf(fd, "# fallacy: %s on %s: %s\n", what, r->nodes[i].name,
					cmd);
				rr = fl_proc_run(&sp, cmds[c].timeout_ns, &status);
				if (rr || status) {
					fl_err_set(
						err,
						"%s:%d:%d: %s failed on %s (%s; see logs/%s.log)",
						r->t->file, cmds[c].line, cmds[c].col, what,
						r->nodes[i].name,
						rr == -ETIMEDOUT ? "timed out" :
						rr		 ? strerror(-rr) :
								   "a non-zero exit status",
						what);
					ret = -EIO;
				}
			}
			free(cmd);
			fl_run_env_free(env);
		}
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

int fl_run_targets_start(struct fl_run *r, struct fl_err *err)
{
	int ret = 0;

	pthread_mutex_lock(&r->proc_lock);
	for (size_t k = 0; k < r->t->n_starts && !ret; k++)
		ret = start_item(r, &r->t->starts[k], err);
	pthread_mutex_unlock(&r->proc_lock);
	if (!ret && fl_run_interrupted) {
		fl_err_set(err, "interrupted");
		ret = -EINTR;
	}
	if (!ret)
		fl_results_event(r->res, 0, "ready", NULL);
	if (!ret && r->t->n_setup)
		ret = run_cmds(r, r->t->setup, r->t->n_setup, "setup", err);
	return ret;
}

void fl_run_teardown(struct fl_run *r)
{
	struct fl_err err;

	if (r->t->n_teardown && run_cmds(r, r->t->teardown, r->t->n_teardown, "teardown", &err))
		pr_warn("%s", err.msg);
}

static void stop_one(struct fl_run *r, size_t i, struct fl_run_proc *p, const char *why)
{
	struct fl_run_node *n = &r->nodes[i];
	int status = 0, killed;
	struct fl_out *o;
	char what[40];

	if (!why && exited(p->pid, &status)) {
		o = fl_results_event_begin(r->res, 0, "target-exited", n->name, NULL);
		fl_out_i64(o, "status", status);
		fl_out_str(o, "process", p->item->name);
		fl_results_event_end(r->res);
		pr_warn("%s on %s had exited by itself (status %d) before the end; see logs/%s.log",
			label(p, what, sizeof(what)), n->name, status, n->name);
	}
	if (p->state == FL_PROC_PAUSED)
		kill(-p->pid, SIGCONT);
	killed = fl_proc_stop(p->pid, r->t->stop_grace_ns, &status);
	o = fl_results_event_begin(r->res, 0, "target-stop", n->name, NULL);
	fl_out_i64(o, "status", status);
	fl_out_bool(o, "killed", killed > 0);
	fl_out_str(o, "process", p->item->name);
	if (why) /* "left": the node left the lab (a topology step) */
		fl_out_str(o, "why", why);
	fl_results_event_end(r->res);
	p->pid = 0;
}

void fl_run_targets_stop(struct fl_run *r)
{
	pthread_mutex_lock(&r->proc_lock);
	for (size_t k = r->n_nodes; k-- > 0;) {
		struct fl_run_node *n = &r->nodes[k];

		for (size_t j = n->n_procs; j-- > 0;)
			if (n->procs[j].pid > 0)
				stop_one(r, k, &n->procs[j], NULL);
		if (n->log_fd >= 0)
			close(n->log_fd);
		n->log_fd = -1;
	}
	pthread_mutex_unlock(&r->proc_lock);
}

/* ---- a node that joins or leaves ----------------------------------------- */

/* Node i's process of item it: the one it had (the node left and came
 * back), else a new one. */
static struct fl_run_proc *proc_of(struct fl_run_node *n, const struct fl_tstart *it)
{
	for (size_t k = 0; k < n->n_procs; k++)
		if (n->procs[k].item == it)
			return &n->procs[k];
	if (n->n_procs >= FL_TARGET_MAX_STARTS)
		return NULL;
	n->procs[n->n_procs] = (struct fl_run_proc){ .item = it };
	return &n->procs[n->n_procs++];
}

static int start_node_items(struct fl_run *r, size_t i, struct fl_err *err)
{
	struct fl_run_node *n = &r->nodes[i];
	int ret = 0;

	for (size_t k = 0; k < r->t->n_starts && !ret; k++) {
		const struct fl_tstart *it = &r->t->starts[k];
		struct fl_run_proc *p;

		if (!fl_tstart_on(it, &r->plan, i))
			continue;
		p = proc_of(n, it);
		if (!p) {
			fl_err_set(err, "%s: too many processes", n->name);
			return -E2BIG;
		}
		ret = spawn(r, i, p, err) ?:
			      wait_ready(r, i, p, fl_clock_mono_ns() + it->ready_timeout_ns, err);
	}
	return ret;
}

int fl_run_start_target(struct fl_run *r, size_t i, struct fl_err *err)
{
	struct fl_run_node *n = &r->nodes[i];
	char path[700];
	int ret;

	snprintf(path, sizeof(path), "%s/logs/%s.log", r->dir, n->name);
	if (n->log_fd < 0)
		n->log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (n->log_fd < 0) {
		fl_err_set(err, "cannot write %s: %s", path, strerror(errno));
		return -EIO;
	}
	pthread_mutex_lock(&r->proc_lock);
	ret = start_node_items(r, i, err);
	pthread_mutex_unlock(&r->proc_lock);
	return ret;
}

void fl_run_stop_target(struct fl_run *r, size_t i, const char *why)
{
	struct fl_run_node *n = &r->nodes[i];

	pthread_mutex_lock(&r->proc_lock);
	for (size_t j = n->n_procs; j-- > 0;)
		if (n->procs[j].pid > 0)
			stop_one(r, i, &n->procs[j], why);
	pthread_mutex_unlock(&r->proc_lock);
}

static bool node_running(const struct fl_run_node *n)
{
	for (size_t j = 0; j < n->n_procs; j++)
		if (n->procs[j].pid > 0)
			return true;
	return false;
}

bool fl_run_node_started(const struct fl_run *r, const char *node)
{
	for (size_t i = 0; i < r->n_nodes; i++)
		if (!strcmp(r->nodes[i].name, node))
			return r->nodes[i].was_started || node_running(&r->nodes[i]);
	return false;
}

/* ---- process faults -------------------------------------------------------- */

static void proc_event(struct fl_run *r, size_t i, const char *ev, const struct fl_run_proc *p,
		       pid_t pid, int status)
{
	struct fl_out *o = fl_results_event_begin(r->res, 0, ev, r->nodes[i].name, NULL);

	fl_out_str(o, "process", p->item->name);
	fl_out_u64(o, "pid", (uint64_t)pid);
	if (status >= 0)
		fl_out_i64(o, "status", status);
	fl_results_event_end(r->res);
}

static int act_kill(struct fl_run *r, size_t i, struct fl_run_proc *p)
{
	pid_t pid = p->pid;
	int st = 0;

	if (pid <= 0 || p->state == FL_PROC_KILLED)
		return 0;
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	p->pid = 0;
	p->state = FL_PROC_KILLED;
	r->n_kill++;
	proc_event(r, i, "target-kill", p, pid, -1);
	return 0;
}

static int act_signal(struct fl_run *r, size_t i, struct fl_run_proc *p, bool pause)
{
	if (p->pid <= 0 || p->state != (pause ? FL_PROC_RUNNING : FL_PROC_PAUSED))
		return 0;
	if (kill(-p->pid, pause ? SIGSTOP : SIGCONT) && errno != ESRCH)
		return -errno;
	p->state = pause ? FL_PROC_PAUSED : FL_PROC_RUNNING;
	r->n_pause += pause;
	proc_event(r, i, pause ? "target-pause" : "target-resume", p, p->pid, -1);
	return 0;
}

static int act_restart(struct fl_run *r, size_t i, struct fl_run_proc *p, struct fl_err *err)
{
	int status = 0;

	if (p->pid > 0) {
		pid_t pid = p->pid;

		if (p->state == FL_PROC_PAUSED)
			kill(-pid, SIGCONT);
		fl_proc_stop(pid, r->t->stop_grace_ns, &status);
		p->pid = 0;
		proc_event(r, i, "target-restart", p, pid, status);
	}
	r->n_restart++;
	return spawn(r, i, p, err);
}

static int act_one(struct fl_run *r, size_t i, struct fl_run_proc *p, enum fl_proc_action a,
		   struct fl_err *err)
{
	switch (a) {
	case FL_PROC_KILL:
		return act_kill(r, i, p);
	case FL_PROC_PAUSE:
	case FL_PROC_RESUME:
		return act_signal(r, i, p, a == FL_PROC_PAUSE);
	case FL_PROC_RESTART:
		return act_restart(r, i, p, err);
	default: /* heal: what kill and pause did, undone */
		if (p->state == FL_PROC_PAUSED)
			return act_signal(r, i, p, false);
		return p->state == FL_PROC_KILLED ? spawn(r, i, p, err) : 0;
	}
}

int fl_run_proc_act(struct fl_run *r, size_t i, const char *name, enum fl_proc_action a,
		    struct fl_err *err)
{
	struct fl_run_node *n = &r->nodes[i];
	size_t matched = 0;
	int ret = 0;

	err->msg[0] = '\0';
	pthread_mutex_lock(&r->proc_lock);
	for (size_t k = 0; k < n->n_procs && !ret; k++) {
		if (name && strcmp(n->procs[k].item->name, name))
			continue;
		matched++;
		ret = act_one(r, i, &n->procs[k], a, err);
		if (ret && !err->msg[0])
			fl_err_set(err, "%s %s on %s: %s", fl_proc_action_name(a),
				   n->procs[k].item->name, n->name, strerror(-ret));
	}
	pthread_mutex_unlock(&r->proc_lock);
	if (!matched && !ret) {
		if (name)
			fl_err_set(err, "%s runs no process named '%s'", n->name, name);
		else
			fl_err_set(err, "%s runs no process of the target", n->name);
		return -ENOENT;
	}
	return ret;
}

/* ---- the leader: command ---------------------------------------------------- */

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

/* Where tok first stands alone in out (an address is not part of a longer
 * one, a name not part of a longer word), or SIZE_MAX. */
static size_t find_token(const char *out, const char *tok, bool addr)
{
	size_t len = strlen(tok);

	if (!len)
		return SIZE_MAX;
	for (const char *p = out; (p = strstr(p, tok)); p++) {
		char b = p > out ? p[-1] : ' ', a = p[len];
		bool ok = addr ? !isxdigit((unsigned char)b) && b != '.' && b != ':' &&
					  !isxdigit((unsigned char)a) &&
					  !(a == '.' && isdigit((unsigned char)p[len + 1])) &&
					  !(a == ':' && isxdigit((unsigned char)p[len + 1]) &&
					    strchr(tok, ':')) :
				 !name_char(b) && !name_char(a);

		if (ok)
			return (size_t)(p - out);
	}
	return SIZE_MAX;
}

/* The nodes out names, by where each first appears. */
static size_t match_nodes(const struct fl_run *r, const char *out, size_t *order)
{
	size_t pos[FL_RUN_MAX_NODES], n = 0;

	for (size_t i = 0; i < r->n_nodes; i++) {
		const struct fl_run_node *nd = &r->nodes[i];
		size_t p = find_token(out, nd->name, false), q = find_token(out, nd->ip, true);

		if (!nd->present)
			continue;
		if (q < p)
			p = q;
		if (nd->ip6[0] && (q = find_token(out, nd->ip6, true)) < p)
			p = q;
		if (p == SIZE_MAX)
			continue;
		size_t k = n++;

		while (k > 0 && pos[k - 1] > p) {
			pos[k] = pos[k - 1];
			order[k] = order[k - 1];
			k--;
		}
		pos[k] = p;
		order[k] = i;
	}
	return n;
}

/* The leader: command on node i; stdout into out. */
static int leader_on(struct fl_run *r, size_t i, int log, char *out, size_t len, int *status)
{
	const struct fl_tcmd *c = r->t->leader;
	struct fl_spawn sp = { .netns = r->nodes[i].netns, .split_err = true, .err_fd = log };
	char *cmd = NULL, **env = NULL;
	struct fl_err e;
	ssize_t got;
	int fd = memfd_create("fallacy-leader", MFD_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = expand(r, i, c->run, &cmd, &e) ?: fl_run_env(r, i, 0, NULL, 0, &env, &e);
	if (!ret) {
		sp.cmd = cmd;
		sp.env = env;
		sp.out_fd = fd;
		sp.user = r->t->user;
		ret = fl_proc_run(&sp, c->timeout_ns, status);
	}
	got = pread(fd, out, len - 1, 0);
	out[got > 0 ? got : 0] = '\0';
	dprintf(log, "# fallacy: leader on %s: %s\n# %s, output: %s\n", r->nodes[i].name,
		cmd ? cmd : "?", ret ? strerror(-ret) : "done", out);
	close(fd);
	free(cmd);
	fl_run_env_free(env);
	return ret;
}

/* One try on node i; why gets what went wrong. */
static void leader_try(struct fl_run *r, size_t i, int log, size_t *order, size_t *n, char *why,
		       size_t len, size_t *wl)
{
	char out[LEADER_OUT_MAX];
	int status = -1, ret;

	if (r->t->leader->on && !fl_tplan_on(r->t->leader->on, &r->plan, i))
		return;
	ret = leader_on(r, i, log, out, sizeof(out), &status);
	if (!ret && !status)
		*n = match_nodes(r, out, order);
	if (!*n && *wl < len)
		*wl += (size_t)snprintf(why + *wl, len - *wl, "%s%s: %s", *wl ? "; " : "",
					r->nodes[i].name,
					ret == -ETIMEDOUT ? "timed out" :
					ret		  ? strerror(-ret) :
					status		  ? "non-zero exit status" :
							    "named no node");
}

int fl_run_leader(void *arg, size_t *order, size_t *n, struct fl_err *err)
{
	struct fl_run *r = arg;
	char path[700], why[400] = "";
	size_t wl = 0;
	int log;

	snprintf(path, sizeof(path), "%s/logs/leader.log", r->dir);
	log = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	*n = 0;
	/* each node in turn, in rounds, until one names a node or the
	 * command's timeout has passed (an election may be under way) */
	for (uint64_t end = fl_clock_mono_ns() + r->t->leader->timeout_ns;;) {
		wl = 0;
		for (size_t i = 0; i < r->n_nodes && !*n; i++)
			if (r->nodes[i].present) /* not a node that left */
				leader_try(r, i, log, order, n, why, sizeof(why), &wl);
		if (*n || fl_clock_mono_ns() >= end || fl_run_interrupted)
			break;
		usleep(LEADER_RETRY_US);
	}
	if (log >= 0)
		close(log);
	if (*n) {
		struct fl_out *o = fl_results_event_begin(r->res, 0, "leader", NULL, NULL);

		fl_out_open(o, "nodes", '[');
		for (size_t k = 0; k < *n; k++)
			fl_out_str(o, "", r->nodes[order[k]].name);
		fl_out_close(o, ']');
		fl_results_event_end(r->res);
		return 0;
	}
	fl_err_set(err, "%s:%d:%d: the leader: command found no leader (%s; see logs/leader.log)",
		   r->t->file, r->t->leader->line, r->t->leader->col, why);
	return -EINVAL;
}
