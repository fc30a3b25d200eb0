// SPDX-License-Identifier: MIT
/* Target files and command templates. */
#include "target.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parse.h"
#include "select.h"
#include "target_int.h"
#include "yaml.h"
#include "fallacy/analyzer.h"

static const struct {
	const char *tool, *pkg;
} tool_pkgs[] = {
	{ "etcd", "etcd-server" },
	{ "etcdctl", "etcd-client" },
	{ "redis-server", "redis-server" },
	{ "redis-cli", "redis-tools" },
	{ "redis-benchmark", "redis-tools" },
	{ "python3", "python3" },
	{ "socat", "socat" },
	{ "curl", "curl" },
	{ "wget", "wget" },
	{ "iperf3", "iperf3" },
	{ "nc", "netcat-openbsd" },
	{ "ping", "iputils-ping" },
	{ "jq", "jq" },
	{ "sh", "dash" },
	{ "bash", "bash" },
	{ "timeout", "coreutils" },
	{ "setpriv", "util-linux" },
	{ "openssl", "openssl" },
};

static const char *const tvars[] = {
	"node",	      "ip",   "ip6",	  "index", "nodes",  "ips",    "peers",		"endpoints",
	"seq",	      "name", "scenario", "lab",   "dir",    "role",   "value",		"majority",
	"target_dir", "ca",   "cert",	  "key",   "verify", "health", "cluster_state", "converged",
	"register",   NULL
};

const char *fl_tool_package(const char *tool)
{
	for (size_t i = 0; i < sizeof(tool_pkgs) / sizeof(tool_pkgs[0]); i++)
		if (!strcmp(tool_pkgs[i].tool, tool))
			return tool_pkgs[i].pkg;
	return NULL;
}

