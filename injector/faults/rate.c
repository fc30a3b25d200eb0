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
 *   matching packets of the link's ingress are marked by the program and
 *   redirected to an ifb shaped to R (one cap for all of them), so the
 *   redirect ends with the rule's lease. */
#include "fault.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "places.h"
#include "probe/probe.h"
#include "shape/shape.h"
#include "supervisor/sup.h"

#define TBF_MAX_BPS (2147483647ull * 8) /* libnl's tbf rate is an int of bytes/s */

static const struct fl_param rate_params[] = {
	{ .name = "rate",
	  .type = FL_PT_RATE,
	  .off = offsetof(struct fl_rate, rate_bps),
	  .flags = FL_PF_POSITIONAL | FL_PF_REQUIRED | FL_PF_LINK,
	  .min = 8000,
	  .max = TBF_MAX_BPS,
	  .wrap = "--rate",
	  .help = "the bandwidth (bits/s as tc writes it: 10mbit, 512kbit)" },
	{ .name = "burst",
	  .type = FL_PT_SIZE,
	  .off = offsetof(struct fl_rate, burst),
	  .help = "bytes sent at line speed before the cap bites (default: 4 ms of R)" },
	{ .name = "limit",
	  .type = FL_PT_SIZE,
	  .off = offsetof(struct fl_rate, limit),
	  .help = "bytes queued behind the cap (default: 100 ms of R)" },
	FL_PARAM_END,
};

static void rate_encode(const struct fl_fault *f, struct fl_rule *r)
{
	(void)f;
	r->kind = FL_KIND_RATE;
	r->prob = FL_PROB_ONE;
	r->classid = 0; /* set by rate_apply once the slot is known */
}

static void rate_heal(struct fl_kind_ctx *c, struct fl_fault *f)
{
	struct fl_places *pl = f->priv;
	const char *ns = fl_sup_ns_spec(c->sup);

	for (int i = 0; pl && i < pl->n; i++) {
		if (pl->ingress && pl->link_idx[i] > 0)
			fl_sup_ifb(c->sup, pl->link_idx[i], 0);
		if (pl->ingress)
			fl_shape_ingress_del(ns, pl->ifname[i], pl->own_ifb[i]);
		else
			for (int k = 0; k < f->n_rules; k++)
				fl_shape_class_del(ns, pl->ifname[i], (uint16_t)(f->slots[k] + 1));
	}
	free(pl);
	f->priv = NULL;
}

static int shape_places(struct fl_kind_ctx *c, struct fl_fault *f, struct fl_places *pl)
{
	const struct fl_rate *r = FL_KIND_PARAMS(const struct fl_rate, f);
	struct fl_state *st = fl_sup_state(c->sup);
	const char *ns = fl_sup_ns_spec(c->sup);
	int rc = 0;

	for (int i = 0; !rc && i < pl->n; i++) {
		if (pl->ingress) {
			bool own = false;
			int ifb = 0;

			rc = fl_shape_ingress(st, ns, pl->ifname[i], r, &own, &pl->link_idx[i],
					      &ifb);
			pl->own_ifb[i] |= own;
			if (!rc) /* the program's redirect: once the tbf is there */
				rc = fl_sup_ifb(c->sup, pl->link_idx[i], ifb);
			continue;
		}
		for (int k = 0; !rc && k < f->n_rules; k++)
			rc = fl_shape_class(st, ns, pl->ifname[i], (uint16_t)(f->slots[k] + 1), r);
	}
	return rc;
}

static int rate_apply(struct fl_kind_ctx *c, struct fl_fault *f, struct fl_err *err)
{
	struct fl_places *pl = calloc(1, sizeof(*pl)), *old = f->priv;
	int rc;

	if (!pl)
		return -ENOMEM;
	rc = fl_places_find(c->sup, f, pl);
	pl->ingress = !fl_sup_lab(c->sup) && f->dir == FL_DIR_INGRESS;
	if (old) /* fault change: the same places, the ifb stays whoever's it is */
		memcpy(pl->own_ifb, old->own_ifb, sizeof(pl->own_ifb));
	free(old);
	f->priv = pl;
	if (!rc)
		rc = shape_places(c, f, pl);
	if (rc) {
		fl_err_set(err, "rate: shaping failed: %s (see the message above)", strerror(-rc));
		rate_heal(c, f);
		return rc;
	}
	/* an ingress cap's rules carry no class: the program marks what they
	 * match for the ifb redirect (fallacy/mark.h, FL_MARK_IFB) */
	for (int k = 0; k < c->n_rules; k++)
		c->rules[k].classid = pl->ingress ? 0 : FL_SHAPE_CLASSID(c->rules[k].slot + 1);
	return 0;
}

static enum fl_backend rate_backend(const struct fl_probe_report *rep)
{
	return fl_probe_ok(rep, FL_PROBE_HTB) && fl_probe_ok(rep, FL_PROBE_CLS_BPF) ?
		       FL_BACKEND_SHAPER :
		       FL_BACKEND_NONE;
}

/* A 64 KB super-packet is 52 ms of a 10 Mbit/s link: below 100 Mbit/s
 * the class's queue (rate x 100 ms + burst, shape.h) holds only a few of
 * them, one drop loses 45 segments, and iperf3 measured the cap 6 % low.
 * Slow caps ask for wire packets; faster ones shape super-packets. */
#define RATE_WIRE_BELOW_BPS 100000000ull

static bool rate_per_packet(const struct fl_fault *f)
{
	return FL_KIND_PARAMS(const struct fl_rate, f)->rate_bps < RATE_WIRE_BELOW_BPS;
}

const struct fault_ops fl_fault_rate = {
	.name = "rate",
	.help = "shape matching traffic to R (htb class chosen by the data plane)",
	.example = "rate 10mbit",
	.params = rate_params,
	.params_size = sizeof(struct fl_rate),
	/* an ingress cap on lo goes through an ifb, which loopback traffic
	 * does not survive (measured: 0 bit/s): shape lo's egress */
	.loopback_dir = FL_DIR_EGRESS,
	.wrap_needs = FL_WRAP_NEEDS_SMALL_MTU,
	.per_packet = rate_per_packet,
	.backend = rate_backend,
	.encode = rate_encode,
	.apply = rate_apply,
	.heal = rate_heal,
	.nodes_changed = rate_apply, /* the places again: classes are replaced */
};
