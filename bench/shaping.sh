#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Rate caps on a 2-node lab: `fault add LAB rate R --to n2` (htb class on
# the wire port p-n2, chosen by the BPF data plane), iperf3 TCP n1 -> n2.
# iperf3 counts TCP payload (1448 of every 1514-byte frame); "wire" is
# that times 1514/1448, the rate the shaper enforces.
#   bench/shaping.sh [OUT.json]
set -euo pipefail
cd "$(dirname "$0")/.."
FALLACY="${FALLACY:-$PWD/.output/fallacy}"
OUT=${1:-bench/out/shaping.json}
SECS=${SECS:-6}
export FALLACY_RUN_DIR="/run/fallacy-bench-shape-$$"
LAB="bsh$$"
N1="fl-$LAB.n1" N2="fl-$LAB.n2"
IP2=198.18.0.2

cleanup() {
	"$FALLACY" cleanup --all >/dev/null 2>&1 || true
	rm -rf "$FALLACY_RUN_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$FALLACY" lab up "$LAB" --nodes 2 >/dev/null
printf '{\n  "rates": [' >"$OUT"
printf '%10s %14s %14s %9s\n' rate goodput_mbit wire_mbit error
sep=
for r in 1 10 100 1000; do
	"$FALLACY" fault add "$LAB" rate "${r}mbit" --to n2 >/dev/null 2>&1
	ip netns exec "$N2" iperf3 -s -1 -D -p 5297 >/dev/null 2>&1
	sleep 0.3
	g=$(ip netns exec "$N1" iperf3 -c "$IP2" -p 5297 -t "$SECS" -O 1 -J |
		jq '(.end.sum_received.bits_per_second // 0) / 1e6')
	"$FALLACY" fault clear "$LAB" >/dev/null 2>&1
	w=$(awk -v g="$g" 'BEGIN { printf "%.3f", g * 1514 / 1448 }')
	e=$(awk -v w="$w" -v r="$r" 'BEGIN { printf "%+.2f%%", (w - r) / r * 100 }')
	printf '%10s %14.3f %14s %9s\n' "${r}mbit" "$g" "$w" "$e"
	printf '%s\n    {"rate_mbit": %s, "goodput_mbit": %s, "wire_mbit": %s, "error": "%s"}' \
		"$sep" "$r" "$g" "$w" "$e" >>"$OUT"
	sep=,
done
printf '\n  ]\n}\n' >>"$OUT"
jq . "$OUT" >/dev/null
