// SPDX-License-Identifier: MIT
/* The checks that read a run's packet captures (pcap/NODE.pcap, written by
 * --capture) through the injector's pcap walker:
 *   plaintext  no marker (a password, a key, a header) in any payload;
 *   secure     every TCP connection on the ports, captured from its SYN,
 *              starts with a TLS record in each direction that sent data. */
#include "checks.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture/capture.h"

#define MARKER_MAX 256
#define FLOW_SLOTS 4096 /* TCP flows whose last bytes are kept (plaintext) */
#define CONN_SLOTS 65536 /* TCP connections told apart (secure) */
#define TCP_SYN 0x02
#define TCP_ACK 0x10

/* The *.pcap files of dir in name order; malloc'ed, NULL-terminated. */
static int pcap_files(const char *dir, char ***out, size_t *n)
{
	struct dirent **ents = NULL;
	char **v;
	int k, cnt = 0;

	*out = NULL;
	*n = 0;
	k = scandir(dir, &ents, NULL, alphasort);
	if (k < 0)
		return -errno;
	v = calloc((size_t)k + 1, sizeof(*v));
	for (int i = 0; i < k; i++) {
		size_t l = strlen(ents[i]->d_name);

		if (v && l > 5 && !strcmp(ents[i]->d_name + l - 5, ".pcap") &&
		    asprintf(&v[cnt], "%s/%s", dir, ents[i]->d_name) >= 0)
			cnt++;
		free(ents[i]);
	}
	free(ents);
	if (!v)
		return -ENOMEM;
	*out = v;
	*n = (size_t)cnt;
	return 0;
}

static void files_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static bool port_on(const struct fl_check *ck, const struct fl_pcap_pkt *pk)
{
	if (!pk->has_ports)
		return false;
	if (!ck->n_ports)
		return true;
	for (size_t i = 0; i < ck->n_ports; i++)
		if (pk->sport == ck->ports[i] || pk->dport == ck->ports[i])
			return true;
	return false;
}

/* "+3.214s" after the timeline's start, or UTC time of day. */
static void when(const struct fl_run_data *rd, uint64_t ts, char *buf, size_t len)
{
	time_t sec = (time_t)(ts / 1000000000ull);
	struct tm tm;

	if (rd && rd->start_wall_ns) {
		snprintf(buf, len, "%+.3fs", ((double)ts - (double)rd->start_wall_ns) / 1e9);
		return;
	}
	gmtime_r(&sec, &tm);
	snprintf(buf, len, "%02d:%02d:%02d.%09lluZ", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned long long)(ts % 1000000000ull));
}

/* Which file and packet; "pcap/n1.pcap" rather than the whole path. */
static const char *short_name(const char *path)
{
	const char *s = strrchr(path, '/');

	while (s && s > path && s[-1] != '/')
		s--;
	return s ? s : path;
}

/* ---- plaintext --------------------------------------------------------- */

struct flow {
	bool used;
	int family;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint32_t next_seq;
	uint16_t tail_len;
	uint8_t tail[MARKER_MAX - 1];
};

struct plain {
	const struct fl_check *ck;
	const struct fl_run_data *rd;
	const char *file;
	struct flow *flows;
	size_t longest;
	uint64_t examined, hits;
	char first[256];
};

static struct flow *flow_of(struct plain *p, const struct fl_pcap_pkt *pk)
{
	uint32_t h = 2166136261u;
	const uint8_t *k[2] = { pk->src, pk->dst };

	for (int s = 0; s < 2; s++)
		for (int i = 0; i < 16; i++)
			h = (h ^ k[s][i]) * 16777619u;
	h = (h ^ pk->sport) * 16777619u;
	h = (h ^ pk->dport) * 16777619u;
	for (uint32_t i = 0; i < 8; i++) {
		struct flow *f = &p->flows[(h + i) % FLOW_SLOTS];

		if (!f->used) {
			memset(f, 0, sizeof(*f));
			f->used = true;
			f->family = pk->family;
			memcpy(f->src, pk->src, 16);
			memcpy(f->dst, pk->dst, 16);
			f->sport = pk->sport;
			f->dport = pk->dport;
			f->next_seq = pk->seq;
			return f;
		}
		if (f->family == pk->family && f->sport == pk->sport && f->dport == pk->dport &&
		    !memcmp(f->src, pk->src, 16) && !memcmp(f->dst, pk->dst, 16))
			return f;
	}
	return NULL; /* table crowded: no carry-over for this flow */
}

/* The marker found in the payload, or in the bytes a TCP flow carried just
 * before it (a marker split over two segments); NULL if none. */
