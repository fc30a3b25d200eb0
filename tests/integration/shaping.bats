#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Rate caps: htb classes chosen by the BPF data plane on a lab's wire
# ports, ifb for a namespace's ingress, accuracy, heal and cleanup.

bats_require_minimum_version 1.5.0
load test_helper/common
load test_helper/delay

setup() {
	fl_require_root
	LAB=$(fl_lab_name r)
	run -0 "$FALLACY" lab up "$LAB" --nodes 3
	W=fl-$LAB N1=fl-$LAB.n1 N2=fl-$LAB.n2 N3=fl-$LAB.n3
	IP1=198.18.0.1 IP2=198.18.0.2 IP3=198.18.0.3
}

teardown() {
	fl_cleanup_all
	for n in "${XNS:-}" "${XB:-}"; do
		[ -n "$n" ] && ip netns del "$n" 2>/dev/null
	done
	true
}

mbps() {
	awk -v g="$1" 'BEGIN { printf "%.3f", g * 1000 }'
}

# rate_ok RATE_MBIT MEASURED_MBIT: the cap holds, at most 5% over it on
# the wire (measured after 1 s of slow start, -O 1: the cap, not TCP's
# ramp-up): a busy machine can only make a flow slower, never faster than
# its cap. That the cap is the one asked for is the kernel's class rate
# (shaper_rate); how close a flow gets to it is speed, measured by
# bench/shaping.sh (docs/performance.md, Shaping). iperf3 counts TCP
# payload: 1448 bytes of every 1514-byte frame (MTU 1500, TCP
# timestamps), so the wire carries measured * 1514 / 1448.
rate_ok() {
	awk -v r="$1" -v m="$2" 'BEGIN { w = m * 1514 / 1448; print "wire " w " Mbit/s";
		exit !(w > 0 && w <= r * 1.05) }'
}

# shaper_rate NS DEV RATE: an htb class or a tbf qdisc on DEV in NS has
# this rate ("10Mbit")
shaper_rate() {
	run -0 ip netns exec "$1" sh -c "tc class show dev $2; tc qdisc show dev $2"
	assert_output --regexp "(htb|tbf) .*rate $3 "
}

@test "rate 10mbit --to n2: a 10Mbit class, iperf3 n1->n2 at most 10 Mbit/s + 5%, n2->n1 is not capped" {
	run -0 "$FALLACY" fault add "$LAB" rate 10mbit --to n2
	shaper_rate "$W" p-n2 10Mbit
	m=$(mbps "$(iperf_gbps "$N1" "$N2" "$IP2" 4 -O 1)")
	echo "n1->n2 $m Mbit/s"
	rate_ok 10 "$m"
	back=$(mbps "$(iperf_gbps "$N2" "$N1" "$IP1" 2)")
	echo "n2->n1 $back Mbit/s"
	awk -v m="$back" 'BEGIN { exit !(m > 50) }'
	run -0 "$FALLACY" fault list "$LAB"
	assert_output --regexp "shaped [1-9]"
}

@test "rate 1mbit and 100mbit: each class has its rate and each cap holds (+5%)" {
	run -0 "$FALLACY" fault add "$LAB" rate 1mbit --to n2
	shaper_rate "$W" p-n2 1Mbit
	m=$(mbps "$(iperf_gbps "$N1" "$N2" "$IP2" 5 -O 1)")
	echo "1mbit: $m Mbit/s"
	rate_ok 1 "$m"
	run -0 "$FALLACY" fault clear "$LAB"
	run -0 "$FALLACY" fault add "$LAB" rate 100mbit --to n2
	shaper_rate "$W" p-n2 100Mbit
	m=$(mbps "$(iperf_gbps "$N1" "$N2" "$IP2" 4 -O 1)")
	echo "100mbit: $m Mbit/s"
	rate_ok 100 "$m"
}

@test "IPv6: rate 10mbit --to n2 caps TCP over IPv6 at 10 Mbit/s (+5%)" {
	L6=$(fl_lab_name r6)
	run -0 "$FALLACY" lab up "$L6" --nodes 2 --ipv6
	ip6=$(awk '$1 == "node" && $2 == "n2" { print $4 }' "$FALLACY_RUN_DIR/$L6/lab")
	run -0 "$FALLACY" fault add "$L6" rate 10mbit --to n2
	shaper_rate "fl-$L6" p-n2 10Mbit
	g=$(iperf_gbps "fl-$L6.n1" "fl-$L6.n2" "$ip6" 4 -O 1)
	# IPv6 + TCP timestamps: 1428 payload bytes per 1514-byte frame
	m=$(awk -v g="$g" 'BEGIN { printf "%.3f", g * 1000 * 1448 / 1428 }')
	echo "n1->n2 over IPv6: $g Gbit/s goodput"
	rate_ok 10 "$m"
	run -0 "$FALLACY" fault list "$L6"
	assert_output --regexp "shaped [1-9]"
}

@test "a pair cap --from n1 --to n3 leaves n2->n3 alone" {
	run -0 "$FALLACY" fault add "$LAB" rate 10mbit --from n1 --to n3
	shaper_rate "$W" p-n3 10Mbit
	m=$(mbps "$(iperf_gbps "$N1" "$N3" "$IP3" 3 -O 1)")
	other=$(mbps "$(iperf_gbps "$N2" "$N3" "$IP3" 2)")
	echo "n1->n3 $m, n2->n3 $other Mbit/s"
	rate_ok 10 "$m"
	awk -v m="$other" 'BEGIN { exit !(m > 50) }'
}

