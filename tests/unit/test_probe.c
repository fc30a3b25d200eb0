// SPDX-License-Identifier: MIT
/* Unit tests for the probe report logic (no privileges): which backend
 * each fault kind gets (the kinds' own backend hooks), and when fallacy
 * counts as usable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "faults/fault.h"
#include "probe/probe.h"

static void all_ok(struct fl_probe_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	for (int i = 0; i < FL_PROBE_COUNT; i++)
		rep->r[i].status = FL_PROBE_OK;
}

static void set(struct fl_probe_report *rep, enum fl_probe_id id, enum fl_probe_status s)
{
	rep->r[id].status = s;
}

static enum fl_backend backend(const struct fl_probe_report *rep, const char *kind)
{
	const struct fault_ops *ops = fl_fault_kind(kind);

	assert_non_null(ops);
	return ops->backend(rep);
}

static void test_backends_this_kernel(void **state)
{
	struct fl_probe_report rep;

	(void)state;
	all_ok(&rep);
	set(&rep, FL_PROBE_NETEM, FL_PROBE_MISSING);
	assert_int_equal(backend(&rep, "loss"), FL_BACKEND_TC_BPF);
	assert_int_equal(backend(&rep, "partition"), FL_BACKEND_TC_BPF);
	assert_int_equal(backend(&rep, "reset"), FL_BACKEND_TC_BPF);
	assert_int_equal(backend(&rep, "delay"), FL_BACKEND_DELAY_LINE);
	assert_int_equal(backend(&rep, "reorder"), FL_BACKEND_DELAY_LINE);
	assert_int_equal(backend(&rep, "rate"), FL_BACKEND_SHAPER);
	assert_true(fl_probe_usable(&rep));
}

static void test_backends_with_netem(void **state)
{
	struct fl_probe_report rep;

	(void)state;
	all_ok(&rep);
	/* backend auto is the delay line even where netem exists */
	assert_int_equal(backend(&rep, "delay"), FL_BACKEND_DELAY_LINE);
	assert_int_equal(backend(&rep, "reorder"), FL_BACKEND_DELAY_LINE);
	set(&rep, FL_PROBE_NFQUEUE, FL_PROBE_MISSING);
	assert_int_equal(backend(&rep, "delay"), FL_BACKEND_NETEM);
	assert_true(fl_probe_usable(&rep));
}

static void test_backends_missing(void **state)
{
	struct fl_probe_report rep;

	(void)state;
	all_ok(&rep);
	set(&rep, FL_PROBE_NETEM, FL_PROBE_MISSING);
	set(&rep, FL_PROBE_NFQUEUE, FL_PROBE_NOT_RUN);
	set(&rep, FL_PROBE_CLS_BPF, FL_PROBE_MISSING);
	assert_int_equal(backend(&rep, "delay"), FL_BACKEND_NONE);
	assert_int_equal(backend(&rep, "loss"), FL_BACKEND_NONE);
	assert_int_equal(backend(&rep, "rate"), FL_BACKEND_NONE);
	assert_string_equal(fl_backend_name(FL_BACKEND_NONE), "none (missing kernel features)");
	assert_string_equal(fl_backend_name(FL_BACKEND_DELAY_LINE), "NFQUEUE delay line");
}

/* Required: netns, veth, cls_bpf, btf, (nfqueue | netem), (tbf | htb). */
static void test_usable(void **state)
{
	static const enum fl_probe_id required[] = { FL_PROBE_NETNS, FL_PROBE_VETH,
						     FL_PROBE_CLS_BPF, FL_PROBE_BTF };
	static const enum fl_probe_id optional[] = { FL_PROBE_IFB, FL_PROBE_BR_NETFILTER,
						     FL_PROBE_IPTABLES };
	struct fl_probe_report rep;

	(void)state;
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		all_ok(&rep);
		set(&rep, required[i], FL_PROBE_MISSING);
		assert_false(fl_probe_usable(&rep));
		set(&rep, required[i], FL_PROBE_NOT_RUN);
		assert_false(fl_probe_usable(&rep));
		assert_true(fl_probe_info(required[i])->required);
	}
	for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++) {
		all_ok(&rep);
		set(&rep, optional[i], FL_PROBE_MISSING);
		assert_true(fl_probe_usable(&rep));
		assert_false(fl_probe_info(optional[i])->required);
	}
	all_ok(&rep);
	set(&rep, FL_PROBE_NETEM, FL_PROBE_MISSING);
	set(&rep, FL_PROBE_NFQUEUE, FL_PROBE_MISSING);
	assert_false(fl_probe_usable(&rep));
	all_ok(&rep);
	set(&rep, FL_PROBE_TBF, FL_PROBE_MISSING);
	assert_true(fl_probe_usable(&rep));
	set(&rep, FL_PROBE_HTB, FL_PROBE_MISSING);
	assert_false(fl_probe_usable(&rep));
}

static void test_info_table(void **state)
{
	(void)state;
	for (int i = 0; i < FL_PROBE_COUNT; i++) {
		const struct fl_probe_info *in = fl_probe_info((enum fl_probe_id)i);

		assert_non_null(in->name);
		assert_non_null(in->used_for);
		assert_non_null(in->if_missing);
		assert_non_null(in->fix);
	}
	assert_string_equal(fl_probe_info(FL_PROBE_NETEM)->name, "netem");
	assert_string_equal(fl_probe_info(FL_PROBE_NETEM)->fix, "CONFIG_NET_SCH_NETEM");
	assert_null(fl_probe_info(FL_PROBE_COUNT));
	/* every kind in the table has a backend when everything is there */
	struct fl_probe_report rep;

	all_ok(&rep);
	for (int k = 0; fl_fault_kinds[k]; k++)
		assert_int_not_equal(fl_fault_kinds[k]->backend(&rep), FL_BACKEND_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backends_this_kernel),
		cmocka_unit_test(test_backends_with_netem),
		cmocka_unit_test(test_backends_missing),
		cmocka_unit_test(test_usable),
		cmocka_unit_test(test_info_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