static const char *find_marker(struct plain *p, const struct fl_pcap_pkt *pk, struct flow *f)
{
	uint8_t joined[2 * MARKER_MAX];
	size_t head;

	for (size_t i = 0; i < p->ck->n_markers; i++) {
		const char *m = p->ck->markers[i];
		size_t ml = strlen(m);

		if (memmem(pk->payload, pk->payload_len, m, ml))
			return m;
		if (!f || !f->tail_len || f->next_seq != pk->seq || ml < 2)
			continue;
		head = pk->payload_len < ml - 1 ? pk->payload_len : ml - 1;
		memcpy(joined, f->tail, f->tail_len);
		memcpy(joined + f->tail_len, pk->payload, head);
		if (memmem(joined, f->tail_len + head, m, ml))
			return m;
	}
	return NULL;
}

/* Keep the flow's last longest-1 bytes for the next segment. */
static void flow_advance(struct plain *p, const struct fl_pcap_pkt *pk, struct flow *f)
{
	size_t keep = p->longest ? p->longest - 1 : 0;
	uint8_t buf[2 * MARKER_MAX];
	size_t n;

	if (!f)
		return;
	if (f->next_seq != pk->seq)
		f->tail_len = 0; /* out of order or a gap: start afresh */
	if (pk->payload_len >= keep) {
		memcpy(f->tail, pk->payload + pk->payload_len - keep, keep);
		f->tail_len = (uint16_t)keep;
	} else {
		memcpy(buf, f->tail, f->tail_len);
		memcpy(buf + f->tail_len, pk->payload, pk->payload_len);
		n = f->tail_len + pk->payload_len;
		if (n > keep) {
			memmove(buf, buf + n - keep, keep);
			n = keep;
		}
		memcpy(f->tail, buf, n);
		f->tail_len = (uint16_t)n;
	}
	f->next_seq = pk->seq + pk->payload_len;
}

static int plain_packet(const struct fl_pcap_pkt *pk, void *arg)
{
	struct plain *p = arg;
	struct flow *f = NULL;
	const char *m;
	char flow[160], t[40];

	if (!pk->payload_len || !port_on(p->ck, pk))
		return 0;
	p->examined++;
	if (pk->proto == IPPROTO_TCP)
		f = flow_of(p, pk);
	m = find_marker(p, pk, f);
	if (pk->proto == IPPROTO_TCP)
		flow_advance(p, pk, f);
	if (!m)
		return 0;
	if (!p->hits++) {
		fl_pcap_flow(pk, flow, sizeof(flow));
		when(p->rd, pk->ts_ns, t, sizeof(t));
		snprintf(p->first, sizeof(p->first),
			 "'%.40s' in %.40s packet %llu at %.24s, %.100s", m, short_name(p->file),
			 (unsigned long long)pk->index, t, flow);
	}
	return 0;
}

static void eval_plaintext(const struct fl_check *ck, char **files, size_t n,
			   const struct fl_run_data *rd, struct fl_check_result *r)
{
	struct plain p = { .ck = ck, .rd = rd };
	int rc = 0;

	p.flows = calloc(FLOW_SLOTS, sizeof(*p.flows));
	for (size_t i = 0; i < ck->n_markers; i++)
		if (strlen(ck->markers[i]) > p.longest)
			p.longest = strlen(ck->markers[i]);
	for (size_t i = 0; p.flows && i < n && !rc; i++) {
		p.file = files[i];
		memset(p.flows, 0, FLOW_SLOTS * sizeof(*p.flows));
		rc = fl_pcap_walk(files[i], plain_packet, &p);
	}
	free(p.flows);
	r->measured = (double)p.hits;
	snprintf(r->measured_text, sizeof(r->measured_text), "%llu packets",
		 (unsigned long long)p.hits);
	if (!p.flows || rc)
		snprintf(r->detail, sizeof(r->detail), "could not read the captures (%s)",
			 p.flows ? "see the message above" : "out of memory");
	else if (!p.examined)
		snprintf(r->detail, sizeof(r->detail),
			 "no payload captured on these ports: nothing to judge");
	else if (p.hits)
		snprintf(r->detail, sizeof(r->detail), "first %.180s; %llu of %llu payloads",
			 p.first, (unsigned long long)p.hits, (unsigned long long)p.examined);
	else
		snprintf(r->detail, sizeof(r->detail), "none in %llu payloads of %zu capture(s)",
			 (unsigned long long)p.examined, n);
	r->pass = p.flows && !rc && p.examined && !p.hits;
}

/* ---- secure ------------------------------------------------------------ */

/* A TCP connection seen in one or more captures. Each direction's first
 * payload is looked at in every capture that holds it: the sender's
 * capture has it as sent, the receiver's as it arrived, after the wire's
 * faults (a tamper fault may have changed the very first byte). The
 * connection is TLS that way when any capture shows a record header. */
