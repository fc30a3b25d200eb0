/* SPDX-License-Identifier: MIT */
/* The BPF side of a session: one loaded dataplane skeleton whose two
 * programs (ingress, egress) are attached to every fault point of the
 * session's namespace, and the rule table in its maps (fallacy/rule.h).
 * Every tc object is journaled before it is created:
 *   qdisc NETNS IF clsact                only when we create the clsact
 *   tcfilter NETNS IF ingress|egress PRIO HANDLE
 * and fl_dp_detach_all() removes exactly those again. */
#ifndef FALLACY_DATAPLANE_H
#define FALLACY_DATAPLANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fallacy/mark.h"
#include "fallacy/rule.h"

#define FL_TC_PRIO 1
#define FL_TC_HANDLE FL_TAG

struct fl_dp;
struct fl_state;
struct fl_lab;
struct fl_out;

/* Load the programs of the directions in dirs (FL_DIR_*) and the maps (no
 * attachment yet); attaching in another direction is -EINVAL. */
int fl_dp_open(struct fl_dp **out, unsigned int dirs);
/* Destroy the skeleton; attached filters keep the program alive, so call
 * fl_dp_detach_all() first unless they must outlive this process. */
void fl_dp_close(struct fl_dp *dp);

/* Attach to IFNAME in the namespace nsfd (journal name ns_spec, see
 * state.h) on the directions in dirs (FL_DIR_*). */
int fl_dp_attach(struct fl_dp *dp, struct fl_state *st, const char *ns_spec, int nsfd,
		 const char *ifname, unsigned int dirs);
/* Attach to every non-loopback link of the namespace; to lo when that is
 * the only link (the namespace of fallacy wrap). */
int fl_dp_attach_all(struct fl_dp *dp, struct fl_state *st, const char *ns_spec, int nsfd,
		     unsigned int dirs);
/* Remove our filters, and the clsact qdiscs we created. */
int fl_dp_detach_all(struct fl_dp *dp);

/* The offloads a per-packet decision needs off (one bit each). */
enum fl_offload {
	FL_OFFLOAD_TSO = 1,
	FL_OFFLOAD_GSO = 2,
	FL_OFFLOAD_GRO = 4,
	FL_OFFLOAD_TXCSUM = 8,
	FL_OFFLOAD_ALL = 15,
};

/* Which of TSO, GSO, GRO and TX checksum offload of IFNAME in nsfd are on
 * (ethtool ioctl; enum fl_offload bits in *on). */
int fl_dp_offloads_get(int nsfd, const char *ifname, unsigned int *on);
/* Set each of them on (bit set) or off: off, the program sees wire-sized
 * packets with their checksums computed, as on a real wire; on again, it
 * sees GSO super-packets. */
int fl_dp_offloads_set(int nsfd, const char *ifname, unsigned int on);

/* Fill the node map (eth0 MAC -> node id, rule.h) and the link MTUs from a
 * lab (packets are looked up from now on, with or without rules). */
int fl_dp_set_nodes(struct fl_dp *dp, const struct fl_lab *lab);
/* Add (present) or remove one node of the map: a node joined or left. */
struct fl_node;
int fl_dp_node_set(struct fl_dp *dp, const struct fl_lab *lab, const struct fl_node *n,
		   bool present);
/* The link MTU of node id index (0: none): bigger packets to it are
 * answered with ICMP too-big (rule.h FL_CONF_MTU). */
int fl_dp_node_mtu(struct fl_dp *dp, int index, unsigned int mtu);
/* Forget a fault point whose interface is gone (a node left): its filters
 * went with it, nothing to detach. */
void fl_dp_forget(struct fl_dp *dp, const char *ns_spec, const char *ifname);
/* Transport accounting (rule.h, fl_acct) on or off. */
int fl_dp_set_accounting(struct fl_dp *dp, bool on);
/* One accounting entry, summed over the CPUs. */
struct fl_dp_acct {
	struct fl_acct_key key;
	struct fl_acct_val val;
};
/* Every accounting entry (malloc'ed array, *n may be 0). */
int fl_dp_acct_read(struct fl_dp *dp, struct fl_dp_acct **out, int *n);
/* An ingress cap: packets of link ifindex (in the session's namespace) that
 * a rate rule without a class matched are redirected to ifb ifindex ifb
 * (0: forget the link). */
int fl_dp_ifb_set(struct fl_dp *dp, int ifindex, int ifb);
/* Replace the whole rule table (already in evaluation order): write the
 * idle generation, flip, and when a rule went away, wait until no program runs with
 * the old table (a removed rule's counters read after this are final). */
int fl_dp_load_rules(struct fl_dp *dp, const struct fl_rule *rules, int n);
/* Leases (rule.h): every rule loaded from now on expires lease_ns after
 * its last renewal (0: never, --lease none). The default of a new data
 * plane is 0; the supervisor sets its session's lease before any rule. */
void fl_dp_set_lease(struct fl_dp *dp, uint64_t lease_ns);
/* Push the expiry of every live rule to now + lease (one batch write of
 * the per-slot lease array); a no-op without a lease. */
int fl_dp_renew(struct fl_dp *dp);
/* CLOCK_BOOTTIME in ns: bpf_ktime_get_boot_ns()'s clock. */
uint64_t fl_dp_boottime_ns(void);
/* Zero a slot's packet sequence, Gilbert-Elliott state and counters. */
int fl_dp_slot_reset(struct fl_dp *dp, uint32_t slot);
/* The counters by name, in the order `fault list` prints them: the one
 * table every printer, parser and sum of struct fl_counters walks. */
struct fl_counter_field {
	const char *name;
	size_t off; /* offsetof(struct fl_counters, ...) */
};

extern const struct fl_counter_field fl_counter_fields[]; /* name NULL ends it */
#define FL_N_COUNTERS (sizeof(struct fl_counters) / sizeof(__u64))

static inline __u64 *fl_counter_at(struct fl_counters *c, const struct fl_counter_field *f)
{
	return (__u64 *)(void *)((char *)c + f->off);
}

static inline __u64 fl_counter_get(const struct fl_counters *c, const struct fl_counter_field *f)
{
	return *(const __u64 *)(const void *)((const char *)c + f->off);
}

/* sum += c, member by member: the one place counters are added up (per
 * CPU here, per rule in the supervisor, per fault in wrap's summary). */
void fl_counters_add(struct fl_counters *sum, const struct fl_counters *c);
/* The counters as "packets N bytes N dropped N ..." (text) or members
 * (JSON): the one printer (fault list, events, wrap's counters.json). */
void fl_counters_print(const struct fl_counters *c, struct fl_out *o);
/* Sum of the per-CPU counters of a slot. */
int fl_dp_counters(struct fl_dp *dp, uint32_t slot, struct fl_counters *sum);

#endif
