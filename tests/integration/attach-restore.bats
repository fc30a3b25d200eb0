#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Attach mode (--netns NAME, --pid PID) for every fault kind, and that
# `fault clear` and `fallacy cleanup` give the namespace back exactly as it
# was: tc qdiscs, tc filters on every device and direction, and the
# iptables/ip6tables rules (legacy and nft) compare equal before and after.
# A rule the namespace's owner had installed stays.

bats_require_minimum_version 1.5.0
load test_helper/common
load test_helper/wrap
load test_helper/delay

setup() {
	NS=$(wrap_uniq)
	ip netns add "$NS"
	ip netns add "${NS}p"
	ip link add a0 netns "$NS" type veth peer name b0 netns "${NS}p"
	ip -n "$NS" addr add 198.18.251.1/30 dev a0
	ip -n "${NS}p" addr add 198.18.251.2/30 dev b0
	ip -n "$NS" link set lo up
	ip -n "$NS" link set a0 up
	ip -n "${NS}p" link set lo up
	ip -n "${NS}p" link set b0 up
	# the owner's own state, which must survive untouched
	ip netns exec "$NS" iptables -A INPUT -p tcp --dport 9999 -j ACCEPT
	ip netns exec "$NS" tc qdisc add dev a0 root tbf rate 1gbit burst 1mb latency 50ms
	# ... and its own clsact with a filter, next to which fallacy attaches
	ip netns exec "$NS" tc qdisc add dev a0 clsact
	ip netns exec "$NS" tc filter add dev a0 ingress prio 7 protocol ip u32 \
		match ip protocol 17 0xff classid 1:7
	SLEEPER=
}

teardown() {
	"$FALLACY" fault clear --netns "$NS" >/dev/null 2>&1 || true
	if [ -n "$SLEEPER" ]; then
		"$FALLACY" fault clear --pid "$SLEEPER" >/dev/null 2>&1 || true
		kill "$SLEEPER" 2>/dev/null || true
	fi
	ip netns del "$NS" 2>/dev/null || true
	ip netns del "${NS}p" 2>/dev/null || true
}

# Everything a fault could leave behind in namespace $1.
snapshot() {
	ip netns exec "$1" sh -c '
		tc -j qdisc show
		for d in $(ls /sys/class/net); do
			echo "== $d"
			tc -j filter show dev "$d" ingress
			tc -j filter show dev "$d" egress
		done
		for s in iptables-save ip6tables-save iptables-legacy-save ip6tables-legacy-save \
			iptables-nft-save ip6tables-nft-save; do
			command -v $s >/dev/null 2>&1 || continue
			echo "== $s"
			$s 2>/dev/null | grep -v "^#"
		done
		true'
}

kind_available() {
	run -0 "$FALLACY" fault add --netns "$NS" "$@" --dir in --id probe
	run -0 "$FALLACY" fault clear --netns "$NS"
}

# roundtrip TARGET-WORDS (fault words in FAULT): snapshot, fault add,
# traffic, the fault is listed and visible in the snapshot, clear, compare.
roundtrip() {
	local target=("$@")
	before=$(snapshot "$NS")
	run -0 "$FALLACY" fault add "${target[@]}" "${FAULT[@]}" --dir in --id t1
	ip netns exec "${NS}p" ping -c 3 -i 0.05 -W 1 -q 198.18.251.1 >/dev/null 2>&1 || true
	run -0 "$FALLACY" fault list "${target[@]}" -j
	assert_output --partial '"t1"'
	mid=$(snapshot "$NS")
	[ "$mid" != "$before" ]
	run -0 "$FALLACY" fault clear "${target[@]}"
	after=$(snapshot "$NS")
	diff <(echo "$before") <(echo "$after")
	run -0 ip netns exec "$NS" iptables -C INPUT -p tcp --dport 9999 -j ACCEPT
}

@test "--netns loss: fault clear restores tc and iptables state exactly" {
	FAULT=(loss 100%)
	roundtrip --netns "$NS"
}

@test "--pid loss: fault clear restores tc and iptables state exactly" {
	fl_bg_in_netns "$NS" sleep 300
	SLEEPER=$BG_PID
	FAULT=(loss 100%)
	roundtrip --pid "$SLEEPER"
}

@test "--netns delay: the delay line's rule and filters go away on clear" {
	kind_available delay 1ms
	FAULT=(delay 30ms)
	roundtrip --netns "$NS"
}

@test "--pid delay: the delay line's rule and filters go away on clear" {
	fl_bg_in_netns "$NS" sleep 300
	SLEEPER=$BG_PID
	kind_available delay 1ms
	FAULT=(delay 30ms)
	roundtrip --pid "$SLEEPER"
}

@test "--netns rate: the shaper's qdiscs go away on clear, the owner's tbf stays" {
	kind_available rate 10mbit
	FAULT=(rate 10mbit)
	roundtrip --netns "$NS"
}

