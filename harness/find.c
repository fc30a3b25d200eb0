// SPDX-License-Identifier: MIT
/* Named scenario and target files: the search roots and their folders. */
#include "find.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parse.h"

#ifndef FALLACY_DATADIR
#define FALLACY_DATADIR "/usr/local/share/fallacy"
#endif

#define MAX_ROOTS 16
#define MAX_NAMES 256

static const char *const scenario_dirs[] = { "fallacies", "examples", NULL };
static const char *const target_dirs[] = { "targets", NULL };

struct roots {
	char v[MAX_ROOTS][PATH_MAX];
	int n;
};

static void add_root(struct roots *r, const char *given)
{
	char path[PATH_MAX];
	struct stat st;

	if (r->n == MAX_ROOTS || !realpath(given, path) || stat(path, &st) || !S_ISDIR(st.st_mode))
		return;
	for (int i = 0; i < r->n; i++)
		if (!strcmp(r->v[i], path))
			return;
	snprintf(r->v[r->n++], PATH_MAX, "%s", path);
}

static void get_roots(struct roots *r)
{
	const char *env = getenv("FALLACY_SCENARIOS");
	char exe[PATH_MAX], buf[PATH_MAX + 32], *save = NULL, *copy, *slash;
	ssize_t n;

	r->n = 0;
	if (env && (copy = strdup(env))) {
		for (char *p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save))
			add_root(r, p);
		free(copy);
	}
	add_root(r, FALLACY_DATADIR "/scenarios");
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return;
	*slash = '\0';
	snprintf(buf, sizeof(buf), "%s/../share/fallacy/scenarios", exe); /* PREFIX/bin */
	add_root(r, buf);
	snprintf(buf, sizeof(buf), "%s/../scenarios", exe); /* the source tree's .output */
	add_root(r, buf);
}

static const char *const *dirs_of(enum fl_find_kind kind)
{
	return kind == FL_FIND_TARGET ? target_dirs : scenario_dirs;
}

static bool is_file(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode);
}

static bool yaml_name(const char *file, char *name, size_t len)
{
	size_t n = strlen(file);

	if (n < 6 || strcmp(file + n - 5, ".yaml") || file[0] == '.' || n - 5 >= len)
		return false;
	memcpy(name, file, n - 5);
	name[n - 5] = '\0';
	return true;
}

void fl_find_each(enum fl_find_kind kind, void (*fn)(const char *name, const char *path, void *arg),
		  void *arg)
{
	char(*seen)[NAME_MAX + 1] = calloc(MAX_NAMES, sizeof(*seen));
	char path[PATH_MAX * 2], name[NAME_MAX + 1];
	struct roots r;
	int n_seen = 0;

	if (!seen)
		return;
	get_roots(&r);
	for (int i = 0; i < r.n; i++) {
		for (const char *const *d = dirs_of(kind); *d; d++) {
			struct dirent **ents = NULL;
			int k, n;

			snprintf(path, sizeof(path), "%s/%s", r.v[i], *d);
			n = scandir(path, &ents, NULL, alphasort);
			for (int e = 0; e < n; e++) {
				if (yaml_name(ents[e]->d_name, name, sizeof(name))) {
					for (k = 0; k < n_seen && strcmp(seen[k], name); k++)
						;
					snprintf(path, sizeof(path), "%s/%s/%s", r.v[i], *d,
						 ents[e]->d_name);
					if (k == n_seen && n_seen < MAX_NAMES && is_file(path)) {
						snprintf(seen[n_seen++], sizeof(seen[0]), "%s",
							 name);
						fn(name, path, arg);
					}
				}
				free(ents[e]);
			}
			free(ents);
		}
	}
	free(seen);
}

struct lookup {
	const char *want;
	char *path;
	size_t len;
	bool found;
	const char *names[MAX_NAMES];
	char store[MAX_NAMES][64];
	size_t n;
};

static void lookup_one(const char *name, const char *path, void *arg)
{
	struct lookup *l = arg;

	if (!l->found && !strcmp(name, l->want)) {
		snprintf(l->path, l->len, "%s", path);
		l->found = true;
	}
	if (l->n < MAX_NAMES) {
		snprintf(l->store[l->n], sizeof(l->store[0]), "%s", name);
		l->names[l->n] = l->store[l->n];
		l->n++;
	}
}

int fl_find_file(enum fl_find_kind kind, const char *arg, char *path, size_t len,
		 struct fl_err *err)
{
	const char *what = kind == FL_FIND_TARGET ? "target" : "scenario", *sug;
	struct lookup *l;
	size_t n = strlen(arg);
	int ret = 0;

	if (strchr(arg, '/') || is_file(arg) || (n > 5 && !strcmp(arg + n - 5, ".yaml")) ||
	    (n > 4 && !strcmp(arg + n - 4, ".yml"))) {
		snprintf(path, len, "%s", arg);
		return 0;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	*l = (struct lookup){ .want = arg, .path = path, .len = len };
	fl_find_each(kind, lookup_one, l);
	if (!l->found) {
		sug = fl_suggest(arg, l->names, l->n);
		if (sug)
			fl_err_set(err, "%s: no such %s file or name (did you mean '%s'?)", arg,
				   what, sug);
		else
			fl_err_set(err,
				   "%s: no such %s file or name (%zu named %ss found; see "
				   "fallacy run --list)",
				   arg, what, l->n, what);
		ret = -ENOENT;
	}
	free(l);
	return ret;
}
