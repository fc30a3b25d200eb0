// SPDX-License-Identifier: MIT
/* Topology step kinds: link, flap, join, leave, readdress, mtu, route.
 * Each step is the words of the topology change (lab.h struct fl_topo,
 * the same words `fallacy link/node/readdress/mtu/route` send), so the
 * resolved scenario prints `link: "n1 down"` and loads again. A step runs
 * through the run (runtopo.c: the target follows joins and leaves) and is
 * healed by state, not by replaying: heal puts the lab back as the run
 * started (lab0) where it differs now, so `heal: all` after any sequence
 * of changes brings every node back, with its old address and MTU, links
 * up, routes direct. */
#include "steps.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/lab.h"
#include "run.h"
#include "scenario.h"
#include "select.h"

#define START_WORD "--start" /* join: start the target there (not a topology word) */

/* A YAML key of a step's map and the word it becomes. */
struct tkey {
	const char *yaml;
	const char *word; /* "--period"; NULL: the value alone (positional) */
	bool flag; /* true/false: the word or nothing */
};

static const struct tkey link_keys[] = { { "node", NULL, false },
					 { "state", NULL, false },
					 { NULL, NULL, false } };
static const struct tkey flap_keys[] = { { "node", NULL, false },
					 { "period", "--period", false },
					 { "count", "--count", false },
					 { "down_for", "--down-for", false },
					 { NULL, NULL, false } };
static const struct tkey join_keys[] = { { "node", NULL, false },	{ "family", NULL, false },
					 { "ipv4", "--ipv4", false },	{ "ipv6", "--ipv6", false },
					 { "start", START_WORD, true }, { NULL, NULL, false } };
static const struct tkey node_keys[] = { { "node", NULL, false }, { NULL, NULL, false } };
static const struct tkey readdress_keys[] = { { "node", NULL, false },
					      { "ipv4", "--ipv4", false },
					      { "ipv6", "--ipv6", false },
					      { NULL, NULL, false } };
static const struct tkey mtu_keys[] = { { "node", NULL, false },
					{ "mtu", NULL, false },
					{ NULL, NULL, false } };
static const struct tkey route_keys[] = { { "from", "--from", false },
					  { "to", "--to", false },
					  { "via", "--via", false },
					  { "direct", "--direct", true },
					  { NULL, NULL, false } };

static const struct tkey *keys_of(const char *verb)
{
	static const struct {
		const char *verb;
		const struct tkey *keys;
	} t[] = { { "link", link_keys },  { "flap", flap_keys },	   { "join", join_keys },
		  { "leave", node_keys }, { "readdress", readdress_keys }, { "mtu", mtu_keys },
		  { "route", route_keys } };

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(t[i].verb, verb))
			return t[i].keys;
	return NULL;
}

/* family: ipv4 | ipv6 | dual -> the join flag */
static int family_word(struct fl_step_parse *p, const struct fl_ynode *v, struct fl_step *st)
{
	static const char *const fams[][2] = { { "ipv4", "--ipv4-only" },
					       { "ipv6", "--ipv6-only" },
					       { "dual", "--dual" } };

	for (size_t i = 0; i < 3; i++)
		if (!strcmp(v->text, fams[i][0]))
			return fl_step_push(st, fams[i][1]);
	return fl_yerr(p->err, p->d, v, "'family' is ipv4, ipv6 or dual");
}

