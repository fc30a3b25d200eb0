// SPDX-License-Identifier: MIT
/* Undo handlers, one per journal kind (see state.h for the record forms).
 * Each returns 0 when the object is gone, including when it was gone
 * before we looked, and -errno when it is still there. */
#include "undo.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/pkt_sched.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/classifier.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/route.h>
#include <netlink/route/tc.h>

#include "clock.h"
#include "iptables.h"
#include "log.h"
#include "netns.h"
#include "nlutil.h"
#include "state.h"
#include "fallacy/analyzer.h"

#define MAX_WORDS 64

struct undo_rec {
	char *line; /* the record as written, without its owner tag */
	char *owner; /* "sup:PID:START" of an "@sup:PID:START KIND ..." record, or NULL */
	int argc;
	char *argv[MAX_WORDS];
	int active; /* not cancelled, not a "cancel" line */
};

struct undo_ctx {
	const char *session;
	struct undo_rec *recs;
	size_t n;
	int killed; /* processes in our namespaces already killed */
};

static int gone(int err)
{
	return err == -ENOENT || err == -ESRCH || err == -ENODEV ? 0 : err;
}

static void sleep_ms(long ms)
{
	struct timespec ts = fl_ns_ts((uint64_t)ms * FL_NSEC_PER_MSEC);

	nanosleep(&ts, NULL);
}

/* ---- namespaces -------------------------------------------------------- */

static int is_own_netns(const struct undo_ctx *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->recs[i].active && c->recs[i].argc == 2 &&
		    !strcmp(c->recs[i].argv[0], "netns") && !strcmp(c->recs[i].argv[1], name))
			return 1;
	return 0;
}

static int ns_ino_match(const struct stat *set, size_t n, const struct stat *sb)
{
	for (size_t i = 0; i < n; i++)
		if (set[i].st_ino == sb->st_ino && set[i].st_dev == sb->st_dev)
			return 1;
	return 0;
}

/* Kill every process that lives in one of the session's namespaces, so
 * that unmounting them really frees them (and their links). */
