#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# fallacy-tests: long (one of the slowest files: started first; tests/run.sh)
# `fallacy run --inventory`: a 3-member etcd whose members run on three
# simulated hosts (namespaces on a bridge, each with its own sshd and
# keys made per test: test_helper/hosts.bash), started by the test (the
# user's tooling), the run in the controller's namespace reaching the
# hosts' agents over ssh. The partition is measured independently with
# ping between the hosts; kill -9 of the run mid-partition leaves the
# hosts to their leases.

bats_require_minimum_version 1.5.0
load test_helper/common
load test_helper/hosts
load test_helper/pods

setup() {
	fl_require_root
	[ -x /usr/sbin/sshd ] || skip "openssh-server is not installed (make deps)"
	command -v etcd >/dev/null || skip "etcd is not installed"
	TMP=$(mktemp -d /tmp/fallacy-agent-run.XXXXXX)
	RUN_PID= PING_PIDS=
	hosts_up 3
	hosts_inventory
}

teardown() {
	[ -n "$RUN_PID" ] && kill -9 "$RUN_PID" 2>/dev/null
	for p in $PING_PIDS; do kill "$p" 2>/dev/null || true; done
	hosts_down
	[ -n "${PARENT:-}" ] && pods_teardown
	fl_cleanup_all
	rm -rf "$TMP"
}

# network-is-reliable, short: the same kinds of step (loss, bursty loss, a
# partition of one node, a one-way cut, a ring), the same checks; the
# split is fixed ([[n1], [n2, n3]]) so that ping from host 1 measures it.
# Bounds are low: every node's clients run from the controller and try
# every member's endpoint (n1's too) during the split, and a busy machine.
short_scenario() {
	cat >"$TMP/nir.yaml" <<-'EOF'
		name: network-is-reliable
		fallacy: reliable
		seed: 1
		duration: 24s
		timeline:
		  - {at: 2s, id: loss, fault: {kind: loss, loss: 10%}}
		  - {at: 4s, heal: loss}
		  - {at: 5s, id: burst, fault: {kind: loss, gemodel: [5%, 30%]}}
		  - {at: 7s, heal: burst}
		  - {at: 8s, id: split, partition: [[n1], [n2, n3]]}
		  - {at: 13s, heal: split}
		  - {at: 14s, id: oneway, partition: [[one], [rest]], oneway: true}
		  - {at: 16s, heal: oneway}
		  - {at: 17s, id: bridge, partition: ring}
		  - {at: 19s, heal: all}
		checks:
		  - availability: {bound: ">= 0.5", outside: faults}
		  - availability: {bound: ">= 0.2", during: split, on: majority}
		  - latency: {p99: "< 5s", outside: faults}
		  - recovery: {within: 5s, after: last-heal, rate: ">= 0.5", window: 1s}
	EOF
}

# ping from host 1 to host 2, every 0.1 s, each reply with its wall time
ping_h1_h2() {
	ip netns exec "$H1" ping -n -D -i 0.1 -W 1 "$(host_ip 2)" >"$TMP/ping12" 2>&1 &
	PING_PIDS="$PING_PIDS $!"
}

# replies in [from, to) (seconds since the epoch, fractions allowed)
replies_between() {
	awk -v a="$2" -v b="$3" -F'[][]' '/bytes from/ && $2 >= a && $2 < b { n++ } END { print n + 0 }' "$1"
}

