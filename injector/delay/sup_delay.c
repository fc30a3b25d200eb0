// SPDX-License-Identifier: MIT
/* The supervisor's delay line: see sup_delay.h. One supervisor process
 * serves one session, so the state is per process. */
#include "sup_delay.h"

#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fallacy/mark.h"
#include "netns.h"
#include "nfrule.h"
#include "parse.h"
#include "supervisor/session.h"
#include "supervisor/sup.h"

_Static_assert(FL_DELAY_QUEUES_MAX == FL_DL_MAX_WORKERS, "one limit for --delay-queues");

/* SCHED_FIFO priority of the verdict thread: on a busy machine it keeps
 * wake-ups on time (docs/performance.md has the numbers). */
#define FL_SUP_DELAY_RT_PRIO 10

static struct {
	struct fl_delayline *dl;
	struct fl_nfrule rules[2];
	int n_rules;
	bool fail_closed;
	const char *ns; /* the line's namespace (journal spec) */
	uint32_t seq_base; /* the queues' id_sequence when the rules went in */
	uint64_t turned_away; /* by a full queue under rules since replaced */
	uint64_t bypassed; /* the last count, and when (fl_sup_delay_bypassed) */
	uint64_t bypassed_at;
} g;

/* Packets the kernel's queue turned away since the rules went in because
 * it already held FL_DL_QUEUE_MAXLEN: the rules' count minus the numbers
 * the queues gave (nfrule.h), *seq the queues' id_sequence now. The
 * rules are read first, so a packet that arrives meanwhile is on the
 * queues' side only: the count can be short by those, never over. */
static uint64_t queue_full(uint32_t *seq)
{
	uint64_t pkts = 0, one;
	uint32_t missing;

	for (int i = 0; i < g.n_rules; i++)
		if (!fl_nfrule_packets(&g.rules[i], &one))
			pkts += one;
	if (fl_nfqueue_seq(g.ns, FL_QUEUE_NUM, fl_delayline_queues(g.dl), seq)) {
		*seq = g.seq_base;
		return 0;
	}
	if (!g.n_rules)
		return 0;
	/* modulo 2^32, as the kernel counts; below 0 is the race above */
	missing = (uint32_t)pkts - (*seq - g.seq_base);
	return missing > INT32_MAX ? 0 : missing;
}

static void release(struct fl_sup *s, void *arg)
{
	(void)s;
	(void)arg;
	/* rules first: no new packets queue while the held ones go */
	for (int i = g.n_rules - 1; i >= 0; i--)
		fl_nfrule_remove(&g.rules[i]);
	g.n_rules = 0;
	fl_delayline_close(g.dl);
	g.dl = NULL;
	g.turned_away = g.bypassed_at = 0;
}

/* A namespace whose only link is lo (a fallacy wrap namespace): its
 * traffic is loopback, queued on INPUT -i lo (KERNEL-NOTES). */
static bool loopback_only(struct fl_sup *s)
{
	struct if_nameindex *ifs, *i;
	int saved = -1, others = 0;

	if (fl_sup_lab(s) || fl_netns_enter(fl_sup_nsfd(s), &saved))
		return false;
	ifs = if_nameindex();
	fl_netns_leave(saved);
	for (i = ifs; ifs && i->if_index; i++)
		others += strcmp(i->if_name, "lo") != 0;
	if (ifs)
		if_freenameindex(ifs);
	return ifs && !others;
}

static int install_rules(struct fl_sup *s, bool fail_closed, struct fl_err *err)
{
	enum fl_nfq_hook hook = loopback_only(s) ? FL_NFQ_LO_INPUT : FL_NFQ_PREROUTING;
	struct fl_nfrule nr[2];
	int n = 0, rc = 0;
	uint32_t seq;
	uint64_t before = queue_full(&seq);

	for (int fam = 4; fam <= 6 && !rc; fam += 2) {
		fl_nfrule_build(&nr[n], fl_sup_ns_spec(s), fam, hook, fail_closed,
				fl_delayline_queues(g.dl));
		rc = fl_nfrule_install(fl_sup_state(s), &nr[n]);
		if (!rc)
			n++;
	}
	if (rc) {
		while (n--)
			fl_nfrule_remove(&nr[n]);
		fl_err_set(err,
			   "cannot install the delay line's NFQUEUE rule in namespace %s "
			   "(see the message above; fallacy doctor checks iptables and NFQUEUE)",
			   fl_sup_ns_spec(s));
		return rc;
	}
	/* the new rules are in: the old ones (other fail mode) can go */
	for (int i = 0; i < g.n_rules; i++)
		fl_nfrule_remove(&g.rules[i]);
	memcpy(g.rules, nr, sizeof(nr));
	g.n_rules = n;
	g.fail_closed = fail_closed;
	g.turned_away += before;
	g.seq_base = seq;
	return 0;
}

/* A lab's packets are bridged in the wire namespace: only with
 * br_netfilter's bridge-nf-call-ip(6)tables on do they meet the rule. */
