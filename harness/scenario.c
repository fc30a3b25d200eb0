// SPDX-License-Identifier: MIT
/* Scenario files: parsing, validation and the resolved form. */
#include "scenario.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "faults/fault.h"
#include "json.h"
#include "labfile.h"
#include "parse.h"
#include "scenario_int.h"
#include "steps.h"
#include "transport.h"
#include "fallacy/analyzer.h"

static const char *const fallacies[] = { "reliable",	   "latency",	  "bandwidth",
					 "secure",	   "topology",	  "administrator",
					 "transport-cost", "homogeneous", NULL };

/* A single, non-null scalar. */
static int check_scalar(struct sctx *c, const struct fl_ynode *v, const char *key)
{
	if (v->type != FL_Y_SCALAR || fl_yis_null(v))
		return fl_yerr(c->err, c->d, v, "'%s' must be a single value", key);
	return 0;
}

static int step_id(struct sctx *c, struct fl_step *st, const struct fl_ynode *s, size_t idx)
{
	const struct fl_ynode *v = fl_ymap_get(s, "id");
	struct fl_err e;

	if (!v) {
		snprintf(st->id, sizeof(st->id), "step-%zu", idx + 1);
		return 0;
	}
	if (check_scalar(c, v, "id"))
		return -EINVAL;
	if (fl_validate_name("id", v->text, FL_ID_MAX, &e))
		return fl_yerr(c->err, c->d, v, "%s", e.msg);
	if (!strcmp(v->text, "all") || !strcmp(v->text, "faults") ||
	    !strcmp(v->text, "last-heal") || fl_step_find(c->sc, v->text))
		return fl_yerr(c->err, c->d, v, "id '%s' is %s; choose another", v->text,
			       fl_step_find(c->sc, v->text) ? "used twice" : "reserved");
	snprintf(st->id, sizeof(st->id), "%s", v->text);
	return 0;
}

/* The one step-kind key of a step map (steps.h), or an error. */
static const struct fl_step_ops *step_kind(struct sctx *c, const struct fl_ynode *s,
					   const struct fl_ynode **v)
{
	const struct fl_step_ops *ops = NULL;
	char list[256] = "";
	int n = 0;

	for (int i = 0; fl_step_kinds[i]; i++) {
		const struct fl_ynode *x = fl_ymap_get(s, fl_step_kinds[i]->key);

		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s'%s'", i ? ", " : "",
			 fl_step_kinds[i]->key);
		if (x) {
			ops = fl_step_kinds[i];
			*v = x;
			n++;
		}
	}
	if (n == 1)
		return ops;
	fl_yerr(c->err, c->d, s, "a timeline step needs exactly one of %s (found %d)", list, n);
	return NULL;
}

/* at, id, the kind's key and the kind's extra keys; duration when the
 * kind can be healed. */
static int step_keys(struct sctx *c, const struct fl_ynode *s, const struct fl_step_ops *ops,
		     bool pick)
{
	const char *allowed[32] = { "at", "id", ops->key };
	size_t n = 3;

	if (pick) { /* a schedule's pick: its kind and extra keys only */
		allowed[0] = ops->key;
		n = 1;
	} else if (ops->heal) {
		allowed[n++] = "duration";
	}
	for (size_t i = 0; ops->extra_keys && ops->extra_keys[i] && n < 31; i++)
		allowed[n++] = ops->extra_keys[i];
	allowed[n] = NULL;
	return fl_ycheck_keys(c->d, s, pick ? "a schedule's pick" : "a timeline step", allowed,
			      c->err);
}

/* duration: the timeline heals the step by itself (a fault map's own
 * `duration` key means the same and is already in st). */
static int step_duration(struct sctx *c, struct fl_step *st, const struct fl_ynode *s)
{
	const struct fl_ynode *d = fl_ymap_get(s, "duration");
	uint64_t ns = 0;

	if (!d)
		return 0;
	if (st->duration_ns)
		return fl_yerr(c->err, c->d, d,
			       "'duration' is given twice (in the step and in its fault)");
	if (fl_yget_duration(c->d, s, "duration", false, &ns, c->err))
		return -EINVAL;
	if (!ns)
		return fl_yerr(c->err, c->d, d, "'duration' must be > 0 (or leave it out)");
	st->duration_ns = ns;
	return 0;
}

int fl_sparse_action(struct sctx *c, struct fl_step *st, const struct fl_ynode *s, bool pick)
{
	struct fl_step_parse p = { .d = c->d, .err = c->err, .sc = c->sc };
	const struct fl_ynode *v = NULL;
	const struct fl_step_ops *ops = step_kind(c, s, &v);

	if (!ops || step_keys(c, s, ops, pick))
		return -EINVAL;
	st->ops = ops; /* the parser may make it another (partition: fault) */
	return ops->parse(&p, st, s, v) ?: pick ? 0 : step_duration(c, st, s);
}

static int parse_step(struct sctx *c, const struct fl_ynode *s, size_t idx)
{
	struct fl_scenario *sc = c->sc;
	struct fl_step *st = &sc->steps[idx];
	int ret;

	memset(st, 0, sizeof(*st));
	st->line = s->line;
	st->col = s->col;
	st->index = idx;
	if (fl_yexpect(c->d, s, FL_Y_MAP, "a timeline step", c->err) ||
	    fl_yget_duration(c->d, s, "at", true, &st->at_ns, c->err))
		return -EINVAL;
	if (idx && st->at_ns < sc->steps[idx - 1].at_ns)
		return fl_yerr(c->err, c->d, fl_ymap_get(s, "at"),
			       "steps must be in time order ('at' goes backwards)");
	if (sc->duration_ns && st->at_ns > sc->duration_ns)
		return fl_yerr(c->err, c->d, fl_ymap_get(s, "at"),
			       "step at %s is after the end of the scenario (duration)",
			       fl_ymap_get(s, "at")->text);
	ret = fl_ymap_get(s, "heal") ? 0 : step_id(c, st, s, idx);
	if (!ret)
		ret = fl_sparse_action(c, st, s, false);
	sc->n_steps = idx + 1;
	return ret;
}

