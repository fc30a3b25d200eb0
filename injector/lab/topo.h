/* SPDX-License-Identifier: MIT */
/* The kernel side of live topology changes (lab/topo.c), for the lab's
 * supervisor; internal to the injector. A change is planned on a copy of
 * the lab's description (fl_topo_plan), made in the kernel with every new
 * object recorded in the journal first, and only then becomes the lab's
 * description (and its lab file and hosts files). The data plane (node
 * map, fault points, MTUs) is the supervisor's part. */
#ifndef FALLACY_LAB_TOPO_H
#define FALLACY_LAB_TOPO_H

#include <stdbool.h>
#include <stdint.h>

#include "lab.h"

struct fl_state;

/* One change (every op but flap, which the supervisor runs as a series of
 * fl_lab_link calls). grace_ns: how long the processes of a node that
 * leaves get between SIGTERM and SIGKILL. On failure nothing of the change
 * stays (a half-made node is removed again) and err says what failed. */
int fl_lab_change(struct fl_lab *lab, struct fl_state *st, const struct fl_topo *t,
		  uint64_t grace_ns, struct fl_err *err);
/* Carrier of a node's link: its wire-side port p-NODE administratively
 * down or up; the node's eth0 then has NO-CARRIER (state LOWERLAYERDOWN)
 * and the bridge port is disabled. */
int fl_lab_link(const struct fl_lab *lab, const char *node, bool up, struct fl_err *err);

#endif
