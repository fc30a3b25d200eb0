#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fallacy capture at speed: `fallacy capture --netns NS --filter icmp` on
# the loopback of a namespace while `ping -c PINGS -i INTERVAL 127.0.0.1`
# runs there, $REPS times. Goal (docs/capture.md): every packet kept at
# more than 10 000 packets/s (written == 2 * PINGS, no drops). The rate is
# the file's own (capinfos: packets / time between first and last packet).
# capture.bats only checks 1 000 packets/s and that drops are reported.
#   bench/capture.sh [OUT.json]
set -euo pipefail
cd "$(dirname "$0")/.."
FALLACY="${FALLACY:-$PWD/.output/fallacy}"
OUT=${1:-bench/out/capture.json}
REPS=${REPS:-5}
PINGS=${PINGS:-10000}
INTERVAL=${INTERVAL:-0.0002}
export FALLACY_RUN_DIR="/run/fallacy-bench-cap-$$"
NS="fbc$$"
tmp=$(mktemp -d /tmp/fallacy-bench-cap.XXXXXX)
cap=

cleanup() {
	if [ -n "$cap" ]; then
		kill "$cap" 2>/dev/null || true
		wait "$cap" 2>/dev/null || true
	fi
	ip netns delete "$NS" 2>/dev/null || true
	rm -rf "$tmp" "$FALLACY_RUN_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS"
ip -n "$NS" link set lo up
printf '%4s %8s %8s %8s %10s %12s\n' run written dropped ifdrop packets/s all_kept
printf '{\n  "pings": %s, "interval_s": %s, "runs": [' "$PINGS" "$INTERVAL" >"$OUT"
sep='' kept=0
for ((i = 1; i <= REPS; i++)); do
	"$FALLACY" capture --netns "$NS" --filter icmp -w "$tmp/c.pcap" -j >"$tmp/c.json" 2>"$tmp/c.err" &
	cap=$!
	for _ in $(seq 200); do
		grep -q "capturing on" "$tmp/c.err" && break
		sleep 0.05
	done
	ip netns exec "$NS" ping -c "$PINGS" -i "$INTERVAL" -q 127.0.0.1 >/dev/null
	kill -INT "$cap"
	wait "$cap"
	cap=
	read -r written dropped ifdropped < <(jq -r '.points[0] | "\(.written) \(.dropped) \(.ifdropped)"' "$tmp/c.json")
	rate=$(capinfos -x -r -T "$tmp/c.pcap" | awk -F'\t' '{ print int($2) }')
	ok=false
	if [ "$written" -eq $((2 * PINGS)) ] && [ "$dropped" -eq 0 ] && [ "$ifdropped" -eq 0 ]; then
		ok=true
		kept=$((kept + 1))
	fi
	printf '%4s %8s %8s %8s %10s %12s\n' "$i" "$written" "$dropped" "$ifdropped" "$rate" "$ok"
	printf '%s\n    {"written": %s, "dropped": %s, "ifdropped": %s, "pps": %s, "all_kept": %s}' \
		"$sep" "$written" "$dropped" "$ifdropped" "$rate" "$ok" >>"$OUT"
	sep=,
done
printf '\n  ],\n  "runs_all_kept": %s, "reps": %s\n}\n' "$kept" "$REPS" >>"$OUT"
echo "every packet kept in $kept of $REPS runs (goal: all, at > 10 000 packets/s)"
jq . "$OUT" >/dev/null
