// SPDX-License-Identifier: MIT
/* NFQUEUE delay line: sockets, packet intake, verdicts, precise wake-ups.
 * See delayline.h. */
#include "delayline.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <endian.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <linux/sock_diag.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fallacy/mark.h"
#include "log.h"
#include "netns.h"
#include "timerheap.h"
#include "vbatch.h"

#define RX_BATCH 64
#define RX_BUFSZ 1024
#define TX_BUFSZ 65536
#define SPIN_MIN_NS 20000
#define SPIN_MAX_NS 200000
#define FL_DL_RATE_WINDOW_NS 50000000ull
#define FL_DL_STEADY_PPS 2000ull
#define FL_DL_BULK_PPS 20000ull
enum { FL_DL_PRECISE, FL_DL_STEADY, FL_DL_BULK };
#define FL_DL_MAX_ARRIVAL_AGE_NS 20000000ull
/* Wake-up lateness model (EWMA, 1/16 per sample): the starting guess, and
 * the margin spun on top of mean + 4 deviations. */
#define LATE_MEAN_START_NS 60000
#define LATE_DEV_START_NS 30000
#define LATE_EWMA_WEIGHT 16
#define SPIN_EXTRA_NS 10000
/* FL_DL_SPIN_AUTO (the default): spin up to 10 % of a core (100 ms per
 * second: the margin times the packet rate), between 100 and 500 us before
 * each due time. A timed wake-up of a SCHED_FIFO thread on a 2-core VM
 * came 76-134 us late at the median and 0.18-6.9 ms at p99 (2 Dec, machine
 * quiet, haltpoll idle), so a 100 us margin leaves most packets late;
 * 500 us took the p99 of 100 packets/s through 50 ms from 0.19-2.2 ms to
 * 0.053-0.085 ms (docs/performance.md). */
#define SPIN_AUTO_CAP_NS 500000
#define SPIN_AUTO_FLOOR_NS 100000
#define SPIN_AUTO_BUDGET_NS 1e8
/* A queue config message waits this long for its ack, reading at most
 * this many other messages (packets that raced in) meanwhile. */
#define CFG_ACK_TIMEOUT_MS 2000
#define CFG_ACK_MAX_READS 1000

struct dl_queue {
	struct mnl_socket *nl;
	uint16_t num; /* NFQUEUE number */
	int fd;
	char netns[64];
	char *tx; /* verdict messages, sent with one sendto() */
	size_t tx_len;
	struct fl_idring held; /* ids held, in order: what a batch may cover */
	uint32_t *rel; /* ids released this round */
	size_t nrel, rel_cap;
};

struct dl_slot {
	struct fl_delay_params p;
	struct fl_delay_state s;
	struct fl_dl_slot_counters c;
	bool active;
};

/* One queue number in every namespace, one thread: everything the hot path
 * touches (sockets, heap, slot state and counters, statistics) is the
 * worker's own; its lock is taken by other threads only to configure a
 * slot or read counters. */
struct dl_worker {
	int index; /* queue FL_QUEUE_NUM + index */
	int cpu; /* the thread is pinned to it; -1 = not pinned */
	struct dl_queue q[FL_DL_MAX_QUEUES];
	int nq;
	struct dl_slot **slots; /* FL_DL_MAX_SLOTS pointers, allocated lazily */
	pthread_mutex_t lock;
	struct fl_timerheap heap;
	struct fl_dl_stats st;
	int64_t spin_fixed; /* FL_DL_SPIN_AUTO, < 0 adaptive, else fixed */
	int rt_prio; /* SCHED_FIFO priority of the driving thread, 0 = none */
	bool rt_on; /* the driving thread runs SCHED_FIFO now */
	int mode; /* FL_DL_PRECISE, FL_DL_STEADY, FL_DL_BULK (rate_check) */
	uint64_t win_start, win_pkts; /* packet-rate window */
	uint64_t pps; /* the last window's packet rate (0 = none yet) */
	bool pmqos; /* may ask for CPU wake-up latency 0 (fl_delayline_set_pmqos);
		     * st.pmqos_on: it holds its share of the request now */
	uint64_t last_pkt_ns; /* when the last packet was read */
	double late_mean, late_dev; /* EWMA of wake-up lateness (ns) */
	pthread_t thread;
	bool thread_running;
	int stop_fd;
	bool no_batch; /* one verdict message per packet (benchmark baseline) */
	int rcvbuf; /* SO_RCVBUFFORCE of queues added from now on */
	int ts_fd; /* keeps kernel receive timestamps on */
	char rx[RX_BATCH][RX_BUFSZ];
};

/* Receive timestamps on skbs are taken only while some socket asks for
 * them (a global static key): hold one such socket. */
