// SPDX-License-Identifier: MIT
/* A scenario run over an inventory (invrun.h): step words into each
 * node's faults, the nodes' whole fault sets put through their agents
 * with a lease, renewed, reset at the end. */
#include "invrun.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "b64.h"
#include "clock.h"
#include "faults/fault.h"
#include "json.h"
#include "scenario.h"
#include "steps.h"
#include "yaml.h"

/* ---- words into faults ---------------------------------------------------- */

struct words {
	const char *kind;
	char base[768]; /* the kind's parameters (not groups) and the kept options */
	const char *groups[FL_INV_MAX];
	int n_groups;
	bool oneway, bidir, seeded;
	const char *from, *to, *node;
};

static bool is_addr(const char *w)
{
	return strpbrk(w, ".:/") != NULL;
}

static int node_index(const char *const *names, int n, const char *name, size_t len)
{
	for (int i = 0; i < n; i++)
		if (strlen(names[i]) == len && !strncmp(names[i], name, len))
			return i;
	return -1;
}

/* A comma list of node names into a bit set; an address: 0 with *addr. */
static int node_set(const char *list, const char *const *names, int n, uint64_t *set,
		    struct fl_err *err)
{
	*set = 0;
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");
		int k = node_index(names, n, p, len);

		if (k < 0) {
			fl_err_set(err, "node '%.*s' is not one of the inventory's nodes", (int)len,
				   p);
			return -EINVAL;
		}
		*set |= 1ULL << k;
		p += len + (p[len] == ',');
	}
	return 0;
}

static int append(char *buf, size_t len, const char *w)
{
	size_t off = strlen(buf);
	int k = snprintf(buf + off, len - off, "%s%s", off ? " " : "", w);

	return k < 0 || (size_t)k >= len - off ? -E2BIG : 0;
}

static const char *const refused_opts[] = { "--dir", "--duration", "--id", "--profile", NULL };

static int read_option(struct words *w, char *const *argv, int argc, int *i, struct fl_err *err)
{
	const struct fl_fault_option *o = fl_fault_option(argv[*i]);
	const char *v = o && o->takes_value && *i + 1 < argc ? argv[*i + 1] : NULL;

	if (!o || (o->takes_value && !v)) {
		fl_err_set(err, "'%s': not an option of fault add with its value", argv[*i]);
		return -EINVAL;
	}
	for (int k = 0; refused_opts[k]; k++)
		if (!strcmp(o->name, refused_opts[k])) {
			fl_err_set(err, "%s: over an inventory the run chooses it (%s)", o->name,
				   strcmp(o->name, "--duration") ? "leave it out" :
								   "give the step a duration:");
			return -EINVAL;
		}
	*i += v ? 1 : 0;
	if (!strcmp(o->name, "--from"))
		w->from = v;
	else if (!strcmp(o->name, "--to"))
		w->to = v;
	else if (!strcmp(o->name, "--node"))
		w->node = v;
	else if (!strcmp(o->name, "--bidir"))
		w->bidir = true;
	else if (append(w->base, sizeof(w->base), o->name) ||
		 (v && append(w->base, sizeof(w->base), v)))
		return -E2BIG;
	if (!strcmp(o->name, "--seed"))
		w->seeded = true;
	return 0;
}

/* The kind, its parameters, groups apart, options read. */
static int read_words(struct words *w, char *const *argv, int argc, struct fl_err *err)
{
	const struct fault_ops *ops = argc ? fl_fault_kind(argv[0]) : NULL;
	bool groups = false;
	int i;

	memset(w, 0, sizeof(*w));
	if (!ops) {
		fl_err_set(err, "'%s': not a fault kind", argc ? argv[0] : "");
		return -EINVAL;
	}
	w->kind = ops->name;
	for (const struct fl_param *pr = ops->params; pr->name; pr++)
		groups |= pr->type == FL_PT_GROUPS;
	if (append(w->base, sizeof(w->base), ops->name))
		return -E2BIG;
	for (i = 1; i < argc && strncmp(argv[i], "--", 2); i++) {
		if (groups && !strcmp(argv[i], "oneway"))
			w->oneway = true;
		else if (groups && !fl_kind_param(ops, argv[i]) && w->n_groups < FL_INV_MAX)
			w->groups[w->n_groups++] = argv[i];
		else if (append(w->base, sizeof(w->base), argv[i]))
			return -E2BIG;
	}
	for (; i < argc; i++)
		if (read_option(w, argv, argc, &i, err))
			return -EINVAL;
	if (w->node && (w->from || w->to)) {
		fl_err_set(err, "--node cannot be combined with --from/--to");
		return -EINVAL;
	}
	return 0;
}

