#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
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
	[ -n "${XNS:-}" ] && ip netns del "$XNS" 2>/dev/null
	true
}

base_rtt() {
	ip netns exec "$N1" ping -c 20 -i 0.01 "$IP2" | rtts | stats | cut -d' ' -f2
}

@test "delay 50ms n1->n2 on the wire: 200 pings, mean RTT - baseline = 50ms +- 0.5ms" {
	base=$(base_rtt)
	dl_start "$W" -4 --rt 10 -- delay 50ms
	dl_mark "$W" 4 -s "$IP1" -d "$IP2"
	read -r n mean sd < <(ip netns exec "$N1" ping -c 200 -i 0.01 "$IP2" | rtts | stats)
	echo "n=$n mean=$mean sd=$sd base=$base"
	[ "$n" -eq 200 ]
	add=$(awk -v m="$mean" -v b="$base" 'BEGIN { print m - b }')
	within "$add" 49.5 50.5
	dl_stop
	grep -q '"delayed":200' "$DL_STATS"
}

@test "delay without --from/--to delays each direction: RTT +100ms" {
	dl_start "$W" -4 --rt 10 -- delay 50ms
	dl_mark "$W" 4
	read -r n mean sd < <(ip netns exec "$N1" ping -c 50 -i 0.02 "$IP2" | rtts | stats)
	echo "n=$n mean=$mean"
	within "$mean" 99.5 101.5
}

@test "TCP through 50ms one way on the wire reaches half of bare veth (no OUTPUT-hook trap)" {
	tcp_big_buffers "$N1" "$N2"
	bare=$(iperf_gbps "$N1" "$N2" "$IP2" 3)
	dl_start "$W" -4 --rt 10 -- delay 50ms
	dl_mark "$W" 4 -s "$IP1" -d "$IP2"
	delayed=$(iperf_gbps "$N1" "$N2" "$IP2" 6 -O 2)
	echo "bare=$bare Gbit/s delayed=$delayed Gbit/s"
	awk -v d="$delayed" -v b="$bare" 'BEGIN { exit !(d >= b / 2) }'
}

# A paced ping (30 ms apart) through one-way jitter: the RTT spread is the
# jitter's. allow-reorder keeps the no-reorder floor out of the numbers.
jitter_sd() {
	dl_start "$W" -4 --rt 10 --seed "${SEED:-1}" -- delay 50ms jitter 10ms distribution "$1" allow-reorder
	dl_mark "$W" 4 -s "$IP1" -d "$IP2"
	ip netns exec "$N1" ping -c 200 -i 0.03 "$IP2" | rtts >"$BATS_TEST_TMPDIR/rtts.$1"
	dl_stop
	stats <"$BATS_TEST_TMPDIR/rtts.$1"
}

@test "jitter 10ms uniform: standard deviation within 15% of 10/sqrt(3) ms" {
	read -r n mean sd < <(jitter_sd uniform)
	echo "n=$n mean=$mean sd=$sd (theory 5.774)"
	within "$sd" 4.91 6.64
	within "$mean" 48.5 52
}

@test "jitter 10ms normal: standard deviation within 15% of 10 ms" {
	read -r n mean sd < <(jitter_sd normal)
	echo "n=$n mean=$mean sd=$sd (theory 10)"
	within "$sd" 8.5 11.5
}

@test "the same seed gives the same per-packet delays, another seed does not" {
	SEED=7 jitter_sd uniform >/dev/null
	mv "$BATS_TEST_TMPDIR/rtts.uniform" "$BATS_TEST_TMPDIR/a"
	SEED=7 jitter_sd uniform >/dev/null
	mv "$BATS_TEST_TMPDIR/rtts.uniform" "$BATS_TEST_TMPDIR/b"
	SEED=8 jitter_sd uniform >/dev/null
	mv "$BATS_TEST_TMPDIR/rtts.uniform" "$BATS_TEST_TMPDIR/c"
	# fraction of packets whose RTTs agree within 1 ms (timer error)
	same=$(paste "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b" |
		awk '{ d = $1 - $2; if (d < 0) d = -d; if (d < 1) k++ } END { print k / NR }')
	other=$(paste "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/c" |
		awk '{ d = $1 - $2; if (d < 0) d = -d; if (d < 1) k++ } END { print k / NR }')
	echo "same seed: $same agree; other seed: $other agree"
	within "$same" 0.95 1
	within "$other" 0 0.5
}

