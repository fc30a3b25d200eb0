// SPDX-License-Identifier: MIT
/* Node selectors and process requests (the words `fallacy process` sends a
 * run): never crash; what a selector resolves to is in the lab; a step's
 * node fields resolve to words without selectors, each node of the lab;
 * with n2 and n4 gone, keywords and roles never pick them; a single-node
 * field resolves to one node; the same seed resolves the same way. Input:
 * line 1 an expression, line 2 a process request, line 3 the words of a
 * fault step, line 4 the words of an admin step (address templates
 * against a planned lab). */
#include "fuzz.h"

#include "lab/lab.h"
#include "scenario.h"
#include "select.h"
#include "steps.h"

static const char *const names[] = { "n1", "n2", "n3", "n4", "n5" };
static const char *const roles[] = { "primary", "replica", "replica", "replica", NULL };

static int leader(void *arg, size_t *order, size_t *n, struct fl_err *err)
{
	(void)arg;
	(void)err;
	order[0] = 2;
	*n = 1;
	return 0;
}

static void env(struct fl_sel_env *e)
{
	memset(e, 0, sizeof(*e));
	e->n = 5;
	e->seed = 7;
	e->target = "fuzz";
	e->has_leader = true;
	e->leader = leader;
	for (size_t i = 0; i < 5; i++) {
		e->names[i] = names[i];
		e->roles[i] = roles[i];
	}
}

static void expression(const struct fl_sel_env *e, const char *expr)
{
	struct fl_sel_rng r1, r2;
	struct fl_err err;
	fl_nodeset a = 0, b = 0, g[FL_SEL_MAX_GROUPS];
	bool unknown;
	size_t n;

	fl_sel_rng_init(&r1, e->seed, 1, 1);
	fl_sel_rng_init(&r2, e->seed, 1, 1);
	if (!fl_sel_nodes(e, expr, &r1, 0x3, &a, &unknown, &err)) {
		FUZZ_ASSERT(!(a & ~fl_sel_all(e)), "'%s' selected a node outside the lab", expr);
		FUZZ_ASSERT(!fl_sel_nodes(e, expr, &r2, 0x3, &b, &unknown, &err) && a == b,
			    "'%s' resolved twice differently", expr);
	}
	if (fl_sel_is_group_keyword(expr) && !fl_sel_groups(e, expr, &r1, g, &n, &err))
		for (size_t k = 0; k < n; k++)
			FUZZ_ASSERT(g[k] && !(g[k] & ~fl_sel_all(e)), "'%s': a bad group", expr);
}

/* With nodes gone, keywords and roles skip them: only a name or `left`
 * picks one. */
static void gone(const struct fl_sel_env *e0, const char *expr)
{
	struct fl_sel_env e = *e0;
	struct fl_sel_rng r;
	struct fl_err err;
	fl_nodeset a = 0, g[FL_SEL_MAX_GROUPS];
	bool unknown, named = false;
	size_t n;

	e.gone = 1ULL << 1 | 1ULL << 3;
	for (size_t i = 0; i < e.n; i++)
		named |= strstr(expr, e.names[i]) != NULL;
	fl_sel_rng_init(&r, e.seed, 1, 1);
	/* rest: what the step's other fields left, of the nodes there */
	if (!fl_sel_nodes(&e, expr, &r, 0x3 & fl_sel_all(&e), &a, &unknown, &err) && !named &&
	    !strstr(expr, "left"))
		FUZZ_ASSERT(!(a & e.gone), "'%s' selected a node that left", expr);
	if (fl_sel_is_group_keyword(expr) && !fl_sel_groups(&e, expr, &r, g, &n, &err))
		for (size_t k = 0; k < n; k++)
			FUZZ_ASSERT(!(g[k] & e.gone), "'%s': a group with a node that left", expr);
}

/* An admin step: its single-node fields resolve to one node each (an
 * address template to an address of the planned lab). */
static void admin(const struct fl_sel_env *e, char *words)
{
	static struct fl_lab *lab;
	struct fl_lab_spec spec = { .name = "fz", .n_nodes = 5 };
	struct fl_step st = { 0 }, *copy = NULL;
	struct fl_step_ctx c = { .sel = e };
	char *argv[FUZZ_MAX_WORDS];
	int argc = fuzz_words(words, argv, FUZZ_MAX_WORDS);
	struct fl_err err;

	if (!lab && fl_lab_plan(&spec, &lab, &err))
		abort();
	c.lab = lab;
	for (size_t k = 0; fl_step_kinds[k]; k++)
		if (!strcmp(fl_step_kinds[k]->key, "admin"))
			st.ops = fl_step_kinds[k];
	if (!st.ops)
		abort();
	for (int i = 0; i < argc; i++)
		if (fl_step_push(&st, argv[i]))
			abort();
	if (!fl_step_resolve(&c, &st, &copy, NULL, &err)) {
		for (size_t i = 0; i < copy->argc; i++)
			if (st.ops->node_field(copy, i) == FL_FIELD_NODE &&
			    fl_sel_has_selector(e, st.argv[i]))
				FUZZ_ASSERT(!strchr(copy->argv[i], ','),
					    "'%s' became several nodes in a single-node field: %s",
					    st.argv[i], copy->argv[i]);
		fl_step_free(copy);
	}
	for (size_t i = 0; i < st.argc; i++)
		free(st.argv[i]);
	free(st.argv);
}

static void step(const struct fl_sel_env *e, char *words)
{
	struct fl_step st = { .ops = &fl_step_fault }, *copy = NULL;
	struct fl_step_ctx c = { .sel = e };
	char *argv[FUZZ_MAX_WORDS], *select = NULL;
	int argc = fuzz_words(words, argv, FUZZ_MAX_WORDS);
	struct fl_err err;

	for (int i = 0; i < argc; i++)
		if (fl_step_push(&st, argv[i]))
			abort();
	if (!fl_step_resolve(&c, &st, &copy, &select, &err)) {
		for (size_t i = 0; i < copy->argc; i++)
			if (st.ops->node_field(copy, i) != FL_FIELD_NONE &&
			    fl_sel_has_selector(e, copy->argv[i]))
				FUZZ_ASSERT(!fl_sel_has_selector(e, st.argv[i]),
					    "'%s' is still a selector after resolving",
					    copy->argv[i]);
		fl_step_free(copy);
	}
	free(select);
	for (size_t i = 0; i < st.argc; i++)
		free(st.argv[i]);
	free(st.argv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), *line[4] = { s, NULL, NULL, NULL };
	struct fl_proc_req req;
	struct fl_sel_env e;
	struct fl_err err;

	for (int i = 1; i < 4 && line[i - 1]; i++) {
		char *nl = strchr(line[i - 1], '\n');

		if (nl) {
			*nl = '\0';
			line[i] = nl + 1;
		}
	}
	env(&e);
	expression(&e, line[0]);
	gone(&e, line[0]);
	if (line[1] && !fl_proc_req_parse(line[1], &req, &err))
		FUZZ_ASSERT(req.action && req.nodes && req.nodes[0], "a request without nodes");
	if (line[2])
		step(&e, line[2]);
	if (line[3])
		admin(&e, line[3]);
	free(s);
	return 0;
}
