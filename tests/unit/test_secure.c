// SPDX-License-Identifier: MIT
/* The "network is secure" pieces without privileges: forged frames
 * (checksums recomputed here independently), inject's parser and its
 * resolution against a planned lab, the pcap walker over a hand-written
 * pcap file, and the plaintext and secure checks with known answers. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "capture/capture.h"
#include "checks.h"
#include "inject/inject.h"
#include "lab/lab.h"

static struct fl_lab *lab, *lab6;
static char dir[64];

static int setup(void **state)
{
	struct fl_lab_spec spec = { .name = "sec", .n_nodes = 3 };
	struct fl_err err;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/fl-test-secure.XXXXXX");
	if (!mkdtemp(dir) || fl_lab_plan(&spec, &lab, &err))
		return -1;
	spec.ipv6 = true;
	return fl_lab_plan(&spec, &lab6, &err);
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	fl_lab_free(lab);
	fl_lab_free(lab6);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* ---- frames ------------------------------------------------------------- */

/* RFC 1071, written again here: the sum over data must fold to 0xffff. */
static uint16_t ones(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i < n; i++)
		sum += i & 1 ? p[i] : (uint32_t)p[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Verify the IP header and transport checksums of an Ethernet frame. */
static void assert_checksums(const uint8_t *f, size_t len)
{
	bool v6 = f[12] == 0x86;
	const uint8_t *ip = f + 14, *l4 = ip + (v6 ? 40 : 20);
	size_t l4len = len - (size_t)(l4 - f), alen = v6 ? 16 : 4;
	uint32_t ph = 0;

	if (!v6)
		assert_int_equal(ones(ip, 20, 0), 0xffff);
	ph = ones(ip + (v6 ? 8 : 12), 2 * alen, 0);
	ph += (v6 ? ip[6] : ip[9]) + (uint32_t)l4len;
	assert_int_equal(ones(l4, l4len, ph), 0xffff);
}

static struct fl_packet sample(int family, uint8_t proto, const char *payload)
{
	struct fl_packet p = { .family = family, .proto = proto, .sport = 40000, .dport = 6379 };

	inet_pton(family, family == AF_INET ? "198.18.0.2" : "fdfa:11ac::2", p.src);
	inet_pton(family, family == AF_INET ? "198.18.0.1" : "fdfa:11ac::1", p.dst);
	p.tcp_flags = 0x18;
	p.seq = 1000;
	p.ack = 7;
	p.payload = (const uint8_t *)payload;
	p.payload_len = strlen(payload);
	return p;
}

static void test_packet_build(void **state)
{
	static const int fams[] = { AF_INET, AF_INET6 };
	static const uint8_t protos[] = { IPPROTO_UDP, IPPROTO_TCP };
	uint8_t f[256];

	(void)state;
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < 2; k++)
			for (int odd = 0; odd < 2; odd++) {
				struct fl_packet p = sample(fams[i], protos[k],
							    odd ? "SET k1 forged\r\n" : "abcd");
				ssize_t n = fl_packet_build(&p, f, sizeof(f));
				size_t want = 14 + (i ? 40 : 20) + (k ? 20 : 8) + p.payload_len;

				assert_int_equal(n, (ssize_t)want);
				assert_checksums(f, (size_t)n);
				assert_memory_equal(f + n - p.payload_len, p.payload,
						    p.payload_len);
			}
	assert_int_equal(
		fl_packet_build(&(struct fl_packet){ .family = AF_INET, .proto = IPPROTO_UDP }, f,
				10),
		-EMSGSIZE);
}

/* ---- inject: words and the lab --------------------------------------------- */

static int inject_words(struct fl_inject *in, const char *line, struct fl_err *e)
{
	char buf[512], *argv[32], *save = NULL;
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok_r(buf, " ", &save); t && argc < 31; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	return fl_inject_parse(in, argc, argv, e);
}

