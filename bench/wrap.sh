#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fallacy wrap overhead:
#  1. a short command: `fallacy wrap -q -- true` against bare `true`
#     (median of $REPS runs each, interleaved; goal <= 10 ms extra);
#  2. loopback iperf3 (TCP, $SECS s): bare, in a namespace made with `ip`,
#     against `fallacy wrap` with fault rules loaded that match nothing
#     (--port 9: the data plane runs on lo for every packet, no rule
#     matches; goal >= 0.95 of bare), and, when the delay line is there,
#     with --delay 10ms on port 9 (the NFQUEUE rule is in place too).
#   bench/wrap.sh [OUT.json]
set -euo pipefail
cd "$(dirname "$0")/.."
FALLACY="${FALLACY:-$PWD/.output/fallacy}"
OUT=${1:-bench/out/wrap.json}
REPS=${REPS:-30}
SECS=${SECS:-3}
IREPS=${IREPS:-7}
export FALLACY_RUN_DIR="/run/fallacy-bench-$$"
NS="fbw$$"

cleanup() {
	ip netns delete "$NS" 2>/dev/null || true
	"$FALLACY" cleanup --all >/dev/null 2>&1 || true
}
trap cleanup EXIT

now_ns() { date +%s%N; }

# iperf3 over 127.0.0.1 inside whatever namespace this runs in; Gbit/s
iperf_lo() {
	local port=5201 srv
	iperf3 -s -1 -p $port >/dev/null 2>&1 &
	srv=$!
	sleep 0.3
	iperf3 -c 127.0.0.1 -p $port -t "$SECS" -J |
		jq -r '.end.sum_received.bits_per_second / 1e9 * 1000 | round / 1000'
	wait $srv 2>/dev/null || true
}
export -f iperf_lo
export SECS

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# wall time of one run of "$@" in ms
once_ms() {
	local t0 t1
	t0=$(now_ns)
	"$@" >/dev/null 2>&1
	t1=$(now_ns)
	awk -v d=$((t1 - t0)) 'BEGIN { printf "%.3f", d / 1e6 }'
}

# bare and wrapped `true` interleaved (load drifts over both alike); medians
tb=() tw=()
for ((i = 0; i < REPS; i++)); do
	tb+=("$(once_ms true)")
	tw+=("$(once_ms "$FALLACY" wrap -q -- true)")
done
bare_true=$(echo "${tb[*]}" | median)
wrap_true=$(echo "${tw[*]}" | median)
extra=$(awk -v a="$bare_true" -v b="$wrap_true" 'BEGIN { printf "%.2f", b - a }')
echo "short command (median of $REPS, interleaved): bare true ${bare_true} ms," \
	"fallacy wrap -- true ${wrap_true} ms (+${extra} ms; goal <= 10 ms)"

# Interleaved runs (the machine is shared: load moves between runs): the
# median of $IREPS per variant, and the median of the rules/bare ratios of
# runs made back to back.
has_delay=0
if "$FALLACY" wrap -q --delay 1ms -- true 2>/dev/null; then has_delay=1; fi
ip netns add "$NS"
ip -n "$NS" link set lo up
b=() n=() r=() d=()
for ((i = 0; i < IREPS; i++)); do
	b+=("$(ip netns exec "$NS" bash -c iperf_lo)")
	n+=("$("$FALLACY" wrap -q -- bash -c iperf_lo)")
	r+=("$("$FALLACY" wrap -q --loss 100% --port 9 -- bash -c iperf_lo)")
	if [ $has_delay -eq 1 ]; then
		d+=("$("$FALLACY" wrap -q --delay 10ms --port 9 -- bash -c iperf_lo)")
	fi
done
ip netns delete "$NS"
bare_bw=$(echo "${b[*]}" | median)
nofault_bw=$(echo "${n[*]}" | median)
rules_bw=$(echo "${r[*]}" | median)
delay_bw=null
if [ $has_delay -eq 1 ]; then delay_bw=$(echo "${d[*]}" | median); fi
# per-pair ratios (a pair runs back to back, under the same load), median
ratios=()
for ((i = 0; i < IREPS; i++)); do
	ratios+=("$(awk -v a="${b[$i]}" -v c="${r[$i]}" 'BEGIN { printf "%.3f", c / a }')")
done
ratio=$(echo "${ratios[*]}" | median)
echo "loopback iperf3 (${SECS} s, median of $IREPS): bare ${bare_bw} Gbit/s," \
	"wrap no faults ${nofault_bw}, wrap rules loaded none matching ${rules_bw}" \
	"(median of per-pair ratios ${ratio}), with a delay rule on port 9 ${delay_bw}"
echo "  runs: bare ${b[*]} | wrap ${n[*]} | rules ${r[*]} | delay ${d[*]:-}"
echo "  rules/bare per pair: ${ratios[*]}"

mkdir -p "$(dirname "$OUT")"
cat >"$OUT" <<EOF
{"goals": [{"goal": "fallacy wrap -- true: ms over bare true (median of $REPS)", "measured": $extra,
   "target": "<= 10", "pass": $(awk -v e="$extra" 'BEGIN { print (e <= 10) ? "true" : "false" }')},
  {"goal": "wrap, rules loaded matching nothing: loopback iperf3 ratio to bare", "measured": $ratio,
   "target": ">= 0.95", "pass": $(awk -v r="$ratio" 'BEGIN { print (r >= 0.95) ? "true" : "false" }')}],
 "load": "$(cut -d' ' -f1-3 /proc/loadavg)",
 "reps": $REPS, "true_bare_ms": $bare_true, "true_wrap_ms": $wrap_true, "true_extra_ms": $extra,
 "iperf_seconds": $SECS, "iperf_reps": $IREPS, "iperf_bare_gbps": $bare_bw, "iperf_wrap_gbps": $nofault_bw,
 "iperf_wrap_rules_gbps": $rules_bw, "iperf_wrap_rules_ratio": $ratio,
 "iperf_wrap_delay_rule_gbps": $delay_bw}
EOF
