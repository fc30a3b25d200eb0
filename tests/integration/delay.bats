#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# fallacy-tests: long (one of the slowest files: started first; tests/run.sh)
# The NFQUEUE delay line: accuracy, directions, TCP on the receive path,
# jitter distributions, seeded reproducibility, fail-open/closed, cleanup,
# IPv6 and loopback. An iptables MARK rule stands in for the BPF mark so
# the queue is exercised on its own.

bats_require_minimum_version 1.5.0
load test_helper/common
load test_helper/delay

setup() {
	fl_require_root
	LAB=$(fl_lab_name d)
	run -0 "$FALLACY" lab up "$LAB" --nodes 2 --ipv6
	W=fl-$LAB N1=fl-$LAB.n1 N2=fl-$LAB.n2
	IP1=198.18.0.1 IP2=198.18.0.2
	DL_PID=
}

teardown() {
	dl_stop
	fl_cleanup_all
	for n in "${XNS:-}" "${XB:-}"; do
		[ -n "$n" ] && ip netns del "$n" 2>/dev/null
	done
	true
}

# median RTT of the bare wire (ms)
base_rtt() {
	ip netns exec "$N1" ping -c 20 -i 0.01 "$IP2" | rtts | median
}

# Delay accuracy is judged on the median RTT: one late wake-up of a busy
# machine moves a mean by a fraction of a ms, not a median. The minimum
# shows that no packet left early. Mean and p99 goals: bench/delay.sh.

fault() {
	"$FALLACY" fault add "$LAB" "$@" >/dev/null
}

# The median of 200 is the delay's, not the machine's: never more than
# 0.5 ms early; on a busy machine ping's own wake-ups add up to ~2 ms (the
# accuracy itself, with kernel timestamps: bench/delay.sh).
@test "fault add delay 50ms --from n1 --to n2: 200 pings, median RTT - baseline = 50ms (-0.5, +2 ms), none early" {
	base=$(base_rtt)
	run -0 "$FALLACY" fault add "$LAB" delay 50ms --from n1 --to n2
	ip netns exec "$N1" ping -c 200 -i 0.01 "$IP2" | rtts >"$BATS_TEST_TMPDIR/r"
	read -r n mean sd < <(stats <"$BATS_TEST_TMPDIR/r")
	med=$(median <"$BATS_TEST_TMPDIR/r")
	min=$(minimum <"$BATS_TEST_TMPDIR/r")
	echo "n=$n mean=$mean sd=$sd median=$med min=$min base=$base"
	[ "$n" -eq 200 ]
	add=$(awk -v m="$med" -v b="$base" 'BEGIN { print m - b }')
	within "$add" 49.5 52
	within "$min" 49.9 1000
	run -0 "$FALLACY" fault list "$LAB"
	assert_output --partial "delayed 200"
	assert_output --partial "overflow 0"
}

@test "fault add delay 50ms without --from/--to delays each direction: RTT +100ms" {
	fault delay 50ms
	ip netns exec "$N1" ping -c 50 -i 0.02 "$IP2" | rtts >"$BATS_TEST_TMPDIR/r"
	read -r n mean sd < <(stats <"$BATS_TEST_TMPDIR/r")
	med=$(median <"$BATS_TEST_TMPDIR/r")
	echo "n=$n mean=$mean median=$med"
	[ "$n" -eq 50 ]
	within "$med" 99.5 104
	run -0 ip netns exec "$W" iptables -t raw -S PREROUTING
	assert_output --partial "-j NFQUEUE --queue-num 64017 --queue-bypass"
	run -0 "$FALLACY" fault clear "$LAB"
	med=$(ip netns exec "$N1" ping -c 10 -i 0.02 "$IP2" | rtts | median)
	echo "after clear: median=$med"
	within "$med" 0 5
}