@test "fault clear removes the class: full speed again" {
	run -0 "$FALLACY" fault add "$LAB" rate 10mbit --to n2
	run -0 "$FALLACY" fault clear "$LAB"
	run -0 ip netns exec "$W" tc class show dev p-n2
	refute_output --partial "rate 10Mbit"
	m=$(mbps "$(iperf_gbps "$N1" "$N2" "$IP2" 2)")
	echo "after clear: $m Mbit/s"
	awk -v m="$m" 'BEGIN { exit !(m > 50) }'
}

attach_pair() {
	XNS=fl-rx$$ XB=fl-ry$$
	ip netns add "$XNS"
	ip netns add "$XB"
	ip -n "$XNS" link add eth0 type veth peer name eth0 netns "$XB"
	ip -n "$XNS" addr add 198.18.201.1/24 dev eth0
	ip -n "$XB" addr add 198.18.201.2/24 dev eth0
	for n in "$XNS" "$XB"; do
		ip -n "$n" link set lo up
		ip -n "$n" link set eth0 up
	done
}

@test "--netns ingress cap (ifb): XB->X capped at 10mbit, X->XB not; after kill -9 cleanup removes ifb, filters, qdiscs" {
	attach_pair
	run -0 "$FALLACY" fault add --netns "$XNS" rate 10mbit --dir in
	run -0 ip netns exec "$XNS" ip link show flb-eth0
	shaper_rate "$XNS" flb-eth0 10Mbit
	m=$(mbps "$(iperf_gbps "$XB" "$XNS" 198.18.201.1 4 -O 1)")
	back=$(mbps "$(iperf_gbps "$XNS" "$XB" 198.18.201.2 2)")
	echo "into X: $m Mbit/s, out of X: $back Mbit/s"
	rate_ok 10 "$m"
	awk -v m="$back" 'BEGIN { exit !(m > 50) }'
	kill -9 "$(awk '$1 == "pid" { print $2; exit }' "$FALLACY_RUN_DIR/@netns-$XNS/journal")"
	run -0 "$FALLACY" cleanup "@netns-$XNS"
	run ip netns exec "$XNS" ip link show flb-eth0
	[ "$status" -ne 0 ]
	run -0 ip netns exec "$XNS" tc qdisc show dev eth0
	refute_output --partial clsact
	refute_output --partial htb
	run -0 ip netns exec "$XB" ping -c 2 -i 0.2 -W 1 198.18.201.1
}

# The redirect to the ifb takes only what the data plane's rate rule
# marked: the rule's match holds, and its lease ends the cap.
@test "--netns ingress cap --proto udp: UDP into X capped at 10mbit, TCP into X not" {
	attach_pair
	run -0 "$FALLACY" fault add --netns "$XNS" rate 10mbit --dir in --proto udp
	tcp=$(mbps "$(iperf_gbps "$XB" "$XNS" 198.18.201.1 2)")
	udp=$(mbps "$(iperf_gbps "$XB" "$XNS" 198.18.201.1 3 -u -b 40M -l 1400)")
	echo "into X: TCP $tcp Mbit/s, UDP $udp Mbit/s (sent at 40)"
	awk -v m="$tcp" 'BEGIN { exit !(m > 50) }'
	# 1400-byte datagrams are 1442 bytes on the wire: the cap holds them
	# near 10 * 1400 / 1442 = 9.7 Mbit/s of payload
	awk -v m="$udp" 'BEGIN { exit !(m > 5 && m < 11) }'
}

@test "--netns ingress cap: after kill -9 of its supervisor the cap ends within the lease, no command run" {
	attach_pair
	run -0 "$FALLACY" fault add --netns "$XNS" rate 10mbit --dir in --lease 2s
	shaper_rate "$XNS" flb-eth0 10Mbit
	m=$(mbps "$(iperf_gbps "$XB" "$XNS" 198.18.201.1 3 -O 1)")
	echo "capped: $m Mbit/s"
	rate_ok 10 "$m"
	kill -9 "$(awk '$1 == "pid" { print $2; exit }' "$FALLACY_RUN_DIR/@netns-$XNS/journal")"
	sleep 3
	# the ifb and its tbf are still there (cleanup's job), the redirect idle
	run -0 ip netns exec "$XNS" ip link show flb-eth0
	m=$(mbps "$(iperf_gbps "$XB" "$XNS" 198.18.201.1 2)")
	echo "after the lease: $m Mbit/s"
	awk -v m="$m" 'BEGIN { exit !(m > 50) }'
	run -0 "$FALLACY" cleanup "@netns-$XNS"
	run ip netns exec "$XNS" ip link show flb-eth0
	[ "$status" -ne 0 ]
}

@test "--netns egress cap: X->XB capped at 10mbit" {
	attach_pair
	run -0 "$FALLACY" fault add --netns "$XNS" rate 10mbit --dir out
	shaper_rate "$XNS" eth0 10Mbit
	m=$(mbps "$(iperf_gbps "$XNS" "$XB" 198.18.201.2 4 -O 1)")
	echo "out of X: $m Mbit/s"
	rate_ok 10 "$m"
}

@test "rate input errors exit 2 and name the problem" {
	run -2 "$FALLACY" fault add "$LAB" rate 10xbit
	assert_output --partial "10xbit"
	run -2 "$FALLACY" fault add "$LAB" rate 10mbit burst
	assert_output --partial "burst needs a size"
}
