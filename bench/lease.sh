#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Leases (docs/security.md):
#  1. a renewal's cost in the supervisor (one batch write of the per-slot
#     lease array) against rewriting the rule table, for 1, 64, 512 rules
#     (.output/bench/lease_cost);
#  2. the lease check per packet: iperf3 TCP n1 -> n2 with one matching rule
#     (loss 0.01%) in a lab with the default lease against one with
#     --lease none, interleaved; BPF run time per packet;
#  3. kill -9 of the supervisor with a partition and --lease 3s: time until
#     n1 reaches n2 again (ping every 20 ms), REPS times.
#   bench/lease.sh [OUT.json]
set -euo pipefail
cd "$(dirname "$0")/.."
FALLACY="${FALLACY:-$PWD/.output/fallacy}"
COST="${COST:-$PWD/.output/bench/lease_cost}"
OUT=${1:-bench/out/lease.json}
SECS=${SECS:-5}
REPS=${REPS:-3}
export FALLACY_RUN_DIR="/run/fallacy-bench-lease-$$"
LA="ba$$" LB="bb$$"
tmp=$(mktemp -d /tmp/fallacy-bench-lease.XXXXXX)
stats='' srva='' srvb=''
cleanup() {
	for p in "$stats" "$srva" "$srvb"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
	"$FALLACY" cleanup --all >/dev/null 2>&1 || true
	rm -rf "$tmp" "$FALLACY_RUN_DIR"
}
trap cleanup EXIT
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

[ -x "$COST" ] || make -s "$COST"
cost_json=""
for n in 1 64 512; do
	c=$("$COST" "$n")
	echo "renewal of $n rules: $(jq -r '"\(.renew_us) us; rewriting the table \(.rewrite_us) us (\(.ratio)x)"' <<<"$c")"
	cost_json+="${cost_json:+, }$c"
done

# BPF run-time statistics while this fd is open (no sysctl changed)
python3 -c '
import ctypes, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
attr = (ctypes.c_uint32 * 32)()
if libc.syscall(321, 32, ctypes.byref(attr), ctypes.sizeof(attr)) < 0:
    sys.exit(1)
signal.sigwait([signal.SIGTERM])' &
stats=$!
prog_stats() {
	local id
	id=$(tc -n "fl-$1" filter show dev p-n1 ingress | sed -n 's/.* id \([0-9]*\) .*/\1/p' | head -1)
	bpftool prog show id "$id" -j | jq -r '"\(.run_time_ns // 0) \(.run_cnt // 0)"'
}
ip2() { awk '$1 == "node" && $2 == "n2" { print $3 }' "$FALLACY_RUN_DIR/$1/lab"; }
one_run() { # one_run LAB: "GBIT/S NS_PER_PACKET"
	local t0 c0 t1 c1 g
	read -r t0 c0 < <(prog_stats "$1")
	g=$(ip netns exec "fl-$1.n1" iperf3 -c "$(ip2 "$1")" -t "$SECS" -J 2>/dev/null |
		jq '(.end.sum_received.bits_per_second // 0) / 1e9')
	read -r t1 c1 < <(prog_stats "$1")
	echo "$g $(awk -v t=$((t1 - t0)) -v c=$((c1 - c0)) 'BEGIN { printf "%.0f", c ? t / c : 0 }')"
}
"$FALLACY" lab up "$LA" --nodes 2 >/dev/null
"$FALLACY" lab up "$LB" --nodes 2 --lease none >/dev/null
for l in "$LA" "$LB"; do
	"$FALLACY" -q fault add "$l" loss 0.01% --from n1 --to n2 --proto tcp --seed 1 >/dev/null
done
ip netns exec "fl-$LA.n2" iperf3 -s >/dev/null 2>&1 &
srva=$!
ip netns exec "fl-$LB.n2" iperf3 -s >/dev/null 2>&1 &
srvb=$!
sleep 0.5
: >"$tmp/a"
: >"$tmp/b"
for ((r = 0; r < REPS; r++)); do
	one_run "$LA" >>"$tmp/a"
	one_run "$LB" >>"$tmp/b"
done
ga=$(awk '{ print $1 }' "$tmp/a" | median) na=$(awk '{ print $2 }' "$tmp/a" | median)
gb=$(awk '{ print $1 }' "$tmp/b" | median) nb=$(awk '{ print $2 }' "$tmp/b" | median)
kill "$srva" "$srvb" 2>/dev/null
wait "$srva" "$srvb" 2>/dev/null || true
srva='' srvb=''
echo "1 matching rule: lease 10s $ga Gbit/s ($na ns/packet), lease none $gb Gbit/s ($nb ns/packet)"
"$FALLACY" cleanup --all >/dev/null 2>&1

recs=""
for ((r = 0; r < REPS; r++)); do
	"$FALLACY" lab up "$LA" --nodes 2 --lease 3s >/dev/null
	"$FALLACY" -q fault add "$LA" partition n1 n2 >/dev/null
	IP2=$(ip2 "$LA")
	ip netns exec "fl-$LA.n1" ping -c 1 -W 1 "$IP2" >/dev/null 2>&1 && exit 1
	pkill -9 -f "__supervise $LA\$"
	t0=$(date +%s%N)
	until ip netns exec "fl-$LA.n1" ping -c 1 -W 0.02 "$IP2" >/dev/null 2>&1; do :; done
	t1=$(date +%s%N)
	recs+=" $(((t1 - t0) / 1000000))"
	"$FALLACY" cleanup "$LA" >/dev/null
done
rec=$(echo "$recs" | median)
echo "kill -9 with --lease 3s: traffic again after median $rec ms (runs:$recs)"

mkdir -p "$(dirname "$OUT")"
cat >"$OUT" <<EOF
{"renewal": [$cost_json],
 "one_matching_rule": {"lease_gbps": $ga, "none_gbps": $gb, "lease_ns_per_packet": $na, "none_ns_per_packet": $nb},
 "kill9_lease_3s_recovery_ms": {"median": $rec, "runs": [$(echo "$recs" | xargs | tr ' ' ',')]}}
EOF
echo "wrote $OUT"
