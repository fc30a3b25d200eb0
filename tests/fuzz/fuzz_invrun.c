// SPDX-License-Identifier: MIT
/* A run over an inventory turns a step's words into each node's faults
 * (harness/invrun.h: fl_invrun_translate): never crash; when the words
 * are a fault that `fault add` takes on a lab of n1..n3, every fault the
 * translation gives a node is one the node's agent takes (`fault add`
 * words without a lab: addresses, not names), named and seeded. */
#include "fuzz.h"

#include "faults/fault.h"
#include "invrun.h"
#include "lab/lab.h"

static const char *const names[] = { "n1", "n2", "n3" };
static const char *const addrs[] = { "198.18.250.2", "198.18.250.3", "fdfa:11ac::4" };

static void check_line(const char *line)
{
	static struct fl_fault f;
	char *copy = strdup(line), *argv[FUZZ_MAX_WORDS], *save = NULL;
	struct fl_err err;
	int argc = 0;

	if (!copy)
		abort();
	for (char *w = strtok_r(copy, " ", &save); w && argc < FUZZ_MAX_WORDS - 1;
	     w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	FUZZ_ASSERT(strstr(line, " --id ") && strstr(line, " --dir "), "unnamed: %s", line);
	/* an IPv6 receiver with an IPv4-only match is the one refusal left */
	FUZZ_ASSERT(!fl_fault_parse(&f, argc, argv, NULL, &err) ||
			    strstr(err.msg, "address families") || strstr(err.msg, "too long"),
		    "%s: %s", line, err.msg);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fl_lab *lab;
	static struct fl_invrun_faults out;
	static struct fl_fault f;
	static const char *const lab_names[] = { "n1", "n2", "n3" };
	struct fl_lab_spec spec = { .name = "inv", .n_nodes = 3, .node_names = lab_names };
	char *s = fuzz_string(data, size), *argv[FUZZ_MAX_WORDS];
	struct fl_err err;
	int argc = fuzz_words(s, argv, FUZZ_MAX_WORDS);
	bool good;

	if (!lab && fl_lab_plan(&spec, &lab, &err))
		abort();
	good = argc && !fl_fault_parse(&f, argc, argv, lab, &err);
	if (!fl_invrun_translate(argv, argc, "s1", 7, names, addrs, 3, &out, &err)) {
		for (int k = 0; k < 3; k++)
			for (int j = 0; j < out.n[k] && good; j++)
				check_line(out.f[k][j]);
		fl_invrun_faults_free(&out);
	}
	free(s);
	return 0;
}
