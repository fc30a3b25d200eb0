// SPDX-License-Identifier: MIT
/* Reading pcap files back: every packet's flow and transport payload handed
 * to a callback (the plaintext and secure checks of the harness, which may
 * not call libpcap itself). */
#include "capture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

#define ETH_HLEN_ 14
#define SLL_HLEN 16
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* TCP or UDP header at l4 (len bytes captured from there). */
static void transport(struct fl_pcap_pkt *pk, const uint8_t *l4, uint32_t len)
{
	uint32_t hl;

	if (pk->proto == IPPROTO_TCP && len >= 20) {
		hl = (uint32_t)(l4[12] >> 4) * 4;
		pk->sport = be16(l4);
		pk->dport = be16(l4 + 2);
		pk->seq = be32(l4 + 4);
		pk->tcp_flags = l4[13];
		pk->has_ports = true;
		if (hl < 20 || hl > len)
			return;
		pk->payload = l4 + hl;
		pk->payload_len = len - hl;
	} else if (pk->proto == IPPROTO_UDP && len >= 8) {
		pk->sport = be16(l4);
		pk->dport = be16(l4 + 2);
		pk->has_ports = true;
		pk->payload = l4 + 8;
		pk->payload_len = len - 8;
	}
}

/* The IP packet at ip (len bytes captured, wire bytes not needed). */
static void network(struct fl_pcap_pkt *pk, uint16_t type, const uint8_t *ip, uint32_t len)
{
	uint32_t hl, total;

	if (type == ETHERTYPE_IPV4 && len >= 20 && ip[0] >> 4 == 4) {
		hl = (uint32_t)(ip[0] & 15) * 4;
		total = be16(ip + 2);
		if (hl < 20 || hl > len)
			return;
		pk->family = AF_INET;
		pk->proto = ip[9];
		memcpy(pk->src, ip + 12, 4);
		memcpy(pk->dst, ip + 16, 4);
		if (total >= hl && total < len)
			len = total; /* Ethernet padding is no payload */
		if (be16(ip + 6) & 0x1fff)
			return; /* a later fragment: no transport header */
		transport(pk, ip + hl, len - hl);
	} else if (type == ETHERTYPE_IPV6 && len >= 40 && ip[0] >> 4 == 6) {
		total = 40 + (uint32_t)be16(ip + 4);
		pk->family = AF_INET6;
		pk->proto = ip[6]; /* extension headers are not walked */
		memcpy(pk->src, ip + 8, 16);
		memcpy(pk->dst, ip + 24, 16);
		if (total < len)
			len = total;
		transport(pk, ip + 40, len - 40);
	}
}

static void decode(struct fl_pcap_pkt *pk, int dlt, const uint8_t *d, uint32_t len)
{
	uint16_t type;

	switch (dlt) {
	case DLT_EN10MB:
		if (len < ETH_HLEN_)
			return;
		type = be16(d + 12);
		d += ETH_HLEN_;
		len -= ETH_HLEN_;
		if (type == ETHERTYPE_VLAN && len >= 4) {
			type = be16(d + 2);
			d += 4;
			len -= 4;
		}
		break;
	case DLT_LINUX_SLL:
		if (len < SLL_HLEN)
			return;
		type = be16(d + 14);
		d += SLL_HLEN;
		len -= SLL_HLEN;
		break;
	case DLT_RAW:
		if (!len)
			return;
		type = d[0] >> 4 == 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4;
		break;
	default:
		return;
	}
	network(pk, type, d, len);
}

int fl_pcap_walk(const char *path, fl_pcap_fn fn, void *arg)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t index = 0;
	int dlt, r, rc = 0;
	pcap_t *p;

	p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!p) {
		pr_err("reading %s: %s", path, errbuf);
		return -EIO;
	}
	dlt = pcap_datalink(p);
	while (!rc && (r = pcap_next_ex(p, &h, &data)) == 1) {
		struct fl_pcap_pkt pk = {
			.index = ++index,
			.ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec,
			.wire_len = h->len,
		};

		decode(&pk, dlt, data, h->caplen);
		rc = fn(&pk, arg);
	}
	if (!rc && r == PCAP_ERROR) {
		pr_err("reading %s: %s (packet %llu)", path, pcap_geterr(p),
		       (unsigned long long)index + 1);
		rc = -EIO;
	}
	pcap_close(p);
	return rc;
}

void fl_pcap_flow(const struct fl_pcap_pkt *pk, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	const char *proto = pk->proto == IPPROTO_TCP ? "tcp" :
			    pk->proto == IPPROTO_UDP ? "udp" :
						       NULL;
	bool v6 = pk->family == AF_INET6;

	if (!pk->family) {
		snprintf(buf, len, "not IP");
		return;
	}
	inet_ntop(pk->family, pk->src, s, sizeof(s));
	inet_ntop(pk->family, pk->dst, d, sizeof(d));
	if (!pk->has_ports) {
		snprintf(buf, len, "%s -> %s proto %u", s, d, pk->proto);
		return;
	}
	snprintf(buf, len, "%s%s%s:%u -> %s%s%s:%u %s", v6 ? "[" : "", s, v6 ? "]" : "", pk->sport,
		 v6 ? "[" : "", d, v6 ? "]" : "", pk->dport, proto);
}
