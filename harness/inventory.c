// SPDX-License-Identifier: MIT
/* Inventories (inventory.h): parsed with positions, mapped to scenario
 * nodes, and their agents' carriers. */
#include "inventory.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pods.h"
#include "yaml.h"

#define DEFAULT_AGENT_SELECTOR "app.kubernetes.io/name=fallacy-agent"

void fl_inventory_free(struct fl_inventory *inv)
{
	if (!inv)
		return;
	for (int i = 0; i < inv->n; i++) {
		struct fl_inv_host *h = &inv->host[i];

		free(h->name);
		free(h->ssh);
		free(h->remote);
		free(h->target);
		free(h->role);
		for (int k = 0; h->opts && h->opts[k]; k++)
			if (k % 2)
				free(h->opts[k]);
		free(h->opts);
	}
	free(inv->k8s.ns);
	free(inv->k8s.selector);
	free(inv->k8s.context);
	free(inv->k8s.agent_ns);
	free(inv->k8s.agent_selector);
	free(inv->k8s.remote);
	free(inv->k8s.role_label);
	free(inv->file);
	free(inv);
}

/* A word that can never become an option or leave its argument: not
 * empty, no leading '-', no blank or control byte, at most max bytes. */
static bool word_ok(const char *s, size_t max)
{
	if (!s || !*s || *s == '-' || strlen(s) > max)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

/* Only [A-Za-z0-9._/-]: safe in JSON without escapes, and as a name. */
static bool name_ok(const char *s, size_t max)
{
	if (!s || !*s || *s == '-' || strlen(s) > max)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._/-", *s))
			return false;
	return true;
}

static int get_word(const struct fl_ydoc *d, const struct fl_ynode *m, const char *key,
		    bool required, size_t max, char **out, struct fl_err *err)
{
	const char *s = NULL;
	int ret = fl_yget_str(d, m, key, required, &s, err);

	if (ret || !s)
		return ret;
	if (!word_ok(s, max))
		return fl_yerr(err, d, fl_ymap_get(m, key),
			       "%s: '%s' is not one word (no blanks, not beginning with '-')", key,
			       s);
	return fl_ydup(out, s);
}

/* netns NAME, pid PID or pod UID: the agent's target as JSON. */
static int read_target(const struct fl_ydoc *d, const struct fl_ynode *m, struct fl_inv_host *h,
		       struct fl_err *err)
{
	const struct fl_ynode *ns = fl_ymap_get(m, "netns"), *pid = fl_ymap_get(m, "pid"),
			      *pod = fl_ymap_get(m, "pod");
	char uid[FL_POD_UID_LEN + 1], buf[320];
	uint64_t n = 0;

	if (!!ns + !!pid + !!pod != 1)
		return fl_yerr(err, d, m, "host %s: give its target, one of netns, pid or pod",
			       h->name);
	if (ns && (ns->type != FL_Y_SCALAR || !name_ok(ns->text, 200)))
		return fl_yerr(err, d, ns, "netns: a namespace name or path ([A-Za-z0-9._/-])");
	if (pid && fl_yget_u64(d, m, "pid", true, 1, 4194304, &n, err))
		return -EINVAL;
	if (pod &&
	    (pod->type != FL_Y_SCALAR || fl_pod_uid_parse(pod->text, strlen(pod->text), uid)))
		return fl_yerr(err, d, pod, "pod: a pod UID is 8-4-4-4-12 hex digits");
	if (ns)
		snprintf(buf, sizeof(buf), "{\"netns\":\"%s\"}", ns->text);
	else if (pid)
		snprintf(buf, sizeof(buf), "{\"pid\":%llu}", (unsigned long long)n);
	else
		snprintf(buf, sizeof(buf), "{\"pod\":\"%s\"}", uid);
	return fl_ydup(&h->target, buf);
}

static int read_opts(const struct fl_ydoc *d, const struct fl_ynode *m, struct fl_inv_host *h,
		     struct fl_err *err)
{
	char **v = NULL;
	size_t n = 0;
	int ret = fl_yget_strv(d, m, "ssh_options", &v, &n, err);

	if (!v)
		return ret;
	h->opts = ret ? NULL : calloc(2 * n + 1, sizeof(*h->opts));
	for (size_t i = 0; h->opts && i < n; i++) {
		if (strpbrk(v[i], "\n\r") || !*v[i]) {
			ret = fl_yerr(err, d, fl_ymap_get(m, "ssh_options"),
				      "ssh_options: '%s' is not an ssh option (Port=2222)", v[i]);
			break;
		}
		h->opts[2 * i] = "-o";
		h->opts[2 * i + 1] = v[i];
		v[i] = NULL;
	}
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return ret ?: h->opts ? 0 : -ENOMEM;
}

static int read_node(const struct fl_ydoc *d, const struct fl_ynode *m, struct fl_inv_host *h,
		     struct fl_err *err)
{
	const struct fl_ynode *n = fl_ymap_get(m, "node");
	int k = 0, end = 0;

	if (!n)
		return 0;
	if (n->type != FL_Y_SCALAR || sscanf(n->text, "n%d%n", &k, &end) != 1 || n->text[end] ||
	    k < 1 || k > FL_INV_MAX)
		return fl_yerr(err, d, n, "node: a scenario node, n1 to n%d", FL_INV_MAX);
	h->node = k;
	return 0;
}

/* An IPv4 or IPv6 address, as inet_pton reads it (no name: the run's
 * fault words are made of it). */
static int read_address(const struct fl_ydoc *d, const struct fl_ynode *m, struct fl_inv_host *h,
			struct fl_err *err)
{
	const struct fl_ynode *a = fl_ymap_get(m, "address");
	unsigned char buf[sizeof(struct in6_addr)];

	if (!a)
		return 0;
	if (a->type != FL_Y_SCALAR || strlen(a->text) >= sizeof(h->address) ||
	    (inet_pton(AF_INET, a->text, buf) != 1 && inet_pton(AF_INET6, a->text, buf) != 1))
		return fl_yerr(err, d, a, "address: an IPv4 or IPv6 address (198.18.0.2)");
	snprintf(h->address, sizeof(h->address), "%s", a->text);
	return 0;
}

static int read_host(const struct fl_ydoc *d, const struct fl_ynode *m, struct fl_inv_host *h,
		     struct fl_err *err)
{
	static const char *const keys[] = { "name",   "ssh",   "local",	  "ssh_options",
					    "remote", "netns", "pid",	  "pod",
					    "node",   "role",  "address", NULL };
	const struct fl_ynode *local;
	const char *remote = NULL;

	h->line = m->line;
	if (fl_yexpect(d, m, FL_Y_MAP, "a host", err) || fl_ycheck_keys(d, m, "a host", keys, err))
		return -EINVAL;
	if (get_word(d, m, "name", true, 63, &h->name, err) ||
	    get_word(d, m, "ssh", false, 255, &h->ssh, err) ||
	    get_word(d, m, "role", false, 16, &h->role, err))
		return -EINVAL;
	if (h->role && fl_ymap_get(m, "node"))
		return fl_yerr(err, d, fl_ymap_get(m, "role"), "host %s: node or role, not both",
			       h->name);
	if (!name_ok(h->name, 63))
		return fl_yerr(err, d, fl_ymap_get(m, "name"),
			       "name: letters, digits, '.', '_', '-'");
	local = fl_ymap_get(m, "local");
	if (local && (local->type != FL_Y_SCALAR || strcmp(local->text, "true")))
		return fl_yerr(err, d, local, "local: true, or leave it out");
	if (!local == !h->ssh)
		return fl_yerr(err, d, m, "host %s: give one of ssh: USER@HOST or local: true",
			       h->name);
	h->via = h->ssh ? FL_INV_SSH : FL_INV_LOCAL;
	if (fl_yget_str(d, m, "remote", false, &remote, err) || fl_ydup(&h->remote, remote))
		return -EINVAL;
	if (local && (h->remote || fl_ymap_get(m, "ssh_options")))
		return fl_yerr(err, d, m, "host %s: remote and ssh_options are for ssh", h->name);
	return read_opts(d, m, h, err)		 ?:
		       read_target(d, m, h, err) ?:
		       read_node(d, m, h, err)	 ?:
						   read_address(d, m, h, err);
}

static int read_hosts(const struct fl_ydoc *d, const struct fl_ynode *s, struct fl_inventory *inv,
		      struct fl_err *err)
{
	if (fl_yexpect(d, s, FL_Y_SEQ, "hosts", err))
		return -EINVAL;
	if (!s->n || s->n > FL_INV_MAX)
		return fl_yerr(err, d, s, "hosts: 1 to %d hosts", FL_INV_MAX);
	for (size_t i = 0; i < s->n; i++) {
		if (read_host(d, s->items[i], &inv->host[i], err)) {
			inv->n = (int)i + 1;
			return -EINVAL;
		}
		inv->n = (int)i + 1;
		for (size_t k = 0; k < i; k++)
			if (!strcmp(inv->host[k].name, inv->host[i].name))
				return fl_yerr(err, d, s->items[i], "host %s: named twice",
					       inv->host[i].name);
	}
	return 0;
}

static int read_k8s(const struct fl_ydoc *d, const struct fl_ynode *m, struct fl_inventory *inv,
		    struct fl_err *err)
{
	static const char *const keys[] = { "namespace",      "selector", "context",	"agents",
					    "agent_selector", "remote",	  "role_label", NULL };
	const char *remote = NULL;

	inv->kubernetes = true;
	if (fl_yexpect(d, m, FL_Y_MAP, "kubernetes", err) ||
	    fl_ycheck_keys(d, m, "kubernetes", keys, err) ||
	    get_word(d, m, "namespace", true, 63, &inv->k8s.ns, err) ||
	    get_word(d, m, "selector", true, 1024, &inv->k8s.selector, err) ||
	    get_word(d, m, "context", false, 256, &inv->k8s.context, err) ||
	    get_word(d, m, "agents", false, 63, &inv->k8s.agent_ns, err) ||
	    get_word(d, m, "agent_selector", false, 1024, &inv->k8s.agent_selector, err) ||
	    get_word(d, m, "role_label", false, 317, &inv->k8s.role_label, err) ||
	    fl_yget_str(d, m, "remote", false, &remote, err) || fl_ydup(&inv->k8s.remote, remote))
		return -EINVAL;
	if (!fl_k8s_name_ok(inv->k8s.ns, 63) || strchr(inv->k8s.ns, '.'))
		return fl_yerr(err, d, fl_ymap_get(m, "namespace"),
			       "namespace: a Kubernetes namespace name");
	if (inv->k8s.agent_ns &&
	    (!fl_k8s_name_ok(inv->k8s.agent_ns, 63) || strchr(inv->k8s.agent_ns, '.')))
		return fl_yerr(err, d, fl_ymap_get(m, "agents"),
			       "agents: the agents' namespace name (default fallacy)");
	return 0;
}

int fl_inventory_load(const char *file, const char *text, struct fl_inventory **out,
		      struct fl_err *err)
{
	static const char *const keys[] = { "hosts", "kubernetes", NULL };
	struct fl_inventory *inv = calloc(1, sizeof(*inv));
	const struct fl_ynode *hosts, *k8s;
	struct fl_ydoc *d = NULL;
	int ret;

	*out = NULL;
	if (!inv || fl_ydup(&inv->file, file)) {
		free(inv);
		return -ENOMEM;
	}
	ret = fl_yaml_load(file, text, &d, err);
	if (ret)
		goto out;
	ret = -EINVAL;
	if (!d->root) {
		fl_err_set(err, "%s: empty: give hosts: or kubernetes:", file);
		goto out;
	}
	if (fl_yexpect(d, d->root, FL_Y_MAP, "an inventory", err) ||
	    fl_ycheck_keys(d, d->root, "an inventory", keys, err))
		goto out;
	hosts = fl_ymap_get(d->root, "hosts");
	k8s = fl_ymap_get(d->root, "kubernetes");
	if (!hosts == !k8s) {
		fl_yerr(err, d, d->root, "an inventory has hosts: or kubernetes:, one of them");
		goto out;
	}
	ret = hosts ? read_hosts(d, hosts, inv, err) : read_k8s(d, k8s, inv, err);
out:
	fl_yaml_free(d);
	if (ret)
		fl_inventory_free(inv);
	else
		*out = inv;
	return ret;
}

/* `node: nK` pins into at[]. */
static int map_pinned(const struct fl_inventory *inv, int nodes, const struct fl_inv_host **at,
		      struct fl_err *err)
{
	for (int i = 0; i < inv->n; i++) {
		const struct fl_inv_host *h = &inv->host[i];

		if (!h->node)
			continue;
		if (h->node > nodes) {
			fl_err_set(err, "%s:%d: host %s: node n%d, but the scenario has %d nodes",
				   inv->file, h->line, h->name, h->node, nodes);
			return -EINVAL;
		}
		if (at[h->node - 1]) {
			fl_err_set(err, "%s:%d: host %s: node n%d is host %s already", inv->file,
				   h->line, h->name, h->node, at[h->node - 1]->name);
			return -EINVAL;
		}
		at[h->node - 1] = h;
	}
	return 0;
}

/* `role: R` to the first free node of role R. */
static int map_roles(const struct fl_inventory *inv, int nodes, const char *const *roles,
		     const struct fl_inv_host **at, struct fl_err *err)
{
	for (int i = 0; i < inv->n; i++) {
		const struct fl_inv_host *h = &inv->host[i];
		int k;

		if (!h->role)
			continue;
		if (!roles) {
			fl_err_set(err,
				   "%s:%d: host %s: role %s, but no target says which node has "
				   "which role (--target FILE)",
				   inv->file, h->line, h->name, h->role);
			return -EINVAL;
		}
		for (k = 0; k < nodes && (at[k] || !roles[k] || strcmp(roles[k], h->role)); k++)
			;
		if (k == nodes) {
			fl_err_set(err, "%s:%d: host %s: no node of role %s is left for it",
				   inv->file, h->line, h->name, h->role);
			return -EINVAL;
		}
		at[k] = h;
	}
	return 0;
}

int fl_inventory_map(const struct fl_inventory *inv, int nodes, const char *const *roles,
		     struct fl_inv_node *out, struct fl_err *err)
{
	const struct fl_inv_host *at[FL_INV_MAX] = { NULL };
	int next = 0;

	if (inv->kubernetes || nodes < 0 || nodes > FL_INV_MAX)
		return -EINVAL;
	if (!nodes)
		nodes = inv->n;
	if (map_pinned(inv, nodes, at, err) || map_roles(inv, nodes, roles, at, err))
		return -EINVAL;
	for (int i = 0; i < inv->n; i++) {
		const struct fl_inv_host *h = &inv->host[i];

		while (!h->node && !h->role && next < nodes && at[next])
			next++;
		if (!h->node && !h->role && next < nodes)
			at[next++] = h;
	}
	for (int k = 0; k < nodes; k++) {
		struct fl_inv_node *n = &out[k];

		if (!at[k]) {
			fl_err_set(
				err,
				"%s: no host for node n%d: the scenario has %d nodes, the inventory %d hosts",
				inv->file, k + 1, nodes, inv->n);
			return -EINVAL;
		}
		memset(n, 0, sizeof(*n));
		snprintf(n->node, sizeof(n->node), "n%d", k + 1);
		snprintf(n->host, sizeof(n->host), "%s", at[k]->name);
		snprintf(n->target, sizeof(n->target), "%s", at[k]->target);
		snprintf(n->address, sizeof(n->address), "%s", at[k]->address);
		n->via = at[k]->via;
		n->h = at[k];
		n->role = roles ? roles[k] : NULL;
	}
	return nodes;
}

int fl_inventory_carrier(const struct fl_inventory *inv, const struct fl_inv_node *n,
			 struct fl_carrier **out)
{
	struct fl_kubectl k = { .pod = n->agent };

	switch (n->via) {
	case FL_INV_LOCAL:
		return fl_carrier_local(out);
	case FL_INV_SSH:
		return fl_carrier_ssh(n->h->ssh, n->h->opts, n->h->remote, out);
	case FL_INV_KUBECTL:
		k.ns = inv->k8s.agent_ns;
		k.context = inv->k8s.context;
		k.remote = inv->k8s.remote;
		return fl_carrier_kubectl(&k, out);
	}
	return -EINVAL;
}
