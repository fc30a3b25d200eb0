#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the unit (cmocka) and integration (bats) tests and ends with one line:
#   N passed, N failed, N skipped
# Exit status is non-zero when any test failed.
#   tests/run.sh [--unit] [--unit-asan DIR] [--integration] [--fuzz SECONDS] [FILE.bats ...]
# --unit-asan also runs the unit tests built with ASan + UBSan in DIR.
# --fuzz runs every libFuzzer target (make fuzz-bins) SECONDS each, one
# result per target.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
out=${FALLACY_OUTPUT:-.output}
export FALLACY="${FALLACY:-$PWD/$out/fallacy}"
unit=0 integ=0 fuzz=0 asan_out="" files=()
while [ $# -gt 0 ]; do
	case "$1" in
	--unit) unit=1 ;;
	--unit-asan) asan_out=${2:?--unit-asan needs the ASan build folder}; unit=1; shift ;;
	--integration) integ=1 ;;
	--fuzz) fuzz=${2:?--fuzz needs SECONDS}; shift ;;
	*) files+=("$1"); integ=1 ;;
	esac
	shift
done
[ $unit -eq 0 ] && [ $integ -eq 0 ] && [ "$fuzz" = 0 ] && unit=1 && integ=1
passed=0 failed=0 skipped=0
log=$(mktemp -d /tmp/fallacy-tests.XXXXXX)

# run_unit_bins DIR LABEL: every cmocka binary in DIR/tests, counted
run_unit_bins() {
	local t name rc p f s
	for t in "$1"/tests/test_*; do
		[ -x "$t" ] || continue
		name=$(basename "$t")
		CMOCKA_MESSAGE_OUTPUT=stdout "$t" >"$log/$2-$name.log" 2>&1
		rc=$?
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log/$2-$name.log" | tail -1)
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log/$2-$name.log" | tail -1)
		s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log/$2-$name.log" | tail -1)
		p=${p:-0} f=${f:-0} s=${s:-0}
		if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi # crashed
		passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
		if [ "$f" -ne 0 ]; then
			echo "$2 $name: FAILED"
			cat "$log/$2-$name.log"
		else
			echo "$2 $name: $p passed"
		fi
	done
}

# lint NAME TOOL OK-MESSAGE CMD [ARG...]: one unit result for CMD (skipped
# when TOOL is not installed), its output shown when it fails
lint() {
	local name=$1 tool=$2 msg=$3
	shift 3
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "unit $name: skipped ($tool not installed; make deps)"
		skipped=$((skipped + 1))
	elif "$@" >"$log/$name.log" 2>&1; then
		echo "unit $name: $msg"
		passed=$((passed + 1))
	else
		echo "unit $name: FAILED"
		cat "$log/$name.log"
		failed=$((failed + 1))
	fi
}

