// SPDX-License-Identifier: MIT
/* The table of timeline step kinds, the helpers their parsers share, and
 * the first kinds: fault (any fault kind, by the kinds' own tables),
 * partition (node groups) and heal. See steps.h. */
#include "steps.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults/fault.h"
#include "invrun.h"
#include "lab/lab.h"
#include "scenario.h"
#include "fallacy/analyzer.h"
#include "select.h"
#include "target.h"

/* ---- helpers -------------------------------------------------------------- */

/* gcc 12 -fanalyzer false positive (fallacy/analyzer.h): the word belongs to st->argv; the step's owner frees it */
FL_LEAK_FP_BEGIN
int fl_step_push(struct fl_step *st, const char *w)
{
	char **v = realloc(st->argv, (st->argc + 2) * sizeof(char *));

	if (!v)
		return -ENOMEM;
	st->argv = v;
	v[st->argc] = strdup(w);
	if (!v[st->argc])
		return -ENOMEM;
	v[++st->argc] = NULL;
	return 0;
}
FL_LEAK_FP_END

/* Words separated by blanks; a word with blanks in it is written in
 * double quotes, with \" and \\ inside (what fl_step_words writes). */
int fl_step_push_words(struct fl_step *st, const char *text)
{
	char *w = malloc(strlen(text) + 1);
	const char *p = text;
	int ret = 0;

	if (!w)
		return -ENOMEM;
	while (!ret) {
		size_t n = 0;

		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
					p++;
				w[n++] = *p;
			}
			if (*p == '"')
				p++;
		} else {
			while (*p && *p != ' ' && *p != '\t' && *p != '\n')
				w[n++] = *p++;
		}
		w[n] = '\0';
		ret = fl_step_push(st, w);
	}
	free(w);
	return ret;
}

int fl_ystep_scalar(struct fl_step_parse *p, const struct fl_ynode *v, const char *key)
{
	if (v->type != FL_Y_SCALAR || fl_yis_null(v))
		return fl_yerr(p->err, p->d, v, "'%s' must be a single value", key);
	return 0;
}

int fl_ystep_nodes(struct fl_step_parse *p, const struct fl_ynode *v, const char *key, char *buf,
		   size_t len)
{
	size_t off = 0;

	if (v->type == FL_Y_SCALAR && !fl_yis_null(v)) {
		if (!v->text[0]) /* e.g. a tagged empty value: ![n1] */
			return fl_yerr(p->err, p->d, v, "'%s' needs a node name", key);
		snprintf(buf, len, "%s", v->text);
		return 0;
	}
	if (v->type != FL_Y_SEQ || !v->n)
		return fl_yerr(p->err, p->d, v, "'%s' must be a node name or a list of them", key);
	buf[0] = 0;
	for (size_t i = 0; i < v->n; i++) {
		const struct fl_ynode *it = v->items[i];

		if (it->type != FL_Y_SCALAR || fl_yis_null(it) || !it->text[0])
			return fl_yerr(p->err, p->d, it, "items of '%s' must be node names", key);
		off += snprintf(buf + off, off < len ? len - off : 0, "%s%s", i ? "," : "",
				it->text);
	}
	if (off >= len)
		return fl_yerr(p->err, p->d, v, "'%s': list too long", key);
	return 0;
}

int fl_ystep_flag(struct fl_step_parse *p, const struct fl_ynode *v, const char *key, bool *on)
{
	if (fl_ystep_scalar(p, v, key))
		return -EINVAL;
	if (strcmp(v->text, "true") && strcmp(v->text, "false"))
		return fl_yerr(p->err, p->d, v, "'%s' must be true or false", key);
	*on = !strcmp(v->text, "true");
	return 0;
}

const struct fl_step *fl_step_find(const struct fl_scenario *sc, const char *id)
{
	for (size_t i = 0; i < sc->n_steps; i++)
		if (!fl_step_is_heal(&sc->steps[i]) && !strcmp(sc->steps[i].id, id))
			return &sc->steps[i];
	return NULL;
}

bool fl_step_is_heal(const struct fl_step *st)
{
	return st->ops == &fl_step_heal;
}

/* ---- fault ----------------------------------------------------------------- */

/* Bytes: a quoted YAML string is the text itself (YAML escapes work), a
 * plain one the CLI's hex digits or '"text"'; pushed as the one canonical
 * word, which survives the resolved scenario's split at spaces. */
