// SPDX-License-Identifier: MIT
/* The linearizability checker: see lin.h. Per key: the operations that can
 * matter, their call and return entries in time order in a doubly linked
 * list, and Wing & Gong's search: take the first entry; a call whose
 * operation the model accepts from the current state is linearized (its
 * call and return lifted from the list) unless (linearized set, state) was
 * seen before (Lowe's cache); reaching a return means that operation was
 * not linearized in time: undo the last choice and try the next. Info
 * operations have no return entry: they may be linearized or left out. */
#include "lin.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the models ---------------------------------------------------------- */

/* kv states are strings owned by one key's search (interned locally). */
struct strtab {
	char **s;
	size_t n, cap;
	int *slot;
	size_t size;
};

static uint64_t fnv(const void *p, size_t n, uint64_t h)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

static int strtab_grow(struct strtab *t)
{
	size_t size = t->size ? t->size * 2 : 256;
	int *slot = malloc(size * sizeof(*slot));

	if (!slot)
		return -ENOMEM;
	memset(slot, 0xff, size * sizeof(*slot));
	for (size_t k = 0; k < t->n; k++) {
		size_t i = fnv(t->s[k], strlen(t->s[k]), 1469598103934665603ULL) & (size - 1);

		while (slot[i] >= 0)
			i = (i + 1) & (size - 1);
		slot[i] = (int)k;
	}
	free(t->slot);
	t->slot = slot;
	t->size = size;
	return 0;
}

/* The id of s in t (added if new); -ENOMEM. */
static int strtab_id(struct strtab *t, const char *s)
{
	size_t i;

	if (t->n * 2 >= t->size && strtab_grow(t))
		return -ENOMEM;
	for (i = fnv(s, strlen(s), 1469598103934665603ULL) & (t->size - 1); t->slot[i] >= 0;
	     i = (i + 1) & (t->size - 1))
		if (!strcmp(t->s[t->slot[i]], s))
			return t->slot[i];
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 64;
		char **ns = realloc(t->s, nc * sizeof(*ns));

		if (!ns)
			return -ENOMEM;
		t->s = ns;
		t->cap = nc;
	}
	t->s[t->n] = strdup(s);
	if (!t->s[t->n])
		return -ENOMEM;
	t->slot[i] = (int)t->n;
	return (int)t->n++;
}

static void strtab_free(struct strtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->s[i]);
	free(t->s);
	free(t->slot);
}

/* One key's search. */
struct key_search {
	const struct fl_history *h;
	enum fl_lin_model model;
	struct strtab kv; /* kv: state ids; id 0 is the absent value */
	int *ops; /* op indexes of this key that matter */
	uint64_t *end; /* per op: its return (required), its deadline (optional:
			* never happened if not linearized by then), or NEVER */
	bool *required;
	size_t n;
	bool unique; /* writes write different values */
	bool no_memo, no_prune;
	uint64_t max_states, states;
};

/* Can op be linearized in state s? *next gets the state after it. */
static int model_step(struct key_search *k, const struct fl_hop *op, int s, int *next)
{
	const struct fl_history *h = k->h;
	char buf[8192];
	const char *cur;
	int id;

	*next = s;
	if (k->model == FL_LIN_REGISTER) {
		switch (op->f) {
		case FL_HF_READ:
			return op->value == s;
		case FL_HF_WRITE:
			*next = op->value;
			return 1;
		case FL_HF_CAS:
			if (op->result == FL_HR_FAIL) /* the compare did not match */
				return s != op->expect;
			if (s == op->expect)
				*next = op->value;
			return s == op->expect || op->result == FL_HR_INFO;
		default:
			return 0;
		}
	}
	cur = k->kv.s[s];
	switch (op->f) {
	case FL_HF_GET:
		return !strcmp(cur,
			       op->value == FL_HVAL_NULL ? "" : fl_history_value(h, op->value));
	case FL_HF_PUT:
		id = strtab_id(&k->kv,
			       op->value == FL_HVAL_NULL ? "" : fl_history_value(h, op->value));
		break;
	default: /* append: the strings' contents concatenated ("s" + a + b) */
		snprintf(buf, sizeof(buf), "%s%s", cur[0] ? cur : "s",
			 op->value == FL_HVAL_NULL ? "" : fl_history_value(h, op->value) + 1);
		id = strtab_id(&k->kv, buf);
	}
	if (id < 0)
		return -ENOMEM;
	*next = id;
	return 1;
}

/* ---- Lowe's cache: (linearized set, state) ------------------------------ */

