// SPDX-License-Identifier: MIT
/* Target files, the parts that let one scenario run against any system:
 * roles and node names, start items in order, setup/teardown/leader
 * commands, and a probe's several operations with their mix. */
#include "target_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>

#include "parse.h"
#include "select.h"
#include "fallacy/analyzer.h"

/* ---- roles and names ------------------------------------------------------ */

static int node_name(const struct fl_sut *t, size_t i, const char *role, size_t rank, char *buf,
		     size_t len, struct fl_err *err);

static int role_name(struct tctx *c, const struct fl_ynode *k)
{
	struct fl_err e;

	if (fl_validate_name("role", k->text, 16, &e))
		return fl_yerr(c->err, c->d, k, "%s", e.msg);
	if (fl_sel_is_keyword(k->text))
		return fl_yerr(c->err, c->d, k, "'%s' is a selector; name the role otherwise",
			       k->text);
	return 0;
}

/* roles: {primary: 1, replica: rest} */
int fl_tparse_roles(struct tctx *c, const struct fl_ynode *r)
{
	const struct fl_ynode *m = fl_ymap_get(r, "roles");
	const char *names = NULL;
	struct fl_sut *t = c->t;
	bool rest = false;
	char buf[64];
	struct fl_err e;

	if (fl_yget_str(c->d, r, "names", false, &names, c->err) || fl_ydup(&t->names, names))
		return -EINVAL;
	if (names && node_name(t, 0, "r", 1, buf, sizeof(buf), &e))
		return fl_yerr(c->err, c->d, fl_ymap_get(r, "names"), "%s", e.msg);
	if (!m)
		return 0;
	if (fl_yexpect(c->d, m, FL_Y_MAP, "'roles'", c->err))
		return -EINVAL;
	if (!m->n || m->n > FL_TARGET_MAX_ROLES)
		return fl_yerr(c->err, c->d, m, "'roles' takes 1 to %d roles", FL_TARGET_MAX_ROLES);
	t->roles_line = m->line;
	t->roles_col = m->col;
	for (size_t i = 0; i < m->n; i++) {
		const struct fl_ynode *k = m->keys[i], *v = m->items[i];
		struct fl_trole *ro = &t->roles[i];
		struct fl_err e;
		uint64_t n;

		if (role_name(c, k) || fl_ydup(&ro->name, k->text))
			return -EINVAL;
		t->n_roles = i + 1;
		if (v->type == FL_Y_SCALAR && !strcmp(v->text, "rest")) {
			if (rest)
				return fl_yerr(c->err, c->d, v,
					       "only one role can take the 'rest'");
			ro->rest = rest = true;
			continue;
		}
		if (v->type != FL_Y_SCALAR || fl_parse_u64(v->text, 0, 64, &n, &e))
			return fl_yerr(c->err, c->d, v,
				       "a role's size is a number of nodes or 'rest' (%s: %s)",
				       k->text, v->text ? v->text : "a collection");
		ro->count = (size_t)n;
	}
	return 0;
}

static int role_index(const struct fl_sut *t, const char *name)
{
	for (size_t i = 0; i < t->n_roles; i++)
		if (!strcmp(t->roles[i].name, name))
			return (int)i;
	return -1;
}

/* Append to buf[len] at *off; false once it no longer fits (*off never
 * passes len, so the next append cannot write past the buffer). */
static bool put(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *off) {
		*off = len - 1;
		return false;
	}
	*off += (size_t)n;
	return true;
}

/* names: "{{role}}{{rank}}": {{role}}, {{rank}} (1.. within the role),
 * {{number}} (1.. in the lab), {{index}} (0..). */
