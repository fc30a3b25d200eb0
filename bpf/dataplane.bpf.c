// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
/* The fallacy data plane: one tc (clsact, direct-action) program per
 * direction, attached to every fault point of a session namespace. It parses
 * the packet once, walks the rule table (include/fallacy/rule.h) with
 * bpf_loop and then applies what the matching rules decided: drop, reset,
 * corrupt, tamper, duplicate, replay, delay mark, rate class. Decisions use the counter-based
 * PRNG of include/fallacy/prng.h only.
 *
 * An ICMP "fragmentation needed" or ICMPv6 "packet too big" is first judged
 * by the packet it quotes: if that packet belongs to the path of an
 * mtu-blackhole rule, the message is dropped (nobody tells the sender its
 * packets are too big: a PMTUD black hole). Only mtu-blackhole rules act in
 * that walk; the message then goes through the rules as itself. */
#include "vmlinux.h"

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "fallacy/mark.h"
#include "fallacy/prng.h"
#include "fallacy/rule.h"

/* Pass, and let later filters on the hook run. */
#define TC_ACT_UNSPEC (-1)
#define TC_ACT_SHOT 2
#define TC_ACT_STOLEN 4
#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_ICMPV6_ 58
#define ICMP_DEST_UNREACH_ 3
#define ICMP_FRAG_NEEDED_ 4
#define ICMPV6_PKT_TOOBIG_ 2
#define IPV6_HLEN 40
/* the wire size of a packet quoted by a "packet too big" message: larger
 * than any rule's mtu, so an mtu-blackhole rule whose path it matches drops
 * the message */
#define FL_WIRE_QUOTED 0xffffffffu
/* eval.parsed: p is the packet a "packet too big" quotes (only
 * mtu-blackhole rules act) */
#define FL_QUOTED 2
#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_ACK 0x10
#define BPF_F_INGRESS_ 1
#define PORTS_LEN 4 /* source and destination port */
#define TCP_TO_FLAGS_LEN 14 /* ports, seq, ack, data offset, flags */
#define RST_TTL 64 /* Linux's default TTL / hop limit */
#define HDR8_LEN 8 /* the UDP header, and ICMP's up to its payload */
#define BPF_F_MARK_MANGLED_0_ (1ULL << 5)

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fl_conf);
} fl_conf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * FL_MAX_RULES);
	__type(key, __u32);
	__type(value, struct fl_rule);
} fl_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FL_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct fl_rule_state);
} fl_rstate SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FL_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct fl_counters);
} fl_counters SEC(".maps");

/* Each rule's lease (rule.h): the CLOCK_BOOTTIME ns its slot expires at,
 * written by the supervisor, renewed every lease/3. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FL_MAX_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} fl_lease SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FL_MAX_NODES);
	__type(key, struct fl_mac_key);
	__type(value, __u32);
} fl_nodes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FL_MAX_NODES);
	__type(key, __u32);
	__type(value, __u32);
} fl_node_mtu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * 2 * FL_IDX_NODES);
	__type(key, __u32);
	__type(value, struct fl_bits);
} fl_idx_node SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FL_IDX_PORT_MAX);
	__type(key, struct fl_port_key);
	__type(value, struct fl_bits);
} fl_idx_port SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, FL_ACCT_MAX);
	__type(key, struct fl_acct_key);
	__type(value, struct fl_acct_val);
} fl_acct SEC(".maps");

/* Ingress rate caps of a --netns/--pid session: the ifb (its ifindex)
 * that a link's (ifindex) capped packets are redirected to, set by the
 * rate kind with its tbf. A packet a rate rule with no class (classid 0)
 * matched goes there; the ifb shapes it and hands it back to the link's
 * receive path (past tc ingress). The rule's lease ends the redirect. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} fl_ifb SEC(".maps");

/* index of the lowest set bit: de Bruijn sequence 0x03f79d71b4cb0a89 */
static const __u8 debruijn[64] = {
	0,  1,	48, 2,	57, 49, 28, 3,	61, 58, 50, 42, 38, 29, 17, 4,	62, 55, 59, 36, 53, 51,
	43, 22, 45, 39, 33, 30, 24, 18, 12, 5,	63, 47, 56, 27, 60, 41, 37, 16, 54, 35, 52, 21,
	44, 32, 23, 11, 46, 26, 40, 15, 34, 20, 31, 10, 25, 14, 19, 9,	13, 8,	7,  6,
};

struct pkt {
	__u32 src[4], dst[4];
	__u32 src_node, dst_node;
	__u32 l4off, payoff, paylen, len;
	__u32 segs; /* wire packets: gso_segs of a super-packet, else 1 */
	/* bytes of each IP packet on the wire (a GSO packet: of one segment) */
	__u32 wire;
	__u16 sport, dport;
	__u8 family, proto, has_ports, tcp_flags;
};

/* What the matching rules decided; slots name the rule to count it on.
 * Kept small: run()'s frame and the deepest global function's share the
 * 512-byte stack (slots and rule keys are < 2^16, draws keep their high
 * half, the part decisions use). */
struct eval {
	struct pkt p;
	struct fl_bits cand;
	__u32 base, n;
	__u32 mark, classid;
	__u32 corrupt_draw, tamper_draw;
	__u16 drop_slot, reset_slot, dup_slot, corrupt_slot, tamper_slot, replay_slot;
	__u16 tamper_key, key;
	__u8 dir, drop, reset, dup, corrupt, marked, classed, tamper;
	__u8 replay, parsed;
};

static __always_inline int prefix_match(const __u8 *want, const __u32 *have, __u32 plen)
{
	const __u32 *w = (const __u32 *)want;

	for (int i = 0; i < 4; i++) {
		int bits = (int)plen - 32 * i;
		__u32 mask;

		if (bits <= 0)
			break;
		mask = bits >= 32 ? 0xffffffffu : bpf_htonl(~0u << (32 - bits));
		if ((w[i] ^ have[i]) & mask)
			return 0;
	}
	return 1;
}

static __always_inline int ep_match(const struct fl_endpoint *e, const __u32 *addr, __u32 node)
{
	if (e->use_nodes) {
		if (node >= FL_MAX_NODES)
			return 0;
		return (e->nodes[(node / 64) & (FL_NODE_WORDS - 1)] >> (node % 64)) & 1;
	}
	if (!e->plen)
		return 1;
	return prefix_match(e->addr, addr, e->plen);
}