static void test_inject_parse(void **state)
{
	static const struct {
		const char *words, *msg;
	} bad[] = {
		{ "--to n2 --proto udp --port 53", "needs --payload" },
		{ "--to n2 --port 53 --payload 00", "needs --to NODE, --proto" },
		{ "--to n2 --proto icmp --port 1", "use udp or tcp" },
		{ "--to n2 --proto tcp --port 0", "out of range" },
		{ "--to n2 --proto tcp --port 1 --flags SX", "'X' is no TCP flag" },
		{ "--to n2 --proto udp --port 1 --payload 00 --seq 1", "are for --proto tcp" },
		{ "--to n2 --proto tcp --port 1 --count 1001", "out of range" },
		{ "--to n2 --proto tcp --port 1 --wobble 3", "unknown option '--wobble'" },
		{ "--to n2 --proto udp --port 1 --payload 0", "write bytes as hex digits" },
	};
	struct fl_inject in, again;
	struct fl_err e;
	char words[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e.msg[0] = 0;
		assert_int_equal(inject_words(&in, bad[i].words, &e), -EINVAL);
		if (!strstr(e.msg, bad[i].msg))
			fail_msg("'%s': got '%s'", bad[i].words, e.msg);
	}
	/* the words a resolved scenario prints parse back to the same request */
	assert_int_equal(inject_words(&in,
				      "--to n1 --from n2 --proto tcp --port 6379 --payload "
				      "534554 --sport 4000 --flags SA --seq 5 --ack 6 --count 3 "
				      "--seed 9",
				      &e),
			 0);
	assert_int_equal(in.tcp_flags, 0x12);
	fl_inject_words(&in, words, sizeof(words));
	assert_string_equal(words, "--to n1 --proto tcp --port 6379 --payload \"SET\" --from n2 "
				   "--sport 4000 --flags SA --seq 5 --ack 6 --count 3 --seed 9");
	assert_int_equal(inject_words(&again, words, &e), 0);
	assert_memory_equal(&in, &again, sizeof(in));
}

static void test_inject_resolve(void **state)
{
	struct fl_inject in;
	struct fl_packet pk, pk2;
	struct fl_err e = { "" };
	char a[INET6_ADDRSTRLEN];

	(void)state;
	assert_int_equal(
		inject_words(&in, "--to n2 --proto udp --port 53 --payload 00 --seed 3", &e), 0);
	assert_int_equal(fl_inject_resolve(&in, lab, &pk, &e), 0);
	/* the lab address no node has: the last host of its /23 */
	assert_string_equal(inet_ntop(AF_INET, pk.src, a, sizeof(a)), "198.18.1.254");
	assert_string_equal(inet_ntop(AF_INET, pk.dst, a, sizeof(a)), "198.18.0.2");
	assert_true(pk.sport >= 32768 && pk.sport <= 60999);
	assert_int_equal(fl_inject_resolve(&in, lab, &pk2, &e), 0);
	assert_int_equal(pk.sport, pk2.sport); /* the same seed, the same port */
	assert_int_equal(
		inject_words(&in, "--to n2 --from n3 --proto udp --port 53 --payload 00", &e), 0);
	assert_int_equal(fl_inject_resolve(&in, lab, &pk, &e), 0);
	assert_string_equal(inet_ntop(AF_INET, pk.src, a, sizeof(a)), "198.18.0.3");
	assert_int_equal(inject_words(&in, "--to n2 --ipv6 --proto tcp --port 1", &e), 0);
	assert_int_equal(fl_inject_resolve(&in, lab, &pk, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "no IPv6"));
	assert_int_equal(fl_inject_resolve(&in, lab6, &pk, &e), 0);
	assert_string_equal(inet_ntop(AF_INET6, pk.src, a, sizeof(a)), "fdfa:11ac::ffff");
	/* sources outside the lab are refused: no answer may leave it */
	assert_int_equal(inject_words(&in, "--to n2 --from 240.0.0.3 --proto tcp --port 1", &e), 0);
	assert_int_equal(fl_inject_resolve(&in, lab, &pk, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "outside lab sec"));
	assert_int_equal(inject_words(&in, "--to n9 --proto tcp --port 1", &e), 0);
	assert_int_equal(fl_inject_resolve(&in, lab, &pk, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "not a node of lab sec"));
	assert_int_equal(inject_words(&in, "--to n2 --from n2 --proto tcp --port 1", &e), 0);
	assert_int_equal(fl_inject_resolve(&in, lab, &pk, &e), -EINVAL);
}

/* ---- a pcap file by hand ----------------------------------------------------- */

static FILE *pcap_new(const char *name)
{
	uint32_t hdr[6] = { 0xa1b23c4d, 0x00040002, 0, 0, 65535, 1 }; /* ns, Ethernet */
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite(hdr, sizeof(hdr), 1, f);
	return f;
}

static void pcap_add(FILE *f, uint32_t sec, const struct fl_packet *p)
{
	uint8_t frame[512];
	ssize_t n = fl_packet_build(p, frame, sizeof(frame));
	uint32_t rec[4] = { sec, 500, (uint32_t)n, (uint32_t)n };

	assert_true(n > 0);
	fwrite(rec, sizeof(rec), 1, f);
	fwrite(frame, (size_t)n, 1, f);
}

