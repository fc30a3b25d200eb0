// SPDX-License-Identifier: MIT
/* NODE hosts NAME ADDR|OTHER
 *
 * The node's name resolution (/etc/netns/fl-LAB.NODE/hosts, which every
 * process started in the node has bound over /etc/hosts) says NAME is at
 * ADDR, and nowhere else: NAME is taken out of the other entries (an entry
 * left without names goes) and "ADDR NAME" is added with a comment naming
 * the change. Other nodes' files are not touched.
 *
 * The file is rewritten in place (same inode), so processes already running
 * in the node see the change the next time they read /etc/hosts. Before the
 * node's first change its file is saved as RUN_DIR/LAB/admin/NODE.hosts, and
 * every change journals "restore FILE SAVED" first; undoing one change
 * rewrites the file from the saved copy plus the node's other changes, in
 * their order (the newest entry for a name wins). ADDR must be a lab
 * address (198.18.0.0/15, fdfa:11ac::/64) or loopback: nothing may point a
 * node at the outside world. Instead of ADDR, another node's name: NAME
 * gets that node's addresses (a stale entry for an address that was
 * recycled: the name now leads to a different machine of the cluster). */
#include "admin_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parse.h"
#include "state/journal.h"

#define HOSTS_MAX (1 << 20)

static int check_name(const char *name, struct fl_err *err)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (!isalnum(ch) && ch != '-' && ch != '.' && ch != '_')
			goto bad;
	}
	if (n && n <= FL_ADMIN_HOSTNAME_MAX && name[0] != '-' && name[0] != '.')
		return 0;
bad:
	fl_err_set(err,
		   "hosts: '%s' is not a host name (letters, digits, '-', '.', '_'; at most %d)",
		   name, FL_ADMIN_HOSTNAME_MAX);
	return -EINVAL;
}

/* A lab address (the address plan of lab.h) or loopback. */
static int check_addr(const char *text, char *out, size_t len, struct fl_err *err)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, text, &a4) == 1) {
		uint32_t h = ntohl(a4.s_addr);

		if ((h >> (32 - FL_LAB_NET4_LEN)) == (FL_LAB_NET4 >> (32 - FL_LAB_NET4_LEN)) ||
		    (h >> 24) == 127) {
			inet_ntop(AF_INET, &a4, out, (socklen_t)len);
			return 0;
		}
	} else if (inet_pton(AF_INET6, text, &a6) == 1) {
		if (!memcmp(&a6, &fl_lab_net6, FL_LAB_PREFIX6_LEN / 8) ||
		    IN6_IS_ADDR_LOOPBACK(&a6)) {
			inet_ntop(AF_INET6, &a6, out, (socklen_t)len);
			return 0;
		}
	} else {
		fl_err_set(err, "hosts: '%s' is not an IPv4 or IPv6 address", text);
		return -EINVAL;
	}
	fl_err_set(err,
		   "hosts: %s is outside the lab; use an address of 198.18.0.0/15 or "
		   "fdfa:11ac::/64 (a stale or wrong lab address) or loopback",
		   text);
	return -EINVAL;
}

/* ADDR, or the name of another node (no '.' or ':' in it). */
static bool addr_is_node(const char *addr)
{
	return !strpbrk(addr, ".:");
}

static int hosts_parse(struct fl_admin *a, int argc, char **argv, struct fl_err *err)
{
	char *words[32];
	const char *vals[1] = { NULL };
	int n;

	if (fl_admin_split("hosts", argc, argv, NULL, vals, words, &n, err))
		return -EINVAL;
	if (n != 2) {
		fl_err_set(err, "hosts: expected NAME ADDR (usage: %s)", fl_admin_hosts.usage);
		return -EINVAL;
	}
	if (check_name(words[0], err))
		return -EINVAL;
	if (addr_is_node(words[1])) {
		if (fl_validate_name("hosts: node", words[1], FL_NODE_NAME_MAX, err))
			return -EINVAL;
		snprintf(a->addr, sizeof(a->addr), "%s", words[1]);
	} else if (check_addr(words[1], a->addr, sizeof(a->addr), err)) {
		return -EINVAL;
	}
	snprintf(a->name, sizeof(a->name), "%s", words[0]);
	return 0;
}

