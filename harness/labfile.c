// SPDX-License-Identifier: MIT
/* Lab files (labfile.h): parsing, validation against the planned lab,
 * applying the profiles through the lab's supervisor, printing back. */
#include "labfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "faults/fault.h"
#include "supervisor/session.h"

struct lctx {
	const struct fl_ydoc *d;
	struct fl_err *err;
	struct fl_labfile *lf;
};

static int node_index(const struct fl_labfile *lf, const char *name)
{
	for (size_t i = 0; i < lf->n_nodes; i++)
		if (!strcmp(lf->names[i], name))
			return (int)i;
	return -1;
}

/* The values of a profile in mapping m (its keys already checked): every
 * kind's link parameters, in table order, each checked by its kind's own
 * parser. */
static int profile_values(struct lctx *c, const struct fl_ynode *m, struct fl_lprofile *pr)
{
	for (size_t k = 0; fl_fault_kinds[k]; k++) {
		for (const struct fl_param *p = fl_fault_kinds[k]->params; p->name; p++) {
			const struct fl_ynode *v = fl_ymap_get(m, p->name);
			struct fl_lvalue *lv = &pr->values[pr->n_values];
			struct fl_err e;

			if (!(p->flags & FL_PF_LINK) || !v)
				continue;
			if (v->type != FL_Y_SCALAR || fl_yis_null(v))
				return fl_yerr(c->err, c->d, v, "'%s' must be a single value",
					       p->name);
			if (fl_param_check(p, v->text, &e))
				return fl_yerr(c->err, c->d, v, "bad value for '%s': %s", p->name,
					       e.msg);
			if (strlen(v->text) >= sizeof(lv->text))
				return fl_yerr(c->err, c->d, v, "'%s': value too long", p->name);
			if (pr->n_values >= FL_LPROFILE_VALUES)
				return fl_yerr(c->err, c->d, v, "too many values in one profile");
			lv->ops = fl_fault_kinds[k];
			lv->p = p;
			snprintf(lv->text, sizeof(lv->text), "%s", v->text);
			pr->n_values++;
		}
	}
	return 0;
}

/* The keys a profile takes: the kinds' link parameters, after `first`. */
static void profile_keys(const char *first, const char **keys, size_t max)
{
	keys[0] = first;
	fl_link_keys(keys + 1, max - 1);
}

static struct fl_lprofile *new_profile(struct lctx *c, const struct fl_ynode *at)
{
	struct fl_lprofile *p = &c->lf->profiles[c->lf->n_profiles];

	if (c->lf->n_profiles >= sizeof(c->lf->profiles) / sizeof(c->lf->profiles[0]))
		return NULL;
	memset(p, 0, sizeof(*p));
	p->line = at->line;
	p->col = at->col;
	return p;
}

/* link: {mtu, and the kinds' link parameters} of node i */
static int node_link(struct lctx *c, const struct fl_ynode *l, size_t i)
{
	const char *keys[FL_LPROFILE_VALUES + 2];
	struct fl_lprofile *p;
	uint64_t mtu = 0;

	profile_keys("mtu", keys, sizeof(keys) / sizeof(keys[0]));
	if (fl_yexpect(c->d, l, FL_Y_MAP, "'link'", c->err) ||
	    fl_ycheck_keys(c->d, l, "a node's 'link'", keys, c->err) ||
	    fl_yget_u64(c->d, l, "mtu", false, FL_MTU_MIN4, FL_MTU_MAX, &mtu, c->err))
		return -EINVAL;
	p = new_profile(c, l);
	if (!p)
		return fl_yerr(c->err, c->d, l, "too many profiles");
	snprintf(p->node, sizeof(p->node), "%s", c->lf->names[i]);
	p->mtu = (unsigned int)mtu;
	if (profile_values(c, l, p))
		return -EINVAL;
	c->lf->n_profiles++;
	return 0;
}

static int node_family(struct lctx *c, const struct fl_ynode *m, size_t i)
{
	const char *fam = NULL;

	if (fl_yget_str(c->d, m, "family", false, &fam, c->err))
		return -EINVAL;
	if (!fam)
		return 0;
	if (!strcmp(fam, "ipv4"))
		c->lf->fam[i] = FL_NODE_V4;
	else if (!strcmp(fam, "ipv6"))
		c->lf->fam[i] = FL_NODE_V6;
	else if (!strcmp(fam, "dual"))
		c->lf->fam[i] = FL_NODE_DUAL;
	else
		return fl_yerr(c->err, c->d, fl_ymap_get(m, "family"),
			       "'family' is ipv4, ipv6 or dual");
	return 0;
}

