// SPDX-License-Identifier: MIT
/* fallacy wrap: session set-up, the command's process, signal forwarding,
 * results and removal of everything afterwards. */
#include "wrap.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "capture/capture.h"
#include "clock.h"
#include "control.h"
#include "ctlsock.h"
#include "dataplane/dataplane.h"
#include "json.h"
#include "lab/lab.h"
#include "log.h"
#include "results.h"
#include "state/state.h"
#include "wrap_int.h"
#include "yaml.h"

struct wrap {
	const struct fl_wrap_opts *o;
	char session[32], netns[48], hosts[PATH_MAX], pcap[PATH_MAX];
	struct fl_state *st;
	bool drop; /* run the command as uid/gid */
	uid_t uid;
	gid_t gid;
	char user[64]; /* for initgroups; empty = no supplementary groups */
	struct fl_results *res;
	struct fl_capture *cap;
	struct fl_ctl *ctl; /* --control: the verb handler and its socket */
	struct fl_ctlsock *cs;
	struct wrap_faults wf;
	pid_t child;
	bool subreaper; /* PR_SET_CHILD_SUBREAPER took */
	int go[2], err[2], sfd;
	sigset_t oldmask;
	uint64_t t0, t_exec, t_exit;
	int status, exec_errno, term_signals;
};

bool fl_wrap_has_faults(const struct fl_wrap_opts *o)
{
	return o->n_faults > 0;
}

void fl_wrap_opts_free(struct fl_wrap_opts *o)
{
	for (int i = 0; i < o->n_faults; i++)
		free(o->faults[i]);
	o->n_faults = 0;
}

/* One line of events.jsonl (harness/results: both clocks and the event
 * name); the caller adds the event's members to the fl_out it returns and
 * ends the line with event_end. NULL (write nothing) without --out. */
static struct fl_out *event(struct wrap *w, const char *name)
{
	return w->res ? fl_results_event_begin(w->res, 0, name, NULL, NULL) : NULL;
}

static void event_end(struct wrap *w)
{
	fl_results_event_end(w->res);
}

/* An event whose only member is an integer. */
static void event_int(struct wrap *w, const char *name, const char *key, int64_t val)
{
	struct fl_out *o = event(w, name);

	if (o) {
		fl_out_i64(o, key, val);
		event_end(w);
	}
}

static int user_by_name(struct wrap *w, const char *name)
{
	struct passwd *pw = getpwnam(name);
	char *end;
	unsigned long id;

	if (!pw) {
		errno = 0;
		id = strtoul(name, &end, 10);
		if (*name && !*end && !errno)
			pw = getpwuid((uid_t)id);
		if (!pw) {
			pr_err("wrap: --user %s: no such user (a name or uid from /etc/passwd)",
			       name);
			return -EINVAL;
		}
	}
	w->uid = pw->pw_uid;
	w->gid = pw->pw_gid;
	snprintf(w->user, sizeof(w->user), "%s", pw->pw_name);
	w->drop = true;
	return 0;
}

/* --user, else SUDO_UID/SUDO_GID (started through sudo), else ourselves. */
static int resolve_user(struct wrap *w)
{
	const char *su = getenv("SUDO_UID"), *sg = getenv("SUDO_GID");
	struct passwd *pw;
	char *end;

	if (w->o->user)
		return user_by_name(w, w->o->user);
	if (!su || !*su)
		return 0;
	errno = 0;
	w->uid = (uid_t)strtoul(su, &end, 10);
	if (*end || errno) {
		pr_err("wrap: SUDO_UID=%s is not a number; use --user", su);
		return -EINVAL;
	}
	pw = getpwuid(w->uid);
	w->gid = pw ? pw->pw_gid : w->uid;
	if (sg && *sg) {
		w->gid = (gid_t)strtoul(sg, &end, 10);
		if (*end) {
			pr_err("wrap: SUDO_GID=%s is not a number; use --user", sg);
			return -EINVAL;
		}
	}
	if (pw)
		snprintf(w->user, sizeof(w->user), "%s", pw->pw_name);
	w->drop = w->uid != getuid() || w->gid != getgid();
	return 0;
}

