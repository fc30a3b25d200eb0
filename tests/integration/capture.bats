#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# fallacy capture and wrap --capture: pcap files tshark reads, nanosecond
# wall-clock timestamps aligned with events.jsonl, no silent drops, and
# which side of a tc fault a capture sees.

bats_require_minimum_version 1.5.0
load test_helper/common
load test_helper/wrap

setup() {
	require_cmd tshark capinfos jq ping
	TMP=$(mktemp -d /tmp/fallacy-capture-test.XXXXXX)
	NS=$(wrap_uniq)
	ip netns add "$NS"
	ip -n "$NS" link set lo up
}

teardown() {
	if [ -n "${CAP:-}" ]; then kill "$CAP" 2>/dev/null || true; fi
	if [ -n "${LAB:-}" ]; then "$FALLACY" lab down "$LAB" >/dev/null 2>&1 || true; fi
	ip netns del "$NS" 2>/dev/null || true
	ip netns del "${NS}b" 2>/dev/null || true
	rm -rf "$TMP"
}

# start_capture ARGS...: fallacy capture in the background, wait until ready
start_capture() {
	"$FALLACY" capture "$@" >"$TMP/cap.json" 2>"$TMP/cap.err" &
	CAP=$!
	wait_for_text "$TMP/cap.err" "capturing on"
}

stop_capture() {
	kill -INT "$CAP"
	wait "$CAP"
	CAP=
}

@test "capture --netns writes a nanosecond pcap with as many ICMP requests as ping sent" {
	start_capture --netns "$NS" --filter icmp -w "$TMP/a.pcap" -j
	ip netns exec "$NS" ping -c 7 -i 0.02 -q 127.0.0.1
	stop_capture
	run -0 capinfos -M "$TMP/a.pcap"
	assert_output --partial "nanoseconds"
	assert_equal "$(count_pkts "$TMP/a.pcap" 'icmp.type == 8')" 7
	run -0 jq -e '.points[0].written == 14 and .points[0].dropped == 0' "$TMP/cap.json"
}

# Behaviour, not speed: every packet at a rate any machine sustains. The
# speed goal (every packet at more than 10 000 packets/s) is measured by
# bench/capture.sh and recorded in docs/performance.md.
@test "capture keeps every packet of 1 000 packets/s (500 pings at 2 ms)" {
	start_capture --netns "$NS" --filter icmp -w "$TMP/f.pcap" -j
	run -0 ip netns exec "$NS" ping -c 500 -i 0.002 -q 127.0.0.1
	stop_capture
	cat "$TMP/cap.json" "$TMP/cap.err"
	run -0 jq -e '.points[0].written == 1000 and .points[0].dropped == 0 and .points[0].ifdropped == 0' \
		"$TMP/cap.json"
	assert_equal "$(count_pkts "$TMP/f.pcap" 'icmp.type == 8')" 500
}

# A capture that cannot keep up must say so: stopped (SIGSTOP) while 2 000
# large pings fill its 1 MB ring, it drops most of them, counts them in the
# JSON, warns on stderr, and the file holds exactly what it reports.
@test "a capture that falls behind counts its drops and reports them" {
	start_capture --netns "$NS" --filter icmp --buffer 1m -w "$TMP/s.pcap" -j
	kill -STOP "$CAP"
	run -0 ip netns exec "$NS" ping -f -c 2000 -s 1400 -q 127.0.0.1
	kill -CONT "$CAP"
	stop_capture
	cat "$TMP/cap.json" "$TMP/cap.err"
	dropped=$(jq '.points[0].dropped' "$TMP/cap.json")
	written=$(jq '.points[0].written' "$TMP/cap.json")
	[ "$dropped" -gt 0 ]
	[ "$written" -lt 4000 ]
	assert_equal "$(capinfos -c -M -T "$TMP/s.pcap" | awk -F'\t' 'NR == 2 { print $2 }')" "$written"
	grep -q "capture on $NS/lo: $dropped packets dropped by the kernel" "$TMP/cap.err"
	grep -q "$written packets written to $TMP/s.pcap, $dropped dropped" "$TMP/cap.err"
}