static int tstamp_socket(void)
{
	int one = 1, fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static int w_new(struct dl_worker **out)
{
	struct dl_worker *dl = calloc(1, sizeof(*dl));

	if (!dl)
		return -ENOMEM;
	dl->slots = calloc(FL_DL_MAX_SLOTS, sizeof(*dl->slots));
	if (!dl->slots) {
		free(dl);
		return -ENOMEM;
	}
	pthread_mutex_init(&dl->lock, NULL);
	fl_timerheap_init(&dl->heap);
	dl->spin_fixed = FL_DL_SPIN_AUTO;
	dl->late_mean = LATE_MEAN_START_NS;
	dl->late_dev = LATE_DEV_START_NS;
	dl->stop_fd = -1;
	dl->cpu = -1;
	dl->rcvbuf = FL_DL_DEFAULT_RCVBUF;
	dl->ts_fd = tstamp_socket();
	*out = dl;
	return 0;
}

static void w_set_spin(struct dl_worker *dl, int64_t margin_ns)
{
	dl->spin_fixed = margin_ns;
}

static void w_set_rt(struct dl_worker *dl, int prio)
{
	dl->rt_prio = prio;
}

static void w_set_pmqos(struct dl_worker *dl, bool on)
{
	dl->pmqos = on;
}

static void w_set_batch(struct dl_worker *dl, bool on)
{
	dl->no_batch = !on;
}

static void w_set_rcvbuf(struct dl_worker *dl, int bytes)
{
	dl->rcvbuf = bytes;
}

/* --- CPU wake-up latency (PM QoS) ------------------------------------------
 * While a worker holds packets at a rate it times precisely (precise or
 * steady mode), the process asks the kernel for CPU wake-up latency 0
 * through /dev/cpu_dma_latency, as cyclictest does: idle CPUs then poll
 * instead of halting, and a timed wake-up on a 2-core VM came 24-51 us
 * late at the median instead of 46-110 (haltpoll idle, 2 Dec). One request
 * for the process, held while any worker wants it; closing the file ends
 * it (also when the process dies). */
static pthread_mutex_t pmqos_lock = PTHREAD_MUTEX_INITIALIZER;
static int pmqos_fd = -1, pmqos_users;
static uint64_t pmqos_requests;

static void pmqos_hold(bool on)
{
	int32_t zero = 0;

	pthread_mutex_lock(&pmqos_lock);
	if (on && pmqos_users++ == 0) {
		pmqos_fd = open("/dev/cpu_dma_latency", O_WRONLY | O_CLOEXEC);
		if (pmqos_fd >= 0 && write(pmqos_fd, &zero, sizeof(zero)) != sizeof(zero)) {
			close(pmqos_fd);
			pmqos_fd = -1;
		}
		if (pmqos_fd >= 0)
			pmqos_requests++;
	} else if (!on && pmqos_users > 0 && --pmqos_users == 0 && pmqos_fd >= 0) {
		close(pmqos_fd);
		pmqos_fd = -1;
	}
	pthread_mutex_unlock(&pmqos_lock);
}

bool fl_dl_pmqos_wanted(bool bulk, bool holding, uint64_t now, uint64_t last_pkt)
{
	return !bulk && (holding || (last_pkt && now - last_pkt < FL_DL_PMQOS_IDLE_NS));
}

/* Take or give back this worker's share of the request (the worker's own
 * thread: st.pmqos_on changes only here, under the lock for readers). */
static void pmqos_set(struct dl_worker *dl, bool on)
{
	if (on == dl->st.pmqos_on)
		return;
	pmqos_hold(on);
	pthread_mutex_lock(&dl->lock);
	dl->st.pmqos_on = on;
	pthread_mutex_unlock(&dl->lock);
}

/* The driving thread only (sched_setscheduler with pid 0 = this thread). */
static void set_rt(struct dl_worker *dl, bool on)
{
	struct sched_param sp = { .sched_priority = on ? dl->rt_prio : 0 };

	if (dl->rt_prio <= 0 || dl->rt_on == on)
		return;
	if (sched_setscheduler(0, on ? SCHED_FIFO : SCHED_OTHER, &sp) < 0) {
		pr_warn("delay line: SCHED_FIFO %d refused (%s); running without it", dl->rt_prio,
			strerror(errno));
		dl->rt_prio = 0;
		return;
	}
	dl->rt_on = on;
}

/* Three modes by packet rate (50 ms windows, down again below half the
 * threshold): precise (SCHED_FIFO + spin before due times) below
 * FL_DL_STEADY_PPS; steady (SCHED_FIFO, sleep-only wake-ups) below
 * FL_DL_BULK_PPS; bulk (normal scheduling, sleep-only) above. Spinning
 * costs a core when packets come fast, and a SCHED_FIFO thread next to the
 * traffic it delays takes the CPU from it: TCP through 50 ms went from 3.7
 * (SCHED_FIFO + spin) to 10.8 Gbit/s (bulk). */
static void rate_check(struct dl_worker *dl, uint64_t now)
{
	uint64_t pps;

	if (now - dl->win_start < FL_DL_RATE_WINDOW_NS)
		return;
	pps = dl->win_pkts * FL_NSEC_PER_SEC / (now - dl->win_start);
	dl->pps = pps;
	if (dl->mode < FL_DL_BULK && pps > (dl->mode ? FL_DL_BULK_PPS : FL_DL_STEADY_PPS))
		dl->mode++;
	else if (dl->mode > FL_DL_PRECISE &&
		 pps < (dl->mode == FL_DL_BULK ? FL_DL_BULK_PPS : FL_DL_STEADY_PPS) / 2)
		dl->mode--;
	set_rt(dl, dl->mode != FL_DL_BULK);
	dl->st.bulk = dl->mode;
	dl->win_start = now;
	dl->win_pkts = 0;
}

/* --- verdicts ------------------------------------------------------------- */

static int tx_flush(struct dl_worker *dl, struct dl_queue *q)
{
	ssize_t n;

	if (!q->tx_len)
		return 0;
	n = mnl_socket_sendto(q->nl, q->tx, q->tx_len);
	q->tx_len = 0;
	if (n < 0) {
		dl->st.verdict_errors++;
		pr_warn("delay line: sending verdicts in namespace %s: %s", q->netns,
			strerror(errno));
		return -errno;
	}
	return 0;
}

/* One verdict message: for packet id, or (type NFQNL_MSG_VERDICT_BATCH)
 * for every packet of the queue up to id. */
static void verdict_msg(struct dl_worker *dl, int qi, int type, uint32_t id, int v)
{
	struct dl_queue *q = &dl->q[qi];
	struct nlmsghdr *nlh;

	if (q->tx_len + 64 > TX_BUFSZ)
		tx_flush(dl, q);
	nlh = nfq_nlmsg_put(q->tx + q->tx_len, type, q->num);
	nfq_nlmsg_verdict_put(nlh, (int)id, v);
	q->tx_len += MNL_ALIGN(nlh->nlmsg_len);
	dl->st.verdict_msgs++;
}

static void verdict(struct dl_worker *dl, int qi, uint32_t id, int v)
{
	verdict_msg(dl, qi, NFQNL_MSG_VERDICT, id, v);
	dl->st.verdicts++;
}

/* ACCEPT this round's releases of queue qi: the ids below the lowest one
 * still held in one batch message (vbatch.h), the others one by one. */
static void release_queue(struct dl_worker *dl, int qi)
{
	struct dl_queue *q = &dl->q[qi];
	uint32_t low = 0;
	size_t k = 0;
	bool held;

	fl_vbatch_sort(q->rel, q->nrel);
	for (size_t i = 0; i < q->nrel; i++)
		fl_idring_release(&q->held, q->rel[i]);
	held = fl_idring_lowest(&q->held, &low);
	if (!dl->no_batch)
		k = fl_vbatch_split(q->rel, q->nrel, held, low);
	if (k >= 2) {
		verdict_msg(dl, qi, NFQNL_MSG_VERDICT_BATCH, q->rel[k - 1], NF_ACCEPT);
		dl->st.verdicts += k;
		dl->st.batched += k;
	} else {
		k = 0;
	}
	for (size_t i = k; i < q->nrel; i++)
		verdict(dl, qi, q->rel[i], NF_ACCEPT);
	q->nrel = 0;
}

/* Queue a released id for release_queue; when that cannot grow, the
 * verdict goes at once. */
static void rel_add(struct dl_worker *dl, int qi, uint32_t id)
{
	struct dl_queue *q = &dl->q[qi];

	if (q->nrel == q->rel_cap) {
		size_t cap = q->rel_cap ? q->rel_cap * 2 : 256;
		uint32_t *v = realloc(q->rel, cap * sizeof(*v));

		if (!v) {
			fl_idring_release(&q->held, id);
			verdict(dl, qi, id, NF_ACCEPT);
			return;
		}
		q->rel = v;
		q->rel_cap = cap;
	}
	q->rel[q->nrel++] = id;
}

/* Verdict messages for every queue's releases of this round. */
static void release_all(struct dl_worker *dl)
{
	for (int i = 0; i < dl->nq; i++)
		if (dl->q[i].nrel)
			release_queue(dl, i);
}

static void tx_flush_all(struct dl_worker *dl)
{
	for (int i = 0; i < dl->nq; i++)
		tx_flush(dl, &dl->q[i]);
}

/* --- queue sockets -------------------------------------------------------- */

/* Send one config message with NLM_F_ACK and wait for its ack; packet
 * messages that race in are accepted at once. */
static int cfg_send(struct dl_queue *q, struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t seq = (uint32_t)time(NULL) ^ (uint32_t)(uintptr_t)nlh;
	struct pollfd pfd = { .fd = q->fd, .events = POLLIN };

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (int tries = 0; tries < CFG_ACK_MAX_READS; tries++) {
		ssize_t n;
		int r;

		if (poll(&pfd, 1, CFG_ACK_TIMEOUT_MS) <= 0)
			return -ETIMEDOUT;
		n = mnl_socket_recvfrom(q->nl, buf, sizeof(buf));
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		r = mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(q->nl), NULL, NULL);
		if (r <= 0)
			return r < 0 ? -errno : 0;
	}
	return -ETIMEDOUT;
}

