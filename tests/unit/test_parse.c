// SPDX-License-Identifier: MIT
/* Unit tests for injector/parse: every parser with good and bad input,
 * exact messages for a few, boundaries, and format -> parse round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "parse.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct u64_case {
	const char *text;
	uint64_t want;
};

static void test_duration_good(void **state)
{
	static const struct u64_case cases[] = {
		{ "0", 0 },
		{ "0s", 0 },
		{ "1ns", 1 },
		{ "250us", 250000ULL },
		{ "50ms", 50000000ULL },
		{ "2s", 2000000000ULL },
		{ "1.5s", 1500000000ULL },
		{ "1.1s", 1100000000ULL },
		{ ".5s", 500000000ULL },
		{ "1m", 60000000000ULL },
		{ "1h", 3600000000000ULL },
		{ "0.001ms", 1000ULL },
		{ "10MS", 10000000ULL },
		{ "3sec", 3000000000ULL },
		{ "18446744073709551615ns", UINT64_MAX },
	};
	struct fl_err err = { { 0 } };
	uint64_t ns;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		ns = 12345;
		assert_int_equal(fl_parse_duration(cases[i].text, &ns, &err), 0);
		assert_true(ns == cases[i].want);
	}
}

static void test_duration_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"5",
		"-5ms",
		"5xs",
		"ms",
		"nan",
		"inf",
		"infs",
		"5 ms",
		" 5ms",
		"5ms ",
		"5ms5",
		"1.s",
		"1..2s",
		"0x10ms",
		"+5ms",
		"5e3ms",
		"1,5s",
		"5msx",
		"18446744073709551616ns",
		"5124095576h",
		"99999999999999999999999s",
	};
	struct fl_err err = { { 0 } };
	uint64_t ns = 7;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err.msg[0] = '\0';
		assert_int_equal(fl_parse_duration(bad[i], &ns, &err), -EINVAL);
		assert_true(err.msg[0] != '\0');
		assert_true(ns == 7); /* untouched on error */
	}
	assert_int_equal(fl_parse_duration(NULL, &ns, &err), -EINVAL);
}

static void test_duration_messages(void **state)
{
	struct fl_err err;
	uint64_t ns;

	(void)state;
	fl_parse_duration("5xs", &ns, &err);
	assert_string_equal(err.msg, "5xs: unknown unit 'xs' (use ns, us, ms, s, m, h)");
	fl_parse_duration("5", &ns, &err);
	assert_string_equal(err.msg, "5: missing unit (use ns, us, ms, s, m, h, e.g. 5ms)");
	fl_parse_duration("-5ms", &ns, &err);
	assert_string_equal(err.msg,
			    "-5ms: negative duration (use a number >= 0 and a unit: ns, us, ms, "
			    "s, m, h)");
	fl_parse_duration("99999999999h", &ns, &err);
	assert_non_null(strstr(err.msg, "99999999999h: duration too large (at most "));
	fl_parse_duration("", &ns, &err);
	assert_non_null(strstr(err.msg, "empty duration"));
}

static void test_rate(void **state)
{
	static const struct u64_case cases[] = {
		{ "0", 0 },
		{ "8", 8 },
		{ "512kbit", 512000ULL },
		{ "10mbit", 10000000ULL },
		{ "10Mbit", 10000000ULL },
		{ "1gbit", 1000000000ULL },
		{ "1.5mbit", 1500000ULL },
		{ "1tbit", 1000000000000ULL },
		{ "100bps", 800ULL },
		{ "100mbps", 800000000ULL }, /* bytes per second, as tc */
		{ "1kibit", 1024ULL },
		{ "1gbps", 8000000000ULL },
	};
	static const char *const bad[] = { "",	   "-1mbit", "10mb", "10 mbit",
					   "mbit", "nan",    "1e6",  "3000000000000gbps" };
	struct fl_err err;
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(fl_parse_rate(cases[i].text, &v, &err), 0);
		assert_true(v == cases[i].want);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(fl_parse_rate(bad[i], &v, &err), -EINVAL);
	fl_parse_rate("10mb", &v, &err);
	assert_string_equal(err.msg, "10mb: unknown unit 'mb' (use bit, kbit, mbit, gbit, tbit "
				     "in bits/s or bps, kbps, mbps, gbps in bytes/s)");
}

