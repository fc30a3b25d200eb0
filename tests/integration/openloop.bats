#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Open-loop probes: a probe starts every `every` whether or not the earlier
# ones have finished (up to `concurrent`, by default timeout/every + 1), so
# a node cut off for 4 s counts about 40 failed operations at 100 ms, not 4;
# a start skipped at the cap is a failed operation, recorded as such;
# availability per operation and per time in summary.json and the report.
load test_helper/common
load test_helper/runs

@test "a client cut off for 4 s, probed every 100 ms with a 1 s timeout, counts its failed operations open-loop" {
	fl_require_root
	lab=$(fl_lab_name o)
	# (exit 1 allowed: the scenario's bounds are speed, see below)
	run "$FALLACY" run tests/data/scenarios/cut-4s.yaml --target tests/data/scenarios/http-100ms.yaml \
		--out "$OUT" --lab "$lab"
	[ "$status" -le 1 ] || fail "run failed ($status): $output"
	ev="$OUT/events.jsonl"
	# n2's operations begun in the cut (the harness's window: from the
	# partition event to the heal event, both stamped once applied):
	# failed, all; and, of those, the ones that also ended before the heal
	# began (its event's time less its apply_ns), whose packets can only
	# have met the cut. (Not "before the heal event": a probe begun while
	# the heal was being applied, 10 ms in one CI run, finished ok before
	# its event.)
	run -0 jq -s -r --slurpfile ev "$ev" '
		($ev | map(select(.event == "partition"))[0].mono_ns) as $a |
		($ev | map(select(.event == "heal"))[0]) as $h |
		$h.mono_ns as $b | ($h.mono_ns - $h.apply_ns) as $hb |
		map(select(.node == "n2" and .start_ns >= $a and .start_ns < $b)) |
		"\(map(select(.status != "ok")) | length) \(length)" +
		" \(map(select(.end_ns <= $hb and .status == "ok")) | length)"' "$OUT/ops.jsonl"
	echo "# n2 during the 4 s cut: failed, all, ok while wholly inside: $output" >&3
	read -r failed all inside_ok <<<"$output"
	# every operation begun and ended inside the cut failed: nothing
	# reached the server
	[ "$inside_ok" -eq 0 ] || fail "$inside_ok operations of n2 succeeded wholly inside the cut"
	# open loop: 40 slots in 4 s; a closed loop (one probe at a time, 1 s
	# timeout) counts 4. A busy machine starts fewer (slots it passed while
	# late are not operations: 28-29 at a load average near 30; 11 on 2
	# Dec with fork+exec at 30 ms), and a run begun in the cut may send its
	# SYN after the heal and succeed (4 of those 11). So: at least twice
	# the closed loop's 4 failed.
	[ "$failed" -ge 8 ] || fail "only $failed failed operations of n2 during the cut ($all started)"
	# the summary's per-operation availability in the cut is these counts
	# (the bounds of cut-4s.yaml are speed: pass or fail, the figures must
	# be the operations' own)
	run -0 jq -r '.checks[] | "\(.pass) \(.name): \(.message)"' "$OUT/summary.json"
	echo "$output"
	run -0 jq -r '.checks[] | select(.name == "availability < 0.2 during cut on n2") | .message' \
		"$OUT/summary.json"
	assert_output --partial "($((all - failed)) of $all ops ok)"
	run -0 jq -r '.checks[] | select(.name == "availability by time < 0.2 during cut on n2") | .message' \
		"$OUT/summary.json"
	assert_output --regexp '\([0-9]+ of [0-9]+ 100 ms buckets with an ok op start\)'
	run -0 jq -e '.availability.ops > 0 and .availability.ops < 1 and .availability.time > 0' "$OUT/summary.json"
	run -0 grep -c "per time (100 ms buckets with an ok operation)" "$OUT/report.html"
	fl_assert_lab_gone "$lab"
}

@test "a slot that finds concurrent runs in flight is a failed operation, marked skipped, with history fields" {
	fl_require_root
	lab=$(fl_lab_name k)
	sed 's/^  timeout: 1s$/  timeout: 1s\n  concurrent: 2/' tests/data/scenarios/http-100ms.yaml >"$BATS_TEST_TMPDIR/t.yaml"
	grep -q "concurrent: 2" "$BATS_TEST_TMPDIR/t.yaml"
	# (exit 1 allowed: the outside-cut availability is speed; a CI run on a
	# slow machine had 0.22 against 0.25)
	run "$FALLACY" run tests/data/scenarios/cut-4s.yaml --target "$BATS_TEST_TMPDIR/t.yaml" \
		--out "$OUT" --lab "$lab"
	[ "$status" -le 1 ] || fail "run failed ($status): $output"
	# two runs hang for 1 s each: the other 8 slots of each second are skipped
	run -0 jq -s 'map(select(.node == "n2" and .skipped == true and .status == "fail")) | length' "$OUT/ops.jsonl"
	[ "$output" -ge 20 ] || fail "only $output skipped slots"
	# every line carries the history members (docs/consistency.md): type
	# (info for a timeout), a process (one per client, a new one after
	# info), no f (the probe's op is not of the history)
	run -0 jq -s -e 'all(has("f") | not) and
		all(.type == (if .status == "timeout" then "info" else .status end))' "$OUT/ops.jsonl"
	fl_assert_processes "$OUT/ops.jsonl"
	# two clients on n2: the runs that did start reuse two processes
	# until a timeout retires one
	run -0 jq -s -e 'map(select(.node == "n2" and .process and .type != "info") | .process) |
		length > (unique | length)' "$OUT/ops.jsonl"
	fl_assert_lab_gone "$lab"
}
