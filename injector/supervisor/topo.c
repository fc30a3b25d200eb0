// SPDX-License-Identifier: MIT
/* The supervisor's topology requests: link, flap, join, leave, readdress,
 * mtu, route (lab.h struct fl_topo). Each is checked completely against
 * the lab before anything changes; the lab's part (namespaces, links,
 * addresses, hosts files, the lab file) is lab/topo.c's, made under the
 * journal's lock so that a cleanup waits for it; the data plane's part
 * (node map, fault points, MTUs, per-port fault state) is done here. A
 * flapping link lives in this process's deadline loop: it goes on when
 * the CLI has exited and stops on `link NODE up|down`, when the node
 * leaves, or when the supervisor ends with the lab. */
#include "supervisor_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "dataplane/dataplane.h"
#include "clock.h"
#include "json.h"
#include "lab/lab.h"
#include "lab/topo.h"
#include "netns.h"
#include "state/journal.h"

struct sup_flap {
	struct sup_flap *next;
	char node[FL_NODE_NAME_MAX + 1];
	uint64_t start, period, down; /* ns; a cycle: down at start + k * period */
	uint32_t count, done; /* cycles asked (0: until stopped), finished */
	bool is_down;
};

bool sup_topo_verb(const char *verb)
{
	for (int op = FL_TOPO_LINK; op <= FL_TOPO_ROUTE; op++)
		if (!strcmp(verb, fl_topo_verb((enum fl_topo_op)op)))
			return true;
	return false;
}

static void topo_event(struct fl_sup *s, const char *what, const char *id, const char *change,
		       bool flap, uint64_t took_ns)
{
	struct fl_out o;
	FILE *fp = sup_event_begin(s, what, id, &o);

	if (!fp)
		return;
	if (change)
		fl_out_str(&o, "change", change);
	if (took_ns)
		fl_out_u64(&o, "took_ns", took_ns);
	if (flap)
		fl_out_flag(&o, "flap");
	sup_event_end(fp, &o);
}

/* ---- flapping links ---------------------------------------------------------- */

static struct sup_flap **flap_find(struct fl_sup *s, const char *node)
{
	struct sup_flap **p = &s->flaps;

	while (*p && strcmp((*p)->node, node))
		p = &(*p)->next;
	return p;
}

static void flap_end(struct fl_sup *s, const char *node)
{
	struct sup_flap **p = flap_find(s, node), *f = *p;

	if (!f)
		return;
	fl_sup_deadline(s, f, 0, NULL);
	*p = f->next;
	free(f);
}

void sup_topo_stop(struct fl_sup *s)
{
	while (s->flaps)
		flap_end(s, s->flaps->node);
}

/* One transition, then the next one's deadline: down at start + k * period,
 * up `down` later, so timing does not drift with the loop's lateness. */
static void flap_tick(struct fl_sup *s, void *key)
{
	struct sup_flap *f = key;
	bool down = !f->is_down;
	struct fl_err e = { "" };
	uint64_t due;

	if (fl_lab_link(s->lab, f->node, !down, &e)) {
		pr_err("%s: flapping %s stopped: %s", s->t.session, f->node, e.msg);
		flap_end(s, f->node);
		return;
	}
	f->is_down = down;
	topo_event(s, down ? "link-down" : "link-up", f->node, NULL, true, 0);
	if (!down && ++f->done == f->count) {
		topo_event(s, "flap-end", f->node, NULL, false, 0);
		flap_end(s, f->node);
		return;
	}
	/* down: up again `down` into this cycle; up: down at the next one */
	due = f->start + f->done * f->period + (down ? f->down : 0);
	fl_sup_deadline(s, f, due, flap_tick);
}

static int flap_start(struct fl_sup *s, const struct fl_topo *t, struct fl_err *e)
{
	struct sup_flap *f = calloc(1, sizeof(*f));

	if (!f) {
		fl_err_set(e, "out of memory");
		return -ENOMEM;
	}
	flap_end(s, t->node); /* a new flap replaces the old one */
	snprintf(f->node, sizeof(f->node), "%s", t->node);
	f->period = t->period_ns;
	f->down = t->down_ns ? t->down_ns : t->period_ns / 2;
	f->count = t->count;
	f->start = fl_clock_mono_ns();
	f->next = s->flaps;
	s->flaps = f;
	/* the link starts up (a flap from a link held down starts with up) */
	if (fl_lab_link(s->lab, f->node, true, e)) {
		flap_end(s, f->node);
		return -EIO;
	}
	flap_tick(s, f);
	return 0;
}

/* ---- the data plane's side ---------------------------------------------------- */

static int dp_join(struct fl_sup *s, const struct fl_node *n)
{
	int err = fl_dp_node_set(s->dp, s->lab, n, true);

	if (!err && n->mtu)
		err = fl_dp_node_mtu(s->dp, n->index, n->mtu);
	if (err || !s->attached)
		return err;
	/* its offloads follow the faults (sup_offloads_sync, after the join) */
	return fl_dp_attach(s->dp, s->st, s->ns_spec, s->nsfd, n->port, FL_DIR_INGRESS);
}

/* ---- requests ------------------------------------------------------------------ */

