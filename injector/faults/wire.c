// SPDX-License-Identifier: MIT
/* Which faults need wire-sized packets, and on which lab nodes: see
 * fault.h (fault_ops.per_packet) and docs/faults.md, "Offloads". */
#include "fault.h"

#include <string.h>

#include "lab/lab.h"

bool fl_per_packet_always(const struct fl_fault *f)
{
	(void)f;
	return true;
}

bool fl_fault_per_packet(const struct fl_fault *f)
{
	return f->ops && f->ops->per_packet && f->ops->per_packet(f);
}

static bool ep_has(const struct fl_endpoint *ep, int index)
{
	return ep->use_nodes && (ep->nodes[index / 64] >> (index % 64) & 1);
}

/* A side that is any address or a prefix may be any node. */
static bool side_any(const struct fl_side *s)
{
	return !s->ep.use_nodes;
}

void fl_fault_sender_nodes(const struct fl_fault *f, const struct fl_lab *lab,
			   uint64_t out[FL_NODE_WORDS])
{
	bool all = side_any(&f->from) || (f->bidir && side_any(&f->to));

	memset(out, 0, FL_NODE_WORDS * sizeof(out[0]));
	for (size_t i = 0; lab && i < lab->n_nodes; i++) {
		int k = lab->nodes[i].index;

		if (k < 0 || k >= FL_MAX_NODES)
			continue;
		if (all || ep_has(&f->from.ep, k) || (f->bidir && ep_has(&f->to.ep, k)))
			out[k / 64] |= 1ULL << (k % 64);
	}
}
