// SPDX-License-Identifier: MIT
/* pcap capture: handles opened inside their namespaces, one writer thread
 * that polls them all and appends to one nanosecond pcap file. */
#include "capture.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "netns.h"

#define FL_CAPTURE_MAX_POINTS 512

struct cap_point {
	struct fl_capture_point pt;
	pcap_t *p;
	int fd;
	bool dead; /* the interface went away or failed */
	struct fl_capture_stat st;
	struct fl_capture *c;
};

struct fl_capture {
	size_t n;
	struct cap_point *pts;
	pcap_t *dead; /* pcap_open_dead: the file's link type and precision */
	pcap_dumper_t *dump;
	char *path;
	int stopfd; /* eventfd: wakes the thread to stop */
	pthread_t thread;
	bool running, stopped;
};

static const char *const dir_names[] = { "inout", "in", "out" };

const char *fl_capture_dir_name(enum fl_capture_dir dir)
{
	return (unsigned)dir < 3 ? dir_names[dir] : "?";
}

int fl_capture_parse_dir(const char *text, enum fl_capture_dir *dir)
{
	for (int i = 0; i < 3; i++) {
		if (!strcmp(text, dir_names[i])) {
			*dir = i;
			return 0;
		}
	}
	return -EINVAL;
}

static int set_options(struct cap_point *cp, const struct fl_capture_opts *o)
{
	pcap_t *p = cp->p;

	if (pcap_set_snaplen(p, o->snaplen ? o->snaplen : FL_CAPTURE_SNAPLEN) ||
	    pcap_set_promisc(p, 0) || pcap_set_immediate_mode(p, 1) ||
	    pcap_set_buffer_size(p, o->buffer_bytes ? o->buffer_bytes : FL_CAPTURE_BUFFER) ||
	    pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO)) {
		pr_err("capture on %s/%s: setting options: %s", cp->pt.netns, cp->pt.ifname,
		       pcap_geterr(p));
		return -EINVAL;
	}
	return 0;
}

/* Direction is applied by libpcap (pcap_setdirection), not by an
 * "inbound"/"outbound" kernel filter: on lo the kernel hands packet sockets
 * an outgoing and an incoming copy of every packet, libpcap keeps the
 * incoming one, and a kernel "inbound" filter was measured to lose the
 * first packet of a flow (docs/capture.md). */
static int set_filter(struct cap_point *cp, const char *filter)
{
	static const int pdir[] = { PCAP_D_INOUT, PCAP_D_IN, PCAP_D_OUT };
	struct bpf_program prog;
	int err = 0;

	if (cp->pt.dir != FL_CAPTURE_INOUT && pcap_setdirection(cp->p, pdir[cp->pt.dir])) {
		pr_err("capture on %s/%s: direction %s: %s", cp->pt.netns, cp->pt.ifname,
		       fl_capture_dir_name(cp->pt.dir), pcap_geterr(cp->p));
		return -EINVAL;
	}
	if (!filter || !*filter)
		return 0;
	if (pcap_compile(cp->p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN)) {
		pr_err("capture filter '%s': %s (see pcap-filter(7))", filter, pcap_geterr(cp->p));
		return -EINVAL;
	}
	if (pcap_setfilter(cp->p, &prog)) {
		pr_err("capture on %s/%s: setting the filter: %s", cp->pt.netns, cp->pt.ifname,
		       pcap_geterr(cp->p));
		err = -EINVAL;
	}
	pcap_freecode(&prog);
	return err;
}

int fl_capture_check_filter(const char *filter, struct fl_err *err)
{
	pcap_t *p;
	struct bpf_program prog;
	int ret = 0;

	if (!filter || !*filter)
		return 0;
	p = pcap_open_dead(DLT_EN10MB, 262144);
	if (!p) {
		fl_err_set(err, "capture filter '%s': cannot check it (libpcap)", filter);
		return -ENOMEM;
	}
	if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN)) {
		fl_err_set(err, "capture filter '%s': %s (see pcap-filter(7))", filter,
			   pcap_geterr(p));
		ret = -EINVAL;
	} else {
		pcap_freecode(&prog);
	}
	pcap_close(p);
	return ret;
}

