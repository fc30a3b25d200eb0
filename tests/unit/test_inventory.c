// SPDX-License-Identifier: MIT
/* Inventories (harness/inventory.h): hosts and kubernetes forms, errors
 * with FILE:LINE:COL, nodes mapped by ordinal and by `node:`, pods from
 * `kubectl get pods -o json` texts (Running ones, by name, numbers as
 * numbers) with the agent pod of their node, and the carriers' commands.
 * No privileges, no cluster. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "inventory.h"

#define UA "0b2c4e6a-1111-4a2b-8c3d-00000000000a"
#define UB "0b2c4e6a-2222-4a2b-8c3d-00000000000b"
#define UC "0b2c4e6a-3333-4a2b-8c3d-00000000000c"

static const char hosts[] = "hosts:\n"
			    "  - {name: h1, local: true, netns: db}\n"
			    "  - name: h2\n"
			    "    ssh: root@h2\n"
			    "    ssh_options: [Port=2222, IdentityFile=/k]\n"
			    "    pid: 4242\n"
			    "    node: n1\n"
			    "  - {name: h3, ssh: root@h3, remote: fallacy agent --stdio, pod: " UA
			    "}\n";

static void test_hosts_map(void **state)
{
	struct fl_inv_node v[FL_INV_MAX];
	struct fl_err err = { "" };
	struct fl_inventory *inv;

	(void)state;
	assert_int_equal(fl_inventory_load("inv.yaml", hosts, &inv, &err), 0);
	assert_false(inv->kubernetes);
	assert_int_equal(inv->n, 3);
	assert_string_equal(inv->host[1].opts[1], "Port=2222");
	assert_string_equal(inv->host[1].opts[3], "IdentityFile=/k");
	assert_null(inv->host[1].opts[4]);
	assert_int_equal(fl_inventory_map(inv, 0, NULL, v, &err), 3);
	/* h2 pinned at n1; h1 and h3 fill n2 and n3 in their order */
	assert_string_equal(v[0].host, "h2");
	assert_string_equal(v[0].target, "{\"pid\":4242}");
	assert_string_equal(v[1].host, "h1");
	assert_string_equal(v[1].target, "{\"netns\":\"db\"}");
	assert_int_equal(v[1].via, FL_INV_LOCAL);
	assert_string_equal(v[2].target, "{\"pod\":\"" UA "\"}");
	assert_int_equal(fl_inventory_map(inv, 2, NULL, v, &err), 2);
	assert_string_equal(v[1].host, "h1");
	assert_int_equal(fl_inventory_map(inv, 4, NULL, v, &err), -EINVAL);
	assert_string_equal(err.msg, "inv.yaml: no host for node n4: the scenario has 4 nodes, "
				     "the inventory 3 hosts");
	fl_inventory_free(inv);
}

static void test_pinned_nodes(void **state)
{
	struct fl_inv_node v[FL_INV_MAX];
	struct fl_err err = { "" };
	struct fl_inventory *inv;

	(void)state;
	assert_int_equal(fl_inventory_load("i.yaml",
					   "hosts:\n"
					   "  - {name: a, local: true, netns: x, node: n3}\n"
					   "  - {name: b, local: true, netns: y, node: n3}\n",
					   &inv, &err),
			 0);
	assert_int_equal(fl_inventory_map(inv, 3, NULL, v, &err), -EINVAL);
	assert_string_equal(err.msg, "i.yaml:3: host b: node n3 is host a already");
	assert_int_equal(fl_inventory_map(inv, 2, NULL, v, &err), -EINVAL);
	assert_string_equal(err.msg, "i.yaml:2: host a: node n3, but the scenario has 2 nodes");
	fl_inventory_free(inv);
}