static bool on_path(const char *tool)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (strchr(tool, '/'))
		return access(tool, X_OK) == 0;
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
	while (*path) {
		size_t n = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, tool);
		if (n && access(buf, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

bool fl_sut_has_history(const struct fl_sut *t)
{
	for (size_t i = 0; i < t->n_ops; i++)
		if (t->ops[i].f[0])
			return true;
	return false;
}

int fl_sut_check_tools(const struct fl_sut *t, struct fl_err *err)
{
	char tools[512] = "", pkgs[512] = "";
	size_t to = 0, po = 0;

	for (size_t i = 0; i < t->n_requires; i++) {
		const char *p = fl_tool_package(t->requires[i]);

		if (on_path(t->requires[i]))
			continue;
		to += snprintf(tools + to, to < sizeof(tools) ? sizeof(tools) - to : 0, "%s%s",
			       to ? ", " : "", t->requires[i]);
		po += snprintf(pkgs + po, po < sizeof(pkgs) ? sizeof(pkgs) - po : 0, " %s",
			       p ? p : t->requires[i]);
	}
	if (!to)
		return 0;
	fl_err_set(err, "target '%s' needs %s, not found on PATH; install with: apt-get install%s",
		   t->name, tools, pkgs);
	return -ENOENT;
}

/* Find the next {{var}} at *o; *vlen is the length of var (without braces).
 * 1: found, 0: none left, -EINVAL: a '{{' is not closed. */
static int next_var(const char *s, const char **o, const char **var, size_t *vlen,
		    const char **after, struct fl_err *err)
{
	const char *c;

	*o = strstr(s, "{{");
	if (!*o)
		return 0;
	c = strstr(*o + 2, "}}");
	if (!c) {
		fl_err_set(err, "unclosed '{{' in \"%s\"", s);
		return -EINVAL;
	}
	*var = *o + 2;
	*vlen = (size_t)(c - *o - 2);
	*after = c + 2;
	while (*vlen && **var == ' ')
		(*var)++, (*vlen)--;
	while (*vlen && (*var)[*vlen - 1] == ' ')
		(*vlen)--;
	return 1;
}

static int var_known(const char *var, size_t len, struct fl_err *err)
{
	char name[64];
	const char *s;

	snprintf(name, sizeof(name), "%.*s", (int)len, var);
	if (!strncmp(name, "ip:", 3) || !strncmp(name, "ip6:", 4) || !strncmp(name, "node:", 5) ||
	    !strncmp(name, "ips:", 4) || !strncmp(name, "nodes:", 6))
		return 0;
	for (size_t i = 0; tvars[i]; i++)
		if (!strcmp(tvars[i], name))
			return 0;
	s = fl_suggest(name, tvars, sizeof(tvars) / sizeof(tvars[0]) - 1);
	if (s)
		fl_err_set(err, "unknown template variable '{{%s}}' (did you mean '{{%s}}'?)", name,
			   s);
	else
		fl_err_set(
			err,
			"unknown template variable '{{%s}}' (known: node, ip, ip6, index, "
			"nodes, ips, peers, endpoints, seq, value, name, scenario, lab, dir, "
			"role, majority, target_dir, ip:NODE, ip:ROLE, node:ROLE, nodes:ROLE, "
			"ips:ROLE, cluster_state, converged, verify, health; with tls: ca, cert, "
			"key)",
			name);
	return -EINVAL;
}

int fl_template_check(const char *tmpl, struct fl_err *err)
{
	const char *p = tmpl, *o, *var = tmpl, *after = tmpl;
	size_t vlen = 0;
	int ret;

	err->msg[0] = 0;
	while ((ret = next_var(p, &o, &var, &vlen, &after, err)) > 0) {
		if (var_known(var, vlen, err))
			return -EINVAL;
		p = after;
	}
	return ret;
}

struct sbuf {
	char *s;
	size_t len, cap;
};

static int sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *ns = realloc(b->s, cap);

		if (!ns)
			return -ENOMEM;
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = 0;
	return 0;
}

static int sb_str(struct sbuf *b, const char *s)
{
	return sb_add(b, s, strlen(s));
}

static int expand_list(const struct fl_tvars *v, const char *item, struct sbuf *b,
		       struct fl_err *err);
static int expand_into(const char *tmpl, const struct fl_tvars *v, struct sbuf *b,
		       struct fl_err *err);

/* A node by its name, or the first node of a role. */
static const struct fl_tnode *node_by_name(const struct fl_tvars *v, const char *name, size_t len)
{
	for (size_t i = 0; i < v->n_nodes; i++)
		if (strlen(v->nodes[i].name) == len && !strncmp(v->nodes[i].name, name, len))
			return &v->nodes[i];
	for (size_t i = 0; i < v->n_nodes; i++)
		if (v->nodes[i].role && strlen(v->nodes[i].role) == len &&
		    !strncmp(v->nodes[i].role, name, len))
			return &v->nodes[i];
	return NULL;
}

/* {{nodes:ROLE}}, {{ips:ROLE}}: the role's nodes, comma separated. */
static int expand_role_list(const struct fl_tvars *v, const char *role, size_t len, bool ips,
			    struct sbuf *b, struct fl_err *err)
{
	size_t k = 0;
	int ret = 0;

	for (size_t i = 0; i < v->n_nodes && !ret; i++) {
		const struct fl_tnode *n = &v->nodes[i];

		if (!n->role || strlen(n->role) != len || strncmp(n->role, role, len))
			continue;
		ret = (k++ ? sb_str(b, ",") : 0) ?: sb_str(b, ips ? n->ip : n->name);
	}
	if (!ret && !k) {
		fl_err_set(err, "'%.*s': no node has this role", (int)len, role);
		return -EINVAL;
	}
	return ret;
}

/* {{ca}} {{cert}} {{key}}: the run's PEM files (tls: true). */
static int tls_var(const struct fl_tvars *v, const char *var, size_t len, struct sbuf *b,
		   struct fl_err *err)
{
	char path[512];

	if (!v->tls_dir) {
		fl_err_set(err, "'{{%.*s}}' needs 'tls: true' in the target", (int)len, var);
		return -EINVAL;
	}
	if (len == 2)
		snprintf(path, sizeof(path), "%s/ca.pem", v->tls_dir);
	else
		snprintf(path, sizeof(path), "%s/%s.%s", v->tls_dir, v->nodes[v->self].name,
			 len == 4 ? "pem" : "key");
	return sb_str(b, path);
}

/* {{health}}: the target's own health command, expanded where it is used. */
static int health_var(const struct fl_tvars *v, struct sbuf *b, struct fl_err *err)
{
	if (!v->t || !v->t->health) {
		fl_err_set(err, "'{{health}}': target '%s' has no 'health' command",
			   v->t && v->t->name ? v->t->name : "?");
		return -ENOENT;
	}
	if (strstr(v->t->health, "{{health}}")) {
		fl_err_set(err, "'health' cannot refer to itself");
		return -EINVAL;
	}
	return expand_into(v->t->health, v, b, err);
}

static int expand_var(const struct fl_tvars *v, const char *var, size_t len, struct sbuf *b,
		      struct fl_err *err)
{
	const struct fl_tnode *self = v->other ? v->other : &v->nodes[v->self];
	char num[32];

#define IS(x) (len == strlen(x) && !strncmp(var, x, len))
	if (IS("node"))
		return sb_str(b, self->name);
	if (IS("ip"))
		return sb_str(b, self->ip);
	if (IS("ip6"))
		return sb_str(b, self->ip6);
	if (IS("name"))
		return sb_str(b, v->t && v->t->name ? v->t->name : "");
	if (IS("scenario"))
		return sb_str(b, v->scenario ? v->scenario : "");
	if (IS("lab"))
		return sb_str(b, v->lab ? v->lab : "");
	if (IS("dir"))
		return sb_str(b, v->dir ? v->dir : "");
	if (IS("cluster_state"))
		return sb_str(b, v->cluster_state ? v->cluster_state : "new");
	if (IS("converged")) {
		struct fl_tvars inner = *v;

		if (!v->t || !v->t->converged)
			return sb_str(b, "true");
		if (strstr(v->t->converged, "{{converged}}")) {
			fl_err_set(err, "'converged' cannot refer to itself");
			return -EINVAL;
		}
		return expand_into(v->t->converged, &inner, b, err);
	}
	if (IS("role"))
		return sb_str(b, self->role ? self->role : "");
	if (IS("target_dir"))
		return sb_str(b, v->t && v->t->file_dir ? v->t->file_dir : ".");
	if (IS("majority")) {
		snprintf(num, sizeof(num), "%zu", v->n_nodes / 2 + 1);
		return sb_str(b, num);
	}
	if (IS("ca") || IS("cert") || IS("key"))
		return tls_var(v, var, len, b, err);
	if (IS("verify")) {
		if (!v->t || !v->t->verify) {
			fl_err_set(err, "'{{verify}}': target '%s' has no 'verify' command",
				   v->t && v->t->name ? v->t->name : "?");
			return -ENOENT;
		}
		if (strstr(v->t->verify, "{{verify}}")) {
			fl_err_set(err, "'verify' cannot refer to itself");
			return -EINVAL;
		}
		return expand_into(v->t->verify, v, b, err);
	}
	if (IS("health"))
		return health_var(v, b, err);
	if (IS("register")) { /* the register of this operation: seq mod registers */
		snprintf(num, sizeof(num), "%llu",
			 (unsigned long long)(v->seq %
					      (v->t && v->t->registers ? v->t->registers : 1)));
		return sb_str(b, num);
	}
	if (IS("index") || IS("seq") || IS("value")) {
		snprintf(num, sizeof(num), "%llu",
			 IS("index") ? (unsigned long long)v->self : (unsigned long long)v->seq);
		return sb_str(b, num);
	}
	if (IS("nodes"))
		return expand_list(v, "{{node}}", b, err);
	if (IS("ips"))
		return expand_list(v, "{{ip}}", b, err);
	if (IS("peers"))
		return expand_list(v, v->t && v->t->peer ? v->t->peer : "{{node}}={{ip}}", b, err);
	if (IS("endpoints"))
		return expand_list(v, v->t && v->t->endpoint ? v->t->endpoint : "{{ip}}", b, err);
	if (len > 6 && !strncmp(var, "nodes:", 6))
		return expand_role_list(v, var + 6, len - 6, false, b, err);
	if (len > 4 && !strncmp(var, "ips:", 4))
		return expand_role_list(v, var + 4, len - 4, true, b, err);
	if (len > 5 && !strncmp(var, "node:", 5)) {
		const struct fl_tnode *n = node_by_name(v, var + 5, len - 5);

		if (n)
			return sb_str(b, n->name);
	} else if (len > 3 && !strncmp(var, "ip:", 3)) {
		const struct fl_tnode *n = node_by_name(v, var + 3, len - 3);

		if (n)
			return sb_str(b, n->ip);
	} else if (len > 4 && !strncmp(var, "ip6:", 4)) {
		const struct fl_tnode *n = node_by_name(v, var + 4, len - 4);

		if (n)
			return sb_str(b, n->ip6);
	} else {
		return var_known(var, len, err);
	}
	fl_err_set(err, "'{{%.*s}}': no such node or role in the lab", (int)len, var);
	return -EINVAL;
#undef IS
}

static int expand_into(const char *tmpl, const struct fl_tvars *v, struct sbuf *b,
		       struct fl_err *err)
{
	const char *p = tmpl, *o, *var = tmpl, *after = tmpl;
	size_t vlen = 0;
	int ret;

	err->msg[0] = 0;
	while ((ret = next_var(p, &o, &var, &vlen, &after, err)) > 0) {
		ret = sb_add(b, p, (size_t)(o - p)) ?: expand_var(v, var, vlen, b, err);
		if (ret)
			return ret;
		p = after;
	}
	return ret ?: sb_str(b, p);
}

/* item expanded once per node, joined with commas */
static int expand_list(const struct fl_tvars *v, const char *item, struct sbuf *b,
		       struct fl_err *err)
{
	struct fl_tvars each = *v;
	int ret = 0;

	each.other = NULL;
	for (size_t i = 0; i < v->n_nodes && !ret; i++) {
		each.self = i;
		if (i)
			ret = sb_str(b, ",");
		if (!ret && (strstr(item, "{{peers}}") || strstr(item, "{{endpoints}}"))) {
			fl_err_set(err, "'%s' cannot refer to a list", item);
			return -EINVAL;
		}
		if (!ret)
			ret = expand_into(item, &each, b, err);
	}
	return ret;
}

int fl_template_expand(const char *tmpl, const struct fl_tvars *v, char **out, struct fl_err *err)
{
	struct sbuf b = { 0 };
	int ret = expand_into(tmpl, v, &b, err);

	if (!ret && !b.s)
		ret = sb_str(&b, "");
	if (ret) {
		free(b.s);
		return ret;
	}
	*out = b.s;
	return 0;
}

int fl_tget_tmpl(struct tctx *c, const struct fl_ynode *m, const char *key, bool required,
		 char **out)
{
	const char *s = NULL;
	struct fl_err e;

	if (fl_yget_str(c->d, m, key, required, &s, c->err))
		return -EINVAL;
	if (!s)
		return 0;
	if (fl_template_check(s, &e))
		return fl_yerr(c->err, c->d, fl_ymap_get(m, key), "%s", e.msg);
	return fl_ydup(out, s);
}

int fl_tparse_env(struct tctx *c, const struct fl_ynode *env, char ***out, size_t *n)
{
	char **v;

	if (!env)
		return 0;
	if (fl_yexpect(c->d, env, FL_Y_MAP, "'env'", c->err))
		return -EINVAL;
	v = realloc(*out, (*n + env->n + 1) * sizeof(char *));
	if (!v)
		return -ENOMEM;
	*out = v;
	for (size_t i = 0; i < env->n; i++) {
		const struct fl_ynode *k = env->keys[i], *val = env->items[i];
		struct fl_err e;

		v[*n] = NULL;
		if (val->type != FL_Y_SCALAR)
			return fl_yerr(c->err, c->d, val, "env '%s' must be a single value",
				       k->text);
		if (!k->text[0] || strchr(k->text, '='))
			return fl_yerr(c->err, c->d, k, "bad environment variable name '%s'",
				       k->text);
		if (fl_template_check(val->text, &e))
			return fl_yerr(c->err, c->d, val, "%s", e.msg);
		if (asprintf(&v[*n], "%s=%s", k->text, val->text) < 0)
			return -ENOMEM;
		v[++*n] = NULL;
	}
	return 0;
}

/* Runs in flight per node by default: as many as the timeout can hold,
 * plus one, so a probe keeps its schedule while its runs hang (open loop). */
static size_t default_concurrent(const struct fl_sut *t)
{
	uint64_t n = t->timeout_ns / t->every_ns + 1;

	return n > 64 ? 64 : (size_t)n;
}

static int parse_load(struct tctx *c, const struct fl_ynode *p, bool workload)
{
	static const char *const pkeys[] = { "node",	   "every", "timeout", "run",	    "op",
					     "concurrent", "ops",   "mix",     "registers", NULL };
	static const char *const wkeys[] = { "node", "run", NULL };
	const char *what = workload ? "'workload'" : "'probe'";
	struct fl_sut *t = c->t;
	const char *node = NULL, *op = NULL;
	uint64_t conc = 0;

	t->is_workload = workload;
	t->line = p->line;
	t->col = p->col;
	t->every_ns = FL_TARGET_PROBE_EVERY_NS;
	t->timeout_ns = FL_TARGET_PROBE_TIMEOUT_NS;
	if (fl_yexpect(c->d, p, FL_Y_MAP, what, c->err) ||
	    fl_ycheck_keys(c->d, p, what, workload ? wkeys : pkeys, c->err) ||
	    fl_yget_str(c->d, p, "node", false, &node, c->err) ||
	    fl_yget_str(c->d, p, "op", false, &op, c->err) ||
	    fl_tget_tmpl(c, p, "run", !fl_ymap_get(p, "ops"), &t->load_run) ||
	    fl_yget_duration(c->d, p, "every", false, &t->every_ns, c->err) ||
	    fl_yget_duration(c->d, p, "timeout", false, &t->timeout_ns, c->err) ||
	    fl_yget_u64(c->d, p, "concurrent", false, 1, 64, &conc, c->err) ||
	    fl_yget_u64(c->d, p, "registers", false, 1, 1000000, &t->registers, c->err))
		return -EINVAL;
	if (!t->registers)
		t->registers = 1;
	if (!workload && (!t->every_ns || !t->timeout_ns))
		return fl_yerr(c->err, c->d, p, "'every' and 'timeout' must be > 0");
	t->concurrent = conc ? (size_t)conc : default_concurrent(t);
	if (fl_ydup(&t->load_node, node ? node : "all") || fl_ydup(&t->load_op, op ? op : "probe"))
		return -ENOMEM;
	return workload ? 0 : fl_tparse_ops(c, p);
}

static const char *const target_keys[] = {
	"name",	    "nodes",  "requires", "start", "stop",	"peer",	    "endpoint", "probe",
	"workload", "roles",  "names",	  "env",   "setup",	"teardown", "leader",	"tls",
	"verify",   "health", "join",	  "leave", "converged", "herd",	    NULL
};

static int parse_stop(struct tctx *c, const struct fl_ynode *stop)
{
	static const char *const skeys[] = { "grace", NULL };

	c->t->stop_grace_ns = FL_TARGET_STOP_GRACE_NS;
	if (stop && (fl_yexpect(c->d, stop, FL_Y_MAP, "'stop'", c->err) ||
		     fl_ycheck_keys(c->d, stop, "'stop'", skeys, c->err) ||
		     fl_yget_duration(c->d, stop, "grace", false, &c->t->stop_grace_ns, c->err)))
		return -EINVAL;
	return 0;
}

/* join: "cmd" | {run: cmd, timeout: D} (same for leave) */
static int parse_member_cmd(struct tctx *c, const struct fl_ynode *r, const char *key, char **out)
{
	static const char *const keys[] = { "run", "timeout", NULL };
	const struct fl_ynode *v = fl_ymap_get(r, key);

	if (!v)
		return 0;
	if (v->type == FL_Y_SCALAR)
		return fl_tget_tmpl(c, r, key, true, out);
	if (fl_yexpect(c->d, v, FL_Y_MAP, key, c->err) ||
	    fl_ycheck_keys(c->d, v, key, keys, c->err) || fl_tget_tmpl(c, v, "run", true, out) ||
	    fl_yget_duration(c->d, v, "timeout", false, &c->t->member_timeout_ns, c->err))
		return -EINVAL;
	return 0;
}

static int parse_tls(struct tctx *c, const struct fl_ynode *r)
{
	const char *tls = NULL;

	if (fl_yget_str(c->d, r, "tls", false, &tls, c->err))
		return -EINVAL;
	if (tls && strcmp(tls, "true") && strcmp(tls, "false"))
		return fl_yerr(c->err, c->d, fl_ymap_get(r, "tls"), "'tls' must be true or false");
	c->t->tls = tls && !strcmp(tls, "true");
	return 0;
}

static bool names_tls(const char *tmpl)
{
	return tmpl &&
	       (strstr(tmpl, "{{ca}}") || strstr(tmpl, "{{cert}}") || strstr(tmpl, "{{key}}"));
}

static bool envv_names_tls(char *const *env, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (names_tls(env[i]))
			return true;
	return false;
}

static bool cmds_name_tls(const struct fl_tcmd *cmds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (names_tls(cmds[i].run))
			return true;
	return false;
}

/* Does any of the target's templates name the certificates? */
static bool any_names_tls(const struct fl_sut *t)
{
	const char *tmpl[] = { t->load_run, t->peer,	 t->endpoint,  t->verify,
			       t->health,   t->join_run, t->leave_run, t->converged };
	bool any = envv_names_tls(t->tenv, t->n_tenv) || cmds_name_tls(t->setup, t->n_setup) ||
		   cmds_name_tls(t->teardown, t->n_teardown) ||
		   (t->leader && cmds_name_tls(t->leader, 1));

	for (size_t i = 0; i < sizeof(tmpl) / sizeof(tmpl[0]); i++)
		any = any || names_tls(tmpl[i]);
	for (size_t i = 0; i < t->n_starts; i++)
		any = any || names_tls(t->starts[i].run) || names_tls(t->starts[i].ready_run) ||
		      envv_names_tls(t->starts[i].env, t->starts[i].n_env);
	for (size_t i = 0; i < t->n_ops; i++)
		any = any || names_tls(t->ops[i].run) ||
		      envv_names_tls(t->ops[i].env, t->ops[i].n_env);
	return any;
}

/* Without tls: true, no template may name the certificates. */
static int tls_vars_need_tls(struct tctx *c, const struct fl_ynode *r)
{
	if (c->t->tls || !any_names_tls(c->t))
		return 0;
	return fl_yerr(c->err, c->d, r,
		       "{{ca}}, {{cert}} and {{key}} need 'tls: true' (certificates "
		       "made for the run)");
}

/* gcc 12 -fanalyzer false positive (fallacy/analyzer.h): what the fl_tget_* calls store belongs to the target; fl_sut_free frees it */
FL_LEAK_FP_BEGIN
static int parse_target(struct tctx *c, const struct fl_ynode *r)
{
	const struct fl_ynode *p = fl_ymap_get(r, "probe"), *w = fl_ymap_get(r, "workload");
	const struct fl_ynode *s = fl_ymap_get(r, "start");
	const char *name = NULL;
	struct fl_sut *t = c->t;
	uint64_t nodes = FL_TARGET_NODES;
	struct fl_err e;

	if (!r)
		return fl_yerr(c->err, c->d, NULL, "empty target file");
	if (fl_yexpect(c->d, r, FL_Y_MAP, "a target", c->err) ||
	    fl_ycheck_keys(c->d, r, "a target", target_keys, c->err) ||
	    fl_yget_str(c->d, r, "name", true, &name, c->err) ||
	    fl_yget_u64(c->d, r, "nodes", false, 1, 64, &nodes, c->err) ||
	    fl_yget_strv(c->d, r, "requires", &t->requires, &t->n_requires, c->err) ||
	    fl_tget_tmpl(c, r, "peer", false, &t->peer) ||
	    fl_tget_tmpl(c, r, "endpoint", false, &t->endpoint) ||
	    fl_tget_tmpl(c, r, "converged", false, &t->converged) ||
	    fl_tget_tmpl(c, r, "verify", false, &t->verify) ||
	    fl_tget_tmpl(c, r, "health", false, &t->health) || parse_tls(c, r) ||
	    (fl_ymap_get(r, "herd") &&
	     fl_therd_parse(c->d, fl_ymap_get(r, "herd"), &t->herd, c->err)) ||
	    fl_tparse_env(c, fl_ymap_get(r, "env"), &t->tenv, &t->n_tenv))
		return -EINVAL;
	t->member_timeout_ns = 30000000000ULL;
	if (parse_member_cmd(c, r, "join", &t->join_run) ||
	    parse_member_cmd(c, r, "leave", &t->leave_run))
		return -EINVAL;
	if (fl_validate_name("name", name, 48, &e))
		return fl_yerr(c->err, c->d, fl_ymap_get(r, "name"), "%s", e.msg);
	t->nodes = nodes;
	if (!s)
		return fl_yerr(c->err, c->d, r, "missing required key 'start'");
	if (fl_tparse_roles(c, r) || fl_tparse_starts(c, s) ||
	    parse_stop(c, fl_ymap_get(r, "stop")) || fl_tparse_cmds(c, r))
		return -EINVAL;
	if (p && w)
		return fl_yerr(c->err, c->d, fl_ymap_key(r, "workload"),
			       "a target has a 'probe' or a 'workload', not both");
	if (!p && !w)
		return fl_yerr(c->err, c->d, r, "a target needs a 'probe' or a 'workload'");
	return fl_ydup(&t->name, name)			   ?:
		       parse_load(c, p ? p : w, w != NULL) ?:
							     tls_vars_need_tls(c, r);
}
FL_LEAK_FP_END

/* {{target_dir}}: where the target file is, so it can ship its scripts. */
static int file_dir(struct fl_sut *t)
{
	char *copy = strdup(t->file), *abs;
	const char *dir;

	if (!copy)
		return -ENOMEM;
	dir = dirname(copy);
	abs = realpath(dir, NULL);
	t->file_dir = abs ? abs : strdup(dir);
	free(copy);
	return t->file_dir ? 0 : -ENOMEM;
}

int fl_sut_load(const char *file, const char *text, struct fl_sut **out, struct fl_err *err)
{
	struct fl_ydoc *d = NULL;
	struct fl_sut *t = calloc(1, sizeof(*t));
	struct tctx c;
	int ret;

	if (!t)
		return -ENOMEM;
	ret = fl_yaml_load(file, text, &d, err);
	if (!ret) {
		c = (struct tctx){ .d = d, .err = err, .t = t };
		ret = fl_ydup(&t->file, file) ?: file_dir(t) ?: parse_target(&c, d->root);
	}
	fl_yaml_free(d);
	if (ret) {
		fl_sut_free(t);
		return ret;
	}
	*out = t;
	return 0;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void fl_sut_free(struct fl_sut *t)
{
	if (!t)
		return;
	strv_free(t->requires, t->n_requires);
	strv_free(t->tenv, t->n_tenv);
	fl_tfree_roles(t);
	free(t->file);
	free(t->file_dir);
	free(t->name);
	free(t->peer);
	free(t->endpoint);
	free(t->join_run);
	free(t->leave_run);
	free(t->converged);
	free(t->verify);
	free(t->health);
	free(t->load_node);
	free(t->load_run);
	free(t->load_op);
	free(t);
}
