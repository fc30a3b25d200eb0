// SPDX-License-Identifier: MIT
/* Topology timeline steps (harness/step_topo.c): YAML to the words of the
 * change, the resolved form loading again, errors with file:line:col, and
 * a timeline validated against the lab its earlier steps make; target
 * files' join/leave/converged and the templates they use. No privileges. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lab/lab.h"
#include "scenario.h"
#include "select.h"
#include "steps.h"
#include "target.h"

static const char head[] = "name: t\nduration: 30s\ntimeline:\n";

static struct fl_scenario *load(const char *steps)
{
	struct fl_scenario *sc = NULL;
	struct fl_err err = { "" };
	char text[4096];

	snprintf(text, sizeof(text), "%s%s", head, steps);
	if (fl_scenario_load("s.yaml", text, &sc, &err))
		fail_msg("%s\n%s", err.msg, text);
	return sc;
}

static void words(const struct fl_step *st, const char *want)
{
	char w[512];

	fl_step_words(st, w, sizeof(w));
	assert_string_equal(w, want);
}

static void test_step_words(void **ctx)
{
	struct fl_scenario *sc =
		load("  - {at: 1s, link: {node: n1, state: down}}\n"
		     "  - {at: 2s, flap: {node: n2, period: 2s, count: 5, down_for: 500ms}}\n"
		     "  - {at: 3s, join: n4}\n"
		     "  - {at: 4s, join: {node: n5, start: true, family: ipv6}}\n"
		     "  - {at: 5s, leave: n2}\n"
		     "  - {at: 6s, readdress: n1}\n"
		     "  - {at: 7s, readdress: {node: n3, ipv4: 198.18.0.9}}\n"
		     "  - {at: 8s, mtu: {node: n3, mtu: 1280}}\n"
		     "  - {at: 9s, route: {from: n1, to: n4, via: n3}}\n"
		     "  - {at: 10s, route: {from: n1, to: n4, direct: true}}\n"
		     "  - {at: 11s, link: \"n1 up\"}\n"
		     "  - {at: 12s, mtu: \"n3 1500\"}\n");

	(void)ctx;
	assert_int_equal(sc->n_steps, 12);
	words(&sc->steps[0], "link n1 down");
	words(&sc->steps[1], "flap n2 --period 2s --count 5 --down-for 500ms");
	words(&sc->steps[2], "join n4");
	words(&sc->steps[3], "join n5 --ipv6-only --start");
	words(&sc->steps[4], "leave n2");
	words(&sc->steps[5], "readdress n1");
	words(&sc->steps[6], "readdress n3 --ipv4 198.18.0.9");
	words(&sc->steps[7], "mtu n3 1280");
	words(&sc->steps[8], "route --from n1 --to n4 --via n3");
	words(&sc->steps[9], "route --from n1 --to n4 --direct");
	words(&sc->steps[10], "link n1 up");
	words(&sc->steps[11], "mtu n3 1500");
	assert_string_equal(sc->steps[0].ops->key, "link");
	assert_true(sc->steps[3].ops->needs_lab);
	fl_scenario_free(sc);
}

/* printed as `KEY: "words after the key"`, and that loads again */
static void test_resolved_round_trip(void **ctx)
{
	struct fl_scenario *sc = load("  - {at: 1s, join: {node: n4, start: true}}\n"
				      "  - {at: 2s, route: {from: n1, to: n2, via: n3}}\n"
				      "  - {at: 3s, heal: all}\n"),
			   *back = NULL;
	struct fl_err err = { "" };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)ctx;
	fl_scenario_print(sc, 1, f);
	fclose(f);
	assert_non_null(strstr(text, "    join: \"n4 --start\"\n"));
	assert_non_null(strstr(text, "    route: \"--from n1 --to n2 --via n3\"\n"));
	if (fl_scenario_load("r.yaml", text, &back, &err))
		fail_msg("%s\n%s", err.msg, text);
	words(&back->steps[0], "join n4 --start");
	words(&back->steps[1], "route --from n1 --to n2 --via n3");
	free(text);
	fl_scenario_free(sc);
	fl_scenario_free(back);
}

static void bad(const char *steps, const char *msg)
{
	struct fl_scenario *sc = NULL;
	struct fl_err err = { "" };
	char text[2048];

	snprintf(text, sizeof(text), "%s%s", head, steps);
	assert_int_equal(fl_scenario_load("s.yaml", text, &sc, &err), -EINVAL);
	if (!strstr(err.msg, msg))
		fail_msg("got '%s', want '%s'", err.msg, msg);
	assert_null(sc);
}