static int queue_config(struct dl_queue *q)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int err;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	err = cfg_send(q, nlh);
	if (err)
		return err;
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->num);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_META, 0);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, FL_DL_QUEUE_MAXLEN);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN));
	return cfg_send(q, nlh);
}

static int queue_open(struct dl_queue *q, int rcvbuf)
{
	int one = 1;

	q->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!q->nl)
		return -errno;
	q->fd = mnl_socket_get_fd(q->nl);
	if (setsockopt(q->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		pr_warn("delay line: SO_RCVBUFFORCE %d bytes in %s: %s", rcvbuf, q->netns,
			strerror(errno));
	setsockopt(q->fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	return 0;
}

static int w_add_netns(struct dl_worker *dl, const char *netns)
{
	struct dl_queue *q;
	int saved = -1, err;

	if (dl->thread_running)
		return -EBUSY;
	if (dl->nq >= FL_DL_MAX_QUEUES)
		return -ENOSPC;
	q = &dl->q[dl->nq];
	memset(q, 0, sizeof(*q));
	snprintf(q->netns, sizeof(q->netns), "%s", netns);
	q->num = (uint16_t)(FL_QUEUE_NUM + dl->index);
	q->tx = malloc(TX_BUFSZ);
	if (!q->tx)
		return -ENOMEM;
	err = fl_netns_enter_spec(netns, &saved);
	if (err)
		goto fail;
	err = queue_open(q, dl->rcvbuf);
	if (saved >= 0 && fl_netns_leave(saved) < 0)
		pr_err("delay line: cannot return to the original namespace");
	if (!err)
		err = queue_config(q);
	if (err == -EPERM)
		err = -EBUSY;
	if (err) {
		if (err == -EBUSY)
			pr_err("delay line: queue %u in namespace %s is bound by another process "
			       "(another fallacy session?) or binding needs CAP_NET_ADMIN; stop the "
			       "other session or run 'fallacy cleanup'",
			       q->num, netns);
		else
			pr_err("delay line: binding queue %u in namespace %s: %s", q->num, netns,
			       strerror(-err));
		goto fail;
	}
	return dl->nq++;
fail:
	if (q->nl)
		mnl_socket_close(q->nl);
	q->nl = NULL;
	free(q->tx);
	q->tx = NULL;
	return err;
}

/* --- slots ---------------------------------------------------------------- */

/* Each worker draws its own delays: its copy of the rule id is mixed with
 * its index (worker 0 keeps the rule's own sequence). */
static int w_set_slot(struct dl_worker *dl, uint16_t slot, const struct fl_delay_params *rule)
{
	struct fl_delay_params mixed = *rule, *p = &mixed;
	struct dl_slot *s;
	int err = 0;

	mixed.rule_id ^= (uint32_t)dl->index * 0x9e3779b9u;
	pthread_mutex_lock(&dl->lock);
	s = dl->slots[slot];
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s) {
			err = -ENOMEM;
			goto out;
		}
		dl->slots[slot] = s;
	}
	if (s->p.seed != p->seed || s->p.rule_id != p->rule_id || !s->active)
		memset(&s->s, 0, sizeof(s->s));
	s->p = *p;
	if (!s->p.limit)
		s->p.limit = FL_DELAY_DEFAULT_LIMIT;
	s->active = true;
out:
	pthread_mutex_unlock(&dl->lock);
	return err;
}

