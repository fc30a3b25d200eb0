/* SPDX-License-Identifier: MIT */
/* Internal to the probes: the part that runs in the forked child, inside a
 * scratch network namespace it unshares. Not for other modules. */
#ifndef FALLACY_PROBE_SCRATCH_H
#define FALLACY_PROBE_SCRATCH_H

#include "probe.h"

void fl_probe_set(struct fl_probe_report *rep, enum fl_probe_id id, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define FL_PROBE_QUEUE 4242
#define FL_PROBE_PORT 9 /* discard */

/* One UDP datagram to 127.0.0.1:FL_PROBE_PORT; 0 or -errno. */
int fl_probe_send_packet(void);

/* NFQUEUE: binds a queue (libmnl + libnetfilter_queue), adds a raw
 * PREROUTING NFQUEUE rule with iptables-restore --noflush and checks that a
 * packet on lo is queued. Runs inside the scratch namespace. */
void fl_probe_nfqueue(struct fl_probe_report *rep);

/* Unshares a network namespace and runs the kernel probes in it, writing
 * into rep. Call only in a child process that exits afterwards. */
void fl_probe_scratch(struct fl_probe_report *rep);

#endif
