// SPDX-License-Identifier: MIT
/* The agent's captures (docs/agent.md): `fallacy capture --netns|--pid T
 * --iface IF -w FILE --duration D -j` in a child of the agent, stopped
 * by SIGINT (or its own --duration); the pcap stays on the host, in a
 * folder of root's, and the stop answer carries the capture's summary;
 * fetch answers a piece of the file in base64, for a controller that
 * writes it where it wants (fallacy run --inventory --capture). */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "b64.h"
#include "clock.h"
#include "json.h"
#include "log.h"

/* How long start waits for the capture to be live (a loaded host can take
 * seconds to exec and load it). */
#define CAPTURE_READY_NS (30 * FL_NSEC_PER_SEC)

static void child(const struct fl_agent *a, char **argv, int out[2])
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(out[1], STDOUT_FILENO) < 0)
		_exit(127);
	close_range(3, ~0U, 0);
	execv(a->self, argv);
	fprintf(stderr, "fallacy: agent: cannot run %s: %s\n", a->self, strerror(errno));
	_exit(127);
}

static int spawn(struct fl_agent *a, const struct fl_ctl *tc, const struct fl_ctl_capture *q,
		 struct fl_agent_capture *k)
{
	char dur[32], pid[16], *argv[16];
	int n = 0, out[2];

	snprintf(dur, sizeof(dur), "%lluns", (unsigned long long)q->duration_ns);
	argv[n++] = (char *)a->self;
	argv[n++] = "-q";
	argv[n++] = "capture";
	if (tc->target.kind == FL_TARGET_PID) {
		snprintf(pid, sizeof(pid), "%d", (int)tc->target.pid);
		argv[n++] = "--pid";
		argv[n++] = pid;
	} else {
		argv[n++] = "--netns";
		argv[n++] = (char *)tc->target.netns;
	}
	argv[n++] = "--iface";
	argv[n++] = (char *)q->iface;
	if (q->filter) {
		argv[n++] = "--filter";
		argv[n++] = (char *)q->filter;
	}
	argv[n++] = "-w";
	argv[n++] = k->file;
	argv[n++] = "--duration";
	argv[n++] = dur;
	argv[n++] = "-j";
	argv[n] = NULL;
	if (pipe2(out, O_CLOEXEC))
		return -errno;
	fflush(NULL);
	k->pid = fork();
	if (k->pid == 0)
		child(a, argv, out);
	close(out[1]);
	if (k->pid < 0) {
		close(out[0]);
		return -errno;
	}
	k->out_fd = out[0];
	return 0;
}

/* Answer start only once the capture is live: `fallacy capture` opens and
 * activates every point before it creates its file, so from the file's
 * existence on, what the interface carries is in the capture. Before
 * this, start answered at the fork, and on a busy host the first seconds
 * of a controller's run (the cut of a partition) were missing. */
static int wait_live(struct fl_agent_capture *k, struct fl_err *err)
{
	uint64_t deadline = fl_clock_mono_ns() + CAPTURE_READY_NS;
	int st = 0;

	while (access(k->file, F_OK)) {
		if (waitpid(k->pid, &st, WNOHANG) == k->pid) {
			close(k->out_fd);
			if (WIFEXITED(st))
				fl_err_set(err,
					   "fallacy capture exited (status %d) before it captured",
					   WEXITSTATUS(st));
			else
				fl_err_set(err,
					   "fallacy capture ended (signal %d) before it captured",
					   WTERMSIG(st));
			return -EIO;
		}
		if (fl_clock_mono_ns() > deadline) {
			kill(k->pid, SIGKILL);
			waitpid(k->pid, &st, 0);
			close(k->out_fd);
			fl_err_set(err, "fallacy capture did not start within %llu s",
				   (unsigned long long)(CAPTURE_READY_NS / FL_NSEC_PER_SEC));
			return -ETIMEDOUT;
		}
		usleep(5000);
	}
	return 0;
}

static int start(struct fl_agent *a, const struct fl_ctl *tc, const struct fl_ctl_capture *q,
		 struct fl_out *o, struct fl_err *err)
{
	struct fl_agent_capture *k = &a->cap[a->n_cap];
	int ret;

	if (a->n_cap == FL_AGENT_MAX_CAPTURES) {
		fl_err_set(err, "%d captures running already (stop some)", FL_AGENT_MAX_CAPTURES);
		return -ENOSPC;
	}
	if (mkdir(a->capture_dir, 0700) && errno != EEXIST) {
		fl_err_set(err, "making %s: %s", a->capture_dir, strerror(errno));
		return -errno;
	}
	char id[16];

