// SPDX-License-Identifier: MIT
/* The unit parsers (durations, leases, rates, percentages, sizes, prefixes,
 * port ranges, numbers, names): never crash, and what parses prints back to a
 * text that parses to the same value. */
#include "fuzz.h"

#include <arpa/inet.h>
#include <errno.h>

#include "parse.h"
#include "supervisor/session.h"

/* "ADDR/LEN" as the prefix parser reads it (the product prints none). */
static void format_prefix(const struct fl_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(p->family, p->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, p->plen);
}

static void round_trips(const char *text)
{
	struct fl_err e;
	char buf[128];
	uint64_t a, b;
	double f, g;
	struct fl_prefix p, q;

	if (!fl_parse_duration(text, &a, &e)) {
		fl_format_duration(a, buf, sizeof(buf));
		FUZZ_ASSERT(!fl_parse_duration(buf, &b, &e) && a == b, "duration %s -> %s", text,
			    buf);
	}
	/* --lease and the session folder's lease file */
	if (!fl_lease_parse(text, &a, &e)) {
		FUZZ_ASSERT(!a || (a >= FL_LEASE_MIN_NS && a <= FL_LEASE_MAX_NS), "lease %s", text);
		fl_lease_format(a, buf, sizeof(buf));
		FUZZ_ASSERT(!fl_lease_parse(buf, &b, &e) && a == b, "lease %s -> %s", text, buf);
	}
	if (!fl_parse_rate(text, &a, &e)) {
		fl_format_rate(a, buf, sizeof(buf));
		FUZZ_ASSERT(!fl_parse_rate(buf, &b, &e), "rate %s -> %s", text, buf);
	}
	if (!fl_parse_size(text, &a, &e)) {
		fl_format_size(a, buf, sizeof(buf));
		FUZZ_ASSERT(!fl_parse_size(buf, &b, &e), "size %s -> %s", text, buf);
	}
	if (!fl_parse_percent(text, &f, &e)) {
		FUZZ_ASSERT(f >= 0 && f <= 1, "percent %s = %g", text, f);
		fl_format_percent(f, buf, sizeof(buf));
		FUZZ_ASSERT(!fl_parse_percent(buf, &g, &e), "percent %s -> %s", text, buf);
	}
	if (!fl_parse_prefix(text, &p, &e)) {
		format_prefix(&p, buf, sizeof(buf));
		FUZZ_ASSERT(!fl_parse_prefix(buf, &q, &e) && p.plen == q.plen &&
				    !memcmp(p.addr, q.addr, 16),
			    "prefix %s -> %s", text, buf);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size);
	struct fl_port_range r;
	struct fl_err e;
	uint64_t u;

	round_trips(s);
	if (!fl_parse_port_range(s, &r, &e))
		FUZZ_ASSERT(r.lo >= 1 && r.lo <= r.hi, "ports %s", s);
	fl_parse_u64(s, 0, UINT64_MAX, &u, &e);
	fl_validate_name("name", s, 16, &e);
	free(s);
	return 0;
}
