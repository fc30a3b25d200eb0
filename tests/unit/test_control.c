// SPDX-License-Identifier: MIT
/* The control protocol: the verb handler against a fake session (requests,
 * answers, scope, refusals), and its Unix-socket transport for real (a
 * socket of this user's in a scratch folder: no privileges needed). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "control.h"
#include "ctlsock.h"
#include "supervisor/session.h"

/* ---- a fake session: faults by id, no supervisor ------------------------ */

#define FAKE_MAX 16

static struct {
	char ids[FAKE_MAX][FL_FAULT_ID_MAX + 1];
	char kinds[FAKE_MAX][16];
	int n, next;
	char last[512]; /* the words of the last request */
	uint64_t last_seed;
	int adapted;
} fake;

static int fake_add(struct fl_ctl *c, const struct fl_fault *f, char **out, char **msg)
{
	(void)c;
	if (fake.n == FAKE_MAX) {
		*msg = strdup("fault add x: too many faults\n");
		return 2;
	}
	if (f->id[0])
		snprintf(fake.ids[fake.n], sizeof(fake.ids[0]), "%s", f->id);
	else
		snprintf(fake.ids[fake.n], sizeof(fake.ids[0]), "f%d", ++fake.next);
	snprintf(fake.kinds[fake.n], sizeof(fake.kinds[0]), "%s", f->ops->name);
	fl_fault_format(f, fake.last, sizeof(fake.last));
	fake.last_seed = f->seed;
	assert_int_not_equal(asprintf(out, "{\"id\": \"%s\", \"seed\": %llu, \"rules\": 1}\n",
				      fake.ids[fake.n], (unsigned long long)f->seed),
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

static void fake_drop(int i)
{
	memmove(fake.ids[i], fake.ids[i + 1], (size_t)(fake.n - i - 1) * sizeof(fake.ids[0]));
	memmove(fake.kinds[i], fake.kinds[i + 1], (size_t)(fake.n - i - 1) * sizeof(fake.kinds[0]));
	fake.n--;
}

static int fake_request(struct fl_ctl *c, int argc, char **argv, char **out, char **msg)
{
	size_t len = 0;
	int i;

	(void)c;
	fake.last[0] = '\0';
	for (i = 0; i < argc; i++)
		len += (size_t)snprintf(fake.last + len, sizeof(fake.last) - len, "%s%s",
					i ? " " : "", argv[i]);
	if (!strcmp(argv[0], "list")) {
		FILE *f = open_memstream(out, &len);

		if (!f)
			return -ENOMEM;
		fputc('[', f);
		for (i = 1; i < argc; i++)
			fprintf(f, "%s\n{\"id\": \"%s\"}", i > 1 ? "," : "", argv[i]);
		fputs("]\n", f);
		fclose(f);
		return 0;
	}
	i = argc > 1 ? fake_find(argv[1]) : -1;
	if (i < 0) {
		*msg = strdup("fault x: no such fault\n");
		return 2;
	}
	if (!strcmp(argv[0], "del"))
		fake_drop(i);
	return 0;
}

static int fake_stats(struct fl_ctl *c, struct fl_fault_stat **v, int *n)
{
	(void)c;
	*v = calloc(FAKE_MAX, sizeof(**v));
	for (int i = 0; i < fake.n; i++) {
		snprintf((*v)[i].id, sizeof((*v)[i].id), "%s", fake.ids[i]);
		snprintf((*v)[i].kind, sizeof((*v)[i].kind), "%s", fake.kinds[i]);
		(*v)[i].c.packets = 10 + (uint64_t)i;
		(*v)[i].c.dropped = 1;
	}
	*n = fake.n;
	return 0;
}

static const struct fl_ctl_ops fake_ops = { fake_add, fake_request, fake_stats };

static void adapt(struct fl_ctl *c, struct fl_fault *f)
{
	(void)c;
	(void)f;
	fake.adapted++;
}

static struct fl_ctl *new_ctl(void)
{
	struct fl_target t = { .kind = FL_TARGET_NETNS, .netns = "x", .session = "@netns-x" };
	struct fl_ctl *c;

	memset(&fake, 0, sizeof(fake));
	assert_int_equal(fl_ctl_new(&t, "test", &c), 0);
	c->ops = &fake_ops;
	c->adapt = adapt;
	return c;
}

/* One request; the answer must be one line. */
static char *ask(struct fl_ctl *c, const char *line, int want)
{
	char *ans = NULL;

	assert_int_equal(fl_ctl_answer(c, line, strlen(line), &ans), want);
	assert_non_null(ans);
	assert_non_null(strchr(ans, '\n'));
	assert_null(strchr(ans, '\n') + 1 == ans + strlen(ans) ? NULL : "more than one line");
	return ans;
}

static void expect(struct fl_ctl *c, const char *line, int want, const char *part)
{
	char *ans = ask(c, line, want);

	if (!strstr(ans, part))
		fail_msg("answer to %s\n  is %s  without %s", line, ans, part);
	free(ans);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_add_list_counters_del(void **state)
{
	struct fl_ctl *c = new_ctl();

	(void)state;
	expect(c, "{\"verb\":\"add\",\"fault\":\"delay 50ms --port 6379\",\"seq\":1}", 0,
	       "{\"ok\":true,\"seq\":1,\"verb\":\"add\",\"fault\":{\"id\": \"f1\", \"seed\": ");
	assert_non_null(strstr(fake.last, "delay 50ms"));
	assert_non_null(strstr(fake.last, "--port 6379"));
	assert_int_equal(fake.adapted, 1);
	assert_true(fake.last_seed <= FL_SEED_MAX); /* chosen, and said */
	/* words as a list, an id of one's own, seq as a string */
	expect(c,
	       "{\"verb\":\"add\",\"fault\":[\"loss\",\"5%\",\"--id\",\"cut\",\"--seed\",\"7\"],"
	       "\"seq\":\"a\"}",
	       0, "\"seq\":\"a\"");
	assert_int_equal(fake.last_seed, 7);
	expect(c, "{\"verb\":\"list\"}", 0, "\"faults\":[ {\"id\": \"f1\"}, {\"id\": \"cut\"}]");
	assert_string_equal(fake.last, "list f1 cut");
	expect(c, "{\"verb\":\"counters\",\"id\":\"cut\"}", 0,
	       "\"counters\":[{\"id\":\"cut\",\"kind\":\"loss\",\"packets\":11,");
	expect(c, "{\"verb\":\"change\",\"id\":\"f1\",\"fault\":\"delay 20ms\"}", 0,
	       "\"id\":\"f1\"");
	assert_string_equal(fake.last, "change f1 delay 20ms");
	expect(c, "{\"verb\":\"del\",\"id\":\"f1\"}", 0,
	       "{\"ok\":true,\"verb\":\"del\",\"id\":\"f1\"}");
	expect(c, "{\"verb\":\"clear\"}", 0, "\"removed\":[\"cut\"]");
	assert_int_equal(fake.n, 0);
	expect(c, "{\"verb\":\"list\"}", 0, "\"faults\":[]");
	fl_ctl_free(c);
}

static void test_scope(void **state)
{
	struct fl_ctl *c = new_ctl();
	struct fl_fault_stat *v;
	int n;

	(void)state;
	/* a fault of the session that this handler did not add */
	snprintf(fake.ids[0], sizeof(fake.ids[0]), "wrap-delay");
	snprintf(fake.kinds[0], sizeof(fake.kinds[0]), "delay");
	fake.n = 1;
	expect(c, "{\"verb\":\"del\",\"id\":\"wrap-delay\"}", -EINVAL,
	       "no fault 'wrap-delay' added through this control socket");
	expect(c, "{\"verb\":\"change\",\"id\":\"wrap-delay\",\"fault\":\"delay 1ms\"}", -EINVAL,
	       "no fault 'wrap-delay'");
	expect(c, "{\"verb\":\"counters\"}", 0, "\"counters\":[]");
	expect(c, "{\"verb\":\"clear\"}", 0, "\"removed\":[]");
	assert_int_equal(fake.n, 1);
	/* ours expire (--duration): forgotten at the next list */
	expect(c, "{\"verb\":\"add\",\"fault\":\"loss 1% --duration 1s\"}", 0, "\"id\": \"f1\"");
	fake_drop(1);
	expect(c, "{\"verb\":\"list\"}", 0, "\"faults\":[]");
	expect(c, "{\"verb\":\"del\",\"id\":\"f1\"}", -EINVAL, "no fault 'f1'");
	assert_int_equal(fake_stats(c, &v, &n), 0);
	assert_int_equal(n, 1);
	free(v);
	fl_ctl_free(c);
}

static void test_refusals(void **state)
{
	struct fl_ctl *c = new_ctl();
	static char big[FL_CTL_LINE_MAX + 10];

	(void)state;
	expect(c, "not json", -EINVAL, "{\"ok\":false,\"error\":\"request:1:1: a request is one");
	expect(c, "[1,2]", -EINVAL, "one JSON object");
	expect(c, "{\"fault\":\"loss 1%\"}", -EINVAL, "no 'verb'");
	expect(c, "{\"verb\":\"ad\",\"seq\":3}", -EINVAL,
	       "{\"ok\":false,\"seq\":3,\"error\":\"request:1:10: unknown verb 'ad' (did you mean "
	       "'add'?)\"}");
	/* a seq beyond int64 is echoed as written, not cast (UB, found by
	 * fuzz_control) */
	expect(c, "{\"verb\":\"ad\",\"seq\":1e300}", -EINVAL, "{\"ok\":false,\"seq\":\"1e300\"");
	expect(c, "{\"verb\":\"ad\",\"seq\":-1e19}", -EINVAL, "{\"ok\":false,\"seq\":\"-1e19\"");
	expect(c, "{\"verb\":\"add\",\"faul\":\"loss 1%\"}", -EINVAL,
	       "unknown key 'faul' in request (did you mean 'fault'?)");
	expect(c, "{\"verb\":\"add\"}", -EINVAL, "add: no 'fault'");
	expect(c, "{\"verb\":\"add\",\"fault\":\"  \"}", -EINVAL, "'fault' is empty");
	expect(c, "{\"verb\":\"add\",\"fault\":{\"a\":1}}", -EINVAL, "must be a string of words");
	expect(c, "{\"verb\":\"add\",\"fault\":\"lose 5%\"}", -EINVAL,
	       "add: unknown fault 'lose' (did you mean 'loss'?)");
	expect(c, "{\"verb\":\"add\",\"fault\":\"loss 5% --from n1\"}", -EINVAL,
	       "node names work in labs only");
	expect(c, "{\"verb\":\"del\"}", -EINVAL, "del: no 'id'");
	expect(c, "{\"verb\":\"change\",\"id\":\"x\"}", -EINVAL, "change: no 'fault'");
	expect(c, "{\"verb\":\"add\",\"fault\":\"loss 1%\",\"verb\":\"del\"}", -EINVAL,
	       "'verb' given twice");
	assert_int_equal(fake.n, 0); /* nothing was added by any of them */
	memset(big, ' ', FL_CTL_LINE_MAX + 9);
	big[FL_CTL_LINE_MAX + 9] = '\0';
	expect(c, big, -EINVAL, "longer than 65536 bytes");
	expect(c, "%YAML 1.2", -EINVAL, "\"ok\":false");
	fl_ctl_free(c);
}

static void test_version(void **state)
{
	struct fl_ctl *c = new_ctl();

	(void)state;
	expect(c, "{\"verb\":\"version\"}", 0, "\"protocol\":1,\"scope\":\"test\"");
	expect(c, "{\"verb\":\"version\"}", 0,
	       "\"verbs\":[\"add\",\"change\",\"del\",\"list\",\"clear\",\"counters\",\"version\"]");
	expect(c, "{\"verb\":\"version\"}", 0, "\"kinds\":[\"loss\",");
	fl_ctl_free(c);
}

static void test_peer_check(void **state)
{
	(void)state;
	assert_true(fl_peer_allowed(1000, 1000));
	assert_true(fl_peer_allowed(0, 1000));
	assert_false(fl_peer_allowed(1001, 1000));
	assert_false(fl_peer_allowed(65534, 0));
}

/* The transport for real: requests over one connection, answered in order;
 * the folder 0700 and the socket 0600, both gone after close. */
static void test_socket(void **state)
{
	struct fl_ctl *c = new_ctl();
	struct fl_ctlsock *s;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/fl-ctl-test.XXXXXX", sub[64], buf[4096];
	const char req[] = "{\"verb\":\"version\",\"seq\":1}\n{\"verb\":\"ad\",\"seq\":2}\n";
	struct stat st;
	size_t n = 0;
	ssize_t r;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/control", dir);
	assert_int_equal(fl_ctlsock_open(sub, getuid(), getgid(), c, &s), 0);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(stat(fl_ctlsock_path(s), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(fl_ctlsock_start(s), 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", fl_ctlsock_path(s));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(fd, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
	shutdown(fd, SHUT_WR);
	while ((r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	close(fd);
	assert_non_null(strstr(buf, "{\"ok\":true,\"seq\":1,\"verb\":\"version\""));
	assert_non_null(strstr(buf, "}\n{\"ok\":false,\"seq\":2,"));
	fl_ctlsock_close(s);
	assert_int_not_equal(stat(sub, &st), 0);
	/* an existing folder is refused: it would be somebody else's */
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_not_equal(fl_ctlsock_open(sub, getuid(), getgid(), c, &s), 0);
	rmdir(sub);
	rmdir(dir);
	fl_ctl_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_list_counters_del),
		cmocka_unit_test(test_scope),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_peer_check),
		cmocka_unit_test(test_socket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
