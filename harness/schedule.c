// SPDX-License-Identifier: MIT
/* schedule: a seeded random nemesis, as Jepsen's generators make one:
 *
 *   schedule: {every: 10s, for: 5s, until: 60s,
 *              pick: [partition: random-halves, delay: {delay: 200ms, on: leader}, kill: one]}
 *
 * Every `every` from `from` (default 0) until `until` (default the
 * scenario's duration), one pick, chosen by a PRNG keyed by the run's seed,
 * is applied for `for`. A pick is a timeline step without at/id (any kind
 * that can be healed), or a fault kind as its key (`loss: 5%`, `delay:
 * {delay: 200ms, on: leader}`). fl_scenario_expand writes the picks out as
 * steps PREFIX-1, PREFIX-2, ... once the seed is known; the resolved
 * scenario.yaml of a run holds them, so it replays exactly. */
#include "scenario_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "faults/fault.h"
#include "json.h"
#include "parse.h"
#include "select.h"
#include "steps.h"
#include "fallacy/analyzer.h"

#define MAX_PICKS 32
#define MAX_SCHEDULES 8
#define MAX_EXPANDED 4096

/* A fault kind as the pick's key: the same as fault: {kind: K, ...}, or
 * with a single value, fault: {kind: K, FIRST-PARAMETER: value}. */
static int fault_pick(struct sctx *c, struct fl_step *st, const struct fl_ynode *m,
		      const struct fault_ops *ops)
{
	struct fl_step_parse p = { .d = c->d, .err = c->err, .sc = c->sc };
	const struct fl_ynode *k = m->keys[0], *v = m->items[0];
	struct fl_ynode kkey = { .type = FL_Y_SCALAR, .line = k->line, .col = k->col };
	struct fl_ynode kval = kkey, pkey = kkey, *keys[64], *items[64];
	struct fl_ynode map = { .type = FL_Y_MAP, .line = v->line, .col = v->col };

	kkey.text = "kind";
	kval.text = (char *)ops->name;
	keys[0] = &kkey;
	items[0] = &kval;
	map.n = 1;
	if (v->type == FL_Y_MAP) {
		if (v->n > 62)
			return fl_yerr(c->err, c->d, v, "too many keys");
		if (fl_ymap_get(v, "kind"))
			return fl_yerr(c->err, c->d, fl_ymap_key(v, "kind"),
				       "the key '%s' is the kind already", ops->name);
		for (size_t i = 0; i < v->n; i++, map.n++) {
			keys[map.n] = v->keys[i];
			items[map.n] = v->items[i];
		}
	} else if (!fl_yis_null(v)) { /* loss: 5% */
		pkey.text = (char *)ops->params[0].name;
		keys[map.n] = &pkey;
		items[map.n++] = (struct fl_ynode *)v;
	}
	map.keys = keys;
	map.items = items;
	st->ops = &fl_step_fault;
	return fl_step_fault.parse(&p, st, m, &map);
}

static int parse_pick(struct sctx *c, const struct fl_ynode *m, struct fl_step *st)
{
	const struct fault_ops *ops;
	bool step = false;
	struct fl_err e;

	st->line = m->line;
	st->col = m->col;
	if (fl_yexpect(c->d, m, FL_Y_MAP, "a pick", c->err))
		return -EINVAL;
	if (!m->n)
		return fl_yerr(c->err, c->d, m, "an empty pick");
	/* a key that is itself a mapping or a list ({{x}}: ...) has no text */
	if (!m->keys[0]->text)
		return fl_yerr(c->err, c->d, m->keys[0], "a pick's key is a step or fault kind");
	for (int i = 0; fl_step_kinds[i]; i++)
		step |= fl_ymap_get(m, fl_step_kinds[i]->key) != NULL;
	ops = step ? NULL : fl_fault_kind(m->keys[0]->text);
	if (step) {
		if (fl_sparse_action(c, st, m, true))
			return -EINVAL;
	} else if (ops && m->n == 1) {
		if (fault_pick(c, st, m, ops))
			return -EINVAL;
	} else if (ops) {
		return fl_yerr(c->err, c->d, m->keys[1], "a pick has one key (the kind)");
	} else {
		fl_fault_unknown_kind(m->keys[0]->text, &e);
		return fl_yerr(c->err, c->d, m->keys[0], "not a step or fault kind: %s", e.msg);
	}
	if (!st->ops->heal)
		return fl_yerr(c->err, c->d, m->keys[0],
			       "a pick must be a step that can be healed ('%s' "
			       "cannot be)",
			       st->ops->key);
	return 0;
}

