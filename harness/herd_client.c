// SPDX-License-Identifier: MIT
/* `fallacy __herd`: all of one node's herd clients in one epoll loop
 * (herd.h). Started by the run inside the node's namespace with:
 *   FALLACY_HERD_CONF  "NODE FIRST CLIENTS IP PORT EVERY TIMEOUT BACKOFF
 *                       BASE MAX SEED T0 T_END PROTOCOL PHASE" (times in
 *                       ns, CLOCK_MONOTONIC; PROTOCOL line, http or
 *                       postgres; PHASE tick or random)
 *   FALLACY_HERD_HELLO, FALLACY_HERD_REQUEST  one line each (CRLF added);
 *                       postgres: the user, and the query
 *   FALLACY_HERD_OUT   the file its records go to
 * Every ready client sends its request at each tick of one grid
 * (multiples of EVERY), as clients driven by one timer do: a cut that
 * times their requests out hits them all at once, and what they do next
 * is their backoff's doing. With PHASE random each client has its own
 * offset on the grid (from the seed), as independent clients do.
 * A server that closes a connection after its reply (HTTP/1.0) is no
 * failure: the client connects again at its next tick and sends its
 * request as soon as it is connected (a connection per request). */
#include "herd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "fallacy/analyzer.h"

enum cstate { C_WAIT, C_CONNECTING, C_HELLO, C_READY, C_BUSY };

struct client {
	int fd;
	enum cstate st;
	uint64_t deadline; /* C_WAIT: when to connect; else when it times out */
	uint64_t t_start; /* of the connect or request in flight */
	unsigned int fails; /* connect attempts failed in a row */
	char *buf; /* http, postgres: the reply so far */
	size_t have;
	uint64_t off; /* its offset on the grid (phase random; 0: tick) */
	bool eager; /* the server closes after each reply: send once connected */
};

#define HTTP_REPLY_MAX 8192

