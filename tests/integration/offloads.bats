#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Offloads follow the faults (docs/faults.md, "Offloads"): TSO/GSO/TX
# checksum go off only on the lab nodes whose sent packets a per-packet
# fault (loss, duplicate, corrupt, reorder, tamper, replay, jitter) can
# match, and come back when the last such fault goes; partitions, rate
# caps and a fixed delay leave them on and count super-packets as their
# wire segments. Seen with ethtool -k inside each node, tcpdump on the
# wire port and nstat. One 3-node lab for the file.

bats_require_minimum_version 1.5.0
load test_helper/common

setup_file() {
	fl_file_lab of --nodes 3
}

teardown_file() {
	fl_file_lab_down
}

setup() {
	fl_require_root
	command -v ethtool >/dev/null || skip "needs ethtool (make deps)"
	IP2=$(awk '$1 == "node" && $2 == "n2" { print $3 }' "$FALLACY_RUN_DIR/$LAB/lab")
	bg=()
	own=()
}

teardown() {
	for p in "${bg[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${bg[@]}"; do wait "$p" 2>/dev/null || true; done
	"$FALLACY" fault clear "$LAB" >/dev/null 2>&1 || true
	for l in "${own[@]}"; do "$FALLACY" lab down "$l" >/dev/null 2>&1 || true; done
}

# "on" or "off": generic segmentation offload of a node's eth0 (ethtool -k)
gso() { # LAB NODE
	ip netns exec "fl-$1.$2" ethtool -k eth0 |
		awk '$1 == "generic-segmentation-offload:" { print $2 }'
}

# "GSO TSO(tx-tcp-segmentation) TXCSUM" of a node's eth0
offloads() { # LAB NODE
	ip netns exec "fl-$1.$2" ethtool -k eth0 | awk '
		$1 == "generic-segmentation-offload:" { g = $2 }
		$1 == "tx-tcp-segmentation:" { t = $2 }
		$1 == "tx-checksumming:" { c = $2 }
		END { print g, t, c }'
}

# the three nodes' GSO state, "n1 n2 n3"
states() { # LAB
	echo "$(gso "$1" n1) $(gso "$1" n2) $(gso "$1" n3)"
}

expect_states() { # LAB WANT
	local got
	got=$(states "$1")
	echo "offloads (GSO) of n1 n2 n3: $got, expected $2"
	[ "$got" = "$2" ] || fail "GSO of n1 n2 n3 is '$got', expected '$2'"
}

@test "a lab starts with offloads on, and rules that need no wire packets keep them on" {
	expect_states "$LAB" "on on on"
	before=$(offloads "$LAB" n1)
	run -0 "$FALLACY" fault add "$LAB" partition --from n1 --to n3
	run -0 "$FALLACY" fault add "$LAB" rate 100mbit --from n2 --to n3
	run -0 "$FALLACY" fault add "$LAB" delay 5ms --from n1 --to n2
	run -0 "$FALLACY" fault add "$LAB" reset 100% --from n3 --proto tcp --port 9
	expect_states "$LAB" "on on on"
	[ "$(offloads "$LAB" n1)" = "$before" ]
}

@test "a per-packet fault turns offloads off only on the nodes that send what it matches" {
	before=$(offloads "$LAB" n1)
	echo "n1 before: $before"
	run -0 "$FALLACY" fault add "$LAB" loss 1% --from n1 --to n2 --id l1
	expect_states "$LAB" "off on on"
	[ "$(offloads "$LAB" n1)" = "off off off" ]
	run -0 "$FALLACY" fault add "$LAB" duplicate 1% --from n3 --id d3
	expect_states "$LAB" "off on off"
	# a second per-packet fault on n1: n1 stays off until both are gone
	run -0 "$FALLACY" fault add "$LAB" corrupt 1% --from n1 --to n3 --id c1
	run -0 "$FALLACY" fault del "$LAB" l1
	expect_states "$LAB" "off on off"
	run -0 "$FALLACY" fault del "$LAB" c1
	expect_states "$LAB" "on on off"
	[ "$(offloads "$LAB" n1)" = "$before" ]
	run -0 "$FALLACY" fault del "$LAB" d3
	expect_states "$LAB" "on on on"
}

@test "a fault without --from, or with --bidir, turns off the nodes it can match" {
	run -0 "$FALLACY" fault add "$LAB" loss 1% --to n2 --id all
	expect_states "$LAB" "off off off"
	run -0 "$FALLACY" fault del "$LAB" all
	expect_states "$LAB" "on on on"
	run -0 "$FALLACY" fault add "$LAB" loss 1% --from n1 --to n2 --bidir --id bi
	expect_states "$LAB" "off off on"
	run -0 "$FALLACY" fault clear "$LAB"
	expect_states "$LAB" "on on on"
}

@test "fault change between a fixed delay and a jittered one turns offloads off and on" {
	run -0 "$FALLACY" fault add "$LAB" delay 5ms --from n2 --to n1 --id dj
	expect_states "$LAB" "on on on"
	run -0 "$FALLACY" fault change "$LAB" dj delay 5ms jitter 1ms
	expect_states "$LAB" "on off on"
	run -0 "$FALLACY" fault change "$LAB" dj delay 5ms
	expect_states "$LAB" "on on on"
}

