// SPDX-License-Identifier: MIT
/* Checks over hand-made ops.jsonl/events.jsonl with known answers. */
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

#define S 1000000000ULL

static char dir[64], ops_file[128], ev_file[128];
static struct fl_run_data rd;
static struct fl_scenario *sc;

/* 14 ops every 0.5 s from t=1 s; those starting in [3 s, 5 s] time out
 * (0.4 s); the others succeed in 10 ms. Fault "cut" from 3 s to 5 s. */
static int setup(void **state)
{
	static const char y[] = "name: c\nduration: 10s\ntimeline:\n"
				"  - {at: 2s, id: cut, partition: [[n1], [n2]]}\n"
				"  - {at: 4s, heal: cut}\n";
	struct fl_err err;
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/fl-test-checks.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(ops_file, sizeof(ops_file), "%s/ops.jsonl", dir);
	snprintf(ev_file, sizeof(ev_file), "%s/events.jsonl", dir);
	f = fopen(ev_file, "w");
	if (!f)
		return -1;
	fprintf(f, "{\"mono_ns\":%llu,\"wall_ns\":1,\"event\":\"start\"}\n", 1 * S);
	fprintf(f,
		"{\"mono_ns\":%llu,\"wall_ns\":1,\"event\":\"partition\",\"id\":\"cut\","
		"\"spec\":\"partition n1 n2\"}\n",
		3 * S);
	fprintf(f,
		"{\"mono_ns\":%llu,\"wall_ns\":1,\"event\":\"heal\",\"id\":\"cut\",\"counters\":{}}\n",
		5 * S);
	fprintf(f, "{\"mono_ns\":%llu,\"wall_ns\":1,\"event\":\"end\"}\n", 8 * S);
	fclose(f);
	f = fopen(ops_file, "w");
	if (!f)
		return -1;
	for (int k = 0; k < 14; k++) {
		uint64_t t = S + k * S / 2;
		int bad = t >= 3 * S && t <= 5 * S;

		fprintf(f,
			"{\"start_ns\":%llu,\"end_ns\":%llu,\"node\":\"n%d\",\"op\":\"%s\","
			"\"status\":\"%s\",\"latency_ns\":0}\n",
			(unsigned long long)t,
			(unsigned long long)(t + (bad ? 4 * S / 10 : S / 100)), k % 2 + 1,
			k % 2 ? "get" : "put", bad ? "timeout" : "ok");
	}
	fclose(f);
	if (fl_run_data_load(ops_file, ev_file, &rd, &err))
		return -1;
	return fl_scenario_load("c.yaml", y, &sc, &err);
}

static int teardown(void **state)
{
	(void)state;
	fl_run_data_free(&rd);
	fl_scenario_free(sc);
	unlink(ops_file);
	unlink(ev_file);
	rmdir(dir);
	return 0;
}

static void eval(const char *text, struct fl_check_result *r)
{
	static struct fl_scenario *s;
	char y[512];
	struct fl_err err = { "" };

	snprintf(y, sizeof(y),
		 "name: c\nduration: 10s\ntimeline:\n"
		 "  - {at: 2s, id: cut, partition: [[n1], [n2]]}\n"
		 "  - {at: 4s, heal: cut}\nchecks:\n  - %s\n",
		 text);
	fl_scenario_free(s);
	s = NULL;
	if (fl_scenario_load("c.yaml", y, &s, &err)) {
		fail_msg("%s", err.msg);
		abort(); /* not reached: fail_msg jumps out, but cmocka does not say so */
	}
	fl_check_eval(&s->checks[0], &rd, r);
}

static void test_load(void **state)
{
	(void)state;
	assert_int_equal(rd.n_ops, 14);
	assert_int_equal(rd.n_spans, 1);
	assert_true(rd.spans[0].start_ns == 3 * S && rd.spans[0].end_ns == 5 * S);
	assert_true(rd.start_ns == 1 * S && rd.end_ns == 8 * S);
	assert_int_equal(rd.n_heals, 1);
}

/* Any applied step that heals opens a window (its event has the step's
 * words, "spec"), not only faults: an admin step's heal closes it; a step
 * with nothing to heal (inject) and events without a spec (ready,
 * target-stop) open none. */
