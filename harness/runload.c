// SPDX-License-Identifier: MIT
/* Load on the target during a run: probes (a command every T, one op per
 * run) and workloads (a long-running program writing one JSON line per
 * operation to $FALLACY_OPS). */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"
#include "proc.h"
#include "yaml.h"

void fl_run_vars(const struct fl_run *r, size_t i, struct fl_tvars *v)
{
	memset(v, 0, sizeof(*v));
	v->t = r->t;
	v->scenario = r->sc->name;
	v->lab = r->lab_name;
	v->dir = r->nodes[i].dir;
	v->nodes = r->tnodes;
	v->n_nodes = r->n_nodes;
	v->self = i;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ULL),
			       .tv_nsec = (long)(t % 1000000000ULL) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

struct probe_arg {
	struct fl_run *r;
	size_t i;
};

static void probe_once(struct fl_run *r, size_t i, int log_fd)
{
	struct fl_run_node *n = &r->nodes[i];
	struct fl_spawn sp = { .netns = n->netns, .out_fd = log_fd, .die_with_parent = true };
	struct fl_op op = { 0 };
	struct fl_tvars v;
	struct fl_err err;
	char *cmd = NULL;
	int status = 0, ret;

	fl_run_vars(r, i, &v);
	pthread_mutex_lock(&r->seq_lock);
	v.seq = r->seq++;
	pthread_mutex_unlock(&r->seq_lock);
	if (fl_template_expand(r->t->load_run, &v, &cmd, &err))
		return;
	sp.cmd = cmd;
	sp.user = r->t->user;
	op.start_ns = fl_clock_mono_ns();
	ret = fl_proc_run(&sp, r->t->timeout_ns, &status);
	op.end_ns = fl_clock_mono_ns();
	free(cmd);
	snprintf(op.node, sizeof(op.node), "%s", n->name);
	snprintf(op.op, sizeof(op.op), "%s", r->t->load_op);
	op.status = ret == -ETIMEDOUT ? FL_OP_TIMEOUT : (!ret && !status) ? FL_OP_OK : FL_OP_FAIL;
	fl_results_op(r->res, &op);
}

static void *probe_thread(void *arg)
{
	struct probe_arg *a = arg;
	struct fl_run *r = a->r;
	size_t i = a->i;
	uint64_t every = r->t->every_ns, next = r->t0;
	char path[700];
	int log_fd;

	free(a);
	snprintf(path, sizeof(path), "%s/logs/probe-%s.log", r->dir, r->nodes[i].name);
	log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	while (!r->stop_load) {
		uint64_t now;

		sleep_until(next);
		if (r->stop_load || next >= r->t_end)
			break;
		probe_once(r, i, log_fd);
		now = fl_clock_mono_ns();
		next += every;
		if (next < now) /* overran: skip to the next slot */
			next += ((now - next) / every + 1) * every;
	}
	if (log_fd >= 0)
		close(log_fd);
	return NULL;
}

static bool load_on(const struct fl_run *r, size_t i)
{
	return !strcmp(r->t->load_node, "all") || !strcmp(r->t->load_node, r->nodes[i].name);
}

static int start_workload(struct fl_run *r, size_t i)
{
	struct fl_run_node *n = &r->nodes[i];
	char env_ops[700], env_node[64], *env[3] = { env_ops, env_node, NULL }, *cmd = NULL;
	struct fl_spawn sp = { .netns = n->netns, .out_fd = n->log_fd, .journal = r->st };
	struct fl_tvars v;
	struct fl_err err;
	int ret;

	snprintf(env_ops, sizeof(env_ops), "FALLACY_OPS=%s/logs/workload-%s.jsonl", r->dir,
		 n->name);
	memcpy(n->ops_file, env_ops + 12, strlen(env_ops + 12) + 1);
	snprintf(env_node, sizeof(env_node), "FALLACY_NODE=%s", n->name);
	fl_run_vars(r, i, &v);
	ret = fl_template_expand(r->t->load_run, &v, &cmd, &err);
	if (ret) {
		pr_err("workload: %s", err.msg);
		return ret;
	}
	sp.cmd = cmd;
	sp.env = env;
	sp.user = r->t->user;
	ret = fl_proc_spawn(&sp, &n->load_pid);
	free(cmd);
	return ret;
}

