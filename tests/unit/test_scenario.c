// SPDX-License-Identifier: MIT
/* Scenario and target files: round trips and every error path, with the
 * exact FILE:LINE:COL message a person sees. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scenario.h"
#include "steps.h"
#include "target.h"

static const char good[] =
	"name: latency-is-zero\n"
	"fallacy: latency\n"
	"description: The leader's links slow down.\n"
	"seed: 7\n"
	"duration: 60s\n"
	"timeline:\n"
	"  - at: 10s\n"
	"    id: slow-leader\n"
	"    fault: {kind: delay, delay: 200ms, jitter: 50ms, from: n1, to: [n2, n3]}\n"
	"  - at: 30s\n"
	"    heal: slow-leader\n"
	"  - at: 40s\n"
	"    partition: [[n1], [n2, n3]]\n"
	"    oneway: true\n"
	"  - at: 50s\n"
	"    heal: all\n"
	"checks:\n"
	"  - availability: \">= 0.95\"\n"
	"  - latency: {p99: \"< 1s\", during: slow-leader}\n"
	"  - recovery: {within: 10s, after: last-heal}\n"
	"  - command: {node: n2, run: \"etcdctl endpoint health\", expect: 0}\n";

static void words(const struct fl_step *st, const char *want)
{
	char buf[512];

	fl_step_words(st, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void test_good_scenario(void **state)
{
	struct fl_scenario *sc = NULL;
	struct fl_err err = { "" };

	(void)state;
	assert_int_equal(fl_scenario_load("x.yaml", good, &sc, &err), 0);
	assert_string_equal(sc->name, "latency-is-zero");
	assert_int_equal(sc->seed, 7);
	assert_true(sc->duration_ns == 60000000000ULL);
	assert_int_equal(sc->n_steps, 4);
	assert_string_equal(sc->steps[0].ops->key, "fault");
	assert_string_equal(sc->steps[0].id, "slow-leader");
	words(&sc->steps[0], "delay 200ms jitter 50ms --from n1 --to n2,n3");
	assert_true(fl_step_is_heal(&sc->steps[1]));
	words(&sc->steps[1], "slow-leader");
	assert_string_equal(sc->steps[2].ops->key, "fault"); /* a partition is a fault */
	assert_string_equal(sc->steps[2].id, "step-3");
	words(&sc->steps[2], "partition n1 n2,n3 oneway");
	assert_int_equal(sc->n_checks, 4);
	assert_int_equal(sc->checks[0].kind, FL_CHECK_AVAILABILITY);
	assert_true(sc->checks[0].bound.op == FL_CMP_GE && sc->checks[0].bound.value == 0.95);
	assert_int_equal(sc->checks[1].kind, FL_CHECK_LATENCY);
	assert_true(sc->checks[1].pctl == 99 && sc->checks[1].bound.value == 1.0);
	assert_int_equal(sc->checks[1].win.kind, FL_WIN_DURING);
	assert_string_equal(sc->checks[1].name, "latency p99 < 1s during slow-leader");
	assert_true(sc->checks[2].within_ns == 10000000000ULL);
	assert_string_equal(sc->checks[3].node, "n2");
	fl_scenario_free(sc);
}

static void test_fault_words(void **state)
{
	static const char y[] =
		"name: w\nduration: 5s\ntimeline:\n"
		"  - {at: 1s, fault: {kind: loss, loss: 5%, proto: tcp, port: 2379, seed: 3}}\n"
		"  - {at: 1s, fault: {kind: loss, gemodel: [1%, 30%]}}\n"
		"  - {at: 2s, fault: {kind: rate, rate: 1mbit, limit: 64kb, to: n1}}\n"
		"  - {at: 2s, fault: {kind: partition, from: n1}}\n"
		"  - {at: 3s, fault: {kind: reorder, reorder: 25%, correlation: 50%, delay: 5ms}}\n"
		"  - {at: 3s, fault: {kind: delay, delay: 10ms, correlation: 20%, allow-reorder: "
		"true}}\n"
		"  - {at: 4s, fault: {kind: partition, groups: [[n1], [n2, n3]], oneway: true}}\n";
	struct fl_scenario *sc = NULL;
	struct fl_err err = { "" };

	(void)state;
	assert_int_equal(fl_scenario_load("w.yaml", y, &sc, &err), 0);
	words(&sc->steps[0], "loss 5% --proto tcp --port 2379 --seed 3");
	words(&sc->steps[1], "loss gemodel 1% 30%");
	words(&sc->steps[2], "rate 1mbit limit 64kb --to n1");
	words(&sc->steps[3], "partition --from n1");
	/* reorder's correlation is the reorder correlation, not the delay's */
	words(&sc->steps[4], "reorder 25% correlation 50% delay 5ms");
	words(&sc->steps[5], "delay 10ms correlation 20% allow-reorder");
	words(&sc->steps[6], "partition n1 n2,n3 oneway");
	fl_scenario_free(sc);
}

