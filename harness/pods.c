// SPDX-License-Identifier: MIT
/* Pods by UID from /proc/PID/cgroup (pods.h). */
#include "pods.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Distinct namespaces remembered per pod (more only count). */
#define NS_SEEN 8

int fl_pod_uid_parse(const char *text, size_t len, char *uid)
{
	if (len != FL_POD_UID_LEN)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		bool sep = i == 8 || i == 13 || i == 18 || i == 23;
		char ch = text[i];

		if (sep ? ch != '-' && ch != '_' : !isxdigit((unsigned char)ch))
			return -EINVAL;
		uid[i] = sep ? '-' : (char)tolower((unsigned char)ch);
	}
	uid[len] = '\0';
	return 0;
}

/* "pod" at p begins a pod's cgroup: after '/' (cgroupfs) or '-' (systemd),
 * a UID, then the end of that path element ('/', ".slice", end of line). */
static int uid_at(const char *text, const char *p, char *uid)
{
	const char *end = p + 3 + FL_POD_UID_LEN;

	if (p == text || (p[-1] != '/' && p[-1] != '-') ||
	    strnlen(p + 3, FL_POD_UID_LEN) < FL_POD_UID_LEN)
		return -ENOENT;
	if (*end && *end != '/' && *end != '\n' && strncmp(end, ".slice", 6))
		return -ENOENT;
	return fl_pod_uid_parse(p + 3, FL_POD_UID_LEN, uid) ? -ENOENT : 0;
}

int fl_pod_uid_of_cgroup(const char *text, char *uid)
{
	for (const char *p = strstr(text, "pod"); p; p = strstr(p + 1, "pod"))
		if (!uid_at(text, p, uid))
			return 0;
	return -ENOENT;
}

/* The pod root/PID's cgroup names (0 with uid) and its namespace's inode. */
static int read_proc(const char *root, int pid, char *uid, uint64_t *ino)
{
	char path[4096], buf[8192];
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%d/cgroup", root, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ENOENT;
	buf[n] = '\0';
	if (fl_pod_uid_of_cgroup(buf, uid))
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/%d/ns/net", root, pid);
	if (stat(path, &st))
		return -errno;
	*ino = (uint64_t)st.st_ino;
	return 0;
}

struct acc {
	struct fl_pod pod;
	uint64_t seen[NS_SEEN];
};

static void count(struct acc *a, int pid, uint64_t ino)
{
	int k = a->pod.n_netns < NS_SEEN ? a->pod.n_netns : NS_SEEN;
	bool known = false;

	for (int i = 0; i < k; i++)
		known |= a->seen[i] == ino;
	if (!known) {
		if (k < NS_SEEN)
			a->seen[k] = ino;
		a->pod.n_netns++;
	}
	if (!a->pod.procs++ || pid < a->pod.pid) {
		a->pod.pid = pid;
		a->pod.inode = ino;
	}
}

/* Every process under root in some pod into v (n pods so far, at most
 * max); only pod only, when given. The number of pods. */
static int scan(const char *root, const char *only, struct acc *v, int max)
{
	DIR *d = opendir(root);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char uid[FL_POD_UID_LEN + 1];
		int pid = atoi(de->d_name), i;
		uint64_t ino;

		if (pid <= 0 || read_proc(root, pid, uid, &ino) || (only && strcmp(uid, only)))
			continue;
		for (i = 0; i < n && strcmp(v[i].pod.uid, uid); i++)
			;
		if (i == n && n == max)
			continue;
		if (i == n) {
			memset(&v[n], 0, sizeof(v[n]));
			memcpy(v[n++].pod.uid, uid, sizeof(uid));
		}
		count(&v[i], pid, ino);
	}
	closedir(d);
	return n;
}

static void mark_host(const char *root, struct fl_pod *p)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/self/ns/net", root);
	p->host = !stat(path, &st) && (uint64_t)st.st_ino == p->inode;
}

int fl_pod_find(const char *root, const char *uid, struct fl_pod *p, struct fl_err *err)
{
	char want[FL_POD_UID_LEN + 1];
	struct acc a;
	int n;

	memset(p, 0, sizeof(*p));
	if (fl_pod_uid_parse(uid, strlen(uid), want)) {
		fl_err_set(err,
			   "pod '%s': a pod UID is 8-4-4-4-12 hex digits "
			   "(kubectl get pod NAME -o jsonpath='{.metadata.uid}')",
			   uid);
		return -EINVAL;
	}
	n = scan(root, want, &a, 1);
	if (n < 0) {
		fl_err_set(err, "pod %s: reading %s: %s", want, root, strerror(-n));
		return n;
	}
	if (!n) {
		snprintf(p->uid, sizeof(p->uid), "%s", want);
		fl_err_set(err,
			   "pod %s: no process in its cgroups on this host (pod%s or pod%.8s_... "
			   "in %s/*/cgroup): is the pod running on this node?",
			   want, want, want, root);
		return -ENOENT;
	}
	*p = a.pod;
	mark_host(root, p);
	if (p->n_netns > 1) {
		fl_err_set(err,
			   "pod %s: its %d processes are in %d network namespaces, not one: "
			   "name one of them by {\"pid\": PID} instead",
			   want, p->procs, p->n_netns);
		return -EINVAL;
	}
	if (p->host) {
		fl_err_set(err,
			   "pod %s: uses the host's network namespace (hostNetwork: true); "
			   "faults there would hit the whole node: refused",
			   want);
		return -EPERM;
	}
	return 0;
}

int fl_pod_hold(const char *root, const struct fl_pod *p, struct fl_err *err)
{
	char path[4096];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/%d/ns/net", root, (int)p->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || (uint64_t)st.st_ino != p->inode) {
		if (fd >= 0)
			close(fd);
		fl_err_set(err, "pod %s: its process %d is gone (the pod restarted?): try again",
			   p->uid, (int)p->pid);
		return -ESRCH;
	}
	return fd;
}

static int by_uid(const void *x, const void *y)
{
	return strcmp(((const struct fl_pod *)x)->uid, ((const struct fl_pod *)y)->uid);
}

int fl_pods_list(const char *root, struct fl_pod *v, int max)
{
	struct acc *a = calloc(FL_PODS_MAX, sizeof(*a));
	int n;

	if (!a)
		return -ENOMEM;
	n = scan(root, NULL, a, max < FL_PODS_MAX ? max : FL_PODS_MAX);
	for (int i = 0; i < n; i++) {
		v[i] = a[i].pod;
		mark_host(root, &v[i]);
	}
	free(a);
	if (n > 0)
		qsort(v, (size_t)n, sizeof(*v), by_uid);
	return n;
}
