#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# fallacy removes what it made and only that: an ifb it did not create
# survives its use and every cleanup, and the delay line's NFQUEUE rule
# goes after a kill -9 whichever iptables variant (legacy, nft) holds it.
# Checked with ip, tc and both variants' own iptables-save.

bats_require_minimum_version 1.5.0
load test_helper/common

setup() {
	fl_require_root
	XNS=fl-ox$$-$BATS_TEST_NUMBER XB=fl-oy$$-$BATS_TEST_NUMBER
	ip netns add "$XNS"
	ip netns add "$XB"
	ip -n "$XNS" link add eth0 type veth peer name eth0 netns "$XB"
	ip -n "$XNS" addr add 198.18.202.1/24 dev eth0
	ip -n "$XB" addr add 198.18.202.2/24 dev eth0
	for n in "$XNS" "$XB"; do
		ip -n "$n" link set lo up
		ip -n "$n" link set eth0 up
	done
}

teardown() {
	fl_cleanup_all
	ip netns del "$XNS" 2>/dev/null || true
	ip netns del "$XB" 2>/dev/null || true
}

sup_pid() {
	awk '$1 == "pid" { print $2; exit }' "$FALLACY_RUN_DIR/@netns-$XNS/journal"
}

# every rule of both families in one iptables variant, inside XNS
saved() {
	ip netns exec "$XNS" "iptables-$1-save"
	ip netns exec "$XNS" "ip6tables-$1-save"
}

@test "an ifb made beforehand (flb-eth0) is used by an ingress cap and survives fault clear and cleanup" {
	# the name fallacy gives the ifb of eth0 (injector/shape/ifb.c ifb_name)
	ip -n "$XNS" link add flb-eth0 type ifb
	idx=$(ip -n "$XNS" -j link show flb-eth0 | jq '.[0].ifindex')
	run -0 "$FALLACY" fault add --netns "$XNS" rate 10mbit --dir in
	run -0 tc -n "$XNS" qdisc show dev flb-eth0
	assert_output --partial "qdisc tbf"
	# what eth0 receives goes through it (the program's redirect)
	run -0 ip netns exec "$XB" ping -c 3 -i 0.2 -W 1 198.18.202.1
	run -0 tc -n "$XNS" -s -j qdisc show dev flb-eth0
	echo "$output"
	[ "$(jq '[.[] | select(.kind == "tbf") | .packets] | add' <<<"$output")" -ge 3 ]
	run -0 "$FALLACY" fault clear --netns "$XNS"
	run -0 ip -n "$XNS" -j link show flb-eth0
	[ "$(jq '.[0].ifindex' <<<"$output")" = "$idx" ] # the same link, not a new one
	run -0 tc -n "$XNS" qdisc show dev flb-eth0
	refute_output --partial tbf
	# again, ended by a kill -9 of the supervisor and fallacy cleanup
	run -0 "$FALLACY" fault add --netns "$XNS" rate 10mbit --dir in
	kill -9 "$(sup_pid)"
	run -0 "$FALLACY" cleanup "@netns-$XNS"
	run -0 ip -n "$XNS" -j link show flb-eth0
	[ "$(jq '.[0].ifindex' <<<"$output")" = "$idx" ]
	run -0 tc -n "$XNS" filter show dev eth0 ingress
	assert_output ''
	run -0 ip netns exec "$XB" ping -c 2 -i 0.2 -W 1 198.18.202.1
}

@test "an ifb fallacy made itself goes with fault clear" {
	run -0 "$FALLACY" fault add --netns "$XNS" rate 10mbit --dir in
	run -0 ip -n "$XNS" link show flb-eth0
	run -0 "$FALLACY" fault clear --netns "$XNS"
	run ip -n "$XNS" link show flb-eth0
	[ "$status" -ne 0 ]
}

# Install with one variant, kill the supervisor, clean up with the other
# one forced: the rule must go from where it is, and nothing of either
# variant may be left.
nfqueue_after_kill() {
	local var=$1 other=$2
	FALLACY_IPTABLES=$var run -0 "$FALLACY" fault add --netns "$XNS" delay 10ms
	run -0 saved "$var"
	assert_output --partial "NFQUEUE --queue-num 64017"
	[ "$(grep -c NFQUEUE <<<"$output")" -eq 2 ] # IPv4 and IPv6
	run -0 saved "$other"
	refute_output --partial NFQUEUE
	kill -9 "$(sup_pid)"
	run -0 saved "$var"
	assert_output --partial NFQUEUE # the kill left it
	FALLACY_IPTABLES=$other run -0 "$FALLACY" cleanup "@netns-$XNS"
	for v in legacy nft; do
		run -0 saved "$v"
		refute_output --partial NFQUEUE
		refute_output --partial 0xfa11
	done
	[ ! -e "$FALLACY_RUN_DIR/@netns-$XNS" ]
}

@test "kill -9 with the rule in iptables-legacy: cleanup removes it (iptables-legacy-save and -nft-save show nothing)" {
	require_variant legacy
	nfqueue_after_kill legacy nft
}

@test "kill -9 with the rule in iptables-nft: cleanup removes it, and loads no legacy table" {
	require_variant nft
	nfqueue_after_kill nft legacy
	# the legacy tables were not there before; removing must not load them
	run -0 ip netns exec "$XNS" cat /proc/net/ip_tables_names /proc/net/ip6_tables_names
	assert_output ''
}

require_variant() {
	command -v "iptables-$1-restore" >/dev/null || skip "iptables-$1 is not installed"
}
