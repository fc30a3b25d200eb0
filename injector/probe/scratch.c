// SPDX-License-Identifier: MIT
/* The kernel probes, run by a forked child inside a network namespace it
 * has just unshared. Nothing here is undone explicitly: the namespace, and
 * every device, qdisc, filter, rule and queue in it, goes away when the
 * child exits. Qdiscs and links through libnl, the BPF program through its
 * skeleton, the queue through libmnl + libnetfilter_queue, the NFQUEUE
 * rule through iptables-restore --noflush. */
#include "scratch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/class.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/qdisc/tbf.h>

#include "probe.skel.h"
#include "shape/shape.h"

/* How long the test packet may take to be seen. */
#define PACKET_WAIT_MS 100

#define BRNF_SYSCTL "/proc/sys/net/bridge/bridge-nf-call-iptables"

static int link_up(struct nl_sock *sk, const char *dev)
{
	struct rtnl_link *link = NULL, *change = NULL;
	int err;

	err = rtnl_link_get_kernel(sk, 0, dev, &link);
	if (err < 0)
		goto cleanup;
	change = rtnl_link_alloc();
	if (!change) {
		err = -NLE_NOMEM;
		goto cleanup;
	}
	rtnl_link_set_flags(change, IFF_UP);
	err = rtnl_link_change(sk, link, change, 0);
cleanup:
	rtnl_link_put(change);
	rtnl_link_put(link);
	return err;
}

int fl_probe_send_packet(void)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(FL_PROBE_PORT) };
	int fd, ret = 0;

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (sendto(fd, "fallacy-probe", 13, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static void probe_veth(struct nl_sock *sk, struct fl_probe_report *rep)
{
	int err = rtnl_link_veth_add(sk, "flp0", "flp1", getpid());

	if (err < 0)
		fl_probe_set(rep, FL_PROBE_VETH, false, "adding veth flp0/flp1: %s",
			     nl_geterror(err));
	else
		fl_probe_set(rep, FL_PROBE_VETH, true, "veth pair created");
}

static void probe_ifb(struct nl_sock *sk, struct fl_probe_report *rep)
{
	struct rtnl_link *link = rtnl_link_alloc();
	int err = -NLE_NOMEM;

	if (link) {
		rtnl_link_set_name(link, "flpifb0");
		err = rtnl_link_set_type(link, "ifb");
		if (err >= 0)
			err = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
		rtnl_link_put(link);
	}
	if (err < 0)
		fl_probe_set(rep, FL_PROBE_IFB, false, "adding ifb device: %s", nl_geterror(err));
	else
		fl_probe_set(rep, FL_PROBE_IFB, true, "ifb device created");
}

/* tc BPF: load the skeleton, clsact on lo ingress, attach, see a packet. */
static void probe_cls_bpf(struct fl_probe_report *rep)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = 1, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1);
	struct probe_bpf *skel = probe_bpf__open_and_load();
	int err;

	if (!skel) {
		fl_probe_set(rep, FL_PROBE_CLS_BPF, false, "loading the probe BPF program: %s",
			     strerror(errno));
		return;
	}
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		fl_probe_set(rep, FL_PROBE_CLS_BPF, false, "adding clsact on lo: %s",
			     strerror(-err));
		goto cleanup;
	}
	opts.prog_fd = bpf_program__fd(skel->progs.probe);
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		fl_probe_set(rep, FL_PROBE_CLS_BPF, false, "attaching cls_bpf on lo: %s",
			     strerror(-err));
		goto cleanup;
	}
	fl_probe_send_packet();
	for (int ms = 0; ms < PACKET_WAIT_MS && !skel->bss->hits; ms++)
		usleep(1000);
	if (skel->bss->hits)
		fl_probe_set(rep, FL_PROBE_CLS_BPF, true,
			     "program loaded, attached to lo ingress, saw %llu packet(s)",
			     (unsigned long long)skel->bss->hits);
	else
		fl_probe_set(rep, FL_PROBE_CLS_BPF, false,
			     "program attached to lo ingress but saw no packet");
cleanup:
	probe_bpf__destroy(skel);
}

/* Adds (or replaces) the root qdisc of dev; kind-specific set-up in fill. */
/* A qdisc of kind as the root of dev, the way the shaper adds its own. */
static int add_root_qdisc(struct nl_sock *sk, const char *dev, const char *kind,
			  fl_shape_fill_fn fill)
{
	int ifindex = (int)if_nametoindex(dev);

	if (!ifindex)
		return -NLE_NODEV;
	return fl_shape_qdisc_add(sk, ifindex, TC_H_ROOT, TC_HANDLE(1, 0), kind,
				  NLM_F_CREATE | NLM_F_REPLACE, fill, NULL, NULL);
}

static int fill_tbf(struct rtnl_qdisc *q, const struct fl_rate *r, const void *arg)
{
	(void)r;
	(void)arg;
	rtnl_qdisc_tbf_set_limit(q, 15000);
	rtnl_qdisc_tbf_set_rate(q, 125000, 1600, 0); /* 1mbit */
	return 0;
}

