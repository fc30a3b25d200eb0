#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Nodes that join and leave a running lab, new addresses, and faults across
# those changes; kill -9 of the supervisor in the middle of a join. One lab
# per test.

load test_helper/common
load test_helper/topo

setup() {
	topo_setup nd
}

teardown() {
	topo_teardown
}

# every pair among NODES pings by name over IPv$1
pings_by_name() {
	local fam=$1 a b
	shift
	for a in "$@"; do
		for b in "$@"; do
			[ "$a" = "$b" ] && continue
			run -0 "$FALLACY" lab exec "$lab" "$a" -- ping "-$fam" -c1 -W2 "$b"
		done
	done
}

# counter NAME of fault ID
counter() {
	"$FALLACY" fault list "$lab" -j | jq -r --arg id "$1" ".[] | select(.id == \$id) | .counters.$2"
}

@test "node add: the new node pings every other by name and every other pings it, v4 and v6" {
	run -0 "$FALLACY" lab up "$lab" --nodes 3 --ipv6
	run -0 "$FALLACY" node add "$lab" n4
	assert_output --regexp "^n4 +198\.1[89]\.[0-9]+\.4 +fdfa:11ac::(.*:)?4 +fl-$lab\.n4$"
	pings_by_name 4 n1 n2 n3 n4
	pings_by_name 6 n1 n2 n3 n4
	run -0 "$FALLACY" lab list -j
	[ "$(jq -r --arg l "$lab" '.[] | select(.name == $l) | .nodes | length' <<<"$output")" = 4 ]
	# iproute2 sees the same names: one hosts file per family class
	run -0 ip netns exec "fl-$lab.n1" getent hosts n4
	assert_output --partial "fdfa:11ac::"
	run -0 grep -c '"event":"node-join","id":"n4"' "$FALLACY_RUN_DIR/$lab/events.jsonl"
	# and every change of the readdress test's kind in the supervisor's schema
	run -0 "$FALLACY" readdress "$lab" n4
	run -0 "$FALLACY" mtu "$lab" n4 1400
	run -0 "$FALLACY" route "$lab" --from n1 --to n2 --via n4
	run -0 "$FALLACY" link "$lab" n3 down
	run -0 "$FALLACY" node remove "$lab" n4
	fl_assert_events "$FALLACY_RUN_DIR/$lab/events.jsonl"
}

@test "node add --ipv6-only / --ipv4-only: each resolves the others to what it can reach" {
	run -0 "$FALLACY" lab up "$lab" --nodes 2 --ipv6
	run -0 "$FALLACY" node add "$lab" six --ipv6-only
	assert_output --regexp "^six +- +fdfa:11ac::"
	run -0 "$FALLACY" node add "$lab" four --ipv4-only
	assert_output --regexp "^four +198\.1[89]\.[0-9.]+ +- "
	run -0 "$FALLACY" lab exec "$lab" six -- getent ahosts n1
	refute_output --partial "198.1"
	run -0 "$FALLACY" lab exec "$lab" six -- ping -c1 -W2 n1
	run -0 "$FALLACY" lab exec "$lab" n1 -- ping -6 -c1 -W2 six
	run -0 "$FALLACY" lab exec "$lab" four -- getent ahosts n2
	refute_output --partial "fdfa:"
	run -0 "$FALLACY" lab exec "$lab" four -- ping -c1 -W2 n2
	# the two share no family: neither name resolves on the other
	run -2 "$FALLACY" lab exec "$lab" four -- getent hosts six
	run -2 "$FALLACY" lab exec "$lab" six -- getent hosts four
	run -0 "$FALLACY" lab exec "$lab" n1 -- getent ahosts six
	refute_output --partial "198.1"
}

@test "node remove: processes stopped (SIGTERM, then SIGKILL), namespace gone, names follow" {
	run -0 "$FALLACY" lab up "$lab" --nodes 3 --ipv6
	before=$(link_snapshot "$lab")
	start_bg "fl-$lab.n2" sleep 1000
	start_bg "fl-$lab.n2" sh -c 'trap "" TERM; sleep 1000'
	sleep 0.3
	run -0 "$FALLACY" node remove "$lab" n2
	run -0 ip netns list
	refute_output --partial "fl-$lab.n2"
	[ ! -e "/etc/netns/fl-$lab.n2" ]
	run -0 poll 5 proc_gone "${bg_pids[0]}"
	run -0 poll 5 proc_gone "${bg_pids[1]}"
	run -2 "$FALLACY" lab exec "$lab" n1 -- getent hosts n2
	run -0 "$FALLACY" lab exec "$lab" n1 -- ping -c1 -W2 n3
	run -2 "$FALLACY" lab exec "$lab" n2 -- true
	# and back: the same node id, a new address
	run -0 "$FALLACY" node add "$lab" n2
	refute_output --regexp "198\.1[89]\.[0-9]+\.2 "
	pings_by_name 4 n1 n2 n3
	run -0 "$FALLACY" node remove "$lab" n2
	run -0 "$FALLACY" lab down "$lab"
	fl_assert_lab_gone "$lab"
	run -0 link_snapshot "$lab"
	assert_output ""
	[ -n "$before" ]
}

