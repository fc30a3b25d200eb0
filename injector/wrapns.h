/* SPDX-License-Identifier: MIT */
/* The network namespace of a `fallacy wrap` session: lo up, and with
 * extra addresses 198.18.0.1/15 and fdfa:11ac::1/64 on lo so that servers
 * binding a non-loopback address work. On a loopback device the kernel
 * makes the whole prefix local, so any 198.18.x.y can be bound; all of it
 * travels over lo and through lo's fault point. */
#ifndef FALLACY_WRAPNS_H
#define FALLACY_WRAPNS_H

#include <stdbool.h>

#define FL_WRAP_ADDR4 "198.18.0.1"
#define FL_WRAP_PLEN4 15
#define FL_WRAP_ADDR6 "fdfa:11ac::1"
#define FL_WRAP_PLEN6 64

struct fl_wrapns_opts {
	bool extra_addrs; /* 198.18.0.1/15 and fdfa:11ac::1/64 on lo */
	/* > 0: lo's MTU (rate caps: a 64 KiB loopback packet is too coarse
	 * for a 10 Mbit/s token bucket, measured 4.2 Mbit/s of 10 at MTU
	 * 65536, 9.96 at 16384) */
	unsigned int lo_mtu;
	/* accept IPv4 loopback packets that re-enter lo without their route
	 * (the data plane's duplicates): route_localnet=1 and accept_local=1
	 * on lo, else the copy of a 127.0.0.1 packet dies as a martian */
	bool loopback_copies;
};

/* Bring lo up inside the named namespace and apply opts. The namespace is
 * the session's own, so nothing here needs undoing: it goes away with the
 * namespace. */
int fl_wrapns_setup(const char *netns, const struct fl_wrapns_opts *opts);

/* The MTU wrap gives lo when a rate cap may apply. */
#define FL_WRAP_RATE_MTU 16384

/* In a forked child, before dropping privileges and exec: enter the
 * namespace, make the mount namespace private (only the network and the
 * mount namespace change), remount /sys so it shows this namespace's
 * interfaces, and bind `hosts` over /etc/hosts when it is not NULL. */
int fl_wrapns_enter_child(const char *netns, const char *hosts);

#endif
