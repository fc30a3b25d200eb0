/* SPDX-License-Identifier: MIT */
/* A pcapng copy of a nanosecond pcap file with notes (events) as comments:
 * every note is a comment of the section header, and each note is also a
 * comment of the first packet at or after its time, so Wireshark shows
 * "fault cut" on the first packet that met the fault and
 * `tshark -Y 'frame.comment contains "fault"'` finds it. */
#ifndef FALLACY_PCAPNG_H
#define FALLACY_PCAPNG_H

#include <stddef.h>
#include <stdint.h>

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