static int map_words(struct fl_step_parse *p, struct fl_step *st, const struct fl_ynode *m,
		     const struct tkey *keys, const char *what)
{
	const char *allowed[16];
	size_t n = 0;
	bool on;
	int ret;

	if (!keys) /* every topology verb has its table (keys_of) */
		return -EINVAL;
	for (const struct tkey *k = keys; k->yaml && n < 15; k++)
		allowed[n++] = k->yaml;
	allowed[n] = NULL;
	ret = fl_ycheck_keys(p->d, m, what, allowed, p->err);
	for (const struct tkey *k = keys; k->yaml && !ret; k++) {
		const struct fl_ynode *v = fl_ymap_get(m, k->yaml);

		if (!v)
			continue;
		if (k->flag) {
			ret = fl_ystep_flag(p, v, k->yaml, &on) ?:
				      on			? fl_step_push(st, k->word) :
								  0;
			continue;
		}
		if (fl_ystep_scalar(p, v, k->yaml))
			return -EINVAL;
		if (!strcmp(k->yaml, "family"))
			ret = family_word(p, v, st);
		else
			ret = (k->word ? fl_step_push(st, k->word) : 0) ?:
									  fl_step_push(st, v->text);
	}
	return ret;
}

/* The step's words as a struct fl_topo (and the harness's --start). */
static int step_topo(const struct fl_step *st, struct fl_topo *t, bool *start, struct fl_err *err)
{
	char *argv[64], stand[64][8];
	int argc = 0;

	*start = false;
	for (size_t i = 0; i < st->argc && argc < 63; i++) {
		if (!strcmp(st->argv[i], START_WORD)) {
			*start = true;
		} else if (!strncmp(st->argv[i], "picked:", 7)) {
			/* before the run: a node name stands for what a step picks */
			snprintf(stand[argc], sizeof(stand[argc]), "p%d", argc);
			argv[argc] = stand[argc];
			argc++;
		} else {
			argv[argc++] = st->argv[i];
		}
	}
	argv[argc] = NULL;
	return fl_topo_parse(argc, argv, t, err);
}

/* link: {node: n1, state: down} | "n1 down"; the others alike. */
static int topo_parse(struct fl_step_parse *p, struct fl_step *st, const struct fl_ynode *step,
		      const struct fl_ynode *v)
{
	const char *verb = st->ops->key;
	struct fl_topo t;
	struct fl_err e;
	char what[40];
	bool start;
	int ret;

	(void)step;
	snprintf(what, sizeof(what), "a '%s' step", verb);
	ret = fl_step_push(st, verb);
	if (!ret && v->type == FL_Y_SCALAR && !fl_yis_null(v))
		ret = fl_step_push_words(st, v->text);
	else if (!ret && v->type == FL_Y_MAP)
		ret = map_words(p, st, v, keys_of(verb), what);
	else if (!ret)
		return fl_yerr(p->err, p->d, v, "'%s' needs a node (%s: n1) or a map", verb, verb);
	if (ret)
		return ret;
	if (step_topo(st, &t, &start, &e))
		return fl_yerr(p->err, p->d, v, "%s", e.msg);
	if (start && t.op != FL_TOPO_JOIN)
		return fl_yerr(p->err, p->d, v, "'start' is for join steps");
	return 0;
}

static const char *topo_event(const struct fl_step *st)
{
	return st->ops->key;
}

static int topo_run(struct fl_step_ctx *c, const struct fl_topo *t, bool start, struct fl_err *err)
{
	char *out = NULL, *msg = NULL;
	int status;

	if (c->run)
		return fl_run_topo(c->run, c, t, start, err);
	status = fl_topo_request(&c->target, t, false, &out, &msg);
	free(out);
	return fl_session_refusal(status, &msg, err);
}

static int topo_apply(struct fl_step_ctx *c, const struct fl_step *st, struct fl_err *err)
{
	struct fl_topo t;
	bool start;

	if (step_topo(st, &t, &start, err))
		return -EINVAL;
	return topo_run(c, &t, start, err);
}

/* ---- heal: the lab as it was --------------------------------------------- */

static void addr_of(const struct fl_node *n, struct fl_topo *t)
{
	t->has4 = n->fam & FL_NODE_V4;
	t->has6 = n->fam & FL_NODE_V6;
	t->ip4 = n->ip4;
	t->ip6 = n->ip6;
}

