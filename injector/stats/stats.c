// SPDX-License-Identifier: MIT
/* Transport statistics of a lab (stats.h): the data plane's pair counters
 * through the supervisor's "acct" request, each node's TCP counters from
 * its namespace, deltas and marks. */
#include "stats.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "lab/lab.h"
#include "parse.h"
#include "state/state.h"
#include "supervisor/session.h"

void fl_stats_free(struct fl_stats *s)
{
	free(s->pairs);
	free(s->nodes);
	memset(s, 0, sizeof(*s));
}

static struct fl_pair_stat *pair_add(struct fl_stats *s)
{
	struct fl_pair_stat *v = realloc(s->pairs, (s->n_pairs + 1) * sizeof(*v));

	if (!v)
		return NULL;
	s->pairs = v;
	memset(&v[s->n_pairs], 0, sizeof(*v));
	return &v[s->n_pairs++];
}

static struct fl_node_stat *node_add(struct fl_stats *s, const char *name)
{
	struct fl_node_stat *v = realloc(s->nodes, (s->n_nodes + 1) * sizeof(*v));

	if (!v)
		return NULL;
	s->nodes = v;
	memset(&v[s->n_nodes], 0, sizeof(*v));
	snprintf(v[s->n_nodes].name, sizeof(v->name), "%s", name);
	return &v[s->n_nodes++];
}

/* ---- text form ---------------------------------------------------------- */

#define TCP_FMT                                                                            \
	"%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 \
	" %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64

void fl_stats_format(const struct fl_stats *s, FILE *f)
{
	fprintf(f, "mono %" PRIu64 "\nsince %" PRIu64 "\n", s->mono_ns, s->since_ns);
	for (size_t i = 0; i < s->n_pairs; i++) {
		const struct fl_pair_stat *p = &s->pairs[i];

		fprintf(f, "pair %s %s %u %u %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", p->src, p->dst,
			p->family, p->proto, p->packets, p->bytes, p->payload);
	}
	for (size_t i = 0; i < s->n_nodes; i++) {
		const struct fl_tcp_stat *t = &s->nodes[i].tcp;

		fprintf(f, "tcp %s " TCP_FMT "\n", s->nodes[i].name, t->active_opens,
			t->passive_opens, t->in_segs, t->out_segs, t->retrans_segs, t->out_rsts,
			t->rtos, t->loss_probes, t->fast_retrans, t->sack_recovery,
			t->reno_recovery, t->reorder);
	}
}

static int parse_pair_line(const char *l, struct fl_stats *s)
{
	char src[FL_STATS_NAME_MAX], dst[FL_STATS_NAME_MAX];
	unsigned int fam, proto;
	unsigned long long v[3];
	struct fl_pair_stat *p;

	if (sscanf(l, "pair %15s %15s %u %u %llu %llu %llu", src, dst, &fam, &proto, &v[0], &v[1],
		   &v[2]) != 7 ||
	    fam > 255 || proto > 255)
		return -EPROTO;
	p = pair_add(s);
	if (!p)
		return -ENOMEM;
	snprintf(p->src, sizeof(p->src), "%s", src);
	snprintf(p->dst, sizeof(p->dst), "%s", dst);
	p->family = (uint8_t)fam;
	p->proto = (uint8_t)proto;
	p->packets = v[0];
	p->bytes = v[1];
	p->payload = v[2];
	return 0;
}

static int parse_tcp_line(const char *l, struct fl_stats *s)
{
	char name[FL_STATS_NAME_MAX];
	unsigned long long v[12];
	struct fl_node_stat *n;

	if (sscanf(l, "tcp %15s %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", name,
		   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10],
		   &v[11]) != 13)
		return -EPROTO;
	n = node_add(s, name);
	if (!n)
		return -ENOMEM;
	n->tcp = (struct fl_tcp_stat){ .active_opens = v[0],
				       .passive_opens = v[1],
				       .in_segs = v[2],
				       .out_segs = v[3],
				       .retrans_segs = v[4],
				       .out_rsts = v[5],
				       .rtos = v[6],
				       .loss_probes = v[7],
				       .fast_retrans = v[8],
				       .sack_recovery = v[9],
				       .reno_recovery = v[10],
				       .reorder = v[11] };
	return 0;
}

