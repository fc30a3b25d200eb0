/* SPDX-License-Identifier: MIT */
/* Packet capture through libpcap. One capture writes one pcap file (link
 * type Ethernet, nanosecond timestamps, CLOCK_REALTIME like events.jsonl)
 * fed by one or more capture points: (network namespace, interface,
 * direction). Each point's pcap handle is created on a thread that setns()
 * into the point's namespace first, because a packet socket belongs to the
 * namespace it was created in. One thread then polls all handles and
 * appends their packets to the file. Kernel drops (pcap_stats) are kept per
 * point and reported; they are never silent.
 *
 * Where a point sees a packet relative to the data plane's tc hooks
 * (measured, see docs/capture.md): packets received on an interface are
 * captured BEFORE tc ingress (a packet the data plane drops on ingress is
 * still in the trace); packets sent are captured AFTER tc egress. On lo,
 * libpcap keeps the receive copy only, so every loopback packet is seen
 * once, before lo's ingress faults. */
#ifndef FALLACY_CAPTURE_H
#define FALLACY_CAPTURE_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"

enum fl_capture_dir {
	FL_CAPTURE_INOUT = 0,
	FL_CAPTURE_IN = 1, /* received by the interface */
	FL_CAPTURE_OUT = 2, /* sent by the interface */
};

struct fl_capture_point {
	char netns[80]; /* NAME under /run/netns, "pid:PID" or "-" (ours) */
	char ifname[IFNAMSIZ]; /* an interface of that namespace */
	enum fl_capture_dir dir;
};

/* Bytes kept per packet: by default, at least (the headers) and at most
 * (libpcap's MAXIMUM_SNAPLEN). */
#define FL_CAPTURE_SNAPLEN 65535
#define FL_CAPTURE_SNAPLEN_MIN 64
#define FL_CAPTURE_SNAPLEN_MAX 262144
/* The kernel ring of each point, by default. */
#define FL_CAPTURE_BUFFER (64 << 20)

struct fl_capture_opts {
	const char *path; /* the pcap file to write */
	const char *filter; /* pcap-filter(7) expression, NULL = everything */
	int snaplen; /* bytes kept per packet, 0 = FL_CAPTURE_SNAPLEN */
	int buffer_bytes; /* kernel ring per point, 0 = FL_CAPTURE_BUFFER */
};

struct fl_capture_stat {
	uint64_t received; /* pcap_stats ps_recv: seen by the filter */
	uint64_t dropped; /* ps_drop: ring full, lost */
	uint64_t ifdropped; /* ps_ifdrop: dropped by the interface */
	uint64_t written; /* packets appended to the file */
};

struct fl_capture;

/* Validate the options, open every point (inside its namespace), compile
 * and set the filter, create the file. Nothing is captured until
 * fl_capture_start. -errno and a message naming the point on failure. */
int fl_capture_open(const struct fl_capture_point *pts, size_t n,
		    const struct fl_capture_opts *opts, struct fl_capture **out);
/* Start the capture thread. Packets are captured from fl_capture_open on
 * (the kernel buffers them); start only begins writing them out. */
int fl_capture_start(struct fl_capture *c);
/* Stop the thread, drain what the kernel still holds, read pcap_stats,
 * flush and close the file. Safe to call more than once. */
int fl_capture_stop(struct fl_capture *c);
void fl_capture_free(struct fl_capture *c);

/* Sum over all points (valid after fl_capture_stop). */
void fl_capture_total(const struct fl_capture *c, struct fl_capture_stat *sum);
/* Members of an open object: "file", "points": [{"netns", "ifname",
 * "direction", "received", "dropped", "ifdropped", "written"}, ...]. */
struct fl_out;
void fl_capture_print(const struct fl_capture *c, struct fl_out *o);

/* Compile a pcap-filter(7) expression without capturing anything (for an
 * error before any kernel change); 0, or -EINVAL with the message. */
int fl_capture_check_filter(const char *filter, struct fl_err *err);

const char *fl_capture_dir_name(enum fl_capture_dir dir);
/* "in" "out" "inout"; -EINVAL otherwise. */
int fl_capture_parse_dir(const char *text, enum fl_capture_dir *dir);

/* ---- reading a pcap file back ------------------------------------------
 * Every packet's flow and transport payload, for checks over a run's
 * captures (the harness may not call libpcap itself). Link types Ethernet
 * (with one VLAN tag), Linux cooked and raw IP; IPv4 and IPv6 (extension
 * headers not walked), TCP and UDP payloads. */
struct fl_pcap_pkt {
	uint64_t index; /* 1-based position in the file (Wireshark's frame number) */
	uint64_t ts_ns; /* the capture's clock: CLOCK_REALTIME for fallacy's files */
	uint32_t wire_len; /* the frame's length on the wire */
	int family; /* AF_INET, AF_INET6, or 0 (not IP: nothing below is set) */
	uint8_t proto; /* IPPROTO_* */
	uint8_t src[16], dst[16]; /* network order; IPv4 in the first 4 bytes */
	bool has_ports; /* a TCP or UDP header was captured */
	uint16_t sport, dport; /* host order */
	uint8_t tcp_flags; /* TCP: FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10 */
	uint32_t seq; /* TCP sequence number, host order */
	const uint8_t *payload; /* the transport payload as captured, or NULL */
	uint32_t payload_len; /* captured bytes of it (Ethernet padding excluded) */
};

/* Called for every packet in file order; non-zero stops the walk. */
typedef int (*fl_pcap_fn)(const struct fl_pcap_pkt *pk, void *arg);

/* Read PATH (any timestamp precision) and call fn for every packet.
 * Returns 0, fn's non-zero value, or -EIO with a message naming the file. */
int fl_pcap_walk(const char *path, fl_pcap_fn fn, void *arg);
/* "198.18.0.1:43210 -> 198.18.0.2:6379 tcp" ("[v6]:port" for IPv6). */
void fl_pcap_flow(const struct fl_pcap_pkt *pk, char *buf, size_t len);

/* A pcapng copy of a nanosecond pcap file with notes (events) as comments:
 * every note is a comment of the section header, and each note is also a
 * comment of the first packet at or after its time, so Wireshark shows
 * "fault cut" on the first packet that met the fault and
 * `tshark -Y 'frame.comment contains "fault"'` finds it. */
struct fl_pcapng_note {
	uint64_t wall_ns; /* CLOCK_REALTIME, the pcap's clock */
	char text[240];
};

/* Read pcap_path (any precision), write out_path as pcapng with one
 * interface (if_tsresol 9) and the notes (sorted by time by the caller).
 * Returns 0 or -errno with a message naming the file. */
int fl_pcapng_from_pcap(const char *pcap_path, const char *out_path,
			const struct fl_pcapng_note *notes, size_t n);

#endif