static int bytes_value(struct fl_step_parse *p, struct fl_step *st, const struct fl_param *pr,
		       const struct fl_ynode *v)
{
	char word[2 * FL_TEXT_MAX + 3];
	struct fl_bytes b = { 0 };
	size_t n = strlen(v->text);
	struct fl_err e;

	if (!v->plain && n && n <= FL_TEXT_MAX) {
		memcpy(b.b, v->text, n);
		b.len = (uint32_t)n;
	} else if (fl_bytes_parse(pr->name, v->text, &b, &e)) {
		return fl_yerr(p->err, p->d, v, "bad value for '%s': %s", pr->name, e.msg);
	}
	fl_bytes_format(&b, word, sizeof(word));
	if (fl_param_check(pr, word, &e))
		return fl_yerr(p->err, p->d, v, "bad value for '%s': %s", pr->name, e.msg);
	return fl_step_push(st, word);
}

/* One value checked by the kind's own parser, at its own position. */
static int param_value(struct fl_step_parse *p, struct fl_step *st, const struct fl_param *pr,
		       const struct fl_ynode *v)
{
	struct fl_err e;

	if (fl_ystep_scalar(p, v, pr->name))
		return -EINVAL;
	if (pr->type == FL_PT_BYTES)
		return bytes_value(p, st, pr, v);
	if (fl_param_check(pr, v->text, &e))
		return fl_yerr(p->err, p->d, v, "bad value for '%s': %s", pr->name, e.msg);
	return fl_step_push(st, v->text);
}

/* A kind parameter's YAML value into the words of `fault add`. */
static int fault_param(struct fl_step_parse *p, struct fl_step *st, const struct fl_param *pr,
		       const struct fl_ynode *v, bool bare)
{
	char buf[512];
	bool on = false;
	int ret = 0;

	if (pr->type == FL_PT_FLAG)
		return fl_ystep_flag(p, v, pr->name, &on) ?: on ? fl_step_push(st, pr->name) : 0;
	if (!bare && (ret = fl_step_push(st, pr->name)))
		return ret;
	if (pr->type == FL_PT_GROUPS) {
		if (v->type != FL_Y_SEQ)
			return fl_yerr(p->err, p->d, v,
				       "'%s' must be a list of node groups, e.g. [[n1], [n2, n3]]",
				       pr->name);
		for (size_t i = 0; i < v->n && !ret; i++)
			ret = fl_ystep_nodes(p, v->items[i], pr->name, buf, sizeof(buf)) ?:
				      fl_step_push(st, buf);
		return ret;
	}
	if (pr->type == FL_PT_PERCENTS && v->type == FL_Y_SEQ) {
		if (v->n < (pr->min ? pr->min : 1) || v->n > pr->max)
			return fl_yerr(p->err, p->d, v, "'%s' takes %llu to %llu percentages",
				       pr->name, (unsigned long long)(pr->min ? pr->min : 1),
				       (unsigned long long)pr->max);
		for (size_t i = 0; i < v->n && !ret; i++)
			ret = param_value(p, st, pr, v->items[i]);
		return ret;
	}
	return param_value(p, st, pr, v);
}

/* A match option's YAML value into "--name value". */
static int fault_option(struct fl_step_parse *p, struct fl_step *st,
			const struct fl_fault_option *o, const struct fl_ynode *v)
{
	char buf[512];
	bool on = false;

	if (!o->takes_value)
		return fl_ystep_flag(p, v, o->yaml, &on) ?: on ? fl_step_push(st, o->name) : 0;
	if (o->node_list) {
		if (fl_ystep_nodes(p, v, o->yaml, buf, sizeof(buf)))
			return -EINVAL;
	} else {
		if (fl_ystep_scalar(p, v, o->yaml))
			return -EINVAL;
		snprintf(buf, sizeof(buf), "%s", v->text);
	}
	return fl_step_push(st, o->name) ?: fl_step_push(st, buf);
}

/* A fault map's duration is the step's: the timeline heals it (and its
 * heal event closes the window), as a step's `duration:` does. */
static int fault_duration(struct fl_step_parse *p, struct fl_step *st, const struct fl_ynode *f)
{
	if (fl_yget_duration(p->d, f, "duration", false, &st->duration_ns, p->err))
		return -EINVAL;
	if (!st->duration_ns)
		return fl_yerr(p->err, p->d, fl_ymap_get(f, "duration"),
			       "'duration' must be > 0 (or leave it out)");
	return 0;
}