static int w_clear_slot(struct dl_worker *dl, uint16_t slot)
{
	int err = 0;

	pthread_mutex_lock(&dl->lock);
	if (dl->slots[slot])
		dl->slots[slot]->active = false;
	else
		err = -ENOENT;
	pthread_mutex_unlock(&dl->lock);
	return err;
}

static int w_slot_counters(struct dl_worker *dl, uint16_t slot, struct fl_dl_slot_counters *c)
{
	int err = 0;

	pthread_mutex_lock(&dl->lock);
	if (dl->slots[slot])
		*c = dl->slots[slot]->c;
	else
		err = -ENOENT;
	pthread_mutex_unlock(&dl->lock);
	return err;
}

/* Packet messages the kernel could not put into the socket's receive
 * buffer (sk_drops, SO_MEMINFO): with fail-open those packets went on
 * undelayed, without it they were dropped; NETLINK_NO_ENOBUFS keeps the
 * socket usable, this keeps the count. */
static uint64_t rx_drops(const struct dl_queue *q)
{
	uint32_t mem[SK_MEMINFO_VARS] = { 0 };
	socklen_t len = sizeof(mem);

	if (getsockopt(q->fd, SOL_SOCKET, SO_MEMINFO, mem, &len) < 0 ||
	    len <= SK_MEMINFO_DROPS * sizeof(mem[0]))
		return 0;
	return mem[SK_MEMINFO_DROPS];
}

