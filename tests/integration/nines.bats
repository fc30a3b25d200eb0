#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Availability in nines and downtime per window and node, and recovery in
# phases (docs/results.md), in summary.json and report.html, consistent with
# the run's own ops.jsonl and events.jsonl. Asserts what happened, not how
# fast: n2 and n3 lose their server for 3 s, whatever the machine's load.
load test_helper/common
load test_helper/runs

# Down buckets of NODE ("" = all) whose first instant is in [A, B), from
# ops.jsonl as fl_avail_time counts them: 100 ms buckets from the start.
down_buckets() {
	jq -s -r --slurpfile ev "$OUT/events.jsonl" --arg node "$1" --argjson a "$2" --argjson b "$3" '
		($ev | map(select(.event == "start"))[0].mono_ns) as $t0 |
		($ev | map(select(.event == "end"))[0].mono_ns) as $t1 |
		map(select(($node == "" or .node == $node) and .start_ns >= $t0 and .start_ns < $t1)) |
		map(. + {b: ((.start_ns - $t0) / 100000000 | floor)}) |
		map(select(($t0 + .b * 100000000) >= $a and ($t0 + .b * 100000000) < $b)) |
		group_by(.b) | map(select(all(.status != "ok"))) | length' "$OUT/ops.jsonl"
}

# |$1 - $2| <= 1
near() {
	[ $(($1 - $2)) -le 1 ] && [ $(($2 - $1)) -le 1 ] || fail "$3: $1 vs $2 (more than one bucket apart)"
}

@test "a partition's nines, downtime and recovery phases in summary.json agree with ops.jsonl" {
	fl_require_root
	lab=$(fl_lab_name n)
	run -0 "$FALLACY" run tests/data/scenarios/partition.yaml --target scenarios/targets/http.yaml \
		--out "$OUT" --lab "$lab"
	S="$OUT/summary.json"
	ev="$OUT/events.jsonl"
	a=$(jq -s 'map(select(.event == "partition"))[0].mono_ns' "$ev")
	b=$(jq -s 'map(select(.event == "heal"))[0].mono_ns' "$ev")
	# every window, all nodes and each node; nines finite or null with ops
	run -0 jq -r '[.availability.windows[] | select(.node == "") | .window] | join(" ")' "$S"
	assert_output "before cut after run"
	run -0 jq -e '.availability.windows | length == 16 and
		all(.nines == null or (.nines >= 0 and .ok < .ops)) and
		all((.nines == null) == (.ok == .ops)) and
		all(.downtime_s == .down_buckets / 10)' "$S"
	# the run: nines from ops.jsonl's counts; null would say why
	run -0 jq -s -r 'length as $n | map(select(.status != "ok")) | length | "\(.) \($n)"' "$OUT/ops.jsonl"
	set -- $output
	run -0 jq -e --argjson f "$1" --argjson n "$2" '.availability | .operations == $n and
		.failed == $f and ($f > 0) and
		((.nines - (-((1 - ($n - $f) / $n) | log10))) | fabs) < 1e-6' "$S"
	# downtime per window and node, recomputed, within one bucket
	for node in "" n1 n2 n3; do
		for w in cut run; do
			if [ "$w" = cut ]; then lo=$a hi=$b; else lo=0 hi=99999999999999999; fi
			want=$(down_buckets "$node" "$lo" "$hi")
			got=$(jq --arg n "$node" --arg w "$w" \
				'.availability.windows[] | select(.node == $n and .window == $w) | .down_buckets' "$S")
			near "$got" "$want" "down buckets of ${node:-all} in $w"
		done
	done
	# n2 and n3 lost their server: some downtime in the cut; n1 none
	run -0 jq -e '[.availability.windows[] | select(.window == "cut")] |
		(map(select(.node == "n2" or .node == "n3")) | all(.downtime_s > 0)) and
		(map(select(.node == "n1"))[0].downtime_s == 0)' "$S"
	# phases of the cut, bounded by its start and by real ops
	run -0 jq -r '[.availability.recovery[] | "\(.window)/\(.node)"] | sort | join(" ")' "$S"
	assert_output "cut/ cut/n1 cut/n2 cut/n3"
	# all nodes together: n2 and n3 failed, n1 kept serving (failover)
	run -0 jq -e '.availability.recovery[0] | .node == "" and
		.phases.detection.seconds != null and .phases.failover.seconds != null' "$S"
	# every entry: present phases bounded consistently, absent ones say why
	run -0 jq -e --argjson a "$a" 'all(.availability.recovery[]; .window == "cut" and .start_ns == $a and
		(.phases | (.detection.seconds == null or .detection.from_ns == $a) and
		 (.failover.seconds == null or (.failover.from_ns == $a and
		  .unavailability.from_ns == .detection.to_ns and .unavailability.to_ns == .failover.to_ns and
		  .detection.to_ns <= .failover.to_ns)) and
		 all(.[]; .seconds == null or ((.seconds - (.to_ns - .from_ns) / 1e9) | fabs) < 1e-6) and
		 all(.[]; .seconds != null or (.why | length) > 0)))' "$S"
	det=$(jq '.availability.recovery[0].phases.detection.to_ns' "$S")
	fo=$(jq '.availability.recovery[0].phases.failover.to_ns' "$S")
	run -0 jq -s -e --argjson d "$det" --argjson o "$fo" --argjson a "$a" --argjson b "$b" '
		any(.status != "ok" and .end_ns == $d and .start_ns < $b) and
		any(.status == "ok" and .end_ns == $o and .start_ns >= $a) and
		(map(select(.status != "ok" and .end_ns > $a and .start_ns < $b and .end_ns < $d)) | length == 0)' \
		"$OUT/ops.jsonl"
	# the report shows them
	run -0 grep -c "Availability in nines and downtime" "$OUT/report.html"
	run -0 grep -c "Recovery in phases" "$OUT/report.html"
	run -0 grep -c "<td>detection</td>" "$OUT/report.html"
	# per node: n2's detection is its own failed op, n1's only if it had one
	for node in n1 n2; do
		det=$(jq --arg n "$node" '.availability.recovery[] | select(.node == $n) | .phases.detection.to_ns' "$S")
		run -0 jq -s -e --arg n "$node" --argjson d "$det" --argjson a "$a" --argjson b "$b" '
			map(select(.node == $n and .status != "ok" and .end_ns > $a and .start_ns < $b)) |
			if $d == null then length == 0 else (map(.end_ns) | min) == $d end' "$OUT/ops.jsonl"
	done
	[ "$(jq '.availability.recovery[] | select(.node == "n2") | .phases.detection.seconds' "$S")" != null ] ||
		fail "n2 lost its server but no detection"
	fl_assert_lab_gone "$lab"
}
