// SPDX-License-Identifier: MIT
/* Checks over ops and events. */
#include "checks.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "steps.h"
#include "transport.h"
#include "yaml.h"

static const char *const status_names[] = { "ok", "fail", "timeout" };

const char *fl_op_status_name(enum fl_op_status s)
{
	return s <= FL_OP_TIMEOUT ? status_names[s] : "?";
}

int fl_op_status_parse(const char *s, enum fl_op_status *out)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, status_names[i])) {
			*out = (enum fl_op_status)i;
			return 0;
		}
	return -EINVAL;
}

static int jget_u64(const struct fl_ynode *m, const char *key, uint64_t *out)
{
	const struct fl_ynode *v = fl_ymap_get(m, key);
	char *end;

	if (!v || v->type != FL_Y_SCALAR)
		return -ENOENT;
	errno = 0;
	*out = strtoull(v->text, &end, 10);
	return errno || *end || end == v->text ? -EINVAL : 0;
}

static const char *jget_str(const struct fl_ynode *m, const char *key)
{
	const struct fl_ynode *v = fl_ymap_get(m, key);

	return v && v->type == FL_Y_SCALAR ? v->text : NULL;
}

static int op_from_json(const struct fl_ynode *m, struct fl_op *op)
{
	const char *node = jget_str(m, "node"), *name = jget_str(m, "op");
	const char *st = jget_str(m, "status");

	memset(op, 0, sizeof(*op));
	if (jget_u64(m, "start_ns", &op->start_ns) || jget_u64(m, "end_ns", &op->end_ns) || !st ||
	    fl_op_status_parse(st, &op->status) || op->end_ns < op->start_ns)
		return -EINVAL;
	snprintf(op->node, sizeof(op->node), "%s", node ? node : "");
	snprintf(op->op, sizeof(op->op), "%s", name ? name : "op");
	return 0;
}

static int push(void **arr, size_t *n, size_t size, const void *item)
{
	void *na = realloc(*arr, (*n + 1) * size);

	if (!na)
		return -ENOMEM;
	memcpy((char *)na + *n * size, item, size);
	*arr = na;
	(*n)++;
	return 0;
}

static int span_close(struct fl_run_data *rd, const char *id, uint64_t t)
{
	for (size_t i = 0; i < rd->n_spans; i++) {
		struct fl_span *s = &rd->spans[i];

		if (!s->healed && !strcmp(s->id, id)) {
			s->end_ns = t;
			s->healed = true;
		}
	}
	{
		uint64_t *h = realloc(rd->heals, (rd->n_heals + 1) * sizeof(*h));
		char(*ids)[FL_ID_MAX + 1];

		if (!h)
			return -ENOMEM;
		rd->heals = h;
		ids = realloc(rd->heal_ids, (rd->n_heals + 1) * sizeof(*ids));
		if (!ids)
			return -ENOMEM;
		rd->heal_ids = ids;
		h[rd->n_heals] = t;
		snprintf(ids[rd->n_heals], sizeof(ids[0]), "%s", id);
		rd->n_heals++;
	}
	return 0;
}

static int64_t jget_i64(const struct fl_ynode *m, const char *key)
{
	uint64_t v;

	return jget_u64(m, key, &v) ? -1 : (int64_t)v;
}

/* The dropped counter of fault id in a heal event's "counters" list. */
static int64_t heal_dropped(const struct fl_ynode *m, const char *id)
{
	const struct fl_ynode *l = fl_ymap_get(m, "counters");

	for (size_t i = 0; l && l->type == FL_Y_SEQ && i < l->n; i++) {
		const char *fid = jget_str(l->items[i], "id");

		if (fid && !strcmp(fid, id))
			return jget_i64(fl_ymap_get(l->items[i], "counters"), "dropped");
	}
	return -1;
}

static int timeline_event(const struct fl_ynode *m, const char *ev, const char *id, uint64_t t,
			  struct fl_run_data *rd)
{
	const char *text = jget_str(m, "spec");
	struct fl_event e = { .t_ns = t, .dropped = -1 };

	if (!text)
		text = jget_str(m, "message");
	snprintf(e.event, sizeof(e.event), "%s", ev);
	snprintf(e.id, sizeof(e.id), "%s", id);
	snprintf(e.text, sizeof(e.text), "%s", text ? text : "");
	e.late_ns = jget_i64(m, "late_ns");
	e.apply_ns = jget_i64(m, "apply_ns");
	if (!strcmp(ev, "heal"))
		e.dropped = heal_dropped(m, id);
	return push((void **)&rd->events, &rd->n_events, sizeof(e), &e);
}

