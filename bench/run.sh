#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make bench`: runs every bench/*.sh except this one. Each writes
# bench/out/NAME.json and prints its own table. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
export FALLACY="${FALLACY:-$PWD/.output/fallacy}"
mkdir -p bench/out
status=0
for b in bench/*.sh; do
	[ "$(basename "$b")" = run.sh ] && continue
	name=$(basename "$b" .sh)
	echo "== bench $name"
	if ! "$b" "bench/out/$name.json"; then
		echo "bench $name: FAILED" >&2
		status=1
	fi
done
exit $status