static void kill_ns_processes(struct undo_ctx *c)
{
	struct stat *set = calloc(c->n + 1, sizeof(*set)), sb;
	char path[300];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	if (!set)
		return;
	for (size_t i = 0; i < c->n; i++) {
		if (!c->recs[i].active || c->recs[i].argc != 2 ||
		    strcmp(c->recs[i].argv[0], "netns"))
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", c->recs[i].argv[1]);
		if (!stat(path, &set[n]))
			n++;
	}
	d = n ? opendir("/proc") : NULL;
	while (d && (de = readdir(d))) {
		int pid = atoi(de->d_name);

		if (pid <= 1 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
		if (!stat(path, &sb) && ns_ino_match(set, n, &sb)) {
			pr_info("cleanup %s: killing process %d still in a lab namespace",
				c->session, pid);
			kill(pid, SIGKILL);
		}
	}
	if (d)
		closedir(d);
	free(set);
}

static int undo_netns(struct undo_ctx *c, int argc, char **argv)
{
	(void)argc;
	if (!c->killed) {
		kill_ns_processes(c);
		c->killed = 1;
	}
	return gone(fl_netns_delete(argv[1]));
}

/* Records in a namespace this session created go away with it. */
static int skip_in_own_ns(struct undo_ctx *c, const char *ns)
{
	return strcmp(ns, "-") && strncmp(ns, "pid:", 4) && is_own_netns(c, ns);
}

/* ---- links, qdiscs, filters (libnl) ----------------------------------- */

/* The shared start of the libnl undos for a record "KIND NS DEV ...": a
 * route socket in namespace NS and, when idx is given, DEV's ifindex.
 * Returns 1 when there is nothing to do (NS is ours and goes with it),
 * 0 with *sk (and *idx) set, or -errno with nothing left open. */
static int nl_open_dev(struct undo_ctx *c, char **argv, struct nl_sock **sk, int *idx)
{
	int err;

	*sk = NULL;
	if (skip_in_own_ns(c, argv[1]))
		return 1;
	err = fl_nl_route_in_spec(argv[1], sk);
	if (err || !idx)
		return err;
	err = fl_nl_ifindex(*sk, argv[2]);
	if (err < 0) {
		nl_socket_free(*sk);
		*sk = NULL;
		return err;
	}
	*idx = err;
	return 0;
}

static int undo_link(struct undo_ctx *c, int argc, char **argv)
{
	struct nl_sock *sk = NULL;
	struct rtnl_link *link = NULL;
	int err;

	(void)argc;
	err = nl_open_dev(c, argv, &sk, NULL);
	if (err)
		return err > 0 ? 0 : gone(err);
	link = rtnl_link_alloc();
	if (!link) {
		err = -ENOMEM;
		goto out;
	}
	rtnl_link_set_name(link, argv[2]);
	err = rtnl_link_delete(sk, link);
	if (err < 0)
		pr_debug("deleting link %s in %s: %s", argv[2], argv[1], nl_geterror(err));
	err = gone(fl_nl_errno(err));
out:
	rtnl_link_put(link);
	nl_socket_free(sk);
	return err;
}

static int parse_handle(const char *s, uint32_t *h)
{
	char *end;
	unsigned long maj = strtoul(s, &end, 16), min = 0;

	if (end == s || *end != ':')
		return -EINVAL;
	if (end[1]) {
		min = strtoul(end + 1, &end, 16);
		if (*end)
			return -EINVAL;
	}
	*h = TC_H_MAKE(maj << 16, min);
	return 0;
}

static int undo_qdisc(struct undo_ctx *c, int argc, char **argv)
{
	struct nl_sock *sk = NULL;
	struct rtnl_qdisc *q = NULL;
	uint32_t handle = 0;
	int err, idx;

	(void)argc;
	err = nl_open_dev(c, argv, &sk, &idx);
	if (err)
		return err > 0 ? 0 : gone(err);
	q = rtnl_qdisc_alloc();
	if (!q) {
		err = -ENOMEM;
		goto out;
	}
	rtnl_tc_set_ifindex(TC_CAST(q), idx);
	if (!strcmp(argv[3], "clsact")) {
		rtnl_tc_set_parent(TC_CAST(q), TC_H_CLSACT);
		rtnl_tc_set_handle(TC_CAST(q), TC_H_MAKE(TC_H_CLSACT, 0));
	} else if (!strcmp(argv[3], "root")) {
		rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	} else if (!parse_handle(argv[3], &handle)) {
		rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
		rtnl_tc_set_handle(TC_CAST(q), handle);
	} else {
		err = -EINVAL;
		goto out;
	}
	err = rtnl_qdisc_delete(sk, q);
	if (err < 0)
		pr_debug("deleting qdisc %s on %s in %s: %s", argv[3], argv[2], argv[1],
			 nl_geterror(err));
	err = fl_nl_errno(err);
	/* a different root qdisc now: ours was replaced, so it is gone; the
	 * kernel also says EINVAL for a clsact that is not there any more */
	if (err == -EINVAL && (handle || !strcmp(argv[3], "clsact")))
		err = 0;
out:
	if (q)
		rtnl_qdisc_put(q);
	nl_socket_free(sk);
	return gone(err);
}

static int undo_tcfilter(struct undo_ctx *c, int argc, char **argv)
{
	struct nl_sock *sk = NULL;
	struct rtnl_cls *cls = NULL;
	int err, idx, egress = !strcmp(argv[3], "egress");

	(void)argc;
	err = nl_open_dev(c, argv, &sk, &idx);
	if (err)
		return err > 0 ? 0 : gone(err);
	cls = rtnl_cls_alloc();
	if (!cls) {
		err = -ENOMEM;
		goto out;
	}
	rtnl_tc_set_ifindex(TC_CAST(cls), idx);
	rtnl_tc_set_parent(TC_CAST(cls),
			   TC_H_MAKE(TC_H_CLSACT, egress ? TC_H_MIN_EGRESS : TC_H_MIN_INGRESS));
	rtnl_cls_set_prio(cls, (uint16_t)strtoul(argv[4], NULL, 0));
	rtnl_cls_set_protocol(cls, 0); /* any protocol */
	rtnl_tc_set_handle(TC_CAST(cls), (uint32_t)strtoul(argv[5], NULL, 0));
	err = rtnl_cls_delete(sk, cls, 0);
	if (err < 0)
		pr_debug("deleting filter %s prio %s on %s in %s: %s", argv[3], argv[4], argv[2],
			 argv[1], nl_geterror(err));
	err = fl_nl_errno(err);
	/* the kernel says EINVAL when the clsact qdisc itself is gone */
	if (err == -EINVAL)
		err = 0;
out:
	if (cls)
		rtnl_cls_put(cls);
	nl_socket_free(sk);
	return gone(err);
}

/* A host route: "route NETNS DST/PLEN" (fallacy route ... --via). */
static int undo_route(struct undo_ctx *c, int argc, char **argv)
{
	struct rtnl_route *r = NULL;
	struct nl_addr *dst = NULL;
	struct nl_sock *sk = NULL;
	int err;

	(void)argc;
	err = nl_open_dev(c, argv, &sk, NULL);
	if (err)
		return err > 0 ? 0 : gone(err);
	r = rtnl_route_alloc();
	err = r ? fl_nl_errno(nl_addr_parse(argv[2], AF_UNSPEC, &dst)) : -ENOMEM;
	if (!err) {
		rtnl_route_set_family(r, (uint8_t)nl_addr_get_family(dst));
		rtnl_route_set_dst(r, dst);
		rtnl_route_set_table(r, RT_TABLE_MAIN);
		rtnl_route_set_scope(r, RT_SCOPE_NOWHERE); /* any scope */
		err = fl_nl_errno(rtnl_route_delete(sk, r, 0));
	}
	nl_addr_put(dst);
	if (r)
		rtnl_route_put(r);
	nl_socket_free(sk);
	return err == -ESRCH ? 0 : gone(err);
}

/* ---- iptables, sysctl --------------------------------------------------- */

/* Whichever iptables variant installed it (iptables.h). */
static int undo_iptables(struct undo_ctx *c, int argc, char **argv)
{
	char rule[1024] = "";

	if (skip_in_own_ns(c, argv[1]))
		return 0;
	for (int i = 5; i < argc; i++)
		snprintf(rule + strlen(rule), sizeof(rule) - strlen(rule), "%s%s", i > 5 ? " " : "",
			 argv[i]);
	return fl_iptables_remove(argv[1], atoi(argv[2]), argv[3], argv[4], rule);
}

static int undo_sysctl(struct undo_ctx *c, int argc, char **argv)
{
	char path[512], val[1024] = "";
	int saved = -1, fd, err;
	size_t len;

	if (skip_in_own_ns(c, argv[1]))
		return 0;
	snprintf(path, sizeof(path), "/proc/sys/%s", argv[2]);
	for (char *p = path + 10; *p; p++)
		if (*p == '.')
			*p = '/';
	for (int i = 3; i < argc; i++)
		snprintf(val + strlen(val), sizeof(val) - strlen(val), "%s%s", i > 3 ? " " : "",
			 argv[i]);
	len = strlen(val);
	err = fl_netns_enter_spec(argv[1], &saved);
	if (err)
		return gone(err);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, val, len) != (ssize_t)len)
		err = -errno;
	if (fd >= 0)
		close(fd);
	if (saved >= 0)
		fl_netns_leave(saved);
	return gone(err);
}

