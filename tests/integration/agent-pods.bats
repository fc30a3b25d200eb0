#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Pods by UID (docs/kubernetes.md): "pods" are namespaces P1 and P2 behind
# veths from a host namespace H, each with two processes placed in cgroups
# named the way the kubelet names them (P1 the cgroupfs layout
# kubepods/burstable/pod<UID>/..., P2 the systemd layout
# kubepods-besteffort-pod<UID_with_underscores>.slice/...), under a
# test-only parent in the cgroup v2 hierarchy that teardown removes. The
# agent runs in H; faults put by pod UID are measured with ping from H.

bats_require_minimum_version 1.5.0
load test_helper/common
load test_helper/pods

setup() {
	fl_require_root
	pods_setup
	H=pdh$$$((RANDOM % 1000)) P1=pd1$$$((RANDOM % 1000)) P2=pd2$$$((RANDOM % 1000))
	UID1=$(cat /proc/sys/kernel/random/uuid) UID2=$(cat /proc/sys/kernel/random/uuid)
	UID3=$(cat /proc/sys/kernel/random/uuid)
	TMP=$(mktemp -d /tmp/fallacy-pods.XXXXXX)
	ip netns add "$H"
	pod_net "$P1" 1
	pod_net "$P2" 2
	in_cgroup "$P1" "$(cgroupfs_pod "$UID1")/pause"
	in_cgroup "$P1" "$(cgroupfs_pod "$UID1")/c0ffee01"
	local sd
	sd=$(systemd_pod "$UID2")
	in_cgroup "$P2" "$sd/cri-containerd-aaaa.scope"
	in_cgroup "$P2" "$sd/cri-containerd-bbbb.scope"
	BEFORE=$(tc_state)
}

teardown() {
	[ -n "${AGENT_PID:-}" ] && kill -9 "$AGENT_PID" 2>/dev/null
	pods_teardown
	fl_cleanup_all
	for ns in "$H" "$P1" "$P2"; do ip netns del "$ns" 2>/dev/null || true; done
	rm -rf "$TMP"
}

tc_state() {
	tc -n "$P1" -j qdisc show
	tc -n "$P2" -j qdisc show
	tc -n "$P1" -j filter show dev "pp1$$" egress
	tc -n "$P2" -j filter show dev "pp2$$" egress
}

agent_start() {
	coproc AGENT { exec ip netns exec "$H" "$FALLACY" -v agent --stdio 2>"$TMP/agent.log"; }
	AGENT_IN=${AGENT[1]} AGENT_OUT=${AGENT[0]}
}

ask() {
	echo "$1" >&"$AGENT_IN"
	ANSWER=
	read -r -t 60 ANSWER <&"$AGENT_OUT" || fail "no answer to $1 (agent log: $(cat "$TMP/agent.log"))"
	echo "> $1" >&2
	echo "< $ANSWER" >&2
}

ok() {
	[ "$(jq -r .ok <<<"$ANSWER")" = true ] || fail "refused: $ANSWER"
}

put_pod() { # put_pod UID LEASE FAULT...
	local uid=$1 lease=$2
	shift 2
	ask "{\"verb\":\"put\",\"target\":{\"pod\":\"$uid\"},\"lease\":\"$lease\",\"faults\":$(jq -cn '$ARGS.positional' --args "$@")}"
}

@test "targets lists both pods, each by its lowest pid, with its namespace's inode" {
	agent_start
	ask '{"verb":"targets"}'
	ok
	for n in 1 2; do
		uid=UID$n ns=P$n
		ino=$(stat -c %i "/run/netns/${!ns}")
		got=$(jq -c ".targets[] | select(.pod == \"${!uid}\") | [.inode, .processes, .pid]" <<<"$ANSWER")
		echo "pod $n: $got (namespace inode $ino)"
		[ "$(jq '.[0]' <<<"$got")" -eq "$ino" ]
		[ "$(jq '.[1]' <<<"$got")" -eq 2 ]
	done
	lowest=$(printf '%s\n' "${PIDS[0]}" "${PIDS[1]}" | sort -n | head -n 1)
	[ "$(jq ".targets[] | select(.pod == \"$UID1\") | .pid" <<<"$ANSWER")" -eq "$lowest" ]
}

@test "a delay put by pod UID, cgroupfs layout: ping to that pod sees it, the other pod not; reset ends it" {
	agent_start
	put_pod "$UID1" 30s "delay 50ms --proto icmp"
	ok
	jq -e ".target.pod == \"$UID1\"" <<<"$ANSWER"
	r1=$(min_rtt 1) r2=$(min_rtt 2)
	echo "min rtt: pod 1 $r1 ms, pod 2 $r2 ms"
	[ "$r1" -ge 45 ]
	[ "$r2" -lt 45 ]
	# the same pod again: one target, the fault kept
	put_pod "$UID1" 30s "delay 50ms --proto icmp"
	ok
	[ "$(jq -c .kept <<<"$ANSWER")" = '["f1"]' ]
	ask "{\"verb\":\"reset\",\"target\":{\"pod\":\"$UID1\"}}"
	ok
	fl_wait_until 30 undelayed 1
	diff <(echo "$BEFORE") <(echo "$(tc_state)")
}

@test "a loss put by pod UID, systemd layout: ping to that pod loses packets, the other pod none" {
	agent_start
	put_pod "$UID2" 30s "loss 100% --proto icmp --dir in"
	ok
	run ip netns exec "$H" ping -n -q -c 5 -i 0.2 -W 1 198.18.242.2
	echo "$output"
	[[ "$output" == *" 0 received"* ]]
	run -0 ip netns exec "$H" ping -n -q -c 3 -i 0.2 -W 3 198.18.241.2
	ask "{\"verb\":\"reset\",\"target\":{\"pod\":\"${UID2//-/_}\"}}"
	ok
	fl_wait_until 30 bash -c "ip netns exec $H ping -n -q -c 1 -W 1 198.18.242.2 >/dev/null"
	diff <(echo "$BEFORE") <(echo "$(tc_state)")
}

@test "refused with a clear error: a pod in the host's namespace, a pod not on this host; nothing is put" {
	in_cgroup "$H" "$(cgroupfs_pod "$UID3")/pause"
	agent_start
	put_pod "$UID3" 30s "delay 50ms"
	[ "$(jq -r .ok <<<"$ANSWER")" = false ]
	[[ "$(jq -r .error <<<"$ANSWER")" == *"uses the host's network namespace (hostNetwork: true)"* ]]
	put_pod "$(cat /proc/sys/kernel/random/uuid)" 30s "delay 50ms"
	[[ "$(jq -r .error <<<"$ANSWER")" == *"is the pod running on this node?"* ]]
	put_pod "web-0" 30s "delay 50ms"
	[[ "$(jq -r .error <<<"$ANSWER")" == *"a pod UID is 8-4-4-4-12 hex digits"* ]]
	diff <(echo "$BEFORE") <(echo "$(tc_state)")
	[ -z "$(ls "$FALLACY_RUN_DIR" | grep '^@' || true)" ]
}

@test "kill -9 of the agent holding a pod's faults: they end within the lease, and fallacy cleanup leaves nothing" {
	agent_start
	put_pod "$UID1" 3s "delay 50ms --proto icmp"
	ok
	[ "$(min_rtt 1)" -ge 45 ]
	kill -9 "$AGENT_PID"
	AGENT_PID=
	fl_wait_until 30 undelayed 1
	run -0 "$FALLACY" cleanup --all
	diff <(echo "$BEFORE") <(echo "$(tc_state)")
	[ -z "$(ls "$FALLACY_RUN_DIR" | grep '^@' || true)" ]
}
