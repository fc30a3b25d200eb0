#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# One rule for seeds everywhere: random unless given, always printed and
# recorded, so any run can be replayed with --seed. fault add, wrap and run.

bats_require_minimum_version 1.5.0
load test_helper/common

setup() {
	fl_require_root
	cd "$BATS_TEST_DIRNAME/../.."
	OUT=$BATS_TEST_TMPDIR/out
}

teardown() {
	fl_cleanup_all
}

# the N of "seed N (--seed N replays it)" in $1
replay_seed() {
	sed -n 's/.*seed \([0-9]*\) (--seed \([0-9]*\) replays it).*/\1 \2/p' <<<"$1" |
		awk '$1 == $2 { print $1 }'
}

@test "fault add: the seed printed is the one listed and logged; --seed with it gives the same seed" {
	lab=$(fl_lab_name s)
	run -0 "$FALLACY" lab up "$lab" --nodes 2
	run -0 --separate-stderr "$FALLACY" fault add "$lab" loss 1% --from n1 --to n2 --id a
	# shellcheck disable=SC2154 # set by run --separate-stderr
	seed=$(sed -n 's/.*--seed \([0-9]*\)$/\1/p' <<<"$stderr")
	echo "printed seed $seed"
	[ -n "$seed" ]
	run -0 "$FALLACY" fault add "$lab" loss 1% --from n1 --to n2 --id b --seed "$seed"
	run -0 "$FALLACY" fault list "$lab" -j
	run -0 jq -r '.[] | "\(.id) \(.seed)"' <<<"$output"
	assert_output "a $seed
b $seed"
	run -0 "$FALLACY" fault list "$lab"
	assert_line --regexp "^a +loss 1% --from n1 --to n2 --seed $seed\$"
	run -0 jq -rs 'map(select(.event == "fault-add")) | map(.fault.seed) | unique | .[]' \
		"$FALLACY_RUN_DIR/$lab/events.jsonl"
	assert_output "$seed"
	# another fault without --seed gets another random seed
	run -0 --separate-stderr "$FALLACY" fault add "$lab" loss 1% --id c
	[[ "$stderr" != *"--seed $seed" ]]
}

@test "wrap: the summary line's seed is in the start event and the faults; --seed replays it" {
	run -0 --separate-stderr "$FALLACY" wrap --loss 1% --out "$OUT" -- true
	seed=$(replay_seed "$stderr")
	echo "wrap seed $seed"
	[ -n "$seed" ]
	run -0 jq -rs '.[] | select(.event == "start") | .seed' "$OUT/events.jsonl"
	assert_output "$seed"
	run -0 jq -rs '.[] | select(.event == "fault") | .spec' "$OUT/events.jsonl"
	assert_output "loss 1% --dir in --seed $seed"
	run -0 jq -r '.faults[0].seed' "$OUT/counters.json"
	assert_output "$seed"
	rm -rf "$OUT"
	run -0 --separate-stderr "$FALLACY" wrap --loss 1% --seed "$seed" --out "$OUT" -- true
	[ "$(replay_seed "$stderr")" = "$seed" ]
	run -0 jq -rs '.[] | select(.event == "start") | .seed' "$OUT/events.jsonl"
	assert_output "$seed"
}

@test "run: a scenario without a seed gets one, printed on stderr, in summary.json and scenario.yaml; --seed replays it" {
	# impossible.yaml has no seed: key (its check fails: exit 1)
	run -1 --separate-stderr "$FALLACY" run tests/data/scenarios/impossible.yaml \
		--target scenarios/targets/http.yaml --out "$OUT"
	seed=$(replay_seed "$stderr")
	echo "run seed $seed"
	[ -n "$seed" ]
	[[ "$stderr" == *"fallacy: running impossible against http, seed $seed (--seed $seed replays it)"* ]]
	run -0 jq -r .seed "$OUT/summary.json"
	assert_output "$seed"
	run -0 grep -x "seed: $seed" "$OUT/scenario.yaml"
	# the fault got it too (the heal event carries the fault as listed)
	run -0 jq -rs '.[] | select(.event == "heal") | .counters' "$OUT/events.jsonl"
	assert_output --partial "\"seed\": $seed"
	# the resolved scenario replays with that seed, and so does --seed
	run -0 "$FALLACY" run "$OUT/scenario.yaml" --target scenarios/targets/http.yaml --dry-run
	assert_output --partial "on 3 nodes, seed $seed"
	refute_output --partial "(random"
	run -1 --separate-stderr "$FALLACY" run tests/data/scenarios/impossible.yaml \
		--target scenarios/targets/http.yaml --out "$OUT.2" --seed "$seed"
	[ "$(replay_seed "$stderr")" = "$seed" ]
	run -0 jq -r .seed "$OUT.2/summary.json"
	assert_output "$seed"
}
