// SPDX-License-Identifier: MIT
/* Fault kinds without privileges: parsers, text/JSON printers, rule
 * encoding, partition expansion, evaluation order, and PRNG known-answer
 * vectors (computed independently with Python's arbitrary-precision ints). */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "fallacy/prng.h"
#include "faults/fault.h"
#include "lab/lab.h"
#include "supervisor/session.h"

static struct fl_node nodes[3];
static struct fl_lab lab = { .name = "demo", .n_nodes = 3, .nodes = nodes, .prefix4_len = 23 };

static int setup(void **ctx)
{
	(void)ctx;
	inet_pton(AF_INET, "198.18.0.0", &lab.net4);
	for (int i = 0; i < 3; i++) {
		snprintf(nodes[i].name, sizeof(nodes[i].name), "n%d", i + 1);
		nodes[i].index = i;
		nodes[i].ip4.s_addr = htonl(0xc6120001u + (uint32_t)i);
	}
	return 0;
}

/* Parse a space-separated command line; returns fl_fault_parse's result. */
static int parse(struct fl_fault *f, const char *line, const struct fl_lab *l, struct fl_err *e)
{
	char buf[512], *argv[32], *save = NULL;
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok_r(buf, " ", &save); t && argc < 31; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	return fl_fault_parse(f, argc, argv, l, e);
}

static void print(const struct fl_fault *f, bool json, char *out, size_t len)
{
	FILE *fp = fmemopen(out, len, "w");
	struct fl_out o = { .f = fp, .json = json };

	assert_non_null(fp);
	fl_fault_print(f, &o);
	fclose(fp);
}

static void test_prng_known_answers(void **ctx)
{
	(void)ctx;
	assert_true(fl_prng(0, 0, 1, 0) == 0xa706dd2f4d197e6fULL);
	assert_true(fl_prng(42, 0, 1, 0) == 0x57e1faba65107204ULL);
	assert_true(fl_prng(42, 0, 1, 1) == 0xf4abd143feb24055ULL);
	assert_true(fl_prng(42, 3, 2, 1000) == 0x12a8cd9663cc26e1ULL);
	assert_true(fl_prng(~0ULL, 0xffffffffu, 8, ~0ULL - 1) == 0x201e140dab63b396ULL);
}

/* The same count Python gets for seed 42, p = 10%, 100000 draws. */
static void test_prng_loss_count(void **ctx)
{
	uint64_t thr = fl_prob_encode(0.1);
	int lost = 0;

	(void)ctx;
	for (uint64_t s = 0; s < 100000; s++)
		lost += (fl_prng(42, 0, FL_STREAM_LOSS, s) >> 32) < thr;
	assert_int_equal(lost, 9915);
}

static void test_prob_encode(void **ctx)
{
	(void)ctx;
	assert_true(fl_prob_encode(0) == 0);
	assert_true(fl_prob_encode(1.0) == FL_PROB_ONE);
	assert_true(fl_prob_encode(0.5) == 1ULL << 31);
	assert_true(fl_prob_encode(0.1) == 429496730ULL);
}

/* tc-netem reads a bare number as a percentage: `loss 0.5` is 0.5 %. */
static void test_bare_percent_is_tc(void **ctx)
{
	struct fl_fault a, b;
	struct fl_err e;
	struct fl_rule ra, rb;
	char out[256];

	(void)ctx;
	assert_int_equal(parse(&a, "loss 0.5 --seed 1", &lab, &e), 0);
	assert_int_equal(parse(&b, "loss 0.5% --seed 1", &lab, &e), 0);
	assert_int_equal(fl_fault_rules(&a, &lab, &ra, 1, &e), 1);
	assert_int_equal(fl_fault_rules(&b, &lab, &rb, 1, &e), 1);
	assert_true(ra.prob == rb.prob);
	assert_true(ra.prob == fl_prob_encode(0.005));
	print(&a, false, out, sizeof(out));
	assert_string_equal(out, "loss 0.5% --seed 1");
	assert_int_equal(parse(&a, "duplicate 1 --seed 1", &lab, &e), 0);
	print(&a, false, out, sizeof(out));
	assert_string_equal(out, "duplicate 1% --seed 1");
	assert_int_equal(parse(&a, "loss 150", &lab, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "more than 100%"));
}

