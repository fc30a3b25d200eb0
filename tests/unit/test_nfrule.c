// SPDX-License-Identifier: MIT
/* The delay line's netfilter rule: queue selection (one queue, or
 * --queue-balance over N by address-pair hash), fail-open/closed, hook. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "delay/nfrule.h"

static void test_one_queue(void **st)
{
	struct fl_nfrule r;

	(void)st;
	fl_nfrule_build(&r, "fl-demo", 4, FL_NFQ_PREROUTING, false, 1);
	assert_string_equal(r.table, "raw");
	assert_string_equal(r.chain, "PREROUTING");
	assert_string_equal(r.rule, "-m mark --mark 0xfa110000/0xffff0000 -j NFQUEUE "
				    "--queue-num 64017 --queue-bypass");
	fl_nfrule_build(&r, "fl-demo", 6, FL_NFQ_PREROUTING, true, 0);
	assert_string_equal(r.rule, "-m mark --mark 0xfa110000/0xffff0000 -j NFQUEUE "
				    "--queue-num 64017");
	assert_int_equal(r.family, 6);
}

static void test_balance(void **st)
{
	struct fl_nfrule r;

	(void)st;
	fl_nfrule_build(&r, "pid:42", 4, FL_NFQ_PREROUTING, false, 2);
	assert_string_equal(r.rule, "-m mark --mark 0xfa110000/0xffff0000 -j NFQUEUE "
				    "--queue-balance 64017:64018 --queue-bypass");
	fl_nfrule_build(&r, "pid:42", 4, FL_NFQ_LO_INPUT, true, 16);
	assert_string_equal(r.table, "filter");
	assert_string_equal(r.chain, "INPUT");
	assert_string_equal(r.rule, "-i lo -m mark --mark 0xfa110000/0xffff0000 -j NFQUEUE "
				    "--queue-balance 64017:64032");
	assert_string_equal(r.netns, "pid:42");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_queue),
		cmocka_unit_test(test_balance),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