static void print_node(const struct fl_node *n, bool json, FILE *out)
{
	char a4[INET_ADDRSTRLEN] = "-", a6[INET6_ADDRSTRLEN] = "-";
	struct fl_out o = { .f = out, .json = true };

	if (n->fam & FL_NODE_V4)
		inet_ntop(AF_INET, &n->ip4, a4, sizeof(a4));
	if (n->fam & FL_NODE_V6)
		inet_ntop(AF_INET6, &n->ip6, a6, sizeof(a6));
	if (!json) {
		fprintf(out, "%-12s %-15s %-22s %s\n", n->name, a4, a6, n->netns);
		return;
	}
	fputc('{', out);
	fl_out_str(&o, "name", n->name);
	fl_out_str(&o, "netns", n->netns);
	fl_out_str(&o, "port", n->port);
	if (n->fam & FL_NODE_V4)
		fl_out_str(&o, "ipv4", a4);
	if (n->fam & FL_NODE_V6)
		fl_out_str(&o, "ipv6", a6);
	fl_out_u64(&o, "mtu", n->mtu ? n->mtu : 1500);
	fputs("}\n", out);
}

static int lab_change(struct fl_sup *s, const struct fl_topo *t, struct fl_err *e)
{
	const struct fl_node *n;
	int err;

	if (t->op == FL_TOPO_LEAVE) {
		flap_end(s, t->node);
		n = fl_lab_node(s->lab, t->node);
		if (n)
			fl_dp_node_set(s->dp, s->lab, n, false);
	}
	fl_state_lock(s->st);
	fl_state_set_owner(s->st, false); /* the lab's structure: it outlives us */
	err = fl_lab_change(s->lab, s->st, t, FL_NODE_LEAVE_GRACE_NS, e);
	fl_state_set_owner(s->st, true);
	fl_state_unlock(s->st);
	if (err) {
		if (t->op == FL_TOPO_LEAVE && (n = fl_lab_node(s->lab, t->node)))
			fl_dp_node_set(s->dp, s->lab, n, true);
		return err;
	}
	n = fl_lab_node(s->lab, t->node);
	if (t->op == FL_TOPO_JOIN && (err = dp_join(s, n)))
		fl_err_set(e, "attaching the data plane to %s: %s", t->node, strerror(-err));
	if (t->op == FL_TOPO_LEAVE) {
		const struct fl_node *g = fl_lab_gone(s->lab, t->node);

		fl_dp_forget(s->dp, s->ns_spec, g->port);
		/* its eth0 went with its namespace: nothing to restore */
		if (g->index >= 0 && g->index < FL_MAX_NODES)
			s->wire_off[g->index] = false;
	}
	if (t->op == FL_TOPO_MTU && (err = fl_dp_node_mtu(s->dp, n->index, n->mtu)))
		fl_err_set(e, "the data plane's MTU of %s: %s", t->node, strerror(-err));
	if (t->op == FL_TOPO_JOIN || t->op == FL_TOPO_LEAVE) {
		sup_faults_nodes_changed(s);
		/* a node that joins gets wire-sized packets when a per-packet
		 * fault can match what it sends */
		sup_offloads_sync(s, false);
	}
	return err;
}

static const char *event_name(const struct fl_topo *t)
{
	static const char *const names[] = {
		[FL_TOPO_JOIN] = "node-join",	   [FL_TOPO_LEAVE] = "node-leave",
		[FL_TOPO_READDRESS] = "readdress", [FL_TOPO_MTU] = "mtu",
		[FL_TOPO_ROUTE] = "route",	   [FL_TOPO_FLAP] = "flap"
	};

	if (t->op == FL_TOPO_LINK)
		return t->up ? "link-up" : "link-down";
	return names[t->op];
}

int sup_topo_request(struct fl_sup *s, int argc, char **argv, bool json, FILE *out, FILE *msg)
{
	struct fl_err e = { "" };
	char words[512];
	struct fl_topo t;
	const struct fl_node *n;
	int err;

	if (!s->lab) {
		fprintf(msg, "%s: topology changes work on labs only\n", argv[0]);
		return 2;
	}
	err = fl_topo_parse(argc, argv, &t, &e) ?: fl_topo_check(&t, s->lab, &e);
	fl_topo_format(&t, words, sizeof(words));
	if (!err && t.op == FL_TOPO_FLAP) {
		/* the flap's event first, then its transitions' */
		topo_event(s, "flap", t.node, words, false, 0);
		err = flap_start(s, &t, &e);
	} else if (!err) {
		uint64_t t0 = fl_clock_mono_ns();

		if (t.op == FL_TOPO_LINK)
			flap_end(s, t.node);
		err = lab_change(s, &t, &e);
		if (!err) /* took_ns: the supervisor's part, kernel and data plane */
			topo_event(s, event_name(&t), t.op == FL_TOPO_ROUTE ? t.from : t.node,
				   words, false, fl_clock_mono_ns() - t0);
	}
	if (err) {
		fprintf(msg, "%s %s: %s\n", argv[0], s->t.session, e.msg);
		return 2;
	}
	n = fl_lab_node(s->lab, t.node);
	if (n && (json || t.op == FL_TOPO_JOIN || t.op == FL_TOPO_READDRESS))
		print_node(n, json, out);
	else if (json)
		fputs("{}\n", out);
	fprintf(msg, "fallacy: %s: %s\n", s->t.session, words);
	return 0;
}