static __always_inline int port_in(const struct fl_rule *r, __u16 port)
{
	return port >= r->port_lo && port <= r->port_hi;
}

static __always_inline int match_way(const struct fl_rule *r, const struct pkt *p, int swap)
{
	const __u32 *sa = swap ? p->dst : p->src, *da = swap ? p->src : p->dst;
	__u32 sn = swap ? p->dst_node : p->src_node, dn = swap ? p->src_node : p->dst_node;
	__u16 sp = swap ? p->dport : p->sport, dp = swap ? p->sport : p->dport;

	if (!ep_match(&r->src, sa, sn) || !ep_match(&r->dst, da, dn))
		return 0;
	switch (r->port_mode) {
	case FL_PORT_SRC:
		return port_in(r, sp);
	case FL_PORT_DST:
		return port_in(r, dp);
	case FL_PORT_EITHER:
		return port_in(r, sp) || port_in(r, dp);
	}
	return 1;
}

/* Global functions are verified once, on their own: this keeps the rule loop
 * far below the verifier's complexity limit. */
__attribute__((noinline)) int fl_rule_match(const struct fl_rule *r, const struct pkt *p, __u32 dir)
{
	if (!r || !p)
		return 0;
	if (!(r->dir & dir))
		return 0;
	if (r->family && r->family != p->family)
		return 0;
	if (r->proto && r->proto != p->proto)
		return 0;
	if (r->port_mode && !p->has_ports)
		return 0;
	if (match_way(r, p, 0))
		return 1;
	return (r->flags & FL_RULE_BIDIR) && match_way(r, p, 1);
}

/* netem's Gilbert-Elliott step: move state, then lose with the probability
 * of the state the packet arrived in. The move is a compare-and-swap, so two
 * CPUs never both move the state on one old value. */
static __always_inline int ge_lose(const struct fl_rule *r, struct fl_rule_state *st, __u64 seq)
{
	__u64 move = fl_prng(r->seed, r->prng_id, FL_STREAM_GE_STATE, seq);
	__u64 lose = fl_prng(r->seed, r->prng_id, FL_STREAM_LOSS, seq);
	__u32 old = st->ge_state;

	if (old == FL_GE_GOOD) {
		if (fl_chance(move, r->ge_p))
			__sync_val_compare_and_swap(&st->ge_state, old, FL_GE_BAD);
		return fl_chance(lose, r->ge_good_loss);
	}
	if (fl_chance(move, r->ge_r))
		__sync_val_compare_and_swap(&st->ge_state, old, FL_GE_GOOD);
	return fl_chance(lose, r->ge_bad_loss);
}

/* Returns 1 when the packet is gone (stop evaluating). */
__attribute__((noinline)) int fl_act(const struct fl_rule *r, struct eval *ev,
				     struct fl_rule_state *st, struct fl_counters *c, __u64 seq)
{
	__u32 slot;
	__u64 d;

	if (!r || !ev || !st || !c)
		return 1;
	slot = r->slot;
	switch (r->kind) {
	case FL_KIND_LOSS:
	case FL_KIND_DROP:
		/* a super-packet (offloads kept on: --netns, --pid) is lost
		 * when one of its segments would be */
		if (r->kind == FL_KIND_LOSS &&
		    !fl_chance(fl_prng(r->seed, r->prng_id, FL_STREAM_LOSS, seq),
			       fl_prob_any(r->prob, ev->p.segs)))
			return 0;
		goto drop;
	case FL_KIND_GEMODEL:
		if (!ge_lose(r, st, seq))
			return 0;
		goto drop;
	case FL_KIND_RESET:
		if (ev->p.proto != IPPROTO_TCP_ || (ev->p.tcp_flags & TCPF_RST) ||
		    !fl_chance(fl_prng(r->seed, r->prng_id, FL_STREAM_RESET, seq), r->prob))
			return 0;
		ev->reset = 1;
		ev->reset_slot = slot;
		return 1;
	case FL_KIND_DUPLICATE:
		if (!ev->dup &&
		    fl_chance(fl_prng(r->seed, r->prng_id, FL_STREAM_DUPLICATE, seq), r->prob)) {
			ev->dup = 1;
			ev->dup_slot = slot;
		}
		return 0;
	case FL_KIND_CORRUPT:
		if (!ev->corrupt &&
		    fl_chance(fl_prng(r->seed, r->prng_id, FL_STREAM_CORRUPT, seq), r->prob)) {
			ev->corrupt = 1;
			ev->corrupt_slot = slot;
			ev->corrupt_draw =
				fl_prng(r->seed, r->prng_id, FL_STREAM_CORRUPT_BIT, seq) >> 32;
		}
		return 0;
	case FL_KIND_TAMPER:
		if (!ev->tamper &&
		    fl_chance(fl_prng(r->seed, r->prng_id, FL_STREAM_TAMPER, seq), r->prob)) {
			ev->tamper = 1;
			ev->tamper_slot = slot;
			ev->tamper_key = ev->key;
			ev->tamper_draw = fl_prng(r->seed, r->prng_id, FL_STREAM_TAMPER_POS, seq) >>
					  32;
		}
		return 0;
	case FL_KIND_REPLAY:
		/* copies wait in the delay line, which sits on the receive
		 * path: only what arrives at a fault point is replayed */
		if (!ev->replay && ev->dir == FL_DIR_INGRESS &&
		    fl_chance(fl_prng(r->seed, r->prng_id, FL_STREAM_REPLAY, seq), r->prob)) {
			ev->replay = 1;
			ev->replay_slot = slot;
		}
		return 0;
	case FL_KIND_DELAY:
		d = fl_prng(r->seed, r->prng_id, FL_STREAM_DELAY, seq);
		if (!ev->marked && fl_chance(d, r->prob)) {
			ev->marked = 1;
			ev->mark = FL_MARK_DELAY | (slot & FL_MARK_SLOT_MASK);
			c->delayed += ev->p.segs;
		}
		return 0;
	case FL_KIND_MTU_BLACKHOLE:
		if (ev->p.wire <= r->mtu)
			return 0;
		goto drop;
	case FL_KIND_RATE:
		if (!ev->classed) {
			ev->classed = 1;
			ev->classid = r->classid;
			c->shaped += ev->p.segs;
		}
		return 0;
	}
	return 0;
drop:
	ev->drop = 1;
	ev->drop_slot = slot;
	c->dropped += ev->p.segs;
	return 1;
}

