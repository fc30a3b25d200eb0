// SPDX-License-Identifier: MIT
/* Lab files: the link profile's keys come from the fault kinds' table
 * (FL_PF_LINK), each value is checked by its kind's parser, and a profile
 * becomes `fault add` words that parse back. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults/fault.h"
#include "labfile.h"

static struct fl_labfile *parse(const char *text, struct fl_err *err)
{
	struct fl_ydoc *d = NULL;
	struct fl_labfile *lf = NULL;

	assert_int_equal(fl_yaml_load("lab.yaml", text, &d, err), 0);
	if (fl_labfile_parse(d, d->root, &lf, err))
		lf = NULL;
	fl_yaml_free(d);
	return lf;
}

/* YAML directives are refused before libfyaml sees them (it can loop on a
 * malformed one), at the start of any line: after \n, \r or a BOM. */
static void test_directives(void **state)
{
	static const char *const bad[] = { "%YAML 1.2\n", "a: 1\n%TAG x\n", "\r%\x18\x14O",
					   "a: 1\r%YAML", "\xef\xbb\xbf%YAML 1.2\n" };
	static const int line[] = { 1, 2, 2, 2, 1 };
	struct fl_ydoc *d = NULL;
	struct fl_err err;
	char want[32];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(fl_yaml_load("f.yaml", bad[i], &d, &err), -EINVAL);
		snprintf(want, sizeof(want), "f.yaml:%d:1: YAML directives", line[i]);
		assert_non_null(strstr(err.msg, want));
	}
	/* a % inside a line is a plain scalar's */
	assert_int_equal(fl_yaml_load("f.yaml", "a: 5%\r\nb: '%x'\n", &d, &err), 0);
	fl_yaml_free(d);
}

static void test_words(void **state)
{
	struct fl_err err;
	struct fl_labfile *lf =
		parse("nodes:\n"
		      "  - {name: n1, link: {rate: 1mbit, delay: 100ms, jitter: 10ms, loss: 1%}}\n"
		      "  - {name: n2}\n"
		      "pairs:\n"
		      "  - {between: [n1, n2], jitter: 5ms}\n",
		      &err);
	char w[512];

	(void)state;
	assert_non_null(lf);
	assert_int_equal(lf->n_profiles, 2);
	assert_true(fl_lprofile_words(&lf->profiles[0], "delay", 7, w, sizeof(w)));
	assert_string_equal(w, "delay delay 100ms jitter 10ms --node n1 --profile n1 --id n1-delay "
			       "--seed 7");
	assert_true(fl_lprofile_words(&lf->profiles[0], "loss", 0, w, sizeof(w)));
	assert_string_equal(w, "loss loss 1% --node n1 --profile n1 --id n1-loss");
	assert_true(fl_lprofile_words(&lf->profiles[0], "rate", 0, w, sizeof(w)));
	assert_false(fl_lprofile_words(&lf->profiles[0], "partition", 0, w, sizeof(w)));
	/* jitter alone: the required delay is 0 */
	assert_true(fl_lprofile_words(&lf->profiles[1], "delay", 0, w, sizeof(w)));
	assert_string_equal(w, "delay delay 0 jitter 5ms --from n1 --to n2 --bidir --profile n1_n2 "
			       "--id n1_n2-delay");
	assert_false(fl_lprofile_words(&lf->profiles[1], "loss", 0, w, sizeof(w)));
	assert_int_equal(fl_labfile_validate(lf, "lab.yaml", &err), 0);
	free(lf);
}

static void test_print(void **state)
{
	struct fl_err err;
	struct fl_labfile *lf = parse("nodes:\n  - {name: a, link: {loss: 2, delay: 5ms}}\n"
				      "  - {name: b}\npairs:\n  - {between: [a, b], rate: 2mbit}\n",
				      &err);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(lf);
	fl_labfile_print(lf, f);
	fclose(f);
	/* in the kinds' table order */
	assert_non_null(strstr(buf, "{name: a, link: {mtu: 1500, loss: 2, delay: 5ms}}"));
	assert_non_null(strstr(buf, "{between: [a, b], rate: 2mbit}"));
	free(buf);
	free(lf);
}

static void test_errors(void **state)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{ "nodes:\n  - {name: a, link: {reorder: 5}}\n",
		  "lab.yaml:2:22: unknown key 'reorder'" },
		{ "nodes:\n  - {name: a, link: {delay: fast}}\n", "bad value for 'delay'" },
		{ "nodes:\n  - {name: a, link: {loss: [1, 2]}}\n",
		  "'loss' must be a single value" },
		{ "nodes:\n  - {name: a}\n  - {name: b}\npairs:\n  - {between: [a, b], mtu: 1400}\n",
		  "lab.yaml:5:" },
		{ "nodes:\n  - {name: a, link: {rate: 1bit}}\n", "bad value for 'rate'" },
	};
	struct fl_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err.msg[0] = 0;
		assert_null(parse(cases[i].text, &err));
		if (!strstr(err.msg, cases[i].msg))
			fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].msg);
	}
}

/* Every link key names one parameter of one kind, and is neither of the
 * profile's own keys. */
static void test_link_keys(void **state)
{
	const char *keys[64];
	size_t n = fl_link_keys(keys, 64);

	(void)state;
	assert_true(n >= 4);
	assert_null(keys[n]);
	for (size_t i = 0; i < n; i++) {
		const struct fault_ops *ops = NULL;
		const struct fl_param *p = fl_link_param(keys[i], &ops);

		assert_non_null(p);
		assert_ptr_equal(fl_kind_param(ops, keys[i]), p);
		assert_true(p->flags & FL_PF_LINK);
		assert_string_not_equal(keys[i], "mtu");
		assert_string_not_equal(keys[i], "between");
		for (size_t k = i + 1; k < n; k++)
			assert_string_not_equal(keys[i], keys[k]);
	}
	assert_null(fl_link_param("reorder", NULL));
	assert_int_equal(fl_link_keys(keys, 2), 1);
	assert_null(keys[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_directives), cmocka_unit_test(test_words),
		cmocka_unit_test(test_print),	   cmocka_unit_test(test_errors),
		cmocka_unit_test(test_link_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
