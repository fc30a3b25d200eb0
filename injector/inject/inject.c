// SPDX-License-Identifier: MIT
/* fallacy inject: parse the request, resolve it against the lab, send the
 * forged frames from the wire namespace. See inject.h. */
#include "inject.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "fallacy/prng.h"
#include "lab/lab.h"
#include "netns.h"
#include "parse.h"
#include "state/state.h"

#define FRAME_MAX 2048
#define TCP_FLAGS "FSRPAU" /* bit i of the flags byte */
#define STREAM_SPORT 1
#define STREAM_SEQ 2
#define STREAM_ACK 3

/* The forger's own MAC when the source is no node: locally administered. */
static const uint8_t forger_mac[6] = { 0x02, 0xfa, 0x11, 0xac, 0x00, 0x01 };

const struct fl_inject_option fl_inject_options[] = {
	{ "--to", "to", true, "the node that receives the packet (required)" },
	{ "--proto", "proto", true, "udp or tcp (required)" },
	{ "--port", "port", true, "destination port (required)" },
	{ "--payload", "payload", true,
	  "the payload: hex digits or \"text\" (1..256 bytes; required for udp)" },
	{ "--from", "from", true,
	  "spoofed source: a node or a lab address (default: a lab address no node has)" },
	{ "--sport", "sport", true, "source port (default: drawn from the seed, 32768..60999)" },
	{ "--flags", "flags", true, "TCP flags, letters of FSRPAU (default PA)" },
	{ "--seq", "seq", true, "TCP sequence number (default: drawn from the seed)" },
	{ "--ack", "ack", true, "TCP acknowledgment number (default: drawn from the seed)" },
	{ "--ipv6", "ipv6", false, "IPv6 addresses of the nodes (the lab needs --ipv6)" },
	{ "--count", "count", true, "frames sent back to back (default 1, at most 1000)" },
	{ "--seed", "seed", true, "seed of the drawn values (default: random, printed)" },
	{ NULL, NULL, false, NULL },
};

static int parse_flags(const char *v, uint8_t *out, struct fl_err *err)
{
	*out = 0;
	for (const char *c = v; *c; c++) {
		const char *at = strchr(TCP_FLAGS, *c);

		if (!at) {
			fl_err_set(err, "--flags %s: '%c' is no TCP flag (use letters of %s)", v,
				   *c, TCP_FLAGS);
			return -EINVAL;
		}
		*out |= (uint8_t)(1 << (at - TCP_FLAGS));
	}
	return 0;
}

static int parse_u32(const char *opt, const char *v, uint64_t lo, uint64_t hi, uint64_t *out,
		     struct fl_err *err)
{
	struct fl_err e;

	if (fl_parse_u64(v, lo, hi, out, &e)) {
		fl_err_set(err, "%s %s", opt, e.msg);
		return -EINVAL;
	}
	return 0;
}

static int option(struct fl_inject *in, const char *o, const char *v, struct fl_err *err)
{
	uint64_t u = 0;
	int rc = 0;

	if (!strcmp(o, "--to") || !strcmp(o, "--from")) {
		if (strlen(v) >= sizeof(in->to) || !v[0]) {
			fl_err_set(err, "%s '%s': give a node name or an address", o, v);
			return -EINVAL;
		}
		snprintf(!strcmp(o, "--to") ? in->to : in->from, sizeof(in->to), "%s", v);
	} else if (!strcmp(o, "--proto")) {
		in->proto = !strcmp(v, "udp") ? IPPROTO_UDP : !strcmp(v, "tcp") ? IPPROTO_TCP : 0;
		if (!in->proto) {
			fl_err_set(err, "--proto %s: use udp or tcp", v);
			return -EINVAL;
		}
	} else if (!strcmp(o, "--port") || !strcmp(o, "--sport")) {
		rc = parse_u32(o, v, 1, 65535, &u, err);
		*(!strcmp(o, "--port") ? &in->dport : &in->sport) = (uint16_t)u;
		in->sport_given |= !strcmp(o, "--sport");
	} else if (!strcmp(o, "--payload")) {
		rc = fl_bytes_parse("--payload", v, &in->payload, err);
		in->payload_given = true;
	} else if (!strcmp(o, "--flags")) {
		rc = parse_flags(v, &in->tcp_flags, err);
		in->flags_given = true;
	} else if (!strcmp(o, "--seq") || !strcmp(o, "--ack")) {
		rc = parse_u32(o, v, 0, UINT32_MAX, &u, err);
		*(!strcmp(o, "--seq") ? &in->seq : &in->ack) = (uint32_t)u;
		*(!strcmp(o, "--seq") ? &in->seq_given : &in->ack_given) = true;
	} else if (!strcmp(o, "--count")) {
		rc = parse_u32(o, v, 1, FL_INJECT_MAX_COUNT, &u, err);
		in->count = (uint32_t)u;
	} else if (!strcmp(o, "--seed")) {
		rc = parse_u32(o, v, 0, FL_SEED_MAX, &in->seed, err);
		in->seed_given = true;
	}
	return rc;
}

