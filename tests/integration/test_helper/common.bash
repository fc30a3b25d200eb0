# SPDX-License-Identifier: MIT
# Shared by every tests/integration/*.bats: `load test_helper/common`.
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
bats_require_minimum_version 1.5.0 # run -0/-1/-2

# The binary under test; tests/run.sh sets it to the built one.
FALLACY=${FALLACY:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/.output/fallacy}
export FALLACY

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

# Every line of the events.jsonl file $1 follows the one schema
# (docs/results.md, test_helper/events.jq).
fl_assert_events() {
	[ -s "$1" ] || fail "$1 is missing or empty"
	run -0 jq -r -f "$BATS_TEST_DIRNAME/test_helper/events.jq" "$1"
	assert_output ''
}
