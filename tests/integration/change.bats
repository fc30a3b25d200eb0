#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Faults that change while they act: `fault change` swaps a fault's
# parameters in place (same id, seed, slots and counters), and
# `fault add --duration` heals a fault by itself. Measured with ping and
# the session's events.jsonl.

bats_require_minimum_version 1.5.0
load test_helper/common
load test_helper/delay

setup() {
	fl_require_root
	LAB=$(fl_lab_name ch)
	run -0 "$FALLACY" lab up "$LAB" --nodes 2
	N1=fl-$LAB.n1
	IP2=$(awk '$1 == "node" && $2 == "n2" { print $3 }' "$FALLACY_RUN_DIR/$LAB/lab")
}

teardown() {
	fl_cleanup_all
}

# median RTT (ms) of COUNT pings n1 -> n2
median_rtt() {
	ip netns exec "$N1" ping -c "$1" -i 0.05 -W 2 "$IP2" | rtts | median
}

# fault list -j of the lab without the counters (what a change may alter)
listed() {
	"$FALLACY" fault list "$LAB" -j | jq -c 'map(del(.counters))'
}

counter() {
	"$FALLACY" fault list "$LAB" -j | jq -r --arg id "$1" ".[] | select(.id == \$id) | .counters.$2"
}

@test "fault change delay 20ms -> 80ms: ping RTT follows, same id, seed and rules, counters keep growing" {
	run -0 "$FALLACY" fault add "$LAB" delay 20ms --from n1 --to n2 --id d --seed 5
	before=$(median_rtt 10)
	p1=$(counter d packets)
	echo "median RTT $before ms with 20ms, $p1 packets counted"
	within "$before" 20 60
	[ "$p1" -ge 10 ]
	run -0 "$FALLACY" fault change "$LAB" d delay 80ms
	after=$(median_rtt 10)
	p2=$(counter d packets)
	echo "median RTT $after ms with 80ms, $p2 packets counted"
	within "$after" 80 1000
	[ "$p2" -ge $((p1 + 10)) ] # not reset: the 10 new requests on top
	[ "$(counter d delayed)" -ge $((p1 + 10)) ]
	run -0 "$FALLACY" fault list "$LAB" -j
	[ "$(jq length <<<"$output")" -eq 1 ]
	run -0 jq -e '.[0] | .id == "d" and .kind == "delay" and .delay_ns == 80000000 and
		.seed == 5 and .from == "n1" and .to == "n2" and .rules == 1' <<<"$output"
	run -0 jq -c 'map(select(.event == "fault-change")) | .[0] | [.id, .fault.delay_ns]' \
		--slurp "$FALLACY_RUN_DIR/$LAB/events.jsonl"
	assert_output '["d",80000000]'
}

@test "fault change to another kind, of an unknown id or with bad words exits 2 and changes nothing" {
	run -0 "$FALLACY" fault add "$LAB" delay 80ms --from n1 --to n2 --id d
	was=$(listed)
	run -2 "$FALLACY" fault change "$LAB" d loss 5%
	assert_output --partial "a delay fault cannot become loss"
	run -2 "$FALLACY" fault change "$LAB" nosuch delay 10ms
	assert_output --partial "no fault 'nosuch'"
	run -2 "$FALLACY" fault change "$LAB" d delay 10xs
	assert_output --partial "10xs"
	[ "$(listed)" = "$was" ]
	rtt=$(median_rtt 5)
	echo "median RTT $rtt ms"
	within "$rtt" 80 1000
}

@test "loss 100% --duration 4s: pings fail during it, fault list shows left, then fault-expired and pings pass" {
	t0=$(date +%s%N)
	run -0 "$FALLACY" fault add "$LAB" loss 100% --from n1 --to n2 --duration 4s --id cut
	run -0 "$FALLACY" fault list "$LAB"
	assert_output --regexp "cut +loss 100% --from n1 --to n2 --duration 4s --seed [0-9]+ left [0-9.]+(s|ms)"
	run -0 "$FALLACY" fault list "$LAB" -j
	left=$(jq '.[0].left_ns' <<<"$output")
	[ "$left" -gt 0 ]
	[ "$left" -le 4000000000 ]
	run ip netns exec "$N1" ping -c 3 -i 0.2 -W 0.5 "$IP2"
	t1=$(date +%s%N)
	assert_output --partial "0 received"
	# the pings above ran inside the window (else the machine was too slow
	# for this test to say anything)
	[ $((t1 - t0)) -lt 4000000000 ] || skip "the pings took longer than the fault's 4 s"
	for _ in $(seq 100); do
		[ "$("$FALLACY" fault list "$LAB" -j | jq length)" -eq 0 ] && break
		sleep 0.1
	done
	run -0 "$FALLACY" fault list "$LAB" -j
	assert_output '[]'
	run -0 ip netns exec "$N1" ping -c 3 -i 0.2 -W 1 "$IP2"
	assert_output --partial "3 received"
	ev=$FALLACY_RUN_DIR/$LAB/events.jsonl
	add=$(jq -s '.[] | select(.event == "fault-add" and .id == "cut") | .mono_ns' "$ev")
	exp=$(jq -s '.[] | select(.event == "fault-expired" and .id == "cut") | .mono_ns' "$ev")
	echo "healed $(((exp - add) / 1000000)) ms after it was added"
	[ -n "$exp" ]
	# never before its time: the timer starts at the rule-table flip, the
	# fault-add event is stamped just after it (allow those few ms)
	[ $((exp - add)) -ge 3950000000 ]
}
