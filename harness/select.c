// SPDX-License-Identifier: MIT
/* Node selectors (select.h). */
#include "select.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"

static const char *const keywords[] = { "all",	  "one",       "minority",	"majority",
					"leader", "primaries", "follower",	"followers",
					"left",	  "rest",      "random-halves", "ring",
					NULL };

/* follower: the same pick at every step of a run (while the followers are
 * the same nodes), so that steps can name one node together. */
#define FOLLOWER_SALT 0xf011011e5ULL

void fl_sel_rng_init(struct fl_sel_rng *r, uint64_t seed, uint64_t salt, uint64_t field)
{
	r->s = seed ^ (salt + 1) * 0x9e3779b97f4a7c15ULL ^ (field + 1) * 0xbf58476d1ce4e5b9ULL;
}

void fl_sel_rng_check(struct fl_sel_rng *r, uint64_t seed, size_t check)
{
	/* step salts are step indexes: checks take salts far above them */
	fl_sel_rng_init(r, seed, (1ULL << 32) + check, 0);
}

uint64_t fl_sel_rng_next(struct fl_sel_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

#define PICKED "picked:"

static bool is_picked(const char *w)
{
	return !strncmp(w, PICKED, strlen(PICKED));
}

void fl_sel_remember(struct fl_sel_picks *pk, const char *id, fl_nodeset set)
{
	size_t i = 0;

	while (i < pk->n && strcmp(pk->p[i].id, id))
		i++;
	if (i == FL_SEL_MAX_PICKS)
		return;
	if (i == pk->n) {
		pk->n++;
		snprintf(pk->p[i].id, sizeof(pk->p[i].id), "%s", id);
	}
	pk->p[i].set = set;
}

/* picked:ID: as the step recorded it; a node that left since still counts
 * (it is named, as a node's own name is). */
static int picked_nodes(const struct fl_sel_env *e, const char *item, fl_nodeset *s,
			struct fl_err *err)
{
	const char *id = item + strlen(PICKED);

	if (!e->picks) {
		fl_err_set(err, "'%s' names what an earlier step picked: it is for a step's nodes",
			   item);
		return -EINVAL;
	}
	for (size_t i = 0; i < e->picks->n; i++) {
		if (strcmp(e->picks->p[i].id, id))
			continue;
		*s = e->picks->p[i].set;
		if (!*s)
			fl_err_set(err, "'%s': step '%s' picked no node", item, id);
		return *s ? 0 : -EINVAL;
	}
	fl_err_set(err, "'%s': no step with id '%s' ran before this one", item, id);
	return -EINVAL;
}

bool fl_sel_is_keyword(const char *w)
{
	for (size_t i = 0; keywords[i]; i++)
		if (!strcmp(keywords[i], w))
			return true;
	return false;
}

bool fl_sel_is_group_keyword(const char *w)
{
	return !strcmp(w, "random-halves") || !strcmp(w, "ring");
}

bool fl_sel_is_role(const struct fl_sel_env *e, const char *name)
{
	for (size_t i = 0; i < e->n; i++)
		if (e->roles[i] && !strcmp(e->roles[i], name))
			return true;
	return false;
}

int fl_sel_index(const struct fl_sel_env *e, const char *name)
{
	for (size_t i = 0; i < e->n; i++)
		if (!strcmp(e->names[i], name))
			return (int)i;
	for (size_t i = 0; i < e->n; i++)
		if (e->roles[i] && !strcmp(e->roles[i], name) && !(e->gone >> i & 1))
			return (int)i;
	return -1;
}

fl_nodeset fl_sel_all(const struct fl_sel_env *e)
{
	return (e->n >= 64 ? ~0ULL : (1ULL << e->n) - 1) & ~e->gone;
}

/* How many nodes are in the lab. */
static size_t present(const struct fl_sel_env *e)
{
	return (size_t)__builtin_popcountll(fl_sel_all(e));
}

static bool is_address(const char *w)
{
	return strpbrk(w, ".:/") != NULL;
}

/* Calls fn(item, arg) for each comma-separated item of expr; stops at the
 * first non-zero return. */
static int each_item(const char *expr, int (*fn)(const char *item, void *arg), void *arg)
{
	char buf[512];
	int ret = 0;

	snprintf(buf, sizeof(buf), "%s", expr);
	for (char *s = buf, *tok; !ret && (tok = strsep(&s, ","));)
		ret = fn(tok, arg);
	return ret;
}

struct has_arg {
	const struct fl_sel_env *e;
	bool found;
};

static int has_one(const char *item, void *arg)
{
	struct has_arg *a = arg;
	int i;

	if (fl_sel_is_keyword(item) || is_picked(item))
		a->found = true;
	else if (a->e && fl_sel_is_role(a->e, item)) /* a node's own name wins */
		a->found = (i = fl_sel_index(a->e, item)) < 0 || strcmp(a->e->names[i], item);
	return a->found;
}

bool fl_sel_has_selector(const struct fl_sel_env *e, const char *expr)
{
	struct has_arg a = { e, false };

	each_item(expr, has_one, &a);
	return a.found;
}

static int leader_one(const char *item, void *arg)
{
	(void)arg;
	return !strcmp(item, "leader") || !strcmp(item, "primaries") || !strcmp(item, "follower") ||
	       !strcmp(item, "followers");
}

bool fl_sel_needs_leader(const char *expr)
{
	return each_item(expr, leader_one, NULL) != 0;
}

/* k random nodes of set (Fisher-Yates on the set's members). */
fl_nodeset fl_sel_pick(const struct fl_sel_env *e, fl_nodeset set, size_t k, struct fl_sel_rng *rng)
{
	size_t idx[FL_SEL_MAX_NODES], n = 0;
	fl_nodeset out = 0;

	for (size_t i = 0; i < e->n; i++)
		if (set >> i & 1)
			idx[n++] = i;
	for (size_t i = 0; i < k && i < n; i++) {
		size_t j = i + (size_t)(fl_sel_rng_next(rng) % (n - i)), t = idx[i];

		idx[i] = idx[j];
		idx[j] = t;
		out |= 1ULL << idx[i];
	}
	return out;
}

/* The nodes in the lab in a random order; returns how many. */
static size_t shuffle(const struct fl_sel_env *e, struct fl_sel_rng *rng, size_t *order)
{
	size_t n = 0;

	for (size_t i = 0; i < e->n; i++)
		if (!(e->gone >> i & 1))
			order[n++] = i;
	for (size_t i = 0; i + 1 < n; i++) {
		size_t j = i + (size_t)(fl_sel_rng_next(rng) % (n - i)), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	return n;
}

static int leaders(const struct fl_sel_env *e, const char *what, bool all, fl_nodeset *out,
		   struct fl_err *err)
{
	size_t order[FL_SEL_MAX_NODES], n = 0;

	if (!e->has_leader) {
		fl_err_set(err,
			   "'%s' needs the target's 'leader:' command (target '%s' has none: "
			   "add one, or name a role or nodes)",
			   what, e->target ? e->target : "?");
		return -EINVAL;
	}
	if (!e->leader) { /* planning: the first node in the lab stands for it */
		*out = fl_sel_all(e) & -fl_sel_all(e);
		if (!*out)
			fl_err_set(err, "'%s': no node is in the lab", what);
		return *out ? 0 : -EINVAL;
	}
	if (e->leader(e->arg, order, &n, err))
		return -EINVAL;
	if (!n) {
		fl_err_set(err, "the leader: command named no node");
		return -EINVAL;
	}
	*out = 0;
	for (size_t i = 0; i < n && (all || !*out); i++)
		if (!(e->gone >> order[i] & 1)) /* a node that left may still be named */
			*out |= 1ULL << order[i];
	if (!*out) {
		fl_err_set(err, "the leader: command named only nodes that left the lab");
		return -EINVAL;
	}
	return 0;
}

/* followers: every node the leader: command does not name; follower: one
 * of them, the same one at every step while they are the same nodes. */
static int followers(const struct fl_sel_env *e, const char *what, fl_nodeset *out,
		     struct fl_err *err)
{
	struct fl_sel_rng rng;
	fl_nodeset lead;

	if (leaders(e, what, true, &lead, err))
		return -EINVAL;
	*out = fl_sel_all(e) & ~lead;
	if (!*out) {
		fl_err_set(err, "'%s': the leader: command named every node", what);
		return -EINVAL;
	}
	if (!strcmp(what, "follower")) {
		fl_sel_rng_init(&rng, e->seed, FOLLOWER_SALT, 0);
		*out = fl_sel_pick(e, *out, 1, &rng);
	}
	return 0;
}

struct nodes_arg {
	const struct fl_sel_env *e;
	struct fl_sel_rng *rng;
	fl_nodeset rest, out;
	bool *unknown;
	struct fl_err *err;
};

static int unknown_item(struct nodes_arg *a, const char *item)
{
	const char *cand[FL_SEL_MAX_NODES * 2 + 16];
	const char *s;
	size_t n = 0;

	/* keywords and roles: a misspelt node name is the data plane's to name */
	for (size_t i = 0; keywords[i]; i++)
		if (strlen(keywords[i]) > 3) /* "n9" is no misspelt "one" */
			cand[n++] = keywords[i];
	for (size_t i = 0; i < a->e->n; i++)
		if (a->e->roles[i] && strlen(a->e->roles[i]) > 3)
			cand[n++] = a->e->roles[i];
	s = strlen(item) > 2 ? fl_suggest(item, cand, n) : NULL;
	if (s) {
		fl_err_set(a->err, "unknown node, role or selector '%s' (did you mean '%s'?)", item,
			   s);
		return -EINVAL;
	}
	*a->unknown = true;
	return 0;
}

static int keyword_nodes(struct nodes_arg *a, const char *item, fl_nodeset *s)
{
	const struct fl_sel_env *e = a->e;
	size_t n = present(e);

	if (!strcmp(item, "all"))
		*s = fl_sel_all(e);
	else if (!strcmp(item, "rest"))
		*s = a->rest;
	else if (!strcmp(item, "one"))
		*s = fl_sel_pick(e, fl_sel_all(e), 1, a->rng);
	else if (!strcmp(item, "minority"))
		*s = fl_sel_pick(e, fl_sel_all(e), (n - 1) / 2, a->rng);
	else if (!strcmp(item, "majority"))
		*s = fl_sel_pick(e, fl_sel_all(e), n / 2 + 1, a->rng);
	else if (!strcmp(item, "leader") || !strcmp(item, "primaries"))
		return leaders(e, item, !strcmp(item, "primaries"), s, a->err);
	else if (!strcmp(item, "follower") || !strcmp(item, "followers"))
		return followers(e, item, s, a->err);
	else if (!strcmp(item, "left")) {
		if (!(*s = e->gone & (e->n >= 64 ? ~0ULL : (1ULL << e->n) - 1))) {
			fl_err_set(a->err, "'left': no node has left the lab by then");
			return -EINVAL;
		}
	} else {
		fl_err_set(a->err, "'%s' selects groups: use it as a whole partition", item);
		return -EINVAL;
	}
	if (!*s) {
		fl_err_set(a->err, "'%s' selects no node of %zu", item, n);
		return -EINVAL;
	}
	return 0;
}

static int nodes_one(const char *item, void *arg)
{
	struct nodes_arg *a = arg;
	fl_nodeset s = 0;
	int i;

	if (!item[0]) {
		fl_err_set(a->err, "an empty node name");
		return -EINVAL;
	}
	if ((i = fl_sel_index(a->e, item)) >= 0 && !strcmp(a->e->names[i], item)) {
		a->out |= 1ULL << i;
		return 0;
	}
	if (fl_sel_is_keyword(item)) {
		if (keyword_nodes(a, item, &s))
			return -EINVAL;
	} else if (is_picked(item)) {
		if (picked_nodes(a->e, item, &s, a->err))
			return -EINVAL;
	} else if (fl_sel_is_role(a->e, item)) {
		for (size_t k = 0; k < a->e->n; k++)
			if (a->e->roles[k] && !strcmp(a->e->roles[k], item))
				s |= 1ULL << k;
		s &= fl_sel_all(a->e);
		if (!s) {
			fl_err_set(a->err, "every node of role '%s' left the lab", item);
			return -EINVAL;
		}
	} else if (is_address(item)) {
		*a->unknown = true;
	} else {
		return unknown_item(a, item);
	}
	a->out |= s;
	return 0;
}

int fl_sel_nodes(const struct fl_sel_env *e, const char *expr, struct fl_sel_rng *rng,
		 fl_nodeset rest, fl_nodeset *out, bool *unknown, struct fl_err *err)
{
	struct nodes_arg a = { e, rng, rest, 0, unknown, err };

	*unknown = false;
	if (each_item(expr, nodes_one, &a))
		return -EINVAL;
	*out = a.out;
	return 0;
}

/* Jepsen's majorities ring: the nodes in a random ring, each one sees the
 * nodes within k steps of it (2k+1 of n, a majority), as n groups of k+1
 * neighbours (a packet passes when a group holds both ends). With 3 nodes
 * no ring of symmetric views exists: the middle node sees both others. */
static int ring(const struct fl_sel_env *e, struct fl_sel_rng *rng, fl_nodeset *g, size_t *n,
		struct fl_err *err)
{
	size_t order[FL_SEL_MAX_NODES], m = present(e), k = (m / 2 + 1) / 2;

	if (m < 3 || m > FL_SEL_MAX_GROUPS) {
		fl_err_set(err, "'ring' needs 3 to %d nodes (the lab has %zu)", FL_SEL_MAX_GROUPS,
			   m);
		return -EINVAL;
	}
	shuffle(e, rng, order);
	if (m == 3) {
		g[0] = 1ULL << order[0] | 1ULL << order[1];
		g[1] = 1ULL << order[1] | 1ULL << order[2];
		*n = 2;
		return 0;
	}
	for (size_t i = 0; i < m; i++) {
		g[i] = 0;
		for (size_t j = 0; j <= k; j++)
			g[i] |= 1ULL << order[(i + j) % m];
	}
	*n = m;
	return 0;
}

int fl_sel_groups(const struct fl_sel_env *e, const char *kw, struct fl_sel_rng *rng,
		  fl_nodeset *groups, size_t *n, struct fl_err *err)
{
	size_t order[FL_SEL_MAX_NODES], m;

	if (!strcmp(kw, "ring"))
		return ring(e, rng, groups, n, err);
	if (present(e) < 2) {
		fl_err_set(err, "'%s' needs at least 2 nodes", kw);
		return -EINVAL;
	}
	m = shuffle(e, rng, order);
	groups[0] = groups[1] = 0;
	for (size_t i = 0; i < m; i++)
		groups[i < m / 2 ? 0 : 1] |= 1ULL << order[i];
	*n = 2;
	return 0;
}

void fl_sel_format(const struct fl_sel_env *e, fl_nodeset s, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < e->n && off < len; i++)
		if (s >> i & 1)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "," : "",
						e->names[i]);
}

static const char *const proc_actions[] = { "kill", "pause",   "stop", "resume",
					    "cont", "restart", "heal", NULL };

int fl_proc_req_parse(char *line, struct fl_proc_req *req, struct fl_err *err)
{
	char *w[4] = { 0 }, *save = NULL;
	size_t n = 0;

	for (char *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == 3) {
			fl_err_set(err, "expected ACTION NODES [PROCESS]");
			return -EINVAL;
		}
		w[n++] = t;
	}
	if (n < 2) {
		fl_err_set(err, "expected ACTION NODES [PROCESS]");
		return -EINVAL;
	}
	for (size_t i = 0; proc_actions[i]; i++)
		if (!strcmp(proc_actions[i], w[0])) {
			*req = (struct fl_proc_req){ w[0], w[1], w[2] };
			return 0;
		}
	fl_err_set(err, "unknown action '%.32s' (kill, pause, resume, restart, heal)", w[0]);
	return -EINVAL;
}