static const struct fault_ops *fault_kind(struct fl_step_parse *p, const struct fl_ynode *f)
{
	const struct fl_ynode *k = fl_ymap_get(f, "kind");
	const struct fault_ops *ops;
	struct fl_err e;

	if (!k) {
		char list[256] = "";

		for (int i = 0; fl_fault_kinds[i]; i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 i ? ", " : "", fl_fault_kinds[i]->name);
		fl_yerr(p->err, p->d, f, "fault needs a 'kind' (one of: %s)", list);
		return NULL;
	}
	if (fl_ystep_scalar(p, k, "kind"))
		return NULL;
	ops = fl_fault_kind(k->text);
	if (!ops) {
		fl_fault_unknown_kind(k->text, &e);
		fl_yerr(p->err, p->d, k, "%s", e.msg);
	}
	return ops;
}

/* The keys a fault of kind ops may have: kind, its parameters, options. */
static int fault_keys(struct fl_step_parse *p, const struct fl_ynode *f,
		      const struct fault_ops *ops)
{
	const char *allowed[64];
	size_t n = 0;
	char what[64];

	allowed[n++] = "kind";
	for (const struct fl_param *pr = ops->params; pr->name && n < 40; pr++)
		allowed[n++] = pr->name;
	for (const struct fl_fault_option *o = fl_fault_options; o->name && n < 62; o++)
		if (o->yaml)
			allowed[n++] = o->yaml;
	allowed[n] = NULL;
	snprintf(what, sizeof(what), "a '%s' fault", ops->name);
	return fl_ycheck_keys(p->d, f, what, allowed, p->err);
}

/* The words, checked by the same parser as `fault add` (node names are
 * checked against the target's nodes once they are known: validate;
 * selectors stand for nodes until then). */
static int fault_check(struct fl_step_parse *p, struct fl_step *st, const struct fl_ynode *at)
{
	struct fl_fault *f = calloc(1, sizeof(*f));
	struct fl_step *stand = NULL;
	struct fl_err e;
	int ret;

	if (!f)
		return -ENOMEM;
	st->ops = &fl_step_fault;
	ret = fl_step_stand_in(st, &stand);
	if (ret) {
		free(f);
		return ret;
	}
	ret = fl_fault_parse(f, (int)stand->argc, stand->argv, NULL, &e);
	fl_step_free(stand);
	/* without a lab, node names cannot resolve yet */
	if (ret && strstr(e.msg, "node names work in labs only"))
		ret = 0;
	free(f);
	return ret ? fl_yerr(p->err, p->d, at, "%s", e.msg) : 0;
}

/* fault: "delay 200ms --from n1" (the words of `fault add`), or
 * fault: {kind: K, PARAM: V, ..., from: .., to: ..}: keys from the kind's
 * table; the first positional parameter goes without its name. */
static int fault_parse(struct fl_step_parse *p, struct fl_step *st, const struct fl_ynode *step,
		       const struct fl_ynode *f)
{
	const struct fault_ops *ops;
	struct fl_err e;
	bool first = true;
	int ret;

	(void)step;
	if (f->type == FL_Y_SCALAR && !fl_yis_null(f)) {
		ret = fl_step_push_words(st, f->text);
		if (ret)
			return ret;
		if (!st->argc)
			return fl_yerr(
				p->err, p->d, f,
				"'fault' needs a kind and its parameters, e.g. \"loss 5%%\"");
		if (!fl_fault_kind(st->argv[0])) {
			fl_fault_unknown_kind(st->argv[0], &e);
			return fl_yerr(p->err, p->d, f, "%s", e.msg);
		}
		return fault_check(p, st, f);
	}
	if (fl_yexpect(p->d, f, FL_Y_MAP, "'fault'", p->err))
		return -EINVAL;
	ops = fault_kind(p, f);
	if (!ops)
		return -EINVAL;
	ret = fault_keys(p, f, ops) ?: fl_step_push(st, ops->name);
	for (const struct fl_param *pr = ops->params; pr->name && !ret; pr++) {
		const struct fl_ynode *v = fl_ymap_get(f, pr->name);
		bool bare = first && (pr->flags & FL_PF_POSITIONAL);

		if (pr->flags & FL_PF_POSITIONAL)
			first = false;
		if (v)
			ret = fault_param(p, st, pr, v, bare);
	}
	for (const struct fl_fault_option *o = fl_fault_options; o->name && !ret; o++) {
		const struct fl_ynode *v = o->yaml ? fl_ymap_get(f, o->yaml) : NULL;

		if (v && !strcmp(o->name, "--duration")) /* the step's duration */
			ret = fault_duration(p, st, f);
		else if (v)
			ret = fault_option(p, st, o, v);
	}
	return ret ?: fault_check(p, st, f);
}

