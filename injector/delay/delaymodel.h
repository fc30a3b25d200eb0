/* SPDX-License-Identifier: MIT */
/* The delay model of the NFQUEUE delay line: what delay one packet of a
 * delay rule gets. Pure functions of (parameters, per-rule state, seeded
 * PRNG), no kernel, so they are unit-tested and reproducible:
 *
 *   delay D [jitter J [correlation C]] [distribution uniform|normal|
 *         pareto|paretonormal] [reorder P [C]] [allow-reorder] [limit N]
 *   (the words: injector/faults/delay.c)
 *
 * Semantics follow netem (sch_netem.c + iproute2's distribution tables):
 * - uniform: D - J .. D + J; normal: mean D, sd J; pareto and paretonormal:
 *   netem's table shapes (alpha 3, scaled by 4/3, clipped at +4J;
 *   paretonormal = (normal + 3 pareto) / 4 on the same quantile), computed
 *   instead of tabulated. Delays below 0 are 0.
 * - correlation C: netem's rule, next = (1 - C) * fresh + C * previous on
 *   the 32-bit uniform draw that feeds the distribution (lag-1
 *   autocorrelation C; it also narrows the spread by sqrt((1-C)/(1+C)),
 *   exactly as netem does).
 * - reorder P: with probability P a packet skips the delay (netem's
 *   "reorder P" with gap 1) and is released at once, ahead of held ones.
 * - jitter does NOT reorder packets of one rule by default: a packet is
 *   never released before the previous delayed packet of its rule
 *   (due = max(drawn due, previous due)). netem's tfifo reorders on jitter;
 *   "allow-reorder" gives that behaviour.
 * Randomness: fl_prng(seed, rule id, FL_STREAM_DELAY / FL_STREAM_REORDER,
 * n) where n counts the rule's queued packets, so the same seed and the
 * same packet sequence give the same delays. */
#ifndef FALLACY_DELAYMODEL_H
#define FALLACY_DELAYMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

enum fl_delay_dist {
	FL_DIST_UNIFORM = 0,
	FL_DIST_NORMAL,
	FL_DIST_PARETO,
	FL_DIST_PARETONORMAL,
	FL_DIST_COUNT,
};

/* Packets a rule holds at once: by default, and at most (a rule may fill
 * the kernel queue, FL_DL_QUEUE_MAXLEN, but no more). */
#define FL_DELAY_DEFAULT_LIMIT 10000
#define FL_DELAY_MAX_LIMIT 65536

/* Which mechanism delays: the NFQUEUE delay line (queue), sch_netem
 * (netem.h; only when the kernel has it), or auto, which is the queue
 * (docs/delay-and-rate.md says why). */
enum fl_delay_backend {
	FL_DELAY_BACKEND_AUTO = 0,
	FL_DELAY_BACKEND_QUEUE = 1,
	FL_DELAY_BACKEND_NETEM = 2,
};

struct fl_delay_params {
	uint64_t delay_ns;
	uint64_t jitter_ns;
	double delay_corr; /* 0..1 */
	enum fl_delay_dist dist;
	double reorder; /* probability of skipping the delay, 0..1 */
	double reorder_corr; /* 0..1 */
	bool allow_reorder;
	uint32_t limit; /* packets held per rule; beyond: dropped + counted */
	bool fail_closed; /* no --queue-bypass: traffic stops if the line dies */
	enum fl_delay_backend backend;
	uint64_t seed;
	uint32_t rule_id;
};

/* Per-rule state carried from packet to packet. Zero-initialise. */
struct fl_delay_state {
	uint64_t seq; /* packets drawn so far */
	uint32_t delay_last; /* correlation memory (netem's crndstate.last) */
	uint32_t reorder_last;
	uint64_t last_due; /* no-reorder floor (monotonic ns) */
};

/* One packet arriving at now_ns: returns its due time (>= now_ns).
 * *skip is set when the reorder draw let it skip the delay. */
uint64_t fl_delay_next(const struct fl_delay_params *p, struct fl_delay_state *s, uint64_t now_ns,
		       bool *skip);

/* Signed offset in ns drawn for one uniform 32-bit value u (the jitter
 * part only: D is added by the caller). Exposed for the unit tests. */
int64_t fl_delay_jitter(enum fl_delay_dist dist, uint64_t jitter_ns, uint32_t u);
/* netem's correlated uniform: (fresh * (2^32 - rho) + last * rho) >> 32. */
uint32_t fl_delay_correlate(uint32_t fresh, uint32_t *last, double corr);
/* Standard normal quantile (Acklam's rational approximation, refined). */
double fl_norm_quantile(double p);

/* "D [jitter J] ..." (the words after "delay") into p, by the delay fault
 * kind's own table (injector/faults/delay.c): `fallacy __delayline`. */
int fl_delay_from_words(int argc, char **argv, struct fl_delay_params *p, struct fl_err *err);

#endif