static void w_stats(struct dl_worker *dl, struct fl_dl_stats *st)
{
	pthread_mutex_lock(&dl->lock);
	*st = dl->st;
	pthread_mutex_unlock(&dl->lock);
	st->rx_dropped = 0;
	for (int i = 0; i < dl->nq; i++)
		st->rx_dropped += rx_drops(&dl->q[i]);
}

/* --- packet intake -------------------------------------------------------- */

/* Called with the lock held. */
static void packet_in(struct dl_worker *dl, int qi, uint32_t id, uint32_t mark, uint64_t now)
{
	struct dl_slot *s = NULL;
	uint16_t slot = mark & FL_MARK_SLOT_MASK;
	uint64_t due;
	bool skip;

	dl->st.received++;
	if ((mark & FL_MARK_TAG_MASK) == FL_MARK_DELAY)
		s = dl->slots[slot];
	if (!s || !s->active) {
		dl->st.unknown++;
		verdict(dl, qi, id, NF_ACCEPT);
		return;
	}
	s->c.queued++;
	if (s->c.held >= s->p.limit) {
		s->c.overflow++;
		verdict(dl, qi, id, NF_DROP);
		return;
	}
	due = fl_delay_next(&s->p, &s->s, now, &skip);
	if (skip) {
		s->c.reordered++;
		verdict(dl, qi, id, NF_ACCEPT);
		return;
	}
	if (fl_idring_push(&dl->q[qi].held, id) < 0) {
		s->c.overflow++;
		verdict(dl, qi, id, NF_ACCEPT);
		return;
	}
	if (fl_timerheap_push(&dl->heap, due, id, (uint16_t)qi, slot) < 0) {
		fl_idring_release(&dl->q[qi].held, id);
		s->c.overflow++;
		verdict(dl, qi, id, NF_ACCEPT);
		return;
	}
	if (++s->c.held > s->c.max_held)
		s->c.max_held = s->c.held;
}

/* The packet's arrival: the kernel's receive timestamp (NFQA_TIMESTAMP,
 * CLOCK_REALTIME, us) mapped onto the monotonic clock, so the delay counts
 * from when the packet reached the hook rather than from when this thread
 * woke up to read it. Falls back to now when absent or implausible. */
static uint64_t arrival(const struct nlattr *ts_attr, uint64_t now, uint64_t now_real)
{
	const struct nfqnl_msg_packet_timestamp *ts;
	uint64_t t, ago;

	if (!ts_attr || mnl_attr_get_payload_len(ts_attr) < sizeof(*ts))
		return now;
	ts = mnl_attr_get_payload(ts_attr);
	t = be64toh(ts->sec) * FL_NSEC_PER_SEC + be64toh(ts->usec) * FL_NSEC_PER_USEC;
	if (t > now_real)
		return now;
	ago = now_real - t;
	return ago < FL_DL_MAX_ARRIVAL_AGE_NS && ago < now ? now - ago : now;
}

static void msg_in(struct dl_worker *dl, int qi, const struct nlmsghdr *nlh, uint64_t now,
		   uint64_t now_real)
{
	struct nlattr *attr[NFQA_MAX + 1] = { NULL };
	struct nfqnl_msg_packet_hdr *ph;
	uint32_t mark = 0;

	if (nlh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

		if (e->error)
			dl->st.verdict_errors++;
		return;
	}
	if ((nlh->nlmsg_type & 0xff) != NFQNL_MSG_PACKET)
		return;
	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	if (attr[NFQA_MARK])
		mark = ntohl(mnl_attr_get_u32(attr[NFQA_MARK]));
	packet_in(dl, qi, ntohl(ph->packet_id), mark, arrival(attr[NFQA_TIMESTAMP], now, now_real));
}

/* Read what queue qi has (up to RX_BATCH messages) and hold or pass each
 * packet. Returns the number of messages read. */
static int process(struct dl_worker *dl, int qi)
{
	struct mmsghdr mm[RX_BATCH];
	struct iovec iov[RX_BATCH];
	struct dl_queue *q = &dl->q[qi];
	uint64_t now, now_real;
	int n;

	for (int i = 0; i < RX_BATCH; i++) {
		iov[i] = (struct iovec){ dl->rx[i], RX_BUFSZ };
		mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	n = recvmmsg(q->fd, mm, RX_BATCH, MSG_DONTWAIT, NULL);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	now = fl_clock_mono_ns();
	now_real = fl_clock_wall_ns();
	dl->win_pkts += (uint64_t)n;
	if (n > 0)
		dl->last_pkt_ns = now;
	pthread_mutex_lock(&dl->lock);
	for (int i = 0; i < n; i++) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)dl->rx[i];
		int len = (int)mm[i].msg_len;

		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
			msg_in(dl, qi, nlh, now, now_real);
	}
	pthread_mutex_unlock(&dl->lock);
	tx_flush(dl, q);
	return n;
}

/* --- releases ------------------------------------------------------------- */

