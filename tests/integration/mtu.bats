#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# mtu-blackhole on a lab: packets larger than M vanish without an error,
# the ICMP "fragmentation needed" / ICMPv6 "packet too big" that would tell
# the sender is dropped (its route never learns the MTU: ip route get,
# nstat), TCP with large writes stalls while small requests pass and
# completes after the heal; wire sizes (tcpdump); bad input.
# One lab (3 nodes, IPv6) for the whole file; every test clears its faults.

bats_require_minimum_version 1.5.0
load test_helper/common

setup_file() {
	fl_file_lab mtu --nodes 3 --ipv6
}

teardown_file() {
	fl_file_lab_down
}

setup() {
	fl_require_root
	N1=fl-$LAB.n1 N2=fl-$LAB.n2 N3=fl-$LAB.n3 W=fl-$LAB
	IP1=$(awk '$1 == "node" && $2 == "n1" { print $3 }' "$FALLACY_RUN_DIR/$LAB/lab")
	IP2=$(awk '$1 == "node" && $2 == "n2" { print $3 }' "$FALLACY_RUN_DIR/$LAB/lab")
	IP6_1=$(awk '$1 == "node" && $2 == "n1" { print $4 }' "$FALLACY_RUN_DIR/$LAB/lab")
	IP6_2=$(awk '$1 == "node" && $2 == "n2" { print $4 }' "$FALLACY_RUN_DIR/$LAB/lab")
	PTB=$BATS_TEST_DIRNAME/test_helper/ptb.py
	# every test starts with routes that know no path MTU
	ip -n "$N1" route flush cache
	ip -n "$N1" -6 route flush cache
}

teardown() {
	for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null || true; done
	bg_pids=()
	"$FALLACY" fault clear "$LAB" >/dev/null 2>&1 || true
	for ns in $ns_made; do
		"$FALLACY" fault clear --netns "$ns" >/dev/null 2>&1 || true
		ip netns del "$ns" 2>/dev/null || true
	done
	ns_made=
}

bg_pids=()
ns_made=
start_bg() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@" >/dev/null 2>&1 &
	bg_pids+=($!)
}