@test "--duration: offloads come back when the fault heals by itself" {
	run -0 "$FALLACY" fault add "$LAB" loss 1% --from n3 --duration 1s --id short
	expect_states "$LAB" "on on off"
	fl_wait_until 30 bash -c "[ \"\$(ip netns exec fl-$LAB.n3 ethtool -k eth0 |
		awk '\$1 == \"generic-segmentation-offload:\" { print \$2 }')\" = on ]"
	expect_states "$LAB" "on on on"
}

# a node's absolute kernel counter (nstat reads the namespace's own MIB)
nstat_of() { # NETNS COUNTER
	ip netns exec "$1" nstat -az "$2" | awk -v c="$2" '$1 == c { print $2 }'
}

@test "TCP through a fixed delay: super-packets on the wire, counted as their segments, delayed" {
	N1=fl-$LAB.n1 N2=fl-$LAB.n2
	id=$("$FALLACY" fault add "$LAB" delay 20ms --from n1 --to n2 --proto tcp)
	expect_states "$LAB" "on on on"
	ip netns exec "fl-$LAB" tcpdump -i p-n1 -Q in -n -s 100 -B 16384 -U \
		-w "$BATS_TEST_TMPDIR/w.pcap" tcp 2>"$BATS_TEST_TMPDIR/w.err" &
	bg+=($!)
	fl_wait_until 20 grep -q "listening on" "$BATS_TEST_TMPDIR/w.err"
	ip netns exec "$N2" socat -u TCP-LISTEN:7301,reuseaddr OPEN:/dev/null &
	bg+=($!)
	fl_wait_until 20 fl_listening "$N2" t 7301
	out0=$(($(nstat_of "$N1" TcpOutSegs) + $(nstat_of "$N1" TcpRetransSegs)))
	start=$(date +%s%N)
	head -c 20000000 /dev/zero | timeout 120 ip netns exec "$N1" socat -u - "TCP:$IP2:7301"
	end=$(date +%s%N)
	# n1's last ACK (for n2's FIN) may leave after socat: wait for it
	fl_wait_until 30 bash -c "[ -z \"\$(ip netns exec $N1 ss -Htn state established state fin-wait-1 \
		state fin-wait-2 state closing 'dport = :7301')\" ]"
	out1=$(($(nstat_of "$N1" TcpOutSegs) + $(nstat_of "$N1" TcpRetransSegs)))
	kill -INT "${bg[0]}"
	wait "${bg[0]}" || true
	run -0 "$FALLACY" fault list "$LAB" -j
	pk=$(jq ".[] | select(.id == \"$id\") | .counters.packets" <<<"$output")
	dl=$(jq ".[] | select(.id == \"$id\") | .counters.delayed" <<<"$output")
	# a super-packet: a frame above the MTU's 1514 bytes (TCP may send
	# just two segments, 2962 bytes, per super-packet on a loaded machine)
	big=$(tcpdump -r "$BATS_TEST_TMPDIR/w.pcap" -n 'greater 1515' 2>/dev/null | wc -l)
	echo "rule: packets $pk delayed $dl; n1 sent $((out1 - out0)) segments;" \
		"frames > 1514 bytes on the wire port: $big; transfer $(((end - start) / 1000000)) ms"
	[ "$big" -gt 0 ] || fail "no super-packet reached the wire port: offloads were off"
	# every segment n1 sent (its handshake and FIN included) was matched
	# and delayed, super-packets counted as their segments
	[ "$pk" -eq "$((out1 - out0))" ]
	[ "$dl" -eq "$pk" ]
	# the delay was there: the connection takes at least one delayed RTT
	[ "$((end - start))" -ge 20000000 ]
	# and ping sees it (ICMP does not match: the rule is TCP only), a
	# second rule on ICMP adds it
	run -0 "$FALLACY" fault add "$LAB" delay 20ms --from n1 --to n2 --proto icmp
	run -0 ip netns exec "$N1" ping -c 3 -i 0.2 "$IP2"
	rtt=$(awk -F/ '/^rtt/ { print int($5) }' <<<"$output")
	[ "$rtt" -ge 20 ] || fail "ping avg RTT $rtt ms with a 20 ms one-way delay"
}

@test "kill -9 of the supervisor with offloads off: its successor turns them back on; cleanup removes all" {
	lab=$(fl_lab_name ok)
	own+=("$lab")
	run -0 "$FALLACY" lab up "$lab" --nodes 2
	before=$(offloads "$lab" n1)
	run -0 "$FALLACY" fault add "$lab" loss 5% --from n1
	[ "$(gso "$lab" n1)" = off ]
	grep -q . "$FALLACY_RUN_DIR/$lab/offloads"
	sup=$(awk '$1 == "pid" { p = $2 } END { print p }' "$FALLACY_RUN_DIR/$lab/journal")
	kill -9 "$sup"
	# the next request starts a successor, which has no faults
	run -0 "$FALLACY" fault clear "$lab"
	[ "$(offloads "$lab" n1)" = "$before" ]
	[ ! -s "$FALLACY_RUN_DIR/$lab/offloads" ]
	# and a kill -9 with offloads off leaves nothing cleanup cannot remove
	run -0 "$FALLACY" fault add "$lab" loss 5% --from n2
	sup=$(awk '$1 == "pid" { p = $2 } END { print p }' "$FALLACY_RUN_DIR/$lab/journal")
	kill -9 "$sup"
	run -0 "$FALLACY" cleanup "$lab"
	fl_assert_lab_gone "$lab"
}