/* Results belong to the user who asked for them, not to root. */
static void give_to_user(struct wrap *w, const char *path)
{
	if (w->drop && chown(path, w->uid, w->gid))
		pr_warn("wrap: cannot give %s to uid %u: %s", path, (unsigned)w->uid,
			strerror(errno));
}

static int open_out(struct wrap *w)
{
	struct fl_err err = { "" };
	int rc;

	if (!w->o->out_dir)
		return 0;
	rc = fl_results_open(w->o->out_dir, &w->res, &err);
	if (rc) {
		pr_err("wrap: --out %s: %s", w->o->out_dir, err.msg);
		return rc < 0 ? rc : -EIO;
	}
	return 0;
}

/* Results belong to the user who asked for them: chown what we wrote. */
static void give_out_dir(struct wrap *w)
{
	static const char *const files[] = { "",	   "/logs",	     "/events.jsonl",
					     "/ops.jsonl", "/counters.json", "/wrap.pcap" };
	char path[PATH_MAX];

	if (!w->o->out_dir || !w->drop)
		return;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", w->o->out_dir, files[i]);
		if (!access(path, F_OK))
			give_to_user(w, path);
	}
}

/* A hosts file for the namespace: the host's, plus the wrap address. */
static int write_hosts(struct wrap *w)
{
	FILE *in, *out;
	char line[1024];

	snprintf(w->hosts, sizeof(w->hosts), "%s/hosts", fl_state_dir(w->st));
	out = fopen(w->hosts, "w");
	if (!out)
		return -errno;
	in = fopen("/etc/hosts", "r");
	while (in && fgets(line, sizeof(line), in))
		fputs(line, out);
	if (in)
		fclose(in);
	fprintf(out, "%s\tfallacy-wrap\n%s\tfallacy-wrap\n", FL_WRAP_ADDR4, FL_WRAP_ADDR6);
	if (fclose(out))
		return -errno;
	return 0;
}

static int create_session(struct wrap *w)
{
	int rc = fl_state_create(w->session, &w->st);

	if (rc == -EACCES || rc == -EPERM) {
		pr_err("wrap: cannot create the session under %s: %s; fallacy wrap needs root: "
		       "run it with sudo (the command itself then runs as you)",
		       fl_run_dir(), strerror(-rc));
		return rc;
	}
	if (rc)
		pr_err("wrap: session %s: %s (run 'fallacy cleanup %s' if it is stale)", w->session,
		       strerror(-rc), w->session);
	return rc;
}

static int make_namespace(struct wrap *w)
{
	struct fl_out *o;
	struct fl_wrapns_opts no = {
		.extra_addrs = w->o->addr,
		.lo_mtu = wrap_faults_needs(&w->wf) & FL_WRAP_NEEDS_SMALL_MTU ? FL_WRAP_RATE_MTU :
										0,
		.loopback_copies = wrap_faults_needs(&w->wf) & FL_WRAP_NEEDS_LOOPBACK_COPIES,
	};
	int rc;

	rc = create_session(w);
	if (rc)
		return rc;
	rc = fl_wrapns_create(w->st, w->netns, &no);
	if (!rc && w->o->addr)
		rc = write_hosts(w);
	if (rc)
		return rc;
	o = event(w, "netns");
	if (o) {
		fl_out_str(o, "netns", w->netns);
		fl_out_str(o, "session", w->session);
		event_end(w);
	}
	return 0;
}

static int start_capture(struct wrap *w)
{
	struct fl_out *o;
	struct fl_capture_point pt = { .ifname = "lo", .dir = FL_CAPTURE_INOUT };
	struct fl_capture_opts co = { .path = w->pcap };
	int rc;

	if (!w->o->capture)
		return 0;
	snprintf(pt.netns, sizeof(pt.netns), "%s", w->netns);
	snprintf(w->pcap, sizeof(w->pcap), "%s/wrap.pcap", w->o->out_dir);
	rc = fl_capture_open(&pt, 1, &co, &w->cap);
	if (!rc)
		rc = fl_capture_start(w->cap);
	if (!rc && (o = event(w, "capture"))) {
		fl_out_str(o, "file", "wrap.pcap");
		fl_out_str(o, "netns", w->netns);
		fl_out_str(o, "ifname", "lo");
		event_end(w);
	}
	return rc;
}

