// SPDX-License-Identifier: MIT
/* Live topology changes as data: the words of a request parsed into a
 * struct fl_topo, checked against a lab, applied to the lab's description
 * in memory, and printed back. Nothing here touches the kernel (lab/topo.c
 * does, in the supervisor), so the CLI, scenario steps, `fallacy run
 * --dry-run` and the supervisor share one definition. */
#include "lab.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab_int.h"
#include "parse.h"

static const char *const verbs[] = {
	[FL_TOPO_LINK] = "link",   [FL_TOPO_FLAP] = "flap",	      [FL_TOPO_JOIN] = "join",
	[FL_TOPO_LEAVE] = "leave", [FL_TOPO_READDRESS] = "readdress", [FL_TOPO_MTU] = "mtu",
	[FL_TOPO_ROUTE] = "route",
};

const char *fl_topo_verb(enum fl_topo_op op)
{
	return op <= FL_TOPO_ROUTE ? verbs[op] : "?";
}

static int node_arg(const char *verb, const char *v, char *out, struct fl_err *err)
{
	if (!v) {
		fl_err_set(err, "%s: missing the NODE", verb);
		return -EINVAL;
	}
	if (fl_validate_name("node name", v, FL_NODE_NAME_MAX, err))
		return -EINVAL;
	snprintf(out, FL_NODE_NAME_MAX + 1, "%s", v);
	return 0;
}

static int addr_opt(struct fl_topo *t, const char *opt, const char *v, struct fl_err *err)
{
	bool six = !strcmp(opt, "--ipv6");

	if (inet_pton(six ? AF_INET6 : AF_INET, v, six ? (void *)&t->ip6 : (void *)&t->ip4) != 1) {
		fl_err_set(err, "%s %s: not an IPv%c address", opt, v, six ? '6' : '4');
		return -EINVAL;
	}
	if (six)
		t->has6 = true;
	else
		t->has4 = true;
	return 0;
}

static int flap_opt(struct fl_topo *t, const char *opt, const char *v, struct fl_err *err)
{
	struct fl_err e;
	uint64_t u;

	if (!strcmp(opt, "--count")) {
		if (fl_parse_u64(v, 1, UINT32_MAX, &u, &e)) {
			fl_err_set(err, "--count %s: %s (a number of down/up cycles, at least 1)",
				   v, e.msg);
			return -EINVAL;
		}
		t->count = (uint32_t)u;
		return 0;
	}
	if (fl_parse_duration(v, &u, &e)) {
		fl_err_set(err, "%s %s", opt, e.msg);
		return -EINVAL;
	}
	if (!strcmp(opt, "--period"))
		t->period_ns = u;
	else
		t->down_ns = u;
	return 0;
}

/* --options after the positional words, per verb. */
static int topo_opts(struct fl_topo *t, int argc, char **argv, bool *direct, struct fl_err *err)
{
	static const char *const allowed[] = {
		[FL_TOPO_FLAP] = " --period --count --down-for ",
		[FL_TOPO_JOIN] = " --ipv4-only --ipv6-only --dual --ipv4 --ipv6 ",
		[FL_TOPO_READDRESS] = " --ipv4 --ipv6 ",
		[FL_TOPO_ROUTE] = " --from --to --via --direct ",
	};
	const char *ok = t->op < sizeof(allowed) / sizeof(allowed[0]) ? allowed[t->op] : NULL;
	char key[40];

	for (int i = 0; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool flag = !strcmp(o, "--ipv4-only") || !strcmp(o, "--ipv6-only") ||
			    !strcmp(o, "--dual") || !strcmp(o, "--direct");

		/* an option too long for key is none of ours (not a prefix of one) */
		bool fits = (size_t)snprintf(key, sizeof(key), " %s ", o) < sizeof(key);

		if (!ok || !fits || strncmp(o, "--", 2) || !strstr(ok, key)) {
			fl_err_set(err, "%s: unexpected '%s'%s%s", fl_topo_verb(t->op), o,
				   ok ? " (options:" : "", ok ? ok : "");
			if (ok)
				snprintf(err->msg + strlen(err->msg),
					 sizeof(err->msg) - strlen(err->msg), ")");
			return -EINVAL;
		}
		if (flag) {
			if (!strcmp(o, "--direct"))
				*direct = true;
			else
				t->fam = o[5] == '4' ? FL_NODE_V4 :
					 o[5] == '6' ? FL_NODE_V6 :
						       FL_NODE_DUAL;
			continue;
		}
		if (!v) {
			fl_err_set(err, "%s: missing value", o);
			return -EINVAL;
		}
		i++;
		if (!strcmp(o, "--ipv4") || !strcmp(o, "--ipv6")) {
			if (addr_opt(t, o, v, err))
				return -EINVAL;
		} else if (!strcmp(o, "--from") || !strcmp(o, "--to") || !strcmp(o, "--via")) {
			if (node_arg(o, v,
				     o[2] == 'f' ? t->from :
				     o[2] == 't' ? t->to :
						   t->via,
				     err))
				return -EINVAL;
		} else if (flap_opt(t, o, v, err)) {
			return -EINVAL;
		}
	}
	return 0;
}

