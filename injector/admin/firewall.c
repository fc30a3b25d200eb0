// SPDX-License-Identifier: MIT
/* NODE firewall drop|reject [--proto tcp|udp|icmp] [--port N[-M]] [--from X]
 *
 * Rules at the top of the node's own INPUT chain (filter table), through
 * injector/iptables.h, so the node's operator sees them with `iptables -L`
 * / `iptables-save` (and ip6tables in an IPv6 lab). Each carries the
 * comment fallacy-admin:ID, which makes it ours: heal and cleanup delete
 * exactly it, never an identical rule somebody else wrote.
 *
 * reject answers as a real firewall does: a TCP segment with an RST
 * (--reject-with tcp-reset), anything else with ICMP / ICMPv6 port
 * unreachable; without --proto both rules are made (TCP first). --port
 * without --proto means TCP and UDP. ICMPv6 neighbour discovery is left
 * open (OPEN_ND6). */
#include "admin_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "iptables.h"
#include "parse.h"

static const char *proto_name(uint8_t proto, int family)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return family == 6 ? "ipv6-icmp" : "icmp";
	}
	return "";
}

static bool from_is_prefix(const struct fl_admin *a)
{
	return strpbrk(a->from, ".:/") != NULL;
}

static int fw_parse(struct fl_admin *a, int argc, char **argv, struct fl_err *err)
{
	static const char *const opts[] = { "--proto", "--port", "--from", NULL };
	const char *vals[3] = { NULL };
	char *words[32];
	struct fl_port_range pr;
	struct fl_prefix pfx;
	struct fl_err e;
	int n;

	if (fl_admin_split("firewall", argc, argv, opts, vals, words, &n, err))
		return -EINVAL;
	if (n != 1 || (strcmp(words[0], "drop") && strcmp(words[0], "reject"))) {
		fl_err_set(err, "firewall: expected drop or reject%s%s%s (usage: %s)",
			   n ? ", not '" : "", n ? words[n > 1 ? 1 : 0] : "", n ? "'" : "",
			   fl_admin_firewall.usage);
		return -EINVAL;
	}
	a->reject = !strcmp(words[0], "reject");
	if (vals[0]) {
		a->proto = !strcasecmp(vals[0], "tcp")	? IPPROTO_TCP :
			   !strcasecmp(vals[0], "udp")	? IPPROTO_UDP :
			   !strcasecmp(vals[0], "icmp") ? IPPROTO_ICMP :
							  0;
		if (!a->proto) {
			fl_err_set(err, "firewall: --proto %s: use tcp, udp or icmp", vals[0]);
			return -EINVAL;
		}
	}
	if (vals[1]) {
		if (fl_parse_port_range(vals[1], &pr, &e)) {
			fl_err_set(err, "firewall --port %s", e.msg);
			return -EINVAL;
		}
		if (a->proto == IPPROTO_ICMP) {
			fl_err_set(err, "firewall: --port does not go with --proto icmp");
			return -EINVAL;
		}
		a->port_lo = pr.lo;
		a->port_hi = pr.hi;
	}
	if (vals[2]) {
		snprintf(a->from, sizeof(a->from), "%s", vals[2]);
		if (from_is_prefix(a) ? fl_parse_prefix(vals[2], &pfx, err) :
					fl_validate_name("--from", vals[2], FL_NODE_NAME_MAX, err))
			return -EINVAL;
	}
	return 0;
}

static int fw_check(const struct fl_admin *a, const struct fl_lab *lab, struct fl_err *err)
{
	struct fl_prefix pfx;
	char names[128];

	if (!a->from[0])
		return 0;
	if (!from_is_prefix(a)) {
		if (fl_lab_node(lab, a->from))
			return 0;
		fl_lab_nodes_text(lab, names, sizeof(names));
		fl_err_set(err, "firewall --from %s: lab %s has no such node (it has %s)", a->from,
			   lab->name, names);
		return -ENOENT;
	}
	if (fl_parse_prefix(a->from, &pfx, err))
		return -EINVAL;
	if (pfx.family == AF_INET6 && !lab->ipv6) {
		fl_err_set(err, "firewall --from %s: lab %s has no IPv6 (lab up --ipv6)", a->from,
			   lab->name);
		return -EINVAL;
	}
	return 0;
}

static void fw_print(const struct fl_admin *a, struct fl_out *o)
{
	char port[16];

	fl_out_str(o, o->json ? "action" : "", a->reject ? "reject" : "drop");
	if (a->proto)
		fl_out_str(o, o->json ? "proto" : "--proto", proto_name(a->proto, 4));
	if (a->port_lo) {
		if (a->port_lo == a->port_hi)
			snprintf(port, sizeof(port), "%u", a->port_lo);
		else
			snprintf(port, sizeof(port), "%u-%u", a->port_lo, a->port_hi);
		fl_out_str(o, o->json ? "port" : "--port", port);
	}
	if (a->from[0])
		fl_out_str(o, o->json ? "from" : "--from", a->from);
}