static void release_one(struct dl_worker *dl, const struct fl_timer *t, uint64_t now)
{
	struct dl_slot *s = dl->slots[t->slot];
	uint64_t late = now > t->due_ns ? now - t->due_ns : 0;

	rel_add(dl, t->queue, t->id);
	dl->st.released++;
	dl->st.late_sum_ns += late;
	if (late > dl->st.late_max_ns)
		dl->st.late_max_ns = late;
	if (s) {
		s->c.held--;
		s->c.delayed++;
	}
}

/* Verdicts for every held packet now due. */
static int release_due(struct dl_worker *dl)
{
	const struct fl_timer *head;
	struct fl_timer t;
	uint64_t now = fl_clock_mono_ns();
	int n = 0;

	pthread_mutex_lock(&dl->lock);
	while ((head = fl_timerheap_peek(&dl->heap)) && head->due_ns <= now) {
		fl_timerheap_pop(&dl->heap, &t);
		release_one(dl, &t, now);
		n++;
	}
	release_all(dl);
	pthread_mutex_unlock(&dl->lock);
	if (n)
		tx_flush_all(dl);
	return n;
}

int64_t fl_dl_auto_spin_ns(uint64_t pps)
{
	double m = SPIN_AUTO_CAP_NS;

	if (pps && SPIN_AUTO_BUDGET_NS / (double)pps < m)
		m = SPIN_AUTO_BUDGET_NS / (double)pps;
	return m < SPIN_AUTO_FLOOR_NS ? SPIN_AUTO_FLOOR_NS : (int64_t)m;
}

static int64_t spin_margin(const struct dl_worker *dl)
{
	double m;

	if (dl->mode != FL_DL_PRECISE)
		return 0;
	if (dl->spin_fixed == FL_DL_SPIN_AUTO)
		return fl_dl_auto_spin_ns(dl->pps);
	if (dl->spin_fixed >= 0)
		return dl->spin_fixed;
	m = dl->late_mean + 4 * dl->late_dev + SPIN_EXTRA_NS;
	if (m < SPIN_MIN_NS)
		m = SPIN_MIN_NS;
	if (m > SPIN_MAX_NS)
		m = SPIN_MAX_NS;
	return (int64_t)m;
}

/* Nanoseconds until release_due() is next needed, minus the spin margin;
 * 0 = now (spinning), -1 = nothing held. */
static int64_t next_timeout(struct dl_worker *dl)
{
	const struct fl_timer *head = fl_timerheap_peek(&dl->heap);
	uint64_t now = fl_clock_mono_ns();
	int64_t left;

	if (!head) {
		/* nothing held: wake once to end the PM QoS request, else sleep */
		if (!dl->st.pmqos_on)
			return -1;
		left = (int64_t)(dl->last_pkt_ns + FL_DL_PMQOS_IDLE_NS - now);
		return left > 0 ? left : 0;
	}
	left = (int64_t)(head->due_ns - now) - spin_margin(dl);
	return left > 0 ? left : 0;
}

/* Lateness of a timed sleep feeds the adaptive margin. */
static void wake_measured(struct dl_worker *dl, uint64_t target, uint64_t woke)
{
	double late = woke > target ? (double)(woke - target) : 0;
	double dev = late > dl->late_mean ? late - dl->late_mean : dl->late_mean - late;

	dl->late_mean += (late - dl->late_mean) / LATE_EWMA_WEIGHT;
	dl->late_dev += (dev - dl->late_dev) / LATE_EWMA_WEIGHT;
	dl->st.wakeups++;
	dl->st.spin_margin_ns = spin_margin(dl);
}

static void queue_fds(const struct dl_worker *dl, struct pollfd *pfd)
{
	for (int i = 0; i < dl->nq; i++)
		pfd[i] = (struct pollfd){ .fd = dl->q[i].fd, .events = POLLIN };
}

static int run_once(struct dl_worker *dl, struct pollfd *pfd, int n)
{
	int64_t to = next_timeout(dl);
	struct timespec ts, *tsp = NULL;
	uint64_t target = 0, now;
	int r;

	if (to >= 0) {
		ts = fl_ns_ts((uint64_t)to);
		tsp = &ts;
		target = fl_clock_mono_ns() + (uint64_t)to;
	}
	r = ppoll(pfd, (nfds_t)n, tsp, NULL);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (r == 0 && to > 0 && fl_timerheap_peek(&dl->heap))
		wake_measured(dl, target, fl_clock_mono_ns());
	for (int i = 0; i < dl->nq; i++)
		if (pfd[i].revents & POLLIN)
			process(dl, i);
	release_due(dl);
	now = fl_clock_mono_ns();
	rate_check(dl, now);
	pmqos_set(dl, dl->pmqos && fl_dl_pmqos_wanted(dl->mode == FL_DL_BULK,
						      fl_timerheap_peek(&dl->heap) != NULL, now,
						      dl->last_pkt_ns));
	return n > dl->nq && (pfd[dl->nq].revents & (POLLIN | POLLHUP)) ? 1 : 0;
}

