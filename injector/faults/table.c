// SPDX-License-Identifier: MIT
/* The table of fault kinds. Add a kind: one file in injector/faults/ with a
 * `const struct fault_ops fl_fault_NAME`, one extern and one line here. */
#include "fault.h"

extern const struct fault_ops fl_fault_loss;
extern const struct fault_ops fl_fault_partition;
extern const struct fault_ops fl_fault_duplicate;
extern const struct fault_ops fl_fault_corrupt;
extern const struct fault_ops fl_fault_reset;
extern const struct fault_ops fl_fault_delay;
extern const struct fault_ops fl_fault_reorder;
extern const struct fault_ops fl_fault_rate;

const struct fault_ops *const fl_fault_kinds[] = {
	&fl_fault_loss,
	&fl_fault_partition,
	&fl_fault_duplicate,
	&fl_fault_corrupt,
	&fl_fault_reset,
	&fl_fault_delay,
	&fl_fault_reorder,
	&fl_fault_rate,
	NULL,
};
