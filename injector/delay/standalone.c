// SPDX-License-Identifier: MIT
/* fallacy __delayline: run the NFQUEUE delay line in the foreground for one
 * slot, with its netfilter rules. Internal: tests and benchmarks drive the
 * delay line through it independently of the session supervisor. */
#include "delay.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "clock.h"
#include "delayline.h"
#include "fallacy/mark.h"
#include "json.h"
#include "log.h"
#include "nfrule.h"
#include "parse.h"
#include "state/state.h"

struct dl_opts {
	const char *netns[FL_DL_MAX_QUEUES];
	int n_netns;
	enum fl_nfq_hook hook;
	bool v4, v6, fail_closed, no_rule, no_batch, no_pmqos;
	const char *session, *stats, *ready;
	int64_t spin_ns;
	int rt, rcvbuf, queues;
	uint64_t slot, seed;
	struct fl_delay_params p;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: fallacy __delayline [--netns NS]... [--hook prerouting|lo] [-4|-6]\n"
		"       [--fail-closed] [--no-rule] [--no-batch] [--no-pmqos] [--session NAME] [--spin US|auto]\n"
		"       [--rt PRIO] [--rcvbuf BYTES] [--queues N]"
		" [--slot N] [--seed S] [--stats FILE] [--ready FILE] -- delay D [...]\n"
		"Runs the delay line for packets marked 0xfa110000|SLOT until SIGTERM.\n"
		"example: fallacy __delayline --netns fl-demo -- delay 50ms jitter 5ms\n");
}

static int opt_val(int argc, char **argv, int *i, const char **val)
{
	if (*i + 1 >= argc) {
		pr_err("__delayline: %s needs a value", argv[*i]);
		return -EINVAL;
	}
	*val = argv[++*i];
	return 0;
}

static int parse_opt(int argc, char **argv, int *i, struct dl_opts *o)
{
	const char *a = argv[*i], *v = NULL;
	struct fl_err err = { { 0 } };
	uint64_t n;

	if (!strcmp(a, "-4") || !strcmp(a, "-6")) {
		o->v4 = a[1] == '4';
		o->v6 = a[1] == '6';
		return 0;
	}
	if (!strcmp(a, "--no-pmqos")) {
		o->no_pmqos = true;
		return 0;
	}
	if (!strcmp(a, "--fail-closed") || !strcmp(a, "--no-rule") || !strcmp(a, "--no-batch")) {
		*(a[2] == 'f' ? &o->fail_closed : a[5] == 'r' ? &o->no_rule : &o->no_batch) = true;
		return 0;
	}
	if (opt_val(argc, argv, i, &v))
		return -EINVAL;
	if (!strcmp(a, "--netns") && o->n_netns < FL_DL_MAX_QUEUES)
		o->netns[o->n_netns++] = v;
	else if (!strcmp(a, "--hook"))
		o->hook = !strcmp(v, "lo") ? FL_NFQ_LO_INPUT : FL_NFQ_PREROUTING;
	else if (!strcmp(a, "--rt"))
		o->rt = atoi(v);
	else if (!strcmp(a, "--rcvbuf"))
		o->rcvbuf = atoi(v);
	else if (!strcmp(a, "--queues"))
		o->queues = atoi(v);
	else if (!strcmp(a, "--session"))
		o->session = v;
	else if (!strcmp(a, "--stats"))
		o->stats = v;
	else if (!strcmp(a, "--ready"))
		o->ready = v;
	else if (!strcmp(a, "--spin")) {
		/* auto (the default), < 0: adaptive, else microseconds */
		o->spin_ns = !strcmp(v, "auto") ? FL_DL_SPIN_AUTO :
						  strtoll(v, NULL, 10) * (int64_t)FL_NSEC_PER_USEC;
	} else if (!strcmp(a, "--slot") || !strcmp(a, "--seed")) {
		if (fl_parse_u64(v, 0, a[3] == 'l' ? FL_MARK_SLOT_MASK : UINT64_MAX, &n, &err)) {
			pr_err("%s %s", a, err.msg);
			return -EINVAL;
		}
		*(a[3] == 'l' ? &o->slot : &o->seed) = n;
	} else {
		pr_err("__delayline: unknown option '%s'", a);
		return -EINVAL;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct dl_opts *o)
{
	struct fl_err err = { { 0 } };
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (parse_opt(argc, argv, &i, o))
			return -EINVAL;
	if (i + 1 >= argc || strcmp(argv[i + 1], "delay")) {
		usage();
		return -EINVAL;
	}
	if (fl_delay_from_words(argc - i - 2, argv + i + 2, &o->p, &err)) {
		pr_err("delay: %s", err.msg);
		return -EINVAL;
	}
	o->p.seed = o->seed;
	o->p.rule_id = (uint32_t)o->slot;
	if (!o->n_netns)
		o->netns[o->n_netns++] = "-";
	return 0;
}

static int install_rules(const struct dl_opts *o, struct fl_state *st, struct fl_nfrule *rules,
			 int *n)
{
	for (int i = 0; i < o->n_netns; i++) {
		for (int fam = 4; fam <= 6; fam += 2) {
			if ((fam == 4 && !o->v4) || (fam == 6 && !o->v6))
				continue;
			fl_nfrule_build(&rules[*n], o->netns[i], fam, o->hook, o->fail_closed,
					o->queues);
			if (fl_nfrule_install(st, &rules[*n]))
				return -EIO;
			++*n;
		}
	}
	return 0;
}

/* "queues": each queue's own packets, verdicts and drops */
static void queue_stats(struct fl_delayline *dl, struct fl_out *o)
{
	struct fl_dl_stats s;

	fl_out_open(o, "queues", '[');
	for (int i = 0; i < fl_delayline_queues(dl); i++) {
		fl_delayline_queue_stats(dl, i, &s);
		fl_out_open(o, "", '{');
		fl_out_u64(o, "queue", FL_QUEUE_NUM + (uint64_t)i);
		fl_out_u64(o, "received", s.received);
		fl_out_u64(o, "released", s.released);
		fl_out_u64(o, "verdicts", s.verdicts);
		fl_out_u64(o, "rx_dropped", s.rx_dropped);
		fl_out_close(o, '}');
	}
	fl_out_close(o, ']');
}

static void write_stats(struct fl_delayline *dl, const struct dl_opts *opts)
{
	struct fl_out o = { .json = true, .compact = true };
	struct fl_dl_slot_counters c = { 0 };
	struct fl_dl_stats s;
	FILE *f = opts->stats ? fopen(opts->stats, "w") : stdout;

	if (!f)
		return;
	fl_delayline_stats(dl, &s);
	fl_delayline_slot_counters(dl, (uint16_t)opts->slot, &c);
	o.f = f;
	fl_out_open(&o, "", '{');
	fl_out_u64(&o, "queued", c.queued);
	fl_out_u64(&o, "delayed", c.delayed);
	fl_out_u64(&o, "reordered", c.reordered);
	fl_out_u64(&o, "overflow", c.overflow);
	fl_out_u64(&o, "max_held", c.max_held);
	fl_out_u64(&o, "received", s.received);
	fl_out_u64(&o, "unknown", s.unknown);
	fl_out_u64(&o, "verdicts", s.verdicts);
	fl_out_u64(&o, "verdict_msgs", s.verdict_msgs);
	fl_out_u64(&o, "batched", s.batched);
	fl_out_u64(&o, "verdict_errors", s.verdict_errors);
	fl_out_u64(&o, "rx_dropped", s.rx_dropped);
	fl_out_u64(&o, "late_mean_ns", s.released ? s.late_sum_ns / s.released : 0);
	fl_out_u64(&o, "late_max_ns", s.late_max_ns);
	fl_out_i64(&o, "spin_margin_ns", s.spin_margin_ns);
	fl_out_i64(&o, "bulk", s.bulk);
	fl_out_bool(&o, "pmqos_on", s.pmqos_on);
	fl_out_u64(&o, "pmqos_requests", s.pmqos_requests);
	queue_stats(dl, &o);
	fl_out_close(&o, '}');
	fputc('\n', f);
	if (f != stdout)
		fclose(f);
}

static int serve(struct fl_delayline *dl, const struct dl_opts *o)
{
	sigset_t mask;
	int sfd, err;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0)
		return -errno;
	if (o->ready) {
		FILE *f = fopen(o->ready, "w");

		if (f)
			fclose(f);
	}
	err = fl_delayline_run(dl, sfd);
	close(sfd);
	return err;
}