static void test_step_windows(void **state)
{
	struct fl_run_data d;
	struct fl_err err;
	char f2[160];
	FILE *f;

	(void)state;
	snprintf(f2, sizeof(f2), "%s/events2.jsonl", dir);
	f = fopen(f2, "w");
	assert_non_null(f);
	fprintf(f, "{\"mono_ns\":%llu,\"wall_ns\":1,\"event\":\"ready\",\"id\":\"n1\"}\n", 1 * S);
	fprintf(f,
		"{\"mono_ns\":%llu,\"wall_ns\":1,\"event\":\"admin\",\"id\":\"fw\","
		"\"spec\":\"n2 firewall drop --port 2380\",\"late_ns\":5,\"apply_ns\":7}\n",
		2 * S);
	fprintf(f,
		"{\"mono_ns\":%llu,\"wall_ns\":1,\"event\":\"inject\",\"id\":\"forge\","
		"\"spec\":\"--to n1 --proto udp --port 9 --payload 00\",\"late_ns\":5,"
		"\"apply_ns\":7}\n",
		3 * S);
	fprintf(f, "{\"mono_ns\":%llu,\"wall_ns\":1,\"event\":\"heal\",\"id\":\"fw\"}\n", 6 * S);
	fclose(f);
	assert_int_equal(fl_run_data_load(ops_file, f2, &d, &err), 0);
	assert_int_equal(d.n_spans, 1);
	assert_string_equal(d.spans[0].id, "fw");
	assert_true(d.spans[0].start_ns == 2 * S && d.spans[0].end_ns == 6 * S);
	fl_run_data_free(&d);
	unlink(f2);
}

/* on: picked / unpicked: the nodes the window's step names (its words,
 * selectors resolved) and every other node of the run. */
static void test_on_picked(void **state)
{
	static const char y[] = "name: c\nduration: 10s\ntimeline:\n"
				"  - {at: 1s, id: fw, admin: {node: follower, firewall: {action: "
				"drop, port: 2380}}}\n"
				"checks:\n"
				"  - availability: {bound: \">= 0.5\", during: fw, on: picked}\n"
				"  - availability: {bound: \">= 0.5\", during: fw, on: unpicked}\n";
	struct fl_scenario *s = NULL;
	struct fl_check_result r;
	struct fl_run_data d;
	struct fl_err err = { "" };
	char f2[160];
	FILE *f;

	(void)state;
	snprintf(f2, sizeof(f2), "%s/events3.jsonl", dir);
	f = fopen(f2, "w");
	assert_non_null(f);
	for (int n = 1; n <= 2; n++)
		fprintf(f,
			"{\"mono_ns\":%llu,\"wall_ns\":1,\"event\":\"target-start\",\"id\":\"n%d\"}\n",
			S / 2, n);
	fprintf(f,
		"{\"mono_ns\":%llu,\"wall_ns\":1,\"event\":\"admin\",\"id\":\"fw\","
		"\"spec\":\"n2 firewall drop --port 2380\",\"late_ns\":5,\"apply_ns\":7}\n",
		2 * S);
	fprintf(f, "{\"mono_ns\":%llu,\"wall_ns\":1,\"event\":\"heal\",\"id\":\"fw\"}\n", 6 * S);
	fprintf(f, "{\"mono_ns\":%llu,\"wall_ns\":1,\"event\":\"end\"}\n", 8 * S);
	fclose(f);
	assert_int_equal(fl_run_data_load(ops_file, f2, &d, &err), 0);
	assert_int_equal(fl_scenario_load("c.yaml", y, &s, &err), 0);
	fl_check_eval(&s->checks[0], &d, &r); /* n2: 2 of its 4 ops in [2 s, 6 s] */
	assert_string_equal(r.measured_text, "0.5");
	assert_true(r.pass);
	fl_check_eval(&s->checks[1], &d, &r); /* n1: 1 of 4 */
	assert_string_equal(r.measured_text, "0.25");
	assert_false(r.pass);
	fl_scenario_free(s);
	s = NULL;
	assert_int_equal(fl_scenario_load("c.yaml",
					  "name: c\nduration: 10s\nchecks:\n"
					  "  - availability: {bound: \">= 0.5\", on: picked}\n",
					  &s, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "c.yaml:4:41: 'on: picked' and 'on: unpicked' are"));
	fl_run_data_free(&d);
	unlink(f2);
}

static void test_availability(void **state)
{
	struct fl_check_result r;

	(void)state;
	eval("availability: \">= 0.6\"", &r);
	assert_true(r.pass);
	assert_float_equal(r.measured, 9.0 / 14, 1e-9);
	assert_string_equal(r.detail, "9 of 14 ops ok");
	eval("availability: {bound: \"< 1\", during: cut}", &r);
	assert_true(r.pass);
	assert_float_equal(r.measured, 0, 1e-9);
	eval("availability: {bound: \">= 0.95\", outside: faults}", &r);
	assert_false(r.pass);
	assert_float_equal(r.measured, 0.9, 1e-9);
	eval("availability: {bound: \">= 0.5\", on: n2}", &r);
	assert_float_equal(r.measured, 5.0 / 7, 1e-9); /* n2 at 1.5..7.5 s; 3.5, 4.5 fail */
	assert_string_equal(r.ck->name, "availability >= 0.5 on n2");
	eval("availability: {bound: \">= 0.5\", on: [n1, n2], during: cut}", &r);
	assert_float_equal(r.measured, 0, 1e-9);
	eval("availability: {bound: \">= 0.5\", op: put}", &r);
	assert_float_equal(r.measured, 4.0 / 7, 1e-9); /* put at 1..7 s; 3, 4, 5 s fail */
}

