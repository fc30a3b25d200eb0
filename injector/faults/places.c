// SPDX-License-Identifier: MIT
/* Where a fault's htb classes go: see places.h. */
#include "places.h"

#include <stdio.h>
#include <string.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "lab/lab.h"
#include "nlutil.h"
#include "supervisor/sup.h"

static bool node_in(const struct fl_endpoint *ep, size_t i)
{
	return ep->use_nodes && (ep->nodes[i / 64] >> (i % 64) & 1);
}

static void places_lab(const struct fl_fault *f, const struct fl_lab *lab, struct fl_places *pl)
{
	bool any = !f->to.ep.use_nodes;

	for (size_t i = 0; i < lab->n_nodes && pl->n < FL_MAX_PLACES; i++)
		if (any || node_in(&f->to.ep, i) || (f->bidir && node_in(&f->from.ep, i)))
			snprintf(pl->ifname[pl->n++], IFNAMSIZ, "%s", lab->nodes[i].port);
}

static int places_ns(struct fl_sup *s, struct fl_places *pl)
{
	struct nl_cache *cache = NULL;
	struct nl_sock *sk = NULL;
	struct nl_object *o;
	int err = fl_nl_route_in_spec(fl_sup_ns_spec(s), &sk);

	if (err)
		return err;
	err = fl_nl_errno(rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache));
	for (o = err ? NULL : nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		const char *name = rtnl_link_get_name((struct rtnl_link *)o);

		if (strcmp(name, "lo") && pl->n < FL_MAX_PLACES)
			snprintf(pl->ifname[pl->n++], IFNAMSIZ, "%s", name);
	}
	if (!err && !pl->n)
		snprintf(pl->ifname[pl->n++], IFNAMSIZ, "lo");
	nl_cache_free(cache);
	nl_socket_free(sk);
	return err;
}

int fl_places_find(struct fl_sup *s, const struct fl_fault *f, struct fl_places *pl)
{
	const struct fl_lab *lab = fl_sup_lab(s);

	pl->n = 0;
	if (lab) {
		places_lab(f, lab, pl);
		return 0;
	}
	return places_ns(s, pl);
}