static int node_name(const struct fl_sut *t, size_t i, const char *role, size_t rank, char *buf,
		     size_t len, struct fl_err *err)
{
	const char *p = t->names;
	size_t off = 0;
	bool fits = true;

	if (!p) {
		snprintf(buf, len, "n%zu", i + 1);
		return 0;
	}
	buf[0] = '\0';
	while (*p && fits) {
		const char *o = strstr(p, "{{"), *e = o ? strstr(o, "}}") : NULL;
		size_t vl;

		if (!o || !e) {
			fits = put(buf, len, &off, "%s", p);
			break;
		}
		fits = put(buf, len, &off, "%.*s", (int)(o - p), p);
		vl = (size_t)(e - o - 2);
		if (vl == 4 && !strncmp(o + 2, "role", 4))
			fits = fits && put(buf, len, &off, "%s", role ? role : "node");
		else if (vl == 4 && !strncmp(o + 2, "rank", 4))
			fits = fits && put(buf, len, &off, "%zu", rank);
		else if (vl == 6 && !strncmp(o + 2, "number", 6))
			fits = fits && put(buf, len, &off, "%zu", i + 1);
		else if (vl == 5 && !strncmp(o + 2, "index", 5))
			fits = fits && put(buf, len, &off, "%zu", i);
		else {
			fl_err_set(err, "names: '{{%.*s}}' is not role, rank, number or index",
				   (int)vl, o + 2);
			return -EINVAL;
		}
		p = e + 2;
	}
	if (!fits) {
		fl_err_set(err, "names: a node name would be longer than %zu characters", len - 1);
		return -EINVAL;
	}
	return 0;
}

/* How many nodes each role gets of n. */
static int role_counts(const struct fl_sut *t, size_t n, size_t *count, struct fl_err *err)
{
	size_t fixed = 0;
	int rest = -1;

	for (size_t r = 0; r < t->n_roles; r++) {
		count[r] = t->roles[r].count;
		fixed += count[r];
		if (t->roles[r].rest)
			rest = (int)r;
	}
	if (rest >= 0 && fixed <= n) {
		count[rest] = n - fixed;
		return 0;
	}
	if (rest < 0 && fixed == n)
		return 0;
	fl_err_set(err, "%s:%d:%d: the roles need %s%zu nodes, the run has %zu (--nodes N)",
		   t->file, t->roles_line, t->roles_col, rest >= 0 ? "at least " : "", fixed, n);
	return -EINVAL;
}

int fl_sut_plan(const struct fl_sut *t, size_t n, struct fl_tplan *p, struct fl_err *err)
{
	size_t count[FL_TARGET_MAX_ROLES] = { 0 }, r = 0, rank = 0;
	struct fl_err e;

	memset(p, 0, sizeof(*p));
	if (n > 64) {
		fl_err_set(err, "%s: a run has at most 64 nodes", t->file);
		return -EINVAL;
	}
	if (t->n_roles && role_counts(t, n, count, err))
		return -EINVAL;
	p->n = n;
	for (size_t i = 0; i < n; i++) {
		while (t->n_roles && r < t->n_roles && rank == count[r])
			r++, rank = 0;
		p->roles[i] = t->n_roles ? t->roles[r].name : NULL;
		rank++;
		if (node_name(t, i, p->roles[i], rank, p->names[i], sizeof(p->names[i]), &e) ||
		    fl_validate_name("node name", p->names[i], 12, &e)) {
			fl_err_set(err, "%s: names: %s", t->file, e.msg);
			return -EINVAL;
		}
		for (size_t k = 0; k < i; k++)
			if (!strcmp(p->names[k], p->names[i])) {
				fl_err_set(err, "%s: names: two nodes are called '%s'", t->file,
					   p->names[i]);
				return -EINVAL;
			}
	}
	return 0;
}

bool fl_tplan_on(const char *on, const struct fl_tplan *p, size_t i)
{
	if (!on || !strcmp(on, "all"))
		return true;
	if (!strcmp(p->names[i], on))
		return true;
	return p->roles[i] && !strcmp(p->roles[i], on);
}

bool fl_tstart_on(const struct fl_tstart *s, const struct fl_tplan *p, size_t i)
{
	return fl_tplan_on(s->on, p, i);
}

