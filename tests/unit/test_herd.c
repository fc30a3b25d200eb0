// SPDX-License-Identifier: MIT
/* The thundering herd: the lock-step statistic on synthetic reconnect
 * times (clients on one schedule fail the backoff check, jittered ones
 * pass), the reconnect policies, herd.jsonl records, the recovery
 * attempts after a heal, the per-100 ms buckets, and the herd: and
 * backoff: keys of scenario and target files. */
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
#include "herd.h"
#include "scenario.h"
#include "target.h"

#define S 1000000000ULL
#define MS 1000000ULL

static uint64_t rnd_state = 42;

static uint64_t rnd(void)
{
	uint64_t z = (rnd_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static bool holds(const char *bound, double v)
{
	struct fl_bound b;
	struct fl_err err;

	assert_int_equal(fl_bound_parse_unit(bound, FL_UNIT_NUMBER, FL_CMP_LE, &b, &err), 0);
	return fl_bound_holds(&b, v);
}

/* 240 clients that all failed at once and retry on the same schedule:
 * their attempts after the heal lie within a few ms of each other */
static void test_lockstep_fails(void **state)
{
	uint64_t t[240], at;
	double share;

	(void)state;
	for (int i = 0; i < 240; i++)
		t[i] = 10 * S + (uint64_t)(i % 7) * MS + rnd() % 500000; /* loop spread */
	share = fl_herd_max_share(t, 240, 10 * MS, &at);
	assert_true(share > 0.99);
	assert_true(at >= 10 * S && at < 10 * S + MS);
	assert_false(holds(FL_CHECK_BACKOFF_BOUND, share));
	/* two nodes 30 ms apart: half each */
	for (int i = 0; i < 240; i++)
		t[i] = 10 * S + (i & 1) * 30 * MS;
	assert_true(fabs(fl_herd_max_share(t, 240, 10 * MS, &at) - 0.5) < 1e-9);
}

/* The same clients with full jitter over 2 s pass; over 100 ms they do
 * not (10 ms is a tenth of that window, plus the luck of the draw) */
static void test_jitter_passes(void **state)
{
	uint64_t t[240], at;

	(void)state;
	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < 240; i++)
			t[i] = 10 * S +
			       fl_backoff_delay(FL_BACKOFF_JITTER, 100 * MS, 2 * S, 6, rnd());
		assert_true(holds(FL_CHECK_BACKOFF_BOUND, fl_herd_max_share(t, 240, 10 * MS, &at)));
	}
	for (int i = 0; i < 240; i++)
		t[i] = 10 * S + fl_backoff_delay(FL_BACKOFF_JITTER, 100 * MS, 2 * S, 0, rnd());
	assert_false(holds(FL_CHECK_BACKOFF_BOUND, fl_herd_max_share(t, 240, 10 * MS, &at)));
}

static void test_max_share_edges(void **state)
{
	uint64_t t[4] = { 30, 10, 20, 40 }, at = 7;

	(void)state;
	assert_true(fl_herd_max_share(t, 0, 10, &at) == 0);
	assert_int_equal(at, 0);
	/* [x, x + w): 10 and 20 are one window of 11, not of 10 */
	assert_true(fabs(fl_herd_max_share(t, 4, 10, &at) - 0.25) < 1e-9);
	assert_true(fabs(fl_herd_max_share(t, 4, 11, &at) - 0.5) < 1e-9);
	assert_int_equal(at, 10);
	assert_true(fabs(fl_herd_max_share(t, 4, 1000, &at) - 1) < 1e-9);
}

