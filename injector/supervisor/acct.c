// SPDX-License-Identifier: MIT
/* Transport accounting in a lab's supervisor: switched on at start (every
 * lab counts what each packet costs, with or without faults; include/
 * fallacy/rule.h, fl_acct) and read by the "acct" request, which
 * injector/stats turns into `fallacy stats` and a run's counters.jsonl. */
#include "supervisor_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dataplane/dataplane.h"
#include "lab/lab.h"

/* FALLACY_ACCOUNTING=off (or 0) in the environment of whoever starts the
 * supervisor (lab up) leaves the program's accounting off: for measuring
 * what it costs (bench/dataplane.sh), not for everyday use. */
static bool acct_wanted(void)
{
	const char *v = getenv("FALLACY_ACCOUNTING");

	if (!v || !*v || !strcmp(v, "on") || !strcmp(v, "1"))
		return true;
	if (!strcmp(v, "off") || !strcmp(v, "0"))
		return false;
	pr_warn("FALLACY_ACCOUNTING=%s: expected on or off; accounting stays on", v);
	return true;
}

int sup_acct_start(struct fl_sup *s)
{
	int err;

	s->acct = acct_wanted();
	err = fl_dp_set_accounting(s->dp, s->acct);
	if (err) {
		pr_err("%s: switching transport accounting %s: %s", s->t.session,
		       s->acct ? "on" : "off", strerror(-err));
		return err;
	}
	s->acct_since_ns = fl_clock_mono_ns();
	if (!s->acct)
		pr_info("%s: transport accounting off (FALLACY_ACCOUNTING)", s->t.session);
	return 0;
}

static const char *node_name(const struct fl_lab *lab, unsigned int idx)
{
	for (size_t i = 0; i < lab->n_nodes; i++)
		if (lab->nodes[i].index >= 0 && (unsigned int)lab->nodes[i].index == idx)
			return lab->nodes[i].name;
	return "*";
}

/* Machine lines for injector/stats (stats.c parses them):
 *   since MONO_NS        accounting started (0: accounting is off)
 *   pair SRC DST FAMILY PROTO PACKETS BYTES PAYLOAD
 * SRC and DST are node names, "*" for an address that is no lab node. */
int sup_acct(struct fl_sup *s, FILE *out, FILE *msg)
{
	struct fl_dp_acct *v = NULL;
	int n = 0, err;

	if (!s->lab) {
		fprintf(msg, "stats: %s is not a lab (transport accounting runs in labs only)\n",
			s->t.session);
		return 2;
	}
	fprintf(out, "since %" PRIu64 "\n", s->acct ? s->acct_since_ns : (uint64_t)0);
	if (!s->acct)
		return 0;
	err = fl_dp_acct_read(s->dp, &v, &n);
	if (err) {
		fprintf(msg, "stats %s: reading the accounting map: %s\n", s->t.session,
			strerror(-err));
		return 2;
	}
	for (int i = 0; i < n; i++) {
		const struct fl_acct_key *k = &v[i].key;

		if (!v[i].val.packets)
			continue;
		fprintf(out, "pair %s %s %u %u %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
			node_name(s->lab, k->src), node_name(s->lab, k->dst), k->family, k->proto,
			(uint64_t)v[i].val.packets, (uint64_t)v[i].val.bytes,
			(uint64_t)v[i].val.payload);
	}
	free(v);
	return 0;
}
