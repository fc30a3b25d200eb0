#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Transport accounting and `fallacy stats`: pair counters against tcpdump on
# the wire port, GSO super-packets counted as wire packets, retransmissions
# against nstat inside the node, marks, live rates, bad input, and what a
# kill -9 leaves. One 3-node lab for the file; tests that need a fresh lab
# (offloads on, accounting off, kill -9) make their own.

bats_require_minimum_version 1.5.0
load test_helper/common

setup_file() {
	fl_file_lab st --nodes 3
}

teardown_file() {
	fl_file_lab_down
}

setup() {
	fl_require_root
	N1=fl-$LAB.n1 N2=fl-$LAB.n2
	IP1=$(awk '$1 == "node" && $2 == "n1" { print $3 }' "$FALLACY_RUN_DIR/$LAB/lab")
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

# tcpdump on the wire-side port of NODE in lab L, frames the node sends
# (before tc ingress: what the data plane counts); waits until it listens.
wire_dump() { # L NODE FILE
	ip netns exec "fl-$1" tcpdump -i "p-$2" -Q in -n -s 200 -B 16384 -U \
		-w "$3" 2>"$3.err" &
	bg+=($!)
	for _ in $(seq 100); do
		grep -q "listening on" "$3.err" && return 0
		sleep 0.05
	done
	fail "tcpdump did not start: $(cat "$3.err")"
}

stop_dump() { # FILE: stop the newest tcpdump, flushed
	kill -INT "${bg[-1]}"
	wait "${bg[-1]}" || true
	unset 'bg[-1]'
}

# "PACKETS BYTES" of n1 -> n2 over IPv4 for PROTO from `stats --since-mark -j`
fl_pair() { # JSON PROTO
	jq -r --arg p "$2" '[.pairs[] | select(.src == "n1" and .dst == "n2" and .family == 4
		and .proto == $p)] | "\(map(.packets) | add // 0) \(map(.bytes) | add // 0)"' <<<"$1"
}

# "FRAMES BYTES" in a pcap for a display filter
dump_pair() { # FILE FILTER
	tshark -r "$1" -Y "$2" -T fields -e frame.len 2>/dev/null |
		awk '{ n++; b += $1 } END { printf "%d %d\n", n, b }'
}

# a node's absolute kernel counter (nstat reads the namespace's own MIB)
nstat_of() { # NETNS COUNTER
	ip netns exec "$1" nstat -az "$2" | awk -v c="$2" '$1 == c { print $2 }'
}

# TCP bytes n1 -> n2:PORT (socat sink on n2), the connection closed
tcp_send() { # BYTES PORT
	ip netns exec "$N2" socat -u "TCP-LISTEN:$2,reuseaddr" OPEN:/dev/null &
	bg+=($!)
	for _ in $(seq 50); do
		ip netns exec "$N2" ss -Hlnt "sport = :$2" | grep -q . && break
		sleep 0.1
	done
	head -c "$1" /dev/zero | timeout 60 ip netns exec "$N1" socat -u - "TCP:$IP2:$2"
	wait "${bg[-1]}" || true
	unset 'bg[-1]'
}

@test "pair counters equal tcpdump on the wire port: ICMP, UDP, TCP packets and Ethernet bytes" {
	# a per-packet fault on n1's packets that matches none of them: n1's
	# offloads off while it lives, one wire packet per skb
	run -0 "$FALLACY" fault add "$LAB" loss 1% --from n1 --proto udp --dport 9 --id off
	wire_dump "$LAB" n1 "$BATS_TEST_TMPDIR/w.pcap"
	run -0 "$FALLACY" stats "$LAB" --mark t1
	ip netns exec "$N1" ping -q -c 30 -i 0.01 -s 300 "$IP2" >/dev/null
	ip netns exec "$N1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(200):
    s.sendto(b"x" * (17 * i % 1400), (sys.argv[1], 7099))' "$IP2"
	tcp_send 3000000 7101
	sleep 1
	run -0 "$FALLACY" stats "$LAB" --since-mark t1 --pairs -j
	js=$output
	stop_dump
	for p in icmp udp tcp; do
		want=$(dump_pair "$BATS_TEST_TMPDIR/w.pcap" "ip.src == $IP1 && ip.dst == $IP2 && $p")
		got=$(fl_pair "$js" "$p")
		echo "$p: fallacy $got, tcpdump $want"
		[ "$got" = "$want" ] || fail "$p: fallacy counted '$got' (packets bytes), the wire '$want'"
	done
	read -r tp _ < <(fl_pair "$js" tcp)
	[ "$tp" -gt 2000 ] # 3 MB in wire-sized packets
	read -r up _ < <(fl_pair "$js" udp)
	[ "$up" -eq 200 ]
}

