/* SPDX-License-Identifier: MIT */
/* A binary min-heap of timers (due time, packet id, queue, slot) for the
 * delay line. Equal due times pop in insertion order, so packets released
 * together keep their arrival order. */
#ifndef FALLACY_TIMERHEAP_H
#define FALLACY_TIMERHEAP_H

#include <stddef.h>
#include <stdint.h>

struct fl_timer {
	uint64_t due_ns;
	uint64_t order; /* insertion counter: FIFO among equal due times */
	uint32_t id; /* NFQUEUE packet id */
	uint16_t queue; /* index of the namespace socket */
	uint16_t slot; /* delay rule slot */
};

struct fl_timerheap {
	struct fl_timer *v;
	size_t n, cap;
	uint64_t next_order;
};

void fl_timerheap_init(struct fl_timerheap *h);
void fl_timerheap_free(struct fl_timerheap *h);
/* 0 or -ENOMEM. */
int fl_timerheap_push(struct fl_timerheap *h, uint64_t due_ns, uint32_t id, uint16_t queue,
		      uint16_t slot);
/* NULL when empty. */
const struct fl_timer *fl_timerheap_peek(const struct fl_timerheap *h);
/* Removes the earliest into *out; -ENOENT when empty. */
int fl_timerheap_pop(struct fl_timerheap *h, struct fl_timer *out);

#endif