/* A linearized set as stored: the words from the first that is not all
 * ones to the last that is not zero (the search moves a narrow window
 * through the history, so sets are stored in little room). */
struct cached {
	uint64_t hash;
	int state;
	uint32_t lo, len;
	uint64_t *w; /* NULL: a free slot */
};

struct cache {
	struct cached *e;
	size_t size, n;
};

static int cache_grow(struct cache *c)
{
	size_t size = c->size ? c->size * 2 : 4096;
	struct cached *e = calloc(size, sizeof(*e));

	if (!e)
		return -ENOMEM;
	for (size_t i = 0; i < c->size; i++) {
		size_t j;

		if (!c->e[i].w)
			continue;
		for (j = c->e[i].hash & (size - 1); e[j].w; j = (j + 1) & (size - 1))
			;
		e[j] = c->e[i];
	}
	free(c->e);
	c->e = e;
	c->size = size;
	return 0;
}

/* 1 when (b[lo..hi), state) was new (and is now in the cache), 0 when
 * seen; b's words below lo are all ones, from hi on all zero. */
static int cache_add(struct cache *c, const uint64_t *b, size_t lo, size_t hi, int state)
{
	size_t len = hi > lo ? hi - lo : 0, i;
	uint64_t h = fnv(b + lo, len * sizeof(*b),
			 1469598103934665603ULL ^ ((uint64_t)lo << 32) ^ (uint64_t)(unsigned)state);

	if (c->n * 2 >= c->size && cache_grow(c))
		return -ENOMEM;
	for (i = h & (c->size - 1); c->e[i].w; i = (i + 1) & (c->size - 1))
		if (c->e[i].hash == h && c->e[i].state == state && c->e[i].lo == lo &&
		    c->e[i].len == len && !memcmp(c->e[i].w, b + lo, len * sizeof(*b)))
			return 0;
	c->e[i].w = malloc(len ? len * sizeof(*b) : 1);
	if (!c->e[i].w)
		return -ENOMEM;
	memcpy(c->e[i].w, b + lo, len * sizeof(*b));
	c->e[i] = (struct cached){ h, state, (uint32_t)lo, (uint32_t)len, c->e[i].w };
	c->n++;
	return 1;
}

static void cache_free(struct cache *c)
{
	for (size_t i = 0; i < c->size; i++)
		free(c->e[i].w);
	free(c->e);
}

/* ---- the entry list ------------------------------------------------------ */

enum entry_kind {
	E_CALL,
	E_RETURN, /* of a required op: it must be linearized before */
	E_DEADLINE, /* of an optional op: if not linearized by now, it never was */
};

struct entry {
	int op; /* index into key_search.ops */
	enum entry_kind kind;
	uint64_t time;
	struct entry *prev, *next;
	struct entry *match; /* a call's return or deadline */
	struct entry *call; /* a return's or deadline's call */
};

static int cmp_entries(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	if (x->kind != y->kind) /* at the same instant: calls first (concurrent) */
		return x->kind == E_CALL ? -1 : y->kind == E_CALL ? 1 : 0;
	return x->op - y->op;
}

/* The entries of the key's history as seen until `until`: later calls are
 * left out; an op whose end is later becomes optional without deadline. */
static struct entry *build_entries(const struct key_search *k, uint64_t until, size_t *n_out)
{
	struct entry *e = calloc(2 * k->n + 1, sizeof(*e));
	size_t n = 0;

	if (!e)
		return NULL;
	for (size_t i = 0; i < k->n; i++) {
		const struct fl_hop *op = &k->h->ops[k->ops[i]];

		if (op->call > until)
			continue;
		e[n++] = (struct entry){ .op = (int)i, .kind = E_CALL, .time = op->call };
		if (k->end[i] != FL_HTIME_NEVER && k->end[i] <= until)
			e[n++] = (struct entry){ .op = (int)i,
						 .kind = k->required[i] ? E_RETURN : E_DEADLINE,
						 .time = k->end[i] };
	}
	qsort(e, n, sizeof(*e), cmp_entries);
	*n_out = n;
	return e;
}

static void link_entries(struct entry *e, size_t n, struct entry *head, struct entry **by_call)
{
	struct entry *prev = head;

	head->next = NULL;
	for (size_t i = 0; i < n; i++) {
		e[i].prev = prev;
		e[i].next = NULL;
		e[i].match = NULL;
		prev->next = &e[i];
		prev = &e[i];
		e[i].call = NULL;
		if (e[i].kind == E_CALL) {
			by_call[e[i].op] = &e[i];
		} else {
			by_call[e[i].op]->match = &e[i];
			e[i].call = by_call[e[i].op];
		}
	}
}

