// SPDX-License-Identifier: MIT
/* Printers of transport statistics (statsout.h). */
#include "statsout.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

double fl_tcp_retrans_fraction(const struct fl_tcp_stat *t)
{
	uint64_t all = t->out_segs + t->retrans_segs;

	return all ? (double)t->retrans_segs / (double)all : NAN;
}

/* A number with a printf format in text; JSON null when not finite. */
static void out_doublef(struct fl_out *o, const char *key, const char *fmt, double v)
{
	if (o->json)
		fl_out_double(o, key, v);
	else if (isfinite(v))
		fprintf(o->f, fmt, v);
	else
		fprintf(o->f, " %8s", "-");
}

static void print_io(struct fl_out *o, const char *key, const struct fl_pair_stat *io)
{
	fl_out_open(o, key, '{');
	fl_out_u64f(o, "packets", " %10" PRIu64, io->packets);
	fl_out_u64f(o, "bytes", " %12" PRIu64, io->bytes);
	fl_out_u64f(o, "payload", NULL, io->payload);
	fl_out_close(o, '}');
}

/* JSON only: every counter of the table. */
static void print_tcp(struct fl_out *o, const struct fl_tcp_stat *t)
{
	fl_out_open(o, "tcp", '{');
	for (const struct fl_tcp_field *f = fl_tcp_fields; f->name; f++)
		fl_out_u64(o, f->name, fl_tcp_get(t, f));
	fl_out_close(o, '}');
}

static const char node_head[] = "%-12s %10s %12s %10s %12s %9s %8s %8s %6s %6s %8s %7s\n";

static void node_text(struct fl_out *o, const struct fl_tcp_stat *t)
{
	fprintf(o->f, " %9" PRIu64 " %8" PRIu64, t->out_segs, t->retrans_segs);
	out_doublef(o, "", " %7.2f%%", 100 * fl_tcp_retrans_fraction(t));
	fprintf(o->f, " %6" PRIu64 " %6" PRIu64 " %8" PRIu64 " %7" PRIu64 "\n", t->rtos,
		t->loss_probes, t->sack_recovery, t->reorder);
}

static void print_nodes(struct fl_out *o, const struct fl_stats *s)
{
	struct fl_pair_stat tx, rx;

	if (!o->json)
		fprintf(o->f, node_head, "NODE", "SENT PKTS", "SENT BYTES", "RECV PKTS",
			"RECV BYTES", "TCP SEGS", "RETRANS", "RETRANS%", "RTOS", "TLPS", "SACKREC",
			"REORDER");
	fl_out_open(o, "nodes", '[');
	for (size_t i = 0; i < s->n_nodes; i++) {
		const struct fl_node_stat *n = &s->nodes[i];

		fl_stats_node_io(s, n->name, &tx, &rx);
		fl_out_open(o, "", '{');
		fl_out_strf(o, "node", "%-12s", n->name);
		print_io(o, "sent", &tx);
		print_io(o, "received", &rx);
		if (o->json) {
			print_tcp(o, &n->tcp);
			fl_out_double(o, "retrans_fraction", fl_tcp_retrans_fraction(&n->tcp));
		} else {
			node_text(o, &n->tcp);
		}
		fl_out_close(o, '}');
	}
	fl_out_close(o, ']');
}

static void print_pair_key(struct fl_out *o, const struct fl_pair_stat *p)
{
	char buf[16];

	fl_out_strf(o, "src", "%-12s", p->src);
	fl_out_strf(o, "dst", " %-12s", p->dst);
	if (o->json)
		fl_out_u64(o, "family", p->family);
	fl_out_strf(o, "proto", " %-8s",
		    fl_stats_proto_name(p->family, p->proto, buf, sizeof(buf)));
	if (!o->json)
		fprintf(o->f, " %-4s", p->family == 4 ? "ipv4" : p->family == 6 ? "ipv6" : "-");
}

static void print_pairs(struct fl_out *o, const struct fl_stats *s)
{
	if (!o->json)
		fprintf(o->f, "\n%-12s %-12s %-8s %-4s %10s %12s %12s\n", "SRC", "DST", "PROTO",
			"IP", "PACKETS", "BYTES", "PAYLOAD");
	fl_out_open(o, "pairs", '[');
	for (size_t i = 0; i < s->n_pairs; i++) {
		const struct fl_pair_stat *p = &s->pairs[i];

		fl_out_open(o, "", '{');
		print_pair_key(o, p);
		fl_out_u64f(o, "packets", " %10" PRIu64, p->packets);
		fl_out_u64f(o, "bytes", " %12" PRIu64, p->bytes);
		fl_out_u64f(o, "payload", " %12" PRIu64 "\n", p->payload);
		fl_out_close(o, '}');
	}
	fl_out_close(o, ']');
}

void fl_stats_print(struct fl_out *o, const struct fl_stats *s, bool pairs)
{
	print_nodes(o, s);
	if (pairs)
		print_pairs(o, s);
}

static void rate_io(struct fl_out *o, const char *bps, const char *pps,
		    const struct fl_pair_stat *io, double secs)
{
	out_doublef(o, bps, " %12.0f", io->bytes * 8 / secs);
	out_doublef(o, pps, " %9.0f", io->packets / secs);
}

void fl_stats_print_rates(struct fl_out *o, const struct fl_stats *d, double secs, bool pairs)
{
	struct fl_pair_stat tx, rx;

	if (!o->json)
		fprintf(o->f, "%-12s %12s %9s %12s %9s %9s %9s %6s\n", "NODE", "SENT BIT/S",
			"SENT P/S", "RECV BIT/S", "RECV P/S", "TCP SEG/S", "RETRANS/S", "RTO/S");
	fl_out_open(o, "nodes", '[');
	for (size_t i = 0; i < d->n_nodes; i++) {
		const struct fl_node_stat *n = &d->nodes[i];

		fl_stats_node_io(d, n->name, &tx, &rx);
		fl_out_open(o, "", '{');
		fl_out_strf(o, "node", "%-12s", n->name);
		rate_io(o, "sent_bps", "sent_pps", &tx, secs);
		rate_io(o, "recv_bps", "recv_pps", &rx, secs);
		out_doublef(o, "tcp_segs_per_s", " %9.0f", n->tcp.out_segs / secs);
		out_doublef(o, "retrans_per_s", " %9.1f", n->tcp.retrans_segs / secs);
		out_doublef(o, "rtos_per_s", " %6.1f", n->tcp.rtos / secs);
		if (!o->json)
			fputc('\n', o->f);
		fl_out_close(o, '}');
	}
	fl_out_close(o, ']');
	if (!pairs)
		return;
	if (!o->json)
		fprintf(o->f, "%-12s %-12s %-8s %-4s %12s %9s\n", "SRC", "DST", "PROTO", "IP",
			"BIT/S", "P/S");
	fl_out_open(o, "pairs", '[');
	for (size_t i = 0; i < d->n_pairs; i++) {
		const struct fl_pair_stat *p = &d->pairs[i];

		fl_out_open(o, "", '{');
		print_pair_key(o, p);
		out_doublef(o, "bps", " %12.0f", p->bytes * 8 / secs);
		out_doublef(o, "pps", " %9.0f", p->packets / secs);
		if (!o->json)
			fputc('\n', o->f);
		fl_out_close(o, '}');
	}
	fl_out_close(o, ']');
}
