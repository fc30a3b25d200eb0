// SPDX-License-Identifier: MIT
/* lo up and the extra loopback addresses of a wrap namespace (libnl). */
#include "lab.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "log.h"
#include "netns.h"
#include "state/journal.h"

static int nl_err(const char *what, const char *netns, int nlerr)
{
	pr_err("%s in namespace %s: %s", what, netns, nl_geterror(nlerr));
	return nlerr == -NLE_PERM ? -EPERM : nlerr == -NLE_EXIST ? -EEXIST : -EIO;
}

static int lo_up(struct nl_sock *sk, const char *netns, unsigned int mtu)
{
	struct rtnl_link *lo = NULL, *change = NULL;
	int rc;

	rc = rtnl_link_get_kernel(sk, 0, "lo", &lo);
	if (rc < 0)
		return nl_err("finding lo", netns, rc);
	change = rtnl_link_alloc();
	if (!change) {
		rc = -ENOMEM;
		goto cleanup;
	}
	rtnl_link_set_flags(change, IFF_UP);
	if (mtu)
		rtnl_link_set_mtu(change, mtu);
	rc = rtnl_link_change(sk, lo, change, 0);
	rc = rc < 0 ? nl_err("bringing lo up", netns, rc) : 0;
cleanup:
	rtnl_link_put(change);
	rtnl_link_put(lo);
	return rc;
}

static int add_addr(struct nl_sock *sk, const char *netns, int family, const char *text, int plen)
{
	struct rtnl_addr *addr = rtnl_addr_alloc();
	struct nl_addr *local = NULL;
	int rc;

	if (!addr)
		return -ENOMEM;
	rc = nl_addr_parse(text, family, &local);
	if (rc < 0) {
		rc = nl_err("parsing the wrap address", netns, rc);
		goto cleanup;
	}
	nl_addr_set_prefixlen(local, plen);
	rtnl_addr_set_ifindex(addr, 1); /* lo is always ifindex 1 in a new namespace */
	rtnl_addr_set_local(addr, local);
	rtnl_addr_set_flags(addr, IFA_F_NODAD);
	rc = rtnl_addr_add(sk, addr, 0);
	if (rc < 0)
		rc = nl_err(family == AF_INET ? "adding " FL_WRAP_ADDR4 " to lo" :
						"adding " FL_WRAP_ADDR6 " to lo",
			    netns, rc);
cleanup:
	nl_addr_put(local);
	rtnl_addr_put(addr);
	return rc;
}

/* /proc/sys/net belongs to the namespace of the thread that opens it. */
static int sysctl_here(const char *netns, const char *path, const char *val)
{
	FILE *f = fopen(path, "w");
	int rc = 0;

	if (!f || fputs(val, f) < 0)
		rc = -errno;
	if (f && fclose(f) && !rc)
		rc = -errno;
	if (rc)
		pr_err("setting %s in namespace %s: %s", path, netns, strerror(-rc));
	return rc;
}

/* The netlink socket must be created inside the namespace. */
static int setup_here(const char *netns, const struct fl_wrapns_opts *o)
{
	struct nl_sock *sk = nl_socket_alloc();
	int rc;

	if (!sk)
		return -ENOMEM;
	rc = nl_connect(sk, NETLINK_ROUTE);
	if (rc < 0) {
		rc = nl_err("connecting to rtnetlink", netns, rc);
		goto cleanup;
	}
	rc = lo_up(sk, netns, o->lo_mtu);
	if (!rc && o->extra_addrs)
		rc = add_addr(sk, netns, AF_INET, FL_WRAP_ADDR4, FL_WRAP_PLEN4);
	if (!rc && o->extra_addrs)
		rc = add_addr(sk, netns, AF_INET6, FL_WRAP_ADDR6, FL_WRAP_PLEN6);
	if (!rc && o->loopback_copies)
		rc = sysctl_here(netns, "/proc/sys/net/ipv4/conf/lo/route_localnet", "1");
	if (!rc && o->loopback_copies)
		rc = sysctl_here(netns, "/proc/sys/net/ipv4/conf/lo/accept_local", "1");
cleanup:
	nl_socket_free(sk);
	return rc;
}

static int setup(const char *netns, const struct fl_wrapns_opts *opts)
{
	int nsfd, saved = -1, rc, rc2;

	nsfd = fl_netns_open(netns);
	if (nsfd < 0) {
		pr_err("namespace %s: %s", netns, strerror(-nsfd));
		return nsfd;
	}
	rc = fl_netns_enter(nsfd, &saved);
	close(nsfd);
	if (rc) {
		pr_err("entering namespace %s: %s", netns, strerror(-rc));
		return rc;
	}
	rc = setup_here(netns, opts);
	rc2 = fl_netns_leave(saved);
	return rc ? rc : rc2;
}

int fl_wrapns_create(struct fl_state *st, const char *netns, const struct fl_wrapns_opts *opts)
{
	struct fl_rec rec;
	int rc = fl_state_begin(st, &rec, "netns", "%s", netns);

	if (!rc)
		rc = fl_netns_create(netns);
	if (rc == -EEXIST) /* somebody else's (a lab named wrap-PID) */
		rc = fl_state_existed(&rec) ?: -EEXIST;
	if (rc) {
		pr_err("wrap: creating namespace %s: %s", netns, strerror(-rc));
		return rc;
	}
	return setup(netns, opts);
}

int fl_wrapns_enter_child(const char *netns, const char *hosts)
{
	int saved = -1, rc;

	rc = fl_netns_enter_spec(netns, &saved);
	if (rc)
		return rc;
	close(saved);
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL))
		return -errno;
	/* sysfs shows the namespace of whoever mounts it: a new one on top
	 * of /sys. Not umount2(/sys, MNT_DETACH) first, as `ip netns exec`
	 * does: detaching /sys with its submounts took 2-70 ms of a wrap's
	 * start on a busy machine; the new mount hides them all the same. */
	if (mount(netns, "/sys", "sysfs", 0, NULL))
		return -errno;
	if (hosts && mount(hosts, "/etc/hosts", NULL, MS_BIND, NULL))
		return -errno;
	return 0;
}