/* --control: RUN_DIR/@wrap-PID/control/control.sock for the command's
 * user, named in FALLACY_CONTROL (set here, before any thread exists, so
 * the child inherits it). Served once the session's faults are up. */
static int open_control(struct wrap *w)
{
	char dir[PATH_MAX], *targv[] = { "--netns", w->netns, NULL };
	struct fl_target t;
	struct fl_err err;
	int used, rc;

	if (!w->o->control)
		return 0;
	if (fl_target_parse(2, targv, &t, &used, &err)) {
		pr_err("wrap: %s", err.msg);
		return -EINVAL;
	}
	snprintf(dir, sizeof(dir), "%s/control", fl_state_dir(w->st));
	rc = fl_ctl_new(&t, "wrap", &w->ctl);
	if (!rc)
		rc = fl_ctlsock_open(dir, w->drop ? w->uid : getuid(), w->drop ? w->gid : getgid(),
				     w->ctl, &w->cs);
	if (!rc && setenv("FALLACY_CONTROL", fl_ctlsock_path(w->cs), 1))
		rc = -errno;
	return rc;
}

static int start_control(struct wrap *w)
{
	struct fl_out *o;
	int rc;

	if (!w->cs)
		return 0;
	rc = wrap_faults_control(&w->wf, w->ctl);
	if (!rc)
		rc = fl_ctlsock_start(w->cs);
	if (!rc && (o = event(w, "control"))) {
		fl_out_str(o, "path", fl_ctlsock_path(w->cs));
		fl_out_u64(o, "uid", w->drop ? w->uid : getuid());
		event_end(w);
	}
	return rc;
}

static int drop_privileges(const struct wrap *w)
{
	if (!w->drop)
		return 0;
	if (w->user[0] ? initgroups(w->user, w->gid) : setgroups(1, &w->gid))
		return -errno;
	if (setgid(w->gid) || setuid(w->uid))
		return -errno;
	return 0;
}

/* The child: wait for the parent's go (its pid is journaled by then),
 * enter the namespace, become the user, exec. Reports a failure's errno
 * on the close-on-exec error pipe. */
static void __attribute__((noreturn)) child_main(struct wrap *w, pid_t parent)
{
	char c;
	int rc;

	close(w->go[1]);
	close(w->err[0]);
	if (read(w->go[0], &c, 1) != 1)
		_exit(127);
	rc = fl_wrapns_enter_child(w->netns, w->o->addr ? w->hosts : NULL);
	if (!rc)
		rc = drop_privileges(w);
	if (!rc && (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent))
		rc = -ESRCH;
	sigprocmask(SIG_SETMASK, &w->oldmask, NULL);
	if (!rc) {
		execvp(w->o->argv[0], w->o->argv);
		rc = -errno;
	}
	if (write(w->err[1], &rc, sizeof(rc)) != sizeof(rc))
		_exit(127);
	_exit(rc == -ENOENT ? 127 : 126);
}

static int start_child(struct wrap *w)
{
	struct fl_err err = { "" };
	pid_t parent = getpid();
	ssize_t n;
	int rc;

	if (pipe2(w->go, O_CLOEXEC) || pipe2(w->err, O_CLOEXEC))
		return -errno;
	w->child = fork();
	if (w->child < 0)
		return -errno;
	if (!w->child)
		child_main(w, parent);
	close(w->go[0]);
	close(w->err[1]);
	w->go[0] = w->err[1] = -1;
	rc = fl_state_track_pid(w->st, w->child);
	if (rc)
		return rc;
	/* Logged before the go: every packet of the command comes after it. */
	event_int(w, "exec", "pid", w->child);
	w->t_exec = fl_clock_mono_ns();
	if (write(w->go[1], "g", 1) != 1)
		return -errno;
	if (wrap_faults_timeline(&w->wf, &err))
		pr_err("wrap: %s", err.msg);
	/* EOF: exec succeeded; an int: why it did not. */
	n = read(w->err[0], &rc, sizeof(rc));
	if (n == sizeof(rc)) {
		w->exec_errno = -rc;
		pr_err("wrap: cannot run '%s': %s", w->o->argv[0], strerror(-rc));
		event_int(w, "exec-failed", "errno", -rc);
	}
	return 0;
}

