# SPDX-License-Identifier: MIT
# Shared by the topology tests (topology.bats, nodes.bats): one lab per
# test, background processes, snapshots of every namespace's links.

bg_pids=()

topo_setup() {
	fl_require_root
	bg_pids=()
	lab=$(fl_lab_name "${1:-t}")
}

topo_teardown() {
	for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null || true; done
	bg_pids=()
	fl_cleanup_all
}

# start_bg NETNS CMD...: in the background, killed by teardown
start_bg() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@" >/dev/null 2>&1 &
	bg_pids+=($!)
}

# wait (up to 5 s) until something listens on TCP PORT in NETNS
wait_tcp() {
	for _ in $(seq 50); do
		ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# node_addr LAB NODE 4|6: the node's address from the lab file
node_addr() {
	awk -v n="$2" -v c=$(($3 == 4 ? 3 : 4)) '$1 == "node" && $2 == n { print $c }' \
		"$FALLACY_RUN_DIR/$1/lab"
}

# the lab's supervisor (its pid record is the last one in the journal)
sup_pid() {
	awk '$1 == "pid" { p = $2 } END { print p }' "$FALLACY_RUN_DIR/$1/journal"
}

# PID is gone (a zombie counts as gone: this VM's init reaps slowly)
proc_gone() {
	local st
	st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 0
	[ -z "$st" ] || [ "$st" = Z ]
}

# until CMD succeeds, at most $1 seconds (polling every 0.1 s)
poll() {
	local t=$1
	shift
	for _ in $(seq $((t * 10))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	"$@"
}

# What lab $1 has in the kernel and in /etc/netns: its namespaces, their
# links, and links with fallacy's names in the root namespace (never
# expected). Other labs and other people's namespaces are left out, so
# tests running at the same time do not disturb it.
link_snapshot() {
	local l=$1 ns
	{
		for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }' | grep -E "^fl-$l(\.|$)"); do
			echo "netns $ns"
			ip -n "$ns" -o link 2>/dev/null | awk -F': ' -v ns="$ns" '{ print ns " " $2 }'
		done
		ip -o link | awk -F': ' '$2 ~ /^(p-|flb-)/ { print "root " $2 }'
		ls /etc/netns 2>/dev/null | grep -E "^fl-$l(\.|$)" | sed 's/^/etc /'
	} | sort
}