struct bad {
	const char *yaml;
	const char *msg;
};

static const char hd[] = "name: b\nduration: 10s\n";

static const struct bad bads[] = {
	{ "name: b\nduration: 10s\ntimeline:\n  - at: 1s\n    fault: {kind: lose, loss: 5%}\n",
	  "b.yaml:5:19: unknown fault 'lose' (did you mean 'loss'?)" },
	{ "name: b\nduratoin: 10s\n",
	  "b.yaml:2:1: unknown key 'duratoin' in a scenario (did you mean 'duration'?)" },
	{ "name: b\n", "b.yaml:1:1: missing required key 'duration'" },
	{ "name: b\nduration: 10xs\n", "b.yaml:2:11: bad duration for 'duration': " },
	{ "name: b\nduration: [1, 2]\n", "b.yaml:2:11: 'duration' must be a scalar, not a list" },
	{ "name: b\nduration: 10s\ntimeline: {at: 1s}\n",
	  "b.yaml:3:11: 'timeline' must be a list, not a mapping" },
	{ "name: b\nduration: 10s\ntimeline:\n  - at: 1s\n    heal: cut\n",
	  "b.yaml:5:11: 'heal: cut' names no earlier step (use an 'id' given above, or 'all')" },
	{ "name: b\nduration: 10s\ntimeline:\n  - at: 20s\n    heal: all\n",
	  "b.yaml:4:9: step at 20s is after the end of the scenario (duration)" },
	{ "name: b\nduration: 10s\ntimeline:\n  - at: 1s\n    fault: {kind: loss, los: 5%}\n",
	  "b.yaml:5:25: unknown key 'los' in a 'loss' fault (did you mean 'loss'?)" },
	{ "name: b\nduration: 10s\ntimeline:\n  - at: 1s\n    fault: {kind: loss, loss: 5 percent}\n",
	  "b.yaml:5:31: bad value for 'loss': " },
	/* an empty group name never loads (it printed as a file that did not
	 * load again: found by fuzz_scenario with a tagged empty value) */
	{ "name: b\nduration: 10s\ntimeline:\n  - at: 1s\n    partition: [[\"\"], [n2, n3]]\n",
	  "b.yaml:5:19: items of 'partition' must be node names" },
	{ "name: b\nduration: 10s\ntimeline:\n  - at: 1s\n    partition: [[n1]]\n",
	  "b.yaml:5:16: 'partition' must be a list of two or more groups, e.g. [[n1], [n2, n3]]" },
	{ "name: b\nduration: 10s\ntimeline:\n  - at: 1s\n",
	  /* the kinds' list follows from the step table: only its start is pinned */
	  "b.yaml:4:5: a timeline step needs exactly one of 'fault', 'partition', " },
	{ "name: b\nduration: 10s\nchecks:\n  - availabilty: \">= 1\"\n",
	  "b.yaml:4:5: unknown key 'availabilty' in a check (did you mean 'availability'?)" },
	{ "name: b\nduration: 10s\nchecks:\n  - latency: {p99: \"< 1 parsec\"}\n",
	  "b.yaml:4:21: bad bound '< 1 parsec': " },
	{ "name: b\nduration: 10s\nchecks:\n  - availability: {bound: \">= 0.9\", during: cut}\n",
	  "b.yaml:4:45: 'cut' names no step of the timeline (use an 'id' of a step, or "
	  "'faults')" },
	{ "name: b\nduration: 10s\nchecks:\n  - command: {node: n1, run: x, at: 10s}\n",
	  "b.yaml:4:37: 'at' must lie within the measured part (the scenario's duration)" },
	{ "name: b\nduration: 10s\nchecks:\n  - invariant: {run: x, at: 1s}\n",
	  "b.yaml:4:25: unknown key 'at' in 'invariant'" },
	{ "name: b\nduration: 10s\nchecks:\n  - command: {run: true}\n",
	  "b.yaml:4:14: missing required key 'node'" },
	{ "name: b\nduration: 10s\nfallacy: latancy\n",
	  "b.yaml:3:10: unknown fallacy 'latancy' (use reliable, latency, bandwidth, secure, topology, "
	  "administrator, transport-cost or homogeneous)" },
	{ "name: b\nduration: 10s\ntimeline:\n  - at: 1s\n    fault: {kind: loss, loss: 5%\n",
	  "b.yaml:6:1: missing comma in flow mapping" },
	{ "name: x\nfoo: @bar\n", "b.yaml:2:6: plain scalar cannot start with '@'" },
	{ "name: b\nduration: 10s\nseed:\n", "b.yaml:3:1: bad value for 'seed': empty number" },
	{ "- a\n- b\n", "b.yaml:1:1: a scenario must be a mapping, not a list" },
	{ "name: b\nduration: 10s\ntimeline:\n  - at: 1s\n    fault: lose 5%\n",
	  "b.yaml:5:12: unknown fault 'lose' (did you mean 'loss'?)" },
	/* loss has no correlation (gemodel instead): the YAML says so like the CLI */
	{ "name: b\nduration: 10s\ntimeline:\n  - at: 1s\n    fault: {kind: loss, loss: 5%, "
	  "correlation: 25%}\n",
	  "b.yaml:5:35: unknown key 'correlation' in a 'loss' fault" },
	{ "name: b\nduration: 10s\ntimeline:\n  - at: 1s\n    fault: {kind: duplicate, duplicate: "
	  "1%, correlation: 5%}\n",
	  "b.yaml:5:45: unknown key 'correlation' in a 'duplicate' fault" },
	/* checked by the same parser as fault add, before anything runs */
	{ "name: b\nduration: 10s\ntimeline:\n  - at: 1s\n    fault: {kind: rate, rate: 1bit}\n",
	  "b.yaml:5:31: bad value for 'rate': rate 1bit: out of range (8kbit .. " },
	{ "name: b\nduration: 10s\ntimeline:\n  - at: 1s\n    fault: {kind: loss}\n",
	  "b.yaml:5:12: loss: give P or gemodel P [R [1-H [1-K]]], one of them" },
	{ "name: b\nduration: 10s\ntimeline:\n  - at: 1s\n    fault: delay 50ms jiter 5ms\n",
	  "b.yaml:5:12: delay: unknown parameter 'jiter' (did you mean 'jitter'?)" },
	{ "name: b\nduration: 10s\ntimeline:\n  - at: 1s\n    fault: {kind: delay, delay: 5ms, "
	  "proto: sctp}\n",
	  "b.yaml:5:12: --proto sctp: unknown protocol" },
	{ "name: b\nduration: 10s\nchecks:\n  - plaintext: {ports: [6379]}\n",
	  "b.yaml:4:16: 'plaintext' needs 'markers'" },
	{ "name: b\nduration: 10s\nchecks:\n  - plaintext: {markers: [x], ports: [70000]}\n",
	  "b.yaml:4:39: 'ports' must be a port (1..65535) or a list of them" },
	{ "name: b\nduration: 10s\nchecks:\n  - secure: {}\n",
	  "b.yaml:4:13: missing required key 'ports'" },
	{ "name: b\nduration: 10s\nchecks:\n  - secure: {ports: 443, markers: [x]}\n",
	  "b.yaml:4:26: unknown key 'markers' in 'secure'" },
	{ "name: b\nduration: 10s\ntimeline:\n  - at: 1s\n    inject: {to: n1, proto: udp, port: 53}\n",
	  "b.yaml:5:13: inject --proto udp needs --payload" },
	{ "name: b\nduration: 10s\ntimeline:\n  - at: 1s\n    inject: {to: n1, proto: udp, port: 53, payload: zz}\n",
	  "b.yaml:5:53: payload zz: write bytes as hex digits" },
	{ "name: b\nduration: 10s\ntimeline:\n  - at: 1s\n    inject: {to: n1, protco: udp}\n",
	  "b.yaml:5:22: unknown key 'protco' in an 'inject' step (did you mean 'proto'?)" },
	{ "name: b\nduration: 10s\ntimeline:\n  - at: 1s\n    fault: {kind: tamper, tamper: 1%, offset: 99999}\n",
	  "b.yaml:5:47: bad value for 'offset': offset: 99999: out of range" },
};

