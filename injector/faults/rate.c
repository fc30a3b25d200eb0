// SPDX-License-Identifier: MIT
/* rate R [burst B] [limit L]   shape matching traffic to R (tc units)
 *
 * The BPF program writes the rule's htb class (FL_SHAPE_CLASSID(slot + 1))
 * into skb->priority; the class lives where the packets leave:
 * - a lab: on the wire-side port p-Y of every destination node Y (the
 *   --to nodes, plus the --from nodes with --bidir; every port when --to
 *   is not a node set), so `rate 10mbit --to n2` caps what n2 receives and
 *   `--from n1 --to n2` one pair; without --to the cap holds toward each
 *   node separately;
 * - --netns/--pid: on the root of every link (egress); with --dir in the
 *   link's ingress goes through an ifb shaped to R as a whole.
 * params: rate, dur[0] burst, dur[1] limit (bytes). */
#include "fault.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lab.h"
#include "places.h"
#include "session.h"
#include "shape.h"
#include "supervisor_int.h"

static void to_rate(const struct fl_fault *f, struct fl_rate *r)
{
	r->rate_bps = f->params.rate;
	r->burst = f->params.dur[0];
	r->limit = f->params.dur[1];
}

static int rate_parse(struct fl_fault *f, int argc, char **argv, struct fl_err *err)
{
	struct fl_rate r;

	if (fl_rate_parse(argc, argv, &r, err))
		return -EINVAL;
	f->params.rate = r.rate_bps;
	f->params.dur[0] = r.burst;
	f->params.dur[1] = r.limit;
	return 0;
}

static void rate_print(const struct fl_fault *f, struct fl_out *o)
{
	fl_out_rate(o, o->json ? "rate" : "", f->params.rate);
	if (f->params.dur[0])
		fl_out_u64(o, o->json ? "burst_bytes" : "burst", f->params.dur[0]);
	if (f->params.dur[1])
		fl_out_u64(o, o->json ? "limit_bytes" : "limit", f->params.dur[1]);
}

static void rate_encode(const struct fl_fault *f, struct fl_rule *r)
{
	(void)f;
	r->kind = FL_KIND_RATE;
	r->prob = FL_PROB_ONE;
	r->classid = 0; /* set by rate_apply once the slot is known */
}

static void rate_heal(struct fl_sup *s, struct fl_fault *f)
{
	struct fl_places *pl = f->priv;

	for (int i = 0; pl && i < pl->n; i++) {
		if (pl->ingress)
			fl_shape_ingress_del(fl_sup_ns_spec(s), pl->ifname[i]);
		else
			for (int k = 0; k < f->n_rules; k++)
				fl_shape_class_del(fl_sup_ns_spec(s), pl->ifname[i],
						   (uint16_t)(f->slots[k] + 1));
	}
	free(pl);
	f->priv = NULL;
}

static int shape_places(struct fl_sup *s, struct fl_fault *f, struct fl_places *pl)
{
	struct fl_rate r;
	int rc = 0;

	to_rate(f, &r);
	for (int i = 0; !rc && i < pl->n; i++) {
		if (pl->ingress) {
			rc = fl_shape_ingress(fl_sup_state(s), fl_sup_ns_spec(s), pl->ifname[i], &r);
			continue;
		}
		for (int k = 0; !rc && k < f->n_rules; k++)
			rc = fl_shape_class(fl_sup_state(s), fl_sup_ns_spec(s), pl->ifname[i],
					    (uint16_t)(f->slots[k] + 1), &r);
	}
	return rc;
}

static int rate_apply(struct fl_sup *s, struct fl_fault *f, struct fl_err *err)
{
	struct sup_fault *sf = (struct sup_fault *)((char *)f - offsetof(struct sup_fault, f));
	struct fl_places *pl = calloc(1, sizeof(*pl));
	const struct fl_lab *lab = fl_sup_lab(s);
	int rc = 0;

	if (!pl)
		return -ENOMEM;
	f->priv = pl;
	if (lab)
		fl_places_lab(f, lab, pl);
	else
		rc = fl_places_ns(s, pl);
	pl->ingress = !lab && f->dir == FL_DIR_INGRESS;
	if (!rc)
		rc = shape_places(s, f, pl);
	if (rc) {
		fl_err_set(err, "rate: shaping failed: %s (see the message above)", strerror(-rc));
		rate_heal(s, f);
		return rc;
	}
	for (int k = 0; k < sf->n_rules; k++)
		sf->rules[k].classid = FL_SHAPE_CLASSID(sf->rules[k].slot + 1);
	return 0;
}

const struct fault_ops fl_fault_rate = {
	.name = "rate",
	.usage = "rate R [burst B] [limit L] (e.g. rate 10mbit, rate 512kbit burst 32kb)",
	.help = "shape matching traffic to R (htb class chosen by the data plane)",
	.parse = rate_parse,
	.print = rate_print,
	.encode = rate_encode,
	.apply = rate_apply,
	.heal = rate_heal,
};