static size_t commas(const char *g)
{
	size_t n = 0;

	for (; *g; g++)
		n += *g == ',';
	return n;
}

/* The sides of a partition from its words "partition G1 G2 ... [oneway]":
 * the largest group (the first of equals) and every other node. */
static void partition_sides(const char *spec, struct fl_span *s)
{
	char buf[512], *groups[32];
	size_t n = 0, best = 0;

	if (!spec || strncmp(spec, "partition ", 10))
		return;
	snprintf(buf, sizeof(buf), "%s", spec + 10);
	for (char *p = buf, *tok; n < 32 && (tok = strsep(&p, " "));) {
		if (!strncmp(tok, "--", 2))
			return; /* --from/--to: no groups */
		if (tok[0] && strcmp(tok, "oneway"))
			groups[n++] = tok;
	}
	if (n < 2)
		return;
	for (size_t g = 1; g < n; g++)
		if (commas(groups[g]) > commas(groups[best]))
			best = g;
	snprintf(s->majority, sizeof(s->majority), ",%s,", groups[best]);
	snprintf(s->minority, sizeof(s->minority), ",");
	for (size_t g = 0; g < n; g++) {
		char *p = groups[g], *tok;

		while (g != best && (tok = strsep(&p, ","))) {
			size_t len = strlen(s->minority);
			char key[32];

			snprintf(key, sizeof(key), ",%s,", tok);
			if (!strstr(s->majority, key) && !strstr(s->minority, key) &&
			    len + strlen(tok) + 2 < sizeof(s->minority))
				snprintf(s->minority + len, sizeof(s->minority) - len, "%s,", tok);
		}
	}
}

/* A node (and its role) from a target-start event. */
static int node_seen(struct fl_run_data *rd, const char *node, const char *role)
{
	struct fl_node_role nr;
	char key[40];
	size_t len = strlen(rd->all_nodes);

	snprintf(key, sizeof(key), ",%s,", node);
	if (!len)
		snprintf(rd->all_nodes, sizeof(rd->all_nodes), ",");
	else if (strstr(rd->all_nodes, key))
		return 0; /* a restart */
	len = strlen(rd->all_nodes);
	snprintf(rd->all_nodes + len, sizeof(rd->all_nodes) - len, "%s,", node);
	if (!role)
		return 0;
	snprintf(nr.node, sizeof(nr.node), "%s", node);
	snprintf(nr.role, sizeof(nr.role), "%s", role);
	return push((void **)&rd->roles, &rd->n_roles, sizeof(nr), &nr);
}

static int leader_seen(struct fl_run_data *rd, const struct fl_ynode *m, uint64_t t)
{
	const struct fl_ynode *l = fl_ymap_get(m, "nodes");
	struct fl_leader_seen ls = { .t_ns = t, .nodes = "," };

	for (size_t i = 0; l && l->type == FL_Y_SEQ && i < l->n; i++) {
		size_t len = strlen(ls.nodes);

		if (l->items[i]->type == FL_Y_SCALAR)
			snprintf(ls.nodes + len, sizeof(ls.nodes) - len, "%s,", l->items[i]->text);
	}
	return push((void **)&rd->leaders, &rd->n_leaders, sizeof(ls), &ls);
}

/* Does a step whose event is named ev leave something to heal? (The event
 * is the step kind's key, or what its event hook names, e.g. "partition".) */
static bool step_heals(const char *ev)
{
	for (int i = 0; fl_step_kinds[i]; i++)
		if (!strcmp(fl_step_kinds[i]->key, ev))
			return fl_step_kinds[i]->heal != NULL;
	return true;
}

