// SPDX-License-Identifier: MIT
/* Shared parsers for the units people type. Numbers are scanned by hand
 * (digits, one optional '.', digits) so that signs, spaces, hex, "nan" and
 * "inf" never get in, and values are scaled with 128-bit integers so that
 * "1.1s" is exactly 1100000000 ns. Unit tables are in the style of tc. */
#include "parse.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* Fraction digits kept: 18, as 10^18 (fscale) still fits 64 bits. */
#define FSCALE_MAX 1000000000000000000ULL
#define PORT_MAX 65535

struct unit {
	const char *name;
	uint64_t mult;
	bool print; /* the name fl_format_* writes for this multiple */
};

/* One kind of quantity: its name, units, what a bare number means. */
struct quantity {
	const char *what; /* "duration" */
	const struct unit *units; /* NULL-terminated */
	const char *unit_list; /* for messages */
	const char *eg_unit; /* unit suggested for a bare number */
	uint64_t bare_mult; /* 0: a bare number (other than 0) is an error */
	const char *max_text; /* the largest value, for "too large" */
};

struct number {
	uint64_t ip; /* integer part */
	uint64_t fp; /* fraction digits as an integer */
	uint64_t fscale; /* 10^(number of fraction digits kept) */
	bool overflow; /* integer part does not fit in 64 bits */
	const char *end;
};

static const struct unit duration_units[] = {
	{ "ns", 1ULL, true },
	{ "nsec", 1ULL, false },
	{ "us", 1000ULL, true },
	{ "usec", 1000ULL, false },
	{ "ms", 1000000ULL, true },
	{ "msec", 1000000ULL, false },
	{ "s", 1000000000ULL, true },
	{ "sec", 1000000000ULL, false },
	{ "m", 60000000000ULL, true },
	{ "min", 60000000000ULL, false },
	{ "h", 3600000000000ULL, true },
	{ NULL, 0, false },
};

/* Bits per second. tc: "bit" units are bits, "bps" units are BYTES. */
static const struct unit rate_units[] = {
	{ "bit", 1ULL, true },
	{ "kbit", 1000ULL, true },
	{ "mbit", 1000000ULL, true },
	{ "gbit", 1000000000ULL, true },
	{ "tbit", 1000000000000ULL, true },
	{ "kibit", 1024ULL, false },
	{ "mibit", 1048576ULL, false },
	{ "gibit", 1073741824ULL, false },
	{ "tibit", 1099511627776ULL, false },
	{ "bps", 8ULL, false },
	{ "kbps", 8000ULL, false },
	{ "mbps", 8000000ULL, false },
	{ "gbps", 8000000000ULL, false },
	{ "tbps", 8000000000000ULL, false },
	{ "kibps", 8192ULL, false },
	{ "mibps", 8388608ULL, false },
	{ "gibps", 8589934592ULL, false },
	{ "tibps", 8796093022208ULL, false },
	{ NULL, 0, false },
};

/* Bytes, as tc's get_size(): binary multiples; "kbit" = 1024 bits / 8. */
static const struct unit size_units[] = {
	{ "b", 1ULL, true },
	{ "k", 1024ULL, false },
	{ "kb", 1024ULL, true },
	{ "m", 1048576ULL, false },
	{ "mb", 1048576ULL, true },
	{ "g", 1073741824ULL, false },
	{ "gb", 1073741824ULL, true },
	{ "kbit", 128ULL, false },
	{ "mbit", 131072ULL, false },
	{ "gbit", 134217728ULL, false },
	{ NULL, 0, false },
};

static const struct quantity q_duration = {
	"duration", duration_units, "ns, us, ms, s, m, h", "ms", 0, "5124095h",
};

static const struct quantity q_rate = {
	"rate",
	rate_units,
	"bit, kbit, mbit, gbit, tbit in bits/s or bps, kbps, mbps, gbps in bytes/s",
	"mbit",
	1,
	"18446744tbit",
};

static const struct quantity q_size = {
	"size", size_units, "b, kb, mb, gb or kbit, mbit, gbit", "kb", 1, "17179869183gb",
};

