// SPDX-License-Identifier: MIT
/* Inventories of Kubernetes pods (inventory.h): the pods under test and
 * the agents' pods, as `kubectl get pods -o json` lists them, mapped to
 * scenario nodes. */
#include "inventory.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "carrier.h"
#include "log.h"
#include "pods.h"
#include "yaml.h"

#define AGENT_SELECTOR "app.kubernetes.io/name=fallacy-agent"
/* What `kubectl get pods` may print at most. */
#define KUBECTL_OUT_MAX (64u << 20)

struct kpod {
	const char *name, *uid, *node, *role, *ip;
	bool used;
};

/* status.podIP: an address, or left out (a pod without one yet). */
static bool valid_ip(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return strlen(s) < 48 &&
	       (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1);
}

static const char *path_text(const struct fl_ynode *n, const char *a, const char *b)
{
	n = n ? fl_ymap_get(n, a) : NULL;
	n = n ? fl_ymap_get(n, b) : NULL;
	return n && n->type == FL_Y_SCALAR ? n->text : NULL;
}

/* A number in a name compares as a number: etcd-2 before etcd-10. */
static int natural(const char *a, const char *b)
{
	while (*a && *b) {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			char *ea, *eb;
			unsigned long long x = strtoull(a, &ea, 10), y = strtoull(b, &eb, 10);

			if (x != y)
				return x < y ? -1 : 1;
			a = ea;
			b = eb;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

static int by_name(const void *x, const void *y)
{
	return natural(((const struct kpod *)x)->name, ((const struct kpod *)y)->name);
}

/* The Running pods with a node in the List text: up to max into v. */
static int list_pods(const char *what, const char *text, const char *label, struct fl_ydoc **d,
		     struct kpod *v, int max, struct fl_err *err)
{
	const struct fl_ynode *items;
	int n = 0;

	if (fl_yaml_load(what, text, d, err))
		return -EINVAL;
	items = (*d)->root && (*d)->root->type == FL_Y_MAP ? fl_ymap_get((*d)->root, "items") :
							     NULL;
	if (!items || items->type != FL_Y_SEQ) {
		fl_err_set(err, "%s: not a list of pods (kubectl get pods -o json)", what);
		return -EINVAL;
	}
	for (size_t i = 0; i < items->n && n < max; i++) {
		const struct fl_ynode *p = items->items[i];
		const char *phase = path_text(p, "status", "phase");
		struct kpod k = { .name = path_text(p, "metadata", "name"),
				  .uid = path_text(p, "metadata", "uid"),
				  .node = path_text(p, "spec", "nodeName"),
				  .ip = path_text(p, "status", "podIP") };

		k.role = label ? path_text(fl_ymap_get(p, "metadata"), "labels", label) : NULL;
		/* a name kubectl would take for an option (or any non-name) is
		 * not a pod's: refused, never passed on */
		if (k.name && !fl_k8s_name_ok(k.name, 253)) {
			fl_err_set(err, "%s: '%.64s' is not a Kubernetes pod name", what, k.name);
			return -EINVAL;
		}
		if (k.name && k.uid && k.node && (!phase || !strcmp(phase, "Running")))
			v[n++] = k;
	}
	qsort(v, (size_t)n, sizeof(*v), by_name);
	return n;
}

static int map_pod(const struct kpod *p, const struct kpod *ag, int n_ag, const char *const *roles,
		   struct fl_inv_node *o, int k, struct fl_err *err)
{
	char uid[FL_POD_UID_LEN + 1];
	int a;

	for (a = 0; a < n_ag && strcmp(ag[a].node, p->node); a++)
		;
	if (a == n_ag) {
		fl_err_set(err,
			   "pod %s on node %s: no agent pod runs there "
			   "(kubectl get daemonset fallacy-agent -n fallacy)",
			   p->name, p->node);
		return -EINVAL;
	}
	if (fl_pod_uid_parse(p->uid, strlen(p->uid), uid)) {
		fl_err_set(err, "pod %s: its uid '%s' is not a pod UID", p->name, p->uid);
		return -EINVAL;
	}
	memset(o, 0, sizeof(*o));
	snprintf(o->node, sizeof(o->node), "n%d", k + 1);
	snprintf(o->host, sizeof(o->host), "%s", p->node);
	snprintf(o->pod, sizeof(o->pod), "%s", p->name);
	snprintf(o->agent, sizeof(o->agent), "%s", ag[a].name);
	snprintf(o->target, sizeof(o->target), "{\"pod\":\"%s\"}", uid);
	if (p->ip && valid_ip(p->ip))
		snprintf(o->address, sizeof(o->address), "%s", p->ip);
	o->via = FL_INV_KUBECTL;
	o->role = roles ? roles[k] : NULL;
	return 0;
}

/* pick[k]: the pod of node k; with role_label, a node of a role takes the
 * first pod left whose label has that value, then the others by name. */
static int pick_pods(const struct fl_inventory *inv, struct kpod *p, int n, int nodes,
		     const char *const *roles, int *pick, struct fl_err *err)
{
	const char *label = inv->k8s.role_label;
	int next = 0;

	if (label && !roles) {
		fl_err_set(err,
			   "kubernetes: role_label %s, but no target says which node has which "
			   "role (--target FILE)",
			   label);
		return -EINVAL;
	}
	for (int k = 0; k < nodes; k++) {
		pick[k] = -1;
		for (int i = 0; label && roles[k] && i < n && pick[k] < 0; i++)
			if (!p[i].used && p[i].role && !strcmp(p[i].role, roles[k]))
				pick[k] = i;
		if (label && roles[k] && pick[k] < 0) {
			fl_err_set(err,
				   "kubernetes: node n%d is a %s, and no pod is left with %s=%s",
				   k + 1, roles[k], label, roles[k]);
			return -EINVAL;
		}
		if (pick[k] >= 0)
			p[pick[k]].used = true;
	}
	for (int k = 0; k < nodes; k++) {
		while (pick[k] < 0 && next < n && p[next].used)
			next++;
		if (pick[k] < 0 && next < n) {
			pick[k] = next;
			p[next++].used = true;
		}
	}
	return 0;
}

int fl_inventory_pods(const struct fl_inventory *inv, const char *pods, const char *agents,
		      int nodes, const char *const *roles, struct fl_inv_node *out,
		      struct fl_err *err)
{
	struct kpod *p = calloc(2 * FL_INV_MAX, sizeof(*p)), *ag = p + FL_INV_MAX;
	struct fl_ydoc *dp = NULL, *da = NULL;
	int n, n_ag, ret = -EINVAL, pick[FL_INV_MAX];

	if (!p)
		return -ENOMEM;
	if (nodes < 0 || nodes > FL_INV_MAX)
		goto out;
	n = list_pods("the pods under test", pods, inv->k8s.role_label, &dp, p, FL_INV_MAX, err);
	n_ag = n < 0 ? n : list_pods("the agent pods", agents, NULL, &da, ag, FL_INV_MAX, err);
	if (n < 0 || n_ag < 0)
		goto out;
	if (!nodes)
		nodes = n;
	if (!n || n < nodes) {
		fl_err_set(
			err,
			"kubernetes: %d running pods in namespace %s with %s, the scenario has %d nodes",
			n, inv->k8s.ns, inv->k8s.selector, nodes);
		goto out;
	}
	if (pick_pods(inv, p, n, nodes, roles, pick, err))
		goto out;
	for (int k = 0; k < nodes; k++)
		if (map_pod(&p[pick[k]], ag, n_ag, roles, &out[k], k, err))
			goto out;
	ret = nodes;
out:
	fl_yaml_free(dp);
	fl_yaml_free(da);
	free(p);
	return ret;
}

/* `kubectl [--context=CTX] get pods -n NS -l SEL -o json`'s output. */
static int kubectl_get(const struct fl_inventory *inv, const char *ns, const char *sel, char **out,
		       struct fl_err *err)
{
	char ctx[300], *argv[12] = { "kubectl" }, *buf = NULL;
	int fd[2], argc = 1, st = 0;
	size_t len = 0, cap = 0;
	pid_t pid;

	if (inv->k8s.context) {
		snprintf(ctx, sizeof(ctx), "--context=%s", inv->k8s.context);
		argv[argc++] = ctx;
	}
	memcpy(&argv[argc],
	       (char *[]){ "get", "pods", "-n", (char *)ns, "-l", (char *)sel, "-o", "json", NULL },
	       9 * sizeof(char *));
	if (pipe2(fd, O_CLOEXEC))
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		dup2(fd[1], STDOUT_FILENO);
		execvp("kubectl", argv);
		fprintf(stderr, "fallacy: kubectl: %s\n", strerror(errno));
		_exit(127);
	}
	close(fd[1]);
	for (ssize_t r = 1; pid > 0 && r > 0 && len < KUBECTL_OUT_MAX;) {
		if (len + 65536 + 1 > cap) {
			char *nb = realloc(buf, cap = len + 65536 + 1);

			if (!nb)
				break;
			buf = nb;
		}
		r = read(fd[0], buf + len, cap - len - 1);
		len += r > 0 ? (size_t)r : 0;
	}
	close(fd[0]);
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (pid < 0 || !buf || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fl_err_set(err, "kubectl get pods -n %s -l %s failed (its message is above)", ns,
			   sel);
		free(buf);
		return -EIO;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

int fl_inventory_resolve(const struct fl_inventory *inv, int nodes, const char *const *roles,
			 struct fl_inv_node *out, struct fl_err *err)
{
	char *pods = NULL, *agents = NULL;
	int ret;

	if (!inv->kubernetes)
		return fl_inventory_map(inv, nodes, roles, out, err);
	ret = kubectl_get(inv, inv->k8s.ns, inv->k8s.selector, &pods, err);
	if (!ret)
		ret = kubectl_get(inv, inv->k8s.agent_ns ? inv->k8s.agent_ns : FL_KUBECTL_NAMESPACE,
				  inv->k8s.agent_selector ? inv->k8s.agent_selector :
							    AGENT_SELECTOR,
				  &agents, err);
	if (!ret)
		ret = fl_inventory_pods(inv, pods, agents, nodes, roles, out, err);
	free(pods);
	free(agents);
	return ret;
}