static int parse_node(struct lctx *c, const struct fl_ynode *m)
{
	static const char *const keys[] = { "name", "family", "link", NULL };
	struct fl_labfile *lf = c->lf;
	const char *name = NULL;
	const struct fl_ynode *l;
	struct fl_err e;
	size_t i = lf->n_nodes;

	if (fl_yexpect(c->d, m, FL_Y_MAP, "a node", c->err) ||
	    fl_ycheck_keys(c->d, m, "a node", keys, c->err) ||
	    fl_yget_str(c->d, m, "name", true, &name, c->err))
		return -EINVAL;
	if (fl_validate_name("node name", name, FL_NODE_NAME_MAX, &e))
		return fl_yerr(c->err, c->d, fl_ymap_get(m, "name"), "%s", e.msg);
	if (node_index(lf, name) >= 0)
		return fl_yerr(c->err, c->d, fl_ymap_get(m, "name"), "node '%s' given twice", name);
	if (i >= FL_LAB_MAX_NODES)
		return fl_yerr(c->err, c->d, m, "a lab has at most %d nodes", FL_LAB_MAX_NODES);
	snprintf(lf->names[i], sizeof(lf->names[i]), "%s", name);
	lf->n_nodes++;
	if (node_family(c, m, i))
		return -EINVAL;
	l = fl_ymap_get(m, "link");
	return l ? node_link(c, l, i) : 0;
}

static int parse_pair(struct lctx *c, const struct fl_ynode *m)
{
	const char *keys[FL_LPROFILE_VALUES + 2];
	const struct fl_ynode *b = fl_ymap_get(m, "between");
	struct fl_lprofile *p;

	profile_keys("between", keys, sizeof(keys) / sizeof(keys[0]));
	if (fl_yexpect(c->d, m, FL_Y_MAP, "a pair", c->err) ||
	    fl_ycheck_keys(c->d, m, "a pair", keys, c->err))
		return -EINVAL;
	if (!b || b->type != FL_Y_SEQ || b->n != 2 || b->items[0]->type != FL_Y_SCALAR ||
	    b->items[1]->type != FL_Y_SCALAR)
		return fl_yerr(c->err, c->d, b ? b : m,
			       "'between' must be two nodes, e.g. [n1, n2]");
	for (int k = 0; k < 2; k++)
		if (node_index(c->lf, b->items[k]->text) < 0)
			return fl_yerr(c->err, c->d, b->items[k], "no node '%s' in the lab's nodes",
				       b->items[k]->text);
	if (!strcmp(b->items[0]->text, b->items[1]->text))
		return fl_yerr(c->err, c->d, b, "a pair is two different nodes");
	p = new_profile(c, m);
	if (!p)
		return fl_yerr(c->err, c->d, m, "too many profiles");
	snprintf(p->node, sizeof(p->node), "%s", b->items[0]->text);
	snprintf(p->peer, sizeof(p->peer), "%s", b->items[1]->text);
	if (profile_values(c, m, p))
		return -EINVAL;
	c->lf->n_profiles++;
	return 0;
}

static int parse_list(struct lctx *c, const struct fl_ynode *l, const char *what,
		      int (*one)(struct lctx *c, const struct fl_ynode *m))
{
	int ret = 0;

	if (fl_yexpect(c->d, l, FL_Y_SEQ, what, c->err))
		return -EINVAL;
	for (size_t i = 0; i < l->n && !ret; i++)
		ret = one(c, l->items[i]);
	return ret;
}

int fl_labfile_parse(const struct fl_ydoc *d, const struct fl_ynode *n, struct fl_labfile **out,
		     struct fl_err *err)
{
	static const char *const keys[] = { "ipv6", "nodes", "pairs", NULL };
	struct fl_labfile *lf = calloc(1, sizeof(*lf));
	struct lctx c = { .d = d, .err = err, .lf = lf };
	const char *v6 = NULL;
	int ret;

	*out = NULL;
	if (!lf)
		return -ENOMEM;
	ret = fl_yexpect(d, n, FL_Y_MAP, "a lab", err)	       ?:
		      fl_ycheck_keys(d, n, "a lab", keys, err) ?:
		      fl_yget_str(d, n, "ipv6", false, &v6, err);
	if (!ret && v6 && strcmp(v6, "true") && strcmp(v6, "false"))
		ret = fl_yerr(err, d, fl_ymap_get(n, "ipv6"), "'ipv6' must be true or false");
	if (!ret && !fl_ymap_get(n, "nodes"))
		ret = fl_yerr(err, d, n, "a lab needs 'nodes', e.g. [{name: n1}, {name: n2}]");
	lf->ipv6 = v6 && !strcmp(v6, "true");
	if (!ret)
		ret = parse_list(&c, fl_ymap_get(n, "nodes"), "'nodes'", parse_node);
	if (!ret && fl_ymap_get(n, "pairs"))
		ret = parse_list(&c, fl_ymap_get(n, "pairs"), "'pairs'", parse_pair);
	if (ret) {
		free(lf);
		return ret;
	}
	*out = lf;
	return 0;
}

