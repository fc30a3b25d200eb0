// SPDX-License-Identifier: MIT
/* Selectors and the one resolver of steps' node fields: sizes, seeds,
 * roles, rest, the leader: command, group selectors (random-halves, the
 * majorities ring), errors with suggestions, and what events record. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lab/lab.h"
#include "scenario.h"
#include "select.h"
#include "steps.h"

static const char *const names[] = { "n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8" };

static void env_init(struct fl_sel_env *e, size_t n, uint64_t seed)
{
	memset(e, 0, sizeof(*e));
	e->n = n;
	e->seed = seed;
	e->target = "t";
	for (size_t i = 0; i < n; i++)
		e->names[i] = names[i];
}

static size_t count(fl_nodeset s)
{
	return (size_t)__builtin_popcountll(s);
}

static fl_nodeset sel(const struct fl_sel_env *e, const char *expr, uint64_t salt)
{
	struct fl_sel_rng rng;
	struct fl_err err = { "" };
	fl_nodeset s = 0;
	bool unknown = false;

	fl_sel_rng_init(&rng, e->seed, salt, 1);
	if (fl_sel_nodes(e, expr, &rng, 0, &s, &unknown, &err))
		fail_msg("%s: %s", expr, err.msg);
	assert_false(unknown);
	return s;
}

/* one, minority, majority: their sizes for 1..8 nodes, within the lab */
static void test_sizes(void **state)
{
	struct fl_sel_env e;

	(void)state;
	for (size_t n = 1; n <= 8; n++) {
		env_init(&e, n, 42);
		assert_int_equal(count(sel(&e, "one", 1)), 1);
		assert_int_equal(count(sel(&e, "all", 1)), n);
		assert_int_equal(count(sel(&e, "majority", 1)), n / 2 + 1);
		if (n > 2) { /* 1 or 2 nodes have no minority */
			assert_int_equal(count(sel(&e, "minority", 1)), (n - 1) / 2);
			assert_true(count(sel(&e, "minority", 1)) * 2 < n);
		}
		assert_int_equal(sel(&e, "majority", 1) & ~fl_sel_all(&e), 0);
		assert_true(count(sel(&e, "majority", 1)) * 2 > n);
	}
}

/* The same seed and step pick the same nodes; other seeds (some of them)
 * pick others; over many steps every node gets picked. */
static void test_seeded(void **state)
{
	struct fl_sel_env a, b;
	fl_nodeset seen = 0;
	bool differs = false;

	(void)state;
	env_init(&a, 5, 7);
	env_init(&b, 5, 7);
	for (uint64_t salt = 0; salt < 50; salt++) {
		assert_int_equal(sel(&a, "minority", salt), sel(&b, "minority", salt));
		seen |= sel(&a, "one", salt);
	}
	assert_int_equal(seen, fl_sel_all(&a));
	for (uint64_t seed = 8; seed < 20 && !differs; seed++) {
		env_init(&b, 5, seed);
		differs = sel(&a, "majority", 3) != sel(&b, "majority", 3);
	}
	assert_true(differs);
}

static void test_roles_rest_unknown(void **state)
{
	struct fl_sel_env e;
	struct fl_sel_rng rng;
	struct fl_err err = { "" };
	fl_nodeset s = 0;
	bool unknown = false;

	(void)state;
	env_init(&e, 5, 1);
	e.roles[0] = "primary";
	for (int i = 1; i < 5; i++)
		e.roles[i] = "replica";
	assert_int_equal(sel(&e, "primary", 0), 1);
	assert_int_equal(sel(&e, "replica", 0), 0x1e);
	assert_int_equal(sel(&e, "n1,n3", 0), 0x5);
	assert_int_equal(sel(&e, "primary,n5", 0), 0x11);
	assert_true(fl_sel_has_selector(&e, "replica"));
	assert_false(fl_sel_has_selector(&e, "n1,n2"));
	assert_true(fl_sel_has_selector(NULL, "n1,leader"));
	fl_sel_rng_init(&rng, 1, 0, 0);
	assert_int_equal(fl_sel_nodes(&e, "rest", &rng, 0x6, &s, &unknown, &err), 0);
	assert_int_equal(s, 0x6);
	/* close to a selector or role: an error with the suggestion */
	assert_int_equal(fl_sel_nodes(&e, "leedr", &rng, 0, &s, &unknown, &err), -EINVAL);
	assert_string_equal(err.msg, "unknown node, role or selector 'leedr' (did you mean "
				     "'leader'?)");
	assert_int_equal(fl_sel_nodes(&e, "replca", &rng, 0, &s, &unknown, &err), -EINVAL);
	assert_string_equal(err.msg, "unknown node, role or selector 'replca' (did you mean "
				     "'replica'?)");
	/* a node name not in the lab is the data plane's to report */
	assert_int_equal(fl_sel_nodes(&e, "n9", &rng, 0, &s, &unknown, &err), 0);
	assert_true(unknown);
	assert_int_equal(fl_sel_nodes(&e, "198.18.0.9", &rng, 0, &s, &unknown, &err), 0);
	assert_true(unknown);
	/* no leader: command */
	assert_int_equal(fl_sel_nodes(&e, "leader", &rng, 0, &s, &unknown, &err), -EINVAL);
	assert_string_equal(err.msg, "'leader' needs the target's 'leader:' command (target 't' "
				     "has none: add one, or name a role or nodes)");
	env_init(&e, 1, 1);
	assert_int_equal(fl_sel_nodes(&e, "minority", &rng, 0, &s, &unknown, &err), -EINVAL);
	assert_string_equal(err.msg, "'minority' selects no node of 1");
}

