// SPDX-License-Identifier: MIT
/* Carriers to `fallacy agent --stdio` (carrier.h): a child process on two
 * pipes, its command being this binary's agent or ssh to a host's. */
#include "carrier.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control.h"
#include "log.h"

static int add_arg(struct fl_carrier *c, const char *word)
{
	if (c->argc >= FL_CARRIER_MAX_ARGS)
		return -E2BIG;
	c->argv[c->argc] = strdup(word);
	if (!c->argv[c->argc])
		return -ENOMEM;
	c->argv[++c->argc] = NULL;
	return 0;
}

static struct fl_carrier *carrier_new(const struct fl_carrier_ops *ops)
{
	struct fl_carrier *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->ops = ops;
	c->pid = -1;
	c->to_fd = c->from_fd = -1;
	c->timeout_ms = FL_CARRIER_TIMEOUT_MS;
	return c;
}

static void carrier_free(struct fl_carrier *c)
{
	for (int i = 0; i < c->argc; i++)
		free(c->argv[i]);
	free(c->buf);
	free(c);
}

/* ---- a child on two pipes ----------------------------------------------------- */

static void child(struct fl_carrier *c, int in[2], int out[2])
{
	if (dup2(in[0], STDIN_FILENO) < 0 || dup2(out[1], STDOUT_FILENO) < 0)
		_exit(127);
	close_range(3, ~0U, 0);
	signal(SIGPIPE, SIG_DFL);
	execvp(c->argv[0], c->argv);
	fprintf(stderr, "fallacy: %s: cannot run %s: %s\n", c->what, c->argv[0], strerror(errno));
	_exit(127);
}

