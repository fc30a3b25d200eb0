// SPDX-License-Identifier: MIT
/* fallacy agent: the router and the agent verbs against a fake session
 * (request and answer shapes, refusals with line:col, put's plan and its
 * idempotence, leases), and the stdio loop over real pipes. No
 * privileges: no namespace is touched. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent.h"
#include "clock.h"
#include "control.h"
#include "supervisor/session.h"

/* ---- a fake session: faults by id, every request recorded ---------------- */

#define FAKE_MAX 32

static struct {
	char ids[FAKE_MAX][FL_FAULT_ID_MAX + 1];
	uint64_t duration[FAKE_MAX];
	int n, next, adds, dels, clears;
	bool refuse_extend; /* as a supervisor whose fault just expired */
	char log[4096]; /* every request, one per line */
} fake;

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	size_t len = strlen(fake.log);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fake.log + len, sizeof(fake.log) - len, fmt, ap);
	va_end(ap);
}

static int fake_add(struct fl_ctl *c, const struct fl_fault *f, char **out, char **msg)
{
	(void)c;
	(void)msg;
	assert_true(fake.n < FAKE_MAX);
	snprintf(fake.ids[fake.n], sizeof(fake.ids[0]), "%s", f->id[0] ? f->id : "");
	if (!f->id[0])
		snprintf(fake.ids[fake.n], sizeof(fake.ids[0]), "f%d", ++fake.next);
	fake.duration[fake.n] = f->duration_ns;
	note("add %s %s\n", fake.ids[fake.n], f->ops->name);
	fake.adds++;
	assert_int_not_equal(asprintf(out, "{\"id\": \"%s\", \"seed\": 1}\n", fake.ids[fake.n]),
			     -1);
	fake.n++;
	return 0;
}

static int fake_find(const char *id)
{
	for (int i = 0; i < fake.n; i++)
		if (!strcmp(fake.ids[i], id))
			return i;
	return -1;
}

static int fake_request(struct fl_ctl *c, int argc, char **argv, char **out, char **msg)
{
	int i;

	(void)c;
	for (i = 0; i < argc; i++)
		note("%s%s", i ? " " : "", argv[i]);
	note("\n");
	if (!strcmp(argv[0], "list")) {
		*out = strdup("[{\"id\": \"x\", \"counters\": {\"packets\": 3}}]\n");
		return 0;
	}
	if (!strcmp(argv[0], "clear")) {
		fake.clears++;
		return 0;
	}
	if (!strcmp(argv[0], "extend")) {
		if (fake.refuse_extend)
			*msg = strdup("fault extend @netns-h1: no fault 'f1'\n");
		return fake.refuse_extend ? 2 : 0;
	}
	i = fake_find(argv[1]);
	if (i < 0)
		return 2;
	fake.dels++;
	memmove(fake.ids[i], fake.ids[i + 1], (size_t)(fake.n - i - 1) * sizeof(fake.ids[0]));
	fake.n--;
	return 0;
}

static int fake_stats(struct fl_ctl *c, struct fl_fault_stat **v, int *n)
{
	(void)c;
	*v = calloc(FAKE_MAX, sizeof(**v));
	for (int i = 0; i < fake.n; i++)
		snprintf((*v)[i].id, sizeof((*v)[i].id), "%s", fake.ids[i]);
	*n = fake.n;
	return 0;
}

static const struct fl_ctl_ops fake_ops = { fake_add, fake_request, fake_stats };

static struct fl_agent *new_agent(void)
{
	struct fl_agent *a;

	memset(&fake, 0, sizeof(fake));
	assert_int_equal(fl_agent_new(&a), 0);
	a->ops = &fake_ops;
	return a;
}

/* One request; the answer must be exactly one line. */
static char *ask(struct fl_agent *a, const char *line, int want)
{
	char *ans = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&ans, &n);

	assert_non_null(f);
	assert_int_equal(fl_agent_handle(a, line, strlen(line), f), want);
	fclose(f);
	assert_non_null(ans);
	assert_true(n > 1 && ans[n - 1] == '\n' && !memchr(ans, '\n', n - 1));
	return ans;
}

