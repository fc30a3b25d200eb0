/* SPDX-License-Identifier: MIT */
/* Named network namespaces, compatible with iproute2: a namespace NAME is a
 * bind mount of a netns file on /run/netns/NAME, so `ip netns exec NAME`
 * and `ip netns list` see what fallacy made, and fallacy can attach to
 * namespaces made by others. /etc/netns/NAME/hosts is bind-mounted over
 * /etc/hosts by fl_netns_exec, as `ip netns exec` does. */
#ifndef FALLACY_NETNS_H
#define FALLACY_NETNS_H

#include <sys/types.h>

/* Create /run/netns/NAME holding a fresh namespace (lo stays down). */
int fl_netns_create(const char *name);
/* Unmount and unlink /run/netns/NAME. -ENOENT if absent. */
int fl_netns_delete(const char *name);
/* O_RDONLY|O_CLOEXEC fd of the namespace; -errno on failure. */
int fl_netns_open(const char *name);
int fl_netns_open_pid(pid_t pid);
/* "NAME", "pid:PID" or "-" (current) as used in the journal. */
int fl_netns_open_spec(const char *spec);

/* Switch the calling thread into nsfd; *saved gets an fd of the old one. */
int fl_netns_enter(int nsfd, int *saved);
/* Switch back and close saved. */
int fl_netns_leave(int saved);
/* fl_netns_open_spec + fl_netns_enter: the calling thread goes into SPEC;
 * "-" or NULL stays where it is (*saved = -1). Leave with
 * fl_netns_leave(*saved) when *saved >= 0. */
int fl_netns_enter_spec(const char *spec, int *saved);

/* In a forked child: enter NAME (network + a private mount namespace with
 * each /etc/netns/NAME/FILE bound over /etc/FILE, /sys remounted) and execvp argv.
 * Returns only on error. */
int fl_netns_exec(const char *name, char *const argv[]);

#endif
