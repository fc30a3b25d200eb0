// SPDX-License-Identifier: MIT
/* Control-socket requests as the supervisor splits them (a 'j'/'t' byte,
 * then NUL-separated words), and the fault words of add/change requests:
 * never crash. */
#include "fuzz.h"

#include "faults/fault.h"
#include "supervisor/session_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fl_fault f;
	char *buf, *argv[FL_REQ_MAX_WORDS];
	struct fl_err e;
	int n;

	if (size < 1 || size > FL_REQ_MAX)
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';
	n = fl_req_split(buf, (uint32_t)size, argv, FL_REQ_MAX_WORDS - 1);
	if (n >= 2 && !strcmp(argv[0], "add"))
		fl_fault_parse(&f, n - 1, argv + 1, NULL, &e);
	if (n >= 3 && !strcmp(argv[0], "change")) {
		memset(&f, 0, sizeof(f));
		f.ops = fl_fault_kind(argv[2]);
		if (f.ops)
			fl_fault_parse_params(&f, n - 2, argv + 2, &e);
	}
	free(buf);
	return 0;
}
