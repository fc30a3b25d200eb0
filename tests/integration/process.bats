#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Process faults: kill, pause/stop, restart and their heals as timeline
# steps and through `fallacy process`, judged by the processes' own state
# (/proc/PID/stat, ps) and by the target's operations; counted in the
# summary; a kill -9 of the run leaves nothing that cleanup does not remove.
load test_helper/common
load test_helper/runs

# Wait up to $3 seconds for event $2 (with optional jq condition $4) in
# events file $1; print its line.
wait_event() {
	local i line
	for i in $(seq $(($3 * 10))); do
		line=$(jq -c --arg e "$2" "select(.event == \$e ${4:+and $4})" "$1" 2>/dev/null | head -n 1)
		[ -n "$line" ] && { echo "$line"; return 0; }
		sleep 0.1
	done
	echo "no $2 event in $1 after $3 s" >&2
	return 1
}

# The state letter of /proc/$1/stat (R, S, T, ...), or "gone".
pstate() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo gone; return; }
	s=${s##*) }
	echo "${s%% *}"
}

@test "kill, pause and restart steps: the process is gone, stopped (T), started again with its data; clients fail meanwhile and recover" {
	fl_require_root
	lab=$(fl_lab_name p)
	ev="$OUT/events.jsonl"
	"$FALLACY" run tests/data/scenarios/process.yaml --target tests/data/scenarios/http-roles.yaml \
		--out "$OUT" --lab "$lab" >"$BATS_TEST_TMPDIR/run.log" 2>&1 &
	pid=$!
	first=$(wait_event "$ev" target-start 30 '.id == "server1"' | jq -r .pid)
	# kill: leader (the server): SIGKILL, reaped, gone
	line=$(wait_event "$ev" target-kill 30)
	[ "$(jq -r .pid <<<"$line")" = "$first" ]
	[ "$(pstate "$first")" = gone ]
	run -1 ps -p "$first"
	# healed: started again, running
	second=$(wait_event "$ev" target-start 30 '.restart == true' | jq -r .pid)
	[ -n "$second" ] || fail "no restart: $(cat "$BATS_TEST_TMPDIR/run.log")"
	[ "$second" != "$first" ]
	[ "$(pstate "$second")" != gone ]
	# pause: stopped (T) while frozen, running again after its duration
	wait_event "$ev" target-pause 20 >/dev/null
	run -0 pstate "$second"
	[ "$output" = T ] || fail "$second is $output; $(jq -c 'select(.event | test("target"))' "$ev")"
	wait_event "$ev" target-resume 20 >/dev/null
	run -0 pstate "$second"
	refute_output T
	refute_output gone
	# restart: SIGTERM (exit 143), then a third process
	line=$(wait_event "$ev" target-restart 30)
	[ "$(jq -r .status <<<"$line")" = 143 ] || fail "$line"
	st=0
	wait "$pid" || st=$?
	[ "$st" -le 1 ] || fail "run failed ($st): $(cat "$BATS_TEST_TMPDIR/run.log")"
	third=$(jq -r 'select(.event == "target-start" and .id == "server1") | .pid' "$ev" | tail -n 1)
	[ "$third" != "$second" ]
	# the clients' operations failed during the kill and the pause and came
	# back after each heal (the checks); after the restart the server served
	# its data folder again (put fetches setup.txt, which setup wrote)
	# (how fast they came back is speed: a recovery may take longer than
	# its 4 s bound on a busy machine, soak run of 2 Dec: 8.5 s; it must
	# come back within the run)
	run -0 jq -r '.checks[] | "\(.pass) \(.name): \(.message)"' "$OUT/summary.json"
	echo "$output"
	run -0 jq -r '.checks[] | select(.kind != "recovery") | .pass' "$OUT/summary.json"
	refute_output --partial false
	run -0 jq -r '.checks[] | select(.kind == "recovery") | .measured' "$OUT/summary.json"
	[ "${#lines[@]}" -eq 2 ]
	for m in "${lines[@]}"; do
		[[ "$m" =~ ^[0-9.]+(ns|us|ms|s)$ ]] || fail "no recovery: $m"
	done
	t=$(jq -s 'map(select(.event == "target-start" and .id == "server1"))[-1].mono_ns' "$ev")
	run -0 jq -s --argjson t "$t" 'map(select(.op == "put" and .start_ns > $t + 500000000 and .status == "ok")) | length' "$OUT/ops.jsonl"
	[ "$output" -gt 0 ] || fail "no put ok 0.5 s after the restart at $t: $(jq -c --argjson t "$t" 'select(.start_ns > $t) | [.op, .status, .start_ns]' "$OUT/ops.jsonl" | tail -n 20); $(tail -n 5 "$ev")"
	# events and the summary count them
	run -0 jq -c '.process_faults' "$OUT/summary.json"
	assert_output '{"kill":1,"pause":1,"restart":1}'
	run -0 jq -r 'select(.event == "kill") | .select[0].nodes[0]' "$ev"
	assert_output server1
	fl_assert_events "$ev"
	fl_assert_lab_gone "$lab"
}

