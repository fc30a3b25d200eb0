// SPDX-License-Identifier: MIT
/* The scenario checks over a run's history: linearizable, lost-writes and
 * stale-reads on hand-made ops.jsonl files (each anomaly, a correct one,
 * bounds, nothing to judge), their offending operations, and their YAML. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "results.h"
#include "scenario.h"

/* One whole operation of ops.jsonl on register r. */
#define OP(s, e, p, type, f, v)                                                                  \
	"{\"start_ns\":" #s ",\"end_ns\":" #e ",\"node\":\"n1\",\"op\":\"x\",\"status\":\"ok\"," \
	"\"process\":" #p ",\"type\":\"" type "\",\"f\":\"" f "\",\"key\":\"r\",\"value\":" v    \
	"}\n"

static char dir[] = "/tmp/fl-hchk-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[64];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* what the run says the target cannot show (rd.no_history), "" none */
static const char *no_history = "";

/* Evaluate check kind over ops (heal: the last heal, 0 none). */
static void eval(enum fl_check_kind kind, const char *bound, const char *ops, uint64_t heal,
		 struct fl_check_result *res)
{
	struct fl_check ck = { .kind = kind };
	struct fl_run_data rd = { .start_ns = 0 };
	struct fl_err err = { "" };
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/ops.jsonl", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(ops, f);
	fclose(f);
	snprintf(rd.dir, sizeof(rd.dir), "%s", dir);
	snprintf(rd.no_history, sizeof(rd.no_history), "%s", no_history);
	rd.heals = heal ? &heal : NULL;
	rd.n_heals = heal ? 1 : 0;
	if (fl_bound_parse(bound, false, &ck.bound, &err))
		fail_msg("%s", err.msg);
	memset(res, 0, sizeof(*res));
	res->ck = &ck;
	fl_check_eval_history(&ck, &rd, res);
	res->ck = NULL;
}

static const char correct[] = OP(10, 20, 1, "ok", "write", "1") OP(15, 30, 2, "ok", "read", "1")
	OP(40, 50, 1, "ok", "cas", "[1,2]") OP(60, 70, 2, "ok", "read", "2")
		OP(65, 300, 3, "info", "write", "3") /* unknown: may or may not have happened */
	OP(200, 210, 1, "ok", "read", "2") OP(220, 230, 2, "ok", "read", "3");

static void test_correct_history_passes_all(void **state)
{
	struct fl_check_result res;

	(void)state;
	eval(FL_CHECK_LINEARIZABLE, "== 0", correct, 100, &res);
	assert_true(res.pass);
	assert_string_equal(res.measured_text, "linearizable");
	assert_non_null(strstr(res.detail, "7 operations, 1 keys"));
	assert_string_equal(res.offending, "");
	eval(FL_CHECK_STALE_READS, "== 0", correct, 100, &res);
	assert_true(res.pass);
	assert_string_equal(res.measured_text, "0");
	eval(FL_CHECK_LOST_WRITES, "== 0", correct, 100, &res);
	assert_true(res.pass);
	assert_non_null(strstr(res.detail, "2 final reads"));
}

/* 2 replaced 1 before the read began; the read returned 1 */
static const char stale[] = OP(10, 20, 1, "ok", "write", "1") OP(30, 40, 1, "ok", "write", "2")
	OP(50, 60, 2, "ok", "read", "1") OP(70, 80, 2, "ok", "read", "2");