static int parse_timeline(struct sctx *c, const struct fl_ynode *t)
{
	int ret = 0;

	if (!t)
		return 0;
	if (fl_yexpect(c->d, t, FL_Y_SEQ, "'timeline'", c->err))
		return -EINVAL;
	c->sc->steps = calloc(t->n ? t->n : 1, sizeof(struct fl_step));
	if (!c->sc->steps)
		return -ENOMEM;
	for (size_t i = 0; i < t->n && !ret; i++)
		ret = parse_step(c, t->items[i], i);
	return ret;
}

int fl_bound_parse(const char *text, bool duration, struct fl_bound *b, struct fl_err *err)
{
	return fl_bound_parse_unit(text, duration ? FL_UNIT_DURATION : FL_UNIT_NUMBER,
				   duration ? FL_CMP_LE : FL_CMP_GE, b, err);
}

static int bound_value(const char *text, const char *p, enum fl_bound_unit unit, struct fl_bound *b,
		       struct fl_err *err)
{
	struct fl_err e;
	uint64_t v;
	char *end;

	if (unit == FL_UNIT_DURATION || unit == FL_UNIT_SIZE) {
		if (unit == FL_UNIT_DURATION ? fl_parse_duration(p, &v, &e) :
					       fl_parse_size(p, &v, &e)) {
			fl_err_set(err, "bad bound '%s': %s", text, e.msg);
			return -EINVAL;
		}
		b->value = unit == FL_UNIT_DURATION ? v / 1e9 : (double)v;
		return 0;
	}
	if (strchr(p, '%'))
		return fl_parse_percent(p, &b->value, &e) ?
			       (fl_err_set(err, "bad bound '%s': %s", text, e.msg), -EINVAL) :
			       0;
	b->value = strtod(p, &end);
	if (!*p || *end || end == p) {
		fl_err_set(err, "bad bound '%s' (write it like \">= 0.95\", \"< 1s\" or \"99%%\")",
			   text);
		return -EINVAL;
	}
	return 0;
}

int fl_bound_parse_unit(const char *text, enum fl_bound_unit unit, enum fl_cmp def,
			struct fl_bound *b, struct fl_err *err)
{
	static const struct {
		const char *s;
		enum fl_cmp op;
	} ops[] = { { "<=", FL_CMP_LE }, { ">=", FL_CMP_GE }, { "==", FL_CMP_EQ },
		    { "<", FL_CMP_LT },	 { ">", FL_CMP_GT },  { "=", FL_CMP_EQ } };
	const char *p = text;

	memset(b, 0, sizeof(*b));
	b->op = def;
	snprintf(b->text, sizeof(b->text), "%s", text);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (!strncmp(p, ops[i].s, strlen(ops[i].s))) {
			b->op = ops[i].op;
			p += strlen(ops[i].s);
			break;
		}
	}
	while (*p == ' ')
		p++;
	b->is_duration = unit == FL_UNIT_DURATION;
	b->is_size = unit == FL_UNIT_SIZE;
	return bound_value(text, p, unit, b, err);
}

bool fl_bound_holds(const struct fl_bound *b, double v)
{
	switch (b->op) {
	case FL_CMP_LT:
		return v < b->value;
	case FL_CMP_LE:
		return v <= b->value;
	case FL_CMP_GT:
		return v > b->value;
	case FL_CMP_EQ:
		return v == b->value;
	default:
		return v >= b->value;
	}
}

static int check_bound(struct sctx *c, struct fl_check *ck, const struct fl_ynode *v,
		       const char *key, bool duration)
{
	struct fl_err e;

	if (!v || v->type != FL_Y_SCALAR || fl_yis_null(v))
		return fl_yerr(c->err, c->d, v, "'%s' needs a bound such as \">= 0.95\"", key);
	if (fl_bound_parse(v->text, duration, &ck->bound, &e))
		return fl_yerr(c->err, c->d, v, "%s", e.msg);
	return 0;
}

static bool window_id_ok(const struct fl_scenario *sc, const char *id)
{
	return !strcmp(id, "faults") || fl_step_find(sc, id);
}

/* on: n2 | [n2, n3] -> ",n2,n3," */
static int check_on(struct sctx *c, struct fl_check *ck, const struct fl_ynode *m)
{
	const struct fl_ynode *v = fl_ymap_get(m, "on");
	char buf[120];

	struct fl_step_parse p = { .d = c->d, .err = c->err, .sc = c->sc };

	if (!v)
		return 0;
	if (fl_ystep_nodes(&p, v, "on", buf, sizeof(buf)))
		return -EINVAL;
	snprintf(ck->on, sizeof(ck->on), ",%s,", buf);
	return 0;
}

static int check_sides(struct sctx *c, struct fl_check *ck, const struct fl_ynode *m);

