// SPDX-License-Identifier: MIT
/* fallacy control VERB ...: one request to a control socket from the shell
 * (the client side of docs/control.md); `fallacy __control LAB UID GID`:
 * the server of `lab up --control-user`, daemonized by fl_control_spawn. */
#include "cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/close_range.h>

#include "control.h"
#include "ctlsock.h"
#include "faults/fault.h"
#include "json.h"
#include "log.h"
#include "state/state.h"

static const char control_usage[] =
	"usage: fallacy control [--socket PATH] add KIND [PARAMS...] [OPTIONS]\n"
	"       fallacy control [--socket PATH] change ID KIND [PARAMS...]\n"
	"       fallacy control [--socket PATH] del ID\n"
	"       fallacy control [--socket PATH] list | clear | counters [ID] | version\n"
	"\n"
	"Sends one request to a control socket and prints its answer, one JSON\n"
	"line. The socket is $FALLACY_CONTROL, which `fallacy wrap --control` gives\n"
	"the wrapped command, or --socket PATH (`fallacy lab up --control-user`\n"
	"prints it). No root needed: the socket is the user's. Fault words are those\n"
	"of `fallacy fault add` (see fallacy fault --help); the faults are the\n"
	"socket's session's, and list, change, del, clear and counters see only\n"
	"those added through the socket. The protocol: docs/control.md.\n"
	"\n"
	"  --socket PATH  the control socket (default $FALLACY_CONTROL)\n"
	"\n"
	"EXAMPLES\n"
	"  fallacy control add delay 200ms --port 6379\n"
	"  fallacy control add loss 100% --port 6379 --id cut\n"
	"  fallacy control change cut loss 50%\n"
	"  fallacy control counters cut\n"
	"  fallacy control del cut\n"
	"  fallacy control --socket /run/fallacy/demo/control/control.sock list\n"
	"\n"
	"Exit status: 0 done, 1 the request was refused (the answer says why),\n"
	"2 bad usage or no socket to talk to.\n";

struct creq {
	const char *socket, *verb, *id;
	char **words;
	int n_words;
};

/* [--socket P] VERB [ID] [WORDS...] */
static int parse_control(int argc, char **argv, struct creq *q)
{
	int i = 1;

	if (i + 1 < argc && !strcmp(argv[i], "--socket")) {
		q->socket = argv[i + 1];
		i += 2;
	}
	if (i >= argc) {
		pr_err("control: no verb (add, change, del, list, clear, counters, version)");
		return -EINVAL;
	}
	q->verb = argv[i++];
	if ((!strcmp(q->verb, "change") || !strcmp(q->verb, "del") ||
	     (!strcmp(q->verb, "counters") && i < argc)) &&
	    i < argc)
		q->id = argv[i++];
	q->words = argv + i;
	q->n_words = argc - i;
	return 0;
}

/* What --check can know without the socket: the words' form. */
static int check_control(const struct creq *q)
{
	struct fl_err err = { "" };
	bool add = !strcmp(q->verb, "add"), change = !strcmp(q->verb, "change");
	int ret = 0;

	if (add)
		ret = fl_fault_check(q->n_words, q->words, "lab", &err);
	else if (change)
		ret = q->id && q->n_words ? fl_fault_check_params(q->n_words, q->words, &err) :
					    (fl_err_set(&err, "expected ID KIND [PARAMS...]"), -1);
	else if (!strcmp(q->verb, "del") && !q->id)
		ret = (fl_err_set(&err, "expected a fault ID"), -1);
	else if (q->n_words)
		ret = (fl_err_set(&err, "unexpected '%s'", q->words[0]), -1);
	if (ret)
		pr_err("control %s: %s", q->verb, err.msg);
	return ret ? FL_EXIT_USAGE : FL_EXIT_OK;
}

static void write_request(FILE *f, const struct creq *q)
{
	struct fl_out o = { .f = f, .json = true, .compact = true };

	fl_out_open(&o, "", '{');
	fl_out_str(&o, "verb", q->verb);
	if (q->id)
		fl_out_str(&o, "id", q->id);
	if (q->n_words) {
		fl_out_open(&o, "fault", '[');
		for (int i = 0; i < q->n_words; i++)
			fl_out_str(&o, "", q->words[i]);
		fl_out_close(&o, ']');
	}
	fl_out_close(&o, '}');
	fputc('\n', f);
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		pr_err("control: %s: path too long for a socket", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		pr_err("control: cannot connect to %s: %s", path, strerror(-err));
		if (fd >= 0)
			close(fd);
		return err;
	}
	return fd;
}

/* Send the request, print the answer line; its "ok" decides the status. */
static int talk(int fd, const struct creq *q)
{
	FILE *f = fdopen(fd, "r+");
	char *line = NULL;
	size_t cap = 0;
	int ret = FL_EXIT_USAGE;

	if (!f) {
		close(fd);
		return FL_EXIT_USAGE;
	}
	write_request(f, q);
	fflush(f);
	shutdown(fd, SHUT_WR);
	if (getline(&line, &cap, f) > 0) {
		fputs(line, stdout);
		ret = strstr(line, "\"ok\":true") ? FL_EXIT_OK : FL_EXIT_FAIL;
	} else {
		pr_err("control: no answer from the socket");
	}
	free(line);
	fclose(f);
	return ret;
}

