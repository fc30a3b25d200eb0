// SPDX-License-Identifier: MIT
/* fl_json_string: quotes, backslash, control bytes, UTF-8 passthrough. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"

/* Runs fl_json_string on s and returns what it wrote (caller frees). */
static char *escaped(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	fl_json_string(f, s);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void check(const char *in, const char *want)
{
	char *got = escaped(in);

	assert_string_equal(got, want);
	free(got);
}

static void test_plain(void **state)
{
	(void)state;
	check("", "\"\"");
	check("n1/eth0", "\"n1/eth0\"");
	check(NULL, "\"\"");
}

static void test_quote_and_backslash(void **state)
{
	(void)state;
	check("say \"hi\"", "\"say \\\"hi\\\"\"");
	check("C:\\dir\\", "\"C:\\\\dir\\\\\"");
	check("\\\"", "\"\\\\\\\"\"");
}

static void test_control_bytes(void **state)
{
	(void)state;
	/* the short forms where JSON has them, \u00XX for the rest */
	check("a\nb\tc\rd\be\ff", "\"a\\nb\\tc\\rd\\be\\ff\"");
	check("\x01\x1f\x0b\x7f", "\"\\u0001\\u001f\\u000b\\u007f\"");
	/* 0x20 and 0x7e are not escaped */
	check(" ~", "\" ~\"");
}

static void test_utf8_passthrough(void **state)
{
	(void)state;
	check("caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x90\x8d",
	      "\"caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x90\x8d\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_quote_and_backslash),
		cmocka_unit_test(test_control_bytes),
		cmocka_unit_test(test_utf8_passthrough),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