static void test_size(void **state)
{
	static const struct u64_case cases[] = {
		{ "1500", 1500 },  { "1500b", 1500 },  { "32kb", 32768 },
		{ "32k", 32768 },  { "1mb", 1048576 }, { "1g", 1073741824ULL },
		{ "8kbit", 1024 }, { "1.5kb", 1536 },  { "0", 0 },
	};
	static const char *const bad[] = { "", "-1", "1xb", "kb", "1.5.5kb", "20000000000gb" };
	struct fl_err err;
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(fl_parse_size(cases[i].text, &v, &err), 0);
		assert_true(v == cases[i].want);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(fl_parse_size(bad[i], &v, &err), -EINVAL);
}

static void test_percent(void **state)
{
	struct fl_err err;
	double f;

	(void)state;
	assert_int_equal(fl_parse_percent("5%", &f, &err), 0);
	assert_float_equal(f, 0.05, 1e-12);
	assert_int_equal(fl_parse_percent("0.1%", &f, &err), 0);
	assert_float_equal(f, 0.001, 1e-12);
	assert_int_equal(fl_parse_percent("0%", &f, &err), 0);
	assert_float_equal(f, 0.0, 0);
	assert_int_equal(fl_parse_percent("100%", &f, &err), 0);
	assert_float_equal(f, 1.0, 0);
	/* a bare number is a percentage, as in tc-netem: loss 0.5 = 0.5 % */
	assert_int_equal(fl_parse_percent("0.5", &f, &err), 0);
	assert_float_equal(f, 0.005, 1e-12);
	assert_int_equal(fl_parse_percent("1", &f, &err), 0);
	assert_float_equal(f, 0.01, 1e-12);
	assert_int_equal(fl_parse_percent("100", &f, &err), 0);
	assert_float_equal(f, 1.0, 0);

	assert_int_equal(fl_parse_percent("100.1%", &f, &err), -EINVAL);
	assert_string_equal(err.msg, "100.1%: more than 100% (use a percentage 0..100 like 5% or "
				     "0.1% (a bare number is a percentage, as in tc))");
	static const char *const bad[] = {
		"",    "-1%", "101", "5%%",   "nan%",
		"inf", "5 %", "%",   "1.5.1", "99999999999999999999999%"
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(fl_parse_percent(bad[i], &f, &err), -EINVAL);
}

static void check_prefix(const char *text, int family, uint8_t plen, const char *back)
{
	struct fl_prefix p;
	struct fl_err err;
	char buf[64];

	assert_int_equal(fl_parse_prefix(text, &p, &err), 0);
	assert_int_equal(p.family, family);
	assert_int_equal(p.plen, plen);
	assert_non_null(inet_ntop(p.family, p.addr, buf, sizeof(buf)));
	snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "/%u", p.plen);
	assert_string_equal(buf, back);
}

static void test_prefix(void **state)
{
	static const char *const bad[] = {
		"",
		"198.18.0.1/24",
		"198.18.0.0/33",
		"fdfa:11ac::/129",
		"198.18.0",
		"198.18.0.0/",
		"198.18.0.0/-1",
		"198.18.0.0/ 8",
		"fdfa:11ac::1/64",
		"x",
		"198.18.0.0/8x",
		"fe80::1%eth0",
		" 198.18.0.1",
	};
	struct fl_prefix p;
	struct fl_err err;

	(void)state;
	check_prefix("198.18.0.1", AF_INET, 32, "198.18.0.1/32");
	check_prefix("198.18.0.0/15", AF_INET, 15, "198.18.0.0/15");
	check_prefix("0.0.0.0/0", AF_INET, 0, "0.0.0.0/0");
	check_prefix("198.18.0.0/32", AF_INET, 32, "198.18.0.0/32");
	check_prefix("fdfa:11ac::1", AF_INET6, 128, "fdfa:11ac::1/128");
	check_prefix("fdfa:11ac::/64", AF_INET6, 64, "fdfa:11ac::/64");
	check_prefix("fdfa:11ac::/128", AF_INET6, 128, "fdfa:11ac::/128");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(fl_parse_prefix(bad[i], &p, &err), -EINVAL);
	fl_parse_prefix("198.18.0.1/24", &p, &err);
	assert_string_equal(err.msg, "198.18.0.1/24: host bits set after /24 (did you mean "
				     "198.18.0.0/24?)");
	fl_parse_prefix("198.18.0.0/33", &p, &err);
	assert_string_equal(err.msg, "198.18.0.0/33: prefix length 33 out of range (0..32 for "
				     "IPv4)");
	fl_parse_prefix("fdfa:11ac::/129", &p, &err);
	assert_string_equal(err.msg, "fdfa:11ac::/129: prefix length 129 out of range (0..128 "
				     "for IPv6)");
}