struct conn {
	int family;
	uint8_t a[16], b[16]; /* a: the client (sent the SYN) */
	uint16_t pa, pb;
	uint32_t isn;
	bool from_syn; /* its SYN was captured: its first payloads are judged */
	int file_seen[2]; /* 1 + the capture whose first payload was looked at */
	bool tls[2], plain[2]; /* [0] client -> server, [1] back */
	/* where a first payload was not a record header: for the report */
	int plain_file[2];
	uint64_t plain_pkt[2];
	uint8_t plain_head[2][8], plain_len[2];
	int next; /* chain in the endpoints hash */
};

struct sec {
	const struct fl_check *ck;
	char **files;
	int file; /* the capture being read */
	struct conn *conns;
	size_t n, cap;
	int *head; /* CONN_SLOTS chains, newest first */
	uint64_t judged, bad, unjudged;
	char first[256];
};

static uint32_t ends_hash(const struct fl_pcap_pkt *pk)
{
	uint32_t h = 2166136261u;

	/* the same for both directions: xor of the two ends */
	for (int i = 0; i < 16; i++)
		h = (h ^ (uint8_t)(pk->src[i] ^ pk->dst[i])) * 16777619u;
	return (h ^ (uint32_t)(pk->sport ^ pk->dport)) * 16777619u % CONN_SLOTS;
}

/* 0: the packet goes client -> server, 1: back, -1: another connection. */
static int conn_dir(const struct conn *c, const struct fl_pcap_pkt *pk)
{
	if (c->family != pk->family)
		return -1;
	if (c->pa == pk->sport && c->pb == pk->dport && !memcmp(c->a, pk->src, 16) &&
	    !memcmp(c->b, pk->dst, 16))
		return 0;
	if (c->pb == pk->sport && c->pa == pk->dport && !memcmp(c->b, pk->src, 16) &&
	    !memcmp(c->a, pk->dst, 16))
		return 1;
	return -1;
}

/* The newest connection between the packet's ends. */
static struct conn *conn_find(struct sec *s, const struct fl_pcap_pkt *pk, int *dir)
{
	for (int i = s->head[ends_hash(pk)]; i >= 0; i = s->conns[i].next) {
		*dir = conn_dir(&s->conns[i], pk);
		if (*dir >= 0)
			return &s->conns[i];
	}
	return NULL;
}

static struct conn *conn_new(struct sec *s, const struct fl_pcap_pkt *pk, bool from_syn)
{
	uint32_t h = ends_hash(pk);
	struct conn *c;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 1024;
		struct conn *nc = realloc(s->conns, cap * sizeof(*nc));

		if (!nc)
			return NULL;
		s->conns = nc;
		s->cap = cap;
	}
	c = &s->conns[s->n];
	memset(c, 0, sizeof(*c));
	c->family = pk->family;
	memcpy(c->a, pk->src, 16);
	memcpy(c->b, pk->dst, 16);
	c->pa = pk->sport;
	c->pb = pk->dport;
	c->isn = pk->seq;
	c->from_syn = from_syn;
	c->next = s->head[h];
	s->head[h] = (int)s->n++;
	return c;
}

/* A TLS record header: content type 20..24, version 3.0 .. 3.4. */
static bool tls_record(const uint8_t *p, uint32_t len)
{
	return len >= 1 && p[0] >= 20 && p[0] <= 24 && (len < 2 || p[1] == 3) &&
	       (len < 3 || p[2] <= 4);
}

/* The first payload of a direction in the current capture. */
static void look(struct sec *s, struct conn *c, int dir, const struct fl_pcap_pkt *pk)
{
	c->file_seen[dir] = s->file + 1;
	if (tls_record(pk->payload, pk->payload_len)) {
		c->tls[dir] = true;
		return;
	}
	if (c->plain[dir])
		return;
	c->plain[dir] = true;
	c->plain_file[dir] = s->file;
	c->plain_pkt[dir] = pk->index;
	c->plain_len[dir] = (uint8_t)(pk->payload_len < 8 ? pk->payload_len : 8);
	memcpy(c->plain_head[dir], pk->payload, c->plain_len[dir]);
}

