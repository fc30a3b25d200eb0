// SPDX-License-Identifier: MIT
/* fallacy agent: the control handler with a router in front (agent.h),
 * on a line-oriented file descriptor. The parsing and the verbs are
 * control.c's and control_agent.c's; this file holds the targets, their
 * leases and the stdio loop. */
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "json.h"
#include "log.h"
#include "pods.h"

static struct fl_agent *of(struct fl_ctl *c)
{
	return c->arg;
}

static int route(struct fl_ctl *c, const struct fl_target *t, struct fl_ctl **tc,
		 struct fl_err *err)
{
	struct fl_agent *a = of(c);
	int ret;

	for (int i = 0; i < a->n; i++)
		if (!strcmp(a->tc[i]->target.session, t->session)) {
			*tc = a->tc[i];
			return 0;
		}
	if (a->n == FL_AGENT_MAX_TARGETS) {
		fl_err_set(err, "%s: the agent holds faults on %d targets already (reset some)",
			   t->session, FL_AGENT_MAX_TARGETS);
		return -ENOSPC;
	}
	ret = fl_ctl_new(t, "agent", tc);
	if (ret) {
		fl_err_set(err, "%s: %s", t->session, strerror(-ret));
		return ret;
	}
	if (a->ops)
		(*tc)->ops = a->ops;
	(*tc)->arg = a;
	a->tc[a->n++] = *tc;
	return 0;
}

static struct fl_ctl *each(struct fl_ctl *c, int i)
{
	struct fl_agent *a = of(c);

	return i >= 0 && i < a->n ? a->tc[i] : NULL;
}

static void forget(struct fl_ctl *c, struct fl_ctl *tc)
{
	struct fl_agent *a = of(c);

	for (int i = 0; i < a->n; i++)
		if (a->tc[i] == tc) {
			if (a->recorded[i])
				fl_agent_record(tc->target.session, false);
			memmove(&a->tc[i], &a->tc[i + 1], (size_t)(a->n - i - 1) * sizeof(tc));
			memmove(&a->recorded[i], &a->recorded[i + 1],
				(size_t)(a->n - i - 1) * sizeof(a->recorded[0]));
			a->n--;
			a->recorded[a->n] = false;
			fl_ctl_free(tc);
			return;
		}
}

/* A namespace of fallacy's: fl-LAB (a lab's wire) or fl-LAB.NODE. */
static void put_lab(struct fl_out *o, const char *name)
{
	char lab[64];
	const char *dot;

	if (strncmp(name, "fl-", 3) || strlen(name + 3) >= sizeof(lab))
		return;
	snprintf(lab, sizeof(lab), "%s", name + 3);
	dot = strchr(name + 3, '.');
	if (dot)
		lab[dot - (name + 3)] = '\0';
	fl_out_str(o, "lab", lab);
	if (dot)
		fl_out_str(o, "node", dot + 1);
}

static uint64_t put_netns(struct fl_out *o, const char *dir, const char *name)
{
	char path[4096];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
	    stat(path, &st))
		return 0;
	fl_out_open(o, "", '{');
	fl_out_str(o, "netns", name);
	fl_out_str(o, "path", path);
	fl_out_u64(o, "inode", (uint64_t)st.st_ino);
	put_lab(o, name);
	fl_out_close(o, '}');
	return (uint64_t)st.st_ino;
}

static int by_name(const struct dirent **x, const struct dirent **y)
{
	return strcmp((*x)->d_name, (*y)->d_name);
}

#define MAX_SEEN 1024

static bool seen(const uint64_t *v, int n, uint64_t ino)
{
	for (int i = 0; i < n; i++)
		if (v[i] == ino)
			return true;
	return false;
}

/* Namespaces only processes hold (containers'): one entry each, by its
 * lowest pid. */