static void lift(struct entry *e)
{
	e->prev->next = e->next;
	if (e->next)
		e->next->prev = e->prev;
	if (e->match) {
		e->match->prev->next = e->match->next;
		if (e->match->next)
			e->match->next->prev = e->match->prev;
	}
}

static void unlift(struct entry *e)
{
	if (e->match) {
		e->match->prev->next = e->match;
		if (e->match->next)
			e->match->next->prev = e->match;
	}
	e->prev->next = e;
	if (e->next)
		e->next->prev = e;
}

/* ---- the search ---------------------------------------------------------- */

struct frame {
	struct entry *e; /* the call entry */
	int state; /* before it */
	bool dropped; /* forced by its deadline, not a choice */
};

struct search {
	struct key_search *k;
	const struct fl_hop *ops;
	struct entry head;
	struct frame *stack;
	size_t depth;
	uint64_t *bits; /* linearized or dropped ops */
	size_t words;
	size_t full; /* words below this one are all ones */
	size_t top; /* words from this one on are all zero */
	struct cache cache;
	size_t required; /* return entries still in the list */
	/* the observer pruning (register, unique values): per value v (index
	 * v + 1), the acknowledged reads of v and cas expecting v still to be
	 * linearized. Values are written once, so a state that changes never
	 * comes back: leaving v while one of them is pending dooms the branch.
	 * NULL: off */
	int *obs;
};

/* Is op an acknowledged observer of a value (an ok read, an ok cas), and
 * of which? */
static bool observer_of(const struct fl_hop *op, int *v)
{
	if (op->result != FL_HR_OK || (op->f != FL_HF_READ && op->f != FL_HF_CAS))
		return false;
	*v = op->f == FL_HF_READ ? op->value : op->expect;
	return true;
}

/* A required observer (one with a return in the list) taken or put back. */
static void obs_count(struct search *s, const struct entry *e, int d)
{
	int v;

	if (s->obs && e->match && e->match->kind == E_RETURN &&
	    observer_of(&s->ops[s->k->ops[e->op]], &v))
		s->obs[v + 1] += d;
}

/* Take op e out of the list (linearized, or dropped), if (set, state) is
 * new: 1 done, 0 seen before, -ENOMEM. */
static void bit_set(struct search *s, int op)
{
	size_t w = (size_t)op / 64;

	s->bits[w] |= 1ULL << (op % 64);
	if (w + 1 > s->top)
		s->top = w + 1;
	while (s->full < s->words && s->bits[s->full] == ~0ULL)
		s->full++;
}

static void bit_clear(struct search *s, int op)
{
	size_t w = (size_t)op / 64;

	s->bits[w] &= ~(1ULL << (op % 64));
	if (w < s->full)
		s->full = w;
	while (s->top && !s->bits[s->top - 1])
		s->top--;
}

static int take(struct search *s, struct entry *e, int before, int after, bool dropped)
{
	int ret;

	bit_set(s, e->op);
	if (!s->k->no_memo) {
		ret = cache_add(&s->cache, s->bits, s->full, s->top, after);
		if (ret <= 0) {
			bit_clear(s, e->op);
			return ret;
		}
	}
	s->stack[s->depth++] = (struct frame){ e, before, dropped };
	s->required -= e->match && e->match->kind == E_RETURN;
	obs_count(s, e, -1);
	lift(e);
	return 1;
}

/* Would op, taking the state from `from` to another, leave behind a
 * pending observer of `from` (other than op itself)? */
static bool dooms(struct search *s, const struct entry *e, int from, int to)
{
	int v, own;

	if (!s->obs || to == from)
		return false;
	own = e->match && e->match->kind == E_RETURN &&
	      observer_of(&s->ops[s->k->ops[e->op]], &v) && v == from;
	return s->obs[from + 1] > own;
}

/* Try to linearize the call entry e in *state: 1 done, 0 not. */
static int try_call(struct search *s, struct entry *e, int *state)
{
	const struct fl_hop *op = &s->ops[s->k->ops[e->op]];
	int next, ok = model_step(s->k, op, *state, &next);

	if (ok > 0 && dooms(s, e, *state, next))
		ok = 0;
	if (ok > 0)
		ok = take(s, e, *state, next, false);
	if (ok > 0)
		*state = next;
	return ok;
}

/* Undo the newest choice (and the drops forced after it); returns the
 * entry to continue after, or NULL when nothing is left to undo. */
static struct entry *backtrack(struct search *s, int *state)
{
	struct frame f;

