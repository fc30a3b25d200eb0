// SPDX-License-Identifier: MIT
/* fallacy inject LAB --to NODE --proto udp|tcp --port N [--payload P] ...:
 * thin; the injector parses, resolves and sends (injector/inject/inject.h). */
#include "cmd.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "inject/inject.h"
#include "json.h"
#include "lab/lab.h"
#include "log.h"
#include "parse.h"
#include "state/state.h"

static const char inject_head[] =
	"usage: fallacy inject LAB --to NODE --proto udp|tcp --port N [--payload HEX|\"text\"]\n"
	"                      [--from NODE|ADDR] [--sport N] [--flags FSRPAU] [--seq N]\n"
	"                      [--ack N] [--ipv6] [--count N] [--seed S] [-j]\n"
	"\n"
	"Forge a packet from a spoofed lab address toward a node, for targets that\n"
	"should reject unauthenticated input. The forger sits on the lab's wire: the\n"
	"frame leaves the wire-side port of NODE, reaches NODE as from the spoofed\n"
	"source, and passes no fault (faults act on what nodes send). Only NODE's\n"
	"capture shows it. Checksums are valid. Nothing is left behind.\n"
	"\n"
	"OPTIONS\n";

static const char inject_tail[] =
	"  -j, --json            JSON output\n"
	"\n"
	"EXAMPLES\n"
	"  fallacy inject demo --to n2 --proto udp --port 53 --payload 0a0b0c0d\n"
	"  fallacy inject demo --to n1 --from n2 --proto tcp --port 6379 \\\n"
	"      --payload '\"FLUSHALL\"'      # no handshake: n1 answers with an RST\n"
	"  fallacy inject demo --to n3 --proto tcp --port 2379 --flags S --count 10\n"
	"  fallacy inject demo --to n2 --ipv6 --proto udp --port 9999 --payload '\"hi\"'\n"
	"\n"
	"Exit status: 0 sent, 2 bad input or kernel error (nothing sent).\n";

static void usage(FILE *f)
{
	char opt[40];

	fputs(inject_head, f);
	for (const struct fl_inject_option *o = fl_inject_options; o->name; o++) {
		snprintf(opt, sizeof(opt), "%s%s", o->name, o->takes_value ? " V" : "");
		fprintf(f, "  %-21s %s\n", opt, o->help);
	}
	fputs(inject_tail, f);
}

int do_inject(int argc, char **argv)
{
	struct fl_out o = { .f = stdout };
	struct fl_lab *lab = NULL;
	struct fl_inject in;
	struct fl_packet pk;
	struct fl_err err;
	char *words[64];
	uint32_t sent = 0;
	int n = 0, rc;

	if (fl_wants_help(argc, argv)) {
		usage(stdout);
		return FL_EXIT_OK;
	}
	if (argc < 3 || argv[1][0] == '-') {
		usage(stderr);
		return FL_EXIT_USAGE;
	}
	for (int i = 2; i < argc && n < 63; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json"))
			o.json = true;
		else
			words[n++] = argv[i];
	}
	if (fl_inject_parse(&in, n, words, &err) ||
	    fl_validate_name("lab", argv[1], FL_LAB_NAME_MAX, &err)) {
		pr_err("inject %s: %s", argv[1], err.msg);
		return FL_EXIT_USAGE;
	}
	if (fl_cmd_check) /* the lab's nodes are the state's business */
		return FL_EXIT_OK;
	if (!in.seed_given) {
		if (getrandom(&in.seed, sizeof(in.seed), 0) != sizeof(in.seed))
			in.seed = (uint64_t)time(NULL);
		in.seed &= FL_SEED_MAX;
		in.seed_given = true;
	}
	if (fl_lab_load(argv[1], &lab)) {
		pr_err("inject: no lab named '%s' in %s (see 'fallacy lab list')", argv[1],
		       fl_run_dir());
		return FL_EXIT_USAGE;
	}
	rc = fl_inject_send(&in, lab, &pk, &sent, &err);
	if (rc)
		pr_err("inject %s: %s", argv[1], err.msg);
	if (sent) {
		fputs(o.json ? "{" : "", stdout);
		fl_inject_print(&in, &pk, sent, &o);
		fputs(o.json ? "}\n" : "\n", stdout);
	}
	fl_lab_free(lab);
	return rc ? FL_EXIT_USAGE : FL_EXIT_OK;
}
