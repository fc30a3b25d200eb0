#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The eBPF data plane on 2-node labs:
#  1. transport accounting on (every lab's default) against off
#     (FALLACY_ACCOUNTING=off at lab up, a second lab), interleaved run by
#     run: iperf3 TCP n1 -> n2 and the program's run time per packet (BPF
#     run-time statistics) with default offloads, with TSO/GSO/GRO off and
#     no rule, and with one non-matching rule;
#  2. iperf3 TCP n1 -> n2 with 256 non-matching rules and loss 0.01%
#     matching (accounting on);
#  3. loss accuracy at 0.1, 1, 10, 50% over 100 000 flood pings;
#  4. time from `fault add` returning to enforcement (tcpdump timestamps).
#   bench/dataplane.sh [OUT.json]
set -euo pipefail
cd "$(dirname "$0")/.."
FALLACY="${FALLACY:-$PWD/.output/fallacy}"
OUT=${1:-bench/out/dataplane.json}
SECS=${SECS:-5}
REPS=${REPS:-3}
PINGS=${PINGS:-100000}
export FALLACY_RUN_DIR="/run/fallacy-bench-dp-$$"
LAB="bd$$"
LOFF="bo$$" # the same lab with accounting off
N1="fl-$LAB.n1" N2="fl-$LAB.n2"
tmp=$(mktemp -d /tmp/fallacy-bench-dp.XXXXXX)
srv=

stats=
srv2=
cleanup() {
	[ -n "$srv" ] && kill "$srv" 2>/dev/null
	[ -n "$srv2" ] && kill "$srv2" 2>/dev/null
	[ -n "$stats" ] && kill "$stats" 2>/dev/null
	"$FALLACY" cleanup --all >/dev/null 2>&1 || true
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"; rm -rf "$FALLACY_RUN_DIR"
}
trap cleanup EXIT

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# BPF run-time statistics (BPF_ENABLE_STATS: on while the fd is open, for
# this benchmark only; no sysctl is changed)
stats_on() {
	python3 -c '
import ctypes, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
attr = (ctypes.c_uint32 * 32)()
if libc.syscall(321, 32, ctypes.byref(attr), ctypes.sizeof(attr)) < 0:
    sys.exit(1)
print("ok", flush=True)
signal.sigwait([signal.SIGTERM])' >"$tmp/stats" &
	stats=$!
	sleep 0.3
}

# "RUN_TIME_NS RUN_CNT" of the data plane's ingress program in the wire of
# lab $1 (default: $LAB)
prog_stats() {
	local id
	id=$(tc -n "fl-${1:-$LAB}" filter show dev p-n1 ingress | sed -n 's/.* id \([0-9]*\) .*/\1/p' | head -1)
	if [ -z "$id" ]; then
		echo "0 0"
		return
	fi
	bpftool prog show id "$id" -j | jq -r '"\(.run_time_ns // 0) \(.run_cnt // 0)"'
}

# one iperf3 run n1 -> n2 in lab $1: "GBIT/S NS_PER_PROGRAM_RUN"
one_run() {
	local l=$1 ip t0 c0 t1 c1 g
	ip=$(awk '$1 == "node" && $2 == "n2" { print $3 }' "$FALLACY_RUN_DIR/$l/lab")
	read -r t0 c0 < <(prog_stats "$l")
	g=$(ip netns exec "fl-$l.n1" iperf3 -c "$ip" -t "$SECS" -J |
		jq '.end.sum_received.bits_per_second / 1e9')
	read -r t1 c1 < <(prog_stats "$l")
	echo "$g $(awk -v t=$((t1 - t0)) -v c=$((c1 - c0)) 'BEGIN { printf "%.0f", c ? t / c : 0 }')"
}

# REPS runs in each lab given, interleaved (lab A, lab B, lab A, ...) so
# that the machine's load drifts over both alike; one line per lab:
# "GBIT/S NS_PER_RUN" (medians)
tput_ab() {
	local r l
	for l in "$@"; do : >"$tmp/runs.$l"; done
	for ((r = 0; r < REPS; r++)); do
		for l in "$@"; do one_run "$l" >>"$tmp/runs.$l"; done
	done
	for l in "$@"; do
		echo "$(awk '{ print $1 }' "$tmp/runs.$l" | median) $(awk '{ print $2 }' "$tmp/runs.$l" | median)"
	done
}

# iperf3 TCP n1 -> n2 in $LAB: prints "GBIT/S NS_PER_PACKET" (medians of REPS runs)
tput() {
	tput_ab "$LAB"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }'; }

