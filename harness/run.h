/* SPDX-License-Identifier: MIT */
/* One scenario run against one target on a fresh lab: start-up, readiness,
 * load (probes or workloads), the timeline, command checks, ordered
 * shutdown, the lab down, checks and the results folder. */
#ifndef FALLACY_RUN_H
#define FALLACY_RUN_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "results.h"
#include "scenario.h"
#include "select.h"
#include "target.h"
#include "timeline.h"

struct fl_capture;
struct fl_invrun;
struct fl_lab;
struct fl_state;

struct fl_run_opts {
	const char *out; /* results folder; NULL: results/NAME-TIMESTAMP */
	const char *lab; /* lab name; NULL: fr-PID-N */
	uint64_t seed;
	bool has_seed;
	bool progress_tty; /* one live line on a TTY, else plain lines */
	bool capture; /* pcap/NODE.pcap of every node's eth0 */
	size_t nodes; /* --nodes N: the lab's size (0: the scenario's, else the target's) */
	double time_scale; /* --time-scale F (0: 1) */
	bool seed_random; /* the seed was drawn at random (the plan says so) */
	/* --inventory FILE: no lab; the nodes are the inventory's (invrun.h) */
	const char *inventory;
	uint64_t lease_ns; /* --lease: of every put to an agent */
};

#define FL_RUN_MAX_NODES 64

/* What the target's processes are doing (runproc.c). */
enum fl_proc_state {
	FL_PROC_RUNNING,
	FL_PROC_PAUSED, /* SIGSTOP (pause:/stop: steps), until SIGCONT */
	FL_PROC_KILLED, /* SIGKILL (kill: steps), until restarted or healed */
	FL_PROC_EXITED, /* by itself */
};

/* One process of a node: one item of the target's start: on this node. */
struct fl_run_proc {
	const struct fl_tstart *item;
	pid_t pid; /* 0 when not running */
	enum fl_proc_state state;
	unsigned int starts;
};

struct fl_run_node {
	char name[16];
	char netns[64];
	char ip[48], ip6[64];
	const char *role; /* the target's role of the node, NULL for none */
	struct fl_run_proc procs[FL_TARGET_MAX_STARTS];
	size_t n_procs;
	int log_fd;
	pid_t load_pid; /* a workload process */
	char ops_file[700]; /* the workload's $FALLACY_OPS */
	off_t ops_off; /* read so far */
	size_t ops_lines, ops_bad;
	char dir[128]; /* {{dir}}: scratch folder, removed with the lab */
	pthread_t probe;
	bool probing;
	volatile sig_atomic_t stop_probe; /* its probe thread ends (the node leaves) */
	bool present; /* in the lab now; a node that left keeps its slot */
	bool was_started; /* its target ran when it left (healing the leave restarts it) */
	struct fl_capture *cap;
};

struct fl_run {
	const struct fl_scenario *sc;
	const struct fl_sut *t;
	const struct fl_run_opts *o;
	struct fl_lab *lab;
	char lab_name[32];
	struct fl_state *st;
	struct fl_results *res;
	struct fl_lab *lab0; /* the lab as the run started: what heals restore */
	/* Run nodes keep their slot for the whole run (probe threads index
	 * them); tnodes are the present ones, in the lab's order, as templates
	 * see them ({{nodes}}, {{endpoints}}, {{index}}). A topology step
	 * changes nodes, tnodes and lab under topo_lock (write); probe
	 * threads expand their templates under it (read). */
	struct fl_run_node nodes[FL_RUN_MAX_NODES];
	size_t n_nodes;
	struct fl_tplan plan; /* names and roles of the nodes (a node that joins is added) */
	struct fl_sel_env sel; /* what the timeline's selectors resolve against */
	struct fl_sel_picks picks; /* what the steps picked (sel.picks) */
	struct fl_tnode tnodes[FL_RUN_MAX_NODES];
	size_t n_tnodes;
	int tidx[FL_RUN_MAX_NODES]; /* node slot -> index in tnodes, -1 if not present */
	pthread_rwlock_t topo_lock;
	/* the target's processes (runproc.c): steps, the control socket and
	 * the shutdown change them under this lock */
	pthread_mutex_t proc_lock;
	unsigned int n_kill, n_pause, n_restart; /* process faults, for the summary */
	struct fl_runctl *ctl; /* `fallacy process` requests (runctl.c) */
	char dir[512];
	char scratch[80]; /* /tmp/fallacy-LAB.RANDOM, journaled with the lab */
	char tls_dir[100]; /* SCRATCH/tls with tls: true, else "" */
	uint64_t seed;
	uint64_t t0, t_end;
	volatile sig_atomic_t stop_load;
	uint64_t seq; /* {{seq}} of probes, shared by all nodes */
	uint64_t n_process; /* history process numbers given out (under seq_lock) */
	pthread_mutex_t seq_lock;
	FILE *fault_samples; /* fault-counters.jsonl: the faults' counters, for the report */
	char counters[8192]; /* JSON members "ID": {...} of healed faults */
	size_t counters_len;
	/* counters.jsonl (runstats.c): transport counters every second and at
	 * every step */
	FILE *samples;
	pthread_t sampler;
	bool sampling;
	bool sample_warned;
	pthread_mutex_t sample_lock; /* the flags below and the condition */
	pthread_mutex_t sample_io; /* one sample at a time into the file */
	pthread_cond_t sample_cond;
	bool sample_stop, sample_step;
	pid_t herd_pid[FL_RUN_MAX_NODES]; /* a scenario's herd clients (runherd.c) */
	struct fl_invrun *inv; /* over an inventory: the nodes' agents; else NULL */
};

