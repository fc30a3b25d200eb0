#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Faults from test code: wrap --control and lab up --control-user, the
# control socket's permissions, the Python client and its pytest fixtures,
# and that every fault added through a socket goes with its session.

bats_require_minimum_version 1.5.0
load test_helper/common
load test_helper/wrap

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
PY=/usr/bin/python3 # Debian's, where python3-pytest is

setup() {
	fl_require_root
	require_cmd setpriv
	# a run dir the wrapped user can reach (bats' own is 0700)
	FALLACY_RUN_DIR=$(mktemp -d /tmp/fallacy-ctl-run.XXXXXX)
	chmod 755 "$FALLACY_RUN_DIR"
	export FALLACY_RUN_DIR
	TMP=$(mktemp -d /tmp/fallacy-ctl-test.XXXXXX)
	chmod 777 "$TMP"
}

teardown() {
	[ -n "${WRAP_PID:-}" ] && kill -9 "$WRAP_PID" 2>/dev/null
	fl_cleanup_all
	rm -rf "$FALLACY_RUN_DIR" "$TMP"
}

# As another user than the socket's, or the socket's own.
as_user() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --clear-groups "$@"
}

# Start a wrap --control as nobody that waits for $TMP/done; sets WRAP_PID
# and SOCK once the socket is served.
wrap_waiting() {
	"$FALLACY" wrap -q --control --user nobody "$@" -- sh -c \
		'echo "$FALLACY_CONTROL" >'"$TMP"'/path; while [ ! -e '"$TMP"'/done ]; do sleep 0.05; done' \
		>"$TMP/wrap.log" 2>&1 &
	WRAP_PID=$!
	wait_for_text "$TMP/path" control.sock
	SOCK=$(cat "$TMP/path")
}

@test "a wrapped pytest suite turns a delay on and off between its tests, measured" {
	"$PY" -c 'import pytest' 2>/dev/null || skip "python3-pytest is not installed (make deps)"
	run -0 "$FALLACY" wrap --control --user nobody -- \
		"$PY" -m pytest -p no:cacheprovider -s -v "$REPO/tests/data/pytest_control"
	assert_output --partial "5 passed"
	# the suite's own bounds held; the numbers again, judged here as well
	before=$(grep -o 'rtt before [0-9.]*' <<<"$output" | awk '{ print int($3) }')
	during=$(grep -o 'rtt delay-50ms [0-9.]*' <<<"$output" | awk '{ print int($3) }')
	after=$(grep -o 'rtt after [0-9.]*' <<<"$output" | awk '{ print int($3) }')
	echo "round trips: $before ms, $during ms with delay 50ms, $after ms after"
	[ "$before" -lt 50 ]
	[ "$during" -ge 95 ]
	[ "$after" -lt 50 ]
	# and wrap counted the faults the suite added
	assert_output --regexp "faults: 3 on lo: [0-9]+ packets matched, [1-9][0-9]* dropped, .* [1-9][0-9]* delayed"
}

@test "the redis suite adds a fault mid-test through the Python client" {
	require_cmd redis-server
	run -0 "$FALLACY" wrap --control --user nobody -- "$PY" "$REPO/tests/data/redis_suite.py"
	assert_output --partial "Ran 8 tests"
	assert_output --regexp "ping [0-9.]+ ms, [0-9.]+ ms with delay 30ms, [0-9.]+ ms after"
	refute_output --partial "skipped"
}

@test "only the wrapped user and root may use the socket: another user is denied" {
	wrap_waiting
	ls -ld "$(dirname "$SOCK")" "$SOCK"
	[ "$(stat -c '%a %U' "$(dirname "$SOCK")")" = "700 nobody" ]
	[ "$(stat -c '%a %U' "$SOCK")" = "600 nobody" ]
	# another user cannot even reach it
	run -2 as_user daemon "$FALLACY" control --socket "$SOCK" list
	assert_output --partial "Permission denied"
	# one that could reach it (CAP_DAC_OVERRIDE) is refused by SO_PEERCRED
	run -1 setpriv --reuid=daemon --regid=daemon --clear-groups --inh-caps=+dac_override \
		--ambient-caps=+dac_override "$FALLACY" control --socket "$SOCK" add loss 100%
	assert_output --partial "permission denied: this control socket is for uid $(id -u nobody) (and root)"
	# the user and root are served
	run -0 as_user nobody "$FALLACY" control --socket "$SOCK" add delay 5ms --id mine
	run -0 "$FALLACY" control --socket "$SOCK" list
	assert_output --partial '"id": "mine"'
	refute_output --partial 'loss'
	touch "$TMP/done"
	wait "$WRAP_PID"
	WRAP_PID=
}

