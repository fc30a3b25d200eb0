# SPDX-License-Identifier: MIT
# Helpers for wrap.bats, capture.bats and attach.bats.

# A name unique to this test run, usable as a namespace name.
wrap_uniq() {
	echo "flt$$-${BATS_TEST_NUMBER:-0}-$RANDOM"
}

# Wait until FILE contains TEXT (max ~20 s: a busy machine may take
# seconds to start a namespace, a supervisor and a command).
wait_for_text() {
	local file=$1 text=$2 i
	for i in $(seq 400); do
		grep -q -- "$text" "$file" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "timed out waiting for '$text' in $file" >&2
	cat "$file" >&2 || true
	return 1
}

# No namespace, session folder or process of the wrap session SESSION left.
assert_session_gone() {
	local session=$1
	run ip netns list
	refute_output --partial "fl-$session"
	[ ! -e "${FALLACY_RUN_DIR:-/run/fallacy}/$session" ]
}

# Kernel feature probes: skip with the missing piece named.
require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "$c is not installed (make deps)"
	done
}

# True when PID runs (a zombie does not count: this machine's init may be
# slow to reap orphans).
proc_alive() {
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# count_pkts FILE DISPLAY-FILTER: packets in a capture file matching it.
count_pkts() {
	tshark -r "$1" -Y "$2" 2>/dev/null | wc -l
}

# True when PID is gone (or a zombie).
proc_gone() {
	! proc_alive "$1"
}

# "$WAIT_LISTEN PORT" inside a wrapped `sh -c`: wait (up to 20 s) until
# something listens on TCP PORT there, instead of sleeping and hoping.
# shellcheck disable=SC2016 # expanded by the inner sh
WAIT_LISTEN='sh -c '\''for i in $(seq 200); do ss -Hltn "sport = :$0" | grep -q . && exit 0; sleep 0.1; done; echo "nothing listens on port $0 after 20 s" >&2; exit 1'\'
