// SPDX-License-Identifier: MIT
/* fallacy wrap [OPTIONS] -- CMD [ARG...]: thin CLI over harness/wrap. The
 * fault flags (--loss, --delay, --jitter, ...) are the kinds' own, from
 * their parameter tables (injector/faults/). */
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "faults/fault.h"
#include "log.h"
#include "parse.h"
#include "wrap.h"

enum wopt {
	O_PORT = 256,
	O_SCENARIO,
	O_SEED,
	O_OUT,
	O_CAPTURE,
	O_USER,
	O_ADDR,
	O_QUIET,
	O_CONTROL,
	O_PARAM, /* O_PARAM + i: the i-th kind parameter with a wrap flag */
};

#define MAX_FLAGS 64

static const struct option fixed[] = {
	{ "port", required_argument, NULL, O_PORT },
	{ "scenario", required_argument, NULL, O_SCENARIO },
	{ "seed", required_argument, NULL, O_SEED },
	{ "out", required_argument, NULL, O_OUT },
	{ "capture", no_argument, NULL, O_CAPTURE },
	{ "user", required_argument, NULL, O_USER },
	{ "addr", no_argument, NULL, O_ADDR },
	{ "quiet", no_argument, NULL, O_QUIET },
	{ "control", no_argument, NULL, O_CONTROL },
};

/* The kinds' wrap flags, in table order. */
struct flag {
	const struct fault_ops *ops;
	const struct fl_param *p;
};

static int wrap_flags(struct flag *v, int max)
{
	int n = 0;

	for (int k = 0; fl_fault_kinds[k]; k++)
		for (const struct fl_param *p = fl_fault_kinds[k]->params; p->name; p++)
			if (p->wrap && n < max)
				v[n++] = (struct flag){ fl_fault_kinds[k], p };
	return n;
}

static void usage(FILE *f)
{
	struct flag flags[MAX_FLAGS];
	int n = wrap_flags(flags, MAX_FLAGS);
	char head[48];

	fprintf(f, "usage: fallacy wrap [FAULT FLAGS] [--port N[-M]] [--scenario FILE] [--seed S]\n"
		   "                    [--out DIR] [--capture] [--user U] [--addr] [--control]\n"
		   "                    [-q]\n"
		   "                    -- CMD [ARG...]\n\n"
		   "Runs CMD in a fresh network namespace whose traffic, loopback included,\n"
		   "suffers the faults, as the invoking user (SUDO_UID under sudo, or --user),\n"
		   "in the current directory with the environment kept. Exits with CMD's status\n"
		   "(128+N when a signal N killed it); 2 when the session cannot be set up.\n\n"
		   "FAULT FLAGS (each a parameter of a fault kind; see fallacy fault --help):\n");
	for (int i = 0; i < n; i++) {
		snprintf(head, sizeof(head), "%s %s", flags[i].p->wrap,
			 fl_ptype_metavar(flags[i].p->type));
		fprintf(f, "  %-16s %s (%s)\n", head, flags[i].p->help, flags[i].ops->name);
	}
	fprintf(f,
		"\nOPTIONS:\n"
		"  --port N[-M]     faults only on traffic to or from these ports (both ways)\n"
		"  --scenario FILE  run a scenario's timeline against the command\n"
		"  --seed S         seed of the faults' random decisions (default: random,\n"
		"                   printed and recorded, so a run can be replayed)\n"
		"  --addr           also give lo 198.18.0.1/15 and fdfa:11ac::1/64 (name\n"
		"                   fallacy-wrap), for servers that bind a non-loopback address\n"
		"  --out DIR        write events.jsonl, counters.json (and wrap.pcap) there\n"
		"  --capture        write DIR/wrap.pcap (lo, nanosecond wall-clock timestamps)\n"
		"  --user U         run CMD as U (default: the sudo user)\n"
		"  --control        let CMD's own code add and remove faults while it runs:\n"
		"                   FALLACY_CONTROL names a socket only that user (and root)\n"
		"                   may use (JSON lines, docs/control.md; fallacy control,\n"
		"                   the Python client python/fallacy); its faults end with CMD\n"
		"  -q, --quiet      no summary line\n\n"
		"EXAMPLES\n"
		"  sudo fallacy wrap --delay 50ms -- make test\n"
		"  sudo fallacy wrap --delay 20ms --port 6379 --out results -- ./run-tests.sh\n"
		"  sudo fallacy wrap --loss 100%% --port 6379 -- python3 -m unittest\n"
		"  sudo fallacy wrap --rate 1mbit --seed 7 -- curl -sO http://198.18.0.1/big\n"
		"  sudo fallacy wrap --control -- python3 -m pytest tests/\n");
}

/* The option fault of kind ops (made on first use). */
static struct fl_fault *kind_fault(struct fl_wrap_opts *o, const struct fault_ops *ops)
{
	struct fl_fault *f;

