// SPDX-License-Identifier: MIT
/* One definition per fault kind: walks every kind of the table and proves
 * that its views agree: the CLI words (fault add), the printer (text and
 * JSON), the YAML keys of scenario files, wrap's flags and doctor's
 * backend. A kind added to the table is tested here with no edit; a view
 * that misses one of its parameters fails here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults/fault.h"
#include "lab/lab.h"
#include "probe/probe.h"
#include "scenario.h"

static struct fl_lab *lab;

static int setup(void **state)
{
	struct fl_lab_spec spec = { .name = "kinds", .n_nodes = 3 };
	struct fl_err err;

	(void)state;
	return fl_lab_plan(&spec, &lab, &err);
}

static int teardown(void **state)
{
	(void)state;
	fl_lab_free(lab);
	return 0;
}

/* A value of parameter p as a user would write it (CLI word). */
static const char *sample(const struct fl_param *p)
{
	switch (p->type) {
	case FL_PT_PERCENT:
		return "5%";
	case FL_PT_DURATION:
		return "20ms";
	case FL_PT_RATE:
		return "1mbit";
	case FL_PT_SIZE:
		return "32kb";
	case FL_PT_COUNT:
		return "100";
	case FL_PT_WORD:
		return p->words[1] ? p->words[1] : p->words[0];
	case FL_PT_BYTES:
		return "0a0b0c";
	default:
		return NULL;
	}
}

static int split(char *line, char **argv, int max)
{
	int n = 0;

	for (char *t = strtok(line, " "); t && n < max; t = strtok(NULL, " "))
		argv[n++] = t;
	return n;
}

static int parse(struct fl_fault *f, const char *words, struct fl_err *err)
{
	char buf[1024], *argv[64];

	snprintf(buf, sizeof(buf), "%s", words);
	return fl_fault_parse(f, split(buf, argv, 64), argv, lab, err);
}

static void print(const struct fl_fault *f, bool json, char *buf, size_t len)
{
	FILE *m = fmemopen(buf, len, "w");
	struct fl_out o = { .f = m, .json = json };

	fl_fault_print(f, &o);
	fclose(m);
}

/* Parse, print, parse the print: the same fault (text and JSON). */
static void round_trip(const char *words)
{
	struct fl_fault *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	char t1[2048], t2[2048], j1[2048], j2[2048];
	struct fl_err err = { "" };

	assert_non_null(a);
	assert_non_null(b);
	if (parse(a, words, &err))
		fail_msg("'%s' does not parse: %s", words, err.msg);
	print(a, false, t1, sizeof(t1));
	if (parse(b, t1, &err))
		fail_msg("the print of '%s' ('%s') does not parse: %s", words, t1, err.msg);
	print(b, false, t2, sizeof(t2));
	assert_string_equal(t1, t2);
	print(a, true, j1, sizeof(j1));
	print(b, true, j2, sizeof(j2));
	assert_string_equal(j1, j2);
	free(a);
	free(b);
}

/* Every kind's example and each of its parameters, given one at a time. */
static void test_cli_round_trip(void **state)
{
	char words[512], use[512];

	(void)state;
	for (int k = 0; fl_fault_kinds[k]; k++) {
		const struct fault_ops *ops = fl_fault_kinds[k];

		assert_non_null(ops->help);
		assert_non_null(ops->example);
		assert_non_null(ops->encode);
		assert_non_null(ops->backend);
		assert_true(ops->params_size <= FL_KIND_PARAMS_MAX);
		fl_kind_usage(ops, use, sizeof(use));
		assert_true(!strncmp(use, ops->name, strlen(ops->name)));
		round_trip(ops->example);
		for (const struct fl_param *p = ops->params; p->name; p++) {
			const char *v = sample(p);

			assert_non_null(p->help);
			if (!v || !strcmp(p->name, ops->name))
				continue;
			/* the kind's example plus this parameter */
			snprintf(words, sizeof(words), "%s %s %s", ops->example, p->name, v);
			if (fl_kind_param(ops, p->name)->type == FL_PT_FLAG)
				snprintf(words, sizeof(words), "%s %s", ops->example, p->name);
			if (strstr(ops->example, p->name))
				continue; /* already in the example */
			round_trip(words);
		}
	}
}

/* A parameter unknown to the kind is refused, naming it. */
static void test_cli_unknown_param(void **state)
{
	struct fl_rule *rules = calloc(FL_FAULT_MAX_RULES, sizeof(*rules));
	struct fl_fault *f = calloc(1, sizeof(*f));
	struct fl_err err = { "" };
	char words[256];

	(void)state;
	for (int k = 0; fl_fault_kinds[k]; k++) {
		snprintf(words, sizeof(words), "%s wobble 3", fl_fault_kinds[k]->example);
		/* refused when parsed, or (partition groups: node lists) when
		 * its nodes are resolved */
		assert_true(parse(f, words, &err) ||
			    fl_fault_rules(f, lab, rules, FL_FAULT_MAX_RULES, &err) < 0);
		assert_non_null(strstr(err.msg, "wobble"));
	}
	free(rules);
	free(f);
}