static const struct fl_inject_option *find_option(const char *name)
{
	for (const struct fl_inject_option *o = fl_inject_options; o->name; o++)
		if (!strcmp(o->name, name))
			return o;
	return NULL;
}

/* What a request needs beyond its single words. */
static int complete(struct fl_inject *in, struct fl_err *err)
{
	if (!in->to[0] || !in->proto || !in->dport) {
		fl_err_set(err, "inject needs --to NODE, --proto udp|tcp and --port N (e.g. "
				"--to n2 --proto udp --port 53 --payload '\"hello\"')");
		return -EINVAL;
	}
	if (in->proto == IPPROTO_UDP && !in->payload_given) {
		fl_err_set(err, "inject --proto udp needs --payload HEX|\"text\"");
		return -EINVAL;
	}
	if (in->proto == IPPROTO_UDP && (in->flags_given || in->seq_given || in->ack_given)) {
		fl_err_set(err, "--flags, --seq and --ack are for --proto tcp");
		return -EINVAL;
	}
	if (!in->flags_given)
		in->tcp_flags = 0x18; /* PSH|ACK: data on a connection */
	return 0;
}

int fl_inject_parse(struct fl_inject *in, int argc, char **argv, struct fl_err *err)
{
	memset(in, 0, sizeof(*in));
	in->count = 1;
	for (int i = 0; i < argc; i++) {
		const struct fl_inject_option *o = find_option(argv[i]);

		if (!o) {
			fl_err_set(err, "inject: unknown option '%s' (see fallacy inject --help)",
				   argv[i]);
			return -EINVAL;
		}
		if (!o->takes_value) {
			in->ipv6 = true;
			continue;
		}
		if (i + 1 >= argc) {
			fl_err_set(err, "%s: missing value", argv[i]);
			return -EINVAL;
		}
		if (option(in, o->name, argv[i + 1], err))
			return -EINVAL;
		i++;
	}
	return complete(in, err);
}

static bool in_lab(const struct fl_lab *lab, const struct fl_prefix *a)
{
	struct fl_prefix net = { .family = a->family };
	struct in6_addr six;

	if (a->family == AF_INET) {
		memcpy(net.addr, &lab->net4, 4);
		net.plen = (uint8_t)lab->prefix4_len;
	} else {
		fl_lab_addr6(lab->index, 0, &six);
		memcpy(net.addr, &six, 8); /* the /64 */
		net.plen = FL_LAB_PREFIX6_LEN;
	}
	return fl_prefix_contains(&net, a->family, a->addr);
}

/* A node's address of the family, or an address of the lab's prefix. */
static int endpoint(const struct fl_lab *lab, const char *what, const char *text, int family,
		    uint8_t *addr, const struct fl_node **node, struct fl_err *err)
{
	const struct fl_node *n = fl_lab_node(lab, text);
	struct fl_prefix p;
	struct fl_err e;

	*node = n;
	if (n) {
		if (family == AF_INET6 && !lab->ipv6) {
			fl_err_set(err, "--ipv6: lab %s has no IPv6 addresses (lab up --ipv6)",
				   lab->name);
			return -EINVAL;
		}
		memset(addr, 0, 16);
		memcpy(addr, family == AF_INET6 ? (const void *)&n->ip6 : (const void *)&n->ip4,
		       family == AF_INET6 ? 16 : 4);
		return 0;
	}
	if (fl_parse_prefix(text, &p, &e) ||
	    p.plen != (p.family == AF_INET ? 32 : FL_LAB_PREFIX6_LEN * 2)) {
		fl_err_set(err, "%s %s: no node of lab %s and not an address", what, text,
			   lab->name);
		return -EINVAL;
	}
	if (p.family != family) {
		fl_err_set(err, "%s %s: an IPv%d address, the packet is IPv%d", what, text,
			   p.family == AF_INET ? 4 : 6, family == AF_INET ? 4 : 6);
		return -EINVAL;
	}
	if (!in_lab(lab, &p)) {
		fl_err_set(err,
			   "%s %s: outside lab %s (forged sources stay in the lab's own "
			   "addresses, so no answer ever leaves it)",
			   what, text, lab->name);
		return -EINVAL;
	}
	memcpy(addr, p.addr, 16);
	return 0;
}

