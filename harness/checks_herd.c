// SPDX-License-Identifier: MIT
/* backoff: do the herd's clients reconnect in lock-step after a heal?
 * Measured over the recovery attempts (herd.h: every connect attempt a
 * client begins at or after the heal, up to and including its first
 * successful one): the largest share of them that begin within one
 * window (10 ms by default) anywhere after the heal. Clients that retry
 * on a fixed schedule from a failure they all saw at once come back
 * together (near 1); a backoff with jitter spreads them (a few per
 * cent for 200 clients over a second). */
#include "checks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "herd.h"

/* Too few attempts to call anything a crowd. */
#define MIN_ATTEMPTS 10

static void judge(const struct fl_check *ck, uint64_t *t, size_t n, uint64_t heal,
		  struct fl_check_result *res)
{
	uint64_t at;
	double share = fl_herd_max_share(t, n, ck->rate_window_ns, &at);
	size_t in = (size_t)lround(share * (double)n);

	res->measured = share;
	snprintf(res->measured_text, sizeof(res->measured_text), "%.3f", share);
	snprintf(res->detail, sizeof(res->detail),
		 "%zu of %zu reconnect attempts within %.3gms, %.3fs after the heal", in, n,
		 ck->rate_window_ns / 1e6, (double)(at - heal) / 1e9);
	res->pass = fl_bound_holds(&ck->bound, share);
}

void fl_check_eval_backoff(const struct fl_check *ck, const struct fl_run_data *rd,
			   struct fl_check_result *res)
{
	struct fl_herd_rec *rec = NULL;
	uint64_t heal, *t = NULL;
	size_t n = 0, nt = 0;
	char path[600];
	struct fl_err err = { "" };

	res->measured = NAN;
	res->pass = false;
	snprintf(res->measured_text, sizeof(res->measured_text), "n/a");
	if (rd->no_herd[0]) {
		res->skipped = true;
		snprintf(res->measured_text, sizeof(res->measured_text), "skipped");
		snprintf(res->detail, sizeof(res->detail), "%s", rd->no_herd);
		return;
	}
	if (fl_check_heal_time(ck, rd, &heal) != 0) {
		snprintf(res->detail, sizeof(res->detail), "no heal of %s in the run", ck->after);
		return;
	}
	snprintf(path, sizeof(path), "%s/herd.jsonl", rd->dir);
	if (fl_herd_load(path, &rec, &n, &err)) {
		snprintf(res->detail, sizeof(res->detail), "no herd.jsonl: %s",
			 access(path, F_OK) ? "the target has no herd: (its protocol)" : err.msg);
		return;
	}
	if (fl_herd_recovery_attempts(rec, n, heal, &t, &nt)) {
		snprintf(res->detail, sizeof(res->detail), "out of memory");
	} else if (nt < MIN_ATTEMPTS) {
		snprintf(res->detail, sizeof(res->detail),
			 "%zu reconnect attempts after the heal: nothing to judge (the cut "
			 "broke no connection?)",
			 nt);
	} else {
		judge(ck, t, nt, heal, res);
	}
	free(t);
	free(rec);
}
