// SPDX-License-Identifier: MIT
/* The session supervisor (journaled by its starter): loads the data plane, listens on
 * RUN_DIR/SESSION/ctl.sock and runs a ppoll loop with deadlines
 * (fl_sup_deadline: faults with a --duration). */
#include "supervisor_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "dataplane/dataplane.h"
#include "json.h"
#include "lab/lab.h"
#include "netns.h"
#include "session_int.h"
#include "state/journal.h"

static volatile sig_atomic_t sup_term;

static void on_term(int sig)
{
	(void)sig;
	sup_term = 1;
}

struct fl_state *fl_sup_state(struct fl_sup *s)
{
	return s->st;
}

const struct fl_lab *fl_sup_lab(const struct fl_sup *s)
{
	return s->lab;
}

int fl_sup_nsfd(const struct fl_sup *s)
{
	return s->nsfd;
}

const char *fl_sup_ns_spec(const struct fl_sup *s)
{
	return s->ns_spec;
}

const char *fl_sup_session(const struct fl_sup *s)
{
	return s->t.session;
}

int fl_sup_ifb(struct fl_sup *s, int ifindex, int ifb)
{
	return fl_dp_ifb_set(s->dp, ifindex, ifb);
}

int fl_sup_deadline(struct fl_sup *s, void *key, uint64_t due_ns, fl_sup_cb cb)
{
	int i;

	for (i = 0; i < s->n_dl && s->dl[i].key != key; i++)
		;
	if (!due_ns) {
		if (i < s->n_dl)
			s->dl[i] = s->dl[--s->n_dl];
		return 0;
	}
	if (i == s->n_dl) {
		if (s->n_dl == s->cap_dl) {
			int cap = s->cap_dl ? s->cap_dl * 2 : 8;
			struct sup_deadline *d = realloc(s->dl, (size_t)cap * sizeof(*d));

			if (!d)
				return -ENOMEM;
			s->dl = d;
			s->cap_dl = cap;
		}
		s->n_dl++;
	}
	s->dl[i] = (struct sup_deadline){ .key = key, .due = due_ns, .cb = cb };
	return 0;
}

int fl_sup_at_exit(struct fl_sup *s, void (*fn)(struct fl_sup *s, void *arg), void *arg)
{
	if (s->n_exit == FL_SUP_MAX_EXIT)
		return -ENOSPC;
	s->at_exit[s->n_exit++] = (struct sup_exit){ .fn = fn, .arg = arg };
	return 0;
}

FILE *sup_event_begin(struct fl_sup *s, const char *what, const char *id, struct fl_out *o)
{
	char path[4096];

	if (fl_session_path(s->t.session, "events.jsonl", path, sizeof(path)))
		return NULL;
	*o = (struct fl_out){ .json = true, .compact = true };
	o->f = fopen(path, "ae");
	if (!o->f)
		return NULL;
	fl_out_open(o, "", '{');
	fl_out_u64(o, "mono_ns", fl_clock_mono_ns());
	fl_out_u64(o, "wall_ns", fl_clock_wall_ns());
	fl_out_str(o, "event", what);
	fl_out_str(o, "id", id);
	return o->f;
}

void sup_event_end(FILE *fp, struct fl_out *o)
{
	fl_out_close(o, '}');
	fputc('\n', fp);
	fclose(fp);
}

static int sup_request(struct fl_sup *s, int argc, char **argv, bool json, FILE *out, FILE *msg)
{
	if (sup_topo_verb(argv[0]))
		return sup_topo_request(s, argc, argv, json, out, msg);
	return sup_fault_request(s, argc, argv, json, out, msg);
}

static void run_deadlines(struct fl_sup *s)
{
	for (;;) {
		uint64_t now = fl_clock_mono_ns();
		int best = -1;
		struct sup_deadline d;

		for (int i = 0; i < s->n_dl; i++)
			if (s->dl[i].due <= now && (best < 0 || s->dl[i].due < s->dl[best].due))
				best = i;
		if (best < 0)
			return;
		d = s->dl[best];
		s->dl[best] = s->dl[--s->n_dl];
		d.cb(s, d.key);
	}
}