static int leader_cb(void *arg, size_t *order, size_t *n, struct fl_err *err)
{
	(void)err;
	order[0] = *(size_t *)arg;
	order[1] = 0;
	*n = 2;
	return 0;
}

static void test_leader(void **state)
{
	struct fl_sel_env e;
	size_t who = 3;

	(void)state;
	env_init(&e, 5, 1);
	e.has_leader = true;
	assert_int_equal(sel(&e, "leader", 0), 1); /* planning: the first node */
	e.leader = leader_cb;
	e.arg = &who;
	assert_int_equal(sel(&e, "leader", 0), 1u << 3);
	assert_int_equal(sel(&e, "primaries", 0), 1u << 3 | 1);
	who = 1;
	assert_int_equal(sel(&e, "leader", 0), 1u << 1); /* asked again: follows it */
	/* followers: the nodes not named; follower: one of them, the same at
	 * every step (keyed by the seed alone), while they are the same */
	assert_int_equal(sel(&e, "followers", 0), 0x1f & ~(1u << 1 | 1u));
	assert_int_equal(count(sel(&e, "follower", 0)), 1);
	assert_int_equal(sel(&e, "follower", 0) & 0x03, 0);
	for (uint64_t salt = 1; salt < 20; salt++)
		assert_int_equal(sel(&e, "follower", salt), sel(&e, "follower", 0));
	assert_true(fl_sel_needs_leader("follower"));
	assert_true(fl_sel_needs_leader("n1,primaries"));
	assert_false(fl_sel_needs_leader("one"));
}

/* random-halves: two sides covering every node; the ring: every node sees
 * a majority, and (from 4 nodes) no two see the same one */
static void test_groups(void **state)
{
	struct fl_sel_env e;
	struct fl_err err = { "" };

	(void)state;
	for (size_t n = 2; n <= 8; n++) {
		struct fl_sel_rng rng;
		fl_nodeset g[FL_SEL_MAX_GROUPS];
		size_t ng = 0;

		env_init(&e, n, n);
		fl_sel_rng_init(&rng, n, 0, 0);
		assert_int_equal(fl_sel_groups(&e, "random-halves", &rng, g, &ng, &err), 0);
		assert_int_equal(ng, 2);
		assert_int_equal(g[0] | g[1], fl_sel_all(&e));
		assert_int_equal(g[0] & g[1], 0);
		assert_int_equal(count(g[0]), n / 2);
		if (n < 3)
			continue;
		assert_int_equal(fl_sel_groups(&e, "ring", &rng, g, &ng, &err), 0);
		for (size_t a = 0; a < n; a++) {
			fl_nodeset view = 0;

			for (size_t k = 0; k < ng; k++)
				if (g[k] >> a & 1)
					view |= g[k];
			assert_true(count(view) * 2 > n);
			for (size_t b = 0; b < a && n >= 4; b++) {
				fl_nodeset other = 0;

				for (size_t k = 0; k < ng; k++)
					if (g[k] >> b & 1)
						other |= g[k];
				assert_true(view != other);
			}
		}
	}
	env_init(&e, 2, 1);
	{
		struct fl_sel_rng rng;
		fl_nodeset g[FL_SEL_MAX_GROUPS];
		size_t ng;

		fl_sel_rng_init(&rng, 1, 0, 0);
		assert_int_equal(fl_sel_groups(&e, "ring", &rng, g, &ng, &err), -EINVAL);
		assert_string_equal(err.msg, "'ring' needs 3 to 16 nodes (the lab has 2)");
	}
}