static void test_stale_read_detected_with_its_operations(void **state)
{
	struct fl_check_result res;

	(void)state;
	eval(FL_CHECK_STALE_READS, "== 0", stale, 0, &res);
	assert_false(res.pass);
	assert_int_equal((int)res.measured, 1);
	/* the read, the write it missed, the write of what it read */
	assert_non_null(strstr(res.offending, "[{\"why\":\"stale read\",\"line\":3,\"process\":2,"
					      "\"f\":\"read\",\"key\":\"r\",\"value\":1,"));
	assert_non_null(strstr(res.offending, "{\"why\":\"newer write it missed\",\"line\":2,"));
	assert_non_null(strstr(res.offending, "{\"why\":\"write of the value read\",\"line\":1,"));
	assert_int_equal(res.offending[strlen(res.offending) - 1], ']');
	assert_non_null(strstr(res.offending_text, "stale read: process 2 read r 1 (ops.jsonl:3)"));
	/* a bound that allows one */
	eval(FL_CHECK_STALE_READS, "<= 1", stale, 0, &res);
	assert_true(res.pass);
	eval(FL_CHECK_LINEARIZABLE, "== 0", stale, 0, &res);
	assert_false(res.pass);
	assert_string_equal(res.measured_text, "not linearizable");
	assert_non_null(strstr(res.offending, "\"why\":\"cannot be linearized\",\"line\":3"));
	/* a read concurrent with the newer write is not stale */
	eval(FL_CHECK_STALE_READS, "== 0",
	     OP(10, 20, 1, "ok", "write", "1") OP(30, 55, 1, "ok", "write", "2")
		     OP(50, 60, 2, "ok", "read", "1"),
	     0, &res);
	assert_true(res.pass);
	/* nothing read after an acknowledged write: stale too */
	eval(FL_CHECK_STALE_READS, "== 0",
	     OP(10, 20, 1, "ok", "write", "1") OP(30, 40, 2, "ok", "read", "null"), 0, &res);
	assert_int_equal((int)res.measured, 1);
}

/* 1 then 2 acknowledged; after the heal (at 100) a read still sees 1 */
static const char lost[] = OP(10, 20, 1, "ok", "write", "1") OP(30, 40, 1, "ok", "write", "2")
	OP(35, 45, 3, "fail", "write", "4") /* failed: not acknowledged */
	OP(50, 60, 2, "ok", "read", "2") OP(150, 160, 2, "ok", "read", "1");

/* The report draws the listed operations, each once, the read in red. */
static void test_report_draws_the_offending_operations(void **state)
{
	struct fl_check_result res;
	struct fl_case c;
	char *buf = NULL;
	size_t len = 0, rects = 0;
	FILE *f;

	(void)state;
	eval(FL_CHECK_STALE_READS, "== 0", stale, 0, &res);
	memset(&c, 0, sizeof(c));
	snprintf(c.offending, sizeof(c.offending), "%s", res.offending);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	fl_report_offending(f, &c);
	fclose(f);
	for (const char *p = buf; (p = strstr(p, "<rect ")); p++)
		rects++;
	assert_int_equal(rects, 3); /* the read, the write it missed, the write of 1 */
	assert_non_null(strstr(buf, "fill=\"#e05050\"><title>stale read: read 1 (line 3)"));
	assert_non_null(strstr(buf, ">process 2</text>"));
	free(buf);
	c.offending[0] = 0; /* nothing listed: nothing drawn */
	buf = NULL;
	f = open_memstream(&buf, &len);
	fl_report_offending(f, &c);
	fclose(f);
	assert_int_equal(len, 0);
	free(buf);
}

static void test_lost_write_detected_after_the_heal(void **state)
{
	struct fl_check_result res;

	(void)state;
	eval(FL_CHECK_LOST_WRITES, "== 0", lost, 100, &res);
	assert_false(res.pass);
	assert_int_equal((int)res.measured, 1);
	assert_non_null(strstr(res.offending, "[{\"why\":\"lost write\",\"line\":2,\"process\":1,"
					      "\"f\":\"write\",\"key\":\"r\",\"value\":2,"));
	assert_non_null(
		strstr(res.offending, "{\"why\":\"final read that misses it\",\"line\":5,"));
	assert_non_null(strstr(res.detail, "1 final reads"));
	/* the read before the heal is not a final read: only what follows the
	 * heal judges; a heal after every read leaves nothing to judge */
	eval(FL_CHECK_LOST_WRITES, "== 0", lost, 500, &res);
	assert_false(res.pass);
	assert_non_null(strstr(res.detail, "no read began after the last heal"));
	/* a final read of a newer value: nothing lost (1 was overwritten) */
	eval(FL_CHECK_LOST_WRITES, "== 0",
	     OP(10, 20, 1, "ok", "write", "1") OP(30, 40, 1, "ok", "write", "2")
		     OP(150, 160, 2, "ok", "read", "2"),
	     100, &res);
	assert_true(res.pass);
	assert_string_equal(res.offending, "");
}

