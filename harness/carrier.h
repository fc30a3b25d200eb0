/* SPDX-License-Identifier: MIT */
/* How a controller reaches `fallacy agent --stdio` on a host (docs/agent.md):
 * a carrier opens the agent, carries one request line and brings its
 * answer line back, and closes. Whatever carries the bytes authenticates
 * the controller (a local pipe: the caller's own privileges; ssh: the
 * host's sshd and keys), so the agent itself never opens a port.
 *
 *	struct fl_carrier *c;
 *	fl_carrier_ssh("root@h1", NULL, NULL, &c);   // or fl_carrier_local(&c)
 *	fl_carrier_open(c);
 *	fl_carrier_request(c, "{\"verb\":\"targets\"}", &answer);
 *	fl_carrier_close(c);                          // the agent's exit status
 *
 * Implementations: "local" (this binary's own `agent --stdio`, on pipes),
 * "ssh" (`ssh -T HOST sudo fallacy agent --stdio`, OpenSSH) and "kubectl"
 * (`kubectl exec -i -n fallacy POD -- fallacy agent --stdio`, an agent
 * pod of the DaemonSet in deploy/kubernetes/). */
#ifndef FALLACY_CARRIER_H
#define FALLACY_CARRIER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Arguments of the command a carrier runs, options included. */
#define FL_CARRIER_MAX_ARGS 64
/* How long a request waits for its answer by default. */
#define FL_CARRIER_TIMEOUT_MS 60000

struct fl_carrier;

struct fl_carrier_ops {
	const char *name; /* "local", "ssh" */
	/* Start the agent; 0 or -errno after a message. */
	int (*open)(struct fl_carrier *c);
	/* One request line out (no newline in it), one answer line back
	 * (malloc'ed, without its newline). 0, -ETIMEDOUT, or -EPIPE when the
	 * agent (or the connection) is gone. */
	int (*request)(struct fl_carrier *c, const char *line, char **answer);
	/* End of input for the agent; wait for it to exit. Its exit status,
	 * or -errno. */
	int (*close)(struct fl_carrier *c);
};

struct fl_carrier {
	const struct fl_carrier_ops *ops;
	char *argv[FL_CARRIER_MAX_ARGS + 1]; /* the command, malloc'ed words */
	int argc;
	char what[256]; /* for messages: "the local agent", "ssh root@h1" */
	pid_t pid;
	int to_fd, from_fd; /* the agent's stdin, stdout */
	char *buf; /* answer bytes read ahead */
	size_t len;
	int timeout_ms;
};

/* This program's own agent: `/proc/self/exe agent --stdio`. */
int fl_carrier_local(struct fl_carrier **out);
/* `ssh -T -o BatchMode=yes [OPTS...] HOST REMOTE`: opts are more ssh
 * arguments (NULL-terminated, may be NULL: "-i", "KEY", "-p", "2222"...),
 * remote the command on the host (NULL: "sudo fallacy agent --stdio"). */
int fl_carrier_ssh(const char *host, char *const *opts, const char *remote,
		   struct fl_carrier **out);

/* The namespace of the agent's DaemonSet (deploy/kubernetes/). */
#define FL_KUBECTL_NAMESPACE "fallacy"

/* An agent pod, reached with `kubectl [--context=CTX] exec -i -n NS POD --
 * REMOTE...`: the API server's authentication and RBAC (pods/exec on the
 * agent's pods) decide who may. */
struct fl_kubectl {
	const char *pod; /* the agent pod on the node */
	const char *ns; /* NULL: FL_KUBECTL_NAMESPACE */
	const char *context; /* NULL: kubectl's current context */
	const char *remote; /* the command's words, split on blanks; NULL:
			     * "fallacy agent --stdio" */
};

int fl_carrier_kubectl(const struct fl_kubectl *k, struct fl_carrier **out);
/* A Kubernetes object name: [a-z0-9.-], alphanumeric at both ends, at
 * most max bytes. */
bool fl_k8s_name_ok(const char *name, size_t max);

int fl_carrier_open(struct fl_carrier *c);
int fl_carrier_request(struct fl_carrier *c, const char *line, char **answer);
/* Close (if open) and free. The agent's exit status, or -errno. */
int fl_carrier_close(struct fl_carrier *c);

/* The request line {"verb":"VERB", ...the members of json}: json is one
 * object on one line, or NULL. -EINVAL when it is not an object (the
 * agent judges the rest). */
int fl_carrier_line(const char *verb, const char *json, char **out);

#endif
