// SPDX-License-Identifier: MIT
/* The one resolver of steps' node fields: every step kind that says which
 * of its words name nodes (fl_step_ops.node_field) gets selectors (all,
 * one, minority, majority, leader, primaries, rest, roles, random-halves,
 * ring, {{ip:SEL}}) the same way, and what they resolved to goes into the
 * step's event. See steps.h and select.h. */
#include "steps.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "lab/lab.h"
#include "scenario.h"
#include "select.h"

#define MAX_FIELDS 32

struct field {
	size_t word;
	enum fl_step_field kind;
	bool selector; /* uses a keyword or role: recorded */
	bool keep; /* names no selector and something the data plane checks */
	fl_nodeset set;
	char addr[INET6_ADDRSTRLEN]; /* what an address template became */
};

struct resolution {
	const struct fl_step_ctx *c;
	const struct fl_step *st;
	struct field f[MAX_FIELDS];
	size_t n;
	fl_nodeset groups[FL_SEL_MAX_GROUPS];
	size_t n_groups;
	const char *group_sel; /* the selector of a whole partition, or NULL */
	struct fl_err *err;
};

void fl_step_free(struct fl_step *copy)
{
	if (!copy)
		return;
	for (size_t i = 0; i < copy->argc; i++)
		free(copy->argv[i]);
	free(copy->argv);
	free(copy);
}

bool fl_step_needs_leader(const struct fl_step *st)
{
	for (size_t i = 0; st->ops->node_field && i < st->argc; i++)
		if (st->ops->node_field(st, i) != FL_FIELD_NONE && fl_sel_needs_leader(st->argv[i]))
			return true;
	return false;
}

/* {{ip:SEL}} or {{ip6:SEL}}: SEL's length and whether it asks for IPv6;
 * 0 when w is no address template. */
static size_t addr_template(const char *w, bool *v6)
{
	size_t n = strlen(w), k;

	*v6 = !strncmp(w, "{{ip6:", 6);
	k = *v6 ? 6 : 5;
	if (n <= k + 2 || (!*v6 && strncmp(w, "{{ip:", 5)) || strcmp(w + n - 2, "}}"))
		return 0;
	return n - k - 2;
}

static int one_node(struct resolution *r, const struct field *f, const char *w)
{
	char buf[FL_SEL_MAX_NODES * 14];
	int n = __builtin_popcountll(f->set);

	if (n <= 1)
		return 0;
	fl_sel_format(r->c->sel, f->set, buf, sizeof(buf));
	fl_err_set(r->err,
		   "'%s' picked %d nodes (%s) where one node is needed: use leader, one, "
		   "a node's name, or a role of one node",
		   w, n, buf);
	return -EINVAL;
}

/* The address of the one node the template's selector picks, in the lab
 * as it is now (planned, or running). */
static int template_addr(struct resolution *r, struct field *f, const char *w, fl_nodeset rest)
{
	const struct fl_sel_env *e = r->c->sel;
	char sel[128];
	const struct fl_node *node = NULL;
	struct fl_sel_rng rng;
	bool v6, unknown = false;
	size_t len = addr_template(w, &v6);
	struct fl_err e2;

	snprintf(sel, sizeof(sel), "%.*s", (int)len, w + (v6 ? 6 : 5));
	fl_sel_rng_init(&rng, e->seed, r->st->index, f->word);
	if (fl_sel_nodes(e, sel, &rng, rest, &f->set, &unknown, &e2)) {
		fl_err_set(r->err, "%s: %s", w, e2.msg);
		return -EINVAL;
	}
	if (unknown || !f->set) {
		fl_err_set(r->err, "%s: '%s' is no node, role or selector of the lab", w, sel);
		return -EINVAL;
	}
	if (one_node(r, f, w))
		return -EINVAL;
	for (size_t i = 0; i < e->n && !node; i++)
		if (f->set >> i & 1)
			node = r->c->lab ? fl_lab_node(r->c->lab, e->names[i]) : NULL;
	if (!node || !(node->fam & (v6 ? FL_NODE_V6 : FL_NODE_V4))) {
		fl_err_set(r->err, "%s: the node %s has no %s address in the lab", w,
			   node ? node->name : "picked", v6 ? "IPv6" : "IPv4");
		return -EINVAL;
	}
	inet_ntop(v6 ? AF_INET6 : AF_INET, v6 ? (const void *)&node->ip6 : (const void *)&node->ip4,
		  f->addr, sizeof(f->addr));
	f->selector = true;
	return 0;
}

