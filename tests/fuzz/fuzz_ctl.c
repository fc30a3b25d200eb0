// SPDX-License-Identifier: MIT
/* Control-socket requests as the supervisor splits them (a 'j'/'t' byte,
 * then NUL-separated words), the fault words of add/change requests and
 * the topology requests (parsed, checked and planned on a lab of three):
 * never crash. */
#include "fuzz.h"

#include "faults/fault.h"
#include "lab/lab.h"
#include "supervisor/session_int.h"

/* link, flap, join, leave, readdress, mtu, route: words, then the lab */
static void topo(int n, char **argv)
{
	static struct fl_lab *lab;
	struct fl_lab_spec spec = { .name = "fz", .n_nodes = 3, .ipv6 = true };
	struct fl_topo t;
	struct fl_err e;

	if (!lab && fl_lab_plan(&spec, &lab, &e))
		abort();
	if (!fl_topo_parse(n, argv, &t, &e)) {
		struct fl_lab *copy = fl_lab_dup(lab);
		char words[512];

		if (!copy)
			abort();
		fl_topo_plan(copy, &t, &e);
		fl_topo_format(&t, words, sizeof(words));
		fl_lab_free(copy);
	}
}

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
	if (n >= 1 && strcmp(argv[0], "add") && strcmp(argv[0], "change"))
		topo(n, argv);
	if (n >= 3 && !strcmp(argv[0], "change")) {
		memset(&f, 0, sizeof(f));
		f.ops = fl_fault_kind(argv[2]);
		if (f.ops)
			fl_fault_parse_params(&f, n - 2, argv + 2, &e);
	}
	free(buf);
	return 0;
}
