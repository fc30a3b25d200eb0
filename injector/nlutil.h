/* SPDX-License-Identifier: MIT */
/* Small libnl helpers shared by the injector: route sockets opened inside a
 * given network namespace, and libnl error codes mapped to -errno. */
#ifndef FALLACY_NLUTIL_H
#define FALLACY_NLUTIL_H

struct nl_sock;

/* -NLE_* (or NLE_*) to -errno, for callers that return 0/-errno. */
int fl_nl_errno(int nlerr);

/* A connected NETLINK_ROUTE socket that lives in namespace nsfd (or in the
 * caller's own namespace when nsfd < 0). The calling thread is switched
 * into nsfd only while the socket is created. Returns 0 or -errno. */
int fl_nl_route_in(int nsfd, struct nl_sock **out);

/* Same, with the namespace given as a journal spec ("NAME", "pid:PID", "-"). */
int fl_nl_route_in_spec(const char *spec, struct nl_sock **out);

/* Index of IFNAME in the socket's namespace; -ENODEV if absent. */
int fl_nl_ifindex(struct nl_sock *sk, const char *ifname);

#endif
