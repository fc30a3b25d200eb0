#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make bench`: runs every bench/*.sh except this one. Each writes
# bench/out/NAME.json and prints its own table; then the table of goals
# (every "goals" array in bench/out/*.json: goal, measured, target, pass).
# Needs root. BENCHES="dataplane wrap" runs only those.
set -euo pipefail
cd "$(dirname "$0")/.."
export FALLACY="${FALLACY:-$PWD/.output/fallacy}"
mkdir -p bench/out
status=0
for b in bench/*.sh; do
	[ "$(basename "$b")" = run.sh ] && continue
	name=$(basename "$b" .sh)
	if [ -n "${BENCHES:-}" ] && [[ " $BENCHES " != *" $name "* ]]; then
		continue
	fi
	echo "== bench $name"
	if ! "$b" "bench/out/$name.json"; then
		echo "bench $name: FAILED" >&2
		status=1
	fi
done
echo "== goals (bench/out/*.json; machine load now: $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-10s %-72s %10s %10s %s\n' bench goal measured target result
for j in bench/out/*.json; do
	if ! jq -e . "$j" >/dev/null 2>&1; then
		# a bench that failed half-way left no valid JSON: say so, go on
		printf '%-10s %-72s %10s %10s %s\n' "$(basename "$j" .json)" \
			"(no valid JSON in $j: the bench failed)" - - FAIL
		status=1
		continue
	fi
	jq -r --arg b "$(basename "$j" .json)" '(.goals // [])[] |
		[$b, .goal, (.measured | tostring), .target, (if .pass then "pass" else "FAIL" end)] | @tsv' \
		"$j" 2>/dev/null |
		while IFS=$'\t' read -r b g m t r; do
			printf '%-10s %-72s %10s %10s %s\n' "$b" "$g" "$m" "$t" "$r"
		done
done
exit $status