static void test_backoff_delay(void **state)
{
	(void)state;
	assert_int_equal(fl_backoff_delay(FL_BACKOFF_NONE, 100, 1000, 5, 7), 100);
	assert_int_equal(fl_backoff_delay(FL_BACKOFF_EXPONENTIAL, 100, 1000, 0, 7), 100);
	assert_int_equal(fl_backoff_delay(FL_BACKOFF_EXPONENTIAL, 100, 1000, 2, 7), 400);
	assert_int_equal(fl_backoff_delay(FL_BACKOFF_EXPONENTIAL, 100, 1000, 60, 7), 1000);
	assert_int_equal(fl_backoff_delay(FL_BACKOFF_JITTER, 100, 1000, 2, 401), 0);
	assert_int_equal(fl_backoff_delay(FL_BACKOFF_JITTER, 100, 1000, 2, 400), 400);
	for (int i = 0; i < 1000; i++)
		assert_true(fl_backoff_delay(FL_BACKOFF_JITTER, 100, 1000, 60, rnd()) <= 1000);
}

static void test_records(void **state)
{
	struct fl_herd_rec r;

	(void)state;
	assert_int_equal(fl_herd_rec_parse("{\"node\":\"n2\",\"client\":17,\"ev\":\"connect\","
					   "\"start_ns\":5,\"end_ns\":9,\"ok\":true}",
					   &r),
			 0);
	assert_string_equal(r.node, "n2");
	assert_int_equal(r.client, 17);
	assert_true(r.connect && r.ok);
	assert_int_equal(r.start_ns, 5);
	assert_int_equal(r.end_ns, 9);
	assert_int_equal(fl_herd_rec_parse("{\"node\":\"n3\",\"client\":1,\"ev\":\"request\","
					   "\"start_ns\":5,\"end_ns\":9,\"ok\":false,"
					   "\"err\":\"timeout\"}",
					   &r),
			 0);
	assert_false(r.connect || r.ok);
	/* not records: no ok, ends before it starts, unknown ev, cut short */
	assert_int_equal(fl_herd_rec_parse("{\"node\":\"n2\",\"client\":1,\"ev\":\"connect\","
					   "\"start_ns\":5,\"end_ns\":9}",
					   &r),
			 -EINVAL);
	assert_int_equal(fl_herd_rec_parse("{\"node\":\"n2\",\"client\":1,\"ev\":\"connect\","
					   "\"start_ns\":9,\"end_ns\":5,\"ok\":true}",
					   &r),
			 -EINVAL);
	assert_int_equal(fl_herd_rec_parse("{\"node\":\"n2\",\"client\":1,\"ev\":\"x\","
					   "\"start_ns\":5,\"end_ns\":9,\"ok\":true}",
					   &r),
			 -EINVAL);
	assert_int_equal(fl_herd_rec_parse("{\"node\":\"n2", &r), -EINVAL);
}

static struct fl_herd_rec rec(unsigned int client, bool connect, bool ok, uint64_t start,
			      uint64_t end)
{
	return (struct fl_herd_rec){ .node = "n2",
				     .client = client,
				     .connect = connect,
				     .ok = ok,
				     .start_ns = start,
				     .end_ns = end };
}

/* Each client's attempts from the heal up to its first success; later
 * ones (a second break) are not the recovery's */