static void expect(struct fl_agent *a, const char *line, int want, const char *part)
{
	char *ans = ask(a, line, want);

	if (!strstr(ans, part))
		fail_msg("answer to %s\n  is %s  without %s", line, ans, part);
	free(ans);
}

#define T1 "\"target\":{\"netns\":\"h1\"}"

/* ---- tests ---------------------------------------------------------------- */

static void test_put_is_idempotent(void **state)
{
	struct fl_agent *a = new_agent();

	(void)state;
	expect(a,
	       "{\"verb\":\"put\"," T1
	       ",\"faults\":[\"delay 50ms\",\"loss 10%\"],\"lease\":\"5s\"}",
	       0,
	       "{\"ok\":true,\"verb\":\"put\",\"target\":{\"netns\":\"h1\"},\"lease\":\"5s\","
	       "\"added\":[\"f1\",\"f2\"],\"removed\":[],\"kept\":[]}");
	assert_int_equal(fake.adds, 2);
	assert_int_equal(fake.duration[0], 5 * FL_NSEC_PER_SEC); /* the lease, as --duration */
	/* the same set in other words (blanks, a list): nothing added or removed */
	fake.log[0] = '\0';
	expect(a,
	       "{\"verb\":\"put\"," T1 ",\"faults\":[[\"loss\",\"10%\"],\"delay  50ms\"],"
	       "\"lease\":\"5s\",\"seq\":2}",
	       0, "\"added\":[],\"removed\":[],\"kept\":[\"f2\",\"f1\"]");
	assert_int_equal(fake.adds, 2);
	assert_int_equal(fake.dels, 0);
	assert_string_equal(fake.log, "extend 5s f2 f1\n"); /* counters kept: renewed only */
	/* a smaller set: the difference goes */
	expect(a, "{\"verb\":\"put\"," T1 ",\"faults\":[\"delay 50ms\"]}", 0,
	       "\"added\":[],\"removed\":[\"f2\"],\"kept\":[\"f1\"]");
	assert_int_equal(fake.n, 1);
	/* a changed parameter is another fault: added, the old one removed */
	expect(a, "{\"verb\":\"put\"," T1 ",\"faults\":[\"delay 60ms\"]}", 0,
	       "\"added\":[\"f3\"],\"removed\":[\"f1\"],\"kept\":[]");
	expect(a, "{\"verb\":\"list\"," T1 "}", 0, "\"faults\":[{\"id\": \"x\", \"counters\"");
	fl_agent_free(a);
}

static void test_put_refusals_change_nothing(void **state)
{
	struct fl_agent *a = new_agent();

	(void)state;
	expect(a, "{\"verb\":\"put\",\"faults\":[\"delay 50ms\"]}", -EINVAL,
	       "put: no 'target' (netns NAME or PATH, or pid PID)");
	expect(a, "{\"verb\":\"put\"," T1 ",\"faults\":[\"delay 50ms\",\"lose 5%\"]}", -EINVAL,
	       "\"error\":\"request:1:63: unknown fault 'lose' (did you mean 'loss'?)\"");
	expect(a, "{\"verb\":\"put\"," T1 ",\"faults\":[\"delay 5ms --duration 3s\"]}", -EINVAL,
	       "--duration: a put's faults end with its lease");
	expect(a, "{\"verb\":\"put\"," T1 ",\"faults\":[\"loss 1%\",\"loss 1%\"]}", -EINVAL,
	       "the same fault as faults[0]");
	expect(a, "{\"verb\":\"put\"," T1 ",\"faults\":[\"loss 1%\"],\"lease\":\"none\"}", -EINVAL,
	       "request:1:69: an agent's faults always have a lease");
	expect(a, "{\"verb\":\"put\"," T1 ",\"faults\":[\"loss 1%\"],\"lease\":\"50ms\"}", -EINVAL,
	       "a lease is 'none' or a duration from 1s to 24h");
	expect(a, "{\"verb\":\"put\"," T1 ",\"faults\":\"loss 1%\"}", -EINVAL,
	       "'faults' is a list of faults");
	expect(a, "{\"verb\":\"put\",\"target\":{\"netns\":\"h1\",\"pid\":1},\"faults\":[]}",
	       -EINVAL, "'target' names one of netns, pid or pod");
	expect(a, "{\"verb\":\"put\",\"target\":{\"netns\":\"/tmp/x\"},\"faults\":[]}", -EINVAL,
	       "request:1:34: '/tmp/x': a namespace path is /run/netns/NAME or /proc/PID/ns/net");
	expect(a, "{\"verb\":\"put\",\"target\":{\"pod\":\"u\"},\"faults\":[]}", -EINVAL,
	       "request:1:");
	assert_int_equal(fake.adds, 0);
	assert_int_equal(a->n, 0); /* no target kept for a refused put */
	fl_agent_free(a);
}