	do {
		if (!s->depth)
			return NULL;
		f = s->stack[--s->depth];
		unlift(f.e);
		s->required += f.e->match && f.e->match->kind == E_RETURN;
		obs_count(s, f.e, 1);
		bit_clear(s, f.e->op);
		*state = f.state;
	} while (f.dropped);
	return f.e;
}

/* One step at entry e; returns the next entry, or NULL with *verdict set
 * (0 not linearizable, <0 error) when the search ends. */
static struct entry *advance(struct search *s, struct entry *e, int *state, int *verdict)
{
	struct entry *b;
	int ret;

	if (e && e->kind == E_CALL) {
		ret = try_call(s, e, state);
		if (ret < 0) {
			*verdict = ret;
			return NULL;
		}
		return ret ? s->head.next : e->next;
	}
	if (e && e->kind == E_DEADLINE) { /* its op never happened */
		ret = take(s, e->call, *state, *state, true);
		if (ret < 0) {
			*verdict = ret;
			return NULL;
		}
		if (ret)
			return s->head.next;
	}
	/* a return whose op is not linearized, or a configuration seen before */
	b = backtrack(s, state);
	if (!b) {
		*verdict = 0;
		return NULL;
	}
	return b->next;
}

/* 1 linearizable, 0 not, -E2BIG search limit, -ENOMEM. */
static int search_run(struct search *s, int state)
{
	struct entry *e = s->head.next;
	int verdict = 1;

	while (s->required) {
		if (++s->k->states > s->k->max_states)
			return -E2BIG;
		e = advance(s, e, &state, &verdict);
		if (!e && verdict != 1)
			return verdict;
		if (!e)
			e = s->head.next;
	}
	return 1;
}

/* Is the key's history, as seen until `until`, linearizable? */
static int check_until(struct key_search *k, uint64_t until)
{
	struct search s = { .k = k, .ops = k->h->ops };
	struct entry *e, **by_call;
	size_t n = 0;
	int ret = -ENOMEM, init = k->model == FL_LIN_KV ? 0 : FL_HVAL_NULL;
	bool prune = k->model == FL_LIN_REGISTER && k->unique && !k->no_prune;

	e = build_entries(k, until, &n);
	by_call = calloc(k->n + 1, sizeof(*by_call));
	s.words = k->n / 64 + 1;
	s.bits = calloc(s.words, sizeof(*s.bits));
	s.stack = calloc(k->n + 1, sizeof(*s.stack));
	if (prune)
		s.obs = calloc(k->h->n_values + 2, sizeof(*s.obs));
	if (e && by_call && s.bits && s.stack && (s.obs || !prune)) {
		link_entries(e, n, &s.head, by_call);
		for (size_t i = 0; i < n; i++) {
			s.required += e[i].kind == E_RETURN;
			if (e[i].kind == E_CALL)
				obs_count(&s, &e[i], 1);
		}
		ret = search_run(&s, init);
	}
	free(s.obs);
	cache_free(&s.cache);
	free(s.stack);
	free(s.bits);
	free(by_call);
	free(e);
	return ret;
}

/* ---- which operations can matter, and until when ---------------------- */

/* Writes (and cas) of this key all write different values: then a value
 * read names the one write that made it. */
static bool unique_values(const struct fl_history *h, const int *ops, size_t n)
{
	int *seen = calloc(h->n_values + 1, sizeof(*seen));
	bool ok = seen != NULL;

	for (size_t i = 0; ok && i < n; i++) {
		const struct fl_hop *op = &h->ops[ops[i]];

		if (op->f == FL_HF_READ || op->f == FL_HF_GET)
			continue;
		if (op->f == FL_HF_APPEND || op->value < 0 || seen[op->value]++)
			ok = false;
	}
	free(seen);
	return ok;
}

/* The earliest return of an op that can only follow the write of v (an ok
 * read of v, an ok cas expecting v); NEVER if none. */
static uint64_t first_observer(const struct fl_history *h, const int *ops, size_t n, int v)
{
	uint64_t t = FL_HTIME_NEVER;

	for (size_t i = 0; i < n; i++) {
		const struct fl_hop *op = &h->ops[ops[i]];

		if (op->result != FL_HR_OK)
			continue;
		if (((op->f == FL_HF_READ && op->value == v) ||
		     (op->f == FL_HF_CAS && op->expect == v)) &&
		    op->ret < t)
			t = op->ret;
	}
	return t;
}

/* Could a write of v matter to anyone but a failed cas: is v read by an
 * ok read/get, expected by an ok cas, or expected by an info cas whose own
 * new value could matter (a chain)? kv: contained in a value read. */
