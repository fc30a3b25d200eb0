// SPDX-License-Identifier: MIT
/* partition [G1 G2 ... [oneway]]
 * Without groups: drop every matching packet (with --from A --to B: A->B
 * only, one way; add --bidir for both ways).
 * With groups (comma lists of lab nodes, at least two): a packet from a to b
 * is dropped when no group holds both a and b; with `oneway`, only when
 * additionally a's first group comes before b's. A node in two groups is a
 * bridge: it reaches both sides. Nodes in no group are not affected.
 * Encoding: one rule per distinct set of unreachable destinations, so a
 * plain k-group partition costs k rules however many nodes it has.
 */
#include "fault.h"

#include <errno.h>
#include <string.h>

#include "faults_int.h"
#include "lab/lab.h"

#define P(f) FL_KIND_PARAMS(const struct part, f)

struct part {
	struct fl_groups groups;
	bool oneway;
};

static const struct fl_param part_params[] = {
	{ .name = "groups",
	  .type = FL_PT_GROUPS,
	  .off = offsetof(struct part, groups),
	  .flags = FL_PF_POSITIONAL,
	  .help = "two or more comma lists of lab nodes (n1,n2 n3); none: drop everything "
		  "matching" },
	{ .name = "oneway",
	  .type = FL_PT_FLAG,
	  .off = offsetof(struct part, oneway),
	  .help = "only from an earlier group to a later one" },
	FL_PARAM_END,
};

static int part_validate(struct fl_fault *f, struct fl_err *err)
{
	const struct part *p = FL_KIND_PARAMS(struct part, f);

	if (p->groups.n == 1 || (p->oneway && !p->groups.n)) {
		fl_err_set(err,
			   "partition: expected no groups or 2..%d groups like n1,n2 n3 [oneway]",
			   FL_GROUPS_MAX);
		return -EINVAL;
	}
	return 0;
}

static void part_encode(const struct fl_fault *f, struct fl_rule *r)
{
	(void)f;
	r->kind = FL_KIND_DROP;
}

/* member[g] = node bitmap of group g; first[i] = first group of node i. */
static int groups_resolve(const struct fl_fault *f, const struct fl_lab *lab,
			  uint64_t member[][FL_NODE_WORDS], int *first, struct fl_err *err)
{
	for (int i = 0; i < FL_MAX_NODES; i++)
		first[i] = -1;
	for (int g = 0; g < P(f)->groups.n; g++) {
		struct fl_side side = { 0 };

		snprintf(side.text, sizeof(side.text), "%s", P(f)->groups.g[g]);
		if (strpbrk(side.text, ".:/")) {
			fl_err_set(err, "partition: '%s': groups are lists of node names",
				   side.text);
			return -EINVAL;
		}
		for (char *s = side.text, *tok; (tok = strsep(&s, ","));) {
			const struct fl_node *n = fl_lab_node(lab, tok);
			char names[128];

			if (!n || n->index >= FL_MAX_NODES) {
				fl_lab_nodes_text(lab, names, sizeof(names));
				fl_err_set(err, "partition: unknown node '%s' (the lab has %s)",
					   tok, names);
				return -EINVAL;
			}
			member[g][n->index / 64] |= 1ULL << (n->index % 64);
			if (first[n->index] < 0)
				first[n->index] = g;
		}
	}
	return 0;
}

static bool in(const uint64_t *set, int i)
{
	return (set[i / 64] >> (i % 64)) & 1;
}

/* dst[] = nodes a may not send to. */
static void unreachable(const struct fl_fault *f, uint64_t member[][FL_NODE_WORDS],
			const int *first, int a, uint64_t *dst)
{
	memset(dst, 0, FL_NODE_WORDS * sizeof(*dst));
	for (int b = 0; b < FL_MAX_NODES; b++) {
		bool shared = false;

		if (first[b] < 0 || b == a)
			continue;
		for (int g = 0; g < P(f)->groups.n && !shared; g++)
			shared = in(member[g], a) && in(member[g], b);
		if (!shared && (!P(f)->oneway || first[a] < first[b]))
			dst[b / 64] |= 1ULL << (b % 64);
	}
}

static int part_expand(const struct fl_fault *f, const struct fl_lab *lab, struct fl_rule *rules,
		       int max, struct fl_err *err)
{
	uint64_t member[FL_GROUPS_MAX][FL_NODE_WORDS] = { { 0 } }, dst[FL_NODE_WORDS];
	int first[FL_MAX_NODES], n = 0, a, k;

	if (!P(f)->groups.n) {
		fl_fault_base_rule(f, &rules[0]);
		part_encode(f, &rules[0]);
		return 1;
	}
	if (!lab || f->from.text[0] || f->to.text[0] || f->node[0] || f->bidir) {
		fl_err_set(err, "partition groups need a lab target and no --from/--to/--bidir");
		return -EINVAL;
	}
	if (groups_resolve(f, lab, member, first, err))
		return -EINVAL;
	for (a = 0; a < FL_MAX_NODES; a++) {
		if (first[a] < 0)
			continue;
		unreachable(f, member, first, a, dst);
		if (!(dst[0] | dst[1] | dst[2] | dst[3]))
			continue;
		for (k = 0; k < n && memcmp(rules[k].dst.nodes, dst, sizeof(dst)); k++)
			;
		if (k == n) {
			if (n == max) {
				fl_err_set(err, "partition: more than %d distinct rules", max);
				return -ENOSPC;
			}
			fl_fault_base_rule(f, &rules[n]);
			part_encode(f, &rules[n]);
			rules[n].src.use_nodes = rules[n].dst.use_nodes = 1;
			memcpy(rules[n].dst.nodes, dst, sizeof(dst));
			n++;
		}
		rules[k].src.nodes[a / 64] |= 1ULL << (a % 64);
	}
	return n;
}

const struct fault_ops fl_fault_partition = {
	.name = "partition",
	.help = "drop everything matching, or between groups of lab nodes",
	.example = "partition n1 n2,n3",
	.params = part_params,
	.params_size = sizeof(struct part),
	.backend = fl_backend_tc_bpf,
	.validate = part_validate,
	.encode = part_encode,
	.expand = part_expand,
};
