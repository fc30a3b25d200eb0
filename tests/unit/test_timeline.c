// SPDX-License-Identifier: MIT
/* The timeline's progress as another thread sees it (harness/timeline.c,
 * fl_timeline_done_by): a command check at T runs only once every step
 * due by T has been applied. Steps here are heals with nothing active,
 * so the timeline needs no lab. No privileges. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "scenario.h"
#include "timeline.h"

#define MS 1000000ULL

static struct fl_scenario *load(const char *text)
{
	struct fl_scenario *sc = NULL;
	struct fl_err err = { "" };

	if (fl_scenario_load("t.yaml", text, &sc, &err))
		fail_msg("%s", err.msg);
	return sc;
}

static void *run(void *arg)
{
	fl_timeline_run(arg);
	return NULL;
}

/* Wait (up to 5 s) until the timeline thread says what it waits for. */
static void wait_started(const struct fl_timeline *tl)
{
	for (int i = 0; i < 5000 && !__atomic_load_n(&tl->next_due, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	assert_int_not_equal(__atomic_load_n(&tl->next_due, __ATOMIC_ACQUIRE), 0);
}

static void test_done_by(void **state)
{
	struct fl_scenario *sc = load("name: t\nduration: 1s\ntimeline:\n"
				      "  - {at: 200ms, heal: all}\n"
				      "  - {at: 400ms, heal: all}\n");
	struct fl_timeline tl = { .steps = sc->steps, .n_steps = sc->n_steps };
	pthread_t th;

	(void)state;
	tl.t0 = fl_clock_mono_ns();
	/* not started: nothing is done, not even what was due at t0 */
	assert_false(fl_timeline_done_by(&tl, tl.t0));
	assert_int_equal(pthread_create(&th, NULL, run, &tl), 0);
	wait_started(&tl);
	/* before its first step: what was due earlier is done, the step not */
	if (fl_clock_mono_ns() < tl.t0 + 150 * MS) {
		assert_true(fl_timeline_done_by(&tl, tl.t0 + 100 * MS));
		assert_false(fl_timeline_done_by(&tl, tl.t0 + 200 * MS));
		assert_false(fl_timeline_done_by(&tl, tl.t0 + 400 * MS));
	}
	/* a check due at the step's very time waits for the step */
	while (!fl_timeline_done_by(&tl, tl.t0 + 200 * MS))
		usleep(1000);
	assert_true(fl_clock_mono_ns() >= tl.t0 + 200 * MS);
	assert_true(tl.next >= 1);
	assert_true(pthread_join(th, NULL) == 0);
	/* ended: everything is done */
	assert_true(fl_timeline_done_by(&tl, tl.t0 + 400 * MS));
	assert_true(fl_timeline_done_by(&tl, UINT64_MAX - 1));
	assert_int_equal(tl.next, 2);
	fl_scenario_free(sc);
}

/* A stopped timeline says everything is done, so no check waits for it. */
static void test_stopped(void **state)
{
	struct fl_scenario *sc = load("name: t\nduration: 60s\ntimeline:\n"
				      "  - {at: 50s, heal: all}\n");
	volatile sig_atomic_t stop = 0;
	struct fl_timeline tl = { .steps = sc->steps, .n_steps = sc->n_steps, .stop = &stop };
	pthread_t th;

	(void)state;
	tl.t0 = fl_clock_mono_ns();
	assert_int_equal(pthread_create(&th, NULL, run, &tl), 0);
	wait_started(&tl);
	assert_false(fl_timeline_done_by(&tl, tl.t0 + 50ULL * 1000 * MS));
	stop = 1;
	assert_true(pthread_join(th, NULL) == 0);
	assert_int_equal(tl.next, 0);
	assert_true(fl_timeline_done_by(&tl, tl.t0 + 50ULL * 1000 * MS));
	fl_scenario_free(sc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_done_by),
		cmocka_unit_test(test_stopped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
