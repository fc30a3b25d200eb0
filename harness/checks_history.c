// SPDX-License-Identifier: MIT
/* Checks over a run's history (ops.jsonl, the operations with f):
 *   linearizable  fallacy check linearizable's verdict (register or kv);
 *   stale-reads   reads that returned a value older than an acknowledged
 *                 write that completed before the read began (or nothing
 *                 after one): a write W ok, W ended before the read began,
 *                 and W began after the write of what was read had ended;
 *   lost-writes   acknowledged writes that a final read (one that began
 *                 after the last heal) does not see: it returned nothing,
 *                 or a value whose write had ended before W began.
 * Values are taken as unique per write (fallacy's {{value}}); a read of a
 * value nobody wrote is left to linearizable. Each lists the offending
 * operations (summary.json, report.html). */
#include "checks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "json.h"
#include "lin.h"

#define MAX_LISTED 6 /* offending cases listed (each with its operations) */

static bool is_read(const struct fl_hop *op)
{
	return (op->f == FL_HF_READ || op->f == FL_HF_GET) && op->result == FL_HR_OK;
}

static bool is_write(const struct fl_hop *op)
{
	return op->f == FL_HF_WRITE || op->f == FL_HF_PUT || op->f == FL_HF_CAS;
}

/* A value as JSON: the history keeps "n5", "sabc", "btrue", "znull". */
static void value_json(struct fl_out *o, const char *key, const char *v)
{
	if (v[0] == 's')
		fl_out_str(o, key, v + 1);
	else if (v[0] == 'z')
		fl_out_null(o, key);
	else
		fl_out_raw(o, key, v + 1);
}

/* One offending operation into res (JSON and text), while they fit. */
static void list_op(const struct fl_history *h, const struct fl_run_data *rd, int i,
		    const char *why, struct fl_check_result *res)
{
	const struct fl_hop *op = &h->ops[i];
	const char *v = fl_history_value(h, op->value), *key = h->keys[op->key];
	size_t jl = strlen(res->offending), tl = strlen(res->offending_text);
	struct fl_out o = { .json = true, .compact = true };
	char *buf = NULL, t0[32] = "";
	size_t len = 0;
	double s = (double)(op->call - rd->start_ns) / 1e9;

	o.f = open_memstream(&buf, &len);
	if (!o.f)
		return;
	fl_out_open(&o, "", '{');
	fl_out_str(&o, "why", why);
	fl_out_u64(&o, "line", (uint64_t)op->line);
	fl_out_u64(&o, "process", (uint64_t)op->process);
	fl_out_str(&o, "f", fl_hf_name(op->f));
	key += key[0] != 0; /* keys are kept typed like values: "sr1" */
	if (key[0])
		fl_out_str(&o, "key", key);
	if (op->f == FL_HF_CAS) {
		fl_out_open(&o, "value", '[');
		value_json(&o, "", fl_history_value(h, op->expect));
		value_json(&o, "", v);
		fl_out_close(&o, ']');
	} else if (!(op->f == FL_HF_READ || op->f == FL_HF_GET) || op->result == FL_HR_OK) {
		value_json(&o, "value", v);
	}
	fl_out_str(&o, "type",
		   op->result == FL_HR_OK   ? "ok" :
		   op->result == FL_HR_FAIL ? "fail" :
					      "info");
	fl_out_u64(&o, "start_ns", op->call);
	if (op->ret != FL_HTIME_NEVER)
		fl_out_u64(&o, "end_ns", op->ret);
	fl_out_close(&o, '}');
	fclose(o.f);
	if (rd->start_ns && op->call >= rd->start_ns)
		snprintf(t0, sizeof(t0), " at %.3fs", s);
	if (buf && jl + len + 3 < sizeof(res->offending))
		snprintf(res->offending + jl, sizeof(res->offending) - jl, "%s%s", jl ? "," : "[",
			 buf);
	snprintf(res->offending_text + tl, sizeof(res->offending_text) - tl,
		 "%s: process %d %s %s %s%s (ops.jsonl:%d)\n", why, op->process, fl_hf_name(op->f),
		 key[0] ? key : "-", v[0] == 'z' ? "null" : v + 1, t0, op->line);
	free(buf);
}

