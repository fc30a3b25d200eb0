// SPDX-License-Identifier: MIT
/* Live topology changes as data (lab/topo_plan.c) and the lab file that
 * keeps them: parsing, checks, the plan in memory, printing back, and the
 * address plan by host number. No privileges. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lab/lab.h"
#include "lab/lab_int.h"
#include "state/state.h"

static int parse(const char *words, struct fl_topo *t, struct fl_err *e)
{
	char buf[512], *argv[32], *save = NULL;
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", words);
	for (char *w = strtok_r(buf, " ", &save); w && argc < 31; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	memset(e, 0, sizeof(*e));
	return fl_topo_parse(argc, argv, t, e);
}

static struct fl_lab *lab3(bool ipv6)
{
	struct fl_lab_spec spec = { .name = "t", .n_nodes = 3, .ipv6 = ipv6 };
	struct fl_lab *lab = NULL;
	struct fl_err e;

	assert_int_equal(fl_lab_plan(&spec, &lab, &e), 0);
	return lab;
}

/* Every form prints back as it was written (canonical words). */
static void test_parse_round_trip(void **ctx)
{
	static const char *const ok[] = {
		"link n1 down",
		"link n1 up",
		"flap n2 --period 2s",
		"flap n2 --period 2s --count 5 --down-for 500ms",
		"join n4",
		"join edge --ipv6-only",
		"join n4 --ipv4-only --ipv4 198.18.0.9",
		"leave n2",
		"readdress n1",
		"readdress n1 --ipv4 198.18.0.7 --ipv6 fdfa:11ac::7",
		"mtu n3 1280",
		"route --from n1 --to n2 --via n3",
		"route --from n1 --to n2 --direct",
	};
	char out[512];
	struct fl_topo t;
	struct fl_err e;

	(void)ctx;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(parse(ok[i], &t, &e), 0);
		fl_topo_format(&t, out, sizeof(out));
		assert_string_equal(out, ok[i]);
	}
	assert_int_equal(parse("flap n1 --down-for 100ms --period 1s --count 2", &t, &e), 0);
	assert_int_equal(t.count, 2);
	assert_true(t.period_ns == 1000000000ULL && t.down_ns == 100000000ULL);
	assert_int_equal(parse("join n9 --dual", &t, &e), 0);
	assert_int_equal(t.fam, FL_NODE_DUAL);
}

static void expect_bad(const char *words, const char *msg)
{
	struct fl_topo t;
	struct fl_err e;

	assert_int_equal(parse(words, &t, &e), -EINVAL);
	if (!strstr(e.msg, msg))
		fail_msg("'%s': message '%s' lacks '%s'", words, e.msg, msg);
}

static void test_parse_errors(void **ctx)
{
	(void)ctx;
	expect_bad("wiggle n1", "unknown topology change 'wiggle'");
	expect_bad("link", "missing the NODE");
	expect_bad("link n1 sideways", "say down or up");
	expect_bad("link Bad n1", "invalid node name");
	expect_bad("link n1 down --count 3", "unexpected '--count'");
	expect_bad("flap n1", "give --period P > 0");
	expect_bad("flap n1 --period 0", "give --period P > 0");
	expect_bad("flap n1 --period 1s --down-for 1s", "shorter than --period");
	expect_bad("flap n1 --period 1s --count 0", "--count 0");
	expect_bad("flap n1 --period fast", "--period fast");
	expect_bad("mtu n1", "missing the MTU");
	expect_bad("mtu n1 67", "an MTU of 68 to 65535");
	expect_bad("mtu n1 65536", "65535");
	expect_bad("route --from n1 --to n2", "one of --via C or --direct");
	expect_bad("route --from n1 --to n2 --via n3 --direct", "one of --via C or --direct");
	expect_bad("route --from n1 --to n2 --via n2", "route via the same node");
	expect_bad("route --from n1 --to n1 --direct", "route via the same node");
	expect_bad("join n4 --ipv4-only --ipv6 fdfa:11ac::9", "--ipv6 with --ipv4-only");
	expect_bad("readdress n1 --ipv4 fdfa:11ac::9", "not an IPv4 address");
	expect_bad("readdress n1 --ipv4", "missing value");
}

static void want_check(struct fl_lab *lab, const char *words, int ret, const char *msg)
{
	struct fl_topo t;
	struct fl_err e = { "" };

	assert_int_equal(parse(words, &t, &e), 0);
	assert_int_equal(fl_topo_check(&t, lab, &e), ret);
	if (msg && !strstr(e.msg, msg))
		fail_msg("'%s': message '%s' lacks '%s'", words, e.msg, msg);
}

