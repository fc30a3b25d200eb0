// SPDX-License-Identifier: MIT
/* Transport cost of a run's operations: counters.jsonl samples and the
 * windows of summary.json (transport.h). */
#include "transport.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "json.h"
#include "parse.h"
#include "statsout.h"
#include "yaml.h"

const char *const fl_tmetric_names[] = { "bytes_per_op", "packets_per_op", "retransmits", "goodput",
					 NULL };

/* ---- counters.jsonl ------------------------------------------------------ */

static void print_total(struct fl_out *o, const struct fl_stats_total *t)
{
	fl_out_open(o, "total", '{');
	fl_out_u64(o, "packets", t->packets);
	fl_out_u64(o, "bytes", t->bytes);
	fl_out_u64(o, "payload", t->payload);
	fl_out_u64(o, "tcp_packets", t->tcp_packets);
	fl_out_u64(o, "tcp_payload", t->tcp_payload);
	fl_out_open(o, "tcp", '{');
	for (const struct fl_tcp_field *f = fl_tcp_fields; f->name; f++)
		fl_out_u64(o, f->name, fl_tcp_get(&t->tcp, f));
	fl_out_close(o, '}');
	fl_out_close(o, '}');
}

void fl_sample_write(FILE *f, const struct fl_stats *s, uint64_t wall_ns, const char *reason)
{
	struct fl_out o = { .f = f, .json = true };
	struct fl_stats_total t;

	fl_stats_totals(s, &t);
	fputc('{', f);
	fl_out_u64(&o, "mono_ns", s->mono_ns);
	fl_out_u64(&o, "wall_ns", wall_ns);
	fl_out_str(&o, "reason", reason);
	fl_out_u64(&o, "since_ns", s->since_ns);
	print_total(&o, &t);
	fl_stats_print(&o, s, true);
	fputs("}\n", f);
}

static uint64_t yu64(const struct fl_ynode *m, const char *key)
{
	double d = 0;

	fl_ynum(fl_ymap_get(m, key), &d);
	return d > 0 ? (uint64_t)d : 0;
}

static int sample_from(const struct fl_ynode *m, struct fl_sample *s)
{
	const struct fl_ynode *t = fl_ymap_get(m, "total"), *tcp;
	const struct fl_ynode *mono = fl_ymap_get(m, "mono_ns");
	char *end;

	memset(s, 0, sizeof(*s));
	if (!mono || mono->type != FL_Y_SCALAR || !t || t->type != FL_Y_MAP)
		return -EINVAL;
	s->mono_ns = strtoull(mono->text, &end, 10);
	s->tot.packets = yu64(t, "packets");
	s->tot.bytes = yu64(t, "bytes");
	s->tot.payload = yu64(t, "payload");
	s->tot.tcp_packets = yu64(t, "tcp_packets");
	s->tot.tcp_payload = yu64(t, "tcp_payload");
	tcp = fl_ymap_get(t, "tcp");
	for (const struct fl_tcp_field *f = fl_tcp_fields; tcp && f->name; f++)
		*(uint64_t *)((char *)&s->tot.tcp + f->off) = yu64(tcp, f->name);
	return *end ? -EINVAL : 0;
}

static int cmp_sample(const void *a, const void *b)
{
	const struct fl_sample *x = a, *y = b;

	return x->mono_ns < y->mono_ns ? -1 : x->mono_ns > y->mono_ns;
}

