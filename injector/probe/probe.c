// SPDX-License-Identifier: MIT
/* Run-time feature probes. The kernel probes run in a forked child that
 * unshares a scratch network namespace; everything they create (veth, ifb,
 * bridge, qdiscs, the tc BPF program, the NFQUEUE rule and queue) lives in
 * that namespace and disappears with the child. The child writes results
 * into a shared anonymous mapping the parent reads after waitpid(). */
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "clock.h"
#include "log.h"
#include "scratch.h"

/* The scratch child is killed (SIGALRM) after this long. */
#define PROBE_TIMEOUT_S 10

static const struct fl_probe_info infos[FL_PROBE_COUNT] = {
	[FL_PROBE_NETNS] = { "netns", "every lab, wrap and attach session", "fallacy cannot work",
			     "CONFIG_NET_NS; run as root (CAP_SYS_ADMIN)", true },
	[FL_PROBE_VETH] = { "veth", "links between lab nodes and the wire", "labs cannot be built",
			    "CONFIG_VETH", true },
	[FL_PROBE_CLS_BPF] = { "clsact+cls_bpf", "the tc BPF data plane", "no packet faults",
			       "CONFIG_NET_SCH_INGRESS, CONFIG_NET_CLS_BPF, "
			       "CONFIG_BPF_SYSCALL",
			       true },
	[FL_PROBE_BTF] = { "btf", "loading the BPF data plane (CO-RE)",
			   "BPF programs cannot be relocated", "CONFIG_DEBUG_INFO_BTF", true },
	[FL_PROBE_TBF] = { "tbf", "rate caps", "rate caps use htb only", "CONFIG_NET_SCH_TBF",
			   false },
	[FL_PROBE_HTB] = { "htb", "per-pair rate caps", "rate caps use tbf only",
			   "CONFIG_NET_SCH_HTB", false },
	[FL_PROBE_IFB] = { "ifb", "ingress rate caps", "no ingress rate caps", "CONFIG_IFB",
			   false },
	[FL_PROBE_NETEM] = { "netem", "delay, jitter, reorder with backend netem (when present)",
			     "delay uses the NFQUEUE delay line instead", "CONFIG_NET_SCH_NETEM",
			     false },
	[FL_PROBE_NFQUEUE] = { "nfqueue", "the NFQUEUE delay line",
			       "no delay unless netem is present",
			       "CONFIG_NETFILTER_XT_TARGET_NFQUEUE, "
			       "CONFIG_NETFILTER_NETLINK_QUEUE, CONFIG_IP_NF_RAW",
			       false },
	[FL_PROBE_BR_NETFILTER] = { "br_netfilter", "the delay line on a lab's wire bridge",
				    "lab delays cannot be queued on the wire",
				    "CONFIG_BRIDGE_NETFILTER (modprobe br_netfilter)", false },
	[FL_PROBE_IPTABLES] = { "iptables", "installing the delay line's NFQUEUE rule",
				"the delay line cannot be installed", "apt-get install iptables",
				false },
};

const struct fl_probe_info *fl_probe_info(enum fl_probe_id id)
{
	return id < FL_PROBE_COUNT ? &infos[id] : NULL;
}

void fl_probe_set(struct fl_probe_report *rep, enum fl_probe_id id, bool ok, const char *fmt, ...)
{
	va_list ap;

	rep->r[id].status = ok ? FL_PROBE_OK : FL_PROBE_MISSING;
	va_start(ap, fmt);
	vsnprintf(rep->r[id].detail, sizeof(rep->r[id].detail), fmt, ap);
	va_end(ap);
}

bool fl_probe_ok(const struct fl_probe_report *rep, enum fl_probe_id id)
{
	return id < FL_PROBE_COUNT && rep->r[id].status == FL_PROBE_OK;
}

bool fl_probe_usable(const struct fl_probe_report *rep)
{
	return fl_probe_ok(rep, FL_PROBE_NETNS) && fl_probe_ok(rep, FL_PROBE_VETH) &&
	       fl_probe_ok(rep, FL_PROBE_CLS_BPF) && fl_probe_ok(rep, FL_PROBE_BTF) &&
	       (fl_probe_ok(rep, FL_PROBE_NFQUEUE) || fl_probe_ok(rep, FL_PROBE_NETEM)) &&
	       (fl_probe_ok(rep, FL_PROBE_TBF) || fl_probe_ok(rep, FL_PROBE_HTB));
}