if [ $unit -eq 1 ]; then
	# lints, one result each: shell scripts (shellcheck), bats files (no
	# && list of tests standing as an assertion), C formatting (kernel
	# style, .clang-format)
	shfiles=()
	for f in tests/*.sh bench/*.sh scenarios/*.sh docs/*.sh .ci/run tests/integration/test_helper/kubectl-standin; do
		[ -f "$f" ] && shfiles+=("$f")
	done
	lint shellcheck shellcheck "${#shfiles[@]} scripts clean" shellcheck "${shfiles[@]}"
	lint check-bats bash "no && list of tests as an assertion" ./tests/check-bats.sh
	lint clang-format clang-format "every C file formatted" ./tests/check-format.sh
	run_unit_bins "$out" unit
	# the same unit tests built with ASan + UBSan (make check builds them)
	if [ -n "$asan_out" ]; then
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
			UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 run_unit_bins "$asan_out" unit-asan
	fi
fi

# run_bats_file FILE: its TAP in $log/NAME.tap, its seconds in NAME.time
run_bats_file() {
	local name start
	name=$(basename "$1" .bats)
	start=$(date +%s)
	bats --tap "$1" >"$log/$name.tap" 2>&1
	echo $(($(date +%s) - start)) >"$log/$name.time.tmp"
	mv "$log/$name.time.tmp" "$log/$name.time"
}

# report_done: count and print every file that finished since the last call
report_done() {
	local t name p s x
	for t in "$log"/*.time; do
		[ -e "$t" ] || continue
		name=$(basename "$t" .time)
		p=$(grep -Ec '^ok [0-9]+' "$log/$name.tap")
		s=$(grep -Ec '^ok [0-9]+ .*# [Ss][Kk][Ii][Pp]' "$log/$name.tap")
		x=$(grep -Ec '^not ok [0-9]+' "$log/$name.tap")
		p=$((p - s))
		# a file that failed to load counts as one failure
		if [ $((p + s + x)) -eq 0 ]; then x=1; fi
		passed=$((passed + p)) failed=$((failed + x)) skipped=$((skipped + s))
		echo "integration $name: $p passed, $x failed, $s skipped ($(cat "$t")s)"
		if [ "$x" -ne 0 ]; then cat "$log/$name.tap"; fi
		grep -E '^ok [0-9]+ .*# [Ss][Kk][Ii][Pp]' "$log/$name.tap" | sed 's/^/  /'
		rm -f "$t"
		: >"$log/$name.reported"
	done
}

# wait_running N: report files as they finish until at most N of the
# launched ones are still running (a file is done when its .time exists:
# no reliance on which child `wait -n` happens to see)
wait_running() {
	local nm n
	while :; do
		report_done
		n=0
		for nm in "${launched[@]}"; do
			[ -e "$log/$nm.reported" ] || n=$((n + 1))
		done
		[ "$n" -le "$1" ] && return
		sleep 0.2
	done
}

if [ $integ -eq 1 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "integration tests need root; skipped" >&2
	else
		if [ ${#files[@]} -eq 0 ]; then
			# Order (each file runs alone too, in any order): the files
			# that must run alone first, while nothing else would wait
			# for them; then the slowest ("# fallacy-tests: long"), so
			# that the last to start are short and no core idles at the
			# end; then the rest.
			files=()
			for mark in alone long ""; do
				for f in tests/integration/*.bats; do
					if [ -n "$mark" ]; then
						grep -q "^# fallacy-tests: $mark" "$f" && files+=("$f")
					elif ! grep -qE '^# fallacy-tests: (alone|long)' "$f"; then
						files+=("$f")
					fi
				done
			done
		fi
		# TEST_JOBS bats files at once (default 3): most of a file's time
		# is waiting (scenarios, timeouts), and every file has its own
		# FALLACY_RUN_DIR and lab names, as when several people run the
		# suite on one machine. TEST_JOBS=1 runs them one by one.
		jobs=${TEST_JOBS:-3}
		case "$jobs" in '' | *[!0-9]* | 0) jobs=1 ;; esac
		# A file that changes the machine for everyone (installs the
		# package: its pytest plugin and binaries) says so with a line
		# "# fallacy-tests: alone" and runs with no other file beside it.
		launched=()
		for f in "${files[@]}"; do
			[ -f "$f" ] || continue
			alone=0
			grep -q '^# fallacy-tests: alone' "$f" && alone=1
			if [ "$alone" -eq 1 ]; then
				wait_running 0
				run_bats_file "$f"
				report_done
				continue
			fi
			wait_running $((jobs - 1))
			launched+=("$(basename "$f" .bats)")
			run_bats_file "$f" &
		done
		wait_running 0
		wait
		report_done
	fi
fi
if [ "$fuzz" != 0 ]; then
	while IFS= read -r line; do
		echo "$line"
		case "$line" in
		"fuzz "*": ok,"*) passed=$((passed + 1)) ;;
		"fuzz "*) failed=$((failed + 1)) ;;
		esac
	done < <(./tests/fuzz/run.sh "$fuzz" 2>&1)
fi
rm -rf "$log"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
