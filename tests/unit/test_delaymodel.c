// SPDX-License-Identifier: MIT
/* Delay model: timer heap order, distribution moments, netem-style
 * correlation, reorder probability, the no-reorder floor, determinism. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "delay/delaymodel.h"
#include "fallacy/prng.h"
#include "delay/timerheap.h"
#include "delay/delayline.h"

#define N 200000

/* The delay line's automatic spin margin: 500 us while 10 % of a core
 * allows it, then the budget (100 ms per second over the rate), never
 * below 100 us. */
static void test_auto_spin(void **st)
{
	(void)st;
	assert_int_equal(fl_dl_auto_spin_ns(0), 500000);
	assert_int_equal(fl_dl_auto_spin_ns(100), 500000);
	assert_int_equal(fl_dl_auto_spin_ns(200), 500000);
	assert_int_equal(fl_dl_auto_spin_ns(400), 250000);
	assert_int_equal(fl_dl_auto_spin_ns(1000), 100000);
	assert_int_equal(fl_dl_auto_spin_ns(1999), 100000);
	assert_int_equal(fl_dl_auto_spin_ns(UINT64_MAX), 100000);
	for (uint64_t pps = 1; pps < 5000; pps += 37)
		assert_true(fl_dl_auto_spin_ns(pps) * (double)pps <= 1e8 ||
			    fl_dl_auto_spin_ns(pps) == 100000);
}

/* The PM QoS request: wanted below the bulk rate while packets are held
 * or came less than a second ago; never in bulk mode. */
static void test_pmqos_wanted(void **st)
{
	const uint64_t s = 1000000000ull, t = 100 * s;

	(void)st;
	assert_false(fl_dl_pmqos_wanted(false, false, t, 0)); /* nothing yet */
	assert_true(fl_dl_pmqos_wanted(false, true, t, 0));
	assert_true(fl_dl_pmqos_wanted(false, false, t, t - s / 2));
	assert_true(fl_dl_pmqos_wanted(false, false, t, t - s + 1));
	assert_false(fl_dl_pmqos_wanted(false, false, t, t - s));
	assert_false(fl_dl_pmqos_wanted(true, true, t, t)); /* bulk: never */
}

static void test_heap_order_and_fifo(void **st)
{
	struct fl_timerheap h;
	struct fl_timer t;
	uint64_t prev = 0;
	uint32_t prev_id = 0;

	(void)st;
	fl_timerheap_init(&h);
	for (uint32_t i = 0; i < 5000; i++) {
		uint64_t due = fl_prng(7, 1, 1, i) % 1000; /* many equal due times */

		assert_int_equal(fl_timerheap_push(&h, due, i, 0, 0), 0);
	}
	assert_int_equal(h.n, 5000);
	for (int i = 0; i < 5000; i++) {
		assert_int_equal(fl_timerheap_pop(&h, &t), 0);
		assert_true(t.due_ns >= prev);
		if (i && t.due_ns == prev)
			assert_true(t.id > prev_id); /* FIFO among equals */
		prev = t.due_ns;
		prev_id = t.id;
	}
	assert_int_equal(fl_timerheap_pop(&h, &t), -ENOENT);
	assert_null(fl_timerheap_peek(&h));
	fl_timerheap_free(&h);
}

static void moments(enum fl_delay_dist d, double *mean, double *sd)
{
	double s = 0, s2 = 0;

	for (uint64_t i = 0; i < N; i++) {
		uint32_t u = (uint32_t)(fl_prng(1, 2, FL_STREAM_DELAY, i) >> 32);
		double x = (double)fl_delay_jitter(d, 1000000, u) / 1e6;

		s += x;
		s2 += x * x;
	}
	*mean = s / N;
	*sd = sqrt(s2 / N - *mean * *mean);
}

static void test_uniform_moments(void **st)
{
	double m, sd;

	(void)st;
	moments(FL_DIST_UNIFORM, &m, &sd);
	assert_true(fabs(m) < 0.01);
	assert_true(fabs(sd - 1 / sqrt(3)) < 0.01); /* 0.577 */
}

static void test_normal_moments(void **st)
{
	double m, sd;

	(void)st;
	moments(FL_DIST_NORMAL, &m, &sd);
	assert_true(fabs(m) < 0.01);
	assert_true(fabs(sd - 1.0) < 0.01);
	/* quantile function against known values */
	assert_true(fabs(fl_norm_quantile(0.975) - 1.959963985) < 1e-8);
	assert_true(fabs(fl_norm_quantile(0.001) + 3.090232306) < 1e-8);
}

/* netem's pareto table: X = (U^(-1/3) - 1.5) * 4/3 clipped at 4, i.e. a
 * Pareto(1, 3) clipped at c = 4.5 before the shift. E[min(X, c)] =
 * 1.5 - 0.5 / c^2, E[min(X, c)^2] = 3 - 2 / c. */
static void test_pareto_moments(void **st)
{
	double c = 4.5, e1 = 1.5 - 0.5 / (c * c), e2 = 3 - 2 / c;
	double mean = (e1 - 1.5) * 4 / 3, sd = sqrt(e2 - e1 * e1) * 4 / 3;
	double m, s;

	(void)st;
	moments(FL_DIST_PARETO, &m, &s);
	assert_true(fabs(m - mean) < 0.01);
	assert_true(fabs(s - sd) < 0.02);
	/* lower bound: (1 - 1.5) * 4/3 = -2/3 of the jitter */
	assert_true(fl_delay_jitter(FL_DIST_PARETO, 3000000, 0xffffffffu) <= 12000000);
	assert_true(fl_delay_jitter(FL_DIST_PARETO, 3000000, 0) >= -2000000 - 1);
}

