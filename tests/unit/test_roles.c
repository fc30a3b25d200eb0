// SPDX-License-Identifier: MIT
/* Targets with roles, names, ordered start items, setup/teardown/leader and
 * several operations; schedules (seeded, written out, replayed); the time
 * scale; availability per time. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "checks.h"
#include "run.h"
#include "scenario.h"
#include "target.h"

static const char roles_yaml[] =
	"name: pg\n"
	"roles: {primary: 1, replica: rest}\n"
	"names: \"{{role}}{{rank}}\"\n"
	"env: {PGUSER: postgres, WHO: \"{{node}}\"}\n"
	"start:\n"
	"  - {role: primary, run: \"db --primary {{ip}}\", ready: \"ping {{ip}}\"}\n"
	"  - {role: replica, run: \"db --from {{ip:primary}}\", env: {R: \"1\"}}\n"
	"  - {name: sentinel, run: \"watch {{ips:replica}} {{majority}}\"}\n"
	"setup: {run: \"init {{node}}\", role: primary, timeout: 5s}\n"
	"teardown: [\"dump {{node}}\"]\n"
	"leader: {run: \"who\", timeout: 2s}\n"
	"probe:\n"
	"  every: 100ms\n"
	"  timeout: 1s\n"
	"  ops:\n"
	"    write: \"put {{value}}\"\n"
	"    read: {run: get, env: {K: \"{{seq}}\"}}\n"
	"  mix: {write: 1, read: 3}\n";

static struct fl_sut *target(const char *yaml)
{
	struct fl_sut *t = NULL;
	struct fl_err err = { "" };

	if (fl_sut_load("t.yaml", yaml, &t, &err))
		fail_msg("%s", err.msg);
	return t;
}

static void test_roles_target(void **state)
{
	struct fl_sut *t = target(roles_yaml);
	struct fl_tplan p;
	struct fl_err err = { "" };

	(void)state;
	assert_int_equal(t->nodes, 3); /* the default */
	assert_int_equal(t->n_roles, 2);
	assert_int_equal(t->n_starts, 3);
	assert_string_equal(t->starts[2].name, "sentinel");
	assert_string_equal(t->starts[0].name, "primary");
	assert_null(t->starts[2].on);
	assert_int_equal(t->n_setup, 1);
	assert_int_equal(t->setup[0].timeout_ns, 5000000000ULL);
	assert_int_equal(t->n_teardown, 1);
	assert_non_null(t->leader);
	assert_int_equal(t->n_ops, 2);
	assert_int_equal(t->ops[1].weight, 3);
	assert_true(t->ops[0].uses_value);
	assert_false(t->ops[1].uses_value);
	assert_int_equal(t->concurrent, 11);
	assert_int_equal(fl_sut_plan(t, 5, &p, &err), 0);
	assert_string_equal(p.names[0], "primary1");
	assert_string_equal(p.names[4], "replica4");
	assert_string_equal(p.roles[0], "primary");
	assert_string_equal(p.roles[3], "replica");
	assert_true(fl_tstart_on(&t->starts[1], &p, 2));
	assert_false(fl_tstart_on(&t->starts[1], &p, 0));
	assert_true(fl_tplan_on("replica2", &p, 2));
	fl_sut_free(t);
}

static void test_role_templates(void **state)
{
	static const struct fl_tnode nodes[] = { { "p1", "198.18.0.1", "", "primary" },
						 { "r1", "198.18.0.2", "", "replica" },
						 { "r2", "198.18.0.3", "", "replica" } };
	struct fl_sut *t = target(roles_yaml);
	struct fl_tvars v = { .t = t, .nodes = nodes, .n_nodes = 3, .self = 1, .seq = 7 };
	struct fl_err err = { "" };
	char *out = NULL;

	(void)state;
	assert_int_equal(fl_template_expand("{{role}} {{ip:primary}} {{node:replica}} "
					    "{{nodes:replica}} {{ips:primary}} {{majority}} "
					    "{{value}}",
					    &v, &out, &err),
			 0);
	assert_string_equal(out, "replica 198.18.0.1 r1 r1,r2 198.18.0.1 2 7");
	free(out);
	assert_int_equal(fl_template_expand("{{nodes:arbiter}}", &v, &out, &err), -EINVAL);
	assert_string_equal(err.msg, "'arbiter': no node has this role");
	assert_int_equal(fl_template_expand("{{target_dir}}", &v, &out, &err), 0);
	assert_true(out[0] == '/');
	free(out);
	fl_sut_free(t);
}

