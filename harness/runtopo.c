// SPDX-License-Identifier: MIT
/* Topology steps inside a run: the lab changes through its supervisor
 * (session.h fl_topo_request, like `fallacy link/node/readdress/mtu/route`)
 * and the run follows: its nodes and templates, the target's membership
 * commands, the target and the load on a node that joins or leaves. */
#include "run.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab/lab.h"
#include "proc.h"
#include "steps.h"
#include "supervisor/session.h"
#include "tls.h"

static struct fl_run_node *slot_of(struct fl_run *r, const char *name, size_t *idx)
{
	for (size_t i = 0; i < r->n_nodes; i++)
		if (!strcmp(r->nodes[i].name, name)) {
			*idx = i;
			return &r->nodes[i];
		}
	return NULL;
}

/* The role the target's roles: give node slot i (the nodes before it as
 * planned): a node that joins is the next node of a run one node larger;
 * NULL when the roles do not fit that many nodes. */
static const char *role_for(const struct fl_run *r, size_t i)
{
	struct fl_tplan p;
	struct fl_err e;

	if (!r->t->n_roles || fl_sut_plan(r->t, i + 1, &p, &e))
		return NULL;
	return p.roles[i];
}

/* A slot for a lab node the run has not seen (it joined): in the plan and
 * the selectors too, so that later steps and the start items find it. */
static struct fl_run_node *slot_add(struct fl_run *r, const struct fl_node *ln, size_t *idx)
{
	struct fl_run_node *n;
	size_t i = r->n_nodes;

	if (i >= FL_RUN_MAX_NODES || i >= sizeof(r->plan.names) / sizeof(r->plan.names[0]))
		return NULL;
	*idx = r->n_nodes++;
	n = &r->nodes[i];
	memset(n, 0, sizeof(*n));
	n->log_fd = -1;
	snprintf(n->name, sizeof(n->name), "%s", ln->name);
	snprintf(n->dir, sizeof(n->dir), "%s/%s", r->scratch, ln->name);
	if (i >= r->plan.n || strcmp(r->plan.names[i], ln->name)) {
		snprintf(r->plan.names[i], sizeof(r->plan.names[i]), "%s", ln->name);
		r->plan.roles[i] = role_for(r, i);
	}
	if (r->plan.n < i + 1)
		r->plan.n = i + 1;
	n->role = r->plan.roles[i];
	r->sel.names[i] = n->name;
	r->sel.roles[i] = n->role;
	r->sel.n = r->n_nodes;
	return n;
}

void fl_run_sync_nodes(struct fl_run *r)
{
	size_t idx;

	for (size_t i = 0; i < r->n_nodes; i++)
		r->nodes[i].present = false;
	r->n_tnodes = 0;
	for (size_t i = 0; i < FL_RUN_MAX_NODES; i++)
		r->tidx[i] = -1;
	for (size_t k = 0; k < r->lab->n_nodes; k++) {
		const struct fl_node *ln = &r->lab->nodes[k];
		struct fl_run_node *n = slot_of(r, ln->name, &idx);

		if (!n && !(n = slot_add(r, ln, &idx))) {
			pr_warn("run: more than %d nodes; %s is left out of the templates",
				FL_RUN_MAX_NODES, ln->name);
			continue;
		}
		n->present = true;
		snprintf(n->netns, sizeof(n->netns), "%s", ln->netns);
		n->ip[0] = n->ip6[0] = '\0';
		if (ln->fam & FL_NODE_V4)
			inet_ntop(AF_INET, &ln->ip4, n->ip, sizeof(n->ip));
		if (ln->fam & FL_NODE_V6)
			inet_ntop(AF_INET6, &ln->ip6, n->ip6, sizeof(n->ip6));
		/* {{ip}} of an IPv6-only node is its IPv6 address */
		r->tnodes[r->n_tnodes] =
			(struct fl_tnode){ n->name, n->ip[0] ? n->ip : n->ip6, n->ip6, n->role };
		r->tidx[idx] = (int)r->n_tnodes++;
	}
	/* selectors skip the nodes that left (select.h) */
	r->sel.gone = 0;
	for (size_t i = 0; i < r->n_nodes && i < FL_SEL_MAX_NODES; i++)
		if (!r->nodes[i].present)
			r->sel.gone |= 1ULL << i;
}

