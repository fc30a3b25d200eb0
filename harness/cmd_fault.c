// SPDX-License-Identifier: MIT
/* fallacy fault add|del|clear|list TARGET ...: thin; the session's
 * supervisor parses and applies (injector/session.h). */
#include "cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "log.h"
#include "session.h"

static const char fault_usage_head[] =
	"usage: fallacy fault add TARGET KIND [PARAMS...] [OPTIONS]   (prints the fault id)\n"
	"       fallacy fault del TARGET ID\n"
	"       fallacy fault clear TARGET\n"
	"       fallacy fault list TARGET [-j]\n"
	"\n"
	"TARGET: LAB, LAB/NODE (traffic from or to NODE), --netns NAME, --pid PID\n"
	"\n"
	"KIND and PARAMS (like netem; units: 250us 50ms 2s, 5% 0.1%, 10mbit 512kbit):\n";

static const char fault_usage_tail[] =
	"\n"
	"OPTIONS:\n"
	"  --from X --to Y   only packets from X to Y (lab nodes n1,n2 or addresses/prefixes)\n"
	"  --bidir           also from Y to X\n"
	"  --proto P         tcp, udp, icmp, icmpv6\n"
	"  --port N[-M]      source or destination port (--sport, --dport: one side)\n"
	"  --dir in|out      namespace targets: only entering or leaving packets\n"
	"  --seed S          PRNG seed (default: random, printed and recorded)\n"
	"  --id NAME         fault id (default f1, f2, ...)\n"
	"  -j, --json        JSON output\n"
	"\n"
	"EXAMPLES\n"
	"  fallacy fault add demo loss 10% --from n1 --to n2 --seed 7\n"
	"  fallacy fault add demo delay 50ms jitter 5ms distribution normal --to n3\n"
	"  fallacy fault add demo rate 10mbit --from n1 --to n2\n"
	"  fallacy fault add demo partition n1,n2 n3\n"
	"  fallacy fault add demo/n3 loss gemodel 1% 30%\n"
	"  fallacy fault add --netns blue loss 5% --proto udp --port 5000-5100\n"
	"  fallacy fault add --pid $(docker inspect -f '{{.State.Pid}}' web) reset --port 80\n"
	"  fallacy fault list demo -j\n"
	"  fallacy fault clear demo\n"
	"\n"
	"Exit status: 0 done, 2 bad input or kernel error (nothing changed).\n";

/* The kinds come from the ops table, so the help cannot miss one. */
static void fault_usage(FILE *f)
{
	fputs(fault_usage_head, f);
	for (const struct fault_ops *const *k = fl_fault_kinds; *k; k++)
		fprintf(f, "  %s\n      %s\n", (*k)->usage, (*k)->help);
	fputs(fault_usage_tail, f);
}

int fl_cmd_fault_run(const struct fl_target *t, int argc, char **argv, bool json)
{
	char *out = NULL, *msg = NULL;
	int status;

	status = fl_fault_request(t, argc, argv, json, &out, &msg);
	if (out)
		fputs(out, stdout);
	if (msg && *msg && (status || fl_log_level >= FL_LOG_WARN))
		fputs(msg, stderr);
	free(out);
	free(msg);
	return status;
}

int do_fault(int argc, char **argv)
{
	struct fl_target t;
	struct fl_err err;
	char *rest[256];
	int used, n = 0;
	bool json = false;

	if (fl_wants_help(argc, argv)) {
		fault_usage(stdout);
		return FL_EXIT_OK;
	}
	if (argc < 3 || (strcmp(argv[1], "add") && strcmp(argv[1], "del") &&
			 strcmp(argv[1], "clear") && strcmp(argv[1], "list"))) {
		fault_usage(stderr);
		return FL_EXIT_USAGE;
	}
	if (fl_target_parse(argc - 2, argv + 2, &t, &used, &err)) {
		pr_err("fault %s: %s", argv[1], err.msg);
		return FL_EXIT_USAGE;
	}
	rest[n++] = argv[1];
	for (int i = 2 + used; i < argc && n < 255; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json"))
			json = true;
		else
			rest[n++] = argv[i];
	}
	rest[n] = NULL;
	return fl_cmd_fault_run(&t, n, rest, json);
}
