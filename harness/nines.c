// SPDX-License-Identifier: MIT
/* Availability in nines and downtime per window and node; recovery in
 * phases. */
#include "nines.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "transport.h"

const char *const fl_phase_names[] = { "detection", "unavailability", "failover", "catch_up",
				       NULL };

double fl_nines_of(double a)
{
	double n;

	if (isnan(a) || a >= 1)
		return NAN;
	n = -log10(1 - a);
	return n > 0 ? n : 0; /* not -0 */
}

/* ---- windows ------------------------------------------------------------ */

struct nwin {
	char name[40];
	struct fl_tparts p;
};

static void add_part(struct fl_tparts *p, uint64_t a, uint64_t b)
{
	if (b > a && p->n < FL_TWIN_MAX_PARTS) {
		p->a[p->n] = a;
		p->b[p->n++] = b;
	}
}

static bool in_parts(const struct fl_tparts *p, uint64_t t)
{
	for (size_t i = 0; i < p->n; i++)
		if (t >= p->a[i] && t < p->b[i])
			return true;
	return false;
}

static bool id_seen_before(const struct fl_run_data *rd, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (!strcmp(rd->spans[k].id, rd->spans[i].id))
			return true;
	return false;
}

/* before, each id (all its spans), after (when healed), run; as
 * fl_tcost_windows() has them. Windows without time are left out. */
static size_t windows(const struct fl_run_data *rd, struct nwin *w, size_t max)
{
	uint64_t first = rd->end_ns, last = rd->start_ns;
	bool healed = false;
	size_t n = 0;

	memset(w, 0, max * sizeof(*w));
	for (size_t i = 0; i < rd->n_spans; i++) {
		first = rd->spans[i].start_ns < first ? rd->spans[i].start_ns : first;
		last = rd->spans[i].end_ns > last ? rd->spans[i].end_ns : last;
		healed |= rd->spans[i].healed;
	}
	snprintf(w[n].name, sizeof(w[n].name), "before");
	add_part(&w[n].p, rd->start_ns, first);
	n += w[n].p.n > 0;
	for (size_t i = 0; i < rd->n_spans && n + 2 < max; i++) {
		if (id_seen_before(rd, i))
			continue;
		snprintf(w[n].name, sizeof(w[n].name), "%s", rd->spans[i].id);
		for (size_t k = i; k < rd->n_spans; k++)
			if (!strcmp(rd->spans[k].id, rd->spans[i].id))
				add_part(&w[n].p, rd->spans[k].start_ns, rd->spans[k].end_ns);
		n += w[n].p.n > 0;
	}
	snprintf(w[n].name, sizeof(w[n].name), "after");
	if (healed)
		add_part(&w[n].p, last, rd->end_ns);
	n += w[n].p.n > 0;
	snprintf(w[n].name, sizeof(w[n].name), "run");
	add_part(&w[n].p, rd->start_ns, rd->end_ns);
	n += w[n].p.n > 0;
	return n;
}

/* ---- nines and downtime --------------------------------------------------- */

static void nines_of_window(const struct fl_run_data *rd, const struct nwin *w, const char *node,
			    unsigned char *b, size_t nb, struct fl_nines *r)
{
	uint64_t B = FL_AVAIL_BUCKET_NS;

	memset(r, 0, sizeof(*r));
	snprintf(r->window, sizeof(r->window), "%s", w->name);
	snprintf(r->node, sizeof(r->node), "%s", node);
	memset(b, 0, nb);
	for (size_t i = 0; i < rd->n_ops; i++) {
		const struct fl_op *op = &rd->ops[i];

		if ((node[0] && strcmp(op->node, node)) || op->start_ns < rd->start_ns ||
		    op->start_ns >= rd->end_ns || !in_parts(&w->p, op->start_ns))
			continue;
		r->ops++;
		r->ok += op->status == FL_OP_OK;
		b[(op->start_ns - rd->start_ns) / B] |= op->status == FL_OP_OK ? 3 : 1;
	}
	/* a bucket is the window's when its first instant is (fl_avail_time) */
	for (size_t k = 0; k < nb; k++) {
		if (!b[k] || !in_parts(&w->p, rd->start_ns + k * B))
			continue;
		r->buckets++;
		r->down += !(b[k] >> 1);
	}
	r->avail = r->ops ? (double)r->ok / (double)r->ops : NAN;
	r->nines = fl_nines_of(r->avail);
	r->downtime = r->down * (B / 1e9);
}

/* The distinct nodes of the ops, in order of appearance. */
static size_t op_nodes(const struct fl_run_data *rd, const char **nodes, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < rd->n_ops; i++) {
		size_t k = 0;

		while (k < n && strcmp(nodes[k], rd->ops[i].node))
			k++;
		if (k == n && n < max)
			nodes[n++] = rd->ops[i].node;
	}
	return n;
}

