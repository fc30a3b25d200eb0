// SPDX-License-Identifier: MIT
/* Rate and delay parameters through the kinds' tables (units as tc reads
 * them, defaults for burst and limit, printing back): no kernel involved. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "delay/delaymodel.h"
#include "faults/fault.h"
#include "shape/shape.h"

static struct fl_fault fault;

/* "rate ..." / "delay ..." words through the kinds' own tables. */
static int parse_kind(const char *kind, const char *line, struct fl_err *err)
{
	char buf[256], *argv[24] = { (char *)kind };
	int argc = 1;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok(buf, " "); t && argc < 24; t = strtok(NULL, " "))
		argv[argc++] = t;
	return fl_fault_parse(&fault, argc, argv, NULL, err);
}

static int parse_rate(const char *line, struct fl_rate *r, struct fl_err *err)
{
	int rc = parse_kind("rate", line, err);

	if (!rc)
		*r = *FL_KIND_PARAMS(struct fl_rate, &fault);
	return rc;
}

/* The kind and its parameters as printed (text). */
static void format_params(char *buf, size_t len)
{
	FILE *m = fmemopen(buf, len, "w");
	struct fl_out o = { .f = m };

	fl_fault_print_params(&fault, &o);
	fclose(m);
}

static void test_rate_units(void **st)
{
	struct fl_err err = { { 0 } };
	struct fl_rate r;

	(void)st;
	assert_int_equal(parse_rate("10mbit", &r, &err), 0);
	assert_int_equal(r.rate_bps, 10000000);
	assert_int_equal(parse_rate("1gbit burst 64kb limit 1mb", &r, &err), 0);
	assert_int_equal(r.rate_bps, 1000000000);
	assert_int_equal(r.burst, 65536);
	assert_int_equal(r.limit, 1048576);
	assert_int_equal(parse_rate("125kbps", &r, &err), 0); /* bytes/s, as tc */
	assert_int_equal(r.rate_bps, 1000000);
	assert_int_equal(parse_rate("10xbit", &r, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "10xbit"));
	assert_int_equal(parse_rate("10mbit burst", &r, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "burst needs a size"));
	assert_int_equal(parse_rate("10mbit burst 1k burst 2k", &r, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "burst given twice"));
	assert_int_equal(parse_rate("10mbit speed 5", &r, &err), -EINVAL);
	assert_int_equal(parse_rate("100bit", &r, &err), -EINVAL); /* below 8kbit */
}

static void test_rate_defaults(void **st)
{
	struct fl_rate in = { .rate_bps = 10000000 }, out;

	(void)st;
	fl_rate_defaults(&in, &out);
	assert_int_equal(out.burst, 5000); /* 4 ms of 1.25 MB/s */
	assert_int_equal(out.limit, 125000 + 5000); /* 100 ms + burst */
	in.rate_bps = 1000000; /* 4 ms = 500 B < two frames */
	fl_rate_defaults(&in, &out);
	assert_int_equal(out.burst, 3028);
	in.rate_bps = 100000000; /* a GSO super-packet from 100 Mbit/s up */
	fl_rate_defaults(&in, &out);
	assert_int_equal(out.burst, 65536);
	in.rate_bps = 1000000000;
	fl_rate_defaults(&in, &out);
	assert_int_equal(out.burst, 500000);
	in.burst = 1234;
	in.limit = 99;
	fl_rate_defaults(&in, &out); /* given values stay */
	assert_int_equal(out.burst, 1234);
	assert_int_equal(out.limit, 99);
}

static void test_rate_format(void **st)
{
	struct fl_err err = { { 0 } };
	struct fl_rate r;
	char buf[128];

	(void)st;
	assert_int_equal(parse_rate("10mbit", &r, &err), 0);
	format_params(buf, sizeof(buf));
	assert_string_equal(buf, "rate 10mbit");
	assert_int_equal(parse_rate("512kbit burst 32kb limit 1mb", &r, &err), 0);
	format_params(buf, sizeof(buf));
	assert_string_equal(buf, "rate 512kbit burst 32kb limit 1mb");
}