/* Try rule i of the active generation; 1 when the packet is gone. */
__attribute__((noinline)) int fl_eval(struct eval *ev, __u32 i)
{
	struct fl_rule_state *st;
	struct fl_counters *c;
	struct fl_rule *r;
	__u64 seq, *expires;
	__u32 key, slot;

	if (!ev)
		return 1;
	key = ev->base + i;
	ev->key = key;
	r = bpf_map_lookup_elem(&fl_rules, &key);
	if (!r)
		return 1;
	if (ev->parsed == FL_QUOTED && r->kind != FL_KIND_MTU_BLACKHOLE)
		return 0;
	if (!fl_rule_match(r, &ev->p, ev->dir))
		return 0;
	slot = r->slot;
	/* an expired (or never leased) rule is absent: a dead supervisor's
	 * faults stop by themselves */
	expires = bpf_map_lookup_elem(&fl_lease, &slot);
	if (!expires || (*expires != FL_LEASE_NEVER && bpf_ktime_get_boot_ns() >= *expires))
		return 0;
	st = bpf_map_lookup_elem(&fl_rstate, &slot);
	c = bpf_map_lookup_elem(&fl_counters, &slot);
	if (!st || !c)
		return 0;
	/* a super-packet takes the sequence numbers of its segments */
	seq = __sync_fetch_and_add(&st->seq, ev->p.segs);
	c->packets += ev->p.segs;
	c->bytes += ev->p.len;
	return fl_act(r, ev, st, c, seq) ? 1 : 0;
}

/* The candidate rules of one 64-rule word, lowest position first. */
static long word_cb(__u32 w, void *data)
{
	struct eval *ev = data;
	__u64 bits, low;
	__u32 i;

	if (w >= FL_RULE_WORDS)
		return 1;
	bits = ev->cand.w[w];
	for (int k = 0; k < 64 && bits; k++) {
		low = bits & -bits;
		bits &= bits - 1;
		i = w * 64 + debruijn[((low * 0x03f79d71b4cb0a89ULL) >> 58) & 63];
		if (i >= ev->n || fl_eval(ev, i))
			return 1;
	}
	return 0;
}

static __always_inline const struct fl_bits *port_bits(__u16 port, __u8 side, __u32 gen)
{
	struct fl_port_key k = { .port = port, .side = side, .gen = (__u8)gen };

	return bpf_map_lookup_elem(&fl_idx_port, &k);
}

/* ev->cand = node index (source & destination) & port index. */
static __always_inline int candidates(struct eval *ev, const struct fl_conf *conf, __u32 gen)
{
	__u32 sn = ev->p.src_node < FL_MAX_NODES ? ev->p.src_node : FL_MAX_NODES;
	__u32 dn = ev->p.dst_node < FL_MAX_NODES ? ev->p.dst_node : FL_MAX_NODES;
	__u32 ks = FL_IDX_NODE(gen, 0, sn), kd = FL_IDX_NODE(gen, 1, dn);
	const struct fl_bits *s, *d, *ps = NULL, *pd = NULL;
	__u64 any = 0;

	s = bpf_map_lookup_elem(&fl_idx_node, &ks);
	d = bpf_map_lookup_elem(&fl_idx_node, &kd);
	if (!s || !d)
		return -1;
	for (int w = 0; w < FL_RULE_WORDS; w++)
		any |= s->w[w] & d->w[w];
	if (!any) /* no rule for this pair of endpoints: skip the port lookups */
		return -1;
	any = 0;
	if (ev->p.has_ports && (conf->flags & (FL_CONF_PORTS0 << gen))) {
		ps = port_bits(ev->p.sport, 0, gen);
		pd = port_bits(ev->p.dport, 1, gen);
	}
	for (int w = 0; w < FL_RULE_WORDS; w++) {
		__u64 port = conf->port_any[gen].w[w];

		if (ps)
			port |= ps->w[w];
		if (pd)
			port |= pd->w[w];
		ev->cand.w[w] = s->w[w] & d->w[w] & port;
		any |= ev->cand.w[w];
	}
	return any ? 0 : -1;
}

/* Whether an mtu-blackhole rule drops a "packet too big" quoting ev's packet
 * (the one the data plane is about to send for a small link). */
static __always_inline int quoted_dropped(struct eval *ev, const struct fl_conf *conf, __u32 gen)
{
	ev->parsed = FL_QUOTED;
	ev->p.wire = FL_WIRE_QUOTED;
	if (!candidates(ev, conf, gen & 1))
		bpf_loop(FL_RULE_WORDS, word_cb, ev, 0);
	return ev->drop;
}

/* Ports (and for TCP the flags and header length) with one load. */
static __always_inline void set_ports(struct __sk_buff *skb, struct pkt *p)
{
	struct {
		__u16 sport, dport;
		__u32 seq, ack;
		__u8 doff, flags;
	} h;

	if (p->proto == IPPROTO_TCP_) {
		if (bpf_skb_load_bytes(skb, p->l4off, &h, TCP_TO_FLAGS_LEN))
			return;
		p->tcp_flags = h.flags;
		p->payoff = p->l4off + (h.doff >> 4) * 4;
	} else if (p->proto == IPPROTO_UDP_) {
		if (bpf_skb_load_bytes(skb, p->l4off, &h, PORTS_LEN))
			return;
		p->payoff = p->l4off + HDR8_LEN;
	} else {
		if (p->proto == IPPROTO_ICMP_ || p->proto == IPPROTO_ICMPV6_)
			p->payoff = p->l4off + HDR8_LEN;
		return;
	}
	p->sport = bpf_ntohs(h.sport);
	p->dport = bpf_ntohs(h.dport);
	p->has_ports = 1;
}

static __always_inline int parse_v4(struct __sk_buff *skb, struct pkt *p)
{
	struct iphdr ip;

	if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)))
		return -1;
	p->family = FL_FAM_IPV4;
	p->proto = ip.protocol;
	p->src[0] = ip.saddr;
	p->dst[0] = ip.daddr;
	p->wire = bpf_ntohs(ip.tot_len);
	if (ip.frag_off & bpf_htons(0x1fff))
		return 0; /* not the first fragment: no transport header */
	p->l4off = ETH_HLEN + ip.ihl * 4;
	set_ports(skb, p);
	return 0;
}

