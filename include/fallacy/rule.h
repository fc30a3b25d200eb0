/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/* The rule table shared by the tc data plane (bpf/dataplane.bpf.c) and
 * userspace (injector/dataplane.c). Plain __u8..__u64 structs, no pointers.
 *
 * One BPF object per session namespace; its program is attached to every
 * fault point of that namespace (a lab: ingress of every wire-side port
 * p-NODE; --netns/--pid: ingress and egress of every non-loopback link).
 *
 * Maps:
 *   fl_conf   array[1]                    struct fl_conf: active generation
 *   fl_rules  array[2 * FL_MAX_RULES]     struct fl_rule, generation g lives
 *                                         at [g * FL_MAX_RULES, + n_rules[g])
 *                                         in evaluation order; userspace
 *                                         writes the idle generation and then
 *                                         flips fl_conf.gen (no torn tables)
 *   fl_rstate array[FL_MAX_SLOTS]         struct fl_rule_state (shared, not
 *                                         per-CPU: one packet sequence per rule)
 *   fl_counters percpu array[FL_MAX_SLOTS] struct fl_counters
 *   fl_nodes  hash fl_addr_key -> __u32   lab node addresses -> node index
 *   fl_idx_node array, fl_idx_port hash   candidate index (see below)
 *   fl_acct   percpu hash fl_acct_key ->  transport accounting: what every
 *             struct fl_acct_val           packet costs, per (source node,
 *                                          destination node, protocol), with
 *                                          or without rules (see below)
 *
 * A rule's slot is stable for its lifetime: it indexes fl_rstate and
 * fl_counters, and it is the slot of a delay mark (mark.h). Userspace zeroes
 * a slot's state and counters before a rule uses it.
 *
 * Evaluation: every rule of the active generation is tried in order; all
 * matching rules act, a drop (loss, partition, reset, mtu-blackhole) ends
 * the evaluation, only the first matching delay rule marks, only the first
 * rate rule sets the class, and only the first corrupt, tamper, duplicate and
 * replay rule that decides to act does. Decisions draw fl_prng(seed, prng_id, stream, seq) where seq is
 * the rule's own packet sequence (atomic fetch-add in fl_rstate).
 */
#ifndef FALLACY_RULE_H
#define FALLACY_RULE_H

#ifndef __BPF__
#include <linux/types.h>
#endif

#include "fallacy/prng.h" /* FL_PROB_ONE */

#define FL_MAX_RULES 512 /* rules evaluated per session (all faults together) */
#define FL_MAX_SLOTS 1024 /* stable slots (> FL_MAX_RULES: a replaced rule's slot cools off) */
#define FL_MAX_NODES 256 /* lab nodes addressable in node sets */
#define FL_NODE_WORDS (FL_MAX_NODES / 64)
#define FL_NO_NODE 0xffffffffu

/* A probability p is stored as round(p * FL_PROB_ONE) (prng.h); the
 * decision is fl_chance(draw, prob). */

/* The duplicate of a packet carries this mark tag while it re-enters the
 * program, which lets it pass untouched (mark cleared). */
#define FL_MARK_CLONE 0xfa120000u

/* FL_KIND_TAMPER: bytes a rule may write into one packet, and the offset
 * that means "a position drawn per packet". */
#define FL_TAMPER_MAX 64
#define FL_TAMPER_SEEDED 0xffffffffu

enum fl_dir {
	FL_DIR_INGRESS = 1,
	FL_DIR_EGRESS = 2,
	FL_DIR_BOTH = 3,
};

enum fl_family {
	FL_FAM_ANY = 0,
	FL_FAM_IPV4 = 4,
	FL_FAM_IPV6 = 6,
};

/* proto: 0 = any, else an IPPROTO_* number (icmp = 1, tcp = 6, udp = 17,
 * icmpv6 = 58). */
#define FL_PROTO_ANY 0

enum fl_port_mode {
	FL_PORT_NONE = 0,
	FL_PORT_SRC = 1,
	FL_PORT_DST = 2,
	FL_PORT_EITHER = 3, /* source or destination port in range */
};

enum fl_rule_flags {
	FL_RULE_BIDIR = 1, /* also match with source and destination swapped */
};