/* ---- processes, files, mounts ------------------------------------------ */

static int proc_alive(pid_t pid, unsigned long long start)
{
	char buf[512];
	const char *p;

	if (fl_proc_starttime(pid) != start)
		return 0;
	p = fl_proc_stat(pid, buf, sizeof(buf));
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* A recorded process gets this long to exit after SIGTERM, and again after
 * SIGKILL; it is looked at every PID_POLL_MS. */
#define PID_EXIT_WAIT_MS 1000
#define PID_POLL_MS 10

static int undo_pid(struct undo_ctx *c, int argc, char **argv)
{
	pid_t pid = (pid_t)strtol(argv[1], NULL, 10);
	unsigned long long start = strtoull(argv[2], NULL, 10);
	int ms;

	(void)c;
	(void)argc;
	if (pid <= 1 || !proc_alive(pid, start))
		return 0;
	kill(pid, SIGTERM);
	for (ms = 0; ms < PID_EXIT_WAIT_MS && proc_alive(pid, start); ms += PID_POLL_MS)
		sleep_ms(PID_POLL_MS);
	if (!proc_alive(pid, start))
		return 0;
	kill(pid, SIGKILL);
	for (ms = 0; ms < PID_EXIT_WAIT_MS && proc_alive(pid, start); ms += PID_POLL_MS)
		sleep_ms(PID_POLL_MS);
	return proc_alive(pid, start) ? -EBUSY : 0;
}

static int undo_file(struct undo_ctx *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	return unlink(argv[1]) ? gone(-errno) : 0;
}

static int undo_dir(struct undo_ctx *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	return fl_rm_rf(argv[1]);
}

static int undo_rmdir(struct undo_ctx *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	if (!rmdir(argv[1]) || errno == ENOTEMPTY || errno == EEXIST || errno == EBUSY)
		return 0;
	return gone(-errno);
}

static int undo_mount(struct undo_ctx *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	if (access(argv[1], F_OK))
		return gone(-errno);
	if (!umount2(argv[1], MNT_DETACH | UMOUNT_NOFOLLOW) || errno == EINVAL)
		return 0;
	return gone(-errno);
}

/* "restore PATH SAVED": PATH gets SAVED's content back, written in place
 * (same inode: bind mounts of PATH, such as a lab node's /etc/hosts, see
 * it). PATH gone: nothing to restore. */
static int undo_restore(struct undo_ctx *c, int argc, char **argv)
{
	char buf[65536];
	int in, out, err = 0;
	ssize_t n;
	off_t len = 0;

	(void)c;
	(void)argc;
	out = open(argv[1], O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (out < 0)
		return gone(-errno);
	in = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		err = -errno;
		close(out);
		return err;
	}
	while (!err && (n = read(in, buf, sizeof(buf))) > 0) {
		if (pwrite(out, buf, (size_t)n, len) != n)
			err = -errno;
		len += n;
	}
	if (!err && (n < 0 || ftruncate(out, len)))
		err = -errno;
	close(in);
	close(out);
	return err;
}

static int rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (type == FTW_DP ? rmdir(path) : unlink(path))
		return errno == ENOENT ? 0 : -1;
	return 0;
}

