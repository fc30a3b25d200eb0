/* SPDX-License-Identifier: MIT */
/* The optional netem backend of the delay fault: the delay rule gets an htb
 * class of the shaper (shape.h, chosen by the BPF program through
 * skb->priority like a rate rule) whose leaf is a netem qdisc carrying
 * delay, jitter, correlation, distribution and reorder. The functions here
 * are pure (no kernel): they translate the fault's parameters into netem's
 * units; shape_netem.c builds the qdisc through libnl. */
#ifndef FALLACY_NETEM_H
#define FALLACY_NETEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "delay/delaymodel.h"
#include "log.h"

struct fl_state;

/* libnl turns microseconds into 32-bit psched ticks (16 per us on this
 * kernel): stay below 2^32 / 16 us, about 268 s. */
#define FL_NETEM_MAX_US 268000000u

struct fl_netem {
	uint32_t delay_us, jitter_us;
	uint32_t delay_corr; /* netem's scale: p * UINT32_MAX */
	uint32_t reorder, reorder_corr; /* same scale */
	uint32_t gap; /* 1 with reorder (tc's rule), else 0 */
	uint32_t limit; /* packets */
	const char *dist; /* table name ("normal"), NULL = uniform */
};

/* p in [0, 1] (clamped) on netem's u32 scale, rounded. */
uint32_t fl_netem_prob(double p);
/* ns rounded to the nearest us; -ERANGE beyond FL_NETEM_MAX_US. */
int fl_netem_usec(uint64_t ns, uint32_t *us);
/* iproute2's table for a distribution, NULL for uniform (netem's own). */
const char *fl_netem_dist_name(enum fl_delay_dist d);
/* dirs[i]/NAME.dist for the first dirs[i] (NULL-terminated) holding a
 * readable file; -ENOENT when none does. */
int fl_netem_dist_path(const char *name, const char *const *dirs, char *buf, size_t len);
/* Where iproute2 installs the tables (Debian's multiarch first). */
extern const char *const fl_netem_dist_dirs[];
/* The fault's parameters in netem's terms; -EINVAL with a message when
 * netem cannot give them (jitter without allow-reorder: netem reorders). */
int fl_netem_from_delay(const struct fl_delay_params *p, struct fl_netem *n, struct fl_err *err);
/* Which backend delays: AUTO is the queue (see docs/delay-and-rate.md),
 * NETEM only when the kernel has it (-EOPNOTSUPP otherwise). */
int fl_delay_backend_pick(enum fl_delay_backend asked, bool netem_present);

/* Set n's parameters on a netem qdisc object (no kernel: libnl only),
 * loading the distribution table; -NLE_* (the table missing, too big). */
struct rtnl_qdisc;
int fl_netem_fill(struct rtnl_qdisc *q, const struct fl_netem *n);
/* htb class FL_SHAPE_CLASSID(minor) on IFNAME (uncapped) with a netem
 * leaf; journalled like fl_shape_class(); removed by fl_shape_class_del. */
int fl_shape_netem(struct fl_state *st, const char *netns, const char *ifname, uint16_t minor,
		   const struct fl_netem *n);

#endif
