// SPDX-License-Identifier: MIT
/* Probe runs as operations of a history: clients, process numbers, and
 * the members of a run that ended. */
#include "probehist.h"

#include <stdio.h>
#include <string.h>

size_t fl_clients_take(struct fl_clients *c)
{
	size_t k = 0;

	while (k + 1 < FL_CLIENTS_MAX && c->busy[k])
		k++;
	if (!c->process[k]) {
		pthread_mutex_lock(c->lock);
		c->process[k] = ++*c->next;
		pthread_mutex_unlock(c->lock);
	}
	c->busy[k] = true;
	return k;
}

void fl_clients_done(struct fl_clients *c, size_t k, bool unknown)
{
	if (k >= FL_CLIENTS_MAX)
		return;
	c->busy[k] = false;
	if (unknown)
		c->process[k] = 0; /* a new number at its next run */
}

void fl_first_line(char *s)
{
	s[strcspn(s, "\r\n")] = 0;
	for (; *s; s++) /* what a faulty wire delivered stays one JSON string */
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

void fl_probe_outcome(const struct fl_top *t, uint64_t seq, const char *key, enum fl_op_status st,
		      int code, const char *out, struct fl_op *op)
{
	if (t->uses_value)
		snprintf(op->value, sizeof(op->value), "%llu", (unsigned long long)seq);
	op->unknown = st == FL_OP_TIMEOUT;
	if (!t->f[0])
		return;
	snprintf(op->f, sizeof(op->f), "%s", t->f);
	snprintf(op->key, sizeof(op->key), "%s", key ? key : "");
	if (!strcmp(t->f, "read") || !strcmp(t->f, "get")) {
		/* a read that did not succeed read nothing: it failed */
		snprintf(op->value, sizeof(op->value), "%s", st == FL_OP_OK ? out : "");
		return;
	}
	if (!strcmp(t->f, "cas")) {
		snprintf(op->expect, sizeof(op->expect), "%s", out);
		/* the system answered: the compare did not match */
		if (st == FL_OP_FAIL && code == 1) {
			op->no_match = true;
			op->status = FL_OP_OK;
		}
	}
	if (st == FL_OP_FAIL && code != 1 && code != -1)
		op->unknown = true;
}