int fl_rm_rf(const char *path)
{
	struct stat sb;

	if (lstat(path, &sb))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(sb.st_mode))
		return unlink(path) && errno != ENOENT ? -errno : 0;
	if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT))
		return errno ? -errno : -EIO;
	return 0;
}

/* ---- the table and the walk -------------------------------------------- */

struct undo_ops {
	const char *kind;
	int min_args; /* including the kind */
	int (*undo)(struct undo_ctx *c, int argc, char **argv);
};

static const struct undo_ops undo_table[] = {
	{ "netns", 2, undo_netns },	  { "link", 3, undo_link },
	{ "qdisc", 4, undo_qdisc },	  { "tcfilter", 6, undo_tcfilter },
	{ "iptables", 6, undo_iptables }, { "sysctl", 4, undo_sysctl },
	{ "pid", 3, undo_pid },		  { "file", 2, undo_file },
	{ "dir", 2, undo_dir },		  { "rmdir", 2, undo_rmdir },
	{ "mount", 2, undo_mount },	  { "route", 3, undo_route },
	{ "restore", 3, undo_restore },	  { NULL, 0, NULL },
};

static int undo_one(struct undo_ctx *c, struct undo_rec *r)
{
	const struct undo_ops *o;
	int err;

	for (o = undo_table; o->kind; o++)
		if (!strcmp(o->kind, r->argv[0]))
			break;
	if (!o->kind || r->argc < o->min_args) {
		pr_err("cleanup %s: cannot undo journal record '%s' (unknown kind or missing"
		       " arguments); remove the object by hand",
		       c->session, r->line);
		return -EINVAL;
	}
	pr_debug("cleanup %s: undo %s", c->session, r->line);
	err = o->undo(c, r->argc, r->argv);
	if (err)
		pr_err("cleanup %s: could not remove '%s': %s", c->session, r->line,
		       strerror(-err));
	return err;
}

