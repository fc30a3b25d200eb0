#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# fallacy-tests: long (one of the slowest files: started first; tests/run.sh)
# The targets of docs/your-own-system.md: redis with sentinels, Postgres
# with streaming replicas and the 20-line Python HTTP service each run
# network-is-reliable on 3 and on 5 nodes; the guide's scenarios do
# what the guide says (kv-converges fails its agreement check against
# http-kv, primary-cut fails Postgres's writes during the cut).
load test_helper/common
load test_helper/runs

# The checks of results folder $1 that failed, with what they measured
# (skipped ones, pass null, are not failures).
failed_checks() {
	jq -r '.checks[] | select(.pass == false) | "FAIL \(.message)"' "$1/summary.json" 2>/dev/null
}

# network-is-reliable against target $1 on 3 nodes (half its times, to keep
# the suite short): the run judges every
# check (exit 0 or 1), every step is applied, and every node's clients are
# served again after the last heal. Whether every check passes is printed,
# not failed on: the checks' bounds are about speed as much as behaviour,
# and on the shared 2-core machine at a load average near 30 a psql or
# redis-cli per operation is starved (all three passed at load 15-20,
# postgres but for its p99 latency: NOTES.md, issue 15).
runs_on_3() {
	local lab ev
	lab=$(fl_lab_name "$2")
	run "$FALLACY" run scenarios/fallacies/network-is-reliable.yaml \
		--target "scenarios/targets/$1.yaml" --time-scale 0.5 --out "$OUT/3" --lab "$lab"
	echo "# $1 on 3 nodes: exit $status; $(jq -c .availability "$OUT/3/summary.json" 2>/dev/null)" \
		"$(failed_checks "$OUT/3" | tr '\n' ' ')" >&3
	[ "$status" -le 1 ] || fail "exit $status: $output"
	ev="$OUT/3/events.jsonl"
	run -0 jq -s -r 'map(select(.event == "partition" or .event == "fault")) | length' "$ev"
	[ "$output" -eq 5 ] || fail "$output steps applied, not 5"
	run -0 jq -r '.checks | length' "$OUT/3/summary.json"
	assert_output 8
	# after the last heal, an ok operation from every node, unless the
	# machine was too busy for the clients at all (under half of all
	# operations ok: at a load average near 30, psql and redis-cli time
	# out with no fault on; then it is printed, not judged)
	run -0 jq -s -r --slurpfile ev "$ev" '
		($ev | map(select(.event == "heal")) | last.mono_ns) as $h |
		map(select(.start_ns >= $h and .status == "ok") | .node) | unique | join(" ")' "$OUT/3/ops.jsonl"
	if jq -e '.availability.ops >= 0.5' "$OUT/3/summary.json" >/dev/null; then
		assert_output "n1 n2 n3"
	else
		echo "# $1: too few operations ok to judge the recovery (served after the heal: $output)" >&3
	fi
	fl_assert_lab_gone "$lab"
}

# The same scenario on 5 nodes (a quarter of its times): the target
# starts on n1..n5 with its roles, every step is applied with its
# selectors resolved to nodes of the 5, and the run ends with its checks
# judged (exit 0 or 1), the lab gone.
runs_on_5() {
	local lab ev
	lab=$(fl_lab_name "$2")
	run "$FALLACY" run scenarios/fallacies/network-is-reliable.yaml \
		--target "scenarios/targets/$1.yaml" --nodes 5 --time-scale 0.25 --out "$OUT/5" --lab "$lab"
	echo "# $1 on 5 nodes: exit $status; $(failed_checks "$OUT/5" | tr '\n' ' ')" >&3
	[ "$status" -le 1 ] || fail "exit $status: $output"
	ev="$OUT/5/events.jsonl"
	run -0 jq -r 'select(.event == "target-start") | .id' "$ev"
	for n in n1 n2 n3 n4 n5; do assert_line "$n"; done
	run -0 jq -s -r 'map(select(.event == "partition" or .event == "fault")) | length' "$ev"
	[ "$output" -eq 5 ] || fail "$output steps applied, not 5"
	run -0 jq -s -r 'map(select(.event == "error")) | length' "$ev"
	[ "$output" -eq 0 ] || fail "$(jq -c 'select(.event == "error")' "$ev")"
	run -0 jq -r 'select(.select) | .select[] | (.nodes // (.groups | flatten)) | .[]' "$ev"
	[ -n "$output" ]
	refute_output --regexp '^(n[06-9]|n[1-9][0-9])$'
	fl_assert_lab_gone "$lab"
}