/* Terminal signals (^C) reach the whole foreground process group, the
 * command included: forward only signals sent to us alone (kill, a CI
 * runner's SIGTERM). A second SIGINT/SIGTERM kills the command. */
static void on_signal(struct wrap *w, const struct signalfd_siginfo *si)
{
	struct fl_out *o;
	int sig = (int)si->ssi_signo;

	if (sig == SIGINT || sig == SIGTERM)
		w->term_signals++;
	if (w->term_signals > 1) {
		pr_warn("wrap: second %s, killing '%s' (pid %d)", strsignal(sig), w->o->argv[0],
			w->child);
		kill(w->child, SIGKILL);
		return;
	}
	if (si->ssi_code == SI_KERNEL)
		return;
	o = event(w, "signal");
	if (o) {
		fl_out_i64(o, "signal", sig);
		fl_out_i64(o, "forwarded_to", w->child);
		event_end(w);
	}
	kill(w->child, sig);
}

static int supervise(struct wrap *w)
{
	struct fl_out *o;
	struct signalfd_siginfo si;
	int st;

	for (;;) {
		pid_t r = waitpid(w->child, &st, WNOHANG);

		if (r == w->child)
			break;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (read(w->sfd, &si, sizeof(si)) != sizeof(si)) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (si.ssi_signo != SIGCHLD)
			on_signal(w, &si);
	}
	w->t_exit = fl_clock_mono_ns();
	w->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	o = event(w, "exit");
	if (o) {
		fl_out_i64(o, "pid", w->child);
		fl_out_i64(o, "status", w->status);
		if (WIFSIGNALED(st))
			fl_out_i64(o, "signal", WTERMSIG(st));
		event_end(w);
	}
	return 0;
}

static void write_counters(struct wrap *w)
{
	struct fl_out o = { .json = true, .compact = true };
	char path[PATH_MAX];
	FILE *f;

	if (!w->o->out_dir)
		return;
	snprintf(path, sizeof(path), "%s/counters.json", w->o->out_dir);
	f = fopen(path, "w");
	if (!f) {
		pr_warn("wrap: cannot write %s: %s", path, strerror(errno));
		return;
	}
	o.f = f;
	fl_out_open(&o, "", '{');
	fl_out_str(&o, "session", w->session);
	fl_out_str(&o, "netns", w->netns);
	fl_out_open(&o, "command", '{');
	fl_out_i64(&o, "pid", w->child);
	fl_out_i64(&o, "exit_status", w->status);
	fl_out_u64(&o, "wall_ns", w->t_exit - w->t_exec);
	fl_out_close(&o, '}');
	fl_out_raw(&o, "faults", w->wf.list_json && w->wf.list_json[0] ? w->wf.list_json : "[]");
	fl_out_open(&o, "fault_totals", '{');
	fl_out_u64(&o, "faults", w->wf.sum.faults);
	fl_counters_print(&w->wf.sum.c, &o);
	fl_out_close(&o, '}');
	if (w->cap) {
		fl_out_open(&o, "capture", '{');
		fl_capture_print(w->cap, &o);
		fl_out_close(&o, '}');
	} else {
		fl_out_null(&o, "capture");
	}
	fl_out_close(&o, '}');
	fputc('\n', f);
	fclose(f);
}

/* "1 on lo: 6 packets matched, 6 dropped, 0 duplicated, ..." (every
 * counter but bytes, in fl_counter_fields order) */
static void fault_summary(const struct wrap *w, char *buf, size_t len)
{
	const struct wrap_fault_sum *f = &w->wf.sum;
	size_t n;

	if (w->wf.lost) {
		snprintf(buf, len, "lost (the fault supervisor died while the command ran)");
		return;
	}
	if (!f->faults) {
		snprintf(buf, len, "none");
		return;
	}
	n = (size_t)snprintf(buf, len, "%llu on lo: %llu packets matched",
			     (unsigned long long)f->faults, (unsigned long long)f->c.packets);
	for (const struct fl_counter_field *c = fl_counter_fields; c->name && n < len; c++)
		if (strcmp(c->name, "packets") && strcmp(c->name, "bytes"))
			n += (size_t)snprintf(buf + n, len - n, ", %llu %s",
					      (unsigned long long)fl_counter_get(&f->c, c),
					      c->name);
}