/* One fault of node k: base words, then extra (printf), no id yet. */
static int add(struct fl_invrun_faults *out, int k, const struct words *w, const char *fmt, ...)
{
	char extra[256], *line;
	va_list ap;

	if (out->n[k] == FL_INVRUN_STEP_MAX)
		return -E2BIG;
	va_start(ap, fmt);
	vsnprintf(extra, sizeof(extra), fmt, ap);
	va_end(ap);
	if (asprintf(&line, "%s %s", w->base, extra) < 0)
		return -ENOMEM;
	out->f[k][out->n[k]++] = line;
	return 0;
}

/* partition G1 G2 ...: as the lab's partition (injector/faults/
 * partition.c) decides it, node b drops what arrives from node a when no
 * group holds both (oneway: and a's first group comes before b's); a
 * node in no group is left alone. */
static int groups_faults(const struct words *w, const char *const *names, const char *const *addrs,
			 int n, struct fl_invrun_faults *out, struct fl_err *err)
{
	uint64_t set[FL_INV_MAX];
	int first[FL_INV_MAX], ret = 0;

	for (int g = 0; g < w->n_groups; g++)
		if (node_set(w->groups[g], names, n, &set[g], err))
			return -EINVAL;
	for (int a = 0; a < n; a++) {
		first[a] = -1;
		for (int g = w->n_groups - 1; g >= 0; g--)
			if (set[g] >> a & 1)
				first[a] = g;
	}
	for (int a = 0; a < n && !ret; a++)
		for (int b = 0; b < n && !ret && first[a] >= 0; b++) {
			bool shared = false;

			if (b == a || first[b] < 0)
				continue;
			for (int g = 0; g < w->n_groups && !shared; g++)
				shared = (set[g] >> a & 1) && (set[g] >> b & 1);
			if (!shared && (!w->oneway || first[a] < first[b]))
				ret = add(out, b, w, "--from %s --dir in", addrs[a]);
		}
	return ret;
}

static bool receive_side(const struct words *w);

/* --to ADDR outside the inventory: the senders' egress is the only place
 * (a kind that acts only where packets arrive cannot go there). */
static int to_outside(const struct words *w, uint64_t from, const char *const *addrs, int n,
		      struct fl_invrun_faults *out, struct fl_err *err)
{
	int ret = 0;

	(void)addrs;
	if (receive_side(w)) {
		fl_err_set(err,
			   "%s acts where packets arrive: --to %s is not one of the "
			   "inventory's nodes",
			   w->kind, w->to);
		return -EINVAL;
	}
	for (int a = 0; a < n && !ret; a++)
		if (from >> a & 1)
			ret = add(out, a, w, "--to %s --dir out", w->to);
	return ret;
}

/* Where packets arrive, as a network drops them (KERNEL-NOTES: a drop
 * on the sender's own egress is an error its socket retries): on each
 * receiver in to, one fault per sender node in from (any_from: one for
 * whatever arrives). */
static int recv_faults(const struct words *w, uint64_t from, uint64_t to, bool any_from,
		       const char *const *addrs, int n, struct fl_invrun_faults *out)
{
	int ret = 0;

	for (int b = 0; b < n && !ret; b++) {
		if (!(to >> b & 1))
			continue;
		if (any_from)
			ret = add(out, b, w, "--dir in");
		for (int a = 0; a < n && !ret && !any_from; a++)
			if (from >> a & 1 && a != b)
				ret = add(out, b, w, "--from %s --dir in", addrs[a]);
	}
	return ret;
}

/* Does the kind refuse to act where packets leave (its own validate
 * says so for --dir out, not for --dir in)? */
