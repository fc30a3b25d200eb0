#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Lab up + down for 8, 32, 128 nodes: `fallacy lab up/down` against a plain
# shell script that builds the same lab with `ip` (wire namespace with a
# bridge, one namespace per node with lo up, a veth to the bridge, an IPv4
# address, a hosts file in /etc/netns). Median of $REPS runs each.
#   bench/lab.sh [OUT.json]
set -euo pipefail
cd "$(dirname "$0")/.."
FALLACY="${FALLACY:-$PWD/.output/fallacy}"
OUT=${1:-bench/out/lab.json}
REPS=${REPS:-3}
SIZES=${SIZES:-"8 32 128"}
export FALLACY_RUN_DIR="/run/fallacy-bench-$$"
tag="fb$$"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { tr ' ' '\n' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

script_up() {
	local lab=$1 n=$2 w="fl-$1" i
	ip netns add "$w"
	ip netns exec "$w" sysctl -qw net.bridge.bridge-nf-call-iptables=1 \
		net.bridge.bridge-nf-call-ip6tables=1
	ip -n "$w" link add br0 type bridge
	ip -n "$w" link set br0 up
	mkdir -p /etc/netns
	for ((i = 1; i <= n; i++)); do
		ip netns add "$w.n$i"
		ip -n "$w" link add "p-n$i" type veth peer name eth0 netns "$w.n$i"
		ip -n "$w" link set "p-n$i" master br0 up
		ip -n "$w.n$i" link set lo up
		ip -n "$w.n$i" addr add "198.18.0.$i/23" dev eth0
		ip -n "$w.n$i" link set eth0 up
		mkdir "/etc/netns/$w.n$i"
		for ((k = 1; k <= n; k++)); do echo "198.18.0.$k n$k"; done >"/etc/netns/$w.n$i/hosts"
	done
}

script_down() {
	local lab=$1 n=$2 i
	for ((i = n; i >= 1; i--)); do
		rm -rf "/etc/netns/fl-$lab.n$i"
		ip netns delete "fl-$lab.n$i"
	done
	ip netns delete "fl-$lab"
}

cleanup() {
	"$FALLACY" cleanup --all >/dev/null 2>&1 || true
	for ns in $(ip netns list | awk '{ print $1 }' | grep "^fl-${tag}s"); do
		rm -rf "/etc/netns/$ns"
		ip netns delete "$ns" 2>/dev/null || true
	done
}
trap cleanup EXIT

# one measurement: prints "UP DOWN" in seconds
measure() {
	local kind=$1 n=$2 lab=$3 t0 t1 t2
	t0=$(now)
	if [ "$kind" = fallacy ]; then "$FALLACY" lab up "$lab" --nodes "$n" >/dev/null; else script_up "$lab" "$n"; fi
	t1=$(now)
	if [ "$kind" = fallacy ]; then "$FALLACY" lab down "$lab"; else script_down "$lab" "$n"; fi
	t2=$(now)
	echo "$(elapsed "$t0" "$t1") $(elapsed "$t1" "$t2")"
	sleep 1 # let the kernel finish freeing the namespaces
}

mkdir -p "$(dirname "$OUT")"
printf '%6s | %-22s | %-22s | %s\n' nodes "fallacy up / down (s)" "ip script up / down (s)" "speed-up (up+down)"
json="["
for n in $SIZES; do
	fu=() fd=() su=() sd=()
	for ((r = 1; r <= REPS; r++)); do
		read -r u d < <(measure fallacy "$n" "${tag}f$n$r")
		fu+=("$u") fd+=("$d")
		read -r u d < <(measure script "$n" "${tag}s$n$r")
		su+=("$u") sd+=("$d")
	done
	mfu=$(echo "${fu[*]}" | median) mfd=$(echo "${fd[*]}" | median)
	msu=$(echo "${su[*]}" | median) msd=$(echo "${sd[*]}" | median)
	ratio=$(awk -v a="$mfu" -v b="$mfd" -v c="$msu" -v d="$msd" 'BEGIN { printf "%.1f", (c + d) / (a + b) }')
	printf '%6s | %9s / %-10s | %9s / %-10s | %sx\n' "$n" "$mfu" "$mfd" "$msu" "$msd" "$ratio"
	[ "$json" = "[" ] || json+=","
	json+=$(printf '{"nodes":%s,"reps":%s,"fallacy_up_s":%s,"fallacy_down_s":%s,"script_up_s":%s,"script_down_s":%s,"speedup":%s}' \
		"$n" "$REPS" "$mfu" "$mfd" "$msu" "$msd" "$ratio")
done
json+="]"
printf '{"bench":"lab","kernel":"%s","cpus":%s,"results":%s}\n' "$(uname -r)" "$(nproc)" "$json" >"$OUT"
echo "wrote $OUT"