static void test_bad_scenarios(void **state)
{
	(void)state;
	(void)hd;
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		struct fl_scenario *sc = NULL;
		struct fl_err err = { "" };
		int ret = fl_scenario_load("b.yaml", bads[i].yaml, &sc, &err);

		if (ret != -EINVAL || strncmp(err.msg, bads[i].msg, strlen(bads[i].msg)))
			print_error("case %zu: ret %d, got\n  %s\nwant\n  %s\n", i, ret, err.msg,
				    bads[i].msg);
		assert_int_equal(ret, -EINVAL);
		assert_true(!strncmp(err.msg, bads[i].msg, strlen(bads[i].msg)));
		assert_null(sc);
	}
}

static const char tgood[] =
	"name: etcd\n"
	"nodes: 3\n"
	"requires: [etcd, etcdctl]\n"
	"peer: \"{{node}}=http://{{ip}}:2380\"\n"
	"endpoint: \"http://{{ip}}:2379\"\n"
	"start:\n"
	"  run: etcd --name {{node}} --initial-cluster {{peers}}\n"
	"  ready: {run: \"etcdctl --endpoints {{ip}}:2379 endpoint health\", timeout: 30s}\n"
	"  env: {ETCDCTL_API: \"3\", ME: \"{{node}}\"}\n"
	"stop: {grace: 2s}\n"
	"health: etcdctl --endpoints {{endpoints}} endpoint health\n"
	"probe:\n"
	"  node: n1\n"
	"  every: 100ms\n"
	"  timeout: 1s\n"
	"  run: etcdctl --endpoints {{endpoints}} put k{{seq}} v{{ip:n3}}\n";