int fl_stats_parse(const char *text, struct fl_stats *s)
{
	const char *l = text;
	unsigned long long v;
	int err = 0;

	while (l && *l && !err) {
		if (!strncmp(l, "pair ", 5))
			err = parse_pair_line(l, s);
		else if (!strncmp(l, "tcp ", 4))
			err = parse_tcp_line(l, s);
		else if (sscanf(l, "mono %llu", &v) == 1)
			s->mono_ns = v;
		else if (sscanf(l, "since %llu", &v) == 1)
			s->since_ns = v;
		l = strchr(l, '\n');
		l = l ? l + 1 : NULL;
	}
	return err;
}

const char *fl_stats_proto_name(uint8_t family, uint8_t proto, char *buf, size_t len)
{
	if (family == 255)
		return "overflow";
	if (!family)
		return "non-ip";
	switch (proto) {
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 58:
		return "icmpv6";
	}
	snprintf(buf, len, "ip-%u", proto);
	return buf;
}

/* ---- reading ----------------------------------------------------------- */

static int read_pairs(const struct fl_target *t, struct fl_stats *s, bool *restarted,
		      struct fl_err *err)
{
	char *req[] = { "acct", NULL }, *out = NULL, *msg = NULL;
	int status, ret;

	if (!fl_session_alive(t)) {
		/* killed: a new supervisor replaces its program, counting from 0 */
		if (restarted)
			*restarted = true;
		if (fl_session_ensure(t)) {
			fl_err_set(err, "lab %s: its supervisor is not running and did not start",
				   t->lab);
			return -EIO;
		}
	}
	status = fl_fault_request(t, 1, req, false, &out, &msg);
	ret = status ? -EIO : fl_stats_parse(out ? out : "", s);
	if (status)
		fl_err_set(err, "%s", msg && *msg ? strtok(msg, "\n") : "the supervisor failed");
	else if (ret)
		fl_err_set(err, "lab %s: the supervisor's answer is garbled", t->lab);
	free(out);
	free(msg);
	return ret;
}

int fl_stats_read(const char *lab, struct fl_stats *out, bool *restarted, struct fl_err *err)
{
	struct fl_lab *l = NULL;
	struct fl_target t;
	int ret;

	memset(out, 0, sizeof(*out));
	if (restarted)
		*restarted = false;
	if (fl_target_from_session(lab, &t, err))
		return -EINVAL;
	if (fl_lab_load(lab, &l)) {
		fl_err_set(err, "no lab '%s' in %s (see fallacy lab list)", lab, fl_run_dir());
		return -ENOENT;
	}
	ret = read_pairs(&t, out, restarted, err);
	out->mono_ns = fl_clock_mono_ns();
	for (size_t i = 0; !ret && i < l->n_nodes; i++) {
		struct fl_node_stat *n = node_add(out, l->nodes[i].name);

		ret = n ? fl_tcp_read(l->nodes[i].netns, &n->tcp) : -ENOMEM;
		if (ret == -ENOENT) { /* it left the lab meanwhile (fallacy node remove) */
			out->n_nodes--;
			ret = 0;
		}
		if (ret)
			fl_err_set(err, "lab %s: reading the TCP counters of %s: %s", lab,
				   l->nodes[i].name, strerror(-ret));
	}
	fl_lab_free(l);
	if (ret)
		fl_stats_free(out);
	return ret;
}

/* ---- arithmetic ---------------------------------------------------------- */

static const struct fl_pair_stat *find_pair(const struct fl_stats *s, const struct fl_pair_stat *p)
{
	for (size_t i = 0; i < s->n_pairs; i++) {
		const struct fl_pair_stat *q = &s->pairs[i];

		if (q->family == p->family && q->proto == p->proto && !strcmp(q->src, p->src) &&
		    !strcmp(q->dst, p->dst))
			return q;
	}
	return NULL;
}