static int field_set(struct resolution *r, struct field *f, fl_nodeset rest)
{
	const struct fl_sel_env *e = r->c->sel;
	const char *w = r->st->argv[f->word];
	struct fl_sel_rng rng;
	bool unknown = false, v6;
	struct fl_err e2;

	if (addr_template(w, &v6) && f->kind != FL_FIELD_NODE) {
		fl_err_set(r->err,
			   "'%s': an address template is for a field of one node (a hosts "
			   "entry's addr, inject's to and from, a route's ends)",
			   w);
		return -EINVAL;
	}
	if (addr_template(w, &v6))
		return template_addr(r, f, w, rest);
	fl_sel_rng_init(&rng, e->seed, r->st->index, f->word);
	f->selector = fl_sel_has_selector(e, w);
	if (fl_sel_nodes(e, w, &rng, rest, &f->set, &unknown, &e2)) {
		fl_err_set(r->err, "%s", e2.msg);
		return -EINVAL;
	}
	if (unknown && f->selector) {
		fl_err_set(r->err, "'%s': an address or unknown node in a list with selectors", w);
		return -EINVAL;
	}
	f->keep = unknown || !f->selector;
	return f->kind == FL_FIELD_NODE && !f->keep ? one_node(r, f, w) : 0;
}

static bool has_rest(const char *w)
{
	size_t n = strlen("rest");

	for (const char *p = w; (p = strstr(p, "rest")); p += n)
		if ((p == w || p[-1] == ',') && (!p[n] || p[n] == ','))
			return true;
	return false;
}

/* `one` in a field of one node: a node the step's other fields do not
 * name (inject's `to: one, from: leader` are two nodes). */
static bool one_apart(const struct field *f, const char *w)
{
	return f->kind == FL_FIELD_NODE && !strcmp(w, "one");
}

static int pick_apart(struct resolution *r, struct field *f, fl_nodeset pool)
{
	struct fl_sel_rng rng;

	if (!pool) {
		fl_err_set(r->err, "'one' leaves no node: the step's other fields name every one");
		return -EINVAL;
	}
	fl_sel_rng_init(&rng, r->c->sel->seed, r->st->index, f->word);
	f->set = fl_sel_pick(r->c->sel, pool, 1, &rng);
	f->selector = true;
	return 0;
}

/* Fields without `rest` first, then `one` of a single-node field, then
 * `rest`: what the others left (per kind). */
