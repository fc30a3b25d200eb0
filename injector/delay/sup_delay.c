// SPDX-License-Identifier: MIT
/* The supervisor's delay line: see sup_delay.h. One supervisor process
 * serves one session, so the state is per process. */
#include "sup_delay.h"

#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "netns.h"
#include "nfrule.h"
#include "parse.h"
#include "supervisor/sup.h"

/* SCHED_FIFO priority of the verdict thread: on a busy machine it keeps
 * wake-ups on time (docs/performance.md has the numbers). */
#define FL_SUP_DELAY_RT_PRIO 10

static struct {
	struct fl_delayline *dl;
	struct fl_nfrule rules[2];
	int n_rules;
	bool fail_closed;
} g;

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

/* FALLACY_DELAY_QUEUES=N likewise: N queues and threads (default 1;
 * delayline.h, fl_delayline_set_queues). */
static void queues_from_env(struct fl_delayline *dl)
{
	const char *v = getenv("FALLACY_DELAY_QUEUES");
	struct fl_err e = { "" };
	uint64_t n;

	if (!v || !*v)
		return;
	if (fl_parse_u64(v, 1, FL_DL_MAX_WORKERS, &n, &e) || fl_delayline_set_queues(dl, (int)n)) {
		pr_warn("FALLACY_DELAY_QUEUES=%s: expected 1 to %d; the delay line keeps one queue",
			v, FL_DL_MAX_WORKERS);
		return;
	}
}

/* FALLACY_DELAY_RCVBUF=BYTES in the environment of whoever starts the
 * supervisor (lab up, fault add --netns/--pid): the delay line socket's
 * receive buffer instead of FL_DL_DEFAULT_RCVBUF. For tests and
 * measurements of a line that cannot keep up, not for everyday use. */
static void rcvbuf_from_env(struct fl_delayline *dl)
{
	const char *v = getenv("FALLACY_DELAY_RCVBUF");
	struct fl_err e = { "" };
	uint64_t n;

	if (!v || !*v)
		return;
	if (fl_parse_u64(v, 4096, INT32_MAX / 2, &n, &e)) {
		pr_warn("FALLACY_DELAY_RCVBUF=%s: %s; the delay line keeps %d bytes", v, e.msg,
			FL_DL_DEFAULT_RCVBUF);
		return;
	}
	fl_delayline_set_rcvbuf(dl, (int)n);
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
		rcvbuf_from_env(g.dl);
		queues_from_env(g.dl);
		rc = fl_delayline_add_netns(g.dl, ns);
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

	if (!g.dl)
		return 0;
	fl_delayline_stats(g.dl, &st);
	return st.rx_dropped;
}

int fl_sup_delay_counters(uint32_t slot, struct fl_dl_slot_counters *c)
{
	if (!g.dl || slot >= FL_DL_MAX_SLOTS)
		return -ENOENT;
	return fl_delayline_slot_counters(g.dl, (uint16_t)slot, c);
}