"$FALLACY" lab up "$LAB" --nodes 2 >/dev/null
FALLACY_ACCOUNTING=off "$FALLACY" lab up "$LOFF" --nodes 2 >/dev/null
IP2=$(awk '$1 == "node" && $2 == "n2" { print $3 }' "$FALLACY_RUN_DIR/$LAB/lab")
ip netns exec "$N2" iperf3 -s >/dev/null 2>&1 &
srv=$!
ip netns exec "fl-$LOFF.n2" iperf3 -s >/dev/null 2>&1 &
srv2=$!
sleep 0.5

stats_on
# every lab has the program from lab up: accounting on counts, off returns
# at once (no rules)
{ read -r bare bare_ns; read -r bare_off bare_off_ns; } < <(tput_ab "$LAB" "$LOFF")
echo "iperf3 default offloads, no rules: accounting on $bare Gbit/s ($bare_ns ns/run)," \
	"off $bare_off Gbit/s ($bare_off_ns ns/run), ratio $(ratio "$bare" "$bare_off")"
# offloads off as a per-packet fault sets them (ethtool -K here: no rule
# loaded), one run per wire packet
offloads() { # on|off NETNS...
	local v=$1 ns
	shift
	for ns in "$@"; do
		ip netns exec "$ns" ethtool -K eth0 tso "$v" gso "$v" gro "$v" tx "$v" >/dev/null 2>&1
	done
}
offloads off "$N1" "$N2" "fl-$LOFF.n1" "fl-$LOFF.n2"
{ read -r empty empty_ns; read -r empty_off empty_off_ns; } < <(tput_ab "$LAB" "$LOFF")
echo "iperf3 offloads off, 0 rules: accounting on $empty Gbit/s ($empty_ns ns/packet)," \
	"off $empty_off Gbit/s ($empty_off_ns ns/packet), ratio $(ratio "$empty" "$empty_off")"
for l in "$LAB" "$LOFF"; do
	"$FALLACY" -q fault add "$l" partition --from n1 --to n2 --proto tcp --dport 999 >/dev/null
done
{ read -r one one_ns; read -r one_off one_off_ns; } < <(tput_ab "$LAB" "$LOFF")
echo "iperf3 1 non-matching rule: accounting on $one Gbit/s ($one_ns ns/packet)," \
	"off $one_off Gbit/s ($one_off_ns ns/packet), ratio $(ratio "$one" "$one_off")"
"$FALLACY" -q fault clear "$LOFF"
kill "$srv2" 2>/dev/null
srv2=
"$FALLACY" -q fault clear "$LAB"
for ((i = 0; i < 256; i++)); do
	"$FALLACY" -q fault add "$LAB" loss 50% --from n1 --to n2 --proto tcp \
		--dport $((1000 + i)) --id "nm$i" >/dev/null
done
read -r rules rules_ns < <(tput)
echo "iperf3 256 non-matching loss rules on n1 (offloads off on n1): $rules Gbit/s, $rules_ns ns/packet"
"$FALLACY" -q fault clear "$LAB"
for ((i = 0; i < 256; i++)); do
	"$FALLACY" -q fault add "$LAB" loss 50% --from n2 --to n1 --proto udp \
		--sport $((1000 + i)) --id "nu$i" >/dev/null
done
read -r rules2 rules2_ns < <(tput)
echo "iperf3 256 non-matching rules (other node pair and protocol): $rules2 Gbit/s, $rules2_ns ns/packet"
"$FALLACY" -q fault clear "$LAB"
"$FALLACY" -q fault add "$LAB" loss 0.01% --from n1 --to n2 --proto tcp --seed 1 >/dev/null
read -r loss loss_ns < <(tput)
echo "iperf3 loss 0.01% matching: $loss Gbit/s, $loss_ns ns/packet"
"$FALLACY" -q fault clear "$LAB"
kill "$srv" 2>/dev/null
srv=

# loss accuracy
acc_json=""
for p in 0.1 1 10 50; do
	"$FALLACY" -q fault add "$LAB" loss "$p%" --from n1 --to n2 --proto icmp --seed 1 \
		--id acc >/dev/null
	read -r sent recv < <(ip netns exec "$N1" ping -q -f -l 8 -c "$PINGS" -W 1 "$IP2" |
		awk '/transmitted/ { print $1, $4 }')
	dropped=$("$FALLACY" fault list "$LAB" -j | jq '.[0].counters.dropped')
	meas=$(awk -v s="$sent" -v r="$recv" 'BEGIN { printf "%.3f", 100 * (s - r) / s }')
	echo "loss $p%: sent $sent received $recv measured $meas% counter $dropped"
	acc_json+="${acc_json:+, }{\"set\": $p, \"sent\": $sent, \"received\": $recv, \"measured\": $meas, \"dropped_counter\": $dropped}"
	"$FALLACY" -q fault clear "$LAB"