static struct timespec *next_timeout(struct fl_sup *s, struct timespec *ts)
{
	uint64_t due = 0, now, d;

	for (int i = 0; i < s->n_dl; i++)
		if (!due || s->dl[i].due < due)
			due = s->dl[i].due;
	if (!due)
		return NULL;
	now = fl_clock_mono_ns();
	d = due > now ? due - now : 0;
	*ts = fl_ns_ts(d);
	return ts;
}

static int read_request(int fd, char **buf, uint32_t *len)
{
	int err = fl_io_full(fd, len, sizeof(*len), false);

	if (err)
		return err;
	if (*len < 1 || *len > FL_REQ_MAX)
		return -EPROTO;
	*buf = malloc(*len + 1);
	if (!*buf)
		return -ENOMEM;
	err = fl_io_full(fd, *buf, *len, false);
	(*buf)[*len] = '\0';
	return err;
}

int fl_req_split(char *buf, uint32_t len, char **argv, int max)
{
	int argc = 0;

	for (uint32_t i = 1; i < len && argc < max; i += (uint32_t)strlen(buf + i) + 1)
		argv[argc++] = buf + i;
	argv[argc] = NULL;
	return argc;
}

static int answer(int fd, uint32_t status, const char *out, size_t olen, const char *msg,
		  size_t mlen)
{
	uint32_t h[3] = { status, (uint32_t)olen, (uint32_t)mlen };
	int err = fl_io_full(fd, h, sizeof(h), true);

	if (!err && olen)
		err = fl_io_full(fd, (void *)out, olen, true);
	if (!err && mlen)
		err = fl_io_full(fd, (void *)msg, mlen, true);
	return err;
}

bool fl_peer_allowed(uid_t peer, uid_t owner)
{
	return peer == 0 || peer == owner;
}

int fl_sup_peer_ok(int fd, uid_t owner)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) || len != sizeof(cr))
		return -errno ?: -EPERM;
	return fl_peer_allowed(cr.uid, owner) ? 0 : -EPERM;
}

/* One connection, one request. When the session ends, the connection stays
 * open until the process exits: the client waits for that. */
static void handle_client(struct fl_sup *s, int *end_fd)
{
	struct timeval tv = { .tv_sec = 2 };
	char *buf = NULL, *argv[FL_REQ_MAX_WORDS], *out = NULL, *msg = NULL;
	size_t olen = 0, mlen = 0;
	FILE *fo = NULL, *fm = NULL;
	uint32_t len = 0;
	int fd, argc, status = 2;

	fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* the socket is 0600 in a 0700 folder; this holds even if a mode was
	 * changed: only root talks to a root supervisor */
	if (fl_sup_peer_ok(fd, 0)) {
		static const char no[] = "fault: only root may talk to this supervisor\n";

		pr_warn("supervisor %s: a request from a process that is not root was refused",
			s->t.session);
		answer(fd, 2, NULL, 0, no, sizeof(no) - 1);
		goto out;
	}
	if (read_request(fd, &buf, &len))
		goto out;
	fo = open_memstream(&out, &olen);
	fm = open_memstream(&msg, &mlen);
	if (!fo || !fm)
		goto out;
	argc = fl_req_split(buf, len, argv, FL_REQ_MAX_WORDS - 1);
	status = argc ? sup_request(s, argc, argv, buf[0] == 'j', fo, fm) : 2;
	fclose(fo);
	fclose(fm);
	fo = fm = NULL;
	answer(fd, (uint32_t)status, out, olen, msg, mlen);
	if (status & FL_ST_ENDED) {
		s->stop = true;
		*end_fd = fd;
		fd = -1;
	}
out:
	if (fo)
		fclose(fo);
	if (fm)
		fclose(fm);
	free(out);
	free(msg);
	free(buf);
	if (fd >= 0)
		close(fd);
}

static int sup_loop(struct fl_sup *s, const sigset_t *unblocked, int *end_fd)
{
	struct pollfd pfd = { .fd = s->lfd, .events = POLLIN };
	struct timespec ts;
	int r;

	while (!s->stop && !sup_term) {
		r = ppoll(&pfd, 1, next_timeout(s, &ts), unblocked);
		if (r < 0 && errno != EINTR) {
			pr_err("supervisor %s: ppoll: %s", s->t.session, strerror(errno));
			return -errno;
		}
		run_deadlines(s);
		if (r <= 0)
			continue;
		if (pfd.revents & POLLIN)
			handle_client(s, end_fd);
	}
	return 0;
}

