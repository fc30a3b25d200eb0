// SPDX-License-Identifier: MIT
/* Fault words checked without a lab (`fallacy --check fault ...`): the
 * parser and the rule builder of `fault add`, run against a stand-in lab
 * made of the node names the words give. */
#include "fault.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lab/lab.h"

struct names {
	char v[FL_LAB_MAX_NODES][64];
	const char *p[FL_LAB_MAX_NODES];
	size_t n;
};

/* Add the node names of a comma list; addresses and prefixes (with . : or
 * /) are not names, and the parser checks them itself. */
static int add_names(struct names *nm, const char *list)
{
	char buf[FL_GROUP_LEN], *save = NULL, *tok;

	if (strpbrk(list, ".:/"))
		return 0;
	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i = 0;

		while (i < nm->n && strcmp(nm->v[i], tok))
			i++;
		if (i < nm->n)
			continue;
		if (nm->n == FL_LAB_MAX_NODES)
			return -E2BIG;
		snprintf(nm->v[nm->n], sizeof(nm->v[0]), "%s", tok);
		nm->p[nm->n] = nm->v[nm->n];
		nm->n++;
	}
	return 0;
}

/* The values of the options that name nodes (--from, --to, --node). */
static int option_names(struct names *nm, int argc, char **argv)
{
	for (int i = 0; i + 1 < argc; i++) {
		const struct fl_fault_option *o = fl_fault_option(argv[i]);

		if (!o || !o->takes_value)
			continue;
		if ((o->node_list || !strcmp(o->name, "--node")) && add_names(nm, argv[i + 1]))
			return -E2BIG;
		i++;
	}
	return 0;
}

/* The groups of a parsed fault (partition n1,n2 n3). */
static int group_names(struct names *nm, const struct fl_fault *f)
{
	for (const struct fl_param *p = f->ops->params; p->name; p++) {
		const struct fl_groups *g;

		if (p->type != FL_PT_GROUPS)
			continue;
		g = (const struct fl_groups *)(const void *)(f->kp.bytes + p->off);
		for (int i = 0; i < g->n; i++)
			if (add_names(nm, g->g[i]))
				return -E2BIG;
	}
	return 0;
}

/* A lab with these nodes. Its real slot (and so its /23) is unknown, so it
 * spans all of 198.18.0.0/15: any lab address is accepted. */
static int standin_lab(const char *name, const struct names *nm, struct fl_lab **lab,
		       struct fl_err *err)
{
	struct fl_lab_spec spec = { .name = name,
				    .n_nodes = nm->n ? nm->n : 1,
				    .node_names = nm->n ? nm->p : NULL,
				    .ipv6 = true };
	int ret;

	fl_lab_free(*lab);
	*lab = NULL;
	ret = fl_lab_plan(&spec, lab, err);
	if (!ret)
		(*lab)->prefix4_len = 15;
	return ret;
}

int fl_fault_check(int argc, char **argv, const char *lab_name, struct fl_err *err)
{
	struct fl_rule *rules = calloc(FL_FAULT_MAX_RULES, sizeof(*rules));
	struct fl_fault *f = calloc(1, sizeof(*f));
	struct names *nm = calloc(1, sizeof(*nm));
	struct fl_lab *lab = NULL;
	size_t before;
	int ret = -ENOMEM;

	if (!rules || !f || !nm)
		goto out;
	ret = -EINVAL;
	if (lab_name && option_names(nm, argc, argv)) {
		fl_err_set(err, "more than %d node names", FL_LAB_MAX_NODES);
		goto out;
	}
	if (lab_name && standin_lab(lab_name, nm, &lab, err))
		goto out;
	if (fl_fault_parse(f, argc, argv, lab, err))
		goto out;
	before = nm->n;
	if (lab_name && group_names(nm, f)) {
		fl_err_set(err, "more than %d node names", FL_LAB_MAX_NODES);
		goto out;
	}
	if (nm->n != before &&
	    (standin_lab(lab_name, nm, &lab, err) || fl_fault_parse(f, argc, argv, lab, err)))
		goto out;
	ret = fl_fault_rules(f, lab, rules, FL_FAULT_MAX_RULES, err) < 0 ? -EINVAL : 0;
out:
	if (ret == -ENOMEM)
		fl_err_set(err, "out of memory");
	fl_lab_free(lab);
	free(nm);
	free(f);
	free(rules);
	return ret;
}

int fl_fault_check_params(int argc, char **argv, struct fl_err *err)
{
	struct fl_fault *f = calloc(1, sizeof(*f));
	int ret;

	if (!f) {
		fl_err_set(err, "out of memory");
		return -ENOMEM;
	}
	if (argc < 1) {
		fl_err_set(err, "missing fault kind (e.g. loss 5%%, delay 50ms)");
		ret = -EINVAL;
	} else if (!fl_fault_kind(argv[0])) {
		ret = fl_fault_unknown_kind(argv[0], err);
	} else {
		fl_fault_init(f, fl_fault_kind(argv[0]));
		ret = fl_fault_parse_params(f, argc, argv, err);
	}
	free(f);
	return ret;
}
