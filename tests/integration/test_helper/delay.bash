# SPDX-License-Identifier: MIT
# Helpers for the delay line tests (delay.bats, bench/delay.sh).
# The delay line runs as `fallacy __delayline` in the background; an
# iptables MARK rule stands in for the BPF data plane's mark where a test
# exercises the queue on its own.

DL_MARK=0xfa110000

# dl_start NETNS [OPTIONS...] -- delay D ...   (sets DL_PID, DL_STATS)
dl_start() {
	local ns=$1
	shift
	DL_STATS=$(mktemp /tmp/fl-dl-stats.XXXXXX)
	local ready
	ready=$(mktemp -u /tmp/fl-dl-ready.XXXXXX)
	"$FALLACY" __delayline --netns "$ns" --stats "$DL_STATS" --ready "$ready" "$@" &
	DL_PID=$!
	# up to 20 s: a busy machine may take seconds to start it
	for _ in $(seq 400); do
		[ -e "$ready" ] && break
		if ! kill -0 "$DL_PID" 2>/dev/null; then
			echo "dl_start: the delay line exited before it was ready" >&2
			return 1
		fi
		sleep 0.05
	done
	if [ ! -e "$ready" ]; then
		echo "dl_start: the delay line was not ready within 20 s" >&2
		return 1
	fi
	rm -f "$ready"
}

dl_stop() {
	[ -n "${DL_PID:-}" ] || return 0
	kill -TERM "$DL_PID" 2>/dev/null || true
	wait "$DL_PID" 2>/dev/null || true
	DL_PID=
}

# dl_mark NETNS FAMILY(4|6) [MATCH...]: mark matching packets for slot 0
# in raw PREROUTING, ahead of the NFQUEUE rule.
dl_mark() {
	local ns=$1 fam=$2
	shift 2
	local ipt=iptables
	[ "$fam" = 6 ] && ipt=ip6tables
	ip netns exec "$ns" "$ipt" -w -t raw -I PREROUTING 1 "$@" -j MARK --set-mark "$DL_MARK"
}

# dl_mark_lo NETNS: mark loopback packets on their way out (wrap's stand-in)
dl_mark_lo() {
	local ns=$1
	ip netns exec "$ns" iptables -w -t mangle -I OUTPUT 1 -o lo -j MARK --set-mark "$DL_MARK"
	ip netns exec "$ns" ip6tables -w -t mangle -I OUTPUT 1 -o lo -j MARK --set-mark "$DL_MARK"
}

# rtts: per-packet RTTs (ms) from ping output on stdin
rtts() {
	sed -n 's/.* time=\([0-9.]*\) ms.*/\1/p'
}

# stats: "n mean sd" of numbers on stdin
stats() {
	awk '{ s += $1; s2 += $1 * $1; n++ }
	     END { if (n < 2) { print n, 0, 0; exit }
		   m = s / n; v = (s2 - n * m * m) / (n - 1); if (v < 0) v = 0
		   printf "%d %.4f %.4f\n", n, m, sqrt(v) }'
}

# within VALUE LO HI
within() {
	awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'
}

# big TCP buffers in both namespaces (per-netns sysctls)
tcp_big_buffers() {
	for ns in "$@"; do
		ip netns exec "$ns" sysctl -qw net.ipv4.tcp_rmem="4096 131072 268435456" \
			net.ipv4.tcp_wmem="4096 16384 268435456"
	done
}

# iperf3 receiver throughput in Gbit/s: iperf_gbps CLIENT_NS SERVER_NS IP SECONDS [ARGS]
# (iperf3's own error, if any, goes to stderr: shown when the test fails)
iperf_gbps() {
	local c=$1 s=$2 ip=$3 t=$4 port=$((20000 + RANDOM % 20000)) json
	shift 4
	ip netns exec "$s" iperf3 -s -1 -D -p "$port" >/dev/null 2>&1
	fl_wait_until 10 fl_listening "$s" t "$port" || return 1
	json=$(ip netns exec "$c" iperf3 -c "$ip" -p "$port" -t "$t" -J "$@")
	echo "$json" | jq -r '.error // empty' >&2
	echo "$json" | jq '(.end.sum_received.bits_per_second // 0) / 1e9'
}

# median of the numbers on stdin (a few late wake-ups of a busy machine
# move the mean, not the median)
median() {
	sort -g | awk '{ a[NR] = $1 } END { if (NR) print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'
}

# min of the numbers on stdin
minimum() {
	sort -g | head -1
}

# iqr: interquartile range of numbers on stdin (robust against the few
# late wake-ups a busy machine adds; sd = IQR / sqrt(3) for a uniform
# distribution, IQR / 1.349 for a normal one)
iqr() {
	sort -g | awk '{ a[NR] = $1 } END { print a[int(NR * 0.75)] - a[int(NR * 0.25) + 1] }'
}