/* The lab address no node has: last host of the IPv4 subnet, or ::ffff. */
static void spare(const struct fl_lab *lab, int family, uint8_t *addr)
{
	struct in6_addr a6;
	uint32_t net = ntohl(lab->net4.s_addr), size = 1u << (32 - lab->prefix4_len);
	uint32_t host = htonl(net + size - 2);

	memset(addr, 0, 16);
	if (family == AF_INET) {
		memcpy(addr, &host, 4);
		return;
	}
	fl_lab_addr6(lab->index, 0xfffe, &a6);
	memcpy(addr, &a6, 16);
}

int fl_inject_resolve(const struct fl_inject *in, const struct fl_lab *lab, struct fl_packet *pk,
		      struct fl_err *err)
{
	const struct fl_node *to, *from = NULL;
	int family = in->ipv6 || strchr(in->from, ':') ? AF_INET6 : AF_INET;
	uint64_t s = in->seed;

	memset(pk, 0, sizeof(*pk));
	pk->family = family;
	pk->proto = in->proto;
	if (!fl_lab_node(lab, in->to)) {
		fl_err_set(err, "--to %s: not a node of lab %s (nodes %s ... %s)", in->to,
			   lab->name, lab->nodes[0].name, lab->nodes[lab->n_nodes - 1].name);
		return -EINVAL;
	}
	if (endpoint(lab, "--to", in->to, family, pk->dst, &to, err))
		return -EINVAL;
	if (in->from[0] && endpoint(lab, "--from", in->from, family, pk->src, &from, err))
		return -EINVAL;
	if (!in->from[0])
		spare(lab, family, pk->src);
	if (from == to) {
		fl_err_set(err, "--from and --to are the same node %s", to->name);
		return -EINVAL;
	}
	pk->dport = in->dport;
	pk->sport = in->sport_given ? in->sport :
				      (uint16_t)(32768 + fl_prng(s, 0, STREAM_SPORT, 0) % 28232);
	pk->tcp_flags = in->proto == IPPROTO_TCP ? in->tcp_flags : 0;
	pk->seq = in->seq_given ? in->seq : (uint32_t)fl_prng(s, 0, STREAM_SEQ, 0);
	pk->ack = in->ack_given ? in->ack : (uint32_t)fl_prng(s, 0, STREAM_ACK, 0);
	pk->payload = in->payload.b;
	pk->payload_len = in->payload.len;
	memcpy(pk->src_mac, forger_mac, 6);
	return 0;
}

/* eth0's MAC inside the node's namespace. */
static int node_mac(const struct fl_node *n, uint8_t *mac)
{
	struct ifreq ifr = { 0 };
	int saved = -1, fd, rc;

	rc = fl_netns_enter_spec(n->netns, &saved);
	if (rc)
		return rc;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "eth0");
	rc = fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr) ? -errno : 0;
	if (fd >= 0)
		close(fd);
	if (fl_netns_leave(saved) < 0)
		rc = rc ?: -EIO;
	if (!rc)
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return rc;
}