/* ---- start ---------------------------------------------------------------- */

/* role: R or node: N (not both) into *on; a role must be declared. */
static int parse_on(struct tctx *c, const struct fl_ynode *m, char **on)
{
	const struct fl_ynode *r = fl_ymap_get(m, "role"), *n = fl_ymap_get(m, "node");
	const struct fl_ynode *v = r ? r : n;
	const char *name;

	if (r && n)
		return fl_yerr(c->err, c->d, n, "give 'role' or 'node', not both");
	if (!v)
		return 0;
	if (v->type != FL_Y_SCALAR || fl_yis_null(v))
		return fl_yerr(c->err, c->d, v, "'%s' must be a single name", r ? "role" : "node");
	name = v->text;
	if (r && role_index(c->t, name) < 0) {
		const char *cand[FL_TARGET_MAX_ROLES];
		const char *s;

		for (size_t i = 0; i < c->t->n_roles; i++)
			cand[i] = c->t->roles[i].name;
		s = fl_suggest(name, cand, c->t->n_roles);
		if (s)
			return fl_yerr(c->err, c->d, v, "unknown role '%s' (did you mean '%s'?)",
				       name, s);
		return fl_yerr(c->err, c->d, v, "unknown role '%s' (the target's roles: %s)", name,
			       c->t->n_roles ? "see 'roles'" : "none; declare them in 'roles'");
	}
	return fl_ydup(on, name);
}

static int parse_ready(struct tctx *c, const struct fl_ynode *s, struct fl_tstart *st)
{
	static const char *const rkeys[] = { "run", "timeout", NULL };
	const struct fl_ynode *r = fl_ymap_get(s, "ready");

	st->ready_timeout_ns = FL_TARGET_READY_TIMEOUT_NS;
	if (!r)
		return 0;
	if (r->type == FL_Y_SCALAR)
		return fl_tget_tmpl(c, s, "ready", true, &st->ready_run);
	if (fl_yexpect(c->d, r, FL_Y_MAP, "'ready'", c->err) ||
	    fl_ycheck_keys(c->d, r, "'ready'", rkeys, c->err) ||
	    fl_tget_tmpl(c, r, "run", true, &st->ready_run) ||
	    fl_yget_duration(c->d, r, "timeout", false, &st->ready_timeout_ns, c->err))
		return -EINVAL;
	return 0;
}

static int parse_start_item(struct tctx *c, const struct fl_ynode *s, struct fl_tstart *st,
			    bool listed)
{
	static const char *const mkeys[] = { "run", "ready", "user", "env", NULL };
	static const char *const lkeys[] = { "run",  "ready", "user", "env",
					     "role", "node",  "name", NULL };
	const char *user = NULL, *name = NULL;
	struct fl_err e;

	st->line = s->line;
	st->col = s->col;
	if (fl_yexpect(c->d, s, FL_Y_MAP, listed ? "an item of 'start'" : "'start'", c->err) ||
	    fl_ycheck_keys(c->d, s, "'start'", listed ? lkeys : mkeys, c->err) ||
	    fl_tget_tmpl(c, s, "run", true, &st->run) ||
	    fl_yget_str(c->d, s, "user", false, &user, c->err) || fl_ydup(&st->user, user) ||
	    fl_yget_str(c->d, s, "name", false, &name, c->err) ||
	    fl_tparse_env(c, fl_ymap_get(s, "env"), &st->env, &st->n_env) ||
	    parse_on(c, s, &st->on) || parse_ready(c, s, st))
		return -EINVAL;
	if (name && fl_validate_name("name", name, 16, &e))
		return fl_yerr(c->err, c->d, fl_ymap_get(s, "name"), "%s", e.msg);
	return fl_ydup(&st->name, name ? name : st->on ? st->on : "target");
}

/* Two items running a process of the same name on one node would make
 * kill/restart ambiguous. */
