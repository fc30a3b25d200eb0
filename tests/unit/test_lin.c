// SPDX-License-Identifier: MIT
/* The linearizability checker and the history parser: a corpus of
 * hand-made histories (each anomaly, and correct ones), malformed files,
 * and a property test against a brute-force oracle that tries every order
 * on thousands of small random histories. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fallacy/prng.h"
#include "history.h"
#include "lin.h"

static bool no_prune; /* check() without the observer pruning */

static int check(const char *text, enum fl_lin_model m, struct fl_lin_result *r)
{
	struct fl_lin_opts o = { .model = m, .threads = 2, .no_prune = no_prune };
	struct fl_history h;
	struct fl_err err = { "" };
	int ret;

	if (fl_history_parse(text, strlen(text), "t.jsonl", &h, &err))
		fail_msg("parse: %s", err.msg);
	ret = fl_lin_check(&h, &o, r, &err);
	if (ret)
		fail_msg("check: %s", err.msg);
	fl_history_free(&h);
	return r->verdict;
}

static int verdict(const char *text, enum fl_lin_model m)
{
	struct fl_lin_result r;
	int v = check(text, m, &r);

	fl_lin_result_free(&r);
	return v;
}

/* One line of a history. */
#define L(p, type, f, value, t)                                                             \
	"{\"process\": " #p ", \"type\": \"" type "\", \"f\": \"" f "\", \"value\": " value \
	", \"time\": " #t "}\n"

static void test_corpus_register(void **state)
{
	(void)state;
	/* a read after an acknowledged write sees it */
	assert_int_equal(verdict(L(0, "invoke", "write", "1", 0) L(0, "ok", "write", "1", 10)
					 L(1, "invoke", "read", "null", 20)
						 L(1, "ok", "read", "1", 30),
				 FL_LIN_REGISTER),
			 FL_LIN_OK);
	/* stale read: 2 overwrote 1 before the read began */
	assert_int_equal(verdict(L(0, "invoke", "write", "1", 0) L(0, "ok", "write", "1", 10) L(
					 0, "invoke", "write", "2", 12) L(0, "ok", "write", "2", 15)
					 L(1, "invoke", "read", "null", 20)
						 L(1, "ok", "read", "1", 30),
				 FL_LIN_REGISTER),
			 FL_LIN_BAD);
	/* lost write: an acknowledged write, then a read of nothing */
	assert_int_equal(verdict(L(0, "invoke", "write", "1", 0) L(0, "ok", "write", "1", 10)
					 L(1, "invoke", "read", "null", 20)
						 L(1, "ok", "read", "null", 30),
				 FL_LIN_REGISTER),
			 FL_LIN_BAD);
	/* a read of a value never written */
	assert_int_equal(verdict(L(1, "invoke", "read", "null", 20) L(1, "ok", "read", "7", 30),
				 FL_LIN_REGISTER),
			 FL_LIN_BAD);
	/* concurrent write and read: either value is fine */
	assert_int_equal(verdict(L(0, "invoke", "write", "1", 0) L(1, "invoke", "read", "null", 1)
					 L(1, "ok", "read", "null", 5) L(0, "ok", "write", "1", 10),
				 FL_LIN_REGISTER),
			 FL_LIN_OK);
	assert_int_equal(verdict(L(0, "invoke", "write", "1", 0) L(1, "invoke", "read", "null", 1)
					 L(1, "ok", "read", "1", 5) L(0, "ok", "write", "1", 10),
				 FL_LIN_REGISTER),
			 FL_LIN_OK);
}

