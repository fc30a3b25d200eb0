#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Roles and selectors: a target's roles, names, start items, setup,
# teardown and env; every selector resolved against the real lab and
# recorded in events.jsonl; `leader` following a real etcd leader change;
# --nodes; bad input exiting 2 with file:line:col and creating nothing.
load test_helper/common
load test_helper/runs

# Everything a run on lab $1 could have made: its namespaces and the state
# folder (other namespaces belong to tests running at the same time).
made() {
	ip netns list | grep -o "fl-$1[.][^ ]*\|fl-$1\b" | sort
	ls -A "$FALLACY_RUN_DIR" 2>/dev/null || true
}

# The nodes selector step $2 resolved to in events file $1, sorted, one line.
resolved() {
	jq -r --arg id "$2" 'select(.id == $id and .select) | .select[] |
		(.nodes // (.groups | flatten)) | .[]' "$1" | sort -u | tr '\n' ' '
}

@test "a target with roles, names and ordered start items: names, env, setup and teardown reach the commands" {
	fl_require_root
	lab=$(fl_lab_name r)
	# no checks: what this judges is the target's start, not the load (8 s:
	# enough for an ok put on a machine where most probes time out, as a
	# CI run's 5 ok of 58 in 3 s)
	printf 'name: plain\nduration: 8s\n' >"$BATS_TEST_TMPDIR/plain.yaml"
	run -0 "$FALLACY" run "$BATS_TEST_TMPDIR/plain.yaml" --target tests/data/scenarios/http-roles.yaml \
		--out "$OUT" --lab "$lab" --nodes 4
	# names of the target's choosing, one server, three clients
	for n in server1 client1 client2 client3; do
		[ -s "$OUT/logs/$n.log" ] || fail "no log for $n"
	done
	run -0 jq -r 'select(.event == "target-start") | "\(.id) \(.process) \(.role)"' "$OUT/events.jsonl"
	assert_output "server1 server server
client1 idle client
client2 idle client
client3 idle client"
	# the server was ready before the clients started (file order)
	run -0 jq -s -e '(map(select(.event == "target-start" and .id == "client1"))[0].mono_ns) >
		(map(select(.event == "target-start" and .id == "server1"))[0].mono_ns)' "$OUT/events.jsonl"
	# the target's env reaches a start command, the setup gets both envs
	run -0 grep -c "^env t-client2$" "$OUT/logs/client2.log"
	run -0 cat "$OUT/logs/setup.log"
	assert_output --partial "setup on server1"
	run -0 cat "$OUT/logs/teardown.log"
	assert_output --partial "teardown on client3"
	# both operations ran; put checked its env and {{value}}
	run -0 jq -s -e '(map(.op) | unique) == ["get", "put"]' "$OUT/ops.jsonl"
	# (the successful ones: on a busy machine some time out)
	run -0 jq -s -e 'map(select(.op == "put" and .status == "ok")) | length > 0 and
		all(.value | type == "number") and (map(.value) | length == (unique | length))' "$OUT/ops.jsonl"
	fl_assert_processes "$OUT/ops.jsonl"
	run -0 jq -s -e 'map(.node) | unique == ["client1", "client2", "client3", "server1"]' "$OUT/ops.jsonl"
	fl_assert_events "$OUT/events.jsonl"
	fl_assert_lab_gone "$lab"
}

@test "each selector resolves to nodes of the lab, is recorded, and the same seed picks the same nodes" {
	fl_require_root
	for k in 1 2; do
		lab=$(fl_lab_name s)
		run -0 "$FALLACY" run tests/data/scenarios/select.yaml \
			--target tests/data/scenarios/http-roles.yaml --out "$OUT$k" --lab "$lab" \
			--nodes 5 --seed 11
		fl_assert_events "$OUT$k/events.jsonl"
	done
	ev="$OUT"1/events.jsonl
	all="client1 client2 client3 client4 server1 "
	[ "$(resolved "$ev" halves)" = "$all" ]
	[ "$(resolved "$ev" ring)" = "$all" ]
	[ "$(resolved "$ev" every)" = "$all" ]
	[ "$(resolved "$ev" role)" = "client1 client2 client3 client4 " ]
	[ "$(resolved "$ev" lead)" = "server1 " ]
	[ "$(resolved "$ev" prim)" = "server1 " ]
	# sizes: one 1; a minority 2 of 5 against the other 3; a majority of 3
	run -0 jq -r 'select(.id == "one" and .select) | .select[0].nodes | length' "$ev"
	assert_output 1
	run -0 jq -r 'select(.id == "minor" and .select) | .select[0].groups | map(length) | join(" ")' "$ev"
	assert_output "2 3"
	run -0 jq -r 'select(.id == "major" and .select) | .select | map(.nodes | length) | join(" ")' "$ev"
	assert_output "3 2"
	# random halves split 2 against 3; the ring of 5 is 5 groups of neighbours
	run -0 jq -r 'select(.id == "halves" and .select) | .select[0].groups | map(length) | join(" ")' "$ev"
	assert_output "2 3"
	run -0 jq -r 'select(.id == "ring" and .select) | .select[0].groups | map(length) | join(" ")' "$ev"
	assert_output "2 2 2 2 2"
	# the words applied are the resolved ones; plain names are not recorded
	run -0 jq -r 'select(.event == "fault" and .id == "lead") | .spec' "$ev"
	assert_output "delay 1ms --node server1"
	run -0 jq -r 'select(.event == "fault" and .id == "names") | .select // "none"' "$ev"
	assert_output none
	# the same seed: every selection the same in both runs
	for id in halves ring minor one major; do
		[ "$(resolved "$OUT"1/events.jsonl "$id")" = "$(resolved "$OUT"2/events.jsonl "$id")" ] ||
			fail "$id resolved differently with the same seed"
		run -0 jq -c --arg id "$id" 'select(.id == $id and .select) | .select' "$OUT"1/events.jsonl
		a=$output
		run -0 jq -c --arg id "$id" 'select(.id == $id and .select) | .select' "$OUT"2/events.jsonl
		[ "$a" = "$output" ] || fail "$id: $a vs $output"
	done
	# every step was healed by its duration, with the reason
	run -0 jq -s 'map(select(.event == "heal" and .reason == "duration")) | length' "$ev"
	assert_output 10
}

@test "leader follows a real etcd leader change, and a check on: majority judges the side that kept the quorum" {
	fl_require_root
	lab=$(fl_lab_name l)
	run "$FALLACY" run tests/data/scenarios/leader-cut.yaml --target scenarios/targets/etcd.yaml \
		--out "$OUT" --lab "$lab"
	[ "$status" -le 1 ] || fail "exit $status: $output"
	first=$(jq -r 'select(.event == "partition" and .id == "cut") | .select[0].groups[0][0]' "$OUT/events.jsonl")
	then=$(jq -r 'select(.event == "fault" and .id == "after") | .select[0].nodes[0]' "$OUT/events.jsonl")
	[ -n "$first" ] && [ -n "$then" ] || fail "no leader resolved: $(cat "$OUT/events.jsonl")"
	# the cut leader lost its leadership to one of the majority, which kept it
	[ "$first" != "$then" ] || fail "leader $first before and after the cut"
	# etcd's own answer (etcdctl endpoint status, in logs/leader.log): the
	# last time it was asked, the new leader's endpoint said true
	ip=$(sed -n "s/^# fallacy: starting on $then (\([0-9.]*\)).*/\1/p" "$OUT/logs/$then.log")
	run -0 sed -n '/^# done, output:/p' "$OUT/logs/leader.log"
	assert_line --index 0 --partial "# done, output: http://"
	run -0 tail -n 1 <<<"$output"
	# (the target's endpoints are names or addresses)
	assert_output --regexp "http://($ip|$then):2379"
	# on: majority counted the operations of the two nodes that kept the
	# quorum during the cut, and only those
	run -0 jq -s -r --slurpfile ev "$OUT/events.jsonl" '
		($ev | map(select(.event == "partition" and .id == "cut"))[0]) as $p |
		($ev | map(select(.event == "heal" and .id == "cut"))[0].mono_ns) as $h |
		($p.select[0].groups[1]) as $maj |
		map(select(.start_ns >= $p.mono_ns and .start_ns < $h and (.node as $n | $maj | index($n))))
		| "\(map(select(.status == "ok")) | length) of \(length) ops ok"' "$OUT/ops.jsonl"
	want=$output
	run -0 jq -r '.checks[0].message' "$OUT/summary.json"
	assert_output --partial "($want)"
	fl_assert_events "$OUT/events.jsonl"
	fl_assert_lab_gone "$lab"
}

@test "--nodes runs the same scenario on 3 and 5 nodes; roles that do not fit exit 2" {
	for n in 3 5; do
		run -0 "$FALLACY" run scenarios/fallacies/network-is-reliable.yaml \
			--target scenarios/targets/redis-sentinel.yaml --nodes "$n" --dry-run
		assert_output --partial "on $n nodes, seed 1"
		assert_output --partial "node n$n: role replica"
		assert_output --partial "sentinel on n$n: printf"
	done
	printf 'name: r\nroles: {a: 2, b: 2}\nstart: {run: x}\nprobe: {run: x}\n' >"$BATS_TEST_TMPDIR/r.yaml"
	run -2 "$FALLACY" run scenarios/examples/smoke.yaml --target "$BATS_TEST_TMPDIR/r.yaml" --nodes 5 --dry-run
	assert_output "fallacy: $BATS_TEST_TMPDIR/r.yaml:2:8: the roles need 4 nodes, the run has 5 (--nodes N)"
	run -2 "$FALLACY" run scenarios/examples/smoke.yaml --target scenarios/targets/etcd.yaml --nodes 65
	assert_output --partial "--nodes 65: out of range"
}

@test "an unknown selector or role, leader without a leader: command, concurrent 0: exit 2 with file:line:col, nothing created" {
	fl_require_root
	lab=$(fl_lab_name b)
	before=$(made "$lab")
	for dry in --dry-run ""; do
		run -2 "$FALLACY" run tests/data/scenarios/bad-selector.yaml \
			--target scenarios/targets/etcd.yaml --lab "$lab" --out "$OUT" $dry
		assert_output "fallacy: tests/data/scenarios/bad-selector.yaml:5:5: unknown node, role or selector 'leedr' (did you mean 'leader'?)"
		run -2 "$FALLACY" run tests/data/scenarios/bad-role.yaml \
			--target scenarios/targets/redis.yaml --lab "$lab" --out "$OUT" $dry
		assert_output "fallacy: tests/data/scenarios/bad-role.yaml:5:5: unknown node, role or selector 'replca' (did you mean 'replica'?)"
		run -2 "$FALLACY" run tests/data/scenarios/leader-cut.yaml \
			--target tests/data/scenarios/http-open.yaml --lab "$lab" --out "$OUT" $dry
		assert_output "fallacy: tests/data/scenarios/leader-cut.yaml:6:5: 'leader' needs the target's 'leader:' command (target 'http-open' has none: add one, or name a role or nodes)"
	done
	printf 'name: c0\nstart: {run: x}\nprobe: {run: x, concurrent: 0}\n' >"$BATS_TEST_TMPDIR/c0.yaml"
	run -2 "$FALLACY" run scenarios/examples/smoke.yaml --target "$BATS_TEST_TMPDIR/c0.yaml" --lab "$lab"
	assert_output --partial "c0.yaml:3:29: bad value for 'concurrent': 0: out of range"
	[ "$(made "$lab")" = "$before" ]
	[ ! -e "$OUT" ]
}

@test "a leader: command that names no node: exit 2 naming its line, before the load or any step" {
	fl_require_root
	lab=$(fl_lab_name n)
	run -2 "$FALLACY" run tests/data/scenarios/leader-cut.yaml \
		--target tests/data/scenarios/leader-none.yaml --out "$OUT" --lab "$lab"
	assert_output --partial "tests/data/scenarios/leader-none.yaml:8:9: the leader: command found no leader (n1: named no node; n2: named no node; n3: named no node; see logs/leader.log)"
	# nothing was started: no operation, no step, no fault
	[ ! -s "$OUT/ops.jsonl" ]
	run -0 jq -s 'map(select(.event == "start" or .event == "partition" or .event == "fault")) | length' "$OUT/events.jsonl"
	assert_output 0
	fl_assert_lab_gone "$lab"
}

@test "a command check's node: is a selector: it runs on every node picked and passes only if all pass; selectors skip a node that left" {
	fl_require_root
	lab=$(fl_lab_name k)
	run -1 "$FALLACY" run tests/data/scenarios/check-select.yaml \
		--target tests/data/scenarios/http-roles.yaml --out "$OUT" --lab "$lab" --nodes 4
	run -0 jq -r '.checks[] | select(.kind == "command") | "\(.pass) \(.measured)"' "$OUT/summary.json"
	assert_output "true exit 0 on 3 of 3 nodes
false exit 0 on 3 of 4 nodes
true exit 0
true exit 0 on 2 of 2 nodes
false no status"
	run -0 jq -r '.checks[] | select(.kind == "command") | .message' "$OUT/summary.json"
	assert_line --index 1 --partial "first failure server1: output in logs/check-server1.log"
	assert_line --index 4 --partial "'client3': client3 left the lab: nothing to run the command in"
	# each run of a check is recorded: its nodes, their statuses, the selector
	run -0 jq -c 'select(.event == "check-run") | [.nodes, .status, (.select // [] | map(.selector))]' "$OUT/events.jsonl"
	assert_output --partial '[["client1","client2","client3"],[0,0,0],["client"]]'
	assert_output --partial '[["server1","client1","client2","client3"],[1,0,0,0],["all"]]'
	assert_output --partial '[["server1"],[0],["leader"]]'
	# at 5 s client3 had left: the check and the step after the leave skip it
	assert_output --partial '[["client1","client2"],[0,0],["client"]]'
	run -0 jq -c 'select(.event == "fault" and .id == "after") | .select[0].nodes' "$OUT/events.jsonl"
	assert_output '["client1","client2"]'
	fl_assert_events "$OUT/events.jsonl"
	fl_assert_lab_gone "$lab"
}

@test "a topology step whose selector picks several nodes: exit 2 naming file:line:col, the selector and the nodes, nothing created" {
	fl_require_root
	lab=$(fl_lab_name o)
	before=$(made "$lab")
	for dry in --dry-run ""; do
		run -2 "$FALLACY" run tests/data/scenarios/one-node.yaml \
			--target tests/data/scenarios/http-roles.yaml --lab "$lab" --out "$OUT" --nodes 4 $dry
		assert_output "fallacy: tests/data/scenarios/one-node.yaml:6:5: 'client' picked 3 nodes (client1,client2,client3) where one node is needed: use leader, one, a node's name, or a role of one node"
	done
	[ "$(made "$lab")" = "$before" ]
	[ ! -e "$OUT" ]
}

@test "picked:ID of a step that has not run yet, or in a check's node: exit 2 naming file:line:col, nothing created" {
	fl_require_root
	lab=$(fl_lab_name pk)
	before=$(made "$lab")
	f=$BATS_TEST_TMPDIR/picked.yaml
	printf 'name: p\nduration: 4s\ntimeline:\n  - {at: 1s, id: first, fault: {kind: loss, loss: 1%%, from: picked:later}}\n  - {at: 2s, id: later, leave: one}\n' >"$f"
	run -2 "$FALLACY" run "$f" --target scenarios/targets/http.yaml --lab "$lab" --out "$OUT"
	assert_output "fallacy: $f:4:5: 'picked:later': no step with id 'later' ran before this one"
	printf 'name: p\nduration: 4s\ntimeline:\n  - {at: 1s, id: gone, leave: one}\nchecks:\n  - command: {node: picked:gone, run: "true"}\n' >"$f"
	run -2 "$FALLACY" run "$f" --target scenarios/targets/http.yaml --lab "$lab" --out "$OUT"
	assert_output --partial "$f:6:5: 'picked:gone' names what an earlier step picked: it is for a step's nodes"
	[ "$(made "$lab")" = "$before" ]
	[ ! -e "$OUT" ]
}

@test "every shipped fallacy scenario plans on 3 and 5 nodes of etcd, redis-sentinel, http-kv and a target with names of its own, naming no node itself" {
	for s in scenarios/fallacies/*.yaml; do
		for t in scenarios/targets/etcd.yaml scenarios/targets/redis-sentinel.yaml \
			scenarios/targets/http-kv.yaml tests/data/scenarios/http-roles.yaml; do
			for n in 3 5; do
				run -0 "$FALLACY" run "$s" --target "$t" --nodes "$n" --dry-run
				assert_output --partial "on $n nodes"
			done
		done
		# the timeline and the checks use selectors; only a scenario's own
		# lab: section (which makes its nodes) may name nodes
		grep -q '^lab:' "$s" && continue
		run -0 "$FALLACY" run "$s" --target scenarios/targets/etcd.yaml --dry-run
		run -0 sh -c 'sed -n "/^timeline:/,/^target:/p" | grep -nE "(^|[^a-z0-9_.-])n[0-9]+([^a-z0-9_.-]|$)" || true' <<<"$output"
		[ -z "$output" ] || fail "$s names nodes: $output"
	done
}

@test "admin hosts takes selectors of one node and an address template, resolved in the run and recorded" {
	fl_require_root
	lab=$(fl_lab_name h)
	run -0 "$FALLACY" run tests/data/scenarios/admin-select.yaml \
		--target tests/data/scenarios/http-roles.yaml --out "$OUT" --lab "$lab"
	ev="$OUT/events.jsonl"
	# stale: on a node that is neither the leader nor the follower
	run -0 jq -r 'select(.event == "admin" and .id == "stale") | .spec' "$ev"
	read -r x word name f <<<"$output"
	[ "$word" = hosts ] && [ "$name" = server1 ] || fail "stale: $output"
	[ "$x" != server1 ] && [ "$x" != "$f" ] && [ "$f" != server1 ] || fail "stale: $output"
	# pinned: db at the follower's address, written as an address
	run -0 jq -r 'select(.event == "admin" and .id == "pinned") | .spec' "$ev"
	read -r y word name ip <<<"$output"
	[ "$name" = db ] && [[ "$ip" =~ ^198\.1[89]\. ]] || fail "pinned: $output"
	run -0 jq -r 'select(.event == "admin" and .id == "pinned") | .select[] | select(.addr) | "\(.selector) \(.nodes[0]) \(.addr)"' "$ev"
	assert_output "{{ip:follower}} $f $ip"
	# what the nodes resolved: the stale node finds server1 at the
	# follower's address, the pinned node finds db there; server1 itself
	# resolves its own name to another address
	run -0 awk '$2 == "server1" { print $1 }' "$OUT/logs/check-$x.log"
	assert_output "$ip"
	run -0 awk '$2 == "db" { print $1 }' "$OUT/logs/check-$y.log"
	assert_output "$ip"
	run -0 awk '$2 == "server1" { print $1 }' "$OUT/logs/check-server1.log"
	[ -n "$output" ] && [ "$output" != "$ip" ] || fail "server1 resolves itself to '$output'"
	fl_assert_events "$ev"
	fl_assert_lab_gone "$lab"
}