static int check_names(struct tctx *c, const struct fl_ynode *s)
{
	const struct fl_sut *t = c->t;

	for (size_t i = 0; i < t->n_starts; i++)
		for (size_t k = 0; k < i; k++) {
			const struct fl_tstart *a = &t->starts[k], *b = &t->starts[i];
			bool overlap = !a->on || !b->on || !strcmp(a->on, b->on);

			if (overlap && !strcmp(a->name, b->name))
				return fl_yerr(c->err, c->d, s->items[i],
					       "two start items run '%s' on the same nodes; give "
					       "one a 'name'",
					       a->name);
		}
	return 0;
}

int fl_tparse_starts(struct tctx *c, const struct fl_ynode *s)
{
	struct fl_sut *t = c->t;

	if (s->type == FL_Y_SEQ) {
		if (!s->n || s->n > FL_TARGET_MAX_STARTS)
			return fl_yerr(c->err, c->d, s, "'start' takes 1 to %d items",
				       FL_TARGET_MAX_STARTS);
		for (size_t i = 0; i < s->n; i++) {
			t->n_starts = i + 1;
			if (parse_start_item(c, s->items[i], &t->starts[i], true))
				return -EINVAL;
		}
		if (check_names(c, s))
			return -EINVAL;
	} else {
		t->n_starts = 1;
		if (parse_start_item(c, s, &t->starts[0], false))
			return -EINVAL;
		/* a start: map's env reaches every command, as the target's does */
		t->env = t->starts[0].env;
		t->n_env = t->starts[0].n_env;
	}
	t->start_run = t->starts[0].run;
	t->ready_run = t->starts[0].ready_run;
	t->ready_timeout_ns = t->starts[0].ready_timeout_ns;
	t->user = t->starts[0].user;
	return 0;
}

/* ---- setup, teardown, leader ---------------------------------------------- */

/* gcc 12 -fanalyzer false positive (fallacy/analyzer.h): cmd->run belongs to the target; cmd_free frees it */
FL_LEAK_FP_BEGIN
static int parse_cmd(struct tctx *c, const struct fl_ynode *parent, const struct fl_ynode *v,
		     const char *what, uint64_t timeout, struct fl_tcmd *cmd)
{
	static const char *const keys[] = { "run", "role", "node", "timeout", NULL };

	cmd->line = v->line;
	cmd->col = v->col;
	cmd->timeout_ns = timeout;
	if (v->type == FL_Y_SCALAR)
		return fl_tget_tmpl(c, parent, what, true, &cmd->run);
	if (fl_yexpect(c->d, v, FL_Y_MAP, what, c->err) ||
	    fl_ycheck_keys(c->d, v, what, keys, c->err) ||
	    fl_tget_tmpl(c, v, "run", true, &cmd->run) || parse_on(c, v, &cmd->on) ||
	    fl_yget_duration(c->d, v, "timeout", false, &cmd->timeout_ns, c->err))
		return -EINVAL;
	if (!cmd->timeout_ns)
		return fl_yerr(c->err, c->d, fl_ymap_get(v, "timeout"), "'timeout' must be > 0");
	return 0;
}
FL_LEAK_FP_END

static int parse_cmds(struct tctx *c, const struct fl_ynode *r, const char *key,
		      struct fl_tcmd *cmds, size_t *n)
{
	const struct fl_ynode *v = fl_ymap_get(r, key);

	if (!v)
		return 0;
	if (v->type != FL_Y_SEQ) {
		*n = 1;
		return parse_cmd(c, r, v, key, FL_TARGET_CMD_TIMEOUT_NS, &cmds[0]);
	}
	if (v->n > FL_TARGET_MAX_CMDS)
		return fl_yerr(c->err, c->d, v, "'%s' takes at most %d commands", key,
			       FL_TARGET_MAX_CMDS);
	for (size_t i = 0; i < v->n; i++) {
		*n = i + 1;
		if (v->items[i]->type == FL_Y_SCALAR) {
			struct fl_err e;

			cmds[i].line = v->items[i]->line;
			cmds[i].col = v->items[i]->col;
			cmds[i].timeout_ns = FL_TARGET_CMD_TIMEOUT_NS;
			if (fl_template_check(v->items[i]->text, &e))
				return fl_yerr(c->err, c->d, v->items[i], "%s", e.msg);
			if (fl_ydup(&cmds[i].run, v->items[i]->text))
				return -ENOMEM;
		} else if (parse_cmd(c, r, v->items[i], key, FL_TARGET_CMD_TIMEOUT_NS, &cmds[i])) {
			return -EINVAL;
		}
	}
	return 0;
}

