// SPDX-License-Identifier: MIT
/* The herd's keys, its reconnect policies, herd.jsonl and the statistics
 * over it (herd.h). */
#include "herd.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checks.h"
#include "json.h"
#include "parse.h"
#include "yaml.h"

static const char *const backoff_names[] = { "none", "exponential", "jitter", NULL };

const char *fl_backoff_name(enum fl_backoff b)
{
	return backoff_names[b];
}

static const char *const proto_names[] = { "line", "http", "postgres", NULL };

const char *fl_herd_proto_name(enum fl_herd_proto p)
{
	return proto_names[p];
}

static int parse_reconnect(const struct fl_ydoc *d, const struct fl_ynode *v, struct fl_herd *h,
			   struct fl_err *err)
{
	static const char *const keys[] = { "backoff", "base", "max", NULL };
	const char *b = NULL;
	int i;

	if (fl_yexpect(d, v, FL_Y_MAP, "'reconnect'", err) ||
	    fl_ycheck_keys(d, v, "'reconnect'", keys, err) ||
	    fl_yget_str(d, v, "backoff", false, &b, err) ||
	    fl_yget_duration(d, v, "base", false, &h->base_ns, err) ||
	    fl_yget_duration(d, v, "max", false, &h->max_ns, err))
		return -EINVAL;
	for (i = 0; b && backoff_names[i] && strcmp(backoff_names[i], b); i++)
		;
	if (b && !backoff_names[i])
		return fl_yerr(err, d, fl_ymap_get(v, "backoff"),
			       "unknown backoff '%s' (use none, exponential or jitter)", b);
	h->backoff = b ? (enum fl_backoff)i : FL_BACKOFF_NONE;
	if (!h->base_ns || h->max_ns < h->base_ns)
		return fl_yerr(err, d, v, "'base' must be > 0 and 'max' at least 'base'");
	return 0;
}

static int herd_word(const struct fl_ydoc *d, const struct fl_ynode *v, const char *key, char *out,
		     size_t len, struct fl_err *err)
{
	const char *s = NULL;

	if (fl_yget_str(d, v, key, false, &s, err))
		return -EINVAL;
	if (s && (!s[0] || strlen(s) >= len))
		return fl_yerr(err, d, fl_ymap_get(v, key), "'%s' must be 1 to %zu characters", key,
			       len - 1);
	if (s)
		snprintf(out, len, "%s", s);
	return 0;
}

int fl_herd_parse(const struct fl_ydoc *d, const struct fl_ynode *v, struct fl_herd *h,
		  struct fl_err *err)
{
	static const char *const keys[] = { "clients", "from",	    "to",    "every",
					    "timeout", "reconnect", "phase", NULL };
	const char *phase = NULL;
	const struct fl_ynode *rc = fl_ymap_get(v, "reconnect");
	uint64_t clients = 0;

	*h = (struct fl_herd){ .on = true,
			       .every_ns = 100 * 1000000ULL,
			       .timeout_ns = 1000 * 1000000ULL,
			       .base_ns = 100 * 1000000ULL,
			       .max_ns = 5000 * 1000000ULL,
			       .line = v->line,
			       .col = v->col };
	snprintf(h->from, sizeof(h->from), "rest");
	snprintf(h->to, sizeof(h->to), "leader");
	if (fl_yexpect(d, v, FL_Y_MAP, "'herd'", err) ||
	    fl_ycheck_keys(d, v, "'herd'", keys, err) ||
	    fl_yget_u64(d, v, "clients", true, 1, FL_HERD_MAX_CLIENTS, &clients, err) ||
	    herd_word(d, v, "from", h->from, sizeof(h->from), err) ||
	    herd_word(d, v, "to", h->to, sizeof(h->to), err) ||
	    fl_yget_duration(d, v, "every", false, &h->every_ns, err) ||
	    fl_yget_duration(d, v, "timeout", false, &h->timeout_ns, err) ||
	    fl_yget_str(d, v, "phase", false, &phase, err))
		return -EINVAL;
	if (phase && strcmp(phase, "tick") && strcmp(phase, "random"))
		return fl_yerr(err, d, fl_ymap_get(v, "phase"),
			       "unknown phase '%s' (use tick or random)", phase);
	h->random_phase = phase && !strcmp(phase, "random");
	if (h->every_ns < 1000000 || h->timeout_ns < 1000000)
		return fl_yerr(err, d, v, "'every' and 'timeout' must be at least 1ms");
	h->clients = (unsigned int)clients;
	return rc ? parse_reconnect(d, rc, h, err) : 0;
}