static struct fl_scenario *load(const char *yaml)
{
	struct fl_scenario *sc = NULL;
	struct fl_err err = { "" };

	if (fl_scenario_load("s.yaml", yaml, &sc, &err))
		fail_msg("%s", err.msg);
	return sc;
}

static void resolve(const struct fl_sel_env *e, const struct fl_step *st, char *words,
		    char **select)
{
	struct fl_step_ctx c = { .sel = e };
	struct fl_step *copy = NULL;
	struct fl_err err = { "" };

	if (fl_step_resolve(&c, st, &copy, select, &err))
		fail_msg("%s", err.msg);
	fl_step_words(copy, words, 512);
	fl_step_free(copy);
}

/* Every kind's node fields through the one resolver; events get what the
 * selectors became; plain names and addresses stay as written. */
static void test_steps(void **state)
{
	struct fl_scenario *sc = load("name: s\nduration: 10s\ntimeline:\n"
				      "  - {at: 1s, fault: {kind: delay, delay: 9ms, on: leader}}\n"
				      "  - {at: 2s, partition: minority}\n"
				      "  - {at: 3s, partition: [[one], [rest]], oneway: true}\n"
				      "  - {at: 4s, fault: {kind: loss, loss: 5%, from: n1, "
				      "to: 198.18.0.9}}\n"
				      "  - {at: 5s, kill: {on: replica, process: db}}\n"
				      "  - {at: 6s, partition: ring}\n"
				      "  - {at: 7s, pause: [n2, n3], duration: 1s}\n");
	struct fl_sel_env e;
	char words[512], *select = NULL;
	size_t who = 2;

	(void)state;
	env_init(&e, 3, 1);
	e.roles[0] = "primary";
	e.roles[1] = e.roles[2] = "replica";
	e.has_leader = true;
	e.leader = leader_cb;
	e.arg = &who;
	resolve(&e, &sc->steps[0], words, &select);
	assert_string_equal(words, "delay 9ms --node n3");
	assert_string_equal(select,
			    "[{\"field\":\"--node\",\"selector\":\"leader\",\"nodes\":[\"n3\"]}]");
	free(select);
	resolve(&e, &sc->steps[1], words, &select);
	assert_true(!strcmp(words, "partition n1 n2,n3") || !strcmp(words, "partition n2 n1,n3") ||
		    !strcmp(words, "partition n3 n1,n2"));
	assert_non_null(strstr(select, "\"selector\":\"minority\",\"groups\":[["));
	free(select);
	resolve(&e, &sc->steps[2], words, &select);
	assert_true(!strncmp(words, "partition n", 11) && strstr(words, " oneway"));
	free(select);
	resolve(&e, &sc->steps[3], words, &select);
	assert_string_equal(words, "loss 5% --from n1 --to 198.18.0.9");
	assert_null(select); /* no selector: nothing to record */
	resolve(&e, &sc->steps[4], words, &select);
	assert_string_equal(words, "n2,n3 --process db");
	assert_non_null(strstr(select, "\"field\":\"kill\",\"selector\":\"replica\""));
	free(select);
	resolve(&e, &sc->steps[5], words, &select);
	assert_true(!strncmp(words, "partition n", 11) && strchr(words, ','));
	free(select);
	assert_int_equal(sc->steps[6].duration_ns, 1000000000ULL);
	assert_true(fl_step_needs_leader(&sc->steps[0]));
	assert_false(fl_step_needs_leader(&sc->steps[1]));
	fl_scenario_free(sc);
}

/* admin and inject steps: their node fields (admin's node and a firewall
 * rule's --from; inject's --to and --from) resolve like any other kind's. */
