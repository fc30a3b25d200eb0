/* SPDX-License-Identifier: MIT */
/* Run a program to completion, optionally inside a network namespace, with
 * a string on its standard input and its output captured: the injector's
 * one way of running a helper program (iptables-restore, iptables -C/-D).
 * The product runs no other programs for its own work (DESIGN.md). */
#ifndef FALLACY_SPAWN_H
#define FALLACY_SPAWN_H

#include <stddef.h>

/* Exit status reported when the namespace could not be entered. */
#define FL_SPAWN_NO_NETNS 125

struct fl_spawn_cmd {
	char *const *argv; /* argv[0] is looked up in PATH */
	const char *netns; /* journal spec (NAME, pid:PID, -) or NULL: here */
	const char *input; /* written to stdin, then closed; NULL: /dev/null */
	char *out; /* stdout + stderr (first out_len - 1 bytes, no trailing
		    * newline); NULL: discarded */
	size_t out_len;
};

/* The program's exit status (128 + signal when killed; 127 when it could
 * not be run; FL_SPAWN_NO_NETNS), or -errno when it could not be started.
 * The program dies with the calling process (PR_SET_PDEATHSIG). */
int fl_spawn_wait(const struct fl_spawn_cmd *c);

#endif
