// SPDX-License-Identifier: MIT
/* Pods by UID (harness/pods.h) on synthetic /proc trees: both cgroup
 * layouts the kubelet uses, one shared namespace required, the host's
 * refused; and {"pod": UID} targets through the agent (a fake session).
 * No privileges. */
#include <errno.h>
#include <fcntl.h>
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
#include "control.h"
#include "pods.h"

#define UA "0b2c4e6a-1111-4a2b-8c3d-00000000000a"
#define UA_ "0b2c4e6a_1111_4a2b_8c3d_00000000000a"
#define UB "0b2c4e6a-2222-4a2b-8c3d-00000000000b"
#define UB_ "0b2c4e6a_2222_4a2b_8c3d_00000000000b"
#define UC "0b2c4e6a-3333-4a2b-8c3d-00000000000c"
#define UD "0b2c4e6a-4444-4a2b-8c3d-00000000000d"
#define UE "0b2c4e6a-5555-4a2b-8c3d-00000000000e"

static char root[64];

static void put_file(const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Process pid with cgroup text, in namespace ns (a file under .ns/). */
static void proc(int pid, const char *cgroup, const char *ns)
{
	char a[256], b[256];

	snprintf(a, sizeof(a), "%s/%d", root, pid);
	mkdir(a, 0755);
	snprintf(a, sizeof(a), "%s/%d/ns", root, pid);
	mkdir(a, 0755);
	snprintf(a, sizeof(a), "%d/cgroup", pid);
	put_file(a, cgroup);
	snprintf(a, sizeof(a), "%s/.ns/%s", root, ns);
	snprintf(b, sizeof(b), "%s/%d/ns/net", root, pid);
	assert_int_equal(link(a, b), 0);
}

/* self in host; pod A (cgroupfs, v1 and v2 lines) pids 30 and 12; pod B
 * (systemd) pid 20; pod C hostNetwork pid 40; pod D in two namespaces;
 * a process in no pod. */
static int tree_up(void **state)
{
	char p[256];

	(void)state;
	snprintf(root, sizeof(root), "/tmp/fl-pods-XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(p, sizeof(p), "%s/.ns", root);
	mkdir(p, 0755);
	put_file(".ns/host", "");
	put_file(".ns/a", "");
	put_file(".ns/b", "");
	put_file(".ns/d1", "");
	put_file(".ns/d2", "");
	snprintf(p, sizeof(p), "%s/self", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/self/ns", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/.ns/host", root);
	{
		char q[256];

		snprintf(q, sizeof(q), "%s/self/ns/net", root);
		assert_int_equal(link(p, q), 0);
	}
	proc(30,
	     "12:memory:/kubepods/burstable/pod" UA "/c0ffee\n0::/kubepods/burstable/pod" UA
	     "/c0ffee\n",
	     "a");
	proc(12, "0::/kubepods/burstable/pod" UA "/pause\n", "a");
	proc(20,
	     "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UB_
	     ".slice/cri-containerd-abc.scope\n",
	     "b");
	proc(40, "0::/kubepods/pod" UC "/x\n", "host");
	proc(50, "0::/kubepods/pod" UD "/x\n", "d1");
	proc(51, "0::/kubepods/pod" UD "/y\n", "d2");
	proc(60, "0::/user.slice/user-0.slice/session-1.scope\n", "host");
	return 0;
}

static int tree_down(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void test_uid_parse(void **state)
{
	char uid[FL_POD_UID_LEN + 1];

	(void)state;
	assert_int_equal(fl_pod_uid_parse(UA, strlen(UA), uid), 0);
	assert_string_equal(uid, UA);
	assert_int_equal(fl_pod_uid_parse(UA_, strlen(UA_), uid), 0);
	assert_string_equal(uid, UA);
	assert_int_equal(fl_pod_uid_parse("0B2C4E6A-1111-4A2B-8C3D-00000000000A", 36, uid), 0);
	assert_string_equal(uid, UA);
	assert_int_equal(fl_pod_uid_parse(UA, 35, uid), -EINVAL);
	assert_int_equal(fl_pod_uid_parse("0b2c4e6a-1111-4a2b-8c3d-00000000000g", 36, uid),
			 -EINVAL);
	assert_int_equal(fl_pod_uid_parse("0b2c4e6a11111-4a2b-8c3d-00000000000a", 36, uid),
			 -EINVAL);
}

static void test_cgroup_layouts(void **state)
{
	char uid[FL_POD_UID_LEN + 1];

	(void)state;
	assert_int_equal(fl_pod_uid_of_cgroup("0::/kubepods/burstable/pod" UA "/abc", uid), 0);
	assert_string_equal(uid, UA);
	assert_int_equal(fl_pod_uid_of_cgroup("0::/kubepods/pod" UB, uid), 0);
	assert_string_equal(uid, UB);
	assert_int_equal(fl_pod_uid_of_cgroup("0::/kubepods.slice/kubepods-pod" UB_ ".slice/"
					      "cri-containerd-1.scope\n",
					      uid),
			 0);
	assert_string_equal(uid, UB);
	/* read from inside a container's own cgroup namespace (the agent's) */
	assert_int_equal(fl_pod_uid_of_cgroup("0::/../../kubepods-besteffort-pod" UB_
					      ".slice/cri-containerd-2.scope\n",
					      uid),
			 0);
	assert_string_equal(uid, UB);
	/* a cgroup v1 hierarchy's line names it too */
	assert_int_equal(fl_pod_uid_of_cgroup("4:memory:/kubepods/besteffort/pod" UA "/x\n", uid),
			 0);
	assert_string_equal(uid, UA);
	/* not a pod: another word ending in pod, a short UID, no UID */
	assert_int_equal(fl_pod_uid_of_cgroup("0::/mypod" UA "/x", uid), -ENOENT);
	assert_int_equal(fl_pod_uid_of_cgroup("0::/kubepods/pod0b2c4e6a-1111/x", uid), -ENOENT);
	assert_int_equal(fl_pod_uid_of_cgroup("0::/kubepods/pod" UA "x/y", uid), -ENOENT);
	assert_int_equal(fl_pod_uid_of_cgroup("0::/system.slice/podman-1.scope\n", uid), -ENOENT);
	assert_int_equal(fl_pod_uid_of_cgroup("", uid), -ENOENT);
}

static void test_find(void **state)
{
	struct fl_err err = { "" };
	struct fl_pod p;

	(void)state;
	assert_int_equal(fl_pod_find(root, UA, &p, &err), 0);
	assert_int_equal(p.pid, 12); /* the lowest of the pod's pids */
	assert_int_equal(p.procs, 2);
	assert_int_equal(p.n_netns, 1);
	assert_false(p.host);
	assert_int_equal(fl_pod_find(root, UB_, &p, &err), 0); /* a UID with _ too */
	assert_int_equal(p.pid, 20);
	assert_string_equal(p.uid, UB);

	assert_int_equal(fl_pod_find(root, UC, &p, &err), -EPERM);
	assert_non_null(strstr(err.msg, "hostNetwork"));
	assert_int_equal(fl_pod_find(root, UD, &p, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "2 network namespaces"));
	assert_int_equal(fl_pod_find(root, UE, &p, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "is the pod running on this node?"));
	assert_int_equal(fl_pod_find(root, "web-0", &p, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "metadata.uid"));
}

static void test_hold(void **state)
{
	struct fl_err err = { "" };
	char a[256], b[256];
	struct fl_pod p;
	int fd;

	(void)state;
	assert_int_equal(fl_pod_find(root, UB, &p, &err), 0);
	fd = fl_pod_hold(root, &p, &err);
	assert_true(fd >= 0);
	close(fd);
	/* the pid now in another namespace: a restarted pod */
	snprintf(a, sizeof(a), "%s/20/ns/net", root);
	snprintf(b, sizeof(b), "%s/.ns/d1", root);
	unlink(a);
	assert_int_equal(link(b, a), 0);
	assert_int_equal(fl_pod_hold(root, &p, &err), -ESRCH);
	assert_non_null(strstr(err.msg, "try again"));
	unlink(a);
	snprintf(b, sizeof(b), "%s/.ns/b", root);
	assert_int_equal(link(b, a), 0);
}

static void test_list(void **state)
{
	struct fl_pod v[8];

	(void)state;
	assert_int_equal(fl_pods_list(root, v, 8), 4);
	assert_string_equal(v[0].uid, UA);
	assert_string_equal(v[1].uid, UB);
	assert_string_equal(v[2].uid, UC);
	assert_true(v[2].host);
	assert_string_equal(v[3].uid, UD);
	assert_int_equal(v[3].n_netns, 2);
	assert_int_equal(fl_pods_list(root, v, 2), 2);
}

/* ---- through the agent --------------------------------------------------- */

static int n_added;

static int fake_add(struct fl_ctl *c, const struct fl_fault *f, char **out, char **msg)
{
	(void)c;
	(void)f;
	(void)msg;
	n_added++;
	return asprintf(out, "{\"id\": \"f%d\", \"seed\": 1}\n", n_added) < 0 ? -1 : 0;
}

static int fake_request(struct fl_ctl *c, int argc, char **argv, char **out, char **msg)
{
	(void)c;
	(void)argc;
	(void)argv;
	(void)msg;
	*out = strdup("[]");
	return 0;
}

static int fake_stats(struct fl_ctl *c, struct fl_fault_stat **v, int *n)
{
	(void)c;
	*v = calloc((size_t)n_added + 1, sizeof(**v));
	for (int i = 0; i < n_added; i++)
		snprintf((*v)[i].id, sizeof((*v)[i].id), "f%d", i + 1);
	*n = n_added;
	return 0;
}

static const struct fl_ctl_ops fake_ops = { fake_add, fake_request, fake_stats };

static char *ask(struct fl_agent *a, const char *line, int want)
{
	char *ans = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&ans, &n);

	assert_non_null(f);
	assert_int_equal(fl_agent_handle(a, line, strlen(line), f), want);
	fclose(f);
	return ans;
}

static void expect(struct fl_agent *a, const char *line, int want, const char *part)
{
	char *ans = ask(a, line, want);

	if (!strstr(ans, part))
		fail_msg("answer to %s\n  is %s  without %s", line, ans, part);
	free(ans);
}

static void test_agent_pod_targets(void **state)
{
	struct fl_agent *a;

	(void)state;
	n_added = 0;
	assert_int_equal(fl_agent_new(&a), 0);
	a->ops = &fake_ops;
	a->proc_root = root;
	a->processes = false;
	a->netns_dir = root; /* no named namespace: .ns is hidden */
	expect(a, "{\"verb\":\"put\",\"target\":{\"pod\":\"" UA "\"},\"faults\":[\"loss 1%\"]}", 0,
	       "\"target\":{\"pod\":\"" UA "\",\"pid\":12}");
	assert_int_equal(a->n, 1);
	assert_string_equal(a->tc[0]->target.session, "@pid-12");
	assert_true(a->tc[0]->nsfd >= 0);
	/* the same pod by its systemd spelling, and by its pid: one target */
	expect(a, "{\"verb\":\"put\",\"target\":{\"pod\":\"" UA_ "\"},\"faults\":[\"loss 1%\"]}", 0,
	       "\"kept\":[\"f1\"]");
	expect(a, "{\"verb\":\"renew\",\"target\":{\"pid\":12}}", 0, "\"pod\":\"" UA "\"");
	assert_int_equal(a->n, 1);
	expect(a, "{\"verb\":\"put\",\"target\":{\"pod\":\"" UC "\"},\"faults\":[\"loss 1%\"]}",
	       -EINVAL, "request:1:32: pod " UC ": uses the host's network namespace");
	expect(a, "{\"verb\":\"put\",\"target\":{\"pod\":\"" UE "\"},\"faults\":[\"loss 1%\"]}",
	       -EINVAL, "is the pod running on this node?");
	expect(a, "{\"verb\":\"put\",\"target\":{\"pod\":\"" UA "\",\"pid\":3},\"faults\":[]}",
	       -EINVAL, "names one of netns, pid or pod");
	assert_int_equal(a->n, 1);
	expect(a, "{\"verb\":\"targets\"}", 0,
	       "{\"pod\":\"" UA "\",\"pid\":12,\"path\":\"/proc/12/ns/net\"");
	expect(a, "{\"verb\":\"targets\"}", 0,
	       "{\"pod\":\"" UC "\",\"pid\":40,\"path\":\"/proc/40/ns/net\"");
	expect(a, "{\"verb\":\"targets\"}", 0, "\"refused\":\"the host's network namespace");
	expect(a, "{\"verb\":\"reset\",\"target\":{\"pod\":\"" UA "\"}}", 0, "\"removed\"");
	fl_agent_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uid_parse), cmocka_unit_test(test_cgroup_layouts),
		cmocka_unit_test(test_find),	  cmocka_unit_test(test_hold),
		cmocka_unit_test(test_list),	  cmocka_unit_test(test_agent_pod_targets),
	};

	return cmocka_run_group_tests(tests, tree_up, tree_down);
}