static int event_from_json(const struct fl_ynode *m, struct fl_run_data *rd)
{
	const char *ev = jget_str(m, "event"), *id = jget_str(m, "id");
	struct fl_span s = { .start_ns = 0 };
	uint64_t t;

	if (!ev || jget_u64(m, "mono_ns", &t))
		return -EINVAL;
	if (!strcmp(ev, "start")) {
		rd->start_ns = t;
		jget_u64(m, "wall_ns", &rd->start_wall_ns);
	} else if (!strcmp(ev, "end"))
		rd->end_ns = t;
	else if (!strcmp(ev, "target-start") && id)
		return node_seen(rd, id, jget_str(m, "role"));
	else if (!strcmp(ev, "leader"))
		return leader_seen(rd, m, t);
	/* every applied timeline step (it has the step's words, "spec"; fault
	 * and partition events with or without them) of a kind that heals
	 * opens a window, whatever its kind (fault, partition, kill, pause,
	 * ...); its heal closes it. A step that leaves nothing to heal
	 * (inject) has no window. */
	if (!id || (!jget_str(m, "spec") && strcmp(ev, "fault") && strcmp(ev, "partition") &&
		    strcmp(ev, "heal") && strcmp(ev, "error")))
		return 0;
	if (strcmp(ev, "heal") && strcmp(ev, "error") && !step_heals(ev))
		return timeline_event(m, ev, id, t, rd) ? -ENOMEM : 0;
	if (timeline_event(m, ev, id, t, rd))
		return -ENOMEM;
	if (!strcmp(ev, "error"))
		return 0;
	if (!strcmp(ev, "heal"))
		return span_close(rd, id, t);
	snprintf(s.id, sizeof(s.id), "%s", id);
	s.start_ns = t;
	s.end_ns = UINT64_MAX;
	partition_sides(jget_str(m, "spec"), &s);
	snprintf(s.spec, sizeof(s.spec), "%s", jget_str(m, "spec") ? jget_str(m, "spec") : "");
	return push((void **)&rd->spans, &rd->n_spans, sizeof(s), &s);
}

struct lines {
	bool ops;
	struct fl_run_data *rd;
};

static int one_line(void *arg, const struct fl_ydoc *d, struct fl_err *err)
{
	struct lines *l = arg;
	struct fl_op op;
	int ret;

	if (l->ops && !(ret = op_from_json(d->root, &op)))
		ret = push((void **)&l->rd->ops, &l->rd->n_ops, sizeof(op), &op);
	else if (!l->ops)
		ret = event_from_json(d->root, l->rd);
	if (ret == -EINVAL)
		fl_yerr(err, d, d->root, "missing or bad fields in this %s line",
			l->ops ? "operation" : "event");
	return ret;
}

static int load_lines(const char *file, bool ops, struct fl_run_data *rd, struct fl_err *err)
{
	struct lines l = { ops, rd };

	return fl_jsonl_each(file, one_line, &l, err);
}

int fl_run_data_load(const char *ops_file, const char *events_file, struct fl_run_data *rd,
		     struct fl_err *err)
{
	int ret;

	memset(rd, 0, sizeof(*rd));
	ret = load_lines(events_file, false, rd, err) ?: load_lines(ops_file, true, rd, err);
	if (ret)
		return ret;
	if (!rd->end_ns)
		for (size_t i = 0; i < rd->n_ops; i++)
			if (rd->ops[i].end_ns > rd->end_ns)
				rd->end_ns = rd->ops[i].end_ns;
	for (size_t i = 0; i < rd->n_spans; i++)
		if (rd->spans[i].end_ns == UINT64_MAX)
			rd->spans[i].end_ns = rd->end_ns;
	return 0;
}

void fl_run_data_free(struct fl_run_data *rd)
{
	free(rd->samples);
	free(rd->ops);
	free(rd->spans);
	free(rd->heals);
	free(rd->heal_ids);
	free(rd->events);
	free(rd->roles);
	free(rd->leaders);
	memset(rd, 0, sizeof(*rd));
}

static bool in_span_of(const struct fl_run_data *rd, const char *id, uint64_t t)
{
	bool any = !strcmp(id, "faults");

	for (size_t i = 0; i < rd->n_spans; i++) {
		const struct fl_span *s = &rd->spans[i];

		if ((any || !strcmp(s->id, id)) && t >= s->start_ns && t < s->end_ns)
			return true;
	}
	return false;
}

/* Does op count for this check (op name and node)? */
bool fl_check_op_on(const struct fl_check *ck, const struct fl_op *op)
{
	char key[32];

	if (ck->op[0] && strcmp(ck->op, op->op))
		return false;
	if (!ck->on[0])
		return true;
	snprintf(key, sizeof(key), ",%s,", op->node);
	return strstr(ck->on, key) != NULL;
}