static void test_good_target(void **state)
{
	static const struct fl_tnode nodes[] = { { "n1", "198.18.0.1", "", NULL },
						 { "n2", "198.18.0.2", "", NULL },
						 { "n3", "198.18.0.3", "", NULL } };
	struct fl_sut *t = NULL;
	struct fl_err err = { "" };
	struct fl_tvars v = { .nodes = nodes, .n_nodes = 3, .self = 1, .seq = 42 };
	char *out = NULL;

	(void)state;
	if (fl_sut_load("t.yaml", tgood, &t, &err))
		fail_msg("%s", err.msg);
	v.t = t;
	assert_int_equal(t->nodes, 3);
	assert_int_equal(t->n_requires, 2);
	assert_true(t->ready_timeout_ns == 30000000000ULL && t->stop_grace_ns == 2000000000ULL);
	assert_string_equal(t->env[0], "ETCDCTL_API=3");
	assert_false(t->is_workload);
	assert_string_equal(t->load_node, "n1");
	assert_int_equal(t->concurrent, 11); /* open loop: timeout / every + 1 */
	assert_int_equal(fl_template_expand(t->start_run, &v, &out, &err), 0);
	assert_string_equal(out, "etcd --name n2 --initial-cluster n1=http://198.18.0.1:2380,"
				 "n2=http://198.18.0.2:2380,n3=http://198.18.0.3:2380");
	free(out);
	assert_int_equal(fl_template_expand(t->load_run, &v, &out, &err), 0);
	assert_string_equal(out,
			    "etcdctl --endpoints http://198.18.0.1:2379,http://198.18.0.2:2379,"
			    "http://198.18.0.3:2379 put k42 v198.18.0.3");
	free(out);
	/* {{health}}: the target's health command, expanded where it is used */
	assert_int_equal(fl_template_expand("timeout 5 {{health}}", &v, &out, &err), 0);
	assert_string_equal(out, "timeout 5 etcdctl --endpoints http://198.18.0.1:2379,"
				 "http://198.18.0.2:2379,http://198.18.0.3:2379 endpoint health");
	free(out);
	free(t->health);
	t->health = NULL;
	assert_int_equal(fl_template_expand("{{health}}", &v, &out, &err), -ENOENT);
	assert_string_equal(err.msg, "'{{health}}': target 'etcd' has no 'health' command");
	assert_int_equal(fl_template_expand("{{ip:n9}}", &v, &out, &err), -EINVAL);
	assert_string_equal(err.msg, "'{{ip:n9}}': no such node or role in the lab");
	assert_string_equal(fl_tool_package("etcdctl"), "etcd-client");
	assert_string_equal(fl_tool_package("redis-cli"), "redis-tools");
	fl_sut_free(t);
}

