/* SPDX-License-Identifier: MIT */
/* Scenario and target files by name: `fallacy run network-is-reliable
 * --target etcd` finds the installed (or the source tree's) files. A root
 * holds fallacies/, examples/ and targets/; the roots, in order:
 * $FALLACY_SCENARIOS (colon-separated), the build's data folder
 * (PREFIX/share/fallacy/scenarios), and the scenarios/ folder of the source
 * tree the binary was built in (.output/fallacy -> ../scenarios). */
#ifndef FALLACY_FIND_H
#define FALLACY_FIND_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"

enum fl_find_kind {
	FL_FIND_SCENARIO, /* ROOT/fallacies/NAME.yaml, ROOT/examples/NAME.yaml */
	FL_FIND_TARGET, /* ROOT/targets/NAME.yaml */
};

/* ARG as given when it names a file (it exists, or has a '/' or a .yaml
 * ending); else the first ROOT's file of that NAME. -ENOENT with err
 * saying where it looked and what there is (with a suggestion). */
int fl_find_file(enum fl_find_kind kind, const char *arg, char *path, size_t len,
		 struct fl_err *err);

/* Call fn(name, path, arg) for every named file of kind, first root first,
 * each name once. */
void fl_find_each(enum fl_find_kind kind, void (*fn)(const char *name, const char *path, void *arg),
		  void *arg);

#endif