/* digits [. digits] | . digits; returns -EINVAL when there is no number. */
static int scan_number(const char *s, struct number *n)
{
	memset(n, 0, sizeof(*n));
	n->fscale = 1;
	if (!isdigit((unsigned char)s[0]) && !(s[0] == '.' && isdigit((unsigned char)s[1])))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned int d = (unsigned int)(*s - '0');

		if (n->ip > (UINT64_MAX - d) / 10)
			n->overflow = true;
		else
			n->ip = n->ip * 10 + d;
	}
	if (*s == '.') {
		if (!isdigit((unsigned char)s[1]))
			return -EINVAL;
		for (s++; isdigit((unsigned char)*s); s++) {
			if (n->fscale >= FSCALE_MAX)
				continue; /* digits beyond 10^-18 cannot matter */
			n->fp = n->fp * 10 + (uint64_t)(*s - '0');
			n->fscale *= 10;
		}
	}
	n->end = s;
	return 0;
}

/* value * mult, rounded to the nearest integer; -ERANGE beyond 64 bits. */
static int scale_number(const struct number *n, uint64_t mult, uint64_t *out)
{
	unsigned __int128 v;

	if (n->overflow)
		return -ERANGE;
	v = (unsigned __int128)n->ip * mult;
	v += ((unsigned __int128)n->fp * mult + n->fscale / 2) / n->fscale;
	if (v > UINT64_MAX)
		return -ERANGE;
	*out = (uint64_t)v;
	return 0;
}

static const struct unit *find_unit(const struct unit *units, const char *name)
{
	for (; units->name; units++)
		if (!strcasecmp(units->name, name))
			return units;
	return NULL;
}

static int parse_quantity(const struct quantity *q, const char *text, uint64_t *out,
			  struct fl_err *err)
{
	const struct unit *u;
	struct number n;
	uint64_t mult;

	if (!text || !*text) {
		fl_err_set(err, "empty %s (use a number and a unit: %s)", q->what, q->unit_list);
		return -EINVAL;
	}
	if (text[0] == '-') {
		fl_err_set(err, "%s: negative %s (use a number >= 0 and a unit: %s)", text, q->what,
			   q->unit_list);
		return -EINVAL;
	}
	if (scan_number(text, &n)) {
		fl_err_set(err, "%s: not a %s (use a number and a unit: %s)", text, q->what,
			   q->unit_list);
		return -EINVAL;
	}
	if (!*n.end) {
		if (!q->bare_mult && (n.ip || n.fp || n.overflow)) {
			fl_err_set(err, "%s: missing unit (use %s, e.g. %s%s)", text, q->unit_list,
				   text, q->eg_unit);
			return -EINVAL;
		}
		mult = q->bare_mult ? q->bare_mult : 1;
	} else {
		u = find_unit(q->units, n.end);
		if (!u) {
			fl_err_set(err, "%s: unknown unit '%s' (use %s)", text, n.end,
				   q->unit_list);
			return -EINVAL;
		}
		mult = u->mult;
	}
	if (scale_number(&n, mult, out)) {
		fl_err_set(err, "%s: %s too large (at most %s)", text, q->what, q->max_text);
		return -EINVAL;
	}
	return 0;
}

/* The largest printed unit of a parse table (printed units are ordered
 * small to large) in which v is >= 1 and has at most 3 decimals; trailing
 * zeros cut. */