static int check_window(struct sctx *c, struct fl_check *ck, const struct fl_ynode *m)
{
	const struct fl_ynode *dur = fl_ymap_get(m, "during"), *out = fl_ymap_get(m, "outside");
	const struct fl_ynode *v = dur ? dur : out;
	const char *op = NULL;

	if (dur && out)
		return fl_yerr(c->err, c->d, out, "use 'during' or 'outside', not both");
	if (fl_yget_str(c->d, m, "op", false, &op, c->err) || check_on(c, ck, m))
		return -EINVAL;
	if (op)
		snprintf(ck->op, sizeof(ck->op), "%s", op);
	if (!v)
		return check_sides(c, ck, m);
	if (check_scalar(c, v, dur ? "during" : "outside"))
		return -EINVAL;
	if (!window_id_ok(c->sc, v->text))
		return fl_yerr(c->err, c->d, v,
			       "'%s' names no step of the timeline (use an 'id' of a step, or "
			       "'faults')",
			       v->text);
	ck->win.kind = dur ? FL_WIN_DURING : FL_WIN_OUTSIDE;
	snprintf(ck->win.id, sizeof(ck->win.id), "%s", v->text);
	return check_sides(c, ck, m);
}

/* by: ops | time (availability): per operation, or per 100 ms of time */
static int check_by(struct sctx *c, struct fl_check *ck, const struct fl_ynode *v)
{
	const struct fl_ynode *by = fl_ymap_get(v, "by");

	if (!by)
		return 0;
	if (ck->kind != FL_CHECK_AVAILABILITY)
		return fl_yerr(c->err, c->d, fl_ymap_key(v, "by"), "'by' is for availability");
	if (check_scalar(c, by, "by"))
		return -EINVAL;
	if (strcmp(by->text, "ops") && strcmp(by->text, "time"))
		return fl_yerr(c->err, c->d, by, "'by' is ops or time");
	ck->by_time = !strcmp(by->text, "time");
	return 0;
}

/* on: majority|minority names a side of the window's partition (a
 * recovery's: the partition it recovers from) */
static int check_sides(struct sctx *c, struct fl_check *ck, const struct fl_ynode *m)
{
	const char *id = ck->kind == FL_CHECK_RECOVERY ? ck->after : ck->win.id;
	const struct fl_step *st;

	if (strstr(ck->on, ",picked,") || strstr(ck->on, ",unpicked,")) {
		if ((ck->win.kind == FL_WIN_ALL && ck->kind != FL_CHECK_RECOVERY) ||
		    !fl_step_find(c->sc, id))
			return fl_yerr(c->err, c->d, fl_ymap_get(m, "on"),
				       "'on: picked' and 'on: unpicked' are the nodes a step names "
				       "and the others: name the step with 'during' or 'outside' "
				       "(a recovery: 'after')");
	}
	if (!strstr(ck->on, ",majority,") && !strstr(ck->on, ",minority,"))
		return 0;
	st = ck->win.kind == FL_WIN_ALL && ck->kind != FL_CHECK_RECOVERY ? NULL :
									   fl_step_find(c->sc, id);
	if (!st || st->argc < 2 || strcmp(st->argv[0], "partition") ||
	    !strncmp(st->argv[1], "--", 2))
		return fl_yerr(c->err, c->d, fl_ymap_get(m, "on"),
			       "'on: majority' and 'on: minority' are the sides of a partition: "
			       "name it with 'during' or 'outside' (a recovery: 'after')");
	return 0;
}

/* availability: ">= 0.95" | {bound, during|outside, op, on, by}; same for progress */
static int check_ratio(struct sctx *c, struct fl_check *ck, const struct fl_ynode *v,
		       const char *key)
{
	static const char *const keys[] = { "bound", "during", "outside", "op", "on", "by", NULL };

	if (v->type == FL_Y_SCALAR)
		return check_bound(c, ck, v, key, false);
	if (fl_yexpect(c->d, v, FL_Y_MAP, key, c->err) ||
	    fl_ycheck_keys(c->d, v, key, keys, c->err))
		return -EINVAL;
	if (!fl_ymap_get(v, "bound"))
		return fl_yerr(c->err, c->d, v, "'%s' needs a 'bound' such as \">= 0.95\"", key);
	return check_bound(c, ck, fl_ymap_get(v, "bound"), "bound", false) ?:
		       check_window(c, ck, v)				   ?:
									     check_by(c, ck, v);
}

static int check_latency(struct sctx *c, struct fl_check *ck, const struct fl_ynode *v)
{
	static const char *const keys[] = { "p50",    "p90",	 "p95", "p99", "p999", "max",
					    "during", "outside", "op",	"on",  NULL };
	static const double pct[] = { 50, 90, 95, 99, 99.9, 100 };
	int found = 0;

	if (fl_yexpect(c->d, v, FL_Y_MAP, "'latency'", c->err) ||
	    fl_ycheck_keys(c->d, v, "'latency'", keys, c->err))
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		const struct fl_ynode *b = fl_ymap_get(v, keys[i]);

		if (!b)
			continue;
		if (found++)
			return fl_yerr(c->err, c->d, fl_ymap_key(v, keys[i]),
				       "one percentile per latency check; add another check");
		ck->pctl = pct[i];
		if (check_bound(c, ck, b, keys[i], true))
			return -EINVAL;
	}
	if (!found)
		return fl_yerr(
			c->err, c->d, v,
			"'latency' needs one of p50, p90, p95, p99, p999, max (e.g. p99: \"< 1s\")");
	return check_window(c, ck, v);
}