static void test_bad_steps(void **ctx)
{
	(void)ctx;
	bad("  - {at: 1s, link: {node: n1, stat: down}}\n",
	    "s.yaml:4:31: unknown key 'stat' in a 'link' step (did you mean 'state'?)");
	bad("  - {at: 1s, link: {node: n1, state: sideways}}\n", "s.yaml:4:20: link n1: say down");
	bad("  - {at: 1s, flap: {node: n1, period: 0}}\n", "give --period P > 0");
	bad("  - {at: 1s, flap: n1}\n", "flap n1: give --period P > 0");
	bad("  - {at: 1s, join: {node: n4, family: ipx}}\n", "'family' is ipv4, ipv6 or dual");
	bad("  - {at: 1s, mtu: {node: n1, mtu: 70000}}\n", "65535");
	bad("  - {at: 1s, route: {from: n1, to: n2, via: n2}}\n", "route via the same node");
	bad("  - {at: 1s, leave: [n1]}\n", "'leave' needs a node");
	bad("  - {at: 1s, readdress: \"n1 --start\"}\n", "'start' is for join steps");
}

static int validate(const char *steps, struct fl_err *err)
{
	struct fl_lab_spec spec = { .name = "v", .n_nodes = 3, .ipv6 = true };
	struct fl_scenario *sc = load(steps);
	struct fl_lab *lab = NULL;
	int ret;

	assert_int_equal(fl_lab_plan(&spec, &lab, err), 0);
	ret = fl_steps_validate(sc, NULL, NULL, lab, err);
	/* the planned lab itself is never changed */
	assert_int_equal(lab->n_nodes, 3);
	fl_lab_free(lab);
	fl_scenario_free(sc);
	return ret;
}

/* later steps are checked against the lab the earlier ones make */
static void test_validate_follows(void **ctx)
{
	struct fl_err err = { "" };

	(void)ctx;
	assert_int_equal(validate("  - {at: 1s, join: n4}\n"
				  "  - {at: 2s, fault: {kind: loss, loss: 5%, from: n4}}\n",
				  &err),
			 0);
	assert_int_equal(validate("  - {at: 1s, fault: {kind: loss, loss: 5%, from: n4}}\n"
				  "  - {at: 2s, join: n4}\n",
				  &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "s.yaml:4:5: --from: unknown node 'n4'"));
	assert_int_equal(validate("  - {at: 1s, id: out, leave: n2}\n"
				  "  - {at: 2s, fault: {kind: loss, loss: 5%, to: n2}}\n",
				  &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "node n2 left lab v"));
	/* healing the leave brings n2 back for later steps */
	assert_int_equal(validate("  - {at: 1s, id: out, leave: n2}\n"
				  "  - {at: 2s, heal: out}\n"
				  "  - {at: 3s, fault: {kind: loss, loss: 5%, to: n2}}\n"
				  "  - {at: 4s, link: {node: n2, state: down}}\n",
				  &err),
			 0);
	/* healing a join of a new node takes it away again */
	assert_int_equal(validate("  - {at: 1s, join: n4}\n"
				  "  - {at: 2s, heal: all}\n"
				  "  - {at: 3s, mtu: {node: n4, mtu: 1280}}\n",
				  &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "s.yaml:6:5: node n4 left lab v"));
	assert_int_equal(validate("  - {at: 1s, join: n1}\n", &err), -EINVAL);
	assert_int_equal(validate("  - {at: 1s, mtu: {node: n1, mtu: 1000}}\n", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "the least IPv6 allows"));
}

static const char target[] =
	"name: m\nnodes: 3\n"
	"peer: \"{{node}}=http://{{ip}}:2380\"\n"
	"start: {run: \"srv --name {{node}} --state {{cluster_state}} --cluster {{peers}}\"}\n"
	"join: {run: \"ctl --endpoints {{endpoints}} add {{node}} {{ip}}\", timeout: 5s}\n"
	"leave: \"ctl --endpoints {{endpoints}} remove {{node}}\"\n"
	"converged: \"ctl members --want {{nodes}}\"\n"
	"probe: {run: \"true\"}\n";