/* Found by fuzz_fault: an empty word list read argv[0] (NULL). */
static void test_no_words(void **ctx)
{
	struct fl_fault f;
	struct fl_err e;
	char *argv[] = { NULL };

	(void)ctx;
	assert_int_equal(fl_fault_parse(&f, 0, argv, NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "missing fault kind"));
}

static void test_loss_text_json(void **ctx)
{
	struct fl_fault f;
	struct fl_err e;
	struct fl_rule r[4];
	char out[512];

	(void)ctx;
	assert_int_equal(parse(&f, "loss 10% --from n1 --to n2 --seed 7", &lab, &e), 0);
	print(&f, false, out, sizeof(out));
	assert_string_equal(out, "loss 10% --from n1 --to n2 --seed 7");
	print(&f, true, out, sizeof(out));
	assert_string_equal(out, "\"kind\": \"loss\", \"loss\": 0.1, \"from\": \"n1\", "
				 "\"to\": \"n2\", \"seed\": 7");
	assert_int_equal(fl_fault_rules(&f, &lab, r, 4, &e), 1);
	assert_int_equal(r[0].kind, FL_KIND_LOSS);
	assert_true(r[0].src.use_nodes && r[0].src.nodes[0] == 1);
	assert_true(r[0].dst.use_nodes && r[0].dst.nodes[0] == 2);
	assert_int_equal(r[0].dir, FL_DIR_BOTH);
}

static void test_gemodel_defaults(void **ctx)
{
	struct fl_fault f;
	struct fl_err e;
	struct fl_rule r[1];
	char out[512];

	(void)ctx;
	assert_int_equal(parse(&f, "loss gemodel 1% --seed 1", NULL, &e), 0);
	print(&f, false, out, sizeof(out));
	assert_string_equal(out, "loss gemodel 1% 100% 100% 0% --seed 1");
	assert_int_equal(fl_fault_rules(&f, NULL, r, 1, &e), 1);
	assert_int_equal(r[0].kind, FL_KIND_GEMODEL);
	assert_true(r[0].ge_r == FL_PROB_ONE && r[0].ge_bad_loss == FL_PROB_ONE);
	assert_true(r[0].ge_good_loss == 0);
}

static void test_prob_kinds(void **ctx)
{
	struct fl_fault f;
	struct fl_err e;
	struct fl_rule r[1];
	char out[512];

	(void)ctx;
	assert_int_equal(parse(&f, "duplicate 50% --proto icmp", NULL, &e), 0);
	assert_int_equal(fl_fault_rules(&f, NULL, r, 1, &e), 1);
	assert_int_equal(r[0].kind, FL_KIND_DUPLICATE);
	assert_int_equal(r[0].family, FL_FAM_IPV4);
	assert_int_equal(parse(&f, "corrupt 0.1% --port 5000-5100", NULL, &e), 0);
	print(&f, false, out, sizeof(out));
	assert_string_equal(out, "corrupt 0.1% --port 5000-5100 --seed 0");
	assert_int_equal(parse(&f, "reset --dport 80", NULL, &e), 0);
	assert_int_equal(fl_fault_rules(&f, NULL, r, 1, &e), 1);
	assert_int_equal(r[0].kind, FL_KIND_RESET);
	assert_int_equal(r[0].proto, IPPROTO_TCP);
	assert_true(r[0].prob == FL_PROB_ONE);
}

/* mtu-blackhole M: a count of bytes, printed back as written, encoded as the
 * rule's mtu with a drop kind that matches every packet of the path. */
static void test_mtu_blackhole(void **ctx)
{
	struct fl_fault f;
	struct fl_err e;
	struct fl_rule r[1];
	char out[512];

	(void)ctx;
	assert_int_equal(parse(&f, "mtu-blackhole 1400 --from n1 --to n2", &lab, &e), 0);
	assert_int_equal(fl_fault_rules(&f, &lab, r, 1, &e), 1);
	assert_int_equal(r[0].kind, FL_KIND_MTU_BLACKHOLE);
	assert_int_equal(r[0].mtu, 1400);
	assert_true(r[0].prob == FL_PROB_ONE);
	assert_true(r[0].src.use_nodes && r[0].src.nodes[0] == 1 && r[0].dst.nodes[0] == 2);
	print(&f, false, out, sizeof(out));
	assert_string_equal(out, "mtu-blackhole 1400 --from n1 --to n2 --seed 0");
	print(&f, true, out, sizeof(out));
	assert_non_null(strstr(out, "\"kind\": \"mtu-blackhole\", \"mtu\": 1400"));
	/* IPv4's smallest MTU .. the largest IP packet */
	assert_int_equal(parse(&f, "mtu-blackhole 68", NULL, &e), 0);
	assert_int_equal(parse(&f, "mtu-blackhole 65535", NULL, &e), 0);
	assert_int_equal(parse(&f, "mtu-blackhole 67", NULL, &e), -EINVAL);
	assert_int_equal(parse(&f, "mtu-blackhole 65536", NULL, &e), -EINVAL);
	assert_int_equal(parse(&f, "mtu-blackhole", NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "missing mtu"));
	assert_int_equal(parse(&f, "mtu-blackhole 1.5kb", NULL, &e), -EINVAL);
	assert_int_equal(parse(&f, "mtu-blackhole 1400 mtu 1300", NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "given twice"));
}

