#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The delay line under many packets (issue 17): batched verdicts
# (NFQNL_MSG_VERDICT_BATCH) never release a held packet early and keep each
# flow's order; packets the line cannot read (receive buffer full) pass
# undelayed with fail-open and are counted, never silent, whether the
# line's receive buffer or the kernel's queue was full; kill -9 and
# cleanup leave no rule and no bound queue. Sequence numbers and one-way
# times come from the receiving sockets (test_helper/udp_seq.py), the
# packets offered to the queue from the NFQUEUE rule's iptables counter.

bats_require_minimum_version 1.5.0
load test_helper/common
load test_helper/delay

setup() {
	fl_require_root
	LAB=$(fl_lab_name dq)
	run -0 "$FALLACY" lab up "$LAB" --nodes 2
	W=fl-$LAB N1=fl-$LAB.n1 N2=fl-$LAB.n2
	IP2=198.18.0.2
	DL_PID= RX_PID= SUP=
	SEQ="$BATS_TEST_DIRNAME/test_helper/udp_seq.py"
}

teardown() {
	[ -n "${RX_PID:-}" ] && kill "$RX_PID" 2>/dev/null
	[ -n "${DL_PID:-}" ] && kill -CONT "$DL_PID" 2>/dev/null
	[ -n "${SUP:-}" ] && kill -CONT "$SUP" 2>/dev/null
	dl_stop
	fl_cleanup_all
	for n in "${XA:-}" "${XB:-}"; do
		[ -n "$n" ] && ip netns del "$n" 2>/dev/null
	done
	true
}

# rx_start PORTS EXPECT IDLE_S: the receiver in $RX_NS (n2), output in $RX_OUT
rx_start() {
	local ready="$BATS_TEST_TMPDIR/rx.ready"
	RX_OUT="$BATS_TEST_TMPDIR/rx.json"
	ip netns exec "${RX_NS:-$N2}" python3 "$SEQ" recv "$1" "$2" "$3" "$ready" >"$RX_OUT" &
	RX_PID=$!
	fl_wait_until 20 test -e "$ready"
}

rx_wait() {
	wait "$RX_PID"
	RX_PID=
	cat "$RX_OUT"
}

rx() { jq -r ".\"$1\".$2" "$RX_OUT"; }

# Two delays on one queue: while 50 ms packets are held, 5 ms packets with
# higher ids fall due; a batch up to their ids would release the held
# 50 ms ones early, so the line must split (vbatch.h). Bursts of 50
# interleave the two flows.
@test "two delays on one queue (50 ms, 5 ms), interleaved bursts: none early, each flow in order, counters add up" {
	"$FALLACY" fault add "$LAB" delay 50ms --from n1 --to n2 --proto udp --dport 7101 \
		--id slow >/dev/null
	"$FALLACY" fault add "$LAB" delay 5ms --from n1 --to n2 --proto udp --dport 7102 \
		--id fast >/dev/null
	rx_start 7101,7102 4000 5
	ip netns exec "$N1" python3 "$SEQ" send "$IP2" 4000 50 2 7101,7102
	rx_wait
	run -0 "$FALLACY" fault list "$LAB" -j
	echo "$output"
	for p in 7101 7102; do
		[ "$(rx "$p" received)" -eq 2000 ]
		[ "$(rx "$p" reordered)" -eq 0 ]
		[ "$(rx "$p" dups)" -eq 0 ]
	done
	awk -v m="$(rx 7101 min_ms)" 'BEGIN { exit !(m >= 50) }'
	awk -v m="$(rx 7102 min_ms)" 'BEGIN { exit !(m >= 5) }'
	for id in slow fast; do
		c=$(echo "$output" | jq -c ".[] | select(.id == \"$id\") | .counters")
		[ "$(echo "$c" | jq .packets)" -eq 2000 ]
		[ "$(echo "$c" | jq '.held + .overflow + .reordered')" -eq 0 ]
	done
}

# 20 000 datagrams in bursts of 200 through 1 ms: rounds release many
# packets at once, so batches are used (batched > 0, fewer messages than
# verdicts); what the receiver counts is what the line delayed.
@test "the delay line alone, 1 ms, 20 000 datagrams in bursts: batched verdicts, none early, order kept, counts agree" {
	dl_start "$W" -4 -- delay 1ms
	dl_mark "$W" 4 -p udp --dport 7103
	rx_start 7103 20000 5
	ip netns exec "$N1" python3 "$SEQ" send "$IP2" 20000 200 1 7103
	rx_wait
	dl_stop
	cat "$DL_STATS"
	s() { jq ".$1" "$DL_STATS"; }
	[ "$(s rx_dropped)" -eq 0 ]
	[ "$(s delayed)" -eq 20000 ]
	[ "$(s verdicts)" -eq 20000 ]
	[ "$(s batched)" -gt 0 ]
	[ "$(s verdict_msgs)" -lt 20000 ]
	[ "$(s verdict_errors)" -eq 0 ]
	[ "$(rx 7103 received)" -eq 20000 ]
	[ "$(rx 7103 reordered)" -eq 0 ]
	awk -v m="$(rx 7103 min_ms)" 'BEGIN { exit !(m >= 1) }'
}

