#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Leases: every data plane rule expires unless its supervisor renews it, so
# a kill -9 of the supervisor cannot leave a lab broken. Partition, delay
# and rate cap stop by themselves within the lease (measured with ping and
# iperf3, no fallacy command run); a live supervisor keeps them; --lease
# none keeps them across a kill; fault list says which lease holds.

bats_require_minimum_version 1.5.0
load test_helper/common
load test_helper/delay

setup() {
	fl_require_root
	LAB=$(fl_lab_name l)
	N1=fl-$LAB.n1 N2=fl-$LAB.n2 N3=fl-$LAB.n3
	IP1=198.18.0.1 IP2=198.18.0.2 IP3=198.18.0.3
}

teardown() {
	fl_cleanup_all
}

sup_pid() {
	pgrep -f "__supervise $LAB\$"
}

reaches() { # reaches NS IP: one ping answered
	ip netns exec "$1" ping -c 1 -W 1 "$2" >/dev/null 2>&1
}

cut_off() { # cut_off NS IP: 3 pings, none answered
	run ip netns exec "$1" ping -c 3 -i 0.2 -W 1 "$2"
	assert_output --partial "100% packet loss"
}

med_rtt() { # med_rtt NS IP: median of 15 pings (ms)
	ip netns exec "$1" ping -c 15 -i 0.05 "$2" | rtts | median
}

# iperf3 goodput in Mbit/s on the wire (1448 payload bytes per 1514)
wire_mbit() {
	awk -v g="$(iperf_gbps "$@")" 'BEGIN { printf "%.3f", g * 1000 * 1514 / 1448 }'
}

@test "kill -9 of the supervisor: partition, 50ms delay and a rate cap stop within the lease, with no command run" {
	run -0 "$FALLACY" lab up "$LAB" --nodes 3 --lease 3s
	run -0 "$FALLACY" fault add "$LAB" partition n1 n2
	run -0 "$FALLACY" fault add "$LAB" delay 50ms --to n3
	run -0 "$FALLACY" fault add "$LAB" rate 2mbit --from n3 --to n1
	run -0 "$FALLACY" fault list "$LAB"
	assert_output --partial "lease 3s"
	# all three act
	cut_off "$N1" "$IP2"
	rtt=$(med_rtt "$N1" "$IP3")
	echo "with the delay: median RTT n1->n3 $rtt ms"
	awk -v r="$rtt" 'BEGIN { exit !(r >= 45) }'
	m=$(wire_mbit "$N3" "$N1" "$IP1" 3 -O 1)
	echo "with the cap: n3->n1 $m Mbit/s"
	awk -v m="$m" 'BEGIN { exit !(m > 0 && m < 3) }'

	pid=$(sup_pid)
	[ -n "$pid" ]
	kill -9 "$pid"
	t0=$(date +%s%N)
	# no fallacy command from here on: the kernel alone ends the faults
	fl_wait_until 60 reaches "$N1" "$IP2"
	t1=$(date +%s%N)
	echo "n1 reaches n2 again $(((t1 - t0) / 1000000)) ms after the kill (lease 3s)"
	rtt=$(med_rtt "$N1" "$IP3")
	echo "after the lease: median RTT n1->n3 $rtt ms"
	awk -v r="$rtt" 'BEGIN { exit !(r < 25) }'
	m=$(wire_mbit "$N3" "$N1" "$IP1" 3 -O 1)
	echo "after the lease: n3->n1 $m Mbit/s"
	awk -v m="$m" 'BEGIN { exit !(m > 20) }'
	# cleanup removes what the dead supervisor left (htb, NFQUEUE rule)
	run -0 "$FALLACY" cleanup "$LAB"
	fl_assert_lab_gone "$LAB"
}

