#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# "The network is secure" kinds on a 2-node lab:
#  1. replay accuracy: UDP datagrams n1 -> n2 with `replay 100% after D`
#     (D = 10ms, 100ms, 1s); tcpdump on n2 sees each twice; the error of
#     the gap against D (mean, p50, p99, max, share within 1 ms and 5 ms);
#  2. cost: iperf3 TCP n1 -> n2 with a non-matching rule (baseline), with
#     `tamper 100% offset 100` on every data segment (not on iperf3's 37-byte
#     cookie, which the server must read back), and the baseline with the nodes' TX
#     checksum offload back on (what the lab turns off), as ratios of the
#     baseline measured in the same run, interleaved, median of REPS.
#   bench/secure.sh [OUT.json]
set -euo pipefail
cd "$(dirname "$0")/.."
FALLACY="${FALLACY:-$PWD/.output/fallacy}"
OUT=${1:-bench/out/secure.json}
N=${N:-200}
SECS=${SECS:-4}
REPS=${REPS:-5}
export FALLACY_RUN_DIR="/run/fallacy-bench-sec-$$"
LAB="bse$$"
N1="fl-$LAB.n1" N2="fl-$LAB.n2"
IP2=198.18.0.2
tmp=$(mktemp -d /tmp/fallacy-bench-sec.XXXXXX)
srv=

cleanup() {
	[ -n "$srv" ] && kill "$srv" 2>/dev/null
	"$FALLACY" cleanup --all >/dev/null 2>&1 || true
	rm -rf "$FALLACY_RUN_DIR" "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# TX checksum offload of eth0 in NS: on|off (ethtool ioctl, no ethtool binary)
txcsum() {
	ip netns exec "$1" python3 -c '
import ctypes, fcntl, socket, struct, sys
buf = bytearray(struct.pack("II", 0x17, 1 if sys.argv[1] == "on" else 0))
addr = ctypes.addressof(ctypes.c_char.from_buffer(buf))
fcntl.ioctl(socket.socket(), 0x8946, struct.pack("16sQ", b"eth0", addr))' "$2"
}

# replay D: prints "MEAN P50 P99 MAX WITHIN1 WITHIN5" of (gap - D) in ms
replay_error() {
	local d=$1 ms=$2 n=$3 gap=$4
	"$FALLACY" fault add "$LAB" replay 100% after "$d" --from n1 --to n2 --proto udp --dport 7300 --seed 1 >/dev/null 2>&1
	ip netns exec "$N2" tcpdump -i eth0 -U -n --immediate-mode --time-stamp-precision nano \
		-w "$tmp/r.pcap" udp port 7300 2>"$tmp/td.log" &
	local td=$!
	for _ in $(seq 50); do grep -q listening "$tmp/td.log" && break; sleep 0.1; done
	ip netns exec "$N1" python3 - "$IP2" "$n" "$gap" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[2])):
    s.sendto(b"replay %06d" % i, (sys.argv[1], 7300))
    time.sleep(float(sys.argv[3]))
EOF
	sleep "$(awk -v m="$ms" 'BEGIN { print m / 1000 + 0.5 }')"
	kill -INT "$td"
	wait "$td" || true
	"$FALLACY" fault clear "$LAB" >/dev/null 2>&1
	tshark -r "$tmp/r.pcap" -T fields -e frame.time_epoch -e data.data 2>/dev/null |
		awk -v d="$ms" '{ if ($2 in t) print ($1 - t[$2]) * 1000 - d; else t[$2] = $1 }' |
		sort -g | awk '{ a[NR] = $1; s += $1; e = $1 < 0 ? -$1 : $1; w1 += e <= 1; w5 += e <= 5 }
			END { if (!NR) { print "0 0 0 0 0 0"; exit }
			      printf "%.3f %.3f %.3f %.3f %.3f %.3f\n", s / NR, a[int((NR + 1) / 2)],
				a[int(NR * 0.99 + 0.999)], a[NR], w1 / NR, w5 / NR }'
}