int fl_run_load_start(struct fl_run *r)
{
	int ret = 0;

	for (size_t i = 0; i < r->n_nodes && !ret; i++) {
		struct probe_arg *a;

		if (!load_on(r, i))
			continue;
		if (r->t->is_workload) {
			ret = start_workload(r, i);
			continue;
		}
		a = malloc(sizeof(*a));
		if (!a)
			return -ENOMEM;
		*a = (struct probe_arg){ r, i };
		ret = -pthread_create(&r->nodes[i].probe, NULL, probe_thread, a);
		if (ret)
			free(a);
		else
			r->nodes[i].probing = true;
	}
	return ret;
}

static int num_field(const struct fl_ynode *m, const char *key, double *out)
{
	return fl_ynum(fl_ymap_get(m, key), out);
}

/* {"op": "put", "status": "ok"|"fail"|"timeout" (or "ok": true|false),
 *  "start_ns": N, "end_ns": N | "latency_ns": N | "latency_ms": X} */
static int workload_op(const struct fl_ynode *m, const char *node, struct fl_op *op)
{
	const struct fl_ynode *name = fl_ymap_get(m, "op"), *st = fl_ymap_get(m, "status");
	const struct fl_ynode *ok = fl_ymap_get(m, "ok");
	double start, end, lat;

	memset(op, 0, sizeof(*op));
	if (num_field(m, "start_ns", &start))
		return -EINVAL;
	if (!num_field(m, "end_ns", &end))
		lat = end - start;
	else if (!num_field(m, "latency_ns", &lat))
		;
	else if (!num_field(m, "latency_ms", &lat))
		lat *= 1e6;
	else
		return -EINVAL;
	if (lat < 0)
		return -EINVAL;
	op->start_ns = (uint64_t)start;
	op->end_ns = op->start_ns + (uint64_t)lat;
	if (st && st->type == FL_Y_SCALAR) {
		if (fl_op_status_parse(st->text, &op->status))
			return -EINVAL;
	} else if (ok && ok->type == FL_Y_SCALAR) {
		op->status = !strcmp(ok->text, "true") ? FL_OP_OK : FL_OP_FAIL;
	} else {
		return -EINVAL;
	}
	snprintf(op->node, sizeof(op->node), "%s", node);
	snprintf(op->op, sizeof(op->op), "%s",
		 name && name->type == FL_Y_SCALAR ? name->text : "op");
	return 0;
}

static void ingest_workload(struct fl_run *r, struct fl_run_node *n)
{
	FILE *f = fopen(n->ops_file, "r");
	char *line = NULL, where[760];
	size_t cap = 0, lineno = 0, bad = 0;

	if (!f) {
		pr_warn("workload on %s wrote no operations to $FALLACY_OPS", n->name);
		return;
	}
	while (getline(&line, &cap, f) > 0) {
		struct fl_ydoc *d = NULL;
		struct fl_err err;
		struct fl_op op;

		snprintf(where, sizeof(where), "%s:%zu", n->ops_file, ++lineno);
		if (fl_yaml_load(where, line, &d, &err) || !d->root ||
		    d->root->type != FL_Y_MAP || workload_op(d->root, n->name, &op)) {
			if (!bad++)
				pr_warn("%s: not an operation line (see docs/scenarios.md)", where);
		} else if (op.start_ns >= r->t0 && op.start_ns < r->t_end) {
			fl_results_op(r->res, &op);
		}
		fl_yaml_free(d);
	}
	if (bad)
		pr_warn("workload on %s: %zu bad lines ignored", n->name, bad);
	free(line);
	fclose(f);
}

void fl_run_load_stop(struct fl_run *r)
{
	r->stop_load = 1;
	for (size_t i = 0; i < r->n_nodes; i++) {
		struct fl_run_node *n = &r->nodes[i];

		if (n->probing) {
			pthread_join(n->probe, NULL);
			n->probing = false;
		}
		if (n->load_pid > 0) {
			fl_proc_stop(n->load_pid, r->t->stop_grace_ns, NULL);
			n->load_pid = 0;
			ingest_workload(r, n);
		}
	}
}