/* gcc 12 -fanalyzer false positive (fallacy/analyzer.h): s->picks belongs to the schedule; fl_schedules_free frees it */
FL_LEAK_FP_BEGIN
static int parse_picks(struct sctx *c, const struct fl_ynode *v, struct fl_schedule *s)
{
	if (!v)
		return fl_yerr(c->err, c->d, NULL, "a schedule needs 'pick'");
	if (fl_yexpect(c->d, v, FL_Y_SEQ, "'pick'", c->err))
		return -EINVAL;
	if (!v->n || v->n > MAX_PICKS)
		return fl_yerr(c->err, c->d, v, "'pick' takes 1 to %d steps", MAX_PICKS);
	s->picks = calloc(v->n, sizeof(*s->picks));
	if (!s->picks)
		return -ENOMEM;
	for (size_t i = 0; i < v->n; i++) {
		s->n_picks = i + 1;
		if (parse_pick(c, v->items[i], &s->picks[i]))
			return -EINVAL;
	}
	return 0;
}
FL_LEAK_FP_END

static int parse_one(struct sctx *c, const struct fl_ynode *m, struct fl_schedule *s)
{
	static const char *const keys[] = { "every", "for", "pick", "from", "until", "id", NULL };
	const char *prefix = NULL;
	struct fl_err e;

	s->line = m->line;
	s->col = m->col;
	s->until_ns = c->sc->duration_ns;
	if (fl_yexpect(c->d, m, FL_Y_MAP, "a schedule", c->err) ||
	    fl_ycheck_keys(c->d, m, "a schedule", keys, c->err) ||
	    fl_yget_duration(c->d, m, "every", true, &s->every_ns, c->err) ||
	    fl_yget_duration(c->d, m, "for", true, &s->for_ns, c->err) ||
	    fl_yget_duration(c->d, m, "from", false, &s->from_ns, c->err) ||
	    fl_yget_duration(c->d, m, "until", false, &s->until_ns, c->err) ||
	    fl_yget_str(c->d, m, "id", false, &prefix, c->err))
		return -EINVAL;
	if (!s->every_ns || !s->for_ns || s->for_ns > s->every_ns)
		return fl_yerr(c->err, c->d, fl_ymap_get(m, "for"),
			       "'for' must be > 0 and at most 'every' (a pick is healed before "
			       "the next one)");
	if (s->until_ns > c->sc->duration_ns || s->from_ns >= s->until_ns)
		return fl_yerr(c->err, c->d, fl_ymap_get(m, "until") ?: m,
			       "a schedule must run within the scenario (from < until <= "
			       "duration)");
	if (prefix && fl_validate_name("id", prefix, sizeof(s->prefix) - 1, &e))
		return fl_yerr(c->err, c->d, fl_ymap_get(m, "id"), "%s", e.msg);
	snprintf(s->prefix, sizeof(s->prefix), "%s", prefix ? prefix : "sched");
	return parse_picks(c, fl_ymap_get(m, "pick"), s);
}

