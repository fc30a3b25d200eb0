#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# A run's ops.jsonl is a history (docs/consistency.md): the target's ops
# with an f (etcd's write, read and txn-based cas on the register r) carry
# the value a read returned and a cas's [expected, new]; each client is a
# process that never has two operations open and is renumbered after an
# operation of unknown outcome; `fallacy check linearizable` reads the file
# as it is.
load test_helper/common
load test_helper/runs

# html_xpath XPATH FILE: xmllint's answer, without its complaints about
# the inline SVG (not an HTML 4 tag)
html_xpath() {
	xmllint --html --xpath "$1" "$2" 2>/dev/null
}

# What the history holds, per f and type, for the test's output.
history_counts() {
	jq -s -r 'map(select(.f)) | group_by(.f) |
		map("\(.[0].f): " + (group_by(.type) | map("\(.[0].type) \(length)") | join(", "))) |
		join("; ")' "$1"
}

@test "etcd on 3 nodes under a partition writes a history with values, a new process after info, that check linearizable accepts" {
	fl_require_root
	command -v etcd >/dev/null || skip "etcd not installed (make deps)"
	lab=$(fl_lab_name y)
	run -0 "$FALLACY" run tests/data/scenarios/history-cut.yaml --target scenarios/targets/etcd.yaml \
		--out "$OUT" --lab "$lab" --seed 16
	ops="$OUT/ops.jsonl"
	echo "# history: $(history_counts "$ops")" >&3
	# reads carry what they read: every ok read has a value, and some
	# read a value that a write or cas of the run wrote
	run -0 jq -s -e 'map(select(.f == "read" and .type == "ok")) | length > 0 and all(has("value"))' "$ops"
	run -0 jq -s -e '(map(select(.f == "write" or .f == "cas") | .value | if type == "array" then .[1] else . end)) as $w |
		map(select(.f == "read" and .type == "ok" and .value != null) | .value) |
		length > 0 and all(. as $v | $w | index([$v]) != null)' "$ops"
	# a cas carries [expected, new]; the ops without f (put) are not of the history
	run -0 jq -s -e 'map(select(.f == "cas")) | length > 0 and all(.value | type == "array" and length == 2)' "$ops"
	run -0 jq -s -e 'map(select(.op == "put")) | length > 0 and all(has("f") | not)' "$ops"
	run -0 jq -s -e 'map(select(.f)) | all(.key | test("^r[0-3]$"))' "$ops"
	fl_assert_processes "$ops"
	# n3 is cut off from 3 s to 7 s: operations of unknown outcome (info),
	# after which n3's clients go on under new (larger) process numbers
	run -0 jq -s -r 'map(select(.node == "n3" and .type == "info")) | length' "$ops"
	echo "# n3: $output operations of unknown outcome" >&3
	run -0 jq -s -e 'map(select(.node == "n3")) as $n3 | $n3 | map(select(.type == "info")) |
		length > 0 and any(. as $i | $n3 | any(.start_ns > $i.end_ns and .process > $i.process))' "$ops"
	# etcd is linearizable: the scenario's checks said so (the run exited
	# 0), in summary.json with the history's size, and so does the command
	run -0 jq -r '.checks[] | "\(.kind) \(.pass) \(.measured)"' "$OUT/summary.json"
	assert_output "linearizable true linearizable
lost-writes true 0
stale-reads true 0"
	run -0 jq -r '.checks[0].message' "$OUT/summary.json"
	assert_output --regexp '^measured linearizable \([0-9]+ operations, 4 keys\)'
	run -0 "$FALLACY" check linearizable "$ops"
	assert_output --regexp '^linearizable: yes \([0-9]+ operations, 4 keys'
	fl_assert_lab_gone "$lab"
}

