// SPDX-License-Identifier: MIT
/* Transport statistics without a kernel: the /proc/net/snmp and netstat
 * parser on real text, the text form used by the supervisor and by marks,
 * deltas (also across a supervisor restart), sums and names. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stats/stats.h"
#include "statsout.h"

/* From a 6.18 node namespace after an iperf3 run under loss (shortened
 * TcpExt lines keep the real order and spacing). */
static const char snmp[] =
	"Ip: Forwarding DefaultTTL InReceives InHdrErrors\n"
	"Ip: 1 64 3021 0\n"
	"Icmp: InMsgs InErrors\n"
	"Icmp: 0 0\n"
	"Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails "
	"EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors\n"
	"Tcp: 1 200 120000 -1 7 2 0 0 1 3001 34814 146 0 3 0\n"
	"Udp: InDatagrams NoPorts InErrors OutDatagrams\n"
	"Udp: 0 0 0 0\n";

static const char netstat[] =
	"TcpExt: SyncookiesSent TCPRenoReorder TCPTSReorder TCPSACKReorder TCPTimeouts "
	"TCPLossProbes TCPLossProbeRecovery TCPRenoRecovery TCPSackRecovery TCPFastRetrans\n"
	"TcpExt: 0 1 2 4 9 12 3 5 45 130\n"
	"IpExt: InNoRoutes InTruncatedPkts InOctets\n"
	"IpExt: 0 0 123456789\n";

static void test_tcp_parse(void **state)
{
	struct fl_tcp_stat t;

	(void)state;
	assert_int_equal(fl_tcp_parse(snmp, netstat, &t), 0);
	assert_int_equal(t.active_opens, 7);
	assert_int_equal(t.passive_opens, 2);
	assert_int_equal(t.in_segs, 3001);
	assert_int_equal(t.out_segs, 34814);
	assert_int_equal(t.retrans_segs, 146);
	assert_int_equal(t.out_rsts, 3);
	assert_int_equal(t.rtos, 9);
	assert_int_equal(t.loss_probes, 12);
	assert_int_equal(t.reno_recovery, 5);
	assert_int_equal(t.sack_recovery, 45);
	assert_int_equal(t.fast_retrans, 130);
	assert_int_equal(t.reorder, 1 + 2 + 4); /* Reno + TS + SACK */
	/* a kernel without netstat's counters: they stay 0 */
	assert_int_equal(fl_tcp_parse(snmp, NULL, &t), 0);
	assert_int_equal(t.retrans_segs, 146);
	assert_int_equal(t.rtos, 0);
	/* garbage is no counter */
	assert_int_equal(fl_tcp_parse("Tcp: OutSegs\nnope\n", "TcpExt: TCPTimeouts\n", &t), 0);
	assert_int_equal(t.out_segs, 0);
	assert_int_equal(t.rtos, 0);
}

static void stats_fill(struct fl_stats *s, uint64_t since, uint64_t mul)
{
	static const char text_fmt[] = "mono %llu\nsince %llu\n"
				       "pair n1 n2 4 6 %llu %llu %llu\n"
				       "pair n2 n1 4 6 10 660 0\n"
				       "pair * * 0 0 2 84 0\n"
				       "tcp n1 1 0 10 %llu %llu 0 1 2 3 4 0 5\n"
				       "tcp n2 0 1 100 10 0 0 0 0 0 0 0 0\n";
	char text[512];

	memset(s, 0, sizeof(*s));
	snprintf(text, sizeof(text), text_fmt, (unsigned long long)(5000 * mul),
		 (unsigned long long)since, (unsigned long long)(100 * mul),
		 (unsigned long long)(151400 * mul), (unsigned long long)(144800 * mul),
		 (unsigned long long)(95 * mul), (unsigned long long)(5 * mul));
	assert_int_equal(fl_stats_parse(text, s), 0);
}

static void test_text_form(void **state)
{
	struct fl_stats a, b = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	stats_fill(&a, 1000, 1);
	assert_int_equal(a.n_pairs, 3);
	assert_int_equal(a.n_nodes, 2);
	assert_string_equal(a.pairs[2].src, "*");
	assert_int_equal(a.pairs[0].bytes, 151400);
	assert_int_equal(a.nodes[0].tcp.retrans_segs, 5);
	assert_int_equal(a.nodes[0].tcp.reorder, 5);
	assert_true(a.since_ns == 1000 && a.mono_ns == 5000);
	f = open_memstream(&buf, &len);
	fl_stats_format(&a, f);
	fclose(f);
	assert_int_equal(fl_stats_parse(buf, &b), 0);
	assert_int_equal(b.n_pairs, a.n_pairs);
	assert_int_equal(b.n_nodes, a.n_nodes);
	assert_memory_equal(b.pairs, a.pairs, a.n_pairs * sizeof(a.pairs[0]));
	assert_memory_equal(b.nodes, a.nodes, a.n_nodes * sizeof(a.nodes[0]));
	free(buf);
	fl_stats_free(&b);
	/* a garbled line is refused */
	assert_int_equal(fl_stats_parse("pair n1 n2 4\n", &b), -EPROTO);
	fl_stats_free(&b);
	fl_stats_free(&a);
}

