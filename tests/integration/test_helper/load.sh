#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The load test (issue 18, "Concurrency and limits"): a 3-node lab, mixed
# traffic at its limit for SECS seconds (iperf3 TCP n3 -> n2, a ping flood
# n1 -> n3, a counted UDP flow n1 -> n2 at 2000 datagrams/s) while a fault
# is added and another removed every 100 ms (loss and delay on the UDP flow,
# a partition n1 n3, a rate cap n3 -> n2, in turn). Then everything is
# cleared and it prints one JSON object: the UDP flow's sent, received and
# duplicates, what the loss faults dropped (their final counters in the
# fault-del events), the receiver's socket-buffer drops (/proc/net/snmp),
# the commands run and failed, the supervisor's RSS after warm-up and at
# the end, and what the delay line still holds. The integration test
# (load.bats, 30 s) and bench/load.sh (10 minutes) read it.
#   load.sh LAB SECS
set -uo pipefail
LAB=$1 SECS=$2
HERE=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/fallacy-load.XXXXXX)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$tmp"' EXIT
"$FALLACY" lab up "$LAB" --nodes 3 >/dev/null || exit 2
N1=fl-$LAB.n1 N2=fl-$LAB.n2 N3=fl-$LAB.n3
ipof() { awk -v n="$1" '$1 == "node" && $2 == n { print $3 }' "$FALLACY_RUN_DIR/$LAB/lab"; }
IP2=$(ipof n2) IP3=$(ipof n3)
sup=$(pgrep -f "__supervise $LAB\$")
rss() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$sup/status"; }
rcvbuf() { ip netns exec "$N2" awk '$1 == "Udp:" && $2 ~ /^[0-9]/ { print $6 }' /proc/net/snmp; }
listening() { ip netns exec "$1" ss -Hln"$2" "sport = :$3" 2>/dev/null | grep -q .; }
wait_for() { for _ in $(seq 1 100); do "$@" && return 0; sleep 0.1; done; return 1; }

ip netns exec "$N2" python3 "$HERE/udp_flow.py" recv "$IP2" 5999 "$tmp/stop" 2 >"$tmp/recv" &
pids+=($!)
ip netns exec "$N2" iperf3 -s -p 5201 >/dev/null 2>&1 &
pids+=($!)
wait_for listening "$N2" u 5999 && wait_for listening "$N2" t 5201 || exit 2
rb0=$(rcvbuf)
# where else a datagram can go: n1's stack and link, the wire's bridge
# ports and NFQUEUE, n2's link and UDP errors (all deltas). On a busy
# machine a veth's peer backlog (net.core.netdev_max_backlog, global)
# overflows now and then and the kernel drops there, counted as the
# sending port's tx_dropped: a real loss fallacy did not make. These
# counters hold every protocol, so they bound the UDP flow's share.
snmp() { ip netns exec "$1" awk -v p="$2" -v f="$3" '$1 == p":" && $2 !~ /^[0-9]/ { for (i = 2; i <= NF; i++) h[i] = $i; next } $1 == p":" { for (i = 2; i <= NF; i++) if (h[i] == f) print $i }' /proc/net/snmp; }
linkstat() { ip -n "$1" -s -j link show dev "$2" | jq ".[0].stats64.$3.dropped"; }
nfq() { ip netns exec "fl-$LAB" awk -v c="$1" '{ s += $c } END { print s + 0 }' /proc/net/netfilter/nfnetlink_queue 2>/dev/null || echo 0; }
other() {
	echo "$(snmp "$N1" Udp OutDatagrams) $(snmp "$N1" Udp SndbufErrors) $(snmp "$N1" Ip OutDiscards) \
$(linkstat "$N1" eth0 tx) $(linkstat "fl-$LAB" p-n1 rx) $(linkstat "fl-$LAB" p-n2 tx) \
$(nfq 6) $(nfq 7) $(snmp "$N2" Udp InDatagrams) $(snmp "$N2" Udp InErrors) $(snmp "$N2" Udp NoPorts) \
$(linkstat "$N2" eth0 rx)"
}
read -r -a o0 <<<"$(other)"
ip netns exec "$N3" iperf3 -c "$IP2" -p 5201 -t "$SECS" -J >"$tmp/iperf" 2>&1 &
pids+=($!)
ipf=$!
ip netns exec "$N1" ping -q -i 0.002 -w "$SECS" "$IP3" >/dev/null 2>&1 &
pids+=($!)
ip netns exec "$N1" python3 "$HERE/udp_flow.py" send "$IP2" 5999 2000 "$SECS" >"$tmp/sent" &
snd=$!
pids+=($!)