static void format_scaled(uint64_t v, const struct unit *units, char *buf, size_t len)
{
	const struct unit *u = &units[0];
	unsigned __int128 milli = (unsigned __int128)v * 1000;
	uint64_t whole, frac;
	int digits = 3;

	for (const struct unit *t = units; t->name; t++)
		if (t->print && v >= t->mult && milli % t->mult == 0)
			u = t;
	whole = v / u->mult;
	frac = (uint64_t)(((unsigned __int128)(v % u->mult) * 1000) / u->mult);
	if (!frac) {
		snprintf(buf, len, "%llu%s", (unsigned long long)whole, u->name);
		return;
	}
	while (frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	snprintf(buf, len, "%llu.%0*llu%s", (unsigned long long)whole, digits,
		 (unsigned long long)frac, u->name);
}

int fl_parse_duration(const char *text, uint64_t *ns, struct fl_err *err)
{
	return parse_quantity(&q_duration, text, ns, err);
}

void fl_format_duration(uint64_t ns, char *buf, size_t len)
{
	if (!ns) {
		snprintf(buf, len, "0s");
		return;
	}
	format_scaled(ns, duration_units, buf, len);
}

int fl_parse_rate(const char *text, uint64_t *bps, struct fl_err *err)
{
	return parse_quantity(&q_rate, text, bps, err);
}

void fl_format_rate(uint64_t bps, char *buf, size_t len)
{
	format_scaled(bps, rate_units, buf, len);
}

int fl_parse_size(const char *text, uint64_t *bytes, struct fl_err *err)
{
	return parse_quantity(&q_size, text, bytes, err);
}

void fl_format_size(uint64_t bytes, char *buf, size_t len)
{
	format_scaled(bytes, size_units, buf, len);
}

int fl_parse_percent(const char *text, double *fraction, struct fl_err *err)
{
	static const char *form = "use a percentage 0..100 like 5% or 0.1% (a bare number is a "
				  "percentage, as in tc)";
	struct number n;
	double v;

	if (!text || !*text) {
		fl_err_set(err, "empty percentage (%s)", form);
		return -EINVAL;
	}
	if (text[0] == '-') {
		fl_err_set(err, "%s: negative percentage (%s)", text, form);
		return -EINVAL;
	}
	if (scan_number(text, &n) || (*n.end && strcmp(n.end, "%"))) {
		fl_err_set(err, "%s: not a percentage (%s)", text, form);
		return -EINVAL;
	}
	/* tc-netem reads "loss 0.5" as 0.5 %: so does fallacy */
	v = n.overflow ? 1e20 : (double)n.ip + (double)n.fp / (double)n.fscale;
	v /= 100.0;
	if (v > 1.0) {
		fl_err_set(err, "%s: more than 100%% (%s)", text, form);
		return -EINVAL;
	}
	*fraction = v;
	return 0;
}

void fl_format_percent(double fraction, char *buf, size_t len)
{
	char tmp[64];
	size_t n;

	/* fixed notation (the parser takes no exponent), up to 6 significant
	 * digits below 1 %, trailing zeros trimmed */
	snprintf(tmp, sizeof(tmp), "%.*f", fraction * 100.0 >= 1 ? 4 : 10, fraction * 100.0);
	n = strlen(tmp);
	if (strchr(tmp, '.')) {
		while (n && tmp[n - 1] == '0')
			tmp[--n] = '\0';
		if (n && tmp[n - 1] == '.')
			tmp[--n] = '\0';
	}
	snprintf(buf, len, "%s%%", tmp);
}

static int parse_plen(const char *text, const char *s, int max, uint8_t *plen, struct fl_err *err)
{
	unsigned int v = 0;
	const char *p = s;

	for (; isdigit((unsigned char)*p) && p - s < 4; p++)
		v = v * 10 + (unsigned int)(*p - '0');
	if (p == s || *p) {
		fl_err_set(err, "%s: bad prefix length '%s' (use ADDRESS/LEN, LEN 0..%d)", text, s,
			   max);
		return -EINVAL;
	}
	if (v > (unsigned int)max) {
		fl_err_set(err, "%s: prefix length %u out of range (0..%d for %s)", text, v, max,
			   max == 32 ? "IPv4" : "IPv6");
		return -EINVAL;
	}
	*plen = (uint8_t)v;
	return 0;
}

/* Zero the host bits of a in place; true when any was set. */
static bool clear_host_bits(uint8_t *a, int alen, int plen)
{
	bool set = false;

	for (int i = 0; i < alen; i++) {
		int keep = plen - i * 8;
		uint8_t mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));

		if (a[i] & ~mask)
			set = true;
		a[i] &= mask;
	}
	return set;
}

int fl_parse_prefix(const char *text, struct fl_prefix *out, struct fl_err *err)
{
	static const char *form = "use an address or ADDRESS/LEN, e.g. 198.18.0.0/15 or "
				  "fdfa:11ac::/64";
	char addr[INET6_ADDRSTRLEN + 8], net[INET6_ADDRSTRLEN];
	struct fl_prefix p = { 0 };
	const char *slash;
	size_t alen;

	if (!text || !*text) {
		fl_err_set(err, "empty address (%s)", form);
		return -EINVAL;
	}
	slash = strchr(text, '/');
	alen = slash ? (size_t)(slash - text) : strlen(text);
	if (alen >= sizeof(addr)) {
		fl_err_set(err, "%s: not an IPv4 or IPv6 address (%s)", text, form);
		return -EINVAL;
	}
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, p.addr) == 1)
		p.family = AF_INET;
	else if (inet_pton(AF_INET6, addr, p.addr) == 1)
		p.family = AF_INET6;
	else {
		fl_err_set(err, "%s: not an IPv4 or IPv6 address (%s)", text, form);
		return -EINVAL;
	}
	p.plen = p.family == AF_INET ? 32 : 128;
	if (slash && parse_plen(text, slash + 1, p.plen, &p.plen, err))
		return -EINVAL;
	if (clear_host_bits(p.addr, p.family == AF_INET ? 4 : 16, p.plen)) {
		inet_ntop(p.family, p.addr, net, sizeof(net));
		fl_err_set(err, "%s: host bits set after /%u (did you mean %s/%u?)", text, p.plen,
			   net, p.plen);
		return -EINVAL;
	}
	*out = p;
	return 0;
}