struct herd {
	char node[24];
	unsigned int first, n;
	struct sockaddr_storage sa;
	socklen_t salen;
	uint64_t every, timeout, base, max, rng, t0, t_end;
	enum fl_backoff backoff;
	enum fl_herd_proto proto;
	bool random_phase;
	char hello[FL_HERD_LINE_MAX + 64], request[FL_HERD_LINE_MAX + 128];
	size_t hello_len, request_len;
	struct client *c;
	int ep;
	FILE *out;
};

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t rng_next(struct herd *h)
{
	uint64_t z = (h->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void record(struct herd *h, unsigned int i, bool connect, bool ok, const char *why)
{
	fprintf(h->out,
		"{\"node\":\"%s\",\"client\":%u,\"ev\":\"%s\",\"start_ns\":%llu,\"end_ns\":%llu,"
		"\"ok\":%s%s%s%s}\n",
		h->node, h->first + i, connect ? "connect" : "request",
		(unsigned long long)h->c[i].t_start, (unsigned long long)fl_clock_mono_ns(),
		ok ? "true" : "false", why ? ",\"err\":\"" : "", why ? why : "", why ? "\"" : "");
}

/* Client c's next time on the grid after now. */
static uint64_t next_slot(const struct herd *h, const struct client *c, uint64_t now)
{
	uint64_t t = now > c->off ? now - c->off : 0;

	return (t / h->every + 1) * h->every + c->off;
}

/* The connection is gone (at `when`: a timeout's due time, else now):
 * close it, and connect again after the backoff. Timers count from when
 * they were due, not from when the loop got to them, so clients on one
 * schedule stay on it however late a busy machine runs the loop. */
static void broken_at(struct herd *h, unsigned int i, uint64_t when)
{
	struct client *c = &h->c[i];

	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->have = 0;
	c->st = C_WAIT;
	c->deadline = when + fl_backoff_delay(h->backoff, h->base, h->max, c->fails, rng_next(h));
}

static void broken(struct herd *h, unsigned int i)
{
	broken_at(h, i, fl_clock_mono_ns());
}

static void start_connect(struct herd *h, unsigned int i)
{
	struct client *c = &h->c[i];
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN, .data.u32 = i };
	int one = 1;

	c->t_start = fl_clock_mono_ns();
	/* from when it was due, but never less than half the timeout from
	 * now (a loop that ran late by more than that) */
	c->deadline += h->timeout;
	if (c->deadline < c->t_start + h->timeout / 2)
		c->deadline = c->t_start + h->timeout / 2;
	c->st = C_CONNECTING;
	c->fd = socket(h->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		record(h, i, true, false, "socket");
		c->fails++;
		broken(h, i);
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((connect(c->fd, (struct sockaddr *)&h->sa, h->salen) && errno != EINPROGRESS) ||
	    epoll_ctl(h->ep, EPOLL_CTL_ADD, c->fd, &ev)) {
		record(h, i, true, false, "refused");
		c->fails++;
		broken(h, i);
	}
}

static void send_line(struct herd *h, unsigned int i, const char *s, size_t len)
{
	struct client *c = &h->c[i];

	if (send(c->fd, s, len, MSG_NOSIGNAL) != (ssize_t)len) {
		if (c->st == C_BUSY)
			record(h, i, false, false, "send");
		broken(h, i);
	}
}

/* Send client i's request, due at `due` (its timeout counts from then). */
static void send_request(struct herd *h, unsigned int i, uint64_t due)
{
	struct client *c = &h->c[i];

	c->st = C_BUSY;
	c->t_start = fl_clock_mono_ns();
	c->deadline = due + h->timeout;
	send_line(h, i, h->request, h->request_len);
}

/* Connected (and greeted): a client whose server closes after each reply
 * connected to send, and sends now; the others wait for their tick. */
static void ready(struct herd *h, unsigned int i)
{
	struct client *c = &h->c[i];
	uint64_t now = fl_clock_mono_ns();

	if (c->eager) {
		send_request(h, i, now);
		return;
	}
	c->st = C_READY;
	c->deadline = next_slot(h, c, now);
}

static void connected(struct herd *h, unsigned int i)
{
	struct client *c = &h->c[i];
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };
	int e = 0;
	socklen_t l = sizeof(e);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &l) || e) {
		record(h, i, true, false, e == ECONNREFUSED ? "refused" : "error");
		c->fails++;
		broken(h, i);
		return;
	}
	record(h, i, true, true, NULL);
	c->fails = 0;
	epoll_ctl(h->ep, EPOLL_CTL_MOD, c->fd, &ev);
	if (!h->hello_len) {
		ready(h, i);
		return;
	}
	c->st = C_HELLO;
	c->deadline = fl_clock_mono_ns() + h->timeout;
	send_line(h, i, h->hello, h->hello_len);
}

/* gcc 12 -fanalyzer false positive (fallacy/analyzer.h): c->buf belongs to the client; fl_herd_client_main frees it */
FL_LEAK_FP_BEGIN
/* Bytes for client i: is its reply complete? 1 yes, 0 not yet, -1 the
 * connection is done (an error, a reply too big or malformed), -2 the
 * server closed it. */
