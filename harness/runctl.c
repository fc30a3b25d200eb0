// SPDX-License-Identifier: MIT
/* A run answers `fallacy process LAB NODES ACTION` while it is on: a Unix
 * socket RUN_DIR/LAB/run.sock (0600: root only, like the supervisor's),
 * one request line "ACTION NODES [PROCESS]" and one answer line, "ok
 * NODES" or "error MESSAGE". The run does the work, so its process table,
 * its events and its summary see every process fault, whoever asked. */
#include "run.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "state/state.h"
#include "steps.h"

#define CTL_POLL_MS 100
#define CTL_LINE_MAX 512

struct fl_runctl {
	struct fl_run *r;
	int fd;
	pthread_t th;
	volatile sig_atomic_t stop;
	char path[108];
	uint64_t requests; /* selectors' salt: every request picks afresh */
};

static enum fl_proc_action action(const char *w)
{
	return !strcmp(w, "kill")			  ? FL_PROC_KILL :
	       !strcmp(w, "pause") || !strcmp(w, "stop")  ? FL_PROC_PAUSE :
	       !strcmp(w, "resume") || !strcmp(w, "cont") ? FL_PROC_RESUME :
	       !strcmp(w, "restart")			  ? FL_PROC_RESTART :
							    FL_PROC_HEAL;
}

/* "kill leader redis": the nodes resolved like a step's, then the action
 * on each; the answer "ok NODES" or "error MESSAGE". */
static void serve_line(struct fl_runctl *c, char *line, char *answer, size_t len)
{
	struct fl_run *r = c->r;
	struct fl_err err = { "" };
	struct fl_proc_req req;
	struct fl_sel_rng rng;
	char nodes[512] = "";
	bool unknown = false;
	fl_nodeset set = 0;
	size_t off = 0;
	int ret = 0;

	if (fl_proc_req_parse(line, &req, &err)) {
		snprintf(answer, len, "error %s\n", err.msg);
		return;
	}
	fl_sel_rng_init(&rng, r->seed, 0xc71000000ULL + c->requests++, 0);
	if (fl_sel_nodes(&r->sel, req.nodes, &rng, 0, &set, &unknown, &err) || unknown) {
		snprintf(answer, len, "error %s\n",
			 err.msg[0] ? err.msg : "unknown node, role or selector");
		return;
	}
	for (size_t i = 0; i < r->n_nodes && !ret; i++) {
		if (!(set >> i & 1))
			continue;
		ret = fl_run_proc_act(r, i, req.process, action(req.action), &err);
		off += (size_t)snprintf(nodes + off, sizeof(nodes) - off, "%s%s", off ? "," : "",
					r->nodes[i].name);
	}
	if (ret)
		snprintf(answer, len, "error %s\n", err.msg);
	else
		snprintf(answer, len, "ok %s\n", nodes);
}

static void serve(struct fl_runctl *c, int fd)
{
	char line[CTL_LINE_MAX], answer[CTL_LINE_MAX + 64];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t n = 0;
	ssize_t got;

	/* one line, within a second */
	while (n + 1 < sizeof(line) && poll(&p, 1, 1000) == 1 &&
	       (got = read(fd, line + n, sizeof(line) - n - 1)) > 0) {
		n += (size_t)got;
		line[n] = '\0';
		if (strchr(line, '\n'))
			break;
	}
	line[n] = '\0';
	if (!n)
		return;
	serve_line(c, line, answer, sizeof(answer));
	if (write(fd, answer, strlen(answer)) < 0)
		pr_debug("run control: the client left before the answer");
}

static void *ctl_thread(void *arg)
{
	struct fl_runctl *c = arg;
	struct pollfd p = { .fd = c->fd, .events = POLLIN };

	while (!c->stop) {
		int fd;

		if (poll(&p, 1, CTL_POLL_MS) != 1)
			continue;
		fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve(c, fd);
		close(fd);
	}
	return NULL;
}

int fl_runctl_start(struct fl_run *r)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct fl_runctl *c = calloc(1, sizeof(*c));
	int ret;

	if (!c)
		return -ENOMEM;
	c->r = r;
	c->fd = -1;
	if ((size_t)snprintf(c->path, sizeof(c->path), "%s/run.sock", fl_state_dir(r->st)) >=
	    sizeof(c->path)) {
		free(c);
		return -ENAMETOOLONG;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->path);
	unlink(c->path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(c->path, 0600) ||
	    listen(c->fd, 8)) {
		ret = -errno;
		goto fail;
	}
	ret = -pthread_create(&c->th, NULL, ctl_thread, c);
	if (ret)
		goto fail;
	r->ctl = c;
	return 0;
fail:
	if (c->fd >= 0)
		close(c->fd);
	unlink(c->path);
	free(c);
	return ret;
}

void fl_runctl_stop(struct fl_run *r)
{
	struct fl_runctl *c = r->ctl;

	if (!c)
		return;
	c->stop = 1;
	pthread_join(c->th, NULL);
	close(c->fd);
	unlink(c->path);
	free(c);
	r->ctl = NULL;
}
