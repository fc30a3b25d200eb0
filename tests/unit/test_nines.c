// SPDX-License-Identifier: MIT
/* Availability in nines, downtime per window and node, and recovery in
 * phases, on hand-made run data with known answers. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "checks.h"
#include "nines.h"
#include "results.h"

#define S 1000000000ULL
#define MS 1000000ULL

static struct fl_op ops[400];
static struct fl_span span;
static struct fl_run_data rd;

/* Ops every 100 ms from 1 s to 10.9 s on each node. On n1 ("bad"), those
 * starting in [3 s, fail_until) time out after 50 ms, those in
 * [fail_until, fail_until + 1 s) succeed in 100 ms, the rest in 10 ms.
 * n2 (when two nodes) always succeeds in 10 ms. Fault "cut" 3 s to 5 s. */
static void make_run(int nodes, uint64_t fail_until)
{
	size_t n = 0;

	memset(&rd, 0, sizeof(rd));
	memset(&span, 0, sizeof(span));
	for (int k = 0; k < 100; k++) {
		uint64_t t = S + k * 100 * MS;

		for (int nd = 1; nd <= nodes; nd++) {
			struct fl_op *op = &ops[n++];
			bool bad = nd == 1 && t >= 3 * S && t < fail_until;
			bool slow = nd == 1 && t >= fail_until && t < fail_until + S;

			memset(op, 0, sizeof(*op));
			op->start_ns = t;
			op->end_ns = t + (bad ? 50 * MS : slow ? 100 * MS : 10 * MS);
			op->status = bad ? FL_OP_TIMEOUT : FL_OP_OK;
			snprintf(op->node, sizeof(op->node), "n%d", nd);
			snprintf(op->op, sizeof(op->op), "get");
		}
	}
	snprintf(span.id, sizeof(span.id), "cut");
	span.start_ns = 3 * S;
	span.end_ns = 5 * S;
	span.healed = true;
	rd.ops = ops;
	rd.n_ops = n;
	rd.spans = &span;
	rd.n_spans = 1;
	rd.start_ns = S;
	rd.end_ns = 11 * S;
}

static void test_nines_of(void **state)
{
	(void)state;
	assert_true(fabs(fl_nines_of(0.9995) - 3.3) < 0.01);
	assert_true(fabs(fl_nines_of(0.9) - 1.0) < 1e-9);
	assert_true(fabs(fl_nines_of(0) - 0) < 1e-9);
	assert_true(isnan(fl_nines_of(1.0)));
	assert_true(isnan(fl_nines_of(NAN)));
}

static const struct fl_nines *row(const struct fl_nines *v, size_t n, const char *w,
				  const char *node)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].window, w) && !strcmp(v[i].node, node))
			return &v[i];
	fail_msg("no row %s/%s", w, node);
	return NULL;
}

static void test_none_failed(void **state)
{
	struct fl_nines *v;
	size_t n;

	(void)state;
	make_run(2, 0); /* nothing fails */
	assert_int_equal(fl_nines_compute(&rd, &v, &n), 0);
	assert_int_equal(row(v, n, "run", "")->ops, 200);
	assert_true(isnan(row(v, n, "run", "")->nines));
	assert_true(row(v, n, "run", "")->avail == 1.0);
	assert_true(row(v, n, "run", "")->downtime == 0);
	free(v);
}

static void test_downtime_per_window_and_node(void **state)
{
	struct fl_nines *v;
	size_t n;

	(void)state;
	make_run(2, 5 * S);
	assert_int_equal(fl_nines_compute(&rd, &v, &n), 0);
	assert_int_equal(n, 4 * 3); /* before, cut, after, run x (all, n1, n2) */
	assert_int_equal(row(v, n, "cut", "n1")->ops, 20);
	assert_int_equal(row(v, n, "cut", "n1")->down, 20);
	assert_true(fabs(row(v, n, "cut", "n1")->downtime - 2.0) < 1e-9);
	assert_true(fabs(row(v, n, "cut", "n1")->nines) < 1e-9); /* none ok: 0 nines */
	assert_true(isnan(row(v, n, "cut", "n2")->nines));
	assert_true(row(v, n, "cut", "n2")->downtime == 0);
	assert_true(row(v, n, "cut", "")->downtime == 0); /* n2 was up */
	assert_true(fabs(row(v, n, "cut", "")->nines - log10(2)) < 1e-9);
	assert_true(row(v, n, "before", "n1")->downtime == 0);
	assert_true(row(v, n, "after", "n1")->downtime == 0);
	assert_true(fabs(row(v, n, "run", "n1")->downtime - 2.0) < 1e-9);
	assert_true(fabs(row(v, n, "run", "")->nines - 1.0) < 1e-9); /* 180 of 200 */
	free(v);
}

static void assert_phase(const struct fl_phase *ph, double s, uint64_t from, uint64_t to)
{
	assert_true(ph->has);
	if (fabs(ph->seconds - s) > 1e-6)
		fail_msg("%.6f s, want %.6f", ph->seconds, s);
	assert_true(ph->from_ns == from);
	assert_true(ph->to_ns == to);
	assert_true(ph->from[0] && ph->to[0]);
}