static void test_bad_input(void **ctx)
{
	struct fl_fault f;
	struct fl_err e;

	(void)ctx;
	assert_int_equal(parse(&f, "lose 5%", NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "did you mean 'loss'"));
	assert_int_equal(parse(&f, "loss 150%", NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "150%"));
	assert_int_equal(parse(&f, "loss", NULL, &e), -EINVAL);
	assert_int_equal(parse(&f, "duplicate", NULL, &e), -EINVAL);
	assert_int_equal(parse(&f, "reset --proto udp", NULL, &e), -EINVAL);
	assert_int_equal(parse(&f, "loss 5% --from n9", &lab, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "unknown node 'n9' (the lab has n1, n2, n3)"));
	assert_int_equal(parse(&f, "loss 5% --from n1", NULL, &e), -EINVAL);
	assert_int_equal(parse(&f, "loss 5% --to 198.19.0.1", &lab, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "outside lab"));
	assert_int_equal(parse(&f, "loss 5% --from 198.18.0.0/24 --to fdfa:11ac::1", NULL, &e),
			 -EINVAL);
	assert_int_equal(parse(&f, "loss 5% --port 0", NULL, &e), -EINVAL);
	assert_int_equal(parse(&f, "loss 5% --seed x", NULL, &e), -EINVAL);
}

static void test_partition_groups(void **ctx)
{
	struct fl_fault f;
	struct fl_err e;
	struct fl_rule r[8];

	(void)ctx;
	/* n1,n2 | n3: two rules, {n1,n2} -> {n3} and {n3} -> {n1,n2} */
	assert_int_equal(parse(&f, "partition n1,n2 n3", &lab, &e), 0);
	assert_int_equal(fl_fault_rules(&f, &lab, r, 8, &e), 2);
	assert_true(r[0].src.nodes[0] == 3 && r[0].dst.nodes[0] == 4);
	assert_true(r[1].src.nodes[0] == 4 && r[1].dst.nodes[0] == 3);
	assert_int_equal(r[0].kind, FL_KIND_DROP);
	/* bridge: n2 in both groups; only n1 <-> n3 */
	assert_int_equal(parse(&f, "partition n1,n2 n2,n3", &lab, &e), 0);
	assert_int_equal(fl_fault_rules(&f, &lab, r, 8, &e), 2);
	assert_true(r[0].src.nodes[0] == 1 && r[0].dst.nodes[0] == 4);
	assert_true(r[1].src.nodes[0] == 4 && r[1].dst.nodes[0] == 1);
	/* oneway: only the earlier group's packets to the later group */
	assert_int_equal(parse(&f, "partition n1 n2,n3 oneway", &lab, &e), 0);
	assert_int_equal(fl_fault_rules(&f, &lab, r, 8, &e), 1);
	assert_true(r[0].src.nodes[0] == 1 && r[0].dst.nodes[0] == 6);
	/* groups need a lab and known nodes */
	assert_int_equal(parse(&f, "partition n1 n4", &lab, &e), 0);
	assert_true(fl_fault_rules(&f, &lab, r, 8, &e) < 0);
	assert_int_equal(parse(&f, "partition n1", &lab, &e), -EINVAL);
}