bool fl_prefix_contains(const struct fl_prefix *p, int family, const void *addr)
{
	uint8_t a[16];
	int alen = family == AF_INET ? 4 : 16;

	if (family != p->family)
		return false;
	memcpy(a, addr, (size_t)alen);
	clear_host_bits(a, alen, p->plen);
	return !memcmp(a, p->addr, (size_t)alen);
}

/* One port 1..65535 from s up to end; the message names the whole text. */
static int parse_port(const char *text, const char *s, const char *end, uint16_t *port,
		      struct fl_err *err)
{
	uint64_t v = 0;
	const char *p = s;

	for (; p < end && isdigit((unsigned char)*p); p++)
		if (v <= PORT_MAX) /* stays above PORT_MAX once there */
			v = v * 10 + (uint64_t)(*p - '0');
	if (p == s || p != end) {
		fl_err_set(err, "%s: not a port or port range (use N or N-M, ports 1..%d)", text,
			   PORT_MAX);
		return -EINVAL;
	}
	if (v < 1 || v > PORT_MAX) {
		fl_err_set(err, "%s: port %.*s out of range (use 1..%d)", text, (int)(end - s), s,
			   PORT_MAX);
		return -EINVAL;
	}
	*port = (uint16_t)v;
	return 0;
}

int fl_parse_port_range(const char *text, struct fl_port_range *out, struct fl_err *err)
{
	struct fl_port_range r;
	const char *dash, *end;

	if (!text || !*text) {
		fl_err_set(err, "empty port (use N or N-M, ports 1..65535)");
		return -EINVAL;
	}
	end = text + strlen(text);
	dash = strchr(text, '-');
	if (parse_port(text, text, dash ? dash : end, &r.lo, err))
		return -EINVAL;
	r.hi = r.lo;
	if (dash && parse_port(text, dash + 1, end, &r.hi, err))
		return -EINVAL;
	if (r.lo > r.hi) {
		fl_err_set(err, "%s: empty port range (the first port must be <= the second)",
			   text);
		return -EINVAL;
	}
	*out = r;
	return 0;
}

int fl_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out, struct fl_err *err)
{
	struct number n;
	uint64_t v;

	if (!text || !*text) {
		fl_err_set(err, "empty number (use an integer %llu..%llu)", (unsigned long long)min,
			   (unsigned long long)max);
		return -EINVAL;
	}
	if (scan_number(text, &n) || *n.end || n.fscale != 1 || text[0] == '.') {
		fl_err_set(err, "%s: not a whole number (use an integer %llu..%llu)", text,
			   (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	v = n.ip;
	if (n.overflow || v < min || v > max) {
		fl_err_set(err, "%s: out of range (use an integer %llu..%llu)", text,
			   (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static bool name_char(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return true;
	return !first && (c == '_' || c == '-');
}

int fl_validate_name(const char *what, const char *text, size_t max_len, struct fl_err *err)
{
	static const char *form = "a-z, 0-9, '_' and '-', starting with a-z or 0-9";
	size_t len = text ? strlen(text) : 0;

	if (!len) {
		fl_err_set(err, "empty %s (use %s)", what, form);
		return -EINVAL;
	}
	if (len > max_len) {
		fl_err_set(err, "%s: %s too long (%zu bytes, at most %zu)", text, what, len,
			   max_len);
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		if (name_char(text[i], i == 0))
			continue;
		if (isprint((unsigned char)text[i]))
			fl_err_set(err, "%s: invalid %s, '%c' not allowed%s (use %s)", text, what,
				   text[i],
				   name_char(text[i], false) ? " as the first character" : "",
				   form);
		else
			fl_err_set(err, "%s: invalid %s, byte 0x%02x not allowed (use %s)", text,
				   what, (unsigned char)text[i], form);
		return -EINVAL;
	}
	return 0;
}

/* Levenshtein distance with one rolling row; strings longer than 63 bytes
 * are never close enough to suggest. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64];

	if (la >= 64 || lb >= 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

const char *fl_suggest(const char *text, const char *const *candidates, size_t n)
{
	const char *best = NULL;
	size_t best_d = 3;

	if (!text)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t d;

		if (!candidates[i])
			continue;
		d = edit_distance(text, candidates[i]);
		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best;
}