static int check_recovery(struct sctx *c, struct fl_check *ck, const struct fl_ynode *v)
{
	static const char *const keys[] = { "within", "after", "rate", "window", "op", "on", NULL };
	const struct fl_ynode *a = fl_ymap_get(v, "after"), *r = fl_ymap_get(v, "rate");
	const char *op = NULL;

	if (fl_yexpect(c->d, v, FL_Y_MAP, "'recovery'", c->err) ||
	    fl_ycheck_keys(c->d, v, "'recovery'", keys, c->err) ||
	    fl_yget_duration(c->d, v, "within", true, &ck->within_ns, c->err) ||
	    fl_yget_str(c->d, v, "op", false, &op, c->err) || check_on(c, ck, v))
		return -EINVAL;
	if (op)
		snprintf(ck->op, sizeof(ck->op), "%s", op);
	snprintf(ck->after, sizeof(ck->after), "last-heal");
	if (a) {
		if (check_scalar(c, a, "after"))
			return -EINVAL;
		if (strcmp(a->text, "last-heal") && !fl_step_find(c->sc, a->text))
			return fl_yerr(c->err, c->d, a,
				       "'after: %s' names no step of the timeline (use its 'id', "
				       "or 'last-heal')",
				       a->text);
		snprintf(ck->after, sizeof(ck->after), "%s", a->text);
	}
	ck->rate_window_ns = FL_CHECK_RATE_WINDOW_NS;
	if (fl_yget_duration(c->d, v, "window", false, &ck->rate_window_ns, c->err) ||
	    check_sides(c, ck, v))
		return -EINVAL;
	if (!ck->rate_window_ns)
		return fl_yerr(c->err, c->d, fl_ymap_get(v, "window"), "'window' must be > 0");
	if (!r)
		return 0;
	ck->has_rate = true;
	return check_bound(c, ck, r, "rate", false);
}

/* gcc 12 -fanalyzer false positive (fallacy/analyzer.h): ck->run belongs to the scenario; fl_scenario_free frees it */
FL_LEAK_FP_BEGIN
static int check_run(struct sctx *c, struct fl_check *ck, const struct fl_ynode *v, bool on_node)
{
	static const char *const nkeys[] = { "node", "run", "expect", "timeout", "at", NULL };
	static const char *const ikeys[] = { "run", "expect", "timeout", NULL };
	const char *what = on_node ? "'command'" : "'invariant'";
	const char *node = NULL, *run = NULL;
	uint64_t expect = 0;

	ck->timeout_ns = FL_CHECK_RUN_TIMEOUT_NS;
	if (fl_yexpect(c->d, v, FL_Y_MAP, what, c->err) ||
	    fl_ycheck_keys(c->d, v, what, on_node ? nkeys : ikeys, c->err) ||
	    fl_yget_str(c->d, v, "node", on_node, &node, c->err) ||
	    fl_yget_str(c->d, v, "run", true, &run, c->err) ||
	    fl_yget_u64(c->d, v, "expect", false, 0, 255, &expect, c->err) ||
	    fl_yget_duration(c->d, v, "timeout", false, &ck->timeout_ns, c->err) ||
	    (on_node && fl_yget_duration(c->d, v, "at", false, &ck->at_ns, c->err)))
		return -EINVAL;
	ck->has_at = on_node && fl_ymap_get(v, "at");
	if (ck->has_at && c->sc->duration_ns && ck->at_ns >= c->sc->duration_ns)
		return fl_yerr(c->err, c->d, fl_ymap_get(v, "at"),
			       "'at' must lie within the measured part (the scenario's duration)");
	if (node && strlen(node) >= sizeof(ck->node))
		return fl_yerr(c->err, c->d, fl_ymap_get(v, "node"),
			       "'node' is too long (at most %zu characters: a selector or a few "
			       "names)",
			       sizeof(ck->node) - 1);
	if (node)
		snprintf(ck->node, sizeof(ck->node), "%s", node);
	ck->expect = (int)expect;
	ck->run = strdup(run);
	return ck->run ? 0 : -ENOMEM;
}
FL_LEAK_FP_END

/* ports: 6379 | [2379, 2380] */
static int check_ports(struct sctx *c, struct fl_check *ck, const struct fl_ynode *m, bool required)
{
	const struct fl_ynode *v = fl_ymap_get(m, "ports");
	const struct fl_ynode *one = v;
	double d;

	if (!v) {
		if (required)
			return fl_yerr(c->err, c->d, m, "missing required key 'ports'");
		return 0;
	}
	for (size_t i = 0; i < (v->type == FL_Y_SEQ ? v->n : 1); i++) {
		if (v->type == FL_Y_SEQ)
			one = v->items[i];
		if (fl_ynum(one, &d) || d < 1 || d > 65535 || d != (int)d)
			return fl_yerr(c->err, c->d, one,
				       "'ports' must be a port (1..65535) or a list of them");
		if (ck->n_ports >= FL_CHECK_MAX_PORTS)
			return fl_yerr(c->err, c->d, one, "at most %d ports per check",
				       FL_CHECK_MAX_PORTS);
		ck->ports[ck->n_ports++] = (uint16_t)d;
	}
	if (!ck->n_ports)
		return fl_yerr(c->err, c->d, v, "'ports' is empty");
	return 0;
}

/* plaintext: {markers: ["s3cr3t", "AUTH"], ports: [6379]} */
static int check_plaintext(struct sctx *c, struct fl_check *ck, const struct fl_ynode *v)
{
	static const char *const keys[] = { "markers", "ports", NULL };

	if (fl_yexpect(c->d, v, FL_Y_MAP, "'plaintext'", c->err) ||
	    fl_ycheck_keys(c->d, v, "'plaintext'", keys, c->err) ||
	    fl_yget_strv(c->d, v, "markers", &ck->markers, &ck->n_markers, c->err) ||
	    check_ports(c, ck, v, false))
		return -EINVAL;
	if (!ck->n_markers)
		return fl_yerr(c->err, c->d, v,
			       "'plaintext' needs 'markers': what must never travel in clear "
			       "(e.g. markers: [\"s3cr3t\"])");
	for (size_t i = 0; i < ck->n_markers; i++)
		if (!ck->markers[i][0] || strlen(ck->markers[i]) > 256)
			return fl_yerr(c->err, c->d, fl_ymap_get(v, "markers"),
				       "a marker is 1 to 256 bytes");
	return 0;
}