ops=0 fails=0 rss0=
declare -A live
t0=$(date +%s%N)
end=$((t0 + SECS * 1000000000))
for ((i = 0; ; i++)); do
	now=$(date +%s%N)
	[ "$now" -ge "$end" ] && break
	[ -z "$rss0" ] && [ $((now - t0)) -ge 3000000000 ] && rss0=$(rss)
	case $((i % 4)) in
	0) k=l words=(loss 20% --from n1 --to n2 --proto udp) ;;
	1) k=d words=(delay 3ms --from n1 --to n2 --proto udp) ;;
	2) k=p words=(partition n1 n3) ;;
	3) k=r words=(rate 50mbit --from n3 --to n2) ;;
	esac
	if [ -n "${live[$k]:-}" ]; then
		"$FALLACY" -q fault del "$LAB" "${live[$k]}" >/dev/null 2>&1 || fails=$((fails + 1))
		ops=$((ops + 1))
	fi
	"$FALLACY" -q fault add "$LAB" "${words[@]}" --id "$k$i" >/dev/null 2>&1 || fails=$((fails + 1))
	ops=$((ops + 1))
	live[$k]=$k$i
	next=$((t0 + (i + 1) * 100000000))
	now=$(date +%s%N)
	[ "$next" -gt "$now" ] && sleep "$(awk -v n=$((next - now)) 'BEGIN { printf "%.3f", n / 1e9 }')"
done
"$FALLACY" -q fault clear "$LAB" >/dev/null 2>&1 || fails=$((fails + 1))
rss1=$(rss)
wait "$snd" "$ipf"
touch "$tmp/stop"
wait "${pids[0]}"
rb1=$(rcvbuf)
read -r -a o1 <<<"$(other)"
od() { echo $(( ${o1[$1]:-0} - ${o0[$1]:-0} )); }
read -r _ sent <"$tmp/sent"
read -r _ received _ dups <"$tmp/recv"
ev="$FALLACY_RUN_DIR/$LAB/events.jsonl"
dropped=$(jq -s '[.[] | select(.event == "fault-del" and (.id | startswith("l"))) | .counters.dropped] | add // 0' "$ev")
delayed=$(jq -s '[.[] | select(.event == "fault-del" and (.id | startswith("d"))) | .counters.delayed] | add // 0' "$ev")
dels=$(jq -s '[.[] | select(.event == "fault-del")] | length' "$ev")
held=$(ip netns exec "fl-$LAB" awk '{ s += $3 } END { print s + 0 }' /proc/net/netfilter/nfnetlink_queue 2>/dev/null || echo 0)
left=$("$FALLACY" fault list "$LAB" -j | jq length)
gbps=$(jq '(.end.sum_received.bits_per_second // 0) / 1e9' "$tmp/iperf" 2>/dev/null || echo 0)
cat <<EOF
{"secs": $SECS, "commands": $ops, "failed": $fails, "fault_del_events": $dels,
 "udp": {"sent": ${sent:-0}, "received": ${received:-0}, "duplicates": ${dups:-0},
  "dropped_by_loss_faults": $dropped, "delayed_by_delay_faults": $delayed,
  "receiver_buffer_drops": $((rb1 - rb0))},
 "elsewhere": {"n1_udp_out": $(od 0), "n1_sndbuf_errors": $(od 1), "n1_ip_out_discards": $(od 2),
  "n1_eth0_tx_dropped": $(od 3), "wire_p_n1_rx_dropped": $(od 4), "wire_p_n2_tx_dropped": $(od 5),
  "nfqueue_dropped": $(od 6), "nfqueue_user_dropped": $(od 7), "n2_udp_in": $(od 8),
  "n2_udp_in_errors": $(od 9), "n2_udp_no_ports": $(od 10), "n2_eth0_rx_dropped": $(od 11),
  "path_drops": $(($(od 1) + $(od 2) + $(od 3) + $(od 4) + $(od 5) + $(od 6) + $(od 7) + $(od 9) + $(od 11)))},
 "iperf3_gbps": $gbps, "supervisor_rss_kb": {"after_warmup": ${rss0:-0}, "end": ${rss1:-0}},
 "queue_held_after": $held, "faults_left": $left}
EOF
