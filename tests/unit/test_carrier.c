// SPDX-License-Identifier: MIT
/* Carriers to an agent: the ssh carrier against a stand-in `ssh` on PATH
 * (a shell script answering each line), so that the command it runs, the
 * framing of requests and answers, the agent's exit status and a
 * connection that ends mid-request are checked without a network or
 * privileges; and the request lines `agent call` builds. */
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

#include "carrier.h"

static char dir[] = "/tmp/fl-carrier-XXXXXX";

/* ssh: writes its arguments to DIR/args, echoes each line as an answer,
 * ends with status 3 on a line "die", and with 7 at the end of input */
static const char fake_ssh[] = "#!/bin/sh\n"
			       "printf '%s\\n' \"$@\" >\"$FAKE_DIR/args\"\n"
			       "while IFS= read -r line; do\n"
			       "  [ \"$line\" = die ] && exit 3\n"
			       "  printf '{\"ok\":true,\"got\":%s}\\n' \"$line\"\n"
			       "done\n"
			       "exit 7\n";

static int setup(void **state)
{
	char path[256], *old = getenv("PATH"), *np = NULL;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ssh", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(fake_ssh, f);
	fclose(f);
	chmod(path, 0755);
	snprintf(path, sizeof(path), "%s/kubectl", dir); /* the same stand-in */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(fake_ssh, f);
	fclose(f);
	chmod(path, 0755);
	assert_int_not_equal(asprintf(&np, "%s:%s", dir, old ? old : "/usr/bin:/bin"), -1);
	setenv("PATH", np, 1);
	setenv("FAKE_DIR", dir, 1);
	free(np);
	return 0;
}

