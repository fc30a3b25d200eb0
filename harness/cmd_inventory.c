// SPDX-License-Identifier: MIT
/* fallacy agent inventory FILE [--nodes N] [--check] [-j]: where an
 * inventory puts a scenario's nodes (docs/kubernetes.md), and with --check
 * whether each node's agent answers and sees its target. */
#include "cmd.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "agents.h"
#include "carrier.h"
#include "find.h"
#include "inventory.h"
#include "json.h"
#include "log.h"
#include "parse.h"
#include "supervisor/session.h"
#include "target.h"
#include "yaml.h"

/* --put NODE FAULT given at most */
#define MAX_PUTS 128

struct inv_args {
	const char *file, *target;
	int nodes;
	bool check, json, hold;
	const char *put_node[MAX_PUTS];
	char *put_fault[MAX_PUTS];
	int n_put;
	uint64_t lease_ns;
};

static int parse(int argc, char **argv, struct inv_args *a)
{
	struct fl_err e = { "" };
	uint64_t n;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--check")) {
			a->check = true;
		} else if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			a->json = true;
		} else if (!strcmp(argv[i], "--target") && i + 1 < argc) {
			a->target = argv[++i];
		} else if (!strcmp(argv[i], "--hold")) {
			a->hold = true;
		} else if (!strcmp(argv[i], "--put") && i + 2 < argc && a->n_put < MAX_PUTS) {
			a->put_node[a->n_put] = argv[++i];
			a->put_fault[a->n_put++] = argv[++i];
		} else if (!strcmp(argv[i], "--lease") && i + 1 < argc) {
			if (fl_lease_parse(argv[++i], &a->lease_ns, &e) || !a->lease_ns) {
				pr_err("agent inventory: --lease: %s",
				       e.msg[0] ? e.msg : "1s to 24h: a put always has one");
				return -EINVAL;
			}
		} else if (!strcmp(argv[i], "--nodes") && i + 1 < argc) {
			if (fl_parse_u64(argv[++i], 1, FL_INV_MAX, &n, &e)) {
				pr_err("agent inventory: --nodes: %s", e.msg);
				return -EINVAL;
			}
			a->nodes = (int)n;
		} else if (argv[i][0] != '-' && !a->file) {
			a->file = argv[i];
		} else {
			pr_err("agent inventory: unexpected '%s' (FILE [--nodes N] [--check] [-j])",
			       argv[i]);
			return -EINVAL;
		}
	}
	if (!a->file) {
		pr_err("agent inventory: which FILE? (fallacy agent inventory FILE)");
		return -EINVAL;
	}
	if ((a->hold || a->lease_ns) && !a->n_put) {
		pr_err("agent inventory: --hold and --lease are for --put NODE FAULT");
		return -EINVAL;
	}
	if (a->n_put && a->check) {
		pr_err("agent inventory: --check or --put, not both");
		return -EINVAL;
	}
	if (!a->lease_ns)
		a->lease_ns = FL_LEASE_DEFAULT_NS;
	return 0;
}

/* Does the targets answer ans list the node's target (a pod: not refused)? */
static bool sees(const struct fl_inv_node *n, const char *ans)
{
	const struct fl_ynode *t, *want, *ts;
	struct fl_ydoc *d = NULL, *w = NULL;
	struct fl_err e = { "" };
	bool found = false;

	if (fl_yaml_load("answer", ans, &d, &e) || !d->root ||
	    fl_yaml_load("target", n->target, &w, &e) || !w->root || w->root->type != FL_Y_MAP ||
	    !w->root->n || !w->root->keys[0]->text)
		goto out;
	want = w->root;
	ts = fl_ymap_get(d->root, "targets");
	if (!strcmp(want->keys[0]->text, "pid")) { /* listed by their lowest pid only */
		found = true;
		goto out;
	}
	for (size_t i = 0; ts && ts->type == FL_Y_SEQ && i < ts->n && !found; i++) {
		t = fl_ymap_get(ts->items[i], want->keys[0]->text);
		found = t && t->text && !strcmp(t->text, want->items[0]->text) &&
			!fl_ymap_get(ts->items[i], "refused");
		t = fl_ymap_get(ts->items[i], "path");
		found |= t && t->text && !strcmp(t->text, want->items[0]->text);
	}
out:
	fl_yaml_free(d);
	fl_yaml_free(w);
	return found;
}

/* Open node n's agent, ask for its targets: "" when it sees n's target,
 * else why not (into why). */