/* A partition of node groups is a fault too; its events say so. */
static const char *fault_event(const struct fl_step *st)
{
	return st->argc > 2 && !strcmp(st->argv[0], "partition") ? "partition" : "fault";
}

/* The step's typed fault, against the lab when there is one. */
static int step_fault(struct fl_step_ctx *c, const struct fl_step *st, struct fl_fault *f,
		      struct fl_err *err)
{
	if (fl_fault_parse(f, (int)st->argc, st->argv, c->lab, err))
		return -EINVAL;
	snprintf(f->id, sizeof(f->id), "%s", st->id);
	if (!f->seed_given) {
		f->seed = c->seed;
		f->seed_given = true;
	}
	if (c->adapt)
		c->adapt(c, f);
	return 0;
}

static int fault_apply(struct fl_step_ctx *c, const struct fl_step *st, struct fl_err *err)
{
	struct fl_fault *f = calloc(1, sizeof(*f));
	char *msg = NULL;
	int ret;

	if (!f)
		return -ENOMEM;
	if (c->inv) { /* each node's agent, its whole set */
		free(f);
		return fl_invrun_apply(c->inv, st, c->seed, err);
	}
	ret = step_fault(c, st, f, err);
	if (!ret)
		ret = fl_session_refusal(fl_fault_add(&c->target, f, &msg), &msg, err);
	free(f);
	return ret;
}

/* The request's answer in err, without its trailing newline. */
static int request(struct fl_step_ctx *c, char **argv, int argc, bool json, char **out,
		   struct fl_err *err)
{
	char *msg = NULL;
	return fl_session_refusal(fl_fault_request(&c->target, argc, argv, json, out, &msg), &msg,
				  err);
}

/* fault del ID, after reading the fault's counters (fault list -j). */
static int fault_heal(struct fl_step_ctx *c, const struct fl_step *st, char *counters, size_t len,
		      struct fl_err *err)
{
	char *list[] = { "list", NULL }, *del[] = { "del", (char *)st->id, NULL }, *out = NULL;
	struct fl_err lerr;
	int ret;

	if (c->inv)
		return fl_invrun_heal(c->inv, st->id, err);
	if (c->before_heal)
		c->before_heal(c, st->id);
	if (!request(c, list, 1, true, &out, &lerr) && out && out[0]) {
		for (char *s = out; *s; s++) /* one line: JSON newlines are whitespace */
			if (*s == '\n' || *s == '\r')
				*s = ' ';
		if (strlen(out) < len)
			snprintf(counters, len, "%s", out);
	}
	free(out);
	out = NULL;
	ret = request(c, del, 2, false, &out, err);
	free(out);
	return ret;
}

/* Node names and groups against the lab the run will have. */
static int fault_validate(const struct fl_step *st, struct fl_lab *lab, struct fl_err *err)
{
	struct fl_rule *rules = calloc(FL_FAULT_MAX_RULES, sizeof(*rules));
	struct fl_fault *f = calloc(1, sizeof(*f));
	int ret = -ENOMEM;

	if (rules && f)
		ret = fl_fault_parse(f, (int)st->argc, st->argv, lab, err) ||
				      fl_fault_rules(f, lab, rules, FL_FAULT_MAX_RULES, err) < 0 ?
			      -EINVAL :
			      0;
	free(rules);
	free(f);
	return ret;
}

/* The words that name nodes: the values of --from, --to and --node, and
 * the groups of a kind that has them (partition). */
static enum fl_step_field fault_field(const struct fl_step *st, size_t i)
{
	const struct fault_ops *ops = st->argc ? fl_fault_kind(st->argv[0]) : NULL;
	const struct fl_fault_option *o;

