// SPDX-License-Identifier: MIT
/* The control protocol's Unix-socket transport: a poll loop over the
 * listening socket, a stop eventfd and up to CTL_CONNS connections, each
 * read into a line buffer; every complete line is answered by the verb
 * handler (control.c) before the next is read. */
#include "ctlsock.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "state/state.h"
#include "supervisor/session.h"
#include "fallacy/analyzer.h"

#define CTL_CONNS 32
#define CTL_SEND_TIMEOUT_S 5
#define CTL_GROUPS_MAX 64

struct conn {
	int fd;
	char *buf;
	size_t len;
	/* refused (SO_PEERCRED, too many): the first request is answered with
	 * this, then the connection closes (closing before reading it would
	 * make the peer's read fail with ECONNRESET instead) */
	char denied[160];
};

struct fl_ctlsock {
	char dir[PATH_MAX];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	uid_t uid;
	int lfd, stopfd;
	struct fl_ctl *ctl;
	struct conn conns[CTL_CONNS];
	int n_conns;
	pthread_t th;
	bool running;
};

int fl_ctlsock_user(const char *name, uid_t *uid, gid_t *gid, struct fl_err *err)
{
	struct passwd *pw = getpwnam(name);
	char *end;
	unsigned long id;

	if (!pw) {
		errno = 0;
		id = strtoul(name, &end, 10);
		if (*name && !*end && !errno)
			pw = getpwuid((uid_t)id);
	}
	if (!pw) {
		fl_err_set(err, "%s: no such user (a name or uid from /etc/passwd)", name);
		return -EINVAL;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

const char *fl_ctlsock_path(const struct fl_ctlsock *s)
{
	return s->path;
}

/* ---- can the user reach the socket? --------------------------------------- */

/* In a child as uid: the first folder above the socket they cannot
 * search (1-based index of the '/' ending it), 0 when the socket is
 * theirs to connect to, 255 when it is not. */
static int __attribute__((noreturn))
probe_as(const char *path, uid_t uid, gid_t gid, const gid_t *groups, int n_groups)
{
	char buf[PATH_MAX];
	int k = 0;

	if (setgroups((size_t)n_groups, groups) || setgid(gid) || setuid(uid))
		_exit(255);
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		k++;
		*p = '\0';
		if (access(buf, X_OK))
			_exit(k < 255 ? k : 254);
		*p = '/';
	}
	_exit(access(path, R_OK | W_OK) ? 255 : 0);
}

static void report_unreachable(const struct fl_ctlsock *s, int code)
{
	char buf[PATH_MAX];
	struct stat st;
	int k = 0;

	snprintf(buf, sizeof(buf), "%s", s->path);
	for (char *p = buf + 1; *p && code != 255; p++) {
		if (*p == '/' && ++k == code) {
			*p = '\0';
			break;
		}
	}
	if (code == 255 || stat(buf, &st)) {
		pr_err("control: uid %u cannot use %s", (unsigned)s->uid, s->path);
		return;
	}
	pr_err("control: uid %u cannot reach %s: the folder %s (mode %04o, owner %u) is closed to "
	       "them; point FALLACY_RUN_DIR at a folder they can search",
	       (unsigned)s->uid, s->path, buf, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
}

static int check_reachable(const struct fl_ctlsock *s, gid_t gid)
{
	gid_t groups[CTL_GROUPS_MAX];
	int n = CTL_GROUPS_MAX, status;
	struct passwd *pw;
	pid_t pid;

	if (s->uid == 0)
		return 0;
	pw = getpwuid(s->uid);
	if (!pw || getgrouplist(pw->pw_name, gid, groups, &n) < 0) {
		groups[0] = gid;
		n = 1;
	}
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		probe_as(s->path, s->uid, gid, groups, n);
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	report_unreachable(s, WIFEXITED(status) ? WEXITSTATUS(status) : 255);
	return -EACCES;
}

/* ---- set up ------------------------------------------------------------------ */

/* fallacy's own folders are 0700 (docs/security.md); the ones between the
 * run dir and a control socket's folder become searchable (0711: enter a
 * known path, list nothing) so the user the socket is for can reach it.
 * Folders outside the run dir are the user's business (check_reachable). */
static int open_path(const struct fl_ctlsock *s)
{
	const char *top = fl_run_dir();
	size_t n = strlen(top);
	char buf[PATH_MAX];
	struct stat st;

	if (s->uid == 0 || strncmp(s->dir, top, n) || s->dir[n] != '/')
		return 0;
	snprintf(buf, sizeof(buf), "%s", s->dir);
	for (char *p = strrchr(buf, '/'); p && p - buf >= (ptrdiff_t)n; p = strrchr(buf, '/')) {
		*p = '\0';
		if (stat(buf, &st))
			return -errno;
		if (st.st_uid == 0 && (st.st_mode & 0011) != 0011 &&
		    chmod(buf, (st.st_mode & 07777) | 0011))
			return -errno;
		if ((size_t)(p - buf) == n)
			break;
	}
	return 0;
}

static int make_dir(struct fl_ctlsock *s, gid_t gid)
{
	int err = open_path(s);

	if (err) {
		pr_err("control: cannot open the way to %s for uid %u: %s", s->dir,
		       (unsigned)s->uid, strerror(-err));
		return err;
	}
	if (mkdir(s->dir, 0700)) {
		pr_err("control: cannot make %s: %s", s->dir, strerror(errno));
		return -errno;
	}
	if (chown(s->dir, s->uid, gid) || chmod(s->dir, 0700)) {
		pr_err("control: cannot give %s to uid %u: %s", s->dir, (unsigned)s->uid,
		       strerror(errno));
		return -errno;
	}
	return 0;
}

static int listen_on(struct fl_ctlsock *s, gid_t gid)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int err;

	memcpy(sa.sun_path, s->path, sizeof(sa.sun_path));
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->lfd < 0)
		return -errno;
	if (bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(s->path, 0600) ||
	    chown(s->path, s->uid, gid) || listen(s->lfd, CTL_CONNS)) {
		err = -errno;
		pr_err("control: listening on %s: %s", s->path, strerror(-err));
		return err;
	}
	return 0;
}