static int mtu_arg(struct fl_topo *t, const char *v, struct fl_err *err)
{
	struct fl_err e;
	uint64_t u;

	if (!v) {
		fl_err_set(err, "mtu: missing the MTU (e.g. mtu n3 1280)");
		return -EINVAL;
	}
	if (fl_parse_u64(v, FL_MTU_MIN4, FL_MTU_MAX, &u, &e)) {
		fl_err_set(err, "mtu %s: %s (an MTU of %d to %d bytes)", v, e.msg, FL_MTU_MIN4,
			   FL_MTU_MAX);
		return -EINVAL;
	}
	t->mtu = (unsigned int)u;
	return 0;
}

/* What each verb needs once its words are read. */
static int topo_complete(struct fl_topo *t, bool direct, struct fl_err *err)
{
	switch (t->op) {
	case FL_TOPO_FLAP:
		if (!t->period_ns) {
			fl_err_set(err, "flap %s: give --period P > 0 (e.g. --period 2s)", t->node);
			return -EINVAL;
		}
		if (t->down_ns >= t->period_ns) {
			fl_err_set(err, "flap %s: --down-for must be shorter than --period",
				   t->node);
			return -EINVAL;
		}
		break;
	case FL_TOPO_JOIN:
	case FL_TOPO_READDRESS:
		if (t->fam == FL_NODE_V4 && t->has6) {
			fl_err_set(err, "%s %s: --ipv6 with --ipv4-only", fl_topo_verb(t->op),
				   t->node);
			return -EINVAL;
		}
		if (t->fam == FL_NODE_V6 && t->has4) {
			fl_err_set(err, "%s %s: --ipv4 with --ipv6-only", fl_topo_verb(t->op),
				   t->node);
			return -EINVAL;
		}
		break;
	case FL_TOPO_ROUTE:
		if (!t->from[0] || !t->to[0] || direct == !!t->via[0]) {
			fl_err_set(err,
				   "route: give --from A --to B and one of --via C or --direct");
			return -EINVAL;
		}
		if (!strcmp(t->from, t->to) || !strcmp(t->via, t->from) || !strcmp(t->via, t->to)) {
			fl_err_set(err,
				   "route --from %s --to %s --via %s: three different nodes, please"
				   " (a route via the same node is no detour)",
				   t->from, t->to, t->via[0] ? t->via : t->to);
			return -EINVAL;
		}
		break;
	default:
		break;
	}
	return 0;
}

int fl_topo_parse(int argc, char **argv, struct fl_topo *t, struct fl_err *err)
{
	int pos = 2; /* verb NODE */
	bool direct = false;

	memset(t, 0, sizeof(*t));
	for (t->op = FL_TOPO_LINK; argc && t->op <= FL_TOPO_ROUTE; t->op++)
		if (!strcmp(argv[0], verbs[t->op]))
			break;
	if (!argc || t->op > FL_TOPO_ROUTE) {
		fl_err_set(err,
			   "unknown topology change '%s' (link, flap, join, leave, readdress,"
			   " mtu, route)",
			   argc ? argv[0] : "");
		return -EINVAL;
	}
	if (t->op == FL_TOPO_ROUTE)
		pos = 1;
	else if (node_arg(argv[0], argc > 1 ? argv[1] : NULL, t->node, err))
		return -EINVAL;
	if (t->op == FL_TOPO_LINK) {
		if (argc < 3 || (strcmp(argv[2], "down") && strcmp(argv[2], "up"))) {
			fl_err_set(err, "link %s: say down or up", t->node);
			return -EINVAL;
		}
		t->up = !strcmp(argv[2], "up");
		pos = 3;
	} else if (t->op == FL_TOPO_MTU) {
		if (mtu_arg(t, argc > 2 ? argv[2] : NULL, err))
			return -EINVAL;
		pos = 3;
	}
	if (topo_opts(t, argc - pos, argv + pos, &direct, err))
		return -EINVAL;
	return topo_complete(t, direct, err);
}

