// SPDX-License-Identifier: MIT
/* fallacy capture TARGET: write a pcap trace of a lab, a node or a
 * namespace until --duration elapses or SIGINT/SIGTERM arrives. */
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture/capture.h"
#include "clock.h"
#include "json.h"
#include "lab/lab.h"
#include "log.h"
#include "parse.h"
#include "supervisor/session.h"

enum side { SIDE_BOTH, SIDE_BEFORE, SIDE_AFTER };

struct cap_args {
	const char *target, *netns, *pid, *iface, *path, *filter;
	enum side side;
	bool side_set, dir_set, json;
	enum fl_capture_dir dir;
	uint64_t duration_ns;
	struct fl_capture_opts opts;
	char default_path[128];
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fallacy capture TARGET [-w FILE] [--filter EXPR] [--duration D]\n"
		"                       [--snaplen N] [--buffer SIZE] [--side before|after|both]\n"
		"                       [--iface IF] [--direction in|out|inout] [-j]\n"
		"TARGET: LAB | LAB/NODE | --netns NAME | --pid PID\n\n"
		"Writes a pcap file (nanosecond wall-clock timestamps, the clock of\n"
		"events.jsonl) until --duration elapses or Ctrl-C.\n"
		"  --side before   packets as sent, before the lab's faults (dropped ones included)\n"
		"  --side after    packets as delivered, after the lab's faults\n"
		"  --side both     both (default for LAB/NODE: what the node sent and received)\n"
		"  --iface IF      interface of a --netns/--pid target (default: lo)\n\n"
		"examples:\n"
		"  fallacy capture demo --side before -w sent.pcap --duration 10s\n"
		"  fallacy capture demo/n2 --side after --filter 'icmp' -w n2-in.pcap\n"
		"  fallacy capture --pid 4242 --iface eth0 --filter 'tcp port 6379'\n");
}

static int parse_side(const char *s, enum side *side)
{
	if (!strcmp(s, "before"))
		*side = SIDE_BEFORE;
	else if (!strcmp(s, "after"))
		*side = SIDE_AFTER;
	else if (!strcmp(s, "both"))
		*side = SIDE_BOTH;
	else
		return -EINVAL;
	return 0;
}

static int parse_opt(int opt, struct cap_args *a)
{
	struct fl_err err = { "" };
	uint64_t v;

	switch (opt) {
	case 'w':
		a->path = optarg;
		return 0;
	case 'f':
		a->filter = optarg;
		return 0;
	case 'n':
		a->netns = optarg;
		return 0;
	case 'p':
		a->pid = optarg;
		return 0;
	case 'i':
		a->iface = optarg;
		return 0;
	case 'j':
		a->json = true;
		return 0;
	case 'd':
		if (fl_parse_duration(optarg, &a->duration_ns, &err)) {
			pr_err("--duration %s", err.msg);
			return -EINVAL;
		}
		return 0;
	case 's':
		if (fl_parse_u64(optarg, FL_CAPTURE_SNAPLEN_MIN, FL_CAPTURE_SNAPLEN_MAX, &v,
				 &err)) {
			pr_err("--snaplen %s", err.msg);
			return -EINVAL;
		}
		a->opts.snaplen = (int)v;
		return 0;
	case 'b':
		if (fl_parse_size(optarg, &v, &err) || v < (1 << 20) || v > (1u << 30)) {
			pr_err("--buffer %s: %s", optarg, err.msg[0] ? err.msg : "use 1m..1g");
			return -EINVAL;
		}
		a->opts.buffer_bytes = (int)v;
		return 0;
	case 'S':
		a->side_set = true;
		if (parse_side(optarg, &a->side)) {
			pr_err("--side %s: unknown side (use before, after or both)", optarg);
			return -EINVAL;
		}
		return 0;
	case 'D':
		a->dir_set = true;
		if (fl_capture_parse_dir(optarg, &a->dir)) {
			pr_err("--direction %s: unknown direction (use in, out or inout)", optarg);
			return -EINVAL;
		}
		return 0;
	}
	usage(stderr);
	return -EINVAL;
}