int fl_sparse_schedules(struct sctx *c, const struct fl_ynode *v)
{
	struct fl_scenario *sc = c->sc;
	size_t n = v && v->type == FL_Y_SEQ ? v->n : 1;

	if (!v)
		return 0;
	if (!n || n > MAX_SCHEDULES)
		return fl_yerr(c->err, c->d, v, "'schedule' takes 1 to %d schedules",
			       MAX_SCHEDULES);
	sc->schedules = calloc(n, sizeof(*sc->schedules));
	if (!sc->schedules)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		sc->n_schedules = i + 1;
		if (parse_one(c, v->type == FL_Y_SEQ ? v->items[i] : v, &sc->schedules[i]))
			return -EINVAL;
		for (size_t k = 0; k < i; k++)
			if (!strcmp(sc->schedules[k].prefix, sc->schedules[i].prefix))
				return fl_yerr(c->err, c->d, v->type == FL_Y_SEQ ? v->items[i] : v,
					       "two schedules use the id '%s' (give one an 'id')",
					       sc->schedules[i].prefix);
	}
	return 0;
}

/* ---- expansion ------------------------------------------------------------- */

static int copy_step(const struct fl_step *tmpl, struct fl_step *st)
{
	*st = *tmpl;
	st->argv = NULL;
	st->argc = 0;
	for (size_t i = 0; i < tmpl->argc; i++)
		if (fl_step_push(st, tmpl->argv[i]))
			return -ENOMEM;
	return 0;
}

static size_t count_steps(const struct fl_schedule *s)
{
	return (size_t)((s->until_ns - s->from_ns + s->every_ns - 1) / s->every_ns);
}

/* Schedule k's steps into out (appended at *n). */
static int expand_one(const struct fl_scenario *sc, size_t k, uint64_t seed, struct fl_step *out,
		      size_t *n, struct fl_err *err)
{
	const struct fl_schedule *s = &sc->schedules[k];
	struct fl_sel_rng rng;
	size_t j = 0;

	fl_sel_rng_init(&rng, seed, 0x5c4ed0000ULL + k, 0);
	for (uint64_t at = s->from_ns; at < s->until_ns; at += s->every_ns, j++) {
		struct fl_step *st = &out[(*n)++];
		size_t pick = s->n_picks > 1 ? fl_sel_rng_next(&rng) % s->n_picks : 0;

		if (copy_step(&s->picks[pick], st))
			return -ENOMEM;
		st->at_ns = at;
		st->duration_ns = s->for_ns;
		st->scheduled = true;
		st->line = s->line;
		st->col = s->col;
		snprintf(st->id, sizeof(st->id), "%.24s-%u", s->prefix,
			 (unsigned int)(j + 1) % 100000);
		if (fl_step_find(sc, st->id)) {
			fl_err_set(err,
				   "%s:%d:%d: the schedule's step id '%s' is used by a step of "
				   "the timeline (give the schedule another 'id')",
				   sc->file, s->line, s->col, st->id);
			return -EINVAL;
		}
	}
	return 0;
}

static int cmp_at(const void *a, const void *b)
{
	const struct fl_step *x = a, *y = b;

	if (x->at_ns != y->at_ns)
		return x->at_ns < y->at_ns ? -1 : 1;
	/* the timeline's own steps first, then in order of making */
	return x->index < y->index ? -1 : x->index > y->index;
}