static void close_list(struct fl_check_result *res)
{
	size_t jl = strlen(res->offending);

	if (jl)
		snprintf(res->offending + jl, sizeof(res->offending) - jl, "]");
}

/* The write of each value (interned id -> op index, -1: none). */
static int *writers(const struct fl_history *h)
{
	int *w = malloc((h->n_values + 1) * sizeof(*w));

	if (!w)
		return NULL;
	for (size_t i = 0; i <= h->n_values; i++)
		w[i] = -1;
	for (size_t i = 0; i < h->n; i++)
		if (is_write(&h->ops[i]) && h->ops[i].value >= 0)
			w[h->ops[i].value] = (int)i;
	return w;
}

/* Does read r miss acknowledged write w: w completed before r began, and
 * r returned nothing or a value whose write ended before w began? */
static bool misses(const struct fl_history *h, const int *wr, int r, int w)
{
	const struct fl_hop *rd = &h->ops[r], *op = &h->ops[w];
	int src;

	if (op->result != FL_HR_OK || op->key != rd->key || op->ret >= rd->call)
		return false;
	if (rd->value < 0)
		return true; /* nothing, after an acknowledged write */
	src = wr[rd->value];
	if (src < 0 || src == w)
		return false; /* a value nobody wrote: linearizable's to judge */
	return h->ops[src].ret != FL_HTIME_NEVER && h->ops[src].ret < op->call;
}

/* stale-reads: every ok read that misses some acknowledged write. */
static size_t stale_reads(const struct fl_history *h, const int *wr, const struct fl_run_data *rd,
			  struct fl_check_result *res)
{
	size_t n = 0;

	for (size_t r = 0; r < h->n; r++) {
		int miss = -1;

		if (!is_read(&h->ops[r]))
			continue;
		for (size_t w = 0; w < h->n && h->ops[w].call < h->ops[r].call && miss < 0; w++)
			if (is_write(&h->ops[w]) && misses(h, wr, (int)r, (int)w))
				miss = (int)w;
		if (miss < 0)
			continue;
		if (n++ < MAX_LISTED) {
			list_op(h, rd, (int)r, "stale read", res);
			list_op(h, rd, miss, "newer write it missed", res);
			if (h->ops[r].value >= 0 && wr[h->ops[r].value] >= 0)
				list_op(h, rd, wr[h->ops[r].value], "write of the value read", res);
		}
	}
	return n;
}

/* When the final reads begin: after the last heal (or the last fault's
 * end); 0 without faults. */
static uint64_t final_from(const struct fl_run_data *rd)
{
	uint64_t t = 0;

	for (size_t i = 0; i < rd->n_heals; i++)
		if (rd->heals[i] > t)
			t = rd->heals[i];
	for (size_t i = 0; i < rd->n_spans; i++)
		if (rd->spans[i].end_ns > t && rd->spans[i].healed)
			t = rd->spans[i].end_ns;
	return t;
}

/* lost-writes: acknowledged writes some final read misses. *finals: the
 * final reads there were. */
static size_t lost_writes(const struct fl_history *h, const int *wr, const struct fl_run_data *rd,
			  size_t *finals, struct fl_check_result *res)
{
	uint64_t from = final_from(rd);
	size_t n = 0;

	*finals = 0;
	for (size_t r = 0; r < h->n; r++)
		*finals += is_read(&h->ops[r]) && h->ops[r].call >= from;
	for (size_t w = 0; w < h->n; w++) {
		int miss = -1;

		if (!is_write(&h->ops[w]) || h->ops[w].result != FL_HR_OK)
			continue;
		for (size_t r = 0; r < h->n && miss < 0; r++)
			if (is_read(&h->ops[r]) && h->ops[r].call >= from &&
			    misses(h, wr, (int)r, (int)w))
				miss = (int)r;
		if (miss < 0)
			continue;
		if (n++ < MAX_LISTED) {
			list_op(h, rd, (int)w, "lost write", res);
			list_op(h, rd, miss, "final read that misses it", res);
		}
	}
	return n;
}