/* A bad filter is an error before anything is opened. */
static int check_filter(const char *filter)
{
	struct fl_err err = { "" };

	if (!fl_capture_check_filter(filter, &err))
		return 0;
	pr_err("capture: %s", err.msg);
	return -EINVAL;
}

static int parse_args(int argc, char **argv, struct cap_args *a)
{
	static const struct option longopts[] = {
		{ "write", required_argument, NULL, 'w' },
		{ "filter", required_argument, NULL, 'f' },
		{ "duration", required_argument, NULL, 'd' },
		{ "snaplen", required_argument, NULL, 's' },
		{ "buffer", required_argument, NULL, 'b' },
		{ "side", required_argument, NULL, 'S' },
		{ "direction", required_argument, NULL, 'D' },
		{ "iface", required_argument, NULL, 'i' },
		{ "netns", required_argument, NULL, 'n' },
		{ "pid", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "w:f:d:s:b:i:j", longopts, NULL)) != -1)
		if (parse_opt(opt, a))
			return -EINVAL;
	if (optind < argc)
		a->target = argv[optind++];
	if (optind < argc) {
		pr_err("capture: unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (!!a->target + !!a->netns + !!a->pid != 1) {
		pr_err("capture: give exactly one TARGET: LAB, LAB/NODE, --netns NAME or --pid PID");
		return -EINVAL;
	}
	return check_filter(a->filter);
}

/* --check: the TARGET's form, as every command that takes one reads it. */
static int check_target(const struct cap_args *a)
{
	char *argv[2] = { (char *)a->target };
	struct fl_target t;
	struct fl_err err;
	int used;

	if (!a->target) {
		argv[0] = a->netns ? "--netns" : "--pid";
		argv[1] = (char *)(a->netns ? a->netns : a->pid);
	}
	if (!fl_target_parse(a->target ? 1 : 2, argv, &t, &used, &err))
		return FL_EXIT_OK;
	pr_err("capture: %s", err.msg);
	return FL_EXIT_USAGE;
}

/* Lab targets capture on the wire-side ports p-NODE in the wire namespace:
 * a port receives (in) what its node sends, before the lab's faults, and
 * sends (out) what its node receives, after them. */
static enum fl_capture_dir side_dir(enum side side)
{
	return side == SIDE_BEFORE ? FL_CAPTURE_IN :
	       side == SIDE_AFTER  ? FL_CAPTURE_OUT :
				     FL_CAPTURE_INOUT;
}

static int lab_points(struct cap_args *a, struct fl_capture_point **pts, size_t *n)
{
	char lab_name[FL_LAB_NAME_MAX + 2];
	const char *slash = strchr(a->target, '/');
	const struct fl_node *node = NULL;
	struct fl_lab *lab = NULL;
	int rc;

	snprintf(lab_name, sizeof(lab_name), "%.*s",
		 (int)(slash ? (size_t)(slash - a->target) : strlen(a->target)), a->target);
	rc = fl_lab_load(lab_name, &lab);
	if (rc)
		return rc;
	if (slash && !(node = fl_lab_node(lab, slash + 1))) {
		pr_err("capture: lab %s has no node '%s' (see fallacy lab list)", lab->name,
		       slash + 1);
		rc = -ENOENT;
		goto cleanup;
	}
	*n = node ? 1 : lab->n_nodes;
	*pts = calloc(*n, sizeof(**pts));
	rc = -ENOMEM;
	if (!*pts)
		goto cleanup;
	for (size_t i = 0; i < *n; i++) {
		const struct fl_node *nd = node ? node : &lab->nodes[i];

		snprintf((*pts)[i].netns, sizeof((*pts)[i].netns), "%s", lab->wire_netns);
		snprintf((*pts)[i].ifname, sizeof((*pts)[i].ifname), "%s", nd->port);
		(*pts)[i].dir = side_dir(a->side);
	}
	snprintf(a->default_path, sizeof(a->default_path), "%s%s%s.pcap", lab->name,
		 node ? "-" : "", node ? node->name : "");
	rc = 0;
cleanup:
	fl_lab_free(lab);
	return rc;
}

