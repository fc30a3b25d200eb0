#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# fallacy-tests: long (one of the slowest files: started first; tests/run.sh)
# Topology steps in scenario runs: every kind applied and recorded, heal:
# all restores the lab, joins and leaves reach the target (its membership
# commands, start, probes), and the two fallacy scenarios run against the
# etcd, redis and http targets (short versions; the full ones in make demo).

load test_helper/common

setup() {
	fl_require_root
	cd "$BATS_TEST_DIRNAME/../.."
	OUT="$BATS_TEST_TMPDIR/results"
}

teardown() {
	fl_cleanup_all
}

@test "every topology step lands in events.jsonl and heal: all puts the lab back as it was" {
	lab=$(fl_lab_name tr)
	run "$FALLACY" run tests/data/scenarios/topology-heal.yaml --target scenarios/targets/http.yaml \
		--out "$OUT" --lab "$lab"
	echo "$output"
	jq -r '.checks[] | "\(.pass) \(.name): \(.message)"' "$OUT/summary.json"
	assert_success
	fl_assert_events "$OUT/events.jsonl"
	for ev in link readdress mtu route leave join flap; do
		run -0 grep -c "\"event\":\"$ev\"" "$OUT/events.jsonl"
	done
	run grep -c '"event":"error"' "$OUT/events.jsonl"
	assert_output 0
	# each step healed once, at heal: all
	for id in down moved small detour gone extra flapping; do
		run -0 grep -c "\"event\":\"heal\",\"id\":\"$id\"" "$OUT/events.jsonl"
		assert_output 1
	done
	# the joined node ran the target and probed until it left again (n1's
	# server listens on n1's first address, so after the readdress those
	# probes fail: what a readdress does to a server bound to its address)
	run -0 grep -c '"event":"target-start","id":"n4"' "$OUT/events.jsonl"
	run -0 grep -c '"event":"target-stop","id":"n4".*"why":"left"' "$OUT/events.jsonl"
	run -0 grep -c '"node":"n4","op":"get"' "$OUT/ops.jsonl"
	# the resolved scenario prints the steps as words and runs again
	run -0 grep -F '    join: "n4 --start"' "$OUT/scenario.yaml"
	run -0 "$FALLACY" run "$OUT/scenario.yaml" --target scenarios/targets/http.yaml --dry-run
	fl_assert_lab_gone "$lab"
}

@test "a step that cannot apply to the lab is refused before anything starts" {
	lab=$(fl_lab_name te)
	cat >"$BATS_TEST_TMPDIR/s.yaml" <<'YAML'
name: topo-bad
duration: 3s
timeline:
  - at: 500ms
    readdress: {node: n1, ipv4: 198.18.0.2}
YAML
	run -2 "$FALLACY" run "$BATS_TEST_TMPDIR/s.yaml" --target scenarios/targets/http.yaml \
		--out "$OUT" --lab "$lab"
	assert_output --partial "s.yaml:4:5: n1: that address is n2's"
	fl_assert_lab_gone "$lab"
}

@test "run --dry-run checks steps against the lab the earlier steps make" {
	cat >"$BATS_TEST_TMPDIR/s.yaml" <<'YAML'
name: topo-plan
duration: 5s
timeline:
  - at: 1s
    id: out
    leave: n2
  - at: 2s
    fault: {kind: loss, loss: 5%, to: n2}
YAML
	run -2 "$FALLACY" run "$BATS_TEST_TMPDIR/s.yaml" --target scenarios/targets/http.yaml --dry-run
	assert_output --partial "s.yaml:7:5: --to: node n2 left lab"
	sed -i 's/  - at: 2s/  - at: 1500ms\n    heal: out\n  - at: 2s/' "$BATS_TEST_TMPDIR/s.yaml"
	run -0 "$FALLACY" run "$BATS_TEST_TMPDIR/s.yaml" --target scenarios/targets/http.yaml --dry-run
}

# the result of check NAME (a prefix) in summary.json
check_result() {
	jq -r --arg n "$2" '.checks[] | select(.name | startswith($n)) | .pass' "$1/summary.json"
}

