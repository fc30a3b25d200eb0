// SPDX-License-Identifier: MIT
/* The netem backend's pure side: the delay fault's parameters in netem's
 * units, the distribution tables, the backend choice. No kernel involved. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/tc.h>

#include "shape/netem.h"

static void test_prob_scale(void **st)
{
	(void)st;
	assert_int_equal(fl_netem_prob(0), 0);
	assert_int_equal(fl_netem_prob(-0.5), 0);
	assert_int_equal(fl_netem_prob(1), UINT32_MAX);
	assert_int_equal(fl_netem_prob(2), UINT32_MAX);
	/* tc's get_percent: 25% -> 0.25 * UINT32_MAX, rounded */
	assert_int_equal(fl_netem_prob(0.25), 1073741824u);
	assert_int_equal(fl_netem_prob(0.5), 2147483648u);
}

static void test_usec_rounding_and_range(void **st)
{
	uint32_t us = 7;

	(void)st;
	assert_int_equal(fl_netem_usec(50000000, &us), 0);
	assert_int_equal(us, 50000);
	assert_int_equal(fl_netem_usec(1499, &us), 0);
	assert_int_equal(us, 1);
	assert_int_equal(fl_netem_usec(1500, &us), 0);
	assert_int_equal(us, 2);
	assert_int_equal(fl_netem_usec((uint64_t)FL_NETEM_MAX_US * 1000, &us), 0);
	assert_int_equal(us, FL_NETEM_MAX_US);
	us = 7;
	assert_int_equal(fl_netem_usec((uint64_t)FL_NETEM_MAX_US * 1000 + 1000, &us), -ERANGE);
	assert_int_equal(us, 7);
}

static void test_dist_names(void **st)
{
	(void)st;
	assert_null(fl_netem_dist_name(FL_DIST_UNIFORM));
	assert_string_equal(fl_netem_dist_name(FL_DIST_NORMAL), "normal");
	assert_string_equal(fl_netem_dist_name(FL_DIST_PARETO), "pareto");
	assert_string_equal(fl_netem_dist_name(FL_DIST_PARETONORMAL), "paretonormal");
}

static void test_dist_path_search_order(void **st)
{
	char a[] = "/tmp/fl-netem-a-XXXXXX", b[] = "/tmp/fl-netem-b-XXXXXX", f[256], buf[256];
	const char *dirs[] = { "/nonexistent-fl", a, b, NULL };
	FILE *fp;

	(void)st;
	assert_non_null(mkdtemp(a));
	assert_non_null(mkdtemp(b));
	assert_int_equal(fl_netem_dist_path("normal", dirs, buf, sizeof(buf)), -ENOENT);
	snprintf(f, sizeof(f), "%s/normal.dist", b);
	fp = fopen(f, "w");
	assert_non_null(fp);
	fputs("# table\n1 2 3\n", fp);
	fclose(fp);
	assert_int_equal(fl_netem_dist_path("normal", dirs, buf, sizeof(buf)), 0);
	assert_string_equal(buf, f);
	assert_int_equal(fl_netem_dist_path("pareto", dirs, buf, sizeof(buf)), -ENOENT);
	/* a buffer too small for the path is not a match */
	assert_int_equal(fl_netem_dist_path("normal", dirs, buf, 8), -ENOENT);
	unlink(f);
	rmdir(a);
	rmdir(b);
}

static void test_from_delay_full(void **st)
{
	struct fl_delay_params p = { .delay_ns = 50000000,
				     .jitter_ns = 10000000,
				     .delay_corr = 0.25,
				     .dist = FL_DIST_NORMAL,
				     .reorder = 0.1,
				     .reorder_corr = 0.5,
				     .allow_reorder = true };
	struct fl_err err = { { 0 } };
	struct fl_netem n;

	(void)st;
	assert_int_equal(fl_netem_from_delay(&p, &n, &err), 0);
	assert_int_equal(n.delay_us, 50000);
	assert_int_equal(n.jitter_us, 10000);
	assert_int_equal(n.delay_corr, fl_netem_prob(0.25));
	assert_string_equal(n.dist, "normal");
	assert_int_equal(n.reorder, fl_netem_prob(0.1));
	assert_int_equal(n.reorder_corr, 2147483648u);
	assert_int_equal(n.gap, 1);
	assert_int_equal(n.limit, FL_DELAY_DEFAULT_LIMIT);
}

static void test_from_delay_plain(void **st)
{
	struct fl_delay_params p = {
		.delay_ns = 20000000, .delay_corr = 0.3, .dist = FL_DIST_PARETO, .limit = 500
	};
	struct fl_err err = { { 0 } };
	struct fl_netem n;

	(void)st;
	assert_int_equal(fl_netem_from_delay(&p, &n, &err), 0);
	assert_int_equal(n.delay_us, 20000);
	/* no jitter: correlation and table mean nothing to netem */
	assert_int_equal(n.jitter_us, 0);
	assert_int_equal(n.delay_corr, 0);
	assert_null(n.dist);
	assert_int_equal(n.reorder, 0);
	assert_int_equal(n.gap, 0);
	assert_int_equal(n.limit, 500);
}

