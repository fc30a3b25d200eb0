/* SPDX-License-Identifier: MIT */
/* The delay line's public face: what harness/ may call. The line itself
 * (delayline.h), its model (delaymodel.h), the netfilter rule that feeds it
 * (nfrule.h) and the supervisor's use of it (sup_delay.h) are internal. */
#ifndef FALLACY_DELAY_H
#define FALLACY_DELAY_H

/* `fallacy __delayline [OPTIONS] -- delay D [...]`: the delay line in the
 * foreground for one slot, with its netfilter rules, until SIGTERM (tests
 * and benchmarks drive it without a supervisor). argv[0] is the command
 * name. Returns the exit status (0, or 2 for bad input or a kernel error). */
int fl_delay_standalone_main(int argc, char **argv);

#endif