/* count frames out of the wire-side port (toward the node) */
static int wire_send(const struct fl_lab *lab, const char *port, const uint8_t *frame, size_t len,
		     const uint8_t *dst_mac, uint32_t count, uint32_t *sent)
{
	struct sockaddr_ll sa = { .sll_family = AF_PACKET, .sll_halen = 6 };
	int saved = -1, fd, rc;

	*sent = 0;
	rc = fl_netns_enter_spec(lab->wire_netns, &saved);
	if (rc)
		return rc;
	/* protocol 0: the socket sends only, it receives nothing */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	sa.sll_ifindex = (int)if_nametoindex(port);
	memcpy(sa.sll_addr, dst_mac, 6);
	rc = fd < 0 ? -errno : !sa.sll_ifindex ? -ENODEV : 0;
	for (uint32_t i = 0; !rc && i < count; i++) {
		if (sendto(fd, frame, len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			rc = -errno;
		else
			(*sent)++;
	}
	if (fd >= 0)
		close(fd);
	if (fl_netns_leave(saved) < 0)
		rc = rc ?: -EIO;
	return rc;
}

/* One "inject" line in the lab's events.jsonl, on the supervisor's clock
 * and in its format (docs/results.md: mono_ns, wall_ns, event, id). */
static void lab_event(const struct fl_lab *lab, const struct fl_inject *in, uint32_t sent)
{
	struct fl_out o = { .json = true, .compact = true };
	char path[4096], words[1024];

	snprintf(path, sizeof(path), "%s/%s/events.jsonl", fl_run_dir(), lab->name);
	if (access(path, F_OK))
		return; /* no session folder (a planned lab): nothing to record */
	o.f = fopen(path, "ae");
	if (!o.f)
		return;
	fl_inject_words(in, words, sizeof(words));
	fl_out_open(&o, "", '{');
	fl_out_u64(&o, "mono_ns", fl_clock_mono_ns());
	fl_out_u64(&o, "wall_ns", fl_clock_wall_ns());
	fl_out_str(&o, "event", "inject");
	fl_out_str(&o, "id", in->to);
	fl_out_u64(&o, "packets", sent);
	fl_out_str(&o, "spec", words);
	fl_out_close(&o, '}');
	fputc('\n', o.f);
	fclose(o.f);
}

int fl_inject_send(const struct fl_inject *in, const struct fl_lab *lab, struct fl_packet *pk,
		   uint32_t *sent, struct fl_err *err)
{
	const struct fl_node *to;
	uint8_t frame[FRAME_MAX];
	ssize_t len;
	int rc;

	*sent = 0;
	if (fl_inject_resolve(in, lab, pk, err))
		return -EINVAL;
	to = fl_lab_node(lab, in->to);
	rc = node_mac(to, pk->dst_mac);
	if (rc) {
		fl_err_set(err, "inject: reading the MAC of %s/eth0: %s", to->name, strerror(-rc));
		return rc;
	}
	len = fl_packet_build(pk, frame, sizeof(frame));
	if (len < 0) {
		fl_err_set(err, "inject: building the frame: %s", strerror((int)-len));
		return (int)len;
	}
	rc = wire_send(lab, to->port, frame, (size_t)len, pk->dst_mac, in->count, sent);
	if (*sent)
		lab_event(lab, in, *sent);
	if (rc)
		fl_err_set(err, "inject: sending on %s/%s: %s (%u of %u sent)", lab->wire_netns,
			   to->port, strerror(-rc), *sent, in->count);
	return rc;
}

void fl_inject_words(const struct fl_inject *in, char *buf, size_t len)
{
	char pay[2 * FL_TEXT_MAX + 3], flags[8] = "";
	size_t n = 0, k = 0;

#define W(...) (n += (size_t)snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__))
	W("--to %s --proto %s --port %u", in->to, in->proto == IPPROTO_TCP ? "tcp" : "udp",
	  in->dport);
	if (in->payload_given) {
		fl_bytes_format(&in->payload, pay, sizeof(pay));
		W(" --payload %s", pay);
	}
	if (in->from[0])
		W(" --from %s", in->from);
	if (in->sport_given)
		W(" --sport %u", in->sport);
	for (int i = 0; in->flags_given && i < 6; i++)
		if (in->tcp_flags & (1 << i))
			flags[k++] = TCP_FLAGS[i];
	if (in->flags_given)
		W(" --flags %s", flags);
	if (in->seq_given)
		W(" --seq %u", in->seq);
	if (in->ack_given)
		W(" --ack %u", in->ack);
	if (in->ipv6)
		W(" --ipv6");
	if (in->count != 1)
		W(" --count %u", in->count);
	if (in->seed_given)
		W(" --seed %llu", (unsigned long long)in->seed);
#undef W
}

void fl_inject_print(const struct fl_inject *in, const struct fl_packet *pk, uint32_t sent,
		     struct fl_out *o)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], flow[160];
	bool v6 = pk->family == AF_INET6, tcp = pk->proto == IPPROTO_TCP;

	inet_ntop(pk->family, pk->src, s, sizeof(s));
	inet_ntop(pk->family, pk->dst, d, sizeof(d));
	snprintf(flow, sizeof(flow), "%s%s%s:%u -> %s%s%s:%u %s", v6 ? "[" : "", s, v6 ? "]" : "",
		 pk->sport, v6 ? "[" : "", d, v6 ? "]" : "", pk->dport, tcp ? "tcp" : "udp");
	fl_out_u64f(o, "packets", "injected %" PRIu64 " packet(s): ", sent);
	fl_out_strf(o, "flow", "%s", flow);
	fl_out_strf(o, "to", NULL, in->to);
	fl_out_strf(o, "from", NULL, s);
	fl_out_u64f(o, "sport", NULL, pk->sport);
	fl_out_u64f(o, "payload_bytes", ", %" PRIu64 " bytes of payload", pk->payload_len);
	if (tcp) {
		fl_out_u64f(o, "seq", ", seq %" PRIu64, pk->seq);
		fl_out_u64f(o, "ack", " ack %" PRIu64, pk->ack);
	}
	fl_out_u64f(o, "seed", " (seed %" PRIu64 ")", in->seed);
}