done

# fault add -> enforcement: flood n1 -> n2; tcpdump on the wire port p-n1
# (taps run before the tc ingress hook) and on n2's eth0. The supervisor
# logs the wall-clock time right after the rule table flipped
# (events.jsonl). Enforcement latency = hook time of the last request that
# still reached n2, minus the flip time (<= 0: nothing passed after it).
seqs() { # pcap -> "SEQ NANOSECONDS" lines
	tcpdump -r "$1" -n --time-stamp-precision=nano -tt 2>/dev/null |
		awk '{ for (i = 1; i < NF; i++) if ($i == "seq") { s = $(i + 1); sub(",", "", s) }
		       split($1, t, "."); print s, t[1] t[2] }'
}
lats="" durs=""
for ((r = 0; r < REPS; r++)); do
	ip netns exec "fl-$LAB" tcpdump --immediate-mode -U -B 16384 -i p-n1 -n -s 64 --time-stamp-precision=nano \
		-w "$tmp/wire.pcap" 'icmp[icmptype] == icmp-echo' 2>/dev/null &
	d1=$!
	ip netns exec "$N2" tcpdump --immediate-mode -U -B 16384 -i eth0 -n -s 64 --time-stamp-precision=nano \
		-w "$tmp/n2.pcap" 'icmp[icmptype] == icmp-echo' 2>/dev/null &
	d2=$!
	sleep 0.5
	ip netns exec "$N1" ping -q -f "$IP2" >/dev/null 2>&1 &
	pinger=$!
	sleep 0.5
	t0=$(date +%s%N)
	"$FALLACY" -q fault add "$LAB" partition --from n1 --to n2 --id cut >/dev/null
	t1=$(date +%s%N)
	sleep 0.3
	kill "$pinger" 2>/dev/null
	sleep 0.2
	kill -INT "$d1" "$d2" 2>/dev/null
	wait "$pinger" "$d1" "$d2" 2>/dev/null || true
	flip=$(jq -r 'select(.event == "fault-add" and .id == "cut") | .wall_ns' \
		"$FALLACY_RUN_DIR/$LAB/events.jsonl" | tail -1)
	"$FALLACY" -q fault clear "$LAB"
	seqs "$tmp/n2.pcap" | awk '{ print $1 }' | sort -u >"$tmp/got"
	last=$(seqs "$tmp/wire.pcap" | sort -k1,1 | join - "$tmp/got" | sort -k2,2n | tail -1 |
		awk '{ print $2 }')
	lats+=" $(((last - flip) / 1000))"
	[ -n "${KEEP:-}" ] && echo "flip $flip last $last tmp $tmp"
	durs+=" $(((t1 - t0) / 1000))"
done
lat=$(echo "$lats" | median)
dur=$(echo "$durs" | median)
echo "fault add command: median $dur us; last request through the hook: median $lat us after the flip (runs:$lats)"

# Goals (issue 17), default offloads, two 3-node labs measured interleaved:
# GB bare, G with rules. iperf3 TCP n1 -> n2 in both.
#  a. 256 rules on the same pair that match nothing and need no wire
#     packets (partition of other ports): offloads stay on;
#  b. 256 per-packet rules (loss) that match nothing, on another pair
#     (n3 -> n1): n3's offloads go off, n1 -> n2 keeps its super-packets;
#  c. one matching `loss 0.01%` on n3 -> n2 with a ping flood on that pair
#     (in both labs), n1 -> n2 measured.
G="g$$" GB="gb$$"
"$FALLACY" lab up "$G" --nodes 3 >/dev/null
"$FALLACY" lab up "$GB" --nodes 3 >/dev/null
ip netns exec "fl-$G.n2" iperf3 -s >/dev/null 2>&1 &
srv=$!
ip netns exec "fl-$GB.n2" iperf3 -s >/dev/null 2>&1 &
srv2=$!
sleep 0.5
for ((i = 0; i < 256; i++)); do
	"$FALLACY" -q fault add "$G" partition --from n1 --to n2 --proto tcp \
		--dport $((1000 + i)) --id p$i >/dev/null
done
{ read -r ga _; read -r ga_bare _; } < <(tput_ab "$G" "$GB")
echo "goal a: 256 non-matching partition rules on n1 -> n2: $ga Gbit/s, bare $ga_bare, ratio $(ratio "$ga" "$ga_bare")"
"$FALLACY" -q fault clear "$G"
for ((i = 0; i < 256; i++)); do
	"$FALLACY" -q fault add "$G" loss 50% --from n3 --to n1 --proto tcp \
		--dport $((1000 + i)) --id l$i >/dev/null
