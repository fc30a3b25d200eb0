#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Lifetimes and schedules: steps with a duration are healed by the timeline
# on time (measured from events.jsonl and from ping's own receive
# timestamps); a seeded schedule writes out the same steps for the same
# seed, other steps for another, and its resolved scenario replays them.
load test_helper/common
load test_helper/runs

@test "duration: on a partition, a fault and a pause: each healed within 100 ms of its end (events and ping agree)" {
	fl_require_root
	lab=$(fl_lab_name d)
	run -0 "$FALLACY" run tests/data/scenarios/lifetimes.yaml --target tests/data/scenarios/ping.yaml \
		--out "$OUT" --lab "$lab"
	ev="$OUT/events.jsonl"
	fl_assert_events "$ev"
	t0=$(jq -r 'select(.event == "start") | .mono_ns' "$ev")
	# the heal of each step, by its duration, against when it was due
	for spec in "cut 3000" "slow 5000" "frozen 6000"; do
		set -- $spec
		run -0 jq -r --arg id "$1" 'select(.event == "heal" and .id == $id) | "\(.reason) \(.mono_ns)"' "$ev"
		[ "${output%% *}" = duration ] || fail "$1: $output"
		late=$(( ${output##* } - t0 - $2 * 1000000 ))
		echo "# $1 healed $((late / 1000)) us after its end" >&3
		[ "$late" -ge 0 ] && [ "$late" -lt 100000000 ] || fail "$1 healed $late ns after its end"
	done
	# ping (every 20 ms, receive times from its own clock): no reply while
	# the partition was on, and replies again within 100 ms of its end
	wall0=$(jq -r 'select(.event == "start") | .wall_ns' "$ev")
	cut=$(( wall0 / 1000000 + 1000 ))
	due=$(( wall0 / 1000000 + 3000 ))
	run -0 awk -v from="$cut" -v due="$due" '
		/^\[[0-9.]+\] [0-9]+ bytes from/ {
			t = substr($1, 2, length($1) - 2) * 1000
			if (t > from + 50 && t < due - 50) inside++
			if (t >= due - 50 && !first) first = t
		}
		END { printf "%d %d\n", inside, first - due }' "$OUT/logs/n2.log"
	echo "# replies during the cut, first reply after its end (ms): $output" >&3
	set -- $output
	[ "$1" -eq 0 ] || fail "$1 replies while the partition was on"
	[ "$2" -lt 100 ] || fail "first reply $2 ms after the end"
	# the pause ended on the paused node (the server, n1)
	run -0 jq -r 'select(.event == "target-resume") | .id' "$ev"
	assert_output n1
	fl_assert_lab_gone "$lab"
}

# The timeline a dry run prints (seed $1).
timeline() {
	"$FALLACY" run tests/data/scenarios/schedule.yaml --target scenarios/targets/http.yaml \
		--dry-run --seed "$1" | sed -n '/^timeline:/,/^checks:/p'
}

@test "a schedule: the same seed writes out the same steps, another seed other ones" {
	a=$(timeline 5)
	b=$(timeline 5)
	[ "$a" = "$b" ]
	grep -q "id: sched-5" <<<"$a"
	grep -q "duration: 700ms" <<<"$a"
	differs=0
	for s in 6 7 8 9 10; do
		[ "$(timeline "$s")" != "$a" ] && differs=1
	done
	[ "$differs" -eq 1 ]
	# a bad pick is an error at its line and column
	printf 'name: s\nduration: 5s\nschedule: {every: 1s, for: 1s, pick: [restart: one]}\n' >"$BATS_TEST_TMPDIR/s.yaml"
	run -2 "$FALLACY" run "$BATS_TEST_TMPDIR/s.yaml" --target scenarios/targets/http.yaml --dry-run
	assert_output "fallacy: $BATS_TEST_TMPDIR/s.yaml:3:39: a pick must be a step that can be healed ('restart' cannot be)"
}

@test "a scheduled run writes its schedule out in the resolved scenario.yaml, which replays the same steps" {
	fl_require_root
	lab=$(fl_lab_name h)
	run -0 "$FALLACY" run tests/data/scenarios/schedule.yaml --target scenarios/targets/http.yaml \
		--out "$OUT" --lab "$lab" --seed 5
	ev="$OUT/events.jsonl"
	fl_assert_events "$ev"
	# written out in full: the steps the dry run planned, no schedule left
	run -0 sed -n '/^timeline:/,/^checks:/p' "$OUT/scenario.yaml"
	[ "$output" = "$(timeline 5)" ]
	run -1 grep -q '^schedule:' "$OUT/scenario.yaml"
	# applied on time and healed by their duration
	run -0 jq -s 'map(select(.event == "heal" and .reason == "duration")) | length' "$ev"
	assert_output 5
	run -0 jq -s 'map(select((.id // "") | startswith("sched-")) | select(.event != "heal")) | map(.id) | join(" ")' "$ev"
	assert_output '"sched-1 sched-2 sched-3 sched-4 sched-5"'
	# the resolved scenario replays the same steps (its own seed in it)
	run -0 "$FALLACY" run "$OUT/scenario.yaml" --target scenarios/targets/http.yaml --dry-run
	[ "$(sed -n '/^timeline:/,/^checks:/p' <<<"$output")" = "$(timeline 5)" ]
	fl_assert_lab_gone "$lab"
}
