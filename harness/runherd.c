// SPDX-License-Identifier: MIT
/* A scenario's herd in a run (herd.h): one `fallacy __herd` per client
 * node, journaled like the target's processes; afterwards their records
 * merged into herd.jsonl and summarised per 100 ms in herd-summary.json. */
#include "run.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "herd.h"
#include "json.h"
#include "proc.h"

/* The herd's client nodes and the node they connect to. */
static int herd_nodes(const struct fl_sel_env *e, const struct fl_herd *h, fl_nodeset *from,
		      int *to, struct fl_err *err)
{
	struct fl_sel_rng rng;
	fl_nodeset t = 0;
	bool unknown = false;

	fl_sel_rng_init(&rng, e->seed, 0xbe4d, 0);
	if (fl_sel_nodes(e, h->to, &rng, 0, &t, &unknown, err))
		return -EINVAL;
	if (unknown || !t) {
		fl_err_set(err, "herd: 'to: %s' names no node of the lab", h->to);
		return -EINVAL;
	}
	*to = __builtin_ctzll(t);
	if (fl_sel_nodes(e, h->from, &rng, fl_sel_all(e) & ~(1ULL << *to), from, &unknown, err))
		return -EINVAL;
	if (unknown || !*from) {
		fl_err_set(err, "herd: 'from: %s' names no node of the lab", h->from);
		return -EINVAL;
	}
	return 0;
}

int fl_run_herd_validate(const struct fl_scenario *sc, const struct fl_sut *t,
			 const struct fl_sel_env *e, struct fl_err *err)
{
	fl_nodeset from;
	int to;

	/* a target without herd: runs the scenario without it (its backoff
	 * checks fail with nothing to judge), as history checks do on a
	 * target without operations with f */
	if (!sc->herd.on || !t->herd.on)
		return 0;
	if (herd_nodes(e, &sc->herd, &from, &to, err)) {
		char m[sizeof(err->msg)];

		snprintf(m, sizeof(m), "%s", err->msg);
		fl_err_set(err, "%s:%d:%d: %s", sc->file, sc->herd.line, sc->herd.col, m);
		return -EINVAL;
	}
	return 0;
}

static int spawn_one(struct fl_run *r, size_t i, unsigned int first, unsigned int n, int to)
{
	const struct fl_herd *h = &r->sc->herd;
	const struct fl_therd *th = &r->t->herd;
	char conf[512], out[700], hello[300], req[300], exe[512];
	char *env[] = { conf, out, hello, req, NULL };
	struct fl_spawn sp = { .netns = r->nodes[i].netns,
			       .out_fd = r->nodes[i].log_fd,
			       .journal = r->st,
			       .die_with_parent = true,
			       .env = env };
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 20);

	if (len <= 0)
		return -errno;
	snprintf(exe + len, sizeof(exe) - (size_t)len, " __herd");
	snprintf(conf, sizeof(conf),
		 "FALLACY_HERD_CONF=%s %u %u %s %u %llu %llu %s %llu %llu %llu %llu %llu %s %s",
		 r->nodes[i].name, first, n, r->nodes[to].ip, th->port,
		 (unsigned long long)h->every_ns, (unsigned long long)h->timeout_ns,
		 fl_backoff_name(h->backoff), (unsigned long long)h->base_ns,
		 (unsigned long long)h->max_ns, (unsigned long long)(r->seed ^ (i * 0x9e37ULL)),
		 (unsigned long long)r->t0, (unsigned long long)r->t_end,
		 fl_herd_proto_name(th->proto), h->random_phase ? "random" : "tick");
	snprintf(out, sizeof(out), "FALLACY_HERD_OUT=%s/logs/herd-%s.jsonl", r->dir,
		 r->nodes[i].name);
	/* postgres: the user its startup message names */
	snprintf(hello, sizeof(hello), "FALLACY_HERD_HELLO=%s",
		 th->proto == FL_HERD_POSTGRES ? th->user : th->hello);
	snprintf(req, sizeof(req), "FALLACY_HERD_REQUEST=%s", th->request);
	sp.cmd = exe;
	return fl_proc_spawn(&sp, &r->herd_pid[i]);
}