static const struct bad tbads[] = {
	{ "name: t\nnodes: 3\nprobe: {run: x}\n", "t.yaml:1:1: missing required key 'start'" },
	{ "name: t\nnodes: 3\nstart: {run: x}\nprobe: {run: x, ops: {a: y}}\n",
	  "t.yaml:4:17: a probe has a 'run' (one operation) or 'ops', not both" },
	{ "name: t\nnodes: 3\nstart: {run: \"x {{nod}}\"}\nprobe: {run: x}\n",
	  "t.yaml:3:15: unknown template variable '{{nod}}' (did you mean '{{node}}'?)" },
	{ "name: t\nnodes: 3\nstart: {run: x, redy: y}\nprobe: {run: x}\n",
	  "t.yaml:3:17: unknown key 'redy' in 'start' (did you mean 'ready'?)" },
	{ "name: t\nnodes: 3\nstart: {run: x}\n",
	  "t.yaml:1:1: a target needs a 'probe' or a 'workload'" },
	{ "name: t\nnodes: 3\nstart: {run: x}\nprobe: {run: x}\nworkload: {run: y}\n",
	  "t.yaml:5:1: a target has a 'probe' or a 'workload', not both" },
	{ "name: t\nnodes: 3\nstart: {run: x}\nprobe: {run: x, every: soon}\n",
	  "t.yaml:4:24: bad duration for 'every': " },
	{ "name: t\nnodes: 0\nstart: {run: x}\nprobe: {run: x}\n",
	  "t.yaml:2:8: bad value for 'nodes': " },
	{ "name: t\nnodes: 1\nstart: {run: x}\nprobe: {run: x, concurrent: 0}\n",
	  "t.yaml:4:29: bad value for 'concurrent': " },
	{ "name: t\nnodes: 3\nstart: {run: x, env: [A]}\nprobe: {run: x}\n",
	  "t.yaml:3:22: 'env' must be a mapping, not a list" },
	{ "name: t\nnodes: 3\nstart: {run: \"x --cert {{cert}}\"}\nprobe: {run: x}\n",
	  "t.yaml:1:1: {{ca}}, {{cert}} and {{key}} need 'tls: true'" },
	{ "name: t\nnodes: 3\ntls: yes\nstart: {run: x}\nprobe: {run: x}\n",
	  "t.yaml:3:6: 'tls' must be true or false" },
	{ "name: t\nnodes: 3\nstart: {run: x}\nprobe: {run: x}\nverify: \"{{verfy}}\"\n",
	  "t.yaml:5:10: unknown template variable '{{verfy}}' (did you mean '{{verify}}'?)" },
};

static char *print_to_string(const struct fl_scenario *sc);

/* tls: true gives {{ca}} {{cert}} {{key}}; {{verify}} expands the
 * target's verify command for the node. */
static void test_tls_target(void **state)
{
	static const char y[] = "name: t\nnodes: 2\ntls: true\n"
				"start: {run: \"srv --ca {{ca}} --cert {{cert}} --key {{key}}\"}\n"
				"verify: \"check {{ip}} {{cert}}\"\n"
				"probe: {run: x}\n";
	static const struct fl_tnode nodes[] = { { "n1", "198.18.0.1", "", NULL },
						 { "n2", "198.18.0.2", "", NULL } };
	struct fl_tvars v = { .nodes = nodes, .n_nodes = 2, .self = 1, .tls_dir = "/s/tls" };
	struct fl_sut *t = NULL;
	struct fl_err err = { "" };
	char *out = NULL;

	(void)state;
	if (fl_sut_load("t.yaml", y, &t, &err))
		fail_msg("%s", err.msg);
	assert_true(t->tls);
	v.t = t;
	assert_int_equal(fl_template_expand(t->start_run, &v, &out, &err), 0);
	assert_string_equal(out, "srv --ca /s/tls/ca.pem --cert /s/tls/n2.pem --key /s/tls/n2.key");
	free(out);
	assert_int_equal(fl_template_expand("run {{verify}}", &v, &out, &err), 0);
	assert_string_equal(out, "run check 198.18.0.2 /s/tls/n2.pem");
	free(out);
	v.tls_dir = NULL;
	assert_int_equal(fl_template_expand("{{key}}", &v, &out, &err), -EINVAL);
	assert_string_equal(err.msg, "'{{key}}' needs 'tls: true' in the target");
	fl_sut_free(t);
	if (fl_sut_load("t.yaml", tgood, &t, &err))
		fail_msg("%s", err.msg);
	v.t = t;
	/* -ENOENT: a command check using it is skipped on this target */
	assert_int_equal(fl_template_expand("{{verify}}", &v, &out, &err), -ENOENT);
	assert_string_equal(err.msg, "'{{verify}}': target 'etcd' has no 'verify' command");
	fl_sut_free(t);
}