static __always_inline int parse_v6(struct __sk_buff *skb, struct pkt *p)
{
	struct ipv6hdr ip6;

	if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip6, sizeof(ip6)))
		return -1;
	p->family = FL_FAM_IPV6;
	p->proto = ip6.nexthdr; /* extension headers are not walked */
	__builtin_memcpy(p->src, &ip6.saddr, 16);
	__builtin_memcpy(p->dst, &ip6.daddr, 16);
	p->wire = IPV6_HLEN + bpf_ntohs(ip6.payload_len);
	p->l4off = ETH_HLEN + sizeof(ip6);
	set_ports(skb, p);
	return 0;
}

static __always_inline __u32 node_of(const __u8 *mac)
{
	struct fl_mac_key k = {};
	__u32 *idx;

	__builtin_memcpy(k.mac, mac, 6);
	idx = bpf_map_lookup_elem(&fl_nodes, &k);
	return idx ? *idx : FL_NO_NODE;
}

static __always_inline int parse(struct __sk_buff *skb, struct pkt *p, __u32 flags)
{
	int err;

	p->len = skb->len;
	p->segs = skb->gso_size && skb->gso_segs > 1 ? skb->gso_segs : 1;
	if (skb->protocol == bpf_htons(ETH_P_IP))
		err = parse_v4(skb, p);
	else if (skb->protocol == bpf_htons(ETH_P_IPV6))
		err = parse_v6(skb, p);
	else
		return -1;
	if (err)
		return err;
	if (p->payoff && p->payoff < p->len)
		p->paylen = p->len - p->payoff;
	/* A GSO packet (offloads on: attach mode) stands for segments of
	 * gso_size payload bytes, each with the headers: that is their size on
	 * the wire. Lab nodes have TSO/GSO off once a fault exists. */
	if (skb->gso_segs > 1 && skb->gso_size && p->payoff > ETH_HLEN)
		p->wire = p->payoff - ETH_HLEN + skb->gso_size;
	p->src_node = p->dst_node = FL_NO_NODE;
	if (flags & FL_CONF_NODES) {
		__u8 macs[12]; /* destination, then source: the hop's nodes */

		if (bpf_skb_load_bytes(skb, 0, macs, sizeof(macs)))
			return -1;
		p->dst_node = node_of(macs);
		p->src_node = node_of(macs + 6);
	}
	return 0;
}

/* The packet an ICMP "fragmentation needed" / ICMPv6 "packet too big"
 * quotes, into p (addresses, protocol, ports, nodes): the original packet of
 * the path the message reports on. Its wire size is FL_WIRE_QUOTED.
 * Returns 0, or -1 for any other packet (p unchanged) or a quote too short
 * to tell. */
__attribute__((noinline)) int fl_parse_quoted(struct __sk_buff *skb, struct pkt *p)
{
	__u32 off, l4;
	__u16 ports[2];
	__u8 tc[2];

	if (!skb || !p || !p->payoff || bpf_skb_load_bytes(skb, p->l4off, tc, 2))
		return -1;
	if (p->proto == IPPROTO_ICMP_ ? tc[0] != ICMP_DEST_UNREACH_ || tc[1] != ICMP_FRAG_NEEDED_ :
					p->proto != IPPROTO_ICMPV6_ || tc[0] != ICMPV6_PKT_TOOBIG_)
		return -1;
	off = p->l4off + 8;
	if (p->family == FL_FAM_IPV4) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, off, &ip, sizeof(ip)))
			return -1;
		p->src[0] = ip.saddr;
		p->dst[0] = ip.daddr;
		p->proto = ip.protocol;
		l4 = ip.frag_off & bpf_htons(0x1fff) ? 0 : off + ip.ihl * 4;
	} else {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, off, &ip6, sizeof(ip6)))
			return -1;
		__builtin_memcpy(p->src, &ip6.saddr, 16);
		__builtin_memcpy(p->dst, &ip6.daddr, 16);
		p->proto = ip6.nexthdr;
		l4 = off + IPV6_HLEN;
	}
	p->has_ports = 0;
	p->wire = FL_WIRE_QUOTED;
	if (l4 && (p->proto == IPPROTO_TCP_ || p->proto == IPPROTO_UDP_) &&
	    !bpf_skb_load_bytes(skb, l4, ports, sizeof(ports))) {
		p->sport = bpf_ntohs(ports[0]);
		p->dport = bpf_ntohs(ports[1]);
		p->has_ports = 1;
	}
	/* the quoted packet went the other way on this hop (nodes are known by
	 * the frame's MACs, see fl_mac_key) */
	off = p->src_node;
	p->src_node = p->dst_node;
	p->dst_node = off;
	return 0;
}

/* The packet itself again, after its quote was looked at. Global: its
 * stack frame stays out of the program's main frame. */
__attribute__((noinline)) int fl_reparse(struct __sk_buff *skb, struct pkt *p, __u32 flags)
{
	if (!skb || !p)
		return -1;
	__builtin_memset(p, 0, sizeof(*p));
	return parse(skb, p, flags);
}

static __always_inline void acct_add(struct fl_acct_val *cur, const struct fl_acct_val *v)
{
	cur->packets += v->packets;
	cur->bytes += v->bytes;
	cur->payload += v->payload;
}

/* Transport accounting (rule.h): one per-CPU hash lookup per packet; a new
 * key is inserted with its first packet, or counted under the "map full"
 * entry. ip: p was parsed (an IPv4 or IPv6 packet). Global: its stack
 * frame is not added to the one of the reset path. */
__attribute__((noinline)) int fl_account(struct __sk_buff *skb, const struct pkt *p, int ip)
{
	struct fl_acct_key k = { .src = FL_ACCT_OTHER, .dst = FL_ACCT_OTHER };
	struct fl_acct_val v = { .packets = 1, .bytes = skb->len };
	struct fl_acct_val *cur;
	__u32 hdr;

	if (!skb || !p)
		return 0;
	if (ip) {
		k.family = p->family;
		k.proto = p->proto;
		if (p->src_node < FL_MAX_NODES)
			k.src = (__u16)p->src_node;
		if (p->dst_node < FL_MAX_NODES)
			k.dst = (__u16)p->dst_node;
		v.payload = p->paylen;
		/* a super-packet: the segments it stands for, each with
		 * its own copy of the headers */
		if (skb->gso_size && skb->gso_segs > 1) {
			hdr = p->payoff ? p->payoff : p->l4off ? p->l4off : ETH_HLEN;
			v.packets = skb->gso_segs;
			v.bytes += (__u64)(skb->gso_segs - 1) * hdr;
		}
	}
	cur = bpf_map_lookup_elem(&fl_acct, &k);
	if (cur) {
		acct_add(cur, &v);
		return 0;
	}
	if (!bpf_map_update_elem(&fl_acct, &k, &v, BPF_NOEXIST))
		return 0;
	cur = bpf_map_lookup_elem(&fl_acct, &k); /* another CPU made it */
	if (!cur) {
		k = (struct fl_acct_key){ .src = FL_ACCT_OTHER,
					  .dst = FL_ACCT_OTHER,
					  .family = FL_ACCT_FULL_FAMILY };
		cur = bpf_map_lookup_elem(&fl_acct, &k);
	}
	if (cur)
		acct_add(cur, &v);
	return 0;
}

