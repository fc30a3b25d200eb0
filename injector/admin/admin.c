// SPDX-License-Identifier: MIT
/* Foreign administration (admin.h): the words, the kinds' table, and the
 * changes' files. A change lives in RUN_DIR/LAB/admin/ID.change:
 *
 *	seq 3
 *	words n2 firewall drop --proto tcp --port 2380
 *	rec iptables fl-demo.n2 4 filter INPUT -p tcp --dport 2380 ...
 *
 * "rec" lines are the journal records the change made, written before each
 * object is made, so whoever undoes the change (any later process) knows
 * exactly what to remove. The lab's journal lock is held while a change is
 * made or undone: concurrent admin commands take turns, and a cleanup waits
 * for the one in progress. */
#include "admin.h"
#include "admin_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "lab/lab.h"
#include "parse.h"
#include "state/journal.h"
#include "state/state.h"

#define MAX_WORDS 32
#define MAX_RECS 16
#define MAX_CHANGES 256

static const struct fl_admin_ops *const kinds[FL_ADMIN__COUNT] = {
	[FL_ADMIN_FIREWALL] = &fl_admin_firewall,
	[FL_ADMIN_HOSTS] = &fl_admin_hosts,
	[FL_ADMIN_SYSCTL] = &fl_admin_sysctl,
};

const char *fl_admin_kind_name(enum fl_admin_kind k)
{
	return k < FL_ADMIN__COUNT ? kinds[k]->name : "?";
}

const char *fl_admin_kind_usage(enum fl_admin_kind k)
{
	return k < FL_ADMIN__COUNT ? kinds[k]->usage : "?";
}

/* ---- words -------------------------------------------------------------- */

int fl_admin_split(const char *kind, int argc, char **argv, const char *const *opts,
		   const char **vals, char **words, int *n_words, struct fl_err *err)
{
	*n_words = 0;
	for (int i = 0; i < argc; i++) {
		int k = 0;

		if (strncmp(argv[i], "--", 2) || !argv[i][2]) {
			words[(*n_words)++] = argv[i];
			continue;
		}
		while (opts && opts[k] && strcmp(opts[k], argv[i]))
			k++;
		if (!opts || !opts[k]) {
			const char *near = opts ? fl_suggest(argv[i], opts, k) : NULL;

			fl_err_set(err, "%s: unknown option '%s'%s%s%s", kind, argv[i],
				   near ? " (did you mean '" : "", near ? near : "",
				   near ? "'?)" : "");
			return -EINVAL;
		}
		if (i + 1 >= argc) {
			fl_err_set(err, "%s: %s needs a value", kind, argv[i]);
			return -EINVAL;
		}
		if (vals[k]) {
			fl_err_set(err, "%s: %s given twice", kind, argv[i]);
			return -EINVAL;
		}
		vals[k] = argv[++i];
	}
	return 0;
}

static const struct fl_admin_ops *kind_by_name(const char *name, enum fl_admin_kind *k,
					       struct fl_err *err)
{
	const char *names[FL_ADMIN__COUNT];
	const char *near;

	for (int i = 0; i < FL_ADMIN__COUNT; i++) {
		names[i] = kinds[i]->name;
		if (!strcmp(name, names[i])) {
			*k = (enum fl_admin_kind)i;
			return kinds[i];
		}
	}
	near = fl_suggest(name, names, FL_ADMIN__COUNT);
	if (near)
		fl_err_set(err, "unknown change '%s' (did you mean '%s'?)", name, near);
	else
		fl_err_set(err, "unknown change '%s' (use firewall, hosts or sysctl)", name);
	return NULL;
}

