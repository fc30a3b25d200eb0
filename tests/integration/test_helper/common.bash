# SPDX-License-Identifier: MIT
# Shared by every tests/integration/*.bats: `load test_helper/common`.
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
bats_require_minimum_version 1.5.0 # run -0/-1/-2

# Every `run` also prints what the command printed (its stdout and stderr)
# to the test's own output, which bats shows only when the test fails: a
# failure in CI can be understood from the log alone. (bats 1.8's `run -N`
# reports a wrong status without the output.)
BATS_VERBOSE_RUN=1

# The binary under test; tests/run.sh sets it to the built one.
FALLACY=${FALLACY:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/.output/fallacy}
export FALLACY

# The same suite as root and under `sudo make check`: wrap runs commands as
# SUDO_UID/SUDO_GID, so an inherited sudo user would change what every
# wrapped command runs as. Tests about the sudo user set them themselves.
unset SUDO_UID SUDO_GID SUDO_USER

# Every bats run gets its own state folder, so that `fallacy cleanup --all`
# in a test only ever touches what this run made (never CI's or another
# developer's /run/fallacy).
export FALLACY_RUN_DIR="${BATS_RUN_TMPDIR:-/tmp}/fallacy-run"

# A lab name unique to this run and test: PREFIX (<= 4 chars) + pid + random.
# Fits the 16-byte lab-name limit.
fl_lab_name() {
	printf '%s%s%04x\n' "${1:-t}" "$$" "$((RANDOM % 65536))"
}

fl_require_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
}

# One lab for a whole file, in setup_file: fl_file_lab PREFIX [lab up
# ARGS...] brings it up as $LAB (exported to the tests); fl_file_lab_down
# in teardown_file. Without root both do nothing (the tests skip).
fl_file_lab() {
	[ "$(id -u)" -eq 0 ] || return 0
	LAB=$(fl_lab_name "$1")
	export LAB
	shift
	"$FALLACY" lab up "$LAB" "$@" >/dev/null
}

fl_file_lab_down() {
	[ "$(id -u)" -eq 0 ] || return 0
	"$FALLACY" lab down "$LAB" >/dev/null 2>&1 || true
}

# Remove every lab and session this run recorded (safe: run-private dir).
fl_cleanup_all() {
	"$FALLACY" cleanup --all >/dev/null 2>&1 || true
}

# Nothing of lab $1 may remain: namespaces, /etc/netns folders, state.
fl_assert_lab_gone() {
	local lab=$1
	run ip netns list
	refute_output --partial "fl-$lab"
	run bash -c "ls -d /etc/netns/fl-$lab* 2>/dev/null"
	assert_output ''
	[ ! -e "$FALLACY_RUN_DIR/$lab" ]
}

# fl_wait_until SECONDS CMD [ARG...]: run CMD every 0.1 s until it succeeds
# or SECONDS have passed (then say what did not happen, and fail).
# Synchronisation by polling, never by a fixed sleep: a busy CI runner may
# take seconds for what takes milliseconds on an idle machine.
fl_wait_until() {
	local secs=$1 end
	shift
	end=$(($(date +%s%N) + secs * 1000000000))
	until "$@"; do
		if [ "$(date +%s%N)" -gt "$end" ]; then
			echo "timed out after ${secs}s waiting for: $*" >&2
			return 1
		fi
		sleep 0.1
	done
}

# fl_in_netns PID NETNS: PID lives in named namespace NETNS (so a fault
# given with --pid PID lands there, not in the namespace PID started in)
fl_in_netns() {
	[ "$(stat -L -c %i "/proc/$1/ns/net" 2>/dev/null)" = \
		"$(stat -L -c %i "/run/netns/$2" 2>/dev/null)" ]
}

# fl_bg_in_netns NETNS CMD [ARG...]: start CMD in NETNS in the background
# and wait until it is really there (`ip netns exec` enters the namespace
# after the fork that $! names). Sets BG_PID.
fl_bg_in_netns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@" &
	BG_PID=$!
	fl_wait_until 10 fl_in_netns "$BG_PID" "$ns"
}

# fl_listening NETNS PROTO(t|u) PORT: something listens on PORT in NETNS
fl_listening() {
	ip netns exec "$1" ss -Hln"$2" "sport = :$3" 2>/dev/null | grep -q .
}

# Every line of the events.jsonl file $1 follows the one schema
# (docs/results.md, test_helper/events.jq).
fl_assert_events() {
	[ -s "$1" ] || fail "$1 is missing or empty"
	run -0 jq -r -f "$BATS_TEST_DIRNAME/test_helper/events.jq" "$1"
	assert_output ''
}

# fl_assert_processes OPS_JSONL: the history's rule for processes (Jepsen's):
# no process has two operations open at once, and none runs again after
# an operation that ended info; every started operation has a process.
fl_assert_processes() {
	run -0 jq -s -e 'all(.skipped == true or .process > 0)' "$1"
	run -0 jq -s -c 'map(select(.process)) | group_by(.process) | map(sort_by(.start_ns)) |
		map(select((. as $o | [range(1; length)] | any($o[.].start_ns < $o[. - 1].end_ns)) or
			((map(.type) | index("info")) as $k | $k != null and $k != length - 1)))' "$1"
	[ "$output" = "[]" ] || fail "processes with overlapping operations or ops after info: $output"
}
