// SPDX-License-Identifier: MIT
/* pcap -> pcapng with comments (pcapng: draft-ietf-opsawg-pcapng). */
#include "capture.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "fallacy/analyzer.h"

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 0x00000001u
#define BT_EPB 0x00000006u
#define OPT_END 0
#define OPT_COMMENT 1
#define OPT_SHB_USERAPPL 4
#define OPT_IF_TSRESOL 9

/* A block is assembled in memory, then written with its two lengths. */
struct blk {
	uint8_t *buf;
	size_t len, cap;
};

/* gcc 12 -fanalyzer false positive (fallacy/analyzer.h): b->buf keeps the old buffer when realloc fails; the caller frees b->buf */
FL_LEAK_FP_BEGIN
static int put(struct blk *b, const void *p, size_t n)
{
	size_t pad = (4 - n % 4) % 4;

	if (b->len + n + pad > b->cap) {
		size_t cap = (b->len + n + pad) * 2 + 64;
		uint8_t *nb = realloc(b->buf, cap);

		if (!nb)
			return -ENOMEM;
		b->buf = nb;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, p, n);
	memset(b->buf + b->len + n, 0, pad);
	b->len += n + pad;
	return 0;
}
FL_LEAK_FP_END

static int put32(struct blk *b, uint32_t v)
{
	return put(b, &v, 4);
}

static int put_opt(struct blk *b, uint16_t code, const void *val, size_t n)
{
	uint16_t h[2] = { code, (uint16_t)n };

	if (n > 0xffff)
		return -EINVAL;
	return put(b, h, 4) ?: (n ? put(b, val, n) : 0);
}

/* Block: type, total length, body, total length. */
static int emit(FILE *f, uint32_t type, const struct blk *body)
{
	uint32_t total = (uint32_t)body->len + 12;

	if (fwrite(&type, 4, 1, f) != 1 || fwrite(&total, 4, 1, f) != 1 ||
	    (body->len && fwrite(body->buf, body->len, 1, f) != 1) || fwrite(&total, 4, 1, f) != 1)
		return -EIO;
	return 0;
}

static int write_headers(FILE *f, int linktype, int snaplen, const struct fl_pcapng_note *notes,
			 size_t n)
{
	struct blk b = { 0 };
	uint32_t magic = 0x1A2B3C4D;
	uint16_t ver[2] = { 1, 0 };
	int64_t section_len = -1;
	uint16_t lt[2] = { (uint16_t)linktype, 0 };
	uint8_t tsresol = 9;
	int rc;

	rc = put32(&b, magic) ?: put(&b, ver, 4) ?: put(&b, &section_len, 8);
	rc = rc ?: put_opt(&b, OPT_SHB_USERAPPL, "fallacy", 7);
	for (size_t i = 0; !rc && i < n; i++)
		rc = put_opt(&b, OPT_COMMENT, notes[i].text, strlen(notes[i].text));
	rc = rc ?: put_opt(&b, OPT_END, NULL, 0) ?: emit(f, BT_SHB, &b);
	b.len = 0;
	rc = rc ?: put(&b, lt, 4) ?: put32(&b, (uint32_t)snaplen);
	rc = rc ?: put_opt(&b, OPT_IF_TSRESOL, &tsresol, 1) ?: put_opt(&b, OPT_END, NULL, 0);
	rc = rc ?: emit(f, BT_IDB, &b);
	free(b.buf);
	return rc;
}

/* One Enhanced Packet Block; the notes due by its time become comments. */
static int write_packet(FILE *f, struct blk *b, const struct pcap_pkthdr *h, const u_char *data,
			const struct fl_pcapng_note *notes, size_t n, size_t *next)
{
	uint64_t ts = (uint64_t)h->ts.tv_sec * FL_NSEC_PER_SEC + (uint64_t)h->ts.tv_usec;
	bool any = false;
	int rc;

	b->len = 0;
	rc = put32(b, 0) ?: put32(b, (uint32_t)(ts >> 32)) ?: put32(b, (uint32_t)ts);
	rc = rc ?: put32(b, h->caplen) ?: put32(b, h->len) ?: put(b, data, h->caplen);
	for (; !rc && *next < n && notes[*next].wall_ns <= ts; (*next)++, any = true)
		rc = put_opt(b, OPT_COMMENT, notes[*next].text, strlen(notes[*next].text));
	if (!rc && any)
		rc = put_opt(b, OPT_END, NULL, 0);
	return rc ?: emit(f, BT_EPB, b);
}

int fl_pcapng_from_pcap(const char *pcap_path, const char *out_path,
			const struct fl_pcapng_note *notes, size_t n)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct pcap_pkthdr *h;
	const u_char *data;
	struct blk b = { 0 };
	size_t next = 0;
	pcap_t *in;
	FILE *f = NULL;
	int rc;

	in = pcap_open_offline_with_tstamp_precision(pcap_path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!in) {
		pr_err("pcapng: cannot read %s: %s", pcap_path, errbuf);
		return -EIO;
	}
	f = fopen(out_path, "w");
	rc = f ? write_headers(f, pcap_datalink(in), pcap_snapshot(in), notes, n) : -errno;
	while (!rc && pcap_next_ex(in, &h, &data) == 1)
		rc = write_packet(f, &b, h, data, notes, n, &next);
	if (f && fclose(f) && !rc)
		rc = -errno;
	if (rc)
		pr_err("pcapng: writing %s: %s", out_path, strerror(-rc));
	free(b.buf);
	pcap_close(in);
	return rc;
}