/* Counters are in wire packets: a super-packet adds its segments. */
static __always_inline void count(__u32 slot, int what, __u32 segs)
{
	struct fl_counters *c = bpf_map_lookup_elem(&fl_counters, &slot);

	if (!c)
		return;
	if (what == FL_KIND_CORRUPT)
		c->corrupted += segs;
	else if (what == FL_KIND_TAMPER)
		c->tampered += segs;
	else if (what == FL_KIND_REPLAY)
		c->replayed += segs;
	else if (what == FL_KIND_DUPLICATE)
		c->duplicated += segs;
	else if (what == FL_KIND_RESET)
		c->reset += segs;
	else
		c->dropped += segs;
}

static __always_inline void do_corrupt(struct __sk_buff *skb, struct eval *ev)
{
	__u64 bits = (__u64)ev->p.paylen * 8;
	__u64 bit = ((__u64)ev->corrupt_draw * bits) >> 32;
	__u32 off = ev->p.payoff + (__u32)(bit / 8);
	__u8 b;

	if (!ev->p.paylen || bpf_skb_load_bytes(skb, off, &b, 1))
		return;
	b ^= 1 << (bit & 7);
	if (!bpf_skb_store_bytes(skb, off, &b, 1, 0))
		count(ev->corrupt_slot, FL_KIND_CORRUPT, ev->p.segs);
}

/* Where the transport checksum lives; 0 when the protocol has none known. */
static __always_inline __u32 l4_csum_off(const struct pkt *p)
{
	switch (p->proto) {
	case IPPROTO_TCP_:
		return p->l4off + __builtin_offsetof(struct tcphdr, check);
	case IPPROTO_UDP_:
		return p->l4off + __builtin_offsetof(struct udphdr, check);
	case IPPROTO_ICMP_:
	case IPPROTO_ICMPV6_:
		return p->l4off + __builtin_offsetof(struct icmphdr, checksum);
	}
	return 0;
}

/* Rewrite the rule's bytes (or invert one byte) at the payload offset and
 * update the transport checksum by the difference of each byte's 16-bit
 * word (RFC 1624), so the receiver's kernel accepts the packet. A packet
 * whose checksum is not computed yet (CHECKSUM_PARTIAL) needs nothing: the
 * helper leaves its field alone and the sum is taken over the new bytes.
 * The IP header is not touched. Global: verified once, on its own. */
__attribute__((noinline)) int fl_tamper(struct __sk_buff *skb, struct eval *ev)
{
	__u32 key, n, pos, base, csum, paylen, rel;
	__u64 flags;
	struct fl_rule *r;
	__u8 b, nb;

	if (!skb || !ev)
		return 0;
	key = ev->tamper_key;
	r = bpf_map_lookup_elem(&fl_rules, &key);
	paylen = ev->p.paylen;
	csum = l4_csum_off(&ev->p);
	if (!r || !csum || !paylen)
		return 0;
	n = r->tamper_len ? r->tamper_len : 1;
	if (n > FL_TAMPER_MAX || n > paylen)
		return 0;
	if (r->tamper_off == FL_TAMPER_SEEDED)
		pos = (__u32)(((__u64)ev->tamper_draw * (paylen - n + 1)) >> 32);
	else if (r->tamper_off > paylen - n)
		return 0;
	else
		pos = r->tamper_off;
	flags = 2 | (ev->p.proto == IPPROTO_UDP_ ? BPF_F_MARK_MANGLED_0_ : 0);
	base = ev->p.payoff + pos;
	for (__u32 i = 0; i < FL_TAMPER_MAX && i < n; i++) {
		if (bpf_skb_load_bytes(skb, base + i, &b, 1))
			return 0;
		nb = r->tamper_len ? r->tamper[i] : (__u8)~b;
		if (nb == b)
			continue;
		if (bpf_skb_store_bytes(skb, base + i, &nb, 1, 0))
			return 0;
		/* the byte's place in its 16-bit word of the checksummed data */
		rel = (base + i - ev->p.l4off) & 1;
		bpf_l4_csum_replace(skb, csum, rel ? (__u64)b << 8 : b, rel ? (__u64)nb << 8 : nb,
				    flags);
	}
	count(ev->tamper_slot, FL_KIND_TAMPER, ev->p.segs);
	return 0;
}

/* A copy goes back into the same hook marked for the replay rule's delay
 * line slot; the original goes on at once. */
static __always_inline void do_replay(struct __sk_buff *skb, struct eval *ev)
{
	__u32 mark = skb->mark;

	skb->mark = FL_MARK_REPLAY | (ev->replay_slot & FL_MARK_SLOT_MASK);
	if (!bpf_clone_redirect(skb, skb->ifindex, BPF_F_INGRESS_))
		count(ev->replay_slot, FL_KIND_REPLAY, ev->p.segs);
	skb->mark = mark;
}

static __always_inline void do_duplicate(struct __sk_buff *skb, struct eval *ev)
{
	__u32 mark = skb->mark;

	skb->mark = FL_MARK_CLONE;
	if (!bpf_clone_redirect(skb, skb->ifindex, ev->dir == FL_DIR_INGRESS ? BPF_F_INGRESS_ : 0))
		count(ev->dup_slot, FL_KIND_DUPLICATE, ev->p.segs);
	skb->mark = mark;
}

/* Aligned on the stack, stored piecewise at 0, ETH_HLEN and ETH_HLEN + ip. */
struct rst4 {
	struct ethhdr eth;
	__u16 pad;
	struct iphdr ip;
	struct tcphdr tcp;
};

