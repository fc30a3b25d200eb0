// SPDX-License-Identifier: MIT
/* Batched NFQUEUE verdicts: the held-id ring and the batch split. See
 * vbatch.h. */
#include "vbatch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define IDRING_MIN_CAP 256

void fl_idring_init(struct fl_idring *r)
{
	memset(r, 0, sizeof(*r));
}

void fl_idring_free(struct fl_idring *r)
{
	free(r->id);
	free(r->done);
	fl_idring_init(r);
}

static uint32_t at(const struct fl_idring *r, size_t i)
{
	return r->id[(r->head + i) & (r->cap - 1)];
}

static int grow(struct fl_idring *r)
{
	size_t cap = r->cap ? r->cap * 2 : IDRING_MIN_CAP;
	uint32_t *id = malloc(cap * sizeof(*id));
	bool *done = malloc(cap * sizeof(*done));

	if (!id || !done) {
		free(id);
		free(done);
		return -ENOMEM;
	}
	for (size_t i = 0; i < r->n; i++) {
		size_t j = (r->head + i) & (r->cap - 1);

		id[i] = r->id[j];
		done[i] = r->done[j];
	}
	free(r->id);
	free(r->done);
	r->id = id;
	r->done = done;
	r->cap = cap;
	r->head = 0;
	return 0;
}

int fl_idring_push(struct fl_idring *r, uint32_t id)
{
	size_t j;

	if (r->n && !fl_id_after(id, at(r, r->n - 1)))
		return -EINVAL;
	if (r->n == r->cap && grow(r))
		return -ENOMEM;
	j = (r->head + r->n) & (r->cap - 1);
	r->id[j] = id;
	r->done[j] = false;
	r->n++;
	return 0;
}

/* Index (from head) of id, or r->n: binary search over ascending ids. */
static size_t find(const struct fl_idring *r, uint32_t id)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (fl_id_after(id, at(r, mid)))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < r->n && at(r, lo) == id ? lo : r->n;
}

int fl_idring_release(struct fl_idring *r, uint32_t id)
{
	size_t i = find(r, id);

	if (i == r->n || r->done[(r->head + i) & (r->cap - 1)])
		return -ENOENT;
	r->done[(r->head + i) & (r->cap - 1)] = true;
	while (r->n && r->done[r->head]) {
		r->head = (r->head + 1) & (r->cap - 1);
		r->n--;
	}
	return 0;
}

bool fl_idring_lowest(const struct fl_idring *r, uint32_t *id)
{
	if (!r->n)
		return false;
	*id = r->id[r->head];
	return true;
}

static int cmp_from(const void *a, const void *b, void *base)
{
	int32_t x = (int32_t)(*(const uint32_t *)a - *(const uint32_t *)base);
	int32_t y = (int32_t)(*(const uint32_t *)b - *(const uint32_t *)base);

	return (x > y) - (x < y);
}

/* A round's releases are nearly always in order already (a fixed delay
 * releases in arrival order): one pass checks, qsort_r sorts the rest,
 * relative to the first id (a queue's held ids span less than 2^31). */
void fl_vbatch_sort(uint32_t *ids, size_t n)
{
	uint32_t base;
	size_t i = 1;

	while (i < n && fl_id_after(ids[i], ids[i - 1]))
		i++;
	if (i >= n)
		return;
	base = ids[0];
	for (size_t j = 1; j < n; j++)
		if (fl_id_after(base, ids[j]))
			base = ids[j];
	qsort_r(ids, n, sizeof(*ids), cmp_from, &base);
}

size_t fl_vbatch_split(const uint32_t *ids, size_t n, bool held, uint32_t lowest_held)
{
	size_t k = 0;

	if (!held)
		return n;
	while (k < n && fl_id_after(lowest_held, ids[k]))
		k++;
	return k;
}
