/* SPDX-License-Identifier: MIT */
/* Shared parsers for the units people type: durations, rates, percentages,
 * sizes, IP prefixes, port ranges. Each returns 0 or -EINVAL and, on error,
 * fills err with a message that starts with the text and names the
 * expected form, e.g. "5xs: unknown unit 'xs' (use ns, us, ms, s, m, h)".
 * The caller prefixes its context: pr_err("--delay %s", err.msg). */
#ifndef FALLACY_PARSE_H
#define FALLACY_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

/* "250us" "50ms" "2s" "1m" "1h" "1.5s"; a bare number is an error
 * (ambiguous) except "0". Result in nanoseconds. */
int fl_parse_duration(const char *text, uint64_t *ns, struct fl_err *err);
/* Prints with the largest unit that keeps it exact: "50ms", "1.5s", "250us". */
void fl_format_duration(uint64_t ns, char *buf, size_t len);

/* Rates as tc reads them: bit, kbit, mbit, gbit, tbit (bits per second,
 * SI: 1kbit = 1000 bit/s); bps, kbps, mbps, gbps (BYTES per second, as tc);
 * a bare number is bits per second. Result in bits per second. */
int fl_parse_rate(const char *text, uint64_t *bps, struct fl_err *err);
void fl_format_rate(uint64_t bps, char *buf, size_t len);

/* "5%" "0.1%" "100%"; a bare number is a percentage too, as in tc-netem
 * ("0.5" = 0.5 %). Result: a fraction in [0, 1]. */
int fl_parse_percent(const char *text, double *fraction, struct fl_err *err);
void fl_format_percent(double fraction, char *buf, size_t len);

/* The largest pid (the kernel's PID_MAX_LIMIT on 64-bit), for --pid. */
#define FL_PID_MAX 4194304

/* Sizes as tc reads them: b, k/kb, m/mb, g/gb (bytes, binary 1024),
 * kbit, mbit, gbit (bits, divided by 8); a bare number is bytes. */
int fl_parse_size(const char *text, uint64_t *bytes, struct fl_err *err);
void fl_format_size(uint64_t bytes, char *buf, size_t len);

struct fl_prefix {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network byte order; first 4 bytes for AF_INET */
	uint8_t plen; /* 0..32 or 0..128 */
};

/* "198.18.0.1" (= /32), "198.18.0.0/15", "fdfa:11ac::1", "fdfa:11ac::/64".
 * Host bits beyond plen must be zero ("198.18.0.1/24" is an error). */
int fl_parse_prefix(const char *text, struct fl_prefix *out, struct fl_err *err);
bool fl_prefix_contains(const struct fl_prefix *p, int family, const void *addr);

struct fl_port_range {
	uint16_t lo, hi; /* inclusive; lo <= hi; 1..65535 */
};

/* "5201" or "8000-8100". */
int fl_parse_port_range(const char *text, struct fl_port_range *out, struct fl_err *err);

/* Unsigned integer with range check: "--seed 42". */
int fl_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out, struct fl_err *err);

/* Names of labs, nodes and fault ids: [a-z0-9][a-z0-9_-]*, max_len bytes. */
int fl_validate_name(const char *what, const char *text, size_t max_len, struct fl_err *err);

/* Levenshtein-nearest candidate within distance 2, or NULL: for
 * "unknown fault 'lose' (did you mean 'loss'?)". */
const char *fl_suggest(const char *text, const char *const *candidates, size_t n);

#endif
