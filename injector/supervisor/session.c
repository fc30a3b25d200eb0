// SPDX-License-Identifier: MIT
/* Sessions, client side: target parsing, starting the supervisor, and the
 * request/answer exchange over RUN_DIR/SESSION/ctl.sock.
 *
 * Wire format (SOCK_STREAM, one request per connection):
 *   request  u32 length, then 'j' or 't' (JSON or text) and the argv words,
 *            each ending in NUL
 *   answer   u32 status, u32 out length, u32 msg length, out, msg
 *            status bit FL_ST_ENDED: the supervisor is ending the session;
 *            the client waits for the connection to close, then removes
 *            the session's folder (fl_state_cleanup). */
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/close_range.h>

#include "dataplane/dataplane.h"
#include "faults/fault.h"
#include "lab/lab.h"
#include "netns.h"
#include "parse.h"
#include "session_int.h"
#include "state/state.h"

int fl_target_parse(int argc, char **argv, struct fl_target *t, int *used, struct fl_err *err)
{
	uint64_t pid;
	char *slash;

	memset(t, 0, sizeof(*t));
	if (argc < 1) {
		fl_err_set(err, "missing TARGET (LAB, LAB/NODE, --netns NAME or --pid PID)");
		return -EINVAL;
	}
	if (!strcmp(argv[0], "--netns") || !strcmp(argv[0], "--pid")) {
		if (argc < 2) {
			fl_err_set(err, "%s: missing value", argv[0]);
			return -EINVAL;
		}
		*used = 2;
		if (argv[0][2] == 'n') {
			if (fl_validate_name("--netns", argv[1], 48, err))
				return -EINVAL;
			t->kind = FL_TARGET_NETNS;
			snprintf(t->netns, sizeof(t->netns), "%s", argv[1]);
			snprintf(t->session, sizeof(t->session), "@netns-%s", argv[1]);
			return 0;
		}
		if (fl_parse_u64(argv[1], 1, FL_PID_MAX, &pid, err))
			return -EINVAL;
		t->kind = FL_TARGET_PID;
		t->pid = (pid_t)pid;
		snprintf(t->session, sizeof(t->session), "@pid-%d", t->pid);
		return 0;
	}
	*used = 1;
	t->kind = FL_TARGET_LAB;
	snprintf(t->lab, sizeof(t->lab), "%s", argv[0]);
	slash = strchr(t->lab, '/');
	if (slash) {
		*slash = '\0';
		if (fl_validate_name("node", slash + 1, FL_NODE_NAME_MAX, err))
			return -EINVAL;
		snprintf(t->node, sizeof(t->node), "%s", slash + 1);
	}
	if (fl_validate_name("lab", t->lab, FL_LAB_NAME_MAX, err))
		return -EINVAL;
	snprintf(t->session, sizeof(t->session), "%s", t->lab);
	return 0;
}

int fl_target_from_session(const char *session, struct fl_target *t, struct fl_err *err)
{
	char buf[FL_SESSION_NAME_MAX + 8];
	char *argv[2] = { buf, NULL };
	int used;

	if (!strncmp(session, "@netns-", 7)) {
		argv[0] = "--netns";
		argv[1] = (char *)session + 7;
		return fl_target_parse(2, argv, t, &used, err);
	}
	if (!strncmp(session, "@pid-", 5)) {
		argv[0] = "--pid";
		argv[1] = (char *)session + 5;
		return fl_target_parse(2, argv, t, &used, err);
	}
	snprintf(buf, sizeof(buf), "%s", session);
	return fl_target_parse(1, argv, t, &used, err);
}

