// SPDX-License-Identifier: MIT
/* `fallacy run --inventory FILE`: the run's nodes are an inventory's
 * hosts or pods (invrun.h). No lab is made: r->lab is a plan of one
 * (fl_lab_plan) whose nodes carry the inventory's addresses and run
 * nothing in a namespace of their own, so that templates ({{ip}},
 * {{endpoints}}), selectors and the steps' node words work as on a lab;
 * the probes and checks run here, in the run's own namespace. */
#include "run.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "invrun.h"
#include "lab/lab.h"
#include "json.h"

/* The plan's nodes at the inventory's addresses, in no namespace ("-":
 * here). */
static int plan_lab(struct fl_run *r, struct fl_err *err)
{
	const char *names[FL_RUN_MAX_NODES];
	struct fl_lab_spec spec = { .name = "inventory", .n_nodes = r->n_nodes };
	int ret;

	for (size_t i = 0; i < r->n_nodes; i++)
		names[i] = r->plan.names[i];
	spec.node_names = names;
	ret = fl_lab_plan(&spec, &r->lab, err);
	for (size_t i = 0; !ret && i < r->lab->n_nodes; i++) {
		struct fl_node *n = &r->lab->nodes[i];
		const char *a = r->inv->addrs[i];

		snprintf(n->netns, sizeof(n->netns), "-");
		if (inet_pton(AF_INET, a, &n->ip4) == 1) {
			n->fam = FL_NODE_V4;
		} else if (inet_pton(AF_INET6, a, &n->ip6) == 1) {
			n->fam = FL_NODE_V6;
		} else {
			fl_err_set(err, "node %s: '%s' is not an address", n->name, a);
			ret = -EINVAL;
		}
	}
	return ret;
}

static void inventory_event(struct fl_run *r)
{
	struct fl_out *o = fl_results_event_begin(r->res, 0, "inventory", r->o->inventory, NULL);

	fl_out_open(o, "nodes", '[');
	for (int i = 0; i < r->inv->n; i++) {
		const struct fl_inv_node *n = &r->inv->node[i];

		fl_out_open(o, "", '{');
		fl_out_str(o, "node", r->inv->names[i]);
		fl_out_str(o, "host", n->host);
		if (n->pod[0])
			fl_out_str(o, "pod", n->pod);
		fl_out_str(o, "address", n->address);
		fl_out_close(o, '}');
	}
	fl_out_close(o, ']');
	fl_results_event_end(r->res);
}

int fl_run_inv_up(struct fl_run *r, struct fl_err *err)
{
	const char *names[FL_RUN_MAX_NODES], *roles[FL_RUN_MAX_NODES];
	int ret;

	snprintf(r->lab_name, sizeof(r->lab_name), "inventory");
	for (size_t i = 0; i < r->n_nodes; i++) {
		names[i] = r->plan.names[i];
		roles[i] = r->plan.roles[i];
	}
	ret = fl_invrun_open(r->o->inventory, (int)r->n_nodes, names, roles,
			     r->o->lease_ns ? r->o->lease_ns : FL_INVRUN_LEASE_NS, &r->inv, err);
	if (!ret)
		ret = plan_lab(r, err);
	if (!ret && fl_agents_open(&r->inv->agents)) {
		fl_err_set(err, "%s: not every node's agent answers (see above); nothing was put",
			   r->o->inventory);
		ret = -EHOSTUNREACH;
	}
	if (ret)
		return ret;
	r->lab0 = fl_lab_dup(r->lab);
	if (!r->lab0)
		return -ENOMEM;
	r->n_nodes = 0;
	fl_run_sync_nodes(r);
	inventory_event(r);
	return 0;
}

/* --capture over an inventory: each node's agent captures its target's
 * eth0 from now to the end, and the files are fetched into pcap/. */
int fl_run_inv_capture_start(struct fl_run *r, struct fl_err *err)
{
	char dir[600];

	if (!r->o->capture)
		return 0;
	snprintf(dir, sizeof(dir), "%s/pcap", r->dir);
	if (mkdir(dir, 0755) && errno != EEXIST) {
		fl_err_set(err, "cannot create %s: %s", dir, strerror(errno));
		return -errno;
	}
	return fl_invrun_capture_start(r->inv, NULL, err);
}

static void captured(void *arg, const char *node, const char *file, uint64_t bytes)
{
	struct fl_run *r = arg;
	struct fl_out *o = fl_results_event_begin(r->res, 0, "capture", node, NULL);

	fl_out_str(o, "file", file);
	fl_out_u64(o, "bytes", bytes);
	fl_results_event_end(r->res);
}

void fl_run_inv_capture_stop(struct fl_run *r)
{
	char dir[600];

	snprintf(dir, sizeof(dir), "%s/pcap", r->dir);
	if (fl_invrun_capture_stop(r->inv, dir, captured, r))
		pr_warn("%s: some nodes' captures are missing from %s", r->sc->name, dir);
}
