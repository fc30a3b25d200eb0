// SPDX-License-Identifier: MIT
/* The NFQUEUE netfilter rule: iptables-restore --noflush inside a namespace.
 * See nfrule.h. */
#include "nfrule.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fallacy/mark.h"
#include "log.h"
#include "netns.h"
#include "iptables.h"
#include "state/journal.h"

void fl_nfrule_build(struct fl_nfrule *r, const char *netns, int family, enum fl_nfq_hook hook,
		     bool fail_closed, int queues)
{
	char target[64];

	if (queues > 1)
		snprintf(target, sizeof(target), "--queue-balance %u:%u", FL_QUEUE_NUM,
			 FL_QUEUE_NUM + queues - 1);
	else
		snprintf(target, sizeof(target), "--queue-num %u", FL_QUEUE_NUM);
	memset(r, 0, sizeof(*r));
	snprintf(r->netns, sizeof(r->netns), "%s", netns);
	r->family = family;
	snprintf(r->table, sizeof(r->table), "%s", hook == FL_NFQ_LO_INPUT ? "filter" : "raw");
	snprintf(r->chain, sizeof(r->chain), "%s",
		 hook == FL_NFQ_LO_INPUT ? "INPUT" : "PREROUTING");
	snprintf(r->rule, sizeof(r->rule), "%s-m mark --mark 0x%08x/0x%08x -j NFQUEUE %s%s",
		 hook == FL_NFQ_LO_INPUT ? "-i lo " : "", FL_MARK_DELAY, FL_MARK_TAG_MASK, target,
		 fail_closed ? "" : " --queue-bypass");
}

int fl_nfrule_install(struct fl_state *st, const struct fl_nfrule *r)
{
	char msg[512];
	int err;

	if (st) {
		err = fl_state_record(st, "iptables", "%s %d %s %s %s", r->netns, r->family,
				      r->table, r->chain, r->rule);
		if (err)
			return err;
	}
	err = fl_iptables_add(r->netns, r->family, r->table, "-I", r->chain, r->rule, msg,
			      sizeof(msg));
	if (err)
		pr_err("installing the delay line's NFQUEUE rule (%s %s, IPv%d) in namespace %s: "
		       "%s; check that the kernel has NETFILTER_XT_TARGET_NFQUEUE and %s",
		       r->table, r->chain, r->family, r->netns, msg,
		       r->family == 6 ? "ip6tables works" : "iptables works");
	return err;
}

int fl_nfrule_remove(const struct fl_nfrule *r)
{
	return fl_iptables_remove(r->netns, r->family, r->table, r->chain, r->rule);
}

static const char *next_line(const char *l)
{
	const char *end = strchr(l, '\n');

	return end ? end + 1 : NULL;
}

uint64_t fl_nfrule_save_packets(const char *save, const char *chain)
{
	char mark[48], head[32];
	uint64_t sum = 0, pkts;

	snprintf(mark, sizeof(mark), "--mark 0x%x/0x%x ", FL_MARK_DELAY, FL_MARK_TAG_MASK);
	snprintf(head, sizeof(head), " -A %s ", chain);
	for (const char *line = save; line && *line; line = next_line(line)) {
		char buf[512];
		size_t n = strcspn(line, "\n");

		if (n >= sizeof(buf) || line[0] != '[')
			continue;
		memcpy(buf, line, n);
		buf[n] = 0;
		if (strstr(buf, head) && strstr(buf, mark) && strstr(buf, "-j NFQUEUE") &&
		    sscanf(buf, "[%" SCNu64 ":", &pkts) == 1)
			sum += pkts;
	}
	return sum;
}

int fl_nfrule_packets(const struct fl_nfrule *r, uint64_t *pkts)
{
	char *out = malloc(65536);
	int err;

	if (!out)
		return -ENOMEM;
	err = fl_iptables_save(r->netns, r->family, r->table, out, 65536);
	if (!err)
		*pkts = fl_nfrule_save_packets(out, r->chain);
	free(out);
	return err;
}

uint32_t fl_nfqueue_parse_seq(const char *proc, unsigned int first, int n)
{
	uint32_t sum = 0;

	for (const char *l = proc; l && *l; l = next_line(l)) {
		unsigned int v[8];

		if (sscanf(l, "%u %u %u %u %u %u %u %u", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
			   &v[6], &v[7]) == 8 &&
		    v[0] >= first && v[0] < first + (unsigned int)n)
			sum += v[7];
	}
	return sum;
}

int fl_nfqueue_seq(const char *netns, unsigned int first, int n, uint32_t *seq)
{
	char buf[4096];
	int saved = -1, fd, err;
	ssize_t len = -1;

	err = fl_netns_enter_spec(netns, &saved);
	if (err)
		return err;
	fd = open("/proc/thread-self/net/netfilter/nfnetlink_queue", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	if (len < 0)
		err = -errno;
	if (saved >= 0)
		fl_netns_leave(saved);
	if (err)
		return err;
	buf[len] = 0;
	*seq = fl_nfqueue_parse_seq(buf, first, n);
	return 0;
}

int fl_nfrule_bridge_nf(const char *netns, int family)
{
	char path[128], c = 0;
	int saved = -1, fd, err;

	snprintf(path, sizeof(path), "/proc/sys/net/bridge/bridge-nf-call-%s",
		 family == 6 ? "ip6tables" : "iptables");
	err = fl_netns_enter_spec(netns, &saved);
	if (err)
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, &c, 1) != 1)
		err = -errno;
	if (fd >= 0)
		close(fd);
	if (saved >= 0)
		fl_netns_leave(saved);
	return err ? err : c == '1';
}
