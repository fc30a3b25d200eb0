/* SPDX-License-Identifier: MIT */
/* Internal to injector/lab*.c. */
#ifndef FALLACY_LAB_INT_H
#define FALLACY_LAB_INT_H

#include "lab.h"
#include "state/journal.h"

/* Make the namespaces, bridge, veths, addresses and hosts files of a
 * planned lab, recording each object in st before creating it. */
int fl_lab_build(struct fl_lab *lab, struct fl_state *st);
/* Write RUN_DIR/LAB/lab atomically. */
int fl_lab_save(const struct fl_lab *lab);

#endif
