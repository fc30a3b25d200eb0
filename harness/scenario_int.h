/* SPDX-License-Identifier: MIT */
/* Inside the scenario parser: shared by scenario.c and schedule.c. */
#ifndef FALLACY_SCENARIO_INT_H
#define FALLACY_SCENARIO_INT_H

#include "scenario.h"
#include "yaml.h"

struct sctx {
	const struct fl_ydoc *d;
	struct fl_err *err;
	struct fl_scenario *sc;
};

/* The action of step map s (its one kind key, the kind's extra keys; with
 * pick, no at/id/duration) into st. */
int fl_sparse_action(struct sctx *c, struct fl_step *st, const struct fl_ynode *s, bool pick);

/* schedule.c */
int fl_sparse_schedules(struct sctx *c, const struct fl_ynode *v);
void fl_schedules_print(const struct fl_scenario *sc, FILE *f);
void fl_schedules_free(struct fl_scenario *sc);

#endif