/* ---- against a lab ------------------------------------------------------- */

static int node_present(const struct fl_lab *lab, const char *name, const struct fl_node **n,
			struct fl_err *err)
{
	*n = fl_lab_node(lab, name);
	if (*n)
		return 0;
	if (fl_lab_gone(lab, name))
		fl_err_set(err, "node %s left lab %s (fallacy node add %s %s brings it back)", name,
			   lab->name, lab->name, name);
	else
		fl_err_set(err, "lab %s has no node '%s' (see fallacy lab list)", lab->name, name);
	return -ENOENT;
}

/* The host number a given address asks for (0: none given). */
static int given_host(const struct fl_topo *t, const struct fl_lab *lab, unsigned int fam,
		      unsigned int *host, struct fl_err *err)
{
	unsigned int h4 = 0, h6 = 0;
	char a[INET6_ADDRSTRLEN];

	*host = 0;
	if (t->has4 && !(h4 = fl_lab_host_of(lab, AF_INET, &t->ip4))) {
		inet_ntop(AF_INET, &t->ip4, a, sizeof(a));
		fl_err_set(err, "--ipv4 %s: not a host address of lab %s", a, lab->name);
		return -EINVAL;
	}
	if (t->has6 && !(h6 = fl_lab_host_of(lab, AF_INET6, &t->ip6))) {
		inet_ntop(AF_INET6, &t->ip6, a, sizeof(a));
		fl_err_set(err, "--ipv6 %s: not a host address of lab %s", a, lab->name);
		return -EINVAL;
	}
	if (h4 && h6 && h4 != h6) {
		fl_err_set(err, "--ipv4 and --ipv6 must name the same host of the plan (%u, %u)",
			   h4, h6);
		return -EINVAL;
	}
	if ((h4 && !(fam & FL_NODE_V4)) || (h6 && !(fam & FL_NODE_V6))) {
		fl_err_set(err, "%s: the node has no IPv%c", t->node, h4 ? '4' : '6');
		return -EINVAL;
	}
	*host = h4 ? h4 : h6;
	return 0;
}

static const struct fl_node *host_user(const struct fl_lab *lab, unsigned int host)
{
	for (size_t i = 0; i < lab->n_nodes; i++)
		if (lab->nodes[i].host == host)
			return &lab->nodes[i];
	return NULL;
}

static int check_addr(const struct fl_topo *t, const struct fl_lab *lab, unsigned int fam,
		      struct fl_err *err)
{
	const struct fl_node *u;
	unsigned int h;

	if (given_host(t, lab, fam, &h, err))
		return -EINVAL;
	u = h ? host_user(lab, h) : NULL;
	if (u) {
		fl_err_set(err, "%s: that address is %s's%s", t->node, u->name,
			   strcmp(u->name, t->node) ? "" : " already");
		return -EEXIST;
	}
	return 0;
}

static int check_join(const struct fl_topo *t, const struct fl_lab *lab, struct fl_err *err)
{
	unsigned int fam = t->fam ? t->fam : lab->ipv6 ? FL_NODE_DUAL : FL_NODE_V4;

	if (fl_lab_node(lab, t->node)) {
		fl_err_set(err, "node %s exists already in lab %s", t->node, lab->name);
		return -EEXIST;
	}
	if (!fl_lab_gone(lab, t->node) && lab->n_nodes + lab->n_gone >= FL_LAB_MAX_NODES) {
		fl_err_set(err, "lab %s: all %d node ids are taken (nodes that left keep theirs)",
			   lab->name, FL_LAB_MAX_NODES);
		return -ENOSPC;
	}
	return check_addr(t, lab, fam, err);
}

