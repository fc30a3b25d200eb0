#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# fallacy-tests: long (one of the slowest files: started first; tests/run.sh)
# Heterogeneous labs: lab files with per-node families and link profiles,
# per-pair profiles, measured with ping and iperf3; profiles survive fault
# clear and a scenario's heal: all; bad lab files change nothing.

load test_helper/common
load test_helper/topo

setup_file() {
	[ "$(id -u)" -eq 0 ] || return 0
	cd "$BATS_TEST_DIRNAME/../.."
	LAB=$(fl_lab_name pf)
	export LAB
	"$FALLACY" lab up "$LAB" --file tests/data/labs/profiles.yaml >/dev/null
}

teardown_file() {
	[ "$(id -u)" -eq 0 ] || return 0
	"$FALLACY" lab down "$LAB" >/dev/null 2>&1 || true
}

setup() {
	fl_require_root
	cd "$BATS_TEST_DIRNAME/../.."
	bg_pids=()
}

teardown() {
	for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null || true; done
}

# the median RTT (ms) of N pings from node $1 to $2 (-4/-6 in $4)
median_rtt() {
	"$FALLACY" lab exec "$LAB" "$1" -- ping "${4:--4}" -n -c "$3" -i 0.2 -W 3 "$2" |
		sed -n 's/.* time=\([0-9.]*\) ms/\1/p' | sort -n |
		awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

in_range() { # VALUE LO HI
	awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v != "" && v >= lo && v <= hi) }'
}

@test "lab file: families and profiles are listed; profiles are faults marked --profile" {
	run -0 "$FALLACY" lab list -j
	run -0 jq -r --arg l "$LAB" '.[] | select(.name == $l) | .nodes[] | "\(.name) \(.ipv4) \(.ipv6) \(.mtu)"' <<<"$output"
	echo "$output"
	assert_line --regexp '^edge 198\.1[89]\.[0-9.]+ fdfa:11ac::[0-9a-f:]+ 1280$'
	assert_line --regexp '^old 198\.1[89]\.[0-9.]+ null 1500$'
	assert_line --regexp '^new null fdfa:11ac::[0-9a-f:]+ 1500$'
	run -0 "$FALLACY" fault list "$LAB"
	assert_output --partial "edge-delay delay 100ms jitter 10ms --node edge --profile edge"
	assert_output --partial "edge-loss loss 1% --node edge --profile edge"
	assert_output --partial "slow-rate rate 1mbit --node slow --profile slow"
	assert_output --partial "n1_n2-delay delay 30ms --from n1 --to n2 --bidir --profile n1_n2"
	run -0 "$FALLACY" lab exec "$LAB" old -- getent ahosts n1
	refute_output --partial "fdfa:"
	run -0 "$FALLACY" lab exec "$LAB" new -- getent ahosts n1
	refute_output --partial "198.1"
	run -0 "$FALLACY" lab exec "$LAB" new -- ping -c1 -W2 n2
	run -0 "$FALLACY" lab exec "$LAB" old -- ping -c1 -W2 n2
}

# 100 ms +-10 ms (uniform) each way: every RTT is at least 180 ms and the
# median of 41 is 200 ms with a spread (sd) of about 2.5 ms; 40 medians
# measured here ran 194-205. [190, 230] is 4 spreads below: an earlier
# [195, 225] failed in CI at 192 (about 1 run in 30).
@test "a node's link delay applies each way: RTT to edge ~200 ms (jitter 10 ms each way), v4 and v6" {
	for fam in -4 -6; do
		run -0 "$FALLACY" lab exec "$LAB" n1 -- ping "$fam" -n -c 41 -i 0.05 -W 3 edge
		rtts=$(sed -n 's/.* time=\([0-9.]*\) ms/\1/p' <<<"$output" | sort -n)
		echo "RTTs n1 -> edge ($fam):" $rtts
		min=$(head -1 <<<"$rtts")
		m=$(awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }' <<<"$rtts")
		echo "min $min ms, median $m ms"
		in_range "$min" 179.5 225
		in_range "$m" 190 230
	done
	# the others are untouched
	m=$(median_rtt n1 old 11)
	echo "median RTT n1 -> old: $m ms"
	in_range "$m" 0 20
}