static void test_recovery_attempts(void **state)
{
	struct fl_herd_rec r[] = {
		rec(1, true, false, 4 * S, 5 * S), /* before the heal */
		rec(1, true, false, 6 * S, 7 * S),
		rec(2, true, true, 6 * S + 5, 6 * S + 9),
		rec(1, true, true, 8 * S, 8 * S + 1),
		rec(1, true, true, 9 * S, 9 * S + 1), /* after its success */
		rec(2, false, true, 7 * S, 7 * S + 1), /* a request */
		rec(3, true, false, 7 * S, 8 * S), /* never back */
		rec(3, true, false, 9 * S, 10 * S),
	};
	uint64_t *t;
	size_t n;

	(void)state;
	assert_int_equal(fl_herd_recovery_attempts(r, 8, 5 * S, &t, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(t[0], 6 * S);
	assert_int_equal(t[1], 8 * S);
	assert_int_equal(t[2], 6 * S + 5);
	assert_int_equal(t[3], 7 * S);
	assert_int_equal(t[4], 9 * S);
	free(t);
	assert_int_equal(fl_herd_recovery_attempts(r, 8, 20 * S, &t, &n), 0);
	assert_int_equal(n, 0);
	assert_null(t);
}

static void test_buckets(void **state)
{
	struct fl_herd_rec r[] = {
		rec(1, true, true, 0, 1 * MS),		 rec(1, false, true, 50 * MS, 60 * MS),
		rec(2, false, false, 60 * MS, 560 * MS), rec(2, true, false, 250 * MS, 750 * MS),
		rec(2, true, false, 2 * S, 3 * S), /* after the end */
	};
	struct fl_herd_bucket *b;
	size_t n;

	(void)state;
	assert_int_equal(fl_herd_buckets(r, 5, 0, 1 * S, &b, &n), 0);
	assert_int_equal(n, 10);
	assert_int_equal(b[0].connects, 1);
	assert_int_equal(b[0].connects_ok, 1);
	assert_int_equal(b[0].requests, 2);
	assert_int_equal(b[0].requests_ok, 1);
	assert_true(fabs(b[0].p50_ms - 10) < 1e-9);
	assert_true(fabs(b[0].p99_ms - 500) < 1e-9);
	assert_true(fabs(b[0].connect_p50_ms - 1) < 1e-9); /* the ok connect only */
	assert_true(isnan(b[2].connect_p99_ms)); /* a failed connect is no handshake */
	assert_int_equal(b[2].connects, 1);
	assert_int_equal(b[2].connects_ok, 0);
	assert_true(isnan(b[2].p50_ms));
	free(b);
}

/* The spike after a heal: the busiest bucket of connects within 5 s of
 * it (the first of equals), the worst request p99 in those 5 s; buckets
 * before the heal and from 5 s after it do not count */
static void test_peak(void **state)
{
	struct fl_herd_bucket b[120];
	struct fl_herd_peak p;

	(void)state;
	for (size_t i = 0; i < 120; i++)
		b[i] = (struct fl_herd_bucket){ .connects = 1, .p99_ms = 2, .connect_p99_ms = 0.1 };
	b[20] = (struct fl_herd_bucket){ .connects = 300, .p99_ms = 900 }; /* before the heal */
	b[45].connects = 30; /* the heal at 4.55 s is in bucket 45 */
	b[52] = (struct fl_herd_bucket){
		.connects = 240, .connects_ok = 230, .p99_ms = NAN, .connect_p99_ms = 6.5
	};
	b[60] = (struct fl_herd_bucket){ .connects = 240, .p99_ms = 40 }; /* equal: later */
	b[95] = (struct fl_herd_bucket){ .connects = 500, .p99_ms = 1000 }; /* 5 s after */
	assert_int_equal(fl_herd_peak(b, 120, 0, 4550 * MS, &p), 0);
	assert_int_equal(p.bucket, 52);
	assert_int_equal(p.connects, 240);
	assert_int_equal(p.connects_ok, 230);
	assert_true(fabs(p.handshake_p99_ms - 6.5) < 1e-9);
	assert_true(fabs(p.request_p99_ms - 40) < 1e-9);
	/* buckets counted from t0, not from 0 */
	assert_int_equal(fl_herd_peak(b, 120, 2 * S, 6550 * MS, &p), 0);
	assert_int_equal(p.bucket, 52);
	assert_int_equal(fl_herd_peak(b, 120, 0, 12 * S, &p), -ENOENT);
	/* the baseline: from 1 s to the first fault, the herd's start left out */
	b[3].p99_ms = 700;
	assert_true(fabs(fl_herd_base_p99(b, 120, 0, 2 * S) - 2) < 1e-9);
	assert_true(fabs(fl_herd_base_p99(b, 120, 0, 2100 * MS) - 900) < 1e-9);
	assert_true(fl_herd_base_p99(b, 120, 0, 900 * MS) == 0);
}

static long http(const char *s, size_t max)
{
	return fl_herd_http_reply(s, strlen(s), max);
}

/* protocol http: a reply is its headers and Content-Length bytes */
static void test_http_reply(void **state)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
				 "content-length:  4\r\n\r\nabcd";

	(void)state;
	assert_int_equal(http(ok, 8192), (long)strlen(ok));
	assert_int_equal(fl_herd_http_reply(ok, strlen(ok) - 1, 8192), 0);
	assert_int_equal(fl_herd_http_reply(ok, 20, 8192), 0); /* headers not done */
	assert_int_equal(http("HTTP/1.1 204 No Content\r\n\r\n", 8192), 27);
	/* a body too big for max, a negative or missing length: never */
	assert_int_equal(http("HTTP/1.1 200 OK\r\nContent-Length: 9000\r\n\r\n", 8192), -1);
	assert_int_equal(http("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
			      8192),
			 -1);
	assert_int_equal(http("HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n", 8192), -1);
	assert_int_equal(http("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", 8192), -1);
	/* headers that never end within max */
	assert_int_equal(http("HTTP/1.1 200 OK\r\nX: y", 10), -1);
	/* a header that only ends in content-length is not one */
	assert_int_equal(http("HTTP/1.1 200 OK\r\nX-Content-Length: 5\r\n\r\n", 8192), 40);
	/* Python's http.server (the http and http-kv targets): HTTP/1.0, its
	 * own header names, then it closes; complete at the body's end */
	assert_int_equal(http("HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.11.2\r\n"
			      "Date: Tue, 01 Dec 2026 04:53:02 GMT\r\nContent-type: text/html; "
			      "charset=utf-8\r\nContent-Length: 2\r\n\r\n3\n",
			      8192),
			 155);
}

static int load(const char *text, struct fl_scenario **sc, struct fl_err *err)
{
	return fl_scenario_load("t.yaml", text, sc, err);
}

#define HEAD "name: t\nduration: 20s\n"
#define CUT "timeline:\n  - {at: 2s, id: cut, partition: [[leader], [rest]], duration: 4s}\n"

static void test_scenario_keys(void **state)
{
	struct fl_scenario *sc = NULL;
	struct fl_err err;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_int_equal(load(HEAD "herd: {clients: 240, reconnect: {backoff: jitter, base: "
				   "50ms, max: 3s}}\n" CUT "checks:\n  - backoff: {}\n",
			      &sc, &err),
			 0);
	assert_true(sc->herd.on);
	assert_int_equal(sc->herd.clients, 240);
	assert_string_equal(sc->herd.from, "rest");
	assert_string_equal(sc->herd.to, "leader");
	assert_int_equal(sc->herd.backoff, FL_BACKOFF_JITTER);
	assert_int_equal(sc->herd.base_ns, 50 * MS);
	assert_int_equal(sc->herd.max_ns, 3 * S);
	assert_int_equal(sc->checks[0].kind, FL_CHECK_BACKOFF);
	assert_int_equal(sc->checks[0].rate_window_ns, 10 * MS);
	assert_string_equal(sc->checks[0].bound.text, FL_CHECK_BACKOFF_BOUND);
	assert_string_equal(sc->checks[0].after, "last-heal");
	/* printed, it loads again the same */
	f = open_memstream(&buf, &len);
	fl_scenario_print(sc, 1, f);
	fclose(f);
	fl_scenario_free(sc);
	assert_non_null(strstr(buf, "backoff: jitter"));
	assert_int_equal(load(buf, &sc, &err), 0);
	assert_int_equal(sc->herd.backoff, FL_BACKOFF_JITTER);
	assert_int_equal(sc->herd.max_ns, 3 * S);
	assert_false(sc->herd.random_phase); /* phase: tick, the default */
	fl_scenario_free(sc);
	free(buf);
	/* phase random: printed and loaded again */
	assert_int_equal(load(HEAD "herd: {clients: 9, phase: random}\n", &sc, &err), 0);
	assert_true(sc->herd.random_phase);
	buf = NULL;
	f = open_memstream(&buf, &len);
	fl_scenario_print(sc, 1, f);
	fclose(f);
	fl_scenario_free(sc);
	assert_non_null(strstr(buf, "phase: random"));
	assert_int_equal(load(buf, &sc, &err), 0);
	assert_true(sc->herd.random_phase);
	fl_scenario_free(sc);
	free(buf);
}

static void test_scenario_errors(void **state)
{
	struct fl_scenario *sc = NULL;
	struct fl_err err;

	(void)state;
	assert_int_equal(load(HEAD "herd: {clients: 10, reconnect: {backoff: jiter}}\n", &sc, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "t.yaml:3:"));
	assert_non_null(strstr(err.msg, "unknown backoff 'jiter'"));
	assert_int_equal(load(HEAD "herd: {clients: 10, phase: randm}\n", &sc, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "t.yaml:3:"));
	assert_non_null(strstr(err.msg, "unknown phase 'randm' (use tick or random)"));
	assert_int_equal(load(HEAD "herd: {clients: 0}\n", &sc, &err), -EINVAL);
	assert_int_equal(load(HEAD "herd: {every: 1s}\n", &sc, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "clients"));
	assert_int_equal(load(HEAD "herd: {clients: 9, reconnect: {base: 2s, max: 1s}}\n", &sc,
			      &err),
			 -EINVAL);
	assert_int_equal(load(HEAD CUT "checks:\n  - backoff: {}\n", &sc, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "needs a 'herd:'"));
	assert_int_equal(load(HEAD "herd: {clients: 9}\n" CUT
				   "checks:\n  - backoff: {after: cat}\n",
			      &sc, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "names no step"));
	assert_int_equal(load(HEAD "herd: {clients: 9}\n" CUT
				   "checks:\n  - backoff: {window: 0s}\n",
			      &sc, &err),
			 -EINVAL);
}

static void test_target_keys(void **state)
{
	static const char base[] = "name: x\nstart: {run: sleep 100}\nprobe: {run: 'true'}\n";
	struct fl_sut *t = NULL;
	struct fl_err err;
	char text[512];

	(void)state;
	snprintf(text, sizeof(text), "%sherd: {port: 6379, hello: AUTH pw, request: PING}\n", base);
	assert_int_equal(fl_sut_load("x.yaml", text, &t, &err), 0);
	assert_true(t->herd.on);
	assert_int_equal(t->herd.port, 6379);
	assert_string_equal(t->herd.hello, "AUTH pw");
	assert_string_equal(t->herd.request, "PING");
	fl_sut_free(t);
	snprintf(text, sizeof(text), "%sherd: {port: 6379}\n", base);
	assert_int_equal(fl_sut_load("x.yaml", text, &t, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "needs 'request'"));
	snprintf(text, sizeof(text), "%sherd: {port: 70000, request: PING}\n", base);
	assert_int_equal(fl_sut_load("x.yaml", text, &t, &err), -EINVAL);
	/* postgres: a user for the startup message, the query as request */
	snprintf(text, sizeof(text),
		 "%sherd: {port: 5432, protocol: postgres, user: postgres, request: SELECT 1}\n",
		 base);
	assert_int_equal(fl_sut_load("x.yaml", text, &t, &err), 0);
	assert_int_equal(t->herd.proto, FL_HERD_POSTGRES);
	assert_string_equal(t->herd.user, "postgres");
	assert_string_equal(t->herd.request, "SELECT 1");
	fl_sut_free(t);
	snprintf(text, sizeof(text),
		 "%sherd: {port: 5432, protocol: postgres, request: SELECT 1}\n", base);
	assert_int_equal(fl_sut_load("x.yaml", text, &t, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "'user' goes with protocol postgres"));
	snprintf(text, sizeof(text), "%sherd: {port: 80, user: u, request: PING}\n", base);
	assert_int_equal(fl_sut_load("x.yaml", text, &t, &err), -EINVAL);
	snprintf(text, sizeof(text), "%sherd: {port: 80, protocol: pg, request: PING}\n", base);
	assert_int_equal(fl_sut_load("x.yaml", text, &t, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "unknown protocol 'pg' (use line, http or postgres)"));
}

/* PostgreSQL's framing: the startup message and a simple query byte for
 * byte as the v3 protocol has them; an answer is complete at its
 * ReadyForQuery, an error or a password request is the end */
static void test_postgres_framing(void **state)
{
	static const char startup[] = "\0\0\0\x29\0\x03\0\0user\0postgres\0database\0postgres\0\0";
	static const char query[] = "Q\0\0\0\x0dSELECT 1\0";
	/* AuthenticationOk, ParameterStatus, BackendKeyData, ReadyForQuery */
	static const char hello[] = "R\0\0\0\x08\0\0\0\0"
				    "S\0\0\0\x16server_version\0"
				    "15\0"
				    "K\0\0\0\x0c\0\0\0\x01\0\0\0\x02"
				    "Z\0\0\0\x05I";
	/* RowDescription, DataRow, CommandComplete, ReadyForQuery */
	static const char answer[] = "T\0\0\0\x21\0\x01?column?\0\0\0\0\0\0\0\0\0\0\x17\0\x04"
				     "\xff\xff\xff\xff\0\0"
				     "D\0\0\0\x0b\0\x01\0\0\0\x01"
				     "1"
				     "C\0\0\0\x0dSELECT 1\0"
				     "Z\0\0\0\x05I";
	char buf[256];
	size_t hl = sizeof(hello) - 1, al = sizeof(answer) - 1;

	(void)state;
	assert_int_equal(fl_herd_pg_startup(buf, sizeof(buf), "postgres"), sizeof(startup) - 1);
	assert_memory_equal(buf, startup, sizeof(startup) - 1);
	assert_int_equal(fl_herd_pg_startup(buf, 20, "postgres"), -ENOSPC);
	assert_int_equal(fl_herd_pg_query(buf, sizeof(buf), "SELECT 1"), sizeof(query) - 1);
	assert_memory_equal(buf, query, sizeof(query) - 1);
	assert_int_equal(fl_herd_pg_reply(hello, hl, 8192), (long)hl);
	assert_int_equal(fl_herd_pg_reply(answer, al, 8192), (long)al);
	for (size_t k = 0; k < al; k++) /* any prefix: not yet */
		assert_int_equal(fl_herd_pg_reply(answer, k, 8192), 0);
	assert_int_equal(fl_herd_pg_reply(answer, al, al - 1), -1); /* too big */
	/* a password wanted (MD5: 5), an ErrorResponse, a length below 4 */
	assert_int_equal(fl_herd_pg_reply("R\0\0\0\x0c\0\0\0\x05salt", 13, 8192), -1);
	assert_int_equal(fl_herd_pg_reply("E\0\0\0\x06S\0Z\0\0\0\x05I", 13, 8192), -1);
	assert_int_equal(fl_herd_pg_reply("Z\0\0\0\x03", 5, 8192), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lockstep_fails),	 cmocka_unit_test(test_jitter_passes),
		cmocka_unit_test(test_max_share_edges),	 cmocka_unit_test(test_backoff_delay),
		cmocka_unit_test(test_records),		 cmocka_unit_test(test_recovery_attempts),
		cmocka_unit_test(test_buckets),		 cmocka_unit_test(test_peak),
		cmocka_unit_test(test_postgres_framing), cmocka_unit_test(test_http_reply),
		cmocka_unit_test(test_scenario_keys),	 cmocka_unit_test(test_scenario_errors),
		cmocka_unit_test(test_target_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
