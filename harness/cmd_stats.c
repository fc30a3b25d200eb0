// SPDX-License-Identifier: MIT
/* fallacy stats LAB [--pairs] [--mark [NAME]] [--since-mark [NAME]]
 *                   [--watch D [--count N]] [-j]:
 * what the lab's traffic cost on the wire (injector/stats), printed by
 * statsout.c. */
#include "cmd.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "json.h"
#include "log.h"
#include "parse.h"
#include "results.h"
#include "statsout.h"

static const char stats_usage[] =
	"usage: fallacy stats LAB [--pairs] [--mark [NAME]] [--since-mark [NAME]] [-j]\n"
	"       fallacy stats LAB --watch D [--count N] [--pairs] [-j]\n"
	"\n"
	"What the lab's traffic costs on the wire. Every lab counts, from the moment\n"
	"it comes up and whether or not a fault is active, the packets and bytes each\n"
	"node sends to each other node per protocol (at the wire-side port, before\n"
	"any fault acts: retransmissions and dropped packets included; bytes are\n"
	"Ethernet frames without FCS, a GSO super-packet counts as its segments), and\n"
	"reads each node's TCP counters from its own namespace (/proc/net/snmp and\n"
	"netstat: segments sent, retransmitted, RTOs, tail loss probes, SACK\n"
	"recoveries, reordering). '*' is an address that is no lab node.\n"
	"\n"
	"  --pairs          also the table per (source, destination, protocol)\n"
	"  --mark [NAME]    save the counters as mark NAME (default 'mark'); prints\n"
	"                   nothing else\n"
	"  --since-mark [NAME]\n"
	"                   print what was counted since mark NAME (default 'mark')\n"
	"                   instead of since the lab came up\n"
	"  --watch D        print rates (bit/s, packets/s, segments/s) every D until\n"
	"                   interrupted (Ctrl-C); one JSON object per line with -j\n"
	"  --count N        with --watch: stop after N prints\n"
	"  -j, --json       JSON output\n"
	"\n"
	"EXAMPLES\n"
	"  fallacy stats demo\n"
	"  fallacy stats demo --pairs -j\n"
	"  fallacy stats demo --mark before-loss\n"
	"  fallacy stats demo --since-mark before-loss --pairs\n"
	"  fallacy stats demo --watch 1s\n"
	"  fallacy stats demo --watch 500ms --count 10 -j\n"
	"\n"
	"Exit status: 0 ok, 2 bad input (no such lab or mark) or kernel error.\n";

struct stats_args {
	const char *lab;
	const char *mark, *since;
	uint64_t watch_ns;
	uint64_t count;
	bool pairs, json;
};

static volatile sig_atomic_t stats_stop;

static void on_stop(int sig)
{
	(void)sig;
	stats_stop = 1;
}

/* --mark and --since-mark take an optional NAME: the next word unless it
 * is an option. */
static const char *opt_name(int argc, char **argv, int *i)
{
	if (*i + 1 < argc && argv[*i + 1][0] != '-')
		return argv[++*i];
	return "mark";
}

static int parse_value(const char *opt, const char *v, struct stats_args *a)
{
	struct fl_err e;

	if (!v) {
		pr_err("stats: %s needs a value (see fallacy stats --help)", opt);
		return -EINVAL;
	}
	if (!strcmp(opt, "--watch")) {
		if (fl_parse_duration(v, &a->watch_ns, &e)) {
			pr_err("stats: --watch %s", e.msg);
			return -EINVAL;
		}
		if (!a->watch_ns) {
			pr_err("stats: --watch %s: must be > 0", v);
			return -EINVAL;
		}
	} else if (fl_parse_u64(v, 1, UINT32_MAX, &a->count, &e)) {
		pr_err("stats: --count %s", e.msg);
		return -EINVAL;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct stats_args *a)
{
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];

		if (!strcmp(o, "--pairs")) {
			a->pairs = true;
		} else if (!strcmp(o, "-j") || !strcmp(o, "--json")) {
			a->json = true;
		} else if (!strcmp(o, "--mark")) {
			a->mark = opt_name(argc, argv, &i);
		} else if (!strcmp(o, "--since-mark")) {
			a->since = opt_name(argc, argv, &i);
		} else if (!strcmp(o, "--watch") || !strcmp(o, "--count")) {
			if (parse_value(o, i + 1 < argc ? argv[++i] : NULL, a))
				return -EINVAL;
		} else if (o[0] != '-' && !a->lab) {
			a->lab = o;
		} else {
			pr_err("stats: unexpected argument '%s' (see fallacy stats --help)", o);
			return -EINVAL;
		}
	}
	if (!a->lab) {
		pr_err("stats: missing the LAB (see fallacy stats --help)");
		return -EINVAL;
	}
	if (a->watch_ns && (a->mark || a->since)) {
		pr_err("stats: --watch prints rates; it takes no --mark or --since-mark");
		return -EINVAL;
	}
	if (a->count && !a->watch_ns) {
		pr_err("stats: --count goes with --watch");
		return -EINVAL;
	}
	return 0;
}

