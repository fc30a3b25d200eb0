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
#include "steps.h"
#include "supervisor/session.h"

int fl_run_step_ctx(struct fl_run *r, struct fl_step_ctx *c, struct fl_err *err)
{
	char *argv[] = { r->lab->name, NULL };
	int used = 0;

	memset(c, 0, sizeof(*c));
	c->lab = r->lab;
	c->run = r;
	c->seed = r->seed;
	return fl_target_parse(1, argv, &c->target, &used, err);
}

/* Every step against the real lab; the supervisor started now, so that the
 * first step does not pay for its start-up (~0.2 s). */
int fl_run_faults_check(struct fl_run *r, struct fl_err *err)
{
	const struct fl_scenario *sc = r->sc;
	struct fl_step_ctx c;
	struct fl_err e;
	bool any = false;

	for (size_t i = 0; i < sc->n_steps; i++) {
		const struct fl_step *st = &sc->steps[i];

		any |= !fl_step_is_heal(st);
		if (st->ops->validate && st->ops->validate(st, r->lab, &e)) {
			fl_err_set(err, "%s:%d:%d: %s", sc->file, st->line, st->col, e.msg);
			return -EINVAL;
		}
	}
	if (!any)
		return 0;
	if (fl_run_step_ctx(r, &c, err))
		return -EINVAL;
	if (fl_session_ensure(&c.target)) {
		fl_err_set(err, "cannot start the fault supervisor of lab '%s'", r->lab_name);
		return -EIO;
	}
	return 0;
}

int fl_run_validate(const struct fl_scenario *sc, size_t n_nodes, struct fl_err *err)
{
	struct fl_lab_spec spec = { .name = "run", .n_nodes = n_nodes, .ipv6 = sc->ipv6 };
	struct fl_lab *lab = NULL;
	struct fl_err e;
	int ret = fl_lab_plan(&spec, &lab, err);

	for (size_t i = 0; !ret && i < sc->n_steps; i++) {
		const struct fl_step *st = &sc->steps[i];

		if (st->ops->validate && st->ops->validate(st, lab, &e)) {
			fl_err_set(err, "%s:%d:%d: %s", sc->file, st->line, st->col, e.msg);
			ret = -EINVAL;
		}
	}
	fl_lab_free(lab);
	return ret;
}
