// SPDX-License-Identifier: GPL-2.0 OR MIT
/* The smallest useful tc program: `fallacy doctor` loads it, attaches it to
 * the loopback of a scratch namespace and checks that it saw a packet. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define TC_ACT_OK 0

__u64 hits = 0;

SEC("tc")
int probe(struct __sk_buff *skb)
{
	(void)skb;
	__sync_fetch_and_add(&hits, 1);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
