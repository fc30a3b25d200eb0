#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every unit test binary in DIR/tests under valgrind (memcheck, full
# leak check; definite and indirect leaks are errors) and ends with one line.
#   tests/valgrind.sh DIR
# Exit status is non-zero when a binary had a memory error, leaked, or failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
dir=${1:?usage: tests/valgrind.sh DIR (a build folder with unit-bins)}
if ! command -v valgrind >/dev/null; then
	echo "valgrind: not installed (apt-get install valgrind, or make deps)"
	exit 1
fi
n=0 bad=0
for t in "$dir"/tests/test_*; do
	if [ ! -f "$t" ] || [ ! -x "$t" ]; then continue; fi
	n=$((n + 1))
	log="$dir/tests/$(basename "$t").valgrind.log"
	if CMOCKA_MESSAGE_OUTPUT=stdout valgrind -q --leak-check=full \
		--errors-for-leak-kinds=definite,indirect --error-exitcode=99 "$t" >"$log" 2>&1; then
		echo "valgrind $(basename "$t"): clean"
	else
		bad=$((bad + 1))
		echo "valgrind $(basename "$t"): FAILED ($log)"
		grep -E '^==[0-9]+== ' "$log" | head -40
	fi
done
[ "$n" -gt 0 ] || {
	echo "valgrind: no unit test binaries in $dir/tests (make OUTPUT=$dir unit-bins)"
	exit 1
}
echo "valgrind: $((n - bad)) of $n unit test binaries clean"
[ "$bad" -eq 0 ]
