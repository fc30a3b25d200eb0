#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Labs: namespaces, wire, addresses, names, cleanup.

load test_helper/common

setup() {
	fl_require_root
}

teardown() {
	fl_cleanup_all
}

@test "lab up 3 nodes: every pair pings over IPv4 by address and by name" {
	lab=$(fl_lab_name)
	run -0 "$FALLACY" lab up "$lab" --nodes 3
	for a in n1 n2 n3; do
		for b in n1 n2 n3; do
			[ "$a" = "$b" ] && continue
			ip=$(awk -v n="$b" '$1 == "node" && $2 == n { print $3 }' "$FALLACY_RUN_DIR/$lab/lab")
			run -0 "$FALLACY" lab exec "$lab" "$a" -- ping -4 -c1 -W2 "$ip"
			run -0 "$FALLACY" lab exec "$lab" "$a" -- ping -4 -c1 -W2 "$b"
			assert_output --partial "1 received"
			run -0 ip netns exec "fl-$lab.$a" ping -4 -c1 -W2 "$b"
		done
	done
}

@test "lab down leaves nothing of the lab" {
	lab=$(fl_lab_name)
	run -0 "$FALLACY" lab up "$lab" --nodes 3
	run -0 "$FALLACY" lab down "$lab"
	fl_assert_lab_gone "$lab"
	run ip -all netns exec ip link
	refute_output --partial "fl-$lab"
}

@test "a duplicate lab name is refused with exit 2 and a clear message" {
	lab=$(fl_lab_name)
	run -0 "$FALLACY" lab up "$lab" --nodes 2
	run -2 "$FALLACY" lab up "$lab" --nodes 2
	assert_output --partial "lab $lab exists already"
	run -0 "$FALLACY" lab exec "$lab" n1 -- ping -4 -c1 -W2 n2
}