@test "a live supervisor renews its rules: a partition holds three leases long" {
	# lease 4s, renewed every 1.33 s: a busy machine may delay a renewal by
	# up to 2.6 s before a rule lapses
	run -0 "$FALLACY" lab up "$LAB" --nodes 2 --lease 4s
	run -0 "$FALLACY" fault add "$LAB" partition n1 n2
	t0=$(date +%s)
	cut_off "$N1" "$IP2"
	# three leases later (13 s) it still holds: the renewals reached the map
	while [ $(($(date +%s) - t0)) -lt 13 ]; do
		sleep 1
	done
	cut_off "$N1" "$IP2"
	run -0 "$FALLACY" fault list "$LAB" -j
	run -0 jq -e '.[0].lease == "4s" and .[0].counters.dropped > 0' <<<"$output"
	run -0 "$FALLACY" fault clear "$LAB"
	fl_wait_until 20 reaches "$N1" "$IP2"
}

@test "--lease none: a partition outlives its killed supervisor until fault clear" {
	run -0 "$FALLACY" lab up "$LAB" --nodes 2 --lease none
	run -0 "$FALLACY" fault add "$LAB" partition n1 n2
	run -0 "$FALLACY" fault list "$LAB"
	assert_output --partial "lease none"
	kill -9 "$(sup_pid)"
	t0=$(date +%s)
	while [ $(($(date +%s) - t0)) -lt 4 ]; do
		sleep 1
	done
	cut_off "$N1" "$IP2"
	# the next supervisor keeps the lab's lease and replaces the program
	run -0 "$FALLACY" fault clear "$LAB"
	fl_wait_until 20 reaches "$N1" "$IP2"
	[ "$(cat "$FALLACY_RUN_DIR/$LAB/lease")" = none ]
}

@test "--netns: the first fault add sets the lease; a later different --lease is refused" {
	NS=fl-lease-$$-$RANDOM
	ip netns add "$NS"
	ip -n "$NS" link set lo up
	run -0 "$FALLACY" fault add --netns "$NS" loss 10% --lease 5s
	run -0 "$FALLACY" fault list --netns "$NS"
	assert_output --partial "lease 5s"
	run -0 "$FALLACY" fault add --netns "$NS" loss 1% --lease 5s
	run -2 "$FALLACY" fault add --netns "$NS" loss 1% --lease 20s
	assert_output --partial "runs with lease 5s"
	run -0 "$FALLACY" fault clear --netns "$NS"
	ip netns del "$NS"
}

@test "a bad --lease is refused with the accepted forms, nothing made" {
	run -2 "$FALLACY" lab up "$LAB" --lease 100ms
	assert_output --partial "a lease is 'none' or a duration from 1s to 24h"
	run -2 "$FALLACY" lab up "$LAB" --lease forever
	run ip netns list
	refute_output --partial "fl-$LAB"
	run -2 "$FALLACY" fault add "$LAB" loss 1% --lease 0
	assert_output --partial "--lease 0"
}

@test "the delay line's NFQUEUE rule fails open: with --lease none (marks stay) a killed supervisor's delay is gone at once" {
	run -0 "$FALLACY" lab up "$LAB" --nodes 3 --lease none
	run -0 "$FALLACY" fault add "$LAB" delay 50ms --to n3
	run -0 bash -c "ip netns exec fl-$LAB iptables-save 2>/dev/null; ip netns exec fl-$LAB iptables-legacy-save 2>/dev/null"
	assert_output --regexp "NFQUEUE .*--queue-bypass"
	rtt=$(med_rtt "$N1" "$IP3")
	echo "delay on: median RTT $rtt ms"
	awk -v r="$rtt" 'BEGIN { exit !(r >= 45) }'
	kill -9 "$(sup_pid)"
	fl_wait_until 20 bash -c "! pgrep -f '__supervise $LAB\$' >/dev/null"
	# packets are still marked (no lease), nobody reads the queue: they pass
	rtt=$(med_rtt "$N1" "$IP3")
	echo "supervisor dead: median RTT $rtt ms"
	awk -v r="$rtt" 'BEGIN { exit !(r < 25) }'
	run -0 "$FALLACY" cleanup "$LAB"
	fl_assert_lab_gone "$LAB"
}

