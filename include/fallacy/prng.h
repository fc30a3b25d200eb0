/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/* Counter-based PRNG shared by the BPF data plane and userspace (delay line,
 * tests, replay). A draw is a pure function of (seed, rule id, stream,
 * per-rule packet sequence): the same seed and the same packet sequence give
 * the same decisions, whatever else runs. SplitMix64 finaliser (Steele,
 * Lea, Flood 2014) applied twice. */
#ifndef FALLACY_PRNG_H
#define FALLACY_PRNG_H

#ifdef __BPF__
#define FL_PRNG_INLINE static __always_inline
#else
#include <linux/types.h> /* the same __u64/__u32 as rule.h and the kernel's */
#define FL_PRNG_INLINE static inline
#endif

#define FL_GOLDEN64 0x9e3779b97f4a7c15ULL

/* Streams keep independent draws of one packet apart. */
enum fl_prng_stream {
	FL_STREAM_LOSS = 1,
	FL_STREAM_GE_STATE = 2,
	FL_STREAM_DUPLICATE = 3,
	FL_STREAM_CORRUPT = 4,
	FL_STREAM_CORRUPT_BIT = 5,
	FL_STREAM_DELAY = 6,
	FL_STREAM_REORDER = 7,
	FL_STREAM_RESET = 8,
	FL_STREAM_TAMPER = 9,
	FL_STREAM_TAMPER_POS = 10,
	FL_STREAM_REPLAY = 11,
};

FL_PRNG_INLINE __u64 fl_mix64(__u64 z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

FL_PRNG_INLINE __u64 fl_prng(__u64 seed, __u32 rule_id, __u32 stream, __u64 seq)
{
	__u64 key = fl_mix64(seed ^ ((((__u64)rule_id << 32) | stream) * FL_GOLDEN64));

	return fl_mix64(key + (seq + 1) * FL_GOLDEN64);
}

/* Probabilities are on the scale of a draw's upper 32 bits: p is stored
 * as round(p * FL_PROB_ONE), so 0 is never and FL_PROB_ONE always. */
#define FL_PROB_ONE (1ULL << 32)

/* True with probability prob / FL_PROB_ONE. */
FL_PRNG_INLINE int fl_chance(__u64 draw, __u64 prob)
{
	return (draw >> 32) < prob;
}

/* The probability that at least one of n independent events of
 * probability prob happens, 1 - (1 - p)^n, on the same scale (rounded
 * down; exact for 0, FL_PROB_ONE and n = 1): what one decision over a GSO
 * super-packet of n segments uses so that it is lost as often as one of
 * its segments would be. n < 2^16 (gso_segs). */
FL_PRNG_INLINE __u64 fl_prob_any(__u64 prob, __u32 n)
{
	__u64 q, keep = FL_PROB_ONE;

	if (n <= 1 || !prob || prob >= FL_PROB_ONE)
		return n ? prob : 0;
	q = FL_PROB_ONE - prob; /* < 2^32: products fit in 64 bits */
	for (int i = 0; i < 16; i++) {
		if (n & 1)
			keep = (keep * q) >> 32;
		q = (q * q) >> 32;
		n >>= 1;
		if (!n)
			break;
	}
	return FL_PROB_ONE - keep;
}

#endif