@test "fallacy process acts on a running run's processes, with selectors, and the run records it" {
	fl_require_root
	lab=$(fl_lab_name c)
	ev="$OUT/events.jsonl"
	printf 'name: quiet\nduration: 30s\n' >"$BATS_TEST_TMPDIR/quiet.yaml"
	"$FALLACY" run "$BATS_TEST_TMPDIR/quiet.yaml" --target tests/data/scenarios/http-roles.yaml \
		--out "$OUT" --lab "$lab" >"$BATS_TEST_TMPDIR/run.log" 2>&1 &
	pid=$!
	wait_event "$ev" start 30 >/dev/null
	run -0 "$FALLACY" process "$lab" client pause --process idle
	assert_output "client1,client2: pause"
	for n in client1 client2; do
		p=$(jq -r --arg n "$n" 'select(.event == "target-pause" and .id == $n) | .pid' "$ev")
		run -0 pstate "$p"
		assert_output T
	done
	run -0 "$FALLACY" process "$lab" client resume
	assert_output "client1,client2: resume"
	run -0 "$FALLACY" process "$lab" leader kill
	assert_output "server1: kill"
	old=$(jq -r 'select(.event == "target-kill") | .pid' "$ev")
	[ "$(pstate "$old")" = gone ]
	run -0 "$FALLACY" process "$lab" server1 restart
	new=$(jq -r 'select(.event == "target-start" and .restart == true and .id == "server1") | .pid' "$ev")
	[ -n "$new" ]
	[ "$(pstate "$new")" != gone ]
	# bad requests: exit 2, nothing done
	run -2 "$FALLACY" process "$lab" leedr kill
	assert_output "fallacy: process: unknown node, role or selector 'leedr' (did you mean 'leader'?)"
	run -2 "$FALLACY" process "$lab" server1 kill --process nosuch
	assert_output "fallacy: process: server1 runs no process named 'nosuch'"
	run -2 "$FALLACY" process "$lab" server1 explode
	assert_output "fallacy: process: unknown action 'explode' (kill, pause, resume, restart, heal)"
	wait "$pid" || fail "run failed: $(cat "$BATS_TEST_TMPDIR/run.log")"
	run -0 jq -c '.process_faults' "$OUT/summary.json"
	assert_output '{"kill":1,"pause":2,"restart":1}'
	fl_assert_events "$ev"
}

@test "fallacy process on a lab without a run signals what runs in the nodes; restart needs a run" {
	fl_require_root
	lab=$(fl_lab_name q)
	run -0 "$FALLACY" lab up "$lab" --nodes 2
	"$FALLACY" lab exec "$lab" n2 -- sleep 300 &
	for _ in $(seq 50); do
		p=$(pgrep -f "^sleep 300$" | while read -r c; do
			[ "$(readlink "/proc/$c/ns/net")" = "$(ip netns exec "fl-$lab.n2" readlink /proc/self/ns/net)" ] && echo "$c"
		done | head -n 1)
		[ -n "$p" ] && break
		sleep 0.1
	done
	[ -n "$p" ] || fail "sleep did not start in n2"
	run -0 "$FALLACY" process "$lab" n2 pause
	assert_output "n2: 1 process signalled"
	run -0 pstate "$p"
	assert_output T
	run -0 "$FALLACY" process "$lab" n2 resume
	run -0 pstate "$p"
	refute_output T
	run -2 "$FALLACY" process "$lab" n2 restart
	assert_output "fallacy: process: restart needs the run that started the target (fallacy run); lab '$lab' has none"
	run -2 "$FALLACY" process "$lab" n1 kill
	assert_output "fallacy: process: no process runs on n1 in lab '$lab'"
	run -0 "$FALLACY" process "$lab" n2 kill
	for _ in $(seq 50); do [ "$(pstate "$p")" = gone ] || [ "$(pstate "$p")" = Z ] && break; sleep 0.1; done
	[ "$(pstate "$p")" = gone ] || [ "$(pstate "$p")" = Z ]
	run -0 "$FALLACY" --check process "$lab" leader kill
	run -0 "$FALLACY" lab down "$lab"
}