@test "capture --duration stops by itself and says how many packets it wrote" {
	run -0 timeout 10 "$FALLACY" capture --netns "$NS" --duration 300ms -w "$TMP/d.pcap"
	assert_output --partial "0 packets written to $TMP/d.pcap, 0 dropped"
	run -0 capinfos "$TMP/d.pcap"
}

@test "capture rejects a bad filter, a missing namespace and a bad side with exit 2" {
	run -2 "$FALLACY" capture --netns "$NS" --filter 'icmp and and' -w "$TMP/x.pcap"
	assert_output --partial "capture filter 'icmp and and'"
	run -2 "$FALLACY" capture --netns fallacy-no-such-ns -w "$TMP/x.pcap"
	assert_output --partial "fallacy-no-such-ns"
	run -2 "$FALLACY" capture --netns "$NS" --side sideways
	assert_output --partial "--side sideways"
}

# Two namespaces and a veth pair with static neighbours (so a dropped ARP
# cannot hide the effect); a classic-BPF "return TC_ACT_SHOT" filter.
veth_pair() {
	ip netns add "${NS}b"
	ip link add va netns "$NS" type veth peer name vb netns "${NS}b"
	ip -n "$NS" addr add 198.18.250.1/30 dev va
	ip -n "${NS}b" addr add 198.18.250.2/30 dev vb
	ip -n "$NS" link set va up
	ip -n "${NS}b" link set vb up
	ma=$(ip -n "$NS" -j link show va | jq -r '.[0].address')
	mb=$(ip -n "${NS}b" -j link show vb | jq -r '.[0].address')
	ip -n "$NS" neigh add 198.18.250.2 lladdr "$mb" dev va nud permanent
	ip -n "${NS}b" neigh add 198.18.250.1 lladdr "$ma" dev vb nud permanent
}

@test "a capture sees received packets before tc ingress drops them" {
	veth_pair
	ip netns exec "${NS}b" tc qdisc add dev vb clsact
	ip netns exec "${NS}b" tc filter add dev vb ingress bpf da bytecode '1,6 0 0 2' ||
		skip "cls_bpf with a classic BPF program is not available"
	start_capture --netns "${NS}b" --iface vb --direction in --filter icmp -w "$TMP/in.pcap" -j
	run -1 ip netns exec "$NS" ping -c 5 -i 0.05 -W 1 -q 198.18.250.2
	assert_output --partial "100% packet loss"
	stop_capture
	assert_equal "$(count_pkts "$TMP/in.pcap" 'icmp.type == 8')" 5
}

@test "a capture sees sent packets after tc egress: dropped ones are absent" {
	veth_pair
	# the same capture without the drop records what was sent
	start_capture --netns "$NS" --iface va --direction out --filter icmp -w "$TMP/out0.pcap" -j
	run -0 ip netns exec "$NS" ping -c 3 -i 0.05 -W 1 -q 198.18.250.2
	stop_capture
	run -0 jq -e '.points[0].written == 3' "$TMP/cap.json"
	ip netns exec "$NS" tc qdisc add dev va clsact
	ip netns exec "$NS" tc filter add dev va egress bpf da bytecode '1,6 0 0 2' ||
		skip "cls_bpf with a classic BPF program is not available"
	start_capture --netns "$NS" --iface va --direction out --filter icmp -w "$TMP/out.pcap" -j
	run ip netns exec "$NS" ping -c 5 -i 0.05 -W 1 -q 198.18.250.2
	stop_capture
	run -0 jq -e '.points[0].written == 0' "$TMP/cap.json"
}