static int check_route(const struct fl_topo *t, const struct fl_lab *lab, struct fl_err *err)
{
	const struct fl_node *a, *b, *c = NULL;

	if (node_present(lab, t->from, &a, err) || node_present(lab, t->to, &b, err) ||
	    (t->via[0] && node_present(lab, t->via, &c, err)))
		return -ENOENT;
	if (!c) {
		for (size_t i = 0; i < lab->n_routes; i++)
			if (!strcmp(lab->routes[i].from, t->from) &&
			    !strcmp(lab->routes[i].to, t->to))
				return 0;
		fl_err_set(err, "route %s -> %s is direct already", t->from, t->to);
		return -ENOENT;
	}
	if (!(a->fam & b->fam & c->fam)) {
		fl_err_set(err, "route %s -> %s via %s: no address family all three share", t->from,
			   t->to, t->via);
		return -EINVAL;
	}
	if (lab->n_routes >= FL_LAB_MAX_ROUTES) {
		fl_err_set(err, "lab %s: at most %d routes", lab->name, FL_LAB_MAX_ROUTES);
		return -ENOSPC;
	}
	return 0;
}

int fl_topo_check(const struct fl_topo *t, const struct fl_lab *lab, struct fl_err *err)
{
	const struct fl_node *n = NULL;

	if (t->op == FL_TOPO_JOIN)
		return check_join(t, lab, err);
	if (t->op == FL_TOPO_ROUTE)
		return check_route(t, lab, err);
	if (node_present(lab, t->node, &n, err))
		return -ENOENT;
	if (t->op == FL_TOPO_MTU && (n->fam & FL_NODE_V6) && t->mtu < FL_MTU_MIN6) {
		fl_err_set(err, "mtu %u for %s: below %d, the least IPv6 allows (%s has IPv6)",
			   t->mtu, n->name, FL_MTU_MIN6, n->name);
		return -EINVAL;
	}
	if (t->op == FL_TOPO_READDRESS)
		return check_addr(t, lab, n->fam, err);
	return 0;
}

/* ---- the change, in memory ----------------------------------------------- */

static bool host_taken(const struct fl_lab *lab, unsigned int h)
{
	for (size_t i = 0; i < lab->n_gone; i++)
		if (lab->gone[i].host == h)
			return true;
	return host_user(lab, h) != NULL;
}

/* The next host number after the last one given that nobody has (nodes
 * that left keep theirs while any other is free). */
static unsigned int next_host(struct fl_lab *lab)
{
	unsigned int h = lab->next_host;

	for (int pass = 0; pass < 2; pass++) {
		for (unsigned int k = 0; k < FL_LAB_HOST_MAX; k++, h++) {
			if (h < 1 || h > FL_LAB_HOST_MAX)
				h = 1;
			if (pass ? !host_user(lab, h) : !host_taken(lab, h)) {
				lab->next_host = h + 1;
				return h;
			}
		}
	}
	return 0;
}

static int lowest_free_id(const struct fl_lab *lab)
{
	for (int id = 0; id < FL_LAB_MAX_NODES; id++) {
		bool used = false;

		for (size_t i = 0; !used && i < lab->n_nodes; i++)
			used = lab->nodes[i].index == id;
		for (size_t i = 0; !used && i < lab->n_gone; i++)
			used = lab->gone[i].index == id;
		if (!used)
			return id;
	}
	return -1;
}

static int plan_join(struct fl_lab *lab, const struct fl_topo *t, struct fl_err *err)
{
	const struct fl_node *g = fl_lab_gone(lab, t->node);
	struct fl_node *n = &lab->nodes[lab->n_nodes];
	unsigned int h = 0;

	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", t->node);
	n->fam = t->fam ? t->fam : lab->ipv6 ? FL_NODE_DUAL : FL_NODE_V4;
	if (g) { /* it comes back: the same id, so every fault knows it again */
		n->index = g->index;
		memmove((struct fl_node *)g, g + 1,
			(size_t)(lab->gone + --lab->n_gone - g) * sizeof(*g));
	} else {
		n->index = lowest_free_id(lab);
	}
	if (given_host(t, lab, n->fam, &h, err))
		return -EINVAL;
	n->host = h ? h : next_host(lab);
	if (n->index < 0 || !n->host) {
		fl_err_set(err, "lab %s: no free node id or address left", lab->name);
		return -ENOSPC;
	}
	fl_lab_node_names(lab, n);
	fl_lab_node_addrs(lab, n);
	lab->n_nodes++;
	return 0;
}