@test "doctor finds the state of a killed supervisor and offers its cleanup; --cleanup removes it" {
	run -0 "$FALLACY" lab up "$LAB" --nodes 2
	run -0 "$FALLACY" fault add "$LAB" delay 20ms --to n2
	run -0 "$FALLACY" doctor -j
	run -0 jq -e --arg l "$LAB" '.stale | index($l) == null' <<<"$output"
	kill -9 "$(sup_pid)"
	stale() { "$FALLACY" doctor -j | jq -e --arg l "$LAB" '.stale | index($l) != null' >/dev/null; }
	fl_wait_until 30 stale
	run -0 "$FALLACY" doctor
	assert_output --partial "$LAB: remove it with \`fallacy cleanup $LAB\`"
	run -0 "$FALLACY" doctor --cleanup
	assert_output --partial "$LAB: removed"
	fl_assert_lab_gone "$LAB"
}

# A lab's supervisor tags the journal records of what it makes for its
# faults; the next one removes a killed predecessor's (its htb shaper, its
# NFQUEUE rules, its filters) before it attaches, and leaves the lab's own
# objects alone, a node the dead one added included.
@test "kill -9 of a lab's supervisor: the next one removes what it left (htb, NFQUEUE rules), a node it added stays" {
	run -0 "$FALLACY" lab up "$LAB" --nodes 2
	run -0 "$FALLACY" node add "$LAB" n3
	run -0 "$FALLACY" fault add "$LAB" rate 10mbit --to n2
	run -0 "$FALLACY" fault add "$LAB" delay 30ms --to n3
	run -0 ip netns exec "fl-$LAB" tc qdisc show dev p-n2
	assert_output --partial "qdisc htb"
	run -0 bash -c "ip netns exec fl-$LAB iptables-save -t raw | grep -c NFQUEUE"
	run -0 grep -c '^@sup:[0-9]*:[0-9]* ' "$FALLACY_RUN_DIR/$LAB/journal"
	old=$(sup_pid)
	kill -9 "$old"
	for _ in $(seq 50); do ! kill -0 "$old" 2>/dev/null && break; sleep 0.1; done
	# inert leftovers until a successor starts
	run -0 ip netns exec "fl-$LAB" tc qdisc show dev p-n2
	assert_output --partial "qdisc htb"
	run -0 "$FALLACY" fault add "$LAB" loss 1% --to n1 --id l1
	[ "$(sup_pid)" != "$old" ]
	run -0 ip netns exec "fl-$LAB" tc qdisc show dev p-n2
	refute_output --partial "qdisc htb"
	run -0 ip netns exec "fl-$LAB" iptables-save -t raw
	refute_output --partial NFQUEUE
	run -0 ip netns exec "fl-$LAB" ip6tables-save -t raw
	refute_output --partial NFQUEUE
	# the node the dead supervisor added is the lab's: still there, and
	# its traffic neither shaped nor delayed any more
	run -0 ip netns exec "$N1" ping -c 3 -i 0.2 -W 2 198.18.0.3
	echo "$output"
	run -0 med_rtt "$N1" 198.18.0.3
	echo "median RTT n1 -> n3 $output ms (was 30 ms delayed)"
	awk -v m="$output" 'BEGIN { exit !(m < 20) }'
	# the new supervisor's filters are in place (its loss acts) and the
	# journal withdrew each removed record
	run -0 grep -c '^@sup:[0-9]*:[0-9]* cancel ' "$FALLACY_RUN_DIR/$LAB/journal"
	[ "$output" -ge 3 ]
	run -0 "$FALLACY" fault list "$LAB" -j
	assert_output --partial '"id": "l1"'
	run -0 "$FALLACY" lab down "$LAB"
	fl_assert_lab_gone "$LAB"
}