static void test_rule_order(void **ctx)
{
	struct fl_rule r[3];
	uint64_t order[3] = { 1, 2, 3 };

	(void)ctx;
	memset(r, 0, sizeof(r));
	r[0].dir = r[1].dir = r[2].dir = FL_DIR_BOTH;
	r[0].kind = FL_KIND_LOSS; /* matches everything */
	r[1].kind = FL_KIND_DROP;
	r[1].proto = IPPROTO_TCP;
	r[1].port_mode = FL_PORT_DST; /* two fields */
	r[2].kind = FL_KIND_DUPLICATE;
	r[2].src.plen = 24; /* one field, 24 bits */
	assert_int_equal(fl_rules_sort(r, order, 3), 0);
	assert_int_equal(r[0].kind, FL_KIND_DROP);
	assert_int_equal(r[1].kind, FL_KIND_DUPLICATE);
	assert_int_equal(r[2].kind, FL_KIND_LOSS);
	assert_true(order[0] == 2 && order[1] == 3 && order[2] == 1);
	/* equal specificity: the older fault first */
	memset(r, 0, sizeof(r));
	order[0] = 9, order[1] = 4, order[2] = 6;
	assert_int_equal(fl_rules_sort(r, order, 3), 0);
	assert_true(order[0] == 4 && order[1] == 6 && order[2] == 9);
}

static void test_targets(void **ctx)
{
	char *lab[] = { "demo" }, *node[] = { "demo/n2" }, *ns[] = { "--netns", "blue" };
	char *pid[] = { "--pid", "42" }, *badpid[] = { "--pid", "x" }, *bad[] = { "Demo!" };
	struct fl_target t;
	struct fl_err e;
	int used;

	(void)ctx;
	assert_int_equal(fl_target_parse(1, lab, &t, &used, &e), 0);
	assert_int_equal(t.kind, FL_TARGET_LAB);
	assert_string_equal(t.session, "demo");
	assert_int_equal(used, 1);
	assert_int_equal(fl_target_parse(1, node, &t, &used, &e), 0);
	assert_string_equal(t.lab, "demo");
	assert_string_equal(t.node, "n2");
	assert_int_equal(fl_target_parse(2, ns, &t, &used, &e), 0);
	assert_string_equal(t.session, "@netns-blue");
	assert_int_equal(used, 2);
	assert_int_equal(fl_target_parse(2, pid, &t, &used, &e), 0);
	assert_string_equal(t.session, "@pid-42");
	assert_int_equal(fl_target_from_session("@pid-42", &t, &e), 0);
	assert_int_equal(t.pid, 42);
	assert_int_equal(fl_target_parse(2, badpid, &t, &used, &e), -EINVAL);
	assert_int_equal(fl_target_parse(1, bad, &t, &used, &e), -EINVAL);
	assert_int_equal(fl_target_parse(1, ns, &t, &used, &e), -EINVAL);
}

/* tamper: offset given or drawn per packet, bytes or one inverted byte. */
static void test_tamper_encode(void **ctx)
{
	struct fl_fault *f = calloc(1, sizeof(*f));
	struct fl_rule r[2];
	struct fl_err e = { "" };
	char out[512];

	(void)ctx;
	assert_int_equal(parse(f, "tamper 100% offset 3 bytes \"EVIL\" --dport 6379", &lab, &e), 0);
	assert_int_equal(fl_fault_rules(f, &lab, r, 2, &e), 1);
	assert_int_equal(r[0].kind, FL_KIND_TAMPER);
	assert_true(r[0].prob == FL_PROB_ONE);
	assert_int_equal(r[0].tamper_off, 3);
	assert_int_equal(r[0].tamper_len, 4);
	assert_memory_equal(r[0].tamper, "EVIL", 4);
	print(f, false, out, sizeof(out));
	assert_non_null(strstr(out, "tamper 100% offset 3 bytes \"EVIL\" --dport 6379"));
	/* offset 0 given is not the drawn position */
	assert_int_equal(parse(f, "tamper 5% offset 0", &lab, &e), 0);
	assert_int_equal(fl_fault_rules(f, &lab, r, 2, &e), 1);
	assert_int_equal(r[0].tamper_off, 0);
	assert_int_equal(r[0].tamper_len, 0);
	print(f, false, out, sizeof(out));
	assert_non_null(strstr(out, "offset 0"));
	assert_int_equal(parse(f, "tamper 5% bytes 00ff", &lab, &e), 0);
	assert_int_equal(fl_fault_rules(f, &lab, r, 2, &e), 1);
	assert_true(r[0].tamper_off == FL_TAMPER_SEEDED);
	assert_int_equal(r[0].tamper_len, 2);
	free(f);
}