# A line that does not read (stopped: the saturated case made certain)
# with a 64 KB receive buffer: the first few packets wait in the buffer,
# the rest find it full and pass at once (fail-open). fallacy counts them
# (rx_dropped, the socket's drop counter); the NFQUEUE rule's counter and
# the receiver count them independently: offered = delayed + rx_dropped =
# received.
@test "a line that cannot keep up: packets pass undelayed (fail-open), counted in rx_dropped, never silent" {
	dl_start "$W" -4 --rcvbuf 65536 -- delay 200ms
	dl_mark "$W" 4 -p udp --dport 7104
	kill -STOP "$DL_PID"
	rx_start 7104 2000 10
	ip netns exec "$N1" python3 "$SEQ" send "$IP2" 2000 100 1 7104
	offered=$(ip netns exec "$W" iptables -w -t raw -L PREROUTING -v -x -n |
		awk '/NFQUEUE/ { print $1 }')
	echo "NFQUEUE rule: $offered packets"
	kill -CONT "$DL_PID"
	rx_wait # what the buffer held comes 200 ms after the line reads it
	dl_stop
	cat "$DL_STATS"
	delayed=$(jq .delayed "$DL_STATS")
	dropped=$(jq .rx_dropped "$DL_STATS")
	[ "$(rx 7104 received)" -eq 2000 ]
	[ "$dropped" -ge 1000 ]
	[ "$delayed" -ge 1 ]
	[ $((delayed + dropped)) -eq 2000 ]
	[ "$offered" -eq 2000 ]
}

# kill -9 of a line holding packets (journal through --session): the
# queue is unbound with the process; fail-open lets traffic through;
# cleanup removes the rule, and no queue stays bound.
@test "kill -9 of the delay line holding packets, then cleanup: no NFQUEUE rule, no bound queue" {
	dl_start "$W" -4 --session "dl$LAB" -- delay 2s
	dl_mark "$W" 4 -p udp --dport 7105
	ip netns exec "$N1" python3 "$SEQ" send "$IP2" 100 100 0 7105
	fl_wait_until 20 grep -q . <(ip netns exec "$W" cat /proc/net/netfilter/nfnetlink_queue)
	run -0 ip netns exec "$W" cat /proc/net/netfilter/nfnetlink_queue
	echo "$output"
	assert_output --regexp "^ *64017 "
	kill -9 "$DL_PID"
	wait "$DL_PID" 2>/dev/null || true
	DL_PID=
	run -0 ip netns exec "$W" iptables -w -t raw -S PREROUTING
	assert_output --partial "NFQUEUE --queue-num 64017 --queue-bypass"
	run -0 "$FALLACY" cleanup "dl$LAB"
	run -0 ip netns exec "$W" iptables -w -t raw -S PREROUTING
	refute_output --partial NFQUEUE
	run -0 ip netns exec "$W" cat /proc/net/netfilter/nfnetlink_queue
	refute_output --regexp "^ *64017 "
	rx_start 7105 3 3
	ip netns exec "$N1" python3 "$SEQ" send "$IP2" 3 3 0 7105
	rx_wait
	[ "$(rx 7105 received)" -eq 3 ]
}

# send_to_stopped_line PORT N IDLE_S: a 200 ms delay n1 -> n2 on udp PORT,
# the lab's supervisor (its delay line) stopped ($SUP), the receiver
# started (rx_start PORT N IDLE_S), and N datagrams sent in bursts of 100.
# The fault goes in through "${ADD[@]}" (default: fallacy fault add LAB).
send_to_stopped_line() {
	local add=("$FALLACY" fault add "$LAB")
	[ -z "${ADD+set}" ] || add=("${ADD[@]}")
	"${add[@]}" delay 200ms --from n1 --to n2 --proto udp --dport "$1" --id slow >/dev/null
	SUP=$(awk '$1 == "pid" { print $2; exit }' "$FALLACY_RUN_DIR/$LAB/journal")
	[ -n "$SUP" ]
	rx_start "$1" "$2" "$3"
	kill -STOP "$SUP"
	ip netns exec "$N1" python3 "$SEQ" send "$IP2" "$2" 100 1 "$1"
}