@test "delayed TCP works: iperf3 through 20ms completes, 1MB socat transfer is byte-identical" {
	dl_start "$W" -4 -- delay 20ms
	dl_mark "$W" 4
	run -0 ip netns exec "$N2" iperf3 -s -1 -D -p 5202
	sleep 0.3
	run -0 ip netns exec "$N1" iperf3 -c "$IP2" -p 5202 -t 2
	assert_output --partial "receiver"
	head -c 1048576 /dev/urandom >"$BATS_TEST_TMPDIR/in"
	ip netns exec "$N2" socat -u TCP-LISTEN:7000,reuseaddr OPEN:"$BATS_TEST_TMPDIR/out",creat,trunc &
	srv=$!
	sleep 0.3
	run -0 ip netns exec "$N1" socat -u OPEN:"$BATS_TEST_TMPDIR/in" TCP:"$IP2":7000
	wait "$srv"
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
}

@test "IPv6: delay 50ms n1->n2 adds 50ms to ping -6" {
	dl_start "$W" -6 --rt 10 -- delay 50ms
	dl_mark "$W" 6 -s fdfa:11ac::1 -d fdfa:11ac::2 -p icmpv6 --icmpv6-type echo-request
	read -r n mean sd < <(ip netns exec "$N1" ping -6 -c 50 -i 0.02 fdfa:11ac::2 | rtts | stats)
	echo "n=$n mean=$mean"
	within "$mean" 49.8 51.5
}

@test "loopback (wrap's hook, INPUT -i lo): 25ms each way gives ping -U RTT +50ms" {
	XNS=fl-dlo$$
	ip netns add "$XNS"
	ip -n "$XNS" link set lo up
	dl_start "$XNS" --hook lo --rt 10 -- delay 25ms
	dl_mark_lo "$XNS"
	run ip netns exec "$XNS" iptables -S INPUT
	assert_output --partial "-i lo -m mark --mark 0xfa110000/0xffff0000 -j NFQUEUE --queue-num 64017 --queue-bypass"
	read -r n mean sd < <(ip netns exec "$XNS" ping -U -c 40 -i 0.02 127.0.0.1 | rtts | stats)
	echo "v4 n=$n mean=$mean"
	within "$mean" 49.8 52
	read -r n mean sd < <(ip netns exec "$XNS" ping -6 -U -c 40 -i 0.02 ::1 | rtts | stats)
	echo "v6 n=$n mean=$mean"
	within "$mean" 49.8 52
}

@test "kill -9 with packets held: fail-open lets traffic through, cleanup removes the rule" {
	S=@dlk$$
	dl_start "$W" -4 --session "$S" -- delay 2s
	dl_mark "$W" 4
	ip netns exec "$N1" ping -c 1 -W 0.2 "$IP2" || true # held for 2 s
	kill -9 "$DL_PID"
	wait "$DL_PID" 2>/dev/null || true
	DL_PID=
	run -0 ip netns exec "$W" iptables -t raw -S PREROUTING
	assert_output --partial "--queue-bypass"
	run -0 ip netns exec "$N1" ping -c 3 -i 0.2 -W 1 "$IP2"
	assert_output --partial "3 received"
	run -0 "$FALLACY" cleanup "$S"
	run -0 ip netns exec "$W" iptables -t raw -S PREROUTING
	refute_output --partial NFQUEUE
}

@test "kill -9 with --fail-closed cuts the traffic until cleanup" {
	S=@dlc$$
	dl_start "$W" -4 --fail-closed --session "$S" -- delay 10ms
	dl_mark "$W" 4
	run -0 ip netns exec "$N1" ping -c 2 -i 0.2 -W 1 "$IP2"
	kill -9 "$DL_PID"
	wait "$DL_PID" 2>/dev/null || true
	DL_PID=
	run ip netns exec "$N1" ping -c 3 -i 0.2 -W 1 "$IP2"
	assert_output --partial "0 received"
	run -0 "$FALLACY" cleanup "$S"
	run -0 ip netns exec "$N1" ping -c 3 -i 0.2 -W 1 "$IP2"
	assert_output --partial "3 received"
}

@test "queue overflow beyond the limit is counted and dropped, not silent" {
	dl_start "$W" -4 -- delay 500ms limit 20
	dl_mark "$W" 4 -s "$IP1" -d "$IP2"
	ip netns exec "$N1" ping -c 100 -i 0.002 -W 1 "$IP2" >/dev/null || true
	dl_stop
	cat "$DL_STATS"
	grep -q '"max_held":20' "$DL_STATS"
	ovf=$(jq .overflow "$DL_STATS")
	[ "$ovf" -ge 50 ]
}

@test "a second delay line on the same namespace is refused with a clear message" {
	dl_start "$W" -4 -- delay 10ms
	run -2 "$FALLACY" __delayline --netns "$W" -4 -- delay 10ms
	assert_output --partial "bound by another process"
}
