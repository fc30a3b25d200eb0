// SPDX-License-Identifier: MIT
/* A run over an inventory (harness/invrun.h): a step's words, with node
 * names, into the faults of each node's agent (addresses, the sending
 * side, ids and the seed), partitions into per-node drops, the words the
 * run refuses, and the steps and checks that cannot run without a lab.
 * No privileges, no agents. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "invrun.h"
#include "scenario.h"
#include "steps.h"

static const char *const names[] = { "n1", "n2", "n3" };
static const char *const addrs[] = { "198.18.250.2", "198.18.250.3", "198.18.250.4" };

/* The words of text, translated: 0 or the error; got[k] the faults of
 * node k joined with " | ". */
static int translate(const char *text, char got[3][1024], struct fl_err *err)
{
	static struct fl_invrun_faults f;
	char buf[512], *argv[32], *save = NULL;
	int argc = 0, ret;

	snprintf(buf, sizeof(buf), "%s", text);
	for (char *w = strtok_r(buf, " ", &save); w && argc < 31; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	ret = fl_invrun_translate(argv, argc, "s1", 7, names, addrs, 3, &f, err);
	for (int k = 0; k < 3; k++) {
		got[k][0] = '\0';
		for (int j = 0; !ret && j < f.n[k]; j++)
			snprintf(got[k] + strlen(got[k]), 1024 - strlen(got[k]), "%s%s",
				 j ? " | " : "", f.f[k][j]);
	}
	fl_invrun_faults_free(&f);
	return ret;
}

static void test_everywhere(void **state)
{
	char got[3][1024];
	struct fl_err err = { "" };

	(void)state;
	/* where packets arrive, as a network drops them */
	assert_int_equal(translate("loss 10%", got, &err), 0);
	for (int k = 0; k < 3; k++)
		assert_string_equal(got[k], "loss 10% --dir in --id s1 --seed 7");
	/* a seed of its own is kept; other options go along */
	assert_int_equal(translate("loss gemodel 5% 30% --proto tcp --seed 3", got, &err), 0);
	assert_string_equal(got[1], "loss gemodel 5% 30% --proto tcp --seed 3 --dir in --id s1");
}

static void test_pairs(void **state)
{
	char got[3][1024];
	struct fl_err err = { "" };

	(void)state;
	assert_int_equal(translate("delay 50ms --from n1 --to n2", got, &err), 0);
	assert_string_equal(got[0], "");
	assert_string_equal(got[1], "delay 50ms --from 198.18.250.2 --dir in --id s1 --seed 7");
	assert_string_equal(got[2], "");
	/* --to alone: whatever arrives there */
	assert_int_equal(translate("loss 5% --to n2", got, &err), 0);
	assert_string_equal(got[0], "");
	assert_string_equal(got[1], "loss 5% --dir in --id s1 --seed 7");
	assert_string_equal(got[2], "");
	/* several receivers and the way back: one fault per sender, numbered ids */
	assert_int_equal(translate("loss 5% --from n1 --to n2,n3 --bidir", got, &err), 0);
	assert_string_equal(got[0], "loss 5% --from 198.18.250.3 --dir in --id s1-1 --seed 7 | "
				    "loss 5% --from 198.18.250.4 --dir in --id s1-2 --seed 7");
	assert_string_equal(got[1], "loss 5% --from 198.18.250.2 --dir in --id s1 --seed 7");
	assert_string_equal(got[2], "loss 5% --from 198.18.250.2 --dir in --id s1 --seed 7");
	/* LAB/NODE: what arrives at that node, and what it sends elsewhere */
	assert_int_equal(translate("duplicate 5% --node n3", got, &err), 0);
	assert_string_equal(got[0], "duplicate 5% --from 198.18.250.4 --dir in --id s1 --seed 7");
	assert_string_equal(got[1], "duplicate 5% --from 198.18.250.4 --dir in --id s1 --seed 7");
	assert_string_equal(got[2], "duplicate 5% --dir in --id s1 --seed 7");
	/* --from alone: what it sends, where it arrives */
	assert_int_equal(translate("loss 1% --from n2", got, &err), 0);
	assert_string_equal(got[0], "loss 1% --from 198.18.250.3 --dir in --id s1 --seed 7");
	assert_string_equal(got[1], "");
	assert_string_equal(got[2], "loss 1% --from 198.18.250.3 --dir in --id s1 --seed 7");
	/* an address outside the inventory: only where it leaves */
	assert_int_equal(translate("loss 1% --to 198.18.9.0/24", got, &err), 0);
	assert_string_equal(got[2], "loss 1% --to 198.18.9.0/24 --dir out --id s1 --seed 7");
	assert_int_equal(translate("loss 1% --from 198.18.9.0/24 --to n1", got, &err), 0);
	assert_string_equal(got[0], "loss 1% --from 198.18.9.0/24 --dir in --id s1 --seed 7");
	assert_string_equal(got[1], "");
}

/* a kind that acts only where packets arrive (replay) goes there too, and
 * cannot go to an address outside */
static void test_receive_side(void **state)
{
	char got[3][1024];
	struct fl_err err = { "" };

	(void)state;
	assert_int_equal(translate("replay 5% --from n1 --to n2", got, &err), 0);
	assert_string_equal(got[0], "");
	assert_string_equal(got[1], "replay 5% --from 198.18.250.2 --dir in --id s1 --seed 7");
	assert_string_equal(got[2], "");
	assert_int_equal(translate("replay 5% --to n3 --bidir", got, &err), 0);
	assert_string_equal(got[2], "replay 5% --dir in --id s1 --seed 7");
	assert_string_equal(got[0], "replay 5% --from 198.18.250.4 --dir in --id s1 --seed 7");
	assert_int_equal(translate("replay 5% --to 198.18.9.9", got, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "replay acts where packets arrive"));
}

static void test_partitions(void **state)
{
	char got[3][1024];
	struct fl_err err = { "" };

	(void)state;
	assert_int_equal(translate("partition n1 n2,n3", got, &err), 0);
	assert_string_equal(got[0], "partition --from 198.18.250.3 --dir in --id s1-1 --seed 7 | "
				    "partition --from 198.18.250.4 --dir in --id s1-2 --seed 7");
	assert_string_equal(got[1], "partition --from 198.18.250.2 --dir in --id s1 --seed 7");
	assert_string_equal(got[2], "partition --from 198.18.250.2 --dir in --id s1 --seed 7");
	/* oneway: only the earlier group's packets to the later ones */
	assert_int_equal(translate("partition n2 n1,n3 oneway", got, &err), 0);
	assert_string_equal(got[1], "");
	assert_string_equal(got[0], "partition --from 198.18.250.3 --dir in --id s1 --seed 7");
	assert_string_equal(got[2], "partition --from 198.18.250.3 --dir in --id s1 --seed 7");
	/* overlapping groups (a ring of three): cut only where no group
	 * holds both, as the lab's partition does */
	assert_int_equal(translate("partition n1,n2 n2,n3", got, &err), 0);
	assert_string_equal(got[0], "partition --from 198.18.250.4 --dir in --id s1 --seed 7");
	assert_string_equal(got[1], "");
	assert_string_equal(got[2], "partition --from 198.18.250.2 --dir in --id s1 --seed 7");
	assert_int_equal(translate("partition n1,n2 n2,n3 n3,n1", got, &err), 0);
	for (int k = 0; k < 3; k++)
		assert_string_equal(got[k], "");
	/* a node in no group is left alone */
	assert_int_equal(translate("partition n1 n2", got, &err), 0);
	assert_string_equal(got[2], "");
	assert_string_equal(got[1], "partition --from 198.18.250.2 --dir in --id s1 --seed 7");
	/* no groups: everything matching, everywhere */
	assert_int_equal(translate("partition --proto icmp", got, &err), 0);
	assert_string_equal(got[1], "partition --proto icmp --dir in --id s1 --seed 7");
}

static void test_refused(void **state)
{
	char got[3][1024];
	struct fl_err err = { "" };

	(void)state;
	assert_int_equal(translate("loss 5% --to n7", got, &err), -EINVAL);
	assert_string_equal(err.msg, "node 'n7' is not one of the inventory's nodes");
	assert_int_equal(translate("loss 5% --dir in", got, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "--dir: over an inventory the run chooses it"));
	assert_int_equal(translate("loss 5% --duration 3s", got, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "give the step a duration:"));
	assert_int_equal(translate("loss 5% --node n1 --to n2", got, &err), -EINVAL);
	assert_int_equal(translate("partition n1 n2 --to n3", got, &err), -EINVAL);
	assert_int_equal(translate("lose 5%", got, &err), -EINVAL);
}

static void test_check(void **state)
{
	struct fl_scenario *sc;
	struct fl_err err = { "" };

	(void)state;
	assert_int_equal(fl_scenario_load("s.yaml",
					  "name: s\nduration: 10s\ntimeline:\n"
					  "  - {at: 1s, id: a, fault: loss 5%}\n"
					  "  - {at: 2s, id: b, partition: [[n1], [n2]]}\n"
					  "  - {at: 3s, heal: all}\n",
					  &sc, &err),
			 0);
	assert_int_equal(fl_invrun_check(sc, &err), 0);
	fl_scenario_free(sc);
	assert_int_equal(fl_scenario_load("s.yaml",
					  "name: s\nduration: 10s\ntimeline:\n"
					  "  - {at: 1s, id: a, fault: loss 5%}\n"
					  "  - {at: 2s, kill: n1}\n",
					  &sc, &err),
			 0);
	assert_int_equal(fl_invrun_check(sc, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "s.yaml:5:5: a 'kill' step cannot run over an inventory"));
	fl_scenario_free(sc);
	assert_int_equal(fl_scenario_load("s.yaml",
					  "name: s\nduration: 10s\ntimeline:\n"
					  "  - {at: 1s, id: a, fault: loss 5% --dir in}\n",
					  &sc, &err),
			 0);
	assert_int_equal(fl_invrun_check(sc, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "s.yaml:4:5: --dir: over an inventory"));
	fl_scenario_free(sc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_everywhere), cmocka_unit_test(test_pairs),
		cmocka_unit_test(test_partitions), cmocka_unit_test(test_refused),
		cmocka_unit_test(test_check),	   cmocka_unit_test(test_receive_side),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