static void probe_btf(struct fl_probe_report *rep)
{
	struct btf *btf = btf__load_vmlinux_btf();

	if (!btf) {
		fl_probe_set(rep, FL_PROBE_BTF, false, "/sys/kernel/btf/vmlinux: %s",
			     strerror(errno));
		return;
	}
	fl_probe_set(rep, FL_PROBE_BTF, true, "/sys/kernel/btf/vmlinux, %u types",
		     btf__type_cnt(btf));
	btf__free(btf);
}

/* Finds prog in PATH, then in the sbin folders PATH often lacks. */
static int find_program(const char *prog, char *out, size_t len)
{
	const char *path = getenv("PATH");
	char buf[4096];
	char *save = NULL;

	snprintf(buf, sizeof(buf), "%s:/usr/sbin:/sbin:/usr/bin:/bin", path ? path : "");
	for (char *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		if (!*d)
			continue;
		snprintf(out, len, "%s/%s", d, prog);
		if (!access(out, X_OK))
			return 0;
	}
	out[0] = '\0';
	return -ENOENT;
}

static void probe_iptables(struct fl_probe_report *rep)
{
	char *v6 = rep->ip6tables;

	if (find_program("iptables-restore", rep->iptables, sizeof(rep->iptables))) {
		fl_probe_set(rep, FL_PROBE_IPTABLES, false, "iptables-restore not found in PATH");
		return;
	}
	if (find_program("ip6tables-restore", v6, sizeof(rep->ip6tables))) {
		fl_probe_set(rep, FL_PROBE_IPTABLES, false, "ip6tables-restore not found in PATH");
		return;
	}
	fl_probe_set(rep, FL_PROBE_IPTABLES, true, "%s, %s", rep->iptables, v6);
}

static int libbpf_to_debug(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	(void)level;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	pr_debug("libbpf: %s", buf);
	return 0;
}

static void mark_not_run(struct fl_probe_report *rep, const char *why)
{
	for (int i = 0; i < FL_PROBE_COUNT; i++)
		if (rep->r[i].status == FL_PROBE_NOT_RUN && !rep->r[i].detail[0])
			snprintf(rep->r[i].detail, sizeof(rep->r[i].detail), "not probed: %s", why);
}

/* Forks the child that probes in a scratch namespace and waits for it. */
static void run_scratch_child(struct fl_probe_report *shared)
{
	char why[128];
	pid_t pid;
	int status;

	pid = fork();
	if (pid < 0) {
		snprintf(why, sizeof(why), "fork: %s", strerror(errno));
		mark_not_run(shared, why);
		return;
	}
	if (pid == 0) {
		alarm(PROBE_TIMEOUT_S); /* a stuck probe must not hang doctor */
		fl_probe_scratch(shared);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(status)) {
		snprintf(why, sizeof(why), "probe process killed by signal %d", WTERMSIG(status));
		mark_not_run(shared, why);
	}
}

int fl_probe_run(struct fl_probe_report *rep)
{
	struct fl_probe_report *shared;
	libbpf_print_fn_t old_print;
	uint64_t t0 = fl_clock_mono_ns();
	struct utsname u;

	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		      0);
	if (shared == MAP_FAILED)
		return -errno;
	memset(shared, 0, sizeof(*shared));
	old_print = libbpf_set_print(libbpf_to_debug);
	if (!uname(&u))
		snprintf(shared->kernel, sizeof(shared->kernel), "%s", u.release);
	probe_btf(shared);
	probe_iptables(shared);
	fflush(NULL); /* the child must not flush our buffers twice */
	run_scratch_child(shared);
	libbpf_set_print(old_print);
	mark_not_run(shared, "a probe it depends on failed");
	shared->elapsed_ns = fl_clock_mono_ns() - t0;
	*rep = *shared;
	munmap(shared, sizeof(*shared));
	return 0;
}
