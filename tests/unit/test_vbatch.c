// SPDX-License-Identifier: MIT
/* Batched verdicts: the held-id ring (order, release, lowest held, wrap at
 * 2^32, growth) and which released ids one NFQNL_MSG_VERDICT_BATCH may
 * carry. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>

#include "delay/vbatch.h"
#include "fallacy/prng.h"

static void test_ring_lowest_and_release(void **st)
{
	struct fl_idring r;
	uint32_t low = 0;

	(void)st;
	fl_idring_init(&r);
	assert_false(fl_idring_lowest(&r, &low));
	for (uint32_t id = 10; id < 20; id++)
		assert_int_equal(fl_idring_push(&r, id), 0);
	assert_int_equal(fl_idring_push(&r, 15), -EINVAL); /* not ascending */
	assert_true(fl_idring_lowest(&r, &low));
	assert_int_equal(low, 10);
	assert_int_equal(fl_idring_release(&r, 12), 0);
	assert_int_equal(fl_idring_release(&r, 12), -ENOENT); /* twice */
	assert_int_equal(fl_idring_release(&r, 99), -ENOENT);
	assert_true(fl_idring_lowest(&r, &low));
	assert_int_equal(low, 10); /* 12 went, 10 still held */
	assert_int_equal(fl_idring_release(&r, 10), 0);
	assert_int_equal(fl_idring_release(&r, 11), 0);
	assert_true(fl_idring_lowest(&r, &low));
	assert_int_equal(low, 13); /* 12 was already gone */
	for (uint32_t id = 13; id < 20; id++)
		assert_int_equal(fl_idring_release(&r, id), 0);
	assert_false(fl_idring_lowest(&r, &low));
	fl_idring_free(&r);
}

/* Ids wrap at 2^32 as the kernel's do; the ring grows past its first
 * capacity with a head that is not at 0. */
static void test_ring_wrap_and_growth(void **st)
{
	struct fl_idring r;
	uint32_t low = 0, first = UINT32_MAX - 300;

	(void)st;
	fl_idring_init(&r);
	for (uint32_t i = 0; i < 100; i++)
		assert_int_equal(fl_idring_push(&r, first + i), 0);
	for (uint32_t i = 0; i < 50; i++)
		assert_int_equal(fl_idring_release(&r, first + i), 0);
	for (uint32_t i = 100; i < 1000; i++) /* crosses 0 and grows */
		assert_int_equal(fl_idring_push(&r, first + i), 0);
	assert_true(fl_idring_lowest(&r, &low));
	assert_int_equal(low, first + 50);
	assert_int_equal(fl_idring_release(&r, 5), 0); /* after the wrap */
	for (uint32_t i = 50; i < 306; i++)
		assert_int_equal(fl_idring_release(&r, first + i), 0);
	assert_true(fl_idring_lowest(&r, &low));
	assert_int_equal(low, 6); /* first + 306 == 5 (released), then 6 */
	fl_idring_free(&r);
}

static void test_sort_wraps(void **st)
{
	uint32_t ids[] = { 3, UINT32_MAX, 1, UINT32_MAX - 2, 0, 2 };
	uint32_t want[] = { UINT32_MAX - 2, UINT32_MAX, 0, 1, 2, 3 };
	uint32_t v[2000];

	(void)st;
	fl_vbatch_sort(ids, 6);
	assert_memory_equal(ids, want, sizeof(want));
	for (uint32_t i = 0; i < 2000; i++) /* a shuffled window */
		v[i] = 4000000000u + (uint32_t)(fl_prng(3, 1, 1, i) % 600000000u);
	fl_vbatch_sort(v, 2000);
	for (int i = 1; i < 2000; i++)
		assert_false(fl_id_after(v[i - 1], v[i]));
}

static void test_split(void **st)
{
	uint32_t ids[] = { 4, 5, 6, 9, 12 };
	uint32_t wrap[] = { UINT32_MAX - 1, UINT32_MAX, 0, 1 };

	(void)st;
	/* nothing held: every released id goes in one batch */
	assert_int_equal(fl_vbatch_split(ids, 5, false, 0), 5);
	/* 7 still held (its delay is longer): 4, 5, 6 in the batch, 9 and 12
	 * alone, since a batch up to 9 would release 7 early */
	assert_int_equal(fl_vbatch_split(ids, 5, true, 7), 3);
	/* the lowest held is below all of them: no batch */
	assert_int_equal(fl_vbatch_split(ids, 5, true, 2), 0);
	assert_int_equal(fl_vbatch_split(ids, 5, true, 13), 5);
	assert_int_equal(fl_vbatch_split(ids, 0, true, 13), 0);
	/* across the wrap: 0 is after UINT32_MAX */
	assert_int_equal(fl_vbatch_split(wrap, 4, true, 1), 3);
	assert_int_equal(fl_vbatch_split(wrap, 4, true, UINT32_MAX), 1);
}

/* A simulated queue: packets with random delays; every round the ids due
 * are split; no batch may reach an id still held (what the kernel would
 * release early), and every id is released exactly once. */
static void test_split_never_releases_held(void **st)
{
	enum { N = 5000 };
	static uint64_t due[N];
	static bool gone[N];
	struct fl_idring r;
	uint32_t rel[N], base = UINT32_MAX - 2000, low = 0;
	size_t batched = 0;

	(void)st;
	fl_idring_init(&r);
	for (uint32_t i = 0; i < N; i++) {
		due[i] = i + fl_prng(9, 2, 2, i) % 40; /* jitter: out of order */
		assert_int_equal(fl_idring_push(&r, base + i), 0);
	}
	for (uint64_t now = 0; now < N + 40; now++) {
		size_t n = 0, k;
		bool held;

		for (uint32_t i = 0; i < N; i++)
			if (!gone[i] && due[i] <= now)
				rel[n++] = base + i;
		fl_vbatch_sort(rel, n);
		for (size_t j = 0; j < n; j++) {
			assert_int_equal(fl_idring_release(&r, rel[j]), 0);
			gone[rel[j] - base] = true;
		}
		held = fl_idring_lowest(&r, &low);
		k = fl_vbatch_split(rel, n, held, low);
		for (uint32_t i = 0; k && i < N; i++) /* what the batch would reach */
			if (!fl_id_after(base + i, rel[k - 1]))
				assert_true(gone[i]);
		batched += k >= 2 ? k : 0;
	}
	assert_false(fl_idring_lowest(&r, &low));
	assert_true(batched > 0);
	fl_idring_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_lowest_and_release),
		cmocka_unit_test(test_ring_wrap_and_growth),
		cmocka_unit_test(test_sort_wraps),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_split_never_releases_held),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