/* What a rule does to a packet it matches. */
enum fl_kind {
	FL_KIND_COUNT = 0, /* count only */
	FL_KIND_LOSS = 1, /* drop with probability prob (Bernoulli) */
	FL_KIND_GEMODEL = 2, /* Gilbert-Elliott, netem's "loss gemodel p r 1-h 1-k" */
	FL_KIND_DROP = 3, /* drop everything (partition) */
	FL_KIND_DUPLICATE = 4, /* one copy with probability prob (bpf_clone_redirect) */
	FL_KIND_CORRUPT = 5, /* flip one payload bit with probability prob */
	FL_KIND_RESET = 6, /* TCP: turn the segment into an RST back to its sender */
	FL_KIND_DELAY = 7, /* skb->mark = FL_MARK_DELAY | slot with probability prob */
	FL_KIND_RATE = 8, /* skb->priority = classid (an htb class of the shaper) */
	FL_KIND_TAMPER = 9, /* rewrite payload bytes, fix the L4 checksum */
	FL_KIND_REPLAY = 10, /* a copy to the delay line (mark.h: FL_MARK_REPLAY) */
	/* drop packets whose wire size (IP header included) exceeds mtu, and
	 * the ICMP "fragmentation needed" / ICMPv6 "packet too big" messages
	 * that quote a packet of the rule's path (see bpf/dataplane.bpf.c) */
	FL_KIND_MTU_BLACKHOLE = 11,
	FL_KIND__MAX,
};

enum fl_ge_state {
	FL_GE_GOOD = 0,
	FL_GE_BAD = 1,
};

struct fl_endpoint {
	__u8 addr[16]; /* network order; IPv4 in the first 4 bytes */
	__u8 plen; /* prefix length; 0 with use_nodes == 0 = any address */
	__u8 use_nodes; /* 1: the address must belong to a node in nodes[] */
	__u8 pad[6];
	__u64 nodes[FL_NODE_WORDS]; /* bit i = node index i (fl_nodes map) */
};

struct fl_rule {
	__u32 slot; /* < FL_MAX_SLOTS, stable while the rule lives */
	__u32 prng_id; /* rule id given to fl_prng: index of the rule in its fault */
	__u64 seed;

	/* match */
	__u8 dir; /* enum fl_dir bits */
	__u8 family; /* enum fl_family; 0 = both */
	__u8 proto; /* FL_PROTO_ANY or IPPROTO_* */
	__u8 port_mode; /* enum fl_port_mode */
	__u16 port_lo, port_hi; /* host order, inclusive */
	__u8 flags; /* enum fl_rule_flags */
	__u8 kind; /* enum fl_kind */
	__u16 pad0;
	struct fl_endpoint src, dst;

	/* action: loss, duplicate, corrupt, reset and delay use prob */
	__u64 prob; /* p * 2^32; FL_PROB_ONE = always */
	/* FL_KIND_GEMODEL, netem's meaning: p = P(good -> bad), r = P(bad ->
	 * good), bad_loss = 1-h = P(loss | bad), good_loss = 1-k = P(loss |
	 * good); each scaled like prob */
	__u64 ge_p, ge_r, ge_bad_loss, ge_good_loss;
	/* FL_KIND_RATE: the class id (TC_H_MAKE(major, minor)) written to
	 * skb->priority, which htb uses to classify (defined by the shaper) */
	__u32 classid;
	/* FL_KIND_DELAY: read by the delay line only, never by BPF */
	__u32 distribution; /* the delay line's enum */
	__u64 delay_ns, jitter_ns;
	__u64 delay_corr; /* correlation, scaled like prob */
	__u64 reorder; /* scaled like prob; the delay line's meaning */
	/* FL_KIND_TAMPER: payload offset or FL_TAMPER_SEEDED, and the bytes
	 * written there (tamper_len 0: the one byte is inverted) */
	__u32 tamper_off;
	__u16 tamper_len;
	__u16 pad1;
	__u8 tamper[FL_TAMPER_MAX];
	/* FL_KIND_MTU_BLACKHOLE: the largest IP packet (bytes, IP header
	 * included, as an MTU counts) that passes */
	__u32 mtu;
	__u32 pad2;
};

enum fl_conf_flags {
	FL_CONF_NODES = 1, /* fl_nodes has entries: look packet addresses up */
	FL_CONF_PORTS0 = 2, /* fl_idx_port has entries of generation 0 */
	FL_CONF_PORTS1 = 4, /* ... of generation 1 */
	FL_CONF_ACCT = 8, /* count every packet in fl_acct (a lab's default) */
};