int fl_tparse_cmds(struct tctx *c, const struct fl_ynode *r)
{
	struct fl_sut *t = c->t;
	const struct fl_ynode *l = fl_ymap_get(r, "leader");

	if (parse_cmds(c, r, "setup", t->setup, &t->n_setup) ||
	    parse_cmds(c, r, "teardown", t->teardown, &t->n_teardown))
		return -EINVAL;
	if (!l)
		return 0;
	t->leader = calloc(1, sizeof(*t->leader));
	if (!t->leader)
		return -ENOMEM;
	return parse_cmd(c, r, l, "leader", FL_TARGET_LEADER_TIMEOUT_NS, t->leader);
}

/* ---- probe operations ------------------------------------------------------ */

/* f: the op's function in the history (none: not part of it). */
static int parse_op_f(struct tctx *c, const struct fl_ynode *v, struct fl_top *op)
{
	static const char *const fs[] = { "read", "write", "cas", "get", "put", "append", NULL };
	const struct fl_ynode *f = v->type == FL_Y_MAP ? fl_ymap_get(v, "f") : NULL;

	if (!f)
		return 0;
	for (size_t k = 0; f->type == FL_Y_SCALAR && fs[k]; k++)
		if (!strcmp(f->text, fs[k])) {
			snprintf(op->f, sizeof(op->f), "%s", fs[k]);
			return 0;
		}
	return fl_yerr(c->err, c->d, f,
		       "unknown 'f' '%s' (use read, write, cas, get, put or append)",
		       f->type == FL_Y_SCALAR ? f->text : "");
}

static int parse_op(struct tctx *c, const struct fl_ynode *ops, size_t i, struct fl_top *op)
{
	static const char *const keys[] = { "run", "env", "f", "key", NULL };
	const struct fl_ynode *k = ops->keys[i], *v = ops->items[i];
	struct fl_err e;

	if (fl_validate_name("op", k->text, 48, &e))
		return fl_yerr(c->err, c->d, k, "%s", e.msg);
	if (fl_ydup(&op->name, k->text))
		return -ENOMEM;
	op->weight = 1;
	if (v->type == FL_Y_SCALAR) {
		if (fl_tget_tmpl(c, ops, k->text, true, &op->run))
			return -EINVAL;
	} else if (fl_yexpect(c->d, v, FL_Y_MAP, "an operation", c->err) ||
		   fl_ycheck_keys(c->d, v, "an operation", keys, c->err) ||
		   fl_tget_tmpl(c, v, "run", true, &op->run) ||
		   fl_tget_tmpl(c, v, "key", false, &op->key) ||
		   fl_tparse_env(c, fl_ymap_get(v, "env"), &op->env, &op->n_env)) {
		return -EINVAL;
	}
	op->uses_value = strstr(op->run, "{{value}}") || strstr(op->run, "{{ value }}");
	return parse_op_f(c, v, op);
}

