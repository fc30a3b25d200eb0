/* SPDX-License-Identifier: MIT */
/* Clocks in nanoseconds: CLOCK_MONOTONIC (events' mono_ns, operations,
 * fault windows, deadlines) and CLOCK_REALTIME (wall_ns, pcap timestamps),
 * and struct timespec to and from nanoseconds. Header only. */
#ifndef FALLACY_CLOCK_H
#define FALLACY_CLOCK_H

#include <stdint.h>
#include <time.h>

#define FL_NSEC_PER_SEC 1000000000ULL
#define FL_NSEC_PER_MSEC 1000000ULL
#define FL_NSEC_PER_USEC 1000ULL

static inline uint64_t fl_ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * FL_NSEC_PER_SEC + (uint64_t)ts->tv_nsec;
}

static inline struct timespec fl_ns_ts(uint64_t ns)
{
	return (struct timespec){ .tv_sec = (time_t)(ns / FL_NSEC_PER_SEC),
				  .tv_nsec = (long)(ns % FL_NSEC_PER_SEC) };
}

static inline uint64_t fl_clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return fl_ts_ns(&ts);
}

static inline uint64_t fl_clock_mono_ns(void)
{
	return fl_clock_ns(CLOCK_MONOTONIC);
}

static inline uint64_t fl_clock_wall_ns(void)
{
	return fl_clock_ns(CLOCK_REALTIME);
}

#endif