static int teardown(void **state)
{
	char path[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/ssh", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/kubectl", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/args", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

static char *slurp(const char *name)
{
	char path[256], *buf = calloc(1, 4096);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_true(fread(buf, 1, 4095, f) > 0);
	fclose(f);
	return buf;
}

static void test_ssh_carries_lines(void **state)
{
	char *opts[] = { "-o", "Port=2222", NULL }, *ans = NULL, *args;
	struct fl_carrier *c;

	(void)state;
	assert_int_equal(fl_carrier_ssh("root@h1", opts, NULL, &c), 0);
	assert_string_equal(c->ops->name, "ssh");
	assert_int_equal(fl_carrier_open(c), 0);
	assert_int_equal(fl_carrier_request(c, "{\"verb\":\"version\"}", &ans), 0);
	assert_string_equal(ans, "{\"ok\":true,\"got\":{\"verb\":\"version\"}}");
	free(ans);
	assert_int_equal(fl_carrier_request(c, "{\"verb\":\"list\"}", &ans), 0);
	assert_string_equal(ans, "{\"ok\":true,\"got\":{\"verb\":\"list\"}}");
	free(ans);
	assert_int_equal(fl_carrier_request(c, "two\nlines", &ans), -EINVAL);
	assert_int_equal(fl_carrier_close(c), 7); /* the agent's exit status */
	args = slurp("args");
	assert_string_equal(args, "-T\n-o\nBatchMode=yes\n-o\nPort=2222\nroot@h1\n"
				  "sudo fallacy agent --stdio\n");
	free(args);
}

static void test_connection_ends_mid_request(void **state)
{
	struct fl_carrier *c;
	char *ans = NULL;

	(void)state;
	assert_int_equal(fl_carrier_ssh("h1", NULL, "fallacy agent --stdio", &c), 0);
	assert_int_equal(fl_carrier_open(c), 0);
	assert_int_equal(fl_carrier_request(c, "die", &ans), -EPIPE);
	assert_null(ans);
	assert_int_equal(fl_carrier_close(c), 3);
}

static void test_ssh_takes_hosts_only(void **state)
{
	struct fl_carrier *c = NULL;

	(void)state;
	assert_int_equal(fl_carrier_ssh("-oProxyCommand=sh", NULL, NULL, &c), -EINVAL);
	assert_int_equal(fl_carrier_ssh("a b", NULL, NULL, &c), -EINVAL);
	assert_int_equal(fl_carrier_ssh("", NULL, NULL, &c), -EINVAL);
	assert_null(c);
}

static void test_kubectl_carries_lines(void **state)
{
	struct fl_kubectl k = { .pod = "fallacy-agent-x7k2p" };
	struct fl_carrier *c;
	char *ans = NULL, *args;

	(void)state;
	assert_int_equal(fl_carrier_kubectl(&k, &c), 0);
	assert_string_equal(c->ops->name, "kubectl");
	assert_string_equal(c->what, "kubectl exec -n fallacy fallacy-agent-x7k2p");
	assert_int_equal(fl_carrier_open(c), 0);
	assert_int_equal(fl_carrier_request(c, "{\"verb\":\"version\"}", &ans), 0);
	assert_string_equal(ans, "{\"ok\":true,\"got\":{\"verb\":\"version\"}}");
	free(ans);
	assert_int_equal(fl_carrier_close(c), 7);
	args = slurp("args");
	assert_string_equal(args, "exec\n-i\n-n\nfallacy\nfallacy-agent-x7k2p\n--\n"
				  "fallacy\nagent\n--stdio\n");
	free(args);
	/* a context, another namespace and command (words, no shell) */
	k.ns = "chaos";
	k.context = "kind-lab";
	k.remote = "/opt/fallacy/bin/fallacy  -v agent --stdio";
	assert_int_equal(fl_carrier_kubectl(&k, &c), 0);
	assert_int_equal(fl_carrier_open(c), 0);
	assert_int_equal(fl_carrier_request(c, "die", &ans), -EPIPE);
	assert_int_equal(fl_carrier_close(c), 3);
	args = slurp("args");
	assert_string_equal(args, "--context=kind-lab\nexec\n-i\n-n\nchaos\n"
				  "fallacy-agent-x7k2p\n--\n/opt/fallacy/bin/fallacy\n-v\nagent\n"
				  "--stdio\n");
	free(args);
}

static void test_kubectl_takes_names_only(void **state)
{
	struct fl_kubectl k = { .pod = "-it" };
	struct fl_carrier *c = NULL;

	(void)state;
	assert_int_equal(fl_carrier_kubectl(&k, &c), -EINVAL);
	k.pod = "Agent";
	assert_int_equal(fl_carrier_kubectl(&k, &c), -EINVAL);
	k.pod = "agent-1";
	k.ns = "a.b";
	assert_int_equal(fl_carrier_kubectl(&k, &c), -EINVAL);
	k.ns = NULL;
	k.context = "--kubeconfig=/tmp/x";
	assert_int_equal(fl_carrier_kubectl(&k, &c), -EINVAL);
	assert_null(c);
	assert_true(fl_k8s_name_ok("etcd-0.db", 253));
	assert_false(fl_k8s_name_ok("etcd-", 253));
	assert_false(fl_k8s_name_ok("etcd_0", 253));
	assert_false(fl_k8s_name_ok("abc", 2));
}

static void test_request_lines(void **state)
{
	char *l = NULL;

	(void)state;
	assert_int_equal(fl_carrier_line("targets", NULL, &l), 0);
	assert_string_equal(l, "{\"verb\":\"targets\"}");
	free(l);
	assert_int_equal(fl_carrier_line("put", " {\"target\":{\"pid\":1}}", &l), 0);
	assert_string_equal(l, "{\"verb\":\"put\",\"target\":{\"pid\":1}}");
	free(l);
	assert_int_equal(fl_carrier_line("list", "{ }", &l), 0);
	assert_string_equal(l, "{\"verb\":\"list\"}");
	free(l);
	assert_int_equal(fl_carrier_line("put", "[1]", &l), -EINVAL);
	assert_int_equal(fl_carrier_line("put", "{\n}", &l), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ssh_carries_lines),
		cmocka_unit_test(test_connection_ends_mid_request),
		cmocka_unit_test(test_ssh_takes_hosts_only),
		cmocka_unit_test(test_kubectl_carries_lines),
		cmocka_unit_test(test_kubectl_takes_names_only),
		cmocka_unit_test(test_request_lines),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