static void test_from_delay_refusals(void **st)
{
	struct fl_delay_params p = { .delay_ns = 50000000, .jitter_ns = 10000000 };
	struct fl_err err = { { 0 } };
	struct fl_netem n;

	(void)st;
	assert_int_equal(fl_netem_from_delay(&p, &n, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "allow-reorder"));
	p = (struct fl_delay_params){ .reorder = 0.25 };
	assert_int_equal(fl_netem_from_delay(&p, &n, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "reorder needs a delay"));
	p = (struct fl_delay_params){ .delay_ns = 300ULL * 1000000000 };
	assert_int_equal(fl_netem_from_delay(&p, &n, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "backend queue"));
	/* a NULL error sink is allowed */
	assert_int_equal(fl_netem_from_delay(&p, &n, NULL), -EINVAL);
}

static void test_backend_pick(void **st)
{
	(void)st;
	assert_int_equal(fl_delay_backend_pick(FL_DELAY_BACKEND_AUTO, false),
			 FL_DELAY_BACKEND_QUEUE);
	assert_int_equal(fl_delay_backend_pick(FL_DELAY_BACKEND_AUTO, true),
			 FL_DELAY_BACKEND_QUEUE);
	assert_int_equal(fl_delay_backend_pick(FL_DELAY_BACKEND_QUEUE, true),
			 FL_DELAY_BACKEND_QUEUE);
	assert_int_equal(fl_delay_backend_pick(FL_DELAY_BACKEND_NETEM, true),
			 FL_DELAY_BACKEND_NETEM);
	assert_int_equal(fl_delay_backend_pick(FL_DELAY_BACKEND_NETEM, false), -EOPNOTSUPP);
}

static struct rtnl_qdisc *netem_obj(void)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();

	assert_non_null(q);
	assert_int_equal(rtnl_tc_set_kind(TC_CAST(q), "netem"), 0);
	return q;
}

/* What libnl will send: read back through its getters (no kernel). */
static void test_fill_qdisc(void **st)
{
	struct fl_delay_params p = { .delay_ns = 50000000,
				     .jitter_ns = 10000000,
				     .delay_corr = 0.25,
				     .reorder = 0.1,
				     .reorder_corr = 0.5,
				     .allow_reorder = true,
				     .limit = 2000 };
	struct fl_netem n;
	struct rtnl_qdisc *q = netem_obj();

	(void)st;
	assert_int_equal(fl_netem_from_delay(&p, &n, NULL), 0);
	assert_int_equal(fl_netem_fill(q, &n), 0);
	assert_int_equal(rtnl_netem_get_limit(q), 2000);
	/* through psched ticks and back: within one tick (< 1 us) */
	assert_in_range(rtnl_netem_get_delay(q), 49999, 50000);
	assert_in_range(rtnl_netem_get_jitter(q), 9999, 10000);
	assert_int_equal((uint32_t)rtnl_netem_get_delay_correlation(q), fl_netem_prob(0.25));
	assert_int_equal(rtnl_netem_get_gap(q), 1);
	assert_int_equal((uint32_t)rtnl_netem_get_reorder_probability(q), fl_netem_prob(0.1));
	assert_int_equal((uint32_t)rtnl_netem_get_reorder_correlation(q), 2147483648u);
	/* uniform: no table */
	assert_true(rtnl_netem_get_delay_distribution_size(q) < 0);
	rtnl_qdisc_put(q);
}

static void test_fill_distribution(void **st)
{
	struct fl_delay_params p = { .delay_ns = 20000000,
				     .jitter_ns = 5000000,
				     .dist = FL_DIST_NORMAL,
				     .allow_reorder = true };
	struct fl_netem n;
	struct rtnl_qdisc *q;
	char path[256];

	(void)st;
	if (fl_netem_dist_path("normal", fl_netem_dist_dirs, path, sizeof(path)))
		skip(); /* iproute2's tables are not installed */
	q = netem_obj();
	assert_int_equal(fl_netem_from_delay(&p, &n, NULL), 0);
	assert_int_equal(fl_netem_fill(q, &n), 0);
	/* iproute2's normal table has 4096 entries */
	assert_int_equal(rtnl_netem_get_delay_distribution_size(q), 4096);
	rtnl_qdisc_put(q);
	q = netem_obj();
	n.dist = "no-such-table-fl";
	assert_true(fl_netem_fill(q, &n) < 0);
	rtnl_qdisc_put(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prob_scale),
		cmocka_unit_test(test_usec_rounding_and_range),
		cmocka_unit_test(test_dist_names),
		cmocka_unit_test(test_dist_path_search_order),
		cmocka_unit_test(test_from_delay_full),
		cmocka_unit_test(test_from_delay_plain),
		cmocka_unit_test(test_from_delay_refusals),
		cmocka_unit_test(test_backend_pick),
		cmocka_unit_test(test_fill_qdisc),
		cmocka_unit_test(test_fill_distribution),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