/* A kept fault that cannot be renewed (it expired meanwhile): the put is
 * refused before anything is added or removed. */
static void test_put_refused_at_renewal_changes_nothing(void **state)
{
	struct fl_agent *a = new_agent();

	(void)state;
	expect(a, "{\"verb\":\"put\"," T1 ",\"faults\":[\"delay 50ms\",\"loss 1%\"]}", 0,
	       "\"added\":[\"f1\",\"f2\"]");
	fake.refuse_extend = true;
	expect(a, "{\"verb\":\"put\"," T1 ",\"faults\":[\"delay 50ms\",\"rate 1mbit\"]}", -EINVAL,
	       "no fault 'f1'");
	assert_int_equal(fake.adds, 2);
	assert_int_equal(fake.dels, 0);
	assert_int_equal(fake.n, 2);
	fl_agent_free(a);
}

static void test_targets_by_path_and_pid(void **state)
{
	struct fl_agent *a = new_agent();

	(void)state;
	expect(a,
	       "{\"verb\":\"put\",\"target\":{\"netns\":\"/run/netns/h1\"},\"faults\":[\"loss 1%\"]}",
	       0, "\"target\":{\"netns\":\"h1\"}");
	expect(a,
	       "{\"verb\":\"put\",\"target\":{\"netns\":\"/proc/42/ns/net\"},\"faults\":[\"loss 1%\"]}",
	       0, "\"target\":{\"pid\":42}");
	expect(a, "{\"verb\":\"put\",\"target\":{\"pid\":43},\"faults\":[\"loss 1%\"]}", 0,
	       "\"target\":{\"pid\":43}");
	assert_int_equal(a->n, 3);
	assert_string_equal(a->tc[1]->target.session, "@pid-42");
	/* the same namespace by name and path: one target, kept */
	expect(a, "{\"verb\":\"put\"," T1 ",\"faults\":[\"loss 1%\"]}", 0, "\"kept\":[\"f1\"]");
	expect(a, "{\"verb\":\"list\"}", 0,
	       "\"targets\":[{\"target\":{\"netns\":\"h1\"},\"faults\":[{\"id\"");
	fl_agent_free(a);
}

static void test_renew_reset(void **state)
{
	struct fl_agent *a = new_agent();
	uint64_t due;

	(void)state;
	expect(a, "{\"verb\":\"renew\"," T1 "}", -EINVAL, "renew: nothing put on @netns-h1");
	expect(a,
	       "{\"verb\":\"put\"," T1 ",\"faults\":[\"loss 1%\",\"delay 1ms\"],\"lease\":\"2s\"}",
	       0, "\"added\":[\"f1\",\"f2\"]");
	due = a->tc[0]->lease_due_ns;
	fake.log[0] = '\0';
	expect(a, "{\"verb\":\"renew\"," T1 ",\"lease\":\"30s\"}", 0,
	       "{\"ok\":true,\"verb\":\"renew\",\"target\":{\"netns\":\"h1\"},\"lease\":\"30s\","
	       "\"renewed\":[\"f1\",\"f2\"]}");
	assert_string_equal(fake.log, "extend 30s f1 f2\n");
	assert_true(a->tc[0]->lease_due_ns > due + 20 * FL_NSEC_PER_SEC);
	expect(a, "{\"verb\":\"reset\"," T1 "}", 0, "\"removed\":[\"f2\",\"f1\"]");
	assert_int_equal(fake.n, 0);
	assert_int_equal(fake.clears, 1); /* nothing else was left: the session ends */
	assert_int_equal(a->n, 0);
	expect(a, "{\"verb\":\"reset\"," T1 "}", 0, "\"removed\":[]"); /* again: nothing */
	expect(a, "{\"verb\":\"list\"}", 0, "\"targets\":[]");
	fl_agent_free(a);
}

