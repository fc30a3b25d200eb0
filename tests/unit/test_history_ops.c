// SPDX-License-Identifier: MIT
/* A run's operations as a history: target ops with f and key, the clients'
 * process numbers (a new one after info), what a run that ended records
 * (the value read, a cas's expected value, the type from its exit code),
 * ops.jsonl lines written with them, and the history parser reading a
 * run's ops.jsonl (one whole operation per line). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "lin.h"
#include "probehist.h"
#include "results.h"
#include "target.h"

static const char ops_yaml[] = "name: kv\n"
			       "start: {run: \"kv {{ip}}\"}\n"
			       "probe:\n"
			       "  every: 100ms\n"
			       "  timeout: 1s\n"
			       "  ops:\n"
			       "    put: \"put k{{seq}}\"\n"
			       "    write: {f: write, key: r, run: \"set r {{value}}\"}\n"
			       "    read: {f: read, key: \"r{{index}}\", run: \"get r\"}\n"
			       "    cas: {f: cas, key: r, run: \"cas r {{value}}\"}\n";

static void test_target_ops_f_and_key(void **state)
{
	struct fl_sut *t = NULL;
	struct fl_err err = { "" };
	char *bad;

	(void)state;
	if (fl_sut_load("t.yaml", ops_yaml, &t, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(t->n_ops, 4);
	assert_string_equal(t->ops[0].f, ""); /* not of the history */
	assert_null(t->ops[0].key);
	assert_string_equal(t->ops[1].f, "write");
	assert_string_equal(t->ops[1].key, "r");
	assert_true(t->ops[1].uses_value);
	assert_string_equal(t->ops[2].f, "read");
	assert_string_equal(t->ops[2].key, "r{{index}}");
	assert_string_equal(t->ops[3].f, "cas");
	fl_sut_free(t);

	bad = strdup(ops_yaml);
	memcpy(strstr(bad, "f: read"), "f: reed", 7);
	assert_int_equal(fl_sut_load("t.yaml", bad, &t, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "t.yaml:9:"));
	assert_non_null(strstr(err.msg, "unknown 'f' 'reed' (use read, write, cas"));
	free(bad);
}

static void test_clients_renumber_after_info(void **state)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	uint64_t next = 0;
	struct fl_clients a = { .next = &next, .lock = &lock }, b = a;
	size_t k0, k1, k2;

	(void)state;
	k0 = fl_clients_take(&a);
	k1 = fl_clients_take(&a);
	k2 = fl_clients_take(&b); /* another node: numbers stay distinct */
	assert_int_equal(k0, 0);
	assert_int_equal(k1, 1);
	assert_int_equal(a.process[k0], 1);
	assert_int_equal(a.process[k1], 2);
	assert_int_equal(b.process[k2], 3);
	/* ok or failed: the client keeps its number for its next run */
	fl_clients_done(&a, k1, false);
	assert_int_equal(fl_clients_take(&a), 1);
	assert_int_equal(a.process[1], 2);
	/* unknown (info): the same client goes on as a new process */
	fl_clients_done(&a, k0, true);
	assert_int_equal(fl_clients_take(&a), 0);
	assert_int_equal(a.process[0], 4);
	/* a busy client is never handed out twice */
	assert_int_equal(fl_clients_take(&a), 2);
	assert_int_equal(a.process[2], 5);
}

static void outcome(const struct fl_top *t, enum fl_op_status st, int code, const char *out,
		    struct fl_op *op)
{
	memset(op, 0, sizeof(*op));
	op->status = st; /* as probe_record sets it */
	fl_probe_outcome(t, 42, "r", st, code, out, op);
}