# Behaviour, not speed: through a 50 ms delay TCP must be far above the
# trap of queuing on the sender's OUTPUT hook (KERNEL-NOTES: 0.5-0.9 Mbit/s),
# with a floor that holds on a busy 2-core machine. The ratio to bare veth
# is a performance goal: bench/delay.sh, docs/performance.md.
@test "the delay line alone (mark stand-in): TCP through 50ms one way moves more than 50 Mbit/s" {
	tcp_big_buffers "$N1" "$N2"
	dl_start "$W" -4 --rt 10 -- delay 50ms
	dl_mark "$W" 4 -s "$IP1" -d "$IP2"
	# the path is delayed: no ping comes back early
	min=$(ip netns exec "$N1" ping -c 3 -i 0.2 "$IP2" | rtts | minimum)
	delayed=$(iperf_gbps "$N1" "$N2" "$IP2" 5 -O 2)
	dl_stop
	echo "ping min RTT $min ms; TCP through 50ms: $delayed Gbit/s; delay line: $(cat "$DL_STATS")"
	within "$min" 49.9 1000
	awk -v d="$delayed" 'BEGIN { exit !(d > 0.05) }'
}

# A paced ping (30 ms apart) through one-way jitter: the RTT spread is the
# jitter's. allow-reorder keeps the no-reorder floor out of the numbers.
jitter_sd() {
	fault delay 50ms jitter 10ms distribution "$1" allow-reorder --from n1 --to n2 \
		--seed "${SEED:-1}"
	ip netns exec "$N1" ping -c "${CNT:-200}" -i "${IV:-0.03}" "$IP2" >"$BATS_TEST_TMPDIR/ping.$1"
	rtts <"$BATS_TEST_TMPDIR/ping.$1" >"$BATS_TEST_TMPDIR/rtts.$1"
	"$FALLACY" fault list "$LAB" -j >"$BATS_TEST_TMPDIR/list.$1"
	"$FALLACY" fault clear "$LAB" >/dev/null
	stats <"$BATS_TEST_TMPDIR/rtts.$1"
}

@test "jitter 10ms uniform: standard deviation within 15% of 10/sqrt(3) ms" {
	read -r n mean sd < <(CNT=400 IV=0.02 jitter_sd uniform)
	rsd=$(iqr <"$BATS_TEST_TMPDIR/rtts.uniform" | awk '{ printf "%.3f", $1 / sqrt(3) }')
	med=$(median <"$BATS_TEST_TMPDIR/rtts.uniform")
	echo "n=$n mean=$mean median=$med sd=$sd IQR-based sd=$rsd (theory 5.774)"
	within "$rsd" 4.91 6.64
	within "$med" 48.5 52
}

@test "jitter 10ms normal: standard deviation within 15% of 10 ms" {
	read -r n mean sd < <(CNT=400 IV=0.02 jitter_sd normal)
	rsd=$(iqr <"$BATS_TEST_TMPDIR/rtts.normal" | awk '{ printf "%.3f", $1 / 1.349 }')
	echo "n=$n mean=$mean sd=$sd IQR-based sd=$rsd (theory 10)"
	within "$rsd" 8.5 11.5
}

# Per-packet RTTs ("icmp_seq rtt") of a paced ping through a seeded jitter,
# cut at the first lost packet: the delays follow the rule's sequence of
# queued packets, so a request lost before the queue (a full per-CPU
# backlog on this shared machine) shifts every later delay by one.
seeded_run() {
	SEED=$1 jitter_sd uniform >/dev/null
	sed -n 's/.*icmp_seq=\([0-9]*\) .* time=\([0-9.]*\) ms.*/\1 \2/p' \
		"$BATS_TEST_TMPDIR/ping.uniform" | sort -n |
		awk '$1 != NR { exit } { print }' | sort -k1,1 >"$BATS_TEST_TMPDIR/$2"
}