/* --id ID out of argv (into a->id); the other words into rest. */
static int take_id(struct fl_admin *a, int argc, char **argv, char **rest, int *n,
		   struct fl_err *err)
{
	*n = 0;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--id")) {
			rest[(*n)++] = argv[i];
			continue;
		}
		if (i + 1 >= argc || a->id[0]) {
			fl_err_set(err, "--id needs one name (given once)");
			return -EINVAL;
		}
		if (fl_validate_name("--id", argv[++i], FL_ADMIN_ID_MAX, err))
			return -EINVAL;
		snprintf(a->id, sizeof(a->id), "%s", argv[i]);
	}
	return 0;
}

int fl_admin_parse(struct fl_admin *a, int argc, char **argv, struct fl_err *err)
{
	char *rest[MAX_WORDS];
	const struct fl_admin_ops *ops;
	int n;

	memset(a, 0, sizeof(*a));
	if (argc < 2) {
		fl_err_set(err, "expected NODE firewall|hosts|sysctl ... (e.g. n2 firewall drop "
				"--port 2380)");
		return -EINVAL;
	}
	if (argc > MAX_WORDS) {
		fl_err_set(err, "too many words (at most %d)", MAX_WORDS);
		return -EINVAL;
	}
	if (fl_validate_name("node", argv[0], FL_NODE_NAME_MAX, err))
		return -EINVAL;
	snprintf(a->node, sizeof(a->node), "%s", argv[0]);
	ops = kind_by_name(argv[1], &a->kind, err);
	if (!ops || take_id(a, argc - 2, argv + 2, rest, &n, err))
		return -EINVAL;
	return ops->parse(a, n, rest, err);
}

int fl_admin_check(const struct fl_admin *a, const struct fl_lab *lab, struct fl_err *err)
{
	char names[128];

	if (!fl_lab_node(lab, a->node)) {
		fl_lab_nodes_text(lab, names, sizeof(names));
		fl_err_set(err, "lab %s has no node '%s' (it has %s)", lab->name, a->node, names);
		return -ENOENT;
	}
	return kinds[a->kind]->check ? kinds[a->kind]->check(a, lab, err) : 0;
}

void fl_admin_print(const struct fl_admin *a, struct fl_out *o)
{
	if (o->json && a->id[0])
		fl_out_str(o, "id", a->id);
	fl_out_str(o, o->json ? "node" : "", a->node);
	fl_out_str(o, o->json ? "change" : "", kinds[a->kind]->name);
	kinds[a->kind]->print(a, o);
}

void fl_admin_format(const struct fl_admin *a, char *buf, size_t len)
{
	FILE *m;
	struct fl_out o = { 0 };

	if (!len)
		return;
	buf[0] = '\0';
	m = fmemopen(buf, len, "w");
	if (!m)
		return;
	o.f = m;
	fl_admin_print(a, &o);
	fclose(m);
}

/* ---- a change's file ------------------------------------------------------ */

struct change {
	struct fl_admin a;
	unsigned long seq;
	char *recs[MAX_RECS];
	size_t n_recs;
};

static void change_free_recs(struct change *c)
{
	for (size_t i = 0; i < c->n_recs; i++)
		free(c->recs[i]);
	c->n_recs = 0;
}

static int path_of(const char *dir, const char *id, char *buf, size_t len)
{
	return (size_t)snprintf(buf, len, "%s/%s.change", dir, id) >= len ? -ENAMETOOLONG : 0;
}

/* The words of a change's "words" line back into a. */
static int words_load(struct fl_admin *a, char *line, struct fl_err *err)
{
	char *argv[MAX_WORDS], id[FL_ADMIN_ID_MAX + 1];
	int argc = 0;

	snprintf(id, sizeof(id), "%s", a->id);
	for (char *w = strtok(line, " "); w && argc < MAX_WORDS; w = strtok(NULL, " "))
		argv[argc++] = w;
	if (fl_admin_parse(a, argc, argv, err))
		return -EINVAL;
	snprintf(a->id, sizeof(a->id), "%s", id);
	return 0;
}

