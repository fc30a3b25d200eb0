/* SPDX-License-Identifier: MIT */
/* The one netfilter rule per receiving namespace that hands packets marked
 * FL_MARK_DELAY to the delay line's queue:
 *
 *   -m mark --mark 0xfa110000/0xffff0000 -j NFQUEUE --queue-num 64017
 *       [--queue-bypass]
 *
 * installed through iptables.h inside the namespace, recorded in the
 * session journal BEFORE it is inserted:
 *   iptables NETNS 4|6 TABLE CHAIN RULE...
 * Where (never the sender's OUTPUT hook: TCP Small Queues would throttle
 * held packets):
 *   FL_NFQ_PREROUTING  raw PREROUTING: a lab's wire namespace (bridged
 *                      traffic, needs bridge-nf-call-iptables=1) or the
 *                      receiving namespace in attach mode;
 *   FL_NFQ_LO_INPUT    filter INPUT -i lo: loopback in wrap mode.
 * --queue-bypass (fail-open, the default): if the delay line is gone,
 * packets pass undelayed. fail_closed omits it: packets are dropped. */
#ifndef FALLACY_NFRULE_H
#define FALLACY_NFRULE_H

#include <stdbool.h>
#include <stdint.h>

struct fl_state;

enum fl_nfq_hook {
	FL_NFQ_PREROUTING,
	FL_NFQ_LO_INPUT,
};

struct fl_nfrule {
	char netns[64]; /* journal spec: NAME, pid:PID or - */
	int family; /* 4 or 6 */
	char table[16];
	char chain[16];
	char rule[192];
};

/* queues > 1: --queue-balance FL_QUEUE_NUM:FL_QUEUE_NUM+queues-1, which
 * picks the queue by a hash of the address pair and protocol
 * (nfqueue_hash): one flow always meets the same queue. */
void fl_nfrule_build(struct fl_nfrule *r, const char *netns, int family, enum fl_nfq_hook hook,
		     bool fail_closed, int queues);
/* Record in st (when not NULL), then insert at the top of the chain. */
int fl_nfrule_install(struct fl_state *st, const struct fl_nfrule *r);
/* Delete (from whichever iptables variant holds it); 0 if it was not there. */
int fl_nfrule_remove(const struct fl_nfrule *r);
/* Packets that met the rule (its iptables counter): *pkts, or -errno. */
int fl_nfrule_packets(const struct fl_nfrule *r, uint64_t *pkts);
/* The sum of the [packets:bytes] counters of the NFQUEUE rules for
 * FL_MARK_DELAY in CHAIN of an `iptables-save -c` text. */
uint64_t fl_nfrule_save_packets(const char *save, const char *chain);

/* The queue's id_sequence, summed over queues first..first+n-1, from a
 * /proc/net/netfilter/nfnetlink_queue text: the kernel numbers each packet
 * it queues (a u32 that wraps), and one that finds the queue full (more
 * than its maxlen held) gets no number, whether it then goes on
 * (--queue-bypass) or is dropped. So the rule's count minus the numbers
 * given is the packets the full queue turned away. */
uint32_t fl_nfqueue_parse_seq(const char *proc, unsigned int first, int n);
/* The same, read inside netns: 0, or -errno. */
int fl_nfqueue_seq(const char *netns, unsigned int first, int n, uint32_t *seq);
/* 1 when net.bridge.bridge-nf-call-iptables (or ip6tables for family 6)
 * is 1 inside netns, 0 when not, -errno when unreadable. */
int fl_nfrule_bridge_nf(const char *netns, int family);

#endif