@test "the same seed gives the same per-packet delays, another seed does not" {
	# Per packet, |RTT of run 1 - RTT of run 2|, and its median: the same seed
	# gives the same delays (~0.1 ms apart: a few late wake-ups on a busy
	# machine move some packets, not the median; a Pearson correlation fell
	# to 0.6 from such outliers), another seed unrelated ones (uniform
	# +-10 ms each: median about 5.9 ms apart)
	meddiff() {
		join "$1" "$2" | awk '{ d = $2 - $3; print (d < 0 ? -d : d) }' | median
	}
	for attempt in 1 2; do
		seeded_run 7 a
		seeded_run 7 b
		seeded_run 8 c
		n=$(join "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b" | wc -l)
		[ "$n" -ge 50 ] && [ "$(join "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/c" | wc -l)" -ge 50 ] && break
	done
	same=$(meddiff "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b")
	other=$(meddiff "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/c")
	echo "median per-packet difference over $n packets: same seed $same ms, other seed $other ms"
	echo "largest same-seed differences (icmp_seq rtt1 rtt2):"
	join "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b" |
		awk '{ d = $2 - $3; print (d < 0 ? -d : d), $0 }' | sort -gr | head -5
	[ "$n" -ge 50 ]
	within "$same" 0 1
	within "$other" 3 20
}

@test "fault add delay 50ms: TCP through the wire moves more than 50 Mbit/s (OUTPUT-hook trap: < 1 Mbit/s)" {
	tcp_big_buffers "$N1" "$N2"
	fault delay 50ms --from n1 --to n2
	delayed=$(iperf_gbps "$N1" "$N2" "$IP2" 6 -O 2)
	run -0 "$FALLACY" fault list "$LAB" -j
	echo "TCP n1->n2 through 50ms: $delayed Gbit/s"
	[ "$(echo "$output" | jq '.[0].counters.delayed')" -gt 1000 ]
	awk -v d="$delayed" 'BEGIN { exit !(d > 0.05) }'
}

@test "delayed TCP works: iperf3 through 20ms completes, 1MB socat transfer is byte-identical" {
	fault delay 20ms
	run -0 ip netns exec "$N2" iperf3 -s -1 -D -p 5202
	fl_wait_until 10 fl_listening "$N2" t 5202
	run -0 ip netns exec "$N1" iperf3 -c "$IP2" -p 5202 -t 2
	assert_output --partial "receiver"
	head -c 1048576 /dev/urandom >"$BATS_TEST_TMPDIR/in"
	ip netns exec "$N2" socat -u TCP-LISTEN:7000,reuseaddr OPEN:"$BATS_TEST_TMPDIR/out",creat,trunc &
	srv=$!
	fl_wait_until 10 fl_listening "$N2" t 7000
	run -0 ip netns exec "$N1" socat -u OPEN:"$BATS_TEST_TMPDIR/in" TCP:"$IP2":7000
	wait "$srv"
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
}

@test "IPv6: fault add delay 50ms --from n1 --to n2 adds 50ms to ping -6" {
	ip netns exec "$N1" ping -6 -c 2 -i 0.1 fdfa:11ac::2 >/dev/null # neighbours first
	fault delay 50ms --from n1 --to n2
	ip netns exec "$N1" ping -6 -c 50 -i 0.02 fdfa:11ac::2 | rtts >"$BATS_TEST_TMPDIR/r"
	read -r n mean sd < <(stats <"$BATS_TEST_TMPDIR/r")
	med=$(median <"$BATS_TEST_TMPDIR/r")
	echo "n=$n mean=$mean median=$med"
	[ "$n" -eq 50 ]
	within "$med" 49.8 53
}

# ping -U times from user space to user space: on a busy machine ping's own
# wake-up adds ms that are not the delay line's (its accuracy is measured
# with kernel timestamps in bench/delay.sh). So: nothing early (both ways
# delayed), and a median far below a third pass through the queue (75 ms).
lo_delay_ok() {
	within "$(minimum <"$1")" 49.9 1000
	within "$(median <"$1")" 49.9 60
}