static uint64_t sub(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static void tcp_sub(struct fl_tcp_stat *d, const struct fl_tcp_stat *a, const struct fl_tcp_stat *b)
{
	for (const struct fl_tcp_field *f = fl_tcp_fields; f->name; f++)
		*(uint64_t *)((char *)d + f->off) = sub(fl_tcp_get(a, f), fl_tcp_get(b, f));
}

int fl_stats_delta(const struct fl_stats *now, const struct fl_stats *base, struct fl_stats *d)
{
	bool reset = now->since_ns != base->since_ns;

	memset(d, 0, sizeof(*d));
	d->mono_ns = now->mono_ns;
	d->since_ns = reset ? now->since_ns : base->mono_ns;
	for (size_t i = 0; i < now->n_pairs; i++) {
		const struct fl_pair_stat *p = &now->pairs[i],
					  *b = reset ? NULL : find_pair(base, p);
		struct fl_pair_stat *q = pair_add(d);

		if (!q)
			goto nomem;
		*q = *p;
		if (b) {
			q->packets = sub(p->packets, b->packets);
			q->bytes = sub(p->bytes, b->bytes);
			q->payload = sub(p->payload, b->payload);
		}
	}
	for (size_t i = 0; i < now->n_nodes; i++) {
		struct fl_node_stat *n = node_add(d, now->nodes[i].name);

		if (!n)
			goto nomem;
		n->tcp = now->nodes[i].tcp;
		for (size_t k = 0; k < base->n_nodes; k++)
			if (!strcmp(base->nodes[k].name, n->name))
				tcp_sub(&n->tcp, &now->nodes[i].tcp, &base->nodes[k].tcp);
	}
	return reset ? 1 : 0;
nomem:
	fl_stats_free(d);
	return -ENOMEM;
}

void fl_stats_totals(const struct fl_stats *s, struct fl_stats_total *t)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < s->n_pairs; i++) {
		const struct fl_pair_stat *p = &s->pairs[i];

		t->packets += p->packets;
		t->bytes += p->bytes;
		t->payload += p->payload;
		if (p->proto == 6 && (p->family == 4 || p->family == 6)) {
			t->tcp_packets += p->packets;
			t->tcp_payload += p->payload;
		}
	}
	for (size_t i = 0; i < s->n_nodes; i++)
		for (const struct fl_tcp_field *f = fl_tcp_fields; f->name; f++)
			*(uint64_t *)((char *)&t->tcp + f->off) += fl_tcp_get(&s->nodes[i].tcp, f);
}

void fl_stats_node_io(const struct fl_stats *s, const char *node, struct fl_pair_stat *sent,
		      struct fl_pair_stat *recv)
{
	memset(sent, 0, sizeof(*sent));
	memset(recv, 0, sizeof(*recv));
	for (size_t i = 0; i < s->n_pairs; i++) {
		const struct fl_pair_stat *p = &s->pairs[i];

		if (!strcmp(p->src, node)) {
			sent->packets += p->packets;
			sent->bytes += p->bytes;
			sent->payload += p->payload;
		}
		if (!strcmp(p->dst, node)) {
			recv->packets += p->packets;
			recv->bytes += p->bytes;
			recv->payload += p->payload;
		}
	}
}

/* ---- marks ----------------------------------------------------------------- */

static int mark_path(const char *lab, const char *name, char *buf, size_t len, struct fl_err *err)
{
	if (fl_validate_name("mark", name, 32, err))
		return -EINVAL;
	if (snprintf(buf, len, "%s/%s/mark-%s", fl_run_dir(), lab, name) >= (int)len) {
		fl_err_set(err, "mark %s: path too long", name);
		return -ENAMETOOLONG;
	}
	return 0;
}

static int mark_fill(FILE *f, const void *arg)
{
	fl_stats_format(arg, f);
	return 0;
}

int fl_stats_mark_save(const char *lab, const char *name, const struct fl_stats *s,
		       struct fl_err *err)
{
	char path[4096];
	int ret;

	ret = mark_path(lab, name, path, sizeof(path), err);
	if (ret)
		return ret;
	ret = fl_write_atomic(path, mark_fill, s);
	if (ret)
		fl_err_set(err, "mark %s: cannot write %s: %s", name, path, strerror(-ret));
	return ret;
}

int fl_stats_mark_load(const char *lab, const char *name, struct fl_stats *s, struct fl_err *err)
{
	char path[4096], *text = NULL;
	size_t cap = 0;
	FILE *f;
	int ret;

	memset(s, 0, sizeof(*s));
	ret = mark_path(lab, name, path, sizeof(path), err);
	if (ret)
		return ret;
	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		fl_err_set(err, "lab %s has no mark '%s' (set one with fallacy stats %s --mark %s)",
			   lab, name, lab, name);
		return ret;
	}
	ret = getdelim(&text, &cap, '\0', f) < 0 ? -EIO : fl_stats_parse(text, s);
	fclose(f);
	free(text);
	if (ret) {
		fl_err_set(err, "mark %s of lab %s: %s is unreadable", name, lab, path);
		fl_stats_free(s);
	}
	return ret;
}