static void summary(struct wrap *w)
{
	struct fl_capture_stat cs;
	char cap[PATH_MAX + 96] = "", faults[512];

	if (w->o->quiet || fl_log_level < FL_LOG_WARN) /* wrap -q or fallacy -q */
		return;
	if (w->cap) {
		fl_capture_total(w->cap, &cs);
		snprintf(cap, sizeof(cap), "; %llu packets captured in %s (%llu dropped)",
			 (unsigned long long)cs.written, w->pcap,
			 (unsigned long long)(cs.dropped + cs.ifdropped));
	}
	fault_summary(w, faults, sizeof(faults));
	fprintf(stderr,
		"fallacy: wrap: '%s' exited with status %d after %.3f s; faults: %s%s; seed %llu "
		"(--seed %llu replays it)\n",
		w->o->argv[0], w->status, (double)(w->t_exit - w->t_exec) / 1e9, faults, cap,
		(unsigned long long)w->o->seed, (unsigned long long)w->o->seed);
}

/* Signals are read from a signalfd, so they must be blocked in every
 * thread: block them before the capture thread exists. */
static int block_signals(struct wrap *w)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD };
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&set, sigs[i]);
	if (sigprocmask(SIG_BLOCK, &set, &w->oldmask))
		return -errno;
	w->sfd = signalfd(-1, &set, SFD_CLOEXEC);
	return w->sfd < 0 ? -errno : 0;
}

static int note_cmp(const void *a, const void *b)
{
	const struct fl_pcapng_note *x = a, *y = b;

	return x->wall_ns < y->wall_ns ? -1 : x->wall_ns > y->wall_ns;
}

static const char *jtext(const struct fl_ynode *m, const char *key)
{
	const struct fl_ynode *v = fl_ymap_get(m, key);

	return v && v->type == FL_Y_SCALAR && v->text ? v->text : "";
}

static void note_text(const struct fl_ynode *m, char *buf, size_t size)
{
	static const char *const keys[] = { "event", "id", "spec", "pid", "status" };
	size_t len = snprintf(buf, size, "fallacy:");

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && len < size; i++) {
		const char *t = jtext(m, keys[i]);

		if (*t)
			len += snprintf(buf + len, size - len, i < 2 ? " %s" : " %s %s",
					i < 2 ? t : keys[i], t);
	}
}

/* One note per event line: "fault cut loss 100%", "exit status 0"... */
static int read_notes(const char *path, struct fl_pcapng_note **out, size_t *n)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, len = 0;
	struct fl_pcapng_note *v = NULL, *nv;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		struct fl_ydoc *d = NULL;
		struct fl_err err;

		if (fl_yaml_load(path, line, &d, &err) || !d->root ||
		    !(nv = realloc(v, (len + 1) * sizeof(*v)))) {
			fl_yaml_free(d);
			continue;
		}
		v = nv;
		v[len].wall_ns = strtoull(jtext(d->root, "wall_ns"), NULL, 10);
		note_text(d->root, v[len].text, sizeof(v[len].text));
		len++;
		fl_yaml_free(d);
	}
	free(line);
	fclose(f);
	if (len)
		qsort(v, len, sizeof(*v), note_cmp);
	*out = v;
	*n = len;
	return 0;
}

/* DIR/wrap.pcapng: the trace with the events as comments. */
static void write_pcapng(struct wrap *w)
{
	char events[PATH_MAX], out[PATH_MAX];
	struct fl_pcapng_note *notes = NULL;
	size_t n = 0;

	if (!w->cap || !w->res)
		return;
	fflush(w->res->events);
	snprintf(events, sizeof(events), "%s/events.jsonl", w->o->out_dir);
	snprintf(out, sizeof(out), "%s/wrap.pcapng", w->o->out_dir);
	if (read_notes(events, &notes, &n) || fl_pcapng_from_pcap(w->pcap, out, notes, n))
		pr_warn("wrap: no %s (the pcap file is complete)", out);
	free(notes);
}