int sup_attach(struct fl_sup *s)
{
	int err = 0;

	if (s->attached)
		return 0;
	if (!s->lab) {
		err = fl_dp_attach_all(s->dp, s->st, s->ns_spec, s->nsfd, FL_DIR_BOTH);
	} else {
		for (size_t i = 0; i < s->lab->n_nodes && !err; i++) {
			const struct fl_node *n = &s->lab->nodes[i];

			err = fl_dp_attach(s->dp, s->st, s->ns_spec, s->nsfd, n->port,
					   FL_DIR_INGRESS);
		}
	}
	if (err) {
		fl_dp_detach_all(s->dp);
		return err;
	}
	s->attached = true;
	return 0;
}

static void wanted_off(struct fl_sup *s, uint64_t want[FL_NODE_WORDS])
{
	uint64_t one[FL_NODE_WORDS];

	memset(want, 0, FL_NODE_WORDS * sizeof(want[0]));
	for (int i = 0; i < s->n_faults; i++) {
		if (!fl_fault_per_packet(&s->faults[i]->f))
			continue;
		fl_fault_sender_nodes(&s->faults[i]->f, s->lab, one);
		for (int w = 0; w < FL_NODE_WORDS; w++)
			want[w] |= one[w];
	}
}

static void node_offloads(struct fl_sup *s, const struct fl_node *n, bool off)
{
	unsigned int on = FL_OFFLOAD_ALL;
	int nfd = fl_netns_open(n->netns);

	if (nfd < 0) {
		pr_warn("offloads of %s: opening %s: %s", n->name, n->netns, strerror(-nfd));
		return;
	}
	if (off) {
		if (fl_dp_offloads_get(nfd, "eth0", &on))
			on = FL_OFFLOAD_ALL;
		s->offloads_saved[n->index] = (unsigned char)on;
		fl_dp_offloads_set(nfd, "eth0", 0);
	} else {
		fl_dp_offloads_set(nfd, "eth0", s->offloads_saved[n->index]);
	}
	close(nfd);
	s->wire_off[n->index] = off;
	pr_info("%s: offloads of %s/eth0 %s", s->t.session, n->name,
		off ? "off (a per-packet fault matches its packets)" : "restored");
}

/* The session folder's "offloads": one line "INDEX BITS" per node whose
 * offloads are off, with what was on before, so that a successor of a
 * killed supervisor (which starts with no faults) puts them back. */
static int offloads_fill(FILE *f, const void *arg)
{
	const struct fl_sup *s = arg;

	for (int i = 0; i < FL_MAX_NODES; i++)
		if (s->wire_off[i])
			fprintf(f, "%d %u\n", i, s->offloads_saved[i]);
	return 0;
}

static void offloads_save(struct fl_sup *s)
{
	char path[4096];
	int err;

	if (fl_session_path(s->t.session, "offloads", path, sizeof(path)))
		return;
	err = fl_write_atomic(path, offloads_fill, s);
	if (err)
		pr_warn("%s: writing %s: %s", s->t.session, path, strerror(-err));
}

static void offloads_load(struct fl_sup *s)
{
	char path[4096];
	unsigned int bits;
	FILE *f;
	int i;

	if (fl_session_path(s->t.session, "offloads", path, sizeof(path)))
		return;
	f = fopen(path, "re");
	if (!f)
		return;
	while (fscanf(f, "%d %u", &i, &bits) == 2) {
		if (i < 0 || i >= FL_MAX_NODES)
			continue;
		s->wire_off[i] = true;
		s->offloads_saved[i] = (unsigned char)(bits & FL_OFFLOAD_ALL);
	}
	fclose(f);
}

