#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The load test's long form (issue 18): LOAD_SECS (default 600) of mixed
# traffic at a 3-node lab's limit with a fault added and another removed
# every 100 ms (tests/integration/test_helper/load.sh; load.bats runs 30 s).
#   bench/load.sh [OUT.json]
set -euo pipefail
cd "$(dirname "$0")/.."
export FALLACY="${FALLACY:-$PWD/.output/fallacy}"
OUT=${1:-bench/out/load.json}
export FALLACY_RUN_DIR="/run/fallacy-bench-load-$$"
LAB="bl$$"
trap '"$FALLACY" cleanup --all >/dev/null 2>&1 || true; rm -rf "$FALLACY_RUN_DIR"' EXIT
r=$(tests/integration/test_helper/load.sh "$LAB" "${LOAD_SECS:-600}")
mkdir -p "$(dirname "$OUT")"
echo "$r" >"$OUT"
jq -r '"load \(.secs)s: \(.commands) commands (\(.failed) failed); UDP sent \(.udp.sent) = received \(.udp.received) + dropped \(.udp.dropped_by_loss_faults) + buffer \(.udp.receiver_buffer_drops) (+ kernel path drops, all protocols: \(.elsewhere.path_drops)): \(if .udp.sent == .udp.received + .udp.dropped_by_loss_faults + .udp.receiver_buffer_drops then "exact" elif (.udp.sent - .udp.received - .udp.dropped_by_loss_faults - .udp.receiver_buffer_drops) as $g | $g > 0 and $g <= .elsewhere.path_drops then "consistent (the kernel dropped the rest)" else "INCONSISTENT" end), duplicates \(.udp.duplicates); held after \(.queue_held_after); supervisor RSS \(.supervisor_rss_kb.after_warmup) -> \(.supervisor_rss_kb.end) kB; iperf3 \(.iperf3_gbps) Gbit/s"' "$OUT"
jq -e '.failed == 0 and (.udp.sent - .udp.received - .udp.dropped_by_loss_faults - .udp.receiver_buffer_drops) as $g | $g >= 0 and $g <= .elsewhere.path_drops and .queue_held_after == 0' "$OUT" >/dev/null
echo "wrote $OUT"
