// SPDX-License-Identifier: MIT
/* Target files and command templates. */
#include "target.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parse.h"
#include "yaml.h"

struct tctx {
	const struct fl_ydoc *d;
	struct fl_err *err;
	struct fl_sut *t;
};

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

static const char *const tvars[] = { "node",	 "ip",	   "ip6",	"index", "nodes",
				     "ips",	 "peers",  "endpoints", "seq",	 "name",
				     "scenario", "lab",	   "dir",	"ca",	 "cert",
				     "key",	 "verify", "health",	NULL };

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

/* Find the next {{var}}; *vlen is the length of var (without braces). */
static const char *next_var(const char *s, const char **var, size_t *vlen, const char **after,
			    struct fl_err *err)
{
	const char *o = strstr(s, "{{"), *c;

	if (!o)
		return NULL;
	c = strstr(o + 2, "}}");
	if (!c) {
		fl_err_set(err, "unclosed '{{' in \"%s\"", s);
		return o;
	}
	*var = o + 2;
	*vlen = (size_t)(c - o - 2);
	*after = c + 2;
	while (*vlen && **var == ' ')
		(*var)++, (*vlen)--;
	while (*vlen && (*var)[*vlen - 1] == ' ')
		(*vlen)--;
	return o;
}

static int var_known(const char *var, size_t len, struct fl_err *err)
{
	char name[64];
	const char *s;

	snprintf(name, sizeof(name), "%.*s", (int)len, var);
	if (!strncmp(name, "ip:", 3) || !strncmp(name, "ip6:", 4))
		return 0;
	for (size_t i = 0; tvars[i]; i++)
		if (!strcmp(tvars[i], name))
			return 0;
	s = fl_suggest(name, tvars, sizeof(tvars) / sizeof(tvars[0]) - 1);
	if (s)
		fl_err_set(err, "unknown template variable '{{%s}}' (did you mean '{{%s}}'?)", name,
			   s);
	else
		fl_err_set(err,
			   "unknown template variable '{{%s}}' (known: node, ip, ip6, index, "
			   "nodes, ips, peers, endpoints, seq, name, scenario, lab, dir, ip:NODE, "
			   "verify, health; with tls: ca, cert, key)",
			   name);
	return -EINVAL;
}

