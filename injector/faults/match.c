// SPDX-License-Identifier: MIT
/* The match options every fault kind shares, resolved against a lab (node
 * names -> node sets) or taken as plain prefixes; rule building and the
 * evaluation order. */
#include "fault.h"
#include "faults_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "lab/lab.h"

static bool prefix_in_lab(const struct fl_prefix *p, const struct fl_lab *lab)
{
	struct fl_prefix net = { .family = p->family };

	if (p->family == AF_INET) {
		memcpy(net.addr, &lab->net4, 4);
		net.plen = (uint8_t)lab->prefix4_len;
	} else {
		memcpy(net.addr, &fl_lab_net6, 16);
		net.plen = FL_LAB_PREFIX6_LEN;
	}
	return p->plen >= net.plen && fl_prefix_contains(&net, p->family, p->addr);
}

static int side_prefix(struct fl_side *s, const char *opt, const struct fl_lab *lab,
		       struct fl_err *err)
{
	struct fl_prefix p;
	struct fl_err e;

	if (fl_parse_prefix(s->text, &p, &e)) {
		if (lab)
			fl_err_set(err, "%s %s: not a node of lab %s nor an address (%s)", opt,
				   s->text, lab->name, e.msg);
		else
			fl_err_set(err, "%s %s: %s (node names work in labs only)", opt, s->text,
				   e.msg);
		return -EINVAL;
	}
	if (lab && !prefix_in_lab(&p, lab)) {
		fl_err_set(
			err,
			"%s %s: address outside lab %s (use a node name or an address of the lab)",
			opt, s->text, lab->name);
		return -EINVAL;
	}
	memcpy(s->ep.addr, p.addr, 16);
	s->ep.plen = p.plen;
	s->family = p.family == AF_INET ? FL_FAM_IPV4 : FL_FAM_IPV6;
	return 0;
}

static int side_nodes(struct fl_side *s, const char *opt, const struct fl_lab *lab,
		      struct fl_err *err)
{
	char buf[256], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", s->text);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const struct fl_node *n = fl_lab_node(lab, tok);
		char names[128];

		if (!n && fl_lab_gone(lab, tok)) {
			fl_err_set(
				err,
				"%s: node %s left lab %s (fallacy node add %s %s brings it back)",
				opt, tok, lab->name, lab->name, tok);
			return -EINVAL;
		}
		if (!n || n->index < 0 || n->index >= FL_MAX_NODES) {
			fl_lab_nodes_text(lab, names, sizeof(names));
			fl_err_set(err, "%s: unknown node '%s' (the lab has %s)", opt, tok, names);
			return -EINVAL;
		}
		s->ep.nodes[n->index / 64] |= 1ULL << (n->index % 64);
	}
	s->ep.use_nodes = 1;
	return 0;
}

/* "n1,n2" (nodes of the lab) or one address/prefix. */
static int side_resolve(struct fl_side *s, const char *opt, const struct fl_lab *lab,
			struct fl_err *err)
{
	memset(&s->ep, 0, sizeof(s->ep));
	s->family = FL_FAM_ANY;
	if (!s->text[0])
		return 0;
	if (lab && !strpbrk(s->text, ".:/"))
		return side_nodes(s, opt, lab, err);
	return side_prefix(s, opt, lab, err);
}

static const struct {
	const char *name;
	uint8_t proto, family;
} protos[] = {
	{ "any", 0, 0 },
	{ "tcp", IPPROTO_TCP, 0 },
	{ "udp", IPPROTO_UDP, 0 },
	{ "icmp", IPPROTO_ICMP, FL_FAM_IPV4 },
	{ "icmpv6", IPPROTO_ICMPV6, FL_FAM_IPV6 },
};

static int opt_proto(struct fl_fault *f, const char *v, struct fl_err *err)
{
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		if (!strcmp(v, protos[i].name)) {
			f->proto = protos[i].proto;
			return 0;
		}
	}
	fl_err_set(err, "--proto %s: unknown protocol (use tcp, udp, icmp, icmpv6 or any)", v);
	return -EINVAL;
}

static uint8_t proto_family(uint8_t proto)
{
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (protos[i].proto == proto)
			return protos[i].family;
	return 0;
}

const char *fl_proto_name(uint8_t proto)
{
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (protos[i].proto == proto)
			return protos[i].name;
	return "any";
}

static int opt_ports(struct fl_fault *f, const char *opt, uint8_t mode, const char *v,
		     struct fl_err *err)
{
	struct fl_err e;