static int one_sample(void *arg, const struct fl_ydoc *d, struct fl_err *err)
{
	struct fl_run_data *rd = arg;
	struct fl_sample s, *v;

	if (sample_from(d->root, &s))
		return fl_yerr(err, d, d->root, "not a counters sample");
	v = realloc(rd->samples, (rd->n_samples + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	rd->samples = v;
	v[rd->n_samples++] = s;
	return 0;
}

int fl_samples_load(const char *file, struct fl_run_data *rd, struct fl_err *err)
{
	int ret = fl_jsonl_each(file, one_sample, rd, err);

	if (rd->n_samples)
		qsort(rd->samples, rd->n_samples, sizeof(rd->samples[0]), cmp_sample);
	return ret;
}

/* ---- counters at an instant ---------------------------------------------- */

#define N_COUNTERS 8

static void counters_of(const struct fl_stats_total *t, double *c)
{
	c[0] = (double)t->packets;
	c[1] = (double)t->bytes;
	c[2] = (double)t->payload;
	c[3] = (double)t->tcp_payload;
	c[4] = (double)t->tcp_packets;
	c[5] = (double)t->tcp.retrans_segs;
	c[6] = (double)t->tcp.rtos;
	c[7] = 0;
}

/* Linear between the samples around t; the first or last one outside them. */
static void counters_at(const struct fl_run_data *rd, uint64_t t, double *c)
{
	const struct fl_sample *s = rd->samples;
	size_t n = rd->n_samples, i;
	double a[N_COUNTERS], b[N_COUNTERS], f;

	memset(c, 0, N_COUNTERS * sizeof(*c));
	if (!n)
		return;
	if (t <= s[0].mono_ns) {
		counters_of(&s[0].tot, c);
		return;
	}
	for (i = 1; i < n && s[i].mono_ns < t; i++)
		;
	if (i == n) {
		counters_of(&s[n - 1].tot, c);
		return;
	}
	counters_of(&s[i - 1].tot, a);
	counters_of(&s[i].tot, b);
	f = s[i].mono_ns > s[i - 1].mono_ns ?
		    (double)(t - s[i - 1].mono_ns) / (double)(s[i].mono_ns - s[i - 1].mono_ns) :
		    1;
	for (int k = 0; k < N_COUNTERS; k++)
		c[k] = a[k] + (b[k] - a[k]) * f;
}

static bool in_parts(const struct fl_tparts *p, uint64_t t)
{
	for (size_t i = 0; i < p->n; i++)
		if (t >= p->a[i] && t < p->b[i])
			return true;
	return false;
}

static void metrics(struct fl_tcost *c)
{
	double rf = 0;

	c->v[FL_TM_BYTES_PER_OP] = c->ops_ok ? (double)c->bytes / c->ops_ok : NAN;
	c->v[FL_TM_PACKETS_PER_OP] = c->ops_ok ? (double)c->packets / c->ops_ok : NAN;
	/* the nodes' retransmitted segments among the TCP packets on the wire
	 * (loopback traffic is in the kernel's counters but not on the wire:
	 * the wire's count keeps local connections out of the share) */
	if (c->tcp_packets)
		rf = fmin(1, (double)c->retrans_segs / (double)c->tcp_packets);
	c->v[FL_TM_RETRANSMITS] = c->tcp_packets ? rf : NAN;
	/* goodput: payload that was not a retransmission (TCP's estimated
	 * from the share of retransmitted segments), over all bytes sent */
	c->v[FL_TM_GOODPUT] = c->bytes ? ((double)c->tcp_payload * (1 - rf) +
					  (double)(c->payload - c->tcp_payload)) /
						 (double)c->bytes :
					 NAN;
}

void fl_tcost_over(const struct fl_run_data *rd, const struct fl_tparts *parts,
		   const struct fl_check *ck, struct fl_tcost *c)
{
	double a[N_COUNTERS], b[N_COUNTERS], d[N_COUNTERS] = { 0 };

	c->start_ns = parts->n ? parts->a[0] : 0;
	c->end_ns = parts->n ? parts->b[parts->n - 1] : 0;
	c->seconds = 0;
	for (size_t i = 0; i < parts->n; i++) {
		counters_at(rd, parts->a[i], a);
		counters_at(rd, parts->b[i], b);
		for (int k = 0; k < N_COUNTERS; k++)
			d[k] += b[k] > a[k] ? b[k] - a[k] : 0;
		c->seconds += (parts->b[i] - parts->a[i]) / 1e9;
	}
	c->packets = (uint64_t)llround(d[0]);
	c->bytes = (uint64_t)llround(d[1]);
	c->payload = (uint64_t)llround(d[2]);
	c->tcp_payload = (uint64_t)llround(d[3]);
	c->tcp_packets = (uint64_t)llround(d[4]);
	c->retrans_segs = (uint64_t)llround(d[5]);
	c->rtos = (uint64_t)llround(d[6]);
	c->ops_ok = c->ops_all = 0;
	for (size_t i = 0; i < rd->n_ops; i++) {
		const struct fl_op *op = &rd->ops[i];

		if (!in_parts(parts, op->start_ns) || (ck && !fl_check_op_on(ck, op)))
			continue;
		c->ops_all++;
		c->ops_ok += op->status == FL_OP_OK;
	}
	metrics(c);
}

/* ---- windows ------------------------------------------------------------ */

static int add_window(struct fl_tcost **v, size_t *n, const char *name,
		      const struct fl_run_data *rd, const struct fl_tparts *p)
{
	struct fl_tcost *nv;

	if (!p->n)
		return 0;
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	memset(&nv[*n], 0, sizeof(nv[*n]));
	snprintf(nv[*n].name, sizeof(nv[*n].name), "%s", name);
	fl_tcost_over(rd, p, NULL, &nv[*n]);
	(*n)++;
	return 0;
}

static void part(struct fl_tparts *p, uint64_t a, uint64_t b)
{
	if (b > a && p->n < FL_TWIN_MAX_PARTS) {
		p->a[p->n] = a;
		p->b[p->n++] = b;
	}
}

uint64_t fl_tcost_end(const struct fl_run_data *rd)
{
	uint64_t last = rd->n_samples ? rd->samples[rd->n_samples - 1].mono_ns : 0;

	return last > rd->end_ns ? last : rd->end_ns;
}

int fl_tcost_windows(const struct fl_run_data *rd, struct fl_tcost **out, size_t *n)
{
	uint64_t first = rd->end_ns, last = rd->start_ns, end = fl_tcost_end(rd);
	struct fl_tparts p = { .n = 0 };
	bool healed = false;
	int ret = 0;

	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < rd->n_spans; i++) {
		first = rd->spans[i].start_ns < first ? rd->spans[i].start_ns : first;
		last = rd->spans[i].end_ns > last ? rd->spans[i].end_ns : last;
		healed |= rd->spans[i].healed;
	}
	part(&p, rd->start_ns, first);
	ret = add_window(out, n, "before", rd, &p);
	for (size_t i = 0; !ret && i < rd->n_spans; i++) {
		bool seen = false;

		for (size_t k = 0; k < i; k++)
			seen |= !strcmp(rd->spans[k].id, rd->spans[i].id);
		if (seen) /* applied again: one window with every span of the id */
			continue;
		p.n = 0;
		for (size_t k = i; k < rd->n_spans; k++)
			if (!strcmp(rd->spans[k].id, rd->spans[i].id))
				part(&p, rd->spans[k].start_ns, rd->spans[k].end_ns);
		ret = add_window(out, n, rd->spans[i].id, rd, &p);
	}
	p.n = 0;
	if (healed && last < rd->end_ns)
		part(&p, last, end);
	if (!ret)
		ret = add_window(out, n, "after", rd, &p);
	p.n = 0;
	part(&p, rd->start_ns, end);
	if (!ret)
		ret = add_window(out, n, "run", rd, &p);
	if (ret) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return ret;
}

void fl_tmetric_format(enum fl_tmetric m, double v, char *buf, size_t len)
{
	if (!isfinite(v)) {
		snprintf(buf, len, "n/a");
		return;
	}
	switch (m) {
	case FL_TM_BYTES_PER_OP:
		if (v >= 1024 * 1024)
			snprintf(buf, len, "%.2fmb", v / 1048576);
		else if (v >= 1024)
			snprintf(buf, len, "%.2fkb", v / 1024);
		else
			snprintf(buf, len, "%.0fb", v);
		break;
	case FL_TM_RETRANSMITS:
		snprintf(buf, len, "%.2f%%", v * 100);
		break;
	case FL_TM_GOODPUT:
		snprintf(buf, len, "%.3f", v);
		break;
	default:
		snprintf(buf, len, "%.1f", v);
	}
}

static void jnum(FILE *f, const char *key, double v)
{
	if (isfinite(v))
		fprintf(f, ", \"%s\": %.6g", key, v);
	else
		fprintf(f, ", \"%s\": null", key);
}

void fl_tcost_json(FILE *f, const struct fl_tcost *w, size_t n, const char *indent)
{
	fputs("{\"windows\": [", f);
	for (size_t i = 0; i < n; i++) {
		const struct fl_tcost *c = &w[i];

		fprintf(f, "%s\n%s  {\"window\": ", i ? "," : "", indent);
		fl_json_string(f, c->name);
		fprintf(f,
			", \"start_ns\": %" PRIu64 ", \"end_ns\": %" PRIu64 ", \"seconds\": %.3f"
			", \"ops_ok\": %" PRIu64 ", \"ops\": %" PRIu64 ", \"packets\": %" PRIu64
			", \"bytes\": %" PRIu64 ", \"payload\": %" PRIu64
			", \"tcp_packets\": %" PRIu64 ", \"retrans_segs\": %" PRIu64
			", \"rtos\": %" PRIu64,
			c->start_ns, c->end_ns, c->seconds, c->ops_ok, c->ops_all, c->packets,
			c->bytes, c->payload, c->tcp_packets, c->retrans_segs, c->rtos);
		for (int m = 0; m < FL_TM__MAX; m++)
			jnum(f,
			     m == FL_TM_RETRANSMITS ? "retransmitted_fraction" :
			     m == FL_TM_GOODPUT	    ? "goodput_ratio" :
						      fl_tmetric_names[m],
			     c->v[m]);
		fputc('}', f);
	}
	fprintf(f, "%s%s]}", n ? "\n" : "", n ? indent : "");
}