@test "faults across join and leave: a new node is on the data plane, a rule naming a node that left waits for it" {
	run -0 "$FALLACY" lab up "$lab" --nodes 3
	run -0 "$FALLACY" fault add "$lab" loss 100% --from n3 --to n1 --proto icmp --id n3n1
	run -0 "$FALLACY" node add "$lab" n4
	run -0 "$FALLACY" fault add "$lab" loss 100% --from n4 --to n1 --proto icmp --id n4n1
	run -1 "$FALLACY" lab exec "$lab" n4 -- ping -c2 -W1 n1
	run -0 "$FALLACY" lab exec "$lab" n4 -- ping -c1 -W2 n2
	[ "$(counter n4n1 dropped)" -eq 2 ]
	# n3 leaves: its rule stays listed, matches nothing; back, it matches again
	run -0 "$FALLACY" node remove "$lab" n3
	run -0 "$FALLACY" fault list "$lab"
	assert_output --partial "n3n1"
	assert_output --partial "--from n3 --to n1"
	run -0 "$FALLACY" node add "$lab" n3
	run -1 "$FALLACY" lab exec "$lab" n3 -- ping -c2 -W1 n1
	run -0 "$FALLACY" lab exec "$lab" n3 -- ping -c1 -W2 n2
	[ "$(counter n3n1 dropped)" -eq 2 ]
	# faults about nodes that left cannot be added
	run -0 "$FALLACY" node remove "$lab" n4
	run -2 "$FALLACY" fault add "$lab" loss 5% --to n4
	assert_output --partial "n4"
}

@test "readdress: old address dead, name follows everywhere, old TCP connection breaks, faults still match" {
	run -0 "$FALLACY" lab up "$lab" --nodes 3 --ipv6
	old4=$(node_addr "$lab" n2 4) old6=$(node_addr "$lab" n2 6)
	run -0 "$FALLACY" fault add "$lab" loss 100% --from n3 --to n2 --proto icmp --id n3n2
	run -0 "$FALLACY" fault add "$lab" loss 100% --from n3 --to n2 --proto icmpv6 --id n3n2v6
	start_bg "fl-$lab.n2" socat -T 30 TCP-LISTEN:7200,reuseaddr,fork SYSTEM:cat
	wait_tcp "fl-$lab.n2" 7200
	run -0 timeout 30 ip netns exec "fl-$lab.n1" python3 -c '
import socket, subprocess, sys
s = socket.create_connection((sys.argv[1], 7200), timeout=3)
s.sendall(b"one\n")
print("echo", s.recv(100))
subprocess.run([sys.argv[2], "readdress", sys.argv[3], "n2"], check=True)
try:
    s.sendall(b"two\n")
    print("echo", s.recv(100))
except OSError as e:
    print("broken:", e.strerror or e)
' "$old4" "$FALLACY" "$lab"
	echo "$output"
	assert_output --partial "echo b'one\n'"
	assert_output --partial "broken:"
	refute_output --partial "echo b'two\n'"
	new4=$(node_addr "$lab" n2 4) new6=$(node_addr "$lab" n2 6)
	[ "$new4" != "$old4" ]
	[ "$new6" != "$old6" ]
	run -1 ip netns exec "fl-$lab.n1" ping -c2 -W1 "$old4"
	run -1 ip netns exec "fl-$lab.n1" ping -c2 -W1 "$old6"
	for n in n1 n3; do
		run -0 "$FALLACY" lab exec "$lab" "$n" -- getent ahosts n2
		assert_output --partial "$new4"
		assert_output --partial "$new6"
		refute_output --partial "$old4 "
	done
	run -0 "$FALLACY" lab exec "$lab" n1 -- ping -4 -c1 -W2 n2
	run -0 "$FALLACY" lab exec "$lab" n1 -- ping -6 -c1 -W2 n2
	# the new name works for new connections
	run -0 timeout 10 "$FALLACY" lab exec "$lab" n1 -- socat -t 5 -T 3 - TCP:n2:7200 <<<"three"
	assert_output "three"
	# written before, with the node's name: still matches n2
	run -1 "$FALLACY" lab exec "$lab" n3 -- ping -4 -c2 -W1 n2
	run -1 "$FALLACY" lab exec "$lab" n3 -- ping -6 -c2 -W1 n2
	[ "$(counter n3n2 dropped)" -eq 2 ]
	[ "$(counter n3n2v6 dropped)" -ge 2 ]
	# and back to the old address on request
	run -0 "$FALLACY" readdress "$lab" n2 --ipv4 "$old4"
	[ "$(node_addr "$lab" n2 6)" = "$old6" ]
	run -0 ip netns exec "fl-$lab.n1" ping -c1 -W2 "$old4"
}