int fl_therd_parse(const struct fl_ydoc *d, const struct fl_ynode *v, struct fl_therd *t,
		   struct fl_err *err)
{
	static const char *const keys[] = { "port", "protocol", "hello", "request", "user", NULL };
	const char *proto = NULL;
	uint64_t port = 0;
	int k;

	*t = (struct fl_therd){ .on = true };
	if (fl_yexpect(d, v, FL_Y_MAP, "'herd'", err) ||
	    fl_ycheck_keys(d, v, "'herd'", keys, err) ||
	    fl_yget_u64(d, v, "port", true, 1, 65535, &port, err) ||
	    fl_yget_str(d, v, "protocol", false, &proto, err) ||
	    herd_word(d, v, "hello", t->hello, sizeof(t->hello), err) ||
	    herd_word(d, v, "request", t->request, sizeof(t->request), err) ||
	    herd_word(d, v, "user", t->user, sizeof(t->user), err))
		return -EINVAL;
	if (!t->request[0])
		return fl_yerr(err, d, v, "'herd' needs 'request': the line a client sends");
	if (strpbrk(t->hello, "\r\n") || strpbrk(t->request, "\r\n"))
		return fl_yerr(err, d, v, "'hello' and 'request' are one line each");
	for (k = 0; proto && proto_names[k] && strcmp(proto_names[k], proto); k++)
		;
	if (proto && !proto_names[k])
		return fl_yerr(err, d, fl_ymap_get(v, "protocol"),
			       "unknown protocol '%s' (use line, http or postgres)", proto);
	t->proto = proto ? (enum fl_herd_proto)k : FL_HERD_LINE;
	if (t->proto == FL_HERD_HTTP && (t->hello[0] || !strchr(t->request, ' ')))
		return fl_yerr(err, d, v,
			       "protocol http: 'request' is METHOD PATH (GET /health), no "
			       "'hello'");
	if ((t->proto == FL_HERD_POSTGRES) != !!t->user[0] ||
	    (t->proto == FL_HERD_POSTGRES && t->hello[0]))
		return fl_yerr(err, d, v,
			       "'user' goes with protocol postgres, and it needs one (its "
			       "startup message), no 'hello'");
	t->port = (unsigned int)port;
	return 0;
}

void fl_herd_print(const struct fl_herd *h, FILE *f)
{
	char e[32], t[32], b[32], m[32];

	fl_format_duration(h->every_ns, e, sizeof(e));
	fl_format_duration(h->timeout_ns, t, sizeof(t));
	fl_format_duration(h->base_ns, b, sizeof(b));
	fl_format_duration(h->max_ns, m, sizeof(m));
	fprintf(f, "herd: {clients: %u, from: ", h->clients);
	fl_json_string(f, h->from);
	fputs(", to: ", f);
	fl_json_string(f, h->to);
	fprintf(f,
		", every: %s, timeout: %s, phase: %s, reconnect: {backoff: %s, base: %s, max: "
		"%s}}\n",
		e, t, h->random_phase ? "random" : "tick", fl_backoff_name(h->backoff), b, m);
}

