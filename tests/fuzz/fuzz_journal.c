// SPDX-License-Identifier: MIT
/* State journals as cleanup reads them (plan only: nothing is undone):
 * never crash, whatever a torn or hostile journal holds. */
#include "fuzz.h"

#include "state/undo.h"

static void count(void *arg, const char *rec, bool known)
{
	(void)rec;
	*(int *)arg += known;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size);
	int n = 0;

	fl_undo_plan(s, size, count, &n);
	free(s);
	return 0;
}
