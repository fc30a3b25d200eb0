/* SPDX-License-Identifier: MIT */
/* Batched NFQUEUE verdicts for the delay line.
 *
 * NFQNL_MSG_VERDICT_BATCH with id N gives the verdict to EVERY packet of
 * the queue whose id is N or lower and that still waits for one
 * (net/netfilter/nfnetlink_queue.c: nfqnl_recv_verdict_batch walks the
 * queue's list, in id order, up to N). So one batch may carry a set of
 * released ids only when no packet with a lower id is still held: the
 * delay line keeps, per queue, the ids it holds in arrival (= id) order
 * (struct fl_idring) and splits each round of releases into a prefix
 * below the lowest id still held (one batch verdict up to the prefix's
 * last id) and the rest (one verdict each). Packets it has not read yet
 * all have higher ids than any it has read (the kernel numbers them under
 * the queue lock in the order it sends them), so a batch never reaches
 * them. Ids wrap at 2^32: compared as the kernel does (signed difference). */
#ifndef FALLACY_VBATCH_H
#define FALLACY_VBATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* a is after b in the queue's numbering (the kernel's nfq_id_after). */
static inline bool fl_id_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

/* The ids one queue holds, in the order they were read (ascending). */
struct fl_idring {
	uint32_t *id;
	bool *done; /* released, waiting for the ids before it to go */
	size_t cap, head, n; /* cap: power of 2 */
};

void fl_idring_init(struct fl_idring *r);
void fl_idring_free(struct fl_idring *r);
/* id must be after every id pushed before it. 0, -EINVAL or -ENOMEM. */
int fl_idring_push(struct fl_idring *r, uint32_t id);
/* Marks id released (no longer held). -ENOENT if it is not held. */
int fl_idring_release(struct fl_idring *r, uint32_t id);
/* The lowest id still held; false when none is. */
bool fl_idring_lowest(const struct fl_idring *r, uint32_t *id);

/* Sorts ids ascending (wrap-aware). */
void fl_vbatch_sort(uint32_t *ids, size_t n);
/* ids: sorted, released in this round. Returns k: ids[0..k) may be
 * carried by one batch verdict up to ids[k - 1] (no id still held is
 * lower than it); ids[k..n) need one verdict each. held: some id is still
 * held, the lowest being lowest_held. */
size_t fl_vbatch_split(const uint32_t *ids, size_t n, bool held, uint32_t lowest_held);

#endif