@test "run --inventory over ssh: etcd on three hosts runs network-is-reliable (short) with a local run's results; the split cuts host 1 from host 2 and only then" {
	hosts_etcd
	hosts_etcd_target
	short_scenario
	ping_h1_h2
	run ip netns exec "$C" "$FALLACY" run "$TMP/nir.yaml" --target "$TMP/etcd.yaml" \
		--inventory "$TMP/inventory.yaml" --out "$TMP/out" --junit "$TMP/junit.xml"
	echo "exit $status"
	[ "$status" -eq 0 ] || [ "$status" -eq 1 ] # checks may fail on a busy machine; never 2
	out=$TMP/out
	# a local run's shape
	for f in summary.json events.jsonl ops.jsonl junit.xml report.html scenario.yaml counters.json; do
		[ -s "$out/$f" ] || fail "no $f in $(ls "$out")"
	done
	[ -s "$TMP/junit.xml" ]
	jq -e '.scenario == "network-is-reliable" and (.checks | length) == 4' "$out/summary.json"
	fl_assert_events "$out/events.jsonl"
	# no lab: the inventory's nodes
	run -1 grep -q '"event":"lab-up"' "$out/events.jsonl"
	jq -e -s 'map(select(.event == "inventory"))[0].nodes | map(.host) == ["host1", "host2", "host3"]' \
		"$out/events.jsonl"
	# every fault and its heal names the hosts it went to
	jq -c 'select(.event == "fault" or .event == "partition" or .event == "heal")' "$out/events.jsonl"
	run -0 jq -s -r '[.[] | select(.event == "fault" or .event == "partition")] |
		map("\(.id) \(.host | join(","))") | join("\n")' "$out/events.jsonl"
	assert_line "loss host1,host2,host3"
	assert_line "burst host1,host2,host3"
	assert_line "split host1,host2,host3"
	# the ring of three: two groups of two sharing a node; only the two
	# nodes no group holds together are cut, as in a lab
	assert_line --regexp '^bridge host[0-9],host[0-9]$'
	run -0 jq -s -r '[.[] | select(.event == "heal")] | map(.id) | join(" ")' "$out/events.jsonl"
	assert_output "loss burst split oneway bridge"
	jq -e -s 'map(select(.event == "heal" and .id == "split")) | .[0].host | length == 3' \
		"$out/events.jsonl"
	jq -e -s 'map(select(.event == "error")) | length == 0' "$out/events.jsonl"
	# probes ran from the controller against the members' addresses
	jq -e -s 'map(select(.type == "ok")) | length > 20' "$out/ops.jsonl"
	# measured: host 1 got no reply from host 2 while the split was on (0.5 s
	# inside its events), and replies before it and after its heal
	split=$(jq -r 'select(.event == "partition" and .id == "split") | .wall_ns / 1e9' "$out/events.jsonl")
	healed=$(jq -r 'select(.event == "heal" and .id == "split") | .wall_ns / 1e9' "$out/events.jsonl")
	during=$(replies_between "$TMP/ping12" "$(echo "$split + 0.5" | bc)" "$(echo "$healed - 0.5" | bc)")
	before=$(replies_between "$TMP/ping12" "$(echo "$split - 3" | bc)" "$split")
	after=$(replies_between "$TMP/ping12" "$(echo "$healed + 0.5" | bc)" "$(echo "$healed + 5" | bc)")
	echo "split $split .. $healed: replies before $before, during $during, after $after"
	[ "$during" -eq 0 ]
	[ "$before" -gt 0 ]
	[ "$after" -gt 0 ]
	# the agents reset everything: no fault left on any host
	for k in 1 2 3; do
		run -0 tc -n "$(host_ns "$k")" filter show dev eth0 egress
		refute_output --partial bpf
	done
}

# A target whose clients only ping the node's address (nothing to start:
# the run starts nothing over an inventory).
pinger_target() {
	cat >"$TMP/pinger.yaml" <<-'EOF2'
		name: pinger
		nodes: 3
		start: {run: "sleep 1000"}
		probe:
		  node: all
		  every: 500ms
		  timeout: 2s
		  ops:
		    ping: ping -n -c 1 -W 1 {{ip}}
	EOF2
}

h1_reaches_h2() {
	ip netns exec "$H1" ping -n -c 1 -W 1 "$(host_ip 2)" >/dev/null 2>&1
}

h1_cut_from_h2() {
	! h1_reaches_h2
}

