/* SPDX-License-Identifier: MIT */
/* The session's delay line inside the supervisor process: created on the
 * first delay fault, one NFQUEUE socket in the session's namespace (a
 * lab's wire namespace, the --netns/--pid namespace, wrap's namespace),
 * one raw PREROUTING NFQUEUE rule per family there (loopback packets pass
 * PREROUTING too), a thread of its own for precise verdicts (N sockets,
 * queues and threads with FALLACY_DELAY_QUEUES=N), released
 * (held packets ACCEPTed, rules removed) when the supervisor stops. */
#ifndef FALLACY_SUP_DELAY_H
#define FALLACY_SUP_DELAY_H

#include <stdint.h>

#include "delayline.h"
#include "delaymodel.h"
#include "log.h"

struct fl_sup;

/* Configure slot with p (seed and rule id included), starting the delay
 * line and installing the rules on first use. fail-closed/open of the
 * rules follows the newest delay fault. */
int fl_sup_delay_set(struct fl_sup *s, uint32_t slot, const struct fl_delay_params *p,
		     struct fl_err *err);
/* New packets of the slot pass at once; held ones keep their due time. */
void fl_sup_delay_clear(struct fl_sup *s, uint32_t slot);
/* The delay line's counters of a slot; -ENOENT when it has none. */
int fl_sup_delay_counters(uint32_t slot, struct fl_dl_slot_counters *c);
/* Packets of the session's delay line that found its receive buffer full
 * and passed undelayed (fail-open) or were dropped (fail-closed): the
 * line's, not one slot's (the kernel did not tell which). 0 without a
 * line. */
uint64_t fl_sup_delay_bypassed(void);

#endif