uint64_t fl_backoff_delay(enum fl_backoff b, uint64_t base, uint64_t max, unsigned int n,
			  uint64_t rnd)
{
	uint64_t d = base;

	if (b == FL_BACKOFF_NONE)
		return base;
	for (unsigned int i = 0; i < n && d < max; i++)
		d *= 2;
	if (d > max)
		d = max;
	return b == FL_BACKOFF_JITTER ? rnd % (d + 1) : d;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

double fl_herd_max_share(uint64_t *t, size_t n, uint64_t w, uint64_t *at)
{
	size_t best = 0, j = 0;

	*at = 0;
	if (!n)
		return 0;
	qsort(t, n, sizeof(*t), cmp_u64);
	/* a fullest window can always start at one of the times */
	for (size_t i = 0; i < n; i++) {
		while (j < n && t[j] - t[i] < w)
			j++;
		if (j - i > best) {
			best = j - i;
			*at = t[i];
		}
	}
	return (double)best / (double)n;
}

static int num_at(const char *line, const char *key, uint64_t *v)
{
	const char *p = strstr(line, key);
	char *end;

	if (!p)
		return -EINVAL;
	p += strlen(key);
	errno = 0;
	*v = strtoull(p, &end, 10);
	return errno || end == p ? -EINVAL : 0;
}

int fl_herd_rec_parse(const char *line, struct fl_herd_rec *r)
{
	const char *node = strstr(line, "\"node\":\""), *ev = strstr(line, "\"ev\":\"");
	uint64_t client;
	size_t len;

	memset(r, 0, sizeof(*r));
	if (!node || !ev || num_at(line, "\"client\":", &client) ||
	    num_at(line, "\"start_ns\":", &r->start_ns) ||
	    num_at(line, "\"end_ns\":", &r->end_ns) || client >= FL_HERD_MAX_CLIENTS ||
	    r->end_ns < r->start_ns)
		return -EINVAL;
	node += 8;
	len = strcspn(node, "\"");
	if (!len || len >= sizeof(r->node) || node[len] != '"')
		return -EINVAL;
	memcpy(r->node, node, len);
	r->client = (unsigned int)client;
	ev += 6;
	if (!strncmp(ev, "connect\"", 8))
		r->connect = true;
	else if (strncmp(ev, "request\"", 8))
		return -EINVAL;
	if (strstr(line, "\"ok\":true"))
		r->ok = true;
	else if (!strstr(line, "\"ok\":false"))
		return -EINVAL;
	return 0;
}

/* Not fl_jsonl_each: herd.jsonl is ours, in one fixed shape, tens of
 * thousands of lines a run, and its last line may be cut short by a herd
 * process killed mid-write; lines that are not records are skipped. */
int fl_herd_load(const char *file, struct fl_herd_rec **out, size_t *n, struct fl_err *err)
{
	struct fl_herd_rec *v = NULL, *nv;
	size_t cap = 0, lcap = 0;
	char *line = NULL;
	FILE *f = fopen(file, "re");
	int ret = 0;

	*out = NULL;
	*n = 0;
	if (!f) {
		ret = -errno;
		fl_err_set(err, "%s: %s", file, strerror(errno));
		return ret;
	}
	while (getline(&line, &lcap, f) > 0) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				fl_err_set(err, "%s: out of memory", file);
				ret = -ENOMEM;
				break;
			}
			v = nv;
		}
		if (!fl_herd_rec_parse(line, &v[*n]))
			(*n)++;
	}
	free(line);
	fclose(f);
	if (ret) {
		free(v);
		*n = 0;
		return ret;
	}
	*out = v;
	return 0;
}