static void test_classid(void **st)
{
	(void)st;
	assert_int_equal(FL_SHAPE_CLASSID(1), 0xfa110001u);
	assert_int_equal(FL_SHAPE_CLASSID(1024), 0xfa110400u);
}

static int parse_delay(const char *line, struct fl_delay_params *p, struct fl_err *err)
{
	char buf[256], *argv[24];
	int argc = 0;

	memset(p, 0, sizeof(*p));
	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok(buf, " "); t && argc < 24; t = strtok(NULL, " "))
		argv[argc++] = t;
	return fl_delay_from_words(argc, argv, p, err) ?: parse_kind("delay", line, err);
}

static void test_delay_words(void **st)
{
	struct fl_err err = { { 0 } };
	struct fl_delay_params p;
	char out[256];

	(void)st;
	assert_int_equal(parse_delay("50ms jitter 5ms correlation 25% distribution normal "
				     "reorder 10% 50% allow-reorder limit 100 fail-closed",
				     &p, &err),
			 0);
	assert_int_equal(p.delay_ns, 50000000);
	assert_int_equal(p.jitter_ns, 5000000);
	assert_true(p.delay_corr > 0.249 && p.delay_corr < 0.251);
	assert_int_equal(p.dist, FL_DIST_NORMAL);
	assert_true(p.reorder > 0.099 && p.reorder < 0.101);
	assert_true(p.reorder_corr > 0.49 && p.reorder_corr < 0.51);
	assert_true(p.allow_reorder);
	assert_true(p.fail_closed);
	assert_int_equal(p.limit, 100);
	format_params(out, sizeof(out));
	assert_string_equal(out, "delay 50ms jitter 5ms correlation 25% distribution normal "
				 "reorder 10% reorder-correlation 50% allow-reorder limit 100 "
				 "fail-closed");
}

static void test_delay_positional_and_errors(void **st)
{
	struct fl_err err = { { 0 } };
	struct fl_delay_params p;

	(void)st;
	assert_int_equal(parse_delay("100ms 10ms 25%", &p, &err), 0); /* netem's form */
	assert_int_equal(p.jitter_ns, 10000000);
	assert_true(p.delay_corr > 0.24);
	assert_int_equal(parse_delay("50ms backend netem", &p, &err), 0);
	assert_int_equal(p.backend, FL_DELAY_BACKEND_NETEM);
	assert_int_equal(parse_delay("50ms backend tc", &p, &err), -EINVAL);
	assert_int_equal(parse_delay("50ms jitter", &p, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "jitter needs a duration"));
	assert_int_equal(parse_delay("50ms wobble 3", &p, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "delay: unknown parameter 'wobble'"));
	assert_int_equal(parse_delay("50ms limit 0", &p, &err), -EINVAL);
}

/* The delay kind's distribution words name the model's distributions. */
static void test_delay_distributions(void **st)
{
	static const struct {
		const char *word;
		enum fl_delay_dist dist;
	} v[] = { { "uniform", FL_DIST_UNIFORM },
		  { "normal", FL_DIST_NORMAL },
		  { "pareto", FL_DIST_PARETO },
		  { "paretonormal", FL_DIST_PARETONORMAL } };
	struct fl_err err = { { 0 } };
	struct fl_delay_params p;
	char line[64];

	(void)st;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		snprintf(line, sizeof(line), "10ms jitter 1ms distribution %s", v[i].word);
		assert_int_equal(parse_delay(line, &p, &err), 0);
		assert_int_equal(p.dist, v[i].dist);
	}
	assert_int_equal(parse_delay("10ms jitter 1ms distribution gauss", &p, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "uniform, normal, pareto, paretonormal"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_units),
		cmocka_unit_test(test_rate_defaults),
		cmocka_unit_test(test_rate_format),
		cmocka_unit_test(test_classid),
		cmocka_unit_test(test_delay_words),
		cmocka_unit_test(test_delay_distributions),
		cmocka_unit_test(test_delay_positional_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
