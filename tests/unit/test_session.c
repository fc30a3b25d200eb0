// SPDX-License-Identifier: MIT
/* fl_session_refusal: a supervisor's refusal becomes the caller's error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include <cmocka.h>

#include "log.h"
#include "supervisor/session.h"

static void test_refused_message_without_newlines(void **state)
{
	struct fl_err err = { "" };
	char *msg = strdup("fault 'f1' exists: fault del it first\n\n");

	(void)state;
	assert_int_equal(fl_session_refusal(2, &msg, &err), -EINVAL);
	assert_null(msg);
	assert_string_equal(err.msg, "fault 'f1' exists: fault del it first");
}

static void test_refused_without_message(void **state)
{
	struct fl_err err = { "" };
	char *msg = strdup("\n");
	char *none = NULL;

	(void)state;
	assert_int_equal(fl_session_refusal(2, &msg, &err), -EINVAL);
	assert_string_equal(err.msg, "the session supervisor refused");
	err.msg[0] = 0;
	assert_int_equal(fl_session_refusal(1, &none, &err), -EINVAL);
	assert_string_equal(err.msg, "the session supervisor refused");
}

static void test_accepted_leaves_err(void **state)
{
	struct fl_err err = { "earlier" };
	char *msg = strdup("added f1\n");

	(void)state;
	assert_int_equal(fl_session_refusal(0, &msg, &err), 0);
	assert_null(msg);
	assert_string_equal(err.msg, "earlier");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused_message_without_newlines),
		cmocka_unit_test(test_refused_without_message),
		cmocka_unit_test(test_accepted_leaves_err),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