@test "loopback (wrap's hook, INPUT -i lo): 25ms each way gives ping -U RTT +50ms" {
	XNS=fl-dlo$$
	ip netns add "$XNS"
	ip -n "$XNS" link set lo up
	dl_start "$XNS" --hook lo --rt 10 -- delay 25ms
	dl_mark_lo "$XNS"
	run ip netns exec "$XNS" iptables -S INPUT
	assert_output --partial "-i lo -m mark --mark 0xfa110000/0xffff0000 -j NFQUEUE --queue-num 64017 --queue-bypass"
	ip netns exec "$XNS" ping -U -c 40 -i 0.02 127.0.0.1 | rtts >"$BATS_TEST_TMPDIR/r4"
	ip netns exec "$XNS" ping -6 -U -c 40 -i 0.02 ::1 | rtts >"$BATS_TEST_TMPDIR/r6"
	# what a failure needs to be understood from the log: every RTT in
	# order, and the delay line's own counters (late wake-ups, verdict
	# errors, most held) once it has stopped
	dl_stop
	for f in 4 6; do
		echo "v$f n mean sd: $(stats <"$BATS_TEST_TMPDIR/r$f")," \
			"median $(median <"$BATS_TEST_TMPDIR/r$f"), min $(minimum <"$BATS_TEST_TMPDIR/r$f")"
		echo "v$f RTTs in order: $(tr '\n' ' ' <"$BATS_TEST_TMPDIR/r$f")"
	done
	echo "delay line: $(cat "$DL_STATS")"
	for f in 4 6; do
		assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/r$f")" 40
		lo_delay_ok "$BATS_TEST_TMPDIR/r$f"
	done
}

@test "wrap --delay 25ms: loopback pings (v4 and v6, ping -U) see +50ms" {
	run -0 "$FALLACY" wrap --delay 25ms -- ping -U -c 20 -i 0.05 127.0.0.1
	echo "$output" | rtts >"$BATS_TEST_TMPDIR/r4"
	run -0 "$FALLACY" wrap --delay 25ms -- ping -6 -U -c 20 -i 0.05 ::1
	echo "$output" | rtts >"$BATS_TEST_TMPDIR/r6"
	for f in 4 6; do
		echo "v$f n mean sd: $(stats <"$BATS_TEST_TMPDIR/r$f")," \
			"median $(median <"$BATS_TEST_TMPDIR/r$f"), min $(minimum <"$BATS_TEST_TMPDIR/r$f")"
	done
	for f in 4 6; do
		assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/r$f")" 20
		lo_delay_ok "$BATS_TEST_TMPDIR/r$f"
	done
}

# An attach-mode target: namespace XNS (faults) wired to XB by a veth.
attach_pair() {
	XNS=fl-dx$$ XB=fl-dy$$
	ip netns add "$XNS"
	ip netns add "$XB"
	ip -n "$XNS" link add eth0 type veth peer name eth0 netns "$XB"
	ip -n "$XNS" addr add 198.18.200.1/24 dev eth0
	ip -n "$XB" addr add 198.18.200.2/24 dev eth0
	for n in "$XNS" "$XB"; do
		ip -n "$n" link set lo up
		ip -n "$n" link set eth0 up
	done
}

sup_pid() {
	awk '$1 == "pid" { print $2; exit }' "$FALLACY_RUN_DIR/@netns-$XNS/journal"
}

@test "kill -9 of the supervisor with packets held: fail-open flows, cleanup removes rule and programs" {
	attach_pair
	run -0 "$FALLACY" fault add --netns "$XNS" delay 2s
	ip netns exec "$XB" ping -c 1 -W 0.2 198.18.200.1 || true # held for 2 s
	kill -9 "$(sup_pid)"
	run -0 ip netns exec "$XNS" iptables -t raw -S PREROUTING
	assert_output --partial "--queue-bypass"
	run -0 ip netns exec "$XB" ping -c 3 -i 0.2 -W 1 198.18.200.1
	assert_output --partial "3 received"
	run -0 "$FALLACY" cleanup "@netns-$XNS"
	run -0 ip netns exec "$XNS" iptables -t raw -S PREROUTING
	refute_output --partial NFQUEUE
	run -0 ip netns exec "$XNS" tc filter show dev eth0 ingress
	assert_output ''
	run -0 ip netns exec "$XNS" tc qdisc show dev eth0
	refute_output --partial clsact
}