	if (f->port_mode) {
		fl_err_set(err, "%s: only one of --port, --sport, --dport", opt);
		return -EINVAL;
	}
	if (fl_parse_port_range(v, &f->ports, &e)) {
		fl_err_set(err, "%s %s", opt, e.msg);
		return -EINVAL;
	}
	f->port_mode = mode;
	return 0;
}

static int opt_dir(struct fl_fault *f, const char *v, struct fl_err *err)
{
	if (!strcmp(v, "in") || !strcmp(v, "ingress"))
		f->dir = FL_DIR_INGRESS;
	else if (!strcmp(v, "out") || !strcmp(v, "egress"))
		f->dir = FL_DIR_EGRESS;
	else if (!strcmp(v, "both"))
		f->dir = FL_DIR_BOTH;
	else {
		fl_err_set(err, "--dir %s: use in, out or both", v);
		return -EINVAL;
	}
	return 0;
}

const struct fl_fault_option fl_fault_options[] = {
	{ "--from", "from", true, true, "traffic from these nodes (n1,n2) or that address/prefix" },
	{ "--to", "to", true, true, "traffic to these nodes or that address/prefix" },
	{ "--bidir", "bidir", false, false, "also the way back (--to -> --from)" },
	{ "--node", "on", true, true, "traffic from or to these nodes (what LAB/NODE means)" },
	{ "--proto", "proto", true, false, "tcp, udp, icmp, icmpv6 or any" },
	{ "--port", "port", true, false, "source or destination port N or range N-M" },
	{ "--sport", "sport", true, false, "source port N or range N-M" },
	{ "--dport", "dport", true, false, "destination port N or range N-M" },
	{ "--dir", "dir", true, false, "in, out or both: the hooks of a --netns/--pid target" },
	{ "--seed", "seed", true, false,
	  "the seed of the fault's random decisions (default: "
	  "random, printed)" },
	{ "--id", "id", true, false, "the fault's name (default f1, f2, ...)" },
	{ "--duration", "duration", true, false, "heal the fault by itself after this long" },
	{ "--profile", NULL, true, false,
	  "part of the lab's link profile NAME (its normal state: fault clear keeps it)" },
	{ NULL, NULL, false, false, NULL },
};

const struct fl_fault_option *fl_fault_option(const char *name)
{
	for (const struct fl_fault_option *o = fl_fault_options; o->name; o++)
		if (!strcmp(o->name, name))
			return o;
	return NULL;
}

static int opt_value(struct fl_fault *f, const char *opt, const char *v, struct fl_err *err)
{
	uint64_t u;

	if (!strcmp(opt, "--from"))
		snprintf(f->from.text, sizeof(f->from.text), "%s", v);
	else if (!strcmp(opt, "--to"))
		snprintf(f->to.text, sizeof(f->to.text), "%s", v);
	else if (!strcmp(opt, "--node"))
		snprintf(f->node, sizeof(f->node), "%s", v);
	else if (!strcmp(opt, "--proto"))
		return opt_proto(f, v, err);
	else if (!strcmp(opt, "--port"))
		return opt_ports(f, opt, FL_PORT_EITHER, v, err);
	else if (!strcmp(opt, "--sport"))
		return opt_ports(f, opt, FL_PORT_SRC, v, err);
	else if (!strcmp(opt, "--dport"))
		return opt_ports(f, opt, FL_PORT_DST, v, err);
	else if (!strcmp(opt, "--dir"))
		return opt_dir(f, v, err);
	else if (!strcmp(opt, "--seed")) {
		if (fl_parse_u64(v, 0, FL_SEED_MAX, &u, err))
			return -EINVAL;
		f->seed = u;
		f->seed_given = true;
	} else if (!strcmp(opt, "--duration")) {
		if (fl_parse_duration(v, &u, err))
			return -EINVAL;
		if (!u) {
			fl_err_set(err, "--duration 0: give a duration > 0 (or leave it out)");
			return -EINVAL;
		}
		f->duration_ns = u;
	} else if (!strcmp(opt, "--id")) {
		if (fl_validate_name("--id", v, FL_FAULT_ID_MAX, err))
			return -EINVAL;
		snprintf(f->id, sizeof(f->id), "%s", v);
	} else if (!strcmp(opt, "--profile")) {
		if (fl_validate_name("--profile", v, FL_FAULT_ID_MAX, err))
			return -EINVAL;
		snprintf(f->profile, sizeof(f->profile), "%s", v);
	}
	return 0;
}