/* The lab again from its file (the supervisor wrote it), and the run's
 * view with it. */
static void relab(struct fl_run *r, struct fl_step_ctx *c)
{
	struct fl_lab *lab = NULL, *old;

	if (fl_lab_load(r->lab_name, &lab)) {
		pr_warn("run: cannot read lab %s again; templates keep the old view", r->lab_name);
		return;
	}
	pthread_rwlock_wrlock(&r->topo_lock);
	old = r->lab;
	r->lab = lab;
	fl_run_sync_nodes(r);
	pthread_rwlock_unlock(&r->topo_lock);
	c->lab = lab;
	fl_lab_free(old);
}

static int request(struct fl_step_ctx *c, const struct fl_topo *t, struct fl_err *err)
{
	char *out = NULL, *msg = NULL;
	int status = fl_topo_request(&c->target, t, false, &out, &msg);

	if (status) {
		size_t n = msg ? strlen(msg) : 0;

		while (n && msg[n - 1] == '\n')
			msg[--n] = 0;
		fl_err_set(err, "%s", msg && *msg ? msg : "the lab's supervisor refused");
	}
	free(out);
	free(msg);
	return status ? -EINVAL : 0;
}

/* A membership change can be refused for a while (etcd: "unhealthy
 * cluster" right after a leader change): try again every 0.5 s until it
 * succeeds or the target's member timeout. */
static int member_retry(const struct fl_spawn *sp, uint64_t timeout_ns, int *status)
{
	uint64_t deadline = fl_clock_mono_ns() + timeout_ns, now;
	int ret;

	for (;;) {
		now = fl_clock_mono_ns();
		ret = fl_proc_run(sp, deadline > now ? deadline - now : 1, status);
		if ((!ret && !*status) || fl_clock_mono_ns() + 500000000ULL >= deadline ||
		    fl_run_interrupted)
			return ret;
		if (sp->out_fd >= 0)
			dprintf(sp->out_fd, "# fallacy: failed (%s); trying again\n",
				ret ? strerror(-ret) : "non-zero exit");
		usleep(500000);
	}
}

/* The target's join or leave command, on the first other member, with
 * {{node}}/{{ip}} the node and the lists the other members. */
static int member_cmd(struct fl_run *r, size_t idx, const char *what, const char *tmpl,
		      struct fl_err *err)
{
	struct fl_tnode others[FL_RUN_MAX_NODES], self;
	struct fl_run_node *n = &r->nodes[idx];
	struct fl_spawn sp = { .user = r->t->user, .die_with_parent = true };
	size_t k = 0, runner = SIZE_MAX;
	struct fl_tvars v;
	char *cmd = NULL, path[700];
	struct fl_out *o;
	int status = -1, ret;

	for (size_t i = 0; i < r->n_nodes; i++) {
		if (i == idx || !r->nodes[i].present)
			continue;
		if (runner == SIZE_MAX)
			runner = i;
		others[k++] = r->tnodes[r->tidx[i]];
	}
	if (runner == SIZE_MAX) {
		fl_err_set(err, "the target's %s command needs another member to run on", what);
		return -ENOENT;
	}
	self = (struct fl_tnode){ n->name, n->ip[0] ? n->ip : n->ip6, n->ip6, n->role };
	fl_run_vars(r, runner, &v);
	v.nodes = others;
	v.n_nodes = k;
	v.self = 0;
	v.other = &self;
	v.dir = n->dir;
	if (fl_template_expand(tmpl, &v, &cmd, err))
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/logs/%s.log", r->dir, n->name);
	sp.out_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	sp.netns = r->nodes[runner].netns;
	sp.cmd = cmd;
	if (sp.out_fd >= 0)
		dprintf(sp.out_fd, "# fallacy: %s command on %s: %s\n", what, r->nodes[runner].name,
			cmd);
	ret = member_retry(&sp, r->t->member_timeout_ns, &status);
	o = fl_results_event_begin(
		r->res, 0, !strcmp(what, "join") ? "member-join" : "member-leave", n->name, NULL);
	fl_out_i64(o, "status", ret ? -1 : status);
	fl_results_event_end(r->res);
	if (sp.out_fd >= 0)
		close(sp.out_fd);
	free(cmd);
	if (ret || status) {
		fl_err_set(err, "the target's %s command for %s failed on %s (%s; see logs/%s.log)",
			   what, n->name, r->nodes[runner].name,
			   ret ? strerror(-ret) : "non-zero exit", n->name);
		return ret ? ret : -EIO;
	}
	return 0;
}