@test "a pair's delay applies between the two only: RTT n1-n2 ~60 ms, n1-old fast" {
	m=$(median_rtt n1 n2 21)
	echo "median RTT n1 -> n2: $m ms"
	in_range "$m" 59 75
	m=$(median_rtt n2 n1 11 -6)
	echo "median RTT n2 -> n1 (IPv6): $m ms"
	in_range "$m" 59 75
}

@test "a node's link loss: 1% of a flood's packets, counted on the profile's fault" {
	before=$("$FALLACY" fault list "$LAB" -j | jq '.[] | select(.id == "edge-loss") | .counters.dropped')
	run -0 "$FALLACY" lab exec "$LAB" n1 -- ping -4 -q -f -l 200 -c 3000 -W 3 edge
	echo "$output"
	after=$("$FALLACY" fault list "$LAB" -j | jq '.[] | select(.id == "edge-loss") | .counters.dropped')
	echo "dropped: $((after - before)) of about 6000 packets (requests and replies)"
	# Poisson mean 60: [20, 110] fails far less than once in a thousand
	in_range $((after - before)) 20 110
}

@test "a node's link rate: iperf3 to and from slow ~1 Mbit/s" {
	command -v iperf3 >/dev/null || skip "iperf3 not installed"
	ip=$(node_addr "$LAB" slow 4)
	start_bg "fl-$LAB.slow" iperf3 -s -p 5301
	wait_tcp "fl-$LAB.slow" 5301
	run -0 ip netns exec "fl-$LAB.n1" iperf3 -c "$ip" -p 5301 -t 4 -J
	bps=$(jq '.end.sum_received.bits_per_second' <<<"$output")
	echo "n1 -> slow: $bps bit/s"
	in_range "$bps" 800000 1050000
	run -0 ip netns exec "fl-$LAB.n1" iperf3 -c "$ip" -p 5301 -t 4 -J -R
	bps=$(jq '.end.sum_received.bits_per_second' <<<"$output")
	echo "slow -> n1: $bps bit/s"
	in_range "$bps" 800000 1050000
}

@test "a node's link MTU: too-big answers to edge, 1200 bytes pass" {
	run -1 "$FALLACY" lab exec "$LAB" n2 -- ping -4 -M do -s 1300 -c1 -W3 edge
	assert_output --partial "mtu = 1280"
	run -0 "$FALLACY" lab exec "$LAB" n2 -- ping -4 -M do -s 1200 -c2 -W3 edge
}

@test "fault clear keeps the profiles; fault del removes one" {
	lab=$(fl_lab_name pc)
	run -0 "$FALLACY" lab up "$lab" --file tests/data/labs/profiles.yaml
	run -0 "$FALLACY" fault add "$lab" loss 5% --id mine
	run -0 "$FALLACY" fault clear "$lab"
	assert_output --partial "kept 4 fault(s) of the lab's link profiles"
	run -0 "$FALLACY" fault list "$lab"
	refute_output --partial "mine"
	assert_output --partial "edge-delay"
	run -0 "$FALLACY" fault del "$lab" n1_n2-delay
	run -0 "$FALLACY" fault list "$lab"
	refute_output --partial "n1_n2-delay"
	run -0 "$FALLACY" lab down "$lab"
	fl_assert_lab_gone "$lab"
}

@test "a scenario's lab: profiles from the start; heal: all keeps them (and the profile's MTU)" {
	lab=$(fl_lab_name ph)
	out=$BATS_TEST_TMPDIR/results
	run "$FALLACY" run tests/data/scenarios/profile-heal.yaml --target scenarios/targets/http.yaml \
		--out "$out" --lab "$lab"
	echo "$output"
	jq -r '.checks[] | "\(.pass) \(.name): \(.message)"' "$out/summary.json"
	assert_success
	run -0 grep -c '"event":"profiles"' "$out/events.jsonl"
	fl_assert_events "$out/events.jsonl"
	run -0 grep -F '    - {name: n3, link: {mtu: 1280, delay: 50ms}}' "$out/scenario.yaml"
	run -0 "$FALLACY" run "$out/scenario.yaml" --target scenarios/targets/http.yaml --dry-run
	fl_assert_lab_gone "$lab"
}