static void test_lease_runs_out(void **state)
{
	struct fl_agent *a = new_agent();

	(void)state;
	expect(a, "{\"verb\":\"put\"," T1 ",\"faults\":[\"loss 1%\"],\"lease\":\"3s\"}", 0,
	       "\"added\":[\"f1\"]");
	assert_int_equal(fl_agent_expire(a, fl_clock_mono_ns()), 0);
	assert_int_equal(fake.n, 1);
	assert_int_equal(fl_agent_expire(a, fl_clock_mono_ns() + 4 * FL_NSEC_PER_SEC), 1);
	assert_int_equal(fake.n, 0);
	assert_int_equal(a->n, 0);
	fl_agent_free(a);
}

static void test_verbs_of_agent_and_socket(void **state)
{
	struct fl_target t = { .kind = FL_TARGET_NETNS, .netns = "x", .session = "@netns-x" };
	struct fl_agent *a = new_agent();
	struct fl_ctl *c;
	char *ans = NULL;

	(void)state;
	ans = ask(a, "{\"verb\":\"version\"}", 0);
	assert_non_null(strstr(ans, "\"scope\":\"agent\""));
	assert_non_null(strstr(ans, "\"put\""));
	assert_null(strstr(ans, "\"add\"")); /* the agent takes whole sets */
	free(ans);
	expect(a, "{\"verb\":\"add\"," T1 ",\"fault\":\"loss 1%\"}", -EINVAL,
	       "add: an agent takes a target's whole fault set with put");
	expect(a, "{\"verb\":\"rset\"}", -EINVAL, "unknown verb 'rset' (did you mean 'reset'?)");
	expect(a, "{\"verb\":\"renew\"}", -EINVAL, "renew: no 'target'");
	/* a control socket's handler knows none of it */
	assert_int_equal(fl_ctl_new(&t, "wrap", &c), 0);
	c->ops = &fake_ops;
	assert_int_equal(fl_ctl_answer(c, "{\"verb\":\"put\",\"faults\":[]}", 26, &ans), -EINVAL);
	assert_non_null(
		strstr(ans, "only fallacy agent serves targets, put, renew, reset and capture"));
	free(ans);
	fl_ctl_free(c);
	fl_agent_free(a);
}

static void test_capture_requests(void **state)
{
	struct fl_agent *a = new_agent();

	(void)state;
	expect(a, "{\"verb\":\"capture\"," T1 ",\"capture\":{\"action\":\"stap\"}}", -EINVAL,
	       "request:1:64: capture: unknown action 'stap' (start, stop or fetch)");
	expect(a, "{\"verb\":\"capture\"," T1 ",\"capture\":{\"action\":\"start\"}}", -EINVAL,
	       "'iface'");
	expect(a,
	       "{\"verb\":\"capture\"," T1
	       ",\"capture\":{\"action\":\"start\",\"iface\":\"eth0\",\"duration\":\"2h\"}}",
	       -EINVAL, "a capture lasts from 1ns to 1h");
	expect(a,
	       "{\"verb\":\"capture\"," T1
	       ",\"capture\":{\"action\":\"start\",\"iface\":\"../x\"}}",
	       -EINVAL, "iface");
	expect(a, "{\"verb\":\"capture\"," T1 ",\"capture\":{\"action\":\"stop\",\"id\":\"c9\"}}",
	       -EINVAL, "capture: no capture 'c9' on @netns-h1");
	expect(a, "{\"verb\":\"capture\"," T1 "}", -EINVAL, "'capture' is");
	assert_int_equal(a->n_cap, 0);
	fl_agent_free(a);
}