int fl_nines_compute(const struct fl_run_data *rd, struct fl_nines **out, size_t *n)
{
	uint64_t B = FL_AVAIL_BUCKET_NS;
	size_t nb = rd->end_ns > rd->start_ns ? (rd->end_ns - rd->start_ns + B - 1) / B : 0;
	struct nwin w[FL_TWIN_MAX_PARTS];
	const char *nodes[64];
	size_t nw = windows(rd, w, FL_TWIN_MAX_PARTS), nn = op_nodes(rd, nodes, 64), k = 0;
	unsigned char *b = calloc(nb + 1, 1);

	*out = NULL;
	*n = 0;
	if (!nb) {
		free(b);
		return 0;
	}
	*out = calloc(nw * (nn + 1), sizeof(**out));
	if (!b || !*out) {
		free(b);
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	for (size_t i = 0; i < nw; i++) {
		nines_of_window(rd, &w[i], "", b, nb, &(*out)[k++]);
		for (size_t j = 0; j < nn; j++)
			nines_of_window(rd, &w[i], nodes[j], b, nb, &(*out)[k++]);
	}
	*n = k;
	free(b);
	return 0;
}

/* ---- recovery in phases ------------------------------------------------- */

/* Is op on node ("": every node)? */
static bool on_node(const struct fl_op *op, const char *node)
{
	return !node[0] || !strcmp(op->node, node);
}

static void phase_set(struct fl_phase *ph, uint64_t from, const char *fw, uint64_t to,
		      const char *tw)
{
	ph->has = true;
	ph->from_ns = from;
	ph->to_ns = to;
	ph->seconds = to > from ? (to - from) / 1e9 : 0;
	snprintf(ph->from, sizeof(ph->from), "%s", fw);
	snprintf(ph->to, sizeof(ph->to), "%s", tw);
}

static void phase_absent(struct fl_phase *ph, const char *why)
{
	memset(ph, 0, sizeof(*ph));
	ph->seconds = NAN;
	snprintf(ph->why, sizeof(ph->why), "%s", why);
}

static void op_words(const struct fl_op *op, const char *what, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s op %s on %s", what, fl_op_status_name(op->status), op->op,
		 op->node);
}

/* The first op by end time, after `after`, matching ok (and began before
 * `before` for failures). */
