// SPDX-License-Identifier: MIT
/* Where the timeline's steps act in `fallacy run`: the lab, its session
 * supervisor (faults go there through the session API) and the run. The
 * steps themselves (steps.h) say what they do; the harness never touches
 * netlink or BPF itself. */
#include "run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/lab.h"
#include "labfile.h"
#include "select.h"
#include "steps.h"
#include "supervisor/session.h"

int fl_run_step_ctx(struct fl_run *r, struct fl_step_ctx *c, struct fl_err *err)
{
	char *argv[] = { r->lab->name, NULL };
	int used = 0;

	memset(c, 0, sizeof(*c));
	c->lab = r->lab;
	c->lab0 = r->lab0;
	c->run = r;
	c->seed = r->seed;
	c->sel = &r->sel;
	c->inv = r->inv;
	if (r->inv) /* no session: the nodes' agents */
		return 0;
	return fl_target_parse(1, argv, &c->target, &used, err);
}

/* The planning twin of r->sel: no leader: command is run. */
static void plan_env(const struct fl_sut *t, const struct fl_tplan *p, uint64_t seed,
		     struct fl_sel_env *e)
{
	memset(e, 0, sizeof(*e));
	e->n = p->n;
	e->seed = seed;
	e->target = t->name;
	e->has_leader = t->leader != NULL;
	for (size_t i = 0; i < p->n; i++) {
		e->names[i] = p->names[i];
		e->roles[i] = p->roles[i];
	}
}

/* Every step against the real lab; the supervisor started now, so that the
 * first step does not pay for its start-up (~0.2 s). */
int fl_run_faults_check(struct fl_run *r, struct fl_err *err)
{
	const struct fl_scenario *sc = r->sc;
	struct fl_sel_env env;
	struct fl_step_ctx c;
	bool any = false;

	plan_env(r->t, &r->plan, r->seed, &env);
	if (fl_steps_validate(sc, &env, r->t, r->lab, err))
		return -EINVAL;
	for (size_t i = 0; i < sc->n_steps; i++)
		any |= !fl_step_is_heal(&sc->steps[i]);
	if (!any || r->inv)
		return 0;
	if (fl_run_step_ctx(r, &c, err))
		return -EINVAL;
	if (fl_session_ensure(&c.target)) {
		fl_err_set(err, "cannot start the fault supervisor of lab '%s'", r->lab_name);
		return -EIO;
	}
	return 0;
}

int fl_run_leader_check(struct fl_run *r, struct fl_err *err)
{
	size_t order[FL_RUN_MAX_NODES], n = 0;

	/* always, when the target has one: the leader event it records is
	 * what checks' `on: leader` and `on: followers` use */
	if (!r->t->leader)
		return 0;
	return fl_run_leader(r, order, &n, err);
}

/* The target's node fields (probe node, start items) against the plan. */
static int validate_nodes(const struct fl_sut *t, const struct fl_tplan *p, struct fl_err *err)
{
	bool found = false;

	for (size_t i = 0; i < p->n && !found; i++)
		found = fl_tplan_on(t->load_node, p, i);
	if (!found) {
		fl_err_set(err, "%s:%d:%d: node '%s' is not in the lab (a node, a role or all)",
			   t->file, t->line, t->col, t->load_node);
		return -EINVAL;
	}
	for (size_t k = 0; k < t->n_starts; k++) {
		found = false;
		for (size_t i = 0; i < p->n && !found; i++)
			found = fl_tstart_on(&t->starts[k], p, i);
		if (!found && t->starts[k].on && !fl_sel_is_keyword(t->starts[k].on)) {
			bool role = false;

			for (size_t r = 0; r < t->n_roles; r++)
				role |= !strcmp(t->roles[r].name, t->starts[k].on);
			if (!role) {
				fl_err_set(err, "%s:%d:%d: node '%s' is not in the lab", t->file,
					   t->starts[k].line, t->starts[k].col, t->starts[k].on);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* Command checks' node: is a selector (select.h), resolved against the
 * plan as the run will resolve it (leader: the first node). */
static int validate_check_nodes(const struct fl_scenario *sc, const struct fl_sut *t,
				const struct fl_tplan *p, struct fl_err *err)
{
	struct fl_sel_env env;
	struct fl_sel_rng rng;
	fl_nodeset set;
	struct fl_err e;
	bool unknown;

	plan_env(t, p, sc->seed, &env);
	for (size_t k = 0; k < sc->n_checks; k++) {
		const struct fl_check *ck = &sc->checks[k];

		if (ck->kind != FL_CHECK_COMMAND)
			continue;
		fl_sel_rng_check(&rng, sc->seed, k);
		if (fl_sel_nodes(&env, ck->node, &rng, fl_sel_all(&env), &set, &unknown, &e)) {
			fl_err_set(err, "%s:%d:%d: %s", sc->file, ck->line, ck->col, e.msg);
			return -EINVAL;
		}
		if (unknown || !set) {
			fl_err_set(err, "%s:%d:%d: node '%s' is not in the lab", sc->file, ck->line,
				   ck->col, ck->node);
			return -EINVAL;
		}
	}
	return 0;
}

int fl_run_plan_nodes(const struct fl_scenario *sc, const struct fl_sut *t, size_t n,
		      struct fl_tplan *p, struct fl_err *err)
{
	if (fl_sut_plan(t, n, p, err))
		return -EINVAL;
	/* a lab: file names the nodes; the roles go by position */
	for (size_t i = 0; sc->lab && i < n && i < sc->lab->n_nodes; i++)
		snprintf(p->names[i], sizeof(p->names[i]), "%s", sc->lab->names[i]);
	return 0;
}

int fl_run_validate(const struct fl_scenario *sc, const struct fl_sut *t, size_t n_nodes,
		    struct fl_err *err)
{
	struct fl_lab_spec spec = { .name = "run", .n_nodes = n_nodes, .ipv6 = sc->ipv6 };
	const char *names[FL_RUN_MAX_NODES];
	struct fl_lab *lab = NULL;
	struct fl_sel_env env;
	struct fl_tplan plan;
	int ret = fl_run_plan_nodes(sc, t, n_nodes, &plan, err);

	if (ret)
		return ret;
	if (validate_nodes(t, &plan, err) || validate_check_nodes(sc, t, &plan, err))
		return -EINVAL;
	for (size_t i = 0; i < plan.n; i++)
		names[i] = plan.names[i];
	spec.node_names = names;
	if (sc->lab) {
		fl_labfile_spec(sc->lab, "run", &spec);
		ret = fl_labfile_validate(sc->lab, sc->file, err);
	}
	if (!ret)
		ret = fl_lab_plan(&spec, &lab, err);
	plan_env(t, &plan, sc->seed, &env);
	if (!ret)
		ret = fl_steps_validate(sc, &env, t, lab, err);
	if (!ret)
		ret = fl_run_herd_validate(sc, t, &env, err);
	fl_lab_free(lab);
	return ret;
}