static void test_corpus_cas(void **state)
{
	(void)state;
	/* two sequential cas 0 -> 1 cannot both succeed */
	assert_int_equal(verdict(L(0, "invoke", "write", "0", 0) L(0, "ok", "write", "0", 1)
					 L(1, "invoke", "cas", "[0, 1]", 2)
						 L(1, "ok", "cas", "[0, 1]", 3)
							 L(2, "invoke", "cas", "[0, 1]", 4)
								 L(2, "ok", "cas", "[0, 1]", 5),
				 FL_LIN_REGISTER),
			 FL_LIN_BAD);
	/* a failed cas: its compare did not match; here it must have */
	assert_int_equal(verdict(L(0, "invoke", "write", "0", 0) L(0, "ok", "write", "0", 1)
					 L(1, "invoke", "cas", "[0, 1]", 2)
						 L(1, "fail", "cas", "[0, 1]", 3),
				 FL_LIN_REGISTER),
			 FL_LIN_BAD);
	assert_int_equal(verdict(L(0, "invoke", "write", "0", 0) L(0, "ok", "write", "0", 1)
					 L(1, "invoke", "cas", "[5, 1]", 2)
						 L(1, "fail", "cas", "[5, 1]", 3),
				 FL_LIN_REGISTER),
			 FL_LIN_OK);
	/* a cas of unknown outcome explains a later read of its new value */
	assert_int_equal(verdict(L(0, "invoke", "write", "0", 0) L(0, "ok", "write", "0", 1)
					 L(1, "invoke", "cas", "[0, 9]", 2)
						 L(1, "info", "cas", "[0, 9]", 3)
							 L(2, "invoke", "read", "null", 40)
								 L(2, "ok", "read", "9", 50),
				 FL_LIN_REGISTER),
			 FL_LIN_OK);
}

/* Many writes of unknown outcome, reads that saw some of them in an order
 * real time allows: linearizable; one read going back: not. */
static void test_corpus_indeterminate(void **state)
{
	char *h = calloc(1, 1 << 16), *bad = calloc(1, 1 << 16);
	size_t n = 0;

	(void)state;
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(h + n, (1 << 16) - n,
				      "{\"process\": %d, \"type\": \"invoke\", \"f\": \"write\", "
				      "\"value\": %d, \"time\": %d}\n"
				      "{\"process\": %d, \"type\": \"info\", \"f\": \"write\", "
				      "\"value\": %d, \"time\": %d}\n",
				      i, i, i * 10, i, i, i * 10 + 5);
	for (int i = 0; i < 40; i += 4)
		n += (size_t)snprintf(h + n, (1 << 16) - n,
				      "{\"process\": %d, \"type\": \"invoke\", \"f\": \"read\", "
				      "\"time\": %d}\n"
				      "{\"process\": %d, \"type\": \"ok\", \"f\": \"read\", "
				      "\"value\": %d, \"time\": %d}\n",
				      100 + i, 1000 + i * 10, 100 + i, i, 1000 + i * 10 + 5);
	assert_int_equal(verdict(h, FL_LIN_REGISTER), FL_LIN_OK);
	snprintf(bad, 1 << 16,
		 "%s" L(999, "invoke", "read", "null", 5000) L(999, "ok", "read", "4", 5005), h);
	assert_int_equal(verdict(bad, FL_LIN_REGISTER), FL_LIN_BAD);
	free(h);
	free(bad);
}

static void test_corpus_kv_and_keys(void **state)
{
	struct fl_lin_result r;

	(void)state;
	assert_int_equal(
		verdict("{\"process\": 0, \"type\": \"invoke\", \"f\": \"put\", \"key\": \"a\", \"value\": \"x\", \"time\": 0}\n"
			"{\"process\": 0, \"type\": \"ok\", \"f\": \"put\", \"key\": \"a\", \"value\": \"x\", \"time\": 1}\n"
			"{\"process\": 0, \"type\": \"invoke\", \"f\": \"append\", \"key\": \"a\", \"value\": \"y\", \"time\": 2}\n"
			"{\"process\": 0, \"type\": \"ok\", \"f\": \"append\", \"key\": \"a\", \"value\": \"y\", \"time\": 3}\n"
			"{\"process\": 1, \"type\": \"invoke\", \"f\": \"get\", \"key\": \"a\", \"time\": 4}\n"
			"{\"process\": 1, \"type\": \"ok\", \"f\": \"get\", \"key\": \"a\", \"value\": \"xy\", \"time\": 5}\n",
			FL_LIN_KV),
		FL_LIN_OK);
	/* key b is fine, key a went back in time: the verdict names a */
	assert_int_equal(
		check("{\"process\": 0, \"type\": \"invoke\", \"f\": \"put\", \"key\": \"a\", \"value\": \"x\", \"time\": 0}\n"
		      "{\"process\": 0, \"type\": \"ok\", \"f\": \"put\", \"key\": \"a\", \"value\": \"x\", \"time\": 1}\n"
		      "{\"process\": 2, \"type\": \"invoke\", \"f\": \"put\", \"key\": \"b\", \"value\": \"z\", \"time\": 0}\n"
		      "{\"process\": 2, \"type\": \"ok\", \"f\": \"put\", \"key\": \"b\", \"value\": \"z\", \"time\": 1}\n"
		      "{\"process\": 1, \"type\": \"invoke\", \"f\": \"get\", \"key\": \"a\", \"time\": 4}\n"
		      "{\"process\": 1, \"type\": \"ok\", \"f\": \"get\", \"key\": \"a\", \"value\": null, \"time\": 5}\n",
		      FL_LIN_KV, &r),
		FL_LIN_BAD);
	assert_int_equal(r.n_keys, 2);
	assert_int_equal(r.bad_time, 5);
	assert_int_equal(r.n_concurrent, 1);
	fl_lin_result_free(&r);
}