static void test_prefix_contains(void **state)
{
	struct fl_prefix p;
	struct fl_err err;
	uint8_t a4[4], a6[16];

	(void)state;
	assert_int_equal(fl_parse_prefix("198.18.0.0/15", &p, &err), 0);
	inet_pton(AF_INET, "198.19.255.255", a4);
	assert_true(fl_prefix_contains(&p, AF_INET, a4));
	inet_pton(AF_INET, "198.20.0.1", a4);
	assert_false(fl_prefix_contains(&p, AF_INET, a4));
	inet_pton(AF_INET6, "fdfa:11ac::1", a6);
	assert_false(fl_prefix_contains(&p, AF_INET6, a6));
	assert_int_equal(fl_parse_prefix("fdfa:11ac::/64", &p, &err), 0);
	assert_true(fl_prefix_contains(&p, AF_INET6, a6));
	inet_pton(AF_INET6, "fdfa:11ad::1", a6);
	assert_false(fl_prefix_contains(&p, AF_INET6, a6));
	assert_int_equal(fl_parse_prefix("0.0.0.0/0", &p, &err), 0);
	assert_true(fl_prefix_contains(&p, AF_INET, a4));
}

static void test_port_range(void **state)
{
	static const char *const bad[] = { "",
					   "0",
					   "65536",
					   "-1",
					   "1-",
					   "-5",
					   "10-5",
					   "a",
					   "5201 ",
					   "1-2-3",
					   "0-100",
					   "1-65536",
					   "99999999999999999999" };
	struct fl_port_range r;
	struct fl_err err;

	(void)state;
	assert_int_equal(fl_parse_port_range("5201", &r, &err), 0);
	assert_int_equal(r.lo, 5201);
	assert_int_equal(r.hi, 5201);
	assert_int_equal(fl_parse_port_range("8000-8100", &r, &err), 0);
	assert_int_equal(r.lo, 8000);
	assert_int_equal(r.hi, 8100);
	assert_int_equal(fl_parse_port_range("1-65535", &r, &err), 0);
	assert_int_equal(r.lo, 1);
	assert_int_equal(r.hi, 65535);
	assert_int_equal(fl_parse_port_range("65535", &r, &err), 0);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(fl_parse_port_range(bad[i], &r, &err), -EINVAL);
	fl_parse_port_range("0", &r, &err);
	assert_string_equal(err.msg, "0: port 0 out of range (use 1..65535)");
	fl_parse_port_range("65536", &r, &err);
	assert_string_equal(err.msg, "65536: port 65536 out of range (use 1..65535)");
}

