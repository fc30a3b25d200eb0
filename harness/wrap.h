/* SPDX-License-Identifier: MIT */
/* `fallacy wrap`: run one command (a test suite) in a fresh network
 * namespace whose loopback suffers faults, as the invoking user, and
 * return its exit status. Session `@wrap-PID`, namespace `fl-wrap-PID`,
 * both journaled before they exist so `fallacy cleanup` can remove them
 * after a crash. */
#ifndef FALLACY_WRAP_H
#define FALLACY_WRAP_H

#include <stdbool.h>
#include <stdint.h>

#include "faults/fault.h"
#include "parse.h"

#define FL_WRAP_MAX_FAULTS 16

struct fl_wrap_opts {
	/* the option faults (--loss, --delay ...: the kinds' wrap flags), one
	 * per kind, typed; ids wrap-KIND */
	struct fl_fault *faults[FL_WRAP_MAX_FAULTS];
	int n_faults;
	struct fl_port_range port; /* with has_port: only traffic to/from these ports */
	bool has_port;
	const char *scenario; /* timeline file, NULL = none */
	uint64_t seed; /* random unless --seed: printed and recorded */
	bool has_seed;
	const char *out_dir; /* events.jsonl, counters.json, wrap.pcap; NULL = none */
	bool capture; /* write OUT/wrap.pcap */
	const char *user; /* run CMD as this user; NULL = SUDO_UID or ourselves */
	bool addr; /* add 198.18.0.1/15 and fdfa:11ac::1/64 on lo */
	/* serve the session's faults to the command on a control socket
	 * (FALLACY_CONTROL, docs/control.md) */
	bool control;
	bool quiet; /* no summary line */
	char **argv; /* the command, NULL-terminated */
};

/* Whether any fault option was given. */
bool fl_wrap_has_faults(const struct fl_wrap_opts *o);
void fl_wrap_opts_free(struct fl_wrap_opts *o);

/* Everything fl_wrap_run checks before it creates anything (the option
 * faults, the --scenario file and its steps), and nothing else: for
 * `fallacy --check wrap`. 0 or -errno after a message. */
int fl_wrap_check(const struct fl_wrap_opts *o);

/* Run the command. Returns its exit status (0..255; 128+N when killed by
 * signal N; 127 when it cannot be started) or -errno when the session
 * could not be set up (nothing is left behind then). */
int fl_wrap_run(const struct fl_wrap_opts *o);

#endif
