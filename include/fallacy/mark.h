/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/* The contract between the BPF data plane and the userspace delay line.
 * A packet that a delay rule matched leaves the tc program with
 *   skb->mark = FL_MARK_DELAY | slot      (slot = the rule's index, < 0x10000)
 * and one netfilter rule per receiving namespace sends exactly those
 * packets to NFQUEUE queue FL_QUEUE_NUM:
 *   -m mark --mark FL_MARK_DELAY/FL_MARK_TAG_MASK -j NFQUEUE --queue-num FL_QUEUE_NUM
 * The delay line reads the mark (NFQA_MARK), looks the slot's delay
 * parameters up and issues the verdict at the due time. The mark does not
 * leave the namespace: crossing a veth into another namespace scrubs it. */
#ifndef FALLACY_MARK_H
#define FALLACY_MARK_H

/* fallacy's number (0xfa11, "fa11acy"): the kernel objects it tags carry
 * it, so they are recognizable: the upper half of its skb marks, its
 * NFQUEUE queue, its tc filters' handle, its htb major (dataplane.h,
 * shape.h). */
#define FL_TAG 0xfa11u

#define FL_MARK_DELAY (FL_TAG << 16) /* 0xfa110000 */
/* A replayed copy (FL_KIND_REPLAY) re-enters the tc program with
 * FL_MARK_REPLAY | slot; the program turns that into FL_MARK_DELAY | slot
 * and lets it go, so the delay line holds the copy for the replay rule's
 * delay while the original has passed at once. */
#define FL_MARK_REPLAY 0xfa130000u
#define FL_MARK_TAG_MASK 0xffff0000u
#define FL_MARK_SLOT_MASK 0x0000ffffu
#define FL_QUEUE_NUM FL_TAG /* 64017; NFQUEUE numbers are per namespace */

#endif