int fl_ctlsock_open(const char *dir, uid_t uid, gid_t gid, struct fl_ctl *ctl,
		    struct fl_ctlsock **out)
{
	struct fl_ctlsock *s = calloc(1, sizeof(*s));
	int n, err;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->lfd = s->stopfd = -1;
	s->uid = uid;
	s->ctl = ctl;
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	n = snprintf(s->path, sizeof(s->path), "%s/control.sock", dir);
	if (n < 0 || (size_t)n >= sizeof(s->path)) {
		pr_err("control: %s/control.sock is longer than a socket path may be (%zu bytes); "
		       "use a shorter FALLACY_RUN_DIR",
		       dir, sizeof(s->path) - 1);
		free(s);
		return -ENAMETOOLONG;
	}
	err = make_dir(s, gid);
	if (err) {
		free(s);
		return err;
	}
	s->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	err = s->stopfd < 0 ? -errno : listen_on(s, gid);
	if (!err)
		err = check_reachable(s, gid);
	if (err) {
		fl_ctlsock_close(s);
		return err;
	}
	*out = s;
	return 0;
}

/* ---- connections ------------------------------------------------------------ */

static void send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t r = send(fd, p, len, MSG_NOSIGNAL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return; /* the peer went away or stopped reading: its loss */
		p += r;
		len -= (size_t)r;
	}
}

static void drop_conn(struct fl_ctlsock *s, int i)
{
	close(s->conns[i].fd);
	free(s->conns[i].buf);
	s->conns[i] = s->conns[--s->n_conns];
}

static void answer_line(struct fl_ctlsock *s, int fd, const char *line, size_t len)
{
	char *ans = NULL;

	while (len && line[len - 1] == '\r')
		len--;
	if (!len)
		return;
	fl_ctl_answer(s->ctl, line, len, &ans);
	if (ans)
		send_all(fd, ans, strlen(ans));
	free(ans);
}

/* One answer line saying why, for a refused connection. */
static void refuse_conn(int fd, const char *why)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "{\"ok\":false,\"error\":\"%s\"}\n", why);
	send_all(fd, buf, strlen(buf));
}

static void accept_one(struct fl_ctlsock *s)
{
	struct timeval tv = { .tv_sec = CTL_SEND_TIMEOUT_S };
	struct ucred cr = { .uid = (uid_t)-1 };
	socklen_t len = sizeof(cr);
	int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
	struct conn c = { .fd = fd };

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) ||
	    !fl_peer_allowed(cr.uid, s->uid)) {
		snprintf(c.denied, sizeof(c.denied),
			 "permission denied: this control socket is for uid %u (and root), not %u",
			 (unsigned)s->uid, (unsigned)cr.uid);
		pr_warn("control: %s: refused pid %d: %s", s->path, (int)cr.pid, c.denied);
	}
	if (s->n_conns == CTL_CONNS) {
		pr_warn("control: %s: more than %d connections, one closed", s->path, CTL_CONNS);
		close(fd);
		return;
	}
	s->conns[s->n_conns++] = c;
}

