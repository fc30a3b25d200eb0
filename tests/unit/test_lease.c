// SPDX-License-Identifier: MIT
/* Unit tests for leases (injector/supervisor/session.h): the --lease word,
 * its bounds and messages, the printed form, and the session folder's lease
 * file (read back, default when absent, default and a warning when bad). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/session.h"

static void test_lease_parse(void **state)
{
	struct fl_err e = { { 0 } };
	uint64_t ns = 7;

	(void)state;
	assert_int_equal(fl_lease_parse("none", &ns, &e), 0);
	assert_true(ns == 0);
	assert_int_equal(fl_lease_parse("10s", &ns, &e), 0);
	assert_true(ns == 10000000000ULL);
	assert_int_equal(fl_lease_parse("1s", &ns, &e), 0);
	assert_true(ns == FL_LEASE_MIN_NS);
	assert_int_equal(fl_lease_parse("24h", &ns, &e), 0);
	assert_true(ns == FL_LEASE_MAX_NS);
	assert_int_equal(fl_lease_parse("2.5m", &ns, &e), 0);
	assert_true(ns == 150000000000ULL);
}

static void test_lease_bad(void **state)
{
	static const char *const bad[] = { "",	   "0",	      "0s",  "999ms", "25h",  "10",
					   "None", "forever", "-1s", "1s ",   "nones" };
	struct fl_err e = { { 0 } };
	uint64_t ns;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e.msg[0] = '\0';
		assert_int_equal(fl_lease_parse(bad[i], &ns, &e), -EINVAL);
		assert_true(e.msg[0] != '\0');
	}
	fl_lease_parse("500ms", &ns, &e);
	assert_string_equal(e.msg, "500ms: a lease is 'none' or a duration from 1s to 24h");
}

static void test_lease_format(void **state)
{
	char buf[32];

	(void)state;
	fl_lease_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "none");
	fl_lease_format(FL_LEASE_DEFAULT_NS, buf, sizeof(buf));
	assert_string_equal(buf, "10s");
	fl_lease_format(1500000000ULL, buf, sizeof(buf));
	assert_string_equal(buf, "1.5s");
}

static void put(const char *dir, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/s1/lease", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_lease_file(void **state)
{
	char dir[] = "/tmp/fl-lease-XXXXXX", sub[256], path[512];
	uint64_t ns = 1;

	(void)state;
	assert_non_null(mkdtemp(dir));
	setenv("FALLACY_RUN_DIR", dir, 1);
	snprintf(sub, sizeof(sub), "%s/s1", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(fl_session_lease("s1", &ns), 0); /* none written: default */
	assert_true(ns == FL_LEASE_DEFAULT_NS);
	put(dir, "none\n");
	assert_int_equal(fl_session_lease("s1", &ns), 0);
	assert_true(ns == 0);
	put(dir, "3s\n");
	assert_int_equal(fl_session_lease("s1", &ns), 0);
	assert_true(ns == 3000000000ULL);
	put(dir, "junk\n");
	assert_int_equal(fl_session_lease("s1", &ns), -EINVAL);
	assert_true(ns == FL_LEASE_DEFAULT_NS);
	snprintf(path, sizeof(path), "%s/lease", sub);
	unlink(path);
	rmdir(sub);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lease_parse),
		cmocka_unit_test(test_lease_bad),
		cmocka_unit_test(test_lease_format),
		cmocka_unit_test(test_lease_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