/* The secure scenario's pieces load, print and load again: capture checks,
 * inject steps (a quoted YAML payload is its text, printed canonically),
 * tamper bytes. */
static void test_secure_round_trip(void **state)
{
	static const char y[] =
		"name: s\nduration: 10s\ntimeline:\n"
		"  - at: 1s\n    id: t\n    fault: {kind: tamper, tamper: 5%, bytes: \"A B\", dport: 6379}\n"
		"  - at: 2s\n    id: f\n"
		"    inject: {to: n1, from: n2, proto: tcp, port: 6379, payload: \"SET k1 x\\r\\n\", count: 2}\n"
		"  - at: 3s\n    id: g\n    inject: {to: n1, proto: udp, port: 53, payload: 0a0b}\n"
		"checks:\n"
		"  - plaintext: {markers: [\"s3cr3t\", \"a\\\"b\"], ports: [6379, 2379]}\n"
		"  - secure: {ports: 443}\n";
	struct fl_scenario *s1 = NULL, *s2 = NULL;
	struct fl_err err = { "" };
	char *a, *b;

	(void)state;
	if (fl_scenario_load("s.yaml", y, &s1, &err))
		fail_msg("%s", err.msg);
	words(&s1->steps[0], "tamper 5% bytes 412042 --dport 6379");
	words(&s1->steps[1], "--to n1 --proto tcp --port 6379 --payload 534554206b3120780d0a "
			     "--from n2 --count 2");
	words(&s1->steps[2], "--to n1 --proto udp --port 53 --payload 0a0b");
	assert_int_equal(s1->checks[0].n_markers, 2);
	assert_string_equal(s1->checks[0].markers[1], "a\"b");
	assert_int_equal(s1->checks[0].n_ports, 2);
	assert_int_equal(s1->checks[1].ports[0], 443);
	assert_true(fl_scenario_needs_capture(s1));
	a = print_to_string(s1);
	if (fl_scenario_load("r.yaml", a, &s2, &err))
		fail_msg("%s\n%s", err.msg, a);
	b = print_to_string(s2);
	assert_string_equal(a, b);
	assert_non_null(strstr(
		a, "  - plaintext: {markers: [\"s3cr3t\", \"a\\\"b\"], ports: [6379, 2379]}\n"));
	assert_non_null(strstr(a, "  - secure: {ports: [443]}\n"));
	free(a);
	free(b);
	fl_scenario_free(s1);
	fl_scenario_free(s2);
}

static void test_bad_targets(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(tbads) / sizeof(tbads[0]); i++) {
		struct fl_sut *t = NULL;
		struct fl_err err = { "" };
		int ret = fl_sut_load("t.yaml", tbads[i].yaml, &t, &err);

		if (ret != -EINVAL || strncmp(err.msg, tbads[i].msg, strlen(tbads[i].msg)))
			print_error("case %zu: ret %d, got\n  %s\nwant\n  %s\n", i, ret, err.msg,
				    tbads[i].msg);
		assert_int_equal(ret, -EINVAL);
		assert_true(!strncmp(err.msg, tbads[i].msg, strlen(tbads[i].msg)));
		assert_null(t);
	}
}

static char *print_to_string(const struct fl_scenario *sc)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	fl_scenario_print(sc, sc->seed, f);
	fclose(f);
	return out;
}

/* load -> print -> load -> print gives the same text, the same fault words
 * and the same checks. */
/* Found by fuzz_scenario: a value with a blank in it ("n2& n3") printed
 * in the resolved scenario as two words. Words with blanks are quoted. */