static void test_target_members(void **ctx)
{
	static const struct fl_tnode nodes[] = { { "n1", "198.18.0.1", "", NULL },
						 { "n2", "198.18.0.2", "", NULL } };
	static const struct fl_tnode n4 = { "n4", "198.18.0.4", "", NULL };
	struct fl_tvars v = { .nodes = nodes, .n_nodes = 2, .self = 0 };
	struct fl_err err = { "" };
	struct fl_sut *t = NULL;
	char *out = NULL;

	(void)ctx;
	if (fl_sut_load("m.yaml", target, &t, &err))
		fail_msg("%s", err.msg);
	assert_true(t->member_timeout_ns == 5000000000ULL);
	v.t = t;
	/* the join command: {{node}} {{ip}} the node, the lists the others */
	v.other = &n4;
	assert_int_equal(fl_template_expand(t->join_run, &v, &out, &err), 0);
	assert_string_equal(out, "ctl --endpoints 198.18.0.1,198.18.0.2 add n4 198.18.0.4");
	free(out);
	v.other = NULL;
	v.cluster_state = "existing";
	assert_int_equal(fl_template_expand(t->start_run, &v, &out, &err), 0);
	assert_string_equal(out, "srv --name n1 --state existing --cluster "
				 "n1=http://198.18.0.1:2380,n2=http://198.18.0.2:2380");
	free(out);
	assert_int_equal(fl_template_expand("{{converged}} && echo ok", &v, &out, &err), 0);
	assert_string_equal(out, "ctl members --want n1,n2 && echo ok");
	free(out);
	fl_sut_free(t);
	/* without a converged command, {{converged}} is "true" */
	v.t = NULL;
	assert_int_equal(fl_template_expand("{{converged}}", &v, &out, &err), 0);
	assert_string_equal(out, "true");
	free(out);
}

static const char roles_target[] = "name: r\nnodes: 3\nroles: {primary: 1, replica: rest}\n"
				   "start: {run: \"true\"}\nprobe: {run: \"true\"}\n";

/* Selectors against n1 (primary), n2 and n3 (replicas), r's roles. */
static int validate_sel(const char *steps, char *first, size_t len, struct fl_err *err)
{
	struct fl_lab_spec spec = { .name = "v", .n_nodes = 3 };
	struct fl_sel_env env = { .n = 3, .seed = 7, .target = "r", .has_leader = true };
	struct fl_scenario *sc = load(steps);
	struct fl_step_ctx c = { .sel = &env };
	struct fl_step *copy = NULL;
	struct fl_lab *lab = NULL;
	struct fl_sut *t = NULL;
	int ret;

	if (fl_sut_load("r.yaml", roles_target, &t, err))
		fail_msg("%s", err->msg);
	for (size_t i = 0; i < 3; i++) {
		static const char *const names[] = { "n1", "n2", "n3" };

		env.names[i] = names[i];
		env.roles[i] = i ? "replica" : "primary";
	}
	assert_int_equal(fl_lab_plan(&spec, &lab, err), 0);
	ret = fl_steps_validate(sc, &env, t, lab, err);
	c.lab = lab;
	if (!ret) {
		assert_int_equal(fl_step_resolve(&c, &sc->steps[0], &copy, NULL, err), 0);
		fl_step_words(copy, first, len);
		fl_step_free(copy);
	}
	fl_lab_free(lab);
	fl_sut_free(t);
	fl_scenario_free(sc);
	return ret;
}

/* Topology steps take selectors where they take a node, like every step
 * kind (stepsel.c); a node that joins is one later steps can name. */
static void test_selectors(void **ctx)
{
	struct fl_err err = { "" };
	char w[256];

	(void)ctx;
	assert_int_equal(validate_sel("  - {at: 1s, leave: primary}\n", w, sizeof(w), &err), 0);
	assert_string_equal(w, "leave n1");
	assert_int_equal(validate_sel("  - {at: 1s, route: {from: primary, to: n3, via: n2}}\n", w,
				      sizeof(w), &err),
			 0);
	assert_string_equal(w, "route --from n1 --to n3 --via n2");
	assert_int_equal(validate_sel("  - {at: 1s, join: n4}\n"
				      "  - {at: 2s, link: {node: n4, state: down}}\n"
				      "  - {at: 3s, fault: {kind: loss, loss: 5%, from: n4}}\n",
				      w, sizeof(w), &err),
			 0);
	assert_string_equal(w, "join n4");
	assert_int_equal(validate_sel("  - {at: 1s, mtu: {node: leader, mtu: 1400}}\n", w,
				      sizeof(w), &err),
			 0);
	assert_string_equal(w, "mtu n1 1400");
	assert_int_equal(validate_sel("  - {at: 1s, link: {node: n1, state: down}}\n"
				      "  - {at: 2s, leave: n9}\n",
				      w, sizeof(w), &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "s.yaml:5:5: "));
}