static void test_roles(void **state)
{
	const char *roles[] = { "primary", "replica", "replica" };
	struct fl_inv_node v[FL_INV_MAX];
	struct fl_err err = { "" };
	struct fl_inventory *inv;

	(void)state;
	assert_int_equal(fl_inventory_load("r.yaml",
					   "hosts:\n"
					   "  - {name: a, local: true, netns: x, role: replica}\n"
					   "  - {name: b, local: true, netns: y}\n"
					   "  - {name: c, local: true, netns: z, role: primary}\n",
					   &inv, &err),
			 0);
	/* roles first (c is the primary n1, a the first replica n2), b by order */
	assert_int_equal(fl_inventory_map(inv, 3, roles, v, &err), 3);
	assert_string_equal(v[0].host, "c");
	assert_string_equal(v[0].role, "primary");
	assert_string_equal(v[1].host, "a");
	assert_string_equal(v[2].host, "b");
	assert_string_equal(v[2].role, "replica");
	/* no target: nobody knows the roles */
	assert_int_equal(fl_inventory_map(inv, 3, NULL, v, &err), -EINVAL);
	assert_string_equal(err.msg, "r.yaml:2: host a: role replica, but no target says which "
				     "node has which role (--target FILE)");
	fl_inventory_free(inv);
	assert_int_equal(fl_inventory_load("r.yaml",
					   "hosts:\n"
					   "  - {name: a, local: true, netns: x, role: primary}\n"
					   "  - {name: b, local: true, netns: y, role: primary}\n",
					   &inv, &err),
			 0);
	assert_int_equal(fl_inventory_map(inv, 2, roles, v, &err), -EINVAL);
	assert_string_equal(err.msg, "r.yaml:3: host b: no node of role primary is left for it");
	fl_inventory_free(inv);
}

static void refused(const char *text, const char *want)
{
	struct fl_err err = { "" };
	struct fl_inventory *inv = NULL;

	assert_int_equal(fl_inventory_load("inv.yaml", text, &inv, &err), -EINVAL);
	assert_null(inv);
	if (!strstr(err.msg, want))
		fail_msg("%s\n  gave: %s\n  without: %s", text, err.msg, want);
}

static void test_refusals(void **state)
{
	(void)state;
	refused("hosts:\n  - {name: h1, local: true, netns: db, nod: n1}\n",
		"inv.yaml:2:40: unknown key 'nod' in a host (did you mean 'pod'?)");
	refused("hosts: []\nkubernetes: {namespace: db, selector: a=b}\n",
		"inv.yaml:1:1: an inventory has hosts: or kubernetes:, one of them");
	refused("hostz: []\n",
		"inv.yaml:1:1: unknown key 'hostz' in an inventory (did you mean 'hosts'?)");
	refused("hosts:\n  - {name: h1, ssh: root@h1}\n",
		"inv.yaml:2:5: host h1: give its target, one of netns, pid or pod");
	refused("hosts:\n  - {name: h1, ssh: -oProxyCommand=x, netns: a}\n",
		"inv.yaml:2:21: ssh: '-oProxyCommand=x' is not one word");
	refused("hosts:\n  - {name: h1, netns: a}\n",
		"host h1: give one of ssh: USER@HOST or local: true");
	refused("hosts:\n  - {name: h1, local: true, netns: a}\n  - {name: h1, local: true, netns: b}\n",
		"inv.yaml:3:5: host h1: named twice");
	refused("hosts:\n  - {name: h1, local: true, netns: \"a\\\"b\"}\n",
		"netns: a namespace name");
	refused("hosts:\n  - {name: h1, local: true, pod: web-0}\n",
		"pod: a pod UID is 8-4-4-4-12 hex digits");
	refused("hosts:\n  - {name: h1, local: true, netns: a, node: 2}\n",
		"node: a scenario node, n1 to n64");
	refused("hosts:\n  - {name: h1, local: true, netns: a, remote: x}\n",
		"remote and ssh_options are for ssh");
	refused("hosts:\n  - {name: h1, local: true, netns: a, node: n1, role: primary}\n",
		"host h1: node or role, not both");
	refused("kubernetes: {selector: app=etcd}\n", "namespace");
	refused("kubernetes: {namespace: DB, selector: app=etcd}\n",
		"inv.yaml:1:25: namespace: a Kubernetes namespace name");
	refused("kubernetes: {namespace: db, selector: -x}\n", "selector: '-x' is not one word");
	refused("", "inv.yaml: empty: give hosts: or kubernetes:");
	refused("hosts:\n  - {name: h1, local: true, netns: a, address: h1.example}\n",
		"inv.yaml:2:48: address: an IPv4 or IPv6 address (198.18.0.2)");
	refused("hosts: [\n", "inv.yaml:");
}