static const struct {
	const char *yaml, *msg;
} bads[] = {
	{ "name: t\nroles: {a: 1, b: rest, c: rest}\nstart: {run: x}\nprobe: {run: x}\n",
	  "t.yaml:2:27: only one role can take the 'rest'" },
	{ "name: t\nroles: {leader: 1}\nstart: {run: x}\nprobe: {run: x}\n",
	  "t.yaml:2:9: 'leader' is a selector; name the role otherwise" },
	{ "name: t\nroles: {a: lots}\nstart: {run: x}\nprobe: {run: x}\n",
	  "t.yaml:2:12: a role's size is a number of nodes or 'rest' (a: lots)" },
	{ "name: t\nroles: {primary: 1, replica: rest}\n"
	  "start: [{role: replca, run: x}]\nprobe: {run: x}\n",
	  "t.yaml:3:16: unknown role 'replca' (did you mean 'replica'?)" },
	{ "name: t\nstart: [{run: x}, {run: y}]\nprobe: {run: x}\n",
	  "t.yaml:2:19: two start items run 'target' on the same nodes; give one a 'name'" },
	{ "name: t\nstart: {run: x}\nprobe: {every: 1s, ops: {w: x}, mix: {r: 1}}\n",
	  "t.yaml:3:39: 'mix' names 'r', which is not one of 'ops'" },
	{ "name: t\nstart: {run: x}\nprobe: {run: x, mix: {r: 1}}\n",
	  "t.yaml:3:17: 'mix' needs 'ops'" },
	{ "name: t\nstart: {run: x}\nprobe: {ops: {w: x}, mix: {{a: 1}: 1}}\n",
	  "t.yaml:3:28: keys in 'mix' name operations" },
	{ "name: t\nstart: {run: x}\nprobe: {ops: {w: x}, mix: {w: 0}}\n",
	  "t.yaml:3:27: 'mix' gives every operation a weight of 0" },
	{ "name: t\nnames: \"{{role}}{{nr}}\"\nstart: {run: x}\nprobe: {run: x}\n",
	  "t.yaml:2:9: names: '{{nr}}' is not role, rank, number or index" },
	/* a literal part longer than the name buffer before a placeholder
	 * (once wrote past the buffer: scan-build) */
	{ "name: t\nnames: \""
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "{{role}}{{rank}}\"\nstart: {run: x}\nprobe: {run: x}\n",
	  "t.yaml:2:9: names: a node name would be longer than 63 characters" },
	{ "name: t\nstart: {run: x}\nleader: {run: x, timeout: 0s}\nprobe: {run: x}\n",
	  "t.yaml:3:27: 'timeout' must be > 0" },
	{ "name: t\nstart: {run: x}\nprobe: {run: x, concurrent: 0}\n",
	  "t.yaml:3:29: bad value for 'concurrent': 0: out of range (use an integer 1..64)" },
};

static void test_bad_targets(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		struct fl_sut *t = NULL;
		struct fl_err err = { "" };
		int ret = fl_sut_load("t.yaml", bads[i].yaml, &t, &err);

		if (ret != -EINVAL || strncmp(err.msg, bads[i].msg, strlen(bads[i].msg)))
			print_error("case %zu: ret %d, got\n  %s\nwant\n  %s\n", i, ret, err.msg,
				    bads[i].msg);
		assert_int_equal(ret, -EINVAL);
		assert_true(!strncmp(err.msg, bads[i].msg, strlen(bads[i].msg)));
		assert_null(t);
	}
}

