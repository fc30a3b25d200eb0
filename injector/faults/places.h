/* SPDX-License-Identifier: MIT */
/* Where a fault's htb classes go (rate, and delay with backend netem): the
 * egress of the wire-side port p-Y of each destination node Y in a lab,
 * every link but lo in a --netns/--pid target. See faults/rate.c. */
#ifndef FALLACY_FAULTS_PLACES_H
#define FALLACY_FAULTS_PLACES_H

#include <net/if.h>
#include <stdbool.h>

#include "fault.h"

#define FL_MAX_PLACES 64

struct fl_lab;
struct fl_sup;

struct fl_places {
	int n;
	bool ingress; /* ifb on each place instead of a class (rate only) */
	bool own_ifb[FL_MAX_PLACES]; /* the ifb was made for this fault */
	int link_idx[FL_MAX_PLACES]; /* ingress caps: the link's ifindex (0: none yet) */
	char ifname[FL_MAX_PLACES][IFNAMSIZ];
};

/* In a lab: the ports toward the --to nodes (and --from with --bidir), all
 * of them without --to. Elsewhere: every link of the session's namespace
 * but lo (lo when alone). 0 or -errno. */
int fl_places_find(struct fl_sup *s, const struct fl_fault *f, struct fl_places *pl);

#endif