static void put_process_netns(struct fl_out *o, uint64_t *v, int n)
{
	DIR *d = opendir("/proc");
	struct dirent *de;

	while (d && (de = readdir(d)) && n < MAX_SEEN) {
		char path[64], comm[64] = "";
		int pid = atoi(de->d_name);
		struct stat st;
		FILE *f;

		if (pid <= 0 || snprintf(path, sizeof(path), "/proc/%d/ns/net", pid) < 0 ||
		    stat(path, &st) || seen(v, n, (uint64_t)st.st_ino))
			continue;
		v[n++] = (uint64_t)st.st_ino;
		snprintf(comm, sizeof(comm), "/proc/%d/comm", pid);
		f = fopen(comm, "r");
		if (!f || !fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		if (f)
			fclose(f);
		comm[strcspn(comm, "\n")] = '\0';
		fl_out_open(o, "", '{');
		fl_out_i64(o, "pid", pid);
		fl_out_str(o, "path", path);
		fl_out_u64(o, "inode", (uint64_t)st.st_ino);
		fl_out_str(o, "comm", comm);
		fl_out_close(o, '}');
	}
	if (d)
		closedir(d);
}

static int pod(struct fl_ctl *c, const char *uid, pid_t *pid, int *nsfd, struct fl_err *err)
{
	struct fl_agent *a = of(c);
	struct fl_pod p;
	int ret = fl_pod_find(a->proc_root, uid, &p, err);

	if (ret)
		return ret;
	ret = fl_pod_hold(a->proc_root, &p, err);
	if (ret < 0)
		return ret;
	*pid = p.pid;
	*nsfd = ret;
	return 0;
}

/* Pods by UID (those that cannot be targets say why); their namespaces
 * join v (n so far): the number in v. */
static int put_pods(struct fl_agent *a, struct fl_out *o, uint64_t *v, int n)
{
	struct fl_pod *p = calloc(FL_PODS_MAX, sizeof(*p));
	int k = p ? fl_pods_list(a->proc_root, p, FL_PODS_MAX) : 0;

	for (int i = 0; i < k; i++) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)p[i].pid);
		fl_out_open(o, "", '{');
		fl_out_str(o, "pod", p[i].uid);
		fl_out_i64(o, "pid", p[i].pid);
		fl_out_str(o, "path", path);
		fl_out_u64(o, "inode", p[i].inode);
		fl_out_i64(o, "processes", p[i].procs);
		if (p[i].host)
			fl_out_str(o, "refused", "the host's network namespace (hostNetwork)");
		else if (p[i].n_netns > 1)
			fl_out_str(o, "refused", "its processes are in several namespaces");
		fl_out_close(o, '}');
		if (n < MAX_SEEN && !seen(v, n, p[i].inode))
			v[n++] = p[i].inode;
	}
	free(p);
	return n;
}

/* The agent's own namespace, the named ones, pods, then the namespaces
 * only processes hold. */
static void targets(struct fl_ctl *c, struct fl_out *o)
{
	struct fl_agent *a = of(c);
	struct dirent **names = NULL;
	uint64_t *ino = calloc(MAX_SEEN, sizeof(*ino));
	struct stat st;
	int n = scandir(a->netns_dir, &names, NULL, by_name), k = 0;

	if (!stat("/proc/self/ns/net", &st)) {
		fl_out_u64(o, "host_inode", (uint64_t)st.st_ino);
		if (ino)
			ino[k++] = (uint64_t)st.st_ino;
	}
	fl_out_open(o, "targets", '[');
	for (int i = 0; i < n; i++) {
		uint64_t x = 0;

		if (names[i]->d_name[0] != '.')
			x = put_netns(o, a->netns_dir, names[i]->d_name);
		if (x && ino && k < MAX_SEEN)
			ino[k++] = x;
		free(names[i]);
	}
	if (ino && a->proc_root)
		k = put_pods(a, o, ino, k);
	if (ino && a->processes)
		put_process_netns(o, ino, k);
	fl_out_close(o, ']');
	free(names);
	free(ino);
}

static const struct fl_ctl_router router = {
	.route = route,
	.each = each,
	.targets = targets,
	.capture = fl_agent_capture,
	.pod = pod,
	.forget = forget,
};

int fl_agent_new(struct fl_agent **out)
{
	struct fl_target none = { .kind = FL_TARGET_NETNS };
	struct fl_agent *a = calloc(1, sizeof(*a));
	int ret;

	*out = NULL;
	if (!a)
		return -ENOMEM;
	ret = fl_ctl_new(&none, "agent", &a->front);
	if (ret) {
		free(a);
		return ret;
	}
	a->front->router = &router;
	a->front->arg = a;
	a->netns_dir = "/run/netns";
	a->proc_root = "/proc";
	a->processes = true;
	a->capture_dir = "/var/tmp/fallacy-agent";
	a->self = "/proc/self/exe";
	*out = a;
	return 0;
}

void fl_agent_free(struct fl_agent *a)
{
	if (!a)
		return;
	fl_agent_captures_stop(a);
	for (int i = 0; i < a->n; i++)
		fl_ctl_free(a->tc[i]);
	fl_ctl_free(a->front);
	free(a);
}