static int hosts_check(const struct fl_admin *a, const struct fl_lab *lab, struct fl_err *err)
{
	char names[128];

	if (!addr_is_node(a->addr) || fl_lab_node(lab, a->addr))
		return 0;
	fl_lab_nodes_text(lab, names, sizeof(names));
	fl_err_set(err, "hosts %s %s: lab %s has no node '%s' (it has %s)", a->name, a->addr,
		   lab->name, a->addr, names);
	return -ENOENT;
}

static void hosts_print(const struct fl_admin *a, struct fl_out *o)
{
	fl_out_str(o, o->json ? "name" : "", a->name);
	fl_out_str(o, o->json ? "addr" : "", a->addr);
}

/* ---- the file --------------------------------------------------------------- */

static char *read_file(const char *path, int flags, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | flags);
	char *buf = NULL;
	ssize_t r;

	*len = 0;
	if (fd < 0)
		return NULL;
	buf = malloc(HOSTS_MAX + 1);
	while (buf && *len < HOSTS_MAX && (r = read(fd, buf + *len, HOSTS_MAX - *len)) > 0)
		*len += (size_t)r;
	close(fd);
	if (buf)
		buf[*len] = '\0';
	return buf;
}

/* In place: the bind mounts of the node's processes see the same inode. A
 * symlink is refused (it would be another node's file too). */
static int write_in_place(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (pwrite(fd, text, len, 0) != (ssize_t)len || ftruncate(fd, (off_t)len))
		err = errno ? -errno : -EIO;
	close(fd);
	return err;
}

/* Append line to out (growing buffer). */
static int put(char **out, size_t *n, size_t *cap, const char *line, size_t len)
{
	if (*n + len + 2 > *cap) {
		size_t nc = (*n + len + 2) * 2;
		char *b = realloc(*out, nc);

		if (!b)
			return -ENOMEM;
		*out = b;
		*cap = nc;
	}
	memcpy(*out + *n, line, len);
	*n += len;
	(*out)[*n] = '\0';
	return 0;
}

/* An entry line without the name NAME into out ("" when no name is left);
 * returns how many times NAME was taken out (0: use the line as it is). */
static int drop_name(const char *line, const char *name, char *out, size_t len)
{
	char buf[1024], *save = NULL, *tok, *hash;
	int names = 0, dropped = 0;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	hash = strchr(buf, '#');
	if (hash)
		*hash = '\0';
	out[0] = '\0';
	for (tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (n && !strcasecmp(tok, name)) {
			dropped++;
			continue;
		}
		names += n > 0;
		n += (size_t)snprintf(out + n, n < len ? len - n : 0, "%s%s", n ? "\t" : "", tok);
	}
	if (!names)
		out[0] = '\0';
	return dropped;
}

/* The entry lines of a change: "ADDR NAME # ..." (a node's: one per
 * address it has). */
static void entries(const struct fl_admin *a, const struct fl_lab *lab, char *buf, size_t len)
{
	const struct fl_node *n = NULL;
	char addr[2][64];
	int k = 0;
	size_t off = 0;

	/* a node that left keeps its last addresses: a stale entry */
	if (addr_is_node(a->addr) && !(n = fl_lab_node(lab, a->addr)))
		n = fl_lab_gone(lab, a->addr);
	if (!addr_is_node(a->addr))
		snprintf(addr[k++], sizeof(addr[0]), "%s", a->addr);
	if (n && (n->fam & FL_NODE_V4))
		inet_ntop(AF_INET, &n->ip4, addr[k++], sizeof(addr[0]));
	if (n && (n->fam & FL_NODE_V6))
		inet_ntop(AF_INET6, &n->ip6, addr[k++], sizeof(addr[0]));
	buf[0] = '\0';
	for (int i = 0; i < k; i++)
		off += (size_t)snprintf(
			buf + off, off < len ? len - off : 0,
			"%s\t%s\t# fallacy admin %s: another administrator's entry\n", addr[i],
			a->name, a->id);
}

