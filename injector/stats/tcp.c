// SPDX-License-Identifier: MIT
/* A node's TCP counters, read inside its network namespace: the calling
 * thread setns()es into it, opens /proc/thread-self/net/{snmp,netstat}
 * (which show the namespace of that thread) and goes back. */
#include "stats.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netns.h"

#define TCP_OFF(m) offsetof(struct fl_tcp_stat, m)

const struct fl_tcp_field fl_tcp_fields[] = {
	{ "out_segs", TCP_OFF(out_segs), "Tcp: OutSegs" },
	{ "retrans_segs", TCP_OFF(retrans_segs), "Tcp: RetransSegs" },
	{ "rtos", TCP_OFF(rtos), "TcpExt: TCPTimeouts" },
	{ "loss_probes", TCP_OFF(loss_probes), "TcpExt: TCPLossProbes" },
	{ "fast_retrans", TCP_OFF(fast_retrans), "TcpExt: TCPFastRetrans" },
	{ "sack_recovery", TCP_OFF(sack_recovery), "TcpExt: TCPSackRecovery" },
	{ "reno_recovery", TCP_OFF(reno_recovery), "TcpExt: TCPRenoRecovery" },
	{ "reorder", TCP_OFF(reorder), "TcpExt: TCPSACKReorder + TCPRenoReorder + TCPTSReorder" },
	{ "in_segs", TCP_OFF(in_segs), "Tcp: InSegs" },
	{ "active_opens", TCP_OFF(active_opens), "Tcp: ActiveOpens" },
	{ "passive_opens", TCP_OFF(passive_opens), "Tcp: PassiveOpens" },
	{ "out_rsts", TCP_OFF(out_rsts), "Tcp: OutRsts" },
	{ NULL, 0, NULL },
};

/* Where each kernel counter goes; several may add up in one field. */
static const struct {
	const char *section, *name;
	size_t off;
} mib[] = {
	{ "Tcp", "ActiveOpens", TCP_OFF(active_opens) },
	{ "Tcp", "PassiveOpens", TCP_OFF(passive_opens) },
	{ "Tcp", "InSegs", TCP_OFF(in_segs) },
	{ "Tcp", "OutSegs", TCP_OFF(out_segs) },
	{ "Tcp", "RetransSegs", TCP_OFF(retrans_segs) },
	{ "Tcp", "OutRsts", TCP_OFF(out_rsts) },
	{ "TcpExt", "TCPTimeouts", TCP_OFF(rtos) },
	{ "TcpExt", "TCPLossProbes", TCP_OFF(loss_probes) },
	{ "TcpExt", "TCPFastRetrans", TCP_OFF(fast_retrans) },
	{ "TcpExt", "TCPSackRecovery", TCP_OFF(sack_recovery) },
	{ "TcpExt", "TCPRenoRecovery", TCP_OFF(reno_recovery) },
	{ "TcpExt", "TCPSACKReorder", TCP_OFF(reorder) },
	{ "TcpExt", "TCPRenoReorder", TCP_OFF(reorder) },
	{ "TcpExt", "TCPTSReorder", TCP_OFF(reorder) },
};

static void add_counter(struct fl_tcp_stat *t, const char *section, size_t slen, const char *name,
			size_t nlen, uint64_t v)
{
	for (size_t i = 0; i < sizeof(mib) / sizeof(mib[0]); i++) {
		if (strlen(mib[i].section) != slen || strncmp(mib[i].section, section, slen) ||
		    strlen(mib[i].name) != nlen || strncmp(mib[i].name, name, nlen))
			continue;
		*(uint64_t *)((char *)t + mib[i].off) += v;
	}
}

/* One "Section: name name ..." line and its "Section: value value ..." line. */
static void parse_pair(const char *names, const char *values, size_t slen, struct fl_tcp_stat *t)
{
	const char *n = names + slen + 1, *v = values + slen + 1;

	for (;;) {
		size_t nl, vl;
		char *end;
		uint64_t val;

		n += strspn(n, " ");
		v += strspn(v, " ");
		nl = strcspn(n, " \n");
		vl = strcspn(v, " \n");
		if (!nl || !vl)
			return;
		errno = 0;
		/* RtoMax and MaxConn may be -1: they are not ours, skip them */
		val = *v == '-' ? 0 : strtoull(v, &end, 10);
		if (!errno)
			add_counter(t, names, slen, n, nl, val);
		n += nl;
		v += vl;
	}
}

static void parse_text(const char *text, struct fl_tcp_stat *t)
{
	const char *line = text;

	while (line && *line) {
		const char *next = strchr(line, '\n'), *colon = strchr(line, ':');
		size_t slen;

		if (!next)
			break;
		slen = colon && colon < next ? (size_t)(colon - line) : 0;
		/* a header line is followed by its values, with the same prefix */
		if (slen && !strncmp(next + 1, line, slen + 1)) {
			parse_pair(line, next + 1, slen, t);
			next = strchr(next + 1, '\n');
		}
		line = next ? next + 1 : NULL;
	}
}

int fl_tcp_parse(const char *snmp, const char *netstat, struct fl_tcp_stat *out)
{
	memset(out, 0, sizeof(*out));
	if (snmp)
		parse_text(snmp, out);
	if (netstat)
		parse_text(netstat, out);
	return 0;
}

static char *slurp(const char *path)
{
	size_t cap = 16384, len = 0;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((r = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)r;
		if (len + 1 == cap) {
			char *nb = realloc(buf, cap *= 2);

			if (!nb)
				break;
			buf = nb;
		}
	}
	buf[len] = '\0';
	close(fd);
	return buf;
}

int fl_tcp_read(const char *netns, struct fl_tcp_stat *out)
{
	char *snmp = NULL, *netstat = NULL;
	int saved = -1, err;

	memset(out, 0, sizeof(*out));
	err = fl_netns_enter_spec(netns, &saved);
	if (err)
		return err;
	/* thread-self: /proc/self/net is the namespace of the main thread */
	snmp = slurp("/proc/thread-self/net/snmp");
	netstat = slurp("/proc/thread-self/net/netstat");
	err = snmp ? 0 : -errno;
	fl_netns_leave(saved);
	if (!err)
		fl_tcp_parse(snmp, netstat, out);
	free(snmp);
	free(netstat);
	return err;
}
