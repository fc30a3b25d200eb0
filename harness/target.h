/* SPDX-License-Identifier: MIT */
/* Target files: how to start the system under test on every lab node and
 * how to exercise it (a probe command the harness runs every T, or a
 * long-running workload writing one JSON line per operation). Commands
 * are templates: {{node}} {{ip}} {{ip6}} {{index}} {{nodes}} {{ips}}
 * {{peers}} {{endpoints}} {{seq}} {{name}} {{lab}} {{dir}} {{ip:NODE}},
 * and with `tls: true` {{ca}} {{cert}} {{key}}: PEM files of a CA and of
 * the node's certificate (its name and addresses, server and client use)
 * made for the run with openssl and removed with its scratch folder.
 * {{verify}} is the target's verify command, expanded for the node. */
#ifndef FALLACY_HARNESS_TARGET_H
#define FALLACY_HARNESS_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "log.h"

/* Defaults of the target file (docs/scenarios.md): how long readiness may
 * take, a probe's period and timeout, the grace between SIGTERM and
 * SIGKILL when the target stops. */
#define FL_TARGET_READY_TIMEOUT_NS (30 * FL_NSEC_PER_SEC)
#define FL_TARGET_PROBE_EVERY_NS (100 * FL_NSEC_PER_MSEC)
#define FL_TARGET_PROBE_TIMEOUT_NS FL_NSEC_PER_SEC
#define FL_TARGET_STOP_GRACE_NS (5 * FL_NSEC_PER_SEC)

struct fl_sut {
	char *file;
	char *name;
	size_t nodes;
	char **requires; /* tool names */
	size_t n_requires;
	/* start */
	char *start_run;
	char *ready_run; /* NULL: ready as soon as started */
	uint64_t ready_timeout_ns;
	char *user; /* NULL: root */
	char **env; /* KEY=VALUE, templates */
	size_t n_env;
	uint64_t stop_grace_ns;
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
	size_t concurrent; /* probe runs in flight per node, default 1 */
	int line, col; /* of the probe/workload key, for messages */
};

int fl_sut_load(const char *file, const char *text, struct fl_sut **out, struct fl_err *err);
void fl_sut_free(struct fl_sut *t);

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
};

struct fl_tvars {
	const struct fl_sut *t;
	const char *scenario; /* {{name}} is the target's name, {{scenario}} this */
	const char *lab;
	const char *dir; /* {{dir}}: a per-node working folder */
	const char *tls_dir; /* {{ca}} = TLS_DIR/ca.pem, {{cert}} NODE.pem, {{key}} NODE.key */
	const struct fl_tnode *nodes;
	size_t n_nodes;
	size_t self; /* index of {{node}} */
	uint64_t seq;
};

/* Expand tmpl into a malloc'd string. Unknown variables are errors. */
int fl_template_expand(const char *tmpl, const struct fl_tvars *v, char **out, struct fl_err *err);
/* Check a template's variables without expanding (for load-time errors). */
int fl_template_check(const char *tmpl, struct fl_err *err);

#endif