/* Offsets no packet can reach, too many bytes, replay on the send path. */
static void test_secure_kinds_refuse(void **ctx)
{
	static const struct {
		const char *words, *msg;
	} bad[] = {
		{ "tamper 1% offset 70000",
		  "offset: 70000: out of range (use an integer 0..65506)" },
		{ "tamper 1% offset 65506 bytes 0000", "beyond any payload" },
		{ "tamper 1% bytes 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
		  "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00",
		  "65 bytes, give 1 to 64" },
		{ "tamper 1% bytes xyz", "write bytes as hex digits" },
		{ "tamper", "missing tamper" },
		{ "replay 10% --dir out", "--dir out cannot be replayed" },
		{ "replay 10% after 0", "out of range" },
		{ "replay", "missing replay" },
	};
	struct fl_fault *f = calloc(1, sizeof(*f));
	struct fl_err e;

	(void)ctx;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e.msg[0] = 0;
		assert_int_equal(parse(f, bad[i].words, &lab, &e), -EINVAL);
		if (!strstr(e.msg, bad[i].msg))
			fail_msg("'%s': got '%s', want '%s'", bad[i].words, e.msg, bad[i].msg);
	}
	free(f);
}

static void test_replay_encode(void **ctx)
{
	struct fl_fault *f = calloc(1, sizeof(*f));
	struct fl_rule r[2];
	struct fl_err e = { "" };
	char out[512];

	(void)ctx;
	assert_int_equal(parse(f, "replay 50% --proto udp --dir in", &lab, &e), 0);
	assert_int_equal(fl_fault_rules(f, &lab, r, 2, &e), 1);
	assert_int_equal(r[0].kind, FL_KIND_REPLAY);
	assert_true(r[0].prob == fl_prob_encode(0.5));
	print(f, true, out, sizeof(out));
	assert_non_null(strstr(out, "\"kind\": \"replay\""));
	assert_null(strstr(out, "after")); /* the default 1s is not printed */
	assert_int_equal(parse(f, "replay 50% after 250ms", &lab, &e), 0);
	print(f, false, out, sizeof(out));
	assert_non_null(strstr(out, "replay 50% after 250ms"));
	free(f);
}

/* fl_fault_check on a space-separated line. */
static int check(const char *line, const char *lab_name, struct fl_err *e)
{
	char buf[512], *argv[32], *save = NULL;
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok_r(buf, " ", &save); t && argc < 31; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	return fl_fault_check(argc, argv, lab_name, e);
}

/* `fallacy --check fault add`: any node names in a lab, none elsewhere. */
static void test_check_without_lab(void **ctx)
{
	char *chg[] = { "delay", "80ms", "jitter", "5ms" }, *chg_bad[] = { "delay", "5xs" };
	char *chg_kind[] = { "lose", "5%" };
	struct fl_err e;

	(void)ctx;
	assert_int_equal(check("delay 50ms --from n1 --to web,db", "demo", &e), 0);
	assert_int_equal(check("partition etcd1,etcd2 etcd3 oneway", "demo", &e), 0);
	assert_int_equal(check("loss 5% --node n7", "demo", &e), 0);
	/* the real lab's /23 is unknown: every address of 198.18.0.0/15 is fine */
	assert_int_equal(check("loss 5% --from 198.19.255.1 --to 198.18.0.0/24", "demo", &e), 0);
	assert_int_equal(check("loss 5% --to fdfa:11ac::2", "demo", &e), 0);
	assert_int_equal(check("loss 5% --from 198.18.0.1 --to fdfa:11ac::2", "demo", &e), -EINVAL);
	assert_int_equal(check("loss 5% --from 240.0.0.1", "demo", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "outside lab demo"));
	assert_int_equal(check("loss 5% --from N1", "demo", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "N1"));
	assert_int_equal(check("partition n1,n2 n3", NULL, &e), -EINVAL);
	assert_int_equal(check("loss 5% --from n1", NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "node names work in labs only"));
	assert_int_equal(check("loss 5% --from 198.18.0.1 --proto udp --port 53", NULL, &e), 0);
	assert_int_equal(check("rate 1bit", "demo", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "1bit"));
	assert_int_equal(fl_fault_check_params(4, chg, &e), 0);
	assert_int_equal(fl_fault_check_params(2, chg_bad, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "5xs"));
	assert_int_equal(fl_fault_check_params(2, chg_kind, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "did you mean 'loss'"));
}

