#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The linearizability checker on generated register histories (5 clients,
# 20% of the operations of unknown outcome, unique values; bench/
# gen_history.py):
#  1. 10 000 operations, linearizable: with Lowe's memoisation (goal:
#     under 10 s on a 2-core machine) against the baseline without it
#     (Wing & Gong alone; capped at $CAP search states);
#  2. the same with one stale read: time to the verdict and its witness;
#  3. scaling: 1 000, 10 000 and 50 000 operations with memoisation;
#  4. one hot register: 2 000 operations, 10 and 20 clients, 30% info,
#     with the observer pruning against the baseline without it
#     (--no-prune; both capped at $CAP search states).
# No privileges needed.   bench/lin.sh [OUT.json]
set -euo pipefail
cd "$(dirname "$0")/.."
FALLACY="${FALLACY:-$PWD/.output/fallacy}"
OUT=${1:-bench/out/lin.json}
CAP=${CAP:-20000000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# "verdict seconds states" of one check
run() {
	local out rc
	out=$("$FALLACY" check linearizable "$@" -j 2>/dev/null) && rc=0 || rc=$?
	[ "$rc" -le 2 ] || { echo "check failed with $rc" >&2; exit 1; }
	echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["verdict"], d["elapsed_ns"]/1e9, d["states"])'
}

python3 bench/gen_history.py 10000 --seed 1 >"$tmp/ok.jsonl"
python3 bench/gen_history.py 10000 --seed 1 --stale-read >"$tmp/bad.jsonl"
read -r v_memo t_memo s_memo < <(run "$tmp/ok.jsonl")
read -r v_base t_base s_base < <(run "$tmp/ok.jsonl" --no-memo --max-states "$CAP")
read -r v_bad t_bad s_bad < <(run "$tmp/bad.jsonl")
scale=""
for n in 1000 10000 50000; do
	python3 bench/gen_history.py "$n" --seed 2 >"$tmp/s.jsonl"
	read -r v t s < <(run "$tmp/s.jsonl")
	scale="$scale{\"ops\": $n, \"verdict\": \"$v\", \"seconds\": $t, \"states\": $s},"
	echo "  $n operations: $v in $t s ($s states)"
done
hot=""
for c in 10 20; do
	python3 bench/gen_history.py 2000 --clients "$c" --info 0.3 --seed 3 >"$tmp/h.jsonl"
	read -r v t s < <(run "$tmp/h.jsonl" --max-states "$CAP")
	read -r vb tb sb < <(run "$tmp/h.jsonl" --max-states "$CAP" --no-prune)
	hot="$hot{\"clients\": $c, \"pruned\": {\"verdict\": \"$v\", \"seconds\": $t, \"states\": $s},"
	hot="$hot \"no_prune\": {\"verdict\": \"$vb\", \"seconds\": $tb, \"states\": $sb}},"
	echo "  hot register, 2 000 operations, $c clients: pruned $v in $t s ($s states); without $vb in $tb s ($sb states)"
done
echo "10 000 operations, 5 clients, 20% info: memoised $v_memo in $t_memo s ($s_memo states);" \
	"without memoisation $v_base in $t_base s ($s_base states, cap $CAP);" \
	"with a stale read: $v_bad in $t_bad s"
mkdir -p "$(dirname "$OUT")"
cat >"$OUT" <<JSON
{"ops": 10000, "clients": 5, "info_share": 0.2,
 "memo": {"verdict": "$v_memo", "seconds": $t_memo, "states": $s_memo},
 "no_memo": {"verdict": "$v_base", "seconds": $t_base, "states": $s_base, "cap": $CAP},
 "stale_read": {"verdict": "$v_bad", "seconds": $t_bad, "states": $s_bad},
 "goal_seconds": 10, "goal_met": $(python3 -c "print('true' if '$v_memo' == 'linearizable' and $t_memo < 10 else 'false')"),
 "scaling": [${scale%,}],
 "hot_register": [${hot%,}]}
JSON