/* Records by client, then by start time. */
static int cmp_rec(const void *a, const void *b)
{
	const struct fl_herd_rec *x = a, *y = b;

	if (x->client != y->client)
		return x->client < y->client ? -1 : 1;
	return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

int fl_herd_recovery_attempts(const struct fl_herd_rec *r, size_t n, uint64_t t, uint64_t **out,
			      size_t *n_out)
{
	struct fl_herd_rec *s = NULL;
	uint64_t *v = NULL;
	size_t k = 0, m = 0;
	bool done = false;

	*out = NULL;
	*n_out = 0;
	for (size_t i = 0; i < n; i++)
		m += r[i].connect && r[i].start_ns >= t;
	if (!m)
		return 0;
	s = malloc(m * sizeof(*s));
	v = malloc(m * sizeof(*v));
	if (!s || !v) {
		free(s);
		free(v);
		return -ENOMEM;
	}
	for (size_t i = 0, j = 0; i < n; i++)
		if (r[i].connect && r[i].start_ns >= t)
			s[j++] = r[i];
	qsort(s, m, sizeof(*s), cmp_rec);
	for (size_t i = 0; i < m; i++) {
		/* after a client's first success, its later attempts are not
		 * of this recovery */
		if (!i || s[i].client != s[i - 1].client)
			done = false;
		if (!done)
			v[k++] = s[i].start_ns;
		done = done || s[i].ok;
	}
	free(s);
	*out = v;
	*n_out = k;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Percentiles 50 and 99 of the latencies of r[0..n) that are connects
 * (ok ones) or requests, into p50 and p99 (NAN: none). */
static void percentiles(const struct fl_herd_rec *r, size_t n, bool connects, double *lat,
			double *p50, double *p99)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (connects ? r[i].connect && r[i].ok : !r[i].connect)
			lat[k++] = (double)(r[i].end_ns - r[i].start_ns) / 1e6;
	*p50 = *p99 = NAN;
	if (!k)
		return;
	qsort(lat, k, sizeof(*lat), cmp_double);
	*p50 = fl_percentile(lat, k, 50);
	*p99 = fl_percentile(lat, k, 99);
}

static int cmp_start_rec(const void *a, const void *b)
{
	const struct fl_herd_rec *x = a, *y = b;

	return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

int fl_herd_buckets(const struct fl_herd_rec *r, size_t n, uint64_t t0, uint64_t t_end,
		    struct fl_herd_bucket **out, size_t *n_out)
{
	size_t nb =
		t_end > t0 ? (size_t)((t_end - t0 + FL_HERD_BUCKET_NS - 1) / FL_HERD_BUCKET_NS) : 0;
	struct fl_herd_bucket *b = calloc(nb ? nb : 1, sizeof(*b));
	double *lat = malloc((n ? n : 1) * sizeof(*lat));
	struct fl_herd_rec *s = malloc((n ? n : 1) * sizeof(*s));
	size_t k = 0;

	if (!b || !lat || !s) {
		free(b);
		free(lat);
		free(s);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		size_t j;

		if (r[i].start_ns < t0 || r[i].start_ns >= t_end)
			continue;
		s[k++] = r[i];
		j = (size_t)((r[i].start_ns - t0) / FL_HERD_BUCKET_NS);
		if (r[i].connect) {
			b[j].connects++;
			b[j].connects_ok += r[i].ok;
		} else {
			b[j].requests++;
			b[j].requests_ok += r[i].ok;
		}
	}
	qsort(s, k, sizeof(*s), cmp_start_rec);
	for (size_t j = 0, i = 0; j < nb; j++) {
		size_t e = i;

		while (e < k && s[e].start_ns < t0 + (j + 1) * FL_HERD_BUCKET_NS)
			e++;
		percentiles(s + i, e - i, false, lat, &b[j].p50_ms, &b[j].p99_ms);
		percentiles(s + i, e - i, true, lat, &b[j].connect_p50_ms, &b[j].connect_p99_ms);
		i = e;
	}
	free(lat);
	free(s);
	*out = b;
	*n_out = nb;
	return 0;
}

/* The Content-Length of headers h[0..n) (0 without one); -1 if malformed
 * or more than max. */
static long content_length(const char *h, size_t n, size_t max)
{
	for (size_t i = 0; i + 2 < n; i++) {
		const char *l = h + i + 2;
		size_t rest = n - i - 2;
		long v = 0;
		size_t k = 15;

		if (h[i] != '\r' || h[i + 1] != '\n' || rest < 15 ||
		    strncasecmp(l, "content-length:", 15))
			continue;
		while (k < rest && (l[k] == ' ' || l[k] == '\t'))
			k++;
		if (k >= rest || l[k] < '0' || l[k] > '9')
			return -1;
		for (; k < rest && l[k] >= '0' && l[k] <= '9'; k++) {
			v = v * 10 + (l[k] - '0');
			if ((size_t)v > max)
				return -1;
		}
		return v;
	}
	return 0;
}

long fl_herd_http_reply(const char *buf, size_t len, size_t max)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);
	size_t head;
	long body;

	if (!end)
		return len >= max ? -1 : 0;
	head = (size_t)(end - buf) + 4;
	body = content_length(buf, head - 2, max);
	if (body < 0 || head + (size_t)body > max)
		return -1;
	return len >= head + (size_t)body ? (long)(head + (size_t)body) : 0;
}

