#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# "The network is secure": tamper, replay and inject on a lab, measured with
# independent tools (socat, tcpdump, tshark's checksum validation, nstat,
# cmp). One lab (3 nodes, IPv6) for the whole file; every test clears its
# faults and stops what it started.

bats_require_minimum_version 1.5.0
load test_helper/common

setup_file() {
	fl_file_lab se --nodes 3 --ipv6
}

teardown_file() {
	fl_file_lab_down
}

setup() {
	fl_require_root
	N1=fl-$LAB.n1 N2=fl-$LAB.n2
	IP1=$(awk '$1 == "node" && $2 == "n1" { print $3 }' "$FALLACY_RUN_DIR/$LAB/lab")
	IP2=$(awk '$1 == "node" && $2 == "n2" { print $3 }' "$FALLACY_RUN_DIR/$LAB/lab")
	T=$BATS_TEST_TMPDIR
	bg_pids=()
}

teardown() {
	for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null || true; done
	"$FALLACY" fault clear "$LAB" >/dev/null 2>&1 || true
}

# start CMD in namespace NS in the background (killed by teardown)
start_bg() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@" &
	bg_pids+=($!)
}

# wait (up to 5 s) until something listens on PROTO (t or u) PORT in NS
wait_port() {
	for _ in $(seq 50); do
		ip netns exec "$1" ss -Hln"$2" "sport = :$3" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# a capture on NS's eth0 into FILE until stop_capture; waits until it runs
# (immediate mode: without it, packets of a block not yet full are lost
# when tcpdump is stopped)
# -B: a node keeps its offloads unless a per-packet fault matches what it
# sends, and on an interface with offloads on libpcap sizes each ring frame
# for a 256 KB packet: the default 2 MB ring then holds 8 packets and drops
# a burst ("packets dropped by kernel")
start_capture() {
	start_bg "$1" tcpdump -i eth0 -U -n --immediate-mode -B 65536 --time-stamp-precision nano -w "$2" "${@:3}" 2>"$2.log"
	for _ in $(seq 50); do
		grep -q 'listening on' "$2.log" && return 0
		sleep 0.1
	done
	return 1
}

stop_capture() {
	sleep 0.3
	for p in "${bg_pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
	for p in "${bg_pids[@]}"; do wait "$p" 2>/dev/null || true; done
	bg_pids=()
}

# tshark without its "running as root" note on stderr
shark() {
	tshark "$@" 2>/dev/null
}

# counter NAME of fault ID from `fault list -j`
counter() {
	"$FALLACY" fault list "$LAB" -j | jq -r --arg id "$1" ".[] | select(.id == \$id) | .counters.$2"
}

# nstat's absolute value of one counter in NS (history untouched)
nst() {
	ip netns exec "$1" nstat -asz "$2" | awk -v n="$2" '$1 == n { print $2 }'
}

# N numbered datagrams of 40 bytes from n1 to n2:PORT, one socat each
send_datagrams() {
	for i in $(seq -w 1 "$1"); do
		printf 'datagram %s of a known payload..\n' "$i" |
			ip netns exec "$N1" socat -u - "UDP:$IP2:$2"
		sleep "${3:-0.01}"
	done
}

@test "tamper UDP: every datagram arrives with the stated bytes at the stated offset, checksums valid (tshark), no InCsumErrors" {
	id=$("$FALLACY" fault add "$LAB" tamper 100% offset 9 bytes '"EVIL"' --from n1 --to n2 --proto udp --dport 7101 --seed 1)
	c0=$(nst "$N2" UdpInCsumErrors)
	start_capture "$N2" "$T/t.pcap" udp port 7101
	start_bg "$N2" socat -u UDP-RECV:7101 OPEN:"$T/recv",creat,trunc
	wait_port "$N2" u 7101
	send_datagrams 20 7101
	stop_capture
	# what the application got: each datagram with bytes 9..12 replaced
	run -0 cat "$T/recv"
	[ "${#lines[@]}" -eq 20 ]
	for i in $(seq 1 20); do
		want=$(printf 'datagram %02d of a known payload..' "$i")
		want="${want:0:9}EVIL${want:13}"
		[ "${lines[$((i - 1))]}" = "$want" ] || { echo "line $i: ${lines[$((i - 1))]} want $want"; false; }
	done
	# checksums as the receiver saw them: all Good
	run -0 shark -r "$T/t.pcap" -o udp.check_checksum:TRUE -T fields -e udp.checksum.status
	echo "checksum status per packet: ${lines[*]}"
	[ "${#lines[@]}" -eq 20 ]
	for l in "${lines[@]}"; do [ "$l" = 1 ]; done
	[ "$(nst "$N2" UdpInCsumErrors)" -eq "$c0" ]
	[ "$(counter "$id" tampered)" -eq 20 ]
}

@test "tamper TCP: the stream keeps its length, each data segment changed at its offset, checksums valid (tshark)" {
	"$FALLACY" fault add "$LAB" tamper 100% offset 3 bytes '"ABC"' --from n1 --to n2 --proto tcp --dport 7102 --seed 1 >/dev/null
	# lower case and digits only, so every byte written (A, B, C) is a change
	tr -dc 'a-z0-9' </dev/urandom | head -c 40000 >"$T/src" || true
	start_capture "$N2" "$T/t.pcap" tcp port 7102
	start_bg "$N2" socat -u TCP-LISTEN:7102,reuseaddr OPEN:"$T/recv",creat,trunc
	wait_port "$N2" t 7102
	run -0 timeout 20 ip netns exec "$N1" socat -u FILE:"$T/src" TCP:"$IP2":7102
	for _ in $(seq 50); do [ "$(stat -c %s "$T/recv")" -eq "$(stat -c %s "$T/src")" ] && break; sleep 0.1; done
	stop_capture
	[ "$(stat -c %s "$T/recv")" -eq "$(stat -c %s "$T/src")" ]
	# expected changed positions (1-based, as cmp -l prints them): relative
	# sequence number of each data segment + 3, 4, 5
	shark -r "$T/t.pcap" -Y "tcp.len > 0 && tcp.dstport == 7102" -T fields -e tcp.seq |
		awk '{ print $1 + 3; print $1 + 4; print $1 + 5 }' | sort -un >"$T/want"
	cmp -l "$T/src" "$T/recv" | awk '{ print $1 }' | sort -un >"$T/got" || true
	echo "segments: $(($(wc -l <"$T/want") / 3)), changed bytes: $(wc -l <"$T/got")"
	[ -s "$T/want" ]
	run -0 diff "$T/want" "$T/got"
	# the bytes written are the stated ones: A B C (octal, as cmp -l prints)
	[ "$(cmp -l "$T/src" "$T/recv" | head -3 | awk '{ printf "%s ", $3 }')" = "101 102 103 " ]
	run -0 shark -r "$T/t.pcap" -o tcp.check_checksum:TRUE -Y "tcp.len > 0 && tcp.checksum.status != 1"
	assert_output ''
}

# tampered positions of 60 datagrams of 64 bytes with SEED (one per line)
positions() {
	local id
	id=$("$FALLACY" fault add "$LAB" tamper 100% --from n1 --to n2 --proto udp --dport 7103 --seed "$1")
	start_bg "$N2" socat -u UDP-RECV:7103 OPEN:"$T/recv-$1",creat,trunc
	wait_port "$N2" u 7103
	for i in $(seq 1 60); do
		printf 'seeded %02d %053d\n' "$i" 0 | ip netns exec "$N1" socat -u - "UDP:$IP2:7103"
	done
	sleep 0.3
	stop_capture
	"$FALLACY" fault del "$LAB" "$id"
	for i in $(seq 1 60); do printf 'seeded %02d %053d\n' "$i" 0; done >"$T/sent"
	cmp -l "$T/sent" "$T/recv-$1" | awk '{ print ($1 - 1) % 64 }' >"$T/pos-$1" || true
	cat "$T/pos-$1"
}

@test "tamper without offset: the same seed changes the same positions, another seed others" {
	a=$(positions 5)
	b=$(positions 5)
	c=$(positions 6)
	echo "seed 5: $(echo "$a" | tr '\n' ' ')"
	echo "seed 6: $(echo "$c" | tr '\n' ' ')"
	[ "$(echo "$a" | wc -l)" -eq 60 ]
	[ "$a" = "$b" ]
	[ "$a" != "$c" ]
	# spread over the payload, not one place
	[ "$(echo "$a" | sort -u | wc -l)" -ge 20 ]
}

@test "corrupt instead of tamper: the receiver's kernel drops every damaged datagram (nstat UdpInCsumErrors)" {
	id=$("$FALLACY" fault add "$LAB" corrupt 100% --from n1 --to n2 --proto udp --dport 7104 --seed 1)
	c0=$(nst "$N2" UdpInCsumErrors)
	start_bg "$N2" socat -u UDP-RECV:7104 OPEN:"$T/recv",creat,trunc
	wait_port "$N2" u 7104
	send_datagrams 20 7104
	sleep 0.3
	echo "InCsumErrors $c0 -> $(nst "$N2" UdpInCsumErrors), received $(wc -c <"$T/recv") bytes"
	[ "$(nst "$N2" UdpInCsumErrors)" -eq $((c0 + 20)) ]
	[ ! -s "$T/recv" ]
	[ "$(counter "$id" corrupted)" -eq 20 ]
}

@test "tamper: an offset beyond any payload is refused with exit 2 and nothing applied" {
	run -2 "$FALLACY" fault add "$LAB" tamper 10% offset 70000
	assert_output --partial "offset: 70000: out of range"
	run -2 "$FALLACY" fault add "$LAB" tamper 10% offset 65500 bytes 00112233445566778899
	assert_output --partial "beyond any payload"
	run -0 "$FALLACY" fault list "$LAB" -j
	[ "$(echo "$output" | jq length)" -eq 0 ]
}

@test "replay UDP: tcpdump on the receiver sees each datagram twice, the copy 200ms later" {
	id=$("$FALLACY" fault add "$LAB" replay 100% after 200ms --from n1 --to n2 --proto udp --dport 7105 --seed 1)
	start_capture "$N2" "$T/r.pcap" udp port 7105
	send_datagrams 30 7105 0.02
	sleep 0.5
	stop_capture
	# per payload: the gap between its two arrivals, in ms
	shark -r "$T/r.pcap" -T fields -e frame.time_epoch -e data.data |
		awk '{ if ($2 in t) printf "%.3f\n", ($1 - t[$2]) * 1000; else t[$2] = $1 }' |
		sort -n >"$T/gaps"
	echo "gaps (ms): $(tr '\n' ' ' <"$T/gaps")"
	[ "$(shark -r "$T/r.pcap" | wc -l)" -eq 60 ]
	[ "$(wc -l <"$T/gaps")" -eq 30 ]
	# median within 5 ms of 200 ms; none early, none very late (a busy
	# 2-core machine; the tight bound is in bench/replay.sh)
	med=$(awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }' "$T/gaps")
	awk -v m="$med" 'BEGIN { exit !(m >= 195 && m <= 205) }'
	awk '$1 < 199 || $1 > 300 { bad++ } END { exit bad > 0 }' "$T/gaps"
	[ "$(counter "$id" replayed)" -eq 30 ]
}

@test "replay TCP: the receiver discards every replayed segment (nstat PAWSEstab) and the stream arrives intact" {
	id=$("$FALLACY" fault add "$LAB" replay 100% after 100ms --from n1 --to n2 --proto tcp --dport 7106 --seed 1)
	p0=$(nst "$N2" TcpExtPAWSEstab)
	for i in $(seq -w 1 40); do printf 'chunk %s %0100d\n' "$i" 0; done >"$T/src"
	start_bg "$N2" socat -u TCP-LISTEN:7106,reuseaddr OPEN:"$T/recv",creat,trunc
	wait_port "$N2" t 7106
	# one line every 50 ms: the copies arrive while the connection is open
	while read -r l; do echo "$l"; sleep 0.05; done <"$T/src" |
		timeout 20 ip netns exec "$N1" socat -u - TCP:"$IP2":7106
	for _ in $(seq 50); do cmp -s "$T/src" "$T/recv" && break; sleep 0.1; done
	sleep 0.3
	paws=$(($(nst "$N2" TcpExtPAWSEstab) - p0))
	echo "replayed $(counter "$id" replayed), PAWSEstab +$paws"
	run -0 cmp "$T/src" "$T/recv"
	[ "$paws" -ge 20 ]
	[ "$paws" -le "$(counter "$id" replayed)" ]
}

@test "inject UDP: n2 gets the forged datagram from n1's address with a valid checksum; n1's own capture has nothing" {
	start_capture "$N2" "$T/to.pcap" udp port 7107
	start_capture "$N1" "$T/from.pcap" udp port 7107
	start_bg "$N2" socat -u UDP-RECV:7107 OPEN:"$T/recv",creat,trunc
	wait_port "$N2" u 7107
	run -0 "$FALLACY" inject "$LAB" --to n2 --from n1 --proto udp --port 7107 --sport 5353 --payload '"stale-dns-answer"' -j
	echo "$output"
	[ "$(echo "$output" | jq .packets)" -eq 1 ]
	stop_capture
	run -0 cat "$T/recv"
	assert_output stale-dns-answer
	run -0 shark -r "$T/to.pcap" -o udp.check_checksum:TRUE -T fields -e ip.src -e udp.srcport -e udp.checksum.status
	assert_output "$IP1	5353	1"
	run -0 shark -r "$T/from.pcap"
	assert_output ''
	# the lab's own events.jsonl records it, in the documented shape
	run -0 jq -s -e '[.[] | select(.event == "inject" and .id == "n2" and .packets == 1)] | length >= 1' \
		"$FALLACY_RUN_DIR/$LAB/events.jsonl"
	run -0 jq -r -f "$BATS_TEST_DIRNAME/test_helper/events.jq" "$FALLACY_RUN_DIR/$LAB/events.jsonl"
	assert_output ''
}

@test "inject TCP without a handshake: n2 answers the spoofed source with an RST, its application gets nothing" {
	start_capture "$N2" "$T/to.pcap" tcp port 7108
	start_capture "$N1" "$T/from.pcap" tcp port 7108
	start_bg "$N2" socat -u TCP-LISTEN:7108,reuseaddr OPEN:"$T/recv",creat,trunc
	wait_port "$N2" t 7108
	run -0 "$FALLACY" inject "$LAB" --to n2 --from n1 --proto tcp --port 7108 --payload '"SET k1 forged"' --seed 3
	assert_output --partial "$IP1:"
	assert_output --partial " -> $IP2:7108 tcp, 13 bytes of payload"
	stop_capture
	[ ! -s "$T/recv" ]
	# n2: the forged segment arrives (checksum valid), n2 answers with an RST
	run -0 shark -r "$T/to.pcap" -o tcp.check_checksum:TRUE -T fields -e ip.src -e tcp.flags.reset -e tcp.checksum.status
	echo "$output"
	assert_line --index 0 "$IP1	0	1"
	assert_line --index 1 --regexp "^$IP2	1	"
	# n1, whose address was borrowed, never sent anything; it only gets the RST
	run -0 shark -r "$T/from.pcap" -T fields -e ip.src -e tcp.flags.reset
	assert_output "$IP2	1"
}

@test "inject IPv6: the forged datagram reaches n2 over IPv6 from the lab's spare address" {
	start_capture "$N2" "$T/to.pcap" ip6 and udp port 7109
	run -0 "$FALLACY" inject "$LAB" --to n2 --ipv6 --proto udp --port 7109 --payload 0a0b0c0d
	stop_capture
	run -0 shark -r "$T/to.pcap" -o udp.check_checksum:TRUE -T fields -e ipv6.src -e udp.checksum.status -e data.data
	assert_output --regexp '^fdfa:11ac::([0-9a-f]+:)?ffff	1	0a0b0c0d$'
}

@test "inject: a node that does not exist or a source outside the lab is refused with exit 2, nothing sent" {
	start_capture "$N2" "$T/to.pcap" udp port 7110
	run -2 "$FALLACY" inject "$LAB" --to n9 --proto udp --port 7110 --payload 00
	assert_output --partial "--to n9: not a node of lab $LAB"
	run -2 "$FALLACY" inject "$LAB" --to n2 --from 192.0.2.1 --proto udp --port 7110 --payload 00
	assert_output --partial "outside lab $LAB"
	run -2 "$FALLACY" inject "$LAB" --to n2 --proto udp --port 7110
	assert_output --partial "needs --payload"
	run -2 "$FALLACY" inject nosuchlab --to n2 --proto udp --port 7110 --payload 00
	assert_output --partial "no lab named 'nosuchlab'"
	stop_capture
	run -0 shark -r "$T/to.pcap"
	assert_output ''
}

@test "kill -9 of the supervisor with tamper and replay active (copies held), then cleanup: nothing is left" {
	lab=$(fl_lab_name sk)
	"$FALLACY" lab up "$lab" --nodes 2 >/dev/null
	"$FALLACY" fault add "$lab" tamper 50% --proto udp >/dev/null
	"$FALLACY" fault add "$lab" replay 100% after 30s --proto udp >/dev/null
	ip2=$(awk '$1 == "node" && $2 == "n2" { print $3 }' "$FALLACY_RUN_DIR/$lab/lab")
	for _ in 1 2 3; do echo held | ip netns exec "fl-$lab.n1" socat -u - "UDP:$ip2:7111"; done
	run -0 "$FALLACY" fault list "$lab" -j
	[ "$(echo "$output" | jq '.[1].counters.held')" -eq 3 ]
	run -0 ip netns exec "fl-$lab" iptables-save -t raw
	assert_output --partial NFQUEUE
	pid=$(pgrep -f "__supervise $lab\$")
	kill -9 "$pid"
	run -0 "$FALLACY" cleanup "$lab"
	fl_assert_lab_gone "$lab"
	run -1 pgrep -f "__supervise $lab\$"
}