static void test_paretonormal_is_mix(void **st)
{
	(void)st;
	for (uint32_t u = 1; u < 0xf0000000u; u += 0x10000001u) {
		double n = (double)fl_delay_jitter(FL_DIST_NORMAL, 4000000, u);
		double p = (double)fl_delay_jitter(FL_DIST_PARETO, 4000000, u);
		double pn = (double)fl_delay_jitter(FL_DIST_PARETONORMAL, 4000000, u);

		assert_true(fabs(pn - (n + 3 * p) / 4) < 2);
	}
}

/* netem's correlation is AR(1) on the uniform: lag-1 autocorrelation rho,
 * variance shrunk by (1 - rho) / (1 + rho). */
static void test_correlation(void **st)
{
	double rho = 0.5, s = 0, s2 = 0, sxy = 0, prev = 0;
	uint32_t last = 1u << 31;

	(void)st;
	for (uint64_t i = 0; i < N; i++) {
		uint32_t f = (uint32_t)(fl_prng(3, 4, FL_STREAM_DELAY, i) >> 32);
		double x = fl_delay_correlate(f, &last, rho) / 4294967296.0 - 0.5;

		s += x;
		s2 += x * x;
		if (i)
			sxy += x * prev;
		prev = x;
	}
	double mean = s / N, var = s2 / N - mean * mean;
	double r1 = (sxy / (N - 1) - mean * mean) / var;

	assert_true(fabs(r1 - rho) < 0.02);
	assert_true(fabs(var - (1.0 / 12) * (1 - rho) / (1 + rho)) < 0.002);
	/* no correlation: the draw passes through */
	assert_int_equal(fl_delay_correlate(12345, &last, 0), 12345);
}

static void test_no_reorder_floor(void **st)
{
	struct fl_delay_params p = { .delay_ns = 50000000, .jitter_ns = 20000000, .seed = 9 };
	struct fl_delay_state s = { 0 };
	uint64_t prev = 0, now = 1000000000;
	int raised = 0;
	bool skip;

	(void)st;
	for (int i = 0; i < 10000; i++, now += 100000) { /* 10 kpkt/s, jitter >> gap */
		uint64_t due = fl_delay_next(&p, &s, now, &skip);

		assert_false(skip);
		assert_true(due >= prev);
		assert_true(due >= now + 30000000);
		raised += due == prev;
		prev = due;
	}
	assert_true(raised > 100);
}

static void test_allow_reorder_reorders(void **st)
{
	struct fl_delay_params p = {
		.delay_ns = 50000000, .jitter_ns = 20000000, .seed = 9, .allow_reorder = true
	};
	struct fl_delay_state s = { 0 };
	uint64_t prev = 0, now = 1000000000;
	int inversions = 0;
	bool skip;

	(void)st;
	for (int i = 0; i < 10000; i++, now += 100000) {
		uint64_t due = fl_delay_next(&p, &s, now, &skip);

		inversions += due < prev;
		assert_true(due >= now + 30000000 && due <= now + 70000000);
		prev = due;
	}
	assert_true(inversions > 1000);
}

static void test_reorder_probability(void **st)
{
	struct fl_delay_params p = { .delay_ns = 10000000, .reorder = 0.25, .seed = 5 };
	struct fl_delay_state s = { 0 };
	int skipped = 0;
	bool skip;

	(void)st;
	for (int i = 0; i < N; i++) {
		uint64_t due = fl_delay_next(&p, &s, 1000, &skip);

		skipped += skip;
		assert_int_equal(due, skip ? 1000 : 1000 + 10000000);
	}
	assert_true(fabs((double)skipped / N - 0.25) < 0.005);
}

static void test_same_seed_same_sequence(void **st)
{
	struct fl_delay_params p = { .delay_ns = 50000000,
				     .jitter_ns = 10000000,
				     .delay_corr = 0.25,
				     .dist = FL_DIST_NORMAL,
				     .seed = 42,
				     .rule_id = 3,
				     .allow_reorder = true };
	struct fl_delay_state a = { 0 }, b = { 0 }, c = { 0 };
	int differ = 0;
	bool skip;

	(void)st;
	for (int i = 0; i < 1000; i++) {
		uint64_t da = fl_delay_next(&p, &a, 0, &skip);
		uint64_t db = fl_delay_next(&p, &b, 0, &skip);

		assert_int_equal(da, db);
		p.seed = 43;
		differ += fl_delay_next(&p, &c, 0, &skip) != da;
		p.seed = 42;
	}
	assert_true(differ > 990);
}

static void test_negative_delay_clamped(void **st)
{
	struct fl_delay_params p = {
		.delay_ns = 1000000, .jitter_ns = 5000000, .seed = 1, .allow_reorder = true
	};
	struct fl_delay_state s = { 0 };
	bool skip;

	(void)st;
	for (int i = 0; i < 10000; i++)
		assert_true(fl_delay_next(&p, &s, 777, &skip) >= 777);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auto_spin),
		cmocka_unit_test(test_pmqos_wanted),
		cmocka_unit_test(test_heap_order_and_fifo),
		cmocka_unit_test(test_uniform_moments),
		cmocka_unit_test(test_normal_moments),
		cmocka_unit_test(test_pareto_moments),
		cmocka_unit_test(test_paretonormal_is_mix),
		cmocka_unit_test(test_correlation),
		cmocka_unit_test(test_no_reorder_floor),
		cmocka_unit_test(test_allow_reorder_reorders),
		cmocka_unit_test(test_reorder_probability),
		cmocka_unit_test(test_same_seed_same_sequence),
		cmocka_unit_test(test_negative_delay_clamped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