static void test_admin_inject(void **state)
{
	struct fl_scenario *sc = load(
		"name: s\nduration: 10s\ntimeline:\n"
		"  - {at: 1s, admin: {node: leader, firewall: {action: drop, proto: tcp, port: 2380, "
		"from: primary}}}\n"
		"  - {at: 2s, inject: {to: leader, from: primary, proto: udp, port: 53, payload: 0a0b}}\n"
		"  - {at: 3s, admin: {node: n2, sysctl: {key: net.core.somaxconn, value: 16}}}\n");
	struct fl_sel_env e;
	char words[512], *select = NULL;
	size_t who = 2;

	(void)state;
	env_init(&e, 3, 1);
	e.roles[0] = "primary";
	e.roles[1] = e.roles[2] = "replica";
	e.has_leader = true;
	e.leader = leader_cb;
	e.arg = &who;
	resolve(&e, &sc->steps[0], words, &select);
	assert_string_equal(words, "n3 firewall drop --proto tcp --port 2380 --from n1");
	assert_non_null(
		strstr(select, "{\"field\":\"admin\",\"selector\":\"leader\",\"nodes\":[\"n3\"]}"));
	assert_non_null(strstr(
		select, "{\"field\":\"--from\",\"selector\":\"primary\",\"nodes\":[\"n1\"]}"));
	free(select);
	resolve(&e, &sc->steps[1], words, &select);
	assert_non_null(strstr(words, "--to n3"));
	assert_non_null(strstr(words, "--from n1"));
	free(select);
	resolve(&e, &sc->steps[2], words, &select);
	assert_string_equal(words, "n2 sysctl net.core.somaxconn 16");
	assert_null(select);
	fl_scenario_free(sc);
}

/* Before the nodes are known, selectors stand for nodes, so the rest of
 * the words are checked by the data plane's own parser at load time. */
static void test_stand_in(void **state)
{
	struct fl_scenario *sc =
		load("name: s\nduration: 10s\ntimeline:\n"
		     "  - {at: 1s, partition: random-halves}\n"
		     "  - {at: 2s, fault: \"delay 5ms --from leader --to rest\"}\n");
	struct fl_step *copy = NULL;
	char words[256];
	struct fl_scenario *bad = NULL;
	struct fl_err err = { "" };

	(void)state;
	assert_int_equal(fl_step_stand_in(&sc->steps[0], &copy), 0);
	fl_step_words(copy, words, sizeof(words));
	assert_string_equal(words, "partition n1 n2");
	fl_step_free(copy);
	assert_int_equal(fl_step_stand_in(&sc->steps[1], &copy), 0);
	fl_step_words(copy, words, sizeof(words));
	assert_string_equal(words, "delay 5ms --from n1 --to n1");
	fl_step_free(copy);
	fl_scenario_free(sc);
	assert_int_equal(fl_scenario_load("b.yaml",
					  "name: s\nduration: 9s\ntimeline:\n"
					  "  - {at: 1s, partition: minority, oneway: yes}\n",
					  &bad, &err),
			 -EINVAL);
	assert_string_equal(err.msg, "b.yaml:4:43: 'oneway' must be true or false");
}

/* Nodes that left the lab: no keyword or role picks them (counts are of
 * the nodes there), a name still resolves, the leader: command's answer
 * skips them; with none gone, the picks are what they were. */
static void test_gone(void **state)
{
	struct fl_sel_env e;
	fl_nodeset g[FL_SEL_MAX_GROUPS], before, out;
	struct fl_sel_rng rng;
	struct fl_err err = { "" };
	size_t n = 0, who = 4; /* leader_cb names n5 first, then n1.. */
	bool unknown;

	(void)state;
	env_init(&e, 5, 3);
	before = sel(&e, "minority", 9);
	e.roles[0] = e.roles[1] = "primary";
	e.roles[2] = e.roles[3] = e.roles[4] = "replica";
	e.gone = 1ULL << 1 | 1ULL << 4; /* n2 and n5 left */
	assert_int_equal(sel(&e, "all", 1), 0x0d);
	assert_int_equal(sel(&e, "primary", 1), 0x01);
	assert_int_equal(sel(&e, "replica", 1), 0x0c);
	assert_int_equal(sel(&e, "n2", 1), 0x02); /* named: its step says it left */
	for (uint64_t salt = 0; salt < 50; salt++) {
		assert_int_equal(count(sel(&e, "majority", salt)), 2);
		assert_int_equal(count(sel(&e, "minority", salt)), 1);
		assert_int_equal(sel(&e, "one", salt) & e.gone, 0);
		assert_int_equal(sel(&e, "minority", salt) & e.gone, 0);
		fl_sel_rng_init(&rng, 3, salt, 1);
		assert_int_equal(fl_sel_groups(&e, "random-halves", &rng, g, &n, &err), 0);
		assert_int_equal(g[0] | g[1], 0x0d);
		assert_int_equal(count(g[0]), 1);
		fl_sel_rng_init(&rng, 3, salt, 1);
		assert_int_equal(fl_sel_groups(&e, "ring", &rng, g, &n, &err), 0);
		assert_int_equal(n, 2); /* 3 nodes there: the 3-node ring */
	}
	assert_int_equal(fl_sel_index(&e, "replica"), 2);
	assert_int_equal(sel(&e, "left", 1), 0x12); /* what a join brings back */
	e.has_leader = true;
	e.leader = leader_cb;
	e.arg = &who;
	assert_int_equal(sel(&e, "leader", 1), 0x01); /* n5 left: the next one named */
	e.gone = 0x03;
	fl_sel_rng_init(&rng, 3, 1, 1);
	assert_int_equal(fl_sel_nodes(&e, "primary", &rng, 0, &out, &unknown, &err), -EINVAL);
	assert_string_equal(err.msg, "every node of role 'primary' left the lab");
	e.gone = 0;
	e.has_leader = false;
	for (size_t i = 0; i < 5; i++)
		e.roles[i] = NULL;
	assert_int_equal(sel(&e, "minority", 9), before);
}