static void test_outcome_values_and_types(void **state)
{
	struct fl_top rd = { .f = "read" }, wr = { .f = "write", .uses_value = true },
		      cas = { .f = "cas", .uses_value = true }, plain = { .uses_value = true };
	struct fl_op op;
	char line[] = "17\r\nmore\n";

	(void)state;
	fl_first_line(line);
	assert_string_equal(line, "17");
	{
		char bad[] = "1\xff\x01\xc3\xa9x\n";

		fl_first_line(bad);
		assert_string_equal(bad, "1????x");
	}
	outcome(&rd, FL_OP_OK, 0, "17", &op);
	assert_string_equal(op.f, "read");
	assert_string_equal(op.key, "r");
	assert_string_equal(op.value, "17");
	assert_false(op.unknown);
	outcome(&rd, FL_OP_OK, 0, "", &op); /* read nothing: null */
	assert_string_equal(op.value, "");
	outcome(&rd, FL_OP_FAIL, 2, "junk", &op); /* a failed read read nothing */
	assert_string_equal(op.value, "");
	assert_false(op.unknown);
	outcome(&wr, FL_OP_OK, 0, "", &op);
	assert_string_equal(op.value, "42");
	assert_false(op.unknown);
	outcome(&wr, FL_OP_FAIL, 1, "", &op); /* exit 1: no effect */
	assert_false(op.unknown);
	outcome(&wr, FL_OP_FAIL, -1, "", &op); /* never ran */
	assert_false(op.unknown);
	outcome(&wr, FL_OP_FAIL, 2, "", &op); /* anything else: unknown */
	assert_true(op.unknown);
	outcome(&wr, FL_OP_FAIL, 137, "", &op);
	assert_true(op.unknown);
	outcome(&wr, FL_OP_TIMEOUT, 0, "", &op);
	assert_true(op.unknown);
	outcome(&cas, FL_OP_FAIL, 1, "9", &op); /* the compare did not match */
	assert_string_equal(op.expect, "9");
	assert_string_equal(op.value, "42");
	assert_false(op.unknown);
	assert_true(op.no_match); /* an answer: served, of type fail */
	assert_int_equal(op.status, FL_OP_OK);
	outcome(&cas, FL_OP_FAIL, 2, "9", &op);
	assert_false(op.no_match);
	assert_int_equal(op.status, FL_OP_FAIL);
	outcome(&plain, FL_OP_FAIL, 2, "", &op); /* not of the history */
	assert_string_equal(op.f, "");
	assert_string_equal(op.value, "42");
	assert_false(op.unknown);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 65536);

	assert_non_null(f);
	assert_true(fread(buf, 1, 65535, f) > 0);
	fclose(f);
	return buf;
}