static int check_bridge(struct fl_sup *s, struct fl_err *err)
{
	const char *ns = fl_sup_ns_spec(s);

	if (!fl_sup_lab(s))
		return 0;
	for (int fam = 4; fam <= 6; fam += 2) {
		int on = fl_nfrule_bridge_nf(ns, fam);

		if (on == 1)
			continue;
		fl_err_set(err,
			   "net.bridge.bridge-nf-call-%s is %s in the wire namespace %s: "
			   "bridged packets would not reach the delay line (needs "
			   "CONFIG_BRIDGE_NETFILTER; see fallacy doctor)",
			   fam == 6 ? "ip6tables" : "iptables", on == 0 ? "0" : "unreadable", ns);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* N queues and threads (default 1; delayline.h, fl_delayline_set_queues):
 * the session's setting (lab up --delay-queues N), else FALLACY_DELAY_QUEUES
 * in the environment of whoever starts the supervisor. */
static void set_queues(struct fl_sup *s, struct fl_delayline *dl)
{
	const char *v = getenv("FALLACY_DELAY_QUEUES");
	struct fl_err e = { "" };
	uint64_t n = (uint64_t)fl_session_delay_queues(fl_sup_session(s));

	if (!n && (!v || !*v))
		return;
	if ((!n && fl_parse_u64(v, 1, FL_DL_MAX_WORKERS, &n, &e)) ||
	    fl_delayline_set_queues(dl, (int)n)) {
		pr_warn("delay queues %s: expected 1 to %d; the delay line keeps one queue",
			n ? "setting" : v, FL_DL_MAX_WORKERS);
		return;
	}
}

/* NAME=N in the environment of whoever starts the supervisor (lab up,
 * fault add --netns/--pid), within [lo, hi]: 1 and *n set; 0 when unset
 * or bad (a warning says the line keeps its default). */
static int env_u64(const char *name, uint64_t lo, uint64_t hi, uint64_t *n)
{
	const char *v = getenv(name);
	struct fl_err e = { "" };

	if (!v || !*v)
		return 0;
	if (fl_parse_u64(v, lo, hi, n, &e)) {
		pr_warn("%s=%s: %s; the delay line keeps its default", name, v, e.msg);
		return 0;
	}
	return 1;
}

/* FALLACY_DELAY_RCVBUF=BYTES: the delay line socket's receive buffer
 * instead of FL_DL_DEFAULT_RCVBUF. For tests and measurements of a line
 * that cannot keep up, not for everyday use. FALLACY_DELAY_SPIN=US: the
 * spin margin before a due time in precise mode (fl_delayline_set_spin:
 * 0 sleeps only) instead of the automatic one (FL_DL_SPIN_AUTO); for
 * measuring a machine's wake-up latency. */
static void tuning_from_env(struct fl_delayline *dl)
{
	uint64_t n;

	if (env_u64("FALLACY_DELAY_RCVBUF", 4096, INT32_MAX / 2, &n))
		fl_delayline_set_rcvbuf(dl, (int)n);
	if (env_u64("FALLACY_DELAY_SPIN", 0, 10000, &n))
		fl_delayline_set_spin(dl, (int64_t)n * 1000);
}

/* No request for CPU wake-up latency 0 (fl_delayline_set_pmqos;
 * docs/delay-and-rate.md, "Timing") when the session says so (lab up
 * --delay-pmqos off) or FALLACY_DELAY_PMQOS=0 is in the environment of
 * whoever starts the supervisor (attach mode, or a lab made without it). */
static void set_pmqos(struct fl_sup *s, struct fl_delayline *dl)
{
	const char *v = getenv("FALLACY_DELAY_PMQOS");

	if (!fl_session_delay_pmqos(fl_sup_session(s)) || (v && !strcmp(v, "0")))
		fl_delayline_set_pmqos(dl, false);
}

static int start(struct fl_sup *s, struct fl_err *err)
{
	const char *ns = fl_sup_ns_spec(s);
	int rc;

	rc = check_bridge(s, err);
	if (rc)
		return rc;

	rc = fl_delayline_new(&g.dl);
	if (!rc) {
		tuning_from_env(g.dl);
		set_pmqos(s, g.dl);
		set_queues(s, g.dl);
		rc = fl_delayline_add_netns(g.dl, ns);
		g.ns = ns;
	}
	if (rc >= 0) {
		fl_delayline_set_rt(g.dl, FL_SUP_DELAY_RT_PRIO);
		rc = fl_delayline_start(g.dl);
	}
	if (rc < 0) {
		fl_err_set(err, "cannot start the delay line in namespace %s: %s", ns,
			   strerror(-rc));
		fl_delayline_close(g.dl);
		g.dl = NULL;
		return rc;
	}
	return fl_sup_at_exit(s, release, NULL);
}

int fl_sup_delay_set(struct fl_sup *s, uint32_t slot, const struct fl_delay_params *p,
		     struct fl_err *err)
{
	int rc;

	if (slot >= FL_DL_MAX_SLOTS)
		return -EINVAL;
	if (!g.dl) {
		rc = start(s, err);
		if (rc)
			return rc;
	}
	if (!g.n_rules || g.fail_closed != p->fail_closed) {
		rc = install_rules(s, p->fail_closed, err);
		if (rc)
			return rc;
	}
	return fl_delayline_set_slot(g.dl, (uint16_t)slot, p);
}

void fl_sup_delay_clear(struct fl_sup *s, uint32_t slot)
{
	(void)s;
	if (g.dl && slot < FL_DL_MAX_SLOTS)
		fl_delayline_clear_slot(g.dl, (uint16_t)slot);
}

uint64_t fl_sup_delay_bypassed(void)
{
	struct fl_dl_stats st;
	uint64_t now = fl_clock_mono_ns();
	uint32_t seq;

	if (!g.dl)
		return 0;
	/* one count serves a whole `fault list` (it runs iptables-save) */
	if (!g.bypassed_at || now - g.bypassed_at > 100 * FL_NSEC_PER_MSEC) {
		fl_delayline_stats(g.dl, &st);
		g.bypassed = st.rx_dropped + g.turned_away + queue_full(&seq);
		g.bypassed_at = now;
	}
	return g.bypassed;
}

int fl_sup_delay_counters(uint32_t slot, struct fl_dl_slot_counters *c)
{
	if (!g.dl || slot >= FL_DL_MAX_SLOTS)
		return -ENOENT;
	return fl_delayline_slot_counters(g.dl, (uint16_t)slot, c);
}
