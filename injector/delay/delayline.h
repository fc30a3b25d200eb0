/* SPDX-License-Identifier: MIT */
/* The NFQUEUE delay line: delay without netem.
 *
 * The BPF data plane marks packets of a delay rule with FL_MARK_DELAY |
 * slot (include/fallacy/mark.h); one netfilter rule per receiving
 * namespace (injector/nfrule.h) queues exactly those packets to queue
 * FL_QUEUE_NUM. The delay line holds one nfnetlink_queue socket per
 * namespace (setns, socket, setns back), reads packet metadata only
 * (NFQNL_COPY_META, F_GSO so super-packets are not segmented, F_FAIL_OPEN,
 * 64 MB receive buffer, NETLINK_NO_ENOBUFS), draws each packet's due time
 * with injector/delaymodel.h, keeps (due, id) in a min-heap and issues
 * NF_ACCEPT verdicts by packet id when they fall due, several per
 * sendto(); packets released together below the lowest id still held go
 * in one NFQNL_MSG_VERDICT_BATCH (vbatch.h). Wake-ups: sleep (ppoll,
 * timer slack 1 ns) until a margin (100 us by default) before the head's
 * due time, then spin.
 *
 * With fl_delayline_set_queues(N), all of the above is done N times over:
 * queue FL_QUEUE_NUM + i by worker i, a thread of its own that shares
 * nothing on the hot path (the rule spreads packets with --queue-balance).
 *
 * It runs in threads of its own (fl_delayline_start: the supervisor, so
 * that control work never delays a verdict) or, for worker 0, in the
 * caller's thread until a stop fd is readable (fl_delayline_run: `fallacy
 * __delayline`). fl_delayline_close() stops the threads, then releases
 * every held packet with ACCEPT before closing the sockets (closing alone
 * would drop them).
 *
 * Slots are configured from any thread (each worker's mutex guards its
 * copy); everything else belongs to the worker's thread. */
#ifndef FALLACY_DELAYLINE_H
#define FALLACY_DELAYLINE_H

#include <stdbool.h>
#include <stdint.h>

#include "delaymodel.h"

#define FL_DL_MAX_QUEUES 64 /* namespaces per line */
#define FL_DL_MAX_WORKERS 16 /* queues (threads) per namespace */
#define FL_DL_MAX_SLOTS 65536
/* Kernel queue length per namespace (NFQA_CFG_QUEUE_MAXLEN). Beyond it the
 * kernel lets packets through undelayed (F_FAIL_OPEN); the per-slot limit
 * (default FL_DELAY_DEFAULT_LIMIT) is enforced first, counted, and drops. */
#define FL_DL_QUEUE_MAXLEN FL_DELAY_MAX_LIMIT

struct fl_delayline;

struct fl_dl_slot_counters {
	uint64_t queued; /* packets seen for this slot */
	uint64_t delayed; /* released after their delay */
	uint64_t reordered; /* skipped the delay (reorder P) */
	uint64_t overflow; /* dropped: more than `limit` held */
	uint64_t held; /* held right now */
	uint64_t max_held;
};

struct fl_dl_stats {
	uint64_t received; /* packet messages read */
	uint64_t unknown; /* not ours or slot not configured: accepted at once */
	uint64_t verdicts; /* packets given a verdict */
	uint64_t verdict_msgs; /* verdict messages sent (a batch is one) */
	uint64_t batched; /* verdicts carried by NFQNL_MSG_VERDICT_BATCH */
	uint64_t verdict_errors; /* errors the kernel returned for verdicts */
	uint64_t rx_dropped; /* packet messages lost to a full receive buffer:
			      * passed undelayed (fail-open) or dropped */
	uint64_t wakeups;
	uint64_t late_sum_ns; /* sum of (release time - due time) */
	uint64_t late_max_ns;
	uint64_t released;
	int64_t spin_margin_ns; /* current margin before a due time */
	int bulk; /* mode: 0 precise, 1 steady (> 2000/s: no spin),
		   * 2 bulk (> 20000/s: no spin, no SCHED_FIFO) */
	bool pmqos_on; /* a worker asks for CPU wake-up latency 0 now */
	uint64_t pmqos_requests; /* times the process opened the request */
};

int fl_delayline_new(struct fl_delayline **out);
/* N queues per namespace (default 1), before the first add_netns: queue
 * FL_QUEUE_NUM + i is served by thread i (pinned to CPU i mod the CPUs
 * online when N > 1), which owns its sockets, timer heap, slot state and
 * counters; nothing on the hot path is shared, and counters are summed on
 * read. The netfilter rule spreads packets over the queues
 * (fl_nfrule_build: --queue-balance, by address pair: a flow stays in one
 * queue, so its order is kept as with one). A slot's limit holds per
 * queue. 0, -EINVAL, -EBUSY (namespaces already bound) or -ENOMEM. */