void sup_offloads_sync(struct fl_sup *s, bool only_off)
{
	uint64_t want[FL_NODE_WORDS];
	bool changed = false;

	if (!s->lab)
		return;
	wanted_off(s, want);
	for (size_t i = 0; i < s->lab->n_nodes; i++) {
		const struct fl_node *n = &s->lab->nodes[i];
		bool off;

		if (n->index < 0 || n->index >= FL_MAX_NODES)
			continue;
		off = want[n->index / 64] >> (n->index % 64) & 1;
		if (off != s->wire_off[n->index] && (off || !only_off)) {
			node_offloads(s, n, off);
			changed = true;
		}
	}
	if (changed)
		offloads_save(s);
}

/* A supervisor whose session folder is gone (a cleanup that ran while it
 * was still starting, or a removed RUN_DIR) has nothing left to serve: it
 * ends by itself instead of living on as an orphan. */
#define SUP_WATCH_NS FL_NSEC_PER_SEC

static void watchdog(struct fl_sup *s, void *key)
{
	char path[4096];

	if (!fl_session_path(s->t.session, "journal", path, sizeof(path)) && access(path, F_OK) &&
	    errno == ENOENT) {
		pr_warn("supervisor %s: %s is gone; ending", s->t.session, path);
		s->stop = true;
		return;
	}
	fl_sup_deadline(s, key, fl_clock_mono_ns() + SUP_WATCH_NS, watchdog);
}

/* Push every live rule's expiry to now + lease: one batch write of the
 * lease array, every lease/3. A supervisor that cannot renew says so; its
 * faults then end with the lease, as if it had died. */
static void renew(struct fl_sup *s, void *key)
{
	int err = fl_dp_renew(s->dp);

	if (err)
		pr_warn("supervisor %s: renewing the rules' lease: %s", s->t.session,
			strerror(-err));
	s->renewals++;
	fl_sup_deadline(s, key, fl_clock_mono_ns() + s->lease_ns / 3, renew);
}

static int lease_start(struct fl_sup *s)
{
	fl_session_lease(s->t.session, &s->lease_ns); /* a bad file: said, default */
	fl_dp_set_lease(s->dp, s->lease_ns);
	if (!s->lease_ns)
		return 0;
	return fl_sup_deadline(s, &s->lease_ns, fl_clock_mono_ns() + s->lease_ns / 3, renew);
}

static int open_target(struct fl_sup *s)
{
	switch (s->t.kind) {
	case FL_TARGET_LAB:
		if (fl_lab_load(s->t.lab, &s->lab))
			return -ENOENT;
		snprintf(s->ns_spec, sizeof(s->ns_spec), "%s", s->lab->wire_netns);
		s->nsfd = fl_netns_open(s->lab->wire_netns);
		break;
	case FL_TARGET_NETNS:
		snprintf(s->ns_spec, sizeof(s->ns_spec), "%s", s->t.netns);
		s->nsfd = fl_netns_open(s->t.netns);
		break;
	default:
		snprintf(s->ns_spec, sizeof(s->ns_spec), "pid:%d", s->t.pid);
		s->nsfd = fl_netns_open_pid(s->t.pid);
		break;
	}
	if (s->nsfd < 0) {
		pr_err("%s: cannot open namespace %s: %s", s->t.session, s->ns_spec,
		       strerror(-s->nsfd));
		return s->nsfd;
	}
	return 0;
}

static int listen_ctl(struct fl_sup *s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int err;

	if (fl_session_path(s->t.session, "ctl.sock", sa.sun_path, sizeof(sa.sun_path)))
		return -ENAMETOOLONG;
	unlink(sa.sun_path);
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->lfd < 0)
		return -errno;
	/* root only: whoever can connect can drop every packet */
	if (bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(sa.sun_path, 0600) ||
	    listen(s->lfd, 64)) {
		err = -errno;
		pr_err("%s: listening on %s: %s", s->t.session, sa.sun_path, strerror(-err));
		return err;
	}
	return 0;
}

/* Only one supervisor per session: the second one says "busy". */
static int take_lock(struct fl_sup *s)
{
	char path[4096];
	int fd;

	if (fl_session_path(s->t.session, "supervisor.lock", path, sizeof(path)))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		close(fd);
		return -EBUSY;
	}
	return 0; /* held until exit */
}