static bool addr_free(const struct fl_lab *lab, const struct fl_node *was)
{
	for (size_t i = 0; i < lab->n_nodes; i++)
		if (lab->nodes[i].host == was->host && strcmp(lab->nodes[i].name, was->name))
			return false;
	return true;
}

/* What undoes st now (lab) toward lab0; false: nothing to undo. */
static bool inverse(const struct fl_step *st, const struct fl_lab *lab0, const struct fl_lab *lab,
		    struct fl_topo *inv)
{
	const struct fl_node *now, *was;
	struct fl_topo t;
	struct fl_err e;
	bool start;

	if (step_topo(st, &t, &start, &e))
		return false;
	now = fl_lab_node(lab, t.op == FL_TOPO_ROUTE ? t.from : t.node);
	was = lab0 ? fl_lab_node(lab0, t.node) : NULL;
	memset(inv, 0, sizeof(*inv));
	snprintf(inv->node, sizeof(inv->node), "%s", t.node);
	switch (t.op) {
	case FL_TOPO_LINK:
	case FL_TOPO_FLAP: /* up again (also ends a flap) */
		inv->op = FL_TOPO_LINK;
		inv->up = true;
		return now && (t.op == FL_TOPO_FLAP || !t.up);
	case FL_TOPO_JOIN: /* a node the run did not start with leaves again */
		inv->op = FL_TOPO_LEAVE;
		return now && !was;
	case FL_TOPO_LEAVE: /* it comes back, with its old address when free */
		inv->op = FL_TOPO_JOIN;
		inv->fam = was ? was->fam : 0;
		if (was && addr_free(lab, was))
			addr_of(was, inv);
		return !now && fl_lab_gone(lab, t.node);
	case FL_TOPO_READDRESS:
		inv->op = FL_TOPO_READDRESS;
		if (!now || !was || now->host == was->host || !addr_free(lab, was))
			return false;
		addr_of(was, inv);
		return true;
	case FL_TOPO_MTU:
		inv->op = FL_TOPO_MTU;
		inv->mtu = was && was->mtu ? was->mtu : 1500;
		return now && (now->mtu ? now->mtu : 1500) != inv->mtu;
	case FL_TOPO_ROUTE:
		inv->op = FL_TOPO_ROUTE;
		snprintf(inv->from, sizeof(inv->from), "%s", t.from);
		snprintf(inv->to, sizeof(inv->to), "%s", t.to);
		for (size_t i = 0; now && i < lab->n_routes; i++)
			if (!strcmp(lab->routes[i].from, t.from) &&
			    !strcmp(lab->routes[i].to, t.to))
				return true;
		return false;
	}
	return false;
}

static int topo_heal(struct fl_step_ctx *c, const struct fl_step *st, char *counters, size_t len,
		     struct fl_err *err)
{
	struct fl_topo inv;
	bool start;

	(void)counters;
	(void)len;
	if (!c->lab || !inverse(st, c->lab0, c->lab, &inv))
		return 0;
	/* a node that comes back runs the target again if it did when it left */
	start = inv.op == FL_TOPO_JOIN && c->run && fl_run_node_started(c->run, inv.node);
	return topo_run(c, &inv, start, err);
}

static int topo_validate(const struct fl_step *st, struct fl_lab *lab, struct fl_err *err)
{
	struct fl_topo t;
	bool start;

	if (step_topo(st, &t, &start, err))
		return -EINVAL;
	return fl_topo_plan(lab, &t, err);
}

static void topo_plan_heal(const struct fl_step *st, const struct fl_lab *lab0, struct fl_lab *lab)
{
	struct fl_topo inv;
	struct fl_err e;

	if (inverse(st, lab0, lab, &inv))
		fl_topo_plan(lab, &inv, &e);
}

/* A join of a node the run started with undoes nothing when healed. */
static bool topo_lasting(struct fl_step_ctx *c, const struct fl_step *st)
{
	struct fl_topo t;
	struct fl_err e;
	bool start;

	if (step_topo(st, &t, &start, &e))
		return false;
	if (t.op == FL_TOPO_LINK)
		return !t.up;
	return t.op != FL_TOPO_JOIN || !c->lab0 || !fl_lab_node(c->lab0, t.node);
}