wait_port() {
	for _ in $(seq 50); do
		ip netns exec "$1" ss -Hlnt "sport = :$2" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

counter() {
	"$FALLACY" fault list "$LAB" -j | jq -r --arg id "$1" ".[] | select(.id == \$id) | .counters.$2"
}

# one nstat counter of a node (absolute, -a; -z: zeros too)
nstat_of() {
	ip netns exec "$1" nstat -az "$2" | awk -v k="$2" '$1 == k { print $2 }'
}

@test "mtu-blackhole 1400 n1->n2: ping -M do -s 1400 gets no reply and no error, -s 1300 passes" {
	id=$("$FALLACY" fault add "$LAB" mtu-blackhole 1400 --from n1 --to n2)
	# 1400 bytes of data + 8 ICMP + 20 IP = 1428 > 1400
	run ip netns exec "$N1" ping -c 5 -i 0.2 -W 1 -M do -s 1400 "$IP2"
	echo "$output"
	[ "$status" -eq 1 ]
	assert_output --partial "5 packets transmitted, 0 received"
	refute_output --partial "errors"
	refute_output --regexp "[Ff]rag needed|too long|mtu"
	run -0 ip netns exec "$N1" ping -c 5 -i 0.2 -W 1 -M do -s 1300 "$IP2"
	assert_output --partial "5 packets transmitted, 5 received"
	# the other way the requests pass, but n1's 1428-byte replies are on the black hole's path
	run ip netns exec "$N2" ping -c 3 -i 0.2 -W 1 -M do -s 1400 "$IP1"
	assert_output --partial "3 packets transmitted, 0 received"
	# n3 is on neither path
	run -0 ip netns exec "$N3" ping -c 3 -i 0.2 -W 1 -M do -s 1400 "$IP2"
	n=$(counter "$id" dropped)
	echo "dropped $n"
	[ "$n" -eq 8 ]
	# after the heal the same ping passes
	"$FALLACY" fault del "$LAB" "$id"
	run -0 ip netns exec "$N1" ping -c 3 -i 0.2 -W 1 -M do -s 1400 "$IP2"
}

@test "IPv6: ping -6 -M do -s 1400 is lost, -s 1200 passes" {
	"$FALLACY" fault add "$LAB" mtu-blackhole 1400 --from n1 --to n2 >/dev/null
	run ip netns exec "$N1" ping -6 -c 3 -i 0.2 -W 1 -M do -s 1400 "$IP6_2"
	echo "$output"
	assert_output --partial "3 packets transmitted, 0 received"
	refute_output --partial "errors"
	run -0 ip netns exec "$N1" ping -6 -c 3 -i 0.2 -W 1 -M do -s 1200 "$IP6_2"
}

# A router in front of a smaller link would answer n1's big packets with a
# "packet too big"; n2 sends exactly that (test_helper/ptb.py, quoting an
# echo reply n1 -> n2, for which Linux updates the route without a socket).
@test "the ICMP fragmentation-needed about the path is dropped: n1 never learns the MTU (ip route get, nstat)" {
	"$FALLACY" fault add "$LAB" mtu-blackhole 1400 --from n1 --to n2 --id bh >/dev/null
	before=$(nstat_of "$N1" IcmpInDestUnreachs)
	run -0 ip netns exec "$N2" python3 "$PTB" "$IP1" "$IP1" "$IP2" 1300
	sleep 0.5
	after=$(nstat_of "$N1" IcmpInDestUnreachs)
	run -0 ip -n "$N1" route get "$IP2"
	echo "with the fault: $output; IcmpInDestUnreachs $before -> $after"
	refute_output --partial "mtu"
	[ "$after" -eq "$before" ]
	[ "$(counter bh dropped)" -eq 1 ]
	# control: without the fault the same message arrives and is learned
	"$FALLACY" fault del "$LAB" bh
	run -0 ip netns exec "$N2" python3 "$PTB" "$IP1" "$IP1" "$IP2" 1300
	sleep 0.5
	run -0 ip -n "$N1" route get "$IP2"
	echo "without: $output; IcmpInDestUnreachs $(nstat_of "$N1" IcmpInDestUnreachs)"
	assert_output --partial "mtu 1300"
	[ "$(nstat_of "$N1" IcmpInDestUnreachs)" -eq $((after + 1)) ]
}

@test "the ICMPv6 packet-too-big about the path is dropped: n1 never learns the MTU" {
	"$FALLACY" fault add "$LAB" mtu-blackhole 1400 --from n1 --to n2 --id bh6 >/dev/null
	before=$(nstat_of "$N1" Icmp6InPktTooBigs)
	run -0 ip netns exec "$N2" python3 "$PTB" "$IP6_1" "$IP6_1" "$IP6_2" 1280
	sleep 0.5
	run -0 ip -n "$N1" -6 route get "$IP6_2"
	echo "with the fault: $output"
	refute_output --partial "mtu"
	[ "$(nstat_of "$N1" Icmp6InPktTooBigs)" -eq "$before" ]
	"$FALLACY" fault del "$LAB" bh6
	run -0 ip netns exec "$N2" python3 "$PTB" "$IP6_1" "$IP6_1" "$IP6_2" 1280
	sleep 0.5
	run -0 ip -n "$N1" -6 route get "$IP6_2"
	echo "without: $output"
	assert_output --partial "mtu 1280"
	[ "$(nstat_of "$N1" Icmp6InPktTooBigs)" -eq $((before + 1)) ]
}

@test "a packet-too-big about another path (n3 -> n2) still arrives" {
	"$FALLACY" fault add "$LAB" mtu-blackhole 1400 --from n1 --to n2 >/dev/null
	IP3=$(awk '$1 == "node" && $2 == "n3" { print $3 }' "$FALLACY_RUN_DIR/$LAB/lab")
	ip -n "$N3" route flush cache
	run -0 ip netns exec "$N2" python3 "$PTB" "$IP3" "$IP3" "$IP2" 1300
	sleep 0.5
	run -0 ip -n "$N3" route get "$IP2"
	echo "$output"
	assert_output --partial "mtu 1300"
	ip -n "$N3" route flush cache
}

@test "TCP: 1 MB n1->n2 stalls while 100-byte requests pass; after the heal it completes" {
	rx=$BATS_TEST_TMPDIR/rx.bin
	head -c 1000000 /dev/urandom >"$BATS_TEST_TMPDIR/tx.bin"
	start_bg "$N2" socat -u TCP-LISTEN:5001,reuseaddr CREATE:"$rx"
	start_bg "$N2" socat TCP-LISTEN:5002,reuseaddr,fork EXEC:cat
	wait_port "$N2" 5001
	wait_port "$N2" 5002
	id=$("$FALLACY" fault add "$LAB" mtu-blackhole 1400 --from n1 --to n2)
	ip netns exec "$N1" socat -u OPEN:"$BATS_TEST_TMPDIR/tx.bin" TCP:"$IP2":5001 &
	bg_pids+=($!)
	sleep 3
	got=$(stat -c %s "$rx" 2>/dev/null || echo 0)
	echo "after 3 s with the black hole: $got of 1000000 bytes"
	[ "$got" -lt 100000 ]
	# small requests and their answers fit
	for i in 1 2 3; do
		run -0 timeout 10 ip netns exec "$N1" socat -t 5 -T 5 - TCP:"$IP2":5002 \
			<<<"$(head -c 99 /dev/zero | tr '\0' x)"
		[ "${#output}" -eq 99 ]
	done
	"$FALLACY" fault del "$LAB" "$id"
	healed=$(date +%s.%N)
	for _ in $(seq 600); do
		[ "$(stat -c %s "$rx")" -eq 1000000 ] && break
		sleep 0.1
	done
	echo "complete $(echo "$(date +%s.%N) - $healed" | bc) s after the heal"
	[ "$(stat -c %s "$rx")" -eq 1000000 ]
	cmp "$rx" "$BATS_TEST_TMPDIR/tx.bin"
}

# n1 -> n2:PORT TCP on the wire port while 2 MB go: sets FRAMES (frames
# captured, up to 300) and MAX (the largest, bytes)
wire_sizes() { # PORT
	local cap=$BATS_TEST_TMPDIR/wire$1.txt tpid
	start_bg "$N2" socat -u TCP-LISTEN:$1,reuseaddr OPEN:/dev/null
	wait_port "$N2" "$1"
	ip netns exec "$W" timeout 20 tcpdump -i "p-n1" -nn -e -c 300 "tcp dst port $1" >"$cap" 2>/dev/null &
	tpid=$!
	sleep 1
	head -c 2000000 /dev/zero | ip netns exec "$N1" socat -u - TCP:"$IP2":"$1"
	wait "$tpid" || true
	FRAMES=$(wc -l <"$cap")
	MAX=$(awk '{ for (i = 1; i <= NF; i++) if ($i == "length") { l = $(i + 1); sub(":", "", l); if (l + 0 > m) m = l + 0 } } END { print m + 0 }' "$cap")
}

@test "mtu-blackhole keeps the sender's offloads (super-packets, judged by segments); a per-packet fault on the sender makes its TCP wire-sized" {
	"$FALLACY" fault add "$LAB" mtu-blackhole 9000 --from n1 --to n2 >/dev/null
	wire_sizes 5003
	echo "mtu-blackhole 9000: $FRAMES frames, largest $MAX bytes"
	[ "$FRAMES" -ge 100 ]
	[ "$MAX" -gt 1514 ] || fail "no super-packet: mtu-blackhole turned n1's offloads off"
	# a loss rule from n1 to n3 matches none of these packets, but it
	# decides per wire packet on what n1 sends: n1's offloads go off
	"$FALLACY" fault add "$LAB" loss 1% --from n1 --to n3 >/dev/null
	wire_sizes 5005
	echo "with loss --from n1: $FRAMES frames, largest $MAX bytes"
	[ "$FRAMES" -ge 100 ]
	[ "$MAX" -le 1514 ]
}

# A --netns target keeps its offloads: TCP leaves in GSO super-packets of
# several segments, which the black hole judges by their segments' size.
@test "GSO super-packets (a --netns target with offloads on) are judged by their segments: 3000 passes 1500-byte segments, 1400 stalls them" {
	A=mtu-gso-a$$ B=mtu-gso-b$$
	ip netns add "$A"
	ip netns add "$B"
	ns_made="$A $B"
	ip link add va netns "$A" type veth peer name vb netns "$B"
	ip -n "$A" addr add 198.18.254.1/24 dev va
	ip -n "$B" addr add 198.18.254.2/24 dev vb
	ip -n "$A" link set va up
	ip -n "$B" link set vb up
	head -c 1000000 /dev/urandom >"$BATS_TEST_TMPDIR/tx.bin"
	start_bg "$B" socat -u TCP-LISTEN:5004,reuseaddr,fork OPEN:/dev/null
	wait_port "$B" 5004
	"$FALLACY" fault add --netns "$A" mtu-blackhole 3000 --id mid >/dev/null
	cap=$BATS_TEST_TMPDIR/gso.txt
	ip netns exec "$A" timeout 20 tcpdump -i va -nn -c 200 'tcp dst port 5004' >"$cap" 2>/dev/null &
	tpid=$!
	sleep 1
	run -0 timeout 30 ip netns exec "$A" socat -u OPEN:"$BATS_TEST_TMPDIR/tx.bin" TCP:198.18.254.2:5004
	wait "$tpid" || true
	big=$(awk '{ for (i = 1; i <= NF; i++) if ($i == "length") { l = $(i + 1); sub(":", "", l); if (l + 0 > m) m = l + 0 } } END { print m + 0 }' "$cap")
	run -0 "$FALLACY" fault list --netns "$A" -j
	echo "largest payload in one packet the program saw: $big bytes; counters $(jq -c '.[0].counters' <<<"$output")"
	# super-packets far above 3000 bytes went through, none dropped
	[ "$big" -gt 3000 ]
	[ "$(jq '.[0].counters.dropped' <<<"$output")" -eq 0 ]
	"$FALLACY" fault del --netns "$A" mid
	"$FALLACY" fault add --netns "$A" mtu-blackhole 1400 --id small >/dev/null
	run timeout 5 ip netns exec "$A" socat -u OPEN:"$BATS_TEST_TMPDIR/tx.bin" TCP:198.18.254.2:5004
	[ "$status" -eq 124 ]
	"$FALLACY" fault clear --netns "$A"
}

@test "mtu-blackhole refuses sizes outside 68..65535 and a missing size: exit 2, nothing added" {
	run -2 "$FALLACY" fault add "$LAB" mtu-blackhole 67
	assert_output --partial "out of range"
	run -2 "$FALLACY" fault add "$LAB" mtu-blackhole 65536
	run -2 "$FALLACY" fault add "$LAB" mtu-blackhole --to n2
	assert_output --partial "missing mtu"
	run -2 "$FALLACY" fault add "$LAB" mtu-blackhole 1400 --to n9
	run -0 "$FALLACY" fault list "$LAB" -j
	assert_output "[]"
}
