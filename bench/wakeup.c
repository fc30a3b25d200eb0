// SPDX-License-Identifier: MIT
/* The machine's own floor for a delay line's accuracy, for bench/delay.sh:
 * a SCHED_FIFO thread (as the delay line's, priority 10) wakes COUNT times
 * every PERIOD_US, each time sleeping (clock_nanosleep, absolute) until
 * SPIN_US before its target and spinning the rest, as the line does in
 * precise mode. Lateness = the clock read after waking - the target.
 * Prints one JSON object: p50, p99 and max lateness (us), and how many
 * wake-ups came more than 200 us late.
 *   wakeup COUNT PERIOD_US SPIN_US */
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	struct sched_param sp = { .sched_priority = 10 };
	int64_t *late, t, period, spin, over = 0;
	int n;

	if (argc != 4 || (n = atoi(argv[1])) <= 0) {
		fprintf(stderr, "usage: wakeup COUNT PERIOD_US SPIN_US\n");
		return 2;
	}
	period = atoll(argv[2]) * 1000;
	spin = atoll(argv[3]) * 1000;
	late = calloc((size_t)n, sizeof(*late));
	if (!late)
		return 1;
	if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0)
		perror("wakeup: SCHED_FIFO (measuring without it)");
	t = now_ns();
	for (int i = 0; i < n; i++) {
		int64_t w, s;
		struct timespec ts;

		t += period;
		w = t - spin;
		ts.tv_sec = (time_t)(w / 1000000000);
		ts.tv_nsec = (long)(w % 1000000000);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL))
			;
		while ((s = now_ns()) < t)
			;
		late[i] = s - t;
		if (late[i] > 200000)
			over++;
	}
	qsort(late, (size_t)n, sizeof(*late), cmp);
	printf("{\"count\": %d, \"period_us\": %lld, \"spin_us\": %lld, \"p50_us\": %.1f, "
	       "\"p99_us\": %.1f, \"max_us\": %.1f, \"over_200us\": %lld}\n",
	       n, (long long)(period / 1000), (long long)(spin / 1000), late[n / 2] / 1e3,
	       late[(size_t)n * 99 / 100] / 1e3, late[n - 1] / 1e3, (long long)over);
	free(late);
	return 0;
}
