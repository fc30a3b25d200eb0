#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The eBPF data plane on a 2-node lab:
#  1. iperf3 TCP n1 -> n2: bare lab (default offloads), bare lab with TSO/GSO/GRO
#     off (what fallacy sets on lab nodes), 256 non-matching rules, and
#     loss 0.01% matching;
#  2. loss accuracy at 0.1, 1, 10, 50% over 100 000 flood pings;
#  3. time from `fault add` returning to enforcement (tcpdump timestamps).
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
N1="fl-$LAB.n1" N2="fl-$LAB.n2"
tmp=$(mktemp -d /tmp/fallacy-bench-dp.XXXXXX)
srv=

cleanup() {
	[ -n "$srv" ] && kill "$srv" 2>/dev/null
	"$FALLACY" cleanup --all >/dev/null 2>&1 || true
	rm -rf "$tmp" "$FALLACY_RUN_DIR"
}
trap cleanup EXIT

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# iperf3 TCP n1 -> n2 in Gbit/s, median of REPS runs
tput() {
	local runs="" r
	for ((r = 0; r < REPS; r++)); do
		runs+=" $(ip netns exec "$N1" iperf3 -c "$IP2" -t "$SECS" -J |
			jq '.end.sum_received.bits_per_second / 1e9')"
	done
	echo "$runs" | median
}

"$FALLACY" lab up "$LAB" --nodes 2 >/dev/null
IP2=$(awk '$1 == "node" && $2 == "n2" { print $3 }' "$FALLACY_RUN_DIR/$LAB/lab")
ip netns exec "$N2" iperf3 -s >/dev/null 2>&1 &
srv=$!
sleep 0.5

bare=$(tput)
echo "iperf3 bare lab (default offloads):        $bare Gbit/s"
# the first fault attaches the program and turns TSO/GSO/GRO off on the
# nodes; a fault that matches nothing measures the offload change alone
"$FALLACY" -q fault add "$LAB" loss 1% --proto udp --dport 1 --id probe >/dev/null
"$FALLACY" -q fault del "$LAB" probe
# detach-free "bare with offloads off": rule table empty, program attached
# returns at once when there are no rules
empty=$(tput)
echo "iperf3 program attached, 0 rules, offloads off: $empty Gbit/s"
for ((i = 0; i < 256; i++)); do
	"$FALLACY" -q fault add "$LAB" loss 50% --from n1 --to n2 --proto tcp \
		--dport $((1000 + i)) --id "nm$i" >/dev/null
done
rules=$(tput)
echo "iperf3 256 non-matching rules:              $rules Gbit/s"
"$FALLACY" -q fault clear "$LAB"
"$FALLACY" -q fault add "$LAB" loss 0.01% --from n1 --to n2 --proto tcp --seed 1 >/dev/null
loss=$(tput)
echo "iperf3 loss 0.01% matching:                 $loss Gbit/s"
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

# fault add -> enforcement: flood n1 -> n2, tcpdump in n2 timestamps the
# requests; the last one that got through versus the moment add returned
lats="" durs=""
for ((r = 0; r < REPS; r++)); do
	ip netns exec "$N2" tcpdump -i eth0 -n -s 64 --time-stamp-precision=nano \
		-w "$tmp/cap.pcap" 'icmp[icmptype] == icmp-echo' 2>/dev/null &
	dump=$!
	sleep 0.5
	ip netns exec "$N1" ping -q -f "$IP2" >/dev/null 2>&1 &
	pinger=$!
	sleep 0.5
	t0=$(date +%s%N)
	"$FALLACY" -q fault add "$LAB" partition --from n1 --to n2 --id cut >/dev/null
	t1=$(date +%s%N)
	sleep 0.3
	kill "$pinger" 2>/dev/null
	wait "$pinger" 2>/dev/null || true
	kill "$dump" 2>/dev/null
	wait "$dump" 2>/dev/null || true
	"$FALLACY" -q fault clear "$LAB"
	last=$(tcpdump -r "$tmp/cap.pcap" -n --time-stamp-precision=nano -tt 2>/dev/null |
		tail -1 | awk '{ split($1, a, "."); print a[1] a[2] }')
	lats+=" $(((last - t1) / 1000))"
	durs+=" $(((t1 - t0) / 1000))"
done
lat=$(echo "$lats" | median)
dur=$(echo "$durs" | median)
echo "fault add command: median $dur us; last packet through at $lat us after it returned (negative: before)"

mkdir -p "$(dirname "$OUT")"
cat >"$OUT" <<EOF
{"iperf3_gbps": {"bare_default_offloads": $bare, "attached_no_rules": $empty,
  "rules_256_nonmatching": $rules, "loss_0.01pct": $loss},
 "loss_accuracy": [$acc_json],
 "enforcement": {"fault_add_us": $dur, "last_packet_after_return_us": $lat,
  "runs_last_packet_us": [$(echo "$lats" | xargs | tr ' ' ',')]}}
EOF
echo "wrote $OUT"