	if (!ops || !i)
		return FL_FIELD_NONE;
	o = fl_fault_option(st->argv[i - 1]);
	if (o && o->takes_value)
		return o->node_list ? FL_FIELD_NODES : FL_FIELD_NONE;
	if (!strncmp(st->argv[i], "--", 2) || fl_kind_param(ops, st->argv[i]))
		return FL_FIELD_NONE;
	for (size_t k = 1; k < i; k++) /* groups come before the options */
		if (!strncmp(st->argv[k], "--", 2))
			return FL_FIELD_NONE;
	for (const struct fl_param *pr = ops->params; pr->name; pr++)
		if (pr->type == FL_PT_GROUPS)
			return FL_FIELD_GROUPS;
	return FL_FIELD_NONE;
}

const struct fl_step_ops fl_step_fault = {
	.key = "fault",
	.node_field = fault_field,
	.help = "add a fault (any kind of fallacy fault add, as words or as a map)",
	.parse = fault_parse,
	.event = fault_event,
	.apply = fault_apply,
	.heal = fault_heal,
	.validate = fault_validate,
};

/* ---- partition ------------------------------------------------------------- */

static const char *const partition_keys[] = { "oneway", NULL };

/* partition: [[n1], [n2, n3]] (+ oneway: true): a fault of kind partition */
static int partition_parse(struct fl_step_parse *p, struct fl_step *st, const struct fl_ynode *step,
			   const struct fl_ynode *v)
{
	const struct fl_ynode *o = fl_ymap_get(step, "oneway");
	char buf[512];
	bool oneway = false;
	int ret;

	if (v->type == FL_Y_SCALAR && !fl_yis_null(v)) { /* a selector, or the words */
		ret = fl_step_push(st, "partition") ?: fl_step_push_words(st, v->text);
	} else if (v->type != FL_Y_SEQ || v->n < 2) {
		return fl_yerr(p->err, p->d, v,
			       "'partition' must be a list of two or more groups, e.g. [[n1], "
			       "[n2, n3]], or a selector (random-halves, ring, minority, one, "
			       "leader, a role)");
	} else {
		ret = fl_step_push(st, "partition");
		for (size_t i = 0; i < v->n && !ret; i++)
			ret = fl_ystep_nodes(p, v->items[i], "partition", buf, sizeof(buf)) ?:
				      fl_step_push(st, buf);
	}
	if (!ret && o)
		ret = fl_ystep_flag(p, o, "oneway", &oneway) ?:
			      oneway			     ? fl_step_push(st, "oneway") :
							       0;
	/* from here on it is a fault step (printed as fault: "partition ..."),
	 * checked like one (a group "--n2" is refused here, not when the
	 * resolved scenario is read again: found by fuzz_scenario) */
	return ret ?: fault_check(p, st, v);
}

const struct fl_step_ops fl_step_partition = {
	.key = "partition",
	.help = "split the lab into groups of nodes that cannot reach each other",
	.extra_keys = partition_keys,
	.needs_lab = true,
	.parse = partition_parse,
	.event = fault_event,
	.apply = fault_apply,
	.heal = fault_heal,
	.validate = fault_validate,
	.node_field = fault_field,
};

/* ---- heal ----------------------------------------------------------------- */

/* heal: ID | all. The timeline itself undoes the steps (their heal hooks). */
static int heal_parse(struct fl_step_parse *p, struct fl_step *st, const struct fl_ynode *step,
		      const struct fl_ynode *h)
{
	if (fl_ystep_scalar(p, h, "heal"))
		return -EINVAL;
	if (fl_ymap_get(step, "id"))
		return fl_yerr(p->err, p->d, fl_ymap_key(step, "id"),
			       "a 'heal' step takes no 'id'");
	if (strcmp(h->text, "all") && !fl_step_find(p->sc, h->text))
		return fl_yerr(p->err, p->d, h,
			       "'heal: %s' names no earlier step (use an 'id' given above, or "
			       "'all')",
			       h->text);
	snprintf(st->heal, sizeof(st->heal), "%s", h->text);
	return fl_step_push(st, h->text);
}

const struct fl_step_ops fl_step_heal = {
	.key = "heal",
	.help = "undo one earlier step (by its id) or every active one (all)",
	.parse = heal_parse,
};

/* ---- validating a timeline ------------------------------------------------- */

static void heal_plan(const struct fl_step **active, size_t *n, const char *id,
		      const struct fl_lab *lab0, struct fl_lab *lab)
{
	for (size_t i = *n; i-- > 0;) {
		if (strcmp(id, "all") && strcmp(active[i]->id, id))
			continue;
		if (active[i]->ops->plan_heal)
			active[i]->ops->plan_heal(active[i], lab0, lab);
		memmove(&active[i], &active[i + 1], (*n - i - 1) * sizeof(active[0]));
		(*n)--;
	}
}

