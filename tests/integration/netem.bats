#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The delay fault's netem backend. On a kernel without sch_netem (this
# project's machines): `backend netem` is refused with exit 2 and changes
# nothing, `auto` takes the NFQUEUE delay line. The netem path itself runs
# only where `fallacy doctor` finds netem, and SKIPs otherwise.

bats_require_minimum_version 1.5.0
load test_helper/common
load test_helper/delay

netem_present() {
	[ "$("$FALLACY" doctor -j | jq -r '.probes[] | select(.name == "netem") | .ok')" = true ]
}

need_netem() {
	netem_present || skip "kernel has no sch_netem (fallacy doctor: netem missing, CONFIG_NET_SCH_NETEM)"
}

need_no_netem() {
	netem_present && skip "kernel has sch_netem: the refusal path does not apply"
	true
}

setup() {
	fl_require_root
	LAB=$(fl_lab_name nm)
	run -0 "$FALLACY" lab up "$LAB" --nodes 2
	W=fl-$LAB N1=fl-$LAB.n1 N2=fl-$LAB.n2
	IP2=198.18.0.2
	XNS= XB=
}

teardown() {
	fl_cleanup_all
	for n in "${XNS:-}" "${XB:-}"; do
		[ -n "$n" ] && ip netns del "$n" 2>/dev/null
	done
	true
}

# Every qdisc, class, tc filter and iptables rule of namespace $1.
kstate() {
	local ns=$1 d
	for t in iptables-save ip6tables-save; do
		ip netns exec "$ns" "$t" | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'
	done
	ip -n "$ns" -o link show | awk -F': ' '{ print $2 }' | cut -d@ -f1 | sort
	for d in $(ip -n "$ns" -o link show | awk -F': ' '{ print $2 }' | cut -d@ -f1); do
		echo "== $d"
		tc -n "$ns" qdisc show dev "$d"
		tc -n "$ns" class show dev "$d"
		tc -n "$ns" filter show dev "$d" ingress 2>/dev/null
		tc -n "$ns" filter show dev "$d" egress 2>/dev/null
	done
}

lab_kstate() {
	for ns in "$W" "$N1" "$N2"; do
		echo "### $ns"
		kstate "$ns"
	done
}

# median RTT (ms) of N pings n1 -> n2: one late wake-up of a busy machine
# moves a mean, not a median
med_rtt() {
	ip netns exec "$N1" ping -c "$1" -i 0.02 "$IP2" | rtts | median
}

@test "backend netem without sch_netem: exit 2 naming CONFIG_NET_SCH_NETEM; tc and iptables untouched" {
	need_no_netem
	# A lab's supervisor attaches its (inert) data plane when it starts,
	# whatever the first fault; so start it with a fault of the queue and
	# compare from there: the refusal must add nothing next to it.
	run -0 "$FALLACY" fault add "$LAB" delay 10ms --to n1 --id q1
	before=$(lab_kstate)
	echo "$before" | grep -q NFQUEUE
	run -2 "$FALLACY" fault add "$LAB" delay 50ms backend netem --to n2
	assert_output --partial "CONFIG_NET_SCH_NETEM"
	assert_output --partial "backend queue"
	after=$(lab_kstate)
	[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after"); false; }
	run -0 "$FALLACY" fault list "$LAB"
	assert_output --partial "q1"
	refute_output --partial "50ms"
	# reorder is a delay too
	run -2 "$FALLACY" fault add "$LAB" reorder 25% delay 10ms backend netem
	assert_output --partial "CONFIG_NET_SCH_NETEM"
	diff <(echo "$before") <(echo "$(lab_kstate)")
}

@test "backend netem without sch_netem on a --netns target: exit 2, nothing attached" {
	need_no_netem
	XNS=fl-nx$$$RANDOM XB=fl-ny$$$RANDOM
	ip netns add "$XNS"
	ip netns add "$XB"
	ip -n "$XNS" link add eth0 type veth peer name eth0 netns "$XB"
	ip -n "$XNS" link set eth0 up
	before=$(kstate "$XNS")
	run -2 "$FALLACY" fault add --netns "$XNS" delay 20ms backend netem
	assert_output --partial "CONFIG_NET_SCH_NETEM"
	diff <(echo "$before") <(echo "$(kstate "$XNS")")
}

@test "backend auto on a kernel without sch_netem takes the NFQUEUE delay line" {
	need_no_netem
	base=$(med_rtt 10)
	run -0 "$FALLACY" fault add "$LAB" delay 30ms backend auto --to n2
	run -0 ip netns exec "$W" iptables -t raw -S PREROUTING
	assert_output --partial "-j NFQUEUE"
	run ip netns exec "$W" tc qdisc show
	refute_output --partial "netem"
	m=$(med_rtt 30)
	add=$(awk -v m="$m" -v b="$base" 'BEGIN { print m - b }')
	echo "base=$base median=$m added=$add"
	within "$add" 29.5 31.5
}

@test "backend netem: htb class + netem leaf on p-n2, RTT +50ms, gone after fault clear" {
	need_netem
	base=$(med_rtt 10)
	run -0 "$FALLACY" fault add "$LAB" delay 50ms backend netem --to n2
	run -0 ip netns exec "$W" tc qdisc show dev p-n2
	assert_output --partial "qdisc htb fa11: root"
	assert_output --regexp "qdisc netem [0-9a-f]+: parent fa11:[0-9a-f]+ .*delay 50ms"
	run -0 ip netns exec "$W" iptables -t raw -S PREROUTING
	refute_output --partial "NFQUEUE"
	m=$(med_rtt 50)
	add=$(awk -v m="$m" -v b="$base" 'BEGIN { print m - b }')
	echo "base=$base median=$m added=$add"
	within "$add" 49 52
	run -0 "$FALLACY" fault clear "$LAB"
	run -0 ip netns exec "$W" tc qdisc show dev p-n2
	refute_output --partial "netem"
}

@test "backend netem: jitter, correlation and a normal table reach the qdisc; jitter needs allow-reorder" {
	need_netem
	run -2 "$FALLACY" fault add "$LAB" delay 20ms jitter 5ms backend netem --to n2
	assert_output --partial "allow-reorder"
	run -0 "$FALLACY" fault add "$LAB" delay 20ms jitter 5ms correlation 25% distribution normal allow-reorder reorder 10% backend netem --to n2
	run -0 ip netns exec "$W" tc qdisc show dev p-n2
	assert_output --partial "delay 20ms  5ms 25%"
	assert_output --partial "reorder 10%"
}
