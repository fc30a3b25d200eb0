#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Time from command to effect of live topology changes, median of $REPS:
#   link down  `fallacy link LAB n1 down` until n1's eth0 has NO-CARRIER
#              (checked by `ip` right after the command returns: the change
#              is made before the command answers)
#   node add   `fallacy node add LAB x` until another node's `ping -c1 x`
#              (by name) gets its reply
#   readdress  `fallacy readdress LAB n2` until `ping -c1 n2` from n1 gets
#              its reply from the new address
# on a small lab (3 nodes) and a big one (128 nodes, node add only, the two
# measured in turns): the big lab's node add must not be slower (no
# per-node work on a join), the ratio big / small is printed and written,
# next to the kernel's own: a veth added to a 3-port and a big bridge with
# plain `ip`, measured in the same run.
#   bench/topology.sh [OUT.json]
set -euo pipefail
cd "$(dirname "$0")/.."
FALLACY="${FALLACY:-$PWD/.output/fallacy}"
OUT=${1:-bench/out/topology.json}
REPS=${REPS:-20}
BIG=${BIG:-128}
export FALLACY_RUN_DIR="/run/fallacy-bench-$$"
small="ft$$s" big="ft$$b"

now_ns() { date +%s%N; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e6 }'; }
median() { tr ' ' '\n' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

cleanup() {
	"$FALLACY" cleanup --all >/dev/null 2>&1 || true
	ip netns del "zb$$s" 2>/dev/null || true
	ip netns del "zb$$b" 2>/dev/null || true
}
trap cleanup EXIT

# ping NODE from n1 by name until it answers (at most 5 s)
until_ping() {
	local lab=$1 to=$2
	for _ in $(seq 500); do
		ip netns exec "fl-$lab.n1" ping -c1 -W1 -n "$to" >/dev/null 2>&1 && return 0
	done
	echo "no answer from $to in lab $lab" >&2
	return 1
}

link_down() {
	local lab=$1 t0 t1
	t0=$(now_ns)
	"$FALLACY" link "$lab" n3 down
	ip -n "fl-$lab.n3" link show eth0 | grep -q NO-CARRIER || {
		echo "link down: no NO-CARRIER when the command returned" >&2
		return 1
	}
	t1=$(now_ns)
	"$FALLACY" link "$lab" n3 up
	ms "$t0" "$t1"
}

node_add() {
	local lab=$1 name=$2 t0 t1
	t0=$(now_ns)
	"$FALLACY" node add "$lab" "$name" >/dev/null
	until_ping "$lab" "$name"
	t1=$(now_ns)
	"$FALLACY" node remove "$lab" "$name"
	ms "$t0" "$t1"
}

readdress() {
	local lab=$1 t0 t1 old new
	old=$(awk '$1 == "node" && $2 == "n2" { print $3 }' "$FALLACY_RUN_DIR/$lab/lab")
	t0=$(now_ns)
	"$FALLACY" readdress "$lab" n2 >/dev/null
	until_ping "$lab" n2
	t1=$(now_ns)
	new=$(awk '$1 == "node" && $2 == "n2" { print $3 }' "$FALLACY_RUN_DIR/$lab/lab")
	[ "$new" != "$old" ] || {
		echo "readdress: the address did not change" >&2
		return 1
	}
	ms "$t0" "$t1"
}

# the kernel's share: a veth added to a bridge of 3 and of $BIG ports with
# plain `ip` (two commands, in turns); prints the two medians in ms
bridge_baseline() {
	local s=() b=() r ns t0 t1
	for ns in "zb$$s" "zb$$b"; do
		ip netns add "$ns"
		ip -n "$ns" link add br0 type bridge
		ip -n "$ns" link set br0 up
	done
	for ((r = 1; r <= BIG; r++)); do
		ns="zb$$b"
		if [ "$r" -le 3 ]; then
			ip -n "zb$$s" link add "p$r" type veth peer name "q$r"
			ip -n "zb$$s" link set "p$r" master br0 up
		fi
		ip -n "$ns" link add "p$r" type veth peer name "q$r"
		ip -n "$ns" link set "p$r" master br0 up
	done
	for ((r = 1; r <= REPS; r++)); do
		for ns in "zb$$s" "zb$$b"; do
			t0=$(now_ns)
			ip -n "$ns" link add x type veth peer name y
			ip -n "$ns" link set x master br0 up
			t1=$(now_ns)
			ip -n "$ns" link del x
			if [ "$ns" = "zb$$s" ]; then s+=("$(ms "$t0" "$t1")"); else b+=("$(ms "$t0" "$t1")"); fi
		done
	done
	ip netns del "zb$$s"
	ip netns del "zb$$b"
	echo "$(echo "${s[*]}" | median) $(echo "${b[*]}" | median)"
}

series() { # FUNC ARGS...: $REPS measurements, the median
	local v=() r
	for ((r = 1; r <= REPS; r++)); do
		v+=("$("$@" "x$r")")
	done
	echo "${v[*]}" | median
}

# node add on the small and the big lab in turns, so that both see the
# same load of the (shared) machine: prints the two medians
node_add_both() {
	local s=() b=() r
	for ((r = 1; r <= REPS; r++)); do
		s+=("$(node_add "$small" "y$r")")
		b+=("$(node_add "$big" "y$r")")
	done
	echo "$(echo "${s[*]}" | median) $(echo "${b[*]}" | median)"
}

mkdir -p "$(dirname "$OUT")"
"$FALLACY" lab up "$small" --nodes 3 >/dev/null
"$FALLACY" lab up "$big" --nodes "$BIG" >/dev/null
"$FALLACY" link "$small" n1 up # the supervisors start outside the measurement
"$FALLACY" link "$big" n1 up

ld=$(series link_down "$small")
rd=$(series readdress "$small")
read -r ad adb < <(node_add_both)
ratio=$(awk -v a="$adb" -v b="$ad" 'BEGIN { printf "%.2f", a / b }')
# the supervisor's own part of each join (took_ns of its node-join events)
took() {
	grep '"event":"node-join"' "$FALLACY_RUN_DIR/$1/events.jsonl" |
		sed 's/.*"took_ns":\([0-9]*\).*/\1/' | awk '{ printf "%.2f\n", $1 / 1e6 }' | median
}
ts=$(took "$small") tb=$(took "$big")
tratio=$(awk -v a="$tb" -v b="$ts" 'BEGIN { printf "%.2f", a / b }')
read -r bs bb < <(bridge_baseline)
bratio=$(awk -v a="$bb" -v b="$bs" 'BEGIN { printf "%.2f", a / b }')

printf '%-34s | %12s\n' "change (median of $REPS)" "ms"
printf '%-34s | %12s\n' "link down (3 nodes)" "$ld"
printf '%-34s | %12s\n' "node add, pings by name (3 nodes)" "$ad"
printf '%-34s | %12s\n' "readdress, pings by name (3 nodes)" "$rd"
printf '%-34s | %12s\n' "node add ($BIG nodes)" "$adb"
printf '%-34s | %12s\n' "node add $BIG / 3 nodes" "${ratio}x"
printf '%-34s | %12s\n' "  supervisor's part (3 nodes)" "$ts"
printf '%-34s | %12s\n' "  supervisor's part ($BIG nodes)" "$tb"
printf '%-34s | %12s\n' "  supervisor's part $BIG / 3" "${tratio}x"
printf '%-34s | %12s\n' "baseline: ip veth into 3-port br" "$bs"
printf '%-34s | %12s\n' "baseline: ip veth into $BIG-port br" "$bb"
printf '%-34s | %12s\n' "baseline $BIG / 3 ports" "${bratio}x"
{
	printf '{"bench":"topology","kernel":"%s","cpus":%s,"reps":%s,"big_nodes":%s,' \
		"$(uname -r)" "$(nproc)" "$REPS" "$BIG"
	printf '"link_down_ms":%s,"node_add_ms":%s,"readdress_ms":%s,"node_add_big_ms":%s,' \
		"$ld" "$ad" "$rd" "$adb"
	printf '"big_over_small":%s,"join_supervisor_ms":%s,"join_supervisor_big_ms":%s,' \
		"$ratio" "$ts" "$tb"
	printf '"join_supervisor_big_over_small":%s,"baseline_bridge_ms":%s,' "$tratio" "$bs"
	printf '"baseline_bridge_big_ms":%s,"baseline_big_over_small":%s}\n' "$bb" "$bratio"
} >"$OUT"
echo "wrote $OUT"