int fl_herd_peak(const struct fl_herd_bucket *b, size_t n, uint64_t t0, uint64_t heal,
		 struct fl_herd_peak *p)
{
	size_t lo = heal > t0 ? (size_t)((heal - t0) / FL_HERD_BUCKET_NS) : 0;
	size_t hi = lo + FL_HERD_PEAK_NS / FL_HERD_BUCKET_NS;

	memset(p, 0, sizeof(*p));
	p->request_p99_ms = NAN;
	if (lo >= n)
		return -ENOENT;
	p->bucket = lo;
	for (size_t i = lo; i < n && i < hi; i++) {
		if (b[i].connects > b[p->bucket].connects)
			p->bucket = i;
		if (!isnan(b[i].p99_ms) && !(b[i].p99_ms <= p->request_p99_ms))
			p->request_p99_ms = b[i].p99_ms;
	}
	p->connects = b[p->bucket].connects;
	p->connects_ok = b[p->bucket].connects_ok;
	p->handshake_p99_ms = b[p->bucket].connect_p99_ms;
	return 0;
}

double fl_herd_base_p99(const struct fl_herd_bucket *b, size_t n, uint64_t t0, uint64_t first)
{
	double base = 0;

	for (size_t i = 1000000000ULL / FL_HERD_BUCKET_NS;
	     i < n && t0 + (i + 1) * FL_HERD_BUCKET_NS <= first; i++)
		if (!isnan(b[i].p99_ms))
			base = fmax(base, b[i].p99_ms);
	return base;
}

static void be32(char *p, uint32_t v)
{
	p[0] = (char)(v >> 24);
	p[1] = (char)(v >> 16);
	p[2] = (char)(v >> 8);
	p[3] = (char)v;
}

static uint32_t get_be32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

long fl_herd_pg_startup(char *buf, size_t len, const char *user)
{
	/* int32 length, int32 196608 (3.0), then name\0value\0 pairs and \0 */
	size_t u = strlen(user), n = 8 + 5 + u + 1 + 9 + u + 1 + 1;

	if (n > len)
		return -ENOSPC;
	be32(buf, (uint32_t)n);
	be32(buf + 4, 196608);
	memcpy(buf + 8, "user", 5);
	memcpy(buf + 13, user, u + 1);
	memcpy(buf + 14 + u, "database", 9);
	memcpy(buf + 23 + u, user, u + 1);
	buf[n - 1] = 0;
	return (long)n;
}

long fl_herd_pg_query(char *buf, size_t len, const char *sql)
{
	size_t q = strlen(sql), n = 1 + 4 + q + 1;

	if (n > len)
		return -ENOSPC;
	buf[0] = 'Q';
	be32(buf + 1, (uint32_t)(4 + q + 1));
	memcpy(buf + 5, sql, q + 1);
	return (long)n;
}

long fl_herd_pg_reply(const char *buf, size_t len, size_t max)
{
	size_t off = 0;

	while (off + 5 <= len) {
		uint32_t m = get_be32(buf + off + 1);

		if (m < 4 || off + 1 + (size_t)m > max)
			return -1;
		if (off + 1 + (size_t)m > len)
			return 0;
		if (buf[off] == 'E' || (buf[off] == 'R' && (m < 8 || get_be32(buf + off + 5))))
			return -1; /* an error, or a password wanted */
		if (buf[off] == 'Z')
			return (long)(off + 1 + m);
		off += 1 + (size_t)m;
	}
	return len >= max ? -1 : 0;
}