host_state() {
	local k
	for k in 1 2 3; do
		tc -n "$(host_ns "$k")" -j qdisc show dev eth0
		tc -n "$(host_ns "$k")" -j filter show dev eth0 ingress
		tc -n "$(host_ns "$k")" -j filter show dev eth0 egress
	done
}

# processes in the host namespaces other than their sshd: agents, supervisors
host_processes() {
	local k
	for k in 1 2 3; do
		ip netns pids "$(host_ns "$k")"
	done | grep -vxF -f <(for p in $SSHD_PIDS; do echo "$p"; done) || true
}

no_host_processes() {
	[ -z "$(host_processes)" ]
}

@test "run --inventory: kill -9 of the run mid-partition: the partition ends within the lease on every host (ping), the agents exit, fallacy cleanup on each host leaves nothing" {
	pinger_target
	cat >"$TMP/cut.yaml" <<-'EOF'
		name: cut
		duration: 120s
		timeline:
		  - {at: 1s, id: cut, partition: [[n1], [n2, n3]]}
	EOF
	before=$(host_state)
	h1_reaches_h2
	ip netns exec "$C" "$FALLACY" run "$TMP/cut.yaml" --target "$TMP/pinger.yaml" \
		--inventory "$TMP/inventory.yaml" --lease 5s --out "$TMP/out" >"$TMP/run.log" 2>&1 &
	RUN_PID=$!
	fl_wait_until 60 grep -q '"event":"partition"' "$TMP/out/events.jsonl" ||
		fail "no partition: $(cat "$TMP/run.log")"
	fl_wait_until 10 h1_cut_from_h2
	# host 3 is cut from host 1 too, and hosts 2 and 3 still reach each other
	run -1 ip netns exec "$H3" ping -n -c 2 -W 1 "$(host_ip 1)"
	run -0 ip netns exec "$H2" ping -n -c 2 -W 1 "$(host_ip 3)"
	kill -9 "$RUN_PID"
	killed=$(date +%s%N)
	RUN_PID=
	fl_wait_until 60 h1_reaches_h2
	took=$((($(date +%s%N) - killed) / 1000000))
	echo "the partition ended ${took} ms after kill -9 (lease 5 s)"
	run -0 ip netns exec "$H3" ping -n -c 2 -W 1 "$(host_ip 1)"
	# the agents waited out their leases, removed their faults and exited
	fl_wait_until 60 no_host_processes || fail "left running: $(host_processes | xargs ps -o pid,args -p)"
	for k in 1 2 3; do
		ip netns exec "$(host_ns "$k")" "$FALLACY" cleanup --all
	done
	[ "$(host_state)" = "$before" ] || fail "tc state changed: $(host_state)"
	# nothing of any session is left in the journal
	mkdir -p "$FALLACY_RUN_DIR"
	run -0 find "$FALLACY_RUN_DIR" -mindepth 1 -maxdepth 1 -type d
	assert_output ''
}