# The supervisor's line (the real path: BPF mark, wire namespace) with a
# 64 KB buffer, stopped: `fault list` shows what passed undelayed
# (bypassed), while the receiver counts every datagram. The fault is added
# through the lab's control socket, whose `counters` verb says the same.
@test "fault list shows the packets that bypassed a line that could not keep up" {
	"$FALLACY" lab down "$LAB" >/dev/null
	FALLACY_DELAY_RCVBUF=65536 run -0 "$FALLACY" lab up "$LAB" --nodes 2 --control-user root
	SOCK=$FALLACY_RUN_DIR/$LAB/control/control.sock
	ADD=("$FALLACY" control --socket "$SOCK" add)
	send_to_stopped_line 7106 2000 10
	kill -CONT "$SUP"
	rx_wait
	run -0 "$FALLACY" fault list "$LAB" -j
	echo "$output"
	[ "$(rx 7106 received)" -eq 2000 ]
	[ "$(echo "$output" | jq '.[0].counters.packets')" -eq 2000 ]
	bypassed=$(echo "$output" | jq '.[0].counters.bypassed')
	[ "$bypassed" -ge 1000 ]
	run -0 "$FALLACY" fault list "$LAB"
	assert_output --regexp "bypassed [0-9]{4}"
	run -0 "$FALLACY" control --socket "$SOCK" counters slow
	echo "control counters: $output"
	[ "$(echo "$output" | jq '.counters[0].bypassed')" -eq "$bypassed" ]
}

# The kernel's queue holds at most 65 536 packets (FL_DL_QUEUE_MAXLEN). A
# stopped line with the default 64 MB buffer takes that many as messages;
# the rest find the queue full and pass at once (fail-open), numbered by
# nothing. The receiver, counting while the line is still stopped, sees
# exactly those; the NFQUEUE rule's counter minus the kernel's
# id_sequence (/proc) is the same number, and so is fault list's bypassed.
@test "a full kernel queue (65 536 held): what it turns away passes undelayed, counted in bypassed" {
	send_to_stopped_line 7107 80000 3
	rx_wait # only what passed the stopped line: 3 s of silence ends it
	offered=$(ip netns exec "$W" iptables -w -t raw -L PREROUTING -v -x -n |
		awk '/NFQUEUE/ { s += $1 } END { print s + 0 }')
	queued=$(ip netns exec "$W" awk '$1 == 64017 { print $8 }' \
		/proc/net/netfilter/nfnetlink_queue)
	kill -CONT "$SUP"
	run -0 "$FALLACY" fault list "$LAB" -j
	echo "NFQUEUE rule: $offered packets; queue id_sequence: $queued; $output"
	[ "$queued" -eq 65536 ]
	[ "$offered" -gt 70000 ]
	[ "$(rx 7107 received)" -eq $((offered - queued)) ]
	[ "$(echo "$output" | jq '.[0].counters.bypassed')" -eq $((offered - queued)) ]
}

# A veth pair of its own: XA sends from 16 addresses (16 address pairs, so
# --queue-balance's hash spreads them: all 16 in one of 2 queues has odds
# 2^-15), XB receives and runs the line on its PREROUTING.
multi_pair() {
	XA=fl-dqa$$ XB=fl-dqb$$
	ip netns add "$XA"
	ip netns add "$XB"
	ip -n "$XA" link add eth0 type veth peer name eth0 netns "$XB"
	SRCS=
	for i in $(seq 10 25); do
		ip -n "$XA" addr add "198.18.206.$i/24" dev eth0
		SRCS+="${SRCS:+,}198.18.206.$i"
	done
	ip -n "$XB" addr add 198.18.206.2/24 dev eth0
	for ns in "$XA" "$XB"; do
		ip -n "$ns" link set lo up
		ip -n "$ns" link set eth0 up
	done
	RX_NS=$XB
}

