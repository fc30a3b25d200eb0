// SPDX-License-Identifier: MIT
/* fallacy wrap [OPTIONS] -- CMD [ARG...]: thin CLI over harness/wrap. */
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "parse.h"
#include "wrap.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: fallacy wrap [--delay D] [--jitter D] [--loss P] [--rate R]\n"
		   "                    [--duplicate P] [--corrupt P] [--port N[-M]]\n"
		   "                    [--scenario FILE] [--seed S] [--out DIR] [--capture]\n"
		   "                    [--user U] [--addr] [-q] -- CMD [ARG...]\n\n"
		   "Runs CMD in a fresh network namespace whose traffic, loopback included,\n"
		   "suffers the faults, as the invoking user (SUDO_UID under sudo, or --user),\n"
		   "in the current directory with the environment kept. Exits with CMD's status\n"
		   "(128+N when a signal N killed it); 2 when the session cannot be set up.\n"
		   "  --port N[-M]  faults only on traffic to or from these ports (both ways)\n"
		   "  --addr        also give lo 198.18.0.1/15 and fdfa:11ac::1/64 (name\n"
		   "                fallacy-wrap), for servers that bind a non-loopback address\n"
		   "  --out DIR     write events.jsonl, counters.json (and wrap.pcap) there\n"
		   "  --capture     write DIR/wrap.pcap (lo, nanosecond wall-clock timestamps)\n\n"
		   "examples:\n"
		   "  sudo fallacy wrap --delay 50ms -- make test\n"
		   "  sudo fallacy wrap --delay 20ms --port 6379 --out results -- ./run-tests.sh\n"
		   "  sudo fallacy wrap --loss 100%% --port 6379 -- python3 -m unittest\n");
}

enum wopt {
	O_DELAY = 256,
	O_JITTER,
	O_LOSS,
	O_RATE,
	O_DUPLICATE,
	O_CORRUPT,
	O_PORT,
	O_SCENARIO,
	O_SEED,
	O_OUT,
	O_CAPTURE,
	O_USER,
	O_ADDR,
	O_QUIET,
};

static const struct option longopts[] = {
    {"delay", required_argument, NULL, O_DELAY},
    {"jitter", required_argument, NULL, O_JITTER},
    {"loss", required_argument, NULL, O_LOSS},
    {"rate", required_argument, NULL, O_RATE},
    {"duplicate", required_argument, NULL, O_DUPLICATE},
    {"corrupt", required_argument, NULL, O_CORRUPT},
    {"port", required_argument, NULL, O_PORT},
    {"scenario", required_argument, NULL, O_SCENARIO},
    {"seed", required_argument, NULL, O_SEED},
    {"out", required_argument, NULL, O_OUT},
    {"capture", no_argument, NULL, O_CAPTURE},
    {"user", required_argument, NULL, O_USER},
    {"addr", no_argument, NULL, O_ADDR},
    {"quiet", no_argument, NULL, O_QUIET},
    {NULL, 0, NULL, 0},
};

static int parse_value(int opt, const char *arg, struct fl_wrap_opts *o, struct fl_err *err)
{
	switch (opt) {
	case O_DELAY:
		o->has_delay = true;
		return fl_parse_duration(arg, &o->delay_ns, err);
	case O_JITTER:
		o->has_jitter = true;
		return fl_parse_duration(arg, &o->jitter_ns, err);
	case O_LOSS:
		o->has_loss = true;
		return fl_parse_percent(arg, &o->loss, err);
	case O_RATE:
		o->has_rate = true;
		return fl_parse_rate(arg, &o->rate_bps, err);
	case O_DUPLICATE:
		o->has_duplicate = true;
		return fl_parse_percent(arg, &o->duplicate, err);
	case O_CORRUPT:
		o->has_corrupt = true;
		return fl_parse_percent(arg, &o->corrupt, err);
	case O_PORT:
		o->has_port = true;
		return fl_parse_port_range(arg, &o->port, err);
	case O_SEED:
		return fl_parse_u64(arg, 0, UINT64_MAX, &o->seed, err);
	}
	return 1; /* not a valued option */
}

static int parse_flag(int opt, const char *arg, struct fl_wrap_opts *o)
{
	switch (opt) {
	case O_SCENARIO:
		o->scenario = arg;
		return 0;
	case O_OUT:
		o->out_dir = arg;
		return 0;
	case O_CAPTURE:
		o->capture = true;
		return 0;
	case O_USER:
		o->user = arg;
		return 0;
	case O_ADDR:
		o->addr = true;
		return 0;
	case 'q':
	case O_QUIET:
		o->quiet = true;
		return 0;
	}
	usage(stderr);
	return -EINVAL;
}

static int check_combination(const struct fl_wrap_opts *o)
{
	if (o->capture && !o->out_dir) {
		pr_err("wrap: --capture writes OUT/wrap.pcap; give --out DIR");
		return -EINVAL;
	}
	if (o->has_jitter && !o->has_delay) {
		pr_err("wrap: --jitter needs --delay");
		return -EINVAL;
	}
	if (o->has_port && !fl_wrap_has_faults(o) && !o->scenario) {
		pr_err("wrap: --port limits faults, but no fault was given");
		return -EINVAL;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct fl_wrap_opts *o)
{
	struct fl_err err = {""};
	int opt, rc;

	optind = 1;
	/* "+": stop at the first non-option, so CMD's own options stay its own. */
	while ((opt = getopt_long(argc, argv, "+q", longopts, NULL)) != -1) {
		rc = parse_value(opt, optarg, o, &err);
		if (rc < 0) {
			pr_err("--%s %s", longopts[opt - O_DELAY].name, err.msg);
			return -EINVAL;
		}
		if (rc > 0 && parse_flag(opt, optarg, o))
			return -EINVAL;
	}
	if (optind >= argc) {
		pr_err("wrap: no command given (fallacy wrap [OPTIONS] -- CMD [ARG...])");
		return -EINVAL;
	}
	o->argv = argv + optind;
	return check_combination(o);
}

int do_wrap(int argc, char **argv)
{
	struct fl_wrap_opts o = {.seed = 1};
	int rc;

	if (fl_wants_help(argc, argv)) {
		usage(stdout);
		return FL_EXIT_OK;
	}
	if (parse_args(argc, argv, &o))
		return FL_EXIT_USAGE;
	rc = fl_wrap_run(&o);
	return rc < 0 ? FL_EXIT_USAGE : rc;
}