@test "kill -9 of fallacy run while its targets are paused: cleanup --all leaves no process" {
	fl_require_root
	lab=$(fl_lab_name k)
	ev="$OUT/events.jsonl"
	"$FALLACY" run tests/data/scenarios/process-long.yaml --target tests/data/scenarios/http-roles.yaml \
		--out "$OUT" --lab "$lab" >/dev/null 2>&1 &
	pid=$!
	wait_event "$ev" pause 40 >/dev/null
	pids=$(jq -r 'select(.event == "target-pause") | .pid' "$ev")
	for p in $pids; do
		run -0 pstate "$p"
		assert_output T
	done
	kill -9 "$pid"
	wait "$pid" || true
	run -0 "$FALLACY" cleanup --all
	for p in $pids; do
		for _ in $(seq 50); do [ "$(pstate "$p")" = gone ] || [ "$(pstate "$p")" = Z ] && break; sleep 0.1; done
		s=$(pstate "$p")
		[ "$s" = gone ] || [ "$s" = Z ] || fail "process $p is still there ($s)"
	done
	fl_assert_lab_gone "$lab"
}

@test "a command check at T runs after the steps due by T, however late: a restart held 3 s by a process that ignores SIGTERM delays the next step, and the check still sees it" {
	fl_require_root
	lab=$(fl_lab_name l)
	ev="$OUT/events.jsonl"
	run -0 "$FALLACY" run tests/data/scenarios/late-step.yaml \
		--target tests/data/scenarios/deaf-target.yaml --out "$OUT" --lab "$lab"
	# the restart waited out stop.grace: SIGKILL (status 137 or -1)
	run -0 jq -r 'select(.event == "target-restart") | .status' "$ev"
	refute_output 143
	late=$(jq -r 'select(.event == "admin" and .id == "stale") | .late_ns' "$ev")
	admin_t=$(jq -r 'select(.event == "admin" and .id == "stale") | .mono_ns' "$ev")
	check_t=$(jq -r 'select(.event == "check-run") | .mono_ns' "$ev")
	check_late=$(jq -r 'select(.event == "check-run") | .late_ns' "$ev")
	echo "hosts step late by $late ns (event at $admin_t), the 1.5 s check ran at $check_t, late by $check_late ns"
	[ "$late" -ge 2000000000 ]
	[ "$check_t" -ge "$admin_t" ]
	# it began once the step was applied: late by about as much
	[ "$check_late" -ge 1500000000 ]
	run -0 jq -r '.checks[] | "\(.pass) \(.measured)"' "$OUT/summary.json"
	assert_output "true exit 0"
	fl_assert_lab_gone "$lab"
}

@test "command checks due at the same time run side by side: two checks at 1 s that each wait for the other's mark both pass" {
	fl_require_root
	lab=$(fl_lab_name s)
	run "$FALLACY" run tests/data/scenarios/side-by-side.yaml \
		--target tests/data/scenarios/deaf-target.yaml --out "$OUT" --lab "$lab"
	echo "$output"
	run -0 jq -r '.checks[] | "\(.pass) \(.measured)"' "$OUT/summary.json"
	assert_output "true exit 0
true exit 0"
	# both ran during the run, each once
	run -0 jq -s 'map(select(.event == "check-run")) | length' "$OUT/events.jsonl"
	assert_output 2
	fl_assert_lab_gone "$lab"
}
