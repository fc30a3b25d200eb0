// SPDX-License-Identifier: MIT
/* Transport cost of a run from hand-made samples with known answers:
 * windows, interpolation between samples, the transport check, and
 * counters.jsonl written and read back. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "checks.h"
#include "scenario.h"
#include "transport.h"

#define S 1000000000ULL

static struct fl_run_data rd;

/* Bytes go at 1000/s, 3000/s while "lossy" is active (3 s to 5 s), then
 * 1000/s again; payload is half of it, all TCP; 10 segments/s, of which 2
 * retransmissions per second while lossy. */
static struct fl_stats_total at(double t)
{
	struct fl_stats_total x = { 0 };
	double b = t <= 3 ? 1000 * t : t <= 5 ? 3000 + 3000 * (t - 3) : 9000 + 1000 * (t - 5);

	x.bytes = (uint64_t)llround(b);
	x.packets = (uint64_t)llround(10 * t);
	x.payload = x.tcp_payload = x.bytes / 2;
	x.tcp.out_segs = (uint64_t)llround(10 * t);
	x.tcp.retrans_segs = t <= 3 ? 0 : t <= 5 ? (uint64_t)llround(2 * (t - 3)) : 4;
	x.tcp_packets = x.tcp.out_segs + x.tcp.retrans_segs; /* on the wire */
	x.tcp.rtos = t > 4 ? 1 : 0;
	return x;
}

static int setup(void **state)
{
	static const double ts[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 9.2 };
	static struct fl_span span = {
		.id = "lossy", .start_ns = 3 * S, .end_ns = 5 * S, .healed = true
	};

	(void)state;
	memset(&rd, 0, sizeof(rd));
	rd.start_ns = 1 * S;
	rd.end_ns = 9 * S;
	rd.spans = malloc(sizeof(span));
	if (!rd.spans)
		return -1;
	*rd.spans = span;
	rd.n_spans = 1;
	rd.ops = calloc(16, sizeof(*rd.ops));
	for (int k = 0; k < 16; k++) {
		struct fl_op *op = &rd.ops[k];

		op->start_ns = S + k * S / 2;
		op->end_ns = op->start_ns + S / 100;
		op->status = op->start_ns == 3 * S || op->start_ns == 7 * S / 2 ? FL_OP_FAIL :
										  FL_OP_OK;
		snprintf(op->node, sizeof(op->node), "n%d", k % 2 + 1);
	}
	rd.n_ops = 16;
	rd.samples = calloc(10, sizeof(*rd.samples));
	for (int i = 0; i < 10; i++) {
		rd.samples[i].mono_ns = (uint64_t)llround(ts[i] * S);
		rd.samples[i].tot = at(ts[i]);
	}
	rd.n_samples = 10;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fl_run_data_free(&rd);
	return 0;
}

static const struct fl_tcost *win(const struct fl_tcost *w, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(w[i].name, name))
			return &w[i];
	fail_msg("no window %s", name);
	abort(); /* not reached: fail_msg jumps out, but cmocka does not say so */
}