/* Create and activate the handle; the caller is inside the namespace. */
static int activate_here(struct cap_point *cp, const struct fl_capture_opts *o)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	int rc;

	cp->p = pcap_create(cp->pt.ifname, errbuf);
	if (!cp->p) {
		pr_err("capture on %s/%s: %s", cp->pt.netns, cp->pt.ifname, errbuf);
		return -ENODEV;
	}
	rc = set_options(cp, o);
	if (rc)
		return rc;
	rc = pcap_activate(cp->p);
	if (rc < 0) {
		pr_err("capture on %s/%s: %s (%s)", cp->pt.netns, cp->pt.ifname,
		       pcap_statustostr(rc), pcap_geterr(cp->p));
		return rc == PCAP_ERROR_NO_SUCH_DEVICE ? -ENODEV :
		       rc == PCAP_ERROR_PERM_DENIED    ? -EPERM :
							 -EIO;
	}
	if (rc > 0)
		pr_warn("capture on %s/%s: %s", cp->pt.netns, cp->pt.ifname, pcap_geterr(cp->p));
	rc = set_filter(cp, o->filter);
	if (rc)
		return rc;
	if (pcap_setnonblock(cp->p, 1, errbuf)) {
		pr_err("capture on %s/%s: %s", cp->pt.netns, cp->pt.ifname, errbuf);
		return -EIO;
	}
	cp->fd = pcap_get_selectable_fd(cp->p);
	return cp->fd < 0 ? -EIO : 0;
}

/* The packet socket belongs to the namespace of the thread that creates
 * it: switch this thread in, create, switch back. */
static int open_point(struct cap_point *cp, const struct fl_capture_opts *o)
{
	int saved = -1, rc, rc2;

	rc = fl_netns_enter_spec(cp->pt.netns, &saved);
	if (rc) {
		pr_err("capture: entering namespace %s: %s", cp->pt.netns, strerror(-rc));
		return rc;
	}
	rc = activate_here(cp, o);
	if (saved >= 0) {
		rc2 = fl_netns_leave(saved);
		if (rc2 && !rc)
			rc = rc2;
	}
	return rc;
}

static int open_file(struct fl_capture *c, int linktype, int snaplen)
{
	c->dead =
		pcap_open_dead_with_tstamp_precision(linktype, snaplen, PCAP_TSTAMP_PRECISION_NANO);
	if (!c->dead)
		return -ENOMEM;
	c->dump = pcap_dump_open(c->dead, c->path);
	if (!c->dump) {
		pr_err("capture: cannot write %s: %s", c->path, pcap_geterr(c->dead));
		return -EIO;
	}
	return 0;
}

static int check_linktypes(struct fl_capture *c)
{
	int lt = pcap_datalink(c->pts[0].p);

	for (size_t i = 1; i < c->n; i++) {
		if (pcap_datalink(c->pts[i].p) != lt) {
			pr_err("capture: %s/%s has link type %s, %s/%s has %s; capture them into "
			       "separate files",
			       c->pts[0].pt.netns, c->pts[0].pt.ifname,
			       pcap_datalink_val_to_name(lt), c->pts[i].pt.netns,
			       c->pts[i].pt.ifname,
			       pcap_datalink_val_to_name(pcap_datalink(c->pts[i].p)));
			return -EINVAL;
		}
	}
	return lt;
}