static int w_run(struct dl_worker *dl, int stop_fd)
{
	struct pollfd pfd[FL_DL_MAX_QUEUES + 1];
	int n = dl->nq, r;

	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	set_rt(dl, true);
	queue_fds(dl, pfd);
	if (stop_fd >= 0)
		pfd[n++] = (struct pollfd){ .fd = stop_fd, .events = POLLIN };
	do
		r = run_once(dl, pfd, n);
	while (r == 0);
	pmqos_set(dl, false);
	return r < 0 ? r : 0;
}

static void pin(struct dl_worker *dl)
{
	cpu_set_t set;

	if (dl->cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(dl->cpu, &set);
	if (pthread_setaffinity_np(dl->thread, sizeof(set), &set))
		pr_warn("delay line: cannot pin queue %u's thread to CPU %d",
			FL_QUEUE_NUM + dl->index, dl->cpu);
}

static void *thread_main(void *arg)
{
	struct dl_worker *dl = arg;
	int err = w_run(dl, dl->stop_fd);

	if (err)
		pr_err("delay line stopped: %s", strerror(-err));
	return NULL;
}

static int w_start(struct dl_worker *dl)
{
	int err;

	if (dl->thread_running)
		return -EALREADY;
	dl->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (dl->stop_fd < 0)
		return -errno;
	err = pthread_create(&dl->thread, NULL, thread_main, dl);
	if (err) {
		close(dl->stop_fd);
		dl->stop_fd = -1;
		return -err;
	}
	dl->thread_running = true;
	pin(dl);
	return 0;
}

static int stop_thread(struct dl_worker *dl)
{
	uint64_t one = 1;

	if (!dl->thread_running)
		return 0;
	if (write(dl->stop_fd, &one, sizeof(one)) < 0)
		return -errno;
	pthread_join(dl->thread, NULL);
	close(dl->stop_fd);
	dl->stop_fd = -1;
	dl->thread_running = false;
	return 0;
}

static void w_close(struct dl_worker *dl)
{
	struct fl_timer t;

	if (!dl)
		return;
	stop_thread(dl);
	while (fl_timerheap_pop(&dl->heap, &t) == 0)
		release_one(dl, &t, t.due_ns);
	release_all(dl);
	tx_flush_all(dl);
	for (int i = 0; i < dl->nq; i++) {
		mnl_socket_close(dl->q[i].nl);
		free(dl->q[i].tx);
		free(dl->q[i].rel);
		fl_idring_free(&dl->q[i].held);
	}
	for (int i = 0; i < FL_DL_MAX_SLOTS; i++)
		free(dl->slots[i]);
	free(dl->slots);
	fl_timerheap_free(&dl->heap);
	if (dl->ts_fd >= 0)
		close(dl->ts_fd);
	pthread_mutex_destroy(&dl->lock);
	free(dl);
}

/* --- the line: one worker per queue ------------------------------------ */

struct fl_delayline {
	struct dl_worker *w[FL_DL_MAX_WORKERS];
	int nw;
	bool bound; /* a namespace was added: the number of queues is fixed */
	bool no_batch;
	bool no_pmqos;
	int64_t spin;
	int rt, rcvbuf;
};

static int add_worker(struct fl_delayline *dl)
{
	struct dl_worker *w;
	int err = w_new(&w);

	if (err)
		return err;
	w->index = dl->nw;
	w_set_spin(w, dl->spin);
	w_set_rt(w, dl->rt);
	w_set_batch(w, !dl->no_batch);
	w_set_pmqos(w, !dl->no_pmqos);
	w_set_rcvbuf(w, dl->rcvbuf);
	dl->w[dl->nw++] = w;
	return 0;
}

int fl_delayline_new(struct fl_delayline **out)
{
	struct fl_delayline *dl = calloc(1, sizeof(*dl));
	int err;

	if (!dl)
		return -ENOMEM;
	dl->spin = FL_DL_SPIN_AUTO;
	dl->rcvbuf = FL_DL_DEFAULT_RCVBUF;
	err = add_worker(dl);
	if (err) {
		free(dl);
		return err;
	}
	*out = dl;
	return 0;
}

int fl_delayline_set_queues(struct fl_delayline *dl, int n)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1 || n > FL_DL_MAX_WORKERS)
		return -EINVAL;
	if (dl->bound && n != dl->nw)
		return -EBUSY;
	while (dl->nw < n) {
		int err = add_worker(dl);

		if (err)
			return err;
	}
	while (dl->nw > n)
		w_close(dl->w[--dl->nw]);
	for (int i = 0; i < dl->nw; i++)
		dl->w[i]->cpu = dl->nw > 1 && cpus > 0 ? (int)(i % cpus) : -1;
	return 0;
}

int fl_delayline_queues(const struct fl_delayline *dl)
{
	return dl->nw;
}

void fl_delayline_set_spin(struct fl_delayline *dl, int64_t margin_ns)
{
	dl->spin = margin_ns;
	for (int i = 0; i < dl->nw; i++)
		w_set_spin(dl->w[i], margin_ns);
}