@test "redis with reads from the replicas during a partition of the primary: stale reads detected, the offending operations in summary.json, junit and the report" {
	fl_require_root
	command -v redis-server >/dev/null || skip "redis-server not installed (make deps)"
	lab=$(fl_lab_name y)
	# the target's reads go to the node's own server (a replica on n2, n3),
	# all on one register: every replica read after the primary's first
	# acknowledged write of the cut is stale (not a matter of chance)
	sed -e 's/-h {{node:primary}} -p 6379 -a s3cr3t --no-auth-warning get r{{register}})/-h {{ip}} -p 6379 -a s3cr3t --no-auth-warning get r{{register}})/' \
		-e 's/^  registers: 4$/  registers: 1/' \
		scenarios/targets/redis.yaml >"$BATS_TEST_TMPDIR/redis-replicas.yaml"
	run -0 grep -c 'h {{ip}} -p 6379 -a s3cr3t --no-auth-warning get r{{register}})' "$BATS_TEST_TMPDIR/redis-replicas.yaml"
	run -0 grep -c '^  registers: 1$' "$BATS_TEST_TMPDIR/redis-replicas.yaml"
	# expected to fail: exit 1, like any check that fails
	run -1 "$FALLACY" run tests/data/scenarios/history-primary-cut.yaml \
		--target "$BATS_TEST_TMPDIR/redis-replicas.yaml" --out "$OUT" --lab "$lab" --seed 16
	echo "# history: $(history_counts "$OUT/ops.jsonl")" >&3
	run -0 jq -r '.checks[] | select(.kind == "stale-reads") | "\(.pass) \(.measured)"' "$OUT/summary.json"
	echo "# stale reads: $output" >&3
	assert_output --regexp '^false [1-9][0-9]*$'
	# each listed stale read is an ok read of ops.jsonl, with the newer
	# acknowledged write it missed, which completed before the read began
	run -0 jq -e '.checks[] | select(.kind == "stale-reads") | .offending |
		(map(select(.why == "stale read")) | length > 0 and all(.f == "read" and .type == "ok")) and
		(map(select(.why == "newer write it missed")) | length > 0 and all(.type == "ok"))' "$OUT/summary.json"
	run -0 jq -r '.checks[] | select(.kind == "stale-reads") | .offending |
		[.[] | select(.why == "stale read")][0].line' "$OUT/summary.json"
	line=$output
	run -0 jq -e -s --argjson l "$line" '.[$l - 1] | .f == "read" and .type == "ok"' "$OUT/ops.jsonl"
	run -0 jq -e -r '.checks[] | select(.kind == "stale-reads") | .offending as $o |
		($o | map(select(.why == "stale read"))[0]) as $r | ($o | map(select(.why == "newer write it missed"))[0]) as $w |
		$w.end_ns < $r.start_ns' "$OUT/summary.json"
	# linearizable fails too, naming the anomaly
	run -0 jq -r '.checks[] | select(.kind == "linearizable") | "\(.pass) \(.measured)"' "$OUT/summary.json"
	assert_output "false not linearizable"
	run -0 grep -c "stale read: process" "$OUT/report.html"
	# and drawn: the offending window, one lane per process
	run -0 grep -c '<svg class="offending"' "$OUT/report.html"
	run -0 grep -c "stale read: process" "$OUT/junit.xml"
	# a report regenerated from the results folder (summary.json) lists and
	# draws the same offending operations
	run -1 "$FALLACY" report "$OUT" --html "$BATS_TEST_TMPDIR/re.html"
	for f in "$OUT/report.html" "$BATS_TEST_TMPDIR/re.html"; do
		run -0 html_xpath 'count(//svg[@class="offending"])' "$f"
		echo "$output" >>"$BATS_TEST_TMPDIR/svgs"
		run -0 html_xpath 'string(//pre[@class="offending"])' "$f"
		echo "$output" >>"$BATS_TEST_TMPDIR/pre-$(basename "$f")"
	done
	run -0 sort -u "$BATS_TEST_TMPDIR/svgs"
	[ "${#lines[@]}" -eq 1 ] && [ "$output" -ge 1 ] || fail "drawn: $output"
	run -0 diff "$BATS_TEST_TMPDIR/pre-report.html" "$BATS_TEST_TMPDIR/pre-re.html"
	fl_assert_lab_gone "$lab"
}

# The size of the history in ops.jsonl $1 as `check linearizable` reads it:
# the operations with f, started (not skipped) and with a process.
history_size() {
	jq -s 'map(select(.f and .process and (.skipped | not))) | length' "$1"
}

