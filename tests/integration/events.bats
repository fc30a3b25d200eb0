#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# One events.jsonl schema (docs/results.md): every line that fallacy run,
# fallacy wrap and a fault supervisor write follows it, and each writer's
# events are all there.
load test_helper/common

setup() {
	fl_require_root
	TMP=$(mktemp -d /tmp/fallacy-events-test.XXXXXX)
}

teardown() {
	fl_cleanup_all
	rm -rf "$TMP"
}

# The distinct event names of file $1, sorted, on one line.
events_of() {
	jq -r .event "$1" | sort -u | tr '\n' ' '
}

# "EVENT ID KIND" of each supervisor event in file $1, sorted.
fault_events() {
	jq -r '"\(.event) \(.id) \(.fault.kind)"' "$1" | sort
}

@test "a run's events.jsonl follows the schema, for every kind of step" {
	lab=$(fl_lab_name v)
	run -0 "$FALLACY" run "$BATS_TEST_DIRNAME/../data/scenarios/events.yaml" \
		--target scenarios/targets/http.yaml --out "$TMP/run" --lab "$lab" --capture
	fl_assert_events "$TMP/run/events.jsonl"
	run -0 events_of "$TMP/run/events.jsonl"
	assert_output "admin capture end fault heal lab-down lab-up partition ready start target-start target-stop "
	# the lab's supervisor wrote its own events.jsonl in the session folder
	# (gone with the lab); counters.json holds the heals as the events have them
	run -0 jq -e '.heals | length == 3 and all(.event == "heal")' "$TMP/run/counters.json"
}

@test "a lab session's supervisor writes events.jsonl in the schema" {
	lab=$(fl_lab_name v)
	run -0 "$FALLACY" lab up "$lab" --nodes 2
	run -0 "$FALLACY" fault add "$lab" loss 5% --id a --from n1
	run -0 "$FALLACY" fault change "$lab" a loss 10%
	run -0 "$FALLACY" fault add "$lab" delay 1ms --id b --duration 100ms
	run -0 "$FALLACY" fault add "$lab" partition --from n1 --to n2 --id c
	run -0 "$FALLACY" fault del "$lab" c
	# b's 100 ms run out by the supervisor's clock: wait for its event
	fl_wait_until 20 grep -q '"event":"fault-expired"' "$FALLACY_RUN_DIR/$lab/events.jsonl"
	fl_assert_events "$FALLACY_RUN_DIR/$lab/events.jsonl"
	# (b may expire before c is added: compare sorted)
	run -0 fault_events "$FALLACY_RUN_DIR/$lab/events.jsonl"
	assert_output "$(printf '%s\n' 'fault-add a loss' 'fault-add b delay' 'fault-add c partition' \
		'fault-change a loss' 'fault-del c partition' 'fault-expired b delay')"
	run -0 "$FALLACY" lab down "$lab"
}

@test "fallacy admin writes admin-add and admin-del into the lab's events.jsonl in the schema" {
	lab=$(fl_lab_name v)
	run -0 "$FALLACY" lab up "$lab" --nodes 2
	run -0 "$FALLACY" admin "$lab" n2 firewall reject --proto tcp --port 7 --id fw
	run -0 "$FALLACY" admin "$lab" n1 sysctl net.core.somaxconn 64 --id conn
	run -0 "$FALLACY" admin "$lab" clear
	fl_assert_events "$FALLACY_RUN_DIR/$lab/events.jsonl"
	run -0 jq -r '"\(.event) \(.id) \(.admin.node) \(.admin.change)"' "$FALLACY_RUN_DIR/$lab/events.jsonl"
	assert_output "$(printf '%s\n' 'admin-add fw n2 firewall' 'admin-add conn n1 sysctl' \
		'admin-del conn n1 sysctl' 'admin-del fw n2 firewall')"
	run -0 "$FALLACY" lab down "$lab"
}

@test "a wrap's events.jsonl and its supervisor's follow the schema" {
	# the command copies the wrap session's supervisor events (its parent is
	# wrap) once the timeline's heal (at 1.8 s) is in them, however late
	run -0 env -u SUDO_UID -u SUDO_GID "$FALLACY" wrap -q --loss 1% --capture --out "$TMP/wrap" \
		--scenario "$BATS_TEST_DIRNAME/../data/scenarios/wrap-loss-window.yaml" -- sh -c \
		"e=\"\$FALLACY_RUN_DIR/@netns-fl-wrap-\$PPID/events.jsonl\"
		for i in \$(seq 200); do grep -q '\"fault-del\"' \"\$e\" && break; sleep 0.1; done
		cp \"\$e\" '$TMP/sup.jsonl'"
	fl_assert_events "$TMP/wrap/events.jsonl"
	run -0 events_of "$TMP/wrap/events.jsonl"
	assert_output "capture end exec exit fault heal netns start "
	fl_assert_events "$TMP/sup.jsonl"
	run -0 fault_events "$TMP/sup.jsonl"
	assert_output "$(printf '%s\n' 'fault-add cut loss' 'fault-add wrap-loss loss' 'fault-del cut loss')"
	# a command that cannot run, and a forwarded signal, are events too
	run -127 "$FALLACY" wrap -q --out "$TMP/nx" -- fallacy-no-such-command
	fl_assert_events "$TMP/nx/events.jsonl"
	run -0 jq -r 'select(.event == "exec-failed") | .errno' "$TMP/nx/events.jsonl"
	assert_output 2
}
