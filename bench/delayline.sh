#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Packets/s through the delay line (issue 17), 64-byte UDP through 1 ms,
# the line alone (`fallacy __delayline` on a veth pair, an iptables MARK
# rule standing in for the BPF mark) with a sender that is not the limit
# (bench/udpflood.c: PROCS processes, sendmmsg, 16 source addresses = 16
# address pairs). In one run, three lines: one verdict message per packet
# (--no-batch, the old line), batched verdicts (the default), and batched
# with one queue and thread per CPU (--queues, --queue-balance spreading
# the 16 address pairs):
#  1. a ladder of paced rates: the highest one the line carries without
#     loss in the line (no receive-buffer drops, no overflow, every packet
#     the NFQUEUE rule queued delayed);
#  2. saturation: the senders as fast as they can. Fail-open (the default,
#     --queue-bypass) lets what the line cannot read through undelayed;
#     fallacy counts it (rx_dropped), and so, independently, do the
#     NFQUEUE rule's counter (offered) and the receiving namespace's UDP
#     counters (arrived, /proc/net/snmp).
#   bench/delayline.sh [OUT.json]
set -euo pipefail
cd "$(dirname "$0")/.."
FALLACY="${FALLACY:-$PWD/.output/fallacy}"
FLOOD="${FLOOD:-$PWD/.output/bench/udpflood}"
OUT=${1:-bench/out/delayline.json}
PROCS=${PROCS:-$(nproc)}
SECS=${SECS:-3}
RATES=${RATES:-"50000 100000 200000 300000 400000 600000"}
export FALLACY_RUN_DIR="/run/fallacy-bench-delayline-$$"
XA="fl-bdla$$" XB="fl-bdlb$$"
IPB=198.18.205.2 PORT=5310
MARK="-p udp --dport $PORT -j MARK --set-mark 0xfa110000"
tmp=$(mktemp -d /tmp/fallacy-bench-delayline.XXXXXX)
dl=

cleanup() {
	if [ -n "$dl" ]; then
		kill "$dl" 2>/dev/null || true
		wait "$dl" 2>/dev/null || true
	fi
	ip netns del "$XA" 2>/dev/null || true
	ip netns del "$XB" 2>/dev/null || true
	"$FALLACY" cleanup --all >/dev/null 2>&1 || true
	rm -rf "$tmp" "$FALLACY_RUN_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$FLOOD" ] || { echo "bench/delayline.sh: $FLOOD missing (make bench builds it)" >&2; exit 2; }
ip netns add "$XA"
ip netns add "$XB"
ip -n "$XA" link add eth0 type veth peer name eth0 netns "$XB"
ip -n "$XA" addr add 198.18.205.1/24 dev eth0
SRCS=
for i in $(seq 10 25); do
	ip -n "$XA" addr add "198.18.205.$i/24" dev eth0
	SRCS+="${SRCS:+,}198.18.205.$i"
done
QUEUES=${QUEUES:-$(nproc)}
ip -n "$XB" addr add "$IPB"/24 dev eth0
for ns in "$XA" "$XB"; do ip -n "$ns" link set lo up; ip -n "$ns" link set eth0 up; done

# UDP datagrams that reached the receiving namespace's UDP layer (no
# socket listens: NoPorts; the rest for completeness)
arrived() {
	# shellcheck disable=SC2016
	ip netns exec "$XB" awk '/^Udp: [0-9]/ { print $2 + $3 + $4; exit }' /proc/net/snmp
}

# shellcheck disable=SC2086 # $MARK is words
# one MODE(batch|nobatch) PPS(0 = max): one JSON object on stdout
one() {
	local mode=$1 pps=$2 a0 a1 sent offered ticks flag=
	[ "$mode" = nobatch ] && flag=--no-batch
	[ "$mode" = queues ] && flag="--queues $QUEUES"
	rm -f "$tmp/ready" "$tmp/dl.json"
	"$FALLACY" __delayline --netns "$XB" -4 $flag --stats "$tmp/dl.json" \
		--ready "$tmp/ready" -- delay 1ms &
	dl=$!
	while [ ! -e "$tmp/ready" ]; do sleep 0.05; done
	# the mark stand-in goes above the line's NFQUEUE rule (inserted first)
	ip netns exec "$XB" iptables -w -t raw -I PREROUTING 1 $MARK
	[ -e "$tmp/rules" ] || ip netns exec "$XB" iptables -w -t raw -S PREROUTING >"$tmp/rules"
	a0=$(arrived)
	sent=$(ip netns exec "$XA" "$FLOOD" "$IPB" "$PORT" "$SECS" "$pps" "$PROCS" "$SRCS" |
		awk '{ print $2 }')
	sleep 0.3
	offered=$(ip netns exec "$XB" iptables -w -t raw -L PREROUTING -v -x -n |
		awk '/NFQUEUE/ { print $1 }')
	# the line's CPU time (all its threads; it also runs each released
	# packet's receive path inside the verdict's sendto)
	ticks=$(awk '{ print $14 + $15 }' "/proc/$dl/stat")
	kill "$dl"
	wait "$dl" 2>/dev/null || true
	dl=
	ip netns exec "$XB" iptables -w -t raw -D PREROUTING $MARK
	a1=$(arrived)
	jq -c --arg mode "$mode" --argjson pps "$pps" --argjson secs "$SECS" \
		--argjson sent "$sent" --argjson offered "${offered:-0}" \
		--argjson arrived "$((a1 - a0))" \
		--argjson cpu_s "$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { print t / hz }')" \
		'{mode: $mode, target_pps: $pps, sent: $sent, offered: $offered, arrived: $arrived,
		  delayed, rx_dropped, overflow, verdicts, verdict_msgs, batched, late_mean_ns,
		  late_max_ns, per_queue: [.queues[]?.released], cpu_s: $cpu_s,
		  cpu_us_per_pkt: (if .delayed > 0 then ($cpu_s * 1e6 / .delayed * 100 | round) / 100
				   else null end), sent_pps: ($sent / $secs | floor), delayed_pps: (.delayed / $secs | floor),
		  lossless: ($offered > 0 and .rx_dropped == 0 and .overflow == 0 and .delayed == $offered)}' \
		"$tmp/dl.json"
}