static bool observed(const struct fl_history *h, const int *ops, size_t n, int v, bool kv,
		     int depth)
{
	for (size_t i = 0; i < n; i++) {
		const struct fl_hop *op = &h->ops[ops[i]];

		if ((op->f == FL_HF_READ || op->f == FL_HF_GET) && op->result == FL_HR_OK) {
			if (!kv && op->value == v)
				return true;
			if (kv && op->value != FL_HVAL_NULL && v != FL_HVAL_NULL &&
			    strstr(fl_history_value(h, op->value) + 1, fl_history_value(h, v) + 1))
				return true;
		}
		if (op->f != FL_HF_CAS || op->expect != v || op->result == FL_HR_FAIL)
			continue;
		if (op->result == FL_HR_OK || depth > 64 ||
		    observed(h, ops, n, op->value, kv, depth + 1))
			return true;
	}
	return false;
}

/* The latest return of a failed cas: an unobserved write may explain one
 * (the state was not what it expected), never anything after the last. */
static uint64_t last_failed_cas(const struct fl_history *h, const int *ops, size_t n)
{
	uint64_t t = 0;

	for (size_t i = 0; i < n; i++) {
		const struct fl_hop *op = &h->ops[ops[i]];

		if (op->f == FL_HF_CAS && op->result == FL_HR_FAIL && op->ret > t)
			t = op->ret;
	}
	return t;
}

/* Fails take no effect (cas aside: its compare failed), info reads
 * constrain nothing. An info write is optional: it may take effect any time
 * after its call, or never. What bounds it: with unique values, one whose
 * value was observed must have happened before its first observer returned
 * (required, that deadline as its return); one nobody observed can only
 * matter to a failed cas (optional until the last one returns) or not at
 * all (left out). None of this can change the verdict. */
static bool classify(struct key_search *k, const int *all, size_t n, bool unique, size_t i,
		     uint64_t fcas)
{
	const struct fl_hop *op = &k->h->ops[all[i]];
	bool kv = k->model == FL_LIN_KV;
	uint64_t t;

	k->required[k->n] = true;
	k->end[k->n] = op->ret;
	if (op->result == FL_HR_FAIL)
		return op->f == FL_HF_CAS;
	if (op->result != FL_HR_INFO)
		return true;
	if (op->f == FL_HF_READ || op->f == FL_HF_GET)
		return false;
	if (unique && !kv && (t = first_observer(k->h, all, n, op->value)) != FL_HTIME_NEVER &&
	    t >= op->call) {
		k->end[k->n] = t;
		return true;
	}
	k->required[k->n] = false;
	if (!unique || observed(k->h, all, n, op->value, kv, 0)) {
		k->end[k->n] = FL_HTIME_NEVER;
		return true;
	}
	k->end[k->n] = fcas;
	return fcas > op->call;
}

static int key_ops(const struct fl_history *h, int key, bool kv, struct key_search *k)
{
	int *all = malloc((h->n + 1) * sizeof(*all));
	size_t n = 0;
	uint64_t fcas;
	bool unique;

	(void)kv;
	k->ops = malloc((h->n + 1) * sizeof(*k->ops));
	k->end = malloc((h->n + 1) * sizeof(*k->end));
	k->required = malloc((h->n + 1) * sizeof(*k->required));
	if (!all || !k->ops || !k->end || !k->required) {
		free(all);
		return -ENOMEM;
	}
	for (size_t i = 0; i < h->n; i++)
		if (h->ops[i].key == key)
			all[n++] = (int)i;
	unique = k->unique = unique_values(h, all, n);
	fcas = last_failed_cas(h, all, n);
	for (size_t i = 0; i < n; i++)
		if (classify(k, all, n, unique, i, fcas))
			k->ops[k->n++] = all[i];
	if (fl_log_level >= FL_LOG_DEBUG) {
		size_t opt = 0, floating = 0;

		for (size_t i = 0; i < k->n; i++) {
			opt += !k->required[i];
			floating += k->end[i] == FL_HTIME_NEVER;
		}
		pr_debug("key %d: %zu of %zu operations matter, %zu optional (%zu without a "
			 "deadline); values %s",
			 key, k->n, n, opt, floating, unique ? "unique" : "not unique");
	}
	free(all);
	return 0;
}

