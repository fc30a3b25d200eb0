#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# fallacy check linearizable: exit status, text and JSON output, the HTML
# timeline, malformed files, and a generated 10 000-operation history.
# Needs no privileges (no namespaces).
load test_helper/common

DATA="$BATS_TEST_DIRNAME/../data/histories"
GEN="$BATS_TEST_DIRNAME/../../bench/gen_history.py"

@test "a linearizable cas history exits 0 and says so" {
	run -0 "$FALLACY" check linearizable "$DATA/cas-ok.jsonl"
	assert_output --partial "linearizable: yes (4 operations, 1 key"
}

@test "a stale read exits 1, names the anomaly, the read and the writes, in text and JSON" {
	run -1 "$FALLACY" check linearizable "$DATA/stale-read.jsonl"
	assert_line --partial "linearizable: NO"
	assert_line --partial "stale read: process 2 read 1 (line 6); it was written by process 0 at line 1; process 1's write (line 3) completed before the read began"
	run -1 bash -c "'$FALLACY' check linearizable '$DATA/stale-read.jsonl' -j"
	echo "$output" | jq -e '.linearizable == false and .anomaly == "stale read" and
		([.concurrent[] | select(.violates)] | length) == 1 and .violation_ns == 6000'
}

@test "--html writes a self-contained timeline of the violation" {
	run -1 "$FALLACY" check linearizable "$DATA/stale-read.jsonl" --html "$BATS_TEST_TMPDIR/v.html"
	run -0 grep -c "<rect" "$BATS_TEST_TMPDIR/v.html"
	[ "$output" -ge 3 ]
	run grep -E "https?://[^w]" "$BATS_TEST_TMPDIR/v.html"
	assert_failure # nothing fetched from the network (the SVG namespace is no fetch)
	grep -q '#e05050' "$BATS_TEST_TMPDIR/v.html"
}

@test "--html escapes the values of the operations for the page" {
	sed 's/"value": 1,/"value": "<b>\&",/; s/"value": 2,/"value": "y",/' "$DATA/stale-read.jsonl" \
		>"$BATS_TEST_TMPDIR/h.jsonl"
	run -1 "$FALLACY" check linearizable "$BATS_TEST_TMPDIR/h.jsonl" --html "$BATS_TEST_TMPDIR/v.html"
	run -0 grep -c '&lt;b&gt;&amp;' "$BATS_TEST_TMPDIR/v.html"
	run -1 grep -c '<b>' "$BATS_TEST_TMPDIR/v.html"
}

@test "a malformed file exits 2 naming the line; a wrong model exits 2" {
	run -2 "$FALLACY" check linearizable "$DATA/malformed.jsonl"
	assert_output --partial "malformed.jsonl:3: expected ',' or '}'"
	run -2 "$FALLACY" check linearizable "$DATA/cas-ok.jsonl" --model kv
	assert_output --partial "is not an operation of the kv model (use --model register)"
	run -2 "$FALLACY" check linearizable "$BATS_TEST_TMPDIR/absent.jsonl"
	assert_output --partial "absent.jsonl"
}

@test "a generated 10 000-operation history with 20% unknown outcomes is linearizable; with a stale read it is not" {
	python3 "$GEN" 10000 --seed 3 >"$BATS_TEST_TMPDIR/h.jsonl"
	run -0 "$FALLACY" check linearizable "$BATS_TEST_TMPDIR/h.jsonl"
	python3 "$GEN" 10000 --seed 3 --stale-read >"$BATS_TEST_TMPDIR/b.jsonl"
	run -1 "$FALLACY" check linearizable "$BATS_TEST_TMPDIR/b.jsonl"
	assert_output --partial "stale read"
}
