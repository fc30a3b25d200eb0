/* SPDX-License-Identifier: MIT */
/* The thundering herd (docs/fallacies/thundering-herd.md): many client
 * connections, each held open to the target and sending a request on a
 * common tick; a connection that breaks (an error, or a request or
 * connect that times out) is made again after the client's backoff.
 *
 * The scenario says how many clients, from which nodes to which, how
 * often and with which reconnect policy (herd:); the target says the
 * protocol (herd: port, hello, request: one line each way). One process
 * per client node (`fallacy __herd`, herd_client.c) runs all of that
 * node's clients in one event loop and writes every connect attempt and
 * request to RESULTS/logs/herd-NODE.jsonl; the run merges them into
 * herd.jsonl:
 *   {"node":"n2","client":17,"ev":"connect","start_ns":..,"end_ns":..,"ok":true}
 *   {"node":"n2","client":17,"ev":"request","start_ns":..,"end_ns":..,"ok":false,"err":"timeout"}
 * Times are CLOCK_MONOTONIC, the events' clock. */
#ifndef FALLACY_HERD_H
#define FALLACY_HERD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"

struct fl_ydoc;
struct fl_ynode;

#define FL_HERD_MAX_CLIENTS 4096
#define FL_HERD_LINE_MAX 256 /* hello and request */
#define FL_HERD_BUCKET_NS (100 * 1000000ULL) /* the summary's buckets */

enum fl_backoff {
	FL_BACKOFF_NONE, /* every `base`, the same for every attempt */
	FL_BACKOFF_EXPONENTIAL, /* base, 2 base, 4 base ... up to max */
	FL_BACKOFF_JITTER, /* uniform in [0, that] ("full jitter") */
};

/* A scenario's herd: */
struct fl_herd {
	bool on;
	unsigned int clients; /* in all, spread evenly over the from nodes */
	char from[128], to[64]; /* selectors; default rest, leader */
	uint64_t every_ns; /* each client's request tick (one grid for all) */
	uint64_t timeout_ns; /* of a request and of a connect */
	enum fl_backoff backoff;
	uint64_t base_ns, max_ns;
	/* phase: tick (every client on one grid, as clients driven by one
	 * timer) or random (each client's offset on the grid drawn from the
	 * run's seed, as independent clients) */
	bool random_phase;
	int line, col;
};

/* A target's herd: the protocol. line: one line each way (CRLF is
 * added); http: request is "METHOD PATH", sent as HTTP/1.1 on the held
 * connection, the reply its headers and Content-Length body (a server
 * that closes after each reply, as HTTP/1.0 ones do, gets a connection
 * per request); postgres: the v3 startup message as `user` (trust
 * authentication), then request is a simple query, each answer read up
 * to its ReadyForQuery. */
enum fl_herd_proto {
	FL_HERD_LINE,
	FL_HERD_HTTP,
	FL_HERD_POSTGRES,
};

struct fl_therd {
	bool on;
	enum fl_herd_proto proto;
	char user[64]; /* postgres: the startup message's user and database */
	unsigned int port;
	char hello[FL_HERD_LINE_MAX]; /* sent once per connection, "" none */
	char request[FL_HERD_LINE_MAX];
};

const char *fl_backoff_name(enum fl_backoff b);
const char *fl_herd_proto_name(enum fl_herd_proto p);
/* herd: {clients, from, to, every, timeout, reconnect: {backoff, base, max}} */
int fl_herd_parse(const struct fl_ydoc *d, const struct fl_ynode *v, struct fl_herd *h,
		  struct fl_err *err);
/* herd: {port, hello, request} of a target file */
int fl_therd_parse(const struct fl_ydoc *d, const struct fl_ynode *v, struct fl_therd *t,
		   struct fl_err *err);
/* The herd: map as a scenario file has it (resolved scenario.yaml). */
void fl_herd_print(const struct fl_herd *h, FILE *f);

