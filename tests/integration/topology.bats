#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Live topology changes of a running lab: carrier loss, flapping links,
# link MTUs, routes through a node, and bad input. One lab per test.

load test_helper/common
load test_helper/topo

setup() {
	topo_setup tp
}

teardown() {
	topo_teardown
}

# flags,operstate of IFNAME in NETNS, e.g. "NO-CARRIER,BROADCAST,MULTICAST,UP DOWN"
link_state() {
	ip -j -n "$1" link show "$2" | jq -r '.[0] | "\(.flags | join(",")) \(.operstate)"'
}

@test "link down: carrier loss on both ends and pings fail; link up brings both back" {
	run -0 "$FALLACY" lab up "$lab" --nodes 3 --ipv6
	run -0 "$FALLACY" lab exec "$lab" n2 -- ping -4 -c1 -W2 n1
	run -0 "$FALLACY" link "$lab" n1 down
	run -0 link_state "fl-$lab.n1" eth0
	echo "node end: $output"
	assert_output --regexp '^([A-Z_]+,)*NO-CARRIER,'
	refute_output --partial "LOWER_UP"
	refute_output --regexp ' UP$'
	run -0 link_state "fl-$lab" p-n1
	echo "wire end: $output"
	refute_output --regexp '(<|,)UP(,| )'
	assert_output --regexp ' DOWN$'
	run -1 "$FALLACY" lab exec "$lab" n2 -- ping -4 -c2 -W1 n1
	run -1 "$FALLACY" lab exec "$lab" n2 -- ping -6 -c2 -W1 n1
	run -0 "$FALLACY" lab exec "$lab" n2 -- ping -4 -c1 -W2 n3
	run -0 "$FALLACY" link "$lab" n1 up
	run -0 link_state "fl-$lab.n1" eth0
	assert_output --regexp 'LOWER_UP UP$'
	run -0 link_state "fl-$lab" p-n1
	assert_output --regexp 'LOWER_UP UP$'
	# neighbour entries that failed meanwhile are retried by the kernel
	run -0 poll 10 "$FALLACY" lab exec "$lab" n2 -- ping -4 -c1 -W1 n1
	run -0 poll 10 "$FALLACY" lab exec "$lab" n2 -- ping -6 -c1 -W1 n1
	run -0 grep -c '"event":"link-down","id":"n1"' "$FALLACY_RUN_DIR/$lab/events.jsonl"
}

# admin-state changes of p-NODE seen by `ip monitor link` in file $1,
# starting from up: "DUDU..."
transitions() {
	awk -v port="$2" '$2 ~ "^" port "@" {
		up = ($3 ~ /[<,]UP[,>]/) ? "U" : "D"
		if (up != last) { printf "%s", up; last = up }
	} BEGIN { last = "U" }' "$1"
}

@test "link flap --count 3: ip monitor sees exactly 3 downs and 3 ups, then the link stays up" {
	run -0 "$FALLACY" lab up "$lab" --nodes 2
	mon=$BATS_TEST_TMPDIR/monitor
	ip -n "fl-$lab" monitor link >"$mon" 2>&1 &
	bg_pids+=($!)
	sleep 0.5
	run -0 "$FALLACY" link "$lab" n2 flap --period 400ms --count 3 --down-for 150ms
	run -0 poll 20 grep -q '"event":"flap-end","id":"n2"' "$FALLACY_RUN_DIR/$lab/events.jsonl"
	sleep 0.5
	run -0 transitions "$mon" p-n2
	echo "transitions: $output"
	assert_output "DUDUDU"
	run -0 link_state "fl-$lab" p-n2
	assert_output --regexp 'LOWER_UP UP$'
	run -0 "$FALLACY" lab exec "$lab" n1 -- ping -c1 -W2 n2
	# each transition is an event on the supervisor's clock
	run -0 grep -c '"event":"link-down","id":"n2","flap":true' \
		"$FALLACY_RUN_DIR/$lab/events.jsonl"
	assert_output 3
	fl_assert_events "$FALLACY_RUN_DIR/$lab/events.jsonl"
}

