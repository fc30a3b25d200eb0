// SPDX-License-Identifier: MIT
#include "timerheap.h"

#include <errno.h>
#include <stdlib.h>

void fl_timerheap_init(struct fl_timerheap *h)
{
	h->v = NULL;
	h->n = h->cap = 0;
	h->next_order = 0;
}

void fl_timerheap_free(struct fl_timerheap *h)
{
	free(h->v);
	fl_timerheap_init(h);
}

static int before(const struct fl_timer *a, const struct fl_timer *b)
{
	if (a->due_ns != b->due_ns)
		return a->due_ns < b->due_ns;
	return a->order < b->order;
}

static void swap(struct fl_timer *a, struct fl_timer *b)
{
	struct fl_timer t = *a;

	*a = *b;
	*b = t;
}

int fl_timerheap_push(struct fl_timerheap *h, uint64_t due_ns, uint32_t id, uint16_t queue,
		      uint16_t slot)
{
	size_t i;

	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 1024;
		struct fl_timer *v = realloc(h->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		h->v = v;
		h->cap = cap;
	}
	i = h->n++;
	h->v[i] = (struct fl_timer){
		.due_ns = due_ns, .order = h->next_order++, .id = id, .queue = queue, .slot = slot
	};
	while (i > 0 && before(&h->v[i], &h->v[(i - 1) / 2])) {
		swap(&h->v[i], &h->v[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	return 0;
}

const struct fl_timer *fl_timerheap_peek(const struct fl_timerheap *h)
{
	return h->n ? &h->v[0] : NULL;
}

int fl_timerheap_pop(struct fl_timerheap *h, struct fl_timer *out)
{
	size_t i = 0;

	if (!h->n)
		return -ENOENT;
	*out = h->v[0];
	h->v[0] = h->v[--h->n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < h->n && before(&h->v[l], &h->v[m]))
			m = l;
		if (r < h->n && before(&h->v[r], &h->v[m]))
			m = r;
		if (m == i)
			break;
		swap(&h->v[i], &h->v[m]);
		i = m;
	}
	return 0;
}