/* The delay before reconnect attempt n (0: the first after a break) of a
 * client; rnd is a uniform random 64-bit number (jitter only). */
uint64_t fl_backoff_delay(enum fl_backoff b, uint64_t base, uint64_t max, unsigned int n,
			  uint64_t rnd);

/* The lock-step statistic: the largest share of the times t[0..n) (in
 * any order; sorted in place) that fall in one window [x, x + w). *at
 * gets that window's start. 0 when n is 0. */
double fl_herd_max_share(uint64_t *t, size_t n, uint64_t w, uint64_t *at);

/* One line of herd.jsonl. */
struct fl_herd_rec {
	char node[24];
	unsigned int client;
	bool connect; /* else a request */
	bool ok;
	uint64_t start_ns, end_ns;
};
/* Parse one line; -EINVAL if it is not a herd record. */
int fl_herd_rec_parse(const char *line, struct fl_herd_rec *r);
/* Read a herd.jsonl file. */
int fl_herd_load(const char *file, struct fl_herd_rec **out, size_t *n, struct fl_err *err);

/* The recovery attempts after a heal at t: each client's connect attempts
 * begun at or after t, up to and including its first successful one.
 * Their start times into a malloc'd *out. */
int fl_herd_recovery_attempts(const struct fl_herd_rec *r, size_t n, uint64_t t, uint64_t **out,
			      size_t *n_out);

/* The per-bucket summary (FL_HERD_BUCKET_NS from t0). */
struct fl_herd_bucket {
	unsigned int connects, connects_ok, requests, requests_ok;
	double p50_ms, p99_ms; /* of the requests that began in it; NAN none */
	double connect_p50_ms, connect_p99_ms; /* of its ok connects: the handshake */
};
int fl_herd_buckets(const struct fl_herd_rec *r, size_t n, uint64_t t0, uint64_t t_end,
		    struct fl_herd_bucket **out, size_t *n_out);

/* The spike after a heal at `heal` (buckets from t0): the busiest bucket
 * of connect attempts in the FL_HERD_PEAK_NS after it (the first of equals),
 * and the worst request p99 over those buckets (NAN: no request). */
#define FL_HERD_PEAK_NS (5 * 1000000000ULL)
struct fl_herd_peak {
	size_t bucket; /* index of the busiest */
	unsigned int connects, connects_ok;
	double handshake_p99_ms; /* of the busiest bucket's ok connects */
	double request_p99_ms;
};
/* -ENOENT when the buckets end before the heal. */
int fl_herd_peak(const struct fl_herd_bucket *b, size_t n, uint64_t t0, uint64_t heal,
		 struct fl_herd_peak *p);
/* The worst request p99 of the buckets from 1 s to `first` (the first
 * fault; the herd's own start is a herd too); 0 when there are none. */
double fl_herd_base_p99(const struct fl_herd_bucket *b, size_t n, uint64_t t0, uint64_t first);

/* An HTTP reply in buf[0..len) (protocol http): its length once its
 * headers and Content-Length bytes of body are there, 0 while not yet,
 * -1 when it never will be within max bytes (or is malformed). */
long fl_herd_http_reply(const char *buf, size_t len, size_t max);

/* PostgreSQL's v3 protocol (protocol postgres). The startup message for
 * user (and database user) and a simple query into buf: their length, or
 * -ENOSPC. */
long fl_herd_pg_startup(char *buf, size_t len, const char *user);
long fl_herd_pg_query(char *buf, size_t len, const char *sql);
/* The server's answer in buf[0..len): its length up to and including
 * ReadyForQuery ('Z') once there, 0 while not yet, -1 when it never will
 * be within max bytes, is malformed, is an ErrorResponse ('E') or asks
 * for a password (authentication other than trust). */
long fl_herd_pg_reply(const char *buf, size_t len, size_t max);

/* `fallacy __herd`: one node's clients (herd_client.c); configured by
 * the environment the run gives it. */
int fl_herd_client_main(void);

#endif
