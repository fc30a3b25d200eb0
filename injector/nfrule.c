// SPDX-License-Identifier: MIT
/* The NFQUEUE netfilter rule: iptables-restore --noflush inside a namespace.
 * See nfrule.h. */
#include "nfrule.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fallacy/mark.h"
#include "log.h"
#include "netns.h"
#include "state.h"

static int variant = -1; /* 0 nft, 1 legacy */

static bool have(const char *path)
{
	return access(path, X_OK) == 0;
}

const char *fl_iptables_variant(void)
{
	const char *env = getenv("FALLACY_IPTABLES");

	if (variant < 0) {
		if (env && !strcmp(env, "legacy"))
			variant = 1;
		else if (env && !strcmp(env, "nft"))
			variant = 0;
		else
			variant = have("/usr/sbin/iptables-nft-restore") ||
						  have("/sbin/iptables-nft-restore")
					  ? 0
					  : 1;
	}
	return variant ? "legacy" : "nft";
}

void fl_nfrule_build(struct fl_nfrule *r, const char *netns, int family, enum fl_nfq_hook hook,
		     bool fail_closed)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->netns, sizeof(r->netns), "%s", netns);
	r->family = family;
	snprintf(r->table, sizeof(r->table), "%s", hook == FL_NFQ_LO_INPUT ? "filter" : "raw");
	snprintf(r->chain, sizeof(r->chain), "%s", hook == FL_NFQ_LO_INPUT ? "INPUT" : "PREROUTING");
	snprintf(r->rule, sizeof(r->rule),
		 "%s-m mark --mark 0x%08x/0x%08x -j NFQUEUE --queue-num %d%s",
		 hook == FL_NFQ_LO_INPUT ? "-i lo " : "", FL_MARK_DELAY, FL_MARK_TAG_MASK,
		 FL_QUEUE_NUM, fail_closed ? "" : " --queue-bypass");
}

static void child(const char *netns, const char *prog, int in, int errw)
{
	int fd;

	if (strcmp(netns, "-")) {
		fd = fl_netns_open_spec(netns);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
			dprintf(errw, "cannot enter network namespace %s\n", netns);
			_exit(126);
		}
	}
	dup2(in, 0);
	dup2(errw, 1);
	dup2(errw, 2);
	execlp(prog, prog, "--noflush", "--wait=10", (char *)NULL);
	dprintf(errw, "cannot run %s: %s\n", prog, strerror(errno));
	_exit(127);
}

/* Feed `script` to PROG --noflush inside netns; 0 on exit status 0,
 * -EIO otherwise with the tool's message in msg. */
static int restore(const char *netns, const char *prog, const char *script, char *msg, size_t len)
{
	int in[2], er[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(er, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return -errno;
	}
	pid = fork();
	if (pid == 0)
		child(netns, prog, in[0], er[1]);
	close(in[0]);
	close(er[1]);
	if (pid > 0 && write(in[1], script, strlen(script)) < 0)
		pr_debug("writing to %s: %s", prog, strerror(errno));
	close(in[1]);
	n = read(er[0], msg, len - 1);
	msg[n > 0 ? n : 0] = '\0';
	if (n > 0 && msg[n - 1] == '\n')
		msg[n - 1] = '\0';
	close(er[0]);
	if (pid < 0)
		return -errno;
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

static void prog_name(int family, int var, char *buf, size_t len)
{
	snprintf(buf, len, "%s-%s-restore", family == 6 ? "ip6tables" : "iptables",
		 var ? "legacy" : "nft");
}

static int run_rule(const char *netns, int family, const char *table, const char *op,
		    const char *chain, const char *rule, int var, char *msg, size_t len)
{
	char script[512], prog[64];

	snprintf(script, sizeof(script), "*%s\n%s %s %s\nCOMMIT\n", table, op, chain, rule);
	prog_name(family, var, prog, sizeof(prog));
	return restore(netns, prog, script, msg, len);
}

int fl_nfrule_install(struct fl_state *st, const struct fl_nfrule *r)
{
	char msg[512], op[32];
	int err;

	if (st) {
		err = fl_state_record(st, "iptables", "%s %d %s %s %s", r->netns, r->family,
				      r->table, r->chain, r->rule);
		if (err)
			return err;
	}
	fl_iptables_variant();
	snprintf(op, sizeof(op), "-I");
	err = run_rule(r->netns, r->family, r->table, op, r->chain, r->rule, variant, msg,
		       sizeof(msg));
	if (err && !getenv("FALLACY_IPTABLES")) {
		pr_info("iptables-%s failed in %s (%s); trying iptables-%s", fl_iptables_variant(),
			r->netns, msg, variant ? "nft" : "legacy");
		if (!run_rule(r->netns, r->family, r->table, op, r->chain, r->rule, !variant, msg,
			      sizeof(msg))) {
			variant = !variant;
			err = 0;
		}
	}
	if (err)
		pr_err("installing the delay line's NFQUEUE rule (%s %s, IPv%d) in namespace %s: "
		       "%s; check that the kernel has NETFILTER_XT_TARGET_NFQUEUE and %s",
		       r->table, r->chain, r->family, r->netns, msg,
		       r->family == 6 ? "ip6tables works" : "iptables works");
	return err;
}

int fl_nfrule_remove_words(const char *netns, int family, const char *table, const char *chain,
			   const char *rule)
{
	char msg[512];
	int v = variant < 0 ? (fl_iptables_variant(), variant) : variant;

	/* Removing a rule that is not there fails: try both variants, and
	 * count "not there in either" as removed. */
	if (!run_rule(netns, family, table, "-D", chain, rule, v, msg, sizeof(msg)))
		return 0;
	if (!run_rule(netns, family, table, "-D", chain, rule, !v, msg, sizeof(msg)))
		return 0;
	pr_debug("iptables rule in %s (%s %s %s) already gone: %s", netns, table, chain, rule,
		 msg);
	return 0;
}

int fl_nfrule_remove(const struct fl_nfrule *r)
{
	return fl_nfrule_remove_words(r->netns, r->family, r->table, r->chain, r->rule);
}

int fl_nfrule_bridge_nf(const char *netns, int family)
{
	char path[128], c = 0;
	int nsfd = -1, saved = -1, fd, err = 0;

	snprintf(path, sizeof(path), "/proc/sys/net/bridge/bridge-nf-call-%s",
		 family == 6 ? "ip6tables" : "iptables");
	if (strcmp(netns, "-")) {
		nsfd = fl_netns_open_spec(netns);
		if (nsfd < 0)
			return nsfd;
		err = fl_netns_enter(nsfd, &saved);
		close(nsfd);
		if (err)
			return err;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, &c, 1) != 1)
		err = -errno;
	if (fd >= 0)
		close(fd);
	if (saved >= 0)
		fl_netns_leave(saved);
	return err ? err : c == '1';
}
