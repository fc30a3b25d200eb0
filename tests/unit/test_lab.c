// SPDX-License-Identifier: MIT
/* Lab name validation and the address plan (no privileges). */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lab/lab.h"

static int validate(const char *name, size_t n, const char *const *nodes, struct fl_err *e)
{
	struct fl_lab_spec spec = { .name = name, .n_nodes = n, .node_names = nodes };

	memset(e, 0, sizeof(*e));
	return fl_lab_validate(&spec, e);
}

static void test_good_names(void **ctx)
{
	const char *const nodes[] = { "n1", "etcd-1", "redis_2", "abcdefghijkl" };
	struct fl_err e;

	(void)ctx;
	assert_int_equal(validate("demo", 3, NULL, &e), 0);
	assert_int_equal(validate("a", 1, NULL, &e), 0);
	assert_int_equal(validate("0123456789abcdef", 256, NULL, &e), 0);
	assert_int_equal(validate("my-lab_1", 4, nodes, &e), 0);
}

static void test_bad_lab_names(void **ctx)
{
	static const char *const bad[] = { "",	   "Demo", "-x",  "_x",
					   "a.b",  "a/b",  "a b", "0123456789abcdefg",
					   "lab@", "é" };
	struct fl_err e;

	(void)ctx;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(validate(bad[i], 3, NULL, &e), -EINVAL);
		assert_non_null(strstr(e.msg, "lab name"));
	}
	validate("0123456789abcdefg", 3, NULL, &e);
	assert_non_null(strstr(e.msg, "at most 16"));
	validate("a.b", 3, NULL, &e);
	assert_non_null(strstr(e.msg, "'.'"));
}

static void test_bad_nodes(void **ctx)
{
	const char *const long_node[] = { "n1", "abcdefghijklm" };
	const char *const dup[] = { "n1", "n2", "n1" };
	const char *const dot[] = { "n.1" };
	struct fl_err e;

	(void)ctx;
	assert_int_equal(validate("l", 2, long_node, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "at most 12"));
	assert_int_equal(validate("l", 3, dup, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "'n1' given twice"));
	assert_int_equal(validate("l", 1, dot, &e), -EINVAL);
	assert_int_equal(validate("l", 0, NULL, &e), -EINVAL);
	assert_int_equal(validate("l", 257, NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "1 to 256"));
}

static void expect4(int lab, int node, const char *net, const char *host)
{
	struct in_addr n, h;
	char a[INET_ADDRSTRLEN];

	assert_int_equal(fl_lab_addr4(lab, node, &n, &h), 0);
	assert_string_equal(inet_ntop(AF_INET, &n, a, sizeof(a)), net);
	assert_string_equal(inet_ntop(AF_INET, &h, a, sizeof(a)), host);
}

static void test_ipv4_plan(void **ctx)
{
	(void)ctx;
	expect4(0, 0, "198.18.0.0", "198.18.0.1");
	expect4(0, 254, "198.18.0.0", "198.18.0.255");
	expect4(0, 255, "198.18.0.0", "198.18.1.0");
	expect4(1, 0, "198.18.2.0", "198.18.2.1");
	expect4(127, 2, "198.18.254.0", "198.18.254.3");
	expect4(128, 0, "198.19.0.0", "198.19.0.1");
	expect4(255, 255, "198.19.254.0", "198.19.255.0");
	assert_int_equal(fl_lab_addr4(256, 0, NULL, NULL), -ERANGE);
	assert_int_equal(fl_lab_addr4(0, 256, NULL, NULL), -ERANGE);
	assert_int_equal(fl_lab_addr4(-1, 0, NULL, NULL), -ERANGE);
}

/* Every address of every lab stays inside 198.18.0.0/15, and the /23 of
 * one lab never overlaps another's. */
static void test_ipv4_plan_disjoint(void **ctx)
{
	struct in_addr n, h;

	(void)ctx;
	for (int lab = 0; lab < FL_LAB_MAX_LABS; lab++) {
		for (int node = 0; node < FL_LAB_MAX_NODES; node += 51) {
			uint32_t a;

			fl_lab_addr4(lab, node, &n, &h);
			a = ntohl(h.s_addr);
			assert_int_equal(a >> 17, 0xc612u >> 1);
			assert_int_equal((a - 0xc6120000u) >> 9, (uint32_t)lab);
			assert_true((a & 0x1ff) != 0 && (a & 0x1ff) != 0x1ff);
		}
	}
}

static void test_ipv6_plan(void **ctx)
{
	struct in6_addr a;
	char s[INET6_ADDRSTRLEN];

	(void)ctx;
	fl_lab_addr6(0, 0, &a);
	assert_string_equal(inet_ntop(AF_INET6, &a, s, sizeof(s)), "fdfa:11ac::1");
	fl_lab_addr6(0, 255, &a);
	assert_string_equal(inet_ntop(AF_INET6, &a, s, sizeof(s)), "fdfa:11ac::100");
	fl_lab_addr6(3, 1, &a);
	assert_string_equal(inet_ntop(AF_INET6, &a, s, sizeof(s)), "fdfa:11ac::3:2");
}

/* The plan's facts written as text elsewhere (wrap's lo addresses, lab
 * list) are the plan's own. */
static void test_plan_as_text(void **ctx)
{
	char s[INET6_ADDRSTRLEN + 8];
	struct in6_addr a6;
	struct in_addr h;

	(void)ctx;
	fl_lab_addr4(0, 0, NULL, &h);
	assert_string_equal(inet_ntop(AF_INET, &h, s, sizeof(s)), FL_WRAP_ADDR4);
	fl_lab_addr6(0, 0, &a6);
	assert_string_equal(inet_ntop(AF_INET6, &a6, s, sizeof(s)), FL_WRAP_ADDR6);
	inet_ntop(AF_INET6, &fl_lab_net6, s, sizeof(s));
	snprintf(s + strlen(s), sizeof(s) - strlen(s), "/%d", FL_LAB_PREFIX6_LEN);
	assert_string_equal(s, FL_LAB_SUBNET6);
	assert_string_equal(s, "fdfa:11ac::/64");
	assert_int_equal(FL_WRAP_PLEN4, 15);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_names),	   cmocka_unit_test(test_bad_lab_names),
		cmocka_unit_test(test_bad_nodes),	   cmocka_unit_test(test_ipv4_plan),
		cmocka_unit_test(test_ipv4_plan_disjoint), cmocka_unit_test(test_ipv6_plan),
		cmocka_unit_test(test_plan_as_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