@test "a flap without --count stops on 'link up' and the link stays up" {
	run -0 "$FALLACY" lab up "$lab" --nodes 2
	run -0 "$FALLACY" link "$lab" n1 flap --period 300ms
	sleep 1
	run -0 "$FALLACY" link "$lab" n1 up
	mon=$BATS_TEST_TMPDIR/monitor
	ip -n "fl-$lab" monitor link >"$mon" 2>&1 &
	bg_pids+=($!)
	sleep 1.5
	run -0 transitions "$mon" p-n1
	echo "transitions after link up: '$output'"
	assert_output ""
	run -0 link_state "fl-$lab" p-n1
	assert_output --regexp 'LOWER_UP UP$'
}

@test "a flapping link stops when the lab goes down: supervisor gone, nothing left" {
	run -0 "$FALLACY" lab up "$lab" --nodes 2
	run -0 "$FALLACY" link "$lab" n1 flap --period 200ms
	sup=$(sup_pid "$lab")
	[ -n "$sup" ]
	kill -0 "$sup"
	run -0 "$FALLACY" lab down "$lab"
	run -0 poll 5 proc_gone "$sup"
	fl_assert_lab_gone "$lab"
	run -0 link_snapshot "$lab"
	assert_output ""
}

@test "mtu 1280: too-big answers for IPv4 and IPv6, 1200-byte pings pass, both veth ends show it" {
	run -0 "$FALLACY" lab up "$lab" --nodes 3 --ipv6
	run -0 "$FALLACY" mtu "$lab" n3 1280
	run -0 ip -n "fl-$lab.n3" link show eth0
	assert_output --partial "mtu 1280"
	run -0 ip -n "fl-$lab" link show p-n3
	assert_output --partial "mtu 1280"
	run -1 "$FALLACY" lab exec "$lab" n1 -- ping -4 -M do -s 1400 -c1 -W2 n3
	assert_output --partial "Frag needed and DF set (mtu = 1280)"
	run -1 "$FALLACY" lab exec "$lab" n1 -- ping -6 -M do -s 1400 -c1 -W2 n3
	assert_output --partial "Packet too big: mtu=1280"
	run -0 "$FALLACY" lab exec "$lab" n1 -- ping -4 -M do -s 1200 -c2 -W2 n3
	run -0 "$FALLACY" lab exec "$lab" n1 -- ping -6 -M do -s 1200 -c2 -W2 n3
	# the node itself cannot send more
	run -1 "$FALLACY" lab exec "$lab" n3 -- ping -4 -M do -s 1400 -c1 -W2 n1
	assert_output --partial "message too long"
	# other links are untouched
	run -0 "$FALLACY" lab exec "$lab" n1 -- ping -4 -M do -s 1400 -c1 -W2 n2
	run -0 "$FALLACY" mtu "$lab" n3 1500
	run -0 "$FALLACY" lab exec "$lab" n2 -- ping -4 -M do -s 1400 -c1 -W2 n3
	run -0 "$FALLACY" lab exec "$lab" n2 -- ping -6 -M do -s 1400 -c1 -W2 n3
}

