// SPDX-License-Identifier: MIT
/* Process faults on the target's processes, as timeline steps:
 *
 *   kill: leader              SIGKILL; started again by heal (or restart:)
 *   pause: minority           SIGSTOP (a GC pause, a frozen VM); heal: SIGCONT
 *   stop: one                 the same as pause
 *   restart: n2               SIGTERM, the stop grace, SIGKILL, start again
 *                             (same data dir); nothing to heal
 *   kill: {on: primary, process: sentinel}   one start item's process only
 *
 * The words are "NODES [--process NAME]" (the step's key is the action, as
 * in `fallacy process LAB NODES ACTION [--process NAME]`). The nodes go
 * through the selector resolver (steps.h). A run only: wrap has no target. */
#include "steps.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/lab.h"
#include "run.h"
#include "scenario.h"

static enum fl_proc_action action_of(const struct fl_step *st)
{
	const char *a = st->ops->key;

	return !strcmp(a, "kill")    ? FL_PROC_KILL :
	       !strcmp(a, "restart") ? FL_PROC_RESTART :
				       FL_PROC_PAUSE;
}

/* kill: NODES | {on: NODES, process: NAME}; the words "NODES" ["--process"
 * "NAME"], or the same words as a string (the resolved form). */
static int proc_parse(struct fl_step_parse *p, struct fl_step *st, const struct fl_ynode *step,
		      const struct fl_ynode *v)
{
	static const char *const keys[] = { "on", "process", NULL };
	const struct fl_ynode *on = v, *pr = NULL;
	char buf[512];
	int ret;

	(void)step;
	if (v->type == FL_Y_MAP) {
		if (fl_ycheck_keys(p->d, v, "a process step", keys, p->err))
			return -EINVAL;
		on = fl_ymap_get(v, "on");
		pr = fl_ymap_get(v, "process");
		if (!on)
			return fl_yerr(p->err, p->d, v, "'%s' needs 'on' (nodes or a selector)",
				       st->ops->key);
	}
	if (fl_ystep_nodes(p, on, st->ops->key, buf, sizeof(buf)))
		return -EINVAL;
	if (strchr(buf, ' ')) { /* the words, as a resolved scenario prints them */
		ret = fl_step_push_words(st, buf);
		if (!ret && st->argc != 1 && (st->argc != 3 || strcmp(st->argv[1], "--process")))
			return fl_yerr(p->err, p->d, on, "'%s': expected NODES [--process NAME]",
				       st->ops->key);
		return ret;
	}
	ret = fl_step_push(st, buf);
	if (!ret && pr)
		ret = fl_ystep_scalar(p, pr, "process")	    ?:
			      fl_step_push(st, "--process") ?:
							      fl_step_push(st, pr->text);
	return ret;
}

static enum fl_step_field proc_field(const struct fl_step *st, size_t i)
{
	(void)st;
	return i == 0 ? FL_FIELD_NODES : FL_FIELD_NONE;
}

static int proc_validate(const struct fl_step *st, struct fl_lab *lab, struct fl_err *err)
{
	char buf[512], names[256];

	snprintf(buf, sizeof(buf), "%s", st->argv[0]);
	for (char *s = buf, *tok; (tok = strsep(&s, ","));) {
		size_t off = 0;

		if (fl_lab_node(lab, tok))
			continue;
		names[0] = '\0';
		for (size_t i = 0; i < lab->n_nodes && off < sizeof(names); i++)
			off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s",
						i ? ", " : "", lab->nodes[i].name);
		fl_err_set(err, "%s: unknown node, role or selector '%s' (the lab has %s)",
			   st->ops->key, tok, names);
		return -EINVAL;
	}
	return 0;
}

/* For each node of the resolved step: act on its processes. */
static int proc_each(struct fl_step_ctx *c, const struct fl_step *st, enum fl_proc_action a,
		     struct fl_err *err)
{
	const char *name = st->argc == 3 ? st->argv[2] : NULL;
	struct fl_run *r = c->run;
	char buf[512];
	int ret = 0;

	if (!r) {
		fl_err_set(err, "'%s' needs a run (the target's processes)", st->ops->key);
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", st->argv[0]);
	for (char *s = buf, *tok; !ret && (tok = strsep(&s, ","));) {
		int i = fl_sel_index(&r->sel, tok);

		if (i < 0) {
			fl_err_set(err, "%s: no node '%s'", st->ops->key, tok);
			return -EINVAL;
		}
		ret = fl_run_proc_act(r, (size_t)i, name, a, err);
	}
	return ret;
}

static int proc_apply(struct fl_step_ctx *c, const struct fl_step *st, struct fl_err *err)
{
	return proc_each(c, st, action_of(st), err);
}

static int proc_heal(struct fl_step_ctx *c, const struct fl_step *st, char *counters, size_t len,
		     struct fl_err *err)
{
	(void)counters;
	(void)len;
	return proc_each(c, st, FL_PROC_HEAL, err);
}

/* kill, pause and stop heal (start again, SIGCONT); restart has no heal */
#define PROC_STEP(k, h, healer)                                                                   \
	{                                                                                         \
		.key = k, .help = h, .needs_lab = true, .parse = proc_parse, .apply = proc_apply, \
		.heal = healer, .validate = proc_validate, .node_field = proc_field,              \
	}

const struct fl_step_ops fl_step_kill = PROC_STEP(
	"kill", "SIGKILL the target's processes on these nodes; heal starts them again", proc_heal);
const struct fl_step_ops fl_step_pause = PROC_STEP(
	"pause", "SIGSTOP the target's processes on these nodes (a GC pause); heal: SIGCONT",
	proc_heal);
const struct fl_step_ops fl_step_stop =
	PROC_STEP("stop", "the same as pause: SIGSTOP, and SIGCONT when healed", proc_heal);
const struct fl_step_ops fl_step_restart =
	PROC_STEP("restart",
		  "stop the target's processes on these nodes (SIGTERM, grace, SIGKILL) and start "
		  "them again",
		  NULL);