	for (int i = 0; i < o->n_faults; i++)
		if (o->faults[i]->ops == ops)
			return o->faults[i];
	if (o->n_faults == FL_WRAP_MAX_FAULTS)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	fl_fault_init(f, ops);
	f->dir = FL_DIR_BOTH;
	snprintf(f->id, sizeof(f->id), "wrap-%s", ops->name);
	o->faults[o->n_faults++] = f;
	return f;
}

static int take_flag(const struct flag *fl, const char *arg, struct fl_wrap_opts *o)
{
	struct fl_fault *f = kind_fault(o, fl->ops);
	struct fl_err err = { "" };

	if (!f) {
		pr_err("wrap: out of memory");
		return -ENOMEM;
	}
	if (fl_param_set(f, fl->p, arg, &err)) {
		pr_err("wrap: %s %s", fl->p->wrap, err.msg);
		return -EINVAL;
	}
	return 0;
}

static int take_option(int opt, const char *arg, struct fl_wrap_opts *o)
{
	struct fl_err err = { "" };

	switch (opt) {
	case O_PORT:
		o->has_port = true;
		if (!fl_parse_port_range(arg, &o->port, &err))
			return 0;
		pr_err("wrap: --port %s", err.msg);
		return -EINVAL;
	case O_SEED:
		o->has_seed = true;
		if (!fl_parse_u64(arg, 0, FL_SEED_MAX, &o->seed, &err))
			return 0;
		pr_err("wrap: --seed %s", err.msg);
		return -EINVAL;
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
	case O_CONTROL:
		o->control = true;
		return 0;
	case 'q':
	case O_QUIET:
		o->quiet = true;
		return 0;
	}
	usage(stderr);
	return -EINVAL;
}

/* Each option fault as a whole: a flag that needs another (--jitter needs
 * --delay) says which. */
static int check_faults(const struct fl_wrap_opts *o)
{
	struct fl_err err = { "" };

	for (int i = 0; i < o->n_faults; i++) {
		struct fl_fault *f = o->faults[i];
		const struct fl_param *req = NULL, *given = NULL;

		for (const struct fl_param *p = f->ops->params; p->name; p++) {
			if ((p->flags & FL_PF_REQUIRED) && !fl_param_given(f, p->name))
				req = p;
			if (fl_param_given(f, p->name) && !given)
				given = p;
		}
		if (req) {
			/* no flag of it given (or none with a wrap name): name the kind */
			pr_err("wrap: %s needs %s",
			       given && given->wrap ? given->wrap : f->ops->name,
			       req->wrap ? req->wrap : req->name);
			return -EINVAL;
		}
		if (fl_fault_validate(f, &err)) {
			pr_err("wrap: %s", err.msg);
			return -EINVAL;
		}
	}
	return 0;
}

static int check_combination(const struct fl_wrap_opts *o)
{
	if (o->capture && !o->out_dir) {
		pr_err("wrap: --capture writes OUT/wrap.pcap; give --out DIR");
		return -EINVAL;
	}
	if (o->has_port && !fl_wrap_has_faults(o) && !o->scenario) {
		pr_err("wrap: --port limits faults, but no fault was given");
		return -EINVAL;
	}
	return check_faults(o);
}

static int parse_args(int argc, char **argv, struct fl_wrap_opts *o)
{
	struct option longopts[MAX_FLAGS + sizeof(fixed) / sizeof(fixed[0]) + 1];
	struct flag flags[MAX_FLAGS];
	int nf = wrap_flags(flags, MAX_FLAGS), n = 0, opt;

	for (int i = 0; i < nf; i++)
		longopts[n++] = (struct option){ flags[i].p->wrap + 2, required_argument, NULL,
						 O_PARAM + i };
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		longopts[n++] = fixed[i];
	longopts[n] = (struct option){ NULL, 0, NULL, 0 };
	optind = 1;
	/* "+": stop at the first non-option, so CMD's own options stay its own. */
	while ((opt = getopt_long(argc, argv, "+q", longopts, NULL)) != -1) {
		if (opt >= O_PARAM && opt < O_PARAM + nf) {
			if (take_flag(&flags[opt - O_PARAM], optarg, o))
				return -EINVAL;
		} else if (take_option(opt, optarg, o)) {
			return -EINVAL;
		}
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
	struct fl_wrap_opts o = { 0 };
	int rc;

	if (fl_wants_help(argc, argv)) {
		usage(stdout);
		return FL_EXIT_OK;
	}
	if (parse_args(argc, argv, &o)) {
		fl_wrap_opts_free(&o);
		return FL_EXIT_USAGE;
	}
	if (fl_cmd_check) {
		rc = fl_wrap_check(&o);
		fl_wrap_opts_free(&o);
		return rc ? FL_EXIT_USAGE : FL_EXIT_OK;
	}
	if (!o.has_seed && getrandom(&o.seed, sizeof(o.seed), 0) != sizeof(o.seed))
		o.seed = (uint64_t)getpid();
	o.seed &= FL_SEED_MAX;
	rc = fl_wrap_run(&o);
	fl_wrap_opts_free(&o);
	return rc < 0 ? FL_EXIT_USAGE : rc;
}