@test "run --inventory: a partition's start barrier: a host that refuses its put fails the step, the hosts put before it get their sets back at once, no partition event" {
	pinger_target
	cat >"$TMP/cut.yaml" <<-'EOF'
		name: cut
		duration: 20s
		timeline:
		  - {at: 1s, id: cut, partition: [[n1], [n2, n3]]}
	EOF
	# host 3's target is a namespace that is not there: its agent refuses
	sed -i "s/netns: $H3\$/netns: no-such-netns-$$/" "$TMP/inventory.yaml"
	grep -q "no-such-netns-$$" "$TMP/inventory.yaml"
	ip netns exec "$C" "$FALLACY" run "$TMP/cut.yaml" --target "$TMP/pinger.yaml" \
		--inventory "$TMP/inventory.yaml" --out "$TMP/out" >"$TMP/run.log" 2>&1 &
	RUN_PID=$!
	fl_wait_until 60 grep -q '"event":"error"' "$TMP/out/events.jsonl" ||
		fail "no error: $(cat "$TMP/run.log")"
	# while the run goes on (renewing what it holds): hosts 1 and 2 had
	# their cut put, then taken back before the error was written
	ip netns exec "$H1" ping -n -c 3 -i 0.3 -W 1 "$(host_ip 2)"
	ip netns exec "$H2" ping -n -c 3 -i 0.3 -W 1 "$(host_ip 1)"
	kill -0 "$RUN_PID"
	rc=0
	wait "$RUN_PID" || rc=$?
	RUN_PID=
	[ "$rc" -eq 2 ] || fail "exit $rc: $(cat "$TMP/run.log")"
	run -0 cat "$TMP/run.log"
	assert_output --partial "timeline step(s) could not be applied"
	run -0 jq -r 'select(.event == "error") | "\(.id) \(.message)"' "$TMP/out/events.jsonl"
	assert_output --regexp '^cut node n3 \(host host3\): its agent refused: .*"ok":false'
	run -0 jq -s 'map(select(.event == "partition")) | length' "$TMP/out/events.jsonl"
	assert_output 0
	fl_wait_until 60 no_host_processes || fail "left running: $(host_processes | xargs ps -o pid,args -p)"
}

@test "run --inventory through the kubectl stand-in: etcd in three pods runs network-is-reliable (short) with a local run's results; the split is measured with ping between the pods" {
	hosts_down
	fl_cleanup_all
	pods_setup
	hosts_up 3 nosshd
	hosts_etcd
	hosts_pods
	hosts_etcd_target
	short_scenario
	ping_h1_h2
	run ip netns exec "$C" "$FALLACY" run "$TMP/nir.yaml" --target "$TMP/etcd.yaml" \
		--inventory "$TMP/inventory.yaml" --out "$TMP/out"
	echo "exit $status"
	[ "$status" -eq 0 ] || [ "$status" -eq 1 ]
	out=$TMP/out
	for f in summary.json events.jsonl ops.jsonl junit.xml report.html scenario.yaml counters.json; do
		[ -s "$out/$f" ] || fail "no $f in $(ls "$out")"
	done
	fl_assert_events "$out/events.jsonl"
	# pods by name, each through the agent pod of its node
	run -0 jq -s -r 'map(select(.event == "inventory"))[0].nodes | map("\(.node) \(.pod) \(.host) \(.address)") | join("\n")' \
		"$out/events.jsonl"
	assert_line "n1 etcd-1 w1 198.18.250.2"
	assert_line "n3 etcd-3 w3 198.18.250.4"
	grep -q -- "exec -i -n fallacy fallacy-agent-2 -- env FALLACY_RUN_DIR=" "$TMP/calls"
	run -0 jq -s -r '[.[] | select(.event == "partition" and .id == "split")][0].host | join(",")' \
		"$out/events.jsonl"
	assert_output "w1,w2,w3"
	split=$(jq -r 'select(.event == "partition" and .id == "split") | .wall_ns / 1e9' "$out/events.jsonl")
	healed=$(jq -r 'select(.event == "heal" and .id == "split") | .wall_ns / 1e9' "$out/events.jsonl")
	during=$(replies_between "$TMP/ping12" "$(echo "$split + 0.5" | bc)" "$(echo "$healed - 0.5" | bc)")
	after=$(replies_between "$TMP/ping12" "$(echo "$healed + 0.5" | bc)" "$(echo "$healed + 5" | bc)")
	echo "split $split .. $healed: replies during $during, after $after"
	[ "$during" -eq 0 ]
	[ "$after" -gt 0 ]
	jq -e -s 'map(select(.event == "error")) | length == 0' "$out/events.jsonl"
	fl_wait_until 60 no_host_processes_but_etcd
}