static int validate(size_t n, const struct fl_capture_opts *o)
{
	if (!n || n > FL_CAPTURE_MAX_POINTS) {
		pr_err("capture: %zu capture points (1..%d)", n, FL_CAPTURE_MAX_POINTS);
		return -EINVAL;
	}
	if (!o->path || !*o->path) {
		pr_err("capture: no output file given (-w FILE)");
		return -EINVAL;
	}
	if (o->snaplen < 0 || o->snaplen > FL_CAPTURE_SNAPLEN_MAX) {
		pr_err("capture: snaplen %d out of range (%d..%d, 0 = default)", o->snaplen,
		       FL_CAPTURE_SNAPLEN_MIN, FL_CAPTURE_SNAPLEN_MAX);
		return -EINVAL;
	}
	if (o->snaplen && o->snaplen < FL_CAPTURE_SNAPLEN_MIN) {
		pr_err("capture: snaplen %d too small to hold the headers (use >= %d)", o->snaplen,
		       FL_CAPTURE_SNAPLEN_MIN);
		return -EINVAL;
	}
	return 0;
}

int fl_capture_open(const struct fl_capture_point *pts, size_t n,
		    const struct fl_capture_opts *opts, struct fl_capture **out)
{
	struct fl_capture *c;
	int rc;

	rc = validate(n, opts);
	if (rc)
		return rc;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->stopfd = -1;
	c->pts = calloc(n, sizeof(*c->pts));
	c->path = strdup(opts->path);
	rc = -ENOMEM;
	if (!c->pts || !c->path)
		goto cleanup;
	c->n = n;
	for (size_t i = 0; i < n; i++) {
		c->pts[i].pt = pts[i];
		c->pts[i].fd = -1;
		c->pts[i].c = c;
		rc = open_point(&c->pts[i], opts);
		if (rc)
			goto cleanup;
	}
	rc = check_linktypes(c);
	if (rc < 0)
		goto cleanup;
	rc = open_file(c, rc, opts->snaplen ? opts->snaplen : FL_CAPTURE_SNAPLEN);
	if (rc)
		goto cleanup;
	c->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->stopfd < 0) {
		rc = -errno;
		goto cleanup;
	}
	*out = c;
	return 0;
cleanup:
	fl_capture_free(c);
	return rc;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct cap_point *cp = (struct cap_point *)user;

	pcap_dump((u_char *)cp->c->dump, h, bytes);
	cp->st.written++;
}

/* Read what is ready on one point; mark it dead on a hard error (the
 * interface or its namespace went away). */
static void dispatch(struct cap_point *cp, bool drain)
{
	int rc;

	do {
		rc = pcap_dispatch(cp->p, -1, on_packet, (u_char *)cp);
	} while (drain && rc > 0);
	if (rc == PCAP_ERROR) {
		pr_warn("capture on %s/%s stopped: %s", cp->pt.netns, cp->pt.ifname,
			pcap_geterr(cp->p));
		cp->dead = true;
	}
}

/* The thread only moves packets from the ring to the file; under load
 * (2 shared cores) a normal-priority thread was measured to fall behind
 * the ring at 20 000 packets/s. SCHED_FIFO 1 lets it run when a packet
 * waits; it sleeps in poll() otherwise. Best effort. */
static void *capture_thread(void *arg)
{
	struct fl_capture *c = arg;
	struct pollfd *pfd = calloc(c->n + 1, sizeof(*pfd));
	struct sched_param sp = { .sched_priority = 1 };

	if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp))
		pr_debug("capture: no real-time priority for the capture thread");
	if (!pfd) {
		pr_err("capture: out of memory");
		return NULL;
	}
	for (;;) {
		for (size_t i = 0; i < c->n; i++) {
			pfd[i].fd = c->pts[i].dead ? -1 : c->pts[i].fd;
			pfd[i].events = POLLIN;
		}
		pfd[c->n].fd = c->stopfd;
		pfd[c->n].events = POLLIN;
		if (poll(pfd, c->n + 1, -1) < 0 && errno != EINTR)
			break;
		for (size_t i = 0; i < c->n; i++)
			if (pfd[i].revents && !c->pts[i].dead)
				dispatch(&c->pts[i], false);
		if (pfd[c->n].revents)
			break;
	}
	free(pfd);
	return NULL;
}