# a fallacy scenario against a target: it completes (checks may fail under
# load: the exit status is 0 or 1), every step applied, and the target's
# membership converged (the command check)
run_fallacy() {
	local scenario=$1 target=$2 lab
	lab=$(fl_lab_name "$3")
	run "$FALLACY" run "$scenario" --target "scenarios/targets/$target.yaml" \
		--out "$OUT/$target" --lab "$lab"
	echo "$output"
	jq -r '.checks[] | "\(.pass) \(.name): \(.message)"' "$OUT/$target/summary.json"
	[ "$status" -le 1 ]
	run grep -c '"event":"error"' "$OUT/$target/events.jsonl"
	assert_output 0
	fl_assert_lab_gone "$lab"
}

@test "topology-doesnt-change (short) against http, redis and etcd: every step applies, the follower that left comes back, membership converges" {
	for target in http redis etcd; do
		run_fallacy tests/data/scenarios/topology-short.yaml "$target" tt
		run -0 check_result "$OUT/$target" "command on leader"
		assert_output true
		# the history: etcd's is linearizable; http records no values
		if [ "$target" != redis ]; then
			run -0 check_result "$OUT/$target" "linearizable"
			assert_output "$([ "$target" = etcd ] && echo true || echo null)"
		fi
		run -0 grep -cF '"event":"heal","id":"leave","counters":[],"by":"rejoin"' \
			"$OUT/$target/events.jsonl"
		fl_assert_events "$OUT/$target/events.jsonl"
		# the node that left is the one that came back, and the follower
		# the detour went through (one node, the same at every step)
		ev="$OUT/$target/events.jsonl"
		run -0 jq -r 'select(.id == "leave" and .event == "leave") | .select[0].nodes[0]' "$ev"
		left=$output
		[[ "$left" =~ ^n[1-3]$ ]] || fail "leave resolved to '$left'"
		run -0 jq -r 'select(.id == "rejoin" and .event == "join") | .spec' "$ev"
		assert_output "join $left --start"
		run -0 jq -r 'select(.id == "lossy" and .event == "fault") | .spec' "$ev"
		assert_output "loss 10% --from $left --bidir"
		run -0 jq -r 'select(.id == "detour" and .event == "route") | .spec' "$ev"
		[[ "$output" == "route --from n"?" --to n"?" --via $left" ]] || fail "detour: $output"
	done
	run -0 grep -c '"event":"member-join","id":"'"$left"'","status":0' "$OUT/etcd/events.jsonl"
	run -0 grep -c '"event":"member-leave","id":"'"$left"'","status":0' "$OUT/etcd/events.jsonl"
}

@test "topology-doesnt-change (short) on 5 http nodes: the selectors pick nodes of the larger lab, distinct where a step needs three" {
	fl_require_root
	lab=$(fl_lab_name t5)
	run "$FALLACY" run tests/data/scenarios/topology-short.yaml --target scenarios/targets/http.yaml \
		--out "$OUT/http5" --lab "$lab" --nodes 5
	echo "$output"
	[ "$status" -le 1 ]
	ev="$OUT/http5/events.jsonl"
	run grep -c '"event":"error"' "$ev"
	assert_output 0
	run -0 jq -r 'select(.id == "leave" and .event == "leave") | .spec' "$ev"
	left=${output#leave }
	[[ "$left" =~ ^n[2-5]$ ]] || fail "leave: $output (the server n1 is the leader)"
	run -0 jq -r 'select(.id == "rejoin" and .event == "join") | .spec' "$ev"
	assert_output "join $left --start"
	run -0 jq -r 'select(.id == "detour" and .event == "route") | .spec' "$ev"
	read -r _ _ from _ to _ via <<<"$output"
	[ "$from" = n1 ] && [ "$via" = "$left" ] && [ "$to" != n1 ] && [ "$to" != "$left" ] ||
		fail "detour: $output"
	run -0 check_result "$OUT/http5" "command on leader"
	assert_output true
	fl_assert_events "$ev"
	fl_assert_lab_gone "$lab"
}