# the pods keep their etcd, pause and the test's ping; no agent or
# supervisor is left on the nodes or in the pods
no_host_processes_but_etcd() {
	[ -z "$(host_processes | grep -vxF -f <(for p in $ETCD_PIDS $PING_PIDS "${PIDS[@]}"; do echo "$p"; done))" ] &&
		[ -z "$(for k in 1 2 3; do ip netns pids "${C}w$k"; done)" ]
}

@test "run --inventory through the kubectl stand-in: pods by role_label: the target's primary is the pod labelled primary, a fault on: primary cuts that pod only (ping)" {
	hosts_down
	fl_cleanup_all
	pods_setup
	hosts_up 3 nosshd
	POD_ROLES="replica replica primary" hosts_pods
	pinger_target
	echo "roles: {primary: 1, replica: rest}" >>"$TMP/pinger.yaml"
	cat >"$TMP/cut.yaml" <<-'EOF'
		name: cut-primary
		duration: 30s
		timeline:
		  - {at: 1s, id: cut, fault: {kind: partition, on: primary}}
	EOF
	ip netns exec "$C" "$FALLACY" run "$TMP/cut.yaml" --target "$TMP/pinger.yaml" \
		--inventory "$TMP/inventory.yaml" --out "$TMP/out" >"$TMP/run.log" 2>&1 &
	RUN_PID=$!
	fl_wait_until 60 grep -q '"event":"partition","id":"cut"' "$TMP/out/events.jsonl" ||
		fail "no fault: $(cat "$TMP/run.log")"
	run -0 jq -s -r 'map(select(.event == "inventory"))[0].nodes | map("\(.node) \(.pod)") | join(" ")' \
		"$TMP/out/events.jsonl"
	assert_output "n1 etcd-3 n2 etcd-1 n3 etcd-2"
	run -0 jq -r 'select(.event == "partition") | "\(.spec) \(.host | join(","))"' "$TMP/out/events.jsonl"
	# what arrives at the primary's pod, and what it sends, where it arrives
	assert_output "partition --node n1 w3,w1,w2"
	# pod etcd-3 (host namespace 3) is cut off; the others reach each other
	run -1 ip netns exec "$H3" ping -n -c 2 -W 1 "$(host_ip 1)"
	run -0 ip netns exec "$H1" ping -n -c 2 -W 1 "$(host_ip 2)"
	kill -TERM "$RUN_PID"
	rc=0
	wait "$RUN_PID" || rc=$?
	RUN_PID=
	echo "exit $rc"
	# interrupted: the run resets every agent before it exits
	ip netns exec "$H3" ping -n -c 2 -W 1 "$(host_ip 1)"
	grep -q '"event":"agents-reset"' "$TMP/out/events.jsonl"
}

@test "run --inventory: a step that needs a lab, --dir in fault words, --lab, --lease without it: exit 2 with file:line:col before any host is reached" {
	pinger_target
	cat >"$TMP/kill.yaml" <<-'EOF'
		name: kill
		duration: 5s
		timeline:
		  - {at: 1s, id: cut, partition: [[n1], [n2, n3]]}
		  - {at: 2s, kill: n2}
	EOF
	cat >"$TMP/dir.yaml" <<-'EOF'
		name: dir
		duration: 5s
		timeline:
		  - {at: 1s, id: slow, fault: "delay 10ms --dir in"}
	EOF
	cat >"$TMP/link.yaml" <<-'EOF'
		name: link
		duration: 5s
		timeline:
		  - {at: 1s, id: down, link: n1 down}
	EOF
	run -2 ip netns exec "$C" "$FALLACY" run "$TMP/kill.yaml" --target "$TMP/pinger.yaml" \
		--inventory "$TMP/inventory.yaml"
	assert_output --partial "kill.yaml:5:5: a 'kill' step cannot run over an inventory"
	run -2 ip netns exec "$C" "$FALLACY" run "$TMP/link.yaml" --target "$TMP/pinger.yaml" \
		--inventory "$TMP/inventory.yaml"
	assert_output --partial "link.yaml:4:5: a 'link' step cannot run over an inventory"
	run -2 ip netns exec "$C" "$FALLACY" run "$TMP/dir.yaml" --target "$TMP/pinger.yaml" \
		--inventory "$TMP/inventory.yaml"
	assert_output --partial "dir.yaml:4:5: --dir: over an inventory the run chooses it"
	run -2 ip netns exec "$C" "$FALLACY" run "$TMP/dir.yaml" --target "$TMP/pinger.yaml" \
		--inventory "$TMP/inventory.yaml" --lab x
	assert_output --partial "--inventory makes no lab: --lab"
	run -2 "$FALLACY" run "$TMP/dir.yaml" --target "$TMP/pinger.yaml" --lease 5s
	assert_output --partial "--lease is for --inventory"
	# no host was reached: no agent ever started, no connection in any sshd log
	for k in 1 2 3; do
		run -1 grep -q "Accepted publickey" "$TMP/sshd$k.log"
	done
}

