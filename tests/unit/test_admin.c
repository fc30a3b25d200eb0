// SPDX-License-Identifier: MIT
/* Foreign administration without privileges: the words of fallacy admin
 * (every kind, options, refusals with their messages), words -> text ->
 * words round trips, JSON, checks against a lab, the firewall rules each
 * change makes, and the hosts text a node gets. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "admin/admin.h"
#include "admin/admin_int.h"
#include "lab/lab.h"

static struct fl_lab *lab4, *lab6;

static int setup(void **state)
{
	struct fl_lab_spec s4 = { .name = "adm", .n_nodes = 3 };
	struct fl_lab_spec s6 = { .name = "adm6", .n_nodes = 3, .ipv6 = true };
	struct fl_err err;

	(void)state;
	return fl_lab_plan(&s4, &lab4, &err) || fl_lab_plan(&s6, &lab6, &err);
}

static int teardown(void **state)
{
	(void)state;
	fl_lab_free(lab4);
	fl_lab_free(lab6);
	return 0;
}

static int parse(struct fl_admin *a, const char *line, struct fl_err *e)
{
	char buf[512], *argv[32], *save = NULL;
	int argc = 0;

	e->msg[0] = '\0';
	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok_r(buf, " ", &save); t && argc < 31; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	return fl_admin_parse(a, argc, argv, e);
}

static void format(const struct fl_admin *a, bool json, char *out, size_t len)
{
	FILE *m = fmemopen(out, len, "w");
	struct fl_out o = { .f = m, .json = json };

	assert_non_null(m);
	fl_admin_print(a, &o);
	fclose(m);
}

/* words parse, print back as the canonical words, which parse the same */
static void round_trip(const char *words, const char *canonical)
{
	struct fl_admin a, b;
	struct fl_err e;
	char t1[512], t2[512];

	if (parse(&a, words, &e))
		fail_msg("'%s' does not parse: %s", words, e.msg);
	format(&a, false, t1, sizeof(t1));
	assert_string_equal(t1, canonical);
	assert_int_equal(parse(&b, t1, &e), 0);
	format(&b, false, t2, sizeof(t2));
	assert_string_equal(t1, t2);
	assert_memory_equal(&a, &b, sizeof(a));
}

static void test_words(void **state)
{
	(void)state;
	round_trip("n2 firewall drop --proto tcp --port 2380",
		   "n2 firewall drop --proto tcp --port 2380");
	round_trip("n2 firewall reject --from n1", "n2 firewall reject --from n1");
	round_trip("n1 firewall reject --port 5000-5010 --proto UDP --from 198.18.0.0/24",
		   "n1 firewall reject --proto udp --port 5000-5010 --from 198.18.0.0/24");
	round_trip("n3 firewall drop --proto icmp", "n3 firewall drop --proto icmp");
	round_trip("n3 hosts n1 198.18.0.99", "n3 hosts n1 198.18.0.99");
	round_trip("n3 hosts db.lab fdfa:11ac:0::0099", "n3 hosts db.lab fdfa:11ac::99");
	round_trip("n3 hosts n1 127.0.0.1", "n3 hosts n1 127.0.0.1");
	round_trip("n3 hosts n1 n2", "n3 hosts n1 n2");
	round_trip("n2 sysctl net.core.somaxconn 16", "n2 sysctl net.core.somaxconn 16");
	round_trip("n2 sysctl net.ipv4.ip_local_port_range 40000 40100",
		   "n2 sysctl net.ipv4.ip_local_port_range 40000 40100");
	round_trip("n2 sysctl net.ipv4.tcp_keepalive_time 0060",
		   "n2 sysctl net.ipv4.tcp_keepalive_time 60");
}

static void test_id_and_json(void **state)
{
	struct fl_admin a;
	struct fl_err e;
	char out[512];

	(void)state;
	assert_int_equal(parse(&a, "n2 firewall --id fw drop --port 2380", &e), 0);
	assert_string_equal(a.id, "fw");
	format(&a, true, out, sizeof(out));
	assert_string_equal(out, "\"id\": \"fw\", \"node\": \"n2\", \"change\": \"firewall\", "
				 "\"action\": \"drop\", \"port\": \"2380\"");
	assert_int_equal(parse(&a, "n1 sysctl net.ipv4.ip_local_port_range 40000 40100", &e), 0);
	format(&a, true, out, sizeof(out));
	assert_string_equal(out, "\"node\": \"n1\", \"change\": \"sysctl\", \"key\": "
				 "\"net.ipv4.ip_local_port_range\", \"value\": \"40000 40100\"");
	assert_int_equal(parse(&a, "n2 hosts n1 198.18.0.99 --id x --id y", &e), -EINVAL);
	assert_int_equal(parse(&a, "n2 hosts n1 198.18.0.99 --id Bad", &e), -EINVAL);
}