static int fill_htb(struct rtnl_qdisc *q, const struct fl_rate *r, const void *arg)
{
	(void)r;
	(void)arg;
	rtnl_htb_set_defcls(q, TC_HANDLE(1, 1));
	return 0;
}

static int fill_netem(struct rtnl_qdisc *q, const struct fl_rate *r, const void *arg)
{
	(void)r;
	(void)arg;
	rtnl_netem_set_delay(q, 1000); /* 1 ms */
	return 0;
}

/* An htb class under 1: proves the classful part, not only the qdisc. */
static int add_htb_class(struct nl_sock *sk, const char *dev)
{
	struct rtnl_class *c = rtnl_class_alloc();
	int err;

	if (!c)
		return -NLE_NOMEM;
	rtnl_tc_set_ifindex(TC_CAST(c), (int)if_nametoindex(dev));
	rtnl_tc_set_parent(TC_CAST(c), TC_HANDLE(1, 0));
	rtnl_tc_set_handle(TC_CAST(c), TC_HANDLE(1, 1));
	err = rtnl_tc_set_kind(TC_CAST(c), "htb");
	if (err >= 0) {
		rtnl_htb_set_rate(c, 125000);
		rtnl_htb_set_ceil(c, 125000);
		err = rtnl_class_add(sk, c, NLM_F_CREATE);
	}
	rtnl_class_put(c);
	return err;
}

static void probe_qdiscs(struct nl_sock *sk, struct fl_probe_report *rep)
{
	bool veth = fl_probe_ok(rep, FL_PROBE_VETH);
	const char *d_htb = veth ? "flp0" : "lo", *d_netem = veth ? "flp1" : "lo";
	int err;

	err = add_root_qdisc(sk, "lo", "tbf", fill_tbf);
	fl_probe_set(rep, FL_PROBE_TBF, err >= 0, err < 0 ? "adding tbf qdisc on lo: %s" : "%s",
		     err < 0 ? nl_geterror(err) : "tbf qdisc added");
	err = add_root_qdisc(sk, d_htb, "htb", fill_htb);
	if (err >= 0)
		err = add_htb_class(sk, d_htb);
	fl_probe_set(rep, FL_PROBE_HTB, err >= 0, err < 0 ? "adding htb qdisc/class: %s" : "%s",
		     err < 0 ? nl_geterror(err) : "htb qdisc and class added");
	err = add_root_qdisc(sk, d_netem, "netem", fill_netem);
	fl_probe_set(rep, FL_PROBE_NETEM, err >= 0,
		     err < 0 ? "adding netem qdisc: %s (kernel has no sch_netem)" : "%s",
		     err < 0 ? nl_geterror(err) : "netem qdisc added");
}

static void probe_br_netfilter(struct nl_sock *sk, struct fl_probe_report *rep)
{
	int err = rtnl_link_bridge_add(sk, "flpbr0");
	int fd;

	if (err < 0) {
		fl_probe_set(rep, FL_PROBE_BR_NETFILTER, false, "adding bridge flpbr0: %s",
			     nl_geterror(err));
		return;
	}
	fd = open(BRNF_SYSCTL, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		fl_probe_set(rep, FL_PROBE_BR_NETFILTER, false, "%s: %s", BRNF_SYSCTL,
			     strerror(errno));
		return;
	}
	if (write(fd, "1\n", 2) != 2)
		fl_probe_set(rep, FL_PROBE_BR_NETFILTER, false, "writing %s: %s", BRNF_SYSCTL,
			     strerror(errno));
	else
		fl_probe_set(rep, FL_PROBE_BR_NETFILTER, true,
			     "bridge-nf-call-iptables settable in a namespace with a bridge");
	close(fd);
}

void fl_probe_scratch(struct fl_probe_report *rep)
{
	struct nl_sock *sk = NULL;
	int err;

	if (unshare(CLONE_NEWNET)) {
		fl_probe_set(rep, FL_PROBE_NETNS, false, "unshare(CLONE_NEWNET): %s",
			     strerror(errno));
		return;
	}
	fl_probe_set(rep, FL_PROBE_NETNS, true, "scratch namespace made with unshare");
	sk = nl_socket_alloc();
	if (!sk)
		return;
	err = nl_connect(sk, NETLINK_ROUTE);
	if (err >= 0)
		err = link_up(sk, "lo");
	if (err < 0) {
		fl_probe_set(rep, FL_PROBE_NETNS, false, "rtnetlink in the scratch namespace: %s",
			     nl_geterror(err));
		goto cleanup;
	}
	probe_veth(sk, rep);
	probe_ifb(sk, rep);
	probe_cls_bpf(rep);
	probe_qdiscs(sk, rep);
	fl_probe_nfqueue(rep);
	probe_br_netfilter(sk, rep);
cleanup:
	nl_socket_free(sk);
}