int fl_run_herd_start(struct fl_run *r)
{
	const struct fl_herd *h = &r->sc->herd;
	unsigned int first = 0, k = 0, n_from;
	fl_nodeset from;
	struct fl_err err;
	int to, ret = 0;

	if (!h->on)
		return 0;
	if (!r->t->herd.on) {
		pr_warn("%s: target '%s' has no 'herd:' (its protocol): no herd in this run",
			r->sc->name, r->t->name);
		return 0;
	}
	if (herd_nodes(&r->sel, h, &from, &to, &err)) {
		pr_err("%s", err.msg);
		return -EINVAL;
	}
	n_from = (unsigned int)__builtin_popcountll(from);
	for (size_t i = 0; i < r->n_nodes && !ret; i++) {
		unsigned int n;

		if (!(from & (1ULL << i)))
			continue;
		/* spread evenly; the first nodes take the remainder */
		n = h->clients / n_from + (k++ < h->clients % n_from);
		if (n)
			ret = spawn_one(r, i, first, n, to);
		first += n;
	}
	if (!ret)
		pr_info("%s: herd of %u clients on %u nodes to %s:%u", r->sc->name, h->clients,
			n_from, r->nodes[to].name, r->t->herd.port);
	return ret;
}

/* logs/herd-NODE.jsonl, each node's, into herd.jsonl */
static void merge(struct fl_run *r)
{
	char path[700], buf[65536];
	FILE *out;

	snprintf(path, sizeof(path), "%s/herd.jsonl", r->dir);
	out = fopen(path, "we");
	if (!out) {
		pr_warn("%s: %s", path, strerror(errno));
		return;
	}
	for (size_t i = 0; i < r->n_nodes; i++) {
		FILE *in;
		size_t len;

		snprintf(path, sizeof(path), "%s/logs/herd-%s.jsonl", r->dir, r->nodes[i].name);
		in = fopen(path, "re");
		if (!in)
			continue;
		while ((len = fread(buf, 1, sizeof(buf), in)) > 0)
			fwrite(buf, 1, len, out);
		fclose(in);
		unlink(path);
	}
	fclose(out);
}

/* herd-summary.json: per 100 ms bucket of the measured part, the connect
 * attempts, requests and request latency. */
static void summarise(struct fl_run *r)
{
	struct fl_herd_bucket *b = NULL;
	struct fl_herd_rec *rec = NULL;
	struct fl_out o = { .json = true, .compact = true };
	char path[700];
	size_t n = 0, nb = 0;
	struct fl_err err;

	snprintf(path, sizeof(path), "%s/herd.jsonl", r->dir);
	if (fl_herd_load(path, &rec, &n, &err) ||
	    fl_herd_buckets(rec, n, r->t0, r->t_end, &b, &nb)) {
		free(rec);
		return;
	}
	snprintf(path, sizeof(path), "%s/herd-summary.json", r->dir);
	o.f = fopen(path, "we");
	if (o.f) {
		fl_out_open(&o, "", '{');
		fl_out_u64(&o, "clients", r->sc->herd.clients);
		fl_out_str(&o, "backoff", fl_backoff_name(r->sc->herd.backoff));
		fl_out_u64(&o, "records", n);
		fl_out_u64(&o, "bucket_ms", FL_HERD_BUCKET_NS / 1000000);
		fl_out_open(&o, "buckets", '[');
		for (size_t j = 0; j < nb; j++) {
			fl_out_open(&o, "", '{');
			fl_out_double(&o, "t", (double)j * FL_HERD_BUCKET_NS / 1e9);
			fl_out_u64(&o, "connects", b[j].connects);
			fl_out_u64(&o, "connects_ok", b[j].connects_ok);
			fl_out_u64(&o, "requests", b[j].requests);
			fl_out_u64(&o, "requests_ok", b[j].requests_ok);
			fl_out_double(&o, "p50_ms", b[j].p50_ms);
			fl_out_double(&o, "p99_ms", b[j].p99_ms);
			fl_out_double(&o, "connect_p50_ms", b[j].connect_p50_ms);
			fl_out_double(&o, "connect_p99_ms", b[j].connect_p99_ms);
			fl_out_close(&o, '}');
		}
		fl_out_close(&o, ']');
		fl_out_close(&o, '}');
		fputc('\n', o.f);
		fclose(o.f);
	}
	free(b);
	free(rec);
}

void fl_run_herd_stop(struct fl_run *r)
{
	bool any = false;

	for (size_t i = 0; i < r->n_nodes; i++) {
		if (r->herd_pid[i] > 0) {
			fl_proc_stop(r->herd_pid[i], 2000000000ULL, NULL);
			r->herd_pid[i] = 0;
			any = true;
		}
	}
	if (!any)
		return;
	merge(r);
	summarise(r);
}
