// SPDX-License-Identifier: MIT
/* Building a frame by hand: Ethernet, IPv4 or IPv6, UDP or TCP, payload,
 * with the checksums a receiving kernel verifies (RFC 791, 768, 9293,
 * 8200). */
#include "inject.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#define ETH_LEN 14
#define IP4_LEN 20
#define IP6_LEN 40
#define UDP_LEN 8
#define TCP_LEN 20

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* One's complement sum of 16-bit big-endian words (an odd tail padded). */
static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static size_t ip_header(const struct fl_packet *p, uint8_t *ip, size_t l4len)
{
	if (p->family == AF_INET6) {
		memset(ip, 0, IP6_LEN);
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)l4len);
		ip[6] = p->proto;
		ip[7] = 64;
		memcpy(ip + 8, p->src, 16);
		memcpy(ip + 24, p->dst, 16);
		return IP6_LEN;
	}
	memset(ip, 0, IP4_LEN);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(IP4_LEN + l4len));
	put16(ip + 6, 0x4000); /* don't fragment */
	ip[8] = 64;
	ip[9] = p->proto;
	memcpy(ip + 12, p->src, 4);
	memcpy(ip + 16, p->dst, 4);
	put16(ip + 10, fold(sum16(0, ip, IP4_LEN)));
	return IP4_LEN;
}

/* The pseudo header's sum (RFC 768 / RFC 8200 8.1). */
static uint32_t pseudo(const struct fl_packet *p, size_t l4len)
{
	size_t alen = p->family == AF_INET6 ? 16 : 4;
	uint32_t sum = sum16(0, p->src, alen);

	sum = sum16(sum, p->dst, alen);
	return sum + p->proto + (uint32_t)(l4len >> 16) + (uint32_t)(l4len & 0xffff);
}

static size_t l4_header(const struct fl_packet *p, uint8_t *l4, size_t l4len)
{
	size_t hl = p->proto == IPPROTO_TCP ? TCP_LEN : UDP_LEN;
	uint16_t c;

	memset(l4, 0, hl);
	put16(l4, p->sport);
	put16(l4 + 2, p->dport);
	if (p->proto == IPPROTO_TCP) {
		put32(l4 + 4, p->seq);
		put32(l4 + 8, p->ack);
		l4[12] = (TCP_LEN / 4) << 4;
		l4[13] = p->tcp_flags;
		put16(l4 + 14, 65535);
	} else {
		put16(l4 + 4, (uint16_t)l4len);
	}
	memcpy(l4 + hl, p->payload, p->payload_len);
	c = fold(sum16(pseudo(p, l4len), l4, l4len));
	if (p->proto == IPPROTO_UDP && !c)
		c = 0xffff; /* 0 would mean "no checksum" */
	put16(l4 + (p->proto == IPPROTO_TCP ? 16 : 6), c);
	return l4len;
}

ssize_t fl_packet_build(const struct fl_packet *p, uint8_t *buf, size_t len)
{
	size_t l4len = (p->proto == IPPROTO_TCP ? TCP_LEN : UDP_LEN) + p->payload_len;
	size_t iplen = p->family == AF_INET6 ? IP6_LEN : IP4_LEN;
	size_t total = ETH_LEN + iplen + l4len;

	if ((p->family != AF_INET && p->family != AF_INET6) ||
	    (p->proto != IPPROTO_UDP && p->proto != IPPROTO_TCP))
		return -EINVAL;
	if (total > len || l4len > 65535 - (p->family == AF_INET ? IP4_LEN : 0))
		return -EMSGSIZE;
	memcpy(buf, p->dst_mac, 6);
	memcpy(buf + 6, p->src_mac, 6);
	put16(buf + 12, p->family == AF_INET6 ? 0x86dd : 0x0800);
	ip_header(p, buf + ETH_LEN, l4len);
	l4_header(p, buf + ETH_LEN + iplen, l4len);
	return (ssize_t)total;
}