@test "wrap --capture: the pcap holds ping's requests between the exec and exit events" {
	run -0 "$FALLACY" wrap -q --capture --out "$TMP/res" -- ping -c 20 -i 0.01 -q 127.0.0.1
	assert_equal "$(count_pkts "$TMP/res/wrap.pcap" 'icmp.type == 8')" 20
	first=$(tshark -r "$TMP/res/wrap.pcap" -T fields -e frame.time_epoch | head -1)
	last=$(tshark -r "$TMP/res/wrap.pcap" -T fields -e frame.time_epoch | tail -1)
	exec_ns=$(jq -r 'select(.event == "exec") | .wall_ns' "$TMP/res/events.jsonl")
	exit_ns=$(jq -r 'select(.event == "exit") | .wall_ns' "$TMP/res/events.jsonl")
	# compare as integers in nanoseconds
	first_ns=$(echo "$first" | awk -F. '{printf "%s%-09s\n", $1, $2}' | tr ' ' 0)
	last_ns=$(echo "$last" | awk -F. '{printf "%s%-09s\n", $1, $2}' | tr ' ' 0)
	echo "exec $exec_ns first $first_ns last $last_ns exit $exit_ns"
	[ "$exec_ns" -lt "$first_ns" ]
	[ "$first_ns" -lt "$last_ns" ]
	[ "$last_ns" -lt "$exit_ns" ]
	run -0 jq -e '.capture.points[0].written == 40 and .capture.points[0].dropped == 0' \
		"$TMP/res/counters.json"
}

@test "wrap --scenario: in the pcap, requests between the fault and heal events go unanswered" {
	run -0 "$FALLACY" wrap -q --loss 0% -- true
	run -0 "$FALLACY" wrap -q --scenario "$BATS_TEST_DIRNAME/../data/scenarios/wrap-loss-window.yaml" \
		--capture --out "$TMP/res" -- ping -c 30 -i 0.1 -q 127.0.0.1
	tshark -r "$TMP/res/wrap.pcap" -Y 'icmp.type == 8' -T fields -e frame.time_epoch -e icmp.seq \
		2>/dev/null >"$TMP/req"
	tshark -r "$TMP/res/wrap.pcap" -Y 'icmp.type == 0' -T fields -e icmp.seq 2>/dev/null >"$TMP/rep"
	run -0 python3 - "$TMP/res/events.jsonl" "$TMP/req" "$TMP/rep" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
# a step's event is written once it is applied; it took effect within
# the apply_ns before its wall_ns
f = next(e for e in ev if e["event"] == "fault" and e.get("id") == "cut")
h = next(e for e in ev if e["event"] == "heal" and e.get("id") == "cut")
fault_lo, fault = f["wall_ns"] - f.get("apply_ns", 0), f["wall_ns"]
heal_lo, heal = h["wall_ns"] - h.get("apply_ns", 0), h["wall_ns"]
answered = {int(l) for l in open(sys.argv[3]) if l.strip()}
inside = outside = bad = 0
# 20 ms either side of each event: on a busy machine a packet may wait
# a few ms between the capture's timestamp and the tc hook's decision
margin = 20_000_000
for line in open(sys.argv[2]):
    t, seq = line.split()
    sec, _, frac = t.partition(".")
    ns = int(sec) * 10**9 + int((frac + "000000000")[:9])
    if fault + margin < ns < heal_lo - margin:
        inside += 1
        bad += int(seq) in answered
    elif ns < fault_lo - margin or ns > heal + margin:
        outside += 1
        bad += int(seq) not in answered
print("inside %d outside %d wrong %d" % (inside, outside, bad))
sys.exit(0 if bad == 0 and inside >= 7 and outside >= 15 else 1)
PY
	echo "$output"
	# the pcapng copy carries the events as comments, on the first packet after each
	run -0 capinfos "$TMP/res/wrap.pcapng"
	assert_output --partial "fallacy: fault cut"
	assert_output --partial "fallacy: heal cut"
	run -0 tshark -r "$TMP/res/wrap.pcapng" -Y 'frame.comment contains "fault cut"' \
		-T fields -e frame.time_epoch
	assert_equal "$(echo "$output" | grep -c '^[0-9]')" 1
	[ "$(tshark -r "$TMP/res/wrap.pcapng" 2>/dev/null | wc -l)" -eq \
		"$(tshark -r "$TMP/res/wrap.pcap" 2>/dev/null | wc -l)" ]
}