/* Everything after the command: results, then removal of the session. */
/* Were all of the command's descendants gone? wrap is their child
 * subreaper, so an orphan is our child until it is reaped: no child left
 * (ECHILD, after reaping the exited ones) means no process of the command
 * can still be in the namespace, and cleanup skips its /proc scan. */
static bool no_descendants(void)
{
	pid_t r;

	while ((r = waitpid(-1, NULL, WNOHANG)) > 0)
		;
	return r < 0 && errno == ECHILD;
}

static int finish(struct wrap *w)
{
	unsigned int flags = 0;
	int rc = 0;

	fl_ctlsock_close(w->cs); /* no more requests: then every fault goes */
	w->cs = NULL;
	wrap_faults_end(&w->wf);
	if (w->cap && fl_capture_stop(w->cap))
		pr_warn("wrap: the capture %s may be incomplete", w->pcap);
	write_counters(w);
	event_int(w, "end", "status", w->status);
	write_pcapng(w);
	if (w->st) {
		fl_state_close(w->st);
		w->st = NULL;
		if (w->subreaper && no_descendants())
			flags |= FL_CLEANUP_NO_STRAYS;
		rc = fl_state_cleanup_flags(w->session, flags);
		if (rc)
			pr_err("wrap: removing session %s failed: %s; run 'fallacy cleanup %s'",
			       w->session, strerror(-rc), w->session);
	}
	return rc;
}

static void release(struct wrap *w)
{
	fl_ctlsock_close(w->cs);
	fl_ctl_free(w->ctl);
	wrap_faults_free(&w->wf);
	fl_capture_free(w->cap);
	if (w->res) {
		fl_results_close(w->res);
		w->res = NULL;
		give_out_dir(w);
	}
	for (int i = 0; i < 2; i++) {
		if (w->go[i] >= 0)
			close(w->go[i]);
		if (w->err[i] >= 0)
			close(w->err[i]);
	}
	if (w->sfd >= 0)
		close(w->sfd);
	sigprocmask(SIG_SETMASK, &w->oldmask, NULL);
}

static int setup(struct wrap *w)
{
	struct fl_out *o;
	struct fl_err err = { "" };
	int rc;

	rc = resolve_user(w);
	if (!rc && (rc = wrap_faults_prepare(&w->wf, w->o, &err)))
		pr_err("wrap: %s", err.msg);
	if (!rc)
		rc = block_signals(w);
	if (!rc)
		rc = open_out(w);
	if (rc)
		return rc;
	o = event(w, "start");
	if (o) {
		fl_out_str(o, "session", w->session);
		fl_out_u64(o, "seed", w->o->seed);
		event_end(w);
	}
	rc = make_namespace(w);
	if (!rc)
		rc = open_control(w);
	if (!rc)
		rc = start_capture(w);
	if (!rc && (rc = wrap_faults_start(&w->wf, w->netns, w->res, &err)))
		pr_err("wrap: %s", err.msg);
	if (!rc)
		rc = start_control(w);
	return rc;
}

int fl_wrap_run(const struct fl_wrap_opts *o)
{
	struct wrap w = { .o = o, .go = { -1, -1 }, .err = { -1, -1 }, .sfd = -1 };
	int rc;

	snprintf(w.session, sizeof(w.session), "@wrap-%d", getpid());
	/* [a-z0-9-] only, so `--netns fl-wrap-PID` is a valid attach target */
	snprintf(w.netns, sizeof(w.netns), "fl-wrap-%d", getpid());
	w.t0 = fl_clock_mono_ns();
	/* orphans of the command (and of anything setup starts) become our
	 * children (see no_descendants) */
	w.subreaper = !prctl(PR_SET_CHILD_SUBREAPER, 1);
	rc = setup(&w);
	if (!rc)
		rc = start_child(&w);
	if (!rc)
		rc = supervise(&w);
	if (rc && w.child > 0) {
		kill(w.child, SIGKILL);
		waitpid(w.child, NULL, 0);
	}
	if (w.st || w.cap)
		rc = finish(&w) ?: rc;
	if (!rc)
		summary(&w);
	release(&w);
	return rc ? rc : w.status;
}