int fl_labfile_load(const char *file, struct fl_labfile **out, struct fl_err *err)
{
	struct fl_ydoc *d = NULL;
	int ret = fl_yaml_load(file, NULL, &d, err);

	*out = NULL;
	if (!ret && !d->root)
		ret = fl_yerr(err, d, NULL, "empty lab file");
	if (!ret)
		ret = fl_labfile_parse(d, d->root, out, err);
	fl_yaml_free(d);
	return ret;
}

void fl_labfile_spec(const struct fl_labfile *lf, const char *name, struct fl_lab_spec *spec)
{
	static const char *names[FL_LAB_MAX_NODES];

	for (size_t i = 0; i < lf->n_nodes; i++)
		names[i] = lf->names[i];
	*spec = (struct fl_lab_spec){ .name = name,
				      .n_nodes = lf->n_nodes,
				      .node_names = names,
				      .ipv6 = lf->ipv6,
				      .node_fam = lf->fam };
}

/* NAME: the node, or A_B for a pair */
static void profile_name(const struct fl_lprofile *p, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", p->node, p->peer[0] ? "_" : "", p->peer);
}

bool fl_lprofile_words(const struct fl_lprofile *p, const char *kind, uint64_t seed, char *buf,
		       size_t len)
{
	char name[2 * FL_NODE_NAME_MAX + 2], seedw[40] = "";
	const struct fault_ops *ops = NULL;
	size_t n;

	for (size_t i = 0; i < p->n_values && !ops; i++)
		if (!strcmp(p->values[i].ops->name, kind))
			ops = p->values[i].ops;
	if (!ops)
		return false;
	n = (size_t)snprintf(buf, len, "%s", kind);
	for (const struct fl_param *q = ops->params; q->name && n < len; q++) {
		const char *text = (q->flags & FL_PF_REQUIRED) ? "0" : NULL;

		for (size_t i = 0; i < p->n_values; i++)
			if (p->values[i].p == q)
				text = p->values[i].text;
		if (text)
			n += (size_t)snprintf(buf + n, len - n, " %s %s", q->name, text);
	}
	if (n >= len)
		return false;
	profile_name(p, name, sizeof(name));
	if (seed)
		snprintf(seedw, sizeof(seedw), " --seed %llu", (unsigned long long)seed);
	if (p->peer[0])
		snprintf(buf + n, len - n, " --from %s --to %s --bidir --profile %s --id %s-%s%s",
			 p->node, p->peer, name, name, kind, seedw);
	else
		snprintf(buf + n, len - n, " --node %s --profile %s --id %s-%s%s", p->node, name,
			 name, kind, seedw);
	return true;
}