@test "kill -9 of the supervisor with fail-closed cuts the traffic until cleanup" {
	attach_pair
	run -0 "$FALLACY" fault add --netns "$XNS" delay 10ms fail-closed
	run -0 ip netns exec "$XB" ping -c 2 -i 0.2 -W 1 198.18.200.1
	run -0 ip netns exec "$XNS" iptables -t raw -S PREROUTING
	refute_output --partial "--queue-bypass"
	kill -9 "$(sup_pid)"
	run ip netns exec "$XB" ping -c 3 -i 0.2 -W 1 198.18.200.1
	assert_output --partial "0 received"
	run -0 "$FALLACY" cleanup "@netns-$XNS"
	run -0 ip netns exec "$XB" ping -c 3 -i 0.2 -W 1 198.18.200.1
	assert_output --partial "3 received"
}

# 20 slots held 2 s each admit at most 10 packets/s after the first 20:
# 100 requests sent within 3 s overflow at least 50 times, even when a
# busy machine slows the 2 ms pacing down 15-fold.
@test "queue overflow beyond the limit is counted and dropped, not silent" {
	fault delay 2s limit 20 --from n1 --to n2
	ip netns exec "$N1" ping -c 100 -i 0.002 -W 1 "$IP2" >/dev/null || true
	run -0 "$FALLACY" fault list "$LAB" -j
	echo "$output"
	ovf=$(echo "$output" | jq '.[0].counters.overflow')
	[ "$ovf" -ge 50 ]
}

@test "reorder 50% delay 20ms: about half the packets skip the delay, counted as reordered" {
	fault reorder 50% delay 20ms --from n1 --to n2 --seed 3
	ip netns exec "$N1" ping -c 100 -i 0.03 "$IP2" | rtts >"$BATS_TEST_TMPDIR/r"
	# a delayed reply is never back before 20 ms; one that skipped the
	# delay is back at once, or later on a busy machine: so "quick" is
	# below 19.5 ms, and no band in between is asked to stay empty
	n=$(wc -l <"$BATS_TEST_TMPDIR/r")
	quick=$(awk '$1 < 19.5 { k++ } END { print k + 0 }' "$BATS_TEST_TMPDIR/r")
	run -0 "$FALLACY" fault list "$LAB" -j
	r=$(echo "$output" | jq '.[0].counters.reordered')
	echo "replies $n, back before 19.5 ms $quick, counted as reordered $r"
	[ "$n" -eq 100 ]
	within "$quick" 30 70
	within "$r" 35 65
	# the ones ping saw come back early are the ones counted (a reply
	# that skipped the delay but took 19.5 ms on a busy machine aside)
	within "$((r - quick))" 0 10
}

@test "a wire namespace without bridge-nf-call-iptables is refused, not silently undelayed" {
	ip netns exec "$W" sysctl -qw net.bridge.bridge-nf-call-iptables=0
	run -2 "$FALLACY" fault add "$LAB" delay 10ms
	assert_output --partial "bridge-nf-call-iptables is 0"
	ip netns exec "$W" sysctl -qw net.bridge.bridge-nf-call-iptables=1
	run -0 "$FALLACY" fault add "$LAB" delay 10ms
}

@test "delay input errors exit 2 and name the problem" {
	run -2 "$FALLACY" fault add "$LAB" delay 50ms distribution gauss
	assert_output --partial "distribution gauss: unknown value (use uniform, normal, pareto, paretonormal)"
	run -2 "$FALLACY" fault add "$LAB" delay 5xs
	run -2 "$FALLACY" fault add "$LAB" delay 50ms backend netem
	assert_output --partial "backend netem"
}

@test "a second delay line on the same namespace is refused with a clear message" {
	dl_start "$W" -4 -- delay 10ms
	run -2 "$FALLACY" __delayline --netns "$W" -4 -- delay 10ms
	assert_output --partial "bound by another process"
}
