#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Lint of the bats files (tests/run.sh --unit): a statement that is a
# && list of tests, `[ a ] && [ b ]`, asserts nothing when `a` fails, since
# bash's set -e (bats runs each test under it) does not act on a command
# of a && list other than the last: the test goes on. Write one `[ ]` per
# line, or end the list with `|| fail "..."`. Prints each offending line
# as FILE:LINE: TEXT and exits 1 if there is one.
#   tests/check-bats.sh [FILE.bats ...]   (default: tests/integration/*.bats)
set -u
files=("$@")
if [ $# -eq 0 ]; then
	cd "$(dirname "$0")/.." || exit 2
	files=(tests/integration/*.bats)
fi
bad=0
for f in "${files[@]}"; do
	while IFS= read -r hit; do
		echo "$f:$hit"
		bad=1
	done < <(grep -nE '^[[:space:]]*\[\[? .*\]\]? && .*\]\]?[[:space:]]*$' "$f" | grep -vE '\|\||&& (break|continue|return)')
done
if [ "$bad" -ne 0 ]; then
	echo "a && list of tests asserts nothing when its first test fails (set -e): one [ ] per line, or end it with || fail" >&2
	exit 1
fi
