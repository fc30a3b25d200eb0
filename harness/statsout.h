/* SPDX-License-Identifier: MIT */
/* Printers of a lab's transport statistics (injector/stats): one set of
 * fl_out calls for the table people read and for JSON (`fallacy stats`,
 * `--watch`, and the lines of a run's counters.jsonl). */
#ifndef FALLACY_STATSOUT_H
#define FALLACY_STATSOUT_H

#include <stdbool.h>

#include "json.h"
#include "stats/stats.h"

/* Counters: "nodes" (sent, received, TCP) and, with pairs, "pairs". */
void fl_stats_print(struct fl_out *o, const struct fl_stats *s, bool pairs);
/* Rates over secs seconds of a delta (fl_stats_delta): bits/s, packets/s,
 * TCP segments and retransmissions per second. */
void fl_stats_print_rates(struct fl_out *o, const struct fl_stats *d, double secs, bool pairs);
/* Retransmitted share of a node's TCP segments: RetransSegs / (OutSegs +
 * RetransSegs) (OutSegs does not count retransmissions); NAN without any. */
double fl_tcp_retrans_fraction(const struct fl_tcp_stat *t);

#endif
