// SPDX-License-Identifier: MIT
/* NODE sysctl KEY VALUE
 *
 * One of the per-network-namespace sysctls that administrators change in
 * practice, written inside the node's namespace (so `sysctl KEY` there shows
 * it), its old value journalled first ("sysctl NETNS KEY OLD", whose undo
 * writes it back). A key has one foreign value at a time: a second change
 * of the same key on the same node is refused until the first is undone,
 * so undoing them in any order restores what the node had. */
#include "admin_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netns.h"
#include "parse.h"

struct allowed {
	const char *key;
	int n; /* numbers in the value */
	uint64_t min, max;
	const char *form; /* for messages */
};

static const struct allowed allowed[] = {
	{ "net.ipv4.tcp_keepalive_time", 1, 1, 32767, "seconds, 1..32767 (default 7200)" },
	{ "net.ipv4.ip_local_port_range", 2, 1, 65535, "LOW HIGH, ports 1..65535, LOW <= HIGH" },
	{ "net.core.somaxconn", 1, 0, 2147483647, "a connection count, 0..2147483647" },
};

#define N_ALLOWED (sizeof(allowed) / sizeof(allowed[0]))

const char *fl_admin_sysctl_key(size_t i, const char **form)
{
	if (i >= N_ALLOWED)
		return NULL;
	if (form)
		*form = allowed[i].form;
	return allowed[i].key;
}

static const struct allowed *find(const char *key, struct fl_err *err)
{
	const char *names[N_ALLOWED], *near;
	char list[256] = "";

	for (size_t i = 0; i < N_ALLOWED; i++) {
		names[i] = allowed[i].key;
		if (!strcmp(key, allowed[i].key))
			return &allowed[i];
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 names[i]);
	}
	near = fl_suggest(key, names, N_ALLOWED);
	if (near)
		fl_err_set(err, "sysctl: unknown key '%s' (did you mean '%s'?)", key, near);
	else
		fl_err_set(err, "sysctl: %s is not on the allow-list (%s)", key, list);
	return NULL;
}

/* The value's numbers, checked, joined by one space into a->value. */
static int value(struct fl_admin *a, const struct allowed *k, int n, char **w, struct fl_err *err)
{
	uint64_t v[2];
	struct fl_err e;
	size_t off = 0;

	if (n != k->n)
		goto bad;
	for (int i = 0; i < n; i++) {
		if (fl_parse_u64(w[i], k->min, k->max, &v[i], &e))
			goto bad;
		off += (size_t)snprintf(a->value + off, sizeof(a->value) - off, "%s%llu",
					i ? " " : "", (unsigned long long)v[i]);
	}
	if (n == 2 && v[0] > v[1])
		goto bad;
	return 0;
bad:
	fl_err_set(err, "sysctl %s: expected %s", k->key, k->form);
	return -EINVAL;
}

static int sysctl_parse(struct fl_admin *a, int argc, char **argv, struct fl_err *err)
{
	char *words[32], *split[4];
	const char *vals[1] = { NULL };
	const struct allowed *k;
	char buf[128];
	int n, m = 0;

	if (fl_admin_split("sysctl", argc, argv, NULL, vals, words, &n, err))
		return -EINVAL;
	if (n < 2) {
		fl_err_set(err, "sysctl: expected KEY VALUE (usage: %s)", fl_admin_sysctl.usage);
		return -EINVAL;
	}
	k = find(words[0], err);
	if (!k)
		return -EINVAL;
	snprintf(a->key, sizeof(a->key), "%s", k->key);
	/* "40000 40100" as one word or two */
	buf[0] = '\0';
	for (int i = 1; i < n; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i > 1 ? " " : "",
			 words[i]);
	for (char *save = NULL, *t = strtok_r(buf, " \t", &save); t && m < 4;
	     t = strtok_r(NULL, " \t", &save))
		split[m++] = t;
	return value(a, k, m, split, err);
}

static int sysctl_conflict(const struct fl_admin *a, const struct fl_admin *old, struct fl_err *err)
{
	if (strcmp(a->key, old->key))
		return 0;
	fl_err_set(err, "sysctl %s on %s is already changed by %s (%s); undo that first", a->key,
		   a->node, old->id, old->value);
	return -EEXIST;
}

static void sysctl_print(const struct fl_admin *a, struct fl_out *o)
{
	fl_out_str(o, o->json ? "key" : "", a->key);
	fl_out_str(o, o->json ? "value" : "", a->value);
}

/* Read (val != NULL: into val, blanks made single spaces) or write KEY
 * inside netns. */
static int proc_sys(const char *netns, const char *key, char *val, size_t len, const char *set)
{
	char path[256], buf[256];
	int saved = -1, fd, err = 0;
	ssize_t r;

	snprintf(path, sizeof(path), "/proc/sys/%s", key);
	for (char *p = path + 10; *p; p++)
		if (*p == '.')
			*p = '/';
	err = fl_netns_enter_spec(netns, &saved);
	if (err)
		return err;
	fd = open(path, (set ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		err = -errno;
	else if (set && write(fd, set, strlen(set)) != (ssize_t)strlen(set))
		err = -errno;
	else if (!set && (r = read(fd, buf, sizeof(buf) - 1)) < 0)
		err = -errno;
	else if (!set) {
		size_t n = 0;

		buf[r] = '\0';
		for (char *s = NULL, *t = strtok_r(buf, " \t\n", &s); t;
		     t = strtok_r(NULL, " \t\n", &s))
			n += (size_t)snprintf(val + n, n < len ? len - n : 0, "%s%s", n ? " " : "",
					      t);
	}
	if (fd >= 0)
		close(fd);
	fl_netns_leave(saved);
	return err;
}

static int sysctl_apply(struct fl_admin_ctx *c, struct fl_err *err)
{
	const char *ns = c->node->netns;
	char old[128] = "";
	int ret = proc_sys(ns, c->a->key, old, sizeof(old), NULL);

	if (ret || !old[0]) {
		fl_err_set(err, "sysctl %s on %s: reading it: %s", c->a->key, c->a->node,
			   ret ? strerror(-ret) : "empty");
		return ret ?: -EIO;
	}
	ret = fl_admin_record(c, "sysctl", "%s %s %s", ns, c->a->key, old);
	if (!ret)
		ret = proc_sys(ns, c->a->key, NULL, 0, c->a->value);
	if (ret == -EINVAL)
		fl_err_set(err, "sysctl %s on %s: the kernel refused '%s' (it has '%s')", c->a->key,
			   c->a->node, c->a->value, old);
	else if (ret)
		fl_err_set(err, "sysctl %s on %s: %s", c->a->key, c->a->node, strerror(-ret));
	return ret;
}

const struct fl_admin_ops fl_admin_sysctl = {
	.name = "sysctl",
	.usage = "sysctl KEY VALUE",
	.parse = sysctl_parse,
	.conflict = sysctl_conflict,
	.print = sysctl_print,
	.apply = sysctl_apply,
};
