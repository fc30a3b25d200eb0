// SPDX-License-Identifier: MIT
/* fallacy partition LAB G1 G2 ... [--oneway] [--id NAME] [-j]: sugar for
 * `fallacy fault add LAB partition G1 G2 ... [oneway]`. */
#include "cmd.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "supervisor/session.h"

static const char partition_usage[] =
	"usage: fallacy partition LAB GROUP GROUP... [--oneway] [--id NAME] [-j]\n"
	"\n"
	"Split a lab into groups of nodes (GROUP = n1,n2,...) that cannot reach each\n"
	"other. A node in two groups is a bridge and reaches both. With --oneway,\n"
	"only packets from an earlier group to a later group are dropped. Prints the\n"
	"fault id; heal with 'fallacy fault del LAB ID' or 'fallacy fault clear LAB'.\n"
	"\n"
	"EXAMPLES\n"
	"  fallacy partition demo n1,n2 n3\n"
	"  fallacy partition demo n1,n2 n2,n3        # n2 bridges; n1 and n3 are cut\n"
	"  fallacy partition demo n1 n2,n3 --oneway  # n1 -> n2,n3 dropped, back passes\n";

int fl_cmd_fault_run(const struct fl_target *t, int argc, char **argv, bool json);

int do_partition(int argc, char **argv)
{
	char *req[64] = { "add", "partition" };
	struct fl_target t;
	struct fl_err err;
	int n = 2, used, groups = 0;
	bool json = false, oneway = false;

	if (fl_wants_help(argc, argv)) {
		fputs(partition_usage, stdout);
		return FL_EXIT_OK;
	}
	if (argc < 2 || fl_target_parse(1, argv + 1, &t, &used, &err) || t.node[0]) {
		fputs(partition_usage, stderr);
		return FL_EXIT_USAGE;
	}
	for (int i = 2; i < argc && n < 56; i++) {
		if (!strcmp(argv[i], "--oneway"))
			oneway = true;
		else if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json"))
			json = true;
		else if (!strncmp(argv[i], "--", 2))
			break;
		else {
			req[n++] = argv[i];
			groups++;
		}
	}
	if (groups < 2) {
		pr_err("partition %s: expected at least two groups like n1,n2 n3", t.lab);
		return FL_EXIT_USAGE;
	}
	if (oneway)
		req[n++] = "oneway";
	for (int i = 2; i < argc && n < 62; i++) {
		if (!strcmp(argv[i], "--id") && i + 1 < argc) {
			req[n++] = argv[i];
			req[n++] = argv[++i];
		}
	}
	req[n] = NULL;
	return fl_cmd_fault_run(&t, n, req, json);
}
