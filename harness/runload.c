// SPDX-License-Identifier: MIT
/* Load on the target during a run: probes (a command every T, one op per
 * run) and workloads (a long-running program writing one JSON line per
 * operation to $FALLACY_OPS). */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"
#include "clock.h"
#include "probehist.h"
#include "proc.h"
#include "yaml.h"

void fl_run_vars(const struct fl_run *r, size_t i, struct fl_tvars *v)
{
	memset(v, 0, sizeof(*v));
	if (i >= r->n_nodes)
		i = 0;
	v->t = r->t;
	v->scenario = r->sc->name;
	v->lab = r->lab_name;
	v->dir = r->nodes[i].dir;
	v->tls_dir = r->tls_dir[0] ? r->tls_dir : NULL;
	v->nodes = r->tnodes;
	v->n_nodes = r->n_tnodes;
	v->self = r->tidx[i] >= 0 ? (size_t)r->tidx[i] : 0;
	v->cluster_state = r->t0 ? "existing" : "new";
}

struct probe_arg {
	struct fl_run *r;
	size_t i;
};

#define FL_PROBE_MAX_INFLIGHT 64

/* One probe run in flight, on one of the node's clients. */
struct inflight {
	pid_t pid;
	int fd; /* pidfd */
	int out_fd; /* a read's or cas's stdout (a pipe), or -1 */
	uint64_t start;
	const struct fl_top *op;
	uint64_t seq;
	size_t client;
	char key[48];
};

struct prober {
	struct fl_run *r;
	size_t i;
	int log_fd;
	struct inflight fl[FL_PROBE_MAX_INFLIGHT];
	size_t n;
	struct fl_clients clients; /* one per run in flight: history processes */
	struct fl_sel_rng rng; /* the mix: which operation each slot runs */
	uint64_t total_weight;
};

static bool op_reads(const struct fl_top *op)
{
	return !strcmp(op->f, "read") || !strcmp(op->f, "get") || !strcmp(op->f, "cas");
}

/* Record a run that ended (code: its exit status, -1 if it never ran); a
 * skipped slot has no client. */
static void probe_record(struct prober *p, const struct inflight *f, enum fl_op_status st, int code,
			 bool skipped)
{
	struct fl_op op = {
		.start_ns = f->start, .end_ns = fl_clock_mono_ns(), .status = st, .skipped = skipped
	};
	char out[64] = "";
	ssize_t got = f->out_fd >= 0 ? read(f->out_fd, out, sizeof(out) - 1) : 0;

	out[got > 0 ? got : 0] = 0;
	fl_first_line(out);
	snprintf(op.node, sizeof(op.node), "%s", p->r->nodes[p->i].name);
	snprintf(op.op, sizeof(op.op), "%s", f->op->name);
	fl_probe_outcome(f->op, f->seq, f->key, st, code, out, &op);
	if (!skipped) {
		op.process = p->clients.process[f->client];
		fl_clients_done(&p->clients, f->client, op.unknown);
	}
	fl_results_op(p->r->res, &op);
}

/* The operation of the next slot, by the mix's weights (seeded). */
static const struct fl_top *probe_pick(struct prober *p)
{
	const struct fl_sut *t = p->r->t;
	uint64_t x;

	if (t->n_ops == 1)
		return &t->ops[0];
	x = fl_sel_rng_next(&p->rng) % p->total_weight;
	for (size_t k = 0; k < t->n_ops; k++) {
		if (x < t->ops[k].weight)
			return &t->ops[k];
		x -= t->ops[k].weight;
	}
	return &t->ops[0];
}

static uint64_t next_seq(struct fl_run *r)
{
	uint64_t seq;

	pthread_mutex_lock(&r->seq_lock);
	seq = r->seq++;
	pthread_mutex_unlock(&r->seq_lock);
	return seq;
}

/* The command, env and key of run f, expanded for the node; false when
 * the node left (its probe thread is ending) or a template failed. */
static bool probe_expand(struct prober *p, struct inflight *f, char **cmd, char ***env)
{
	struct fl_run *r = p->r;
	char *key = NULL;
	struct fl_tvars v;
	struct fl_err err;
	bool ok;

	pthread_rwlock_rdlock(&r->topo_lock);
	fl_run_vars(r, p->i, &v);
	v.seq = f->seq;
	err.msg[0] = 0;
	ok = r->tidx[p->i] >= 0 && !fl_template_expand(f->op->run, &v, cmd, &err) &&
	     !fl_run_env(r, p->i, f->seq, f->op->env, f->op->n_env, env, &err) &&
	     (!f->op->key || !fl_template_expand(f->op->key, &v, &key, &err));
	pthread_rwlock_unlock(&r->topo_lock);
	if (!ok && err.msg[0])
		pr_warn("probe on %s: %s", r->nodes[p->i].name, err.msg);
	snprintf(f->key, sizeof(f->key), "%s", key ? key : "");
	free(key);
	return ok;
}

/* Start one run of the probe command; it joins the in-flight set. When
 * `concurrent` runs are still in flight, the slot's operation is not
 * started and counts as a failed one (open loop: the schedule is kept). */