@test "run --inventory --capture: each host's agent captures its eth0, the pcaps are streamed back into pcap/NODE.pcap and hold the probes' packets and the cut (a gap in host 2's answers)" {
	pinger_target
	cat >"$TMP/cut.yaml" <<-'EOF'
		name: cut
		duration: 6s
		timeline:
		  - {at: 2s, id: cut, partition: [[n1], [n2, n3]]}
		  - {at: 4s, heal: cut}
	EOF
	# until teardown: a busy machine can take more than 12 s to start the
	# agents and their captures (soak, 2 Dec: a -w 12 ping was over first)
	ip netns exec "$H1" ping -n -i 0.1 "$(host_ip 2)" >/dev/null 2>&1 &
	PING_PIDS="$PING_PIDS $!"
	run ip netns exec "$C" "$FALLACY" run "$TMP/cut.yaml" --target "$TMP/pinger.yaml" \
		--inventory "$TMP/inventory.yaml" --capture --out "$TMP/out"
	[ "$status" -le 1 ]
	fl_assert_events "$TMP/out/events.jsonl"
	for k in 1 2 3; do
		[ -s "$TMP/out/pcap/n$k.pcap" ] || fail "no pcap/n$k.pcap: $(ls -l "$TMP/out/pcap")"
		bytes=$(stat -c %s "$TMP/out/pcap/n$k.pcap")
		run -0 jq -r "select(.event == \"capture\" and .id == \"n$k\") | \"\\(.file) \\(.bytes)\"" \
			"$TMP/out/events.jsonl"
		assert_output "pcap/n$k.pcap $bytes"
	done
	# the probes' echo requests from the controller reached host 2, read
	# back from the fetched file by tcpdump
	requests=$(tcpdump -n -r "$TMP/out/pcap/n2.pcap" 'icmp[icmptype] == icmp-echo and src host 198.18.250.1' 2>/dev/null | wc -l)
	# host 1's pings to host 2 (every 0.1 s): host 2's answers are in host
	# 1's capture before and after the cut, and a run of them missing
	# (host 2 dropped the requests as they arrived while the cut was on,
	# about 1.2 s or more; a capture sees packets before that drop)
	seqs=$(tcpdump -n -r "$TMP/out/pcap/n1.pcap" "icmp[icmptype] == icmp-echoreply and src host $(host_ip 2)" 2>/dev/null |
		sed -n 's/.* seq \([0-9]*\),.*/\1/p')
	gap=$(awk 'NR > 1 && $1 - prev > max { max = $1 - prev } { prev = $1 } END { print max + 0 }' <<<"$seqs")
	echo "probe requests at host 2: $requests; host 2's answers to host 1's pings: $(wc -l <<<"$seqs"), largest gap in their seq: $gap"
	[ "$requests" -gt 0 ]
	[ "$(wc -l <<<"$seqs")" -gt 10 ]
	[ "$gap" -ge 5 ]
}
