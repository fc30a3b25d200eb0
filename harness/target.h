/* SPDX-License-Identifier: MIT */
/* Target files: how to start the system under test on every lab node and
 * how to exercise it (a probe command the harness runs every T, or a
 * long-running workload writing one JSON line per operation). Commands
 * are templates: {{node}} {{ip}} {{ip6}} {{index}} {{nodes}} {{ips}}
 * {{peers}} {{endpoints}} {{seq}} {{value}} {{name}} {{lab}} {{dir}} {{role}}
 * {{majority}} {{register}} {{target_dir}} {{ip:NODE}} {{ip:ROLE}} {{node:ROLE}}
 * {{nodes:ROLE}} {{ips:ROLE}} {{cluster_state}} {{converged}}, and with
 * `tls: true` {{ca}} {{cert}} {{key}}: PEM files of a CA and of the node's
 * certificate (its name and addresses, server and client use) made for the
 * run with openssl and removed with its scratch folder. {{verify}} is the
 * target's verify command, expanded for the node. */
#ifndef FALLACY_HARNESS_TARGET_H
#define FALLACY_HARNESS_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "herd.h"
#include "log.h"

/* Defaults of the target file (docs/scenarios.md): how long readiness may
 * take, a probe's period and timeout, the grace between SIGTERM and
 * SIGKILL when the target stops. */
#define FL_TARGET_READY_TIMEOUT_NS (30 * FL_NSEC_PER_SEC)
#define FL_TARGET_PROBE_EVERY_NS (100 * FL_NSEC_PER_MSEC)
#define FL_TARGET_PROBE_TIMEOUT_NS FL_NSEC_PER_SEC
#define FL_TARGET_STOP_GRACE_NS (5 * FL_NSEC_PER_SEC)
/* nodes: when the target does not say; a leader: command's and a setup or
 * teardown command's default timeouts */
#define FL_TARGET_NODES 3
#define FL_TARGET_LEADER_TIMEOUT_NS (5 * FL_NSEC_PER_SEC)
#define FL_TARGET_CMD_TIMEOUT_NS (30 * FL_NSEC_PER_SEC)

#define FL_TARGET_MAX_ROLES 8
#define FL_TARGET_MAX_STARTS 8
#define FL_TARGET_MAX_CMDS 8
#define FL_TARGET_MAX_OPS 8

/* roles: {primary: 1, replica: rest}: the first nodes get the first role. */
struct fl_trole {
	char *name;
	size_t count;
	bool rest; /* the nodes the other roles leave */
};

/* One item of start: (file order): a process on each of its nodes. Each
 * item's nodes are started, then ready, before the next item starts. */
struct fl_tstart {
	char *name; /* the process's name (default: its role, or "target") */
	char *on; /* a role or node (NULL: every node) */
	char *run;
	char *ready_run; /* NULL: ready as soon as started */
	uint64_t ready_timeout_ns;
	char *user; /* NULL: root */
	char **env; /* KEY=VALUE templates; reach every command on its nodes */
	size_t n_env;
	int line, col;
};

/* setup:, teardown: and leader: commands. */
struct fl_tcmd {
	char *on; /* a role or node (NULL: every node; leader: tried in turn) */
	char *run;
	uint64_t timeout_ns;
	int line, col;
};

/* One operation of a probe (ops: {write: ..., read: ...}). */
struct fl_top {
	char *name;
	char *run;
	char **env;
	size_t n_env;
	uint64_t weight; /* mix: (default 1) */
	bool uses_value; /* its run has {{value}}: recorded as the op's value */
	/* its function in the history (docs/consistency.md): read, write,
	 * cas, get, put, append, or "" (none: not part of the history). A read's (get's) stdout is the value it read (empty: nothing);
	 * a cas prints the value it expected and writes {{value}}. Exit 0:
	 * ok; 1: failed (a write took no effect, a cas's compare did not
	 * match); any other status or a timeout: unknown (info) */
	char f[8];
	char *key; /* a template: the key in the history, NULL: none */
};