/* Each refusal names what is wrong. */
static void test_refusals(void **state)
{
	static const struct {
		const char *words, *msg;
	} bad[] = {
		{ "n2", "expected NODE firewall|hosts|sysctl" },
		{ "n2 firewal drop", "unknown change 'firewal' (did you mean 'firewall'?)" },
		{ "N2 firewall drop", "'N' not allowed" },
		{ "n2 firewall", "expected drop or reject" },
		{ "n2 firewall accept", "expected drop or reject, not 'accept'" },
		{ "n2 firewall drop reject", "expected drop or reject" },
		{ "n2 firewall drop --proto sctp", "--proto sctp: use tcp, udp or icmp" },
		{ "n2 firewall drop --proto icmp --port 80",
		  "--port does not go with --proto icmp" },
		{ "n2 firewall drop --port 80000", "firewall --port" },
		{ "n2 firewall drop --port 2380 --port 2381", "--port given twice" },
		{ "n2 firewall drop --prot tcp",
		  "unknown option '--prot' (did you mean '--proto'?)" },
		{ "n2 firewall drop --port", "--port needs a value" },
		{ "n2 firewall drop --from 198.18.0.1/24", "198.18.0.1/24" },
		{ "n2 hosts n1", "expected NAME ADDR" },
		/* outside the lab: reserved addresses (240/4, 0/8, link-local) that
		 * no test ever sends to */
		{ "n2 hosts n1 240.0.0.1", "240.0.0.1 is outside the lab" },
		{ "n2 hosts n1 0.0.0.1", "outside the lab" },
		{ "n2 hosts n1 fe80::1", "outside the lab" },
		{ "n2 hosts n1 198.18.0", "'198.18.0' is not an IPv4 or IPv6 address" },
		{ "n2 hosts n1 N3", "'N' not allowed" },
		{ "n2 hosts -n1 198.18.0.9", "is not a host name" },
		{ "n2 hosts n1 198.18.0.9 --from n3", "hosts: unknown option '--from'" },
		{ "n2 sysctl net.core.somaxcon 16", "did you mean 'net.core.somaxconn'?" },
		{ "n2 sysctl kernel.panic 1", "not on the allow-list" },
		{ "n2 sysctl net.core.somaxconn", "expected KEY VALUE" },
		{ "n2 sysctl net.core.somaxconn -1", "expected a connection count" },
		{ "n2 sysctl net.ipv4.tcp_keepalive_time 0", "expected seconds, 1..32767" },
		{ "n2 sysctl net.ipv4.ip_local_port_range 40100 40000", "LOW <= HIGH" },
		{ "n2 sysctl net.ipv4.ip_local_port_range 40000", "LOW HIGH" },
		{ "n2 sysctl net.core.somaxconn 1 2", "expected a connection count" },
	};
	struct fl_admin a;
	struct fl_err e;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = parse(&a, bad[i].words, &e);

		if (ret != -EINVAL || !strstr(e.msg, bad[i].msg))
			fail_msg("'%s': ret %d, message '%s', want '%s'", bad[i].words, ret, e.msg,
				 bad[i].msg);
	}
}

static void test_check(void **state)
{
	struct fl_admin a;
	struct fl_err e;

	(void)state;
	assert_int_equal(parse(&a, "n9 firewall drop", &e), 0);
	assert_int_equal(fl_admin_check(&a, lab4, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "has no node 'n9' (it has n1, n2, n3)"));
	assert_int_equal(parse(&a, "n2 firewall drop --from n7", &e), 0);
	assert_int_equal(fl_admin_check(&a, lab4, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "--from n7"));
	assert_int_equal(parse(&a, "n2 firewall drop --from fdfa:11ac::/64", &e), 0);
	assert_int_equal(fl_admin_check(&a, lab4, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "no IPv6"));
	assert_int_equal(fl_admin_check(&a, lab6, &e), 0);
	assert_int_equal(parse(&a, "n2 hosts n1 fdfa:11ac::99", &e), 0);
	assert_int_equal(fl_admin_check(&a, lab4, &e), 0); /* a stale name may point anywhere */
	assert_int_equal(parse(&a, "n3 hosts n1 n9", &e), 0);
	assert_int_equal(fl_admin_check(&a, lab4, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "has no node 'n9'"));
}