#define POD(name, uid, node, phase)                                                                \
	"{\"metadata\":{\"name\":\"" name "\",\"uid\":\"" uid "\"},\"spec\":{\"nodeName\":\"" node \
	"\"},\"status\":{\"phase\":\"" phase "\"}}"

static const char pods[] =
	"{\"kind\":\"List\",\"items\":[" POD("etcd-10", UC, "w2", "Running") "," POD(
		"etcd-2", UB, "w1", "Running") "," POD("etcd-1", UA, "w2",
						       "Running") "," POD("etcd-3", UA, "w1",
									  "Pending") "]}";
static const char agents[] = "{\"items\":[" POD("fallacy-agent-aaaaa", UA, "w1", "Running") "," POD(
	"fallacy-agent-bbbbb", UB, "w2", "Running") "]}";

static void test_pods(void **state)
{
	struct fl_inv_node v[FL_INV_MAX];
	struct fl_err err = { "" };
	struct fl_inventory *inv;
	struct fl_carrier *c;

	(void)state;
	assert_int_equal(fl_inventory_load("k.yaml",
					   "kubernetes:\n  namespace: db\n  selector: app=etcd\n"
					   "  context: kind-lab\n",
					   &inv, &err),
			 0);
	assert_true(inv->kubernetes);
	assert_int_equal(fl_inventory_pods(inv, pods, agents, 0, NULL, v, &err), 3);
	/* by name, numbers as numbers; the Pending pod left out */
	assert_string_equal(v[0].pod, "etcd-1");
	assert_string_equal(v[0].host, "w2");
	assert_string_equal(v[0].agent, "fallacy-agent-bbbbb");
	assert_string_equal(v[0].target, "{\"pod\":\"" UA "\"}");
	assert_string_equal(v[1].pod, "etcd-2");
	assert_string_equal(v[1].agent, "fallacy-agent-aaaaa");
	assert_string_equal(v[2].pod, "etcd-10");
	assert_string_equal(v[2].node, "n3");
	assert_int_equal(fl_inventory_carrier(inv, &v[2], &c), 0);
	assert_string_equal(c->what, "kubectl exec -n fallacy fallacy-agent-bbbbb");
	assert_string_equal(c->argv[1], "--context=kind-lab");
	fl_carrier_close(c);
	assert_int_equal(fl_inventory_pods(inv, pods, agents, 4, NULL, v, &err), -EINVAL);
	assert_string_equal(err.msg, "kubernetes: 3 running pods in namespace db with app=etcd, "
				     "the scenario has 4 nodes");
	/* a pod on a node without an agent */
	assert_int_equal(fl_inventory_pods(inv, pods,
					   "{\"items\":[" POD("fa", UA, "w1", "Running") "]}", 2,
					   NULL, v, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "pod etcd-1 on node w2: no agent pod runs there"));
	assert_int_equal(fl_inventory_pods(inv, "[1, 2]", agents, 2, NULL, v, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not a list of pods"));
	/* an agent pod whose name kubectl would read as an option (fuzz_inventory) */
	assert_int_equal(fl_inventory_pods(inv, pods,
					   "{\"items\":[" POD("-tcd-0", UA, "w1", "Running") "]}",
					   2, NULL, v, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "'-tcd-0' is not a Kubernetes pod name"));
	fl_inventory_free(inv);
}

/* address: per host, and a pod's status.podIP: where the run's probes go
 * and what its fault words name */
static void test_addresses(void **state)
{
	struct fl_inv_node v[FL_INV_MAX];
	struct fl_err err = { "" };
	struct fl_inventory *inv;
	static const char kpods[] =
		"{\"items\":[{\"metadata\":{\"name\":\"e-1\",\"uid\":\"" UA "\"},"
		"\"spec\":{\"nodeName\":\"w1\"},\"status\":{\"phase\":\"Running\","
		"\"podIP\":\"198.18.7.4\"}},{\"metadata\":{\"name\":\"e-2\",\"uid\":\"" UB "\"},"
		"\"spec\":{\"nodeName\":\"w1\"},\"status\":{\"podIP\":\"x; rm\"}}]}";

	(void)state;
	assert_int_equal(
		fl_inventory_load("inv.yaml",
				  "hosts:\n"
				  "  - {name: h1, local: true, netns: a, address: 198.18.0.2}\n"
				  "  - {name: h2, local: true, netns: b, address: fdfa:11ac::3}\n"
				  "  - {name: h3, local: true, netns: c}\n",
				  &inv, &err),
		0);
	assert_int_equal(fl_inventory_map(inv, 3, NULL, v, &err), 3);
	assert_string_equal(v[0].address, "198.18.0.2");
	assert_string_equal(v[1].address, "fdfa:11ac::3");
	assert_string_equal(v[2].address, "");
	fl_inventory_free(inv);
	assert_int_equal(fl_inventory_load("k.yaml", "kubernetes: {namespace: db, selector: a=b}\n",
					   &inv, &err),
			 0);
	assert_int_equal(fl_inventory_pods(inv, kpods, agents, 2, NULL, v, &err), 2);
	assert_string_equal(v[0].address, "198.18.7.4");
	assert_string_equal(v[1].address, ""); /* not an address: none */
	fl_inventory_free(inv);
}

#define LPOD(name, uid, role)                                                                   \
	"{\"metadata\":{\"name\":\"" name "\",\"uid\":\"" uid "\",\"labels\":{\"role\":\"" role \
	"\"}},\"spec\":{\"nodeName\":\"w1\"}}"

static void test_pod_roles(void **state)
{
	static const char lpods[] = "{\"items\":[" LPOD("pg-0", UA, "replica") "," LPOD(
		"pg-1", UB, "primary") "," LPOD("pg-2", UC, "replica") "]}";
	const char *roles[] = { "primary", "replica", "replica" };
	struct fl_inv_node v[FL_INV_MAX];
	struct fl_err err = { "" };
	struct fl_inventory *inv;

	(void)state;
	assert_int_equal(fl_inventory_load("k.yaml",
					   "kubernetes: {namespace: db, selector: app=pg, "
					   "role_label: role}\n",
					   &inv, &err),
			 0);
	assert_int_equal(fl_inventory_pods(inv, lpods, agents, 3, roles, v, &err), 3);
	assert_string_equal(v[0].pod, "pg-1"); /* the primary, wherever it is in the order */
	assert_string_equal(v[0].role, "primary");
	assert_string_equal(v[1].pod, "pg-0");
	assert_string_equal(v[2].pod, "pg-2");
	assert_int_equal(fl_inventory_pods(inv, lpods, agents, 3, NULL, v, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "role_label role, but no target says"));
	roles[1] = "primary";
	assert_int_equal(fl_inventory_pods(inv, lpods, agents, 3, roles, v, &err), -EINVAL);
	assert_string_equal(
		err.msg, "kubernetes: node n2 is a primary, and no pod is left with role=primary");
	fl_inventory_free(inv);
}

static void test_carriers(void **state)
{
	struct fl_inv_node v[FL_INV_MAX];
	struct fl_err err = { "" };
	struct fl_inventory *inv;
	struct fl_carrier *c;

	(void)state;
	assert_int_equal(fl_inventory_load("inv.yaml", hosts, &inv, &err), 0);
	assert_int_equal(fl_inventory_map(inv, 3, NULL, v, &err), 3);
	assert_int_equal(fl_inventory_carrier(inv, &v[0], &c), 0);
	assert_string_equal(c->ops->name, "ssh");
	assert_string_equal(c->argv[4], "-o");
	assert_string_equal(c->argv[5], "Port=2222");
	assert_string_equal(c->argv[c->argc - 2], "root@h2");
	assert_string_equal(c->argv[c->argc - 1], "sudo fallacy agent --stdio");
	fl_carrier_close(c);
	assert_int_equal(fl_inventory_carrier(inv, &v[1], &c), 0);
	assert_string_equal(c->ops->name, "local");
	fl_carrier_close(c);
	assert_int_equal(fl_inventory_carrier(inv, &v[2], &c), 0);
	assert_string_equal(c->argv[c->argc - 1], "fallacy agent --stdio");
	fl_carrier_close(c);
	fl_inventory_free(inv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hosts_map), cmocka_unit_test(test_pinned_nodes),
		cmocka_unit_test(test_refusals),  cmocka_unit_test(test_pods),
		cmocka_unit_test(test_carriers),  cmocka_unit_test(test_roles),
		cmocka_unit_test(test_pod_roles), cmocka_unit_test(test_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
