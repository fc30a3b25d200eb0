#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Labs: namespaces, wire, addresses, names, cleanup.

load test_helper/common

setup() {
	fl_require_root
	foreign=()
}

teardown() {
	fl_cleanup_all
	for ns in "${foreign[@]}"; do
		ip netns delete "$ns" 2>/dev/null || true
	done
}

# node_ip LAB NODE 4|6: the address fallacy gave the node (from lab list -j)
node_ip() {
	"$FALLACY" lab list -j |
		jq -r --arg l "$1" --arg n "$2" --arg f "ipv$3" \
			'.[] | select(.name == $l) | .nodes[] | select(.name == $n) | .[$f]'
}

# Every ordered pair of nodes pings by address and by name, through
# `fallacy lab exec` and through `ip netns exec`.
all_pairs_ping() {
	local lab=$1 fam=$2 a b ip
	for a in n1 n2 n3; do
		for b in n1 n2 n3; do
			[ "$a" = "$b" ] && continue
			ip=$(node_ip "$lab" "$b" "$fam")
			[ -n "$ip" ]
			[ "$ip" != null ]
			run -0 "$FALLACY" lab exec "$lab" "$a" -- ping "-$fam" -c1 -W2 "$ip"
			run -0 "$FALLACY" lab exec "$lab" "$a" -- ping "-$fam" -c1 -W2 "$b"
			assert_output --partial "1 received"
			assert_output --partial "$ip"
			run -0 ip netns exec "fl-$lab.$a" ping "-$fam" -c1 -W2 "$b"
			assert_output --partial "$ip"
		done
	done
}

@test "lab up 3 nodes: every pair pings over IPv4 by address and by name" {
	lab=$(fl_lab_name)
	run -0 "$FALLACY" lab up "$lab" --nodes 3
	assert_output --partial "198.18."
	all_pairs_ping "$lab" 4
}

@test "lab up --ipv6: every pair pings over IPv6 by address and by name" {
	lab=$(fl_lab_name)
	run -0 "$FALLACY" lab up "$lab" --nodes 3 --ipv6
	assert_output --partial "fdfa:11ac::"
	all_pairs_ping "$lab" 6
	all_pairs_ping "$lab" 4
}

@test "addresses come only from 198.18.0.0/15 and fdfa:11ac::/64" {
	lab=$(fl_lab_name)
	run -0 "$FALLACY" lab up "$lab" --node alpha --node beta --ipv6
	for n in alpha beta; do
		run -0 ip -n "fl-$lab.$n" -o addr show dev eth0 scope global
		while read -r _ _ _ addr _; do
			[[ $addr == 198.1[89].* || $addr == fdfa:11ac::* ]] || fail "unexpected address $addr"
		done <<<"$output"
		run -0 ip -n "fl-$lab.$n" -br link show lo
		assert_output --partial "UP"
	done
	run -0 "$FALLACY" lab exec "$lab" alpha -- ping -4 -c1 -W2 beta
}

@test "the wire hands bridged traffic to iptables and ip6tables" {
	lab=$(fl_lab_name)
	run -0 "$FALLACY" lab up "$lab" --nodes 2
	run -0 ip netns exec "fl-$lab" cat /proc/sys/net/bridge/bridge-nf-call-iptables
	assert_output 1
	run -0 ip netns exec "fl-$lab" cat /proc/sys/net/bridge/bridge-nf-call-ip6tables
	assert_output 1
	run -0 ip -n "fl-$lab" -br link show master br0
	assert_output --partial "p-n1"
	assert_output --partial "p-n2"
}

# The links of the root namespace, and every namespace that belongs to
# lab $1 with its links. Other namespaces are not compared: on a shared
# machine other jobs add and remove their own namespaces and links while
# this runs, and a lab's links live only in its own namespaces (a veth
# whose namespace is deleted dies with it) or, if leaked, in the root.
link_snapshot() {
	local lab=$1 ns
	ip -o link | awk -F': ' '{ print "root " $2 }'
	for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }' | grep -E "^fl-$lab(\.|$)"); do
		echo "netns $ns"
		timeout -s KILL 10 ip -n "$ns" -o link 2>/dev/null |
			awk -v ns="$ns" -F': ' '{ print ns " " $2 }'
	done | sort
}

@test "lab down leaves nothing of the lab" {
	lab=$(fl_lab_name)
	before=$(link_snapshot "$lab")
	run -0 "$FALLACY" lab up "$lab" --nodes 3 --ipv6
	during=$(link_snapshot "$lab")
	[ "$during" != "$before" ]
	grep -q "fl-$lab.n1 eth0" <<<"$during"
	run -0 "$FALLACY" lab down "$lab"
	fl_assert_lab_gone "$lab"
	after=$(link_snapshot "$lab")
	run diff <(echo "$before") <(echo "$after")
	assert_success
}

@test "two labs at once do not see each other" {
	a=$(fl_lab_name a)
	b=$(fl_lab_name b)
	run -0 "$FALLACY" lab up "$a" --nodes 3
	run -0 "$FALLACY" lab up "$b" --nodes 3
	a2=$(node_ip "$a" n2 4)
	b1=$(node_ip "$b" n1 4)
	[ "${a2%.*}" != "${b1%.*}" ] || [ "$a2" != "$b1" ]
	# names resolve to the node of the caller's own lab
	run -0 "$FALLACY" lab exec "$a" n1 -- getent hosts n2
	assert_output --partial "$a2"
	run -0 "$FALLACY" lab exec "$b" n1 -- getent hosts n2
	refute_output --partial "$a2"
	# even with an address in the other lab's subnet, nothing crosses
	run -0 ip -n "fl-$a.n1" addr add "${b1%.*}.250/23" dev eth0
	run -1 ip netns exec "fl-$a.n1" ping -4 -c1 -W1 "$b1"
	run -0 ip netns exec "fl-$a.n1" ping -4 -c1 -W2 "$a2"
	run -0 ip netns exec "fl-$b.n2" ping -4 -c1 -W2 "$b1"
}