# Each flow stays in one queue (the hash is of the address pair), so each
# flow keeps its order as with one queue; every queue has its own thread,
# heap and counters, and the line's totals are their sums.
@test "two queues (--queue-balance), 16 flows: both queues used, each flow in order, none early, counters add up" {
	multi_pair
	dl_start "$XB" -4 --queues 2 -- delay 5ms
	dl_mark "$XB" 4 -p udp --dport 7107
	run -0 ip netns exec "$XB" iptables -w -t raw -S PREROUTING
	assert_output --partial "-j NFQUEUE --queue-balance 64017:64018 --queue-bypass"
	run -0 ip netns exec "$XB" cat /proc/net/netfilter/nfnetlink_queue
	assert_line --regexp '^ *64017 '
	assert_line --regexp '^ *64018 '
	rx_start 7107 4000 10
	ip netns exec "$XA" python3 "$SEQ" send 198.18.206.2 4000 64 1 7107 "$SRCS"
	rx_wait
	dl_stop
	cat "$DL_STATS"
	[ "$(rx 7107 received)" -eq 4000 ]
	[ "$(rx 7107 flows)" -eq 16 ]
	[ "$(rx 7107 reordered)" -eq 0 ]
	[ "$(rx 7107 dups)" -eq 0 ]
	awk -v m="$(rx 7107 min_ms)" 'BEGIN { exit !(m >= 5) }'
	s() { jq "$1" "$DL_STATS"; }
	[ "$(s .rx_dropped)" -eq 0 ]
	[ "$(s .delayed)" -eq 4000 ]
	[ "$(s '.queues | length')" -eq 2 ]
	[ "$(s '[.queues[].released] | add')" -eq 4000 ]
	[ "$(s '[.queues[].verdicts] | add')" -eq "$(s .verdicts)" ]
	[ "$(s '.queues[0].released')" -gt 0 ]
	[ "$(s '.queues[1].released')" -gt 0 ]
}

@test "kill -9 of a two-queue line holding packets, then cleanup: no rule, neither queue bound" {
	multi_pair
	dl_start "$XB" -4 --queues 2 --session "dq$LAB" -- delay 2s
	dl_mark "$XB" 4 -p udp --dport 7108
	ip netns exec "$XA" python3 "$SEQ" send 198.18.206.2 64 64 0 7108 "$SRCS"
	kill -9 "$DL_PID"
	wait "$DL_PID" 2>/dev/null || true
	DL_PID=
	run -0 ip netns exec "$XB" iptables -w -t raw -S PREROUTING
	assert_output --partial "--queue-balance 64017:64018 --queue-bypass"
	run -0 "$FALLACY" cleanup "dq$LAB"
	run -0 ip netns exec "$XB" iptables -w -t raw -S PREROUTING
	refute_output --partial NFQUEUE
	run -0 ip netns exec "$XB" cat /proc/net/netfilter/nfnetlink_queue
	assert_output ''
	rx_start 7108 16 5
	ip netns exec "$XA" python3 "$SEQ" send 198.18.206.2 16 16 0 7108 "$SRCS"
	rx_wait
	[ "$(rx 7108 received)" -eq 16 ]
}

# The lab's line (a 20 ms delay n1 -> n2 in place) goes through the rule
# --queue-balance 64017:64018, both queues are bound, and pings wait.
two_queues_delay_20ms() {
	run -0 ip netns exec "$W" iptables -w -t raw -S PREROUTING
	assert_output --partial "--queue-balance 64017:64018 --queue-bypass"
	run -0 ip netns exec "$W" cat /proc/net/netfilter/nfnetlink_queue
	assert_line --regexp '^ *64017 '
	assert_line --regexp '^ *64018 '
	min=$(ip netns exec "$N1" ping -c 5 -i 0.05 "$IP2" | rtts | minimum)
	echo "ping min RTT $min ms"
	awk -v m="$min" 'BEGIN { exit !(m >= 20) }'
}

@test "FALLACY_DELAY_QUEUES=2: a lab's line binds two queues and delays, lab down leaves nothing" {
	"$FALLACY" lab down "$LAB" >/dev/null
	FALLACY_DELAY_QUEUES=2 run -0 "$FALLACY" lab up "$LAB" --nodes 2
	"$FALLACY" fault add "$LAB" delay 20ms --from n1 --to n2 >/dev/null
	two_queues_delay_20ms
	run -0 "$FALLACY" lab down "$LAB"
	fl_assert_lab_gone "$LAB"
}

