// SPDX-License-Identifier: MIT
/* The table of fault kinds. Add a kind: one file in injector/faults/ that
 * defines `const struct fault_ops fl_fault_NAME`, and one line KIND(NAME)
 * here (a '-' in a kind's name is '_' in NAME: mtu-blackhole). Everything else (CLI, help, docs, scenario keys, wrap flags,
 * doctor) reads this table. */
#include "fault.h"

#define FL_KINDS(KIND)  \
	KIND(loss)      \
	KIND(partition) \
	KIND(duplicate) \
	KIND(corrupt)   \
	KIND(reset)     \
	KIND(delay)     \
	KIND(reorder)   \
	KIND(rate)      \
	KIND(tamper)    \
	KIND(replay)    \
	KIND(mtu_blackhole)

#define DECLARE(name) extern const struct fault_ops fl_fault_##name;
#define ENTRY(name) &fl_fault_##name,

FL_KINDS(DECLARE)

const struct fault_ops *const fl_fault_kinds[] = { FL_KINDS(ENTRY) NULL };
