/* SPDX-License-Identifier: MIT */
/* Internal to injector/faults/: the parameter engine's entry for the
 * option parser (match.c). */
#ifndef FALLACY_FAULTS_INT_H
#define FALLACY_FAULTS_INT_H

#include "fault.h"

/* KIND and its parameter words (argv[0] = KIND, no --options) into f, with
 * defaults first. *bad: index of the offending word in argv, or -1. */
int fl_fault_parse_kind(struct fl_fault *f, int argc, char **argv, int *bad, struct fl_err *err);

#endif