static void test_latency(void **state)
{
	struct fl_check_result r;

	(void)state;
	eval("latency: {p50: \"< 20ms\"}", &r);
	assert_true(r.pass);
	assert_float_equal(r.measured, 0.01, 1e-9);
	eval("latency: {p99: \"< 100ms\"}", &r);
	assert_false(r.pass);
	assert_float_equal(r.measured, 0.4, 1e-9);
	eval("latency: {p90: \"<= 10ms\", outside: cut}", &r);
	assert_true(r.pass);
	eval("latency: {max: \"< 1s\", during: cut}", &r);
	assert_true(r.pass);
	assert_float_equal(r.measured, 0.4, 1e-9);
}

static void test_progress(void **state)
{
	struct fl_check_result r;

	(void)state;
	eval("progress: \">= 1\"", &r);
	assert_true(r.pass);
	assert_float_equal(r.measured, 9.0 / 7, 1e-9);
	eval("progress: {bound: \"> 0\", during: cut}", &r);
	assert_false(r.pass);
	assert_float_equal(r.measured, 0, 1e-9);
}

static void test_recovery(void **state)
{
	struct fl_check_result r;
	char msg[512];

	(void)state;
	eval("recovery: {within: 1s, after: cut}", &r);
	assert_true(r.pass);
	assert_float_equal(r.measured, 0.51, 1e-9);
	eval("recovery: {within: 1s, rate: \">= 1\", window: 1s}", &r);
	assert_true(r.pass);
	assert_float_equal(r.measured, 0.51, 1e-9);
	eval("recovery: {within: 400ms}", &r);
	assert_false(r.pass);
	fl_check_message(&r, msg, sizeof(msg));
	assert_string_equal(msg,
			    "measured 0.510s (first ok op 0.510s after the heal), bound <= 0.400s");
}

/* A step never healed (a join that ended a leave): recovery counts from
 * the step's own event. */
static void test_recovery_after_step(void **state)
{
	static const char y[] = "name: c\nduration: 10s\ntimeline:\n"
				"  - {at: 2s, id: cut, partition: [[n1], [n2]]}\n"
				"  - {at: 4s, id: rejoin, join: n3}\nchecks:\n"
				"  - recovery: {within: 1s, after: rejoin}\n";
	struct fl_span extra = { .id = "rejoin", .start_ns = 5400000000ULL, .end_ns = 8 * S };
	struct fl_scenario *s = NULL;
	struct fl_check_result r;
	struct fl_err err = { "" };
	char msg[512];

	(void)state;
	if (fl_scenario_load("c.yaml", y, &s, &err))
		fail_msg("%s", err.msg);
	rd.spans = realloc(rd.spans, (rd.n_spans + 1) * sizeof(*rd.spans));
	rd.spans[rd.n_spans++] = extra;
	fl_check_eval(&s->checks[0], &rd, &r);
	rd.n_spans--;
	fl_check_message(&r, msg, sizeof(msg));
	assert_string_equal(msg,
			    "measured 0.110s (first ok op 0.110s after the step), bound <= 1.000s");
	assert_true(r.pass);
	fl_scenario_free(s);
}

static void test_status_and_percentile(void **state)
{
	static const double v[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	struct fl_check_result r;
	struct fl_check ck = { .kind = FL_CHECK_COMMAND, .expect = 0 };

	(void)state;
	fl_check_eval_status(&ck, 3, NULL, &r);
	assert_false(r.pass);
	assert_string_equal(r.measured_text, "exit 3");
	fl_check_eval_status(&ck, 0, NULL, &r);
	assert_true(r.pass);
	assert_float_equal(fl_percentile(v, 10, 50), 5, 0);
	assert_float_equal(fl_percentile(v, 10, 99), 10, 0);
	assert_float_equal(fl_percentile(v, 10, 0), 1, 0);
	assert_true(isnan(fl_percentile(v, 0, 50)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_step_windows),
		cmocka_unit_test(test_on_picked),
		cmocka_unit_test(test_availability),
		cmocka_unit_test(test_latency),
		cmocka_unit_test(test_progress),
		cmocka_unit_test(test_recovery),
		cmocka_unit_test(test_recovery_after_step),
		cmocka_unit_test(test_status_and_percentile),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