@test "faults added through the socket die with the wrap session, and are logged" {
	run -0 "$FALLACY" wrap --control --out "$TMP/out" -- sh -c '
		F='"$FALLACY"'
		$F control add delay 20ms --id slow >/dev/null
		$F control add loss 100% --port 9 --id cut >/dev/null
		$F control add rate 1mbit --port 5201 >/dev/null
		$F control del cut >/dev/null
		ip netns identify $$ >'"$TMP"'/netns
		cat /proc/self/status >/dev/null
		ping -U -c 2 -i 0.2 127.0.0.1 | tail -1'
	assert_output --regexp 'rtt min/avg/max/mdev = [0-9.]+/(4[0-9]|[5-9][0-9]|[1-9][0-9][0-9])\.'
	assert_output --partial "faults: 3 on lo"
	# nothing left: the namespace, both sessions, a supervisor
	wrapns=$(grep -o 'fl-wrap-[0-9]*' "$TMP/out/events.jsonl" | head -1)
	[ -n "$wrapns" ]
	run ip netns list
	refute_output --partial "$wrapns"
	run -0 ls -A "$FALLACY_RUN_DIR"
	assert_output ''
	run pgrep -f "__supervise @netns-$wrapns"
	assert_failure
	# the events say what the test code did, in the one schema
	fl_assert_events "$TMP/out/events.jsonl"
	run -0 jq -r 'select(.source == "control") | "\(.event) \(.id)"' "$TMP/out/events.jsonl"
	assert_line "fault slow"
	assert_line "fault cut"
	assert_line "heal cut"
	run -0 jq -r 'select(.event == "control") | .path' "$TMP/out/events.jsonl"
	assert_output --partial "/control/control.sock"
}

@test "kill -9 of wrap --control leaves only what fallacy cleanup removes" {
	wrap_waiting
	run -0 as_user nobody "$FALLACY" control --socket "$SOCK" add delay 10ms
	session=$(basename "$(dirname "$(dirname "$SOCK")")")
	kill -9 "$WRAP_PID"
	wait "$WRAP_PID" 2>/dev/null || true
	WRAP_PID=
	[ -S "$SOCK" ] # left behind ...
	run -0 "$FALLACY" cleanup --all
	[ ! -e "$SOCK" ] # ... and removed
	[ -z "$(ls -A "$FALLACY_RUN_DIR" 2>/dev/null)" ]
	run ip netns list
	refute_output --partial "fl-wrap-${session#@wrap-}"
	run pgrep -f "wrap-${session#@wrap-}"
	assert_failure
}

@test "wrap --control says so when the user cannot reach the run dir, and leaves nothing" {
	dir=$(mktemp -d /tmp/fallacy-closed.XXXXXX) # 0700, root's
	run -2 env FALLACY_RUN_DIR="$dir/run" "$FALLACY" wrap --control --user nobody -- true
	assert_output --partial "cannot reach $dir/run/@wrap-"
	assert_output --partial "the folder $dir (mode 0700, owner 0) is closed to them"
	run -0 ls -A "$dir/run"
	assert_output ''
	rm -rf "$dir"
}

@test "lab up --control-user gives the lab's faults to that user; lab down ends it" {
	lab=$(fl_lab_name k)
	run -0 "$FALLACY" lab up "$lab" --nodes 2 --control-user nobody
	sock="$FALLACY_RUN_DIR/$lab/control/control.sock"
	assert_output --partial "control socket for uid $(id -u nobody): $sock"
	run -0 as_user nobody "$FALLACY" control --socket "$sock" add delay 30ms --from n1 --to n2
	run -0 "$FALLACY" lab exec "$lab" n1 -- ping -c 3 -i 0.2 n2
	avg=$(awk -F/ '/^rtt/ { print int($5) }' <<<"$output")
	echo "rtt n1 -> n2: $avg ms"
	[ "$avg" -ge 30 ]
	run -0 "$FALLACY" fault list "$lab"
	assert_output --partial "delay 30ms --from n1 --to n2"
	run -2 as_user daemon "$FALLACY" control --socket "$sock" list
	run -0 "$FALLACY" lab list -j
	assert_output --partial "\"control\": \"$sock\""
	pid=$(pgrep -f "__control $lab ")
	[ -n "$pid" ]
	run -0 "$FALLACY" lab down "$lab"
	[ ! -e "$sock" ]
	run proc_alive "$pid"
	assert_failure
}

@test "kill -9 of a lab's control server: lab down still removes everything" {
	lab=$(fl_lab_name q)
	run -0 "$FALLACY" lab up "$lab" --nodes 2 --control-user nobody
	pid=$(pgrep -f "__control $lab ")
	[ -n "$pid" ]
	kill -9 "$pid"
	run -0 "$FALLACY" lab down "$lab"
	fl_assert_lab_gone "$lab"
}

@test "the Python client installs with pip, offline, and brings its pytest fixtures" {
	"$PY" -c 'import pytest, setuptools' 2>/dev/null || skip "python3-pytest/setuptools missing (make deps)"
	"$PY" -m venv --system-site-packages "$TMP/venv" || skip "python3 -m venv does not work here"
	# from a copy: setuptools builds in the source folder (build/, egg-info)
	cp -r "$REPO/python" "$TMP/src"
	run -0 "$TMP/venv/bin/pip" install -q --no-build-isolation --no-index --no-deps "$TMP/src"
	run -0 "$TMP/venv/bin/python" -c 'import fallacy, os; print(fallacy.__file__)'
	assert_output --partial "$TMP/venv/"
	run -0 sh -c "cd '$TMP' && '$TMP/venv/bin/python' -m pytest -p no:cacheprovider --fixtures 2>&1"
	assert_output --partial "fallacy_faults"
	assert_output --partial "fallacy_control"
	# no socket: the fixtures skip, the client says what to do
	run -1 "$TMP/venv/bin/python" -c 'import fallacy; fallacy.add("loss 1%")'
	assert_output --partial "FALLACY_CONTROL is not set"
}