static void test_check(void **ctx)
{
	struct fl_lab *lab = lab3(true), *v4 = lab3(false);
	struct fl_topo t;
	struct fl_err e;

	(void)ctx;
	want_check(lab, "link n1 down", 0, NULL);
	want_check(lab, "link n9 down", -ENOENT, "lab t has no node 'n9'");
	want_check(lab, "join n1", -EEXIST, "node n1 exists already in lab t");
	want_check(lab, "join n4", 0, NULL);
	want_check(lab, "mtu n1 1200", -EINVAL, "the least IPv6 allows");
	want_check(v4, "mtu n1 1200", 0, NULL);
	want_check(lab, "readdress n1 --ipv4 198.18.0.2", -EEXIST, "that address is n2's");
	want_check(lab, "readdress n1 --ipv4 198.18.0.1", -EEXIST, "n1's already");
	want_check(lab, "readdress n1 --ipv4 198.19.255.1", -EINVAL, "not a host address");
	want_check(lab, "readdress n1 --ipv4 198.18.0.9 --ipv6 fdfa:11ac::8", -EINVAL, "same host");
	want_check(v4, "readdress n1 --ipv6 fdfa:11ac::9", -EINVAL, "has no IPv6");
	want_check(lab, "route --from n1 --to n2 --direct", -ENOENT, "direct already");
	want_check(lab, "route --from n1 --to n9 --via n3", -ENOENT, "no node 'n9'");
	/* families the three do not share */
	assert_int_equal(parse("join six --ipv6-only", &t, &e), 0);
	assert_int_equal(fl_topo_plan(v4, &t, &e), 0);
	want_check(v4, "route --from n1 --to six --via n2", -EINVAL, "no address family");
	fl_lab_free(lab);
	fl_lab_free(v4);
}

static void apply(struct fl_lab *lab, const char *words)
{
	struct fl_topo t;
	struct fl_err e = { "" };

	assert_int_equal(parse(words, &t, &e), 0);
	if (fl_topo_plan(lab, &t, &e))
		fail_msg("'%s': %s", words, e.msg);
}

static void expect_node(const struct fl_lab *lab, const char *name, int id, unsigned int host,
			const char *ip4)
{
	const struct fl_node *n = fl_lab_node(lab, name);
	char a[INET_ADDRSTRLEN];

	assert_non_null(n);
	assert_int_equal(n->index, id);
	assert_int_equal(n->host, host);
	if (ip4)
		assert_string_equal(inet_ntop(AF_INET, &n->ip4, a, sizeof(a)), ip4);
}

/* ids are kept by nodes that leave; addresses move on */
static void test_plan(void **ctx)
{
	struct fl_lab *lab = lab3(true);

	(void)ctx;
	apply(lab, "join n4");
	expect_node(lab, "n4", 3, 4, "198.18.0.4");
	assert_string_equal(lab->nodes[3].netns, "fl-t.n4");
	assert_string_equal(lab->nodes[3].port, "p-n4");
	apply(lab, "leave n2");
	assert_int_equal(lab->n_nodes, 3);
	assert_int_equal(lab->n_gone, 1);
	/* the others keep their order */
	assert_string_equal(lab->nodes[0].name, "n1");
	assert_string_equal(lab->nodes[1].name, "n3");
	assert_string_equal(lab->nodes[2].name, "n4");
	apply(lab, "join n5");
	expect_node(lab, "n5", 4, 5, "198.18.0.5"); /* id 1 stays n2's */
	apply(lab, "join n2");
	expect_node(lab, "n2", 1, 6, "198.18.0.6"); /* the same id, a new address */
	assert_int_equal(lab->n_gone, 0);
	apply(lab, "readdress n1");
	expect_node(lab, "n1", 0, 7, "198.18.0.7");
	apply(lab, "readdress n1 --ipv4 198.18.0.1");
	expect_node(lab, "n1", 0, 1, "198.18.0.1");
	apply(lab, "mtu n3 1280");
	assert_int_equal(fl_lab_node(lab, "n3")->mtu, 1280);
	apply(lab, "mtu n3 1500");
	assert_int_equal(fl_lab_node(lab, "n3")->mtu, 0);
	apply(lab, "route --from n1 --to n2 --via n3");
	apply(lab, "route --from n1 --to n2 --via n4"); /* replaces */
	assert_int_equal(lab->n_routes, 1);
	assert_string_equal(lab->routes[0].via, "n4");
	apply(lab, "leave n2"); /* its routes go with it */
	assert_int_equal(lab->n_routes, 0);
	apply(lab, "join six --ipv6-only");
	assert_int_equal(fl_lab_node(lab, "six")->fam, FL_NODE_V6);
	fl_lab_free(lab);
}

