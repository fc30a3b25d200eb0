/* SPDX-License-Identifier: MIT */
/* Kubernetes pods by their UID, without the container runtime's socket
 * (docs/kubernetes.md): a pod's processes are the ones whose cgroup path
 * names the pod, either the way the kubelet's cgroupfs driver names it
 * (".../kubepods/burstable/pod<UID>/<container>") or its systemd driver
 * (".../kubepods-burstable-pod<UID with _ for ->.slice/..."). A pod's
 * containers share one network namespace; that one is the target.
 *
 *	struct fl_pod p;
 *	fl_pod_find("/proc", "0b2c...-...", &p, &err);  // p.pid, p.inode
 *	int fd = fl_pod_hold("/proc", &p, &err);         // the namespace by fd
 *
 * The proc root is a parameter so that tests build synthetic trees
 * (PID/cgroup, PID/ns/net: hard links for one namespace). */
#ifndef FALLACY_PODS_H
#define FALLACY_PODS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "log.h"

/* A pod UID: 8-4-4-4-12 hexadecimal digits. */
#define FL_POD_UID_LEN 36
/* Pods one listing reports at most. */
#define FL_PODS_MAX 256

struct fl_pod {
	char uid[FL_POD_UID_LEN + 1]; /* with '-' */
	pid_t pid; /* the lowest pid in the pod */
	uint64_t inode; /* that process's network namespace */
	int procs; /* processes found in the pod's cgroups */
	int n_netns; /* distinct network namespaces among them */
	bool host; /* the namespace is the host's (hostNetwork: true) */
};

/* text is a pod UID (with '-' or '_' between its groups): the UID with
 * '-' into uid (FL_POD_UID_LEN + 1 bytes). 0 or -EINVAL. */
int fl_pod_uid_parse(const char *text, size_t len, char *uid);
/* The pod a cgroup file's line (or a whole /proc/PID/cgroup) names, in
 * either layout: 0 with uid, or -ENOENT. */
int fl_pod_uid_of_cgroup(const char *text, char *uid);

/* Find pod uid under root ("/proc"): its processes, their namespace.
 * 0 when they share one namespace that is not the host's (root/self's);
 * else -ENOENT (no process), -EINVAL (several namespaces), -EPERM (the
 * host's), with a message naming the pod and what to do. p is filled in
 * either way. */
int fl_pod_find(const char *root, const char *uid, struct fl_pod *p, struct fl_err *err);
/* Open the namespace of p (root/PID/ns/net) and check it is still p's:
 * the fd, or -errno with a message (the pod's process is gone). */
int fl_pod_hold(const char *root, const struct fl_pod *p, struct fl_err *err);
/* Every pod under root, by UID (at most max): their number, or -errno. */
int fl_pods_list(const char *root, struct fl_pod *v, int max);

#endif
