// SPDX-License-Identifier: MIT
/* History files (Jepsen's shape): the parser never crashes and reports a
 * line; what parses is checked (with a small search limit) in both
 * models without crashing. */
#include "fuzz.h"

#include "history.h"
#include "lin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fl_lin_opts o = { .threads = 1, .max_states = 20000 };
	struct fl_history h;
	struct fl_lin_result r;
	struct fl_err e;

	if (fl_history_parse((const char *)data, size, "fuzz.jsonl", &h, &e))
		return 0;
	for (int m = 0; m < 2; m++) {
		o.model = m ? FL_LIN_KV : FL_LIN_REGISTER;
		if (!fl_lin_check(&h, &o, &r, &e))
			fl_lin_result_free(&r);
	}
	fl_history_free(&h);
	return 0;
}