/* Set by SIGINT/SIGTERM handlers of the command. */
extern volatile sig_atomic_t fl_run_interrupted;

/* The lab's size: --nodes, else the scenario's nodes:, else the target's. */
size_t fl_run_nodes(const struct fl_scenario *sc, const struct fl_sut *t,
		    const struct fl_run_opts *o);

/* Run sc against t; fills suite (always, also on errors). Returns 0 when
 * the run completed (checks may have failed) or -errno after an error
 * (suite->error says what). */
int fl_run_scenario(const struct fl_scenario *sc, const struct fl_sut *t,
		    const struct fl_run_opts *o, struct fl_suite *suite);
/* --dry-run: print the resolved plan. */
/* Every step of sc, its selectors resolved against the nodes and roles a
 * run of t on n_nodes will have, checked by its kind (fault steps by
 * `fault add`'s own parser); nothing is created. */
int fl_run_validate(const struct fl_scenario *sc, const struct fl_sut *t, size_t n_nodes,
		    struct fl_err *err);
/* The run's seed: --seed, else the scenario's, else random. */
uint64_t fl_run_seed(const struct fl_scenario *sc, const struct fl_run_opts *o);
void fl_run_plan(const struct fl_scenario *sc, const struct fl_sut *t, const struct fl_run_opts *o,
		 FILE *f);

/* load (probes/workloads), runload.c */
int fl_run_load_start(struct fl_run *r);
void fl_run_load_stop(struct fl_run *r);
/* Take in what workloads wrote so far (live progress). */
void fl_run_load_poll(struct fl_run *r);
/* template variables of node i (its slot) */
void fl_run_vars(const struct fl_run *r, size_t i, struct fl_tvars *v);
/* A probe thread (or workload) for node slot i, from now on; stop one
 * (after its runs in flight end). */
int fl_run_load_node(struct fl_run *r, size_t i);
void fl_run_load_node_stop(struct fl_run *r, size_t i);

/* The environment of a command on node i (i == SIZE_MAX: on no node): the
 * target's env:, the env of every start item of the node, then extra
 * (KEY=VALUE templates, may be NULL), expanded ({{seq}} and {{value}} are
 * seq); NULL-terminated, malloc'd (fl_run_env_free). */
int fl_run_env(const struct fl_run *r, size_t i, uint64_t seq, char *const *extra, size_t n_extra,
	       char ***out, struct fl_err *err);
void fl_run_env_free(char **env);

/* a scenario's herd (runherd.c): its nodes and the target's protocol
 * checked against the plan; one client process per node from t0; stopped,
 * merged into herd.jsonl and summarised (herd-summary.json) */
int fl_run_herd_validate(const struct fl_scenario *sc, const struct fl_sut *t,
			 const struct fl_sel_env *e, struct fl_err *err);
int fl_run_herd_start(struct fl_run *r);
void fl_run_herd_stop(struct fl_run *r);

/* the target's processes, runproc.c */
/* Start every start: item in order (each item's nodes ready before the
 * next starts), then the setup: commands. */