/* A set of rule positions within a generation (bit i = rules[g][i]). */
#define FL_RULE_WORDS (FL_MAX_RULES / 64)
struct fl_bits {
	__u64 w[FL_RULE_WORDS];
};

struct fl_conf {
	__u32 gen; /* active generation: 0 or 1 */
	__u32 n_rules[2];
	__u32 flags; /* enum fl_conf_flags */
	struct fl_bits port_any[2]; /* rules without a (small) port constraint */
};

/* Candidate index, so that a packet skips the rules it cannot match: rule i
 * of generation g is tried only when bit i is set in
 *   fl_idx_node[FL_IDX_NODE(g, 0, src node)] & fl_idx_node[FL_IDX_NODE(g, 1, dst node)]
 *   & (port_any[g] | fl_idx_port{g, SRC, sport} | fl_idx_port{g, DST, dport})
 * (node FL_MAX_NODES = an address that is no lab node). The index is a
 * superset: the rule itself still decides. Port ranges wider than
 * FL_IDX_PORT_SPAN count as "any port". */
#define FL_IDX_NODES (FL_MAX_NODES + 1)
#define FL_IDX_NODE(g, side, node) (((g)*2 + (side)) * FL_IDX_NODES + (node))
#define FL_IDX_PORT_SPAN 64
#define FL_IDX_PORT_MAX 16384 /* entries in fl_idx_port */

struct fl_port_key {
	__u16 port; /* host order */
	__u8 side; /* 0 source port, 1 destination port */
	__u8 gen;
};

struct fl_rule_state {
	__u64 seq; /* packets this rule has matched; atomic fetch-add */
	__u32 ge_state; /* enum fl_ge_state */
	__u32 pad;
};

struct fl_counters {
	__u64 packets; /* matched */
	__u64 bytes; /* matched, skb->len */
	__u64 dropped;
	__u64 duplicated;
	__u64 corrupted;
	__u64 reset;
	__u64 delayed; /* marked for the delay line */
	__u64 shaped; /* classified into a rate class */
	__u64 tampered; /* payload rewritten, checksums fixed */
	__u64 replayed; /* a copy sent to the delay line, to arrive again later */
};

/* Transport accounting (FL_CONF_ACCT). Every packet the program sees is
 * counted before any rule acts on it, so the counters say what the sender
 * put on the wire (at a lab's wire-side port: what a node SENDS, dropped
 * packets and retransmissions included; the data plane's own duplicates
 * and resets are not counted).
 *
 * Key: node indexes from fl_nodes (FL_ACCT_OTHER for an address that is no
 * lab node: link-local, multicast, broadcast, outside the lab), family 4 or
 * 6 and the IP protocol; frames that are not IP (ARP) count under family 0,
 * proto 0, both nodes FL_ACCT_OTHER. When the map is full, new keys count
 * under FL_ACCT_FULL_FAMILY (userspace creates that entry first).
 *
 * Layer: bytes are Ethernet frames without FCS (skb->len at tc ingress of
 * the port). A GSO/GRO super-packet counts as the gso_segs wire packets it
 * stands for, and as skb->len + (gso_segs - 1) * its header length (L2 +
 * L3 + L4 headers, repeated in every segment), as the kernel's own
 * qdisc_pkt_len_init() does. payload = bytes after the L4 header (TCP,
 * UDP: the transport payload; ICMP: after its 8-byte header; others 0). */
#define FL_ACCT_OTHER FL_MAX_NODES
#define FL_ACCT_FULL_FAMILY 0xff
#define FL_ACCT_MAX 16384

struct fl_acct_key {
	__u16 src, dst; /* node index, or FL_ACCT_OTHER */
	__u8 family; /* 4, 6; 0 = not IP; FL_ACCT_FULL_FAMILY = map full */
	__u8 proto; /* IPPROTO_*, 0 when not IP */
	__u16 pad;
};

struct fl_acct_val {
	__u64 packets; /* wire packets (GSO segments counted one by one) */
	__u64 bytes; /* Ethernet frames without FCS */
	__u64 payload; /* bytes after the transport header */
};

struct fl_addr_key {
	__u8 family; /* FL_FAM_IPV4 or FL_FAM_IPV6 */
	__u8 pad[3];
	__u8 addr[16];
};

#endif
