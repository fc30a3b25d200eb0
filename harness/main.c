// SPDX-License-Identifier: MIT
/* fallacy: the command-line entry point. Thin: parse global options, find
 * the subcommand in the table, hand over. */
#include "cmd.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

#ifndef FALLACY_VERSION
#define FALLACY_VERSION "0.1.0"
#endif

const struct fl_cmd fl_cmds[] = {
	{ "doctor", do_doctor, "probe the kernel and say which backend each fault uses", 0 },
	{ "lab", do_lab, "create, list, enter and remove labs of namespaces", 0 },
	{ "fault", do_fault, "add, change, list and remove faults live", 0 },
	{ "partition", do_partition, "split a lab into groups that cannot reach each other", 0 },
	{ "wrap", do_wrap, "run a command (a test suite) under network faults", 0 },
	{ "run", do_run, "run scenario files against a target system", 0 },
	{ "capture", do_capture, "write a pcap trace of a lab, node or namespace", 0 },
	{ "report", do_report, "summarise a results folder, write the HTML report", 0 },
	{ "check", do_check, "check a history: is it linearizable?", 0 },
	{ "cleanup", do_cleanup, "remove everything a lab or session left behind", 0 },
	{ "__supervise", do_supervise, "internal: the session supervisor", 1 },
	{ "__delayline", do_delayline, "internal: run the NFQUEUE delay line in the foreground",
	  1 },
	{ NULL, NULL, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: fallacy [-v|-vv|-q] COMMAND [ARGS...]\n\n"
		   "Network fault injection for distributed systems: put real processes in\n"
		   "network namespaces and make the network lie to them.\n\ncommands:\n");
	for (const struct fl_cmd *c = fl_cmds; c->name; c++)
		if (!c->hidden)
			fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\nRun 'fallacy COMMAND --help' for the options and examples of one command.\n"
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

/* Global verbosity flags are accepted before the command only, so that
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
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return FL_EXIT_OK;
		} else if (!strcmp(argv[i], "--version")) {
			printf("fallacy %s\n", FALLACY_VERSION);
			return FL_EXIT_OK;
		} else {
			pr_err("unknown option '%s' (see fallacy --help)", argv[i]);
			return FL_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return FL_EXIT_USAGE;
	}
	for (const struct fl_cmd *c = fl_cmds; c->name; c++)
		if (!strcmp(c->name, argv[i]))
			return c->fn(argc - i, argv + i);
	pr_err("unknown command '%s' (see fallacy --help)", argv[i]);
	return FL_EXIT_USAGE;
}