static int sec_packet(const struct fl_pcap_pkt *pk, void *arg)
{
	struct sec *s = arg;
	struct conn *c;
	int dir = 0;
	bool syn = (pk->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;

	if (pk->proto != IPPROTO_TCP || !port_on(s->ck, pk))
		return 0;
	c = conn_find(s, pk, &dir);
	if (syn && (!c || dir != 0 || c->isn != pk->seq)) /* the same SYN in another file */
		c = conn_new(s, pk, true), dir = 0;
	else if (!c)
		c = conn_new(s, pk, false), dir = 0;
	if (!c)
		return -ENOMEM;
	if (pk->payload_len && c->file_seen[dir] != s->file + 1)
		look(s, c, dir, pk);
	return 0;
}

/* "pcap/n2.pcap packet 12, 198.18.0.3:40914 -> 198.18.0.2:2379 tcp, starts
 * with 50 52 49 20" */
static void describe(struct sec *s, const struct conn *c, int dir)
{
	struct fl_pcap_pkt pk = { .family = c->family, .proto = IPPROTO_TCP, .has_ports = true };
	char flow[160], hex[40] = "";
	size_t n = 0;

	memcpy(pk.src, dir ? c->b : c->a, 16);
	memcpy(pk.dst, dir ? c->a : c->b, 16);
	pk.sport = dir ? c->pb : c->pa;
	pk.dport = dir ? c->pa : c->pb;
	fl_pcap_flow(&pk, flow, sizeof(flow));
	for (int i = 0; i < c->plain_len[dir]; i++)
		n += (size_t)snprintf(hex + n, sizeof(hex) - n, "%s%02x", i ? " " : "",
				      c->plain_head[dir][i]);
	snprintf(s->first, sizeof(s->first),
		 "%.40s packet %llu, %.100s, starts with %.30s: no TLS record",
		 short_name(s->files[c->plain_file[dir]]), (unsigned long long)c->plain_pkt[dir],
		 flow, hex);
}

/* A connection is plain when a direction's first payload is no record
 * header in every capture that holds it. */
static void verdicts(struct sec *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct conn *c = &s->conns[i];
		bool bad = false;

		if (!c->file_seen[0] && !c->file_seen[1])
			continue; /* no payload: nothing to judge */
		if (!c->from_syn) {
			s->unjudged++; /* began before the capture */
			continue;
		}
		s->judged++;
		for (int dir = 0; dir < 2 && !bad; dir++) {
			bad = c->plain[dir] && !c->tls[dir];
			if (bad && !s->bad)
				describe(s, c, dir);
		}
		s->bad += bad;
	}
}

static void eval_secure(const struct fl_check *ck, char **files, size_t n,
			struct fl_check_result *r)
{
	struct sec s = { .ck = ck, .files = files };
	int rc = 0;

	s.head = malloc(CONN_SLOTS * sizeof(*s.head));
	for (size_t i = 0; s.head && i < CONN_SLOTS; i++)
		s.head[i] = -1;
	for (size_t i = 0; s.head && i < n && !rc; i++) {
		s.file = (int)i;
		rc = fl_pcap_walk(files[i], sec_packet, &s);
	}
	if (s.head && !rc)
		verdicts(&s);
	r->measured = (double)s.bad;
	snprintf(r->measured_text, sizeof(r->measured_text), "%llu of %llu connections",
		 (unsigned long long)s.bad, (unsigned long long)s.judged);
	if (!s.head || rc)
		snprintf(r->detail, sizeof(r->detail), "could not read the captures (%s)",
			 s.head && rc != -ENOMEM ? "see the message above" : "out of memory");
	else if (s.bad)
		snprintf(r->detail, sizeof(r->detail), "not TLS: %.200s", s.first);
	else if (!s.judged)
		snprintf(r->detail, sizeof(r->detail),
			 "no TCP connection with data on these ports was captured from its "
			 "start: nothing to judge (%llu started before the capture)",
			 (unsigned long long)s.unjudged);
	else
		snprintf(r->detail, sizeof(r->detail),
			 "every connection captured from its start opens with TLS records (%llu "
			 "started before the capture, not judged)",
			 (unsigned long long)s.unjudged);
	r->pass = s.head && !rc && s.judged && !s.bad;
	free(s.head);
	free(s.conns);
}

void fl_check_eval_capture(const struct fl_check *ck, const char *pcap_dir,
			   const struct fl_run_data *rd, struct fl_check_result *res)
{
	char **files = NULL;
	size_t n = 0;

	memset(res, 0, sizeof(*res));
	res->ck = ck;
	res->measured = NAN;
	snprintf(res->measured_text, sizeof(res->measured_text), "n/a");
	if (pcap_files(pcap_dir, &files, &n) || !n) {
		snprintf(res->detail, sizeof(res->detail),
			 "no capture in %s (the run must capture: fallacy run --capture)",
			 short_name(pcap_dir));
		files_free(files, n);
		return;
	}
	if (ck->kind == FL_CHECK_PLAINTEXT)
		eval_plaintext(ck, files, n, rd, res);
	else
		eval_secure(ck, files, n, res);
	files_free(files, n);
}

void fl_check_eval_captures(const struct fl_check *ck, const struct fl_run_data *rd,
			    struct fl_check_result *res)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/pcap", rd->dir[0] ? rd->dir : ".");
	fl_check_eval_capture(ck, path, rd, res);
}