/* Read what is there; answer every complete line. False: close it. */
/* gcc 12 -fanalyzer false positive (fallacy/analyzer.h): c->buf belongs to the connection; closing it frees the buffer */
FL_LEAK_FP_BEGIN
static bool read_conn(struct fl_ctlsock *s, struct conn *c)
{
	char *nl, *p;
	ssize_t r;

	if (!c->buf && !(c->buf = malloc(FL_CTL_LINE_MAX + 2)))
		return false;
	r = read(c->fd, c->buf + c->len, FL_CTL_LINE_MAX + 1 - c->len);
	if (r < 0)
		return errno == EINTR || errno == EAGAIN;
	if (r == 0) { /* a last line without its newline is a line too */
		if (c->denied[0])
			refuse_conn(c->fd, c->denied);
		else
			answer_line(s, c->fd, c->buf, c->len);
		return false;
	}
	c->len += (size_t)r;
	p = c->buf;
	while ((nl = memchr(p, '\n', c->len - (size_t)(p - c->buf)))) {
		if (c->denied[0]) {
			refuse_conn(c->fd, c->denied);
			return false;
		}
		answer_line(s, c->fd, p, (size_t)(nl - p));
		p = nl + 1;
	}
	c->len -= (size_t)(p - c->buf);
	memmove(c->buf, p, c->len);
	if (c->len > FL_CTL_LINE_MAX) {
		refuse_conn(c->fd,
			    c->denied[0] ? c->denied : "request longer than 65536 bytes: closing");
		return false;
	}
	return true;
}
FL_LEAK_FP_END

/* ---- the loop ------------------------------------------------------------------ */

static int serve(struct fl_ctlsock *s, const sigset_t *mask)
{
	struct pollfd p[CTL_CONNS + 2];
	int n;

	for (;;) {
		p[0] = (struct pollfd){ .fd = s->lfd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = s->stopfd, .events = POLLIN };
		for (int i = 0; i < s->n_conns; i++)
			p[i + 2] = (struct pollfd){ .fd = s->conns[i].fd, .events = POLLIN };
		n = ppoll(p, (nfds_t)s->n_conns + 2, NULL, mask);
		if (n < 0 && errno == EINTR && mask)
			return 0; /* SIGTERM/SIGINT: fl_ctlsock_run's end */
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n <= 0)
			continue;
		if (p[1].revents)
			return 0;
		for (int i = s->n_conns - 1; i >= 0; i--)
			if (p[i + 2].revents && !read_conn(s, &s->conns[i]))
				drop_conn(s, i);
		if (p[0].revents & POLLIN)
			accept_one(s);
	}
}

static void *serve_thread(void *arg)
{
	serve(arg, NULL);
	return NULL;
}

int fl_ctlsock_start(struct fl_ctlsock *s)
{
	int err = -pthread_create(&s->th, NULL, serve_thread, s);

	if (err)
		pr_err("control: cannot start its thread: %s", strerror(-err));
	s->running = !err;
	return err;
}

int fl_ctlsock_run(struct fl_ctlsock *s, int stop_fd)
{
	sigset_t mask;

	if (stop_fd >= 0) {
		close(s->stopfd);
		s->stopfd = dup(stop_fd);
		return serve(s, NULL);
	}
	sigprocmask(SIG_SETMASK, NULL, &mask);
	sigdelset(&mask, SIGTERM);
	sigdelset(&mask, SIGINT);
	return serve(s, &mask);
}

void fl_ctlsock_close(struct fl_ctlsock *s)
{
	uint64_t one = 1;

	if (!s)
		return;
	if (s->running) {
		if (write(s->stopfd, &one, sizeof(one)) != sizeof(one))
			pr_warn("control: cannot stop its thread: %s", strerror(errno));
		pthread_join(s->th, NULL);
	}
	while (s->n_conns)
		drop_conn(s, s->n_conns - 1);
	if (s->lfd >= 0) {
		close(s->lfd);
		unlink(s->path);
	}
	if (s->stopfd >= 0)
		close(s->stopfd);
	rmdir(s->dir);
	free(s);
}