/* The same fault written as a scenario's YAML map loads into the words
 * the CLI takes, for every parameter of every kind. */
static void test_yaml_keys(void **state)
{
	char yaml[2048], *words = calloc(1, 4096);
	struct fl_err err = { "" };

	(void)state;
	for (int k = 0; fl_fault_kinds[k]; k++) {
		const struct fault_ops *ops = fl_fault_kinds[k];
		struct fl_scenario *sc = NULL;
		size_t n = 0;

		n += (size_t)snprintf(yaml + n, sizeof(yaml) - n,
				      "name: k\nduration: 10s\ntimeline:\n");
		for (const struct fl_param *p = ops->params; p->name; p++) {
			const char *v = sample(p);
			char val[64];

			if (p->type == FL_PT_FLAG)
				snprintf(val, sizeof(val), "true");
			else if (p->type == FL_PT_PERCENTS)
				snprintf(val, sizeof(val), "[1%%, 30%%]");
			else if (p->type == FL_PT_GROUPS)
				snprintf(val, sizeof(val), "[[n1], [n2, n3]]");
			else
				snprintf(val, sizeof(val), "\"%s\"", v);
			n += (size_t)snprintf(yaml + n, sizeof(yaml) - n,
					      "  - {at: 1s, fault: {kind: %s, %s: %s}}\n",
					      ops->name, p->name, val);
		}
		if (fl_scenario_load("k.yaml", yaml, &sc, &err)) {
			/* a lone parameter may be refused by the kind's own rules
			 * ("loss: give P or gemodel"), never as an unknown key */
			assert_null(strstr(err.msg, "unknown key"));
			continue;
		}
		for (size_t i = 0; i < sc->n_steps; i++) {
			const struct fl_param *p = &ops->params[i];

			fl_step_words(&sc->steps[i], words, 4096);
			assert_true(!strncmp(words, ops->name, strlen(ops->name)));
			/* the YAML key is the CLI word (or the bare first value) */
			if (!(p->flags & FL_PF_POSITIONAL))
				assert_non_null(strstr(words, p->name));
		}
		fl_scenario_free(sc);
	}
	free(words);
}

/* wrap's flags are the kinds' parameters (cmd_wrap.c makes its getopt
 * table from them): long options, and no two alike. */
static void test_wrap_flags(void **state)
{
	const char *seen[64];
	int n = 0;

	(void)state;
	for (int k = 0; fl_fault_kinds[k]; k++) {
		for (const struct fl_param *p = fl_fault_kinds[k]->params; p->name; p++) {
			if (!p->wrap)
				continue;
			assert_true(!strncmp(p->wrap, "--", 2));
			for (int i = 0; i < n; i++)
				assert_string_not_equal(seen[i], p->wrap);
			assert_true(n < 64);
			seen[n++] = p->wrap;
		}
	}
	assert_true(n >= 6); /* --delay --jitter --loss --rate --duplicate --corrupt */
}

/* doctor: every kind names a backend, and none without its kernel parts. */
static void test_doctor_backends(void **state)
{
	struct fl_probe_report rep;

	(void)state;
	memset(&rep, 0, sizeof(rep));
	for (int i = 0; i < FL_PROBE_COUNT; i++)
		rep.r[i].status = FL_PROBE_OK;
	for (int k = 0; fl_fault_kinds[k]; k++)
		assert_int_not_equal(fl_fault_kinds[k]->backend(&rep), FL_BACKEND_NONE);
	memset(&rep, 0, sizeof(rep));
	for (int k = 0; fl_fault_kinds[k]; k++)
		assert_int_equal(fl_fault_kinds[k]->backend(&rep), FL_BACKEND_NONE);
}

/* Kinds and options have names that cannot be mistaken for each other. */
static void test_names_unique(void **state)
{
	(void)state;
	for (int a = 0; fl_fault_kinds[a]; a++) {
		assert_ptr_equal(fl_fault_kind(fl_fault_kinds[a]->name), fl_fault_kinds[a]);
		for (int b = a + 1; fl_fault_kinds[b]; b++)
			assert_string_not_equal(fl_fault_kinds[a]->name, fl_fault_kinds[b]->name);
		for (const struct fl_param *p = fl_fault_kinds[a]->params; p->name; p++) {
			assert_true(strncmp(p->name, "--", 2));
			for (const struct fl_param *q = p + 1; q->name; q++)
				assert_string_not_equal(p->name, q->name);
			for (const struct fl_fault_option *o = fl_fault_options; o->name; o++)
				if (o->yaml)
					assert_string_not_equal(p->name, o->yaml);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_round_trip),	cmocka_unit_test(test_cli_unknown_param),
		cmocka_unit_test(test_yaml_keys),	cmocka_unit_test(test_wrap_flags),
		cmocka_unit_test(test_doctor_backends), cmocka_unit_test(test_names_unique),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