/* ---- the shortest prefix that is not linearizable ------------------------- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void locate(struct key_search *k, struct fl_lin_result *r)
{
	uint64_t *t = malloc((2 * k->n + 1) * sizeof(*t));
	size_t n = 0, lo = 0, hi;

	if (!t)
		return;
	for (size_t i = 0; i < k->n; i++) {
		const struct fl_hop *op = &k->h->ops[k->ops[i]];

		if (op->ret != FL_HTIME_NEVER)
			t[n++] = op->ret; /* only a return can make a prefix fail */
	}
	qsort(t, n, sizeof(*t), cmp_u64);
	hi = n ? n - 1 : 0;
	while (lo < hi) { /* the first return time whose prefix fails */
		size_t mid = (lo + hi) / 2;

		k->states = 0;
		if (check_until(k, t[mid]) == 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	r->bad_time = n ? t[lo] : 0;
	free(t);
}

/* ---- anomalies read off real time -------------------------------------- */

struct witness {
	enum fl_lin_anomaly kind;
	int read, writer, overwriter; /* indexes into h->ops */
};

/* The ok writes (and ok cas) of the key by invocation time, with the
 * earliest completion among each suffix. */
struct wlist {
	int *op;
	uint64_t *suffix_min_ret;
	size_t n;
};

static int wlist_build(const struct key_search *k, struct wlist *w)
{
	w->op = malloc((k->n + 1) * sizeof(*w->op));
	w->suffix_min_ret = malloc((k->n + 1) * sizeof(*w->suffix_min_ret));
	w->n = 0;
	if (!w->op || !w->suffix_min_ret)
		return -ENOMEM;
	for (size_t i = 0; i < k->n; i++) { /* k->ops are in invocation order */
		const struct fl_hop *op = &k->h->ops[k->ops[i]];

		if (op->result == FL_HR_OK && (op->f == FL_HF_WRITE || op->f == FL_HF_CAS))
			w->op[w->n++] = k->ops[i];
	}
	for (size_t i = w->n; i-- > 0;) {
		uint64_t r = k->h->ops[w->op[i]].ret;

		w->suffix_min_ret[i] =
			i + 1 < w->n && w->suffix_min_ret[i + 1] < r ? w->suffix_min_ret[i + 1] : r;
	}
	return 0;
}

/* The first ok write invoked after t that completed before `before`, or -1. */
static int overwrite(const struct fl_history *h, const struct wlist *w, uint64_t t, uint64_t before)
{
	size_t lo = 0, hi = w->n;

	while (lo < hi) { /* the first write invoked after t */
		size_t mid = (lo + hi) / 2;

		if (h->ops[w->op[mid]].call > t)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (lo == w->n || w->suffix_min_ret[lo] >= before)
		return -1;
	for (size_t i = lo; i < w->n; i++)
		if (h->ops[w->op[i]].ret < before)
			return w->op[i];
	return -1;
}

/* One ok read r: an anomaly, or FL_ANOM_NONE. writer_of[v]: the op that
 * writes v (values are unique), or -1. */
static void read_anomaly(const struct key_search *k, const struct wlist *w, const int *writer_of,
			 int r, struct witness *out)
{
	const struct fl_hop *rd = &k->h->ops[r];
	const struct fl_hop *wr;
	int x;

	*out = (struct witness){ FL_ANOM_NONE, r, -1, -1 };
	if (rd->value == FL_HVAL_NULL) {
		if (w->n && (x = overwrite(k->h, w, 0, rd->call)) >= 0 &&
		    k->h->ops[x].call > 0) /* any write done before the read began */
			*out = (struct witness){ FL_ANOM_LOST_WRITE, r, -1, x };
		else if (w->n && k->h->ops[w->op[0]].call == 0 &&
			 k->h->ops[w->op[0]].ret < rd->call)
			*out = (struct witness){ FL_ANOM_LOST_WRITE, r, -1, w->op[0] };
		return;
	}
	if (writer_of[rd->value] < 0) {
		*out = (struct witness){ FL_ANOM_NEVER_WRITTEN, r, -1, -1 };
		return;
	}
	wr = &k->h->ops[writer_of[rd->value]];
	if (wr->call > rd->ret) {
		*out = (struct witness){ FL_ANOM_FUTURE_READ, r, writer_of[rd->value], -1 };
		return;
	}
	if (wr->ret == FL_HTIME_NEVER)
		return;
	x = overwrite(k->h, w, wr->ret, rd->call);
	if (x >= 0 && x != writer_of[rd->value])
		*out = (struct witness){ FL_ANOM_STALE_READ, r, writer_of[rd->value], x };
}

/* The anomaly whose read completes first (register model, unique values). */
static int find_anomaly(const struct key_search *k, struct witness *best)
{
	int *writer_of = malloc((k->h->n_values + 1) * sizeof(*writer_of));
	struct wlist w = { 0 };
	int ret = -ENOMEM;

	best->kind = FL_ANOM_NONE;
	if (!writer_of || wlist_build(k, &w))
		goto out;
	memset(writer_of, 0xff, (k->h->n_values + 1) * sizeof(*writer_of));
	for (size_t i = 0; i < k->n; i++) {
		const struct fl_hop *op = &k->h->ops[k->ops[i]];

		if ((op->f == FL_HF_WRITE || op->f == FL_HF_CAS) && op->value >= 0)
			writer_of[op->value] = k->ops[i];
	}
	for (size_t i = 0; i < k->n; i++) {
		const struct fl_hop *op = &k->h->ops[k->ops[i]];
		struct witness c;

		if (op->f != FL_HF_READ || op->result != FL_HR_OK)
			continue;
		read_anomaly(k, &w, writer_of, k->ops[i], &c);
		if (c.kind != FL_ANOM_NONE &&
		    (best->kind == FL_ANOM_NONE || op->ret < k->h->ops[best->read].ret))
			*best = c;
	}
	ret = 0;
out:
	free(w.op);
	free(w.suffix_min_ret);
	free(writer_of);
	return ret;
}

const char *fl_lin_anomaly_name(enum fl_lin_anomaly a)
{
	static const char *const names[] = { "", "stale read", "lost write",
					     "read of a value never written",
					     "read before its write began" };

	return names[a];
}

/* ---- keys in parallel --------------------------------------------------- */

struct job {
	struct fl_history *h;
	const struct fl_lin_opts *o;
	atomic_int next;
	int *verdict; /* per key: 1 ok, 0 not, -errno */
	uint64_t *states;
	size_t *n_ops;
	struct witness *anomaly; /* per key */
};

static int check_key(struct job *j, int key)
{
	struct key_search k = { .h = j->h,
				.model = j->o->model,
				.no_memo = j->o->no_memo,
				.no_prune = j->o->no_prune };
	int ret;

	k.max_states = j->o->max_states ? j->o->max_states : FL_LIN_MAX_STATES;
	ret = key_ops(j->h, key, j->o->model == FL_LIN_KV, &k);
	if (!ret && k.model == FL_LIN_KV && strtab_id(&k.kv, "") != 0)
		ret = -ENOMEM; /* id 0: the absent value */
	if (!ret && k.model == FL_LIN_REGISTER && k.unique)
		ret = find_anomaly(&k, &j->anomaly[key]);
	if (!ret && j->anomaly[key].kind != FL_ANOM_NONE)
		ret = 0; /* not linearizable, and we know why */
	else if (!ret)
		ret = check_until(&k, FL_HTIME_NEVER - 1);
	j->states[key] = k.states;
	j->n_ops[key] = k.n;
	strtab_free(&k.kv);
	free(k.ops);
	free(k.end);
	free(k.required);
	return ret;
}

static void *worker(void *arg)
{
	struct job *j = arg;
	int key;

	while ((key = atomic_fetch_add(&j->next, 1)) < (int)j->h->n_keys)
		j->verdict[key] = check_key(j, key);
	return NULL;
}

static int run_workers(struct job *j, int threads)
{
	pthread_t th[64];
	int n = 0;

	if (threads <= 0)
		threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (threads < 1)
		threads = 1;
	if (threads > 64)
		threads = 64;
	if (threads > (int)j->h->n_keys)
		threads = (int)j->h->n_keys;
	for (int i = 1; i < threads; i++)
		if (!pthread_create(&th[n], NULL, worker, j))
			n++;
	worker(j); /* this thread works too */
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	return 0;
}

/* Where key `key` fails: the shortest prefix and what was in flight. */
static int explain(struct job *j, int key, struct fl_lin_result *r)
{
	struct key_search k = { .h = j->h,
				.model = j->o->model,
				.no_memo = j->o->no_memo,
				.no_prune = j->o->no_prune };

	k.max_states = j->o->max_states ? j->o->max_states : FL_LIN_MAX_STATES;
	if (key_ops(j->h, key, k.model == FL_LIN_KV, &k) ||
	    (k.model == FL_LIN_KV && strtab_id(&k.kv, "") != 0)) {
		free(k.ops);
		free(k.end);
		free(k.required);
		return -ENOMEM;
	}
	if (j->anomaly[key].kind != FL_ANOM_NONE) {
		r->anomaly = j->anomaly[key].kind;
		r->writer = j->anomaly[key].writer;
		r->overwriter = j->anomaly[key].overwriter;
		r->bad_time = j->h->ops[j->anomaly[key].read].ret;
		r->bad_op = j->anomaly[key].read;
	} else {
		locate(&k, r);
	}
	r->concurrent = calloc(k.n + 1, sizeof(*r->concurrent));
	/* the window: from the earliest call of an op (with a known end) in
	 * flight at bad_time; ops of unknown outcome invoked before it are
	 * left out (they are in flight forever) */
	uint64_t from = r->bad_time;

	for (size_t i = 0; i < k.n; i++) {
		const struct fl_hop *op = &j->h->ops[k.ops[i]];

		if (op->ret != FL_HTIME_NEVER && op->call <= r->bad_time &&
		    op->ret >= r->bad_time && op->call < from)
			from = op->call;
	}
	for (size_t i = 0; r->concurrent && i < k.n; i++) {
		const struct fl_hop *op = &j->h->ops[k.ops[i]];

		if ((op->call <= r->bad_time && op->ret >= r->bad_time && op->call >= from) ||
		    (op->ret != FL_HTIME_NEVER && op->call <= r->bad_time &&
		     op->ret >= r->bad_time) ||
		    k.ops[i] == r->writer || k.ops[i] == r->overwriter)
			r->concurrent[r->n_concurrent++] = k.ops[i];
		if (op->ret == r->bad_time && r->anomaly == FL_ANOM_NONE)
			r->bad_op = k.ops[i];
		r->prefix_ops += op->call <= r->bad_time;
	}
	strtab_free(&k.kv);
	free(k.ops);
	free(k.end);
	free(k.required);
	return 0;
}

/* Every operation's f belongs to the model. */
static int fits(const struct fl_history *h, enum fl_lin_model m, struct fl_err *err)
{
	for (size_t i = 0; i < h->n; i++) {
		enum fl_hf f = h->ops[i].f;
		bool reg = f == FL_HF_READ || f == FL_HF_WRITE || f == FL_HF_CAS;

		if (reg != (m == FL_LIN_REGISTER)) {
			fl_err_set(err,
				   "line %d: \"%s\" is not an operation of the %s model (use "
				   "--model %s)",
				   h->ops[i].line, fl_hf_name(f),
				   m == FL_LIN_REGISTER ? "register" : "kv",
				   reg ? "register" : "kv");
			return -EINVAL;
		}
	}
	return 0;
}

int fl_lin_check(struct fl_history *h, const struct fl_lin_opts *o, struct fl_lin_result *r,
		 struct fl_err *err)
{
	struct job j = { .h = h, .o = o };
	int ret;

	memset(r, 0, sizeof(*r));
	r->bad_key = r->bad_op = r->writer = r->overwriter = -1;
	r->n_keys = h->n_keys;
	ret = fits(h, o->model, err);
	if (ret)
		return ret;
	j.verdict = calloc(h->n_keys + 1, sizeof(*j.verdict));
	j.states = calloc(h->n_keys + 1, sizeof(*j.states));
	j.n_ops = calloc(h->n_keys + 1, sizeof(*j.n_ops));
	j.anomaly = calloc(h->n_keys + 1, sizeof(*j.anomaly));
	if (!j.verdict || !j.states || !j.n_ops || !j.anomaly)
		ret = -ENOMEM;
	if (!ret)
		run_workers(&j, o->threads);
	for (size_t key = 0; !ret && key < h->n_keys; key++) {
		r->states += j.states[key];
		r->n_ops += j.n_ops[key];
		if (j.verdict[key] == -E2BIG && r->verdict == FL_LIN_OK)
			r->verdict = FL_LIN_UNKNOWN;
		else if (j.verdict[key] < 0 && j.verdict[key] != -E2BIG)
			ret = j.verdict[key];
		else if (j.verdict[key] == 0 && r->bad_key < 0) {
			r->verdict = FL_LIN_BAD;
			r->bad_key = (int)key;
		}
	}
	if (!ret && r->bad_key >= 0)
		ret = explain(&j, r->bad_key, r);
	free(j.verdict);
	free(j.states);
	free(j.n_ops);
	free(j.anomaly);
	if (ret)
		fl_err_set(err, "checking: %s", strerror(-ret));
	return ret;
}

void fl_lin_result_free(struct fl_lin_result *r)
{
	free(r->concurrent);
	r->concurrent = NULL;
}

int fl_lin_model_parse(const char *text, enum fl_lin_model *m, struct fl_err *err)
{
	if (!strcmp(text, "register"))
		*m = FL_LIN_REGISTER;
	else if (!strcmp(text, "kv"))
		*m = FL_LIN_KV;
	else {
		fl_err_set(err, "--model %s: unknown model (use register or kv)", text);
		return -EINVAL;
	}
	return 0;
}