int fl_capture_start(struct fl_capture *c)
{
	int rc;

	if (c->running || c->stopped)
		return -EALREADY;
	rc = pthread_create(&c->thread, NULL, capture_thread, c);
	if (rc) {
		pr_err("capture: cannot start the capture thread: %s", strerror(rc));
		return -rc;
	}
	c->running = true;
	return 0;
}

static void read_stats(struct cap_point *cp)
{
	struct pcap_stat ps;

	if (pcap_stats(cp->p, &ps)) {
		pr_warn("capture on %s/%s: no kernel statistics: %s", cp->pt.netns, cp->pt.ifname,
			pcap_geterr(cp->p));
		return;
	}
	cp->st.received = ps.ps_recv;
	cp->st.dropped = ps.ps_drop;
	cp->st.ifdropped = ps.ps_ifdrop;
}

int fl_capture_stop(struct fl_capture *c)
{
	uint64_t one = 1;
	int rc = 0;

	if (c->stopped)
		return 0;
	if (c->running) {
		if (write(c->stopfd, &one, sizeof(one)) != sizeof(one))
			return -errno;
		pthread_join(c->thread, NULL);
		c->running = false;
	}
	for (size_t i = 0; i < c->n; i++) {
		if (!c->pts[i].dead)
			dispatch(&c->pts[i], true);
		read_stats(&c->pts[i]);
		if (c->pts[i].st.dropped || c->pts[i].st.ifdropped)
			pr_warn("capture on %s/%s: %llu packets dropped by the kernel, %llu by the "
				"interface; the trace is incomplete (raise the buffer, lower snaplen "
				"or narrow the filter)",
				c->pts[i].pt.netns, c->pts[i].pt.ifname,
				(unsigned long long)c->pts[i].st.dropped,
				(unsigned long long)c->pts[i].st.ifdropped);
	}
	if (pcap_dump_flush(c->dump)) {
		pr_err("capture: writing %s failed", c->path);
		rc = -EIO;
	}
	pcap_dump_close(c->dump);
	c->dump = NULL;
	c->stopped = true;
	return rc;
}

void fl_capture_free(struct fl_capture *c)
{
	if (!c)
		return;
	if (c->running)
		fl_capture_stop(c);
	if (c->dump)
		pcap_dump_close(c->dump);
	if (c->dead)
		pcap_close(c->dead);
	for (size_t i = 0; c->pts && i < c->n; i++)
		if (c->pts[i].p)
			pcap_close(c->pts[i].p);
	if (c->stopfd >= 0)
		close(c->stopfd);
	free(c->pts);
	free(c->path);
	free(c);
}

void fl_capture_total(const struct fl_capture *c, struct fl_capture_stat *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (size_t i = 0; i < c->n; i++) {
		sum->received += c->pts[i].st.received;
		sum->dropped += c->pts[i].st.dropped;
		sum->ifdropped += c->pts[i].st.ifdropped;
		sum->written += c->pts[i].st.written;
	}
}

void fl_capture_print(const struct fl_capture *c, struct fl_out *o)
{
	fl_out_str(o, "file", c->path);
	fl_out_open(o, "points", '[');
	for (size_t i = 0; i < c->n; i++) {
		const struct cap_point *cp = &c->pts[i];

		fl_out_open(o, "", '{');
		fl_out_str(o, "netns", cp->pt.netns);
		fl_out_str(o, "ifname", cp->pt.ifname);
		fl_out_str(o, "direction", fl_capture_dir_name(cp->pt.dir));
		fl_out_u64(o, "received", cp->st.received);
		fl_out_u64(o, "dropped", cp->st.dropped);
		fl_out_u64(o, "ifdropped", cp->st.ifdropped);
		fl_out_u64(o, "written", cp->st.written);
		fl_out_close(o, '}');
	}
	fl_out_close(o, ']');
}
