#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# How late the scenario timeline applies its steps: `fallacy run
# tests/data/scenarios/partition.yaml --target scenarios/targets/http.yaml`
# $REPS times (3-node lab, probes every 200 ms on every node); late_ns of
# the partition and heal steps from events.jsonl. Goal: under 1 ms.
# harness.bats only checks 50 ms (a step runs by the clock).
#   bench/harness.sh [OUT.json]
set -euo pipefail
cd "$(dirname "$0")/.."
FALLACY="${FALLACY:-$PWD/.output/fallacy}"
OUT=${1:-bench/out/harness.json}
REPS=${REPS:-3}
export FALLACY_RUN_DIR="/run/fallacy-bench-harness-$$"
tmp=$(mktemp -d /tmp/fallacy-bench-harness.XXXXXX)

cleanup() {
	"$FALLACY" cleanup --all >/dev/null 2>&1 || true
	rm -rf "$tmp" "$FALLACY_RUN_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

printf '%4s %14s %14s\n' run partition_us heal_us
lates=()
for ((i = 1; i <= REPS; i++)); do
	"$FALLACY" run tests/data/scenarios/partition.yaml --target scenarios/targets/http.yaml \
		--out "$tmp/r$i" --lab "bh$$x$i" >/dev/null 2>&1 || true
	read -r p h < <(jq -rs '[(map(select(.event == "partition"))[0].late_ns // -1),
		(map(select(.event == "heal" and .id == "cut"))[0].late_ns // -1)] | map(. / 1000 | floor) | "\(.[0]) \(.[1])"' \
		"$tmp/r$i/events.jsonl")
	printf '%4s %14s %14s\n' "$i" "$p" "$h"
	lates+=("$p" "$h")
done
max=$(printf '%s\n' "${lates[@]}" | sort -n | tail -1)
under=$(printf '%s\n' "${lates[@]}" | awk '$1 >= 0 && $1 < 1000 { n++ } END { print n + 0 }')
echo "timeline step lateness: worst ${max} us; ${under} of ${#lates[@]} steps under 1 ms (goal: all)"
mkdir -p "$(dirname "$OUT")"
printf '{"reps": %s, "late_us": [%s], "max_late_us": %s, "steps_under_1ms": %s}\n' \
	"$REPS" "$(IFS=,; echo "${lates[*]}")" "$max" "$under" >"$OUT"
jq . "$OUT" >/dev/null
