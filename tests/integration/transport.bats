#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# What operations cost on the wire in `fallacy run`: counters.jsonl, the
# transport windows of summary.json against tshark, the transport check in
# JUnit, and the report's bytes-per-operation plot.
load test_helper/common

setup() {
	fl_require_root
	cd "$BATS_TEST_DIRNAME/../.."
	OUT="$BATS_TEST_TMPDIR/results"
}

teardown() {
	fl_cleanup_all
}

@test "bytes per operation of the http probe equal tshark's per-connection bytes over the ops (2%)" {
	lab=$(fl_lab_name tq)
	run -0 "$FALLACY" run tests/data/scenarios/transport-quiet.yaml \
		--target tests/data/scenarios/http-n2.yaml --out "$OUT" --lab "$lab" --capture
	# the trace lost nothing
	run -0 jq -s -e 'map(select(.event == "capture" and .id == "n2"))[0].dropped == 0' \
		"$OUT/events.jsonl"
	ops=$(jq -s 'map(select(.status == "ok")) | length' "$OUT/ops.jsonl")
	all=$(jq -s 'length' "$OUT/ops.jsonl")
	# every HTTP connection of n2 (all of them go to n1 over the wire),
	# both directions, Ethernet frames as captured
	read -r conns bytes < <(tshark -r "$OUT/pcap/n2.pcap" -Y 'tcp.port == 8080' \
		-T fields -e tcp.stream -e frame.len 2>/dev/null |
		awk '{ b[$1] += $2 } END { for (s in b) { n++; t += b[s] }; printf "%d %d\n", n, t }')
	bpo=$(jq '.transport.windows[] | select(.window == "run") | .bytes_per_op' "$OUT/summary.json")
	echo "ops ok $ops of $all; tshark: $conns connections, $bytes bytes = $((bytes / ops)) per op;" \
		"summary.json: $bpo per op"
	[ "$ops" -ge 40 ] # the lab's own start-up chatter (ARP, IPv6 MLD, RS) stays < 1.5%
	awk -v a="$bpo" -v b="$bytes" -v n="$ops" 'BEGIN { w = b / n; d = a - w; if (d < 0) d = -d;
		exit !(d <= 0.02 * w) }' || fail "bytes_per_op $bpo differs from tshark's by more than 2%"
	# quiet wire: nothing retransmitted, and the check passed
	run -0 jq -e '.transport.windows[] | select(.window == "run") | .retrans_segs == 0' \
		"$OUT/summary.json"
	run -0 jq -e '.result == "pass"' "$OUT/summary.json"
	fl_assert_lab_gone "$lab"
}

@test "an impossible transport bound fails with exit 1 and the measured value in junit.xml" {
	lab=$(fl_lab_name ti)
	run -1 "$FALLACY" run tests/data/scenarios/transport-impossible.yaml \
		--target scenarios/targets/http.yaml --out "$OUT" --lab "$lab" \
		--junit "$BATS_TEST_TMPDIR/junit.xml"
	assert_output --regexp "FAIL transport bytes_per_op < 1b, retransmits < 100% during lossy: measured bytes_per_op [0-9.]+k?b, retransmits [0-9.]+% \\(during lossy: [12]\\.[0-9]+s, "
	run -0 xmllint --noout --schema tests/data/junit.xsd "$BATS_TEST_TMPDIR/junit.xml"
	run -0 xmllint --xpath 'string(//testcase[failure]/failure/@message)' "$BATS_TEST_TMPDIR/junit.xml"
	assert_output --regexp '^measured bytes_per_op [0-9.]+k?b, retransmits [0-9.]+% \(during lossy: .*retransmissions in [0-9]+ TCP packets\), bound bytes_per_op < 1b, retransmits < 100%$'
	run -0 xmllint --xpath 'string(//testcase[failure]/failure/@type)' "$BATS_TEST_TMPDIR/junit.xml"
	assert_output transport
	fl_assert_lab_gone "$lab"
}

@test "counters.jsonl has a sample every second and one right after each step; summary.json a window per fault" {
	lab=$(fl_lab_name tc)
	run -1 "$FALLACY" run tests/data/scenarios/transport-impossible.yaml \
		--target scenarios/targets/http.yaml --out "$OUT" --lab "$lab"
	c="$OUT/counters.jsonl"
	# one line per sample, cumulative, on the events' clock
	run -0 jq -s -e 'map(.reason) | (.[0] == "start") and (.[-1] == "end")
		and (map(select(. == "tick")) | length >= 4) and (map(select(. == "step")) | length == 2)' "$c"
	run -0 jq -s -e '. as $s | [range(1; length)] | all($s[.].mono_ns >= $s[. - 1].mono_ns
		and $s[.].total.bytes >= $s[. - 1].total.bytes)' "$c"
	for ev in fault heal; do
		t=$(jq -s "map(select(.event == \"$ev\"))[0].mono_ns" "$OUT/events.jsonl")
		run -0 jq -s -e --argjson t "$t" \
			'map(select(.reason == "step" and .mono_ns >= $t and .mono_ns - $t < 500000000)) | length == 1' "$c"
	done
	# ticks on the timeline's one-second grid (a tick that meets a step
	# waits for the supervisor to apply it)
	t0=$(jq -s 'map(select(.event == "start"))[0].mono_ns' "$OUT/events.jsonl")
	run -0 jq -s -e --argjson t0 "$t0" \
		'map(select(.reason == "tick") | (.mono_ns - $t0) % 1000000000) | all(. < 500000000)' "$c"
	run -0 jq -r '.transport.windows | map(.window) | join(" ")' "$OUT/summary.json"
	assert_output "before lossy after run"
	# the lossy window retransmitted, the quiet before window did not
	run -0 jq -e '.transport.windows[] | select(.window == "lossy") | .retrans_segs > 0' "$OUT/summary.json"
	run -0 jq -e '.transport.windows[] | select(.window == "before") | .bytes_per_op > 0' "$OUT/summary.json"
	# the report plots bytes per operation with the windows shaded, also
	# when made again from the folder
	grep -q "Bytes on the wire per successful operation" "$OUT/report.html"
	grep -q "Transport cost per window" "$OUT/report.html"
	run -1 "$FALLACY" report "$OUT" --html "$BATS_TEST_TMPDIR/r.html"
	# latency, throughput, bytes per operation, the lanes per node, and the
	# fault counters (packets, bytes): the run had a fault
	run -0 grep -c '<svg' "$BATS_TEST_TMPDIR/r.html"
	assert_output 6
	grep -q 'class="lcost"' "$BATS_TEST_TMPDIR/r.html"
	fl_assert_lab_gone "$lab"
}