int do_control(int argc, char **argv)
{
	struct creq q = { 0 };
	int fd;

	if (fl_wants_help(argc, argv)) {
		fputs(control_usage, stdout);
		return FL_EXIT_OK;
	}
	if (parse_control(argc, argv, &q))
		return FL_EXIT_USAGE;
	if (fl_cmd_check)
		return check_control(&q);
	signal(SIGPIPE, SIG_IGN); /* a refusal closes early: read it all the same */
	if (!q.socket)
		q.socket = getenv("FALLACY_CONTROL");
	if (!q.socket || !*q.socket) {
		pr_err("control: no socket: FALLACY_CONTROL is not set (run under fallacy wrap "
		       "--control) and no --socket PATH given");
		return FL_EXIT_USAGE;
	}
	fd = connect_to(q.socket);
	return fd < 0 ? FL_EXIT_USAGE : talk(fd, &q);
}

/* ---- the server of a lab's control socket ------------------------------------ */

static void on_term(int sig)
{
	(void)sig;
}

/* Journal ourselves in the lab (lab down stops us), listen, say ok. */
static int control_start(const char *lab, uid_t uid, gid_t gid, struct fl_ctl **ctl,
			 struct fl_ctlsock **cs)
{
	struct fl_state *st = NULL;
	struct fl_target t;
	struct fl_err err;
	char dir[PATH_MAX];
	int ret;

	ret = fl_state_open(lab, &st);
	if (ret) {
		pr_err("__control %s: no such lab in %s", lab, fl_run_dir());
		return ret;
	}
	ret = fl_state_track_pid(st, getpid());
	snprintf(dir, sizeof(dir), "%s/control", fl_state_dir(st));
	fl_state_close(st);
	if (ret)
		return ret;
	if (fl_target_from_session(lab, &t, &err)) {
		pr_err("__control %s: %s", lab, err.msg);
		return -EINVAL;
	}
	ret = fl_ctl_new(&t, "lab", ctl);
	return ret ?: fl_ctlsock_open(dir, uid, gid, *ctl, cs);
}

static void say(int fd, const char *text)
{
	if (fd >= 0 && write(fd, text, strlen(text)) < 0)
		pr_debug("readiness pipe: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
}

int do_control_daemon(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_term };
	const char *rfd = getenv("FALLACY_READY_FD");
	int ready = rfd ? atoi(rfd) : -1, ret;
	struct fl_ctlsock *cs = NULL;
	struct fl_ctl *ctl = NULL;
	sigset_t block;

	if (argc != 4) {
		pr_err("usage: fallacy __control LAB UID GID");
		return FL_EXIT_USAGE;
	}
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	ret = control_start(argv[1], (uid_t)strtoul(argv[2], NULL, 10),
			    (gid_t)strtoul(argv[3], NULL, 10), &ctl, &cs);
	say(ready, ret ? "cannot start (see control.log)\n" : "ok\n");
	if (!ret)
		ret = fl_ctlsock_run(cs, -1);
	fl_ctlsock_close(cs);
	fl_ctl_free(ctl);
	return ret ? FL_EXIT_USAGE : FL_EXIT_OK;
}

/* In the grandchild: become `fallacy __control LAB UID GID`. */
static void __attribute__((noreturn)) exec_daemon(const char *lab, uid_t uid, gid_t gid, int ready)
{
	char path[PATH_MAX], u[16], g[16], fdbuf[16];
	int null = open("/dev/null", O_RDWR | O_CLOEXEC), log;

	snprintf(path, sizeof(path), "%s/%s/control.log", fl_run_dir(), lab);
	log = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
	}
	if (log >= 0)
		dup2(log, 2);
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC); /* keep no pipe of the caller's open */
	if (chdir("/"))
		_exit(127);
	ready = dup(ready); /* without O_CLOEXEC */
	snprintf(fdbuf, sizeof(fdbuf), "%d", ready);
	setenv("FALLACY_READY_FD", fdbuf, 1);
	snprintf(u, sizeof(u), "%u", (unsigned)uid);
	snprintf(g, sizeof(g), "%u", (unsigned)gid);
	execl("/proc/self/exe", "fallacy", "__control", lab, u, g, (char *)NULL);
	_exit(127);
}

int fl_control_spawn(const char *lab, uid_t uid, gid_t gid)
{
	char buf[256] = "";
	ssize_t n = 0, r;
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		setsid();
		if (fork() == 0)
			exec_daemon(lab, uid, gid, p[1]);
		_exit(0);
	}
	close(p[1]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	while (pid > 0 && n < (ssize_t)sizeof(buf) - 1 &&
	       (r = read(p[0], buf + n, sizeof(buf) - 1 - (size_t)n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		n += r;
	}
	close(p[0]);
	if (pid > 0 && !strncmp(buf, "ok", 2))
		return 0;
	pr_err("lab %s: the control socket did not start: %s(see %s/%s/control.log)", lab,
	       n > 0 ? buf : "no answer ", fl_run_dir(), lab);
	return -EIO;
}
