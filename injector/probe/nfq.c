// SPDX-License-Identifier: MIT
/* The NFQUEUE probe: the same three steps the delay line takes (bind a
 * queue, add the NFQUEUE rule with iptables-restore --noflush, receive a
 * packet), inside the scratch namespace of fl_probe_scratch(). */
#include "scratch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "log.h"
#include "spawn.h"

/* How long the test packet may take to be seen. */
#define PACKET_WAIT_MS 300

#define STR_(x) #x
#define STR(x) STR_(x)

static const char probe_rules[] =
	"*raw\n"
	"-A PREROUTING -i lo -p udp --dport " STR(FL_PROBE_PORT) " -j NFQUEUE --queue-num " STR(
		FL_PROBE_QUEUE) "\n"
				"COMMIT\n";

/* Sends one queue config message (bind, or copy mode) and waits for the ack. */
static int probe_nfq_config(struct mnl_socket *nl, bool params, uint32_t seq)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, FL_PROBE_QUEUE);
	ssize_t n;

	if (params)
		nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_META, 0);
	else
		nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		return -errno;
	if (mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(nl), NULL, NULL) < 0)
		return -errno;
	return 0;
}

static struct mnl_socket *probe_nfq_open(char *why, size_t len)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = PACKET_WAIT_MS * 1000 };
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	int err;

	if (!nl) {
		snprintf(why, len, "opening nfnetlink: %s", strerror(errno));
		return NULL;
	}
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	err = mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ? -errno : 0;
	if (!err)
		err = probe_nfq_config(nl, false, 1);
	if (!err)
		err = probe_nfq_config(nl, true, 2);
	if (err) {
		snprintf(why, len, "binding NFQUEUE %d: %s", FL_PROBE_QUEUE, strerror(-err));
		mnl_socket_close(nl);
		return NULL;
	}
	return nl;
}

/* Runs `iptables-restore --noflush` with rules on stdin; its output goes
 * into out (first bytes only). 0 when it exited 0. */
static int iptables_restore(const char *path, const char *rules, char *out, size_t len)
{
	char *argv[] = { (char *)path, "--noflush", "--wait=5", NULL };
	struct fl_spawn_cmd c = { .argv = argv, .input = rules, .out = out, .out_len = len };

	return fl_spawn_wait(&c) ? -EIO : 0;
}

/* True when a packet message from our queue arrives before the timeout. */
static bool nfq_got_packet(struct mnl_socket *nl)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int n = (int)mnl_socket_recvfrom(nl, buf, sizeof(buf));

	for (nlh = (struct nlmsghdr *)buf; n > 0 && mnl_nlmsg_ok(nlh, n);
	     nlh = mnl_nlmsg_next(nlh, &n)) {
		if ((nlh->nlmsg_type >> 8) == NFNL_SUBSYS_QUEUE &&
		    NFNL_MSG_TYPE(nlh->nlmsg_type) == NFQNL_MSG_PACKET)
			return true;
	}
	return false;
}

/* The IPv6 rule (ip6tables raw table); its failure only limits IPv6. */
static void probe_nfqueue_v6(const struct fl_probe_report *rep, char *note, size_t len)
{
	char out[120] = "";

	if (!rep->ip6tables[0]) {
		snprintf(note, len, "; no ip6tables-restore, so no IPv6 delays");
		return;
	}
	if (iptables_restore(rep->ip6tables, probe_rules, out, sizeof(out)))
		snprintf(note, len, "; IPv6 rule failed, so no IPv6 delays (CONFIG_IP6_NF_RAW): %s",
			 out[0] ? out : "ip6tables-restore failed");
	else
		snprintf(note, len, " (IPv4 and IPv6)");
}

void fl_probe_nfqueue(struct fl_probe_report *rep)
{
	char why[160], out[120] = "", v6[120] = "";
	struct mnl_socket *nl;

	nl = probe_nfq_open(why, sizeof(why));
	if (!nl) {
		fl_probe_set(rep, FL_PROBE_NFQUEUE, false, "%s", why);
		return;
	}
	if (!rep->iptables[0]) {
		fl_probe_set(
			rep, FL_PROBE_NFQUEUE, false,
			"queue binds, but without iptables-restore no NFQUEUE rule can be added");
		goto cleanup;
	}
	if (iptables_restore(rep->iptables, probe_rules, out, sizeof(out))) {
		fl_probe_set(rep, FL_PROBE_NFQUEUE, false, "iptables-restore NFQUEUE rule: %s",
			     out[0] ? out : "failed");
		goto cleanup;
	}
	probe_nfqueue_v6(rep, v6, sizeof(v6));
	fl_probe_send_packet();
	if (nfq_got_packet(nl))
		fl_probe_set(rep, FL_PROBE_NFQUEUE, true,
			     "queue %d bound, raw PREROUTING rules added%s, a packet was queued",
			     FL_PROBE_QUEUE, v6);
	else
		fl_probe_set(rep, FL_PROBE_NFQUEUE, false,
			     "queue bound and rule added, but no packet was queued");
cleanup:
	mnl_socket_close(nl);
}