static const struct fl_op *first_end(const struct fl_run_data *rd, const char *node, uint64_t after,
				     uint64_t start_min, uint64_t before, bool ok)
{
	const struct fl_op *best = NULL;

	for (size_t i = 0; i < rd->n_ops; i++) {
		const struct fl_op *op = &rd->ops[i];

		if (!on_node(op, node) || (op->status == FL_OP_OK) != ok || op->end_ns <= after ||
		    op->start_ns < start_min || op->start_ns >= before)
			continue;
		if (!best || op->end_ns < best->end_ns)
			best = op;
	}
	return best;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* p50 latency (s) of ok ops that began in the run and ended by t. */
static double p50_before(const struct fl_run_data *rd, const char *node, uint64_t t)
{
	double *v = calloc(rd->n_ops + 1, sizeof(*v)), p = NAN;
	size_t n = 0;

	if (!v)
		return NAN;
	for (size_t i = 0; i < rd->n_ops; i++) {
		const struct fl_op *op = &rd->ops[i];

		if (on_node(op, node) && op->status == FL_OP_OK && op->start_ns >= rd->start_ns &&
		    op->end_ns <= t)
			v[n++] = (op->end_ns - op->start_ns) / 1e9;
	}
	qsort(v, n, sizeof(*v), cmp_double);
	if (n)
		p = fl_percentile(v, n, 50);
	free(v);
	return p;
}

static int cmp_op_start(const void *a, const void *b)
{
	const struct fl_op *x = *(const struct fl_op *const *)a,
			   *y = *(const struct fl_op *const *)b;

	return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

/* Do the FL_CATCHUP_OPS ops from v[i] all succeed, with a median latency
 * within FL_CATCHUP_FACTOR * p50? */
static bool caught_up(const struct fl_op **v, size_t i, double p50)
{
	double lat[FL_CATCHUP_OPS];

	for (size_t k = 0; k < FL_CATCHUP_OPS; k++) {
		if (v[i + k]->status != FL_OP_OK)
			return false;
		lat[k] = (v[i + k]->end_ns - v[i + k]->start_ns) / 1e9;
	}
	qsort(lat, FL_CATCHUP_OPS, sizeof(lat[0]), cmp_double);
	return fl_percentile(lat, FL_CATCHUP_OPS, 50) <= FL_CATCHUP_FACTOR * p50;
}

/* The first op (by start, from anchor on) that opens a caught-up window. */
static const struct fl_op *catch_up_op(const struct fl_run_data *rd, const char *node,
				       uint64_t anchor, double p50)
{
	const struct fl_op **v = calloc(rd->n_ops + 1, sizeof(*v)), *res = NULL;
	size_t n = 0;

	if (!v)
		return NULL;
	for (size_t i = 0; i < rd->n_ops; i++)
		if (on_node(&rd->ops[i], node) && rd->ops[i].start_ns >= anchor &&
		    rd->ops[i].start_ns < rd->end_ns)
			v[n++] = &rd->ops[i];
	qsort(v, n, sizeof(*v), cmp_op_start);
	for (size_t i = 0; !res && i + FL_CATCHUP_OPS <= n; i++)
		if (caught_up(v, i, p50))
			res = v[i];
	free(v);
	return res;
}

static void catch_up(const struct fl_run_data *rd, struct fl_recovery *r, uint64_t anchor,
		     const char *aw)
{
	struct fl_phase *ph = &r->ph[FL_PH_CATCHUP];
	const struct fl_op *op;
	char w[160], why[120];

	if (isnan(r->p50_before)) {
		phase_absent(ph, "no ok op before the fault to take a p50 latency from");
		return;
	}
	op = catch_up_op(rd, r->node, anchor, r->p50_before);
	if (!op) {
		snprintf(why, sizeof(why),
			 "latency never back within %.1fx the pre-fault p50 (%.3fs) over %d ops",
			 FL_CATCHUP_FACTOR, r->p50_before, FL_CATCHUP_OPS);
		phase_absent(ph, why);
		return;
	}
	snprintf(w, sizeof(w), "%d ok ops within %.1fx p50 from op %s on %s", FL_CATCHUP_OPS,
		 FL_CATCHUP_FACTOR, op->op, op->node);
	phase_set(ph, anchor, aw, op->start_ns, w);
}

static void recovery_of(const struct fl_run_data *rd, const struct fl_span *s, const char *node,
			struct fl_recovery *r)
{
	uint64_t until = s->healed ? s->end_ns : rd->end_ns;
	const struct fl_op *d, *u = NULL;
	char began[80], dw[160], uw[160];

	memset(r, 0, sizeof(*r));
	snprintf(r->window, sizeof(r->window), "%s", s->id);
	snprintf(r->node, sizeof(r->node), "%s", node);
	snprintf(began, sizeof(began), "fault %s began", s->id);
	r->start_ns = s->start_ns;
	r->heal_ns = s->healed ? s->end_ns : 0;
	r->p50_before = p50_before(rd, node, s->start_ns);
	d = first_end(rd, node, s->start_ns, 0, until, false);
	if (d) {
		op_words(d, "first", dw, sizeof(dw));
		phase_set(&r->ph[FL_PH_DETECTION], s->start_ns, began, d->end_ns, dw);
		u = first_end(rd, node, d->end_ns, s->start_ns, rd->end_ns, true);
	} else {
		phase_absent(&r->ph[FL_PH_DETECTION], "no op failed after the fault began");
		phase_absent(&r->ph[FL_PH_UNAVAIL], "no failure, so no unavailability");
		phase_absent(&r->ph[FL_PH_FAILOVER], "no failure to fail over from");
	}
	if (u) {
		op_words(u, "first", uw, sizeof(uw));
		phase_set(&r->ph[FL_PH_UNAVAIL], d->end_ns, dw, u->end_ns, uw);
		phase_set(&r->ph[FL_PH_FAILOVER], s->start_ns, began, u->end_ns, uw);
	} else if (d) {
		phase_absent(&r->ph[FL_PH_UNAVAIL], "no ok op after the first failure");
		phase_absent(&r->ph[FL_PH_FAILOVER], "no ok op after the first failure");
	}
	if (d && !u)
		phase_absent(&r->ph[FL_PH_CATCHUP], "no ok op after the first failure");
	else
		catch_up(rd, r, u ? u->end_ns : s->start_ns, u ? uw : began);
}

int fl_recovery_compute(const struct fl_run_data *rd, struct fl_recovery **out, size_t *n)
{
	const char *nodes[64];
	size_t nn = op_nodes(rd, nodes, 64);

	*n = 0;
	*out = rd->n_spans ? calloc(rd->n_spans * (nn + 1), sizeof(**out)) : NULL;
	if (rd->n_spans && !*out)
		return -ENOMEM;
	for (size_t i = 0; i < rd->n_spans; i++) {
		if (id_seen_before(rd, i))
			continue;
		recovery_of(rd, &rd->spans[i], "", &(*out)[(*n)++]);
		for (size_t j = 0; j < nn; j++)
			recovery_of(rd, &rd->spans[i], nodes[j], &(*out)[(*n)++]);
	}
	return 0;
}