/* roles that do not fit the run's size; names that clash or are too long */
static void test_plan_errors(void **state)
{
	struct fl_sut *t = target("name: t\nroles: {a: 2, b: 2}\nstart: {run: x}\n"
				  "probe: {run: x}\n");
	struct fl_tplan p;
	struct fl_err err = { "" };

	(void)state;
	assert_int_equal(fl_sut_plan(t, 4, &p, &err), 0);
	assert_int_equal(fl_sut_plan(t, 5, &p, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "t.yaml:2:8: the roles need 4 nodes, the run has 5 (--nodes N)");
	fl_sut_free(t);
	t = target("name: t\nnames: \"same\"\nstart: {run: x}\nprobe: {run: x}\n");
	assert_int_equal(fl_sut_plan(t, 2, &p, &err), -EINVAL);
	assert_string_equal(err.msg, "t.yaml: names: two nodes are called 'same'");
	fl_sut_free(t);
}

/* A command check's node: is a selector, checked against the plan like a
 * step's node fields: roles, keywords, names; file:line:col otherwise. */
static void test_check_nodes(void **state)
{
	struct fl_sut *t = target(roles_yaml);
	struct fl_scenario *sc = NULL;
	struct fl_err err = { "" };
	static const char *const good[] = { "replica", "all",	   "minority",
					    "leader",  "primary1", "one,replica2" };
	char yaml[256];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(yaml, sizeof(yaml),
			 "name: c\nduration: 5s\nchecks:\n  - command: {node: \"%s\", run: x}\n",
			 good[i]);
		assert_int_equal(fl_scenario_load("c.yaml", yaml, &sc, &err), 0);
		if (fl_run_validate(sc, t, 3, &err))
			fail_msg("%s: %s", good[i], err.msg);
		fl_scenario_free(sc);
	}
	assert_int_equal(fl_scenario_load("c.yaml",
					  "name: c\nduration: 5s\nchecks:\n"
					  "  - command: {node: replca, run: x}\n",
					  &sc, &err),
			 0);
	assert_int_equal(fl_run_validate(sc, t, 3, &err), -EINVAL);
	assert_string_equal(err.msg, "c.yaml:4:5: unknown node, role or selector 'replca' (did you "
				     "mean 'replica'?)");
	fl_scenario_free(sc);
	assert_int_equal(fl_scenario_load("c.yaml",
					  "name: c\nduration: 5s\nchecks:\n"
					  "  - command: {node: n3, run: x}\n",
					  &sc, &err),
			 0);
	assert_int_equal(fl_run_validate(sc, t, 3, &err), -EINVAL);
	assert_string_equal(err.msg, "c.yaml:4:5: node 'n3' is not in the lab");
	fl_scenario_free(sc);
	sc = NULL;
	assert_int_equal(
		fl_scenario_load("c.yaml",
				 "name: c\nduration: 5s\nchecks:\n"
				 "  - command: {node: \"replica1,replica2,primary1,replica3,"
				 "replica4\", run: x}\n",
				 &sc, &err),
		-EINVAL);
	assert_non_null(strstr(err.msg, "c.yaml:4:22: 'node' is too long (at most 32"));
	fl_sut_free(t);
}

static const char sched_yaml[] =
	"name: s\nduration: 60s\nseed: 3\n"
	"timeline:\n  - {at: 30s, id: mine, fault: {kind: loss, loss: 1%}}\n"
	"schedule: {every: 10s, for: 5s, until: 60s, pick: [partition: random-halves, "
	"delay: {delay: 200ms, on: leader}, kill: one, loss: 5%]}\n";

static char *print(const struct fl_scenario *sc, uint64_t seed)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	fl_scenario_print(sc, seed, f);
	fclose(f);
	return out;
}

static struct fl_scenario *load(const char *file, const char *yaml)
{
	struct fl_scenario *sc = NULL;
	struct fl_err err = { "" };

	if (fl_scenario_load(file, yaml, &sc, &err))
		fail_msg("%s", err.msg);
	return sc;
}