# iperf3 TCP n1 -> n2 for SECS, data stream from port 5399 (the control
# connection must not be tampered with): Gbit/s
iperf() {
	ip netns exec "$N1" iperf3 -c "$IP2" -p 5298 --cport 5399 -t "$SECS" -O 1 -J |
		jq '(.end.sum_received.bits_per_second // 0) / 1e9'
}

"$FALLACY" lab up "$LAB" --nodes 2 >/dev/null

printf '{\n  "replay": [' >"$OUT"
printf '%8s %6s %9s %9s %9s %9s %8s %8s\n' after count mean_ms p50_ms p99_ms max_ms "<=1ms" "<=5ms"
sep=
for spec in "10ms 10 $N 0.01" "100ms 100 $N 0.01" "1s 1000 $((N / 2)) 0.02"; do
	read -r d ms n gap <<<"$spec"
	read -r mean p50 p99 max w1 w5 < <(replay_error "$d" "$ms" "$n" "$gap")
	printf '%8s %6s %9s %9s %9s %9s %8s %8s\n' "$d" "$n" "$mean" "$p50" "$p99" "$max" "$w1" "$w5"
	printf '%s\n    {"after": "%s", "count": %s, "error_ms": {"mean": %s, "p50": %s, "p99": %s, "max": %s}, "within_1ms": %s, "within_5ms": %s}' \
		"$sep" "$d" "$n" "$mean" "$p50" "$p99" "$max" "$w1" "$w5" >>"$OUT"
	sep=,
done
printf '\n  ],\n' >>"$OUT"

ip netns exec "$N2" iperf3 -s -p 5298 >/dev/null 2>&1 &
srv=$!
sleep 0.5
base=() tamp=() csum=()
for _ in $(seq "$REPS"); do
	"$FALLACY" fault add "$LAB" loss 0% --dport 9 >/dev/null 2>&1 # offloads off, nothing matches
	base+=("$(iperf)")
	"$FALLACY" fault add "$LAB" tamper 100% offset 100 --from n1 --to n2 --proto tcp --sport 5399 --seed 1 >/dev/null 2>&1
	tamp+=("$(iperf)")
	"$FALLACY" fault clear "$LAB" >/dev/null 2>&1
	"$FALLACY" fault add "$LAB" loss 0% --dport 9 >/dev/null 2>&1
	txcsum "$N1" on && txcsum "$N2" on
	csum+=("$(iperf)")
	txcsum "$N1" off && txcsum "$N2" off
	"$FALLACY" fault clear "$LAB" >/dev/null 2>&1
done
b=$(echo "${base[*]}" | median) t=$(echo "${tamp[*]}" | median) c=$(echo "${csum[*]}" | median)
rt=$(awk -v a="$t" -v b="$b" 'BEGIN { printf "%.3f", b ? a / b : 0 }')
rc=$(awk -v a="$b" -v b="$c" 'BEGIN { printf "%.3f", b ? a / b : 0 }')
printf '\n%-52s %8s %6s\n' "iperf3 TCP n1 -> n2 (median of $REPS)" Gbit/s ratio
printf '%-52s %8.2f %6s\n' "lab offloads off, a non-matching rule (baseline)" "$b" 1.000
printf '%-52s %8.2f %6s\n' "tamper 100% of the data stream (every segment)" "$t" "$rt"
printf '%-52s %8.2f %6s\n' "baseline with TX checksum offload back on" "$c" "-"
printf '%-52s %8s %6s\n' "baseline / TX checksum offload on (cost of turning it off)" "" "$rc"
printf '  "iperf_gbit": {"baseline": %s, "tamper_all": %s, "txcsum_on": %s},\n  "ratios": {"tamper_all": %s, "txcsum_off": %s},\n  "runs": {"baseline": [%s], "tamper_all": [%s], "txcsum_on": [%s]}\n}\n' \
	"$b" "$t" "$c" "$rt" "$rc" "$(IFS=,; echo "${base[*]}")" "$(IFS=,; echo "${tamp[*]}")" "$(IFS=,; echo "${csum[*]}")" >>"$OUT"
jq . "$OUT" >/dev/null