/* A TCP packet of a connection: client 198.18.0.2:port <-> server :6379. */
static struct fl_packet seg(uint16_t cport, bool back, uint8_t flags, uint32_t seq,
			    const char *payload)
{
	struct fl_packet p = sample(AF_INET, IPPROTO_TCP, payload);

	p.sport = back ? 6379 : cport;
	p.dport = back ? cport : 6379;
	if (back) {
		inet_pton(AF_INET, "198.18.0.1", p.src);
		inet_pton(AF_INET, "198.18.0.2", p.dst);
	}
	p.tcp_flags = flags;
	p.seq = seq;
	return p;
}

struct seen {
	uint64_t n, payload;
	uint16_t last_dport;
};

static int count(const struct fl_pcap_pkt *pk, void *arg)
{
	struct seen *s = arg;

	s->n++;
	assert_int_equal(pk->index, s->n);
	assert_int_equal(pk->ts_ns, (s->n) * 1000000000ull + 500);
	s->payload += pk->payload_len;
	s->last_dport = pk->dport;
	return 0;
}

static void add_seg(FILE *f, uint32_t t, uint16_t cport, bool back, uint8_t flags, uint32_t seq,
		    const char *payload)
{
	struct fl_packet p = seg(cport, back, flags, seq, payload);

	pcap_add(f, t, &p);
}

/* One marker split over two in-order segments, one elsewhere, one on
 * another port; one TLS connection, one plain, one started earlier. */
static void write_captures(void)
{
	static const char tls[] = "\x16\x03\x01\x01\x05hello";
	FILE *f = pcap_new("n1.pcap");
	struct fl_packet u = sample(AF_INET, IPPROTO_UDP, "s3cr3t over udp");

	u.dport = 5353;
	pcap_add(f, 1, &u); /* the marker, but not on 6379 */
	fclose(f);
	f = pcap_new("n2.pcap");
	/* 1-4: plain connection 41000; the marker split over packets 3 and 4 */
	add_seg(f, 1, 41000, false, 0x02, 100, "");
	add_seg(f, 2, 41000, true, 0x12, 900, "");
	add_seg(f, 3, 41000, false, 0x18, 101, "AUTH s3c");
	add_seg(f, 4, 41000, false, 0x18, 109, "r3t\r\n");
	/* 5-7: TLS connection 42000 */
	add_seg(f, 5, 42000, false, 0x02, 200, "");
	add_seg(f, 6, 42000, false, 0x18, 201, tls);
	add_seg(f, 7, 42000, true, 0x18, 901, tls);
	/* 8: a connection whose start was not captured */
	add_seg(f, 8, 43000, false, 0x18, 300, "mid-stream");
	fclose(f);
}

static void test_pcap_walk(void **state)
{
	struct seen s = { 0 };
	char path[128], flow[160];
	struct fl_pcap_pkt pk = {
		.family = AF_INET, .proto = IPPROTO_TCP, .has_ports = true, .sport = 1, .dport = 2
	};

	(void)state;
	write_captures();
	snprintf(path, sizeof(path), "%s/n2.pcap", dir);
	assert_int_equal(fl_pcap_walk(path, count, &s), 0);
	assert_int_equal(s.n, 8);
	assert_int_equal(s.payload, 8 + 5 + 10 + 10 + 10);
	assert_int_equal(s.last_dport, 6379);
	snprintf(path, sizeof(path), "%s/none.pcap", dir);
	fl_log_level = -1;
	assert_int_equal(fl_pcap_walk(path, count, &s), -EIO);
	fl_log_level = FL_LOG_WARN;
	inet_pton(AF_INET, "198.18.0.1", pk.src);
	inet_pton(AF_INET, "198.18.0.2", pk.dst);
	fl_pcap_flow(&pk, flow, sizeof(flow));
	assert_string_equal(flow, "198.18.0.1:1 -> 198.18.0.2:2 tcp");
}