static int run_leave(struct fl_run *r, struct fl_step_ctx *c, const struct fl_topo *t,
		     struct fl_err *err)
{
	size_t idx;
	struct fl_run_node *n = slot_of(r, t->node, &idx);
	struct fl_err e;
	int ret;

	if (!n || !n->present)
		return request(c, t, err); /* says what is wrong */
	if (r->t->leave_run && fl_run_node_started(r, n->name) &&
	    member_cmd(r, idx, "leave", r->t->leave_run, &e))
		pr_warn("%s (the node leaves anyway)", e.msg);
	/* its probes end first: their runs in flight finish or time out */
	fl_run_load_node_stop(r, idx);
	n->was_started = false;
	n->was_started = fl_run_node_started(r, n->name);
	ret = request(c, t, err);
	if (ret) {
		if (r->t0 && !r->stop_load)
			fl_run_load_node(r, idx);
		return ret;
	}
	fl_run_stop_target(r, idx, "left");
	relab(r, c);
	return 0;
}

/* tls: true: a node that joins gets its certificate before its probes or
 * its target use it; one with a new address a new one (the running
 * target keeps the certificate it loaded). */
static int tls_node(struct fl_run *r, size_t idx, struct fl_err *err)
{
	char why[300];

	if (!fl_run_tls_node(r, idx, why, sizeof(why)))
		return 0;
	fl_err_set(err, "%s", why);
	return -EIO;
}

static int run_join(struct fl_run *r, struct fl_step_ctx *c, const struct fl_topo *t, bool start,
		    struct fl_err *err)
{
	struct fl_run_node *n;
	size_t idx;
	int ret = request(c, t, err);

	if (ret)
		return ret;
	relab(r, c);
	n = slot_of(r, t->node, &idx);
	if (!n || !n->present) {
		fl_err_set(err,
			   "%s joined the lab but the run cannot follow it (more than %d nodes)",
			   t->node, FL_RUN_MAX_NODES);
		return -E2BIG;
	}
	ret = tls_node(r, idx, err);
	if (ret)
		return ret;
	if (start) {
		ret = fl_run_scratch_dir(r, idx, err);
		if (!ret && r->t->join_run)
			ret = member_cmd(r, idx, "join", r->t->join_run, err);
		if (!ret)
			ret = fl_run_start_target(r, idx, err);
		if (ret)
			return ret;
	}
	if (r->t0 && !r->stop_load)
		ret = fl_run_load_node(r, idx);
	return ret;
}

int fl_run_topo(struct fl_run *r, struct fl_step_ctx *c, const struct fl_topo *t, bool start,
		struct fl_err *err)
{
	int ret;

	if (t->op == FL_TOPO_LEAVE)
		return run_leave(r, c, t, err);
	if (t->op == FL_TOPO_JOIN)
		return run_join(r, c, t, start, err);
	ret = request(c, t, err);
	if (!ret && t->op != FL_TOPO_LINK && t->op != FL_TOPO_FLAP)
		relab(r, c); /* addresses, MTUs, routes: what heals compare with */
	if (!ret && t->op == FL_TOPO_READDRESS) {
		size_t idx;

		if (slot_of(r, t->node, &idx))
			ret = tls_node(r, idx, err);
	}
	return ret;
}