static int parse_opts(struct fl_fault *f, int argc, char **argv, int *bad, struct fl_err *err)
{
	for (int i = 0; i < argc; i++) {
		const struct fl_fault_option *o = fl_fault_option(argv[i]);
		struct fl_err e;

		*bad = i;
		if (strncmp(argv[i], "--", 2)) {
			char use[256];

			fl_kind_usage(f->ops, use, sizeof(use));
			fl_err_set(err, "'%s': parameters go before the options (%s)", argv[i],
				   use);
			return -EINVAL;
		}
		if (!o) {
			fl_err_set(err, "unknown option '%s' (see fallacy fault --help)", argv[i]);
			return -EINVAL;
		}
		if (!o->takes_value) {
			f->bidir = true; /* --bidir, the one flag */
			continue;
		}
		if (i + 1 >= argc) {
			fl_err_set(err, "%s: missing value", argv[i]);
			return -EINVAL;
		}
		*bad = ++i;
		if (opt_value(f, o->name, argv[i], &e)) {
			fl_err_set(err, "%s", e.msg);
			return -EINVAL;
		}
	}
	*bad = -1;
	return 0;
}

static int resolve(struct fl_fault *f, const struct fl_lab *lab, struct fl_err *err)
{
	uint8_t pf = proto_family(f->proto);

	if (f->node[0] && (f->from.text[0] || f->to.text[0])) {
		fl_err_set(err, "a LAB/NODE target cannot be combined with --from/--to");
		return -EINVAL;
	}
	if (f->node[0]) {
		if (!lab) {
			fl_err_set(err, "--node %s: node names work in labs only", f->node);
			return -EINVAL;
		}
		snprintf(f->from.text, sizeof(f->from.text), "%s", f->node);
		f->bidir = true;
	}
	if (side_resolve(&f->from, "--from", lab, err) || side_resolve(&f->to, "--to", lab, err))
		return -EINVAL;
	if (f->node[0])
		f->from.text[0] = '\0';
	if ((f->from.family && f->to.family && f->from.family != f->to.family) ||
	    (pf &&
	     ((f->from.family && f->from.family != pf) || (f->to.family && f->to.family != pf)))) {
		fl_err_set(err, "--from, --to and --proto name different address families");
		return -EINVAL;
	}
	return 0;
}

int fl_fault_parse_at(struct fl_fault *f, int argc, char **argv, const struct fl_lab *lab, int *bad,
		      struct fl_err *err)
{
	int nparams = 1, at = -1;

	memset(f, 0, sizeof(*f));
	f->dir = FL_DIR_BOTH;
	if (argc < 1 || !argv[0]) {
		fl_err_set(err, "missing fault kind (e.g. loss 5%%, partition, duplicate 1%%)");
		goto bad;
	}
	while (nparams < argc && strncmp(argv[nparams], "--", 2))
		nparams++;
	if (fl_fault_parse_kind(f, nparams, argv, &at, err))
		goto bad;
	if (parse_opts(f, argc - nparams, argv + nparams, &at, err)) {
		at = at >= 0 ? at + nparams : -1;
		goto bad;
	}
	if (f->ops->tcp_only) {
		if (f->proto && f->proto != IPPROTO_TCP) {
			fl_err_set(err, "%s works on TCP only (drop --proto or use --proto tcp)",
				   f->ops->name);
			goto bad;
		}
		f->proto = IPPROTO_TCP;
	}
	/* the kind's own rules again, now that the match options are known */
	if (!resolve(f, lab, err) && !fl_fault_validate(f, err))
		return 0;
bad:
	if (bad)
		*bad = at;
	return -EINVAL;
}

int fl_fault_parse(struct fl_fault *f, int argc, char **argv, const struct fl_lab *lab,
		   struct fl_err *err)
{
	return fl_fault_parse_at(f, argc, argv, lab, NULL, err);
}

/* One rule from the fault's match options; the kind fills the action. */
void fl_fault_base_rule(const struct fl_fault *f, struct fl_rule *r)
{
	uint8_t pf = proto_family(f->proto);

	memset(r, 0, sizeof(*r));
	r->seed = f->seed;
	r->dir = f->dir;
	r->family = f->from.family ? f->from.family : f->to.family ? f->to.family : pf;
	r->proto = f->proto;
	r->port_mode = f->port_mode;
	r->port_lo = f->ports.lo;
	r->port_hi = f->ports.hi;
	r->flags = f->bidir ? FL_RULE_BIDIR : 0;
	r->src = f->from.ep;
	r->dst = f->to.ep;
	if (f->node[0]) {
		/* resolve() put the node set into from.ep */
		r->src = f->from.ep;
		memset(&r->dst, 0, sizeof(r->dst));
	}
}