struct fl_sut {
	char *file;
	char *file_dir; /* the target file's folder, absolute: {{target_dir}} */
	char *name;
	size_t nodes; /* default FL_TARGET_NODES; run --nodes overrides */
	struct fl_trole roles[FL_TARGET_MAX_ROLES];
	size_t n_roles;
	int roles_line, roles_col;
	char *names; /* node names: a template of {{role}} {{rank}} {{number}}; NULL: n1.. */
	struct fl_tstart starts[FL_TARGET_MAX_STARTS];
	size_t n_starts;
	struct fl_tcmd setup[FL_TARGET_MAX_CMDS], teardown[FL_TARGET_MAX_CMDS];
	size_t n_setup, n_teardown;
	struct fl_tcmd *leader; /* NULL: none (leader/primaries cannot be used) */
	char **tenv; /* the target's env: (KEY=VALUE templates), every command */
	size_t n_tenv;
	struct fl_top ops[FL_TARGET_MAX_OPS]; /* the probe's operations */
	size_t n_ops;
	char **requires; /* tool names */
	size_t n_requires;
	/* start: the first item of starts[] (the only one of a start: map) */
	char *start_run;
	char *ready_run; /* NULL: ready as soon as started */
	uint64_t ready_timeout_ns;
	char *user; /* NULL: root */
	char **env; /* KEY=VALUE, templates: a start: map's env (every command) */
	size_t n_env;
	uint64_t stop_grace_ns;
	/* membership changes (topology steps join/leave): run on another
	 * member before the node's target starts / before the node leaves,
	 * with {{node}} {{ip}} the node and the lists ({{nodes}},
	 * {{endpoints}}, {{peers}}) the other members; NULL: none */
	char *join_run, *leave_run;
	uint64_t member_timeout_ns;
	/* {{converged}}: exits 0 when the system's own view of its members is
	 * {{nodes}}; NULL: "true" (a system without membership) */
	char *converged;
	bool tls; /* certificates for the run: {{ca}} {{cert}} {{key}} */
	/* verify: a command run on a node (by a scenario's command check as
	 * {{verify}}) that exits 0 when every value the load wrote reads back
	 * as written; NULL if the target has none */
	char *verify;
	/* per-node strings joined into {{peers}} and {{endpoints}} */
	char *peer; /* e.g. "{{node}}=http://{{ip}}:2380" */
	char *endpoint; /* e.g. "{{ip}}:2379"; default "{{ip}}" */
	/* health: a command that exits 0 when the system itself says it is
	 * healthy (scenario checks run it as {{health}}); NULL if none */
	char *health;
	/* probe or workload */
	bool is_workload;
	char *load_node; /* a node name or "all" */
	char *load_run;
	char *load_op; /* op name for probes; default "probe" */
	uint64_t every_ns, timeout_ns;
	size_t concurrent; /* probe runs in flight per node, default timeout/every + 1 */
	/* {{register}} = {{seq}} mod registers (default 1): the history's
	 * operations spread over independent registers, each checked on its
	 * own with fewer operations in flight at once */
	uint64_t registers;
	int line, col; /* of the probe/workload key, for messages */
	struct fl_therd herd; /* herd: the protocol a scenario's herd speaks */
};

int fl_sut_load(const char *file, const char *text, struct fl_sut **out, struct fl_err *err);
void fl_sut_free(struct fl_sut *t);

/* Does t record values (an op with f: a history for the history checks)? */
bool fl_sut_has_history(const struct fl_sut *t);

/* The Debian package that ships tool, or NULL if unknown. */
const char *fl_tool_package(const char *tool);
/* Every tool of requires[] must be on PATH; err names the packages of the
 * missing ones and the apt-get command. */
int fl_sut_check_tools(const struct fl_sut *t, struct fl_err *err);

/* One node as templates see it. */
struct fl_tnode {
	const char *name;
	const char *ip; /* dotted IPv4 */
	const char *ip6; /* "" when the lab has no IPv6 */
	const char *role; /* NULL: none */
};

/* The nodes a run of t on n nodes has: names and roles, in lab order. */
struct fl_tplan {
	size_t n;
	char names[64][16];
	const char *roles[64]; /* t's role names, NULL for none */
};
/* Names and roles for n nodes; -EINVAL (err: "FILE:LINE:COL: ...") when
 * the roles do not fit n or the names are bad or repeat. */
int fl_sut_plan(const struct fl_sut *t, size_t n, struct fl_tplan *p, struct fl_err *err);
/* Does start item s run on node i of plan p? */
bool fl_tstart_on(const struct fl_tstart *s, const struct fl_tplan *p, size_t i);
/* Is on (a role, a node, "all" or NULL) node i of p? */
bool fl_tplan_on(const char *on, const struct fl_tplan *p, size_t i);

struct fl_tvars {
	const struct fl_sut *t;
	const char *scenario; /* {{name}} is the target's name, {{scenario}} this */
	const char *lab;
	const char *dir; /* {{dir}}: a per-node working folder */
	const char *tls_dir; /* {{ca}} = TLS_DIR/ca.pem, {{cert}} NODE.pem, {{key}} NODE.key */
	const struct fl_tnode *nodes;
	size_t n_nodes;
	size_t self; /* index of {{node}} */
	uint64_t seq; /* {{seq}} and {{value}} */
	const char *cluster_state; /* {{cluster_state}}: "new", or "existing" for a node that
				    * joins a running system; NULL = "new" */
	/* {{node}}, {{ip}}, {{ip6}}, {{dir}} of a node that is not in nodes[]
	 * (the one joining or leaving, for the target's join/leave commands,
	 * whose lists are the other members); NULL: nodes[self] */
	const struct fl_tnode *other;
};

/* Expand tmpl into a malloc'd string. Unknown variables are errors;
 * -ENOENT when it uses a command the target does not have ({{verify}},
 * {{health}}). */
int fl_template_expand(const char *tmpl, const struct fl_tvars *v, char **out, struct fl_err *err);
/* Check a template's variables without expanding (for load-time errors). */
int fl_template_check(const char *tmpl, struct fl_err *err);

#endif