/* secure: {ports: [2379, 2380]} */
static int check_secure(struct sctx *c, struct fl_check *ck, const struct fl_ynode *v)
{
	static const char *const keys[] = { "ports", NULL };

	if (fl_yexpect(c->d, v, FL_Y_MAP, "'secure'", c->err) ||
	    fl_ycheck_keys(c->d, v, "'secure'", keys, c->err))
		return -EINVAL;
	return check_ports(c, ck, v, true);
}

/* linearizable: {model: register|kv}; lost-writes and stale-reads:
 * {bound: "<= 2"} (default: none, "== 0"). An empty map or null is all
 * defaults. */
static int check_history(struct sctx *c, struct fl_check *ck, const struct fl_ynode *v,
			 const char *what)
{
	static const char *const lkeys[] = { "model", NULL };
	static const char *const ckeys[] = { "bound", NULL };
	bool lin = ck->kind == FL_CHECK_LINEARIZABLE;
	const char *model = NULL, *bound = NULL;
	char w[32];
	struct fl_err e;

	snprintf(w, sizeof(w), "'%s'", what);
	if (v && (fl_yis_null(v) || (v->type == FL_Y_SCALAR && !v->text[0])))
		v = NULL; /* "- lost-writes:" */
	if (v &&
	    (fl_yexpect(c->d, v, FL_Y_MAP, w, c->err) ||
	     fl_ycheck_keys(c->d, v, w, lin ? lkeys : ckeys, c->err) ||
	     fl_yget_str(c->d, v, lin ? "model" : "bound", false, lin ? &model : &bound, c->err)))
		return -EINVAL;
	if (model && strcmp(model, "register") && strcmp(model, "kv"))
		return fl_yerr(c->err, c->d, fl_ymap_get(v, "model"),
			       "unknown model '%s' (use register or kv)", model);
	ck->kv = model && !strcmp(model, "kv");
	if (fl_bound_parse_unit(bound ? bound : "== 0", FL_UNIT_NUMBER, FL_CMP_LE, &ck->bound, &e))
		return fl_yerr(c->err, c->d, fl_ymap_get(v, "bound"), "%s", e.msg);
	return 0;
}

bool fl_scenario_needs_capture(const struct fl_scenario *sc)
{
	for (size_t i = 0; i < sc->n_checks; i++)
		if (sc->checks[i].kind == FL_CHECK_PLAINTEXT ||
		    sc->checks[i].kind == FL_CHECK_SECURE)
			return true;
	return false;
}