int fl_fault_rules(const struct fl_fault *f, const struct fl_lab *lab, struct fl_rule *rules,
		   int max, struct fl_err *err)
{
	int n = 1;

	if (f->ops->expand) {
		n = f->ops->expand(f, lab, rules, max, err);
		if (n < 0)
			return n;
	} else {
		if (max < 1)
			return -ENOSPC;
		fl_fault_base_rule(f, &rules[0]);
		f->ops->encode(f, &rules[0]);
	}
	for (int i = 0; i < n; i++)
		rules[i].prng_id = (uint32_t)i;
	return n;
}

void fl_fault_print(const struct fl_fault *f, struct fl_out *o)
{
	char key[32];

	fl_fault_print_params(f, o);
	if (f->node[0])
		fl_out_str(o, o->json ? "node" : "--node", f->node);
	if (f->from.text[0])
		fl_out_str(o, o->json ? "from" : "--from", f->from.text);
	if (f->to.text[0])
		fl_out_str(o, o->json ? "to" : "--to", f->to.text);
	if (f->bidir && !f->node[0])
		fl_out_flag(o, o->json ? "bidir" : "--bidir");
	if (f->proto)
		fl_out_str(o, o->json ? "proto" : "--proto", fl_proto_name(f->proto));
	if (f->port_mode) {
		static const char *const names[] = { "", "sport", "dport", "port" };
		char buf[32];

		if (f->ports.lo == f->ports.hi)
			snprintf(buf, sizeof(buf), "%u", f->ports.lo);
		else
			snprintf(buf, sizeof(buf), "%u-%u", f->ports.lo, f->ports.hi);
		snprintf(key, sizeof(key), "%s%s", o->json ? "" : "--", names[f->port_mode]);
		fl_out_str(o, key, buf);
	}
	if (f->dir != FL_DIR_BOTH)
		fl_out_str(o, o->json ? "dir" : "--dir", f->dir == FL_DIR_INGRESS ? "in" : "out");
	if (f->duration_ns)
		fl_out_dur(o, o->json ? "duration" : "--duration", f->duration_ns);
	if (f->profile[0])
		fl_out_str(o, o->json ? "profile" : "--profile", f->profile);
	fl_out_u64(o, o->json ? "seed" : "--seed", f->seed);
}

void fl_fault_format(const struct fl_fault *f, char *buf, size_t len)
{
	FILE *m;
	struct fl_out o;

	if (!len)
		return;
	buf[0] = '\0';
	m = fmemopen(buf, len, "w");
	o = (struct fl_out){ .f = m };
	if (!m)
		return;
	fl_fault_print(f, &o);
	fclose(m);
	buf[len - 1] = '\0';
}

/* ---- evaluation order -------------------------------------------------- */

static int ep_bits(const struct fl_endpoint *e)
{
	return e->use_nodes ? 128 : e->plen;
}

int fl_rule_specificity(const struct fl_rule *r)
{
	int fields = !!ep_bits(&r->src) + !!ep_bits(&r->dst) + !!r->proto + !!r->port_mode +
		     (r->dir != FL_DIR_BOTH) + !!r->family;

	return fields * 1024 + ep_bits(&r->src) + ep_bits(&r->dst);
}

struct sort_item {
	struct fl_rule r;
	uint64_t order;
	int spec;
};

static int cmp_items(const void *a, const void *b)
{
	const struct sort_item *x = a, *y = b;

	if (x->spec != y->spec)
		return x->spec > y->spec ? -1 : 1;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	if (x->r.prng_id != y->r.prng_id)
		return x->r.prng_id < y->r.prng_id ? -1 : 1;
	return 0;
}

int fl_rules_sort(struct fl_rule *rules, uint64_t *order, int n)
{
	struct sort_item *items = calloc((size_t)(n > 0 ? n : 1), sizeof(*items));

	if (!items)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		items[i].r = rules[i];
		items[i].order = order[i];
		items[i].spec = fl_rule_specificity(&rules[i]);
	}
	qsort(items, (size_t)n, sizeof(*items), cmp_items);
	for (int i = 0; i < n; i++) {
		rules[i] = items[i].r;
		order[i] = items[i].order;
	}
	free(items);
	return 0;
}