int fl_template_check(const char *tmpl, struct fl_err *err)
{
	const char *p = tmpl, *var = NULL, *after = NULL;
	size_t vlen = 0;

	err->msg[0] = 0;
	while ((p = next_var(p, &var, &vlen, &after, err))) {
		if (err->msg[0])
			return -EINVAL;
		if (var_known(var, vlen, err))
			return -EINVAL;
		p = after;
	}
	return 0;
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

static const struct fl_tnode *node_by_name(const struct fl_tvars *v, const char *name, size_t len)
{
	for (size_t i = 0; i < v->n_nodes; i++)
		if (strlen(v->nodes[i].name) == len && !strncmp(v->nodes[i].name, name, len))
			return &v->nodes[i];
	return NULL;
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
		return -EINVAL;
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
	const struct fl_tnode *self = &v->nodes[v->self];
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
	if (IS("ca") || IS("cert") || IS("key"))
		return tls_var(v, var, len, b, err);
	if (IS("verify")) {
		if (!v->t || !v->t->verify) {
			fl_err_set(err, "'{{verify}}': target '%s' has no 'verify' command",
				   v->t && v->t->name ? v->t->name : "?");
			return -EINVAL;
		}
		if (strstr(v->t->verify, "{{verify}}")) {
			fl_err_set(err, "'verify' cannot refer to itself");
			return -EINVAL;
		}
		return expand_into(v->t->verify, v, b, err);
	}
	if (IS("health"))
		return health_var(v, b, err);
	if (IS("index") || IS("seq")) {
		snprintf(num, sizeof(num), "%llu",
			 IS("seq") ? (unsigned long long)v->seq : (unsigned long long)v->self);
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
	if (len > 3 && !strncmp(var, "ip:", 3)) {
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
	fl_err_set(err, "'{{%.*s}}': no such node in the lab", (int)len, var);
	return -EINVAL;
#undef IS
}

static int expand_into(const char *tmpl, const struct fl_tvars *v, struct sbuf *b,
		       struct fl_err *err)
{
	const char *p = tmpl, *o, *var = NULL, *after = NULL;
	size_t vlen = 0;
	int ret;

	err->msg[0] = 0;
	while ((o = next_var(p, &var, &vlen, &after, err))) {
		if (err->msg[0])
			return -EINVAL;
		ret = sb_add(b, p, (size_t)(o - p)) ?: expand_var(v, var, vlen, b, err);
		if (ret)
			return ret;
		p = after;
	}
	return sb_str(b, p);
}

/* item expanded once per node, joined with commas */
static int expand_list(const struct fl_tvars *v, const char *item, struct sbuf *b,
		       struct fl_err *err)
{
	struct fl_tvars each = *v;
	int ret = 0;

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

/* A template string value: must exist (if required) and use known vars. */
static int tget_tmpl(struct tctx *c, const struct fl_ynode *m, const char *key, bool required,
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

static int parse_env(struct tctx *c, const struct fl_ynode *env)
{
	struct fl_sut *t = c->t;

	if (!env)
		return 0;
	if (fl_yexpect(c->d, env, FL_Y_MAP, "'env'", c->err))
		return -EINVAL;
	t->env = calloc(env->n + 1, sizeof(char *));
	if (!t->env)
		return -ENOMEM;
	for (size_t i = 0; i < env->n; i++) {
		const struct fl_ynode *k = env->keys[i], *v = env->items[i];
		struct fl_err e;

		if (v->type != FL_Y_SCALAR)
			return fl_yerr(c->err, c->d, v, "env '%s' must be a single value", k->text);
		if (!k->text[0] || strchr(k->text, '='))
			return fl_yerr(c->err, c->d, k, "bad environment variable name '%s'",
				       k->text);
		if (fl_template_check(v->text, &e))
			return fl_yerr(c->err, c->d, v, "%s", e.msg);
		if (asprintf(&t->env[i], "%s=%s", k->text, v->text) < 0)
			return -ENOMEM;
		t->n_env = i + 1;
	}
	return 0;
}

static int parse_start(struct tctx *c, const struct fl_ynode *s)
{
	static const char *const keys[] = { "run", "ready", "user", "env", NULL };
	static const char *const rkeys[] = { "run", "timeout", NULL };
	const struct fl_ynode *r = fl_ymap_get(s, "ready");
	const char *user = NULL;
	struct fl_sut *t = c->t;

	if (fl_yexpect(c->d, s, FL_Y_MAP, "'start'", c->err) ||
	    fl_ycheck_keys(c->d, s, "'start'", keys, c->err) ||
	    tget_tmpl(c, s, "run", true, &t->start_run) ||
	    fl_yget_str(c->d, s, "user", false, &user, c->err) || fl_ydup(&t->user, user) ||
	    parse_env(c, fl_ymap_get(s, "env")))
		return -EINVAL;
	t->ready_timeout_ns = FL_TARGET_READY_TIMEOUT_NS;
	if (!r)
		return 0;
	if (r->type == FL_Y_SCALAR)
		return tget_tmpl(c, s, "ready", true, &t->ready_run);
	if (fl_yexpect(c->d, r, FL_Y_MAP, "'ready'", c->err) ||
	    fl_ycheck_keys(c->d, r, "'ready'", rkeys, c->err) ||
	    tget_tmpl(c, r, "run", true, &t->ready_run) ||
	    fl_yget_duration(c->d, r, "timeout", false, &t->ready_timeout_ns, c->err))
		return -EINVAL;
	return 0;
}

static int parse_load(struct tctx *c, const struct fl_ynode *p, bool workload)
{
	static const char *const pkeys[] = { "node", "every",	   "timeout", "run",
					     "op",   "concurrent", NULL };
	static const char *const wkeys[] = { "node", "run", NULL };
	const char *what = workload ? "'workload'" : "'probe'";
	struct fl_sut *t = c->t;
	const char *node = NULL, *op = NULL;
	uint64_t conc = 1;

	t->is_workload = workload;
	t->line = p->line;
	t->col = p->col;
	t->every_ns = FL_TARGET_PROBE_EVERY_NS;
	t->timeout_ns = FL_TARGET_PROBE_TIMEOUT_NS;
	if (fl_yexpect(c->d, p, FL_Y_MAP, what, c->err) ||
	    fl_ycheck_keys(c->d, p, what, workload ? wkeys : pkeys, c->err) ||
	    fl_yget_str(c->d, p, "node", false, &node, c->err) ||
	    fl_yget_str(c->d, p, "op", false, &op, c->err) ||
	    tget_tmpl(c, p, "run", true, &t->load_run) ||
	    fl_yget_duration(c->d, p, "every", false, &t->every_ns, c->err) ||
	    fl_yget_duration(c->d, p, "timeout", false, &t->timeout_ns, c->err) ||
	    fl_yget_u64(c->d, p, "concurrent", false, 1, 64, &conc, c->err))
		return -EINVAL;
	t->concurrent = (size_t)conc;
	if (!workload && (!t->every_ns || !t->timeout_ns))
		return fl_yerr(c->err, c->d, p, "'every' and 'timeout' must be > 0");
	return fl_ydup(&t->load_node, node ? node : "all") ?:
							     fl_ydup(&t->load_op, op ? op : "probe");
}

static const char *const target_keys[] = { "name",   "nodes",	 "requires", "start",	 "stop",
					   "peer",   "endpoint", "probe",    "workload", "tls",
					   "verify", "health",	 NULL };

/* Without tls: true, no template may name the certificates. */
static int tls_vars_need_tls(struct tctx *c, const struct fl_ynode *r)
{
	const char *tmpl[] = { c->t->start_run, c->t->ready_run, c->t->load_run, c->t->peer,
			       c->t->endpoint,	c->t->verify,	 c->t->health };

	if (c->t->tls)
		return 0;
	for (size_t i = 0; i < sizeof(tmpl) / sizeof(tmpl[0]); i++) {
		if (tmpl[i] && (strstr(tmpl[i], "{{ca}}") || strstr(tmpl[i], "{{cert}}") ||
				strstr(tmpl[i], "{{key}}")))
			return fl_yerr(
				c->err, c->d, r,
				"{{ca}}, {{cert}} and {{key}} need 'tls: true' (certificates "
				"made for the run)");
	}
	for (size_t i = 0; i < c->t->n_env; i++)
		if (strstr(c->t->env[i], "{{ca}}") || strstr(c->t->env[i], "{{cert}}") ||
		    strstr(c->t->env[i], "{{key}}"))
			return fl_yerr(
				c->err, c->d, r,
				"{{ca}}, {{cert}} and {{key}} need 'tls: true' (certificates "
				"made for the run)");
	return 0;
}

static int parse_target(struct tctx *c, const struct fl_ynode *r)
{
	const struct fl_ynode *p = fl_ymap_get(r, "probe"), *w = fl_ymap_get(r, "workload");
	const struct fl_ynode *stop = fl_ymap_get(r, "stop"), *s = fl_ymap_get(r, "start");
	static const char *const skeys[] = { "grace", NULL };
	const char *name = NULL, *tls = NULL;
	struct fl_sut *t = c->t;
	uint64_t nodes = 0;
	struct fl_err e;

	if (!r)
		return fl_yerr(c->err, c->d, NULL, "empty target file");
	if (fl_yget_str(c->d, r, "tls", false, &tls, c->err))
		return -EINVAL;
	if (tls && strcmp(tls, "true") && strcmp(tls, "false"))
		return fl_yerr(c->err, c->d, fl_ymap_get(r, "tls"), "'tls' must be true or false");
	t->tls = tls && !strcmp(tls, "true");
	if (fl_yexpect(c->d, r, FL_Y_MAP, "a target", c->err) ||
	    fl_ycheck_keys(c->d, r, "a target", target_keys, c->err) ||
	    fl_yget_str(c->d, r, "name", true, &name, c->err) ||
	    fl_yget_u64(c->d, r, "nodes", true, 1, 64, &nodes, c->err) ||
	    fl_yget_strv(c->d, r, "requires", &t->requires, &t->n_requires, c->err) ||
	    tget_tmpl(c, r, "peer", false, &t->peer) ||
	    tget_tmpl(c, r, "endpoint", false, &t->endpoint) ||
	    tget_tmpl(c, r, "verify", false, &t->verify) ||
	    tget_tmpl(c, r, "health", false, &t->health))
		return -EINVAL;
	if (fl_validate_name("name", name, 48, &e))
		return fl_yerr(c->err, c->d, fl_ymap_get(r, "name"), "%s", e.msg);
	t->nodes = nodes;
	if (!s)
		return fl_yerr(c->err, c->d, r, "missing required key 'start'");
	if (parse_start(c, s))
		return -EINVAL;
	t->stop_grace_ns = FL_TARGET_STOP_GRACE_NS;
	if (stop && (fl_yexpect(c->d, stop, FL_Y_MAP, "'stop'", c->err) ||
		     fl_ycheck_keys(c->d, stop, "'stop'", skeys, c->err) ||
		     fl_yget_duration(c->d, stop, "grace", false, &t->stop_grace_ns, c->err)))
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
		ret = fl_ydup(&t->file, file) ?: parse_target(&c, d->root);
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
	strv_free(t->env, t->n_env);
	free(t->file);
	free(t->name);
	free(t->start_run);
	free(t->ready_run);
	free(t->user);
	free(t->peer);
	free(t->endpoint);
	free(t->verify);
	free(t->health);
	free(t->load_node);
	free(t->load_run);
	free(t->load_op);
	free(t);
}
