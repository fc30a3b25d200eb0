// SPDX-License-Identifier: MIT
/* Supervised processes in lab nodes. */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "lab/lab.h"
#include "state/state.h"

#define MAX_WORDS 64

/* Split a command without shell syntax into words; NULL if it needs sh.
 * Runs in the forked child, so the words go to static storage, not malloc. */
static char **simple_words(char *buf)
{
	static const char meta[] = "|&;<>()$`\\\"'*?[]#~\n";
	static char *v[MAX_WORDS + 1];
	size_t n = 0;

	if (strpbrk(buf, meta))
		return NULL;
	for (char *s = strtok(buf, " \t"); s && n < MAX_WORDS; s = strtok(NULL, " \t"))
		v[n++] = s;
	v[n] = NULL;
	if (!n || n == MAX_WORDS || strchr(v[0], '='))
		return NULL;
	return v;
}

static char **build_argv(const struct fl_spawn *sp, char *buf)
{
	static char *shell[4] = { "/bin/sh", "-c", NULL, NULL };
	static char *v[MAX_WORDS + 8];
	char **words = simple_words(buf);
	struct passwd *pw;
	static char uid[16], gid[16];
	size_t n = 0, u = 0;

	if (!words) {
		shell[2] = (char *)sp->cmd;
		words = shell;
	}
	if (!sp->user)
		return words;
	pw = getpwnam(sp->user);
	if (!pw) {
		fprintf(stderr, "fallacy: no user '%s' on this system\n", sp->user);
		return NULL;
	}
	snprintf(uid, sizeof(uid), "%u", pw->pw_uid);
	snprintf(gid, sizeof(gid), "%u", pw->pw_gid);
	while (words[n])
		n++;
	v[u++] = "setpriv";
	v[u++] = "--reuid";
	v[u++] = uid;
	v[u++] = "--regid";
	v[u++] = gid;
	v[u++] = "--init-groups";
	v[u++] = "--";
	memcpy(v + u, words, (n + 1) * sizeof(char *));
	return v;
}

static void child(const struct fl_spawn *sp, int go)
{
	char *buf = strdup(sp->cmd), **argv, c;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	setpgid(0, 0);
	if (sp->die_with_parent)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_DFL);
	dup2(null, 0);
	dup2(sp->out_fd >= 0 ? sp->out_fd : null, 1);
	if (sp->split_err)
		dup2(sp->err_fd >= 0 ? sp->err_fd : null, 2);
	else
		dup2(sp->out_fd >= 0 ? sp->out_fd : null, 2);
	/* wait until the parent has journaled us; EOF means it died */
	if (read(go, &c, 1) != 1)
		_exit(127);
	for (size_t i = 0; sp->env && sp->env[i]; i++)
		putenv(sp->env[i]);
	argv = buf ? build_argv(sp, buf) : NULL;
	if (!argv)
		_exit(127);
	if (sp->netns && strcmp(sp->netns, "-")) /* "-": here (a run over an inventory) */
		fl_lab_exec(sp->netns, argv);
	else
		execvp(argv[0], argv);
	fprintf(stderr, "fallacy: cannot run '%s': %s\n", argv[0], strerror(errno));
	_exit(127);
}

int fl_proc_spawn(const struct fl_spawn *sp, pid_t *out)
{
	int go[2], ret = 0;
	pid_t pid;

	if (pipe2(go, O_CLOEXEC))
		return errno ? -errno : -EIO;
	pid = fork();
	if (pid < 0) {
		ret = errno ? -errno : -EAGAIN;
		goto out;
	}
	if (pid == 0) {
		close(go[1]);
		child(sp, go[0]);
	}
	setpgid(pid, pid); /* also here, so a group kill works at once */
	if (sp->journal)
		ret = fl_state_track_pid(sp->journal, pid);
	if (ret) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		goto out;
	}
	if (write(go[1], "g", 1) != 1)
		ret = -errno;
	*out = pid;
out:
	close(go[0]);
	close(go[1]);
	return ret;
}

static int decode(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int fl_proc_wait(pid_t pid, uint64_t timeout_ns, int *status)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0), st = 0, ret = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (fd >= 0 && timeout_ns) {
		int ms = (int)((timeout_ns + 999999) / 1000000);

		while ((ret = poll(&p, 1, ms)) < 0 && errno == EINTR)
			;
		if (ret == 0) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
		}
	}
	if (fd >= 0)
		close(fd);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	*status = decode(st);
	return timeout_ns && fd >= 0 && ret == 0 ? -ETIMEDOUT : 0;
}

int fl_proc_run(const struct fl_spawn *sp, uint64_t timeout_ns, int *status)
{
	pid_t pid = -1;
	int ret = fl_proc_spawn(sp, &pid);

	return ret ?: fl_proc_wait(pid, timeout_ns, status);
}

int fl_proc_stop(pid_t pid, uint64_t grace_ns, int *status)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0), st = 0, killed = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	kill(-pid, SIGTERM);
	kill(pid, SIGTERM);
	if (fd >= 0 && poll(&p, 1, (int)(grace_ns / 1000000)) == 0) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		killed = 1;
	}
	if (fd >= 0)
		close(fd);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	/* children that left the group's leader behind */
	kill(-pid, SIGKILL);
	if (status)
		*status = decode(st);
	return killed;
}