static void test_windows(void **state)
{
	const struct fl_tcost *c;
	struct fl_tcost *w = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(fl_tcost_windows(&rd, &w, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(w[0].name, "before");
	assert_string_equal(w[3].name, "run");
	c = win(w, n, "before"); /* [1 s, 3 s): 4 ops, 2000 bytes */
	assert_int_equal(c->ops_ok, 4);
	assert_int_equal(c->bytes, 2000);
	assert_float_equal(c->v[FL_TM_BYTES_PER_OP], 500, 1e-9);
	assert_float_equal(c->v[FL_TM_PACKETS_PER_OP], 5, 1e-9);
	assert_float_equal(c->v[FL_TM_RETRANSMITS], 0, 1e-12);
	assert_float_equal(c->v[FL_TM_GOODPUT], 0.5, 1e-12);
	c = win(w, n, "lossy"); /* [3 s, 5 s): 2 of 4 ops ok, 6000 bytes */
	assert_int_equal(c->ops_ok, 2);
	assert_int_equal(c->ops_all, 4);
	assert_float_equal(c->v[FL_TM_BYTES_PER_OP], 3000, 1e-9);
	assert_int_equal(c->retrans_segs, 4);
	assert_float_equal(c->v[FL_TM_RETRANSMITS], 4.0 / 24, 1e-12);
	assert_float_equal(c->v[FL_TM_GOODPUT], 0.5 * (1 - 4.0 / 24), 1e-12);
	assert_int_equal(c->rtos, 1);
	/* after: up to the last sample (after the load stopped), 8 ops */
	c = win(w, n, "after");
	assert_true(c->start_ns == 5 * S && c->end_ns == 9200000000ULL);
	assert_int_equal(c->ops_ok, 8);
	assert_int_equal(c->bytes, 4200);
	c = win(w, n, "run");
	assert_int_equal(c->ops_ok, 14);
	assert_int_equal(c->bytes, 12200);
	assert_float_equal(c->seconds, 8.2, 1e-9);
	free(w);
}

static void test_interpolation(void **state)
{
	struct fl_tparts p = { .a = { 5 * S / 2 }, .b = { 7 * S / 2 }, .n = 1 };
	struct fl_tcost c;

	(void)state;
	/* between samples the counters grow linearly: 2500 at 2.5 s, 4500 at
	 * 3.5 s */
	fl_tcost_over(&rd, &p, NULL, &c);
	assert_int_equal(c.bytes, 2000);
	assert_int_equal(c.ops_ok, 1); /* 2.5 s ok, 3.0 s failed */
	/* outside the samples: nothing grows */
	p.a[0] = 0;
	p.b[0] = S / 2;
	fl_tcost_over(&rd, &p, NULL, &c);
	assert_int_equal(c.bytes, 0);
	assert_true(isnan(c.v[FL_TM_BYTES_PER_OP]));
}

static struct fl_check_result eval(const char *text)
{
	static struct fl_scenario *s;
	struct fl_check_result r;
	char y[512];
	struct fl_err err = { "" };

	snprintf(y, sizeof(y),
		 "name: c\nduration: 10s\ntimeline:\n"
		 "  - {at: 2s, id: lossy, fault: {kind: loss, loss: 5%%}}\n"
		 "  - {at: 4s, heal: lossy}\nchecks:\n  - %s\n",
		 text);
	fl_scenario_free(s);
	s = NULL;
	if (fl_scenario_load("c.yaml", y, &s, &err))
		fail_msg("%s", err.msg);
	fl_check_eval(&s->checks[0], &rd, &r);
	return r;
}

static void test_check(void **state)
{
	struct fl_check_result r;
	char msg[640];

	(void)state;
	r = eval("transport: {bytes_per_op: \"< 4kb\", retransmits: \"< 5%\", during: lossy}");
	assert_false(r.pass);
	assert_string_equal(r.measured_text, "bytes_per_op 2.93kb, retransmits 16.67%");
	assert_string_equal(r.ck->name,
			    "transport bytes_per_op < 4kb, retransmits < 5% during lossy");
	fl_check_message(&r, msg, sizeof(msg));
	assert_string_equal(msg, "measured bytes_per_op 2.93kb, retransmits 16.67% (during lossy: "
				 "2.000s, 2 of 4 ops ok, 6000 bytes in 20 packets, 4 "
				 "retransmissions in 24 TCP packets), bound bytes_per_op < 4kb, "
				 "retransmits < 5%");
	r = eval("transport: {bytes_per_op: \"4kb\", during: lossy}"); /* bare: at most */
	assert_true(r.pass);
	assert_float_equal(r.measured, 3000, 1e-9);
	r = eval("transport: {bytes_per_op: \"<= 600b\", outside: lossy}");
	assert_true(r.pass);
	assert_float_equal(r.measured, (2000 + 4200) / 12.0, 1e-9);
	r = eval("transport: {packets_per_op: \"< 5\"}");
	assert_false(r.pass);
	assert_float_equal(r.measured, 82.0 / 14, 1e-9);
	r = eval("transport: {goodput: \"0.45\"}"); /* bare: at least */
	assert_true(r.pass);
	assert_float_equal(r.measured, 0.5 * (1 - 4.0 / 86), 1e-9);
	r = eval("transport: {retransmits: \"< 1%\", op: put}");
	assert_false(r.pass);
	/* no samples: nothing measured, the check fails */
	{
		struct fl_run_data empty = rd;

		empty.n_samples = 0;
		r = eval("transport: {bytes_per_op: \"< 4kb\"}");
		fl_check_eval(r.ck, &empty, &r);
		assert_false(r.pass);
		assert_string_equal(r.measured_text, "n/a");
	}
}

static void test_parse_errors(void **state)
{
	static const struct {
		const char *check, *msg;
	} bad[] = {
		{ "transport: {during: lossy}",
		  "c.yaml:6:16: 'transport' needs a bound: bytes_per_op, packets_per_op, "
		  "retransmits or goodput" },
		{ "transport: {bytes_per_op: \"< 4 parsecs\"}",
		  "c.yaml:6:32: bad bound '< 4 parsecs'" },
		{ "transport: {bytes_per_ops: \"< 4kb\"}",
		  "c.yaml:6:17: unknown key 'bytes_per_ops' in 'transport' (did you mean "
		  "'bytes_per_op'?)" },
		{ "transport: {retransmits: \"< 5%\", during: nope}",
		  "c.yaml:6:46: 'nope' names no step of the timeline" },
		{ "transport: \"< 4kb\"",
		  "c.yaml:6:17: 'transport' must be a mapping, not a scalar" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fl_scenario *s = NULL;
		struct fl_err err = { "" };
		char y[512];

		snprintf(y, sizeof(y),
			 "name: c\nduration: 10s\ntimeline:\n"
			 "  - {at: 2s, id: lossy, fault: {kind: loss, loss: 5%%}}\n"
			 "checks:\n  - %s\n",
			 bad[i].check);
		assert_int_equal(fl_scenario_load("c.yaml", y, &s, &err), -EINVAL);
		if (strncmp(err.msg, bad[i].msg, strlen(bad[i].msg)))
			fail_msg("case %zu: got\n  %s\nwant\n  %s", i, err.msg, bad[i].msg);
	}
}

static void test_samples_file(void **state)
{
	static const char text[] = "mono 7000000000\nsince 1000\n"
				   "pair n1 n2 4 6 100 151400 144800\n"
				   "pair n2 n1 6 17 3 300 200\n"
				   "tcp n1 1 0 10 95 5 0 1 2 3 4 0 5\n"
				   "tcp n2 0 1 100 10 0 0 0 0 0 0 0 0\n";
	char path[] = "/tmp/fl-test-samples.XXXXXX";
	struct fl_run_data r = { 0 };
	struct fl_stats s = { 0 };
	struct fl_err err = { "" };
	FILE *f;
	int fd;

	(void)state;
	assert_int_equal(fl_stats_parse(text, &s), 0);
	fd = mkstemp(path);
	f = fdopen(fd, "w");
	fl_sample_write(f, &s, 42, "tick");
	s.mono_ns = 6000000000ULL; /* an earlier one, written later: read back in order */
	fl_sample_write(f, &s, 41, "step");
	fclose(f);
	if (fl_samples_load(path, &r, &err))
		fail_msg("%s", err.msg);
	unlink(path);
	assert_int_equal(r.n_samples, 2);
	assert_true(r.samples[0].mono_ns == 6000000000ULL);
	assert_int_equal(r.samples[1].tot.packets, 103);
	assert_int_equal(r.samples[1].tot.bytes, 151700);
	assert_int_equal(r.samples[1].tot.tcp_payload, 144800);
	assert_int_equal(r.samples[1].tot.tcp_packets, 100);
	assert_int_equal(r.samples[1].tot.payload, 145000);
	assert_int_equal(r.samples[1].tot.tcp.out_segs, 105);
	assert_int_equal(r.samples[1].tot.tcp.retrans_segs, 5);
	assert_int_equal(r.samples[1].tot.tcp.reorder, 5);
	fl_run_data_free(&r);
	assert_int_equal(fl_samples_load("/nonexistent/counters.jsonl", &r, &err), -ENOENT);
	fl_stats_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_windows),	     cmocka_unit_test(test_interpolation),
		cmocka_unit_test(test_check),	     cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_samples_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
