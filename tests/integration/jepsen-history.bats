#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# tools/jepsen-history.py: Jepsen histories (history.edn op maps and
# jepsen.log operation lines) into fallacy's history JSONL, then
# `fallacy check linearizable` on them. Hand-written inputs in
# tests/data/jepsen/ (no Jepsen data, no mirrors); no privileges needed.
load test_helper/common

DATA="$BATS_TEST_DIRNAME/../data/jepsen"
CONV="$BATS_TEST_DIRNAME/../../tools/jepsen-history.py"

@test "EDN: ops become invocations and completions; nil reads null; nemesis left out" {
	run -0 python3 "$CONV" "$DATA/ok.edn"
	[ "${#lines[@]}" -eq 12 ] # 14 ops of clients, minus the failed cas (2)
	echo "$output" | jq -se '
		(map(select(.process == "nemesis" or .f == "start")) | length) == 0 and
		.[0] == {"process": 0, "type": "invoke", "f": "write", "value": 1, "time": 1000} and
		.[2] == {"process": 1, "type": "invoke", "f": "cas", "value": [1, 2], "time": 3000} and
		(.[3] | has("value") | not) and
		.[5] == {"process": 2, "type": "ok", "f": "read", "value": 1, "time": 4100} and
		.[7] == {"process": 0, "type": "info", "f": "write", "value": 3, "time": 6000} and
		(map(select(.type == "fail")) | map(.f)) == ["read"] and
		.[-1] == {"process": 2, "type": "ok", "f": "read", "value": 3, "time": 11000}'
}

@test "EDN: a linearizable history exits 0, a stale read 1 (through a file and a pipe)" {
	python3 "$CONV" "$DATA/ok.edn" >"$BATS_TEST_TMPDIR/ok.jsonl"
	run -0 "$FALLACY" check linearizable "$BATS_TEST_TMPDIR/ok.jsonl"
	assert_output --partial "linearizable: yes (5 operations, 1 key"
	run -1 bash -c "python3 '$CONV' '$DATA/stale.edn' | '$FALLACY' check linearizable /dev/stdin"
	assert_output --partial "linearizable: NO (3 operations"
	assert_output --partial "stale read: process 0 read 1"
}

@test "log: the same histories from jepsen.log lines; other lines skipped, times are lines" {
	run -0 python3 "$CONV" "$DATA/ok.log"
	[ "${#lines[@]}" -eq 12 ]
	echo "$output" | jq -se '
		.[0] == {"process": 0, "type": "invoke", "f": "write", "value": 1, "time": 2} and
		.[7] == {"process": 0, "type": "info", "f": "write", "value": 3, "time": 10} and
		(map(select(.type == "fail")) | map(.f)) == ["read"] and
		.[-1] == {"process": 2, "type": "ok", "f": "read", "value": 3, "time": 17} and
		(map(.time) | . == sort)'
	# EDN and log: the same operations
	diff <(python3 "$CONV" "$DATA/ok.edn" | jq -c 'del(.time)') \
		<(python3 "$CONV" "$DATA/ok.log" | jq -c 'del(.time)')
	python3 "$CONV" "$DATA/ok.log" >"$BATS_TEST_TMPDIR/ok.jsonl"
	run -0 "$FALLACY" check linearizable "$BATS_TEST_TMPDIR/ok.jsonl"
	python3 "$CONV" "$DATA/stale.log" >"$BATS_TEST_TMPDIR/stale.jsonl"
	run -1 "$FALLACY" check linearizable "$BATS_TEST_TMPDIR/stale.jsonl" -j
	echo "$output" | jq -e '.linearizable == false and .anomaly == "stale read"'
}

@test "--fail-cas: a failed cas did not happen (default) or saw another value (mismatch)" {
	run -0 python3 "$CONV" "$DATA/fail-cas.edn"
	refute_output --partial '"cas"'
	echo "$output" | jq -se 'map(.time) == [0, 1, 4, 5]' # positions (:index): no :time
	python3 "$CONV" "$DATA/fail-cas.edn" >"$BATS_TEST_TMPDIR/drop.jsonl"
	run -0 "$FALLACY" check linearizable "$BATS_TEST_TMPDIR/drop.jsonl"
	python3 "$CONV" --fail-cas mismatch "$DATA/fail-cas.edn" >"$BATS_TEST_TMPDIR/keep.jsonl"
	run -0 jq -sc 'map(select(.f == "cas")) | map(.type)' "$BATS_TEST_TMPDIR/keep.jsonl"
	assert_output '["invoke","fail"]'
	run -1 "$FALLACY" check linearizable "$BATS_TEST_TMPDIR/keep.jsonl"
	run -2 python3 "$CONV" --fail-cas maybe "$DATA/fail-cas.edn"
	assert_output --partial "--fail-cas is drop or mismatch"
}

@test "--independent: [key value] tuples become keys, each checked on its own" {
	run -2 python3 "$CONV" "$DATA/independent.edn"
	assert_output --partial "independent.edn:1: the value: expected a number"
	python3 "$CONV" --independent "$DATA/independent.edn" >"$BATS_TEST_TMPDIR/i.jsonl"
	run -0 jq -sc 'map(.key) | unique' "$BATS_TEST_TMPDIR/i.jsonl"
	assert_output '["0","1"]'
	run -1 "$FALLACY" check linearizable "$BATS_TEST_TMPDIR/i.jsonl" -j
	echo "$output" | jq -e '.keys == 2 and .key == "1" and .anomaly == "stale read"'
}