/* "-s SRC " for family fam, "" for anyone; 1 when X has no such family. */
static int source(const struct fl_admin *a, const struct fl_lab *lab, int fam, char *buf,
		  size_t len)
{
	const struct fl_node *n;
	char addr[INET6_ADDRSTRLEN];
	struct fl_prefix pfx;
	struct fl_err e;

	buf[0] = '\0';
	if (!a->from[0])
		return 0;
	if (from_is_prefix(a)) {
		if (fl_parse_prefix(a->from, &pfx, &e) ||
		    pfx.family != (fam == 6 ? AF_INET6 : AF_INET))
			return 1;
		inet_ntop(pfx.family, pfx.addr, addr, sizeof(addr));
		snprintf(buf, len, "-s %s/%u ", addr, pfx.plen);
		return 0;
	}
	n = fl_lab_node(lab, a->from);
	if (!n)
		return 1;
	if (fam == 6)
		inet_ntop(AF_INET6, &n->ip6, addr, sizeof(addr));
	else
		inet_ntop(AF_INET, &n->ip4, addr, sizeof(addr));
	snprintf(buf, len, "-s %s/%d ", addr, fam == 6 ? 128 : 32);
	return 0;
}

/* ICMPv6 neighbour discovery stays open, as real firewalls leave it (IPv4's
 * ARP is not filtered by iptables either): without it a node that rejects
 * would not even be found, let alone answer. */
#define OPEN_ND6                                           \
	"-m icmp6 ! --icmpv6-type neighbour-solicitation " \
	"-m icmp6 ! --icmpv6-type neighbour-advertisement "

/* One rule: SRC MATCH -m comment --comment fallacy-admin:ID -j TARGET. */
static void rule(const struct fl_admin *a, int fam, const char *src, const char *match, bool tcp,
		 struct fl_fw_rule *r)
{
	char target[96];

	if (!a->reject)
		snprintf(target, sizeof(target), "DROP");
	else if (tcp)
		snprintf(target, sizeof(target), "REJECT --reject-with tcp-reset");
	else
		snprintf(target, sizeof(target), "REJECT --reject-with %s",
			 fam == 6 ? "icmp6-port-unreachable" : "icmp-port-unreachable");
	r->family = fam;
	snprintf(r->text, sizeof(r->text), "%s%s-m comment --comment fallacy-admin:%s -j %s", src,
		 match, a->id, target);
}

/* "-p P [--dport N[:M]] " of one protocol */
static void proto_match(const struct fl_admin *a, uint8_t proto, int fam, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "-p %s ", proto_name(proto, fam));

	if (a->port_lo && a->port_lo != a->port_hi)
		snprintf(buf + n, len - n, "--dport %u:%u ", a->port_lo, a->port_hi);
	else if (a->port_lo)
		snprintf(buf + n, len - n, "--dport %u ", a->port_lo);
	else if (proto == IPPROTO_ICMP && fam == 6)
		snprintf(buf + n, len - n, OPEN_ND6);
}

/* The rules of one family for one protocol (0: every protocol). */
static int family_rules(const struct fl_admin *a, int fam, const char *src, uint8_t proto,
			struct fl_fw_rule *out)
{
	char match[256];
	int n = 0;

	if (proto) {
		proto_match(a, proto, fam, match, sizeof(match));
		rule(a, fam, src, match, proto == IPPROTO_TCP, &out[n++]);
		return n;
	}
	if (fam == 6) {
		rule(a, fam, src, "! -p ipv6-icmp ", false, &out[n++]);
		rule(a, fam, src, "-p ipv6-icmp " OPEN_ND6, false, &out[n++]);
	} else {
		rule(a, fam, src, "", false, &out[n++]);
	}
	/* reject of everything: TCP gets its RST (inserted last: on top) */
	if (a->reject)
		rule(a, fam, src, "-p tcp ", true, &out[n++]);
	return n;
}

int fl_admin_fw_rules(const struct fl_admin *a, const struct fl_lab *lab, struct fl_fw_rule *out)
{
	uint8_t protos[2];
	int np = 0, n = 0;
	char src[96];

	if (a->proto)
		protos[np++] = a->proto;
	else if (a->port_lo)
		protos[np++] = IPPROTO_TCP, protos[np++] = IPPROTO_UDP;
	else
		protos[np++] = 0;
	for (int fam = 4; fam <= 6; fam += 2) {
		if ((fam == 6 && !lab->ipv6) || source(a, lab, fam, src, sizeof(src)))
			continue;
		for (int i = 0; i < np; i++)
			n += family_rules(a, fam, src, protos[i], out + n);
	}
	return n;
}

static int fw_apply(struct fl_admin_ctx *c, struct fl_err *err)
{
	struct fl_fw_rule rules[FL_FW_MAX_RULES];
	int n = fl_admin_fw_rules(c->a, c->lab, rules), ret;
	char msg[512];

	for (int i = 0; i < n; i++) {
		ret = fl_admin_record(c, "iptables", "%s %d filter INPUT %s", c->node->netns,
				      rules[i].family, rules[i].text);
		if (ret)
			return ret;
		msg[0] = '\0';
		ret = fl_iptables_add(c->node->netns, rules[i].family, "filter", "-I", "INPUT",
				      rules[i].text, msg, sizeof(msg));
		if (ret) {
			fl_err_set(err, "firewall on %s: %stables-%s refused '%s': %s", c->a->node,
				   rules[i].family == 6 ? "ip6" : "ip", fl_iptables_variant(),
				   rules[i].text, msg);
			return ret;
		}
	}
	return 0;
}

const struct fl_admin_ops fl_admin_firewall = {
	.name = "firewall",
	.usage = "firewall drop|reject [--proto tcp|udp|icmp] [--port N[-M]] [--from X]",
	.parse = fw_parse,
	.check = fw_check,
	.print = fw_print,
	.apply = fw_apply,
};