static void probe_spawn(struct prober *p, uint64_t slot)
{
	struct fl_run *r = p->r;
	struct fl_spawn sp = { .netns = r->nodes[p->i].netns,
			       .out_fd = p->log_fd,
			       .die_with_parent = true,
			       .user = r->t->user };
	struct inflight f = {
		.op = probe_pick(p), .seq = next_seq(r), .start = slot, .fd = -1, .out_fd = -1
	};
	char *cmd = NULL, **env = NULL;
	int pipefd[2] = { -1, -1 };

	if (p->n >= r->t->concurrent) {
		probe_record(p, &f, FL_OP_FAIL, -1, true);
		return;
	}
	if (!probe_expand(p, &f, &cmd, &env))
		goto out;
	if (op_reads(f.op) && !pipe2(pipefd, O_CLOEXEC | O_NONBLOCK)) {
		sp.out_fd = pipefd[1]; /* stdout: the value; stderr to the log */
		sp.split_err = true;
		sp.err_fd = p->log_fd;
		f.out_fd = pipefd[0];
	}
	sp.cmd = cmd;
	sp.env = env;
	f.client = fl_clients_take(&p->clients);
	f.start = fl_clock_mono_ns();
	if (fl_proc_spawn(&sp, &f.pid)) {
		probe_record(p, &f, FL_OP_FAIL, -1, false);
		if (f.out_fd >= 0)
			close(f.out_fd);
	} else {
		f.fd = (int)syscall(SYS_pidfd_open, f.pid, 0);
		p->fl[p->n++] = f;
	}
	if (pipefd[1] >= 0)
		close(pipefd[1]);
out:
	free(cmd);
	fl_run_env_free(env);
}

/* Reap the runs that ended, kill those past their timeout. */
static void probe_reap(struct prober *p)
{
	uint64_t now = fl_clock_mono_ns();

	for (size_t k = 0; k < p->n;) {
		struct inflight *f = &p->fl[k];
		siginfo_t si = { .si_pid = 0 };
		enum fl_op_status st;
		int code = 0;

		if (!waitid(P_PID, (id_t)f->pid, &si, WEXITED | WNOHANG) && si.si_pid) {
			code = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
			st = code == 0 ? FL_OP_OK : FL_OP_FAIL;
		} else if (f->fd < 0 || now >= f->start + p->r->t->timeout_ns) {
			uint64_t due = f->start + p->r->t->timeout_ns;
			int ret = fl_proc_wait(f->pid, due > now ? due - now : 1, &code);

			st = ret == -ETIMEDOUT ? FL_OP_TIMEOUT : code ? FL_OP_FAIL : FL_OP_OK;
		} else {
			k++;
			continue;
		}
		probe_record(p, f, st, code, false);
		if (f->fd >= 0)
			close(f->fd);
		if (f->out_fd >= 0)
			close(f->out_fd);
		p->fl[k] = p->fl[--p->n];
	}
}

/* Sleep until t, or until a run in flight ends or times out. */
static void probe_wait(struct prober *p, uint64_t t)
{
	struct pollfd pfd[FL_PROBE_MAX_INFLIGHT];
	uint64_t now = fl_clock_mono_ns();
	struct timespec ts;

	for (size_t k = 0; k < p->n; k++) {
		pfd[k] = (struct pollfd){ .fd = p->fl[k].fd, .events = POLLIN };
		if (p->fl[k].start + p->r->t->timeout_ns < t)
			t = p->fl[k].start + p->r->t->timeout_ns;
	}
	if (t <= now)
		return;
	ts = fl_ns_ts(t - now);
	ppoll(pfd, p->n, &ts, NULL);
}

/* Probe runs start on a fixed grid of slots (every T from t0), whether or
 * not earlier ones have finished, up to `concurrent` in flight on a node;
 * a slot that finds them all busy is a failed operation. Slots that passed
 * while this thread itself was late (a busy machine) are skipped. */
static void *probe_thread(void *arg)
{
	struct probe_arg *a = arg;
	struct prober p = { .r = a->r,
			    .i = a->i,
			    .clients = { .next = &a->r->n_process, .lock = &a->r->seq_lock } };
	struct fl_run *r = p.r;
	uint64_t every = r->t->every_ns, next = r->t0;
	char path[700];

	free(a);
	fl_sel_rng_init(&p.rng, r->seed, p.i, UINT32_MAX);
	for (size_t k = 0; k < r->t->n_ops; k++)
		p.total_weight += r->t->ops[k].weight;
	snprintf(path, sizeof(path), "%s/logs/probe-%s.log", r->dir, r->nodes[p.i].name);
	p.log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	while (!r->stop_load && !r->nodes[p.i].stop_probe && next < r->t_end) {
		uint64_t now = fl_clock_mono_ns();

		probe_reap(&p);
		if (now < next) {
			probe_wait(&p, next);
			continue;
		}
		probe_spawn(&p, next);
		next += every;
		if (next <= now) /* slots that passed while this thread was late */
			next += ((now - next) / every + 1) * every;
	}
	while (p.n) { /* the last runs end or time out */
		probe_wait(&p, UINT64_MAX);
		probe_reap(&p);
	}
	if (p.log_fd >= 0)
		close(p.log_fd);
	return NULL;
}

