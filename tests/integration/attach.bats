#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Faults on namespaces fallacy did not create (--netns, --pid): the
# namespace is left exactly as it was; kill -9 of the supervisor is cleaned
# up; bad input changes nothing.

bats_require_minimum_version 1.5.0
load test_helper/common

setup() {
	fl_require_root
	A=fla$$$((RANDOM % 1000)) B=flb$$$((RANDOM % 1000))
	VA=va$$ VB=vb$$
	ip netns add "$A"
	ip netns add "$B"
	ip link add "$VA" netns "$A" type veth peer name "$VB" netns "$B"
	ip -n "$A" addr add 198.18.254.1/24 dev "$VA"
	ip -n "$B" addr add 198.18.254.2/24 dev "$VB"
	ip -n "$A" link set "$VA" up
	ip -n "$B" link set "$VB" up
	ip -n "$B" link set lo up
	PID=
}

teardown() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null
	fl_cleanup_all
	ip netns del "$A" 2>/dev/null || true
	ip netns del "$B" 2>/dev/null || true
}

# wait (up to 20 s) until a TCP server listens on PORT in NS
wait_port() {
	fl_wait_until 20 fl_listening "$1" t "$2"
}

tc_state() {
	tc -n "$B" -j qdisc show
	tc -n "$B" -j filter show dev "$VB" ingress
	tc -n "$B" -j filter show dev "$VB" egress
}

@test "--pid: a fault applies in the process's namespace and clear restores tc state byte for byte" {
	# $! is in B only once `ip netns exec` has entered it: wait, or the
	# fault would land in the namespace the test runs in
	fl_bg_in_netns "$B" sleep 60
	PID=$BG_PID
	before=$(tc_state)
	id=$("$FALLACY" fault add --pid "$PID" loss 30% --dir in --proto icmp --seed 1)
	run -0 tc -n "$B" filter show dev "$VB" ingress
	assert_output --partial fl_ingress
	read -r sent recv < <(ip netns exec "$A" ping -q -f -l 8 -c 2000 -W 1 198.18.254.2 |
		awk '/transmitted/ { print $1, $4 }')
	dropped=$("$FALLACY" fault list --pid "$PID" -j | jq -r ".[] | select(.id == \"$id\") | .counters.dropped")
	echo "sent $sent received $recv dropped $dropped"
	[ "$dropped" -eq $((sent - recv)) ]
	[ "$dropped" -ge 500 ]
	[ "$dropped" -le 700 ]
	run -0 "$FALLACY" fault clear --pid "$PID"
	diff <(echo "$before") <(echo "$(tc_state)")
	[ ! -e "$FALLACY_RUN_DIR/@pid-$PID" ]
}

@test "--netns with an existing clsact qdisc: ours is left in place, only our filters go" {
	tc -n "$B" qdisc add dev "$VB" clsact
	before=$(tc_state)
	run -0 "$FALLACY" fault add --netns "$B" partition
	run -1 ip netns exec "$A" ping -c 1 -W 1 198.18.254.2
	run -0 "$FALLACY" fault clear --netns "$B"
	diff <(echo "$before") <(echo "$(tc_state)")
	run -0 ip netns exec "$A" ping -c 1 -W 1 198.18.254.2
}

@test "kill -9 of the supervisor: fallacy cleanup removes everything it left" {
	before=$(tc_state)
	run -0 "$FALLACY" fault add --netns "$B" partition
	sup=$(awk '$1 == "pid" { print $2 }' "$FALLACY_RUN_DIR/@netns-$B/journal")
	[ -n "$sup" ]
	kill -9 "$sup"
	run -1 ip netns exec "$A" ping -c 1 -W 1 198.18.254.2
	run -0 "$FALLACY" cleanup "@netns-$B"
	diff <(echo "$before") <(echo "$(tc_state)")
	[ ! -e "$FALLACY_RUN_DIR/@netns-$B" ]
	run -0 ip netns exec "$A" ping -c 1 -W 1 198.18.254.2
}

@test "a fault after a killed supervisor cleans up the stale session first" {
	run -0 "$FALLACY" fault add --netns "$B" loss 1%
	sup=$(awk '$1 == "pid" { print $2 }' "$FALLACY_RUN_DIR/@netns-$B/journal")
	kill -9 "$sup"
	run -0 "$FALLACY" fault add --netns "$B" loss 2%
	run -0 "$FALLACY" fault list --netns "$B"
	assert_output --partial "loss 2%"
	refute_output --partial "loss 1%"
}

@test "bad input exits 2 with a message naming the word, and changes nothing" {
	before=$(tc_state)
	run -2 "$FALLACY" fault add --netns "$B" lose 5%
	assert_output --partial "unknown fault 'lose' (did you mean 'loss'?)"
	run -2 "$FALLACY" fault add --netns "$B" loss 150%
	assert_output --partial "150%"
	run -2 "$FALLACY" fault add --netns "$B" loss 5% --from n1
	assert_output --partial "n1"
	run -2 "$FALLACY" fault add --netns "$B" loss 5% --proto sctp
	assert_output --partial "sctp"
	run -2 "$FALLACY" fault add --pid 4194000 loss 5%
	assert_output --partial "4194000"
	run -2 "$FALLACY" fault add --netns "nons$$" loss 5%
	assert_output --partial "nons$$"
	run -2 "$FALLACY" fault del --netns "$B" f9
	diff <(echo "$before") <(echo "$(tc_state)")
	[ ! -e "$FALLACY_RUN_DIR/@netns-$B" ]
}