/* fetch: pieces of a capture's file in base64, by id only (never a path) */
static void test_capture_fetch(void **state)
{
	char dir[] = "/tmp/fl-agent-XXXXXX", path[128];
	struct fl_agent *a = new_agent();
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	a->capture_dir = dir;
	snprintf(path, sizeof(path), "%s/%d-c7.pcap", dir, (int)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("foobar", f);
	fclose(f);
	expect(a, "{\"verb\":\"capture\"," T1 ",\"capture\":{\"action\":\"fetch\",\"id\":\"c7\"}}",
	       0, "\"offset\":0,\"size\":6,\"running\":false,\"data\":\"Zm9vYmFy\"");
	expect(a,
	       "{\"verb\":\"capture\"," T1
	       ",\"capture\":{\"action\":\"fetch\",\"id\":\"c7\",\"offset\":3}}",
	       0, "\"offset\":3,\"size\":6,\"running\":false,\"data\":\"YmFy\"");
	expect(a,
	       "{\"verb\":\"capture\"," T1
	       ",\"capture\":{\"action\":\"fetch\",\"id\":\"c7\",\"offset\":9}}",
	       0, "\"data\":\"\"");
	expect(a,
	       "{\"verb\":\"capture\"," T1 ",\"capture\":{\"action\":\"fetch\",\"id\":\"../c7\"}}",
	       -EINVAL, "no capture '../c7'");
	expect(a, "{\"verb\":\"capture\"," T1 ",\"capture\":{\"action\":\"fetch\",\"id\":\"c8\"}}",
	       -EINVAL, "No such file");
	unlink(path);
	rmdir(dir);
	fl_agent_free(a);
}

static void test_targets_lists_namespaces(void **state)
{
	char dir[] = "/tmp/fl-agent-XXXXXX", path[128];
	struct fl_agent *a = new_agent();
	struct stat st;
	char *ans, want[256];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fl-demo.n1", dir);
	fclose(fopen(path, "w"));
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/h1", dir);
	fclose(fopen(path, "w"));
	a->netns_dir = dir;
	ans = ask(a, "{\"verb\":\"targets\",\"seq\":9}", 0);
	snprintf(want, sizeof(want),
		 "{\"netns\":\"fl-demo.n1\",\"path\":\"%s/fl-demo.n1\",\"inode\":%llu,"
		 "\"lab\":\"demo\",\"node\":\"n1\"},{\"netns\":\"h1\"",
		 dir, (unsigned long long)st.st_ino);
	if (!strstr(ans, want))
		fail_msg("%s\nwithout %s", ans, want);
	assert_non_null(strstr(ans, "\"host_inode\":"));
	free(ans);
	unlink(path);
	snprintf(path, sizeof(path), "%s/fl-demo.n1", dir);
	unlink(path);
	rmdir(dir);
	fl_agent_free(a);
}

static char *slurp(const char *path)
{
	char *buf = calloc(1, 4096);
	FILE *f = fopen(path, "r");

	if (f) {
		if (!fread(buf, 1, 4095, f))
			buf[0] = '\0';
		fclose(f);
	}
	return buf;
}

/* RUN_DIR/agent-sessions: this agent's records come and go with its
 * targets; at start, a gone agent's record of a session that is gone too
 * is dropped, a live agent's is kept. */
static void test_records(void **state)
{
	char dir[] = "/tmp/fl-agent-run-XXXXXX", path[128], *text, want[128];
	unsigned long long start;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	setenv("FALLACY_RUN_DIR", dir, 1);
	snprintf(path, sizeof(path), "%s/agent-sessions", dir);
	fl_agent_record("@netns-h1", true);
	fl_agent_record("@pid-42", true);
	text = slurp(path);
	start = 0;
	assert_int_equal(sscanf(text, "@netns-h1 %*d %llu", &start), 1);
	assert_true(start > 0);
	assert_non_null(strstr(text, "@pid-42 "));
	free(text);
	fl_agent_record("@netns-h1", false);
	text = slurp(path);
	assert_null(strstr(text, "@netns-h1"));
	free(text);
	fl_agent_record("@pid-42", false);
	assert_int_equal(access(path, F_OK), -1); /* empty: removed */
	/* a dead agent (pid 1 with another start time) and a live one (us) */
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "@netns-fl-gone-%d 1 12345\n@netns-fl-mine %d %llu\n", (int)getpid(),
		(int)getpid(), start);
	fclose(f);
	assert_int_equal(fl_agent_recover(), 1);
	text = slurp(path);
	snprintf(want, sizeof(want), "@netns-fl-mine %d %llu\n", (int)getpid(), start);
	assert_string_equal(text, want);
	free(text);
	unlink(path);
	rmdir(dir);
	unsetenv("FALLACY_RUN_DIR");
}

