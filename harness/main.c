// SPDX-License-Identifier: MIT
/* fallacy: the command-line entry point. Thin: parse global options, find
 * the subcommand in the table, hand over. */
#include "cmd.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "version.h"

bool fl_cmd_check;

#define CHK FL_CMD_CHECKS

const struct fl_cmd fl_cmds[] = {
	{ "doctor", do_doctor, "probe the kernel and say which backend each fault uses", CHK },
	{ "lab", do_lab, "create, list, enter and remove labs of namespaces", CHK },
	{ "fault", do_fault, "add, change, list and remove faults live", CHK },
	{ "partition", do_partition, "split a lab into groups that cannot reach each other", CHK },
	{ "link", do_link, "take a node's link down, up, or make it flap", CHK },
	{ "node", do_node, "add a node to a running lab, or remove one", CHK },
	{ "readdress", do_readdress, "give a node a new address; names follow", CHK },
	{ "mtu", do_mtu, "set the MTU of a node's link", CHK },
	{ "route", do_route, "send one node's traffic to another through a third", CHK },
	{ "inject", do_inject, "forge a packet from a spoofed lab address toward a node", CHK },
	{ "admin", do_admin,
	  "change a node as another administrator would: firewall, hosts, sysctl", CHK },
	{ "wrap", do_wrap, "run a command (a test suite) under network faults", CHK },
	{ "run", do_run, "run scenario files against a target system", CHK },
	{ "process", do_process, "kill, pause, resume or restart a lab's target processes", CHK },
	{ "stats", do_stats, "what a lab's traffic costs: bytes, packets, retransmissions", CHK },
	{ "capture", do_capture, "write a pcap trace of a lab, node or namespace", CHK },
	{ "report", do_report, "summarise results folders, write their HTML reports", CHK },
	{ "check", do_check, "check a history: is it linearizable?", CHK },
	{ "cleanup", do_cleanup, "remove everything a lab or session left behind", CHK },
	{ "control", do_control, "add and remove faults through a control socket (test code)",
	  CHK },
	{ "agent", do_agent, "serve the agent protocol on stdin/stdout (one host, over ssh)", CHK },
	{ "__supervise", do_supervise, "internal: the session supervisor", FL_CMD_HIDDEN },
	{ "__delayline", do_delayline, "internal: run the NFQUEUE delay line in the foreground",
	  FL_CMD_HIDDEN },
	{ "__control", do_control_daemon, "internal: serve a lab's control socket", FL_CMD_HIDDEN },
	{ "__herd", do_herd, "internal: one node's herd clients (started by run)", FL_CMD_HIDDEN },
	{ "__man", do_man, "internal: print a man page (roff) made from --help", FL_CMD_HIDDEN },
	{ "__complete", do_complete, "internal: shell completion (scripts and candidates)",
	  FL_CMD_HIDDEN },
	{ NULL, NULL, NULL, 0 },
};

void fl_usage(FILE *f)
{
	fprintf(f, "usage: fallacy [-v|-vv|-q] [--check] COMMAND [ARGS...]\n\n"
		   "Network fault injection for distributed systems: put real processes in\n"
		   "network namespaces and make the network lie to them.\n\ncommands:\n");
	for (const struct fl_cmd *c = fl_cmds; c->name; c++)
		if (!(c->flags & FL_CMD_HIDDEN))
			fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\noptions (before the command):\n"
		   "  -v, -vv      also informational / debug messages\n"
		   "  -q           errors only\n"
		   "  --check      only validate the command line with the command's own\n"
		   "               parser (fault words, scenario files included): exit 0 or 2;\n"
		   "               nothing runs, the kernel and the state are not touched\n"
		   "  --version    print the version\n"
		   "\nEXAMPLES\n"
		   "  fallacy lab up demo --nodes 3\n"
		   "  fallacy --check fault add demo delay 50ms jitter 5ms --from n1 --to n2\n"
		   "  fallacy -v doctor\n"
		   "\nRun 'fallacy COMMAND --help' for the options and examples of one command.\n"
		   "Exit status: 0 success, 1 a check or the wrapped command failed,\n"
		   "2 usage, input or kernel error.\n");
}

int fl_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
	}
	return 0;
}

/* Global flags are accepted before the command only, so that
 * "fallacy wrap -- cmd -v" passes -v to cmd. */
int main(int argc, char **argv)
{
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
			fl_log_level = fl_log_level < FL_LOG_INFO ? FL_LOG_INFO : fl_log_level + 1;
		else if (!strcmp(argv[i], "-vv"))
			fl_log_level = FL_LOG_DEBUG;
		else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
			fl_log_level = FL_LOG_ERROR;
		else if (!strcmp(argv[i], "--check"))
			fl_cmd_check = true;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fl_usage(stdout);
			return FL_EXIT_OK;
		} else if (!strcmp(argv[i], "--version")) {
			printf("fallacy %s\n", fl_version);
			return FL_EXIT_OK;
		} else {
			pr_err("unknown option '%s' (see fallacy --help)", argv[i]);
			return FL_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		fl_usage(stderr);
		return FL_EXIT_USAGE;
	}
	for (const struct fl_cmd *c = fl_cmds; c->name; c++) {
		if (strcmp(c->name, argv[i]))
			continue;
		if (fl_cmd_check && !(c->flags & FL_CMD_CHECKS)) {
			pr_err("--check: '%s' cannot be checked", c->name);
			return FL_EXIT_USAGE;
		}
		return c->fn(argc - i, argv + i);
	}
	pr_err("unknown command '%s' (see fallacy --help)", argv[i]);
	return FL_EXIT_USAGE;
}