static void test_malformed(void **state)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "{\"process\": 0, \"type\": \"invoke\", \"f\": \"write\", \"value\": 1}\n",
		  "t.jsonl:1: a line needs \"process\", \"type\", \"f\" and \"time\"" },
		{ "\n{\"process\": 0, \"type\": \"ok\", \"f\": \"write\", \"value\": 1, \"time\": 3}\n",
		  "t.jsonl:2: a completion without an invocation on this process" },
		{ L(0, "invoke", "write", "1", 0) L(0, "invoke", "write", "2", 1),
		  "t.jsonl:2: this process already has an operation in flight" },
		{ L(0, "invoke", "write", "1", 0) L(0, "info", "write", "1", 1)
			  L(0, "invoke", "write", "2", 2),
		  "t.jsonl:3: this process ended an operation with info" },
		{ L(0, "invoke", "frob", "1", 0), "t.jsonl:1: unknown \"f\"" },
		{ "{\"process\": 0, \"type\": \"invoke\", \"f\": \"cas\", \"value\": 1, \"time\": 1}\n",
		  "t.jsonl:1: a cas needs \"value\": [expected, new]" },
		{ "{\"process\": 0, \"type\": \"invoke\"\n", "t.jsonl:1: unterminated object" },
		{ "[1, 2]\n", "t.jsonl:1: expected a JSON object per line" },
		{ L(0, "invoke", "write", "1", 9) L(0, "ok", "write", "1", 3),
		  "t.jsonl:2: a completion before its invocation" },
	};
	struct fl_history h;
	struct fl_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(fl_history_parse(bad[i].text, strlen(bad[i].text), "t.jsonl", &h,
						  &err),
				 -EINVAL);
		if (strncmp(err.msg, bad[i].msg, strlen(bad[i].msg)))
			fail_msg("case %zu: got '%s', want '%s'", i, err.msg, bad[i].msg);
	}
	/* a missing completion is info; a nemesis line is skipped */
	assert_int_equal(verdict(L(0, "invoke", "write", "1",
				   0) "{\"process\": \"nemesis\", \"type\": \"info\", \"f\": "
				      "\"start\", \"time\": 1}\n",
				 FL_LIN_REGISTER),
			 FL_LIN_OK);
}

/* ---- property test: the checker against every order ------------------- */

#define MAXOPS 8

struct pop {
	int f; /* 0 read, 1 write, 2 cas */
	int result; /* FL_HR_* */
	int value, expect; /* -1 null */
	uint64_t call, ret;
};

static bool step(const struct pop *op, int *s)
{
	switch (op->f) {
	case 0:
		return op->value == *s;
	case 1:
		*s = op->value;
		return true;
	default:
		if (op->result == FL_HR_FAIL)
			return *s != op->expect;
		if (*s == op->expect) {
			*s = op->value;
			return true;
		}
		return op->result == FL_HR_INFO;
	}
}