void fl_delayline_set_rt(struct fl_delayline *dl, int prio)
{
	dl->rt = prio;
	for (int i = 0; i < dl->nw; i++)
		w_set_rt(dl->w[i], prio);
}

void fl_delayline_set_batch(struct fl_delayline *dl, bool on)
{
	dl->no_batch = !on;
	for (int i = 0; i < dl->nw; i++)
		w_set_batch(dl->w[i], on);
}

void fl_delayline_set_pmqos(struct fl_delayline *dl, bool on)
{
	dl->no_pmqos = !on;
	for (int i = 0; i < dl->nw; i++)
		w_set_pmqos(dl->w[i], on);
}

void fl_delayline_set_rcvbuf(struct fl_delayline *dl, int bytes)
{
	dl->rcvbuf = bytes;
	for (int i = 0; i < dl->nw; i++)
		w_set_rcvbuf(dl->w[i], bytes);
}

int fl_delayline_add_netns(struct fl_delayline *dl, const char *netns)
{
	int r = 0;

	dl->bound = true;
	for (int i = 0; i < dl->nw && r >= 0; i++)
		r = w_add_netns(dl->w[i], netns);
	return r;
}

int fl_delayline_set_slot(struct fl_delayline *dl, uint16_t slot, const struct fl_delay_params *p)
{
	int err = 0;

	for (int i = 0; i < dl->nw && !err; i++)
		err = w_set_slot(dl->w[i], slot, p);
	return err;
}

int fl_delayline_clear_slot(struct fl_delayline *dl, uint16_t slot)
{
	int err = -ENOENT;

	for (int i = 0; i < dl->nw; i++)
		if (!w_clear_slot(dl->w[i], slot))
			err = 0;
	return err;
}

int fl_delayline_slot_counters(struct fl_delayline *dl, uint16_t slot,
			       struct fl_dl_slot_counters *c)
{
	struct fl_dl_slot_counters one;
	int err = -ENOENT;

	memset(c, 0, sizeof(*c));
	for (int i = 0; i < dl->nw; i++) {
		if (w_slot_counters(dl->w[i], slot, &one))
			continue;
		err = 0;
		c->queued += one.queued;
		c->delayed += one.delayed;
		c->reordered += one.reordered;
		c->overflow += one.overflow;
		c->held += one.held;
		c->max_held += one.max_held;
	}
	return err;
}

void fl_delayline_queue_stats(struct fl_delayline *dl, int q, struct fl_dl_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (q >= 0 && q < dl->nw)
		w_stats(dl->w[q], st);
}

void fl_delayline_stats(struct fl_delayline *dl, struct fl_dl_stats *st)
{
	struct fl_dl_stats one;

	memset(st, 0, sizeof(*st));
	for (int i = 0; i < dl->nw; i++) {
		w_stats(dl->w[i], &one);
		st->received += one.received;
		st->unknown += one.unknown;
		st->verdicts += one.verdicts;
		st->verdict_msgs += one.verdict_msgs;
		st->batched += one.batched;
		st->verdict_errors += one.verdict_errors;
		st->rx_dropped += one.rx_dropped;
		st->wakeups += one.wakeups;
		st->late_sum_ns += one.late_sum_ns;
		st->released += one.released;
		if (one.late_max_ns > st->late_max_ns)
			st->late_max_ns = one.late_max_ns;
		if (one.spin_margin_ns > st->spin_margin_ns)
			st->spin_margin_ns = one.spin_margin_ns;
		if (one.bulk > st->bulk)
			st->bulk = one.bulk;
		st->pmqos_on |= one.pmqos_on;
	}
	pthread_mutex_lock(&pmqos_lock);
	st->pmqos_requests = pmqos_requests;
	pthread_mutex_unlock(&pmqos_lock);
}

/* Workers 1.. in threads of their own, worker 0 in the caller's. */
int fl_delayline_run(struct fl_delayline *dl, int stop_fd)
{
	int err = 0;

	for (int i = 1; i < dl->nw && !err; i++)
		err = w_start(dl->w[i]);
	if (!err) {
		if (dl->w[0]->cpu >= 0) {
			dl->w[0]->thread = pthread_self();
			pin(dl->w[0]);
		}
		err = w_run(dl->w[0], stop_fd);
	}
	for (int i = 1; i < dl->nw; i++)
		stop_thread(dl->w[i]);
	return err;
}

int fl_delayline_start(struct fl_delayline *dl)
{
	int err = 0;

	for (int i = 0; i < dl->nw && !err; i++)
		err = w_start(dl->w[i]);
	return err;
}

void fl_delayline_close(struct fl_delayline *dl)
{
	if (!dl)
		return;
	for (int i = 0; i < dl->nw; i++)
		stop_thread(dl->w[i]);
	for (int i = 0; i < dl->nw; i++)
		w_close(dl->w[i]);
	free(dl);
}