static void test_plan(void **state)
{
	char *have[] = { "a", "b", NULL, "a" }, *want[] = { "a", "c", "a" };
	int keep[3];
	bool drop[4];

	(void)state;
	fl_ctl_plan(have, 4, want, 3, keep, drop);
	assert_int_equal(keep[0], 0);
	assert_int_equal(keep[1], -1);
	assert_int_equal(keep[2], 3);
	assert_false(drop[0]);
	assert_true(drop[1]);
	assert_true(drop[2]); /* a fault without words (not put) never matches */
	assert_false(drop[3]);
}

/* The stdio loop over a pipe: one answer per line, a last line without
 * its newline, an overlong line refused once; EOF ends it once the
 * leases ran out. */
static void test_serve_pipe(void **state)
{
	struct fl_agent *a = new_agent();
	char *ans = NULL, *big;
	size_t n = 0, lines = 0;
	FILE *out;
	int p[2];
	const char *req = "{\"verb\":\"version\",\"seq\":1}\n\n{\"verb\":\"list\",\"seq\":2}\n";
	const size_t bigsz = FL_CTL_LINE_MAX + 100;

	(void)state;
	assert_int_equal(pipe(p), 0);
	if (fork() == 0) {
		close(p[0]);
		big = malloc(bigsz);
		memset(big, 'x', bigsz);
		big[bigsz - 1] = '\n';
		if (write(p[1], req, strlen(req)) < 0 || write(p[1], big, bigsz) < 0 ||
		    write(p[1], "{\"verb\":\"version\",\"seq\":3}", 26) < 0)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	out = open_memstream(&ans, &n); /* after the fork: the writer has none */
	assert_non_null(out);
	assert_int_equal(fl_agent_serve(a, p[0], out), 0);
	close(p[0]);
	fclose(out);
	for (size_t i = 0; i < n; i++)
		lines += ans[i] == '\n';
	assert_int_equal(lines, 4);
	assert_non_null(strstr(ans, "\"seq\":2,\"verb\":\"list\",\"targets\":[]"));
	assert_non_null(strstr(ans, "request longer than 65536 bytes"));
	assert_non_null(strstr(ans, "\"seq\":3"));
	free(ans);
	fl_agent_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_is_idempotent),
		cmocka_unit_test(test_put_refusals_change_nothing),
		cmocka_unit_test(test_put_refused_at_renewal_changes_nothing),
		cmocka_unit_test(test_targets_by_path_and_pid),
		cmocka_unit_test(test_renew_reset),
		cmocka_unit_test(test_lease_runs_out),
		cmocka_unit_test(test_verbs_of_agent_and_socket),
		cmocka_unit_test(test_capture_requests),
		cmocka_unit_test(test_capture_fetch),
		cmocka_unit_test(test_targets_lists_namespaces),
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_serve_pipe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
