/* SPDX-License-Identifier: MIT */
/* Transport statistics of a lab: what its traffic costs on the wire.
 *
 * - Pairs: packets, bytes and payload per (source node, destination node,
 *   protocol), counted by the data plane at the ingress of every wire-side
 *   port (what each node SENDS, whether or not a fault is active), read
 *   through the lab's supervisor. Bytes are Ethernet frames without FCS; a
 *   GSO super-packet counts as the wire packets it stands for
 *   (include/fallacy/rule.h, fl_acct). "*" names an address that is no
 *   lab node.
 * - Nodes: each node's TCP counters (segments sent, retransmitted, RTOs,
 *   SACK recoveries, reordering, ...) read from the node's own namespace
 *   (/proc/net/snmp and /proc/net/netstat, opened from a thread that setns()
 *   into it), the same numbers `ip netns exec NODE nstat` shows.
 *
 * Both start at 0 when the lab comes up (the supervisor's map, the node's
 * namespace). Marks (`fallacy stats LAB --mark NAME`) are snapshots saved in
 * the lab's session folder, so later reads can be taken since a mark. */
#ifndef FALLACY_STATS_H
#define FALLACY_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"

#define FL_STATS_NAME_MAX 16 /* node names (12) and "*" */
#define FL_STATS_ANY "*"

struct fl_pair_stat {
	char src[FL_STATS_NAME_MAX], dst[FL_STATS_NAME_MAX]; /* node, or "*" */
	uint8_t family; /* 4, 6; 0 = not IP (ARP); 255 = the "map full" entry */
	uint8_t proto; /* IPPROTO_* (0 when not IP) */
	uint64_t packets, bytes, payload;
};

/* One node's TCP counters (the kernel's own MIB, shared by IPv4 and IPv6). */
struct fl_tcp_stat {
	uint64_t active_opens; /* Tcp: ActiveOpens (connect()s) */
	uint64_t passive_opens; /* Tcp: PassiveOpens (accept()ed) */
	uint64_t in_segs; /* Tcp: InSegs */
	uint64_t out_segs; /* Tcp: OutSegs (new segments; not retransmissions) */
	uint64_t retrans_segs; /* Tcp: RetransSegs (nstat TcpRetransSegs) */
	uint64_t out_rsts; /* Tcp: OutRsts */
	uint64_t rtos; /* TcpExt: TCPTimeouts (retransmission timer fired) */
	uint64_t loss_probes; /* TcpExt: TCPLossProbes (tail loss probes) */
	uint64_t fast_retrans; /* TcpExt: TCPFastRetrans */
	uint64_t sack_recovery; /* TcpExt: TCPSackRecovery (recoveries with SACK) */
	uint64_t reno_recovery; /* TcpExt: TCPRenoRecovery */
	uint64_t reorder; /* TcpExt: TCPSACKReorder + TCPRenoReorder + TCPTSReorder */
};

struct fl_node_stat {
	char name[FL_STATS_NAME_MAX];
	struct fl_tcp_stat tcp;
};

struct fl_stats {
	uint64_t mono_ns; /* CLOCK_MONOTONIC when read (the events' clock) */
	uint64_t since_ns; /* CLOCK_MONOTONIC the pair counters started; 0: accounting off */
	struct fl_pair_stat *pairs;
	size_t n_pairs;
	struct fl_node_stat *nodes;
	size_t n_nodes;
};

/* Sums over a whole lab. */
struct fl_stats_total {
	uint64_t packets, bytes, payload; /* every pair */
	uint64_t tcp_packets, tcp_payload; /* TCP pairs (wire packets: retransmissions too) */
	struct fl_tcp_stat tcp; /* every node */
};

/* Read lab's counters now. Starts the lab's supervisor when it is not
 * running (after a kill -9; its pair counters then start from 0 and
 * *restarted is set). 0, or -errno with err filled. */
int fl_stats_read(const char *lab, struct fl_stats *out, bool *restarted, struct fl_err *err);
void fl_stats_free(struct fl_stats *s);

/* d = now - base, pair by pair and node by node (a pair absent from base
 * counts from 0). Returns 1 when base's pair counters are from another
 * supervisor (since_ns differs: they were reset), and then d's pairs are
 * now's; 0 otherwise; -ENOMEM. */
int fl_stats_delta(const struct fl_stats *now, const struct fl_stats *base, struct fl_stats *d);
void fl_stats_totals(const struct fl_stats *s, struct fl_stats_total *t);
/* Packets, bytes and payload sent and received by one node (sums of pairs). */
void fl_stats_node_io(const struct fl_stats *s, const char *node, struct fl_pair_stat *sent,
		      struct fl_pair_stat *recv);

/* Snapshots in the lab's session folder (RUN_DIR/LAB/mark-NAME); NAME is
 * [a-z0-9][a-z0-9_-]*, at most 32 bytes. Load: -ENOENT when there is none. */
int fl_stats_mark_save(const char *lab, const char *name, const struct fl_stats *s,
		       struct fl_err *err);
int fl_stats_mark_load(const char *lab, const char *name, struct fl_stats *s, struct fl_err *err);

/* The text form used for the supervisor's answer and for marks:
 *   mono NS | since NS
 *   pair SRC DST FAMILY PROTO PACKETS BYTES PAYLOAD
 *   tcp NODE ACTIVE PASSIVE IN OUT RETRANS RSTS RTOS PROBES FAST SACK RENO REORDER
 * Parse appends to s (lines it does not know are ignored). */
void fl_stats_format(const struct fl_stats *s, FILE *f);
int fl_stats_parse(const char *text, struct fl_stats *s);

/* "tcp", "udp", "icmp", "icmpv6", "ip-N"; "non-ip" for family 0,
 * "overflow" for the map-full entry. */
const char *fl_stats_proto_name(uint8_t family, uint8_t proto, char *buf, size_t len);

/* The node counters from the text of /proc/net/snmp and /proc/net/netstat
 * (pure: unit-tested). Counters the kernel does not have stay 0. */
int fl_tcp_parse(const char *snmp, const char *netstat, struct fl_tcp_stat *out);
/* Read them inside the named network namespace (fl-LAB.NODE). */
int fl_tcp_read(const char *netns, struct fl_tcp_stat *out);

/* The counters one table describes, for printers: name (JSON key and text
 * column), offset in struct fl_tcp_stat, and where it comes from. */
struct fl_tcp_field {
	const char *name;
	size_t off;
	const char *source; /* "Tcp: OutSegs" */
};
extern const struct fl_tcp_field fl_tcp_fields[]; /* NULL-terminated by name */

static inline uint64_t fl_tcp_get(const struct fl_tcp_stat *t, const struct fl_tcp_field *f)
{
	return *(const uint64_t *)((const char *)t + f->off);
}

#endif