static void test_delta_and_sums(void **state)
{
	struct fl_stats a, b, d;
	struct fl_stats_total t;
	struct fl_pair_stat tx, rx;

	(void)state;
	stats_fill(&a, 1000, 1);
	stats_fill(&b, 1000, 3);
	assert_int_equal(fl_stats_delta(&b, &a, &d), 0);
	assert_true(d.since_ns == a.mono_ns && d.mono_ns == b.mono_ns);
	assert_int_equal(d.pairs[0].packets, 200);
	assert_int_equal(d.pairs[0].bytes, 302800);
	assert_int_equal(d.pairs[1].packets, 0); /* unchanged pair */
	assert_int_equal(d.nodes[0].tcp.out_segs, 190);
	assert_int_equal(d.nodes[0].tcp.retrans_segs, 10);
	assert_float_equal(fl_tcp_retrans_fraction(&d.nodes[0].tcp), 10.0 / 200, 1e-12);
	assert_true(isnan(fl_tcp_retrans_fraction(&d.nodes[1].tcp)));
	fl_stats_totals(&d, &t);
	assert_int_equal(t.packets, 200);
	assert_int_equal(t.tcp_payload, 289600);
	assert_int_equal(t.tcp_packets, 200);
	assert_int_equal(t.tcp.out_segs, 190);
	fl_stats_node_io(&b, "n1", &tx, &rx);
	assert_int_equal(tx.packets, 300);
	assert_int_equal(rx.packets, 10);
	assert_int_equal(rx.bytes, 660);
	fl_stats_free(&d);
	/* another supervisor since the base: pairs count from its start */
	fl_stats_free(&b);
	stats_fill(&b, 2000, 3);
	assert_int_equal(fl_stats_delta(&b, &a, &d), 1);
	assert_int_equal(d.pairs[0].packets, 300);
	assert_true(d.since_ns == 2000);
	assert_int_equal(d.nodes[0].tcp.out_segs, 190); /* node counters do not restart */
	fl_stats_free(&d);
	fl_stats_free(&a);
	fl_stats_free(&b);
}

static void test_names(void **state)
{
	char buf[16];

	(void)state;
	assert_string_equal(fl_stats_proto_name(4, 6, buf, sizeof(buf)), "tcp");
	assert_string_equal(fl_stats_proto_name(6, 17, buf, sizeof(buf)), "udp");
	assert_string_equal(fl_stats_proto_name(6, 58, buf, sizeof(buf)), "icmpv6");
	assert_string_equal(fl_stats_proto_name(4, 132, buf, sizeof(buf)), "ip-132");
	assert_string_equal(fl_stats_proto_name(0, 0, buf, sizeof(buf)), "non-ip");
	assert_string_equal(fl_stats_proto_name(255, 0, buf, sizeof(buf)), "overflow");
	/* every field of the printers' table has a distinct place */
	for (const struct fl_tcp_field *f = fl_tcp_fields; f->name; f++)
		for (const struct fl_tcp_field *g = f + 1; g->name; g++)
			assert_true(f->off != g->off);
}

static void test_print(void **state)
{
	struct fl_stats a;
	struct fl_out o = { .json = true };
	char *buf = NULL;
	size_t len = 0;

	(void)state;
	stats_fill(&a, 1000, 1);
	o.f = open_memstream(&buf, &len);
	if (!o.f) {
		fail();
		return;
	}
	fputc('{', o.f);
	fl_stats_print(&o, &a, true);
	fputs("}", o.f);
	fclose(o.f);
	assert_non_null(strstr(buf,
			       "{\"node\": \"n1\", \"sent\": {\"packets\": 100, \"bytes\": "
			       "151400, \"payload\": 144800}, \"received\": {\"packets\": 10"));
	assert_non_null(strstr(buf, "\"retrans_segs\": 5,"));
	assert_non_null(strstr(buf, "\"retrans_fraction\": 0.05}"));
	assert_non_null(strstr(buf, "{\"src\": \"*\", \"dst\": \"*\", \"family\": 0, \"proto\": "
				    "\"non-ip\", \"packets\": 2, \"bytes\": 84, \"payload\": 0}"));
	free(buf);
	/* text: a table, one line per node */
	o = (struct fl_out){ .f = open_memstream(&buf, &len) };
	fl_stats_print(&o, &a, false);
	fclose(o.f);
	assert_non_null(strstr(buf, "NODE "));
	assert_non_null(
		strstr(buf, "\nn1                  100       151400         10          660"));
	assert_null(strstr(buf, "PAYLOAD"));
	free(buf);
	fl_stats_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_parse),      cmocka_unit_test(test_text_form),
		cmocka_unit_test(test_delta_and_sums), cmocka_unit_test(test_names),
		cmocka_unit_test(test_print),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