int fl_delayline_set_queues(struct fl_delayline *dl, int n);
int fl_delayline_queues(const struct fl_delayline *dl);
/* Bind queue FL_QUEUE_NUM in the namespace NETNS ("NAME", "pid:PID" or
 * "-" for the current one). -EBUSY if another process holds that queue
 * there. Returns the queue index (>= 0) or -errno. */
int fl_delayline_add_netns(struct fl_delayline *dl, const char *netns);
/* Configure (or change) a slot; its per-rule state restarts when the seed
 * or rule id changes. */
int fl_delayline_set_slot(struct fl_delayline *dl, uint16_t slot, const struct fl_delay_params *p);
/* New packets of the slot pass at once; held ones keep their due time. */
int fl_delayline_clear_slot(struct fl_delayline *dl, uint16_t slot);
int fl_delayline_slot_counters(struct fl_delayline *dl, uint16_t slot,
			       struct fl_dl_slot_counters *c);
void fl_delayline_stats(struct fl_delayline *dl, struct fl_dl_stats *st);
/* One queue's (index 0..queues-1) own statistics. */
void fl_delayline_queue_stats(struct fl_delayline *dl, int q, struct fl_dl_stats *st);
/* Spin margin: FL_DL_SPIN_AUTO (the default) spins 100-500 us before a
 * due time, as much as 10 % of a core allows at the current packet rate;
 * another value < 0 adaptive (20..200 us from the measured wake-up
 * lateness), 0 sleep only, > 0 fixed (ns). Measured on a 2-core VM
 * (docs/performance.md); a long spin under SCHED_FIFO at a high packet
 * rate runs into RT throttling, which the budget keeps away from. */
#define FL_DL_SPIN_AUTO INT64_MIN
/* The automatic margin at a packet rate (0 = not known yet): the cap. */
int64_t fl_dl_auto_spin_ns(uint64_t pps);
void fl_delayline_set_spin(struct fl_delayline *dl, int64_t margin_ns);
/* Run the driving thread as SCHED_FIFO prio (0 = normal scheduling) while
 * packets come slower than 20000/s (spinning only below 2000/s); faster,
 * it drops to normal scheduling and sleep-only wake-ups (bulk mode) so it
 * does not take a core away from the traffic it delays. */
void fl_delayline_set_rt(struct fl_delayline *dl, int prio);

/* Batched verdicts (vbatch.h) on (default) or off (one message per
 * packet: the benchmark's baseline). Before fl_delayline_start/run. */
void fl_delayline_set_batch(struct fl_delayline *dl, bool on);
/* Ask for CPU wake-up latency 0 (/dev/cpu_dma_latency) while packets are
 * held or came within FL_DL_PMQOS_IDLE_NS, below the bulk rate (default
 * on; off: idle CPUs may halt and wake-ups come later). */
void fl_delayline_set_pmqos(struct fl_delayline *dl, bool on);
#define FL_DL_PMQOS_IDLE_NS 1000000000ull
/* Whether a worker wants the request: not in bulk mode, and holding
 * packets or the last one read (LAST_PKT, 0 = none) less than
 * FL_DL_PMQOS_IDLE_NS ago. */
bool fl_dl_pmqos_wanted(bool bulk, bool holding, uint64_t now, uint64_t last_pkt);

/* Receive buffer of each queue socket (SO_RCVBUFFORCE; the kernel doubles
 * it for overhead) for queues added after the call. It holds the packet
 * messages not read yet, not the packets held: those stay in the kernel's
 * queue (FL_DL_QUEUE_MAXLEN). A message that finds it full is counted in
 * rx_dropped and its packet passes undelayed (fail-open). The kernel
 * doubles the setting; a metadata-only message takes ~0.8 KB of it (a
 * 64 KB setting held 157), so 64 MB absorbs a gap in reading of ~160 000
 * packets. */
#define FL_DL_DEFAULT_RCVBUF (64 << 20)
void fl_delayline_set_rcvbuf(struct fl_delayline *dl, int bytes);

/* Blocking loop until stop_fd (eventfd/pipe/signalfd, -1 = none) is
 * readable. */
int fl_delayline_run(struct fl_delayline *dl, int stop_fd);
/* The same loop in a thread of its own, until fl_delayline_close. */
int fl_delayline_start(struct fl_delayline *dl);

/* Stop the thread if any, ACCEPT every held packet, close, free. */
void fl_delayline_close(struct fl_delayline *dl);

#endif