static int change_read(const char *dir, const char *id, struct change *c, struct fl_err *err)
{
	char path[4200], *line = NULL;
	size_t cap = 0;
	int ret = -EINVAL;
	bool words = false;
	FILE *f;

	memset(c, 0, sizeof(*c));
	if (path_of(dir, id, path, sizeof(path)))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	snprintf(c->a.id, sizeof(c->a.id), "%s", id);
	while (getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "seq ", 4))
			c->seq = strtoul(line + 4, NULL, 10);
		else if (!strncmp(line, "words ", 6) && !words)
			words = !words_load(&c->a, line + 6, err);
		else if (!strncmp(line, "rec ", 4) && c->n_recs < MAX_RECS &&
			 (c->recs[c->n_recs] = strdup(line + 4)))
			c->n_recs++;
	}
	free(line);
	fclose(f);
	if (words)
		ret = 0;
	else if (!err->msg[0])
		fl_err_set(err, "%s: no change in it", path);
	return ret;
}

struct change_text {
	const struct fl_admin *a;
	unsigned long seq;
	char *const *recs;
	size_t n_recs;
};

static int change_fill(FILE *f, const void *arg)
{
	const struct change_text *c = arg;
	char words[1024];

	fl_admin_format(c->a, words, sizeof(words));
	fprintf(f, "seq %lu\nwords %s\n", c->seq, words);
	for (size_t i = 0; i < c->n_recs; i++)
		fprintf(f, "rec %s\n", c->recs[i]);
	return 0;
}

/* a change's file is whole or absent */
static int change_write(const char *dir, const struct fl_admin *a, unsigned long seq,
			char *const *recs, size_t n_recs)
{
	struct change_text c = { a, seq, recs, n_recs };
	char path[4200];

	if (path_of(dir, a->id, path, sizeof(path)))
		return -ENAMETOOLONG;
	return fl_write_atomic(path, change_fill, &c);
}

static int cmp_seq(const void *x, const void *y)
{
	const struct change *a = x, *b = y;

	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Every change in dir, oldest first. */
static int changes_read(const char *dir, struct change **out, size_t *n, struct fl_err *err)
{
	struct change *v = calloc(MAX_CHANGES, sizeof(*v));
	struct dirent *de;
	DIR *d;

	*out = v;
	*n = 0;
	if (!v)
		return -ENOMEM;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)) && *n < MAX_CHANGES) {
		char id[FL_ADMIN_ID_MAX + 8];
		size_t l = strlen(de->d_name);

		if (l < 8 || l - 7 > FL_ADMIN_ID_MAX || strcmp(de->d_name + l - 7, ".change"))
			continue;
		snprintf(id, sizeof(id), "%.*s", (int)(l - 7), de->d_name);
		if (!change_read(dir, id, &v[*n], err))
			(*n)++;
		else
			pr_warn("admin: skipping %s/%s: %s", dir, de->d_name, err->msg);
	}
	closedir(d);
	err->msg[0] = '\0';
	qsort(v, *n, sizeof(*v), cmp_seq);
	return 0;
}

static void changes_free(struct change *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		change_free_recs(&v[i]);
	free(v);
}

/* ---- a topology change rewrites a node's hosts file ----------------------- */

static int text_fill(FILE *f, const void *arg)
{
	return fputs(arg, f) < 0 ? -EIO : 0;
}

/* the saved copy is whole or the old one */
static int save_base(const char *path, const char *text)
{
	return fl_write_atomic(path, text_fill, text);
}

char *fl_admin_hosts_rebase(const char *session_dir, const struct fl_lab *lab, const char *node,
			    const char *base)
{
	char dir[4200], saved[4300];
	struct fl_err err = { 0 };
	struct fl_admin *list = NULL;
	struct change *v = NULL;
	char *text = NULL;
	size_t n = 0;
	int ret;

	snprintf(dir, sizeof(dir), "%s/admin", session_dir);
	snprintf(saved, sizeof(saved), "%s/%s.hosts", dir, node);
	if (access(saved, F_OK))
		return strdup(base); /* no hosts change on this node */
	ret = save_base(saved, base);
	if (!ret)
		ret = changes_read(dir, &v, &n, &err);
	if (!ret && (list = calloc(n + 1, sizeof(*list))))
		for (size_t i = 0; i < n; i++)
			list[i] = v[i].a;
	if (ret)
		pr_warn("lab %s: node %s: keeping its foreign hosts entries: %s", lab->name, node,
			strerror(-ret));
	else if (list)
		text = fl_admin_hosts_text(base, list, n, node, lab);
	free(list);
	changes_free(v, n);
	return ret ? strdup(base) : text;
}