echo "delay line, 64-byte UDP through 1 ms, $PROCS sender processes, ${SECS}s per point"
printf '%-8s %10s %10s %10s %10s %10s %10s %8s %8s\n' mode target sent_pps delayed_pps \
	rx_dropped offered arrived lossless us/pkt
: >"$tmp/rows"
# SATURATE=0: only the ladder (a dry run on a shared machine)
[ "${SATURATE:-1}" = 0 ] || RATES="$RATES 0"
for pps in $RATES; do
	for mode in nobatch batch queues; do
		one "$mode" "$pps" | tee -a "$tmp/rows" | jq -r '[.mode, .target_pps, .sent_pps,
			.delayed_pps, .rx_dropped, .offered, .arrived, .lossless, .cpu_us_per_pkt] | @tsv' |
			awk -F'\t' '{ printf "%-8s %10s %10s %10s %10s %10s %10s %8s %8s\n", $1,
				($2 == 0 ? "max" : $2), $3, $4, $5, $6, $7, $8, $9 }'
	done
done
best() {
	jq -s --arg m "$1" '[.[] | select(.mode == $m and .target_pps > 0 and .lossless and
		.sent_pps >= 0.95 * .target_pps) | .delayed_pps] | max // 0' "$tmp/rows"
}
sat() { jq -s --arg m "$1" '[.[] | select(.mode == $m and .target_pps == 0)][0]' "$tmp/rows"; }
b=$(best batch) nb=$(best nobatch) bq=$(best queues)
sb=$(sat batch | jq '.delayed_pps // 0') snb=$(sat nobatch | jq '.delayed_pps // 0')
sq=$(sat queues | jq '.delayed_pps // 0')
best_any=$(printf '%s\n' "$b" "$bq" | sort -g | tail -1)
ratio=$(awk -v a="$sb" -v b="$snb" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
bypass=$(grep -c -- '--queue-bypass' "$tmp/rules" || true)
echo "highest lossless rate: one message per packet $nb packets/s, batched $b," \
	"batched with $QUEUES queues $bq"
echo "saturated: unbatched $snb packets/s delayed, batched $sb (ratio $ratio)," \
	"$QUEUES queues $sq;" \
	"fail-open rule (--queue-bypass): $([ "$bypass" -gt 0 ] && echo yes || echo NO)"
sat batch | jq -r 'select(. != null) | "saturated (batched): offered \(.offered), delayed \(.delayed), passed undelayed (rx_dropped) \(.rx_dropped), arrived at the receiver \(.arrived)"'
jq -s --argjson b "$b" --argjson nb "$nb" --argjson bq "$bq" --argjson best "$best_any" \
	--argjson ratio "$ratio" --argjson queues "$QUEUES" \
	--arg load "$(cut -d' ' -f1-3 /proc/loadavg)" --argjson procs "$PROCS" \
	--argjson failopen "$([ "$bypass" -gt 0 ] && echo true || echo false)" \
	'{procs: $procs, queues: $queues, load: $load, fail_open_default: $failopen, rows: .,
	  lossless_pps: {unbatched: $nb, batched: $b, batched_queues: $bq}, saturation_ratio: $ratio,
	  goals: [{goal: "64-byte UDP through 1 ms delay, lossless in the line (packets/s)",
		   measured: $best, target: ">= 300000", pass: ($best >= 300000)},
		  {goal: "delay line saturated: batched / unbatched verdicts (delayed packets/s)",
		   measured: $ratio, target: "> 1", pass: ($ratio > 1)}]}' "$tmp/rows" >"$OUT"