@test "redis-sentinel runs network-is-reliable on 3 and 5 nodes: roles in order, every step applied, served again after the heal" {
	fl_require_root
	command -v redis-sentinel >/dev/null || skip "redis-sentinel not installed (make deps)"
	runs_on_3 redis-sentinel s
	# roles in the events, a sentinel on every node
	run -0 jq -r 'select(.event == "target-start") | "\(.id) \(.process) \(.role)"' "$OUT/3/events.jsonl"
	assert_line "n1 redis primary"
	assert_line "n3 redis replica"
	assert_line "n2 sentinel replica"
	runs_on_5 redis-sentinel t
}

@test "postgres runs network-is-reliable on 3 and 5 nodes: setup made the table, every step applied, served again after the heal" {
	fl_require_root
	[ -x /usr/lib/postgresql/15/bin/postgres ] || skip "postgresql-15 not installed (make deps)"
	runs_on_3 postgres p
	# the setup made the table the writes go into, on the primary
	run -0 cat "$OUT/3/logs/setup.log"
	assert_output --partial "CREATE TABLE"
	run -0 jq -r 'select(.event == "target-start") | "\(.id) \(.role)"' "$OUT/3/events.jsonl"
	assert_line "n1 primary"
	assert_line "n2 replica"
	runs_on_5 postgres q
}

@test "http-kv runs network-is-reliable on 3 and 5 nodes: writes carry unique values, served again after the heal" {
	fl_require_root
	runs_on_3 http-kv h
	# writes carry their values (unique), reads none
	run -0 jq -s -e 'map(select(.f == "write") | .value) | length > 0 and length == (unique | length)' \
		"$OUT/3/ops.jsonl"
	runs_on_5 http-kv i
}

@test "the guide's kv-converges fails only its agreement check against http-kv: the nodes' counts differ" {
	fl_require_root
	lab=$(fl_lab_name c)
	run -1 "$FALLACY" run scenarios/examples/kv-converges.yaml --target scenarios/targets/http-kv.yaml \
		--out "$OUT" --lab "$lab"
	run -0 jq -r '.checks[] | "\(.kind) \(.pass)"' "$OUT/summary.json"
	echo "# $(tr '\n' ' ' <<<"$output"); counts: $(tr '\n' ' ' <"$OUT/logs/check-n1.log")" >&3
	assert_line "availability true"
	assert_line "recovery true"
	assert_line "command false"
	# three answers, not all the same
	run -0 grep -c '^[0-9]*$' "$OUT/logs/check-n1.log"
	[ "$output" -eq 3 ]
	[ "$(grep '^[0-9]*$' "$OUT/logs/check-n1.log" | sort -u | wc -l)" -gt 1 ]
	fl_assert_lab_gone "$lab"
}

@test "the guide's primary-cut: postgres (no failover) loses the majority's writes during the cut, then writes again" {
	fl_require_root
	[ -x /usr/lib/postgresql/15/bin/postgres ] || skip "postgresql-15 not installed (make deps)"
	lab=$(fl_lab_name g)
	run -1 "$FALLACY" run scenarios/examples/primary-cut.yaml --target scenarios/targets/postgres.yaml \
		--out "$OUT" --lab "$lab"
	ev="$OUT/events.jsonl"
	# the leader: command named the primary, n1, and the cut was around it
	run -0 jq -r 'select(.event == "leader") | .nodes[0]' "$ev"
	assert_line n1
	run -0 jq -r 'select(.event == "partition") | .spec' "$ev"
	assert_output "partition n1 n2,n3"
	run -0 jq -r '.checks[] | "\(.kind) \(.pass) \(.message)"' "$OUT/summary.json"
	echo "# $output" >&3
	assert_line --partial "availability false"
	assert_line --partial "recovery true"
	fl_assert_lab_gone "$lab"
}

@test "every shipped scenario plans against etcd, redis-sentinel and http on 3 and 5 nodes" {
	for s in scenarios/fallacies/*.yaml; do
		for t in etcd redis-sentinel http; do
			for n in 3 5; do
				run "$FALLACY" run "$s" --target "scenarios/targets/$t.yaml" --nodes "$n" --dry-run
				[ "$status" -eq 0 ] || fail "$s against $t on $n nodes: $output"
				assert_output --partial "on $n nodes"
			done
		done
	done
}
