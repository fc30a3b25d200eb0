// SPDX-License-Identifier: MIT
/* Base64 (harness/b64.h): RFC 4648's vectors both ways, every length of a
 * binary buffer round trip, and texts that are not base64. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "b64.h"

static void test_vectors(void **state)
{
	static const char *const v[][2] = { { "", "" },
					    { "f", "Zg==" },
					    { "fo", "Zm8=" },
					    { "foo", "Zm9v" },
					    { "foob", "Zm9vYg==" },
					    { "fooba", "Zm9vYmE=" },
					    { "foobar", "Zm9vYmFy" } };
	char enc[32];
	uint8_t dec[32];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		fl_b64_encode((const uint8_t *)v[i][0], strlen(v[i][0]), enc);
		assert_string_equal(enc, v[i][1]);
		assert_int_equal(fl_b64_decode(v[i][1], dec), strlen(v[i][0]));
		assert_memory_equal(dec, v[i][0], strlen(v[i][0]));
	}
}

static void test_round_trip(void **state)
{
	uint8_t in[300], out[300];
	char enc[FL_B64_LEN(300) + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 37 + 11);
	for (size_t n = 0; n <= sizeof(in); n++) {
		fl_b64_encode(in, n, enc);
		assert_int_equal(strlen(enc), FL_B64_LEN(n));
		assert_int_equal(fl_b64_decode(enc, out), n);
		assert_memory_equal(out, in, n);
	}
}

static void test_refused(void **state)
{
	uint8_t out[16];

	(void)state;
	assert_int_equal(fl_b64_decode("Zm9", out), -EINVAL);
	assert_int_equal(fl_b64_decode("Zm9*", out), -EINVAL);
	assert_int_equal(fl_b64_decode("Z===", out), -EINVAL);
	assert_int_equal(fl_b64_decode("Zg==Zm9v", out), -EINVAL);
	assert_int_equal(fl_b64_decode("Zm=v", out), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