static int resolve_sets(struct resolution *r, enum fl_step_field kind)
{
	fl_nodeset named = 0;

	for (int pass = 0; pass < 3; pass++) {
		for (size_t i = 0; i < r->n; i++) {
			struct field *f = &r->f[i];
			const char *w = r->st->argv[f->word];
			int want = has_rest(w) ? 2 : one_apart(f, w) ? 1 : 0;

			if ((f->kind == FL_FIELD_NODE ? FL_FIELD_NODES : f->kind) != kind ||
			    want != pass)
				continue;
			if (pass == 1 ? pick_apart(r, f, fl_sel_all(r->c->sel) & ~named) :
					field_set(r, f, fl_sel_all(r->c->sel) & ~named))
				return -EINVAL;
			if (pass < 2)
				named |= f->set;
			else if (!f->set && !f->keep) {
				fl_err_set(r->err, "'rest' leaves no node");
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* A partition given as one selector: random-halves and ring make the
 * groups, any other (leader, minority, a role) is cut from the rest. */
static int whole_partition(struct resolution *r, struct field *f)
{
	const struct fl_sel_env *e = r->c->sel;
	const char *w = r->st->argv[f->word];
	struct fl_sel_rng rng;

	if (!fl_sel_is_group_keyword(w)) {
		if (field_set(r, f, 0))
			return -EINVAL;
		if (f->keep) /* "partition n1": the data plane says what is wrong */
			return 0;
		r->groups[0] = f->set;
		r->groups[1] = fl_sel_all(e) & ~f->set;
		if (!r->groups[1]) {
			fl_err_set(r->err, "'%s' selects every node: nothing to cut it from", w);
			return -EINVAL;
		}
		r->n_groups = 2;
	} else {
		fl_sel_rng_init(&rng, e->seed, r->st->index, f->word);
		if (fl_sel_groups(e, w, &rng, r->groups, &r->n_groups, r->err))
			return -EINVAL;
	}
	f->selector = true;
	r->group_sel = w;
	return 0;
}

static int classify(struct resolution *r)
{
	size_t n_groups = 0;

	for (size_t i = 0; i < r->st->argc; i++) {
		enum fl_step_field k = r->st->ops->node_field(r->st, i);

		if (k == FL_FIELD_NONE)
			continue;
		if (r->n == MAX_FIELDS) {
			fl_err_set(r->err, "too many node fields in one step");
			return -E2BIG;
		}
		r->f[r->n++] = (struct field){ .word = i, .kind = k };
		n_groups += k == FL_FIELD_GROUPS;
	}
	if (n_groups == 1)
		for (size_t i = 0; i < r->n; i++)
			if (r->f[i].kind == FL_FIELD_GROUPS)
				return whole_partition(r, &r->f[i]);
	return resolve_sets(r, FL_FIELD_GROUPS);
}

static int push_set(struct fl_step *out, const struct fl_sel_env *e, fl_nodeset s)
{
	char buf[FL_SEL_MAX_NODES * 14];

	fl_sel_format(e, s, buf, sizeof(buf));
	return fl_step_push(out, buf);
}

static int build(struct resolution *r, struct fl_step *out)
{
	size_t k = 0;
	int ret = 0;

	for (size_t i = 0; i < r->st->argc && !ret; i++) {
		const struct field *f = k < r->n && r->f[k].word == i ? &r->f[k++] : NULL;

		if (!f || f->keep)
			ret = fl_step_push(out, r->st->argv[i]);
		else if (f->addr[0])
			ret = fl_step_push(out, f->addr);
		else if (r->group_sel && f->kind == FL_FIELD_GROUPS)
			for (size_t g = 0; g < r->n_groups && !ret; g++)
				ret = push_set(out, r->c->sel, r->groups[g]);
		else
			ret = push_set(out, r->c->sel, f->set);
	}
	return ret;
}

static void record_set(struct fl_out *o, const struct fl_sel_env *e, const char *key, fl_nodeset s)
{
	fl_out_open(o, key, '[');
	for (size_t i = 0; i < e->n; i++)
		if (s >> i & 1)
			fl_out_str(o, "", e->names[i]);
	fl_out_close(o, ']');
}

/* [{"field": "--from", "selector": "leader", "nodes": ["n2"]}, ...] */
static char *record(const struct resolution *r)
{
	struct fl_out o = { .json = true, .compact = true };
	char *buf = NULL;
	size_t len = 0, n = 0;

	for (size_t i = 0; i < r->n; i++)
		n += r->f[i].selector && !r->f[i].keep;
	if (!n || !(o.f = open_memstream(&buf, &len)))
		return NULL;
	fl_out_open(&o, "", '[');
	for (size_t i = 0; i < r->n; i++) {
		const struct field *f = &r->f[i];
		const char *prev = f->word ? r->st->argv[f->word - 1] : "";

		if (!f->selector || f->keep)
			continue;
		fl_out_open(&o, "", '{');
		fl_out_str(&o, "field",
			   f->kind == FL_FIELD_GROUPS ? "groups" :
			   !strncmp(prev, "--", 2)    ? prev :
							r->st->ops->key);
		fl_out_str(&o, "selector", r->st->argv[f->word]);
		if (f->kind == FL_FIELD_GROUPS && r->group_sel) {
			fl_out_open(&o, "groups", '[');
			for (size_t g = 0; g < r->n_groups; g++)
				record_set(&o, r->c->sel, "", r->groups[g]);
			fl_out_close(&o, ']');
		} else {
			record_set(&o, r->c->sel, "nodes", f->set);
		}
		if (f->addr[0])
			fl_out_str(&o, "addr", f->addr);
		fl_out_close(&o, '}');
	}
	fl_out_close(&o, ']');
	fclose(o.f);
	return buf;
}

int fl_step_stand_in(const struct fl_step *st, struct fl_step **out)
{
	struct fl_step *copy = calloc(1, sizeof(*copy));
	size_t groups = 0;
	int ret = copy ? 0 : -ENOMEM;

	for (size_t i = 0; st->ops->node_field && i < st->argc; i++)
		groups += st->ops->node_field(st, i) == FL_FIELD_GROUPS;
	for (size_t i = 0; i < st->argc && !ret; i++) {
		enum fl_step_field k = st->ops->node_field ? st->ops->node_field(st, i) :
							     FL_FIELD_NONE;

		bool v6;

		if (k != FL_FIELD_NONE && addr_template(st->argv[i], &v6))
			ret = fl_step_push(copy, v6 ? "fdfa:11ac::1" : "198.18.0.1");
		else if (k == FL_FIELD_NONE || !fl_sel_has_selector(NULL, st->argv[i]))
			ret = fl_step_push(copy, st->argv[i]);
		else if (k == FL_FIELD_GROUPS && groups == 1)
			ret = fl_step_push(copy, "n1") ?: fl_step_push(copy, "n2");
		else
			ret = fl_step_push(copy, "n1");
	}
	if (ret) {
		fl_step_free(copy);
		return ret;
	}
	copy->ops = st->ops;
	*out = copy;
	return 0;
}

/* What the step picked, for picked:ID in later steps. */
static void remember(const struct resolution *r)
{
	fl_nodeset set = 0;

	if (!r->c->sel || !r->c->sel->picks)
		return;
	for (size_t i = 0; i < r->n; i++)
		set |= r->f[i].set;
	if (!set && r->group_sel && r->n_groups)
		set = r->groups[0];
	fl_sel_remember(r->c->sel->picks, r->st->id, set);
}

int fl_step_resolve(const struct fl_step_ctx *c, const struct fl_step *st, struct fl_step **out,
		    char **select, struct fl_err *err)
{
	struct resolution r = { .c = c, .st = st, .err = err };
	struct fl_step *copy = calloc(1, sizeof(*copy));
	int ret = copy ? 0 : -ENOMEM;

	if (select)
		*select = NULL;
	if (ret)
		return ret;
	*copy = *st;
	copy->argv = NULL;
	copy->argc = 0;
	if (c->sel && st->ops->node_field) {
		ret = classify(&r) ?: resolve_sets(&r, FL_FIELD_NODES);
		ret = ret ?: build(&r, copy);
	} else {
		for (size_t i = 0; i < st->argc && !ret; i++)
			ret = fl_step_push(copy, st->argv[i]);
	}
	if (ret) {
		if (ret != -EINVAL)
			fl_err_set(err, "%s", strerror(-ret));
		fl_step_free(copy);
		return ret;
	}
	if (select)
		*select = record(&r);
	remember(&r);
	*out = copy;
	return 0;
}
