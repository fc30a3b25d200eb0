# SPDX-License-Identifier: MIT
# setup/teardown of the files that run scenarios (`fallacy run`): from the
# repository's root, results in the test's own folder ($OUT), and every
# lab the test made removed after it. Load after common.bash.

setup() {
	cd "$BATS_TEST_DIRNAME/../.." || return 1
	OUT="$BATS_TEST_TMPDIR/results"
}

teardown() {
	fl_cleanup_all
}