# mtu-blackhole's path in the data plane's own "packet too big": the
# message the small link would send quotes a packet of the black hole's path
@test "a black hole behind a small link: mtu 1280 on n3 and mtu-blackhole 1400 n1->n3: n1's 1300-byte pings vanish without a too-big (v4, v6), n2's still get one, the heal brings n1's back" {
	run -0 "$FALLACY" lab up "$lab" --nodes 3 --ipv6
	run -0 "$FALLACY" mtu "$lab" n3 1280
	id=$("$FALLACY" fault add "$lab" mtu-blackhole 1400 --from n1 --to n3)
	# 1300 + 28 = 1328 bytes: within the black hole's 1400, over the link's 1280
	run -1 "$FALLACY" lab exec "$lab" n1 -- ping -4 -M do -s 1300 -c3 -i0.2 -W1 n3
	echo "$output"
	assert_output --partial "3 packets transmitted, 0 received"
	refute_output --regexp "[Ff]rag needed|mtu"
	run -1 "$FALLACY" lab exec "$lab" n1 -- ping -6 -M do -s 1300 -c3 -i0.2 -W1 n3
	echo "$output"
	assert_output --partial "3 packets transmitted, 0 received"
	refute_output --regexp "too big|mtu"
	run -0 ip -n "fl-$lab.n1" route get "$(node_addr "$lab" n3 4)"
	echo "$output"
	refute_output --partial "mtu"
	n=$("$FALLACY" fault list "$lab" -j | jq -r --arg id "$id" '.[] | select(.id == $id) | .counters.dropped')
	echo "dropped $n"
	[ "$n" -ge 6 ]
	# smaller packets pass both
	run -0 "$FALLACY" lab exec "$lab" n1 -- ping -4 -M do -s 1200 -c2 -W2 n3
	# n2 is not on the black hole's path
	run -1 "$FALLACY" lab exec "$lab" n2 -- ping -4 -M do -s 1300 -c1 -W2 n3
	assert_output --partial "Frag needed and DF set (mtu = 1280)"
	run -0 "$FALLACY" fault del "$lab" "$id"
	run -1 "$FALLACY" lab exec "$lab" n1 -- ping -4 -M do -s 1300 -c1 -W2 n3
	assert_output --partial "Frag needed and DF set (mtu = 1280)"
	run -1 "$FALLACY" lab exec "$lab" n1 -- ping -6 -M do -s 1300 -c1 -W2 n3
	assert_output --partial "Packet too big: mtu=1280"
}

@test "mtu: path MTU discovery carries an established TCP connection's big writes through 1280" {
	run -0 "$FALLACY" lab up "$lab" --nodes 2
	ip2=$(node_addr "$lab" n2 4)
	out=$BATS_TEST_TMPDIR/received
	ip netns exec "fl-$lab.n2" timeout 60 python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 7101)); s.listen(1)
c, _ = s.accept(); total = 0
while True:
    d = c.recv(65536)
    if not d: break
    total += len(d)
open(sys.argv[2], "w").write(str(total))
' "$ip2" "$out" &
	bg_pids+=($!)
	wait_tcp "fl-$lab.n2" 7101
	run -0 timeout 60 ip netns exec "fl-$lab.n1" python3 -c '
import socket, subprocess, sys
s = socket.create_connection((sys.argv[1], 7101), timeout=30)
s.sendall(b"x" * 65536)
subprocess.run([sys.argv[2], "mtu", sys.argv[3], "n2", "1280"], check=True)
s.sendall(b"y" * 1048576)
s.shutdown(socket.SHUT_WR)
s.settimeout(30)
s.recv(1)
print("sent", 65536 + 1048576)
' "$ip2" "$FALLACY" "$lab"
	run -0 poll 10 test -s "$out"
	echo "received $(cat "$out") bytes"
	[ "$(cat "$out")" -eq $((65536 + 1048576)) ]
	# the sender learned the path MTU from the wire's ICMP answer
	run -0 ip -n "fl-$lab.n1" route get "$ip2"
	assert_output --partial "mtu 1280"
}