static void test_plaintext(void **state)
{
	char *markers[] = { "s3cr3t" };
	struct fl_check ck = { .kind = FL_CHECK_PLAINTEXT, .markers = markers, .n_markers = 1 };
	struct fl_check_result r;
	char pdir[128];

	(void)state;
	write_captures();
	snprintf(pdir, sizeof(pdir), "%s", dir);
	fl_check_eval_capture(&ck, pdir, NULL, &r);
	assert_false(r.pass);
	/* everything: the UDP packet of n1.pcap comes first */
	assert_non_null(strstr(r.detail, "n1.pcap packet 1"));
	assert_int_equal((int)r.measured, 2);
	ck.ports[0] = 6379;
	ck.n_ports = 1;
	fl_check_eval_capture(&ck, pdir, NULL, &r);
	assert_false(r.pass);
	/* the marker completes in packet 4 of n2.pcap (split over 3 and 4) */
	if (!strstr(r.detail, "n2.pcap packet 4 at ") ||
	    !strstr(r.detail, "198.18.0.2:41000 -> 198.18.0.1:6379 tcp"))
		fail_msg("%s", r.detail);
	assert_int_equal((int)r.measured, 1);
	ck.ports[0] = 7;
	fl_check_eval_capture(&ck, pdir, NULL, &r);
	assert_false(r.pass); /* nothing on the port: nothing to judge */
	assert_non_null(strstr(r.detail, "nothing to judge"));
	markers[0] = "absent";
	ck.ports[0] = 6379;
	fl_check_eval_capture(&ck, pdir, NULL, &r);
	assert_true(r.pass);
	assert_string_equal(r.measured_text, "0 packets");
}

static void test_secure(void **state)
{
	struct fl_check ck = { .kind = FL_CHECK_SECURE, .ports = { 6379 }, .n_ports = 1 };
	struct fl_check_result r;
	char path[128];

	(void)state;
	write_captures();
	fl_check_eval_capture(&ck, dir, NULL, &r);
	assert_false(r.pass);
	assert_string_equal(r.measured_text, "1 of 2 connections");
	if (!strstr(r.detail, "n2.pcap packet 3, 198.18.0.2:41000 -> 198.18.0.1:6379 tcp, "
			      "starts with 41 55 54 48"))
		fail_msg("%s", r.detail);
	/* without the plain connection: TLS everywhere, one not judged */
	snprintf(path, sizeof(path), "%s/n2.pcap", dir);
	unlink(path);
	{
		FILE *f = pcap_new("n2.pcap");

		add_seg(f, 1, 42000, false, 0x02, 200, "");
		add_seg(f, 2, 42000, false, 0x18, 201, "\x17\x03\x03");
		add_seg(f, 3, 43000, false, 0x18, 300, "mid-stream");
		fclose(f);
	}
	fl_check_eval_capture(&ck, dir, NULL, &r);
	assert_true(r.pass);
	assert_non_null(strstr(r.detail, "1 started before the capture"));
	/* a record header changed on the wire: the receiver's capture (read
	 * first) shows no TLS, the sender's does; the connection is TLS */
	{
		FILE *f = pcap_new("m-receiver.pcap");

		add_seg(f, 1, 44000, false, 0x02, 400, "");
		add_seg(f, 2, 44000, false, 0x18, 401, "\xe9\x03\x01\x01");
		fclose(f);
		f = pcap_new("n0-sender.pcap");
		add_seg(f, 1, 44000, false, 0x02, 400, "");
		add_seg(f, 2, 44000, false, 0x18, 401, "\x16\x03\x01\x01");
		fclose(f);
	}
	fl_check_eval_capture(&ck, dir, NULL, &r);
	if (!r.pass)
		fail_msg("%s", r.detail);
	assert_string_equal(r.measured_text, "0 of 2 connections");
	snprintf(path, sizeof(path), "%s/n0-sender.pcap", dir);
	unlink(path);
	fl_check_eval_capture(&ck, dir, NULL, &r);
	assert_false(r.pass); /* only the changed copy: no TLS seen */
	assert_non_null(strstr(r.detail, "m-receiver.pcap packet 2"));
	snprintf(path, sizeof(path), "%s/m-receiver.pcap", dir);
	unlink(path);
	ck.ports[0] = 7;
	fl_check_eval_capture(&ck, dir, NULL, &r);
	assert_false(r.pass);
	assert_non_null(strstr(r.detail, "nothing to judge"));
	/* no capture at all */
	fl_check_eval_capture(&ck, "/nonexistent", NULL, &r);
	assert_false(r.pass);
	assert_non_null(strstr(r.detail, "fallacy run --capture"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_packet_build),   cmocka_unit_test(test_inject_parse),
		cmocka_unit_test(test_inject_resolve), cmocka_unit_test(test_pcap_walk),
		cmocka_unit_test(test_plaintext),      cmocka_unit_test(test_secure),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
