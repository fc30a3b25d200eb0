#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The undo handler of every journal kind, against real kernel objects made
# with ip/tc/iptables in a namespace the journal does NOT own (so each
# object is removed by its own handler, not with a namespace).

load test_helper/common

setup() {
	fl_require_root
	ns="flc-$$-$RANDOM"
	tmpd=$(mktemp -d)
	sleeper=
	ip netns add "$ns"
	ip -n "$ns" link add va type veth peer name vb
	ip -n "$ns" link set va up
	ip -n "$ns" link set vb up
}

teardown() {
	[ -n "$sleeper" ] && kill -9 "$sleeper" 2>/dev/null
	fl_cleanup_all
	ip netns delete "$ns" 2>/dev/null || true
	umount "$tmpd/mnt" 2>/dev/null || true
	rm -rf "$tmpd"
}

# journal SESSION LINE...: write a session's journal by hand
journal() {
	local s=$1
	shift
	mkdir -p "$FALLACY_RUN_DIR/$s"
	printf '%s\n' "$@" >"$FALLACY_RUN_DIR/$s/journal"
}

starttime() { awk '{ print $22 }' "/proc/$1/stat"; }

@test "cleanup undoes link, qdisc, tc filter, iptables, sysctl, mount, pid, file and dir records" {
	tc -n "$ns" qdisc add dev va clsact
	tc -n "$ns" filter add dev va ingress prio 5 handle 1 bpf bytecode '1,6 0 0 4294967295,' da
	tc -n "$ns" filter add dev va egress prio 7 handle 3 bpf bytecode '1,6 0 0 4294967295,' da
	tc -n "$ns" qdisc add dev vb root handle 1: tbf rate 1mbit burst 32kb latency 50ms
	tc -n "$ns" qdisc add dev vb clsact
	ip -n "$ns" link add vx type veth peer name vy
	ip netns exec "$ns" iptables -w -t raw -A PREROUTING -p udp --dport 9 -j ACCEPT
	ip netns exec "$ns" ip6tables -w -t raw -A PREROUTING -p udp --dport 9 -j ACCEPT
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
	mkdir "$tmpd/mnt" "$tmpd/d" && mount -t tmpfs none "$tmpd/mnt"
	touch "$tmpd/f" "$tmpd/d/x"
	sleep 1000 &
	sleeper=$!
	journal @t \
		"pid $sleeper $(starttime "$sleeper")" \
		"dir $tmpd/d" "file $tmpd/f" "mount $tmpd/mnt" \
		"sysctl $ns net.ipv4.ip_forward 0" \
		"iptables $ns 4 raw PREROUTING -p udp --dport 9 -j ACCEPT" \
		"iptables $ns 6 raw PREROUTING -p udp --dport 9 -j ACCEPT" \
		"link $ns vx" \
		"qdisc $ns vb 1:" \
		"qdisc $ns vb clsact" \
		"tcfilter $ns va ingress 5 1" \
		"tcfilter $ns va egress 7 3"
	run -0 "$FALLACY" cleanup @t
	assert_output "removed @t"
	# the filters went one by one: va's clsact (not recorded) is still there
	run -0 tc -n "$ns" filter show dev va ingress
	assert_output ''
	run -0 tc -n "$ns" filter show dev va egress
	assert_output ''
	run -0 tc -n "$ns" qdisc show dev va
	assert_output --partial clsact
	run -0 tc -n "$ns" qdisc show dev vb
	refute_output --partial clsact
	refute_output --partial tbf
	run -1 ip -n "$ns" link show vx
	run -1 ip netns exec "$ns" iptables -w -t raw -C PREROUTING -p udp --dport 9 -j ACCEPT
	run -1 ip netns exec "$ns" ip6tables -w -t raw -C PREROUTING -p udp --dport 9 -j ACCEPT
	run -0 ip netns exec "$ns" sysctl -n net.ipv4.ip_forward
	assert_output 0
	! mountpoint -q "$tmpd/mnt" || fail "tmpfs still mounted"
	[ ! -e "$tmpd/f" ]
	[ ! -e "$tmpd/d" ]
	run -0 timeout 10 tail --pid="$sleeper" -f /dev/null
	# what was not recorded stays
	run -0 ip -n "$ns" link show va
	run -0 ip netns list
	assert_output --partial "$ns"
	[ ! -e "$FALLACY_RUN_DIR/@t" ]
}

@test "cleanup of records whose objects are already gone succeeds and is repeatable" {
	journal @g "netns fl-gone-$$" "link $ns nosuch0" "qdisc $ns va clsact" \
		"qdisc $ns vb root" "tcfilter $ns va ingress 5 1" \
		"iptables $ns 4 raw PREROUTING -p tcp --dport 7 -j ACCEPT" \
		"link no-such-ns-$$ eth0" "sysctl no-such-ns-$$ net.ipv4.ip_forward 0" \
		"pid 999999 12345" "file $tmpd/none" "dir $tmpd/none.d" "mount $tmpd/none.m"
	run -0 "$FALLACY" cleanup @g
	run -0 "$FALLACY" cleanup @g
	run -0 "$FALLACY" cleanup --all
}

@test "a pid whose start time does not match (reused pid) is not killed" {
	sleep 1000 &
	sleeper=$!
	journal @p "pid $sleeper $(($(starttime "$sleeper") + 1))"
	run -0 "$FALLACY" cleanup @p
	kill -0 "$sleeper"
}

@test "an unknown record keeps the session so nothing is silently forgotten" {
	journal @u "frobnicate x"
	run -2 "$FALLACY" cleanup @u
	assert_output --partial "cannot undo journal record 'frobnicate x'"
	[ -e "$FALLACY_RUN_DIR/@u/journal" ]
	rm -rf "${FALLACY_RUN_DIR:?}/@u"
}

@test "cleanup --help has examples; bad arguments exit 2" {
	run -0 "$FALLACY" cleanup --help
	assert_output --partial EXAMPLES
	run -2 "$FALLACY" cleanup
	run -2 "$FALLACY" cleanup a/b
	run -0 "$FALLACY" cleanup "nothing-here-$$"
}