@test "route --via: n1->n2 crosses n3 (ping -R, tcpdump on n3), n3's loss hits it, --direct restores" {
	run -0 "$FALLACY" lab up "$lab" --nodes 4 --ipv6
	ip1=$(node_addr "$lab" n1 4) ip2=$(node_addr "$lab" n2 4) ip3=$(node_addr "$lab" n3 4)
	run -0 "$FALLACY" route "$lab" --from n1 --to n2 --via n3
	run -0 "$FALLACY" lab exec "$lab" n1 -- ping -4 -R -c1 -W2 n2
	assert_output --partial "$ip3"
	cap=$BATS_TEST_TMPDIR/n3.pcap
	# tcpdump ends by itself after the 6 packets the 3 requests make on n3
	# (in from n1, out to n2), so nothing it saw can be lost in its ring
	ip netns exec "fl-$lab.n3" timeout 30 tcpdump -U -c 6 -n -i eth0 -w "$cap" \
		"icmp and src host $ip1 and dst host $ip2" 2>"$cap.log" &
	dump=$!
	bg_pids+=($dump)
	run -0 poll 20 grep -q "listening on" "$cap.log"
	run -0 "$FALLACY" lab exec "$lab" n1 -- ping -4 -c3 -i 0.2 -W2 n2
	wait "$dump" || true
	run -0 tcpdump -n -r "$cap" "src host $ip1 and dst host $ip2 and icmp[icmptype] = icmp-echo"
	echo "$output"
	# every request in from n1 and out to n2: 3 x 2
	[ "$(grep -c 'ICMP echo request' <<<"$output")" -eq 6 ]
	# a lossy n3 now takes n1 -> n2 down, IPv4 and IPv6; n1 -> n4 is direct
	run -0 "$FALLACY" fault add "$lab/n3" loss 100%
	run -1 "$FALLACY" lab exec "$lab" n1 -- ping -4 -c3 -i 0.2 -W1 n2
	run -1 "$FALLACY" lab exec "$lab" n1 -- ping -6 -c3 -i 0.2 -W1 n2
	run -0 "$FALLACY" lab exec "$lab" n1 -- ping -4 -c3 -i 0.2 -W2 n4
	run -0 "$FALLACY" route "$lab" --from n1 --to n2 --direct
	run -0 ip -n "fl-$lab.n1" route show "$ip2"
	assert_output ""
	run -0 "$FALLACY" lab exec "$lab" n1 -- ping -4 -c3 -i 0.2 -W2 n2
	run -0 poll 10 "$FALLACY" lab exec "$lab" n1 -- ping -6 -c1 -W1 n2
	run -0 ip netns exec "fl-$lab.n3" cat /proc/sys/net/ipv4/ip_forward
	assert_output 0
}

@test "bad topology input: exit 2, a message naming the object, nothing changed" {
	run -0 "$FALLACY" lab up "$lab" --nodes 3 --ipv6
	cp "$FALLACY_RUN_DIR/$lab/lab" "$BATS_TEST_TMPDIR/lab.before"
	before=$(link_snapshot "$lab")
	sup=$(pgrep -f "__supervise $lab\$") # the lab's, since lab up
	run -2 "$FALLACY" link "$lab" n9 down
	assert_output --partial "has no node 'n9'"
	run -2 "$FALLACY" link "nolab$$" n1 down
	assert_output --partial "no lab 'nolab$$'"
	run -2 "$FALLACY" link "$lab" n1 sideways
	assert_output --partial "down or up"
	run -2 "$FALLACY" node add "$lab" n1
	assert_output --partial "node n1 exists already in lab $lab"
	run -2 "$FALLACY" node add "$lab" Bad.Name
	assert_output --partial "invalid node name"
	run -2 "$FALLACY" node remove "$lab" n9
	assert_output --partial "has no node 'n9'"
	run -2 "$FALLACY" mtu "$lab" n1 1200
	assert_output --partial "below 1280, the least IPv6 allows (n1 has IPv6)"
	run -2 "$FALLACY" mtu "$lab" n1 70000
	assert_output --partial "65535"
	run -2 "$FALLACY" mtu "$lab" n1 67
	run -2 "$FALLACY" route "$lab" --from n1 --to n2 --via n2
	assert_output --partial "route via the same node"
	run -2 "$FALLACY" route "$lab" --from n1 --to n2 --via n1
	assert_output --partial "route via the same node"
	run -2 "$FALLACY" route "$lab" --from n1 --to n2 --direct
	assert_output --partial "direct already"
	run -2 "$FALLACY" link "$lab" n1 flap --period 0
	assert_output --partial "give --period P > 0"
	run -2 "$FALLACY" link "$lab" n1 flap --period 1s --down-for 2s
	run -2 "$FALLACY" readdress "$lab" n1 --ipv4 "$(node_addr "$lab" n2 4)"
	assert_output --partial "that address is n2's"
	run -2 "$FALLACY" readdress "$lab" n1 --ipv4 198.19.255.1
	assert_output --partial "not a host address of lab $lab"
	# bad input changes nothing, the supervisor included
	run -0 pgrep -f "__supervise $lab\$"
	assert_output "$sup"
	run -0 diff "$BATS_TEST_TMPDIR/lab.before" "$FALLACY_RUN_DIR/$lab/lab"
	[ "$(link_snapshot "$lab")" = "$before" ]
}
