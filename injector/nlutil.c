// SPDX-License-Identifier: MIT
#include "nlutil.h"

#include <errno.h>
#include <unistd.h>

#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "netns.h"

int fl_nl_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case 0:
		return 0;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_EXIST:
		return -EEXIST;
	case NLE_INVAL:
	case NLE_RANGE:
		return -EINVAL;
	case NLE_OPNOTSUPP:
	case NLE_AF_NOSUPPORT:
		return -EOPNOTSUPP;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_NODEV:
		return -ENODEV;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_PERM:
	case NLE_NOACCESS:
		return -EPERM;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_INTR:
		return -EINTR;
	case NLE_MSGSIZE:
		return -EMSGSIZE;
	case NLE_NOADDR:
		return -EADDRNOTAVAIL;
	default:
		return -EIO;
	}
}

int fl_nl_route_in(int nsfd, struct nl_sock **out)
{
	struct nl_sock *sk = NULL;
	int saved = -1, err;

	*out = NULL;
	if (nsfd >= 0) {
		err = fl_netns_enter(nsfd, &saved);
		if (err)
			return err;
	}
	sk = nl_socket_alloc();
	if (!sk) {
		err = -ENOMEM;
		goto out;
	}
	err = nl_connect(sk, NETLINK_ROUTE);
	if (err < 0) {
		err = fl_nl_errno(err);
		nl_socket_free(sk);
		goto out;
	}
	*out = sk;
	err = 0;
out:
	if (saved >= 0) {
		int e = fl_netns_leave(saved);

		if (e && !err) {
			/* never keep running in the wrong namespace */
			nl_socket_free(*out);
			*out = NULL;
			err = e;
		}
	}
	return err;
}

int fl_nl_route_in_spec(const char *spec, struct nl_sock **out)
{
	int fd = fl_netns_open_spec(spec), err;

	if (fd < 0)
		return fd;
	err = fl_nl_route_in(fd, out);
	close(fd);
	return err;
}

int fl_nl_ifindex(struct nl_sock *sk, const char *ifname)
{
	struct rtnl_link *link = NULL;
	int err, idx;

	err = rtnl_link_get_kernel(sk, 0, ifname, &link);
	if (err < 0) {
		err = fl_nl_errno(err);
		return err == -ENOENT ? -ENODEV : err;
	}
	idx = rtnl_link_get_ifindex(link);
	rtnl_link_put(link);
	return idx > 0 ? idx : -ENODEV;
}
