// SPDX-License-Identifier: MIT
/* The timeline's fault backend in `fallacy run`: every step goes to the
 * lab's session supervisor through the session API, as the words
 * `fallacy fault add LAB ...` takes; heal is `fault del ID`, after reading
 * the fault counters (`fault list -j`). The harness never touches netlink
 * or BPF itself. */
#include "run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/lab.h"

#include "faults/fault.h"
#include "supervisor/session.h"

static int lab_target(const struct fl_run *r, struct fl_target *t, struct fl_err *err)
{
	char *argv[] = { r->lab->name, NULL };
	int used = 0;

	return fl_target_parse(1, argv, t, &used, err);
}

static int request(struct fl_run *r, char **argv, int argc, bool json, char **out,
		   struct fl_err *err)
{
	struct fl_target t;
	char *msg = NULL;
	int ret;

	if (lab_target(r, &t, err))
		return -EINVAL;
	ret = fl_fault_request(&t, argc, argv, json, out, &msg);
	if (ret) {
		size_t n = msg ? strlen(msg) : 0;

		while (n && (msg[n - 1] == '\n'))
			msg[--n] = 0;
		fl_err_set(err, "%s", msg && msg[0] ? msg : "the session supervisor refused");
	}
	free(msg);
	return ret ? -EINVAL : 0;
}

static int run_apply(void *ctx, const struct fl_step *st, struct fl_err *err)
{
	struct fl_run *r = ctx;
	char *argv[80], *out = NULL, seed[24];
	bool has_seed = false;
	int argc = 0, ret;

	argv[argc++] = "add";
	for (size_t i = 0; i < st->argc && argc < 74; i++) {
		has_seed |= !strcmp(st->argv[i], "--seed");
		argv[argc++] = st->argv[i];
	}
	if (!has_seed) {
		snprintf(seed, sizeof(seed), "%llu", (unsigned long long)r->seed);
		argv[argc++] = "--seed";
		argv[argc++] = seed;
	}
	argv[argc++] = "--id";
	argv[argc++] = (char *)st->id;
	argv[argc] = NULL;
	ret = request(ctx, argv, argc, false, &out, err);
	free(out);
	return ret;
}

/* JSON lines need one line: newlines in JSON text are whitespace. */
static void one_line(char *s)
{
	for (; s && *s; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
}

static int run_heal(void *ctx, const char *id, char *counters, size_t len, struct fl_err *err)
{
	char *list[] = { "list", NULL }, *del[] = { "del", (char *)id, NULL }, *out = NULL;
	struct fl_err lerr;

	if (!request(ctx, list, 1, true, &out, &lerr) && out && out[0]) {
		one_line(out);
		if (strlen(out) < len)
			snprintf(counters, len, "%s", out);
	}
	free(out);
	out = NULL;
	if (request(ctx, del, 2, false, &out, err)) {
		free(out);
		return -EINVAL;
	}
	free(out);
	return 0;
}

/* Start the lab's supervisor now, so the first step does not pay for it. */
static int faults_prepare(struct fl_run *r, struct fl_err *err)
{
	struct fl_target t;

	if (lab_target(r, &t, err))
		return -EINVAL;
	if (fl_session_ensure(&t)) {
		fl_err_set(err, "cannot start the fault supervisor of lab '%s'", r->lab_name);
		return -EIO;
	}
	return 0;
}

int fl_run_faults_check(struct fl_run *r, struct fl_err *err)
{
	const struct fl_scenario *sc = r->sc;
	bool any = false;

	for (size_t i = 0; i < sc->n_steps; i++) {
		const struct fl_step *st = &sc->steps[i];
		struct fl_fault f;
		struct fl_err e;

		if (st->kind == FL_STEP_HEAL)
			continue;
		any = true;
		memset(&f, 0, sizeof(f));
		if (fl_fault_parse(&f, (int)st->argc, st->argv, r->lab, &e)) {
			fl_err_set(err, "%s:%d:%d: %s", sc->file, st->line, st->col, e.msg);
			return -EINVAL;
		}
	}
	return any ? faults_prepare(r, err) : 0;
}

int fl_run_validate(const struct fl_scenario *sc, size_t n_nodes, struct fl_err *err)
{
	struct fl_lab_spec spec = { .name = "run", .n_nodes = n_nodes, .ipv6 = sc->ipv6 };
	struct fl_rule *rules = calloc(FL_FAULT_MAX_RULES, sizeof(*rules));
	struct fl_fault *f = calloc(1, sizeof(*f));
	struct fl_lab *lab = NULL;
	struct fl_err e;
	int ret = -ENOMEM;

	if (!rules || !f)
		goto out;
	ret = fl_lab_plan(&spec, &lab, err);
	for (size_t i = 0; !ret && i < sc->n_steps; i++) {
		const struct fl_step *st = &sc->steps[i];

		if (st->kind == FL_STEP_HEAL)
			continue;
		if (fl_fault_parse(f, (int)st->argc, st->argv, lab, &e) ||
		    fl_fault_rules(f, lab, rules, FL_FAULT_MAX_RULES, &e) < 0) {
			fl_err_set(err, "%s:%d:%d: %s", sc->file, st->line, st->col, e.msg);
			ret = -EINVAL;
		}
	}
out:
	fl_lab_free(lab);
	free(rules);
	free(f);
	return ret;
}

const struct fl_timeline_ops fl_run_fault_ops = {
	.apply = run_apply,
	.heal = run_heal,
};