static int parse_mix(struct tctx *c, const struct fl_ynode *m)
{
	struct fl_sut *t = c->t;
	uint64_t total = 0;

	if (!m)
		return 0;
	if (fl_yexpect(c->d, m, FL_Y_MAP, "'mix'", c->err))
		return -EINVAL;
	for (size_t i = 0; i < m->n; i++) {
		size_t k = 0;
		uint64_t w;

		if (m->keys[i]->type != FL_Y_SCALAR)
			return fl_yerr(c->err, c->d, m->keys[i], "keys in 'mix' name operations");
		while (k < t->n_ops && strcmp(t->ops[k].name, m->keys[i]->text))
			k++;
		if (k == t->n_ops)
			return fl_yerr(c->err, c->d, m->keys[i],
				       "'mix' names '%s', which is not one of 'ops'",
				       m->keys[i]->text);
		if (fl_yget_u64(c->d, m, m->keys[i]->text, true, 0, 1000000, &w, c->err))
			return -EINVAL;
		t->ops[k].weight = w;
	}
	for (size_t k = 0; k < t->n_ops; k++)
		total += t->ops[k].weight;
	if (!total)
		return fl_yerr(c->err, c->d, m, "'mix' gives every operation a weight of 0");
	return 0;
}

int fl_tparse_ops(struct tctx *c, const struct fl_ynode *p)
{
	const struct fl_ynode *ops = fl_ymap_get(p, "ops");
	struct fl_sut *t = c->t;

	if (ops && fl_ymap_get(p, "run"))
		return fl_yerr(c->err, c->d, fl_ymap_key(p, "ops"),
			       "a probe has a 'run' (one operation) or 'ops', not both");
	if (!ops) {
		if (fl_ymap_get(p, "mix"))
			return fl_yerr(c->err, c->d, fl_ymap_key(p, "mix"), "'mix' needs 'ops'");
		t->n_ops = 1;
		t->ops[0].weight = 1;
		t->ops[0].uses_value = strstr(t->load_run, "{{value}}") != NULL;
		return fl_ydup(&t->ops[0].name, t->load_op) ?: fl_ydup(&t->ops[0].run, t->load_run);
	}
	if (fl_ymap_get(p, "op"))
		return fl_yerr(c->err, c->d, fl_ymap_key(p, "op"),
			       "'op' names the one operation of 'run'; with 'ops' the keys "
			       "name them");
	if (fl_yexpect(c->d, ops, FL_Y_MAP, "'ops'", c->err))
		return -EINVAL;
	if (!ops->n || ops->n > FL_TARGET_MAX_OPS)
		return fl_yerr(c->err, c->d, ops, "'ops' takes 1 to %d operations",
			       FL_TARGET_MAX_OPS);
	for (size_t i = 0; i < ops->n; i++) {
		t->n_ops = i + 1;
		if (parse_op(c, ops, i, &t->ops[i]))
			return -EINVAL;
	}
	free(t->load_run);
	free(t->load_op);
	t->load_run = t->load_op = NULL;
	return fl_ydup(&t->load_run, t->ops[0].run)	    ?:
		       fl_ydup(&t->load_op, t->ops[0].name) ?:
							      parse_mix(c, fl_ymap_get(p, "mix"));
}

/* ---- freeing --------------------------------------------------------------- */

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static void cmd_free(struct fl_tcmd *c)
{
	free(c->on);
	free(c->run);
}

void fl_tfree_roles(struct fl_sut *t)
{
	for (size_t i = 0; i < t->n_roles; i++)
		free(t->roles[i].name);
	free(t->names);
	for (size_t i = 0; i < t->n_starts; i++) {
		struct fl_tstart *s = &t->starts[i];

		free(s->name);
		free(s->on);
		free(s->run);
		free(s->ready_run);
		free(s->user);
		strv_free(s->env, s->n_env);
	}
	for (size_t i = 0; i < t->n_setup; i++)
		cmd_free(&t->setup[i]);
	for (size_t i = 0; i < t->n_teardown; i++)
		cmd_free(&t->teardown[i]);
	if (t->leader)
		cmd_free(t->leader);
	free(t->leader);
	for (size_t i = 0; i < t->n_ops; i++) {
		free(t->ops[i].name);
		free(t->ops[i].run);
		free(t->ops[i].key);
		strv_free(t->ops[i].env, t->ops[i].n_env);
	}
}
