// SPDX-License-Identifier: MIT
/* The NFQUEUE netfilter rule: iptables-restore --noflush inside a namespace.
 * See nfrule.h. */
#include "nfrule.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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
