// SPDX-License-Identifier: MIT
/* What a lease renewal costs the supervisor, against the alternative of
 * rewriting the rule table: loads the data plane (no attachment), fills it
 * with N rules on distinct slots, then times fl_dp_renew() (one batch write
 * of the per-slot lease array) and fl_dp_load_rules() (the whole table and
 * its index, what a renewal by rewrite would cost). Needs root.
 *   lease_cost [N] -> one JSON object on stdout */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dataplane/dataplane.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : FL_MAX_RULES, renews = 2000, loads = 100;
	static struct fl_rule rules[FL_MAX_RULES];
	double t0, renew_us, load_us;
	struct fl_dp *dp;

	if (n < 1 || n > FL_MAX_RULES || fl_dp_open(&dp, FL_DIR_INGRESS))
		return 2;
	for (int i = 0; i < n; i++) {
		rules[i].slot = (__u32)i;
		rules[i].dir = FL_DIR_INGRESS;
		rules[i].kind = FL_KIND_COUNT;
	}
	fl_dp_set_lease(dp, 10ull * 1000000000ull);
	if (fl_dp_load_rules(dp, rules, n))
		return 2;
	t0 = now_us();
	for (int i = 0; i < renews; i++)
		if (fl_dp_renew(dp))
			return 2;
	renew_us = (now_us() - t0) / renews;
	t0 = now_us();
	for (int i = 0; i < loads; i++)
		if (fl_dp_load_rules(dp, rules, n))
			return 2;
	load_us = (now_us() - t0) / loads;
	printf("{\"rules\": %d, \"renew_us\": %.1f, \"rewrite_us\": %.1f, \"ratio\": %.1f}\n", n,
	       renew_us, load_us, load_us / renew_us);
	fl_dp_close(dp);
	return 0;
}