static char *expanded(uint64_t seed)
{
	struct fl_scenario *sc = load("s.yaml", sched_yaml);
	struct fl_err err = { "" };
	char *out;

	assert_int_equal(fl_scenario_expand(sc, seed, &err), 0);
	assert_int_equal(sc->n_steps, 7);
	for (size_t i = 0; i < sc->n_steps; i++)
		assert_int_equal(sc->steps[i].index, i);
	out = print(sc, seed);
	fl_scenario_free(sc);
	return out;
}

/* The same seed writes out the same steps; another seed other ones; the
 * written-out scenario loads again with the same steps and no schedule. */
static void test_schedule(void **state)
{
	char *a = expanded(5), *b = expanded(5), *c = NULL, *again;
	struct fl_scenario *sc;
	bool differs = false;

	(void)state;
	assert_string_equal(a, b);
	assert_non_null(strstr(a, "    id: sched-1\n"));
	assert_non_null(strstr(a, "    duration: 5s\n"));
	assert_null(strstr(a, "schedule:"));
	for (uint64_t seed = 6; seed < 30 && !differs; seed++) {
		free(c);
		c = expanded(seed);
		differs = strcmp(a, c) != 0;
	}
	assert_true(differs);
	sc = load("resolved.yaml", a);
	assert_int_equal(sc->n_steps, 7);
	assert_int_equal(sc->n_schedules, 0);
	again = print(sc, 5);
	assert_string_equal(a, again);
	fl_scenario_free(sc);
	free(a);
	free(b);
	free(c);
	free(again);
	/* not expanded: printed as a schedule, which loads again */
	sc = load("s.yaml", sched_yaml);
	a = print(sc, 3);
	assert_non_null(
		strstr(a, "schedule:\n  - {id: sched, every: 10s, for: 5s, from: 0s, "
			  "until: 1m, pick: [fault: \"partition random-halves\", fault: "
			  "\"delay 200ms --node leader\", kill: \"one\", fault: \"loss 5%\"]}"));
	fl_scenario_free(sc);
	sc = load("again.yaml", a);
	assert_int_equal(sc->n_schedules, 1);
	assert_int_equal(sc->schedules[0].n_picks, 4);
	fl_scenario_free(sc);
	free(a);
}