int fl_session_path(const char *session, const char *file, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s/%s", fl_run_dir(), session, file);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* ---- leases ---------------------------------------------------------------- */

static uint64_t want_lease = FL_LEASE_DEFAULT_NS;
static bool lease_given; /* fl_session_set_lease() was called */

int fl_lease_parse(const char *text, uint64_t *ns, struct fl_err *err)
{
	char a[32], b[32];

	if (!strcmp(text, "none")) {
		*ns = 0;
		return 0;
	}
	if (fl_parse_duration(text, ns, err))
		return -EINVAL;
	if (*ns >= FL_LEASE_MIN_NS && *ns <= FL_LEASE_MAX_NS)
		return 0;
	fl_format_duration(FL_LEASE_MIN_NS, a, sizeof(a));
	fl_format_duration(FL_LEASE_MAX_NS, b, sizeof(b));
	fl_err_set(err, "%s: a lease is 'none' or a duration from %s to %s", text, a, b);
	return -EINVAL;
}

void fl_lease_format(uint64_t ns, char *buf, size_t len)
{
	if (!ns)
		snprintf(buf, len, "none");
	else
		fl_format_duration(ns, buf, len);
}

void fl_session_set_lease(uint64_t ns)
{
	want_lease = ns;
	lease_given = true;
}

/* A setting file NAME of the session folder into buf (first line): 0,
 * -ENOENT when there is none, or -errno. */
static int read_setting(const char *session, const char *name, char *buf, size_t len)
{
	char path[4096];
	size_t n;
	FILE *f;

	if (fl_session_path(session, name, path, sizeof(path)))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int fl_session_lease(const char *session, uint64_t *ns)
{
	char text[64];
	struct fl_err e;
	int err;

	*ns = FL_LEASE_DEFAULT_NS;
	err = read_setting(session, "lease", text, sizeof(text));
	if (err)
		return err == -ENOENT ? 0 : err;
	if (fl_lease_parse(text, ns, &e)) {
		pr_warn("%s: lease file: %s; the lease is %llus", session, e.msg,
			(unsigned long long)(FL_LEASE_DEFAULT_NS / 1000000000ull));
		*ns = FL_LEASE_DEFAULT_NS;
		return -EINVAL;
	}
	return 0;
}

static int want_queues; /* fl_session_set_delay_queues(); 0: not given */

void fl_session_set_delay_queues(int n)
{
	want_queues = n;
}

int fl_session_delay_queues(const char *session)
{
	char text[16];
	struct fl_err e;
	uint64_t n;

	if (read_setting(session, "delay-queues", text, sizeof(text)))
		return 0;
	if (fl_parse_u64(text, 1, FL_DELAY_QUEUES_MAX, &n, &e)) {
		pr_warn("%s: delay-queues file: %s; the delay line has one queue", session, e.msg);
		return 0;
	}
	return (int)n;
}

static int want_pmqos = -1; /* fl_session_set_delay_pmqos(); -1: not given */

void fl_session_set_delay_pmqos(bool on)
{
	want_pmqos = on;
}

bool fl_session_delay_pmqos(const char *session)
{
	char text[16];

	return read_setting(session, "delay-pmqos", text, sizeof(text)) || strcmp(text, "off");
}

/* A setting file of a supervisor about to start (root only, like the rest
 * of the session folder; not journaled: cleanup removes the folder). A
 * lab's next supervisor keeps what the lab was made with unless this
 * process was given a value (given). */
static int write_setting(const char *session, const char *name, const char *value, bool given)
{
	char path[4096];
	int fd, n = (int)strlen(value), err = 0;

	if (fl_session_path(session, name, path, sizeof(path)))
		return -ENAMETOOLONG;
	if (!given && !access(path, F_OK))
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, value, (size_t)n) != n || write(fd, "\n", 1) != 1)
		err = -errno;
	if (fd >= 0)
		close(fd);
	if (err)
		pr_err("%s: writing %s: %s", session, path, strerror(-err));
	return err;
}

static int write_settings(const char *session)
{
	char lease[64], queues[16];
	int err;

	fl_lease_format(want_lease, lease, sizeof(lease));
	snprintf(queues, sizeof(queues), "%d", want_queues);
	err = write_setting(session, "lease", lease, lease_given);
	if (!err && want_queues)
		err = write_setting(session, "delay-queues", queues, true);
	if (!err && want_pmqos >= 0)
		err = write_setting(session, "delay-pmqos", want_pmqos ? "on" : "off", true);
	return err;
}

static int connect_ctl(const char *session)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (fl_session_path(session, "ctl.sock", sa.sun_path, sizeof(sa.sun_path)))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