@test "a GSO super-packet counts as its wire segments (offloads on before the first fault)" {
	lab=$(fl_lab_name gs)
	own+=("$lab")
	run -0 "$FALLACY" lab up "$lab" --nodes 2
	N1=fl-$lab.n1 N2=fl-$lab.n2
	IP2=$(awk '$1 == "node" && $2 == "n2" { print $3 }' "$FALLACY_RUN_DIR/$lab/lab")
	IP1=$(awk '$1 == "node" && $2 == "n1" { print $3 }' "$FALLACY_RUN_DIR/$lab/lab")
	wire_dump "$lab" n1 "$BATS_TEST_TMPDIR/g.pcap"
	out0=$(($(nstat_of "$N1" TcpOutSegs) + $(nstat_of "$N1" TcpRetransSegs)))
	run -0 "$FALLACY" stats "$lab" --mark g
	tcp_send 20000000 7102
	sleep 1
	run -0 "$FALLACY" stats "$lab" --since-mark g --pairs -j
	js=$output
	out1=$(($(nstat_of "$N1" TcpOutSegs) + $(nstat_of "$N1" TcpRetransSegs)))
	stop_dump
	read -r pk by < <(fl_pair "$js" tcp)
	# the wire port saw super-packets: fewer frames than segments
	read -r frames _ < <(dump_pair "$BATS_TEST_TMPDIR/g.pcap" "ip.src == $IP1 && tcp")
	# each frame's segments at MSS 1448 (MTU 1500, 40 header bytes, 12 of
	# TCP timestamps), each segment with its own copy of the headers
	read -r wpk wby < <(tshark -r "$BATS_TEST_TMPDIR/g.pcap" -Y "ip.src == $IP1 && tcp" \
		-T fields -e frame.len -e tcp.len 2>/dev/null |
		awk '{ s = $2 > 0 ? int(($2 + 1447) / 1448) : 1; n += s; b += $1 + (s - 1) * ($1 - $2) }
		     END { printf "%d %d\n", n, b }')
	# (a tail loss probe may resend a segment: TcpRetransSegs, not OutSegs)
	echo "fallacy $pk packets $by bytes; wire $frames frames = $wpk segments $wby bytes;" \
		"TcpOutSegs + TcpRetransSegs of n1 +$((out1 - out0))"
	[ "$frames" -lt "$pk" ] || fail "no super-packets seen: offloads were off"
	[ "$pk" -eq "$((out1 - out0))" ]
	[ "$pk" -eq "$wpk" ]
	[ "$by" -eq "$wby" ]
}

@test "loss 5% --proto tcp: retransmissions equal nstat's TcpRetransSegs in the node; none without loss" {
	for loss in 0 5; do
		[ "$loss" = 0 ] || run -0 "$FALLACY" fault add "$LAB" loss 5% --proto tcp \
			--from n1 --to n2 --seed 5 --id lossy
		r0=$(nstat_of "$N1" TcpRetransSegs)
		o0=$(nstat_of "$N1" TcpOutSegs)
		t0=$(($(nstat_of "$N1" TcpExtTCPLossProbes) + $(nstat_of "$N1" TcpExtTCPTimeouts)))
		run -0 "$FALLACY" stats "$LAB" --mark r
		tcp_send 1000000 7103
		# the transfer is over; read both sides back to back until they
		# agree with themselves (no segment in flight between the reads)
		for _ in $(seq 20); do
			sleep 0.5
			a=$(nstat_of "$N1" TcpRetransSegs)
			run -0 "$FALLACY" stats "$LAB" --since-mark r --pairs -j
			js=$output
			b=$(nstat_of "$N1" TcpRetransSegs)
			[ "$a" = "$b" ] && break
		done
		o1=$(nstat_of "$N1" TcpOutSegs)
		t1=$(($(nstat_of "$N1" TcpExtTCPLossProbes) + $(nstat_of "$N1" TcpExtTCPTimeouts)))
		fl=$(jq '.nodes[] | select(.node == "n1") | .tcp.retrans_segs' <<<"$js")
		read -r pk _ < <(fl_pair "$js" tcp)
		echo "loss $loss%: fallacy retrans $fl, nstat TcpRetransSegs +$((b - r0))," \
			"TcpOutSegs +$((o1 - o0)), wire packets $pk, probes/RTOs +$((t1 - t0))"
		[ "$fl" -eq "$((b - r0))" ]
		# every segment n1 sent crossed its port once: new ones plus
		# retransmissions (OutSegs does not count retransmissions)
		[ "$pk" -eq "$((o1 - o0 + b - r0))" ]
		if [ "$loss" = 0 ]; then
			# none, unless the kernel's own timers fired on a stalled VM
			[ "$fl" -eq 0 ] || [ "$fl" -le "$((t1 - t0))" ] ||
				fail "$fl retransmissions without loss"
		else
			# 1 MB is ~700 segments; 5% lost: far more than 5
			[ "$fl" -gt 5 ]
		fi
	done
}

@test "stats prints the same counters as a table and as JSON; --pairs adds the pair table" {
	ip netns exec "$N1" ping -q -c 5 -i 0.01 "$IP2" >/dev/null
	run -0 "$FALLACY" stats "$LAB"
	assert_line --regexp '^lab st[0-9a-f]+: since the lab came up \([0-9.]+s\)$'
	assert_line --regexp '^NODE +SENT PKTS +SENT BYTES +RECV PKTS'
	refute_output --partial "PAYLOAD"
	sent=$(awk '$1 == "n1" { print $2 }' <<<"$output")
	run -0 "$FALLACY" stats "$LAB" -j
	js=$output
	[ "$(jq -r '.since' <<<"$js")" = lab-up ]
	[ "$(jq -r '.accounting' <<<"$js")" = true ]
	[ "$(jq '.nodes | length' <<<"$js")" -eq 3 ]
	[ "$(jq 'has("pairs")' <<<"$js")" = false ]
	jsent=$(jq '.nodes[] | select(.node == "n1") | .sent.packets' <<<"$js")
	[ "$jsent" -ge "$sent" ]
	[ "$sent" -ge 5 ]
	run -0 "$FALLACY" stats "$LAB" --pairs
	assert_line --regexp '^n1 +n2 +icmp +ipv4 +[0-9]+ +[0-9]+ +[0-9]+$'
	run -0 "$FALLACY" stats "$LAB" --pairs -j
	[ "$(jq '[.pairs[] | select(.proto == "icmp")] | length' <<<"$output")" -ge 2 ]
}

@test "a mark can be set again and read by name; since a mark counts only what came after" {
	run -0 "$FALLACY" stats "$LAB" --mark a
	assert_output ''
	ip netns exec "$N1" ping -q -c 10 -i 0.01 "$IP2" >/dev/null
	run -0 "$FALLACY" stats "$LAB" --since-mark a --pairs -j
	[ "$(jq -r '.since + " " + .mark' <<<"$output")" = "mark a" ]
	read -r pk by < <(fl_pair "$output" icmp)
	[ "$pk" -eq 10 ]
	[ "$by" -eq 980 ] # 10 x (14 Ethernet + 20 IP + 8 ICMP + 56)
	# reading since a mark and setting another in one call
	run -0 "$FALLACY" stats "$LAB" --since-mark a --mark b -j
	run -0 "$FALLACY" stats "$LAB" --since-mark b --pairs -j
	read -r pk _ < <(fl_pair "$output" icmp)
	[ "$pk" -eq 0 ]
	[ -e "$FALLACY_RUN_DIR/$LAB/mark-a" ]
}

@test "--watch prints rates every period, one JSON line each; a flood shows in the sender's rate" {
	ip netns exec "$N1" ping -q -f -w 3 "$IP2" >/dev/null &
	bg+=($!)
	run -0 timeout 20 "$FALLACY" stats "$LAB" --watch 300ms --count 4 -j
	[ "${#lines[@]}" -eq 4 ]
	for l in "${lines[@]}"; do
		jq -e '.seconds > 0.25 and (.nodes | length) == 3' <<<"$l" >/dev/null ||
			fail "bad line: $l"
	done
	max=$(printf '%s\n' "${lines[@]}" | jq -s '[.[].nodes[] | select(.node == "n1") | .sent_pps] | max')
	echo "n1 sent at most $max packets/s"
	awk -v m="$max" 'BEGIN { exit !(m > 100) }'
	run -0 timeout 20 "$FALLACY" stats "$LAB" --watch 200ms --count 2
	assert_line --regexp '^lab st[0-9a-f]+: rates over 0\.[0-9]+s$'
	assert_line --regexp '^NODE +SENT BIT/S'
}

@test "bad input exits 2 and says what is wrong" {
	run -2 "$FALLACY" stats "nolab$$"
	assert_output --partial "no lab 'nolab$$'"
	run -2 "$FALLACY" stats "$LAB" --since-mark nomark
	assert_output --partial "lab $LAB has no mark 'nomark' (set one with fallacy stats $LAB --mark nomark)"
	run -2 "$FALLACY" stats "$LAB" --mark 'Bad.Name'
	assert_output --partial "Bad.Name: invalid mark, 'B' not allowed"
	run -2 "$FALLACY" stats "$LAB" --watch 0
	assert_output --partial "must be > 0"
	run -2 "$FALLACY" stats "$LAB" --watch 1x
	run -2 "$FALLACY" stats "$LAB" --count 3
	assert_output --partial "--count goes with --watch"
	run -2 "$FALLACY" stats "$LAB" --watch 1s --mark m
	run -2 "$FALLACY" stats "$LAB" --bogus
	assert_output --partial "unexpected argument '--bogus'"
	run -2 "$FALLACY" stats
	assert_output --partial "usage: fallacy stats LAB"
}

@test "a killed supervisor: stats starts a new one, says so, and its pairs count from then on" {
	lab=$(fl_lab_name sk)
	own+=("$lab")
	run -0 "$FALLACY" lab up "$lab" --nodes 2
	ip2=$(awk '$1 == "node" && $2 == "n2" { print $3 }' "$FALLACY_RUN_DIR/$lab/lab")
	run -0 "$FALLACY" stats "$lab" --mark k
	sup=$(awk '$1 == "pid" { p = $2 } END { print p }' "$FALLACY_RUN_DIR/$lab/journal")
	kill -9 "$sup"
	run -0 ip netns exec "fl-$lab.n1" ping -c 3 -i 0.05 "$ip2"
	run -0 "$FALLACY" stats "$lab" --since-mark k --pairs -j
	assert_output --partial "supervisor was not running"
	assert_output --partial "the pair counters were reset after mark k"
	run -0 pgrep -f "__supervise $lab\$"
	[ "$output" != "$sup" ]
	run -0 "$FALLACY" lab down "$lab"
	fl_assert_lab_gone "$lab"
}

@test "FALLACY_ACCOUNTING=off: the lab counts no pairs and stats says why" {
	lab=$(fl_lab_name so)
	own+=("$lab")
	FALLACY_ACCOUNTING=off run -0 "$FALLACY" lab up "$lab" --nodes 2
	ip2=$(awk '$1 == "node" && $2 == "n2" { print $3 }' "$FALLACY_RUN_DIR/$lab/lab")
	run -0 ip netns exec "fl-$lab.n1" ping -c 3 -i 0.05 "$ip2"
	run -0 --separate-stderr "$FALLACY" stats "$lab" --pairs -j
	[ "$(jq -r '.accounting' <<<"$output")" = false ]
	[ "$(jq '.pairs | length' <<<"$output")" -eq 0 ]
	# shellcheck disable=SC2154 # set by run --separate-stderr
	[[ "$stderr" == *"transport accounting is off (FALLACY_ACCOUNTING=off"* ]]
	# node counters come from the nodes, not from the data plane
	[ "$(jq '.nodes | length' <<<"$output")" -eq 2 ]
}

@test "kill -9 of lab up while its supervisor starts: cleanup --all leaves no lab and no supervisor" {
	landed=0
	for delay in 0.03 0.06 0.09 0.12 0.15 0.2 0.25 0.3; do
		lab=$(fl_lab_name kl)
		"$FALLACY" lab up "$lab" --nodes 2 >/dev/null 2>&1 &
		pid=$!
		sleep "$delay"
		# landed: lab up still running, its supervisor already started
		kill -0 "$pid" 2>/dev/null && pgrep -f "__supervise $lab\$" >/dev/null &&
			landed=$((landed + 1))
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		run -0 "$FALLACY" cleanup --all
		fl_assert_lab_gone "$lab"
		# a supervisor that was still starting ends by itself (watchdog, 1 s)
		for _ in $(seq 50); do
			pgrep -f "__supervise $lab\$" >/dev/null || break
			sleep 0.1
		done
		run pgrep -f "__supervise $lab\$"
		[ "$status" -eq 1 ] || fail "supervisor of $lab still running: $output"
	done
	echo "$landed of 8 kills landed while the supervisor existed"
	[ "$landed" -ge 1 ]
}