/* gcc 12 -fanalyzer false positive (fallacy/analyzer.h): each line belongs to recs[], freed by the caller */
FL_LEAK_FP_BEGIN
static size_t split_records(char *text, size_t len, struct undo_rec *recs)
{
	size_t n = 0;
	char *p = text, *nl;

	while (p < text + len && (nl = memchr(p, '\n', text + len - p))) {
		*nl = '\0';
		recs[n].owner = NULL;
		if (*p == '@') { /* "@OWNER KIND ...": the writer's tag */
			char *sp = strchr(p, ' ');

			recs[n].owner = p + 1;
			if (sp)
				*sp = '\0';
			p = sp ? sp + 1 : nl;
		}
		if (*p) {
			recs[n].line = strdup(p);
			recs[n].argc = 0;
			for (char *w = strtok(p, " "); w && recs[n].argc < MAX_WORDS;
			     w = strtok(NULL, " "))
				recs[n].argv[recs[n].argc++] = w;
			if (recs[n].argc && recs[n].line)
				n++;
			else
				free(recs[n].line);
		}
		p = nl + 1;
	}
	return n;
}
FL_LEAK_FP_END

/* Newest first: a "cancel X" withdraws the newest earlier record X. */
static void mark_active(struct undo_rec *recs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		recs[i].active = strcmp(recs[i].argv[0], "cancel") != 0;
	for (size_t i = n; i-- > 0;) {
		if (strcmp(recs[i].argv[0], "cancel"))
			continue;
		if (strlen(recs[i].line) <= 7) /* "cancel" and nothing: a torn record */
			continue;
		for (size_t j = i; j-- > 0;) {
			if (recs[j].active && !strcmp(recs[j].line, recs[i].line + 7)) {
				recs[j].active = 0;
				break;
			}
		}
	}
}

/* The records that cleanup would undo, newest first, and whether each is
 * one it knows how to undo; nothing is changed. */
/* The records of text (split in place, cancelled ones inactive); NULL
 * when out of memory. Free with free_records. */
static struct undo_rec *load_records(char *text, size_t len, size_t *n)
{
	struct undo_rec *recs;
	size_t cap = 1;

	for (size_t i = 0; i < len; i++)
		cap += text[i] == '\n';
	recs = calloc(cap, sizeof(*recs));
	if (!recs)
		return NULL;
	*n = split_records(text, len, recs);
	mark_active(recs, *n);
	return recs;
}

static void free_records(struct undo_rec *recs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(recs[i].line);
	free(recs);
}

int fl_undo_plan(char *text, size_t len, void (*cb)(void *arg, const char *rec, bool known),
		 void *arg)
{
	size_t n = 0;
	struct undo_rec *recs = load_records(text, len, &n);

	if (!recs)
		return -ENOMEM;
	for (size_t i = n; i-- > 0;) {
		const struct undo_ops *o;

		if (!recs[i].active)
			continue;
		for (o = undo_table; o->kind && strcmp(o->kind, recs[i].argv[0]); o++)
			;
		cb(arg, recs[i].line, o->kind && recs[i].argc >= o->min_args);
	}
	free_records(recs, n);
	return 0;
}

int fl_undo_owned(char *text, size_t len, bool (*dead)(const char *owner),
		  void (*cb)(void *arg, const char *rec), void *arg)
{
	size_t n = 0;
	struct undo_rec *recs = load_records(text, len, &n);

	if (!recs)
		return -ENOMEM;
	for (size_t i = n; i-- > 0;)
		if (recs[i].active && recs[i].owner && dead(recs[i].owner))
			cb(arg, recs[i].line);
	free_records(recs, n);
	return 0;
}

int fl_undo_journal(const char *session, char *text, size_t len, unsigned int flags)
{
	struct undo_ctx c = { .session = session, .killed = !!(flags & FL_CLEANUP_NO_STRAYS) };
	int err = 0, e;

	c.recs = load_records(text, len, &c.n);
	if (!c.recs)
		return -ENOMEM;
	for (size_t i = c.n; i-- > 0;) {
		if (!c.recs[i].active)
			continue;
		e = undo_one(&c, &c.recs[i]);
		if (e && !err)
			err = e;
	}
	free_records(c.recs, c.n);
	return err;
}