@test "lab capture: --side before shows what n1 sent, --side after what reached n2" {
	run -0 "$FALLACY" wrap -q --loss 0% -- true
	LAB="cw$$"
	"$FALLACY" lab up "$LAB" --nodes 2 >/dev/null
	"$FALLACY" fault add "$LAB" loss 100% --from n1 --to n2 --proto icmp --seed 1 >/dev/null
	"$FALLACY" capture "$LAB/n1" --side before --filter icmp -w "$TMP/before.pcap" \
		2>"$TMP/b.err" &
	b=$!
	"$FALLACY" capture "$LAB/n2" --side after --filter icmp -w "$TMP/after.pcap" \
		2>"$TMP/a.err" &
	a=$!
	wait_for_text "$TMP/b.err" "capturing on"
	wait_for_text "$TMP/a.err" "capturing on"
	run -1 "$FALLACY" lab exec "$LAB" n1 -- ping -c 5 -i 0.05 -W 1 -q n2
	assert_output --partial "100% packet loss"
	kill -INT $a $b
	wait $a $b
	assert_equal "$(count_pkts "$TMP/before.pcap" 'icmp.type == 8')" 5
	assert_equal "$(count_pkts "$TMP/after.pcap" 'icmp.type == 8')" 0
}

@test "lab capture: a delayed request is in the after-trace later by the delay" {
	run -0 "$FALLACY" wrap -q --delay 1ms -- true
	LAB="cd$$"
	"$FALLACY" lab up "$LAB" --nodes 2 >/dev/null
	"$FALLACY" fault add "$LAB" delay 100ms --from n1 --to n2 --proto icmp --seed 1 >/dev/null
	"$FALLACY" capture "$LAB/n1" --side before --filter 'icmp[0] == 8' -w "$TMP/before.pcap" \
		2>"$TMP/b.err" &
	b=$!
	"$FALLACY" capture "$LAB/n2" --side after --filter 'icmp[0] == 8' -w "$TMP/after.pcap" \
		2>"$TMP/a.err" &
	a=$!
	wait_for_text "$TMP/b.err" "capturing on"
	wait_for_text "$TMP/a.err" "capturing on"
	# -w: ping waits for all 4 replies (without it, it stops waiting for
	# the last one after twice the largest RTT, which a busy machine can
	# exceed: 3 of 4 in a soak run)
	run -0 "$FALLACY" lab exec "$LAB" n1 -- ping -c 4 -i 0.2 -w 10 -q n2
	kill -INT $a $b
	wait $a $b
	tshark -r "$TMP/before.pcap" -T fields -e icmp.seq -e frame.time_epoch 2>/dev/null | sort >"$TMP/b"
	tshark -r "$TMP/after.pcap" -T fields -e icmp.seq -e frame.time_epoch 2>/dev/null | sort >"$TMP/a"
	run -0 join "$TMP/b" "$TMP/a"
	echo "$output"
	[ "${#lines[@]}" -eq 4 ]
	# each request: delivered at least 100 ms after it was sent (never
	# early), and the fastest of them below a double delay (delayed once).
	# No bound on each: a busy machine held two of them 261 and 463 ms
	# (soak run, 1 Dec, beside an iperf3 run)
	echo "$output" | awk '{ d = ($3 - $2) * 1000; if (d < 100) bad++; if (NR == 1 || d < min) min = d }
		END { exit bad || min >= 190 }'
}