/* A single-node field (a topology step's node, admin's, inject's) refuses
 * a selector that picks several, naming them; selectors skip the nodes
 * that left by then; an address template resolves to the one node's
 * address in the planned lab. */
static void test_one_node(void **ctx)
{
	struct fl_err err = { "" };
	char w[256];

	(void)ctx;
	assert_int_equal(validate_sel("  - {at: 1s, leave: replica}\n", w, sizeof(w), &err),
			 -EINVAL);
	assert_string_equal(err.msg, "s.yaml:4:5: 'replica' picked 2 nodes (n2,n3) where one node "
				     "is needed: use leader, one, a node's name, or a role of one "
				     "node");
	assert_int_equal(validate_sel("  - {at: 1s, mtu: {node: all, mtu: 1400}}\n", w, sizeof(w),
				      &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "s.yaml:4:5: 'all' picked 3 nodes (n1,n2,n3)"));
	assert_int_equal(validate_sel("  - {at: 1s, leave: n1}\n"
				      "  - {at: 2s, link: {node: primary, state: down}}\n",
				      w, sizeof(w), &err),
			 -EINVAL);
	assert_string_equal(err.msg, "s.yaml:5:5: every node of role 'primary' left the lab");
	/* after n2 left, the replicas are one node: n3 */
	assert_int_equal(validate_sel("  - {at: 1s, leave: n2}\n"
				      "  - {at: 2s, link: {node: replica, state: down}}\n",
				      w, sizeof(w), &err),
			 0);
	assert_int_equal(validate_sel("  - {at: 1s, admin: {node: n3, hosts: {name: primary, addr: "
				      "\"{{ip:leader}}\"}}}\n",
				      w, sizeof(w), &err),
			 0);
	assert_string_equal(w, "n3 hosts n1 198.18.0.1");
	assert_int_equal(validate_sel("  - {at: 1s, admin: {node: n3, hosts: {name: db, addr: "
				      "\"{{ip6:leader}}\"}}}\n",
				      w, sizeof(w), &err),
			 -EINVAL);
	assert_string_equal(err.msg, "s.yaml:4:5: {{ip6:leader}}: the node n1 has no IPv6 address "
				     "in the lab");
	assert_int_equal(validate_sel("  - {at: 1s, fault: {kind: loss, loss: 5%, from: "
				      "\"{{ip:leader}}\"}}\n",
				      w, sizeof(w), &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "an address template is for a field of one node"));
	assert_int_equal(validate_sel("  - {at: 1s, admin: {node: n1, hosts: {name: n1, addr: "
				      "\"{{ip:replica}}\"}}}\n",
				      w, sizeof(w), &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "'{{ip:replica}}' picked 2 nodes (n2,n3)"));
	assert_int_equal(validate_sel("  - {at: 1s, inject: {to: majority, proto: udp, port: 53, "
				      "payload: 0a}}\n",
				      w, sizeof(w), &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "'majority' picked 2 nodes"));
	/* join: left brings back the node that left; follower is the same
	 * node at every step; one in a single-node field is another node */
	assert_int_equal(
		validate_sel("  - {at: 1s, id: out, leave: follower}\n"
			     "  - {at: 2s, id: back, join: {node: left, start: true}}\n"
			     "  - {at: 3s, route: {from: leader, to: one, via: follower}}\n"
			     "  - {at: 4s, join: left}\n",
			     w, sizeof(w), &err),
		-EINVAL);
	assert_string_equal(err.msg, "s.yaml:7:5: 'left': no node has left the lab by then");
	assert_int_equal(
		validate_sel("  - {at: 1s, route: {from: leader, to: one, via: follower}}\n", w,
			     sizeof(w), &err),
		0);
	assert_true(!strcmp(w, "route --from n1 --to n2 --via n3") ||
		    !strcmp(w, "route --from n1 --to n3 --via n2"));
	assert_int_equal(validate_sel("  - {at: 1s, leave: n2}\n"
				      "  - {at: 2s, leave: n3}\n"
				      "  - {at: 3s, join: left}\n",
				      w, sizeof(w), &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "s.yaml:6:5: 'left' picked 2 nodes (n2,n3)"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_step_words),     cmocka_unit_test(test_resolved_round_trip),
		cmocka_unit_test(test_bad_steps),      cmocka_unit_test(test_validate_follows),
		cmocka_unit_test(test_target_members), cmocka_unit_test(test_selectors),
		cmocka_unit_test(test_one_node),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
