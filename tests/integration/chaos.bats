#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# kill -9 of fallacy itself at seeded random moments: lab up, fault add
# (the supervisor starting), the delay line holding packets, a capture, a
# run with its target running, wrap, teardown, node add, and node remove
# while a flap runs; after each, `fallacy
# cleanup --all` must leave nothing of ours: namespaces, /etc/netns
# folders, processes, state, scratch folders, and the root namespace's
# links and iptables rules as they were. CHAOS_SEED and CHAOS_MOMENTS
# change the schedule; a failure prints the seed and moment to replay.

load test_helper/common

setup() {
	fl_require_root
	SEED=${CHAOS_SEED:-20261130}
	MOMENTS=${CHAOS_MOMENTS:-20}
	# the dash ends the prefix: another run's "x$$N" labs (and processes)
	# must not match this run's pattern, nor its lab names collide
	PREFIX="x$$-"
}

teardown() {
	fl_cleanup_all
	pkill -9 -f "fallacy.*$PREFIX" 2>/dev/null || true
}

# rnd N K: a number in [0, N) for K (a 64-bit mix of SEED and K)
rnd() {
	local x=$((SEED * 6364136223846793005 + $2 * 1442695040888963407))
	x=$(((x ^ ((x >> 33) & 0x7fffffff)) * -49064778989728563))
	x=$(((x ^ ((x >> 33) & 0x7fffffff)) & 0x7fffffffffffffff))
	echo $((x % $1))
}

# What fallacy could leak into the root namespace: links with its names,
# netfilter rules with its queue or marks (other people's objects on a
# shared machine are left out of the comparison).
snapshot() {
	ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E '^(p-|flb-|fl-)' | sort
	for v in iptables-nft-save ip6tables-nft-save iptables-legacy-save ip6tables-legacy-save; do
		command -v "$v" >/dev/null || continue
		echo "== $v"
		"$v" 2>/dev/null | grep -E 'NFQUEUE|0xfa1' || true
	done
}

# Nothing of lab/session NAME may remain.
assert_gone() {
	local lab=$1
	run ip netns list
	refute_output --partial "fl-$lab"
	run bash -c "ls -d /etc/netns/fl-$lab* /tmp/fallacy-$lab.* 2>/dev/null"
	assert_output ''
	run pgrep -f "__supervise $lab\$"
	assert_failure
	run bash -c "ls -A '$FALLACY_RUN_DIR' 2>/dev/null"
	assert_output ''
}

kill_after() { # kill_after MS PID [also the supervisor of LAB]
	sleep "$(awk -v m="$1" 'BEGIN { printf "%.3f", m / 1000 }')"
	kill -9 "$2" 2>/dev/null || true
	if [ -n "${3:-}" ]; then
		pkill -9 -f "__supervise $3\$" 2>/dev/null || true
	fi
	wait "$2" 2>/dev/null || true
}

op_lab_up() { # $1 lab, $2 ms, $3 also-supervisor
	"$FALLACY" lab up "$1" --nodes 4 --ipv6 >/dev/null 2>&1 &
	kill_after "$2" $! "${3:+$1}"
}

op_fault_add() {
	"$FALLACY" lab up "$1" --nodes 2 >/dev/null 2>&1 || return 1
	"$FALLACY" fault add "$1" delay 20ms --to n2 >/dev/null 2>&1 &
	kill_after "$2" $! "${3:+$1}"
}

op_delay_holding() { # the delay line holds packets when the supervisor dies
	"$FALLACY" lab up "$1" --nodes 2 >/dev/null 2>&1 || return 1
	"$FALLACY" fault add "$1" delay 800ms --to n2 >/dev/null 2>&1 || return 1
	ip netns exec "fl-$1.n1" ping -i 0.02 -c 200 -q n2 >/dev/null 2>&1 &
	local ping=$!
	sleep "0.$(printf '%03d' "$2")"
	pkill -9 -f "__supervise $1\$" || true
	kill "$ping" 2>/dev/null || true
	wait "$ping" 2>/dev/null || true
}

op_capture() {
	"$FALLACY" lab up "$1" --nodes 2 >/dev/null 2>&1 || return 1
	"$FALLACY" capture "$1" -w "$BATS_TEST_TMPDIR/$1.pcap" --duration 10s >/dev/null 2>&1 &
	kill_after "$2" $! "${3:+$1}"
}

op_run() {
	"$FALLACY" run tests/data/scenarios/long.yaml --target scenarios/targets/http.yaml \
		--out "$BATS_TEST_TMPDIR/run-$1" --lab "$1" >/dev/null 2>&1 &
	kill_after $(($2 * 3)) $! "${3:+$1}"
}

op_wrap() {
	"$FALLACY" wrap -q --delay 5ms --loss 1% -- sleep 10 >/dev/null 2>&1 &
	WRAP=$!
	kill_after "$2" "$WRAP"
	# this wrap's supervisor only: other runs' wraps on the machine keep theirs
	pkill -9 -f "__supervise @netns-fl-wrap-$WRAP\$" 2>/dev/null || true
}

op_lab_down() {
	"$FALLACY" lab up "$1" --nodes 6 >/dev/null 2>&1 || return 1
	"$FALLACY" fault add "$1" loss 1% >/dev/null 2>&1 || return 1
	"$FALLACY" lab down "$1" >/dev/null 2>&1 &
	kill_after $(($2 / 4)) $! "${3:+$1}"
}

op_node_add() { # a topology change: the supervisor makes the node's objects
	"$FALLACY" lab up "$1" --nodes 2 --ipv6 >/dev/null 2>&1 || return 1
	"$FALLACY" node add "$1" n3 >/dev/null 2>&1 &
	kill_after $(($2 / 4)) $! "${3:+$1}"
}

op_node_flap() { # a flap going on (the supervisor's timer) with a fault
	"$FALLACY" lab up "$1" --nodes 3 >/dev/null 2>&1 || return 1
	"$FALLACY" node add "$1" n4 >/dev/null 2>&1 || return 1
	"$FALLACY" fault add "$1" loss 5% --to n4 >/dev/null 2>&1 || return 1
	"$FALLACY" link "$1" n4 flap --period 100ms >/dev/null 2>&1 || return 1
	"$FALLACY" node remove "$1" n2 >/dev/null 2>&1 &
	kill_after $(($2 / 4)) $! "${3:+$1}"
}

OPS=(op_lab_up op_fault_add op_delay_holding op_capture op_run op_wrap op_lab_down op_node_add
	op_node_flap)

@test "kill -9 at $((${CHAOS_MOMENTS:-20})) seeded moments; cleanup --all leaves nothing each time" {
	before=$(snapshot)
	for ((k = 0; k < MOMENTS; k++)); do
		op=${OPS[$(rnd ${#OPS[@]} "$k")]}
		ms=$(rnd 1500 $((k + 100)))
		sup=$([ "$(rnd 2 $((k + 200)))" -eq 1 ] && echo yes || true)
		lab="$PREFIX$k"
		echo "moment $k (CHAOS_SEED=$SEED): $op, kill after ${ms} ms${sup:+, and the supervisor}"
		"$op" "$lab" "$ms" "$sup" || true
		run -0 "$FALLACY" cleanup --all
		assert_gone "$lab"
		if [ -n "${WRAP:-}" ]; then # its namespace and command are gone too
			run ip netns list
			refute_output --partial "fl-wrap-$WRAP"
			WRAP=
		fi
		after=$(snapshot)
		diff <(echo "$before") <(echo "$after")
	done
}
