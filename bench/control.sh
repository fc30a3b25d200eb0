#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Faults from test code (docs/control.md): inside one `fallacy wrap
# --control`, $ROUNDS rounds of add + del of `delay 10ms --port 9` through
# the Python client (one connection), then the same through the root CLI
# (`fallacy fault add/del --netns fl-wrap-PID`, the same session) as the
# baseline measured in the same run; and the start and end cost of
# `wrap --control -- true` against `wrap -- true`, interleaved.
#   bench/control.sh [OUT.json]
set -euo pipefail
cd "$(dirname "$0")/.."
FALLACY="${FALLACY:-$PWD/.output/fallacy}"
OUT=${1:-bench/out/control.json}
ROUNDS=${ROUNDS:-50}
REPS=${REPS:-10}
export FALLACY_RUN_DIR="/run/fallacy-bench-ctl-$$"
TMP=$(mktemp -d /tmp/fallacy-bench-ctl.XXXXXX)

cleanup() {
	"$FALLACY" cleanup --all >/dev/null 2>&1 || true
	rm -rf "$TMP" "$FALLACY_RUN_DIR"
}
trap cleanup EXIT

# Runs inside the wrap (as root): prints one JSON object.
cat >"$TMP/inner.py" <<'EOF'
import json, os, re, statistics, subprocess, sys, time
sys.path.insert(0, sys.argv[1])
import fallacy
fl, rounds = sys.argv[2], int(sys.argv[3])
netns = "fl-wrap-" + re.search(r"@wrap-(\d+)/", os.environ["FALLACY_CONTROL"]).group(1)

def ms(t0):
    return (time.monotonic_ns() - t0) / 1e6

def q(v, p):
    v = sorted(v)
    return round(v[min(len(v) - 1, int(p * len(v)))], 3)

ctl = fallacy.Control()
add, dele, ver, cadd, cdel = [], [], [], [], []
for i in range(rounds + 1):
    t0 = time.monotonic_ns(); f = ctl.add("delay 10ms", port=9); a = ms(t0)
    t0 = time.monotonic_ns(); f.delete(); d = ms(t0)
    t0 = time.monotonic_ns(); ctl.version(); v = ms(t0)
    if i:  # the first add attaches the data plane
        add.append(a); dele.append(d); ver.append(v)
    else:
        first = a
for i in range(rounds):
    t0 = time.monotonic_ns()
    subprocess.run([fl, "fault", "add", "--netns", netns, "delay", "10ms", "--port", "9",
                    "--id", "cli"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    cadd.append(ms(t0))
    t0 = time.monotonic_ns()
    subprocess.run([fl, "fault", "del", "--netns", netns, "cli"], check=True,
                   stdout=subprocess.DEVNULL)
    cdel.append(ms(t0))
print(json.dumps({
    "first_add_ms": round(first, 3),
    "add_p50_ms": q(add, 0.5), "add_p90_ms": q(add, 0.9),
    "del_p50_ms": q(dele, 0.5), "del_p90_ms": q(dele, 0.9),
    "version_p50_ms": q(ver, 0.5),
    "cli_add_p50_ms": q(cadd, 0.5), "cli_del_p50_ms": q(cdel, 0.5),
    "add_ratio_vs_cli": round(statistics.median(add) / statistics.median(cadd), 4),
}))
EOF

inner=$("$FALLACY" wrap -q --control -- python3 "$TMP/inner.py" "$PWD/python" "$FALLACY" "$ROUNDS")

now_ns() { date +%s%N; }
median() { tr ' ' '\n' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
plain=() ctrl=()
for ((i = 0; i < REPS; i++)); do
	t0=$(now_ns)
	"$FALLACY" wrap -q -- true >/dev/null 2>&1
	t1=$(now_ns)
	"$FALLACY" wrap -q --control -- true >/dev/null 2>&1
	t2=$(now_ns)
	plain+=("$(((t1 - t0) / 1000))") ctrl+=("$(((t2 - t1) / 1000))")
done
plain_ms=$(echo "${plain[*]}" | median | awk '{ printf "%.1f", $1 / 1000 }')
ctrl_ms=$(echo "${ctrl[*]}" | median | awk '{ printf "%.1f", $1 / 1000 }')

echo "$inner" | jq -r --arg r "$ROUNDS" '"control socket (\($r) rounds, one connection): add p50 \(.add_p50_ms) ms (p90 \(.add_p90_ms), first \(.first_add_ms)), del p50 \(.del_p50_ms) ms, version p50 \(.version_p50_ms) ms",
	"root CLI (same session, baseline): fault add p50 \(.cli_add_p50_ms) ms, fault del p50 \(.cli_del_p50_ms) ms; socket add / CLI add \(.add_ratio_vs_cli)"'
echo "wrap -- true ${plain_ms} ms, wrap --control -- true ${ctrl_ms} ms (median of $REPS, interleaved)"

mkdir -p "$(dirname "$OUT")"
echo "$inner" | jq -c --argjson rounds "$ROUNDS" --argjson reps "$REPS" \
	--argjson plain "$plain_ms" --argjson ctrl "$ctrl_ms" \
	'. + {rounds: $rounds, reps: $reps, wrap_true_ms: $plain, wrap_control_true_ms: $ctrl}' >"$OUT"
