// SPDX-License-Identifier: MIT
/* Run a program to completion: see spawn.h. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "netns.h"

static void __attribute__((noreturn))
child(const struct fl_spawn_cmd *c, int in, int out, pid_t parent)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC), fd;

	/* a helper never outlives the process that ran it: killed, that one
	 * leaves its journal and change records for whoever cleans up, and a
	 * helper finishing later (an iptables rule inserted after the cleanup)
	 * would undo that */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(126);
	if (c->netns && strcmp(c->netns, "-")) {
		fd = fl_netns_open_spec(c->netns);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
			_exit(FL_SPAWN_NO_NETNS);
	}
	dup2(in >= 0 ? in : null, 0);
	dup2(out >= 0 ? out : null, 1);
	dup2(out >= 0 ? out : null, 2);
	execvp(c->argv[0], c->argv);
	dprintf(2, "cannot run %s: %s\n", c->argv[0], strerror(errno));
	_exit(127);
}

/* Read the child's output into c->out until EOF. */
static void collect(const struct fl_spawn_cmd *c, int fd)
{
	char sink[512];
	size_t got = 0;
	ssize_t n;

	for (;;) {
		if (c->out && got + 1 < c->out_len)
			n = read(fd, c->out + got, c->out_len - 1 - got);
		else
			n = read(fd, sink, sizeof(sink));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (c->out && got + 1 < c->out_len)
			got += (size_t)n;
	}
	if (!c->out || !c->out_len)
		return;
	while (got && c->out[got - 1] == '\n')
		got--;
	c->out[got] = '\0';
}

int fl_spawn_wait(const struct fl_spawn_cmd *c)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, status = 0, err = 0;
	pid_t pid, parent;

	if (c->out && c->out_len)
		c->out[0] = '\0';
	if ((c->input && pipe2(in, O_CLOEXEC)) || pipe2(out, O_CLOEXEC)) {
		err = -errno;
		goto out;
	}
	fflush(NULL);
	parent = getpid();
	pid = fork();
	if (pid < 0) {
		err = -errno;
		goto out;
	}
	if (pid == 0)
		child(c, in[0], out[1], parent);
	close(out[1]);
	out[1] = -1;
	if (c->input) {
		close(in[0]);
		in[0] = -1;
		if (write(in[1], c->input, strlen(c->input)) < 0)
			pr_debug("writing to %s: %s", c->argv[0], strerror(errno));
		close(in[1]);
		in[1] = -1;
	}
	collect(c, out[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			err = -errno;
			goto out;
		}
	err = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	return err;
}