/* One decision over a super-packet of n segments: 1 - (1 - p)^n. */
static void test_prob_any(void **ctx)
{
	static const double ps[] = { 0.0001, 0.01, 0.1, 0.5, 0.99 };
	static const unsigned int ns[] = { 1, 2, 3, 7, 44, 45, 64, 1000, 65535 };

	(void)ctx;
	assert_int_equal(fl_prob_any(0, 45), 0);
	assert_int_equal(fl_prob_any(FL_PROB_ONE, 45), FL_PROB_ONE);
	assert_int_equal(fl_prob_any(12345, 1), 12345);
	assert_int_equal(fl_prob_any(12345, 0), 0);
	for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		for (size_t j = 0; j < sizeof(ns) / sizeof(ns[0]); j++) {
			double want = 1.0 - pow(1.0 - ps[i], ns[j]);
			double got = (double)fl_prob_any(fl_prob_encode(ps[i]), ns[j]) /
				     (double)FL_PROB_ONE;

			/* 16 fixed-point products, each off by < 2^-32, and
			 * the rounding of p itself (< 2^-33 per segment) */
			if (fabs(got - want) > 1e-7 + ns[j] * 1e-9)
				fail_msg("p %g n %u: %.9f, expected %.9f", ps[i], ns[j], got, want);
		}
	}
}

/* Which faults need wire-sized packets (fault_ops.per_packet), and on
 * which nodes the supervisor turns offloads off for them. */
static void test_per_packet_nodes(void **ctx)
{
	static const struct {
		const char *line;
		bool per_packet;
		uint64_t senders; /* bit i = node i */
	} cases[] = {
		{ "loss 1% --from n1 --to n2", true, 1 },
		{ "loss 1% --from n1,n3", true, 5 },
		{ "loss 1% --to n2", true, 7 },
		{ "loss 1% --from n1 --to n2 --bidir", true, 3 },
		{ "loss 1% --node n2", true, 7 },
		{ "loss 1% --from 198.18.0.1", true, 7 },
		{ "duplicate 1% --from n2", true, 2 },
		{ "corrupt 100% --from n2", true, 2 },
		{ "reorder 25% --from n3", true, 4 },
		{ "delay 50ms jitter 5ms --from n1", true, 1 },
		{ "delay 50ms --from n1", false, 1 },
		{ "delay 50ms reorder 10% --from n1", true, 1 },
		{ "partition --from n1 --to n2", false, 1 },
		{ "rate 10mbit --from n1", true, 1 },
		{ "rate 100mbit --from n1", false, 1 },
		{ "reset 100% --from n1", false, 1 },
		{ "reset 10% --from n1", true, 1 },
	};
	struct fl_fault *f = calloc(1, sizeof(*f));
	uint64_t got[FL_NODE_WORDS];
	struct fl_err e = { "" };

	(void)ctx;
	assert_non_null(f);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(f, 0, sizeof(*f));
		assert_int_equal(parse(f, cases[i].line, &lab, &e), 0);
		if (fl_fault_per_packet(f) != cases[i].per_packet)
			fail_msg("%s: per_packet %d, expected %d", cases[i].line,
				 fl_fault_per_packet(f), cases[i].per_packet);
		fl_fault_sender_nodes(f, &lab, got);
		if (got[0] != cases[i].senders)
			fail_msg("%s: senders %#llx, expected %#llx", cases[i].line,
				 (unsigned long long)got[0], (unsigned long long)cases[i].senders);
	}
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prng_known_answers),
		cmocka_unit_test(test_prng_loss_count),
		cmocka_unit_test(test_prob_encode),
		cmocka_unit_test(test_bare_percent_is_tc),
		cmocka_unit_test(test_no_words),
		cmocka_unit_test(test_loss_text_json),
		cmocka_unit_test(test_gemodel_defaults),
		cmocka_unit_test(test_prob_kinds),
		cmocka_unit_test(test_mtu_blackhole),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_partition_groups),
		cmocka_unit_test(test_rule_order),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_tamper_encode),
		cmocka_unit_test(test_secure_kinds_refuse),
		cmocka_unit_test(test_replay_encode),
		cmocka_unit_test(test_check_without_lab),
		cmocka_unit_test(test_per_packet_nodes),
		cmocka_unit_test(test_prob_any),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
