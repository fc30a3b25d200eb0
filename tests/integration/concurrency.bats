#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# fallacy-tests: long (one of the slowest files: started first; tests/run.sh)
# Several fallacy commands on one lab at once, and long add/remove loops:
# one winner or a clear error, no corrupted journal, nothing left behind
# (namespaces, map entries, slots, supervisor memory and descriptors).

load test_helper/common

setup() {
	fl_require_root
	OUT="$BATS_TEST_TMPDIR/out"
}

teardown() {
	fl_cleanup_all
}

supervisor_pid() {
	pgrep -f "__supervise $1\$"
}

# map_id PID NAME: the id of the BPF map NAME held by process PID
map_id() {
	local fd id
	for fd in /proc/"$1"/fd/*; do
		[ "$(readlink "$fd" 2>/dev/null)" = "anon_inode:bpf-map" ] || continue
		id=$(sed -n 's/^map_id:\s*//p' "/proc/$1/fdinfo/${fd##*/}")
		if bpftool -j map show id "$id" | jq -e --arg n "$2" '.name == $n' >/dev/null; then
			echo "$id"
			return 0
		fi
	done
	return 1
}

@test "lab up twice at once: one lab, the other command exits 2 naming it; lab down leaves nothing" {
	lab=$(fl_lab_name cu)
	"$FALLACY" lab up "$lab" --nodes 2 >"$BATS_TEST_TMPDIR/a" 2>&1 &
	a=$!
	"$FALLACY" lab up "$lab" --nodes 2 >"$BATS_TEST_TMPDIR/b" 2>&1 &
	b=$!
	sa=0 sb=0
	wait "$a" || sa=$?
	wait "$b" || sb=$?
	cat "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	[ $((sa + sb)) -eq 2 ] # one 0, one 2
	grep -q "lab $lab exists already" "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	run -0 "$FALLACY" lab exec "$lab" n1 -- ping -c1 -W2 n2
	run -0 "$FALLACY" lab down "$lab"
	fl_assert_lab_gone "$lab"
}

@test "20 fault adds from 20 shells at once: 20 faults with distinct ids, a journal cleanup reads" {
	lab=$(fl_lab_name cf)
	run -0 "$FALLACY" lab up "$lab" --nodes 3
	for i in $(seq 20); do
		"$FALLACY" fault add "$lab" loss 1% --from n1 --to n2 --id "p$i" \
			>"$BATS_TEST_TMPDIR/f$i" 2>&1 &
	done
	wait
	run -0 bash -c "'$FALLACY' fault list '$lab' -j | jq -r '.[].id' | sort -u | wc -l"
	assert_output 20
	for i in $(seq 20); do grep -qx "p$i" "$BATS_TEST_TMPDIR/f$i"; done
	# traffic still flows (1% loss) and the rules counted it
	run -0 "$FALLACY" lab exec "$lab" n1 -- ping -c 20 -i 0.05 -W1 -q n2
	run -0 "$FALLACY" fault clear "$lab"
	run -0 bash -c "'$FALLACY' fault list '$lab' -j | jq length"
	assert_output 0
	run -0 "$FALLACY" cleanup "$lab"
	fl_assert_lab_gone "$lab"
}

@test "500 faults added and removed in a loop leave no rules, index entries, slots, memory or descriptors" {
	lab=$(fl_lab_name cl)
	run -0 "$FALLACY" lab up "$lab" --nodes 2
	cycle() { # N cycles of a loss rule with a port and a delay rule
		local i id
		for ((i = 0; i < $1; i++)); do
			id=$("$FALLACY" fault add "$lab" loss 1% --port 5201 2>/dev/null) || return 1
			"$FALLACY" fault del "$lab" "$id" || return 1
			id=$("$FALLACY" fault add "$lab" delay 1ms --to n2 2>/dev/null) || return 1
			"$FALLACY" fault del "$lab" "$id" || return 1
		done
	}
	cycle 50
	sp=$(supervisor_pid "$lab")
	rss0=$(ps -o rss= -p "$sp")
	fds0=$(ls "/proc/$sp/fd" | wc -l)
	cycle 200
	rss1=$(ps -o rss= -p "$sp")
	fds1=$(ls "/proc/$sp/fd" | wc -l)
	echo "supervisor rss ${rss0} -> ${rss1} KiB, fds ${fds0} -> ${fds1}"
	[ "$fds1" -le "$fds0" ]
	[ $((rss1 - rss0)) -lt 1024 ] # no growth per cycle (< 1 MiB over 400 faults)
	run -0 bash -c "'$FALLACY' fault list '$lab' -j | jq length"
	assert_output 0
	# the port index is empty and the active rule generation holds nothing
	port=$(map_id "$sp" fl_idx_port)
	run -0 bash -c "bpftool -j map dump id $port | jq length"
	assert_output 0
	conf=$(map_id "$sp" fl_conf)
	run -0 bash -c "bpftool -j map dump id $conf | jq -e '.[0].formatted.value as \$v | \$v.n_rules[\$v.gen] == 0'"
	# ids went on counting: slots and ids are reused, not leaked
	run -0 "$FALLACY" fault add "$lab" loss 1% --id last
	run -0 "$FALLACY" lab down "$lab"
	fl_assert_lab_gone "$lab"
}

@test "cleanup --all while a run is active: the run stops with an error, nothing is left" {
	lab=$(fl_lab_name cr)
	"$FALLACY" run tests/data/scenarios/long.yaml --target scenarios/targets/http.yaml \
		--out "$OUT" --lab "$lab" >"$BATS_TEST_TMPDIR/run.log" 2>&1 &
	pid=$!
	for _ in $(seq 300); do
		grep -q '"id":"lossy"' "$OUT/events.jsonl" 2>/dev/null && break
		sleep 0.1
	done
	run -0 grep -q '"id":"lossy"' "$OUT/events.jsonl"
	run -0 "$FALLACY" cleanup --all
	st=0
	timeout 60 tail --pid="$pid" -f /dev/null || true
	wait "$pid" || st=$?
	cat "$BATS_TEST_TMPDIR/run.log"
	[ "$st" -ne 0 ]
	fl_assert_lab_gone "$lab"
	run -1 pgrep -f "__supervise $lab\$"
	run -1 pgrep -f "/tmp/fallacy-$lab\.[0-9a-f]{8}/"
}

@test "fault add racing lab down: either the fault lands or a clear error, and nothing is left" {
	for round in 1 2 3; do
		lab=$(fl_lab_name cd)
		run -0 "$FALLACY" lab up "$lab" --nodes 2
		"$FALLACY" fault add "$lab" loss 5% >"$BATS_TEST_TMPDIR/add" 2>&1 &
		a=$!
		"$FALLACY" lab down "$lab" >"$BATS_TEST_TMPDIR/down" 2>&1 || true
		st=0
		wait "$a" || st=$?
		echo "round $round: fault add exited $st: $(cat "$BATS_TEST_TMPDIR/add")"
		[ "$st" -eq 0 ] || [ "$st" -eq 2 ]
		"$FALLACY" lab down "$lab" >/dev/null 2>&1 || true
		fl_assert_lab_gone "$lab"
		run -1 pgrep -f "__supervise $lab\$"
	done
}