static void test_u64(void **state)
{
	struct fl_err err;
	uint64_t v;

	(void)state;
	assert_int_equal(fl_parse_u64("42", 0, 100, &v, &err), 0);
	assert_true(v == 42);
	assert_int_equal(fl_parse_u64("18446744073709551615", 0, UINT64_MAX, &v, &err), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(fl_parse_u64("18446744073709551616", 0, UINT64_MAX, &v, &err), -EINVAL);
	assert_int_equal(fl_parse_u64("101", 0, 100, &v, &err), -EINVAL);
	assert_string_equal(err.msg, "101: out of range (use an integer 0..100)");
	assert_int_equal(fl_parse_u64("0", 1, 100, &v, &err), -EINVAL);
	static const char *const bad[] = { "", "-1", "1.5", "4x", " 4", "0x10", "+4", ".5" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(fl_parse_u64(bad[i], 0, UINT64_MAX, &v, &err), -EINVAL);
}

static void test_validate_name(void **state)
{
	static const char *const good[] = { "demo", "n1",	"a",
					    "0lab", "my-lab_2", "abcdefghijklmnop" };
	static const char *const bad[] = { "",	   "Demo", "-x",  "_x",
					   "a b",  "a.b",  "a/b", "abcdefghijklmnopq",
					   "a\tb", "é" };
	struct fl_err err;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		assert_int_equal(fl_validate_name("lab name", good[i], 16, &err), 0);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(fl_validate_name("lab name", bad[i], 16, &err), -EINVAL);
	fl_validate_name("lab name", "a.b", 16, &err);
	assert_string_equal(err.msg, "a.b: invalid lab name, '.' not allowed (use a-z, 0-9, '_' "
				     "and '-', starting with a-z or 0-9)");
	fl_validate_name("lab name", "-x", 16, &err);
	assert_string_equal(err.msg, "-x: invalid lab name, '-' not allowed as the first character "
				     "(use a-z, 0-9, '_' and '-', starting with a-z or 0-9)");
	fl_validate_name("node name", "abcdefghijklm", 12, &err);
	assert_string_equal(err.msg, "abcdefghijklm: node name too long (13 bytes, at most 12)");
}

static void test_suggest(void **state)
{
	static const char *const kinds[] = { "delay",	"loss", "duplicate", "corrupt",
					     "reorder", "rate", "partition", "reset" };
	size_t n = ARRAY_SIZE(kinds);

	(void)state;
	assert_string_equal(fl_suggest("lose", kinds, n), "loss");
	assert_string_equal(fl_suggest("dealy", kinds, n), "delay");
	assert_string_equal(fl_suggest("delay", kinds, n), "delay");
	assert_string_equal(fl_suggest("corupt", kinds, n), "corrupt");
	assert_string_equal(fl_suggest("partitoin", kinds, n), "partition");
	assert_null(fl_suggest("bandwidth", kinds, n));
	assert_null(fl_suggest("xyzzy", kinds, n));
	assert_null(fl_suggest("l", kinds, 0));
	assert_null(fl_suggest(NULL, kinds, n));
}

static void test_format(void **state)
{
	struct fl_err err;
	char buf[64];
	double f;

	(void)state;
	fl_format_duration(50000000ULL, buf, sizeof(buf));
	assert_string_equal(buf, "50ms");
	fl_format_duration(1500000000ULL, buf, sizeof(buf));
	assert_string_equal(buf, "1.5s");
	fl_format_duration(250000ULL, buf, sizeof(buf));
	assert_string_equal(buf, "250us");
	fl_format_duration(0, buf, sizeof(buf));
	assert_string_equal(buf, "0s");
	fl_format_duration(3600000000000ULL, buf, sizeof(buf));
	assert_string_equal(buf, "1h");
	fl_format_duration(61000000000ULL, buf, sizeof(buf));
	assert_string_equal(buf, "61s");
	fl_format_duration(1234567ULL, buf, sizeof(buf));
	assert_string_equal(buf, "1234.567us");
	fl_format_rate(10000000ULL, buf, sizeof(buf));
	assert_string_equal(buf, "10mbit");
	fl_format_rate(1500000ULL, buf, sizeof(buf));
	assert_string_equal(buf, "1.5mbit");
	fl_format_rate(999ULL, buf, sizeof(buf));
	assert_string_equal(buf, "999bit");
	fl_format_size(32768ULL, buf, sizeof(buf));
	assert_string_equal(buf, "32kb");
	fl_format_size(1500ULL, buf, sizeof(buf));
	assert_string_equal(buf, "1500b");
	fl_format_percent(0.05, buf, sizeof(buf));
	assert_string_equal(buf, "5%");
	fl_format_percent(0.001, buf, sizeof(buf));
	assert_string_equal(buf, "0.1%");
	/* found by fuzz_units: tiny values printed in exponent form did not
	 * parse back; the printer writes fixed notation */
	fl_format_percent(1.3256e-18, buf, sizeof(buf));
	assert_null(strchr(buf, 'e'));
	assert_int_equal(fl_parse_percent(buf, &f, &err), 0);
	fl_format_percent(0.123456789, buf, sizeof(buf));
	assert_string_equal(buf, "12.3457%");
}

static void test_round_trips(void **state)
{
	static const uint64_t values[] = { 0,
					   1,
					   999,
					   1000,
					   1500,
					   250000,
					   1234567,
					   1500000000ULL,
					   60000000000ULL,
					   90000000000ULL,
					   123456789012345ULL,
					   UINT64_MAX };
	static const double fracs[] = { 0, 0.001, 0.05, 0.5, 0.999, 1 };
	struct fl_err err;
	char buf[64];
	uint64_t v;
	double f;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
		fl_format_duration(values[i], buf, sizeof(buf));
		assert_int_equal(fl_parse_duration(buf, &v, &err), 0);
		assert_true(v == values[i]);
		fl_format_rate(values[i], buf, sizeof(buf));
		assert_int_equal(fl_parse_rate(buf, &v, &err), 0);
		assert_true(v == values[i]);
		fl_format_size(values[i], buf, sizeof(buf));
		assert_int_equal(fl_parse_size(buf, &v, &err), 0);
		assert_true(v == values[i]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(fracs); i++) {
		fl_format_percent(fracs[i], buf, sizeof(buf));
		assert_int_equal(fl_parse_percent(buf, &f, &err), 0);
		assert_float_equal(f, fracs[i], 1e-9);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_good),
		cmocka_unit_test(test_duration_bad),
		cmocka_unit_test(test_duration_messages),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_percent),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_prefix_contains),
		cmocka_unit_test(test_port_range),
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_validate_name),
		cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_round_trips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