int fl_agent_handle(struct fl_agent *a, const char *line, size_t len, FILE *out)
{
	int ret = fl_ctl_handle(a->front, line, len, out);

	fflush(out);
	for (int i = 0; a->records && i < a->n; i++) /* a session with our faults */
		if (!a->recorded[i] && a->tc[i]->n_own) {
			fl_agent_record(a->tc[i]->target.session, true);
			a->recorded[i] = true;
		}
	return ret;
}

int fl_agent_expire(struct fl_agent *a, uint64_t now_ns)
{
	int n = 0;

	for (int i = a->n - 1; i >= 0; i--) {
		struct fl_ctl *tc = a->tc[i];

		if (!tc->lease_due_ns || tc->lease_due_ns > now_ns)
			continue;
		pr_info("agent: the lease on %s ran out; removing its faults", tc->target.session);
		if (fl_ctl_expire(tc))
			pr_warn("agent: %s: some faults could not be removed (they end with their --duration)",
				tc->target.session);
		forget(a->front, tc);
		n++;
	}
	return n;
}

void fl_agent_reset_all(struct fl_agent *a)
{
	while (a->n) {
		fl_ctl_expire(a->tc[a->n - 1]);
		forget(a->front, a->tc[a->n - 1]);
	}
}

/* Milliseconds until the next lease runs out, -1 for none. */
static int next_due_ms(const struct fl_agent *a, uint64_t now)
{
	uint64_t due = 0;

	for (int i = 0; i < a->n; i++)
		if (a->tc[i]->lease_due_ns && (!due || a->tc[i]->lease_due_ns < due))
			due = a->tc[i]->lease_due_ns;
	if (!due)
		return -1;
	if (due <= now)
		return 0;
	return (int)((due - now + FL_NSEC_PER_MSEC - 1) / FL_NSEC_PER_MSEC);
}

/* A line buffer: complete lines are answered, an overlong one is refused
 * once and skipped up to its newline. */
struct lines {
	char *buf;
	size_t len;
	bool skipping;
};

static void take_lines(struct fl_agent *a, struct lines *l, FILE *out)
{
	char *nl;

	while ((nl = memchr(l->buf, '\n', l->len))) {
		size_t n = (size_t)(nl - l->buf);

		if (!l->skipping && n)
			fl_agent_handle(a, l->buf, n, out);
		l->skipping = false;
		memmove(l->buf, nl + 1, l->len - n - 1);
		l->len -= n + 1;
	}
	if (l->len > FL_CTL_LINE_MAX) {
		if (!l->skipping)
			fl_agent_handle(a, l->buf, l->len, out); /* refused: too long */
		l->skipping = true;
		l->len = 0;
	}
}

static int read_some(struct fl_agent *a, int fd, struct lines *l, FILE *out)
{
	ssize_t n = read(fd, l->buf + l->len, FL_CTL_LINE_MAX + 2 - l->len);

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -errno;
	if (!n) {
		if (l->len && !l->skipping) /* a last line without its newline */
			fl_agent_handle(a, l->buf, l->len, out);
		return 1;
	}
	l->len += (size_t)n;
	take_lines(a, l, out);
	return 0;
}

int fl_agent_serve(struct fl_agent *a, int in_fd, FILE *out)
{
	struct lines l = { .buf = malloc(FL_CTL_LINE_MAX + 2) };
	struct pollfd p = { .fd = in_fd, .events = POLLIN };
	struct timespec ts;
	bool eof = false;
	int ret = 0;

	if (!l.buf)
		return -ENOMEM;
	while (!a->stop && !(eof && !a->n)) {
		int ms = next_due_ms(a, fl_clock_mono_ns()), r;

		if (eof && ms < 0)
			break;
		if (ms >= 0) {
			ts.tv_sec = ms / 1000;
			ts.tv_nsec = (long)(ms % 1000) * 1000000;
		}
		r = ppoll(&p, eof ? 0 : 1, ms >= 0 ? &ts : NULL, a->wait_mask);

		if (r < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
		fl_agent_expire(a, fl_clock_mono_ns());
		if (r > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
			ret = read_some(a, in_fd, &l, out);
			eof = ret != 0;
			ret = ret < 0 ? ret : 0;
			if (eof && a->n)
				pr_info("agent: end of input; the faults on %d target(s) end with their leases",
					a->n);
		}
	}
	if (a->stop)
		fl_agent_reset_all(a);
	free(l.buf);
	return ret;
}