static void test_recovery_phases(void **state)
{
	struct fl_recovery *r;
	size_t n;

	(void)state;
	make_run(1, 5 * S);
	assert_int_equal(fl_recovery_compute(&rd, &r, &n), 0);
	assert_int_equal(n, 2); /* all nodes, n1 */
	assert_string_equal(r->window, "cut");
	assert_string_equal(r->node, "");
	assert_string_equal(r[1].node, "n1");
	assert_true(r[1].ph[FL_PH_CATCHUP].to_ns == r->ph[FL_PH_CATCHUP].to_ns);
	assert_true(fabs(r->p50_before - 0.01) < 1e-9);
	/* the op at 3 s times out at 3.05 s; the first ok one (5 s) ends 5.1 s */
	assert_phase(&r->ph[FL_PH_DETECTION], 0.05, 3 * S, 3 * S + 50 * MS);
	assert_phase(&r->ph[FL_PH_UNAVAIL], 2.05, 3 * S + 50 * MS, 5 * S + 100 * MS);
	assert_phase(&r->ph[FL_PH_FAILOVER], 2.1, 3 * S, 5 * S + 100 * MS);
	/* 5.1 .. 5.9 s take 100 ms; from 5.8 s the median of 5 is 10 ms */
	assert_phase(&r->ph[FL_PH_CATCHUP], 0.7, 5 * S + 100 * MS, 5 * S + 800 * MS);
	free(r);
}

/* n2 stays up: the run fails over at once (to n2), n1 as on its own. */
static void test_recovery_per_node(void **state)
{
	struct fl_recovery *r;
	size_t n;

	(void)state;
	make_run(2, 5 * S);
	assert_int_equal(fl_recovery_compute(&rd, &r, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(r[1].node, "n1");
	assert_string_equal(r[2].node, "n2");
	assert_phase(&r[0].ph[FL_PH_FAILOVER], 0.11, 3 * S, 3 * S + 110 * MS);
	assert_phase(&r[1].ph[FL_PH_FAILOVER], 2.1, 3 * S, 5 * S + 100 * MS);
	assert_phase(&r[1].ph[FL_PH_CATCHUP], 0.7, 5 * S + 100 * MS, 5 * S + 800 * MS);
	assert_false(r[2].ph[FL_PH_DETECTION].has);
	free(r);
}

static void test_absent_phases(void **state)
{
	struct fl_recovery *r;
	size_t n;

	(void)state;
	make_run(1, 0); /* nothing fails: no detection, unavailability, failover */
	assert_int_equal(fl_recovery_compute(&rd, &r, &n), 0);
	for (int p = FL_PH_DETECTION; p <= FL_PH_FAILOVER; p++) {
		assert_false(r->ph[p].has);
		assert_true(isnan(r->ph[p].seconds));
		assert_true(r->ph[p].why[0]);
	}
	assert_phase(&r->ph[FL_PH_CATCHUP], 0, 3 * S, 3 * S);
	free(r);
	make_run(1, 12 * S); /* never recovers */
	assert_int_equal(fl_recovery_compute(&rd, &r, &n), 0);
	assert_true(r->ph[FL_PH_DETECTION].has);
	for (int p = FL_PH_UNAVAIL; p < FL_PH__MAX; p++) {
		assert_false(r->ph[p].has);
		assert_non_null(strstr(r->ph[p].why, "no ok op"));
	}
	free(r);
	make_run(1, 5 * S);
	span.start_ns = S / 2; /* before any op: no p50 to catch up to */
	assert_int_equal(fl_recovery_compute(&rd, &r, &n), 0);
	assert_false(r->ph[FL_PH_CATCHUP].has);
	assert_non_null(strstr(r->ph[FL_PH_CATCHUP].why, "p50"));
	free(r);
}

/* summary.json keeps them: written and read back, nulls included. */
static void test_summary_round_trip(void **state)
{
	char path[] = "/tmp/fl-test-nines.XXXXXX";
	struct fl_suite s, back;
	struct fl_err err = { "" };
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	memset(&s, 0, sizeof(s));
	snprintf(s.name, sizeof(s.name), "nines");
	make_run(1, 12 * S); /* n1 never recovers */
	assert_int_equal(fl_nines_compute(&rd, &s.nines, &s.n_nines), 0);
	assert_int_equal(fl_recovery_compute(&rd, &s.recovery, &s.n_recovery), 0);
	assert_int_equal(fl_summary_write(path, &s), 0);
	if (fl_summary_load(path, &back, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(back.n_nines, s.n_nines);
	for (size_t i = 0; i < s.n_nines; i++) {
		assert_string_equal(back.nines[i].window, s.nines[i].window);
		assert_string_equal(back.nines[i].node, s.nines[i].node);
		assert_int_equal(back.nines[i].ops, s.nines[i].ops);
		assert_int_equal(back.nines[i].down, s.nines[i].down);
		assert_true(isnan(back.nines[i].nines) == isnan(s.nines[i].nines));
		assert_true(isnan(s.nines[i].nines) ||
			    fabs(back.nines[i].nines - s.nines[i].nines) < 1e-6);
		assert_true(fabs(back.nines[i].downtime - s.nines[i].downtime) < 1e-9);
	}
	assert_int_equal(back.n_recovery, 2);
	assert_string_equal(back.recovery[1].node, "n1");
	assert_true(back.recovery[0].ph[FL_PH_DETECTION].has);
	assert_true(back.recovery[0].ph[FL_PH_DETECTION].to_ns ==
		    s.recovery[0].ph[FL_PH_DETECTION].to_ns);
	assert_string_equal(back.recovery[0].ph[FL_PH_DETECTION].to,
			    s.recovery[0].ph[FL_PH_DETECTION].to);
	assert_false(back.recovery[0].ph[FL_PH_FAILOVER].has);
	assert_string_equal(back.recovery[0].ph[FL_PH_FAILOVER].why,
			    s.recovery[0].ph[FL_PH_FAILOVER].why);
	fl_suite_free_cases(&back);
	fl_suite_free_cases(&s);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nines_of),
		cmocka_unit_test(test_none_failed),
		cmocka_unit_test(test_downtime_per_window_and_node),
		cmocka_unit_test(test_recovery_phases),
		cmocka_unit_test(test_recovery_per_node),
		cmocka_unit_test(test_absent_phases),
		cmocka_unit_test(test_summary_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