static void check_node(const struct fl_inventory *inv, const struct fl_inv_node *n, char *why,
		       size_t len)
{
	struct fl_carrier *c = NULL;
	char *ans = NULL;
	int err = fl_inventory_carrier(inv, n, &c);

	why[0] = '\0';
	if (!err)
		err = fl_carrier_open(c);
	if (!err)
		err = fl_carrier_request(c, "{\"verb\":\"targets\"}", &ans);
	if (err)
		snprintf(why, len, "its agent did not answer (%s)", strerror(-err));
	else if (strncmp(ans, "{\"ok\":true", 10))
		snprintf(why, len, "its agent refused targets: %.200s", ans);
	else if (!sees(n, ans))
		snprintf(why, len, "its agent does not see %s there", n->target);
	free(ans);
	if (c)
		fl_carrier_close(c);
}

static void put_node(struct fl_out *o, const struct fl_inventory *inv, const struct fl_inv_node *n)
{
	static const char *const via[] = { "local", "ssh", "kubectl" };

	fl_out_str(o, "node", n->node);
	fl_out_str(o, "host", n->host);
	if (n->role)
		fl_out_str(o, "role", n->role);
	if (n->pod[0])
		fl_out_str(o, "pod", n->pod);
	if (n->address[0])
		fl_out_str(o, "address", n->address);
	if (o->json)
		fl_out_raw(o, "target", n->target);
	else
		fl_out_str(o, "target", n->target);
	fl_out_str(o, "via", via[n->via]);
	if (n->via == FL_INV_SSH)
		fl_out_str(o, "ssh", n->h->ssh);
	if (n->via == FL_INV_KUBECTL) {
		fl_out_str(o, "agent", n->agent);
		fl_out_str(o, "agents",
			   inv->k8s.agent_ns ? inv->k8s.agent_ns : FL_KUBECTL_NAMESPACE);
	}
}

/* Text: one line per node; JSON: {"inventory", "nodes": [...]}. */
static int show(const struct inv_args *a, const struct fl_inventory *inv,
		const struct fl_inv_node *v, int n)
{
	struct fl_out o = { .f = stdout, .json = a->json };
	int bad = 0;

	if (a->json) {
		fl_out_open(&o, "", '{');
		fl_out_str(&o, "inventory", a->file);
		fl_out_open(&o, "nodes", '[');
	}
	for (int i = 0; i < n; i++) {
		struct fl_out line = { .f = stdout };
		struct fl_out *p = a->json ? &o : &line;
		char why[512] = "";

		if (a->json)
			fl_out_open(p, "", '{');
		put_node(p, inv, &v[i]);
		if (a->check)
			check_node(inv, &v[i], why, sizeof(why));
		if (a->check)
			fl_out_str(p, "check", why[0] ? why : "ok");
		bad += !!why[0];
		if (a->json)
			fl_out_close(p, '}');
		else
			fputc('\n', stdout);
	}
	if (a->json) {
		fl_out_close(&o, ']');
		fl_out_close(&o, '}');
		fputc('\n', stdout);
	}
	return bad ? FL_EXIT_FAIL : FL_EXIT_OK;
}

/* --put's NODE: n1.., a host's name (one node only), or a pod's. */
static int node_index(const struct fl_inv_node *v, int n, const char *name)
{
	int found = -1, hosts = 0;

	for (int i = 0; i < n; i++) {
		if (!strcmp(v[i].node, name) || (v[i].pod[0] && !strcmp(v[i].pod, name)))
			return i;
		if (!strcmp(v[i].host, name) && !hosts++)
			found = i;
	}
	return hosts == 1 ? found : -1;
}

static void put_answer(const struct inv_args *a, const struct fl_inv_node *n, const char *ans)
{
	struct fl_out o = { .f = stdout, .json = a->json, .compact = true };

	if (a->json)
		fl_out_open(&o, "", '{');
	fl_out_str(&o, "node", n->node);
	fl_out_str(&o, "host", n->host);
	if (a->json)
		fl_out_raw(&o, "answer", ans);
	else
		fl_out_str(&o, "answer", ans);
	if (a->json)
		fl_out_close(&o, '}');
	fputc('\n', stdout);
	fflush(stdout);
}

/* Each node's faults in one put; a refused or lost one resets the puts
 * before it. 0, 1 refused, 2 lost. */
static int put_all(const struct inv_args *a, struct fl_agents *ag, const int *idx)
{
	char *f[MAX_PUTS];

	for (int i = 0; i < ag->n; i++) {
		char *ans = NULL;
		int k = 0, r;

		for (int p = 0; p < a->n_put; p++)
			if (idx[p] == i)
				f[k++] = a->put_fault[p];
		if (!k)
			continue;
		r = fl_agents_put(ag, i, f, k, a->lease_ns, &ans);
		if (ans)
			put_answer(a, &ag->node[i], ans);
		free(ans);
		if (r) {
			fl_agents_reset(ag);
			return r < 0 ? FL_EXIT_USAGE : FL_EXIT_FAIL;
		}
	}
	return FL_EXIT_OK;
}