static int read_now(const struct stats_args *a, struct fl_stats *s)
{
	struct fl_err e = { "" };
	bool restarted = false;

	if (fl_stats_read(a->lab, s, &restarted, &e)) {
		pr_err("stats: %s", e.msg);
		return -EIO;
	}
	if (restarted)
		pr_warn("stats %s: the lab's supervisor was not running (killed?); a new one "
			"counts the pairs from now on",
			a->lab);
	if (!s->since_ns)
		pr_warn("stats %s: transport accounting is off (FALLACY_ACCOUNTING=off when the "
			"lab came up): no pair counters",
			a->lab);
	return 0;
}

static void print_head(struct fl_out *o, const struct stats_args *a, const struct fl_stats *s)
{
	double secs = s->mono_ns > s->since_ns && s->since_ns ? (s->mono_ns - s->since_ns) / 1e9 :
								0;

	if (!o->json) {
		if (a->since)
			fprintf(o->f, "lab %s: since mark %s (%.3fs)\n", a->lab, a->since, secs);
		else
			fprintf(o->f, "lab %s: since the lab came up (%.3fs)\n", a->lab, secs);
		return;
	}
	fl_out_str(o, "lab", a->lab);
	fl_out_str(o, "since", a->since ? "mark" : "lab-up");
	if (a->since)
		fl_out_str(o, "mark", a->since);
	fl_out_double(o, "seconds", secs);
	fl_out_bool(o, "accounting", s->since_ns != 0);
}

static int show(const struct stats_args *a)
{
	struct fl_stats now, base, d, *s = &now;
	struct fl_out o = { .f = stdout, .json = a->json };
	struct fl_err e = { "" };
	int ret;

	if (read_now(a, &now))
		return FL_EXIT_USAGE;
	if (a->since) {
		if (fl_stats_mark_load(a->lab, a->since, &base, &e)) {
			pr_err("stats: %s", e.msg);
			fl_stats_free(&now);
			return FL_EXIT_USAGE;
		}
		ret = fl_stats_delta(&now, &base, &d);
		if (ret == 1)
			pr_warn("stats %s: the pair counters were reset after mark %s (the lab's "
				"supervisor restarted); pairs are counted since then",
				a->lab, a->since);
		fl_stats_free(&base);
		if (ret < 0) {
			fl_stats_free(&now);
			return FL_EXIT_USAGE;
		}
		s = &d;
	}
	if (a->mark && fl_stats_mark_save(a->lab, a->mark, &now, &e)) {
		pr_err("stats: %s", e.msg);
		ret = FL_EXIT_USAGE;
	} else if (a->mark && !a->since) {
		pr_info("stats %s: mark %s set", a->lab, a->mark);
		ret = FL_EXIT_OK;
	} else {
		if (a->json)
			fputc('{', stdout);
		print_head(&o, a, s);
		fl_stats_print(&o, s, a->pairs);
		if (a->json)
			fputs("}\n", stdout);
		ret = FL_EXIT_OK;
	}
	if (s == &d)
		fl_stats_free(&d);
	fl_stats_free(&now);
	return ret;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = fl_ns_ts(ns);

	while (!stats_stop && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int watch(const struct stats_args *a)
{
	struct sigaction sa = { .sa_handler = on_stop };
	struct fl_stats prev, now, d;
	struct fl_out o = { .f = stdout, .json = a->json };
	uint64_t n = 0;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (read_now(a, &prev))
		return FL_EXIT_USAGE;
	while (!stats_stop && (!a->count || n < a->count)) {
		sleep_ns(a->watch_ns);
		if (stats_stop || read_now(a, &now))
			break;
		if (fl_stats_delta(&now, &prev, &d) < 0)
			break;
		o.n = 0;
		if (a->json) {
			fputc('{', stdout);
			fl_out_str(&o, "lab", a->lab);
			fl_out_u64(&o, "mono_ns", now.mono_ns);
			fl_out_u64(&o, "wall_ns", fl_clock_wall_ns());
		} else {
			fprintf(stdout, "%slab %s: rates over %.3fs\n", n ? "\n" : "", a->lab,
				(now.mono_ns - prev.mono_ns) / 1e9);
		}
		if (a->json)
			fl_out_double(&o, "seconds", (now.mono_ns - prev.mono_ns) / 1e9);
		fl_stats_print_rates(&o, &d, (now.mono_ns - prev.mono_ns) / 1e9, a->pairs);
		if (a->json)
			fputs("}\n", stdout);
		fflush(stdout);
		fl_stats_free(&d);
		fl_stats_free(&prev);
		prev = now;
		n++;
	}
	fl_stats_free(&prev);
	return FL_EXIT_OK;
}

int do_stats(int argc, char **argv)
{
	struct stats_args a = { 0 };

	if (fl_wants_help(argc, argv)) {
		fputs(stats_usage, stdout);
		return FL_EXIT_OK;
	}
	if (argc < 2) {
		fputs(stats_usage, stderr);
		return FL_EXIT_USAGE;
	}
	if (parse_args(argc, argv, &a))
		return FL_EXIT_USAGE;
	if (fl_cmd_check) /* the lab and its marks are state: not looked at */
		return FL_EXIT_OK;
	return a.watch_ns ? watch(&a) : show(&a);
}
