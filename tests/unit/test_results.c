// SPDX-License-Identifier: MIT
/* Results writers: JSON escaping, summary.json round trip, JUnit XML
 * validated with xmllint against tests/data/junit.xsd, TAP. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "results.h"

static struct fl_case cases[] = {
	{ "availability >= 0.95", "availability", true, "0.99", ">= 0.95",
	  "measured 0.99 (99 of 100 ops ok), bound >= 0.95", "", "", false },
	{ "latency p99 < 1s during \"cut\" & <x>", "latency", false, "2.000s", "< 1s",
	  "measured 2.000s (over 10 ops), bound < 1s",
	  "[{\"why\":\"stale read\",\"line\":3,\"f\":\"cas\",\"value\":[null,\"a \\\"b\\\"\"],"
	  "\"type\":\"ok\",\"ok\":true,\"start_ns\":1e3}]",
	  "stale read: process 2 cas r1 \"b\" (ops.jsonl:3)\n", false },
	{ "linearizable", "linearizable", false, "skipped", "linearizable (register model)",
	  "skipped: target http records no values", "", "", true },
};

static void suite(struct fl_suite *s, const char *name, bool error)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->target, sizeof(s->target), "http");
	snprintf(s->fallacy, sizeof(s->fallacy), "reliable");
	snprintf(s->dir, sizeof(s->dir), "results/x");
	snprintf(s->timestamp, sizeof(s->timestamp), "2026-01-02T03:04:05Z");
	s->seed = 42;
	s->seconds = 12.5;
	s->ops_ok = 99;
	s->ops_timeout = 1;
	s->cases = cases;
	s->n_cases = 3;
	if (error)
		snprintf(s->error, sizeof(s->error),
			 "target 'http' was not ready within 5s\ttab\r\n\b\f\x01\x7f");
}

static void test_summary_round_trip(void **state)
{
	char path[] = "/tmp/fl-test-summary.XXXXXX";
	struct fl_suite s, back;
	struct fl_err err = { "" };
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	suite(&s, "round-trip", true);
	assert_int_equal(fl_summary_write(path, &s), 0);
	if (fl_summary_load(path, &back, &err))
		fail_msg("%s", err.msg);
	assert_string_equal(back.name, "round-trip");
	assert_string_equal(back.error, s.error);
	assert_int_equal(back.seed, 42);
	assert_int_equal(back.ops_ok, 99);
	assert_int_equal(back.n_cases, 3);
	assert_string_equal(back.cases[1].name, cases[1].name);
	assert_false(back.cases[1].pass);
	assert_true(back.cases[0].pass);
	assert_false(back.cases[0].skipped || back.cases[1].skipped);
	assert_string_equal(back.cases[1].bound, "< 1s");
	/* a history check's offending operations come back as written (the
	 * report draws them again) */
	assert_string_equal(back.cases[1].offending, cases[1].offending);
	assert_string_equal(back.cases[1].offending_text, cases[1].offending_text);
	assert_string_equal(back.cases[0].offending, "");
	/* a skipped check is neither passed nor failed, and says why */
	assert_true(back.cases[2].skipped);
	assert_false(back.cases[2].pass);
	assert_string_equal(back.cases[2].message, "skipped: target http records no values");
	assert_int_equal(fl_suite_failures(&back), 1);
	assert_int_equal(fl_suite_skipped(&back), 1);
	assert_false(fl_suite_pass(&back));
	back.error[0] = 0;
	back.cases[1].pass = true;
	assert_true(fl_suite_pass(&back)); /* the skipped check does not fail the run */
	fl_suite_free_cases(&back);
	unlink(path);
}

static void test_junit_valid(void **state)
{
	char path[] = "/tmp/fl-test-junit.XXXXXX", cmd[512];
	struct fl_suite s[2];
	int fd = mkstemp(path);
	FILE *f;
	char buf[8192];
	size_t n;

	(void)state;
	if (system("command -v xmllint >/dev/null 2>&1"))
		skip();
	assert_true(fd >= 0);
	close(fd);
	suite(&s[0], "network-is-reliable", false);
	suite(&s[1], "latency-is-zero", true);
	assert_int_equal(fl_junit_write(path, s, 2), 0);
	snprintf(cmd, sizeof(cmd), "xmllint --noout --schema tests/data/junit.xsd %s 2>&1", path);
	assert_int_equal(system(cmd), 0);
	f = fopen(path, "r");
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	assert_non_null(
		strstr(buf, "<testsuites name=\"fallacy\" tests=\"7\" failures=\"2\" errors=\"1\" "
			    "skipped=\"2\""));
	assert_non_null(strstr(buf, "failures=\"1\" errors=\"0\" skipped=\"1\""));
	assert_non_null(strstr(buf, "name=\"linearizable\" time=\"0\">\n      <skipped "
				    "message=\"skipped: target http records no values\"/>"));
	assert_non_null(
		strstr(buf, "<failure message=\"measured 2.000s (over 10 ops), bound &lt; 1s\""));
	assert_non_null(strstr(buf, "during &quot;cut&quot; &amp; &lt;x&gt;"));
	unlink(path);
}

static void test_tap(void **state)
{
	struct fl_suite s;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	(void)state;
	suite(&s, "t", false);
	fl_tap_write(f, &s, 1);
	fclose(f);
	assert_non_null(strstr(out, "TAP version 13\n1..3\nok 1 - t: availability >= 0.95\n"));
	assert_non_null(strstr(out, "not ok 2 - t: latency p99"));
	assert_non_null(
		strstr(out, "ok 3 - t: linearizable # SKIP target http records no values\n"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summary_round_trip),
		cmocka_unit_test(test_junit_valid),
		cmocka_unit_test(test_tap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
