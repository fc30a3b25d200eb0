// SPDX-License-Identifier: MIT
/* Write-ahead state: RUN_DIR/SESSION/journal holds one line per kernel
 * object, "KIND ARG...", appended with a single write(2) BEFORE the object
 * is created. Cleanup reads it backwards and runs the undo handler of each
 * kind (state_undo.c); objects already gone count as removed. */
#include "journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "undo.h"
#include "fallacy/analyzer.h"

#define JOURNAL "journal"
#define LOCK_WAIT_MS 10000
#define LOCK_RETRY_MS 20

static char *read_all(const char *path, size_t *len);

struct fl_state {
	int fd;
	char dir[4096];
	char owner[64]; /* fl_state_set_owner: "sup:PID:START", or "" */
};

const char *fl_run_dir(void)
{
	const char *d = getenv("FALLACY_RUN_DIR");

	return d && *d ? d : "/run/fallacy";
}

int fl_mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

static int session_path(const char *session, char *buf, size_t len)
{
	if (!session || !*session || strchr(session, '/') || session[0] == '.')
		return -EINVAL;
	if ((size_t)snprintf(buf, len, "%s/%s", fl_run_dir(), session) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static int open_journal(struct fl_state *st, int flags)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/" JOURNAL, st->dir);
	st->fd = open(path, flags | O_WRONLY | O_APPEND | O_CLOEXEC, 0644);
	return st->fd < 0 ? -errno : 0;
}

int fl_state_create(const char *session, struct fl_state **out)
{
	struct fl_state *st;
	int err;

	*out = NULL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->fd = -1;
	err = session_path(session, st->dir, sizeof(st->dir));
	if (err)
		goto fail;
	err = fl_mkdir_p(fl_run_dir(), 0700);
	if (err)
		goto fail;
	if (mkdir(st->dir, 0700)) {
		err = -errno;
		goto fail;
	}
	err = open_journal(st, O_CREAT | O_EXCL);
	if (err)
		goto fail;
	/* held until fl_state_close (or death): cleanup waits for builders */
	flock(st->fd, LOCK_EX);
	*out = st;
	return 0;
fail:
	free(st);
	return err;
}

int fl_state_open(const char *session, struct fl_state **out)
{
	struct fl_state *st;
	int err;

	*out = NULL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	err = session_path(session, st->dir, sizeof(st->dir));
	if (!err)
		err = open_journal(st, 0);
	if (err) {
		free(st);
		return err;
	}
	*out = st;
	return 0;
}

void fl_state_close(struct fl_state *st)
{
	if (!st)
		return;
	if (st->fd >= 0)
		close(st->fd);
	free(st);
}

int fl_state_lock(struct fl_state *st)
{
	while (flock(st->fd, LOCK_EX))
		if (errno != EINTR)
			return -errno;
	return 0;
}

void fl_state_unlock(struct fl_state *st)
{
	flock(st->fd, LOCK_UN);
}

const char *fl_state_dir(const struct fl_state *st)
{
	return st->dir;
}

/* One line "KIND ARGS" into buf; -ENAMETOOLONG or -EINVAL (a newline). */
static int format_record(char *buf, size_t len, const char *kind, const char *fmt, va_list ap)
{
	int n = snprintf(buf, len, "%s ", kind), m;

	m = vsnprintf(buf + n, len - (size_t)n, fmt, ap);
	if (m < 0 || (size_t)(n + m + 1) >= len)
		return -ENAMETOOLONG;
	if (strchr(buf, '\n'))
		return -EINVAL;
	return 0;
}

static int append(struct fl_state *st, const char *line)
{
	char buf[4200];
	size_t n = 0, l = strlen(line);

	if (st->owner[0])
		n = (size_t)snprintf(buf, sizeof(buf), "@%s ", st->owner);
	if (n + l + 1 >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf + n, line, l);
	n += l;
	buf[n++] = '\n';
	/* one write(2): the record is either whole or absent after kill -9 */
	if (write(st->fd, buf, n) != (ssize_t)n)
		return errno ? -errno : -EIO;
	return 0;
}

int fl_state_record(struct fl_state *st, const char *kind, const char *fmt, ...)
{
	char line[4096];
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = format_record(line, sizeof(line), kind, fmt, ap);
	va_end(ap);
	return err ?: append(st, line);
}

int fl_state_cancel(struct fl_state *st, const char *record)
{
	return fl_state_record(st, "cancel", "%s", record);
}

int fl_state_begin(struct fl_state *st, struct fl_rec *rec, const char *kind, const char *fmt, ...)
{
	va_list ap;
	int err;

	rec->st = st;
	va_start(ap, fmt);
	err = format_record(rec->line, sizeof(rec->line), kind, fmt, ap);
	va_end(ap);
	if (err || !st)
		return err;
	return append(st, rec->line);
}

int fl_state_existed(struct fl_rec *rec)
{
	return rec->st ? fl_state_cancel(rec->st, rec->line) : 0;
}

int fl_state_undo(struct fl_state *st, const char *record)
{
	const char *session = strrchr(st->dir, '/');
	size_t n = strlen(record);
	char *text = malloc(n + 2);
	int err;

	if (!text)
		return -ENOMEM;
	memcpy(text, record, n);
	text[n] = '\n';
	text[n + 1] = '\0';
	/* alone in its text, no record is skipped as "inside a namespace the
	 * session made": the object itself is removed now */
	err = fl_undo_journal(session ? session + 1 : st->dir, text, n + 1, 0);
	free(text);
	return err ?: fl_state_cancel(st, record);
}

void fl_state_set_owner(struct fl_state *st, bool mine)
{
	if (mine)
		snprintf(st->owner, sizeof(st->owner), "sup:%d:%llu", (int)getpid(),
			 fl_proc_starttime(getpid()));
	else
		st->owner[0] = '\0';
}

/* A killed daemon stays a zombie until its reaper gets to it. */
static bool zombie(pid_t pid)
{
	char buf[1024];
	const char *end = fl_proc_stat(pid, buf, sizeof(buf));

	return end && end[1] == ' ' && end[2] == 'Z';
}

/* "sup:PID:START" names a process that is gone (or another one now). */
static bool owner_dead(const char *owner)
{
	unsigned long long start;
	int pid;

	if (sscanf(owner, "sup:%d:%llu", &pid, &start) != 2 || pid <= 1)
		return false; /* not a tag this version writes: leave it */
	return fl_proc_starttime(pid) != start || zombie(pid);
}

struct dead_recs {
	char **v;
	size_t n, cap;
	int err;
};

static void collect(void *arg, const char *rec)
{
	struct dead_recs *d = arg;
	char **v;

	if (d->err)
		return;
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 16;
		v = realloc(d->v, d->cap * sizeof(*v));
		if (!v) {
			d->err = -ENOMEM;
			return;
		}
		d->v = v;
	}
	d->v[d->n] = strdup(rec);
	if (d->v[d->n])
		d->n++;
	else
		d->err = -ENOMEM;
}