static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	return false;
}

int fl_delay_standalone_main(int argc, char **argv)
{
	struct dl_opts o = { .v4 = true, .v6 = true, .spin_ns = FL_DL_SPIN_AUTO, .queues = 1 };
	struct fl_nfrule rules[2 * FL_DL_MAX_QUEUES];
	struct fl_delayline *dl = NULL;
	struct fl_state *st = NULL;
	int n_rules = 0, err, rc = 2;

	if (wants_help(argc, argv)) {
		usage();
		return 0;
	}
	if (parse_args(argc, argv, &o))
		return 2;
	if (o.session && fl_state_open(o.session, &st) && fl_state_create(o.session, &st))
		return 2;
	err = fl_delayline_new(&dl);
	if (!err && o.rcvbuf > 0)
		fl_delayline_set_rcvbuf(dl, o.rcvbuf);
	if (!err && fl_delayline_set_queues(dl, o.queues)) {
		pr_err("__delayline: --queues %d: 1 to %d", o.queues, FL_DL_MAX_WORKERS);
		err = -EINVAL;
	}
	for (int i = 0; !err && i < o.n_netns; i++)
		err = fl_delayline_add_netns(dl, o.netns[i]) < 0 ? -EIO : 0;
	if (err)
		goto cleanup;
	fl_delayline_set_spin(dl, o.spin_ns);
	fl_delayline_set_rt(dl, o.rt);
	fl_delayline_set_batch(dl, !o.no_batch);
	fl_delayline_set_pmqos(dl, !o.no_pmqos);
	fl_delayline_set_slot(dl, (uint16_t)o.slot, &o.p);
	if (!o.no_rule && install_rules(&o, st, rules, &n_rules))
		goto cleanup;
	if (!serve(dl, &o))
		rc = 0;
	write_stats(dl, &o);
cleanup:
	for (int i = n_rules - 1; i >= 0; i--)
		fl_nfrule_remove(&rules[i]);
	fl_delayline_close(dl);
	if (st) {
		fl_state_close(st);
		if (rc == 0)
			fl_state_cleanup(o.session);
	}
	return rc;
}