static bool load_on(const struct fl_run *r, size_t i)
{
	return fl_tplan_on(r->t->load_node, &r->plan, i);
}

static int start_workload(struct fl_run *r, size_t i)
{
	struct fl_run_node *n = &r->nodes[i];
	char env_ops[700], env_node[64], *extra[2] = { env_ops, env_node }, *cmd = NULL,
					 **env = NULL;
	struct fl_spawn sp = { .netns = n->netns, .out_fd = n->log_fd, .journal = r->st };
	struct fl_tvars v;
	struct fl_err err;
	int ret;

	snprintf(env_ops, sizeof(env_ops), "FALLACY_OPS=%s/logs/workload-%s.jsonl", r->dir,
		 n->name);
	memcpy(n->ops_file, env_ops + 12, strlen(env_ops + 12) + 1);
	snprintf(env_node, sizeof(env_node), "FALLACY_NODE=%s", n->name);
	fl_run_vars(r, i, &v);
	ret = fl_template_expand(r->t->load_run, &v, &cmd, &err) ?:
		      fl_run_env(r, i, 0, extra, 2, &env, &err);
	if (ret) {
		pr_err("workload: %s", err.msg);
		free(cmd);
		return ret;
	}
	sp.cmd = cmd;
	sp.env = env;
	sp.user = r->t->user;
	ret = fl_proc_spawn(&sp, &n->load_pid);
	free(cmd);
	fl_run_env_free(env);
	return ret;
}

static void ingest_workload(struct fl_run *r, struct fl_run_node *n, bool final);

int fl_run_load_node(struct fl_run *r, size_t i)
{
	struct probe_arg *a;
	int ret;

	if (!load_on(r, i))
		return 0;
	if (r->t->is_workload)
		return start_workload(r, i);
	a = malloc(sizeof(*a));
	if (!a)
		return -ENOMEM;
	*a = (struct probe_arg){ r, i };
	r->nodes[i].stop_probe = 0;
	ret = -pthread_create(&r->nodes[i].probe, NULL, probe_thread, a);
	if (ret)
		free(a);
	else
		r->nodes[i].probing = true;
	return ret;
}

void fl_run_load_node_stop(struct fl_run *r, size_t i)
{
	struct fl_run_node *n = &r->nodes[i];

	n->stop_probe = 1;
	if (n->probing) {
		pthread_join(n->probe, NULL);
		n->probing = false;
	}
	if (n->load_pid > 0) {
		fl_proc_stop(n->load_pid, r->t->stop_grace_ns, NULL);
		n->load_pid = 0;
		ingest_workload(r, n, true);
	}
}

int fl_run_load_start(struct fl_run *r)
{
	int ret = 0;

	for (size_t i = 0; i < r->n_nodes && !ret; i++)
		if (r->nodes[i].present)
			ret = fl_run_load_node(r, i);
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

/* Read the complete lines the workload appended since the last call (final:
 * also a last line without newline). */
static void ingest_workload(struct fl_run *r, struct fl_run_node *n, bool final)
{
	FILE *f = fopen(n->ops_file, "r");
	char *line = NULL, where[760];
	size_t cap = 0;
	ssize_t len;

	if (!f) {
		if (final && !n->ops_lines)
			pr_warn("workload on %s wrote no operations to $FALLACY_OPS", n->name);
		return;
	}
	fseeko(f, n->ops_off, SEEK_SET);
	while ((len = getline(&line, &cap, f)) > 0) {
		struct fl_ydoc *d = NULL;
		struct fl_err err;
		struct fl_op op;

		if (line[len - 1] != '\n' && !final)
			break; /* still being written */
		n->ops_off += len;
		snprintf(where, sizeof(where), "%s:%zu", n->ops_file, ++n->ops_lines);
		if (fl_yaml_load(where, line, &d, &err) || !d->root || d->root->type != FL_Y_MAP ||
		    workload_op(d->root, n->name, &op)) {
			if (!n->ops_bad++)
				pr_warn("%s: not an operation line (see docs/scenarios.md)", where);
		} else if (op.start_ns >= r->t0 && op.start_ns < r->t_end) {
			fl_results_op(r->res, &op);
		}
		fl_yaml_free(d);
	}
	if (final && n->ops_bad)
		pr_warn("workload on %s: %zu bad lines ignored", n->name, n->ops_bad);
	free(line);
	fclose(f);
}

void fl_run_load_poll(struct fl_run *r)
{
	pthread_rwlock_rdlock(&r->topo_lock);
	for (size_t i = 0; i < r->n_nodes; i++)
		if (r->nodes[i].load_pid > 0)
			ingest_workload(r, &r->nodes[i], false);
	pthread_rwlock_unlock(&r->topo_lock);
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
			ingest_workload(r, n, true);
		}
	}
}