/* ---- journal ---------------------------------------------------------------- */

int fl_admin_record(struct fl_admin_ctx *c, const char *kind, const char *fmt, ...)
{
	struct fl_rec rec;
	char args[1024], *dup;
	va_list ap;
	int err;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	if (c->n_recs >= MAX_RECS)
		return -ENOSPC;
	err = fl_state_begin(c->st, &rec, kind, "%s", args);
	dup = err ? NULL : strdup(rec.line);
	if (!dup)
		return err ?: -ENOMEM;
	c->recs[c->n_recs++] = dup;
	/* the change's file names it too (before the object exists), for
	 * whoever undoes the change later */
	return change_write(c->dir, c->a, c->seq, c->recs, c->n_recs);
}

int fl_admin_undo_records(struct fl_admin_ctx *c)
{
	int err = 0, e;

	for (size_t i = c->n_recs; i-- > 0;) {
		e = fl_state_undo(c->st, c->recs[i]);
		if (e) {
			pr_err("admin %s: could not undo '%s': %s", c->a->id, c->recs[i],
			       strerror(-e));
			err = err ?: e;
		}
	}
	return err;
}

/* ---- the lab's changes ------------------------------------------------------ */

struct session {
	struct fl_lab *lab;
	struct fl_state *st;
	bool locked;
	char dir[4200];
	struct change *v;
	size_t n;
};

static void session_close(struct session *s)
{
	changes_free(s->v, s->n);
	if (s->locked)
		fl_state_unlock(s->st);
	fl_state_close(s->st);
	fl_lab_free(s->lab);
	memset(s, 0, sizeof(*s));
}

/* The lab, its journal (locked when lock), its changes. */
static int session_open(const char *name, bool lock, struct session *s, struct fl_err *err)
{
	int ret;

	memset(s, 0, sizeof(*s));
	ret = fl_lab_load(name, &s->lab);
	if (!ret && strcmp(s->lab->state, "up"))
		ret = -EBUSY;
	if (ret) {
		fl_err_set(err, "no lab named '%s'%s (see fallacy lab list)", name,
			   ret == -EBUSY ? " that is up" : "");
		fl_lab_free(s->lab);
		s->lab = NULL;
		return ret == -EBUSY ? -EBUSY : -ENOENT;
	}
	ret = fl_state_open(name, &s->st);
	if (!ret && lock && !(ret = fl_state_lock(s->st)))
		s->locked = true;
	if (!ret && (size_t)snprintf(s->dir, sizeof(s->dir), "%s/admin", fl_state_dir(s->st)) >=
			    sizeof(s->dir))
		ret = -ENAMETOOLONG;
	if (!ret)
		ret = changes_read(s->dir, &s->v, &s->n, err);
	if (ret) {
		fl_err_set(err, "lab %s: its session folder: %s", name, strerror(-ret));
		session_close(s);
	}
	return ret;
}

static int find_change(const struct session *s, const char *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].a.id, id))
			return (int)i;
	return -1;
}

/* The next number of the lab's order (RUN_DIR/LAB/admin/next). */
static unsigned long next_seq(const struct session *s)
{
	char path[4300], buf[32] = "";
	unsigned long seq = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/next", s->dir);
	f = fopen(path, "re");
	if (f) {
		if (fgets(buf, sizeof(buf), f))
			seq = strtoul(buf, NULL, 10);
		fclose(f);
	}
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].seq > seq)
			seq = s->v[i].seq;
	seq++;
	f = fopen(path, "we");
	if (f) {
		fprintf(f, "%lu\n", seq);
		fclose(f);
	}
	return seq;
}

