#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make check-soak`: `make check-integration` SOAK_RUNS times in a row
# (default 5) while SOAK_BUSY background loops (default 1) keep that many
# cores busy, as on a shared CI runner. Prints one line per run and a
# summary; exits 1 when any run failed. Each run's full log is kept in
# SOAK_LOG_DIR (default: a new /tmp/fallacy-soak.XXXXXX).
#   SOAK_RUNS=10 SOAK_BUSY=2 make check-soak
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
runs=${SOAK_RUNS:-5}
busy=${SOAK_BUSY:-1}
case "$runs$busy" in
*[!0-9]* | '') echo "soak: SOAK_RUNS and SOAK_BUSY must be numbers" >&2; exit 2 ;;
esac
logs=${SOAK_LOG_DIR:-$(mktemp -d /tmp/fallacy-soak.XXXXXX)}
mkdir -p "$logs" || exit 2

loops=()
stop_loops() {
	local p
	for p in "${loops[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${loops[@]}"; do wait "$p" 2>/dev/null; done
	loops=()
}
trap stop_loops EXIT
trap 'echo "soak: interrupted" >&2; exit 130' INT
trap 'echo "soak: terminated" >&2; exit 143' TERM

for ((i = 0; i < busy; i++)); do
	yes >/dev/null &
	loops+=($!)
done
echo "soak: $runs runs of make check-integration, $busy busy loop(s) (pids ${loops[*]:-none}), logs in $logs"

passed=0 failed=0 total_start=$(date +%s)
for ((i = 1; i <= runs; i++)); do
	start=$(date +%s)
	log="$logs/run-$i.log"
	"${MAKE:-make}" --no-print-directory check-integration >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$log" | tail -1)
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	if [ "$rc" -eq 0 ]; then
		passed=$((passed + 1))
		echo "soak run $i/$runs: PASS (${counts:-no summary}) in ${secs}s, load $load"
	else
		failed=$((failed + 1))
		echo "soak run $i/$runs: FAIL rc=$rc (${counts:-no summary}) in ${secs}s, load $load; log $log"
		grep -E '^(integration .*[1-9][0-9]* failed|not ok )' "$log" | sed 's/^/  /'
	fi
done
echo "soak: $passed of $runs runs passed, $failed failed, $busy busy loop(s), $(($(date +%s) - total_start))s in all"
[ "$failed" -eq 0 ]
