#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Regenerates the "## Commands" part of docs/cli.md from what the built
# binary prints for `fallacy COMMAND --help`, so the reference and the
# program cannot drift apart.   docs/gen-cli.sh [path/to/fallacy [OUT]]
# shellcheck disable=SC2016  # backquotes are Markdown here, not expansions
set -euo pipefail
cd "$(dirname "$0")/.."
fallacy=${1:-.output/fallacy}
doc=docs/cli.md
out=${2:-$doc}
marker='<!-- commands: filled from `fallacy COMMAND --help` -->'
grep -qF "$marker" "$doc" || { echo "$doc: marker line missing" >&2; exit 2; }
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
awk -v m="$marker" '{print} $0 == m {exit}' "$doc" >"$tmp"
"$fallacy" --help | awk '/^commands:/ {on = 1; next} on && /^  [a-z]/ {s = $0; sub(/^  [^ ]+ +/, "", s); print $1 "\t" s} /^$/ && on {on = 0}' |
while IFS=$'\t' read -r cmd summary; do
	printf '\n### fallacy %s\n\n%s.\n\n' "$cmd" "${summary^}"
	help=$("$fallacy" "$cmd" --help) || { echo "fallacy $cmd --help failed" >&2; exit 2; }
	printf '```\n%s\n```\n' "$help"
done >>"$tmp"
cp "$tmp" "$out"