static int spawn(struct fl_carrier *c)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 };

	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC)) {
		pr_err("%s: pipe: %s", c->what, strerror(errno));
		goto fail;
	}
	fflush(NULL);
	c->pid = fork();
	if (c->pid < 0) {
		pr_err("%s: fork: %s", c->what, strerror(errno));
		goto fail;
	}
	if (c->pid == 0)
		child(c, in, out);
	close(in[0]);
	close(out[1]);
	c->to_fd = in[1];
	c->from_fd = out[0];
	signal(SIGPIPE, SIG_IGN); /* a gone agent is an -EPIPE, not our death */
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	return -EIO;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One line from the agent into *answer; -ETIMEDOUT, -EPIPE (gone). */
static int read_line(struct fl_carrier *c, char **answer)
{
	struct pollfd p = { .fd = c->from_fd, .events = POLLIN };
	char *nl;

	while (!(nl = c->len ? memchr(c->buf, '\n', c->len) : NULL)) {
		ssize_t r;
		int n = poll(&p, 1, c->timeout_ms);

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			return -ETIMEDOUT;
		if (c->len > FL_CTL_LINE_MAX * 4)
			return -EPROTO;
		r = read(c->from_fd, c->buf + c->len, FL_CTL_LINE_MAX * 4 + 2 - c->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -EPIPE;
		c->len += (size_t)r;
	}
	*answer = strndup(c->buf, (size_t)(nl - c->buf));
	if (!*answer)
		return -ENOMEM;
	c->len -= (size_t)(nl - c->buf) + 1;
	memmove(c->buf, nl + 1, c->len);
	return 0;
}

static int pipe_open(struct fl_carrier *c)
{
	c->buf = malloc(FL_CTL_LINE_MAX * 4 + 2);
	if (!c->buf)
		return -ENOMEM;
	return spawn(c);
}

static int pipe_request(struct fl_carrier *c, const char *line, char **answer)
{
	int err;

	*answer = NULL;
	if (strchr(line, '\n'))
		return -EINVAL;
	err = write_all(c->to_fd, line, strlen(line));
	if (!err)
		err = write_all(c->to_fd, "\n", 1);
	if (err)
		return err == -EPIPE ? -EPIPE : err;
	return read_line(c, answer);
}

static int pipe_close(struct fl_carrier *c)
{
	int st = 0;

	if (c->to_fd >= 0)
		close(c->to_fd);
	if (c->from_fd >= 0)
		close(c->from_fd);
	c->to_fd = c->from_fd = -1;
	if (c->pid <= 0)
		return 0;
	while (waitpid(c->pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	c->pid = -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- the two carriers ----------------------------------------------------------- */

static const struct fl_carrier_ops local_ops = {
	.name = "local",
	.open = pipe_open,
	.request = pipe_request,
	.close = pipe_close,
};

/* ssh's own failures (exit 255: no route, refused key, unknown host key)
 * come before any answer: its message on stderr says which. */
static int ssh_request(struct fl_carrier *c, const char *line, char **answer)
{
	int err = pipe_request(c, line, answer);

	if (err == -EPIPE)
		pr_err("%s: the connection ended (see ssh's message above)", c->what);
	return err;
}

static const struct fl_carrier_ops ssh_ops = {
	.name = "ssh",
	.open = pipe_open,
	.request = ssh_request,
	.close = pipe_close,
};

int fl_carrier_local(struct fl_carrier **out)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	struct fl_carrier *c = carrier_new(&local_ops);

	*out = NULL;
	if (!c)
		return -ENOMEM;
	if (n <= 0) {
		carrier_free(c);
		return -ENOENT;
	}
	self[n] = '\0';
	snprintf(c->what, sizeof(c->what), "the local agent");
	if (add_arg(c, self) || add_arg(c, "agent") || add_arg(c, "--stdio")) {
		carrier_free(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

int fl_carrier_ssh(const char *host, char *const *opts, const char *remote, struct fl_carrier **out)
{
	struct fl_carrier *c;
	int err = 0;

	*out = NULL;
	if (!host || !*host || host[0] == '-' || strpbrk(host, " \t\n")) {
		pr_err("ssh: '%s' is not a host (USER@HOST or a name of ~/.ssh/config)",
		       host ? host : "");
		return -EINVAL;
	}
	c = carrier_new(&ssh_ops);
	if (!c)
		return -ENOMEM;
	snprintf(c->what, sizeof(c->what), "ssh %s", host);
	err = add_arg(c, "ssh")	       ?:
		      add_arg(c, "-T") ?:
		      add_arg(c, "-o") ?:
					 add_arg(c, "BatchMode=yes");
	for (int i = 0; opts && opts[i] && !err; i++)
		err = add_arg(c, opts[i]);
	if (!err)
		err = add_arg(c, host) ?:
					 add_arg(c, remote ? remote : "sudo fallacy agent --stdio");
	if (err) {
		pr_err("ssh %s: too many ssh options", host);
		carrier_free(c);
		return err;
	}
	*out = c;
	return 0;
}

/* ---- kubectl exec ------------------------------------------------------------ */

static int kubectl_request(struct fl_carrier *c, const char *line, char **answer)
{
	int err = pipe_request(c, line, answer);

	if (err == -EPIPE)
		pr_err("%s: the connection ended (see kubectl's message above)", c->what);
	return err;
}

static const struct fl_carrier_ops kubectl_ops = {
	.name = "kubectl",
	.open = pipe_open,
	.request = kubectl_request,
	.close = pipe_close,
};

/* A Kubernetes object name (a DNS subdomain: lowercase letters, digits,
 * '-' and '.', beginning and ending with a letter or digit), at most max. */
bool fl_k8s_name_ok(const char *name, size_t max)
{
	size_t n = name ? strlen(name) : 0;

	if (!n || n > max || !isalnum((unsigned char)name[0]) ||
	    !isalnum((unsigned char)name[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)name[i]) && !isdigit((unsigned char)name[i]) &&
		    name[i] != '-' && name[i] != '.')
			return false;
	return true;
}

static int kubectl_args(struct fl_carrier *c, const struct fl_kubectl *k)
{
	char ctx[300], *words, *save = NULL;
	int err = add_arg(c, "kubectl");

	if (!err && k->context) {
		snprintf(ctx, sizeof(ctx), "--context=%s", k->context);
		err = add_arg(c, ctx);
	}
	if (!err)
		err = add_arg(c, "exec")				       ?:
			      add_arg(c, "-i")				       ?:
			      add_arg(c, "-n")				       ?:
			      add_arg(c, k->ns ? k->ns : FL_KUBECTL_NAMESPACE) ?:
			      add_arg(c, k->pod)			       ?:
										 add_arg(c, "--");
	words = strdup(k->remote ? k->remote : "fallacy agent --stdio");
	if (!words)
		return -ENOMEM;
	for (char *w = strtok_r(words, " \t", &save); w && !err; w = strtok_r(NULL, " \t", &save))
		err = add_arg(c, w);
	free(words);
	return err;
}

int fl_carrier_kubectl(const struct fl_kubectl *k, struct fl_carrier **out)
{
	const char *ns = k->ns ? k->ns : FL_KUBECTL_NAMESPACE;
	struct fl_carrier *c;
	int err;

	*out = NULL;
	if (!fl_k8s_name_ok(k->pod, 253)) {
		pr_err("kubectl: '%s' is not a pod name (lowercase letters, digits, '-', '.')",
		       k->pod ? k->pod : "");
		return -EINVAL;
	}
	if (!fl_k8s_name_ok(ns, 63) || strchr(ns, '.')) {
		pr_err("kubectl: '%s' is not a namespace name (lowercase letters, digits, '-')",
		       ns);
		return -EINVAL;
	}
	if (k->context && (!*k->context || k->context[0] == '-' || strpbrk(k->context, " \t\n") ||
			   strlen(k->context) > 256)) {
		pr_err("kubectl: '%s' is not a context name (kubectl config get-contexts)",
		       k->context);
		return -EINVAL;
	}
	c = carrier_new(&kubectl_ops);
	if (!c)
		return -ENOMEM;
	snprintf(c->what, sizeof(c->what), "kubectl exec -n %s %s", ns, k->pod);
	err = kubectl_args(c, k);
	if (err) {
		pr_err("%s: too many words in the agent's command", c->what);
		carrier_free(c);
		return err;
	}
	*out = c;
	return 0;
}

int fl_carrier_open(struct fl_carrier *c)
{
	return c->ops->open(c);
}

int fl_carrier_request(struct fl_carrier *c, const char *line, char **answer)
{
	return c->ops->request(c, line, answer);
}

int fl_carrier_close(struct fl_carrier *c)
{
	int ret;

	if (!c)
		return 0;
	ret = c->ops->close(c);
	carrier_free(c);
	return ret;
}

int fl_carrier_line(const char *verb, const char *json, char **out)
{
	const char *body;

	*out = NULL;
	if (!json)
		return asprintf(out, "{\"verb\":\"%s\"}", verb) < 0 ? -ENOMEM : 0;
	while (isspace((unsigned char)*json))
		json++;
	if (*json != '{' || strpbrk(json, "\n\r"))
		return -EINVAL;
	body = json + 1;
	while (isspace((unsigned char)*body))
		body++;
	if (asprintf(out, "{\"verb\":\"%s\"%s%s", verb, *body == '}' ? "" : ",", body) < 0)
		return -ENOMEM;
	return 0;
}