/* text with NAME taken out of every entry and "ADDR NAME" added. */
static char *apply_one(const char *text, const struct fl_admin *a, const struct fl_lab *lab)
{
	size_t n = 0, cap = strlen(text) + 256;
	char *out = malloc(cap), line[1024], entry[1024];
	const char *p = text, *keep;

	if (!out)
		return NULL;
	out[0] = '\0';
	while (*p) {
		size_t l = strcspn(p, "\n");
		const char *s = p;

		snprintf(line, sizeof(line), "%.*s", (int)l, p);
		p += l + (p[l] == '\n');
		while (*s == ' ' || *s == '\t')
			s++;
		keep = line;
		if (*s && *s != '#' && *s != '\n' &&
		    drop_name(line, a->name, entry, sizeof(entry))) {
			if (!entry[0])
				continue; /* the entry had no other name */
			keep = entry;
		}
		if (put(&out, &n, &cap, keep, strlen(keep)) || put(&out, &n, &cap, "\n", 1))
			goto fail;
	}
	entries(a, lab, line, sizeof(line));
	if (!put(&out, &n, &cap, line, strlen(line)))
		return out;
fail:
	free(out);
	return NULL;
}

char *fl_admin_hosts_text(const char *base, const struct fl_admin *list, size_t n, const char *node,
			  const struct fl_lab *lab)
{
	char *text = strdup(base), *next;

	for (size_t i = 0; i < n; i++) {
		if (!text)
			return NULL;
		if (list[i].kind != FL_ADMIN_HOSTS || strcmp(list[i].node, node))
			continue;
		next = apply_one(text, &list[i], lab);
		free(text);
		text = next;
	}
	return text;
}

static void paths(const struct fl_admin_ctx *c, char *file, char *saved, size_t len)
{
	snprintf(file, len, "/etc/netns/%s/hosts", c->node->netns);
	snprintf(saved, len, "%s/%s.hosts", c->dir, c->a->node);
}

/* The node's file as it was before any change (saved now if needed). */
static char *saved_copy(const char *file, const char *saved, struct fl_err *err)
{
	size_t len;
	char *text = read_file(saved, 0, &len);
	int fd;

	if (text || errno != ENOENT)
		return text;
	text = read_file(file, O_NOFOLLOW, &len);
	if (!text) {
		fl_err_set(err, "hosts: reading %s: %s%s", file, strerror(errno),
			   errno == ELOOP ? " (a link to a file other nodes share)" : "");
		return NULL;
	}
	fd = open(saved, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd)) {
		fl_err_set(err, "hosts: saving %s as %s: %s", file, saved, strerror(errno));
		free(text);
		text = NULL;
	}
	if (fd >= 0)
		close(fd);
	return text;
}

static int write_hosts(const char *file, const char *text, struct fl_err *err)
{
	int ret = text ? write_in_place(file, text, strlen(text)) : -ENOMEM;

	if (ret)
		fl_err_set(err, "hosts: writing %s: %s", file, strerror(-ret));
	return ret;
}

static int hosts_apply(struct fl_admin_ctx *c, struct fl_err *err)
{
	char file[4400], saved[4400], *base, *text;
	int ret;

	paths(c, file, saved, sizeof(file));
	base = saved_copy(file, saved, err);
	if (!base)
		return -EIO;
	ret = fl_admin_record(c, "restore", "%s %s", file, saved);
	text = ret ? NULL : fl_admin_hosts_text(base, c->others, c->n_others, c->a->node, c->lab);
	if (!ret) {
		char *mine = text ? apply_one(text, c->a, c->lab) : NULL;

		ret = write_hosts(file, mine, err);
		free(mine);
	}
	free(text);
	free(base);
	return ret;
}

static int hosts_heal(struct fl_admin_ctx *c, struct fl_err *err)
{
	char file[4400], saved[4400], *base, *text;
	bool others = false;
	size_t len;
	int ret;

	paths(c, file, saved, sizeof(file));
	base = read_file(saved, 0, &len);
	if (!base) /* nothing was changed (or the lab is gone) */
		return fl_admin_undo_records(c);
	text = fl_admin_hosts_text(base, c->others, c->n_others, c->a->node, c->lab);
	ret = access(file, F_OK) ? 0 : write_hosts(file, text, err);
	for (size_t i = 0; i < c->n_others; i++)
		others |= c->others[i].kind == FL_ADMIN_HOSTS &&
			  !strcmp(c->others[i].node, c->a->node);
	for (size_t i = 0; !ret && i < c->n_recs; i++)
		ret = fl_state_cancel(c->st, c->recs[i]);
	if (!ret && !others)
		unlink(saved);
	free(text);
	free(base);
	return ret;
}

const struct fl_admin_ops fl_admin_hosts = {
	.name = "hosts",
	.usage = "hosts NAME ADDR|NODE",
	.parse = hosts_parse,
	.check = hosts_check,
	.print = hosts_print,
	.apply = hosts_apply,
	.heal = hosts_heal,
};
