// SPDX-License-Identifier: MIT
/* Which sessions an agent started (agent.h): RUN_DIR/agent-sessions, one
 * line "SESSION PID STARTTIME" per session an agent put faults into, kept
 * under an flock. A killed agent's faults end with their lease, but their
 * session stays up, empty, on the host; the next agent to start ends the
 * sessions of agents that are gone once nothing is left in them. Lines of
 * live agents are never touched (several agents may serve one host). */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "state/state.h"

#define RECORDS "agent-sessions"

struct rec {
	char session[FL_SESSION_NAME_MAX];
	pid_t pid;
	unsigned long long start;
};

static int records_path(char *buf, size_t len)
{
	return snprintf(buf, len, "%s/%s", fl_run_dir(), RECORDS) >= (int)len ? -ENAMETOOLONG : 0;
}

/* The records, open for rewriting and locked until fclose. An empty file
 * is removed (write_all): one locked after its removal is opened again. */
static FILE *open_locked(void)
{
	char path[4096];
	struct stat st;
	FILE *f;
	int fd;

	if (records_path(path, sizeof(path)))
		return NULL;
	for (;;) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return NULL;
		if (flock(fd, LOCK_EX) || fstat(fd, &st)) {
			close(fd);
			return NULL;
		}
		if (st.st_nlink)
			break;
		close(fd);
	}
	f = fdopen(fd, "r+");
	if (!f)
		close(fd);
	return f;
}

static int read_all(FILE *f, struct rec **v, int *n)
{
	char line[256];
	int cap = 0;

	*v = NULL;
	*n = 0;
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		struct rec r = { .pid = 0 };
		int pid;

		if (sscanf(line, "%63s %d %llu", r.session, &pid, &r.start) != 3 || pid <= 0)
			continue; /* a torn or foreign line: dropped */
		r.pid = pid;
		if (*n == cap) {
			struct rec *nv =
				realloc(*v, (size_t)(cap = cap ? 2 * cap : 16) * sizeof(r));

			if (!nv)
				return -ENOMEM;
			*v = nv;
		}
		(*v)[(*n)++] = r;
	}
	return 0;
}

static void write_all(FILE *f, const struct rec *v, int n)
{
	char path[4096];

	if (!n && !records_path(path, sizeof(path)) && !unlink(path))
		return; /* still locked: a waiting agent sees it unlinked */
	rewind(f);
	if (ftruncate(fileno(f), 0))
		pr_warn("agent: truncating %s/%s: %s", fl_run_dir(), RECORDS, strerror(errno));
	for (int i = 0; i < n; i++)
		fprintf(f, "%s %d %llu\n", v[i].session, (int)v[i].pid, v[i].start);
	fflush(f);
}

static bool ours(const struct rec *r)
{
	return r->pid == getpid() && r->start == fl_proc_starttime(getpid());
}

void fl_agent_record(const char *session, bool add)
{
	FILE *f = open_locked();
	struct rec *v = NULL, *nv;
	int n = 0, k = 0;

	if (!f) {
		pr_warn("agent: cannot keep %s/%s (a kill -9 of this agent leaves %s to fallacy cleanup)",
			fl_run_dir(), RECORDS, session);
		return;
	}
	if (!read_all(f, &v, &n)) {
		for (int i = 0; i < n; i++) /* ours for this session go, the rest stay */
			if (strcmp(v[i].session, session) || !ours(&v[i]))
				v[k++] = v[i];
		if (add && (nv = realloc(v, (size_t)(k + 1) * sizeof(*v)))) {
			v = nv;
			v[k] = (struct rec){ .pid = getpid(),
					     .start = fl_proc_starttime(getpid()) };
			snprintf(v[k].session, sizeof(v[k].session), "%s", session);
			k++;
		}
		write_all(f, v, k);
	}
	free(v);
	fclose(f); /* and the lock */
}

/* A gone agent's session: ended when nothing is left in it. True when the
 * record can go. */
static bool recover_one(const struct rec *r)
{
	struct fl_fault_stat *v = NULL;
	char *argv[] = { "clear", NULL }, *out = NULL, *msg = NULL;
	struct fl_err err = { "" };
	struct fl_target t;
	int n = -1;

	if (fl_target_from_session(r->session, &t, &err) || t.kind == FL_TARGET_LAB)
		return true;
	if (fl_session_alive(&t) && (fl_fault_stats(&t, &v, &n) || n)) {
		free(v);
		return false; /* faults left (their lease has not run out): later */
	}
	free(v);
	pr_info("agent: ending %s, left by agent %d", r->session, (int)r->pid);
	fl_fault_request(&t, 1, argv, false, &out, &msg);
	free(out);
	free(msg);
	return true;
}

int fl_agent_recover(void)
{
	struct rec *v = NULL;
	int n = 0, k = 0, done = 0;
	FILE *f;

	if (access(fl_run_dir(), F_OK))
		return 0;
	f = open_locked();
	if (!f)
		return -errno;
	if (!read_all(f, &v, &n)) {
		for (int i = 0; i < n; i++) {
			bool gone = fl_proc_starttime(v[i].pid) != v[i].start;

			if (gone && recover_one(&v[i]))
				done++;
			else
				v[k++] = v[i];
		}
		write_all(f, v, k);
	}
	free(v);
	fclose(f);
	return done;
}

void fl_agent_records_clear(void)
{
	char path[4096];

	if (!records_path(path, sizeof(path)))
		unlink(path);
}