/* A node that joins becomes a node selectors know, with the role the
 * target's roles: give the next node (a run one node larger). */
static void env_join(struct fl_sel_env *env, const struct fl_sut *t, const char *node)
{
	struct fl_tplan p;
	struct fl_err e;

	for (size_t i = 0; i < env->n; i++)
		if (!strcmp(env->names[i], node))
			return;
	if (env->n >= FL_SEL_MAX_NODES)
		return;
	env->names[env->n] = node;
	/* p.roles point into t, which outlives env */
	env->roles[env->n] =
		t && t->n_roles && !fl_sut_plan(t, env->n + 1, &p, &e) ? p.roles[env->n] : NULL;
	env->n++;
}

/* Selectors skip the nodes that are not in the planned lab now. */
static void env_gone(struct fl_sel_env *env, const struct fl_lab *lab)
{
	env->gone = 0;
	for (size_t i = 0; i < env->n; i++)
		if (!fl_lab_node(lab, env->names[i]))
			env->gone |= 1ULL << i;
}

static void end_active(const struct fl_step **active, size_t *n, const struct fl_step *st)
{
	for (size_t k = 0; k < *n;) { /* as the timeline: ended by this one */
		if (active[k]->ops->ended_by && active[k]->ops->ended_by(active[k], st))
			memmove(&active[k], &active[k + 1], (--*n - k) * sizeof(active[0]));
		else
			k++;
	}
}

int fl_steps_validate(const struct fl_scenario *sc, const struct fl_sel_env *sel,
		      const struct fl_sut *t, const struct fl_lab *lab0, struct fl_err *err)
{
	const struct fl_step **active = calloc(sc->n_steps + 1, sizeof(*active));
	struct fl_step **copies = calloc(sc->n_steps + 1, sizeof(*copies));
	struct fl_lab *lab = fl_lab_dup(lab0);
	struct fl_sel_env env = sel ? *sel : (struct fl_sel_env){ 0 };
	struct fl_sel_picks *picks = calloc(1, sizeof(*picks));
	struct fl_step_ctx c = { .lab = lab, .lab0 = lab0, .sel = sel ? &env : NULL };
	struct fl_err e;
	size_t n = 0;
	int ret = active && copies && lab && picks ? 0 : -ENOMEM;

	env.picks = picks;
	for (size_t i = 0; !ret && i < sc->n_steps; i++) {
		const struct fl_step *st = &sc->steps[i];
		const char *joined;

		if (fl_step_is_heal(st)) {
			heal_plan(active, &n, st->heal, lab0, lab);
			env_gone(&env, lab);
			continue;
		}
		ret = fl_step_resolve(&c, st, &copies[i], NULL, &e);
		if (!ret && st->ops->validate)
			ret = st->ops->validate(copies[i], lab, &e);
		if (ret) {
			fl_err_set(err, "%s:%d:%d: %s", sc->file, st->line, st->col, e.msg);
			ret = -EINVAL;
			break;
		}
		joined = st->ops->joins ? st->ops->joins(copies[i]) : NULL;
		if (joined && sel)
			env_join(&env, t, joined);
		env_gone(&env, lab);
		end_active(active, &n, copies[i]);
		if (st->ops->heal)
			active[n++] = copies[i];
	}
	for (size_t i = 0; copies && i < sc->n_steps; i++)
		fl_step_free(copies[i]);
	fl_lab_free(lab);
	free(picks);
	free(copies);
	free(active);
	return ret;
}

/* ---- the table ------------------------------------------------------------ */

#define FL_STEPS(STEP)  \
	STEP(fault)     \
	STEP(partition) \
	STEP(kill)      \
	STEP(pause)     \
	STEP(stop)      \
	STEP(restart)   \
	STEP(admin)     \
	STEP(inject)    \
	STEP(link)      \
	STEP(flap)      \
	STEP(join)      \
	STEP(leave)     \
	STEP(readdress) \
	STEP(mtu)       \
	STEP(route)     \
	STEP(heal)

#define DECLARE(name) extern const struct fl_step_ops fl_step_##name;
#define ENTRY(name) &fl_step_##name,

FL_STEPS(DECLARE)

const struct fl_step_ops *const fl_step_kinds[] = { FL_STEPS(ENTRY) NULL };
