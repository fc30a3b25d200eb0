/* SPDX-License-Identifier: MIT */
/* Rate caps (shaping, not policing) through libnl: `rate R [burst B]
 * [limit L]` (the words: injector/faults/rate.c).
 *
 * Two building blocks, each journalled before it is created:
 * - fl_shape_ingress(): an ifb device ("flb-" + IFNAME) with tbf as its
 *                      root: "link NETNS IFB", "qdisc NETNS IFB root". The
 *                      BPF program on IFNAME's ingress redirects what a
 *                      capping rule matched to it (fl_dp_ifb_set), so the
 *                      redirect ends with the rule's lease.
 * - fl_shape_class():  per-rule htb classes: htb root FL_SHAPE_MAJOR: on
 *                      IFNAME (unclassified traffic passes unshaped) and
 *                      class FL_SHAPE_MAJOR:MINOR with rate = ceil = R.
 *                      The BPF data plane writes the class id into
 *                      skb->priority of the rule's packets (rule.h
 *                      FL_KIND_RATE), which htb uses to classify.
 * In a lab: traffic toward node X leaves the wire through port p-X, so
 * caps "to X" (ingress of X) live on p-X in the wire namespace; a cap on
 * everything X sends is one class per destination port. */
#ifndef FALLACY_SHAPE_H
#define FALLACY_SHAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fallacy/mark.h"
#include "log.h"

struct fl_state;
struct nl_sock;

#define FL_SHAPE_MAJOR FL_TAG
#define FL_SHAPE_CLASSID(minor) (((uint32_t)FL_SHAPE_MAJOR << 16) | ((minor)&0xffffu))

/* One full Ethernet frame at MTU 1500 (bytes, without FCS): the smallest
 * burst and htb quantum that make sense. */
#define FL_SHAPE_FRAME 1514u

struct fl_rate {
	uint64_t rate_bps; /* bits per second */
	uint64_t burst; /* bytes; 0 = default */
	uint64_t limit; /* bytes queued; 0 = default */
};

/* Defaults: burst = max(rate * 4 ms, 2 full frames of the MTU = 3028 B,
 * one 64 KB GSO super-packet when rate >= 100 Mbit/s); limit = rate *
 * 100 ms + burst. */
void fl_rate_defaults(const struct fl_rate *in, struct fl_rate *out);

/* *own_ifb: the ifb was made here (false: it existed and is left in place
 * by fl_shape_ingress_del, which then removes only the tbf on it).
 * *link_idx and *ifb_idx: IFNAME's and the ifb's ifindex, for the data
 * plane's redirect (fl_dp_ifb_set). */
int fl_shape_ingress(struct fl_state *st, const char *netns, const char *ifname,
		     const struct fl_rate *r, bool *own_ifb, int *link_idx, int *ifb_idx);
int fl_shape_class(struct fl_state *st, const char *netns, const char *ifname, uint16_t minor,
		   const struct fl_rate *r);
/* Sets a qdisc's own parameters (the kind is set already): r is the rate
 * it serves, arg the caller's; 0 or -NLE_*. */
struct rtnl_qdisc;
typedef int (*fl_shape_fill_fn)(struct rtnl_qdisc *q, const struct fl_rate *r, const void *arg);
/* Adds a qdisc of kind at (ifindex, parent, handle), filled by fill (NULL:
 * the kind's defaults), with the NLM_F_* flags; -NLE_*. The one place
 * qdiscs are built. */
int fl_shape_qdisc_add(struct nl_sock *sk, int ifindex, uint32_t parent, uint32_t handle,
		       const char *kind, int flags, fl_shape_fill_fn fill, const struct fl_rate *r,
		       const void *arg);
/* fl_shape_class() with another leaf than the byte FIFO: a qdisc of kind
 * filled by fill (netem.h). */
int fl_shape_class_leaf(struct fl_state *st, const char *netns, const char *ifname, uint16_t minor,
			const struct fl_rate *r, const char *kind, fl_shape_fill_fn fill,
			const void *arg);
/* tbf fa11: as the root of ifindex on an open route socket; -NLE_*. */
int fl_shape_tbf_nl(struct nl_sock *sk, int ifindex, const struct fl_rate *r);
/* Remove what the two made (tolerating absence): the ifb (or our tbf on
 * somebody else's), or one class. */
int fl_shape_ingress_del(const char *netns, const char *ifname, bool own_ifb);
int fl_shape_class_del(const char *netns, const char *ifname, uint16_t minor);

#endif
