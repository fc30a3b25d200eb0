// SPDX-License-Identifier: MIT
/* fl_json_string and fl_json_strbuf: quotes, backslash, control bytes,
 * UTF-8 passthrough, cuts that never split an escape or a character. */
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

/* The buffer variant writes the same bytes as the FILE one. */
static void test_strbuf_same_bytes(void **state)
{
	const char *in[] = { "", "n1/eth0", "a\"b\\c\nd\te\x01", "caf\xc3\xa9", NULL };
	char buf[64];

	(void)state;
	for (int i = 0; in[i]; i++) {
		char *want = escaped(in[i]);

		assert_int_equal(fl_json_strbuf(buf, sizeof(buf), in[i]), strlen(want));
		assert_string_equal(buf, want);
		free(want);
	}
	assert_int_equal(fl_json_strbuf(buf, sizeof(buf), NULL), 2);
	assert_string_equal(buf, "\"\"");
}

/* A string that does not fit is cut before the escape or character that
 * would not fit: the result is always a whole JSON string. */
static void test_strbuf_cuts(void **state)
{
	char buf[16];

	(void)state;
	assert_int_equal(fl_json_strbuf(buf, 12, "0123456789abcdef"), 11);
	assert_string_equal(buf, "\"012345678\"");
	/* "\u0001" needs 6 bytes: 7 + 6 + 1 + 1 > 12, so it is left out whole */
	fl_json_strbuf(buf, 12, "abcdefg\x01");
	assert_string_equal(buf, "\"abcdefg\"");
	fl_json_strbuf(buf, 5, "a\"b");
	assert_string_equal(buf, "\"a\"");
	/* a 3-byte character is not split */
	fl_json_strbuf(buf, 8, "abc\xe2\x86\x92");
	assert_string_equal(buf, "\"abc\"");
	fl_json_strbuf(buf, 9, "abc\xe2\x86\x92");
	assert_string_equal(buf, "\"abc\xe2\x86\x92\"");
	/* a stray lead byte cannot swallow the quote after it */
	fl_json_strbuf(buf, sizeof(buf), "\xc3\"");
	assert_string_equal(buf, "\"\xc3\\\"\"");
	/* too small for even "" */
	buf[0] = 'x';
	assert_int_equal(fl_json_strbuf(buf, 2, "a"), 0);
	assert_string_equal(buf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_quote_and_backslash),
		cmocka_unit_test(test_control_bytes),
		cmocka_unit_test(test_utf8_passthrough),
		cmocka_unit_test(test_strbuf_same_bytes),
		cmocka_unit_test(test_strbuf_cuts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
