#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make demo`: run every fallacy scenario against a real 3-node etcd
# cluster in a lab, then the topology and homogeneity scenarios against
# redis and http too (FALLACY_DEMO_EXTRA), print the summary tables and
# where the results are. Needs root. Takes about 1 minute per scenario.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
FALLACY="${FALLACY:-$PWD/.output/fallacy}"
TARGET=${FALLACY_DEMO_TARGET:-scenarios/targets/etcd.yaml}
stamp=$(date -u +%Y%m%d-%H%M%S)
out=${FALLACY_DEMO_OUT:-results/demo-$stamp}

if [ "$(id -u)" -ne 0 ]; then
	echo "make demo needs root (network namespaces): sudo make demo" >&2
	exit 2
fi
shopt -s nullglob
scenarios=(scenarios/fallacies/*.yaml)
if [ ${#scenarios[@]} -eq 0 ]; then
	echo "no scenarios in scenarios/fallacies/" >&2
	exit 2
fi

printf '\n\033[1m$ fallacy run %s --target %s --out %s --junit %s/junit.xml\033[0m\n' \
	"${scenarios[*]}" "$TARGET" "$out" "$out"
mkdir -p "$out"
"$FALLACY" run "${scenarios[@]}" --target "$TARGET" --out "$out" --junit "$out/junit.xml"
rc=$?
# the topology and homogeneity scenarios also against the other targets:
# they change the lab under each kind of system (membership, replication,
# a single server)
for extra in ${FALLACY_DEMO_EXTRA:-redis http}; do
	more=()
	for s in scenarios/fallacies/topology-doesnt-change.yaml \
		scenarios/fallacies/network-is-homogeneous.yaml; do
		[ -f "$s" ] && more+=("$s")
	done
	[ ${#more[@]} -eq 0 ] && break
	printf '\n\033[1m$ fallacy run %s --target scenarios/targets/%s.yaml --out %s/%s\033[0m\n' \
		"${more[*]}" "$extra" "$out" "$extra"
	mkdir -p "$out/$extra"
	"$FALLACY" run "${more[@]}" --target "scenarios/targets/$extra.yaml" \
		--out "$out/$extra" --junit "$out/$extra/junit.xml"
	r=$?
	[ $r -gt $rc ] && rc=$r
done
echo
echo "results: $out (report.html, summary.json, events.jsonl, ops.jsonl, logs/)"
echo "junit:   $out/junit.xml $out/*/junit.xml"
for r in "$out"/report.html "$out"/*/report.html "$out"/*/*/report.html; do
	[ -f "$r" ] && echo "report:  $r"
done
case $rc in
0) echo "every check held" ;;
1) echo "some checks failed (above): that is what the fallacies do to this target" ;;
*) echo "the demo could not complete (exit $rc); see the messages above" ;;
esac
# a failed check is a finding, not a broken demo
[ $rc -le 1 ]