static volatile sig_atomic_t hold_stop;

static void on_hold_signal(int sig)
{
	(void)sig;
	hold_stop = 1;
}

/* Renew every third of the lease until a signal, then reset. */
static int hold(struct fl_agents *ag, uint64_t lease)
{
	struct sigaction sa = { .sa_handler = on_hold_signal }; /* no SA_RESTART */
	struct timespec ts = { (time_t)(lease / 3 / 1000000000ull),
			       (long)(lease / 3 % 1000000000ull) };
	int bad = 0;

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	pr_info("agent inventory: holding the puts (SIGTERM or ^C resets them)");
	while (!hold_stop && !bad) {
		if (nanosleep(&ts, NULL) && hold_stop)
			break;
		bad = fl_agents_renew(ag);
		if (bad)
			pr_err("agent inventory: %d renewal(s) refused or lost", bad);
	}
	return fl_agents_reset(ag) || bad ? FL_EXIT_FAIL : FL_EXIT_OK;
}

static int do_puts(const struct inv_args *a, const struct fl_inventory *inv,
		   const struct fl_inv_node *v, int n)
{
	struct fl_agents ag = { .inv = inv, .node = v, .n = n };
	int idx[MAX_PUTS], ret, st;

	for (int p = 0; p < a->n_put; p++) {
		idx[p] = node_index(v, n, a->put_node[p]);
		if (idx[p] < 0) {
			pr_err("agent inventory: --put %s: not a node of the inventory (n1..n%d, "
			       "a host's name, a pod's)",
			       a->put_node[p], n);
			return FL_EXIT_USAGE;
		}
	}
	ret = put_all(a, &ag, idx);
	if (ret)
		return ret;
	if (a->hold)
		return hold(&ag, a->lease_ns);
	st = fl_agents_close(&ag); /* each agent ends once its lease ran out */
	if (st)
		pr_err("agent inventory: an agent exited with status %d", st);
	return st ? FL_EXIT_USAGE : FL_EXIT_OK;
}

/* --target: the target file's node names and roles for nodes nodes. */
static int plan_of(const struct inv_args *a, const struct fl_inventory *inv, struct fl_sut **t,
		   struct fl_tplan *p, struct fl_err *err)
{
	char path[PATH_MAX];
	int n = a->nodes ? a->nodes : inv->kubernetes ? 0 : inv->n, ret;

	if (!n) {
		fl_err_set(err, "--target with a kubernetes inventory: give --nodes N too");
		return -EINVAL;
	}
	ret = fl_find_file(FL_FIND_TARGET, a->target, path, sizeof(path), err);
	if (!ret)
		ret = fl_sut_load(path, NULL, t, err);
	if (!ret)
		ret = fl_sut_plan(*t, (size_t)n, p, err); /* its roles point into *t */
	return ret;
}

int fl_cmd_agent_inventory(int argc, char **argv)
{
	struct inv_args a = { 0 };
	struct fl_inventory *inv = NULL;
	struct fl_inv_node *v = NULL;
	struct fl_err err = { "" };
	struct fl_sut *t = NULL;
	struct fl_tplan plan = { 0 };
	int n, ret = FL_EXIT_USAGE;

	if (parse(argc, argv, &a))
		return FL_EXIT_USAGE;
	if (fl_inventory_load(a.file, NULL, &inv, &err)) {
		pr_err("%s", err.msg);
		return FL_EXIT_USAGE;
	}
	if (fl_cmd_check) { /* kubernetes: resolving would run kubectl */
		fl_inventory_free(inv);
		return FL_EXIT_OK;
	}
	v = calloc(FL_INV_MAX, sizeof(*v));
	if (v && a.target && plan_of(&a, inv, &t, &plan, &err)) {
		pr_err("%s", err.msg);
		goto out;
	}
	n = v ? fl_inventory_resolve(inv, a.target ? (int)plan.n : a.nodes,
				     a.target ? plan.roles : NULL, v, &err) :
		-ENOMEM;
	for (int k = 0; a.target && k < n; k++) /* the target's names for its nodes */
		snprintf(v[k].node, sizeof(v[k].node), "%s", plan.names[k]);
	if (n < 0)
		pr_err("%s", err.msg[0] ? err.msg : strerror(-n));
	else
		ret = a.n_put ? do_puts(&a, inv, v, n) : show(&a, inv, v, n);
out:
	free(v);
	fl_sut_free(t);
	fl_inventory_free(inv);
	return ret;
}