static void plan_leave(struct fl_lab *lab, struct fl_node *n)
{
	for (size_t i = 0; i < lab->n_routes;) {
		struct fl_route *r = &lab->routes[i];

		if (!strcmp(r->from, n->name) || !strcmp(r->to, n->name))
			*r = lab->routes[--lab->n_routes];
		else
			i++;
	}
	lab->gone[lab->n_gone++] = *n;
	/* the others keep their order (lab list, {{nodes}}, hosts files) */
	memmove(n, n + 1, (size_t)(lab->nodes + --lab->n_nodes - n) * sizeof(*n));
}

static void plan_route(struct fl_lab *lab, const struct fl_topo *t)
{
	size_t i;

	for (i = 0; i < lab->n_routes; i++)
		if (!strcmp(lab->routes[i].from, t->from) && !strcmp(lab->routes[i].to, t->to))
			break;
	if (!t->via[0]) {
		if (i < lab->n_routes)
			lab->routes[i] = lab->routes[--lab->n_routes];
		return;
	}
	if (i == lab->n_routes)
		lab->n_routes++;
	snprintf(lab->routes[i].from, sizeof(lab->routes[i].from), "%s", t->from);
	snprintf(lab->routes[i].to, sizeof(lab->routes[i].to), "%s", t->to);
	snprintf(lab->routes[i].via, sizeof(lab->routes[i].via), "%s", t->via);
}

int fl_topo_plan(struct fl_lab *lab, const struct fl_topo *t, struct fl_err *err)
{
	struct fl_node *n;
	unsigned int h;
	int ret = fl_topo_check(t, lab, err);

	if (ret)
		return ret;
	if (t->op == FL_TOPO_JOIN)
		return plan_join(lab, t, err);
	if (t->op == FL_TOPO_ROUTE) {
		plan_route(lab, t);
		return 0;
	}
	n = (struct fl_node *)fl_lab_node(lab, t->node);
	switch (t->op) {
	case FL_TOPO_LEAVE:
		plan_leave(lab, n);
		break;
	case FL_TOPO_READDRESS:
		if (given_host(t, lab, n->fam, &h, err))
			return -EINVAL;
		if (!h)
			h = next_host(lab); /* never its current one: that is taken */
		if (!h) {
			fl_err_set(err, "lab %s: no free address left", lab->name);
			return -ENOSPC;
		}
		n->host = h;
		fl_lab_node_addrs(lab, n);
		break;
	case FL_TOPO_MTU:
		n->mtu = t->mtu == 1500 ? 0 : t->mtu;
		break;
	default: /* link, flap: nothing in the description */
		break;
	}
	return 0;
}

void fl_topo_format(const struct fl_topo *t, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN], d[32];
	size_t n;

	if (!len)
		return;
	n = (size_t)snprintf(buf, len, "%s", fl_topo_verb(t->op));
#define ADD(...)                                                              \
	do {                                                                  \
		if (n < len)                                                  \
			n += (size_t)snprintf(buf + n, len - n, __VA_ARGS__); \
	} while (0)
	if (t->op != FL_TOPO_ROUTE)
		ADD(" %s", t->node);
	if (t->op == FL_TOPO_LINK)
		ADD(" %s", t->up ? "up" : "down");
	if (t->op == FL_TOPO_MTU)
		ADD(" %u", t->mtu);
	if (t->op == FL_TOPO_FLAP) {
		fl_format_duration(t->period_ns, d, sizeof(d));
		ADD(" --period %s", d);
		if (t->count)
			ADD(" --count %u", t->count);
		if (t->down_ns) {
			fl_format_duration(t->down_ns, d, sizeof(d));
			ADD(" --down-for %s", d);
		}
	}
	if (t->op == FL_TOPO_JOIN && t->fam)
		ADD(" %s", t->fam == FL_NODE_V4 ? "--ipv4-only" :
			   t->fam == FL_NODE_V6 ? "--ipv6-only" :
						  "--dual");
	if (t->has4)
		ADD(" --ipv4 %s", inet_ntop(AF_INET, &t->ip4, a, sizeof(a)));
	if (t->has6)
		ADD(" --ipv6 %s", inet_ntop(AF_INET6, &t->ip6, a, sizeof(a)));
	if (t->op == FL_TOPO_ROUTE)
		ADD(" --from %s --to %s %s%s", t->from, t->to, t->via[0] ? "--via " : "--direct",
		    t->via);
#undef ADD
	buf[len - 1] = '\0';
}