int fl_state_undo_dead_owners(struct fl_state *st, int *undone)
{
	struct dead_recs d = { 0 };
	char path[4200], *text;
	size_t len = 0;
	int err = 0, e;

	*undone = 0;
	snprintf(path, sizeof(path), "%s/" JOURNAL, st->dir);
	text = read_all(path, &len);
	if (!text)
		return errno ? -errno : -EIO;
	err = fl_undo_owned(text, len, owner_dead, collect, &d);
	free(text);
	err = err ?: d.err;
	/* newest first, each removed now and withdrawn (fl_state_undo) */
	for (size_t i = 0; i < d.n; i++) {
		e = fl_state_undo(st, d.v[i]);
		if (!e)
			(*undone)++;
		else if (!err)
			err = e;
		free(d.v[i]);
	}
	free(d.v);
	return err;
}

int fl_write_atomic(const char *path, int (*fill)(FILE *f, const void *arg), const void *arg)
{
	char tmp[4200];
	FILE *f;
	int err;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	err = fill(f, arg);
	if (!err && (fflush(f) || ferror(f) || fsync(fileno(f))))
		err = errno ? -errno : -EIO;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int fl_state_track_pid(struct fl_state *st, pid_t pid)
{
	return fl_state_record(st, "pid", "%d %llu", (int)pid, fl_proc_starttime(pid));
}

int fl_state_mkdir(struct fl_state *st, const char *path, mode_t mode)
{
	struct fl_rec rec;
	int err = fl_state_begin(st, &rec, "dir", "%s", path);

	if (!err && mkdir(path, mode))
		err = -errno;
	if (err == -EEXIST)
		err = fl_state_existed(&rec) ?: -EEXIST;
	return err;
}

static char *read_all(const char *path, size_t *len)
{
	char *buf = NULL;
	size_t cap = 0, n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return NULL;
	for (;;) {
		if (n + 4096 > cap) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : 65536);

			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r <= 0) {
			if (r < 0) {
				free(buf);
				buf = NULL;
			}
			break;
		}
		n += r;
	}
	close(fd);
	if (buf) {
		buf[n] = '\0';
		*len = n;
	}
	return buf;
}

