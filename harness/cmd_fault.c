// SPDX-License-Identifier: MIT
/* fallacy fault add|change|del|clear|list TARGET ...: thin; the session's
 * supervisor parses and applies (injector/supervisor/session.h). */
#include "cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults/fault.h"
#include "log.h"
#include "supervisor/session.h"

static const char fault_usage_head[] =
	"usage: fallacy fault add TARGET KIND [PARAMS...] [OPTIONS]   (prints the fault id)\n"
	"       fallacy fault change TARGET ID KIND [PARAMS...]   (same kind; counters kept)\n"
	"       fallacy fault del TARGET ID\n"
	"       fallacy fault clear TARGET\n"
	"       fallacy fault list TARGET [-j]\n"
	"\n"
	"TARGET: LAB, LAB/NODE (traffic from or to NODE), --netns NAME, --pid PID\n"
	"\n"
	"KIND and PARAMS read like tc-netem's. Units: 250us 50ms 2s; 5% 0.1% (a bare\n"
	"number is a percentage, as in tc: loss 0.5 = 0.5%); 10mbit 512kbit (bits/s;\n"
	"mbps = bytes/s, as tc); 32kb 1mb (bytes).\n"
	"Values: P percentage, D duration, R rate, B bytes, N count, W one of the words\n"
	"given. A kind's first value needs no name; the others go as NAME VALUE.\n";

static const char fault_usage_tail[] =
	"  --lease D|none        (add) when this add starts the session's supervisor: its\n"
	"                        rules expire D after the last renewal unless renewed\n"
	"                        (every D/3) (default 10s; none: they stay until removed)\n"
	"  -j, --json            JSON output\n"
	"\n"
	"EXAMPLES\n"
	"  fallacy fault add demo loss 10% --from n1 --to n2 --seed 7\n"
	"  fallacy fault add demo delay 50ms jitter 5ms distribution normal --to n3\n"
	"  fallacy fault change demo f2 delay 200ms jitter 20ms\n"
	"  fallacy fault add demo rate 10mbit --from n1 --to n2 --duration 30s\n"
	"  fallacy fault add demo partition n1,n2 n3\n"
	"  fallacy fault add demo/n3 loss gemodel 1% 30%\n"
	"  fallacy fault add --netns blue loss 5% --proto udp --port 5000-5100\n"
	"  fallacy fault add --pid 4242 reset --port 80        # 4242: the pid of a server\n"
	"  fallacy fault add demo tamper 5% offset 0 bytes '\"EVIL\"' --to n1 --dport 6379\n"
	"  fallacy fault add demo replay 100% after 500ms --proto udp --port 53\n"
	"  fallacy fault list demo -j\n"
	"  fallacy fault clear demo\n"
	"\n"
	"Exit status: 0 done, 2 bad input or kernel error (nothing changed).\n";

/* Kinds and options come from their tables, so the help cannot miss one. */
static void fault_usage(FILE *f)
{
	char use[512], opt[40];

	fputs(fault_usage_head, f);
	fputs("\nKINDS\n", f);
	for (const struct fault_ops *const *k = fl_fault_kinds; *k; k++) {
		fl_kind_usage(*k, use, sizeof(use));
		fprintf(f, "  %s\n      %s\n", use, (*k)->help);
		fl_kind_describe(*k, f);
	}
	fputs("\nOPTIONS\n", f);
	for (const struct fl_fault_option *o = fl_fault_options; o->name; o++) {
		snprintf(opt, sizeof(opt), "%s%s", o->name, o->takes_value ? " V" : "");
		fprintf(f, "  %-21s %s\n", opt, o->help);
	}
	fputs(fault_usage_tail, f);
}

/* The request to the session (or, with --check, only its validation). */
int fl_cmd_fault_run(const struct fl_target *t, int argc, char **argv, bool json)
{
	char *out = NULL, *msg = NULL;
	struct fl_err err;
	int status;

	if (fl_cmd_check) {
		if (!fl_fault_request_check(t, argc, argv, &err))
			return FL_EXIT_OK;
		pr_err("fault %s %s: %s", argv[0], t->session, err.msg);
		return FL_EXIT_USAGE;
	}
	status = fl_fault_request(t, argc, argv, json, &out, &msg);
	if (out)
		fputs(out, stdout);
	if (msg && *msg && (status || fl_log_level >= FL_LOG_WARN))
		fputs(msg, stderr);
	free(out);
	free(msg);
	return status;
}

/* fault add --lease D: the lease of the supervisor this add starts; a
 * running session keeps its own (a different one is an error). */
static int take_lease(const struct fl_target *t, const char *text)
{
	uint64_t ns, have;
	char a[32], b[32];
	struct fl_err err;

	if (fl_lease_parse(text, &ns, &err)) {
		pr_err("fault add: --lease %s", err.msg);
		return -EINVAL;
	}
	if (!fl_cmd_check && fl_session_alive(t) && !fl_session_lease(t->session, &have) &&
	    have != ns) {
		fl_lease_format(have, a, sizeof(a));
		fl_lease_format(ns, b, sizeof(b));
		pr_err("fault add: %s runs with lease %s; --lease %s applies only when a session starts (lab up --lease, or the first fault add of a namespace)",
		       t->session, a, b);
		return -EINVAL;
	}
	fl_session_set_lease(ns);
	return 0;
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
	if (argc < 3 ||
	    (strcmp(argv[1], "add") && strcmp(argv[1], "del") && strcmp(argv[1], "change") &&
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
		else if (!strcmp(argv[1], "add") && !strcmp(argv[i], "--lease") && i + 1 < argc) {
			if (take_lease(&t, argv[++i]))
				return FL_EXIT_USAGE;
		} else
			rest[n++] = argv[i];
	}
	rest[n] = NULL;
	if (n > 1 && (!strcmp(argv[1], "clear") || !strcmp(argv[1], "list"))) {
		pr_err("fault %s: unexpected '%s' (see fallacy fault --help)", argv[1], rest[1]);
		return FL_EXIT_USAGE;
	}
	return fl_cmd_fault_run(&t, n, rest, json);
}