static int split(char *text, char **argv, int max)
{
	int argc = 0;
	char *save = NULL;

	for (char *w = strtok_r(text, " ", &save); w && argc < max - 1;
	     w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	return argc;
}

static int validate_profile(const struct fl_lprofile *p, const struct fl_lab *lab, const char *file,
			    struct fl_err *err)
{
	char words[512], *argv[64];
	struct fl_fault *f = calloc(1, sizeof(*f));
	struct fl_err e;
	int ret = f ? 0 : -ENOMEM;

	/* every kind of the table that the profile gives a value for */
	for (size_t k = 0; !ret && fl_fault_kinds[k]; k++) {
		if (!fl_lprofile_words(p, fl_fault_kinds[k]->name, 0, words, sizeof(words)))
			continue;
		if (fl_fault_parse(f, split(words, argv, 64), argv, lab, &e)) {
			fl_err_set(err, "%s:%d:%d: %s", file, p->line, p->col, e.msg);
			ret = -EINVAL;
		}
	}
	if (!ret && p->mtu) {
		const struct fl_node *n = fl_lab_node(lab, p->node);

		if (n && (n->fam & FL_NODE_V6) && p->mtu < FL_MTU_MIN6) {
			fl_err_set(err, "%s:%d:%d: mtu %u for %s: below %d, the least IPv6 allows",
				   file, p->line, p->col, p->mtu, p->node, FL_MTU_MIN6);
			ret = -EINVAL;
		}
	}
	free(f);
	return ret;
}

int fl_labfile_validate(const struct fl_labfile *lf, const char *file, struct fl_err *err)
{
	struct fl_lab_spec spec;
	struct fl_lab *lab = NULL;
	char a[40], b[40];
	int ret;

	fl_labfile_spec(lf, "plan", &spec);
	ret = fl_lab_plan(&spec, &lab, err);
	for (size_t i = 0; !ret && i < lf->n_profiles; i++) {
		ret = validate_profile(&lf->profiles[i], lab, file, err);
		for (size_t k = 0; !ret && k < i; k++) { /* a node a_b and a pair (a, b) */
			profile_name(&lf->profiles[i], a, sizeof(a));
			profile_name(&lf->profiles[k], b, sizeof(b));
			if (!strcmp(a, b)) {
				fl_err_set(err, "%s:%d:%d: two profiles named %s", file,
					   lf->profiles[i].line, lf->profiles[i].col, a);
				ret = -EINVAL;
			}
		}
	}
	fl_lab_free(lab);
	return ret;
}

static int apply_fault(const struct fl_target *t, char *words, struct fl_err *err)
{
	char *argv[64] = { "add" }, *out = NULL, *msg = NULL;
	int argc = split(words, argv + 1, 63) + 1, status;

	status = fl_fault_request(t, argc, argv, false, &out, &msg);
	if (status)
		fl_err_set(err, "%s", msg && *msg ? msg : "the lab's supervisor refused");
	free(out);
	free(msg);
	return status ? -EINVAL : 0;
}

int fl_labfile_apply(const struct fl_labfile *lf, const char *lab, uint64_t seed,
		     struct fl_err *err)
{
	char *tv[2] = { (char *)lab, NULL }, words[512], *out = NULL, *msg = NULL;
	struct fl_target t;
	int used, ret = fl_target_parse(1, tv, &t, &used, err);

	for (size_t i = 0; !ret && i < lf->n_profiles; i++) {
		const struct fl_lprofile *p = &lf->profiles[i];
		struct fl_topo mtu = { .op = FL_TOPO_MTU, .mtu = p->mtu };

		if (!p->mtu)
			continue;
		snprintf(mtu.node, sizeof(mtu.node), "%s", p->node);
		if (fl_topo_request(&t, &mtu, false, &out, &msg)) {
			fl_err_set(err, "%s", msg && *msg ? msg : "the lab's supervisor refused");
			ret = -EINVAL;
		}
		free(out);
		free(msg);
		out = msg = NULL;
	}
	for (size_t i = 0; !ret && i < lf->n_profiles; i++)
		for (size_t k = 0; !ret && fl_fault_kinds[k]; k++)
			if (fl_lprofile_words(&lf->profiles[i], fl_fault_kinds[k]->name,
					      seed ? seed + i * 64 + k : 0, words, sizeof(words)))
				ret = apply_fault(&t, words, err);
	return ret;
}

static void print_values(const struct fl_lprofile *p, FILE *f)
{
	for (size_t i = 0; i < p->n_values; i++)
		fprintf(f, ", %s: %s", p->values[i].p->name, p->values[i].text);
}

void fl_labfile_print(const struct fl_labfile *lf, FILE *f)
{
	static const char *const fams[] = { "", "ipv4", "ipv6", "dual" };

	fprintf(f, "lab:\n  ipv6: %s\n  nodes:\n", lf->ipv6 ? "true" : "false");
	for (size_t i = 0; i < lf->n_nodes; i++) {
		fprintf(f, "    - {name: %s", lf->names[i]);
		if (lf->fam[i])
			fprintf(f, ", family: %s", fams[lf->fam[i] & 3]);
		for (size_t k = 0; k < lf->n_profiles; k++) {
			const struct fl_lprofile *p = &lf->profiles[k];

			if (p->peer[0] || strcmp(p->node, lf->names[i]))
				continue;
			fprintf(f, ", link: {mtu: %u", p->mtu ? p->mtu : 1500);
			print_values(p, f);
			fputc('}', f);
		}
		fputs("}\n", f);
	}
	for (size_t k = 0, n = 0; k < lf->n_profiles; k++) {
		const struct fl_lprofile *p = &lf->profiles[k];

		if (!p->peer[0])
			continue;
		if (!n++)
			fputs("  pairs:\n", f);
		fprintf(f, "    - {between: [%s, %s]", p->node, p->peer);
		print_values(p, f);
		fputs("}\n", f);
	}
}