static int rules(const char *words, const struct fl_lab *lab, struct fl_fw_rule *r)
{
	struct fl_admin a;
	struct fl_err e;

	assert_int_equal(parse(&a, words, &e), 0);
	snprintf(a.id, sizeof(a.id), "a1");
	return fl_admin_fw_rules(&a, lab, r);
}

/* The rules iptables-restore gets: reject answers like a firewall, --port
 * alone means TCP and UDP, an IPv6 lab gets ip6tables rules, a node's
 * addresses come from the lab. */
static void test_firewall_rules(void **state)
{
	struct fl_fw_rule r[FL_FW_MAX_RULES];

	(void)state;
	assert_int_equal(rules("n2 firewall drop --proto tcp --port 2380", lab4, r), 1);
	assert_int_equal(r[0].family, 4);
	assert_string_equal(r[0].text,
			    "-p tcp --dport 2380 -m comment --comment fallacy-admin:a1 -j DROP");
	assert_int_equal(rules("n2 firewall reject --port 2380-2390", lab4, r), 2);
	assert_string_equal(r[0].text, "-p tcp --dport 2380:2390 -m comment --comment "
				       "fallacy-admin:a1 -j REJECT --reject-with tcp-reset");
	assert_string_equal(r[1].text, "-p udp --dport 2380:2390 -m comment --comment "
				       "fallacy-admin:a1 -j REJECT --reject-with "
				       "icmp-port-unreachable");
	/* everything from n1: the TCP rule is inserted last, so it comes first;
	 * IPv6 leaves neighbour discovery open */
	assert_int_equal(rules("n2 firewall reject --from n1", lab6, r), 5);
	assert_string_equal(r[0].text, "-s 198.18.0.1/32 -m comment --comment fallacy-admin:a1 "
				       "-j REJECT --reject-with icmp-port-unreachable");
	assert_string_equal(r[1].text, "-s 198.18.0.1/32 -p tcp -m comment --comment "
				       "fallacy-admin:a1 -j REJECT --reject-with tcp-reset");
	assert_int_equal(r[2].family, 6);
	assert_string_equal(r[2].text, "-s fdfa:11ac::1/128 ! -p ipv6-icmp -m comment --comment "
				       "fallacy-admin:a1 -j REJECT --reject-with "
				       "icmp6-port-unreachable");
	assert_string_equal(r[3].text,
			    "-s fdfa:11ac::1/128 -p ipv6-icmp -m icmp6 ! --icmpv6-type "
			    "neighbour-solicitation -m icmp6 ! --icmpv6-type "
			    "neighbour-advertisement -m comment --comment fallacy-admin:a1 "
			    "-j REJECT --reject-with icmp6-port-unreachable");
	assert_string_equal(r[4].text, "-s fdfa:11ac::1/128 -p tcp -m comment --comment "
				       "fallacy-admin:a1 -j REJECT --reject-with tcp-reset");
	assert_int_equal(rules("n2 firewall drop --proto icmp", lab6, r), 2);
	assert_string_equal(r[0].text, "-p icmp -m comment --comment fallacy-admin:a1 -j DROP");
	assert_non_null(strstr(r[1].text, "-p ipv6-icmp -m icmp6 ! --icmpv6-type "
					  "neighbour-solicitation"));
	/* a prefix of one family: that family's table only */
	assert_int_equal(rules("n2 firewall drop --from 198.18.0.0/24", lab6, r), 1);
	assert_int_equal(r[0].family, 4);
	assert_string_equal(r[0].text,
			    "-s 198.18.0.0/24 -m comment --comment fallacy-admin:a1 -j DROP");
}

static const char base[] = "# written by fallacy for lab adm\n"
			   "127.0.0.1\tlocalhost\n"
			   "198.18.0.1\tn1\n"
			   "198.18.0.2\tn2 db\n"
			   "fdfa:11ac::1\tn1\n";

static void hosts(struct fl_admin *list, size_t i, const char *words, const char *id)
{
	struct fl_err e;

	assert_int_equal(parse(&list[i], words, &e), 0);
	snprintf(list[i].id, sizeof(list[i].id), "%s", id);
}

/* NAME leaves every entry (an entry without names goes), "ADDR NAME" is
 * added; the newest change of a name wins; other nodes' changes and other
 * names are left alone. */
