#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make check-scenarios`: every shipped fallacy scenario (scenarios/
# fallacies/*.yaml) run for real against every target of SCEN_TARGETS on
# every size of SCEN_NODES, at --time-scale SCEN_SCALE. Too long for `make
# check` (about 20 minutes for 9 scenarios x 3 targets x 2 sizes), so it
# is its own target, run and recorded like the soak.
#
# A run's checks may fail: that is what the scenario found (thundering-herd
# ships a client without backoff, and the herd check says so). What this
# script fails on is a scenario that could not run: exit 2 after the lab
# was made, an "error" event (a step that did not apply), or no
# summary.json. A scenario a target cannot serve (refused before anything
# is made, exit 2 without a results folder) is listed as refused, with the
# reason, and does not fail the run.
#
# Writes SCEN_OUT/results.json (one object per run) and SCEN_OUT/results.md
# (a table); prints one line per run and a summary line.
#   SCEN_TARGETS="etcd http" SCEN_NODES=3 SCEN_SCALE=0.5 make check-scenarios
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
fallacy=${FALLACY:-$PWD/${FALLACY_OUTPUT:-.output}/fallacy}
targets=${SCEN_TARGETS:-etcd redis-sentinel http}
sizes=${SCEN_NODES:-3 5}
scale=${SCEN_SCALE:-0.25}
only=${SCEN_ONLY:-}
out=${SCEN_OUT:-$(mktemp -d /tmp/fallacy-scenarios.XXXXXX)}
case "$scale" in
'' | *[!0-9.]*) echo "scenarios: SCEN_SCALE must be a number" >&2; exit 2 ;;
esac
for n in $sizes; do
	case "$n" in
	'' | *[!0-9]*) echo "scenarios: SCEN_NODES must be numbers" >&2; exit 2 ;;
	esac
done
command -v jq >/dev/null || { echo "scenarios: jq is needed (make deps)" >&2; exit 2; }
[ -x "$fallacy" ] || { echo "scenarios: $fallacy is not built (make all)" >&2; exit 2; }
mkdir -p "$out" || exit 2
export FALLACY_RUN_DIR=${FALLACY_RUN_DIR:-$out/run}
results=$out/results.jsonl
: >"$results"
echo "scenarios: every scenario of scenarios/fallacies against $targets on $sizes nodes, time scale $scale; results in $out"

# one run: a line of results.jsonl and one of output
one() {
	local s=$1 t=$2 n=$3 name dir log rc secs start status errors checks failed lab
	name=$(basename "$s" .yaml)
	dir=$out/$t-$n/$name
	log=$out/$t-$n/$name.log
	lab=sc$$$RANDOM
	mkdir -p "$out/$t-$n"
	start=$(date +%s)
	timeout 900 "$fallacy" run "$s" --target "scenarios/targets/$t.yaml" --nodes "$n" \
		--time-scale "$scale" --out "$dir" --lab "${lab:0:16}" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	errors=0 checks='' failed=''
	if [ -f "$dir/summary.json" ]; then
		errors=$(grep -c '"event":"error"' "$dir/events.jsonl" 2>/dev/null)
		checks=$(jq -r '"\([.checks[] | select(.pass)] | length)/\(.checks | length)"' "$dir/summary.json")
		failed=$(jq -r '[.checks[] | select(.pass | not) | .name] | join("; ")' "$dir/summary.json")
	fi
	if [ "$rc" -eq 2 ] && [ ! -e "$dir" ]; then
		status=refused
		failed=$(grep -m1 '^fallacy: ' "$log" | cut -c1-300)
	elif [ "$rc" -le 1 ] && [ -f "$dir/summary.json" ] && [ "${errors:-0}" -eq 0 ]; then
		[ "$rc" -eq 0 ] && status=pass || status="checks-failed"
	else
		status=error
		[ -n "$failed" ] || failed=$(grep -m1 -E '^fallacy: |error' "$log" | cut -c1-300)
	fi
	jq -cn --arg scenario "$name" --arg target "$t" --argjson nodes "$n" --arg status "$status" \
		--argjson exit "$rc" --argjson seconds "$secs" --arg checks "$checks" \
		--argjson errors "${errors:-0}" --arg failed "$failed" --arg results "$dir" \
		'{scenario: $scenario, target: $target, nodes: $nodes, status: $status, exit: $exit,
		  seconds: $seconds, checks_passed: $checks, error_events: $errors,
		  failed_checks: $failed, results: $results}' >>"$results"
	printf 'scenarios: %-28s %-15s %s nodes: %-13s checks %-5s %4ss%s\n' "$name" "$t" "$n" \
		"$status" "${checks:--}" "$secs" "${failed:+  ($failed)}"
}

total_start=$(date +%s)
for t in $targets; do
	[ -f "scenarios/targets/$t.yaml" ] || { echo "scenarios: no target $t" >&2; exit 2; }
	for n in $sizes; do
		for s in scenarios/fallacies/*.yaml; do
			[ -z "$only" ] || [[ " $only " == *" $(basename "$s" .yaml) "* ]] || continue
			one "$s" "$t" "$n"
		done
	done
done
"$fallacy" cleanup --all >/dev/null 2>&1

jq -s '.' "$results" >"$out/results.json"
{
	echo "| scenario | target | nodes | status | checks passed | seconds | failed checks / reason |"
	echo "|---|---|---|---|---|---|---|"
	jq -r '"| \(.scenario) | \(.target) | \(.nodes) | \(.status) | \(.checks_passed) | \(.seconds) | \(.failed_checks | gsub("\\|"; "/")) |"' "$results"
} >"$out/results.md"
summary=$(jq -rs '"\(map(select(.status == "pass")) | length) passed, \(map(select(.status == "checks-failed")) | length) with failed checks, \(map(select(.status == "refused")) | length) refused, \(map(select(.status == "error")) | length) errors"' "$results")
echo "scenarios: $summary in $(($(date +%s) - total_start))s; table in $out/results.md"
! grep -q '"status":"error"' "$results"
