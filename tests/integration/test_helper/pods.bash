# SPDX-License-Identifier: MIT
# "Pods" for tests (agent-pods.bats, agent-kubectl.bats): namespaces
# behind veths from a host namespace $H, with processes placed in cgroups
# named the way the kubelet names them, under a test-only parent $PARENT
# of the cgroup v2 hierarchy (pods_teardown removes it).

# pods_setup: $CG2, $PARENT and the PIDS list (skips without cgroup v2)
pods_setup() {
	CG2=$(findmnt -rn -t cgroup2 -o TARGET | head -n 1)
	[ -n "$CG2" ] || skip "no cgroup v2 hierarchy mounted"
	PARENT=$CG2/fl-test-pods-$$-$RANDOM
	PIDS=()
	mkdir "$PARENT"
}

# pods_teardown: the processes killed, the test-only cgroups removed
pods_teardown() {
	local p
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do fl_wait_until 10 bash -c "! kill -0 $p 2>/dev/null" || true; done
	if [ -n "${PARENT:-}" ] && [ -d "$PARENT" ]; then
		find "$PARENT" -depth -type d -exec rmdir {} \;
	fi
}

# pod_net NS N: namespace NS behind a veth from $H, 198.18.24N.2 (H: .1)
pod_net() {
	ip netns add "$1"
	ip link add "hp$2$$" netns "$H" type veth peer name "pp$2$$" netns "$1"
	ip -n "$H" addr add "198.18.24$2.1/24" dev "hp$2$$"
	ip -n "$1" addr add "198.18.24$2.2/24" dev "pp$2$$"
	ip -n "$H" link set "hp$2$$" up
	ip -n "$1" link set "pp$2$$" up
	ip -n "$1" link set lo up
}

# in_cgroup NS DIR: a process in namespace NS, moved into cgroup DIR
in_cgroup() {
	mkdir -p "$2"
	fl_bg_in_netns "$1" sleep 300
	echo "$BG_PID" >"$2/cgroup.procs"
	PIDS+=("$BG_PID")
	grep -q "${2#"$PARENT"}" "/proc/$BG_PID/cgroup"
}

# cgroupfs_pod UID: a pod's cgroup, the kubelet's cgroupfs driver's name
cgroupfs_pod() {
	echo "$PARENT/kubepods/burstable/pod$1"
}

# systemd_pod UID: the same, its systemd driver's name (UID with _)
systemd_pod() {
	echo "$PARENT/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${1//-/_}.slice"
}

# min_rtt N: the smallest of 3 round trips from $H to pod N, whole ms
min_rtt() {
	ip netns exec "$H" ping -n -q -c 3 -i 0.2 -W 3 "198.18.24$1.2" |
		sed -n 's/^rtt [^=]*= \([0-9.]*\)\/.*/\1/p' | awk '{ print int($1) }'
}

# undelayed N: the round trip to pod N is under 20 ms again
undelayed() {
	local r
	r=$(min_rtt "$1")
	[ -n "$r" ] && [ "$r" -lt 20 ]
}