static void test_words_with_blanks(void **state)
{
	static const char y[] =
		"name: q\nduration: 10s\ntimeline:\n"
		"  - {at: 1s, fault: {kind: delay, delay: 20ms, to: [\"n2& n3\"]}}\n";
	struct fl_scenario *sc = NULL, *sc2 = NULL;
	struct fl_err err = { "" };
	char *out = NULL, w1[256], w2[256];
	size_t len = 0;
	FILE *m;

	(void)state;
	assert_int_equal(fl_scenario_load("q.yaml", y, &sc, &err), 0);
	fl_step_words(&sc->steps[0], w1, sizeof(w1));
	assert_string_equal(w1, "delay 20ms --to \"n2& n3\"");
	m = open_memstream(&out, &len);
	fl_scenario_print(sc, 1, m);
	fclose(m);
	assert_int_equal(fl_scenario_load("r.yaml", out, &sc2, &err), 0);
	fl_step_words(&sc2->steps[0], w2, sizeof(w2));
	assert_string_equal(w1, w2);
	assert_string_equal(sc2->steps[0].argv[3], "n2& n3");
	fl_scenario_free(sc);
	fl_scenario_free(sc2);
	free(out);
}

static void test_round_trip(void **state)
{
	static const char more[] =
		"  - availability: {bound: \">= 0.5\", during: step-3, op: put, on: [n2, n3]}\n"
		"  - recovery: {within: 2s, after: slow-leader, rate: \">= 0.9\", window: 500ms}\n"
		"  - latency: {max: \"< 3s\", outside: faults}\n"
		"  - progress: \">= 2\"\n"
		"  - invariant: {run: \"sh -c 'test -s $FALLACY_OPS'\", expect: 0}\n"
		"  - transport: {retransmits: \"< 5%\", bytes_per_op: \"< 4kb\", during: "
		"slow-leader}\n"
		"  - command: {node: n1, run: \"{{health}}\", expect: 1, at: 45s}\n";
	char text[4096], *a, *b;
	struct fl_scenario *s1 = NULL, *s2 = NULL;
	struct fl_err err = { "" };

	(void)state;
	snprintf(text, sizeof(text), "%s%s", good, more);
	if (fl_scenario_load("x.yaml", text, &s1, &err))
		fail_msg("%s", err.msg);
	a = print_to_string(s1);
	if (fl_scenario_load("resolved.yaml", a, &s2, &err))
		fail_msg("%s\n%s", err.msg, a);
	b = print_to_string(s2);
	assert_string_equal(a, b);
	assert_int_equal(s1->n_steps, s2->n_steps);
	for (size_t i = 0; i < s1->n_steps; i++) {
		char w1[512], w2[512];

		fl_step_words(&s1->steps[i], w1, sizeof(w1));
		fl_step_words(&s2->steps[i], w2, sizeof(w2));
		assert_string_equal(w1, w2);
		assert_ptr_equal(s1->steps[i].ops, s2->steps[i].ops);
		assert_true(s1->steps[i].at_ns == s2->steps[i].at_ns);
	}
	assert_int_equal(s1->n_checks, 11);
	assert_int_equal(s2->n_checks, 11);
	assert_true(s2->checks[10].has_at && s2->checks[10].at_ns == 45000000000ULL);
	assert_string_equal(s2->checks[10].name, "command on n1 at 45s: {{health}}");
	assert_false(s2->checks[8].has_at);
	for (size_t i = 0; i < s1->n_checks; i++)
		assert_string_equal(s1->checks[i].name, s2->checks[i].name);
	assert_non_null(strstr(a, "    fault: \"delay 200ms jitter 50ms --from n1 --to n2,n3\"\n"));
	/* a transport check's metrics print in the table's order */
	assert_non_null(strstr(a, "  - transport: {bytes_per_op: \"< 4kb\", retransmits: \"< 5%\", "
				  "during: slow-leader}\n"));
	free(a);
	free(b);
	fl_scenario_free(s1);
	fl_scenario_free(s2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_scenario),	  cmocka_unit_test(test_fault_words),
		cmocka_unit_test(test_bad_scenarios),	  cmocka_unit_test(test_good_target),
		cmocka_unit_test(test_bad_targets),	  cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_tls_target),	  cmocka_unit_test(test_secure_round_trip),
		cmocka_unit_test(test_good_scenario),	  cmocka_unit_test(test_fault_words),
		cmocka_unit_test(test_bad_scenarios),	  cmocka_unit_test(test_good_target),
		cmocka_unit_test(test_bad_targets),	  cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_words_with_blanks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