# The same through the CLI: lab up --delay-queues 2. The lab keeps the
# setting, so the supervisor that the next fault add starts (after the
# first one was stopped) binds two queues again. A bad N is refused.
@test "lab up --delay-queues 2: two queues, kept across a supervisor restart; 0 and 17 exit 2" {
	"$FALLACY" lab down "$LAB" >/dev/null
	for bad in 0 17 x; do
		run -2 "$FALLACY" lab up "$LAB" --nodes 2 --delay-queues "$bad"
		assert_output --partial "lab up: --delay-queues: "
		run -0 ip netns list
		refute_output --partial "fl-$LAB"
	done
	run -0 "$FALLACY" lab up "$LAB" --nodes 2 --delay-queues 2
	"$FALLACY" fault add "$LAB" delay 20ms --from n1 --to n2 --id d >/dev/null
	run -0 ip netns exec "$W" iptables -w -t raw -S PREROUTING
	assert_output --partial "--queue-balance 64017:64018 --queue-bypass"
	sup=$(awk '$1 == "pid" { print $2; exit }' "$FALLACY_RUN_DIR/$LAB/journal")
	[ -n "$sup" ]
	kill -TERM "$sup"
	fl_wait_until 20 sh -c "! kill -0 $sup 2>/dev/null"
	run -0 ip netns exec "$W" iptables -w -t raw -S PREROUTING
	refute_output --partial NFQUEUE
	"$FALLACY" fault add "$LAB" delay 20ms --from n1 --to n2 --id d2 >/dev/null
	two_queues_delay_20ms
}

# fd_held PID: the process has /dev/cpu_dma_latency open (its PM QoS request)
fd_held() { ls -l "/proc/$1/fd" 2>/dev/null | grep -q cpu_dma_latency; }
not_held() {
	if fd_held "$1"; then
		echo "process $1 holds /dev/cpu_dma_latency" >&2
		return 1
	fi
}
# min_rtt_at_least FILE MS: no RTT in the ping output is below MS. With a
# one-way delay of MS this is "never early", a floor that holds however
# busy the machine (it only ever makes RTTs longer); it shows the delay
# was applied with and without the wake-up latency request.
min_rtt_at_least() {
	local m
	m=$(rtts <"$1" | minimum)
	echo "smallest RTT: $m ms"
	within "$m" "$2" 100000
}

# While the line holds packets it asks for CPU wake-up latency 0, as
# cyclictest does (a timed wake-up otherwise waits for a halted vCPU):
# seen from outside, the supervisor has /dev/cpu_dma_latency open and the
# kernel's value reads 0; a second after the traffic stops it lets go.
# Other tests' lines may hold the machine's value at 0 too, so the release
# is judged on this supervisor's open files. `lab up --delay-pmqos off`
# and FALLACY_DELAY_PMQOS=0: never; a bad value exits 2 and makes nothing.
@test "the line asks for CPU wake-up latency 0 while it holds packets, lets go when idle; --delay-pmqos off and FALLACY_DELAY_PMQOS=0 do not" {
	"$FALLACY" fault add "$LAB" delay 20ms --from n1 --to n2 >/dev/null
	SUP=$(awk '$1 == "pid" { print $2; exit }' "$FALLACY_RUN_DIR/$LAB/journal")
	[ -n "$SUP" ]
	not_held "$SUP"
	ip netns exec "$N1" ping -c 60 -i 0.05 "$IP2" >"$BATS_TEST_TMPDIR/ping" &
	local ping=$!
	fl_wait_until 10 fd_held "$SUP"
	run -0 python3 -c 'import struct; print(struct.unpack("i", open("/dev/cpu_dma_latency", "rb").read(4))[0])'
	assert_output 0
	wait "$ping"
	cat "$BATS_TEST_TMPDIR/ping"
	min_rtt_at_least "$BATS_TEST_TMPDIR/ping" 20
	fl_wait_until 10 not_held "$SUP"
	SUP=

	run -2 "$FALLACY" lab up "${LAB}x" --nodes 2 --delay-pmqos maybe
	assert_output --partial "lab up: --delay-pmqos maybe: expected on or off"
	run -0 ip netns list
	refute_output --partial "fl-${LAB}x"

	local how
	for how in option env; do
		"$FALLACY" lab down "$LAB" >/dev/null
		if [ "$how" = option ]; then
			run -0 "$FALLACY" lab up "$LAB" --nodes 2 --delay-pmqos off
		else
			FALLACY_DELAY_PMQOS=0 run -0 "$FALLACY" lab up "$LAB" --nodes 2
		fi
		"$FALLACY" fault add "$LAB" delay 20ms --from n1 --to n2 >/dev/null
		SUP=$(awk '$1 == "pid" { print $2; exit }' "$FALLACY_RUN_DIR/$LAB/journal")
		ip netns exec "$N1" ping -c 40 -i 0.05 "$IP2" >"$BATS_TEST_TMPDIR/ping" &
		ping=$!
		while kill -0 "$ping" 2>/dev/null; do
			not_held "$SUP"
			sleep 0.2
		done
		wait "$ping"
		echo "$how:"
		min_rtt_at_least "$BATS_TEST_TMPDIR/ping" 20
		SUP=
	done
}