/* One line of the lab's events.jsonl (the supervisor's file; the schema
 * of docs/results.md): admin-add / admin-del, the change as "admin". */
static void event(const struct session *s, const char *what, const struct fl_admin *a)
{
	struct fl_out o = { .json = true };
	uint64_t mono = fl_clock_mono_ns(), wall = fl_clock_wall_ns();
	char path[4200];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/events.jsonl", fl_state_dir(s->st));
	fp = fopen(path, "ae");
	if (!fp)
		return;
	o.f = fp;
	fputc('{', fp);
	fl_out_u64(&o, "mono_ns", mono);
	fl_out_u64(&o, "wall_ns", wall);
	fl_out_str(&o, "event", what);
	fl_out_str(&o, "id", a->id);
	fl_out_open(&o, "admin", '{');
	fl_out_str(&o, "node", a->node);
	fl_out_str(&o, "change", kinds[a->kind]->name);
	kinds[a->kind]->print(a, &o);
	fl_out_close(&o, '}');
	fputs("}\n", fp);
	fclose(fp);
}

/* A context for change a (others: every other change of the lab). */
static int ctx_init(struct fl_admin_ctx *c, struct session *s, struct fl_admin *a, int skip)
{
	struct fl_admin *others = calloc(s->n + 1, sizeof(*others));
	size_t k = 0;

	memset(c, 0, sizeof(*c));
	if (!others)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++)
		if ((int)i != skip)
			others[k++] = s->v[i].a;
	c->lab = s->lab;
	c->node = fl_lab_node(s->lab, a->node);
	c->st = s->st;
	c->dir = s->dir;
	c->a = a;
	c->others = others;
	c->n_others = k;
	return c->node ? 0 : -ENOENT;
}

/* own: the records (and their array) were made for c, not borrowed */
static void ctx_free(struct fl_admin_ctx *c, bool own)
{
	for (size_t i = 0; own && i < c->n_recs; i++)
		free(c->recs[i]);
	if (own)
		free(c->recs);
	free((void *)c->others);
}

/* An id, a node's sysctl, ...: what the active changes exclude. */
static int admissible(const struct session *s, const struct fl_admin *a, struct fl_err *err)
{
	const struct fl_admin_ops *ops = kinds[a->kind];

	if (a->id[0] && find_change(s, a->id) >= 0) {
		fl_err_set(err, "lab %s already has a change '%s' (fallacy admin %s list)",
			   s->lab->name, a->id, s->lab->name);
		return -EEXIST;
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct fl_admin *old = &s->v[i].a;

		if (old->kind == a->kind && !strcmp(old->node, a->node) && ops->conflict &&
		    ops->conflict(a, old, err))
			return -EEXIST;
	}
	if (s->n >= MAX_CHANGES) {
		fl_err_set(err, "lab %s has %d changes already", s->lab->name, MAX_CHANGES);
		return -ENOSPC;
	}
	return 0;
}

static void pick_id(const struct session *s, struct fl_admin *a, unsigned long seq)
{
	for (unsigned long n = seq; !a->id[0]; n++) {
		snprintf(a->id, sizeof(a->id), "a%lu", n);
		if (find_change(s, a->id) >= 0)
			a->id[0] = '\0';
	}
}