@test "bad input on a lab: unknown node, address outside the lab; nothing changes" {
	lab=$(fl_lab_name ba)
	run -0 "$FALLACY" lab up "$lab" --nodes 2
	wire_before=$(tc -n "fl-$lab" -j filter show dev p-n1 ingress; tc -n "fl-$lab" -j qdisc show)
	run -2 "$FALLACY" fault add "$lab" loss 5% --from n9
	assert_output --partial "unknown node 'n9'"
	run -2 "$FALLACY" fault add "$lab" loss 5% --to 198.19.255.1
	assert_output --partial "outside lab"
	run -2 "$FALLACY" fault add "$lab/n7" loss 5%
	assert_output --partial "n7"
	run -2 "$FALLACY" partition "$lab" n1 n5
	assert_output --partial "n5"
	assert_equal "$(tc -n "fl-$lab" -j filter show dev p-n1 ingress; tc -n "fl-$lab" -j qdisc show)" "$wire_before"
	# the lab's supervisor runs from lab up (accounting); it took no fault
	run -0 "$FALLACY" fault list "$lab" -j
	assert_output '[]'
	run -0 "$FALLACY" lab down "$lab"
}

@test "five concurrent first fault adds start one supervisor and keep all five faults" {
	for i in 1 2 3 4 5; do "$FALLACY" -q fault add --netns "$B" loss "$i%" >/dev/null & done
	wait
	run -0 "$FALLACY" fault list --netns "$B" -j
	assert_equal "$(echo "$output" | jq length)" 5
	assert_equal "$(grep -c '^pid ' "$FALLACY_RUN_DIR/@netns-$B/journal")" 1
	run -0 "$FALLACY" fault clear --netns "$B"
	[ ! -e "$FALLACY_RUN_DIR/@netns-$B" ]
}

@test "fault list of a lab or namespace that does not exist exits 2" {
	run -2 "$FALLACY" fault list "nolab$$"
	assert_output --partial "nolab$$"
	run -2 "$FALLACY" fault list --netns "nons$$"
	assert_output --partial "nons$$"
	run -0 "$FALLACY" fault list --netns "$B"
	assert_output ''
}

@test "--netns reset works on both hooks: a server inside and a client inside are refused" {
	ip netns exec "$B" socat -T 3 TCP-LISTEN:7010,reuseaddr,fork SYSTEM:'echo hello' &
	PID=$!
	wait_port "$B" 7010
	run -0 "$FALLACY" fault add --netns "$B" reset --port 7010
	# client outside, server inside: the SYN arrives on ingress, the RST leaves
	run ! timeout 5 ip netns exec "$A" socat -T 2 - TCP:198.18.254.2:7010 </dev/null
	assert_output --partial "Connection refused"
	# client inside: its SYN leaves on egress, the RST comes back in
	ip netns exec "$A" socat -T 3 TCP-LISTEN:7010,reuseaddr SYSTEM:'echo hello' &
	apid=$!
	wait_port "$A" 7010
	run ! timeout 5 ip netns exec "$B" socat -T 2 - TCP:198.18.254.1:7010 </dev/null
	assert_output --partial "Connection refused"
	kill "$apid" 2>/dev/null || true
	run -0 "$FALLACY" fault list --netns "$B" -j
	assert_equal "$(echo "$output" | jq '.[0].counters.reset')" 2
}

@test "--netns duplicate on egress: every request leaves twice" {
	run -0 "$FALLACY" fault add --netns "$B" duplicate 100% --dir out --proto icmp
	run -0 ip netns exec "$B" ping -c 5 -i 0.1 -W 1 198.18.254.1
	[ "$(echo "$output" | grep -c 'DUP!')" -ge 4 ]
	run -0 "$FALLACY" fault list --netns "$B" -j
	assert_equal "$(echo "$output" | jq '.[0].counters.duplicated')" 5
}

# a node's absolute kernel counter (nstat reads the namespace's own MIB)
nstat_of() { # NETNS COUNTER
	ip netns exec "$1" nstat -az "$2" | awk -v c="$2" '$1 == c { print $2 }'
}

@test "--netns keeps the namespace's offloads; loss on TCP super-packets counts their segments" {
	command -v ethtool >/dev/null || skip "needs ethtool (make deps)"
	before=$(ip netns exec "$A" ethtool -k "$VA"; ip netns exec "$B" ethtool -k "$VB")
	id=$("$FALLACY" fault add --netns "$B" loss 0.1% --dir in --proto tcp --seed 5)
	after=$(ip netns exec "$A" ethtool -k "$VA"; ip netns exec "$B" ethtool -k "$VB")
	diff <(echo "$before") <(echo "$after")
	ip netns exec "$B" socat -u TCP-LISTEN:7401,reuseaddr OPEN:/dev/null &
	PID=$!
	wait_port "$B" 7401
	out0=$(($(nstat_of "$A" TcpOutSegs) + $(nstat_of "$A" TcpRetransSegs)))
	head -c 20000000 /dev/zero | timeout 120 ip netns exec "$A" socat -u - TCP:198.18.254.2:7401
	wait "$PID" || true
	PID=
	out1=$(($(nstat_of "$A" TcpOutSegs) + $(nstat_of "$A" TcpRetransSegs)))
	run -0 "$FALLACY" fault list --netns "$B" -j
	pk=$(jq ".[] | select(.id == \"$id\") | .counters.packets" <<<"$output")
	dr=$(jq ".[] | select(.id == \"$id\") | .counters.dropped" <<<"$output")
	echo "rule: packets $pk dropped $dr; A sent $((out1 - out0)) segments"
	# every segment A sent went through B's ingress hook, counted one by one
	# although the hook saw super-packets
	[ "$pk" -eq "$((out1 - out0))" ]
	[ "$dr" -gt 0 ]
	[ "$dr" -lt "$pk" ]
}