static bool receive_side(const struct words *w)
{
	static __thread struct fl_fault f;
	char buf[sizeof(w->base) + 16], *argv[128], *save = NULL;
	int argc = 0;
	struct fl_err e;
	bool out_ok;

	snprintf(buf, sizeof(buf), "%s --dir out", w->base);
	for (char *t = strtok_r(buf, " ", &save); t && argc < 127; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	out_ok = !fl_fault_parse(&f, argc, argv, NULL, &e);
	if (out_ok || argc < 2)
		return false;
	argv[argc - 1] = "in";
	return !fl_fault_parse(&f, argc, argv, NULL, &e);
}

static int match_faults(const struct words *w, const char *const *names, const char *const *addrs,
			int n, struct fl_invrun_faults *out, struct fl_err *err)
{
	uint64_t all = n == 64 ? ~0ULL : (1ULL << n) - 1, from = all, to = 0;
	int ret = 0;

	if (w->node) { /* all of these nodes' traffic: what arrives there, and theirs elsewhere */
		if (node_set(w->node, names, n, &from, err))
			return -EINVAL;
		ret = recv_faults(w, 0, from, true, addrs, n, out);
		return ret ?: recv_faults(w, from, all & ~from, false, addrs, n, out);
	}
	if (w->from && is_addr(w->from)) { /* from outside: where it arrives */
		if (w->to && !is_addr(w->to) && node_set(w->to, names, n, &from, err))
			return -EINVAL;
		for (int a = 0; a < n && !ret; a++)
			if (from >> a & 1)
				ret = w->to && is_addr(w->to) ?
					      add(out, a, w, "--from %s --to %s --dir in", w->from,
						  w->to) :
					      add(out, a, w, "--from %s --dir in", w->from);
		return ret;
	}
	if (w->from && node_set(w->from, names, n, &from, err))
		return -EINVAL;
	if (w->to && is_addr(w->to)) /* to outside: only where it leaves */
		return to_outside(w, from, addrs, n, out, err);
	if (w->to && node_set(w->to, names, n, &to, err))
		return -EINVAL;
	ret = recv_faults(w, from, w->to ? to : all, !w->from, addrs, n, out);
	if (ret || !w->bidir || (!w->from && !w->to))
		return ret;
	if (w->from && w->to) /* the way back: T's packets, arriving at F */
		return recv_faults(w, to, from, false, addrs, n, out);
	return w->from ? recv_faults(w, 0, from, true, addrs, n, out) :
			 recv_faults(w, to, all & ~to, false, addrs, n, out);
}

/* --id STEP[-K] and --seed onto every fault of the step. */
static int name_faults(struct fl_invrun_faults *out, int n, const char *id, uint64_t seed,
		       bool seeded, struct fl_err *err)
{
	for (int k = 0; k < n; k++)
		for (int j = 0; j < out->n[k]; j++) {
			char fid[64], *line;

			if (out->n[k] > 1)
				snprintf(fid, sizeof(fid), "%s-%d", id, j + 1);
			else
				snprintf(fid, sizeof(fid), "%s", id);
			if (strlen(fid) > FL_FAULT_ID_MAX) {
				fl_err_set(err, "id '%s' is too long for its %d faults (%d bytes)",
					   id, out->n[k], FL_FAULT_ID_MAX);
				return -EINVAL;
			}
			int len = seeded ? asprintf(&line, "%s --id %s", out->f[k][j], fid) :
					   asprintf(&line, "%s --id %s --seed %llu", out->f[k][j],
						    fid, (unsigned long long)seed);

			if (len < 0)
				return -ENOMEM;
			free(out->f[k][j]);
			out->f[k][j] = line;
		}
	return 0;
}

int fl_invrun_translate(char *const *argv, int argc, const char *id, uint64_t seed,
			const char *const *names, const char *const *addrs, int n,
			struct fl_invrun_faults *out, struct fl_err *err)
{
	struct words w;
	int ret;

	memset(out, 0, sizeof(*out));
	if (n < 1 || n > FL_INV_MAX)
		return -EINVAL;
	ret = read_words(&w, argv, argc, err);
	if (ret == -E2BIG)
		fl_err_set(err, "the step's words are too long");
	if (ret)
		return -EINVAL;
	if (w.n_groups && (w.from || w.to || w.node || w.bidir)) {
		fl_err_set(err, "partition groups take no --from/--to/--node/--bidir");
		return -EINVAL;
	}
	ret = w.n_groups ? groups_faults(&w, names, addrs, n, out, err) :
			   match_faults(&w, names, addrs, n, out, err);
	if (ret == -E2BIG)
		fl_err_set(err, "more than %d faults on one node for one step", FL_INVRUN_STEP_MAX);
	if (!ret)
		ret = name_faults(out, n, id, seed, w.seeded, err);
	if (ret) {
		fl_invrun_faults_free(out);
		return ret == -ENOMEM ? ret : -EINVAL;
	}
	return 0;
}

void fl_invrun_faults_free(struct fl_invrun_faults *f)
{
	for (int k = 0; k < FL_INV_MAX; k++) {
		for (int j = 0; j < f->n[k]; j++)
			free(f->f[k][j]);
		f->n[k] = 0;
	}
}

int fl_invrun_check(const struct fl_scenario *sc, struct fl_err *err)
{
	for (size_t i = 0; i < sc->n_steps; i++) {
		const struct fl_step *st = &sc->steps[i];
		const char *k = st->ops->key;

		if (strcmp(k, "fault") && strcmp(k, "partition") && strcmp(k, "heal")) {
			fl_err_set(err,
				   "%s:%d:%d: a '%s' step cannot run over an inventory (fault, "
				   "partition and heal steps can; topology and process steps need "
				   "a lab)",
				   sc->file, st->line, st->col, k);
			return -EINVAL;
		}
		for (size_t w = 0; w < st->argc; w++)
			for (int j = 0; refused_opts[j]; j++)
				if (!strcmp(st->argv[w], refused_opts[j])) {
					fl_err_set(
						err,
						"%s:%d:%d: %s: over an inventory the run chooses "
						"it (%s)",
						sc->file, st->line, st->col, refused_opts[j],
						j == 1 ? "give the step a duration:" :
							 "leave it out");
					return -EINVAL;
				}
	}
	for (size_t i = 0; i < sc->n_checks; i++) {
		const struct fl_check *ck = &sc->checks[i];

		if (ck->kind == FL_CHECK_PLAINTEXT || ck->kind == FL_CHECK_SECURE ||
		    ck->kind == FL_CHECK_TRANSPORT) {
			fl_err_set(err,
				   "%s:%d:%d: this check reads a lab's captures or counters; it "
				   "cannot run over an inventory",
				   sc->file, ck->line, ck->col);
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- the run's agents --------------------------------------------------- */

int fl_invrun_open(const char *file, int n, const char *const *names, const char *const *roles,
		   uint64_t lease_ns, struct fl_invrun **out, struct fl_err *err)
{
	struct fl_invrun *r = calloc(1, sizeof(*r));
	int ret;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	ret = fl_inventory_load(file, NULL, &r->inv, err);
	if (!ret && fl_inventory_resolve(r->inv, n, roles, r->node, err) != n)
		ret = -EINVAL;
	for (int i = 0; !ret && i < n; i++) {
		if (!r->node[i].address[0]) {
			fl_err_set(err,
				   "%s: node %s (%s) has no address: give the host an address: "
				   "(or a pod its IP), where the scenario's clients reach it",
				   file, names[i], r->node[i].host);
			ret = -EINVAL;
		}
		r->names[i] = names[i];
		r->addrs[i] = r->node[i].address;
	}
	if (ret) {
		fl_inventory_free(r->inv);
		free(r);
		return ret;
	}
	r->n = n;
	r->lease_ns = lease_ns;
	r->agents = (struct fl_agents){ .inv = r->inv, .node = r->node, .n = n };
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	*out = r;
	return 0;
}

static int put_node(struct fl_invrun *r, int k, struct fl_err *err)
{
	char *faults[FL_INVRUN_NODE_MAX], *answer = NULL;
	int ret;

	for (int j = 0; j < r->n_set[k]; j++)
		faults[j] = r->set[k][j].words;
	ret = fl_agents_put(&r->agents, k, faults, r->n_set[k], r->lease_ns, &answer);
	if (!ret && !r->n_set[k]) /* nothing there: nothing to renew or reset */
		r->agents.lease_ns[k] = 0;
	if (ret)
		fl_err_set(err, "node %s (host %s): %s%.300s", r->names[k], r->node[k].host,
			   ret > 0 ? "its agent refused: " : "its agent is lost",
			   ret > 0 && answer ? answer : "");
	free(answer);
	return ret ? -EIO : 0;
}

/* The sets saved, changed, put; on a refusal the saved ones put back. */
struct saved {
	int n_set[FL_INV_MAX];
	char id[FL_INV_MAX][FL_INVRUN_NODE_MAX][40];
	char *words[FL_INV_MAX][FL_INVRUN_NODE_MAX];
};

static void save(const struct fl_invrun *r, struct saved *s)
{
	for (int k = 0; k < r->n; k++) {
		s->n_set[k] = r->n_set[k];
		for (int j = 0; j < r->n_set[k]; j++) {
			memcpy(s->id[k][j], r->set[k][j].id, sizeof(s->id[k][j]));
			s->words[k][j] = r->set[k][j].words;
		}
	}
}

static void restore(struct fl_invrun *r, const struct saved *s, uint64_t put)
{
	struct fl_err e;

	for (int k = 0; k < r->n; k++) {
		for (int j = 0; j < r->n_set[k]; j++) { /* free what the step added */
			bool old = false;

			for (int i = 0; i < s->n_set[k] && !old; i++)
				old = s->words[k][i] == r->set[k][j].words;
			if (!old)
				free(r->set[k][j].words);
		}
		r->n_set[k] = s->n_set[k];
		for (int j = 0; j < s->n_set[k]; j++) {
			memcpy(r->set[k][j].id, s->id[k][j], sizeof(r->set[k][j].id));
			r->set[k][j].words = s->words[k][j];
		}
		if (put >> k & 1 && put_node(r, k, &e))
			pr_err("%s (putting its faults back)", e.msg);
	}
}

struct put_job {
	struct fl_invrun *r;
	int k, ret;
	struct fl_err err;
	pthread_t th;
	bool started;
};

static void *put_thread(void *arg)
{
	struct put_job *j = arg;

	j->ret = put_node(j->r, j->k, &j->err);
	return NULL;
}

/* Put every node in changed at once (one thread each: the step waits for
 * the slowest host, not their sum); all or none: when one is refused or
 * lost, those that took theirs get their saved set back. */
static int put_changed(struct fl_invrun *r, const struct saved *s, uint64_t changed,
		       struct fl_err *err)
{
	static struct put_job job[FL_INV_MAX];
	uint64_t done = 0;
	int ret = 0;

	for (int k = 0; k < r->n; k++) {
		job[k] = (struct put_job){ .r = r, .k = k };
		if (!(changed >> k & 1))
			continue;
		job[k].started = !pthread_create(&job[k].th, NULL, put_thread, &job[k]);
		if (!job[k].started) /* no thread: here, in turn */
			put_thread(&job[k]);
	}
	for (int k = 0; k < r->n; k++) {
		if (!(changed >> k & 1))
			continue;
		if (job[k].started)
			pthread_join(job[k].th, NULL);
		if (!job[k].ret)
			done |= 1ULL << k;
		else if (!ret) {
			*err = job[k].err;
			ret = -EIO;
		}
	}
	if (ret)
		restore(r, s, done);
	return ret;
}

static void note_step(struct fl_invrun *r, const char *id, uint64_t nodes)
{
	int i;

	for (i = 0; i < r->n_steps && strcmp(r->steps[i].id, id); i++)
		;
	if (i == r->n_steps) {
		if (r->n_steps == (int)(sizeof(r->steps) / sizeof(r->steps[0])))
			return;
		snprintf(r->steps[r->n_steps++].id, sizeof(r->steps[0].id), "%s", id);
	}
	r->steps[i].nodes = nodes;
}

int fl_invrun_apply(struct fl_invrun *r, const struct fl_step *st, uint64_t seed,
		    struct fl_err *err)
{
	static struct fl_invrun_faults f; /* big: the timeline applies one step at a time */
	static struct saved s;
	uint64_t changed = 0;
	int ret;

	pthread_mutex_lock(&r->lock);
	ret = fl_invrun_translate(st->argv, (int)st->argc, st->id, seed, r->names, r->addrs, r->n,
				  &f, err);
	if (ret)
		goto out;
	save(r, &s);
	for (int k = 0; k < r->n && !ret; k++) {
		if (r->n_set[k] + f.n[k] > FL_INVRUN_NODE_MAX) {
			fl_err_set(err, "node %s: more than %d faults at once", r->names[k],
				   FL_INVRUN_NODE_MAX);
			ret = -E2BIG;
			break;
		}
		for (int j = 0; j < f.n[k]; j++) {
			snprintf(r->set[k][r->n_set[k]].id, sizeof(r->set[k][0].id), "%s", st->id);
			r->set[k][r->n_set[k]++].words = f.f[k][j];
			f.f[k][j] = NULL;
			changed |= 1ULL << k;
		}
		f.n[k] = 0;
	}
	if (ret)
		restore(r, &s, 0);
	else
		ret = put_changed(r, &s, changed, err);
	if (!ret)
		note_step(r, st->id, changed);
out:
	fl_invrun_faults_free(&f);
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int fl_invrun_heal(struct fl_invrun *r, const char *id, struct fl_err *err)
{
	static struct saved s;
	uint64_t changed = 0;
	char *gone[FL_INV_MAX * 4];
	int n_gone = 0, ret;

	pthread_mutex_lock(&r->lock);
	save(r, &s);
	for (int k = 0; k < r->n; k++) {
		int keep = 0;

		for (int j = 0; j < r->n_set[k]; j++) {
			if (strcmp(r->set[k][j].id, id)) {
				r->set[k][keep++] = r->set[k][j];
				continue;
			}
			changed |= 1ULL << k;
			if (n_gone < (int)(sizeof(gone) / sizeof(gone[0])))
				gone[n_gone++] = r->set[k][j].words;
		}
		r->n_set[k] = keep;
	}
	ret = put_changed(r, &s, changed, err);
	if (!ret) /* put back on a refusal, else freed */
		for (int i = 0; i < n_gone; i++)
			free(gone[i]);
	pthread_mutex_unlock(&r->lock);
	return ret;
}

void fl_invrun_event(struct fl_invrun *r, const char *id, struct fl_out *o)
{
	uint64_t nodes = 0;

	pthread_mutex_lock(&r->lock);
	for (int i = 0; i < r->n_steps; i++)
		if (!strcmp(r->steps[i].id, id))
			nodes = r->steps[i].nodes;
	pthread_mutex_unlock(&r->lock);
	if (!nodes)
		return;
	fl_out_open(o, "host", '[');
	for (int k = 0; k < r->n; k++)
		if (nodes >> k & 1)
			fl_out_str(o, "", r->node[k].host);
	fl_out_close(o, ']');
}

static void *renew_thread(void *arg)
{
	struct fl_invrun *r = arg;
	struct timespec ts;
	int bad;

	pthread_mutex_lock(&r->lock);
	while (!r->stop) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)(r->lease_ns / 3 / 1000000000ULL);
		ts.tv_nsec += (long)(r->lease_ns / 3 % 1000000000ULL);
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while (!r->stop && pthread_cond_timedwait(&r->cond, &r->lock, &ts) != ETIMEDOUT)
			;
		if (r->stop)
			break;
		bad = fl_agents_renew(&r->agents);
		if (bad)
			pr_warn("inventory: %d renewal(s) refused or lost; those faults end with "
				"their lease",
				bad);
		r->lost += bad;
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

int fl_invrun_renew_start(struct fl_invrun *r)
{
	pthread_condattr_t ca;
	int ret;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_destroy(&r->cond);
	pthread_cond_init(&r->cond, &ca);
	pthread_condattr_destroy(&ca);
	ret = -pthread_create(&r->renewer, NULL, renew_thread, r);
	r->renewing = !ret;
	return ret;
}

int fl_invrun_close(struct fl_invrun *r)
{
	int bad;

	if (!r)
		return 0;
	if (r->renewing) {
		pthread_mutex_lock(&r->lock);
		r->stop = true;
		pthread_cond_signal(&r->cond);
		pthread_mutex_unlock(&r->lock);
		pthread_join(r->renewer, NULL);
	}
	bad = fl_agents_reset(&r->agents);
	for (int k = 0; k < r->n; k++)
		for (int j = 0; j < r->n_set[k]; j++)
			free(r->set[k][j].words);
	fl_inventory_free(r->inv);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	free(r);
	return bad;
}

/* ---- captures streamed back ------------------------------------------------ */

static char *capture_line(const struct fl_invrun *r, int k, const char *body)
{
	char *line;

	return asprintf(&line, "{\"verb\":\"capture\",\"target\":%s,\"capture\":%s}",
			r->node[k].target, body) < 0 ?
		       NULL :
		       line;
}

/* A member's text of an answer (a JSON object), malloc'ed, or NULL. */
static char *answer_get(const char *answer, const char *a, const char *b)
{
	const struct fl_ynode *n;
	struct fl_ydoc *d = NULL;
	struct fl_err e;
	char *v = NULL;

	if (fl_yaml_load("answer", answer, &d, &e))
		return NULL;
	n = d->root ? fl_ymap_get(d->root, a) : NULL;
	n = n && b ? fl_ymap_get(n, b) : n;
	if (n && n->type == FL_Y_SCALAR)
		v = strdup(n->text);
	fl_yaml_free(d);
	return v;
}

int fl_invrun_capture_start(struct fl_invrun *r, const char *iface, struct fl_err *err)
{
	char body[128];
	int ret = 0;

	snprintf(body, sizeof(body), "{\"action\":\"start\",\"iface\":\"%s\",\"duration\":\"1h\"}",
		 iface ? iface : "eth0");
	pthread_mutex_lock(&r->lock);
	for (int k = 0; k < r->n && !ret; k++) {
		char *line = capture_line(r, k, body), *answer = NULL, *id = NULL;

		ret = line ? fl_agents_call(&r->agents, k, line, &answer) : -ENOMEM;
		id = ret ? NULL : answer_get(answer, "capture", "id");
		if (ret || !id || strlen(id) >= sizeof(r->cap[k])) {
			fl_err_set(err, "node %s (host %s): no capture: %.300s", r->names[k],
				   r->node[k].host, answer ? answer : "its agent is lost");
			ret = -EIO;
		} else {
			snprintf(r->cap[k], sizeof(r->cap[k]), "%s", id);
		}
		free(id);
		free(answer);
		free(line);
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

/* Every piece of node k's capture into f: the bytes written, or -errno. */
static long long fetch_all(struct fl_invrun *r, int k, FILE *f)
{
	static uint8_t buf[65536];
	uint64_t off = 0;

	for (;;) {
		char body[96], *line, *answer = NULL, *data, *size;
		long n;
		int ret;

		snprintf(body, sizeof(body), "{\"action\":\"fetch\",\"id\":\"%s\",\"offset\":%llu}",
			 r->cap[k], (unsigned long long)off);
		line = capture_line(r, k, body);
		ret = line ? fl_agents_call(&r->agents, k, line, &answer) : -ENOMEM;
		free(line);
		data = ret ? NULL : answer_get(answer, "capture", "data");
		size = ret ? NULL : answer_get(answer, "capture", "size");
		free(answer);
		n = data && strlen(data) <= FL_B64_LEN(sizeof(buf) / 2) ? fl_b64_decode(data, buf) :
									  -EPROTO;
		free(data);
		if (n > 0 && fwrite(buf, 1, (size_t)n, f) != (size_t)n)
			n = -EIO;
		if (n >= 0)
			off += (uint64_t)n;
		if (n <= 0 || !size || off >= strtoull(size, NULL, 10)) {
			free(size);
			return n < 0 ? n : (long long)off;
		}
		free(size);
	}
}

int fl_invrun_capture_stop(struct fl_invrun *r, const char *dir,
			   void (*done)(void *arg, const char *node, const char *file,
					uint64_t bytes),
			   void *arg)
{
	int lost = 0;

	pthread_mutex_lock(&r->lock);
	for (int k = 0; k < r->n; k++) {
		char body[96], path[700], *line, *answer = NULL;
		long long got = -EIO;
		FILE *f;

		if (!r->cap[k][0])
			continue;
		snprintf(body, sizeof(body), "{\"action\":\"stop\",\"id\":\"%s\"}", r->cap[k]);
		line = capture_line(r, k, body);
		if (line && !fl_agents_call(&r->agents, k, line, &answer)) {
			snprintf(path, sizeof(path), "%s/%s.pcap", dir, r->names[k]);
			f = fopen(path, "we");
			got = f ? fetch_all(r, k, f) : -errno;
			if (f && fclose(f) && got >= 0)
				got = -EIO;
		}
		free(line);
		free(answer);
		if (got < 0) {
			pr_warn("node %s (host %s): its capture could not be fetched: %s",
				r->names[k], r->node[k].host, strerror((int)-got));
			lost++;
		} else if (done) {
			snprintf(path, sizeof(path), "pcap/%s.pcap", r->names[k]);
			done(arg, r->names[k], path, (uint64_t)got);
		}
		r->cap[k][0] = '\0';
	}
	pthread_mutex_unlock(&r->lock);
	return lost;
}