static int apply_locked(struct session *s, struct fl_admin *a, struct fl_err *err)
{
	struct fl_admin_ctx c;
	char path[4300];
	int ret;

	ret = fl_admin_check(a, s->lab, err) ?: admissible(s, a, err);
	if (ret)
		return ret;
	ret = fl_mkdir_p(s->dir, 0755);
	if (ret) {
		fl_err_set(err, "creating %s: %s", s->dir, strerror(-ret));
		return ret;
	}
	ret = ctx_init(&c, s, a, -1);
	c.seq = next_seq(s);
	pick_id(s, a, c.seq);
	c.recs = calloc(MAX_RECS, sizeof(*c.recs));
	if (!ret && !c.recs)
		ret = -ENOMEM;
	if (!ret)
		ret = change_write(s->dir, a, c.seq, NULL, 0);
	if (!ret) {
		ret = kinds[a->kind]->apply(&c, err);
		if (ret && !err->msg[0])
			fl_err_set(err, "%s on %s: %s", kinds[a->kind]->name, a->node,
				   strerror(-ret));
	}
	if (ret) {
		fl_admin_undo_records(&c);
		if (!path_of(s->dir, a->id, path, sizeof(path)))
			unlink(path);
	} else {
		event(s, "admin-add", a);
	}
	ctx_free(&c, true);
	return ret;
}

int fl_admin_apply(const char *lab, struct fl_admin *a, struct fl_err *err)
{
	struct session s;
	int ret;

	err->msg[0] = '\0';
	ret = session_open(lab, true, &s, err);
	if (ret)
		return ret;
	ret = apply_locked(&s, a, err);
	session_close(&s);
	return ret;
}

/* Undo change i of s and forget it. */
static int del_locked(struct session *s, size_t i, struct fl_err *err)
{
	struct change *ch = &s->v[i];
	const struct fl_admin_ops *ops = kinds[ch->a.kind];
	struct fl_admin_ctx c;
	char path[4300];
	int ret = ctx_init(&c, s, &ch->a, (int)i);

	c.seq = ch->seq;
	c.recs = ch->recs; /* borrowed */
	c.n_recs = ch->n_recs;
	if (!ret)
		ret = ops->heal ? ops->heal(&c, err) : fl_admin_undo_records(&c);
	if (!ret) {
		if (!path_of(s->dir, ch->a.id, path, sizeof(path)))
			unlink(path);
		event(s, "admin-del", &ch->a);
	} else if (!err->msg[0]) {
		fl_err_set(err, "undoing %s: %s (run it again, or fallacy lab down %s)", ch->a.id,
			   strerror(-ret), s->lab->name);
	}
	ctx_free(&c, false);
	return ret;
}

int fl_admin_del(const char *lab, const char *id, struct fl_err *err)
{
	struct session s;
	int ret, i;

	err->msg[0] = '\0';
	ret = session_open(lab, true, &s, err);
	if (ret)
		return ret;
	i = find_change(&s, id);
	if (i < 0) {
		fl_err_set(err, "lab %s has no change '%s' (fallacy admin %s list)", lab, id, lab);
		ret = -ENOENT;
	} else {
		ret = del_locked(&s, (size_t)i, err);
	}
	session_close(&s);
	return ret;
}

int fl_admin_clear(const char *lab, struct fl_err *err)
{
	struct session s;
	int ret, e;

	err->msg[0] = '\0';
	ret = session_open(lab, true, &s, err);
	if (ret)
		return ret;
	/* newest first; each undo sees the changes older than it */
	while (s.n) {
		e = del_locked(&s, s.n - 1, err);
		ret = ret ?: e;
		change_free_recs(&s.v[--s.n]);
	}
	session_close(&s);
	return ret;
}

int fl_admin_list(const char *lab, struct fl_admin **out, size_t *n, struct fl_err *err)
{
	struct session s;
	int ret;

	*out = NULL;
	*n = 0;
	err->msg[0] = '\0';
	ret = session_open(lab, false, &s, err);
	if (ret)
		return ret;
	*out = calloc(s.n + 1, sizeof(**out));
	if (!*out)
		ret = -ENOMEM;
	for (size_t i = 0; !ret && i < s.n; i++)
		(*out)[i] = s.v[i].a;
	*n = ret ? 0 : s.n;
	session_close(&s);
	return ret;
}