@test "kill -9 of the supervisor during node add, then cleanup --all leaves nothing" {
	mid=0 attempt=0
	# each attempt kills at another moment; stop once two landed in the
	# middle of a join (P(no landing in 20) is far below 1/1000)
	while [ "$mid" -lt 2 ] && [ "$attempt" -lt 20 ]; do
		attempt=$((attempt + 1))
		lab=$(fl_lab_name k)
		run -0 "$FALLACY" lab up "$lab" --nodes 2
		run -0 "$FALLACY" link "$lab" n1 up # starts the supervisor
		sup=$(sup_pid "$lab")
		(for i in $(seq 10 200); do "$FALLACY" -q node add "$lab" "x$i" || break; done) \
			>/dev/null 2>&1 &
		adder=$!
		sleep "0.$((RANDOM % 9 + 1))"
		kill -9 "$sup"
		wait "$adder" || true
		# recorded (journal) or made (namespace) but not in the lab file
		recorded=$(grep -c "^netns fl-$lab\.x" "$FALLACY_RUN_DIR/$lab/journal" || true)
		listed=$(grep -c '^node x' "$FALLACY_RUN_DIR/$lab/lab" || true)
		echo "attempt $attempt: $recorded joins recorded, $listed in the lab file"
		[ "$recorded" -gt "$listed" ] && mid=$((mid + 1))
		run -0 "$FALLACY" cleanup --all
		fl_assert_lab_gone "$lab"
		run -0 link_snapshot "$lab"
		assert_output ""
		[ ! -e "$FALLACY_RUN_DIR" ] || [ -z "$(ls -A "$FALLACY_RUN_DIR")" ]
	done
	[ "$mid" -ge 1 ] || fail "none of $attempt kills landed in the middle of a node add"
}

# getent's answer in NETNS for NAME: its first address
resolve() {
	ip netns exec "$1" getent hosts "$2" | awk '{ print $1; exit }'
}

@test "another administrator's hosts entry on n3 outlives readdress n2 and node add n4 (a process started before sees all three); its del leaves the lab's current names" {
	run -0 "$FALLACY" lab up "$lab" --nodes 3
	n3=fl-$lab.n3 go=$BATS_TEST_TMPDIR/go
	# every node has its own file (not a link to one other nodes share)
	[ -f "/etc/netns/$n3/hosts" ]
	[ ! -L "/etc/netns/$n3/hosts" ]
	# a process of n3 started before the changes reads its /etc/hosts after them
	ip netns exec "$n3" sh -c "while [ ! -e $go ]; do sleep 0.1; done; getent hosts n1 n2 n4" \
		>"$BATS_TEST_TMPDIR/late" 2>&1 &
	late=$!
	run -0 "$FALLACY" admin "$lab" n3 hosts n1 198.18.0.99
	old2=$(node_addr "$lab" n2 4)
	run -0 "$FALLACY" readdress "$lab" n2
	run -0 "$FALLACY" node add "$lab" n4
	new2=$(node_addr "$lab" n2 4) ip4=$(node_addr "$lab" n4 4)
	echo "n2 $old2 -> $new2, n4 $ip4"
	[ "$new2" != "$old2" ]
	[ "$(resolve "$n3" n1)" = 198.18.0.99 ]
	[ "$(resolve "$n3" n2)" = "$new2" ]
	[ "$(resolve "$n3" n4)" = "$ip4" ]
	touch "$go"
	wait "$late"
	cat "$BATS_TEST_TMPDIR/late"
	[ "$(awk '$2 == "n1" { print $1 }' "$BATS_TEST_TMPDIR/late")" = 198.18.0.99 ]
	[ "$(awk '$2 == "n2" { print $1 }' "$BATS_TEST_TMPDIR/late")" = "$new2" ]
	[ "$(awk '$2 == "n4" { print $1 }' "$BATS_TEST_TMPDIR/late")" = "$ip4" ]
	# the other nodes keep n1's own address
	[ "$(resolve "fl-$lab.n4" n1)" = "$(node_addr "$lab" n1 4)" ]
	# undone: n3's file is the lab's as it is now (n1's, same class)
	run -0 "$FALLACY" admin "$lab" del a1
	cmp "/etc/netns/$n3/hosts" "/etc/netns/fl-$lab.n1/hosts"
	[ "$(resolve "$n3" n2)" = "$new2" ]
	[ ! -e "$FALLACY_RUN_DIR/$lab/admin/n3.hosts" ]
}

@test "kill -9 after a hosts change and a node add: cleanup removes every node's hosts file" {
	run -0 "$FALLACY" lab up "$lab" --nodes 2
	run -0 "$FALLACY" admin "$lab" n1 hosts n2 198.18.0.98
	run -0 "$FALLACY" node add "$lab" n3
	[ "$(resolve "fl-$lab.n1" n2)" = 198.18.0.98 ]
	kill -9 "$(sup_pid "$lab")"
	run -0 "$FALLACY" cleanup "$lab"
	fl_assert_lab_gone "$lab"
	for n in n1 n2 n3; do [ ! -e "/etc/netns/fl-$lab.$n" ]; done
}