@test "malformed input exits 2 naming the file and line" {
	run -2 python3 "$CONV" "$DATA/bad-form.edn"
	assert_output "jepsen-history: $DATA/bad-form.edn:3: cannot read '@x'"
	run -2 python3 "$CONV" "$DATA/bad-f.edn"
	assert_output --partial "bad-f.edn:3: :f :txn is not a register operation"
	run -2 python3 "$CONV" "$DATA/bad.log"
	assert_output --partial "bad.log:3: unterminated vector"
	printf '[{:process 0, :type :invoke, :f :read}\n {:process 0, :type :ok, :f :read, :value "x}]\n' \
		>"$BATS_TEST_TMPDIR/s.edn"
	run -2 python3 "$CONV" "$BATS_TEST_TMPDIR/s.edn"
	assert_output --partial "s.edn:2: unterminated string"
	printf '{:process 0, :type :ok, :f :write, :value 1}\n' >"$BATS_TEST_TMPDIR/c.edn"
	run -2 python3 "$CONV" "$BATS_TEST_TMPDIR/c.edn"
	assert_output --partial "c.edn:1: a completion of process 0 without its invocation"
	run -2 python3 "$CONV" "$BATS_TEST_TMPDIR/none.edn"
	assert_output --partial "none.edn: No such file"
	echo "not a jepsen log" >"$BATS_TEST_TMPDIR/n.log"
	run -2 python3 "$CONV" "$BATS_TEST_TMPDIR/n.log"
	assert_output --partial "no operation lines"
}

@test "a history of the nemesis alone is empty (said on stderr), and linearizable" {
	printf '[{:process :nemesis, :type :info, :f :kill, :value nil}]\n' >"$BATS_TEST_TMPDIR/n.edn"
	run -0 --separate-stderr python3 "$CONV" "$BATS_TEST_TMPDIR/n.edn"
	[ -z "$output" ]
	[[ "$stderr" == *"no client operation to check"* ]]
	# the checker calls it linearizable, as Knossos does, and warns
	: >"$BATS_TEST_TMPDIR/n.jsonl"
	run -0 --separate-stderr "$FALLACY" check linearizable "$BATS_TEST_TMPDIR/n.jsonl"
	assert_output --partial "linearizable: yes (0 operations"
	[[ "$stderr" == *"no operations in it: an empty history is linearizable"* ]]
}

@test "bench/jepsen.sh: checkouts laid out like Porcupine's and Knossos's, and none" {
	local d=$BATS_TEST_TMPDIR
	mkdir -p "$d/p/test_data/jepsen" "$d/k/data/cas-register/good" "$d/k/data/cas-register/bad" \
		"$d/k/data/mutex/bad"
	cp "$DATA/stale.log" "$d/p/test_data/jepsen/etcd_000.log"
	cp "$DATA/ok.log" "$d/p/test_data/jepsen/etcd_001.log"
	cp "$DATA/ok.log" "$d/p/test_data/jepsen/etcd_002.log" # no verdict: skipped
	printf 'checkJepsen(t, 0, false)\ncheckJepsen(t, 1, true)\n' >"$d/p/porcupine_test.go"
	cp "$DATA/ok.edn" "$d/k/data/cas-register/good/"
	cp "$DATA/fail-cas.edn" "$d/k/data/cas-register/good/"
	cp "$DATA/stale.edn" "$d/k/data/cas-register/bad/"
	cp "$DATA/ok.edn" "$d/k/data/mutex/bad/m.edn"
	run -0 env PORCUPINE="$d/p" KNOSSOS="$d/k" "$BATS_TEST_DIRNAME/../../bench/jepsen.sh" "$d/j.json"
	assert_output --partial "histories 5, agreeing 5, disagreeing 0"
	assert_output --partial "skipped: knossos/mutex/bad/m.edn: mutex is not a model"
	jq -e '.histories == 5 and .agree == 5 and .oracle.agree == 5 and
		(.skipped | length) == 2 and .goals[0].pass' "$d/j.json"
	# a wrong known verdict is a disagreement, listed by name, exit 1
	mv "$d/k/data/cas-register/good/fail-cas.edn" "$d/k/data/cas-register/bad/"
	run -1 env PORCUPINE= KNOSSOS="$d/k" ORACLE=0 "$BATS_TEST_DIRNAME/../../bench/jepsen.sh" "$d/j.json"
	assert_output --partial "DISAGREES: knossos/cas-register/bad/fail-cas.edn: expected not-linearizable"
	jq -e '.disagree == ["knossos/cas-register/bad/fail-cas.edn"] and .oracle == null' "$d/j.json"
	run -0 env PORCUPINE= KNOSSOS="$d/none" "$BATS_TEST_DIRNAME/../../bench/jepsen.sh" "$d/n.json"
	assert_output --partial "bench jepsen: skipped"
	[ ! -e "$d/n.json" ]
}
