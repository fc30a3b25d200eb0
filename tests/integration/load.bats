#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The load test's short form (the 10-minute form: bench/load.sh, make
# bench): 30 s of mixed traffic (iperf3, a ping flood, a counted UDP flow)
# while a fault is added and another removed every 100 ms. Every datagram
# sent is either received or dropped by a loss fault (their final counters
# in the fault-del events), none twice; every command succeeds; nothing is
# held in the delay line after the clear; the supervisor's RSS is steady.

bats_require_minimum_version 1.5.0
load test_helper/common

setup() {
	fl_require_root
	LAB=$(fl_lab_name ld)
}

teardown() {
	fl_cleanup_all
}

@test "30 s of mixed traffic with faults added and removed every 100 ms: counters add up, nothing stuck, RSS steady" {
	run -0 "$BATS_TEST_DIRNAME/test_helper/load.sh" "$LAB" "${LOAD_SECS:-30}"
	r=$output
	echo "$r"
	run -0 jq -e '.failed == 0 and .commands >= 40' <<<"$r"
	# sent = delivered + dropped by the matching rules + what the
	# receiver's socket dropped (measured apart; normally 0), give or
	# take what the kernel itself dropped on the path (veth backlog
	# overflow on a busy machine; counted per link for every protocol,
	# so an upper bound on the flow's share): a datagram is never counted
	# twice, and every one missing is one the kernel says it dropped
	run -0 jq -e '.udp.sent > 0 and .udp.duplicates == 0 and
		(.udp.sent - .udp.received - .udp.dropped_by_loss_faults - .udp.receiver_buffer_drops) as $gap |
		$gap >= 0 and $gap <= .elsewhere.path_drops' <<<"$r"
	run -0 jq -e '.udp.dropped_by_loss_faults > 0 and .udp.delayed_by_delay_faults > 0' <<<"$r"
	run -0 jq -e '.queue_held_after == 0 and .faults_left == 0' <<<"$r"
	run -0 jq -e '.supervisor_rss_kb.end - .supervisor_rss_kb.after_warmup < 2048' <<<"$r"
	run -0 "$FALLACY" lab down "$LAB"
	fl_assert_lab_gone "$LAB"
}