int fl_scenario_expand(struct fl_scenario *sc, uint64_t seed, struct fl_err *err)
{
	size_t n = sc->n_steps, total = sc->n_steps;
	struct fl_step *steps;
	int ret = 0;

	if (sc->expanded || !sc->n_schedules) {
		sc->expanded = true;
		return 0;
	}
	for (size_t k = 0; k < sc->n_schedules; k++)
		total += count_steps(&sc->schedules[k]);
	if (total > MAX_EXPANDED) {
		fl_err_set(err, "%s: the schedules make more than %d steps", sc->file,
			   MAX_EXPANDED);
		return -E2BIG;
	}
	steps = calloc(total + 1, sizeof(*steps));
	if (!steps)
		return -ENOMEM;
	memcpy(steps, sc->steps, sc->n_steps * sizeof(*steps));
	for (size_t k = 0; k < sc->n_schedules && !ret; k++)
		ret = expand_one(sc, k, seed, steps, &n, err);
	for (size_t i = 0; i < n; i++)
		steps[i].index = i; /* order of making, for cmp_at */
	if (ret) { /* the copies made so far go; the timeline's steps stay in sc */
		for (size_t i = sc->n_steps; i < n; i++) {
			for (size_t j = 0; j < steps[i].argc; j++)
				free(steps[i].argv[j]);
			free(steps[i].argv);
		}
		free(steps);
		return ret;
	}
	qsort(steps, n, sizeof(*steps), cmp_at);
	for (size_t i = 0; i < n; i++)
		steps[i].index = i;
	free(sc->steps);
	sc->steps = steps;
	sc->n_steps = n;
	sc->expanded = true;
	return 0;
}

/* ---- time scale ------------------------------------------------------------ */

static void scale(uint64_t *ns, double f)
{
	*ns = (uint64_t)((double)*ns * f + 0.5);
}

void fl_scenario_scale(struct fl_scenario *sc, double f)
{
	scale(&sc->duration_ns, f);
	for (size_t i = 0; i < sc->n_steps; i++) {
		scale(&sc->steps[i].at_ns, f);
		scale(&sc->steps[i].duration_ns, f);
	}
	for (size_t k = 0; k < sc->n_schedules; k++) {
		struct fl_schedule *s = &sc->schedules[k];

		scale(&s->every_ns, f);
		scale(&s->for_ns, f);
		scale(&s->from_ns, f);
		scale(&s->until_ns, f);
		if (!s->every_ns)
			s->every_ns = 1;
	}
	for (size_t i = 0; i < sc->n_checks; i++) {
		scale(&sc->checks[i].within_ns, f);
		scale(&sc->checks[i].rate_window_ns, f);
		/* a command check at 10 s looks inside a fault window that now
		 * ends at 3.25 s (make check-scenarios found it unscaled) */
		scale(&sc->checks[i].at_ns, f);
	}
	if (!sc->duration_ns)
		sc->duration_ns = 1;
}

/* ---- printing and freeing ------------------------------------------------------ */

void fl_schedules_print(const struct fl_scenario *sc, FILE *f)
{
	char a[32], b[32], c[32], d[32], words[1024];

	if (!sc->n_schedules)
		return;
	fprintf(f, "schedule:\n");
	for (size_t k = 0; k < sc->n_schedules; k++) {
		const struct fl_schedule *s = &sc->schedules[k];

		fl_format_duration(s->every_ns, a, sizeof(a));
		fl_format_duration(s->for_ns, b, sizeof(b));
		fl_format_duration(s->from_ns, c, sizeof(c));
		fl_format_duration(s->until_ns, d, sizeof(d));
		fprintf(f, "  - {id: %s, every: %s, for: %s, from: %s, until: %s, pick: [",
			s->prefix, a, b, c, d);
		for (size_t i = 0; i < s->n_picks; i++) {
			fl_step_words(&s->picks[i], words, sizeof(words));
			fprintf(f, "%s%s: ", i ? ", " : "", s->picks[i].ops->key);
			fl_json_string(f, words);
		}
		fprintf(f, "]}\n");
	}
}

void fl_schedules_free(struct fl_scenario *sc)
{
	for (size_t k = 0; k < sc->n_schedules; k++) {
		struct fl_schedule *s = &sc->schedules[k];

		for (size_t i = 0; i < s->n_picks; i++) {
			for (size_t j = 0; j < s->picks[i].argc; j++)
				free(s->picks[i].argv[j]);
			free(s->picks[i].argv);
		}
		free(s->picks);
	}
	free(sc->schedules);
	sc->schedules = NULL;
	sc->n_schedules = 0;
}