static void test_ops_lines_carry_history(void **state)
{
	char dir[] = "/tmp/fl-hist-XXXXXX", path[64], cmd[96];
	struct fl_results *r = NULL;
	struct fl_err err = { "" };
	struct fl_top rd = { .f = "read" }, cas = { .f = "cas", .uses_value = true };
	struct fl_op op;
	char *text;

	(void)state;
	assert_non_null(mkdtemp(dir));
	if (fl_results_open(dir, &r, &err))
		fail_msg("%s", err.msg);
	outcome(&rd, FL_OP_OK, 0, "", &op);
	op.process = 3;
	fl_results_op(r, &op);
	outcome(&cas, FL_OP_FAIL, 5, "", &op);
	op.process = 4;
	fl_results_op(r, &op);
	outcome(&cas, FL_OP_FAIL, 1, "7", &op);
	op.process = 5;
	fl_results_op(r, &op);
	outcome(&rd, FL_OP_OK, 0, "v1", &op);
	op.f[0] = 0; /* an op of no history: no f */
	fl_results_op(r, &op);
	fl_results_close(r);
	snprintf(path, sizeof(path), "%s/ops.jsonl", dir);
	text = slurp(path);
	assert_non_null(strstr(
		text,
		"\"process\":3,\"type\":\"ok\",\"f\":\"read\",\"key\":\"r\",\"value\":null}"));
	assert_non_null(strstr(text, "\"process\":4,\"type\":\"info\",\"f\":\"cas\",\"key\":\"r\","
				     "\"value\":[null,42]}"));
	assert_non_null(strstr(text,
			       "\"status\":\"ok\",\"latency_ns\":0,\"process\":5,"
			       "\"type\":\"fail\",\"f\":\"cas\",\"key\":\"r\",\"value\":[7,42]}"));
	assert_null(strstr(strrchr(text, '{'), "\"f\""));
	free(text);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* ops.jsonl lines: completion order, whole operations. */
#define OP(s, e, p, type, f, v)                                                                  \
	"{\"start_ns\":" #s ",\"end_ns\":" #e ",\"node\":\"n1\",\"op\":\"x\",\"status\":\"ok\"," \
	"\"process\":" #p ",\"type\":\"" type "\",\"f\":\"" f "\",\"key\":\"r\",\"value\":" v    \
	"}\n"

static int parse(const char *text, struct fl_history *h, struct fl_err *err)
{
	return fl_history_parse(text, strlen(text), "ops.jsonl", h, err);
}

static int lin(const char *text)
{
	struct fl_lin_opts o = { .model = FL_LIN_REGISTER, .threads = 1 };
	struct fl_lin_result res;
	struct fl_history h;
	struct fl_err err = { "" };

	if (parse(text, &h, &err))
		fail_msg("parse: %s", err.msg);
	if (fl_lin_check(&h, &o, &res, &err))
		fail_msg("check: %s", err.msg);
	fl_history_free(&h);
	fl_lin_result_free(&res);
	return res.verdict;
}

static void test_parse_whole_op_lines(void **state)
{
	const char *good = OP(10, 50, 1, "ok", "write", "1") OP(
		20, 60, 2, "ok", "read",
		"1") "{\"start_ns\":5,\"end_ns\":70,\"node\":\"n1\",\"op\":\"put\",\"status\":\"ok\","
		     "\"process\":9,\"type\":\"ok\"}\n" /* no f: not of the history */
		     "{\"start_ns\":5,\"end_ns\":5,\"op\":\"x\",\"status\":\"fail\",\"type\":\"fail\","
		     "\"f\":\"write\",\"value\":7,\"skipped\":true}\n" OP(61, 80, 2, "ok", "cas",
									  "[1,2]")
			     OP(55, 90, 1, "ok", "read", "2");
	struct fl_history h;
	struct fl_err err = { "" };

	(void)state;
	if (parse(good, &h, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(h.n, 4);
	for (size_t i = 1; i < h.n; i++) /* sorted by invocation */
		assert_true(h.ops[i - 1].call <= h.ops[i].call);
	assert_int_equal(h.ops[3].call, 61);
	assert_int_equal(h.ops[3].ret, 80);
	fl_history_free(&h);
	assert_int_equal(lin(good), FL_LIN_OK);
	/* a stale read on whole lines: 2 was written over 1 before the read */
	assert_int_equal(lin(OP(10, 50, 1, "ok", "write", "1") OP(60, 70, 1, "ok", "write", "2")
				     OP(80, 90, 2, "ok", "read", "1")),
			 FL_LIN_BAD);
	/* an info write may take effect later: reading it is fine */
	assert_int_equal(lin(OP(10, 50, 1, "info", "write", "1") OP(80, 90, 2, "ok", "read", "1")),
			 FL_LIN_OK);
}

static void test_parse_whole_op_errors(void **state)
{
	struct fl_history h;
	struct fl_err err = { "" };

	(void)state;
	/* two open operations on one process */
	assert_int_equal(parse(OP(10, 50, 1, "ok", "write", "1") OP(40, 60, 1, "ok", "read", "1"),
			       &h, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "ops.jsonl:2: this process has another operation open"));
	/* invoking again after info */
	assert_int_equal(parse(OP(10, 50, 1, "info", "write", "1") OP(60, 70, 1, "ok", "read", "1"),
			       &h, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "ops.jsonl:2: this process ended an operation with info"));
	/* an ok read without its value */
	assert_int_equal(parse("{\"start_ns\":1,\"end_ns\":2,\"process\":1,\"type\":\"ok\","
			       "\"f\":\"read\"}\n",
			       &h, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "ops.jsonl:1: an ok read or get needs the \"value\""));
	assert_int_equal(parse("{\"start_ns\":1,\"process\":1,\"type\":\"ok\",\"f\":\"write\","
			       "\"value\":1}\n",
			       &h, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "needs \"end_ns\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_target_ops_f_and_key),
		cmocka_unit_test(test_clients_renumber_after_info),
		cmocka_unit_test(test_outcome_values_and_types),
		cmocka_unit_test(test_ops_lines_carry_history),
		cmocka_unit_test(test_parse_whole_op_lines),
		cmocka_unit_test(test_parse_whole_op_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