static void eval_linearizable(const struct fl_check *ck, struct fl_history *h,
			      const struct fl_run_data *rd, struct fl_check_result *res)
{
	struct fl_lin_opts o = { .model = ck->kv ? FL_LIN_KV : FL_LIN_REGISTER };
	struct fl_lin_result r;
	struct fl_err err = { "" };

	if (fl_lin_check(h, &o, &r, &err)) {
		snprintf(res->measured_text, sizeof(res->measured_text), "not checked");
		snprintf(res->detail, sizeof(res->detail), "%s", err.msg);
		return;
	}
	res->measured = r.verdict == FL_LIN_OK;
	res->pass = r.verdict == FL_LIN_OK;
	snprintf(res->measured_text, sizeof(res->measured_text), "%s",
		 r.verdict == FL_LIN_OK	 ? "linearizable" :
		 r.verdict == FL_LIN_BAD ? "not linearizable" :
					   "undecided (search limit)");
	snprintf(res->detail, sizeof(res->detail), "%zu operations, %zu keys%s%s", h->n, r.n_keys,
		 r.anomaly != FL_ANOM_NONE ? ", " : "",
		 r.anomaly != FL_ANOM_NONE ? fl_lin_anomaly_name(r.anomaly) : "");
	if (r.verdict == FL_LIN_BAD) {
		if (r.bad_op >= 0)
			list_op(h, rd, r.bad_op, "cannot be linearized", res);
		for (int k = 0; k < 2; k++) {
			int i = k ? r.overwriter : r.writer;

			if (i >= 0 && i != r.bad_op)
				list_op(h, rd, i, k ? "write completed before it" : "write of it",
					res);
		}
		for (size_t k = 0; k < r.n_concurrent && k < MAX_LISTED; k++)
			if (r.concurrent[k] != r.bad_op)
				list_op(h, rd, r.concurrent[k], "in flight then", res);
	}
	fl_lin_result_free(&r);
}

/* Read the history; false (res says why) when there is none to judge. */
static bool load(const struct fl_run_data *rd, struct fl_history *h, struct fl_check_result *res)
{
	char path[600];
	struct fl_err err = { "" };

	snprintf(path, sizeof(path), "%s/ops.jsonl", rd->dir);
	snprintf(res->measured_text, sizeof(res->measured_text), "no history");
	if (fl_history_load(path, h, &err)) {
		snprintf(res->detail, sizeof(res->detail), "%s", err.msg);
		return false;
	}
	if (!h->n) {
		snprintf(res->detail, sizeof(res->detail),
			 "no operation with f in ops.jsonl: the target's ops need f "
			 "(docs/consistency.md)");
		fl_history_free(h);
		return false;
	}
	return true;
}

void fl_check_eval_history(const struct fl_check *ck, const struct fl_run_data *rd,
			   struct fl_check_result *res)
{
	struct fl_history h;
	size_t n, finals = 0;
	int *wr;

	res->measured = NAN;
	if (rd->no_history[0]) {
		res->skipped = true;
		snprintf(res->measured_text, sizeof(res->measured_text), "skipped");
		snprintf(res->detail, sizeof(res->detail), "%s", rd->no_history);
		return;
	}
	if (!load(rd, &h, res))
		return;
	if (ck->kind == FL_CHECK_LINEARIZABLE) {
		eval_linearizable(ck, &h, rd, res);
		goto out;
	}
	wr = writers(&h);
	if (!wr) {
		snprintf(res->detail, sizeof(res->detail), "out of memory");
		goto out;
	}
	if (ck->kind == FL_CHECK_STALE_READS)
		n = stale_reads(&h, wr, rd, res);
	else
		n = lost_writes(&h, wr, rd, &finals, res);
	free(wr);
	res->measured = (double)n;
	snprintf(res->measured_text, sizeof(res->measured_text), "%zu", n);
	if (ck->kind == FL_CHECK_STALE_READS)
		snprintf(res->detail, sizeof(res->detail), "%zu operations", h.n);
	else
		snprintf(res->detail, sizeof(res->detail), "%zu operations, %zu final reads", h.n,
			 finals);
	res->pass = fl_bound_holds(&ck->bound, (double)n) &&
		    (ck->kind == FL_CHECK_STALE_READS || finals > 0);
	if (ck->kind == FL_CHECK_LOST_WRITES && !finals)
		snprintf(res->detail, sizeof(res->detail),
			 "no read began after the last heal: nothing to judge");
out:
	close_list(res);
	fl_history_free(&h);
}