static int take(struct herd *h, struct client *c)
{
	char line[4096];
	ssize_t len;
	long done;

	if (h->proto == FL_HERD_LINE) {
		len = recv(c->fd, line, sizeof(line), 0);
		if (len < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		return len < 0 ? -1 : !len ? -2 : memchr(line, '\n', (size_t)len) != NULL;
	}
	if (!c->buf && !(c->buf = malloc(HTTP_REPLY_MAX)))
		return -1;
	len = recv(c->fd, c->buf + c->have, HTTP_REPLY_MAX - c->have, 0);
	if (len < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (len <= 0)
		return len ? -1 : -2;
	c->have += (size_t)len;
	done = h->proto == FL_HERD_HTTP ? fl_herd_http_reply(c->buf, c->have, HTTP_REPLY_MAX) :
					  fl_herd_pg_reply(c->buf, c->have, HTTP_REPLY_MAX);
	if (done > 0)
		c->have = 0;
	return done > 0 ? 1 : (int)done;
}
FL_LEAK_FP_END

/* A reply (or the end of the connection) for client i. */
static void readable(struct herd *h, unsigned int i)
{
	struct client *c = &h->c[i];
	int done = take(h, c);

	if (done == -2 && c->st == C_READY) { /* closed after its reply */
		close(c->fd);
		c->fd = -1;
		c->have = 0;
		c->eager = true;
		c->st = C_WAIT;
		c->deadline = next_slot(h, c, fl_clock_mono_ns());
		return;
	}
	if (done < 0) {
		if (c->st == C_BUSY)
			record(h, i, false, false, "closed");
		broken(h, i);
		return;
	}
	if (!done)
		return;
	if (c->st == C_BUSY)
		record(h, i, false, true, NULL);
	if (c->st == C_BUSY) {
		c->st = C_READY;
		c->deadline = next_slot(h, c, fl_clock_mono_ns());
	} else if (c->st == C_HELLO) {
		ready(h, i);
	}
}

static void on_event(struct herd *h, const struct epoll_event *ev)
{
	unsigned int i = ev->data.u32;

	if (i >= h->n || h->c[i].fd < 0)
		return;
	if (h->c[i].st == C_CONNECTING)
		connected(h, i);
	else
		readable(h, i);
}

/* Deadlines due at now: connects to start, and timeouts. */
static void timers(struct herd *h, uint64_t now)
{
	for (unsigned int i = 0; i < h->n; i++) {
		struct client *c = &h->c[i];

		if ((c->st == C_READY && !h->random_phase) || c->deadline > now)
			continue;
		switch (c->st) {
		case C_READY: /* phase random: its own tick */
			send_request(h, i, c->deadline);
			break;
		case C_WAIT:
			start_connect(h, i);
			break;
		case C_CONNECTING:
			record(h, i, true, false, "timeout");
			c->fails++;
			broken_at(h, i, c->deadline);
			break;
		case C_BUSY:
			record(h, i, false, false, "timeout");
			broken_at(h, i, c->deadline);
			break;
		default: /* no answer to the hello */
			broken(h, i);
		}
	}
}

/* The tick: every ready client sends its request. */
static void tick(struct herd *h, uint64_t now)
{
	for (unsigned int i = 0; i < h->n; i++) {
		struct client *c = &h->c[i];

		if (c->st == C_READY)
			send_request(h, i, now);
	}
}

static int wait_ms(const struct herd *h, uint64_t now, uint64_t next_tick)
{
	uint64_t next = next_tick;

	for (unsigned int i = 0; i < h->n; i++)
		if ((h->c[i].st != C_READY || h->random_phase) && h->c[i].deadline < next)
			next = h->c[i].deadline;
	return next <= now ? 0 : (int)((next - now + 999999) / 1000000);
}

static void loop(struct herd *h)
{
	struct epoll_event ev[256];
	uint64_t next_tick = (h->t0 / h->every + 1) * h->every, flushed = 0;

	while (!stop) {
		uint64_t now = fl_clock_mono_ns();
		int n;

		if (now >= h->t_end)
			break;
		if (now >= next_tick && !h->random_phase) {
			tick(h, next_tick); /* timeouts count from the tick */
			next_tick = (now / h->every + 1) * h->every;
		}
		timers(h, now);
		n = epoll_wait(h->ep, ev, 256, wait_ms(h, fl_clock_mono_ns(), next_tick));
		for (int k = 0; k < n; k++)
			on_event(h, &ev[k]);
		if (now - flushed > 1000000000ULL) {
			fflush(h->out);
			flushed = now;
		}
	}
}

static int line_env(const char *name, char *buf, size_t *len)
{
	const char *v = getenv(name);

	*len = 0;
	if (!v || strlen(v) >= FL_HERD_LINE_MAX)
		return v ? -EINVAL : 0;
	if (v[0])
		*len = (size_t)snprintf(buf, FL_HERD_LINE_MAX + 2, "%s\r\n", v);
	return 0;
}

/* http: "GET /health" as an HTTP/1.1 request; postgres: the startup
 * message for the user (hello) and the query as a simple Query. */
static int framed(struct herd *h, const char *ip, unsigned int port)
{
	char line[FL_HERD_LINE_MAX + 2], user[FL_HERD_LINE_MAX + 2];
	long n;

	memcpy(line, h->request, h->request_len - 2);
	line[h->request_len - 2] = 0;
	if (h->proto == FL_HERD_HTTP) {
		h->request_len = (size_t)snprintf(h->request, sizeof(h->request),
						  "%s HTTP/1.1\r\nHost: %s:%u\r\n\r\n", line, ip,
						  port);
		h->hello_len = 0;
		return 0;
	}
	if (h->hello_len < 3)
		return -EINVAL;
	memcpy(user, h->hello, h->hello_len - 2);
	user[h->hello_len - 2] = 0;
	n = fl_herd_pg_startup(h->hello, sizeof(h->hello), user);
	if (n < 0)
		return -EINVAL;
	h->hello_len = (size_t)n;
	n = fl_herd_pg_query(h->request, sizeof(h->request), line);
	if (n < 0)
		return -EINVAL;
	h->request_len = (size_t)n;
	return 0;
}

static int setup(struct herd *h)
{
	const char *conf = getenv("FALLACY_HERD_CONF"), *out = getenv("FALLACY_HERD_OUT");
	char ip[64], bo[16], proto[16], phase[8];
	unsigned long long v[9];
	unsigned int port;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&h->sa;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&h->sa;

	if (!conf || !out ||
	    sscanf(conf, "%23s %u %u %63s %u %llu %llu %15s %llu %llu %llu %llu %llu %15s %7s",
		   h->node, &h->first, &h->n, ip, &port, &v[0], &v[1], bo, &v[2], &v[3], &v[4],
		   &v[5], &v[6], proto, phase) != 15 ||
	    !h->n || h->n > FL_HERD_MAX_CLIENTS || !v[0] || port > 65535 ||
	    line_env("FALLACY_HERD_HELLO", h->hello, &h->hello_len) ||
	    line_env("FALLACY_HERD_REQUEST", h->request, &h->request_len) || !h->request_len)
		return -EINVAL;
	h->proto = !strcmp(proto, "http")     ? FL_HERD_HTTP :
		   !strcmp(proto, "postgres") ? FL_HERD_POSTGRES :
						FL_HERD_LINE;
	h->random_phase = !strcmp(phase, "random");
	if (h->proto != FL_HERD_LINE && framed(h, ip, port))
		return -EINVAL;
	h->every = v[0];
	h->timeout = v[1];
	h->backoff = !strcmp(bo, "jitter")	? FL_BACKOFF_JITTER :
		     !strcmp(bo, "exponential") ? FL_BACKOFF_EXPONENTIAL :
						  FL_BACKOFF_NONE;
	h->base = v[2];
	h->max = v[3];
	h->rng = v[4];
	h->t0 = v[5];
	h->t_end = v[6];
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		h->salen = sizeof(*s4);
	} else if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		h->salen = sizeof(*s6);
	} else {
		return -EINVAL;
	}
	h->out = fopen(out, "ae");
	return h->out ? 0 : -errno;
}

int fl_herd_client_main(void)
{
	struct herd h = { .ep = -1 };
	struct rlimit rl;
	int ret = setup(&h);

	if (ret) {
		pr_err("__herd: bad or missing FALLACY_HERD_* environment (internal; started by "
		       "fallacy run)");
		return ret;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < h.n + 64ULL) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	h.c = calloc(h.n, sizeof(*h.c));
	h.ep = epoll_create1(EPOLL_CLOEXEC);
	if (!h.c || h.ep < 0) {
		ret = -ENOMEM;
		goto out;
	}
	for (unsigned int i = 0; i < h.n; i++) {
		uint64_t off = h.random_phase ? rng_next(&h) % h.every : 0;

		h.c[i] = (struct client){
			.fd = -1, .st = C_WAIT, .deadline = h.t0 + off, .off = off
		};
	}
	loop(&h);
out:
	for (unsigned int i = 0; h.c && i < h.n; i++) {
		if (h.c[i].fd >= 0)
			close(h.c[i].fd);
		free(h.c[i].buf);
	}
	free(h.c);
	if (h.ep >= 0)
		close(h.ep);
	fclose(h.out);
	return ret;
}