/* After the last host number the search wraps, skipping taken ones. */
static void test_plan_wraps(void **ctx)
{
	struct fl_lab *lab = lab3(false);

	(void)ctx;
	lab->next_host = FL_LAB_HOST_MAX;
	apply(lab, "readdress n1");
	expect_node(lab, "n1", 0, FL_LAB_HOST_MAX, "198.18.1.253");
	apply(lab, "readdress n2");
	expect_node(lab, "n2", 1, 1, "198.18.0.1"); /* 1 was n1's, free again */
	apply(lab, "readdress n3");
	expect_node(lab, "n3", 2, 2, NULL);
	fl_lab_free(lab);
}

static void test_addr_plan(void **ctx)
{
	struct fl_lab *lab = lab3(true);
	struct in_addr a;
	struct in6_addr a6;
	unsigned char mac[6];
	char s[INET6_ADDRSTRLEN];

	(void)ctx;
	assert_int_equal(fl_lab_host4(1, 300, &a), 0);
	assert_string_equal(inet_ntop(AF_INET, &a, s, sizeof(s)), "198.18.3.44");
	assert_int_equal(fl_lab_host4(0, 0, &a), -ERANGE);
	assert_int_equal(fl_lab_host4(0, FL_LAB_HOST_MAX + 1, &a), -ERANGE);
	fl_lab_host6(1, 300, &a6);
	assert_string_equal(inet_ntop(AF_INET6, &a6, s, sizeof(s)), "fdfa:11ac::1:12c");
	inet_pton(AF_INET, "198.18.0.3", &a);
	assert_int_equal(fl_lab_host_of(lab, AF_INET, &a), 3);
	inet_pton(AF_INET, "198.18.2.3", &a);
	assert_int_equal(fl_lab_host_of(lab, AF_INET, &a), 0);
	inet_pton(AF_INET6, "fdfa:11ac::3", &a6);
	assert_int_equal(fl_lab_host_of(lab, AF_INET6, &a6), 3);
	inet_pton(AF_INET6, "fdfa:11ac::1:3", &a6);
	assert_int_equal(fl_lab_host_of(lab, AF_INET6, &a6), 0);
	fl_lab_node_mac(lab, &lab->nodes[2], mac);
	assert_memory_equal(mac, ((unsigned char[]){ 0x02, 0xfa, 0x11, 0, 0, 2 }), 6);
	fl_lab_free(lab);
}

/* The lab file keeps ids, families, MTUs, nodes that left and routes. */
static void test_lab_file(void **ctx)
{
	char dir[] = "/tmp/fl-topo-unit.XXXXXX", path[128];
	struct fl_lab *lab = lab3(true), *back = NULL;

	(void)ctx;
	assert_non_null(mkdtemp(dir));
	setenv("FALLACY_RUN_DIR", dir, 1);
	snprintf(path, sizeof(path), "%s/t", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	apply(lab, "join four --ipv4-only");
	apply(lab, "join six --ipv6-only");
	apply(lab, "leave n2");
	apply(lab, "mtu n3 1280");
	apply(lab, "route --from n1 --to four --via n3");
	assert_int_equal(fl_lab_save(lab), 0);
	assert_int_equal(fl_lab_load("t", &back), 0);
	assert_int_equal(back->n_nodes, 4);
	assert_int_equal(back->n_gone, 1);
	assert_string_equal(back->gone[0].name, "n2");
	assert_int_equal(back->gone[0].index, 1);
	assert_int_equal(back->next_host, lab->next_host);
	for (size_t i = 0; i < lab->n_nodes; i++) {
		assert_string_equal(back->nodes[i].name, lab->nodes[i].name);
		assert_int_equal(back->nodes[i].index, lab->nodes[i].index);
		assert_int_equal(back->nodes[i].fam, lab->nodes[i].fam);
		assert_int_equal(back->nodes[i].host, lab->nodes[i].host);
		assert_int_equal(back->nodes[i].mtu, lab->nodes[i].mtu);
		assert_memory_equal(&back->nodes[i].ip4, &lab->nodes[i].ip4, 4);
		assert_memory_equal(&back->nodes[i].ip6, &lab->nodes[i].ip6, 16);
	}
	assert_int_equal(back->n_routes, 1);
	assert_string_equal(back->routes[0].to, "four");
	fl_lab_free(back);
	fl_lab_free(lab);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_round_trip),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_plan_wraps),
		cmocka_unit_test(test_addr_plan),
		cmocka_unit_test(test_lab_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
