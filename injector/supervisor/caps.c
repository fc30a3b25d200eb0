// SPDX-License-Identifier: MIT
/* The supervisor's capabilities after setup (docs/security.md "Least
 * privilege"): everything but what its requests still need is dropped from
 * the bounding set (so the programs it runs, iptables-restore, cannot get it
 * back either) and from the effective, permitted and inheritable sets.
 * prctl + capset directly: no libcap. */
#include "supervisor_int.h"

#include <errno.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"

/* Why each one stays. */
static const struct {
	int cap;
	const char *why;
} keep[] = {
	{ CAP_NET_ADMIN, "qdiscs, filters, netfilter rules, the NFQUEUE socket" },
	{ CAP_NET_RAW, "iptables-restore opens a raw socket" },
	{ CAP_SYS_ADMIN, "setns() into the lab's namespaces; mounts of the runner" },
	{ CAP_BPF, "BPF map updates (rules, leases)" },
	{ CAP_PERFMON, "BPF programs that read kernel memory (verifier)" },
	{ CAP_SYS_NICE, "the delay line's SCHED_FIFO thread" },
	{ CAP_SYS_RESOURCE, "SO_RCVBUFFORCE beyond rmem_max, BPF memory" },
	{ CAP_DAC_OVERRIDE, "the session folder and /etc/netns files of other owners" },
	{ CAP_DAC_READ_SEARCH, "the same, reading" },
	{ CAP_FOWNER, "chmod of its own socket in a folder made by another root process" },
	{ CAP_KILL, "stopping the processes it started (spawned iptables)" },
};

#define N_KEEP (sizeof(keep) / sizeof(keep[0]))

/* A --pid session opens /proc/PID/ns/net again for every rule it installs
 * (iptables, netlink, the delay line), and the kernel lets it only if the
 * target's capabilities are a subset of ours, or with CAP_SYS_PTRACE. */
static bool kept(const struct fl_sup *s, int cap)
{
	if (cap == CAP_SYS_PTRACE)
		return s->t.kind == FL_TARGET_PID;
	for (size_t i = 0; i < N_KEEP; i++)
		if (keep[i].cap == cap)
			return true;
	return false;
}

int sup_drop_caps(struct fl_sup *s)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	int last = CAP_LAST_CAP, dropped = 0;

	__u32 want[2] = { 0, 0 };

	for (size_t i = 0; i < N_KEEP; i++)
		want[keep[i].cap / 32] |= 1u << (keep[i].cap % 32);
	if (kept(s, CAP_SYS_PTRACE))
		want[CAP_SYS_PTRACE / 32] |= 1u << (CAP_SYS_PTRACE % 32);
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d))
		return -errno;
	/* what it has of them (a container may have given fewer) */
	for (int i = 0; i < 2; i++) {
		d[i].permitted &= want[i];
		d[i].effective = d[i].permitted;
		d[i].inheritable = 0;
	}
	/* the running kernel may know more capabilities than our headers */
	while (prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0)
		last++;
	for (int cap = 0; cap <= last; cap++) {
		if (kept(s, cap) || prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)) {
			pr_warn("supervisor %s: dropping capability %d: %s", s->t.session, cap,
				strerror(errno));
			return -errno;
		}
		dropped++;
	}
	if (syscall(SYS_capset, &h, d)) {
		pr_warn("supervisor %s: capset: %s", s->t.session, strerror(errno));
		return -errno;
	}
	pr_debug("supervisor %s: %d capabilities dropped, %zu kept", s->t.session, dropped, N_KEEP);
	return 0;
}