@test "bad lab files: exit 2, file:line:col, nothing made" {
	lab=$(fl_lab_name pb)
	f=$BATS_TEST_TMPDIR/lab.yaml
	printf 'nodes:\n  - {name: n1}\n  - {name: n2, link: {rate: fast}}\n' >"$f"
	run -2 "$FALLACY" lab up "$lab" --file "$f"
	assert_output --partial "lab.yaml:3:29: bad value for 'rate'"
	printf 'nodes:\n  - {name: n1, lnk: {delay: 5ms}}\n' >"$f"
	run -2 "$FALLACY" lab up "$lab" --file "$f"
	assert_output --partial "lab.yaml:2:16: unknown key 'lnk' in a node (did you mean 'link'?)"
	printf 'nodes:\n  - {name: n1}\npairs:\n  - {between: [n1, n9], delay: 5ms}\n' >"$f"
	run -2 "$FALLACY" lab up "$lab" --file "$f"
	assert_output --partial "lab.yaml:4:20: no node 'n9' in the lab's nodes"
	printf 'ipv6: true\nnodes:\n  - {name: n1, link: {mtu: 1200}}\n' >"$f"
	run -2 "$FALLACY" lab up "$lab" --file "$f"
	assert_output --partial "mtu 1200 for n1: below 1280"
	printf 'nodes:\n  - {name: n1}\n  - {name: n1}\n' >"$f"
	run -2 "$FALLACY" lab up "$lab" --file "$f"
	assert_output --partial "node 'n1' given twice"
	run -2 "$FALLACY" lab up "$lab" --file "$f" --nodes 3
	fl_assert_lab_gone "$lab"
}

# the median latency (s) of the operations from nodes matching $2 in run $1
median_latency() {
	jq -r --arg re "$2" 'select(.node | test($re)) | (.end_ns - .start_ns) / 1e9' \
		"$1/ops.jsonl" | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

@test "network-is-homogeneous (short) against http, redis and etcd: the slow member's latency stands out" {
	for target in http redis etcd; do
		lab=$(fl_lab_name ho)
		out=$BATS_TEST_TMPDIR/$target
		run "$FALLACY" run tests/data/scenarios/homogeneous-short.yaml \
			--target "scenarios/targets/$target.yaml" --out "$out" --lab "$lab"
		echo "$output"
		jq -r '.checks[] | "\(.pass) \(.name): \(.message)"' "$out/summary.json"
		[ "$status" -le 1 ]
		run grep -c '"event":"error"' "$out/events.jsonl"
		assert_output 0
		fast=$(median_latency "$out" '^n[12]$')
		slow=$(median_latency "$out" '^n3$')
		echo "$target: median latency n1,n2 ${fast}s, n3 ${slow}s"
		# n3's operations cross its 100 ms link at least once each way (the
		# medians: the p99 of the fast members is the machine's load's)
		in_range "$slow" 0.2 100
		if [ "$target" = etcd ] && awk -v b="$fast" 'BEGIN { exit !(b >= 0.2) }'; then
			# etcd's leader is elected, and may be n3: then every commit
			# crosses n3's link, the fast members' too (seen at load 26:
			# n1,n2 0.47 s, n3 0.25 s)
			echo "etcd: n3 led (the fast members' writes crossed its link)"
		else
			# the fastest operation of each side: a busy machine's timeouts
			# can fill the fast members' median (a CI run: 2 of 70 ok), not
			# their fastest (n3's crosses the link, >= 0.2 s)
			fast=$(jq -r 'select(.node | test("^n[12]$")) | (.end_ns - .start_ns) / 1e9' "$out/ops.jsonl" | sort -g | head -1)
			slow=$(jq -r 'select(.node == "n3") | (.end_ns - .start_ns) / 1e9' "$out/ops.jsonl" | sort -g | head -1)
			echo "$target: fastest operation n1,n2 ${fast}s, n3 ${slow}s"
			awk -v a="$slow" -v b="$fast" 'BEGIN { exit !(a > b) }'
		fi
		fl_assert_lab_gone "$lab"
	done
}