static void test_schedule_errors(void **state)
{
	static const struct {
		const char *yaml, *msg;
	} cases[] = {
		{ "name: s\nduration: 9s\nschedule: {every: 2s, for: 3s, pick: [loss: 1%]}\n",
		  "s.yaml:3:28: 'for' must be > 0 and at most 'every' (a pick is healed before the next "
		  "one)" },
		{ "name: s\nduration: 9s\nschedule: {every: 2s, for: 1s, until: 10s, "
		  "pick: [loss: 1%]}\n",
		  "s.yaml:3:39: a schedule must run within the scenario (from < until <= duration)" },
		{ "name: s\nduration: 9s\nschedule: {every: 2s, for: 1s, pick: [restart: one]}\n",
		  "s.yaml:3:39: a pick must be a step that can be healed ('restart' cannot be)" },
		{ "name: s\nduration: 9s\nschedule: {every: 2s, for: 1s, pick: [lose: 1%]}\n",
		  "s.yaml:3:39: not a step or fault kind: unknown fault 'lose' (did you mean "
		  "'loss'?)" },
		{ "name: s\nduration: 9s\nschedule: {every: 2s, for: 1s, pick: "
		  "[{partition: one, at: 1s}]}\n",
		  "s.yaml:3:56: unknown key 'at' in a schedule's pick" },
		/* a key that is a mapping (once a NULL into strcmp: fuzz_scenario) */
		{ "name: s\nduration: 9s\nschedule: {every: 2s, for: 1s, pick: [{{a: 1}: x}]}\n",
		  "s.yaml:3:40: a pick's key is a step or fault kind" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fl_scenario *sc = NULL;
		struct fl_err err = { "" };
		int ret = fl_scenario_load("s.yaml", cases[i].yaml, &sc, &err);

		if (ret != -EINVAL || strncmp(err.msg, cases[i].msg, strlen(cases[i].msg)))
			print_error("case %zu: got\n  %s\nwant\n  %s\n", i, err.msg, cases[i].msg);
		assert_int_equal(ret, -EINVAL);
		assert_true(!strncmp(err.msg, cases[i].msg, strlen(cases[i].msg)));
	}
	{ /* a written-out id that a timeline step already has */
		struct fl_scenario *sc = load("s.yaml",
					      "name: s\nduration: 9s\ntimeline:\n"
					      "  - {at: 1s, id: sched-2, fault: \"loss 1%\"}\n"
					      "schedule: {every: 2s, for: 1s, pick: [loss: 1%]}\n");
		struct fl_err err = { "" };

		assert_int_equal(fl_scenario_expand(sc, 1, &err), -EINVAL);
		assert_string_equal(
			err.msg, "s.yaml:5:11: the schedule's step id 'sched-2' is used by a step "
				 "of the timeline (give the schedule another 'id')");
		fl_scenario_free(sc);
	}
}

static void test_time_scale(void **state)
{
	struct fl_scenario *sc = load("s.yaml", sched_yaml);

	(void)state;
	fl_scenario_scale(sc, 0.25);
	assert_int_equal(sc->duration_ns, 15000000000ULL);
	assert_int_equal(sc->steps[0].at_ns, 7500000000ULL);
	assert_int_equal(sc->schedules[0].every_ns, 2500000000ULL);
	assert_int_equal(sc->schedules[0].for_ns, 1250000000ULL);
	fl_scenario_free(sc);
	/* a command check's at moves with the windows it looks into; its
	 * timeout (the machine's time) does not */
	sc = load("s.yaml",
		  "name: s\nduration: 40s\ntimeline:\n"
		  "  - {at: 3s, id: f, fault: \"loss 1%\"}\n  - {at: 13s, heal: f}\n"
		  "checks:\n  - command: {node: n1, run: \"true\", at: 10s, timeout: 8s}\n"
		  "  - recovery: {within: 4s, after: f}\n");
	fl_scenario_scale(sc, 0.25);
	assert_true(sc->checks[0].has_at);
	assert_int_equal(sc->checks[0].at_ns, 2500000000ULL);
	assert_int_equal(sc->checks[0].timeout_ns, 8000000000ULL);
	assert_int_equal(sc->checks[1].within_ns, 1000000000ULL);
	fl_scenario_free(sc);
}

/* Per time, each 100 ms bucket with an operation start counts once: a
 * stretch of timeouts counts by its length, not by how many runs it had. */
static void test_avail_time(void **state)
{
	struct fl_op ops[40];
	struct fl_run_data rd = { .ops = ops, .start_ns = 0, .end_ns = 4000000000ULL };
	size_t ok = 0, all = 0;

	(void)state;
	memset(ops, 0, sizeof(ops));
	/* 2 s of 100 ms probes, all ok; then 2 s with 20 failing runs */
	for (size_t i = 0; i < 20; i++)
		ops[i] = (struct fl_op){ .start_ns = i * 100000000ULL,
					 .end_ns = i * 100000000ULL + 20000000ULL,
					 .status = FL_OP_OK };
	for (size_t i = 20; i < 40; i++)
		ops[i] = (struct fl_op){ .start_ns = i * 100000000ULL,
					 .end_ns = i * 100000000ULL + 900000000ULL,
					 .status = FL_OP_TIMEOUT };
	rd.n_ops = 40;
	fl_avail_time(NULL, &rd, &ok, &all);
	assert_int_equal(all, 40);
	assert_int_equal(ok, 20);
	/* two ops in one bucket, one ok: the bucket is ok */
	ops[21].start_ns = ops[0].start_ns + 1;
	rd.n_ops = 40;
	fl_avail_time(NULL, &rd, &ok, &all);
	assert_int_equal(all, 39);
	assert_int_equal(ok, 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roles_target), cmocka_unit_test(test_role_templates),
		cmocka_unit_test(test_bad_targets),  cmocka_unit_test(test_plan_errors),
		cmocka_unit_test(test_schedule),     cmocka_unit_test(test_schedule_errors),
		cmocka_unit_test(test_time_scale),   cmocka_unit_test(test_avail_time),
		cmocka_unit_test(test_check_nodes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
