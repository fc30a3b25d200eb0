// SPDX-License-Identifier: MIT
/* The fault grammar (the words of `fault add`, as the CLI, scenario files
 * and the control socket give them), against a planned 4-node lab: never
 * crashes; a fault that parses expands into rules or says why not; its
 * text prints back to words that parse to a fault that prints the same. */
#include "fuzz.h"

#include "faults/fault.h"
#include "lab/lab.h"

static struct fl_lab *lab;

static void print(const struct fl_fault *f, char *buf, size_t len, int json)
{
	FILE *m = fmemopen(buf, len, "w");
	struct fl_out o = { .f = m, .json = json };

	fl_fault_print(f, &o);
	fclose(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fl_fault f, g;
	static struct fl_rule rules[FL_FAULT_MAX_RULES];
	char *s, *argv[FUZZ_MAX_WORDS], t1[8192], t2[8192], j[8192];
	struct fl_err e;
	int n;

	if (!lab) {
		struct fl_lab_spec spec = { .name = "fz", .n_nodes = 4, .ipv6 = true };

		if (fl_lab_plan(&spec, &lab, &e))
			abort();
	}
	s = fuzz_string(data, size);
	n = fuzz_words(s, argv, FUZZ_MAX_WORDS);
	if (!fl_fault_parse(&f, n, argv, (size & 1) ? lab : NULL, &e)) {
		fl_fault_rules(&f, (size & 1) ? lab : NULL, rules, FL_FAULT_MAX_RULES, &e);
		print(&f, t1, sizeof(t1), 0);
		print(&f, j, sizeof(j), 1);
		char *copy = strdup(t1), *av[FUZZ_MAX_WORDS];
		int m = fuzz_words(copy, av, FUZZ_MAX_WORDS);

		FUZZ_ASSERT(!fl_fault_parse(&g, m, av, (size & 1) ? lab : NULL, &e),
			    "'%s' printed as '%s', which does not parse: %s", s, t1, e.msg);
		print(&g, t2, sizeof(t2), 0);
		FUZZ_ASSERT(!strcmp(t1, t2), "'%s' -> '%s' -> '%s'", s, t1, t2);
		free(copy);
	}
	free(s);
	return 0;
}