@test "a duplicate lab name is refused with exit 2 and a clear message" {
	lab=$(fl_lab_name)
	run -0 "$FALLACY" lab up "$lab" --nodes 2
	run -2 "$FALLACY" lab up "$lab" --nodes 2
	assert_output --partial "lab $lab exists already"
	run -0 "$FALLACY" lab exec "$lab" n1 -- ping -4 -c1 -W2 n2
}

@test "bad names and sizes are refused with exit 2 before anything is made" {
	lab=$(fl_lab_name)
	run -2 "$FALLACY" lab up "Upper$$"
	assert_output --partial "invalid lab name, 'U' not allowed"
	run -2 "$FALLACY" lab up "a.b"
	run -2 "$FALLACY" lab up "-x"
	run -2 "$FALLACY" lab up "abcdefghijklmnopq"
	assert_output --partial "at most 16"
	run -2 "$FALLACY" lab up "$lab" --node n1 --node abcdefghijklm
	assert_output --partial "at most 12"
	run -2 "$FALLACY" lab up "$lab" --node n1 --node n2 --node n1
	assert_output --partial "'n1' given twice"
	run -2 "$FALLACY" lab up "$lab" --nodes 0
	run -2 "$FALLACY" lab up "$lab" --nodes 257
	run -2 "$FALLACY" lab up "$lab" --nodes 3 --node x
	run -2 "$FALLACY" lab up
	fl_assert_lab_gone "$lab"
	[ -z "$(ls -A "$FALLACY_RUN_DIR" 2>/dev/null)" ]
}

@test "lab exec returns the command's status, 128+signal when killed" {
	lab=$(fl_lab_name)
	run -0 "$FALLACY" lab up "$lab" --nodes 1
	run -7 "$FALLACY" lab exec "$lab" n1 -- sh -c 'exit 7'
	run -143 "$FALLACY" lab exec "$lab" n1 -- sh -c 'kill -TERM $$'
	run -127 "$FALLACY" lab exec "$lab" n1 -- /nonexistent/cmd
	run -2 "$FALLACY" lab exec "$lab" n9 -- true
	assert_output --partial "has no node 'n9'"
	run -2 "$FALLACY" lab exec "nolab$$" n1 -- true
	# the command sees only the node's interfaces
	run -0 "$FALLACY" lab exec "$lab" n1 -- ls /sys/class/net
	assert_output "$(printf 'eth0\nlo')"
}

@test "lab list shows labs only, the same in text and JSON" {
	lab=$(fl_lab_name)
	run -0 "$FALLACY" lab up "$lab" --nodes 4 --ipv6
	mkdir -p "$FALLACY_RUN_DIR/@wrap-1"
	run -0 "$FALLACY" lab list
	assert_line --regexp "^$lab +up +4 +198\.1[89]\.[0-9]+\.0/23 +fdfa:11ac::/64$"
	refute_output --partial "@wrap"
	run -0 bash -c "'$FALLACY' lab list -j | jq -r '.[] | \"\(.name) \(.state) \(.nodes | length)\"'"
	assert_output "$lab up 4"
	run -0 "$FALLACY" cleanup --all
	assert_output --partial "removed @wrap-1"
	assert_output --partial "removed $lab"
	fl_assert_lab_gone "$lab"
}

@test "kill -9 during lab up --nodes 64, then cleanup --all leaves nothing" {
	mid=0
	for delay in 0 0.02 0.05 0.1 0.2; do
		lab=$(fl_lab_name k)
		"$FALLACY" lab up "$lab" --nodes 64 >/dev/null 2>&1 &
		pid=$!
		sleep "$delay"
		kill -9 "$pid" 2>/dev/null || true
		rc=0
		wait "$pid" || rc=$?
		# killed while it had built part of the lab: the case that matters
		if [ "$rc" -eq 137 ] && ip netns list | grep -q "^fl-$lab"; then
			mid=$((mid + 1))
		fi
		run -0 "$FALLACY" cleanup --all
		fl_assert_lab_gone "$lab"
		run bash -c "ip netns list 2>/dev/null | grep -c '^fl-$lab'"
		assert_output 0
		[ ! -e "$FALLACY_RUN_DIR" ] || [ -z "$(ls -A "$FALLACY_RUN_DIR")" ]
	done
	[ "$mid" -ge 2 ] || fail "only $mid of 5 kills landed in the middle of lab up"
}

@test "cleanup never removes a namespace fallacy did not create" {
	lab=$(fl_lab_name)
	other="flt-other-$$"
	foreign=("fl-$lab.n2" "$other")
	ip netns add "fl-$lab.n2"
	ip netns add "$other"
	run -2 "$FALLACY" lab up "$lab" --nodes 3
	assert_output --partial "fl-$lab.n2 exists already"
	run -0 "$FALLACY" lab up "$(fl_lab_name o)" --nodes 2
	run -0 "$FALLACY" cleanup --all
	run -0 ip netns list
	assert_output --partial "fl-$lab.n2"
	assert_output --partial "$other"
	refute_output --partial "fl-$lab "
}