bool fl_session_alive(const struct fl_target *t)
{
	int fd = connect_ctl(t->session);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

int fl_io_full(int fd, void *buf, size_t len, bool wr)
{
	char *p = buf;

	while (len) {
		ssize_t r = wr ? send(fd, p, len, MSG_NOSIGNAL) : read(fd, p, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EPIPE;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

/* The lab, namespace or process must exist before anything is started. */
static int target_check(const struct fl_target *t)
{
	struct fl_lab *lab = NULL;
	int fd;

	switch (t->kind) {
	case FL_TARGET_LAB:
		if (fl_lab_load(t->lab, &lab)) {
			pr_err("no lab '%s' in %s (see fallacy lab list)", t->lab, fl_run_dir());
			return -ENOENT;
		}
		if (t->node[0] && !fl_lab_node(lab, t->node)) {
			pr_err("lab %s has no node '%s' (see fallacy lab list)", t->lab, t->node);
			fl_lab_free(lab);
			return -ENOENT;
		}
		fl_lab_free(lab);
		return 0;
	case FL_TARGET_NETNS:
		fd = fl_netns_open(t->netns);
		if (fd < 0)
			pr_err("--netns %s: no such namespace (see ip netns list)", t->netns);
		break;
	default:
		fd = fl_netns_open_pid(t->pid);
		if (fd < 0)
			pr_err("--pid %d: no such process (docker: docker inspect -f '{{.State.Pid}}' NAME)",
			       t->pid);
		break;
	}
	if (fd < 0)
		return -ENOENT;
	close(fd);
	return 0;
}

/* In the grandchild: become `fallacy __supervise SESSION`. */
static void exec_supervisor(const char *session, int ready)
{
	char path[4096], fdbuf[16];
	int null = open("/dev/null", O_RDWR | O_CLOEXEC), log;

	if (fl_session_path(session, "supervisor.log", path, sizeof(path)))
		_exit(127);
	log = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
	}
	if (log >= 0)
		dup2(log, 2);
	/* A daemon must not keep the caller's pipes open (a shell's $(...),
	 * bats' fd 3 would wait for it): every inherited fd closes on exec. */
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	if (chdir("/")) /* keep no directory of the caller busy */
		_exit(127);
	umask(022);
	ready = dup(ready); /* without O_CLOEXEC */
	snprintf(fdbuf, sizeof(fdbuf), "%d", ready);
	setenv("FALLACY_READY_FD", fdbuf, 1);
	execl("/proc/self/exe", "fallacy", "__supervise", session, (char *)NULL);
	_exit(127);
}

/* A new supervisor says "ok" within this (it loads the BPF object). */
#define READY_TIMEOUT_MS 10000
/* ... and then answers on its socket within ALIVE_TRIES * ALIVE_POLL_US. */
#define ALIVE_TRIES 200
#define ALIVE_POLL_US 5000

static int wait_ready(int rfd, const char *session)
{
	char buf[512];
	size_t n = 0;
	ssize_t r;
	struct pollfd p = { .fd = rfd, .events = POLLIN };

	while (n < sizeof(buf) - 1) {
		if (poll(&p, 1, READY_TIMEOUT_MS) <= 0) {
			pr_err("supervisor of %s did not start within %d s (see %s/%s/supervisor.log)",
			       session, READY_TIMEOUT_MS / 1000, fl_run_dir(), session);
			return -ETIMEDOUT;
		}
		r = read(rfd, buf + n, sizeof(buf) - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	if (!strncmp(buf, "ok", 2) || !strncmp(buf, "busy", 4))
		return 0;
	pr_err("supervisor of %s failed: %s", session,
	       n ? buf : "no answer (see supervisor.log in the session folder)");
	return -EIO;
}

/* In the middle process: the supervisor's "pid PID STARTTIME" goes into the
 * journal right after the fork, and the supervisor waits for it before it
 * execs, so a cleanup after a kill -9 of whoever started it (a lab up)
 * stops it even while it is still starting. */
static int journal_supervisor(const char *session, pid_t pid)
{
	struct fl_state *st = NULL;
	int err;

	err = fl_state_open(session, &st);
	if (!err)
		err = fl_state_track_pid(st, pid);
	fl_state_close(st);
	return err;
}

static int spawn(const char *session)
{
	int p[2], err;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(p[0]);
		close(p[1]);
		return err;
	}
	if (pid == 0) {
		sigset_t none;
		int q[2];
		char go;

		close(p[0]);
		setsid();
		signal(SIGHUP, SIG_IGN);
		/* no signal blocked, whoever starts it (an agent blocks SIGTERM
		 * outside its wait): the supervisor takes its own in ppoll */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (pipe2(q, O_CLOEXEC))
			_exit(0);
		pid = fork();
		if (pid == 0) {
			close(q[1]);
			/* runs only once it is in the journal */
			if (read(q[0], &go, 1) != 1)
				_exit(0);
			exec_supervisor(session, p[1]);
		}
		if (pid > 0 && !journal_supervisor(session, pid) && write(q[1], "j", 1) != 1)
			pr_debug("%s: the supervisor did not get its go", session);
		_exit(0);
	}
	close(p[1]);
	waitpid(pid, NULL, 0);
	err = wait_ready(p[0], session);
	close(p[0]);
	return err;
}

static int start_session(const struct fl_target *t);

/* Two clients starting the same session at once: the second waits on a
 * lock of RUN_DIR and then finds the first one's supervisor. */
int fl_session_ensure(const struct fl_target *t)
{
	int fd, err;

	if (fl_session_alive(t))
		return 0;
	err = fl_mkdir_p(fl_run_dir(), 0700);
	if (err)
		return err;
	fd = open(fl_run_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX)) {
		err = -errno;
		pr_err("locking %s: %s", fl_run_dir(), strerror(-err));
		if (fd >= 0)
			close(fd);
		return err;
	}
	err = fl_session_alive(t) ? 0 : start_session(t);
	close(fd);
	return err;
}

static int start_session(const struct fl_target *t)
{
	struct fl_state *st = NULL;
	int err;

	err = target_check(t);
	if (err)
		return err;
	if (t->kind != FL_TARGET_LAB) {
		/* a supervisor killed earlier left its journal: undo it first */
		err = fl_state_cleanup(t->session);
		if (err && err != -ENOENT) {
			pr_err("%s: the previous supervisor's state could not be removed; run fallacy cleanup %s",
			       t->session, t->session);
			return err;
		}
		err = fl_state_create(t->session, &st);
		if (err && err != -EEXIST) {
			pr_err("%s: cannot create the session folder in %s: %s", t->session,
			       fl_run_dir(), strerror(-err));
			return err;
		}
		fl_state_close(st);
	}
	err = write_settings(t->session);
	if (!err)
		err = spawn(t->session);
	if (err)
		return err;
	for (int i = 0; i < ALIVE_TRIES && !fl_session_alive(t); i++)
		usleep(ALIVE_POLL_US);
	return fl_session_alive(t) ? 0 : -ECONNREFUSED;
}

static int send_req(int fd, int argc, char **argv, bool json)
{
	size_t len = 1;
	uint32_t n;
	char *buf, *p;
	int err;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if (len > FL_REQ_MAX)
		return -E2BIG;
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	p = buf;
	*p++ = json ? 'j' : 't';
	for (int i = 0; i < argc; i++)
		p = stpcpy(p, argv[i]) + 1;
	n = (uint32_t)len;
	err = fl_io_full(fd, &n, sizeof(n), true);
	if (!err)
		err = fl_io_full(fd, buf, len, true);
	free(buf);
	return err;
}

static int recv_part(int fd, uint32_t len, char **out)
{
	char *s;
	int err;

	if (len > FL_REQ_MAX * 16)
		return -E2BIG;
	s = malloc(len + 1);
	if (!s)
		return -ENOMEM;
	err = fl_io_full(fd, s, len, false);
	s[err ? 0 : len] = '\0';
	*out = s;
	return err;
}

static int recv_answer(int fd, uint32_t *status, char **out, char **msg)
{
	uint32_t h[3];
	int err = fl_io_full(fd, h, sizeof(h), false);

	if (err)
		return err;
	*status = h[0];
	err = recv_part(fd, h[1], out);
	return err ? err : recv_part(fd, h[2], msg);
}

/* Check an "add" here first, so that bad input never starts a supervisor. */
static int prevalidate(const struct fl_target *t, int argc, char **argv, char **msg)
{
	struct fl_lab *lab = NULL;
	struct fl_fault *f = calloc(1, sizeof(*f));
	struct fl_err err = { "" };
	int ret = 0;

	if (!f)
		return -ENOMEM;
	if (t->kind == FL_TARGET_LAB && fl_lab_load(t->lab, &lab)) {
		pr_err("no lab '%s' in %s (see fallacy lab list)", t->lab, fl_run_dir());
		free(f);
		return -ENOENT;
	}
	struct fl_rule *rules = calloc(FL_FAULT_MAX_RULES, sizeof(*rules));

	if (!rules || fl_fault_parse(f, argc, argv, lab, &err) ||
	    fl_fault_rules(f, lab, rules, FL_FAULT_MAX_RULES, &err) < 0) {
		if (asprintf(msg, "fault add %s: %s\n", t->session, err.msg) < 0)
			*msg = NULL;
		ret = -EINVAL;
	}
	fl_lab_free(lab);
	free(rules);
	free(f);
	return ret;
}

/* A lab whose journal has data plane filters but no live supervisor: a
 * supervisor was killed and its program still acts on the old rules. */
static bool lab_has_stale_filters(const struct fl_target *t)
{
	char path[4096], line[512];
	bool found = false;
	FILE *f;

	if (t->kind != FL_TARGET_LAB || fl_session_path(t->session, "journal", path, sizeof(path)))
		return false;
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		const char *rec = line;

		if (*rec == '@' && strchr(rec, ' ')) /* the writer's tag */
			rec = strchr(rec, ' ') + 1;
		found = !strncmp(rec, "tcfilter ", 9);
	}
	fclose(f);
	return found;
}

static int not_running(const struct fl_target *t, const char *cmd, bool json, char **out,
		       char **msg)
{
	if (!strcmp(cmd, "clear")) {
		if (t->kind != FL_TARGET_LAB)
			fl_state_cleanup(t->session); /* leftovers of a killed supervisor */
		return 0;
	}
	if (target_check(t)) /* said which */
		return 2;
	if (!strcmp(cmd, "list")) {
		*out = strdup(json ? "[]\n" : "");
		return 0;
	}
	if (asprintf(msg, "fault %s: %s has no faults\n", cmd, t->session) < 0)
		*msg = NULL;
	return 2;
}

static int exchange(const struct fl_target *t, int argc, char **argv, bool json, char **out,
		    char **msg)
{
	uint32_t status = 2;
	char c;
	int fd, err;

	fd = connect_ctl(t->session);
	if (fd < 0) {
		pr_err("%s: cannot reach the supervisor: %s", t->session, strerror(-fd));
		return 2;
	}
	err = send_req(fd, argc, argv, json);
	if (!err)
		err = recv_answer(fd, &status, out, msg);
	if (err) {
		pr_err("%s: talking to the supervisor: %s (see supervisor.log in %s/%s)",
		       t->session, strerror(-err), fl_run_dir(), t->session);
		close(fd);
		return 2;
	}
	if (status & FL_ST_ENDED) {
		while (read(fd, &c, 1) > 0) /* until the supervisor is gone */
			;
		if (t->kind != FL_TARGET_LAB)
			fl_state_cleanup(t->session);
	}
	close(fd);
	return (int)(status & 0xff);
}

int fl_fault_request(const struct fl_target *t, int argc, char **argv, bool json, char **out,
		     char **msg)
{
	char *av[FL_REQ_MAX_WORDS];
	int n = 0, err;

	*out = *msg = NULL;
	if (argc < 1 || argc > FL_REQ_MAX_WORDS - 3) { /* room for --node NODE, NULL */
		*msg = strdup("fault: expected add, del, clear or list\n");
		return 2;
	}
	for (; n < argc; n++)
		av[n] = argv[n];
	if (!strcmp(argv[0], "add") && t->node[0]) {
		av[n++] = "--node";
		av[n++] = (char *)t->node;
	}
	av[n] = NULL;
	if (!strcmp(argv[0], "add")) {
		err = prevalidate(t, n - 1, av + 1, msg);
		if (err)
			return 2;
		if (fl_session_ensure(t))
			return 2;
	} else if (!fl_session_alive(t)) {
		if (strcmp(argv[0], "clear") || !lab_has_stale_filters(t))
			return not_running(t, argv[0], json, out, msg);
		if (fl_session_ensure(t)) /* its attach replaces the stale program */
			return 2;
	}
	return exchange(t, n, av, json, out, msg);
}

int fl_fault_request_check(const struct fl_target *t, int argc, char **argv, struct fl_err *err)
{
	const char *cmd = argc > 0 ? argv[0] : "";
	char *av[256];
	int n = 0;

	if (!strcmp(cmd, "add")) {
		for (int i = 1; i < argc && n < 250; i++)
			av[n++] = argv[i];
		if (t->node[0]) {
			av[n++] = "--node";
			av[n++] = (char *)t->node;
		}
		av[n] = NULL;
		return fl_fault_check(n, av, t->kind == FL_TARGET_LAB ? t->lab : NULL, err);
	}
	if (!strcmp(cmd, "change") && argc >= 3)
		return fl_validate_name("fault id", argv[1], FL_FAULT_ID_MAX, err) ?:
			       fl_fault_check_params(argc - 2, argv + 2, err);
	if (!strcmp(cmd, "del") && argc == 2)
		return fl_validate_name("fault id", argv[1], FL_FAULT_ID_MAX, err);
	if ((!strcmp(cmd, "clear") || !strcmp(cmd, "list")) && argc == 1)
		return 0;
	if (!strcmp(cmd, "change"))
		fl_err_set(err, "expected ID KIND [PARAMS...]");
	else if (!strcmp(cmd, "del"))
		fl_err_set(err, "expected one fault ID");
	else if (!strcmp(cmd, "clear") || !strcmp(cmd, "list"))
		fl_err_set(err, "unexpected '%s'", argv[1]);
	else
		fl_err_set(err, "unknown request '%s' (add, change, del, clear or list)", cmd);
	return -EINVAL;
}

/* "ID KIND" + the counters in fl_counter_fields order + held overflow
 * reordered bypassed (sup_stats; a supervisor older than bypassed sends
 * three, read as bypassed 0). */
static int parse_stat(char *line, struct fl_fault_stat *st)
{
	char *save = NULL, *w, *end;
	unsigned long long v[FL_N_COUNTERS + 4] = { 0 };
	size_t n = 0;

	memset(st, 0, sizeof(*st));
	w = strtok_r(line, " ", &save);
	if (!w || strlen(w) >= sizeof(st->id))
		return -EPROTO;
	snprintf(st->id, sizeof(st->id), "%s", w);
	w = strtok_r(NULL, " ", &save);
	if (!w || strlen(w) >= sizeof(st->kind))
		return -EPROTO;
	snprintf(st->kind, sizeof(st->kind), "%s", w);
	while ((w = strtok_r(NULL, " ", &save)) && n < FL_N_COUNTERS + 4) {
		errno = 0;
		v[n++] = strtoull(w, &end, 10);
		if (errno || *end || end == w)
			return -EPROTO;
	}
	if (w || n < FL_N_COUNTERS + 3)
		return -EPROTO;
	n = 0;
	for (const struct fl_counter_field *f = fl_counter_fields; f->name; f++)
		*fl_counter_at(&st->c, f) = v[n++];
	st->held = v[n++];
	st->overflow = v[n++];
	st->reordered = v[n++];
	st->bypassed = v[n];
	return 0;
}

int fl_fault_stats(const struct fl_target *t, struct fl_fault_stat **out, int *n)
{
	char *req[] = { "stats", NULL }, *text = NULL, *msg = NULL, *save = NULL;
	struct fl_fault_stat *v = NULL;
	int status, cnt = 0, err = 0;

	*out = NULL;
	*n = 0;
	if (!fl_session_alive(t))
		return 0;
	status = exchange(t, 1, req, false, &text, &msg);
	for (char *l = strtok_r(text, "\n", &save); !status && l && !err;
	     l = strtok_r(NULL, "\n", &save)) {
		struct fl_fault_stat *nv = realloc(v, (size_t)(cnt + 1) * sizeof(*v));

		if (!nv) {
			err = -ENOMEM;
			break;
		}
		v = nv;
		err = parse_stat(l, &v[cnt]);
		cnt += !err;
	}
	free(text);
	free(msg);
	if (status || err) {
		free(v);
		return status ? -EIO : err;
	}
	*out = v;
	*n = cnt;
	return 0;
}

int fl_session_refusal(int status, char **msg, struct fl_err *err)
{
	size_t n = *msg ? strlen(*msg) : 0;

	if (status) {
		while (n && (*msg)[n - 1] == '\n')
			(*msg)[--n] = 0;
		fl_err_set(err, "%s", n ? *msg : "the session supervisor refused");
	}
	free(*msg);
	*msg = NULL;
	return status ? -EINVAL : 0;
}

int fl_fault_add_json(const struct fl_target *t, const struct fl_fault *f, char **out, char **msg)
{
	enum { TEXT_MAX = 8192, WORDS_MAX = FL_REQ_MAX_WORDS - 3 };
	char *text = calloc(1, TEXT_MAX), *argv[WORDS_MAX] = { "add" }, *save = NULL;
	int argc = 1, status;

	*msg = *out = NULL;
	if (!text)
		return 2;
	fl_fault_format(f, text, TEXT_MAX - sizeof(" --id ") - FL_FAULT_ID_MAX);
	if (f->id[0])
		snprintf(text + strlen(text), TEXT_MAX - strlen(text), " --id %s", f->id);
	for (char *w = strtok_r(text, " ", &save); w && argc < WORDS_MAX - 1;
	     w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	status = fl_fault_request(t, argc, argv, true, out, msg);
	free(text);
	return status;
}

int fl_topo_request(const struct fl_target *t, const struct fl_topo *topo, bool json, char **out,
		    char **msg)
{
	char words[512], *argv[32], *save = NULL;
	struct fl_lab *lab = NULL;
	struct fl_err e = { "" };
	int argc = 0, err;

	*out = *msg = NULL;
	if (t->kind != FL_TARGET_LAB || t->node[0]) {
		*msg = strdup("topology changes need a LAB as the target\n");
		return 2;
	}
	if (fl_lab_load(t->lab, &lab)) {
		if (asprintf(msg, "no lab '%s' in %s (see fallacy lab list)\n", t->lab,
			     fl_run_dir()) < 0)
			*msg = NULL;
		return 2;
	}
	err = fl_topo_check(topo, lab, &e) ?: fl_session_ensure(t) ? -EIO : 0;
	if (!err && topo->op == FL_TOPO_LEAVE && fl_lab_node(lab, topo->node))
		fl_node_stop_processes(fl_lab_node(lab, topo->node), FL_NODE_LEAVE_GRACE_NS);
	fl_lab_free(lab);
	if (err == -EIO)
		return 2;
	if (err) {
		if (asprintf(msg, "%s %s: %s\n", fl_topo_verb(topo->op), t->lab, e.msg) < 0)
			*msg = NULL;
		return 2;
	}
	fl_topo_format(topo, words, sizeof(words));
	for (char *w = strtok_r(words, " ", &save); w && argc < 31; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	return exchange(t, argc, argv, json, out, msg);
}

int fl_fault_add(const struct fl_target *t, const struct fl_fault *f, char **msg)
{
	char *out = NULL;
	int status = fl_fault_add_json(t, f, &out, msg);

	free(out);
	return status;
}

int fl_session_keep(const struct fl_target *t)
{
	char *req[] = { "keep", NULL }, *out = NULL, *msg = NULL;
	int status;

	if (fl_session_ensure(t))
		return -EIO;
	status = exchange(t, 1, req, false, &out, &msg);
	if (status)
		pr_err("%s: the supervisor refused to stay up: %s", t->session,
		       msg && *msg ? msg : "no reason given");
	free(out);
	free(msg);
	return status ? -EIO : 0;
}