static void test_hosts_text(void **state)
{
	struct fl_admin list[3];
	char *t;

	(void)state;
	hosts(list, 0, "n3 hosts n1 198.18.0.99", "a1");
	t = fl_admin_hosts_text(base, list, 1, "n3", lab4);
	assert_string_equal(t,
			    "# written by fallacy for lab adm\n"
			    "127.0.0.1\tlocalhost\n"
			    "198.18.0.2\tn2 db\n"
			    "198.18.0.99\tn1\t# fallacy admin a1: another administrator's entry\n");
	free(t);
	hosts(list, 1, "n3 hosts DB 198.18.0.7", "a2");
	hosts(list, 2, "n2 hosts n2 198.18.0.8", "a3");
	t = fl_admin_hosts_text(base, list, 3, "n3", lab4);
	assert_string_equal(t,
			    "# written by fallacy for lab adm\n"
			    "127.0.0.1\tlocalhost\n"
			    "198.18.0.2\tn2\n"
			    "198.18.0.99\tn1\t# fallacy admin a1: another administrator's entry\n"
			    "198.18.0.7\tDB\t# fallacy admin a2: another administrator's entry\n");
	free(t);
	/* a later change of the same name replaces the earlier one */
	hosts(list, 1, "n3 hosts n1 198.18.0.100", "a2");
	t = fl_admin_hosts_text(base, list, 2, "n3", lab4);
	assert_non_null(strstr(t, "198.18.0.100\tn1\t# fallacy admin a2"));
	assert_null(strstr(t, "198.18.0.99"));
	free(t);
	/* another node's name: its addresses (both families in an IPv6 lab) */
	hosts(list, 0, "n3 hosts n1 n2", "a4");
	t = fl_admin_hosts_text(base, list, 1, "n3", lab6);
	assert_non_null(strstr(t, "\n198.18.0.2\tn1\t# fallacy admin a4"));
	assert_non_null(strstr(t, "\nfdfa:11ac::2\tn1\t# fallacy admin a4"));
	assert_null(strstr(t, "198.18.0.1\tn1\n"));
	free(t);
	/* no change for the node: the file as it was */
	t = fl_admin_hosts_text(base, list, 2, "n1", lab4);
	assert_string_equal(t, base);
	free(t);
}

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *get_file(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* A topology change rewrote the lab's text for a node: with a hosts
 * change on the node, the new text becomes the saved copy and the change
 * is applied on top; a node without one gets the text as it is; a change
 * naming a node that left keeps that node's last addresses. */
static void test_hosts_rebase(void **state)
{
	char dir[] = "/tmp/fl-test-admin.XXXXXX", path[256];
	const char *newer = "# written by fallacy for lab adm\n198.18.0.1\tn1\n198.18.0.5\tn2\n";
	char *t;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/admin", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/admin/a1.change", dir);
	put_file(path, "seq 1\nwords n3 hosts n1 198.18.0.99\n");
	snprintf(path, sizeof(path), "%s/admin/n3.hosts", dir);
	put_file(path, base);
	t = fl_admin_hosts_rebase(dir, lab4, "n3", newer);
	assert_string_equal(t,
			    "# written by fallacy for lab adm\n198.18.0.5\tn2\n"
			    "198.18.0.99\tn1\t# fallacy admin a1: another administrator's entry\n");
	free(t);
	assert_string_equal(get_file(path), newer);
	t = fl_admin_hosts_rebase(dir, lab4, "n1", newer);
	assert_string_equal(t, newer);
	free(t);
	/* n3 hosts db n2, and n2 has left: its last address */
	snprintf(path, sizeof(path), "%s/admin/a2.change", dir);
	put_file(path, "seq 2\nwords n3 hosts db n2\n");
	{
		struct fl_lab *l = fl_lab_dup(lab4);

		assert_non_null(l);
		l->gone[l->n_gone++] = l->nodes[1];
		l->nodes[1] = l->nodes[2];
		l->n_nodes--;
		t = fl_admin_hosts_rebase(dir, l, "n3", newer);
		assert_non_null(strstr(t, "\n198.18.0.2\tdb\t# fallacy admin a2"));
		free(t);
		fl_lab_free(l);
	}
	snprintf(path, sizeof(path), "rm -r '%s'", dir);
	assert_int_equal(system(path), 0);
}

static void test_sysctl_keys(void **state)
{
	const char *key, *form;
	size_t n = 0;

	(void)state;
	for (; (key = fl_admin_sysctl_key(n, &form)); n++)
		assert_true(!strncmp(key, "net.", 4) && form[0]);
	assert_int_equal(n, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),	       cmocka_unit_test(test_id_and_json),
		cmocka_unit_test(test_refusals),       cmocka_unit_test(test_check),
		cmocka_unit_test(test_firewall_rules), cmocka_unit_test(test_hosts_text),
		cmocka_unit_test(test_sysctl_keys),    cmocka_unit_test(test_hosts_rebase),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