static bool op_in(const struct fl_check *ck, const struct fl_run_data *rd, const struct fl_op *op)
{
	if (!fl_check_op_on(ck, op))
		return false;
	switch (ck->win.kind) {
	case FL_WIN_DURING:
		return in_span_of(rd, ck->win.id, op->start_ns);
	case FL_WIN_OUTSIDE:
		return !in_span_of(rd, ck->win.id, op->start_ns);
	default:
		return true;
	}
}

/* Total time covered by the window, for rates. */
static uint64_t window_ns(const struct fl_check *ck, const struct fl_run_data *rd)
{
	uint64_t total = rd->end_ns > rd->start_ns ? rd->end_ns - rd->start_ns : 0, in = 0;
	const uint64_t step = 1000000; /* 1 ms resolution; spans may overlap */

	if (ck->win.kind == FL_WIN_ALL)
		return total;
	for (uint64_t t = rd->start_ns; t < rd->end_ns; t += step)
		in += in_span_of(rd, ck->win.id, t) ? step : 0;
	return ck->win.kind == FL_WIN_DURING ? in : total - in;
}

static void set_measured(struct fl_check_result *r, double v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_measured(struct fl_check_result *r, double v, const char *fmt, ...)
{
	va_list ap;

	r->measured = v;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
	if (isnan(v)) {
		snprintf(r->measured_text, sizeof(r->measured_text), "n/a");
		r->pass = false;
		return;
	}
	if (r->ck->bound.is_duration || r->ck->kind == FL_CHECK_RECOVERY)
		snprintf(r->measured_text, sizeof(r->measured_text), "%.3fs", v);
	else
		snprintf(r->measured_text, sizeof(r->measured_text), "%.4g", v);
	r->pass = fl_bound_holds(&r->ck->bound, v);
}

void fl_avail_time(const struct fl_check *ck, const struct fl_run_data *rd, size_t *ok, size_t *all)
{
	uint64_t t0 = rd->start_ns, t1 = rd->end_ns, B = FL_AVAIL_BUCKET_NS;
	size_t nb = t1 > t0 ? (size_t)((t1 - t0 + B - 1) / B) : 0;
	unsigned char *b = nb ? calloc(nb, 1) : NULL; /* 1: in flight, 2: ok */

	*ok = *all = 0;
	if (!b)
		return;
	for (size_t i = 0; i < rd->n_ops; i++) {
		const struct fl_op *op = &rd->ops[i];

		if ((ck && !fl_check_op_on(ck, op)) || op->start_ns < t0 || op->start_ns >= t1)
			continue;
		b[(op->start_ns - t0) / B] |= op->status == FL_OP_OK ? 3 : 1;
	}
	for (size_t k = 0; k < nb; k++) {
		uint64_t at = t0 + k * B;
		bool in = !ck || ck->win.kind == FL_WIN_ALL ||
			  in_span_of(rd, ck->win.id, at) == (ck->win.kind == FL_WIN_DURING);

		if (!in || !b[k])
			continue;
		(*all)++;
		*ok += b[k] >> 1;
	}
	free(b);
}

static void eval_availability(const struct fl_check *ck, const struct fl_run_data *rd,
			      struct fl_check_result *r)
{
	size_t ok = 0, all = 0;

	if (ck->by_time) {
		fl_avail_time(ck, rd, &ok, &all);
		if (!all)
			set_measured(r, NAN, "no operation started in the window");
		else
			set_measured(r, (double)ok / all,
				     "%zu of %zu 100 ms buckets with an ok op start", ok, all);
		return;
	}

	for (size_t i = 0; i < rd->n_ops; i++) {
		if (!op_in(ck, rd, &rd->ops[i]))
			continue;
		all++;
		ok += rd->ops[i].status == FL_OP_OK;
	}
	if (!all)
		set_measured(r, NAN, "no operations in the window");
	else
		set_measured(r, (double)ok / all, "%zu of %zu ops ok", ok, all);
}

static void eval_progress(const struct fl_check *ck, const struct fl_run_data *rd,
			  struct fl_check_result *r)
{
	uint64_t w = window_ns(ck, rd);
	size_t ok = 0;

	for (size_t i = 0; i < rd->n_ops; i++)
		ok += op_in(ck, rd, &rd->ops[i]) && rd->ops[i].status == FL_OP_OK;
	if (!w)
		set_measured(r, NAN, "the window is empty");
	else
		set_measured(r, ok / (w / 1e9), "%zu ok ops in %.3fs", ok, w / 1e9);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double fl_percentile(const double *sorted, size_t n, double pct)
{
	size_t rank;

	if (!n)
		return NAN;
	rank = (size_t)ceil(pct / 100.0 * n);
	if (rank < 1)
		rank = 1;
	return sorted[(rank > n ? n : rank) - 1];
}

static void eval_latency(const struct fl_check *ck, const struct fl_run_data *rd,
			 struct fl_check_result *r)
{
	double *v = malloc((rd->n_ops + 1) * sizeof(double));
	size_t n = 0;

	if (!v) {
		set_measured(r, NAN, "out of memory");
		return;
	}
	for (size_t i = 0; i < rd->n_ops; i++)
		if (op_in(ck, rd, &rd->ops[i]))
			v[n++] = (rd->ops[i].end_ns - rd->ops[i].start_ns) / 1e9;
	qsort(v, n, sizeof(double), cmp_double);
	if (!n)
		set_measured(r, NAN, "no operations in the window");
	else
		set_measured(r, fl_percentile(v, n, ck->pctl), "over %zu ops", n);
	free(v);
}

/* The heal of ck->after; for a step that is never healed (a join that
 * ends an earlier leave, a readdress kept to the end), the step itself. */
int fl_check_heal_time(const struct fl_check *ck, const struct fl_run_data *rd, uint64_t *h)
{
	if (!strcmp(ck->after, "last-heal")) {
		if (!rd->n_heals)
			return -ENOENT;
		*h = rd->heals[rd->n_heals - 1];
		return 0;
	}
	for (size_t i = 0; i < rd->n_heals; i++)
		if (!strcmp(rd->heal_ids[i], ck->after)) {
			*h = rd->heals[i];
			return 0;
		}
	for (size_t i = 0; i < rd->n_spans; i++)
		if (!strcmp(rd->spans[i].id, ck->after)) {
			*h = rd->spans[i].start_ns;
			return 1;
		}
	return -ENOENT;
}

static int cmp_start(const void *a, const void *b)
{
	const struct fl_op *x = *(const struct fl_op *const *)a,
			   *y = *(const struct fl_op *const *)b;

	return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

/* Time from h until the first window of ck->rate_window_ns whose ok rate
 * meets the bound; NAN if never. */
static double rate_back(const struct fl_check *ck, const struct fl_run_data *rd, uint64_t h)
{
	const struct fl_op **v = calloc(rd->n_ops + 1, sizeof(*v));
	double res = NAN;
	size_t n = 0;

	if (!v)
		return NAN;
	for (size_t i = 0; i < rd->n_ops; i++)
		if (rd->ops[i].start_ns >= h && fl_check_op_on(ck, &rd->ops[i]))
			v[n++] = &rd->ops[i];
	qsort(v, n, sizeof(*v), cmp_start);
	for (size_t i = 0; i < n && isnan(res); i++) {
		uint64_t end = v[i]->start_ns + ck->rate_window_ns;
		size_t ok = 0, all = 0;

		if (end > rd->end_ns)
			break;
		for (size_t j = i; j < n && v[j]->start_ns < end; j++, all++)
			ok += v[j]->status == FL_OP_OK;
		if (fl_bound_holds(&ck->bound, (double)ok / all))
			res = (v[i]->start_ns - h) / 1e9;
	}
	free(v);
	return res;
}

static void eval_recovery(const struct fl_check *ck, const struct fl_run_data *rd,
			  struct fl_check_result *r)
{
	double first = NAN, back = 0, m;
	int from_step;
	const char *what;
	uint64_t h;

	from_step = fl_check_heal_time(ck, rd, &h);
	if (from_step < 0) {
		set_measured(r, NAN, "no heal of '%s' in the run", ck->after);
		return;
	}
	what = from_step ? "the step" : "the heal";
	for (size_t i = 0; i < rd->n_ops; i++) {
		const struct fl_op *op = &rd->ops[i];
		double t = (op->end_ns - h) / 1e9;

		if (op->start_ns >= h && op->status == FL_OP_OK && fl_check_op_on(ck, op) &&
		    (isnan(first) || t < first))
			first = t;
	}
	if (ck->has_rate)
		back = rate_back(ck, rd, h);
	m = isnan(first) || isnan(back) ? NAN : fmax(first, back);
	r->measured = m;
	if (isnan(first))
		snprintf(r->detail, sizeof(r->detail), "no successful op after %s", what);
	else if (isnan(back))
		snprintf(r->detail, sizeof(r->detail),
			 "first ok op %.3fs after %s; ok rate never back to %s", first, what,
			 ck->bound.text);
	else if (ck->has_rate)
		snprintf(r->detail, sizeof(r->detail),
			 "first ok op %.3fs after %s; ok rate %s from %.3fs", first, what,
			 ck->bound.text, back);
	else
		snprintf(r->detail, sizeof(r->detail), "first ok op %.3fs after %s", first, what);
	snprintf(r->measured_text, sizeof(r->measured_text), isnan(m) ? "never" : "%.3fs", m);
	r->pass = !isnan(m) && m <= ck->within_ns / 1e9;
}

/* The instants of ck's window: the whole run, the spans of a fault (all
 * of them for "faults"), or the rest of the run. */
static void window_parts(const struct fl_check *ck, const struct fl_run_data *rd,
			 struct fl_tparts *p)
{
	uint64_t t = rd->start_ns, end = fl_tcost_end(rd);

	p->n = 0;
	if (ck->win.kind == FL_WIN_ALL) {
		p->a[0] = rd->start_ns;
		p->b[0] = end;
		p->n = end > rd->start_ns;
		return;
	}
	/* walk the run in 1 ms steps, like window_ns(): spans may overlap */
	while (t < end && p->n < FL_TWIN_MAX_PARTS) {
		bool in = in_span_of(rd, ck->win.id, t) == (ck->win.kind == FL_WIN_DURING);
		uint64_t s = t;

		while (t < end &&
		       (in_span_of(rd, ck->win.id, t) == (ck->win.kind == FL_WIN_DURING)) == in)
			t = t + 1000000 < end ? t + 1000000 : end;
		if (in) {
			p->a[p->n] = s;
			p->b[p->n++] = t;
		}
	}
}

static void eval_transport(const struct fl_check *ck, const struct fl_run_data *rd,
			   struct fl_check_result *r)
{
	struct fl_tparts p;
	struct fl_tcost c = { .ops_ok = 0 };
	size_t len = 0;
	char v[32];

	r->pass = true;
	r->measured = NAN;
	if (!rd->n_samples) {
		set_measured(r, NAN, "no counters (counters.jsonl is missing or empty)");
		return;
	}
	window_parts(ck, rd, &p);
	fl_tcost_over(rd, &p, ck, &c);
	for (int m = 0; m < FL_TM__MAX; m++) {
		if (!(ck->tmask & (1u << m)))
			continue;
		if (isnan(r->measured))
			r->measured = c.v[m];
		fl_tmetric_format((enum fl_tmetric)m, c.v[m], v, sizeof(v));
		len += (size_t)snprintf(r->measured_text + len, sizeof(r->measured_text) - len,
					"%s%s %s", len ? ", " : "", fl_tmetric_names[m], v);
		if (len >= sizeof(r->measured_text))
			len = sizeof(r->measured_text) - 1;
		r->pass &= !isnan(c.v[m]) && fl_bound_holds(&ck->tbound[m], c.v[m]);
	}
	snprintf(r->detail, sizeof(r->detail),
		 "%s%s%s: %.3fs, %llu of %llu ops ok, %llu bytes in %llu packets, %llu "
		 "retransmissions in %llu TCP packets",
		 ck->win.kind == FL_WIN_ALL    ? "the whole run" :
		 ck->win.kind == FL_WIN_DURING ? "during " :
						 "outside ",
		 ck->win.kind == FL_WIN_ALL ? "" : ck->win.id, p.n ? "" : " (empty)", c.seconds,
		 (unsigned long long)c.ops_ok, (unsigned long long)c.ops_all,
		 (unsigned long long)c.bytes, (unsigned long long)c.packets,
		 (unsigned long long)c.retrans_segs, (unsigned long long)c.tcp_packets);
}

const struct fl_check_kind_ops fl_check_kinds[] = {
	[FL_CHECK_AVAILABILITY] = { "availability", eval_availability },
	[FL_CHECK_LATENCY] = { "latency", eval_latency },
	[FL_CHECK_RECOVERY] = { "recovery", eval_recovery },
	[FL_CHECK_PROGRESS] = { "progress", eval_progress },
	[FL_CHECK_COMMAND] = { "command", NULL },
	[FL_CHECK_INVARIANT] = { "invariant", NULL },
	[FL_CHECK_TRANSPORT] = { "transport", eval_transport },
	[FL_CHECK_PLAINTEXT] = { "plaintext", fl_check_eval_captures },
	[FL_CHECK_SECURE] = { "secure", fl_check_eval_captures },
	[FL_CHECK_LINEARIZABLE] = { "linearizable", fl_check_eval_history },
	[FL_CHECK_LOST_WRITES] = { "lost-writes", fl_check_eval_history },
	[FL_CHECK_STALE_READS] = { "stale-reads", fl_check_eval_history },
	[FL_CHECK_BACKOFF] = { "backoff", fl_check_eval_backoff },
};

const char *const fl_check_names[] = { "availability", "latency",     "recovery",
				       "progress",     "command",     "invariant",
				       "transport",    "plaintext",   "secure",
				       "linearizable", "lost-writes", "stale-reads",
				       "backoff",      NULL };

const char *fl_check_kind_name(enum fl_check_kind k)
{
	return k <= FL_CHECK__LAST ? fl_check_kinds[k].name : "?";
}

/* The leader the target's leader: command named last before the window
 * (the first one for the whole run), or every other node: "n2,n3,". */
static void leader_side(const struct fl_run_data *rd, const struct fl_span *sp, bool leader,
			char *out, size_t len)
{
	const struct fl_leader_seen *ls = rd->n_leaders ? &rd->leaders[0] : NULL;
	char all[1024], *p = all, *tok;
	size_t off = 0;

	for (size_t i = 1; sp && i < rd->n_leaders; i++)
		if (rd->leaders[i].t_ns <= sp->start_ns)
			ls = &rd->leaders[i];
	out[0] = '\0';
	if (!ls)
		return;
	if (leader) {
		snprintf(out, len, "%s", ls->nodes + 1);
		return;
	}
	snprintf(all, sizeof(all), "%s", rd->all_nodes[0] ? rd->all_nodes + 1 : "");
	while ((tok = strsep(&p, ","))) {
		char key[40];

		snprintf(key, sizeof(key), ",%s,", tok);
		if (tok[0] && !strstr(ls->nodes, key) && off < len)
			off += (size_t)snprintf(out + off, len - off, "%s,", tok);
	}
}

/* picked: the nodes the window's step names (its words, selectors
 * resolved: "leave n3", "route --from n1 --to n2 --via n3"); unpicked:
 * every other node the run had. "n3," */
static void picked_side(const struct fl_run_data *rd, const struct fl_span *sp, bool picked,
			char *out, size_t len)
{
	char words[256], all[1024], *p = words, *tok, key[40], named[300] = ",";
	size_t off = 0;

	out[0] = '\0';
	if (!sp)
		return;
	snprintf(words, sizeof(words), "%s", sp->spec);
	while ((tok = strsep(&p, " ,"))) {
		size_t n = strlen(named);

		snprintf(key, sizeof(key), ",%s,", tok);
		if (tok[0] && strstr(rd->all_nodes, key) && !strstr(named, key))
			snprintf(named + n, sizeof(named) - n, "%s,", tok);
	}
	snprintf(all, sizeof(all), "%s", rd->all_nodes[0] ? rd->all_nodes + 1 : "");
	for (p = all; (tok = strsep(&p, ","));) {
		snprintf(key, sizeof(key), ",%s,", tok);
		if (tok[0] && !strstr(named, key) != picked && off < len)
			off += (size_t)snprintf(out + off, len - off, "%s,", tok);
	}
}

/* on: with roles, majority/minority, leader/followers and picked/unpicked
 * into node names (",n2,n3,"); an item that is none of those stays (a node
 * name). */
static void resolve_on(struct fl_check *ck, const struct fl_run_data *rd)
{
	char in[128], out[128] = ",";
	const struct fl_span *sp = NULL;
	const char *id = ck->kind == FL_CHECK_RECOVERY ? ck->after : ck->win.id;

	if (!ck->on[0])
		return;
	for (size_t i = 0; i < rd->n_spans; i++)
		if (!strcmp(rd->spans[i].id, id))
			sp = &rd->spans[i];
	snprintf(in, sizeof(in), "%s", ck->on + 1);
	for (char *p = in, *tok; (tok = strsep(&p, ","));) {
		size_t len = strlen(out);
		bool role = false;

		if (!tok[0])
			continue;
		if (!strcmp(tok, "majority") || !strcmp(tok, "minority")) {
			const char *side = sp ? tok[1] == 'a' ? sp->majority : sp->minority : "";

			snprintf(out + len, sizeof(out) - len, "%s", side[0] ? side + 1 : "");
			continue;
		}
		if (!strcmp(tok, "leader") || !strcmp(tok, "followers")) {
			leader_side(rd, sp, !strcmp(tok, "leader"), out + len, sizeof(out) - len);
			continue;
		}
		if (!strcmp(tok, "picked") || !strcmp(tok, "unpicked")) {
			picked_side(rd, sp, !strcmp(tok, "picked"), out + len, sizeof(out) - len);
			continue;
		}
		for (size_t i = 0; i < rd->n_roles; i++) {
			if (strcmp(rd->roles[i].role, tok))
				continue;
			role = true;
			len = strlen(out);
			snprintf(out + len, sizeof(out) - len, "%s,", rd->roles[i].node);
		}
		if (!role)
			snprintf(out + len, sizeof(out) - len, "%s,", tok);
	}
	snprintf(ck->on, sizeof(ck->on), "%s", out);
}

void fl_check_eval(const struct fl_check *ck, const struct fl_run_data *rd,
		   struct fl_check_result *res)
{
	struct fl_check rc = *ck;

	memset(res, 0, sizeof(*res));
	resolve_on(&rc, rd);
	res->ck = &rc;
	if (ck->kind <= FL_CHECK__LAST && fl_check_kinds[ck->kind].eval)
		fl_check_kinds[ck->kind].eval(&rc, rd, res);
	else
		fl_check_eval_status(ck, -1, "not evaluated", res);
	res->ck = ck;
}

void fl_check_eval_status(const struct fl_check *ck, int status, const char *why,
			  struct fl_check_result *res)
{
	memset(res, 0, sizeof(*res));
	res->ck = ck;
	res->measured = status < 0 ? NAN : status;
	if (status < 0)
		snprintf(res->measured_text, sizeof(res->measured_text), "no status");
	else
		snprintf(res->measured_text, sizeof(res->measured_text), "exit %d", status);
	snprintf(res->detail, sizeof(res->detail), "%s", why ? why : "");
	res->pass = status == ck->expect;
}

void fl_check_transport_bounds(const struct fl_check *ck, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int m = 0; m < FL_TM__MAX && n < len; m++)
		if (ck->tmask & (1u << m))
			n += (size_t)snprintf(buf + n, len - n, "%s%s %s", n ? ", " : "",
					      fl_tmetric_names[m], ck->tbound[m].text);
}

void fl_check_bound(const struct fl_check *ck, char *bound, size_t len)
{
	switch (ck->kind) {
	case FL_CHECK_RECOVERY:
		snprintf(bound, len, "<= %.3fs", ck->within_ns / 1e9);
		break;
	case FL_CHECK_COMMAND:
	case FL_CHECK_INVARIANT:
		snprintf(bound, len, "exit %d", ck->expect);
		break;
	case FL_CHECK_TRANSPORT:
		fl_check_transport_bounds(ck, bound, len);
		break;
	case FL_CHECK_PLAINTEXT:
		snprintf(bound, len, "0 packets with a marker");
		break;
	case FL_CHECK_SECURE:
		snprintf(bound, len, "every connection TLS");
		break;
	case FL_CHECK_LINEARIZABLE:
		snprintf(bound, len, "linearizable (%s model)", ck->kv ? "kv" : "register");
		break;
	default:
		snprintf(bound, len, "%s", ck->bound.text);
	}
}

void fl_check_message(const struct fl_check_result *res, char *buf, size_t len)
{
	char bound[160];

	if (res->skipped) {
		snprintf(buf, len, "skipped: %s", res->detail);
		return;
	}
	fl_check_bound(res->ck, bound, sizeof(bound));
	snprintf(buf, len, "measured %s%s%s%s, bound %s", res->measured_text,
		 res->detail[0] ? " (" : "", res->detail, res->detail[0] ? ")" : "", bound);
}
