/* SPDX-License-Identifier: MIT */
/* Forged packets: `fallacy inject LAB ...` and the timeline's inject step.
 *
 *   inject --to NODE --proto udp|tcp --port N [--payload HEX|"text"]
 *          [--from NODE|ADDR] [--sport N] [--flags FSRPAU] [--seq N]
 *          [--ack N] [--ipv6] [--count N] [--seed S]
 *
 * The forger is a host on the lab's wire that is not a node: the frame
 * (Ethernet + IPv4/IPv6 + UDP/TCP + payload, checksums computed here) is
 * written by an AF_PACKET socket in the lab's wire namespace on the
 * wire-side port of NODE, so NODE receives it exactly as if it had come
 * over the wire from the spoofed source. It meets no fault point (faults
 * act on what nodes send), and no node's capture but NODE's shows it: the
 * node whose address is borrowed never sent it, and its own trace says so.
 * The source defaults to a lab address no node has (the last host of the
 * lab's IPv4 subnet, or ::ffff of its IPv6 prefix). Nothing is created that
 * outlives the call (one socket), so nothing is journaled; the lab's
 * events.jsonl gets an "inject" line. */
#ifndef FALLACY_INJECT_H
#define FALLACY_INJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "faults/fault.h"
#include "json.h"
#include "log.h"

struct fl_lab;

#define FL_INJECT_MAX_COUNT 1000

/* One frame to build: addresses in network order (IPv4 in the first 4
 * bytes), ports and numbers in host order. */
struct fl_packet {
	int family; /* AF_INET or AF_INET6 */
	uint8_t proto; /* IPPROTO_UDP or IPPROTO_TCP */
	uint8_t src_mac[6], dst_mac[6];
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint8_t tcp_flags;
	uint32_t seq, ack;
	const uint8_t *payload;
	size_t payload_len;
};

/* Ethernet + IP + UDP/TCP + payload into buf, with the IPv4 header and the
 * transport checksums computed (TTL/hop limit 64, DF set, TCP window
 * 65535). Returns the frame length or -EMSGSIZE when len is too small. */
ssize_t fl_packet_build(const struct fl_packet *p, uint8_t *buf, size_t len);

/* The request, as parsed from its words. */
struct fl_inject {
	char to[64]; /* a node of the lab */
	char from[64]; /* a node or an address of the lab; "" = the spare one */
	bool ipv6; /* use IPv6 addresses (implied by an IPv6 --from) */
	uint8_t proto;
	uint16_t dport, sport;
	bool sport_given;
	uint8_t tcp_flags;
	bool flags_given;
	uint32_t seq, ack;
	bool seq_given, ack_given;
	struct fl_bytes payload;
	bool payload_given;
	uint32_t count;
	uint64_t seed;
	bool seed_given;
};

/* The words above (no LAB) into in; checks the form only. */
int fl_inject_parse(struct fl_inject *in, int argc, char **argv, struct fl_err *err);
/* Resolve against the lab (nodes, addresses, families) into the frame's
 * fields, MACs left zero; with the seed drawn values filled. */
int fl_inject_resolve(const struct fl_inject *in, const struct fl_lab *lab, struct fl_packet *pk,
		      struct fl_err *err);
/* Resolve, look the MACs up, build and send in->count frames; *sent gets
 * how many went out. Returns 0 or -errno with err filled. */
int fl_inject_send(const struct fl_inject *in, const struct fl_lab *lab, struct fl_packet *pk,
		   uint32_t *sent, struct fl_err *err);
/* The request as words that parse back ("--to n2 --proto udp ..."). */
void fl_inject_words(const struct fl_inject *in, char *buf, size_t len);
/* What was sent: text one line, JSON members. */
void fl_inject_print(const struct fl_inject *in, const struct fl_packet *pk, uint32_t sent,
		     struct fl_out *o);

/* Option help for `fallacy inject --help` (one line per option). */
struct fl_inject_option {
	const char *name;
	const char *yaml; /* the step's key */
	bool takes_value;
	const char *help;
};
extern const struct fl_inject_option fl_inject_options[]; /* name NULL ends it */

#endif