/* What ends what: a later change of the same node's link, presence,
 * address or MTU, or of the same route, replaces the earlier one. */
static bool topo_ended_by(const struct fl_step *st, const struct fl_step *later)
{
	struct fl_topo a, b;
	struct fl_err e;
	bool s;

	if (later->ops->event != topo_event || step_topo(st, &a, &s, &e) ||
	    step_topo(later, &b, &s, &e))
		return false;
	switch (a.op) {
	case FL_TOPO_LINK:
	case FL_TOPO_FLAP:
		return (b.op == FL_TOPO_LINK || b.op == FL_TOPO_FLAP) && !strcmp(a.node, b.node);
	case FL_TOPO_LEAVE:
		return b.op == FL_TOPO_JOIN && !strcmp(a.node, b.node);
	case FL_TOPO_JOIN:
		return b.op == FL_TOPO_LEAVE && !strcmp(a.node, b.node);
	case FL_TOPO_ROUTE:
		return b.op == FL_TOPO_ROUTE && !strcmp(a.from, b.from) && !strcmp(a.to, b.to);
	default: /* readdress, mtu */
		return b.op == a.op && !strcmp(a.node, b.node);
	}
}

/* The node of link, flap, leave, readdress and mtu, and route's --from,
 * --to and --via take selectors of one node (steps.h): `leave: leader`; a
 * selector that picks several is refused, naming them. A join names the
 * node it brings, as written, or `left`: the node that left. */
static enum fl_step_field topo_field(const struct fl_step *st, size_t i)
{
	const char *prev = i ? st->argv[i - 1] : "";

	if (!i)
		return FL_FIELD_NONE;
	if (!strcmp(st->argv[0], "join")) /* a new name stays as written */
		return i == 1 && fl_sel_has_selector(NULL, st->argv[1]) ? FL_FIELD_NODE :
									  FL_FIELD_NONE;
	if (i == 1 && strcmp(st->argv[0], "route") && strncmp(st->argv[1], "--", 2))
		return FL_FIELD_NODE;
	if (!strcmp(prev, "--from") || !strcmp(prev, "--to") || !strcmp(prev, "--via"))
		return FL_FIELD_NODE;
	return FL_FIELD_NONE;
}

static const char *topo_joins(const struct fl_step *st)
{
	return st->argc > 1 && !strcmp(st->argv[0], "join") ? st->argv[1] : NULL;
}

#define TOPO_STEP(name, text)                       \
	const struct fl_step_ops fl_step_##name = { \
		.key = #name,                       \
		.help = text,                       \
		.needs_lab = true,                  \
		.parse = topo_parse,                \
		.event = topo_event,                \
		.apply = topo_apply,                \
		.heal = topo_heal,                  \
		.validate = topo_validate,          \
		.plan_heal = topo_plan_heal,        \
		.lasting = topo_lasting,            \
		.ended_by = topo_ended_by,          \
		.node_field = topo_field,           \
		.joins = topo_joins,                \
	}

TOPO_STEP(link, "a node's link down or up (carrier loss): {node: n1, state: down}");
TOPO_STEP(flap, "a node's link flaps: {node: n1, period: 2s, count: 5, down_for: 500ms}");
TOPO_STEP(join, "a node joins: n4, or {node: n4, start: true, family: ipv6}");
TOPO_STEP(leave, "a node leaves (its processes stopped): n2");
TOPO_STEP(readdress, "a node gets a new address: n1, or {node: n1, ipv4: A}");
TOPO_STEP(mtu, "the MTU of a node's link: {node: n3, mtu: 1280}");
TOPO_STEP(route, "traffic from one node to another through a third: {from: n1, to: n2, via: n3}");