@test "network-is-reliable (half its times) on etcd: linearizable and no lost write, with the history's size in summary.json and the report" {
	fl_require_root
	command -v etcd >/dev/null || skip "etcd not installed (make deps)"
	lab=$(fl_lab_name y)
	# the other checks are about speed as much as behaviour (targets.bats):
	# exit 0 or 1; the history checks are judged here
	run "$FALLACY" run scenarios/fallacies/network-is-reliable.yaml \
		--target scenarios/targets/etcd.yaml --time-scale 0.5 --out "$OUT" --lab "$lab"
	jq -r '.checks[] | "\(.pass) \(.name): \(.message)"' "$OUT/summary.json"
	[ "$status" -le 1 ] || fail "exit $status: $output"
	echo "# history: $(history_counts "$OUT/ops.jsonl")" >&3
	n=$(history_size "$OUT/ops.jsonl")
	[ "$n" -gt 50 ] || fail "only $n operations with f in ops.jsonl"
	run -0 jq -r '.checks[] | select(.kind == "linearizable") | "\(.pass) \(.message)"' "$OUT/summary.json"
	echo "# $output" >&3
	assert_output "true measured linearizable ($n operations, 4 keys), bound linearizable (register model)"
	run -0 jq -r '.checks[] | select(.kind == "lost-writes") | "\(.pass) \(.measured) \(.message)"' "$OUT/summary.json"
	assert_output --regexp "^true 0 measured 0 \\($n operations, [1-9][0-9]* final reads\\)"
	run -0 grep -c "measured linearizable ($n operations, 4 keys)" "$OUT/report.html"
	run -0 grep -c '<system-out>measured linearizable' "$OUT/junit.xml"
	# the command agrees (its count is of the operations left after those
	# that cannot matter are dropped: at most the history's)
	run -0 "$FALLACY" check linearizable "$OUT/ops.jsonl"
	assert_output --regexp '^linearizable: yes \(([0-9]+) operations, 4 keys'
	[ "$(sed -E 's/^linearizable: yes \(([0-9]+) .*/\1/' <<<"$output")" -le "$n" ]
	fl_assert_lab_gone "$lab"
}

@test "network-is-reliable on a target that records no values: its history checks are skipped, saying why, in summary.json, junit, TAP and the report" {
	fl_require_root
	lab=$(fl_lab_name y)
	run "$FALLACY" run scenarios/fallacies/network-is-reliable.yaml \
		--target scenarios/targets/http.yaml --time-scale 0.25 --out "$OUT" --lab "$lab"
	jq -r '.checks[] | "\(.pass) \(.name): \(.message)"' "$OUT/summary.json"
	[ "$status" -le 1 ] || fail "exit $status: $output"
	assert_output --partial "skip linearizable (register): target http records no values"
	run -0 jq -r '.checks[] | select(.kind == "linearizable" or .kind == "lost-writes") |
		"\(.kind) \(.pass) \(.skipped) \(.message)"' "$OUT/summary.json"
	assert_output "linearizable null true skipped: target http records no values
lost-writes null true skipped: target http records no values"
	# skipped is neither: the run's result is that of the checks judged
	run -0 jq -r 'if ([.checks[] | select(.pass == false)] | length) > 0 then "fail" else "pass" end' \
		"$OUT/summary.json"
	want=$output
	run -0 jq -r .result "$OUT/summary.json"
	assert_output "$want"
	run -0 grep -c '<skipped message="skipped: target http records no values"/>' "$OUT/junit.xml"
	assert_output 2
	run -0 grep -c '<testsuite name="network-is-reliable" tests="8" .* skipped="2"' "$OUT/junit.xml"
	run -0 grep -c '<tr class="skip"><td>skip</td><td>linearizable (register)</td>' "$OUT/report.html"
	# regenerated from summary.json, the same
	run "$FALLACY" report "$OUT" --tap
	assert_line "ok 7 - network-is-reliable: linearizable (register) # SKIP target http records no values"
	# and the plan says so before anything runs (etcd records values: no such line)
	run -0 "$FALLACY" run scenarios/fallacies/network-is-reliable.yaml --target scenarios/targets/http.yaml --dry-run
	assert_output --partial "history: none (target http records no values: no op has f), so its history checks are skipped"
	run -0 "$FALLACY" run scenarios/fallacies/network-is-reliable.yaml --target scenarios/targets/etcd.yaml --dry-run
	refute_output --partial "history: none"
	fl_assert_lab_gone "$lab"
}