static void undo_predecessor(struct fl_sup *s)
{
	int n = 0, err = fl_state_undo_dead_owners(s->st, &n);

	if (n)
		pr_info("%s: removed %d object(s) a killed supervisor left", s->t.session, n);
	if (err) /* what is left is inert and goes with lab down or cleanup */
		pr_warn("%s: removing what a killed supervisor left: %s (fallacy cleanup "
			"removes the rest)",
			s->t.session, strerror(-err));
}

static int sup_start(struct fl_sup *s, const char *session)
{
	struct fl_err e;
	int err;

	if (fl_target_from_session(session, &s->t, &e)) {
		pr_err("__supervise %s: %s", session, e.msg);
		return -EINVAL;
	}
	err = fl_state_open(session, &s->st);
	if (err) {
		pr_err("__supervise %s: no session folder in %s", session, fl_run_dir());
		return err;
	}
	err = take_lock(s);
	if (err)
		return err;
	/* what this supervisor makes for its faults carries its tag */
	fl_state_set_owner(s->st, true);
	/* journaled by whoever started it (session.c), before it ran */
	err = open_target(s);
	if (!err)
		err = fl_dp_open(&s->dp, s->lab ? FL_DIR_INGRESS : FL_DIR_BOTH);
	if (!err)
		err = lease_start(s);
	if (!err && s->lab)
		err = fl_dp_set_nodes(s->dp, s->lab);
	if (!err && s->lab)
		err = sup_acct_start(s);
	/* a killed predecessor's objects go first (its filters, shaping,
	 * NFQUEUE rules): the lab's own (lab up, node add) stay */
	if (!err && s->lab)
		undo_predecessor(s);
	/* a lab's supervisor attaches at once: after a kill -9 its successor
	 * must replace the old program (and its rules) even for a "clear" */
	if (!err && s->lab)
		err = sup_attach(s);
	/* offloads a killed predecessor turned off come back: its rules are
	 * gone with its program */
	if (!err && s->lab) {
		offloads_load(s);
		sup_offloads_sync(s, false);
	}
	if (!err)
		err = listen_ctl(s);
	if (!err)
		err = fl_sup_deadline(s, &s->stop, fl_clock_mono_ns() + SUP_WATCH_NS, watchdog);
	return err;
}

static void sup_stop(struct fl_sup *s)
{
	char path[4096];

	sup_topo_stop(s);
	sup_faults_clear(s);
	for (int i = s->n_exit - 1; i >= 0; i--)
		s->at_exit[i].fn(s, s->at_exit[i].arg);
	/* The filters stay until the journal is undone (by the client that
	 * ended the session, or fallacy cleanup): one code path for every end,
	 * kill -9 included. */
	fl_dp_close(s->dp);
	if (s->lfd >= 0 && !fl_session_path(s->t.session, "ctl.sock", path, sizeof(path)))
		unlink(path);
}

static void sup_free(struct fl_sup *s)
{
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->nsfd >= 0)
		close(s->nsfd);
	fl_state_close(s->st);
	fl_lab_free(s->lab);
	free(s->dl);
	free(s);
}

static void say(int fd, const char *text)
{
	if (fd < 0)
		return;
	if (write(fd, text, strlen(text)) < 0)
		pr_debug("readiness pipe: %s", strerror(errno));
	close(fd);
}

int fl_supervise(const char *session, int ready_fd)
{
	struct sigaction sa = { .sa_handler = on_term };
	struct fl_sup *s = calloc(1, sizeof(*s));
	sigset_t block, old;
	int err, end_fd = -1;

	if (!s)
		return 2;
	s->nsfd = s->lfd = -1;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	err = sup_start(s, session);
	if (err) {
		say(ready_fd, err == -EBUSY ? "busy\n" : "cannot start (see supervisor.log)\n");
		sup_stop(s);
		sup_free(s);
		return err == -EBUSY ? 0 : 2;
	}
	/* a supervisor that cannot drop them still works: said in its log */
	sup_drop_caps(s);
	say(ready_fd, "ok\n");
	pr_info("supervisor of %s ready (pid %d)", session, (int)getpid());
	err = sup_loop(s, &old, &end_fd);
	sup_stop(s);
	sup_free(s);
	if (end_fd >= 0)
		close(end_fd);
	return err ? 2 : 0;
}