/* " on 2379,2380" */
static void ports_text(const struct fl_check *ck, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (size_t i = 0; i < ck->n_ports && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%u", i ? "," : " on ", ck->ports[i]);
}

/* transport: {bytes_per_op: "< 4kb", packets_per_op: "< 20", retransmits:
 * "< 5%", goodput: "> 0.8", during|outside: ID, op: NAME, on: NODES} */
static int check_transport(struct sctx *c, struct fl_check *ck, const struct fl_ynode *v)
{
	static const char *const keys[] = { "bytes_per_op",
					    "packets_per_op",
					    "retransmits",
					    "goodput",
					    "during",
					    "outside",
					    "op",
					    "on",
					    NULL };
	static const enum fl_bound_unit unit[] = { FL_UNIT_SIZE, FL_UNIT_NUMBER, FL_UNIT_NUMBER,
						   FL_UNIT_NUMBER };
	struct fl_err e;

	if (fl_yexpect(c->d, v, FL_Y_MAP, "'transport'", c->err) ||
	    fl_ycheck_keys(c->d, v, "'transport'", keys, c->err))
		return -EINVAL;
	for (int m = 0; m < 4; m++) {
		const struct fl_ynode *b = fl_ymap_get(v, keys[m]);

		if (!b)
			continue;
		if (b->type != FL_Y_SCALAR || fl_yis_null(b))
			return fl_yerr(c->err, c->d, b, "'%s' needs a bound such as \"< 4kb\"",
				       keys[m]);
		/* costs are bounded from above, goodput from below */
		if (fl_bound_parse_unit(b->text, unit[m], m == 3 ? FL_CMP_GE : FL_CMP_LE,
					&ck->tbound[m], &e))
			return fl_yerr(c->err, c->d, b, "%s", e.msg);
		ck->tmask |= 1u << m;
	}
	if (!ck->tmask)
		return fl_yerr(c->err, c->d, v,
			       "'transport' needs a bound: bytes_per_op, packets_per_op, "
			       "retransmits or goodput (e.g. bytes_per_op: \"< 4kb\")");
	return check_window(c, ck, v);
}

static void check_name(struct fl_check *ck)
{
	const char *k = fl_check_kind_name(ck->kind);
	char w[80] = "";

	if (ck->win.kind != FL_WIN_ALL)
		snprintf(w, sizeof(w), " %s %s",
			 ck->win.kind == FL_WIN_DURING ? "during" : "outside", ck->win.id);
	if (ck->on[0]) {
		size_t l = strlen(w);

		snprintf(w + l, sizeof(w) - l, " on %.*s", (int)strlen(ck->on) - 2, ck->on + 1);
	}
	switch (ck->kind) {
	case FL_CHECK_LATENCY:
		if (ck->pctl >= 100)
			snprintf(ck->name, sizeof(ck->name), "latency max %s%s", ck->bound.text, w);
		else
			snprintf(ck->name, sizeof(ck->name), "latency p%g %s%s", ck->pctl,
				 ck->bound.text, w);
		break;
	case FL_CHECK_RECOVERY:
		snprintf(ck->name, sizeof(ck->name), "recovery within %.3gs after %s",
			 ck->within_ns / 1e9, ck->after);
		break;
	case FL_CHECK_COMMAND:
		if (ck->has_at) {
			char at[32];

			fl_format_duration(ck->at_ns, at, sizeof(at));
			snprintf(ck->name, sizeof(ck->name), "command on %s at %.20s: %.80s",
				 ck->node, at, ck->run);
		} else {
			snprintf(ck->name, sizeof(ck->name), "command on %s: %.100s", ck->node,
				 ck->run);
		}
		break;
	case FL_CHECK_INVARIANT:
		snprintf(ck->name, sizeof(ck->name), "invariant: %.120s", ck->run);
		break;
	case FL_CHECK_PLAINTEXT:
		ports_text(ck, w, sizeof(w));
		snprintf(ck->name, sizeof(ck->name), "plaintext: no %.60s%s in captures%s",
			 ck->markers[0], ck->n_markers > 1 ? ", ..." : "", w);
		break;
	case FL_CHECK_SECURE:
		ports_text(ck, w, sizeof(w));
		snprintf(ck->name, sizeof(ck->name), "secure: TLS%s", w);
		break;
	case FL_CHECK_LINEARIZABLE:
		snprintf(ck->name, sizeof(ck->name), "linearizable (%s)",
			 ck->kv ? "kv" : "register");
		break;
	case FL_CHECK_LOST_WRITES:
	case FL_CHECK_STALE_READS:
		snprintf(ck->name, sizeof(ck->name), "%s %s", k, ck->bound.text);
		break;
	case FL_CHECK_TRANSPORT: {
		char b[120];

		fl_check_transport_bounds(ck, b, sizeof(b));
		snprintf(ck->name, sizeof(ck->name), "transport %s%s", b, w);
		break;
	}
	default:
		snprintf(ck->name, sizeof(ck->name), "%s%s %s%s", k, ck->by_time ? " by time" : "",
			 ck->bound.text, w);
	}
}

static int parse_check(struct sctx *c, const struct fl_ynode *m, struct fl_check *ck)
{
	const struct fl_ynode *v;
	int ret;

	ck->line = m->line;
	ck->col = m->col;
	if (fl_yexpect(c->d, m, FL_Y_MAP, "a check", c->err) ||
	    fl_ycheck_keys(c->d, m, "a check", fl_check_names, c->err))
		return -EINVAL;
	if (m->n != 1)
		return fl_yerr(c->err, c->d, m, "one check per list item (found %zu keys)", m->n);
	v = m->items[0];
	for (int i = 0; fl_check_names[i]; i++)
		if (!strcmp(fl_check_names[i], m->keys[0]->text))
			ck->kind = (enum fl_check_kind)i;
	switch (ck->kind) {
	case FL_CHECK_TRANSPORT:
		ret = check_transport(c, ck, v);
		break;
	case FL_CHECK_AVAILABILITY:
	case FL_CHECK_PROGRESS:
		ret = check_ratio(c, ck, v, m->keys[0]->text);
		break;
	case FL_CHECK_LATENCY:
		ret = check_latency(c, ck, v);
		break;
	case FL_CHECK_RECOVERY:
		ret = check_recovery(c, ck, v);
		break;
	case FL_CHECK_PLAINTEXT:
		ret = check_plaintext(c, ck, v);
		break;
	case FL_CHECK_SECURE:
		ret = check_secure(c, ck, v);
		break;
	case FL_CHECK_LINEARIZABLE:
	case FL_CHECK_LOST_WRITES:
	case FL_CHECK_STALE_READS:
		ret = check_history(c, ck, v, m->keys[0]->text);
		break;
	default:
		ret = check_run(c, ck, v, ck->kind == FL_CHECK_COMMAND);
	}
	if (!ret)
		check_name(ck);
	return ret;
}

/* gcc 12 -fanalyzer false positive (fallacy/analyzer.h): sc->checks belongs to the scenario; fl_scenario_free frees it */
FL_LEAK_FP_BEGIN
static int parse_checks(struct sctx *c, const struct fl_ynode *t)
{
	int ret = 0;

	if (!t)
		return 0;
	if (fl_yexpect(c->d, t, FL_Y_SEQ, "'checks'", c->err))
		return -EINVAL;
	c->sc->checks = calloc(t->n ? t->n : 1, sizeof(struct fl_check));
	if (!c->sc->checks)
		return -ENOMEM;
	for (size_t i = 0; i < t->n && !ret; i++) {
		c->sc->n_checks = i + 1;
		ret = parse_check(c, t->items[i], &c->sc->checks[i]);
	}
	return ret;
}
FL_LEAK_FP_END

static const char *const top_keys[] = { "name",	    "fallacy", "description", "seed",
					"duration", "nodes",   "ipv6",	      "lab",
					"timeline", "checks",  "schedule",    NULL };

static int parse_head(struct sctx *c, const struct fl_ynode *r)
{
	const char *name = NULL, *fallacy = NULL, *desc = NULL, *v6 = NULL;
	struct fl_scenario *sc = c->sc;
	const struct fl_ynode *fn;
	uint64_t nodes = 0;
	struct fl_err e;

	if (fl_yget_str(c->d, r, "name", true, &name, c->err) ||
	    fl_yget_str(c->d, r, "fallacy", false, &fallacy, c->err) ||
	    fl_yget_str(c->d, r, "description", false, &desc, c->err) ||
	    fl_yget_u64(c->d, r, "seed", false, 0, FL_SEED_MAX, &sc->seed, c->err) ||
	    fl_yget_duration(c->d, r, "duration", true, &sc->duration_ns, c->err) ||
	    fl_yget_u64(c->d, r, "nodes", false, 1, 64, &nodes, c->err) ||
	    fl_yget_str(c->d, r, "ipv6", false, &v6, c->err))
		return -EINVAL;
	if (fl_validate_name("name", name, 48, &e))
		return fl_yerr(c->err, c->d, fl_ymap_get(r, "name"), "%s", e.msg);
	fn = fl_ymap_get(r, "fallacy");
	if (fallacy) {
		size_t i = 0;

		while (fallacies[i] && strcmp(fallacies[i], fallacy))
			i++;
		if (!fallacies[i])
			return fl_yerr(
				c->err, c->d, fn,
				"unknown fallacy '%s' (use reliable, latency, bandwidth, "
				"secure, topology, administrator, transport-cost or homogeneous)",
				fallacy);
	}
	if (v6 && strcmp(v6, "true") && strcmp(v6, "false"))
		return fl_yerr(c->err, c->d, fl_ymap_get(r, "ipv6"),
			       "'ipv6' must be true or false");
	if (!sc->duration_ns)
		return fl_yerr(c->err, c->d, fl_ymap_get(r, "duration"), "'duration' must be > 0");
	sc->ipv6 = v6 && !strcmp(v6, "true");
	sc->has_seed = fl_ymap_get(r, "seed") != NULL;
	sc->nodes = nodes;
	return fl_ydup(&sc->name, name)		      ?:
		       fl_ydup(&sc->fallacy, fallacy) ?:
							fl_ydup(&sc->description, desc);
}

/* lab: the lab file's form (labfile.h); it says the nodes and the family */
static int parse_lab(struct sctx *c, const struct fl_ynode *r)
{
	const struct fl_ynode *l = fl_ymap_get(r, "lab");
	const char *dup = fl_ymap_get(r, "nodes") ? "nodes" :
			  fl_ymap_get(r, "ipv6")  ? "ipv6" :
						    NULL;

	if (!l)
		return 0;
	if (dup)
		return fl_yerr(c->err, c->d, fl_ymap_key(r, dup),
			       "'%s' and 'lab' both describe the lab: say it in 'lab'", dup);
	if (fl_labfile_parse(c->d, l, &c->sc->lab, c->err))
		return -EINVAL;
	c->sc->nodes = c->sc->lab->n_nodes;
	c->sc->ipv6 = c->sc->lab->ipv6;
	return 0;
}

static int parse_root(struct sctx *c, const struct fl_ynode *r)
{
	if (!r)
		return fl_yerr(c->err, c->d, NULL, "empty scenario file");
	if (fl_yexpect(c->d, r, FL_Y_MAP, "a scenario", c->err) ||
	    fl_ycheck_keys(c->d, r, "a scenario", top_keys, c->err))
		return -EINVAL;
	return parse_head(c, r)						  ?:
		       parse_lab(c, r)					  ?:
		       parse_timeline(c, fl_ymap_get(r, "timeline"))	  ?:
		       fl_sparse_schedules(c, fl_ymap_get(r, "schedule")) ?:
		       parse_checks(c, fl_ymap_get(r, "checks"));
}

int fl_scenario_load(const char *file, const char *text, struct fl_scenario **out,
		     struct fl_err *err)
{
	struct fl_ydoc *d = NULL;
	struct fl_scenario *sc;
	struct sctx c;
	int ret;

	sc = calloc(1, sizeof(*sc));
	if (!sc)
		return -ENOMEM;
	ret = fl_yaml_load(file, text, &d, err);
	if (!ret) {
		c = (struct sctx){ .d = d, .err = err, .sc = sc };
		ret = fl_ydup(&sc->file, file) ?: parse_root(&c, d->root);
	}
	fl_yaml_free(d);
	if (ret) {
		fl_scenario_free(sc);
		return ret;
	}
	*out = sc;
	return 0;
}

void fl_scenario_free(struct fl_scenario *sc)
{
	if (!sc)
		return;
	for (size_t i = 0; i < sc->n_steps; i++) {
		for (size_t j = 0; j < sc->steps[i].argc; j++)
			free(sc->steps[i].argv[j]);
		free(sc->steps[i].argv);
	}
	for (size_t i = 0; i < sc->n_checks; i++) {
		free(sc->checks[i].run);
		for (size_t k = 0; k < sc->checks[i].n_markers; k++)
			free(sc->checks[i].markers[k]);
		free(sc->checks[i].markers);
	}
	fl_schedules_free(sc);
	free(sc->steps);
	free(sc->checks);
	free(sc->lab);
	free(sc->file);
	free(sc->name);
	free(sc->fallacy);
	free(sc->description);
	free(sc);
}

void fl_step_words(const struct fl_step *st, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (size_t i = 0; i < st->argc && off + 1 < len; i++) {
		const char *w = st->argv[i];

		if (i)
			buf[off++] = ' ';
		if (*w && !strpbrk(w, " \t\n\"\\")) {
			off += (size_t)snprintf(buf + off, len - off, "%s", w);
			continue;
		}
		/* quoted, as fl_step_push_words reads it back */
		buf[off++] = '"';
		for (; *w && off + 3 < len; w++) {
			if (*w == '"' || *w == '\\')
				buf[off++] = '\\';
			buf[off++] = *w;
		}
		if (off + 1 < len)
			buf[off++] = '"';
		buf[off] = '\0';
	}
	if (off >= len)
		buf[len - 1] = '\0';
}

static void print_step(const struct fl_step *st, FILE *f)
{
	char at[32], words[1024];
	struct fl_step rest = *st;

	fl_format_duration(st->at_ns, at, sizeof(at));
	/* words that start with the key (link n1 down) print after it */
	if (rest.argc && !strcmp(rest.argv[0], st->ops->key)) {
		rest.argv++;
		rest.argc--;
	}
	fl_step_words(&rest, words, sizeof(words));
	fprintf(f, "  - at: %s\n", at);
	if (!fl_step_is_heal(st))
		fprintf(f, "    id: %s\n", st->id);
	fprintf(f, "    %s: ", st->ops->key);
	fl_json_string(f, words);
	fputc('\n', f);
	if (st->duration_ns) {
		fl_format_duration(st->duration_ns, at, sizeof(at));
		fprintf(f, "    duration: %s\n", at);
	}
}

/* ", during: X, op: Y, on: [n2, n3]" */
static void print_filters(const struct fl_check *ck, FILE *f)
{
	if (ck->win.kind != FL_WIN_ALL)
		fprintf(f, ", %s: %s", ck->win.kind == FL_WIN_DURING ? "during" : "outside",
			ck->win.id);
	if (ck->op[0]) {
		fputs(", op: ", f);
		fl_json_string(f, ck->op);
	}
	if (ck->on[0])
		fprintf(f, ", on: [%.*s]", (int)strlen(ck->on) - 2, ck->on + 1);
}

static void print_run_check(const struct fl_check *ck, FILE *f)
{
	char t[32];

	fl_format_duration(ck->timeout_ns, t, sizeof(t));
	fputc('{', f);
	if (ck->kind == FL_CHECK_COMMAND)
		fprintf(f, "node: %s, ", ck->node);
	fputs("run: ", f);
	fl_json_string(f, ck->run);
	fprintf(f, ", expect: %d, timeout: %s", ck->expect, t);
	if (ck->has_at) {
		fl_format_duration(ck->at_ns, t, sizeof(t));
		fprintf(f, ", at: %s", t);
	}
	fputc('}', f);
}

/* {markers: [..], ports: [..]} of plaintext and secure checks */
static void print_capture_check(const struct fl_check *ck, FILE *f)
{
	fputc('{', f);
	if (ck->n_markers) {
		fputs("markers: [", f);
		for (size_t i = 0; i < ck->n_markers; i++) {
			fputs(i ? ", " : "", f);
			fl_json_string(f, ck->markers[i]);
		}
		fputs("]", f);
	}
	if (ck->n_ports) {
		fprintf(f, "%sports: [", ck->n_markers ? ", " : "");
		for (size_t i = 0; i < ck->n_ports; i++)
			fprintf(f, "%s%u", i ? ", " : "", ck->ports[i]);
		fputs("]", f);
	}
	fputs("}\n", f);
}

static void print_check(const struct fl_check *ck, FILE *f)
{
	char a[32], b[32];

	fprintf(f, "  - %s: ", fl_check_kind_name(ck->kind));
	switch (ck->kind) {
	case FL_CHECK_PLAINTEXT:
	case FL_CHECK_SECURE:
		print_capture_check(ck, f);
		return;
	case FL_CHECK_LINEARIZABLE:
		fprintf(f, "{model: %s}\n", ck->kv ? "kv" : "register");
		return;
	case FL_CHECK_LATENCY:
		if (ck->pctl >= 100)
			snprintf(a, sizeof(a), "max");
		else if (ck->pctl > 99)
			snprintf(a, sizeof(a), "p999");
		else
			snprintf(a, sizeof(a), "p%g", ck->pctl);
		fprintf(f, "{%s: ", a);
		fl_json_string(f, ck->bound.text);
		break;
	case FL_CHECK_RECOVERY:
		fl_format_duration(ck->within_ns, a, sizeof(a));
		fl_format_duration(ck->rate_window_ns, b, sizeof(b));
		fprintf(f, "{within: %s, after: %s", a, ck->after);
		if (ck->has_rate) {
			fputs(", rate: ", f);
			fl_json_string(f, ck->bound.text);
			fprintf(f, ", window: %s", b);
		}
		break;
	case FL_CHECK_COMMAND:
	case FL_CHECK_INVARIANT:
		print_run_check(ck, f);
		fputc('\n', f);
		return;
	case FL_CHECK_TRANSPORT:
		fputc('{', f);
		for (int m = 0, n = 0; m < 4; m++) {
			if (!(ck->tmask & (1u << m)))
				continue;
			fprintf(f, "%s%s: ", n++ ? ", " : "", fl_tmetric_names[m]);
			fl_json_string(f, ck->tbound[m].text);
		}
		break;
	default:
		fputs("{bound: ", f);
		fl_json_string(f, ck->bound.text);
		if (ck->by_time)
			fputs(", by: time", f);
	}
	print_filters(ck, f);
	fputs("}\n", f);
}

void fl_scenario_print(const struct fl_scenario *sc, uint64_t seed, FILE *f)
{
	char dur[32];

	fl_format_duration(sc->duration_ns, dur, sizeof(dur));
	fprintf(f, "name: %s\n", sc->name);
	if (sc->fallacy)
		fprintf(f, "fallacy: %s\n", sc->fallacy);
	if (sc->description) {
		fprintf(f, "description: ");
		fl_json_string(f, sc->description);
		fputc('\n', f);
	}
	fprintf(f, "seed: %llu\nduration: %s\n", (unsigned long long)seed, dur);
	if (sc->lab)
		fl_labfile_print(sc->lab, f);
	else if (sc->nodes)
		fprintf(f, "nodes: %zu\n", sc->nodes);
	if (!sc->lab && sc->ipv6)
		fprintf(f, "ipv6: true\n");
	fprintf(f, "timeline:%s\n", sc->n_steps ? "" : " []");
	for (size_t i = 0; i < sc->n_steps; i++)
		print_step(&sc->steps[i], f);
	if (!sc->expanded)
		fl_schedules_print(sc, f);
	fprintf(f, "checks:%s\n", sc->n_checks ? "" : " []");
	for (size_t i = 0; i < sc->n_checks; i++)
		print_check(&sc->checks[i], f);
}