/* Wait (bounded) until nobody is still building the session. */
static int lock_journal(const char *path, int *fdp)
{
	struct timespec ts = fl_ns_ts(LOCK_RETRY_MS * FL_NSEC_PER_MSEC);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*fdp = -1;
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB); waited += LOCK_RETRY_MS) {
		if (errno != EWOULDBLOCK || waited >= LOCK_WAIT_MS) {
			close(fd);
			return -EBUSY;
		}
		nanosleep(&ts, NULL);
	}
	*fdp = fd;
	return 0;
}

int fl_state_cleanup(const char *session)
{
	return fl_state_cleanup_flags(session, 0);
}

int fl_state_cleanup_flags(const char *session, unsigned int flags)
{
	char dir[4096], path[4200];
	struct stat sb;
	char *text = NULL;
	size_t len = 0;
	int lockfd = -1, err;

	err = session_path(session, dir, sizeof(dir));
	if (err)
		return err;
	if (lstat(dir, &sb))
		return -errno;
	snprintf(path, sizeof(path), "%s/" JOURNAL, dir);
	err = lock_journal(path, &lockfd);
	if (err) {
		pr_err("session %s: another process is still creating it (journal %s is locked);"
		       " wait for it to finish or stop it, then run cleanup again",
		       session, path);
		return err;
	}
	if (lockfd >= 0) {
		text = read_all(path, &len);
		if (!text) {
			err = errno ? -errno : -EIO;
			goto out;
		}
		err = fl_undo_journal(session, text, len, flags);
		if (err)
			goto out;
	}
	err = fl_rm_rf(dir);
out:
	free(text);
	if (lockfd >= 0)
		close(lockfd);
	return err;
}

int fl_state_owners(const char *session, int *alive, int *dead)
{
	char dir[4096], path[4200], *text, *line, *save = NULL;
	unsigned long long start;
	size_t len = 0;
	int pid, err;

	*alive = *dead = 0;
	err = session_path(session, dir, sizeof(dir));
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/" JOURNAL, dir);
	text = read_all(path, &len);
	if (!text)
		return errno ? -errno : -EIO;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (*line == '@') /* a writer's tag (fl_state_set_owner) */
			line = strchr(line, ' ') ? strchr(line, ' ') + 1 : line;
		if (sscanf(line, "pid %d %llu", &pid, &start) != 2)
			continue;
		if (pid > 1 && fl_proc_starttime(pid) == start && !zombie(pid))
			(*alive)++;
		else
			(*dead)++;
	}
	free(text);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* gcc 12 -fanalyzer false positive (fallacy/analyzer.h): each name belongs to v, returned in *names (or freed with it) */
FL_LEAK_FP_BEGIN
int fl_state_list(char ***names, size_t *n)
{
	DIR *d = opendir(fl_run_dir());
	struct dirent *de;
	char **v = NULL;
	size_t cnt = 0;

	*names = NULL;
	*n = 0;
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		char **nv;

		if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		nv = realloc(v, (cnt + 1) * sizeof(*v));
		if (!nv || !(nv[cnt] = strdup(de->d_name))) {
			v = nv ? nv : v;
			fl_strv_free(v, cnt);
			closedir(d);
			return -ENOMEM;
		}
		v = nv;
		cnt++;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_str);
	*names = v;
	*n = cnt;
	return 0;
}
FL_LEAK_FP_END

void fl_strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

const char *fl_proc_stat(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	r = read(fd, buf, len - 1);
	close(fd);
	if (r <= 0)
		return NULL;
	buf[r] = '\0';
	/* comm may hold spaces and parentheses: parse after the last ')' */
	return strrchr(buf, ')');
}

unsigned long long fl_proc_starttime(pid_t pid)
{
	char buf[1024];
	const char *p = fl_proc_stat(pid, buf, sizeof(buf));
	unsigned long long start = 0;

	if (!p)
		return 0;
	/* field 3 is the state; starttime is field 22 */
	if (sscanf(p + 2,
		   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d"
		   " %*d %*d %llu",
		   &start) != 1)
		return 0;
	return start;
}
