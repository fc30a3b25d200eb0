/* SPDX-License-Identifier: MIT */
/* Run-time feature probes: what this kernel and machine can do for fallacy.
 * Every kernel probe runs in a scratch network namespace made by a forked
 * child (unshare), so the host's namespaces are never touched and
 * everything the probes create disappears with the child. Other commands
 * ask e.g. fl_probe_ok(&rep, FL_PROBE_NETEM) to choose a backend. */
#ifndef FALLACY_PROBE_H
#define FALLACY_PROBE_H

#include <stdbool.h>
#include <stdint.h>

enum fl_probe_id {
	FL_PROBE_NETNS,
	FL_PROBE_VETH,
	FL_PROBE_CLS_BPF,
	FL_PROBE_BTF,
	FL_PROBE_TBF,
	FL_PROBE_HTB,
	FL_PROBE_IFB,
	FL_PROBE_NETEM,
	FL_PROBE_NFQUEUE,
	FL_PROBE_BR_NETFILTER,
	FL_PROBE_IPTABLES,
	FL_PROBE_COUNT,
};

enum fl_probe_status {
	FL_PROBE_NOT_RUN = 0, /* a probe it depends on failed */
	FL_PROBE_OK,
	FL_PROBE_MISSING,
};

struct fl_probe_result {
	enum fl_probe_status status;
	char detail[200]; /* what was tried and what the kernel said */
};

struct fl_probe_report {
	struct fl_probe_result r[FL_PROBE_COUNT];
	char kernel[65]; /* uname release */
	char iptables[256]; /* path of iptables-restore, "" if none */
	char ip6tables[256]; /* path of ip6tables-restore, "" if none */
	uint64_t elapsed_ns; /* wall time of the whole probe run */
};

/* What a probe is for, what happens without it, and how to get it. */
struct fl_probe_info {
	const char *name; /* "netem" */
	const char *used_for; /* "delay, jitter, reorder" */
	const char *if_missing; /* "delay uses the NFQUEUE delay line instead" */
	const char *fix; /* "CONFIG_NET_SCH_NETEM" */
	bool required; /* fallacy cannot work without it */
};

/* Runs every probe; 0 when the probes ran (whatever they found), -errno
 * when they could not be run at all (fork or mmap failed). Takes 30-80 ms.
 * It forks and the child allocates (libnl, libbpf): call it before starting
 * threads. libbpf's print callback is routed to pr_debug meanwhile and
 * restored afterwards. */
int fl_probe_run(struct fl_probe_report *rep);

const struct fl_probe_info *fl_probe_info(enum fl_probe_id id);
bool fl_probe_ok(const struct fl_probe_report *rep, enum fl_probe_id id);
/* True when everything fallacy needs is there: netns, veth, clsact +
 * cls_bpf, BTF, NFQUEUE or netem, tbf or htb. */
bool fl_probe_usable(const struct fl_probe_report *rep);

#endif