int fl_run_targets_start(struct fl_run *r, struct fl_err *err);
/* teardown: commands (before the targets stop; failures are warnings). */
void fl_run_teardown(struct fl_run *r);
/* Stop every process, last started first (SIGCONT to paused ones). */
void fl_run_targets_stop(struct fl_run *r);
/* For topology steps: start the start items of node slot i (a node that
 * joined), in order, each ready before the next (its ready command,
 * bounded by the item's timeout); stop them (it left, or is leaving: why
 * goes into the target-stop events). */
int fl_run_start_target(struct fl_run *r, size_t i, struct fl_err *err);
void fl_run_stop_target(struct fl_run *r, size_t i, const char *why);
/* Did the target run on node when it left (or does it now)? */
bool fl_run_node_started(const struct fl_run *r, const char *node);

enum fl_proc_action {
	FL_PROC_KILL, /* SIGKILL; it stays down */
	FL_PROC_PAUSE, /* SIGSTOP */
	FL_PROC_RESUME, /* SIGCONT */
	FL_PROC_RESTART, /* SIGTERM, the stop grace, SIGKILL, start again */
	FL_PROC_HEAL, /* resume the paused, start the killed */
};
/* Act on node i's processes (name: only that start item's, NULL: all).
 * Events (target-kill, ...) go to events.jsonl. */
int fl_run_proc_act(struct fl_run *r, size_t i, const char *name, enum fl_proc_action a,
		    struct fl_err *err);
const char *fl_proc_action_name(enum fl_proc_action a);
/* The nodes the target's leader: command names now (fl_sel_env.leader). */
int fl_run_leader(void *run, size_t *order, size_t *n, struct fl_err *err);

/* `fallacy process LAB ...` requests while a run is on (runctl.c). */
int fl_runctl_start(struct fl_run *r);
void fl_runctl_stop(struct fl_run *r);

/* A fresh {{dir}} for node slot i (journaled with the lab). */
int fl_run_scratch_dir(struct fl_run *r, size_t i, struct fl_err *err);
/* The names and roles of a run of t on n nodes: the target's plan, with a
 * scenario's lab: file naming the nodes. */
int fl_run_plan_nodes(const struct fl_scenario *sc, const struct fl_sut *t, size_t n,
		      struct fl_tplan *p, struct fl_err *err);

/* topology steps in a run (runtopo.c) */
struct fl_topo;
/* The run's nodes and templates from r->lab (under topo_lock); a node new
 * to the run (it joined) gets a slot, a name in the plan and the
 * selectors, and the role the target's roles: give the next node. */
void fl_run_sync_nodes(struct fl_run *r);
/* One topology change during the run: the target's leave command and the
 * node's probes drained before a node leaves, its target stopped after;
 * after a join, the target's join command and (start) the target on the
 * new node, ready, and its probes. c->lab follows. */
int fl_run_topo(struct fl_run *r, struct fl_step_ctx *c, const struct fl_topo *t, bool start,
		struct fl_err *err);

/* over an inventory (runinv.c): the nodes, their addresses and agents
 * instead of a lab (r->lab is a plan of it: names and addresses) */
int fl_run_inv_up(struct fl_run *r, struct fl_err *err);
/* --capture: every node's agent captures, the pcaps fetched at the end
 * into pcap/NODE.pcap */
int fl_run_inv_capture_start(struct fl_run *r, struct fl_err *err);
void fl_run_inv_capture_stop(struct fl_run *r);

/* transport counters into counters.jsonl, runstats.c: a first sample just
 * before t0 (set it first), then one every second on t0's grid until stop,
 * which takes the last */
int fl_run_samples_start(struct fl_run *r);
void fl_run_sample(struct fl_run *r, const char *reason);
/* Ask the sampler for a "step" sample now, without waiting for it. */
void fl_run_sample_soon(struct fl_run *r);
void fl_run_samples_stop(struct fl_run *r);

/* the fault backend (through the session API), runfaults.c */
/* The context the timeline's steps act in: the lab and its session. */
struct fl_step_ctx;
int fl_run_step_ctx(struct fl_run *r, struct fl_step_ctx *c, struct fl_err *err);
/* Validate the timeline's fault words against the lab, before anything runs. */
int fl_run_faults_check(struct fl_run *r, struct fl_err *err);
/* When the target has a leader: command: ask it once, now (the targets are
 * ready), so a command that finds no leader is an error before the load or
 * any step starts (it names the target's leader: line), and the leader
 * event is there for checks. */
int fl_run_leader_check(struct fl_run *r, struct fl_err *err);

#endif