# judged as behaviour: nothing early, and the median shows one 40 ms delay
# (not none, not two); a busy machine adds ping's own wake-up on top, so
# the accuracy goal lives in bench/delay.sh, not here
@test "--netns delay actually delays: ping RTT grows by the delay" {
	kind_available delay 1ms
	run -0 "$FALLACY" fault add --netns "$NS" delay 40ms --dir in --id d
	run -0 ip netns exec "${NS}p" ping -c 10 -i 0.1 198.18.251.1
	min=$(echo "$output" | rtts | minimum)
	med=$(echo "$output" | rtts | median)
	echo "rtt min $min ms, median $med ms"
	assert_equal "$(echo "$output" | rtts | wc -l)" 10
	within "$min" 39.9 1000
	within "$med" 39.9 79
}

@test "fallacy cleanup of an attach session restores the namespace exactly" {
	before=$(snapshot "$NS")
	run -0 "$FALLACY" fault add --netns "$NS" loss 50% --id c1
	run -0 "$FALLACY" cleanup "@netns-$NS"
	after=$(snapshot "$NS")
	diff <(echo "$before") <(echo "$after")
	[ ! -e "${FALLACY_RUN_DIR:-/run/fallacy}/@netns-$NS" ]
}

@test "attach, faults of three kinds, kill -9 of the supervisor and cleanup: the owner's filter, qdiscs and rule are byte-identical" {
	kind_available delay 1ms
	kind_available rate 10mbit
	before=$(snapshot "$NS")
	[[ "$before" == *'"flowid":"1:7"'* ]]
	[[ "$before" == *'"kind":"tbf"'* ]]
	[[ "$before" == *'--dport 9999 -j ACCEPT'* ]]
	run -0 "$FALLACY" fault add --netns "$NS" loss 10% --dir in --id k1
	run -0 "$FALLACY" fault add --netns "$NS" delay 20ms --dir in --id k2
	run -0 "$FALLACY" fault add --netns "$NS" rate 10mbit --dir in --id k3
	ip netns exec "${NS}p" ping -c 3 -i 0.05 -W 1 -q 198.18.251.1 >/dev/null 2>&1 || true
	mid=$(snapshot "$NS")
	[ "$mid" != "$before" ]
	pid=$(pgrep -f "__supervise @netns-$NS\$")
	kill -9 "$pid"
	fl_wait_until 20 bash -c "! kill -0 $pid 2>/dev/null"
	run -0 "$FALLACY" cleanup "@netns-$NS"
	after=$(snapshot "$NS")
	diff <(echo "$before") <(echo "$after")
}

# the command pings only once the fault is in (a file says so), however
# long `fault add` takes on a busy machine
@test "a wrap namespace is an attach target while the command runs" {
	tmp=$(mktemp -d)
	"$FALLACY" wrap -q -- sh -c "echo ready; while [ ! -e $tmp/go ]; do sleep 0.05; done;"'
		ping -c 3 -i 0.05 -W 1 -q 127.0.0.1; echo "ping $?"' >"$tmp/out" 2>&1 &
	w=$!
	wait_for_text "$tmp/out" ready
	run -0 "$FALLACY" fault add --netns "fl-wrap-$w" loss 100% --dir in --proto icmp --id live
	touch "$tmp/go"
	wait $w
	run cat "$tmp/out"
	rm -rf "$tmp"
	assert_output --partial "100% packet loss"
	assert_output --partial "ping 1"
	assert_session_gone "@wrap-$w"
	[ ! -e "${FALLACY_RUN_DIR:-/run/fallacy}/@netns-fl-wrap-$w" ]
}

# A live attach whose supervisor is killed before the command ends: wrap
# still removes what it left (its session folder, journal and filters).
@test "a wrap namespace's killed live-attach supervisor is cleaned up by wrap" {
	tmp=$(mktemp -d)
	"$FALLACY" wrap -q -- sh -c "echo ready; while [ ! -e $tmp/go ]; do sleep 0.05; done" \
		>"$tmp/out" 2>&1 &
	w=$!
	wait_for_text "$tmp/out" ready
	run -0 "$FALLACY" fault add --netns "fl-wrap-$w" loss 100% --dir in --proto icmp --id live
	sup=$(awk '$1 == "pid" { print $2; exit }' "${FALLACY_RUN_DIR:-/run/fallacy}/@netns-fl-wrap-$w/journal")
	[ -n "$sup" ]
	kill -9 "$sup"
	touch "$tmp/go"
	wait $w
	run cat "$tmp/out"
	rm -rf "$tmp"
	assert_output --partial "the fault supervisor of fl-wrap-$w died while 'sh' ran"
	assert_session_gone "@wrap-$w"
	[ ! -e "${FALLACY_RUN_DIR:-/run/fallacy}/@netns-fl-wrap-$w" ]
}
