// SPDX-License-Identifier: MIT
/* Named network namespaces the way iproute2 makes them: /run/netns is a
 * shared mount point, and /run/netns/NAME is a bind mount of the
 * namespace's nsfs file, so `ip netns` and fallacy see the same ones. */
#include "netns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "log.h"

#define NETNS_RUN_DIR "/run/netns"
#define NETNS_ETC_DIR "/etc/netns"
#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

static int netns_path(const char *name, char *buf, size_t len)
{
	if (!name || !*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	if ((size_t)snprintf(buf, len, NETNS_RUN_DIR "/%s", name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* Like `ip netns add`: make /run/netns a shared mount (bind it onto itself
 * the first time) so that namespaces mounted later propagate everywhere. */
static int prepare_run_dir(void)
{
	static int done;

	if (done)
		return 0;
	if (mkdir(NETNS_RUN_DIR, 0755) && errno != EEXIST)
		return -errno;
	while (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL)) {
		if (errno != EINVAL)
			return -errno;
		if (mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL))
			return -errno;
	}
	done = 1;
	return 0;
}

int fl_netns_create(const char *name)
{
	char path[256];
	int fd, saved = -1, err;

	err = netns_path(name, path, sizeof(path));
	if (!err)
		err = prepare_run_dir();
	if (err)
		return err;
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	close(fd);
	saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (saved < 0) {
		err = -errno;
		goto fail;
	}
	if (unshare(CLONE_NEWNET)) {
		err = -errno;
		goto fail;
	}
	if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL))
		err = -errno;
	if (setns(saved, CLONE_NEWNET)) {
		/* cannot happen short of a kernel bug; do not go on in a wrong ns */
		pr_err("returning to the original network namespace: %s", strerror(errno));
		abort();
	}
	if (err)
		goto fail;
	close(saved);
	return 0;
fail:
	if (saved >= 0)
		close(saved);
	unlink(path);
	return err;
}

int fl_netns_delete(const char *name)
{
	char path[256];
	int err = netns_path(name, path, sizeof(path));

	if (err)
		return err;
	if (access(path, F_OK))
		return -errno;
	if (umount2(path, MNT_DETACH) && errno != EINVAL && errno != ENOENT)
		return -errno;
	if (unlink(path))
		return -errno;
	return 0;
}

static int check_nsfs(int fd)
{
	struct statfs sf;

	if (fstatfs(fd, &sf)) {
		int err = -errno;

		close(fd);
		return err;
	}
	if ((unsigned long)sf.f_type != NSFS_MAGIC) {
		/* a leftover mount point file: no namespace behind it */
		close(fd);
		return -ENOENT;
	}
	return fd;
}

int fl_netns_open(const char *name)
{
	char path[256];
	int fd, err = netns_path(name, path, sizeof(path));

	if (err)
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return check_nsfs(fd);
}

int fl_netns_open_pid(pid_t pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int fl_netns_open_spec(const char *spec)
{
	char *end;
	long pid;

	if (!spec || !*spec)
		return -EINVAL;
	if (!strcmp(spec, "-")) {
		int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

		return fd < 0 ? -errno : fd;
	}
	if (!strncmp(spec, "pid:", 4)) {
		pid = strtol(spec + 4, &end, 10);
		if (end == spec + 4 || *end || pid <= 0)
			return -EINVAL;
		return fl_netns_open_pid((pid_t)pid);
	}
	return fl_netns_open(spec);
}

int fl_netns_enter(int nsfd, int *saved)
{
	int old = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	if (old < 0)
		return -errno;
	if (setns(nsfd, CLONE_NEWNET)) {
		int err = -errno;

		close(old);
		return err;
	}
	*saved = old;
	return 0;
}

int fl_netns_enter_spec(const char *spec, int *saved)
{
	int nsfd, err;

	*saved = -1;
	if (!spec || !strcmp(spec, "-"))
		return 0;
	nsfd = fl_netns_open_spec(spec);
	if (nsfd < 0)
		return nsfd;
	err = fl_netns_enter(nsfd, saved);
	close(nsfd);
	return err;
}

int fl_netns_leave(int saved)
{
	int err = setns(saved, CLONE_NEWNET) ? -errno : 0;

	if (err)
		pr_err("returning to the original network namespace: %s", strerror(-err));
	close(saved);
	return err;
}

/* Bind /etc/netns/NAME/ENTRY over /etc/ENTRY, as `ip netns exec` does. */
static int bind_etc(const char *name)
{
	char dir[256], src[600], dst[600];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), NETNS_ETC_DIR "/%s", name);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(src, sizeof(src), "%s/%s", dir, de->d_name);
		snprintf(dst, sizeof(dst), "/etc/%s", de->d_name);
		if (mount(src, dst, "none", MS_BIND, NULL))
			pr_warn("binding %s over %s: %s", src, dst, strerror(errno));
	}
	closedir(d);
	return 0;
}

/* A private view of the mounts: /sys shows the namespace's interfaces. */
static int remount_sys(const char *name)
{
	unsigned long flags = 0;
	struct statvfs sv;

	if (unshare(CLONE_NEWNS))
		return -errno;
	if (mount("", "/", "none", MS_SLAVE | MS_REC, NULL))
		return -errno;
	if (umount2("/sys", MNT_DETACH) == 0) {
		if (!statvfs("/sys", &sv) && (sv.f_flag & ST_RDONLY))
			flags = MS_RDONLY;
		if (mount(name, "/sys", "sysfs", flags, NULL))
			pr_debug("mounting sysfs for %s: %s", name, strerror(errno));
	}
	return 0;
}

int fl_netns_exec(const char *name, char *const argv[])
{
	int fd = fl_netns_open(name), err;

	if (fd < 0) {
		pr_err("network namespace %s: %s", name, strerror(-fd));
		return fd;
	}
	if (setns(fd, CLONE_NEWNET)) {
		err = -errno;
		pr_err("entering network namespace %s: %s", name, strerror(errno));
		close(fd);
		return err;
	}
	close(fd);
	err = remount_sys(name);
	if (err) {
		pr_err("private mount namespace for %s: %s", name, strerror(-err));
		return err;
	}
	bind_etc(name);
	execvp(argv[0], argv);
	err = -errno;
	pr_err("%s: %s", argv[0], strerror(errno));
	return err;
}