/* Every order of every admissible subset, depth first. */
static bool oracle(const struct pop *ops, int n, unsigned placed, int s)
{
	bool done = true;

	for (int i = 0; i < n; i++)
		if (!(placed >> i & 1) && ops[i].result != FL_HR_INFO)
			done = false;
	if (done)
		return true;
	for (int i = 0; i < n; i++) {
		bool ready = true;
		int next = s;

		if (placed >> i & 1)
			continue;
		for (int j = 0; j < n && ready; j++) /* unplaced required ops that end before */
			if (j != i && !(placed >> j & 1) && ops[j].result != FL_HR_INFO &&
			    ops[j].ret < ops[i].call)
				ready = false;
		if (ready && step(&ops[i], &next) && oracle(ops, n, placed | 1u << i, next))
			return true;
	}
	return false;
}

/* "null" for -1 (the absent value), else the number. */
static const char *val(int v, char *buf)
{
	if (v < 0)
		return "null";
	sprintf(buf, "%d", v);
	return buf;
}

static size_t line(char *text, size_t len, int p, const char *type, const struct pop *op,
		   uint64_t t)
{
	static const char *const fname[] = { "read", "write", "cas" };
	char a[16], b[16];

	if (op->f == 2)
		return (size_t)snprintf(
			text, len,
			"{\"process\": %d, \"type\": \"%s\", \"f\": \"cas\", \"value\": "
			"[%s, %s], \"time\": %llu}\n",
			p, type, val(op->expect, a), val(op->value, b), (unsigned long long)t);
	return (size_t)snprintf(text, len,
				"{\"process\": %d, \"type\": \"%s\", \"f\": \"%s\", \"value\": %s, "
				"\"time\": %llu}\n",
				p, type, fname[op->f], val(op->value, a), (unsigned long long)t);
}

/* A random history of up to MAXOPS operations on 3 processes; values null
 * (-1) or 1..3 (writes and cas write 1..3). */
static int gen(uint64_t seed, struct pop *ops, char *text, size_t len, bool unique)
{
	int next_value = 1;
	int n = 1 + (int)(fl_prng(seed, 0, 0, 0) % MAXOPS), m = 0;
	uint64_t free_at[3] = { 0, 0, 0 };
	size_t off = 0;

	for (int i = 0; i < n; i++) {
		uint64_t r = fl_prng(seed, 1, 0, (uint64_t)i);
		int p = (int)(r % 3), k = (int)(r >> 48) % 5;
		struct pop *op;

		if (free_at[p] == UINT64_MAX)
			continue; /* that process ended with info */
		op = &ops[m++];
		op->f = (int)((r >> 8) % 3);
		op->value = op->f == 0 ? (int)((r >> 16) % 4) - 1 : 1 + (int)((r >> 16) % 3);
		op->expect = (int)((r >> 24) % 4) - 1;
		if (unique) { /* writes write new values; reads and cas name old ones */
			int seen = next_value - 1;

			if (op->f != 0)
				op->value = next_value++;
			else
				op->value = seen ? (int)((r >> 16) % (uint64_t)(seen + 1)) : 0;
			op->expect = seen ? (int)((r >> 24) % (uint64_t)(seen + 1)) : 0;
			if (op->f == 0 && !op->value)
				op->value = -1;
			if (!op->expect)
				op->expect = -1;
		}
		op->call = free_at[p] + 1 + (r >> 32) % 20;
		op->ret = op->call + 1 + (r >> 40) % 30;
		op->result = k == 0 ? FL_HR_INFO : k == 1 && op->f != 0 ? FL_HR_FAIL : FL_HR_OK;
		off += line(text + off, len - off, p, "invoke", op, op->call);
		if (op->result == FL_HR_INFO) {
			op->ret = UINT64_MAX; /* no completion line: counts as info */
			free_at[p] = UINT64_MAX;
			continue;
		}
		off += line(text + off, len - off, p, op->result == FL_HR_OK ? "ok" : "fail", op,
			    op->ret);
		free_at[p] = op->ret;
	}
	return m;
}

/* A history read from a pipe (tools/jepsen-history.py | fallacy check
 * linearizable /dev/stdin): a pipe has no size, the file is read to its
 * end (a load that trusted fstat read nothing: "yes, 0 operations"). */