	snprintf(id, sizeof(id), "c%u", ++a->next_cap);
	memset(k, 0, sizeof(*k));
	snprintf(k->id, sizeof(k->id), "%s", id);
	snprintf(k->session, sizeof(k->session), "%s", tc->target.session);
	snprintf(k->file, sizeof(k->file), "%s/%d-%s.pcap", a->capture_dir, (int)getpid(), id);
	unlink(k->file); /* an earlier agent's with this pid: not ours */
	ret = spawn(a, tc, q, k);
	if (ret) {
		fl_err_set(err, "starting fallacy capture: %s", strerror(-ret));
		return ret;
	}
	ret = wait_live(k, err);
	if (ret)
		return ret;
	a->n_cap++;
	fl_out_str(o, "id", k->id);
	fl_out_str(o, "file", k->file);
	fl_out_dur(o, "duration", q->duration_ns);
	return 0;
}

/* SIGINT, then its summary (one JSON line, up to 10 s) and its end (a
 * capture that says nothing in 10 s is killed). */
static char *finish(struct fl_agent_capture *k)
{
	struct pollfd p = { .fd = k->out_fd, .events = POLLIN };
	char *buf = calloc(1, 65536);
	size_t len = 0;
	int st;

	kill(k->pid, SIGINT);
	while (buf && len < 65535 && poll(&p, 1, 10000) > 0) {
		ssize_t r = read(k->out_fd, buf + len, 65535 - len);

		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(k->out_fd);
	for (int i = 0; i < 100 && waitpid(k->pid, &st, WNOHANG) == 0; i++)
		usleep(100000);
	if (waitpid(k->pid, &st, WNOHANG) == 0) {
		kill(k->pid, SIGKILL);
		waitpid(k->pid, &st, 0);
	}
	while (buf && len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	return buf;
}

static int stop(struct fl_agent *a, const struct fl_ctl *tc, const char *id, struct fl_out *o,
		struct fl_err *err)
{
	for (int i = 0; i < a->n_cap; i++) {
		struct fl_agent_capture *k = &a->cap[i];
		char *sum;

		if (strcmp(k->id, id) || strcmp(k->session, tc->target.session))
			continue;
		sum = finish(k);
		fl_out_str(o, "id", k->id);
		fl_out_str(o, "file", k->file);
		fl_out_raw(o, "summary", sum && *sum == '{' ? sum : "null");
		free(sum);
		a->cap[i] = a->cap[--a->n_cap];
		return 0;
	}
	fl_err_set(err, "no capture '%s' on %s (start gives the id)", id, tc->target.session);
	return -ENOENT;
}

/* Up to FETCH_MAX bytes of this agent's capture id from offset, in
 * base64 (an answer line stays under the 64 KiB a line may have), with
 * the file's size so far and whether the capture still runs. */
#define FETCH_MAX 32768

static int fetch(struct fl_agent *a, const struct fl_ctl_capture *q, struct fl_out *o,
		 struct fl_err *err)
{
	static uint8_t buf[FETCH_MAX];
	static char text[FL_B64_LEN(FETCH_MAX) + 1];
	char file[sizeof(a->cap[0].file)];
	bool running = false;
	unsigned int n = 0;
	int end = 0, fd;
	struct stat st;
	ssize_t got;

	if (sscanf(q->id, "c%u%n", &n, &end) != 1 || q->id[end] || !n) {
		fl_err_set(err, "no capture '%.40s' (start gives the id)", q->id);
		return -ENOENT;
	}
	for (int i = 0; i < a->n_cap; i++)
		running |= !strcmp(a->cap[i].id, q->id);
	snprintf(file, sizeof(file), "%s/%d-%s.pcap", a->capture_dir, (int)getpid(), q->id);
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st)) {
		fl_err_set(err, "capture %s: %s: %s", q->id, file, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -ENOENT;
	}
	got = q->offset < (uint64_t)st.st_size ? pread(fd, buf, FETCH_MAX, (off_t)q->offset) : 0;
	close(fd);
	if (got < 0) {
		fl_err_set(err, "capture %s: reading %s: %s", q->id, file, strerror(errno));
		return -EIO;
	}
	fl_b64_encode(buf, (size_t)got, text);
	fl_out_str(o, "id", q->id);
	fl_out_str(o, "file", file);
	fl_out_u64(o, "offset", q->offset);
	fl_out_u64(o, "size", (uint64_t)st.st_size);
	fl_out_bool(o, "running", running);
	fl_out_str(o, "data", text);
	return 0;
}

int fl_agent_capture(struct fl_ctl *c, struct fl_ctl *tc, const struct fl_ctl_capture *q,
		     struct fl_out *o, struct fl_err *err)
{
	struct fl_agent *a = c->arg;

	if (q->fetch)
		return fetch(a, q, o, err);
	return q->start ? start(a, tc, q, o, err) : stop(a, tc, q->id, o, err);
}

void fl_agent_captures_stop(struct fl_agent *a)
{
	while (a->n_cap)
		free(finish(&a->cap[--a->n_cap]));
}