struct rst6 {
	struct ethhdr eth;
	__u16 pad;
	struct ipv6hdr ip6;
	struct tcphdr tcp;
};

#define RST4_LEN (ETH_HLEN + sizeof(struct iphdr) + sizeof(struct tcphdr))
#define RST6_LEN (ETH_HLEN + sizeof(struct ipv6hdr) + sizeof(struct tcphdr))

struct pseudo4 {
	__u32 saddr, daddr;
	__u8 zero, proto;
	__u16 len;
};

/* The IPv6 pseudo header after the two addresses (which are summed where
 * they lie in the new header). */
struct pseudo6_tail {
	__u32 len;
	__u8 zero[3], proto;
};

static __always_inline __u16 csum_fold(__s64 sum)
{
	__u64 s = (__u64)sum;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

/* The RST that answers seg (RFC 9293 3.10.7.1): if seg has ACK,
 * <SEQ=SEG.ACK><CTL=RST>, else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
 * Ports and the Ethernet addresses are swapped. */
static __always_inline void rst_tcp(struct tcphdr *t, const struct tcphdr *seg, __u32 seglen)
{
	__builtin_memset(t, 0, sizeof(*t));
	t->source = seg->dest;
	t->dest = seg->source;
	t->doff = 5;
	t->rst = 1;
	if (seg->ack) {
		t->seq = seg->ack_seq;
	} else {
		t->ack = 1;
		t->ack_seq = bpf_htonl(bpf_ntohl(seg->seq) + seglen + seg->syn + seg->fin);
	}
}

/* The peer's answer: the Ethernet addresses swapped. Everything is
 * loaded straight into the new headers (fl_reset's frame and run()'s share
 * the 512-byte stack). */
static __always_inline int rst_eth(struct __sk_buff *skb, struct ethhdr *e)
{
	return bpf_skb_load_bytes(skb, 0, e->h_source, 6) ||
	       bpf_skb_load_bytes(skb, 6, e->h_dest, 6) ||
	       bpf_skb_load_bytes(skb, 12, &e->h_proto, 2);
}

static __always_inline int rst_build4(struct __sk_buff *skb, struct eval *ev, struct rst4 *r)
{
	struct pseudo4 ph = {};
	struct tcphdr seg;
	__u32 saddr, daddr;
	__s64 sum;

	if (rst_eth(skb, &r->eth) || bpf_skb_load_bytes(skb, ETH_HLEN, &r->ip, sizeof(r->ip)) ||
	    bpf_skb_load_bytes(skb, ev->p.l4off, &seg, sizeof(seg)))
		return -1;
	rst_tcp(&r->tcp, &seg, bpf_ntohs(r->ip.tot_len) - r->ip.ihl * 4 - seg.doff * 4);
	saddr = r->ip.saddr;
	daddr = r->ip.daddr;
	__builtin_memset(&r->ip, 0, sizeof(r->ip));
	r->ip.version = 4;
	r->ip.ihl = 5;
	r->ip.tot_len = bpf_htons(sizeof(r->ip) + sizeof(r->tcp));
	r->ip.frag_off = bpf_htons(0x4000);
	r->ip.ttl = RST_TTL;
	r->ip.protocol = IPPROTO_TCP_;
	r->ip.saddr = daddr;
	r->ip.daddr = saddr;
	r->ip.check = csum_fold(bpf_csum_diff(0, 0, (__be32 *)&r->ip, sizeof(r->ip), 0));
	ph.saddr = r->ip.saddr;
	ph.daddr = r->ip.daddr;
	ph.proto = IPPROTO_TCP_;
	ph.len = bpf_htons(sizeof(r->tcp));
	sum = bpf_csum_diff(0, 0, (__be32 *)&ph, sizeof(ph), 0);
	r->tcp.check = csum_fold(bpf_csum_diff(0, 0, (__be32 *)&r->tcp, sizeof(r->tcp), sum));
	return 0;
}

static __always_inline int rst_build6(struct __sk_buff *skb, struct eval *ev, struct rst6 *r)
{
	struct pseudo6_tail ph = {};
	struct tcphdr seg;
	__u16 plen;
	__s64 sum;

	if (rst_eth(skb, &r->eth) ||
	    bpf_skb_load_bytes(skb, ETH_HLEN + __builtin_offsetof(struct ipv6hdr, payload_len),
			       &plen, sizeof(plen)) ||
	    bpf_skb_load_bytes(skb, ETH_HLEN + __builtin_offsetof(struct ipv6hdr, saddr),
			       &r->ip6.daddr, sizeof(r->ip6.daddr)) ||
	    bpf_skb_load_bytes(skb, ETH_HLEN + __builtin_offsetof(struct ipv6hdr, daddr),
			       &r->ip6.saddr, sizeof(r->ip6.saddr)) ||
	    bpf_skb_load_bytes(skb, ev->p.l4off, &seg, sizeof(seg)))
		return -1;
	rst_tcp(&r->tcp, &seg, bpf_ntohs(plen) - seg.doff * 4);
	/* everything before the addresses */
	__builtin_memset(&r->ip6, 0, __builtin_offsetof(struct ipv6hdr, saddr));
	r->ip6.version = 6;
	r->ip6.payload_len = bpf_htons(sizeof(r->tcp));
	r->ip6.nexthdr = IPPROTO_TCP_;
	r->ip6.hop_limit = RST_TTL;
	ph.len = bpf_htonl(sizeof(r->tcp));
	ph.proto = IPPROTO_TCP_;
	sum = bpf_csum_diff(0, 0, (__be32 *)&r->ip6.saddr, 2 * sizeof(r->ip6.saddr), 0);
	sum = bpf_csum_diff(0, 0, (__be32 *)&ph, sizeof(ph), sum);
	r->tcp.check = csum_fold(bpf_csum_diff(0, 0, (__be32 *)&r->tcp, sizeof(r->tcp), sum));
	return 0;
}

/* Turn the segment into the RST its sender would get from the peer and
 * send it back where it came from; the segment itself never arrives. */
/* Global: its stack frame is not added to the rule walk's call chain. */
__attribute__((noinline)) int fl_reset(struct __sk_buff *skb, struct eval *ev)
{
	union { /* one of them: the frame stays small */
		struct rst4 r4;
		struct rst6 r6;
	} r;
	__u64 flags;
	int gone;

	if (!skb || !ev)
		return TC_ACT_SHOT;
	flags = ev->dir == FL_DIR_EGRESS ? BPF_F_INGRESS_ : 0;
	gone = ev->dir == FL_DIR_EGRESS ? TC_ACT_STOLEN : TC_ACT_SHOT;
	if (ev->p.family == FL_FAM_IPV4) {
		if (rst_build4(skb, ev, &r.r4) || bpf_skb_change_tail(skb, RST4_LEN, 0) ||
		    bpf_skb_store_bytes(skb, 0, &r.r4.eth, ETH_HLEN, 0) ||
		    bpf_skb_store_bytes(skb, ETH_HLEN, &r.r4.ip, sizeof(r.r4.ip), 0) ||
		    bpf_skb_store_bytes(skb, ETH_HLEN + sizeof(r.r4.ip), &r.r4.tcp,
					sizeof(r.r4.tcp), 0))
			goto fail;
	} else {
		if (rst_build6(skb, ev, &r.r6) || bpf_skb_change_tail(skb, RST6_LEN, 0) ||
		    bpf_skb_store_bytes(skb, 0, &r.r6.eth, ETH_HLEN, 0) ||
		    bpf_skb_store_bytes(skb, ETH_HLEN, &r.r6.ip6, sizeof(r.r6.ip6), 0) ||
		    bpf_skb_store_bytes(skb, ETH_HLEN + sizeof(r.r6.ip6), &r.r6.tcp,
					sizeof(r.r6.tcp), 0))
			goto fail;
	}
	count(ev->reset_slot, FL_KIND_RESET, ev->p.segs);
	return bpf_redirect(skb->ifindex, flags);
fail:
	count(ev->reset_slot, FL_KIND_LOSS, ev->p.segs);
	return gone;
}

/* ---- a link MTU smaller than the packet ----------------------------------
 * What the router in front of a small-MTU link says: ICMP "fragmentation
 * needed" (IPv4 with DF; RFC 792/1191) or ICMPv6 "packet too big" (RFC
 * 4443) with the link's MTU, sent back to the sender from the destination's
 * address; the packet itself is dropped. IPv4 packets without DF pass and
 * are dropped by the bridge at the smaller port, as a switch would. */
#define TOO_BIG4_INNER 28 /* the IPv4 header (no options) + 8 bytes */
#define TOO_BIG6_INNER 48 /* the IPv6 header + 8 bytes */

struct too_big4 {
	struct iphdr ip;
	__u8 type, code;
	__u16 csum, unused, mtu;
	__u8 inner[TOO_BIG4_INNER];
};

struct too_big6 {
	struct ipv6hdr ip6;
	__u8 type, code;
	__u16 csum;
	__u32 mtu;
	__u8 inner[TOO_BIG6_INNER];
};

/* The MTU of the destination's link when the packet is bigger. A GSO
 * super-packet (the lab keeps its offloads until its first fault) is
 * judged by the segments it stands for (p.wire, see parse), as the bridge
 * in front of the link does (skb_gso_validate_network_len). IPv4 without
 * DF passes (0): the bridge drops it at the smaller port. */
static __always_inline __u32 link_mtu(struct __sk_buff *skb, const struct eval *ev)
{
	__u32 node = ev->p.dst_node, *mtu;
	__u16 frag;

	if (node >= FL_MAX_NODES)
		return 0;
	mtu = bpf_map_lookup_elem(&fl_node_mtu, &node);
	if (!mtu || !*mtu || ev->p.wire <= *mtu)
		return 0;
	if (ev->p.family == FL_FAM_IPV4 &&
	    (bpf_skb_load_bytes(skb, ETH_HLEN + 6, &frag, sizeof(frag)) ||
	     !(frag & bpf_htons(0x4000))))
		return 0;
	return *mtu;
}

static __always_inline int too_big4(struct __sk_buff *skb, struct too_big4 *t, __u32 mtu)
{
	struct iphdr *in = (struct iphdr *)t->inner;

	__builtin_memset(t, 0, sizeof(*t));
	if (bpf_skb_load_bytes(skb, ETH_HLEN, t->inner, sizeof(t->inner)) || in->ihl != 5)
		return -1;
	t->ip.version = 4;
	t->ip.ihl = 5;
	t->ip.tos = 0xc0;
	t->ip.tot_len = bpf_htons(sizeof(*t));
	t->ip.ttl = 64;
	t->ip.protocol = IPPROTO_ICMP_;
	t->ip.saddr = in->daddr;
	t->ip.daddr = in->saddr;
	t->ip.check = csum_fold(bpf_csum_diff(0, 0, (__be32 *)&t->ip, sizeof(t->ip), 0));
	t->type = ICMP_DEST_UNREACH_;
	t->code = ICMP_FRAG_NEEDED_;
	t->mtu = bpf_htons((__u16)mtu);
	t->csum = csum_fold(bpf_csum_diff(0, 0, (__be32 *)&t->type, 8 + sizeof(t->inner), 0));
	return 0;
}

static __always_inline int too_big6(struct __sk_buff *skb, struct too_big6 *t, __u32 mtu)
{
	struct ipv6hdr *in = (struct ipv6hdr *)t->inner;
	__u32 tail[2] = { bpf_htonl(8 + sizeof(t->inner)), bpf_htonl(IPPROTO_ICMPV6_) };
	__s64 sum;

	__builtin_memset(t, 0, sizeof(*t));
	if (bpf_skb_load_bytes(skb, ETH_HLEN, t->inner, sizeof(t->inner)))
		return -1;
	t->ip6.version = 6;
	t->ip6.payload_len = bpf_htons(8 + sizeof(t->inner));
	t->ip6.nexthdr = IPPROTO_ICMPV6_;
	t->ip6.hop_limit = 64;
	t->ip6.saddr = in->daddr;
	t->ip6.daddr = in->saddr;
	t->type = ICMPV6_PKT_TOOBIG_;
	t->mtu = bpf_htonl(mtu);
	/* pseudo-header: the two addresses (contiguous in t), length, next header */
	sum = bpf_csum_diff(0, 0, (__be32 *)&t->ip6.saddr, 32, 0);
	sum = bpf_csum_diff(0, 0, (__be32 *)tail, sizeof(tail), sum);
	t->csum = csum_fold(bpf_csum_diff(0, 0, (__be32 *)&t->type, 8 + sizeof(t->inner), sum));
	return 0;
}

/* The Ethernet header turned around, in place. */
static __always_inline int swap_eth(struct __sk_buff *skb)
{
	struct ethhdr e;
	__u8 tmp[6];

	if (bpf_skb_load_bytes(skb, 0, &e, sizeof(e)))
		return -1;
	__builtin_memcpy(tmp, e.h_dest, 6);
	__builtin_memcpy(e.h_dest, e.h_source, 6);
	__builtin_memcpy(e.h_source, tmp, 6);
	return bpf_skb_store_bytes(skb, 0, &e, ETH_HLEN, 0);
}

/* Globals, verified once each on their own (and never on one stack
 * together); they return the tc verdict. */
__attribute__((noinline)) int fl_too_big4(struct __sk_buff *skb, __u32 mtu)
{
	struct too_big4 t;

	if (!skb)
		return TC_ACT_SHOT;
	if (too_big4(skb, &t, mtu))
		return TC_ACT_UNSPEC; /* IP options: the bridge drops it */
	if (swap_eth(skb) || bpf_skb_change_tail(skb, ETH_HLEN + sizeof(t), 0) ||
	    bpf_skb_store_bytes(skb, ETH_HLEN, &t, sizeof(t), 0))
		return TC_ACT_SHOT;
	return bpf_redirect(skb->ifindex, 0);
}

__attribute__((noinline)) int fl_too_big6(struct __sk_buff *skb, __u32 mtu)
{
	struct too_big6 t;

	if (!skb || too_big6(skb, &t, mtu) || swap_eth(skb) ||
	    bpf_skb_change_tail(skb, ETH_HLEN + sizeof(t), 0) ||
	    bpf_skb_store_bytes(skb, ETH_HLEN, &t, sizeof(t), 0))
		return TC_ACT_SHOT;
	return bpf_redirect(skb->ifindex, 0);
}

/* An ingress cap's packet: to the ifb of the link it arrived on (fl_ifb);
 * none known, it passes uncapped. */
static __always_inline int to_ifb(struct __sk_buff *skb)
{
	__u32 in = skb->ifindex, *ifb = bpf_map_lookup_elem(&fl_ifb, &in);

	return ifb ? bpf_redirect(*ifb, 0) : TC_ACT_UNSPEC;
}

static __always_inline int run(struct __sk_buff *skb, __u8 dir)
{
	struct eval ev = { .dir = dir };
	struct fl_conf *conf;
	__u32 zero = 0, gen, n, mtu;

	if ((skb->mark & FL_MARK_TAG_MASK) == FL_MARK_CLONE) {
		skb->mark = 0;
		return TC_ACT_UNSPEC;
	}
	if ((skb->mark & FL_MARK_TAG_MASK) == FL_MARK_REPLAY) { /* to the delay line */
		__u32 slot = skb->mark & FL_MARK_SLOT_MASK;

		/* a whole 32-bit store: the verifier refuses narrower ones to ctx */
		asm volatile("" : "+r"(slot));
		skb->mark = FL_MARK_DELAY | slot;
		return TC_ACT_UNSPEC;
	}
	conf = bpf_map_lookup_elem(&fl_conf, &zero);
	if (!conf)
		return TC_ACT_UNSPEC;
	gen = conf->gen & 1;
	n = conf->n_rules[gen];
	if (!n && !(conf->flags & (FL_CONF_ACCT | FL_CONF_MTU)))
		return TC_ACT_UNSPEC;
	ev.base = gen * FL_MAX_RULES;
	ev.n = n > FL_MAX_RULES ? FL_MAX_RULES : n;
	ev.parsed = !parse(skb, &ev.p, conf->flags);
	/* counted before any rule acts: what the sender put on the wire */
	if (conf->flags & FL_CONF_ACCT)
		fl_account(skb, &ev.p, ev.parsed);
	if (!ev.parsed)
		return TC_ACT_UNSPEC;
	if (ev.n && (ev.p.proto == IPPROTO_ICMP_ || ev.p.proto == IPPROTO_ICMPV6_) &&
	    !fl_parse_quoted(skb, &ev.p)) {
		/* the quoted packet's path first, mtu-blackhole rules only */
		ev.parsed = FL_QUOTED;
		if (!candidates(&ev, conf, gen))
			bpf_loop(FL_RULE_WORDS, word_cb, &ev, 0);
		if (ev.drop)
			return dir == FL_DIR_EGRESS ? TC_ACT_STOLEN : TC_ACT_SHOT;
		ev.parsed = 1;
		if (fl_reparse(skb, &ev.p, conf->flags))
			return TC_ACT_UNSPEC;
	}
	/* & 1: after the global calls above the verifier no longer knows
	 * ev.base's bounds */
	if (ev.n && !candidates(&ev, conf, (ev.base / FL_MAX_RULES) & 1))
		bpf_loop(FL_RULE_WORDS, word_cb, &ev, 0);
	if (ev.reset)
		return fl_reset(skb, &ev);
	if (ev.drop)
		return dir == FL_DIR_EGRESS ? TC_ACT_STOLEN : TC_ACT_SHOT;
	/* the router in front of the destination's small link */
	if ((conf->flags & FL_CONF_MTU) && dir == FL_DIR_INGRESS && (mtu = link_mtu(skb, &ev))) {
		/* its "packet too big" quotes a packet of this path: an
		 * mtu-blackhole on the path drops the message, so the packet
		 * vanishes without one (a black hole behind a small link) */
		if (ev.n && quoted_dropped(&ev, conf, gen))
			return TC_ACT_SHOT;
		return ev.p.family == FL_FAM_IPV4 ? fl_too_big4(skb, mtu) : fl_too_big6(skb, mtu);
	}
	if (ev.corrupt)
		do_corrupt(skb, &ev);
	if (ev.tamper)
		fl_tamper(skb, &ev);
	if (ev.dup)
		do_duplicate(skb, &ev);
	if (ev.replay)
		do_replay(skb, &ev);
	if (ev.marked)
		skb->mark = ev.mark;
	if (ev.classed && ev.classid)
		skb->priority = ev.classid;
	else if (ev.classed) /* an ingress cap: through the link's ifb */
		return to_ifb(skb);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int fl_ingress(struct __sk_buff *skb)
{
	return run(skb, FL_DIR_INGRESS);
}

SEC("tc")
int fl_egress(struct __sk_buff *skb)
{
	return run(skb, FL_DIR_EGRESS);
}