static void test_no_history_is_a_failure_that_says_why(void **state)
{
	struct fl_check_result res;

	(void)state;
	eval(FL_CHECK_STALE_READS, "== 0",
	     "{\"start_ns\":1,\"end_ns\":2,\"node\":\"n1\",\"op\":\"put\",\"status\":\"ok\","
	     "\"process\":1,\"type\":\"ok\"}\n",
	     0, &res);
	assert_false(res.pass);
	assert_true(isnan(res.measured));
	assert_string_equal(res.measured_text, "no history");
	assert_non_null(strstr(res.detail, "the target's ops need f"));
	eval(FL_CHECK_LINEARIZABLE, "== 0", OP(10, 20, 1, "ok", "read", "[1,2]"), 0, &res);
	assert_false(res.pass);
	assert_non_null(strstr(res.detail, "ops.jsonl:1:"));
}

/* A target whose ops record no values: each history check is skipped,
 * neither passed nor failed, and says why (even over a history that would
 * fail: the target file decides, not what ops.jsonl happens to hold). */
static void test_a_target_without_values_skips_the_checks(void **state)
{
	static const enum fl_check_kind kinds[] = { FL_CHECK_LINEARIZABLE, FL_CHECK_STALE_READS,
						    FL_CHECK_LOST_WRITES };
	struct fl_check_result res;
	char msg[256];

	(void)state;
	no_history = "target http records no values";
	for (size_t i = 0; i < 3; i++) {
		eval(kinds[i], "== 0", stale, 0, &res);
		assert_true(res.skipped);
		assert_false(res.pass);
		assert_string_equal(res.measured_text, "skipped");
		assert_string_equal(res.detail, "target http records no values");
		assert_string_equal(res.offending, "");
	}
	res.ck = &(struct fl_check){ .kind = FL_CHECK_LINEARIZABLE };
	fl_check_message(&res, msg, sizeof(msg));
	assert_string_equal(msg, "skipped: target http records no values");
	no_history = "";
	eval(FL_CHECK_STALE_READS, "== 0", stale, 0, &res);
	assert_false(res.skipped);
	assert_false(res.pass);
}

static void test_yaml_of_the_checks(void **state)
{
	static const char y[] = "name: h\nduration: 5s\nchecks:\n"
				"  - linearizable: {model: kv}\n"
				"  - linearizable: {}\n"
				"  - lost-writes:\n"
				"  - stale-reads: {bound: \"<= 2\"}\n";
	struct fl_scenario *sc = NULL;
	struct fl_err err = { "" };

	(void)state;
	if (fl_scenario_load("h.yaml", y, &sc, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(sc->n_checks, 4);
	assert_int_equal(sc->checks[0].kind, FL_CHECK_LINEARIZABLE);
	assert_true(sc->checks[0].kv);
	assert_string_equal(sc->checks[0].name, "linearizable (kv)");
	assert_false(sc->checks[1].kv);
	assert_string_equal(sc->checks[2].name, "lost-writes == 0");
	assert_string_equal(sc->checks[3].name, "stale-reads <= 2");
	assert_true(fl_bound_holds(&sc->checks[3].bound, 2));
	assert_false(fl_bound_holds(&sc->checks[3].bound, 3));
	fl_scenario_free(sc);
	sc = NULL;
	assert_int_equal(fl_scenario_load("h.yaml",
					  "name: h\nduration: 5s\nchecks:\n"
					  "  - linearizable: {model: set}\n",
					  &sc, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "h.yaml:4:27: unknown model 'set' (use register or kv)"));
	assert_int_equal(fl_scenario_load("h.yaml",
					  "name: h\nduration: 5s\nchecks:\n"
					  "  - stale-reads: {model: kv}\n",
					  &sc, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "h.yaml:4:"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_correct_history_passes_all),
		cmocka_unit_test(test_stale_read_detected_with_its_operations),
		cmocka_unit_test(test_report_draws_the_offending_operations),
		cmocka_unit_test(test_lost_write_detected_after_the_heal),
		cmocka_unit_test(test_no_history_is_a_failure_that_says_why),
		cmocka_unit_test(test_a_target_without_values_skips_the_checks),
		cmocka_unit_test(test_yaml_of_the_checks),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