done
{ read -r gb _; read -r gb_bare _; } < <(tput_ab "$G" "$GB")
echo "goal b: 256 non-matching loss rules on n3 -> n1: $gb Gbit/s, bare $gb_bare, ratio $(ratio "$gb" "$gb_bare")"
"$FALLACY" -q fault clear "$G"
"$FALLACY" -q fault add "$G" loss 0.01% --from n3 --to n2 --seed 1 --id lm >/dev/null
ip3g=$(awk '$1 == "node" && $2 == "n2" { print $3 }' "$FALLACY_RUN_DIR/$G/lab")
ip3b=$(awk '$1 == "node" && $2 == "n2" { print $3 }' "$FALLACY_RUN_DIR/$GB/lab")
ip netns exec "fl-$G.n3" ping -q -i 0.002 "$ip3g" >/dev/null 2>&1 &
p1=$!
ip netns exec "fl-$GB.n3" ping -q -i 0.002 "$ip3b" >/dev/null 2>&1 &
p2=$!
{ read -r gc _; read -r gc_bare _; } < <(tput_ab "$G" "$GB")
kill "$p1" "$p2" 2>/dev/null || true
gc_matched=$("$FALLACY" fault list "$G" -j | jq '.[0].counters.packets')
echo "goal c: loss 0.01% matching on n3 -> n2 ($gc_matched packets matched): n1 -> n2 $gc Gbit/s," \
	"bare $gc_bare, ratio $(ratio "$gc" "$gc_bare")"
kill "$srv" "$srv2" 2>/dev/null || true
srv='' srv2=''
"$FALLACY" lab down "$G" >/dev/null
"$FALLACY" lab down "$GB" >/dev/null
load=$(cut -d' ' -f1-3 /proc/loadavg)
goal() { # NAME MEASURED TARGET
	local pass
	pass=$(awk -v m="$2" -v t="$3" 'BEGIN { print (m >= t) ? "true" : "false" }')
	echo "{\"goal\": \"$1\", \"measured\": $2, \"target\": \">= $3\", \"pass\": $pass}"
}
goals="$(goal "256 non-matching rules, same pair (partition), offloads kept: ratio to bare" "$(ratio "$ga" "$ga_bare")" 0.97),
  $(goal "256 non-matching per-packet rules on another pair: ratio to bare" "$(ratio "$gb" "$gb_bare")" 0.97),
  $(goal "one matching loss 0.01% on another pair: this pair's ratio to bare" "$(ratio "$gc" "$gc_bare")" 0.97)"

mkdir -p "$(dirname "$OUT")"
cat >"$OUT" <<EOF
{"accounting": {"default_offloads": {"on_gbps": $bare, "off_gbps": $bare_off, "ratio": $(ratio "$bare" "$bare_off"),
   "on_ns_per_run": $bare_ns, "off_ns_per_run": $bare_off_ns},
  "offloads_off_no_rules": {"on_gbps": $empty, "off_gbps": $empty_off, "ratio": $(ratio "$empty" "$empty_off"),
   "on_ns_per_packet": $empty_ns, "off_ns_per_packet": $empty_off_ns},
  "rule_1_nonmatching": {"on_gbps": $one, "off_gbps": $one_off, "ratio": $(ratio "$one" "$one_off"),
   "on_ns_per_packet": $one_ns, "off_ns_per_packet": $one_off_ns}},
 "iperf3_gbps": {"default_offloads": $bare, "attached_no_rules": $empty, "rule_1_nonmatching": $one,
  "rules_256_nonmatching_ports": $rules, "rules_256_nonmatching_pair": $rules2,
  "loss_0.01pct": $loss},
 "program_ns_per_packet": {"no_rules": $empty_ns, "rule_1_nonmatching": $one_ns, "rules_256_nonmatching_ports": $rules_ns,
  "rules_256_nonmatching_pair": $rules2_ns, "loss_0.01pct": $loss_ns},
 "goals_gbps": {"rules_256_partition_same_pair": $ga, "bare_a": $ga_bare,
  "rules_256_loss_other_pair": $gb, "bare_b": $gb_bare, "loss_0.01pct_other_pair": $gc, "bare_c": $gc_bare,
  "loss_0.01pct_other_pair_matched": $gc_matched},
 "load": "$load",
 "goals": [$goals],
 "loss_accuracy": [$acc_json],
 "enforcement": {"fault_add_us": $dur, "last_request_through_hook_after_flip_us": $lat,
  "runs_last_packet_us": [$(echo "$lats" | xargs | tr ' ' ',')]}}
EOF
echo "wrote $OUT"