static int ns_points(struct cap_args *a, struct fl_capture_point **pts, size_t *n)
{
	struct fl_capture_point *p;
	struct fl_err err = { "" };
	uint64_t pid;

	if (a->side_set) {
		pr_err("capture: --side applies to lab targets; for --netns/--pid choose "
		       "--iface and --direction (received packets are captured before the "
		       "namespace's ingress faults, sent ones after its egress faults)");
		return -EINVAL;
	}
	if (a->pid && fl_parse_u64(a->pid, 1, FL_PID_MAX, &pid, &err)) {
		pr_err("--pid %s", err.msg);
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	if (a->pid)
		snprintf(p->netns, sizeof(p->netns), "pid:%llu", (unsigned long long)pid);
	else
		snprintf(p->netns, sizeof(p->netns), "%s", a->netns);
	snprintf(p->ifname, sizeof(p->ifname), "%s", a->iface ? a->iface : "lo");
	p->dir = a->dir;
	snprintf(a->default_path, sizeof(a->default_path), "%s-%s%s.pcap", a->pid ? "pid" : "netns",
		 a->pid ? a->pid : a->netns, "");
	*pts = p;
	*n = 1;
	return 0;
}

/* Wait for the duration, SIGINT or SIGTERM (blocked by the caller). */
static void wait_until_done(const sigset_t *set, uint64_t duration_ns)
{
	uint64_t end = fl_clock_mono_ns() + duration_ns, now;
	struct timespec left;

	if (!duration_ns) {
		while (sigwaitinfo(set, NULL) < 0 && errno == EINTR)
			;
		return;
	}
	for (;;) {
		now = fl_clock_mono_ns();
		if (now >= end)
			return;
		left = fl_ns_ts(end - now);
		if (sigtimedwait(set, NULL, &left) >= 0 || errno != EINTR)
			return;
	}
}

static int run_capture(struct cap_args *a, struct fl_capture_point *pts, size_t n)
{
	struct fl_capture *c = NULL;
	struct fl_capture_stat sum;
	sigset_t set;
	int rc;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	a->opts.path = a->path ? a->path : a->default_path;
	a->opts.filter = a->filter;
	rc = fl_capture_open(pts, n, &a->opts, &c);
	if (rc)
		return rc;
	rc = fl_capture_start(c);
	if (rc)
		goto cleanup;
	if (fl_log_level >= FL_LOG_WARN)
		fprintf(stderr, "fallacy: capturing on %zu interface%s into %s%s\n", n,
			n == 1 ? "" : "s", a->opts.path, a->duration_ns ? "" : " (Ctrl-C to stop)");
	wait_until_done(&set, a->duration_ns);
	rc = fl_capture_stop(c);
	fl_capture_total(c, &sum);
	if (a->json) {
		struct fl_out o = { .f = stdout, .json = true };

		fl_out_open(&o, "", '{');
		fl_capture_print(c, &o);
		fl_out_close(&o, '}');
		fputc('\n', stdout);
	}
	if (fl_log_level >= FL_LOG_WARN)
		fprintf(stderr, "fallacy: %llu packets written to %s, %llu dropped\n",
			(unsigned long long)sum.written, a->opts.path,
			(unsigned long long)(sum.dropped + sum.ifdropped));
cleanup:
	fl_capture_free(c);
	return rc;
}

int do_capture(int argc, char **argv)
{
	struct cap_args a = { 0 };
	struct fl_capture_point *pts = NULL;
	size_t n = 0;
	int rc;

	if (fl_wants_help(argc, argv)) {
		usage(stdout);
		return FL_EXIT_OK;
	}
	if (parse_args(argc, argv, &a))
		return FL_EXIT_USAGE;
	if (a.target && (a.iface || a.dir_set)) {
		pr_err("capture: --iface/--direction apply to --netns/--pid targets; for a lab "
		       "use --side");
		return FL_EXIT_USAGE;
	}
	if (fl_cmd_check)
		return check_target(&a);
	rc = a.target ? lab_points(&a, &pts, &n) : ns_points(&a, &pts, &n);
	if (!rc)
		rc = run_capture(&a, pts, n);
	free(pts);
	return rc ? FL_EXIT_USAGE : FL_EXIT_OK;
}