static void test_load_from_pipe(void **state)
{
	const char *text = L(0, "invoke", "write", "1", 0) L(0, "ok", "write", "1", 10)
		L(1, "invoke", "write", "2", 20) L(1, "ok", "write", "2", 30)
			L(2, "invoke", "read", "null", 40) L(2, "ok", "read", "1", 50);
	struct fl_lin_opts o = { .model = FL_LIN_REGISTER, .threads = 1 };
	struct fl_lin_result r;
	struct fl_history h;
	struct fl_err err = { "" };
	char path[64];
	int fd[2];

	(void)state;
	assert_int_equal(pipe(fd), 0);
	assert_int_equal(write(fd[1], text, strlen(text)), (ssize_t)strlen(text));
	close(fd[1]);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd[0]);
	if (fl_history_load(path, &h, &err))
		fail_msg("load: %s", err.msg);
	close(fd[0]);
	assert_int_equal(h.n, 3);
	assert_int_equal(fl_lin_check(&h, &o, &r, &err), 0);
	assert_int_equal(r.verdict, FL_LIN_BAD);
	fl_lin_result_free(&r);
	fl_history_free(&h);
}

/* Histories are written per process in time order, interleaved by
 * generation order: the parser pairs by process, the checker orders by
 * time. A failed write or read takes no effect: the oracle skips them. */
static void property(bool unique)
{
	int bad = 0, lin = 0;

	for (uint64_t seed = 1; seed <= 4000; seed++) {
		struct pop ops[MAXOPS], keep[MAXOPS];
		char text[8192];
		int n = gen(seed, ops, text, sizeof(text), unique), k = 0, want;

		for (int i = 0; i < n; i++)
			if (!(ops[i].result == FL_HR_FAIL && ops[i].f != 2))
				keep[k++] = ops[i];
		want = oracle(keep, k, 0, -1) ? FL_LIN_OK : FL_LIN_BAD;
		lin += want == FL_LIN_OK;
		if (verdict(text, FL_LIN_REGISTER) != want) {
			bad++;
			print_error("seed %llu disagrees (oracle: %s):\n%s",
				    (unsigned long long)seed,
				    want == FL_LIN_OK ? "linearizable" : "not", text);
		}
	}
	assert_int_equal(bad, 0);
	/* both verdicts are well represented */
	if (lin < 400 || lin > 3600)
		fail_msg("%d of 4000 random histories linearizable: the test lost its teeth", lin);
}

static void test_property_against_oracle(void **state)
{
	(void)state;
	property(false); /* few values: the search does the work */
}

/* Unique values: the real-time anomaly rules and the deadlines of
 * unobserved writes are exercised too. */
static void test_property_unique_values(void **state)
{
	(void)state;
	property(true);
}

/* The observer pruning (register, unique values) changes the work, never
 * the verdict: on the unique-value histories, with and without it, the
 * same verdict (and the oracle's, test_property_unique_values), and
 * fewer search states where it cut a branch; it must cut some, or the
 * test has lost its teeth. */
static void test_pruning_keeps_verdicts(void **state)
{
	int cut = 0, differ = 0;

	(void)state;
	for (uint64_t seed = 1; seed <= 4000; seed++) {
		struct pop ops[MAXOPS];
		char text[8192];
		struct fl_lin_result a, b;

		gen(seed, ops, text, sizeof(text), true);
		no_prune = false;
		check(text, FL_LIN_REGISTER, &a);
		no_prune = true;
		check(text, FL_LIN_REGISTER, &b);
		no_prune = false;
		if (a.verdict != b.verdict) {
			differ++;
			print_error("seed %llu: pruned %d, not pruned %d:\n%s",
				    (unsigned long long)seed, a.verdict, b.verdict, text);
		}
		if (a.states > b.states)
			fail_msg("seed %llu: pruning took more states (%llu > %llu)",
				 (unsigned long long)seed, (unsigned long long)a.states,
				 (unsigned long long)b.states);
		cut += a.states < b.states;
		fl_lin_result_free(&a);
		fl_lin_result_free(&b);
	}
	print_message("pruning cut the search of %d of 4000 histories\n", cut);
	assert_int_equal(differ, 0);
	assert_true(cut >= 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus_register),
		cmocka_unit_test(test_corpus_cas),
		cmocka_unit_test(test_corpus_indeterminate),
		cmocka_unit_test(test_corpus_kv_and_keys),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_load_from_pipe),
		cmocka_unit_test(test_property_against_oracle),
		cmocka_unit_test(test_property_unique_values),
		cmocka_unit_test(test_pruning_keeps_verdicts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