/* picked:ID: what an earlier step picked, kept when the leader (and with
 * it `follower`) changes; unknown ids and a missing table are errors. */
static void test_picked(void **state)
{
	struct fl_scenario *sc =
		load("name: s\nduration: 10s\ntimeline:\n"
		     "  - {at: 1s, id: gone, fault: {kind: loss, loss: 5%, "
		     "from: follower}}\n"
		     "  - {at: 2s, fault: {kind: delay, delay: 9ms, from: picked:gone, "
		     "to: follower}}\n"
		     "  - {at: 3s, id: halves, partition: random-halves}\n"
		     "  - {at: 4s, fault: {kind: loss, loss: 1%, from: picked:halves}}\n"
		     "  - {at: 5s, fault: {kind: loss, loss: 1%, from: picked:nope}}\n");
	struct fl_sel_picks *pk = calloc(1, sizeof(*pk));
	struct fl_step_ctx c = { 0 };
	struct fl_sel_env e;
	struct fl_step *copy = NULL;
	struct fl_err err = { "" };
	char words[512], want[64], f[16], *select = NULL;
	size_t who = 2;
	fl_nodeset first, now;
	bool unknown;

	(void)state;
	env_init(&e, 5, 7);
	e.has_leader = true;
	e.leader = leader_cb;
	e.arg = &who;
	e.picks = pk;
	first = sel(&e, "follower", 0);
	resolve(&e, &sc->steps[0], words, &select);
	free(select);
	assert_int_equal(pk->n, 1);
	assert_string_equal(pk->p[0].id, "gone");
	assert_int_equal(pk->p[0].set, first);
	/* the leader moves to the follower picked: `follower` moves on,
	 * picked:gone stays */
	who = (size_t)__builtin_ctzll(first);
	now = sel(&e, "follower", 0);
	assert_int_not_equal(now, first);
	resolve(&e, &sc->steps[1], words, &select);
	fl_sel_format(&e, first, f, sizeof(f));
	snprintf(want, sizeof(want), "delay 9ms --from %s --to ", f);
	assert_true(!strncmp(words, want, strlen(want)));
	assert_non_null(strstr(select, "\"selector\":\"picked:gone\""));
	free(select);
	/* a partition: its first group */
	resolve(&e, &sc->steps[2], words, &select);
	free(select);
	assert_int_equal(pk->n, 3); /* step-2 remembered too */
	assert_string_equal(pk->p[2].id, "halves");
	assert_int_equal(count(pk->p[2].set), 2);
	resolve(&e, &sc->steps[3], words, &select);
	free(select);
	fl_sel_format(&e, pk->p[2].set, f, sizeof(f));
	snprintf(want, sizeof(want), "loss 1%% --from %s", f);
	assert_string_equal(words, want);
	c.sel = &e;
	assert_int_equal(fl_step_resolve(&c, &sc->steps[4], &copy, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "no step with id 'nope' ran before this one"));
	/* a check's node: no picks */
	e.picks = NULL;
	assert_int_equal(fl_sel_nodes(&e, "picked:gone", NULL, 0, &now, &unknown, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "it is for a step's nodes"));
	assert_true(fl_sel_has_selector(NULL, "n1,picked:gone"));
	assert_false(fl_sel_needs_leader("picked:gone"));
	fl_scenario_free(sc);
	free(pk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_seeded),
		cmocka_unit_test(test_roles_rest_unknown),
		cmocka_unit_test(test_leader),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_steps),
		cmocka_unit_test(test_admin_inject),
		cmocka_unit_test(test_stand_in),
		cmocka_unit_test(test_gone),
		cmocka_unit_test(test_picked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
