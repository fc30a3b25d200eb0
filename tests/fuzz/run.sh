#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every libFuzzer target SECONDS each (make fuzz FUZZ_SECONDS=N; make
# check runs 10 s each), one per CPU at a time (FUZZ_JOBS), on its
# committed corpus tests/fuzz/corpus/NAME plus
# seeds taken from the repository (scenarios, targets, docs, histories),
# and prints one line per target with libFuzzer's final stats. A crash,
# leak or sanitizer error leaves its input in .output-fuzz/crashes/ and
# fails the run: copy it to tests/fuzz/corpus/NAME/ as a regression input
# once fixed.   tests/fuzz/run.sh [SECONDS] [NAME...]
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
secs=${1:-60}
shift || true
out=.output-fuzz
mkdir -p "$out/crashes" "$out/logs"
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for b in "$out"/fuzz/fuzz_*; do names+=("$(basename "$b")"); done
fi

# seeds from the repository, per target (into the scratch corpus)
seed() {
	local name=$1 dir=$2 i=0 f line
	case $name in
	fuzz_scenario)
		for f in scenarios/*/*.yaml tests/data/scenarios/*.yaml; do
			[ -f "$f" ] && cp "$f" "$dir/seed-$(basename "$f")"
		done ;;
	fuzz_history)
		for f in tests/data/histories/*.jsonl; do
			[ -f "$f" ] && cp "$f" "$dir/seed-$(basename "$f")"
		done ;;
	fuzz_fault)
		# every `fault add TARGET WORDS` in the docs, without the target
		grep -hoE 'fallacy fault add [^`|]*' README.md docs/*.md 2>/dev/null |
			sed -E 's/^fallacy fault add (--netns [^ ]+|--pid [^ ]+|[^ ]+) //' |
			while IFS= read -r line; do
				i=$((i + 1))
				printf '%s' "$line" >"$dir/seed-doc-$i"
			done ;;
	fuzz_admin)
		# every `admin LAB NODE ...` change in the docs, without the lab
		grep -hoE 'fallacy admin [a-z0-9_-]+ [a-z0-9_-]+ (firewall|hosts|sysctl) [^`|#]*' \
			README.md docs/*.md docs/fallacies/*.md 2>/dev/null |
			sed -E 's/^fallacy admin [^ ]+ //' |
			while IFS= read -r line; do
				i=$((i + 1))
				printf '%s' "$line" >"$dir/seed-doc-$i"
			done ;;
	esac
}

# every target runs under the same sanitizer settings
sanitized() {
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		LSAN_OPTIONS=suppressions=tests/fuzz/lsan.supp:print_suppressions=0 "$@"
}

# libFuzzer times an input on the wall clock, so a machine that stops a
# process for half a minute (a paused VM, a clock step, a starved guest)
# looks like a hang. A real hang reproduces: replay the input alone, with
# the same limit. One that runs to completion is reported, kept in
# crashes/, and does not fail the run (ClusterFuzz treats timeouts that do
# not reproduce the same way); a crash or a leak always fails.
timeout=${FUZZ_TIMEOUT:-30}
stall() {
	local name=$1 bin=$2 log=$3 input t0 ms
	grep -q 'ERROR: libFuzzer: timeout' "$log" || return 1
	input=$(sed -n 's/.*Test unit written to //p' "$log" | tail -1)
	[ -f "$input" ] || return 1
	t0=$(date +%s%N)
	sanitized "$bin" -timeout="$timeout" -rss_limit_mb=4096 "$input" >"$log.replay" 2>&1 ||
		return 1
	ms=$((($(date +%s%N) - t0) / 1000000))
	echo "fuzz $name: ok, but $(grep -oE 'timeout after [0-9]+ seconds' "$log" | head -1)" \
		"that did not reproduce: the input ran alone in $ms ms ($input, $log)"
}

# one target; its line goes to $out/logs/NAME.result
run_one() {
	local name=$1 bin="$out/fuzz/$1" corpus="$out/corpus/$1" log="$out/logs/$1.log" runs cov
	if [ ! -x "$bin" ]; then
		echo "fuzz $name: not built (make fuzz-bins)"
		return
	fi
	mkdir -p "$corpus" "tests/fuzz/corpus/${name#fuzz_}"
	seed "$name" "$corpus"
	if sanitized "$bin" -max_total_time="$secs" -print_final_stats=1 -timeout="$timeout" \
		-rss_limit_mb=4096 -artifact_prefix="$out/crashes/$name-" \
		"$corpus" "tests/fuzz/corpus/${name#fuzz_}" >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1)
		echo "fuzz $name: ok, ${runs:-?} inputs in ${secs} s, ${cov:-cov: ?}"
	elif ! stall "$name" "$bin" "$log"; then
		echo "fuzz $name: FAILED (input in $out/crashes/, log $log)"
		grep -E "ERROR|SUMMARY|invariant" "$log" | head -5 | sed 's/^/  /'
	fi
}

# FUZZ_JOBS targets at once (default: one per CPU; each target is one
# single-threaded process), their lines printed in name order
jobs=${FUZZ_JOBS:-$(nproc)}
case "$jobs" in '' | *[!0-9]* | 0) jobs=1 ;; esac
for name in "${names[@]}"; do
	while [ "$(jobs -pr | wc -l)" -ge "$jobs" ]; do wait -n; done
	run_one "$name" >"$out/logs/$name.result" 2>&1 &
done
wait
failed=0
for name in "${names[@]}"; do
	cat "$out/logs/$name.result"
	grep -q '^fuzz [^ ]*: ok' "$out/logs/$name.result" || failed=$((failed + 1))
done
[ "$failed" -eq 0 ]
