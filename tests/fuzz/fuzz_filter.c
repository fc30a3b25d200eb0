// SPDX-License-Identifier: MIT
/* Capture filters as `fallacy capture --filter` passes them to libpcap
 * (compiled against a dead handle: nothing is captured): never crash. */
#include "fuzz.h"

#include "capture/capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size);
	struct fl_err e;

	if (size < 512)
		fl_capture_check_filter(s, &e);
	free(s);
	return 0;
}
