// SPDX-License-Identifier: MIT
/* Unit tests for injector/capture: direction names and the checks that
 * fl_capture_open makes before it touches any namespace or file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "capture/capture.h"
#include "log.h"

static void test_dir_names(void **state)
{
	static const char *const names[] = { "inout", "in", "out" };
	enum fl_capture_dir d;

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(fl_capture_parse_dir(names[i], &d), 0);
		assert_int_equal(d, i);
		assert_string_equal(fl_capture_dir_name(d), names[i]);
	}
	assert_int_equal(fl_capture_parse_dir("IN", &d), -EINVAL);
	assert_int_equal(fl_capture_parse_dir("", &d), -EINVAL);
	assert_string_equal(fl_capture_dir_name((enum fl_capture_dir)7), "?");
}

static void test_open_rejects_bad_options(void **state)
{
	struct fl_capture_point pt = { .netns = "-", .ifname = "lo" };
	struct fl_capture_opts o = { .path = "/nonexistent/x.pcap" };
	struct fl_capture *c = NULL;

	(void)state;
	fl_log_level = -1; /* the messages are expected */
	assert_int_equal(fl_capture_open(&pt, 0, &o, &c), -EINVAL);
	o.path = NULL;
	assert_int_equal(fl_capture_open(&pt, 1, &o, &c), -EINVAL);
	o.path = "";
	assert_int_equal(fl_capture_open(&pt, 1, &o, &c), -EINVAL);
	o.path = "x.pcap";
	o.snaplen = 10;
	assert_int_equal(fl_capture_open(&pt, 1, &o, &c), -EINVAL);
	o.snaplen = 262145;
	assert_int_equal(fl_capture_open(&pt, 1, &o, &c), -EINVAL);
	o.snaplen = -1;
	assert_int_equal(fl_capture_open(&pt, 1, &o, &c), -EINVAL);
	assert_null(c);
	assert_int_equal(access("x.pcap", F_OK), -1);
	fl_log_level = FL_LOG_WARN;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dir_names),
		cmocka_unit_test(test_open_rejects_bad_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
