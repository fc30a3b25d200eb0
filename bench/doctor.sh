#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# How long `fallacy doctor` takes (every probe, in scratch namespaces):
# $REPS runs, median and slowest. Goal: under 1 s. doctor.bats only checks
# that it finishes within 10 s.
#   bench/doctor.sh [OUT.json]
set -euo pipefail
cd "$(dirname "$0")/.."
FALLACY="${FALLACY:-$PWD/.output/fallacy}"
OUT=${1:-bench/out/doctor.json}
REPS=${REPS:-10}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

ms=()
for ((i = 0; i < REPS; i++)); do
	t0=$(date +%s%N)
	"$FALLACY" doctor >/dev/null
	ms+=("$((($(date +%s%N) - t0) / 1000000))")
done
med=$(echo "${ms[*]}" | median)
max=$(printf '%s\n' "${ms[@]}" | sort -n | tail -1)
under=$(printf '%s\n' "${ms[@]}" | awk '$1 < 1000 { n++ } END { print n + 0 }')
echo "fallacy doctor, $REPS runs: median $med ms, slowest $max ms, $under under 1 s (goal: all)"
echo "  runs (ms): ${ms[*]}"
mkdir -p "$(dirname "$OUT")"
printf '{"reps": %s, "median_ms": %s, "max_ms": %s, "under_1s": %s, "runs_ms": [%s]}\n' \
	"$REPS" "$med" "$max" "$under" "$(IFS=,; echo "${ms[*]}")" >"$OUT"
jq . "$OUT" >/dev/null
