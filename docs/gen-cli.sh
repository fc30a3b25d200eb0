#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Regenerates the "## Commands" part of docs/cli.md from what the built
# binary prints for `fallacy COMMAND --help`, so the reference and the
# program cannot drift apart.   docs/gen-cli.sh [path/to/fallacy]
# shellcheck disable=SC2016  # backquotes are Markdown here, not expansions
set -euo pipefail
cd "$(dirname "$0")/.."
fallacy=${1:-.output/fallacy}
doc=docs/cli.md
marker='<!-- commands: filled from `fallacy COMMAND --help` -->'
grep -qF "$marker" "$doc" || { echo "$doc: marker line missing" >&2; exit 2; }
# The synopsis DESIGN.md fixes, shown for commands not built yet.
declare -A planned=(
	[lab]='fallacy lab up NAME [--nodes N | --node NAME ...] [--ipv6]
fallacy lab down NAME | lab list [-j] | lab exec NAME NODE -- CMD [ARG...]'
	[fault]='fallacy fault add TARGET KIND [PARAMS...] [--from X] [--to Y] [--proto tcp|udp|icmp]
                  [--port N[-M]] [--seed S] [--id NAME]
fallacy fault del TARGET ID | fault clear TARGET | fault list TARGET [-j]'
	[partition]='fallacy partition LAB GROUP GROUP... [--oneway]'
	[wrap]='fallacy wrap [--delay D] [--jitter D] [--loss P] [--rate R] [--port N] [--scenario F]
             [--out DIR] [--capture] [--user U] -- CMD [ARG...]'
	[run]='fallacy run SCENARIO [--target TARGET] [--seed N] [--out DIR] [--junit F] [--capture]'
	[capture]='fallacy capture TARGET [-w FILE] [--filter EXPR] [--duration D]'
	[report]='fallacy report DIR [--html F]'
	[cleanup]='fallacy cleanup [NAME | --all]'
)
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
awk -v m="$marker" '{print} $0 == m {exit}' "$doc" >"$tmp"
"$fallacy" --help | awk '/^commands:/ {on = 1; next} on && /^  [a-z]/ {s = $0; sub(/^  [^ ]+ +/, "", s); print $1 "\t" s} /^$/ && on {on = 0}' |
while IFS=$'\t' read -r cmd summary; do
	printf '\n### fallacy %s\n\n%s.\n\n' "$cmd" "${summary^}"
	if help=$("$fallacy" "$cmd" --help 2>&1) && ! grep -q 'not built yet' <<<"$help"; then
		printf '```\n%s\n```\n' "$help"
	else
		printf '**Not landed yet** in this build (`fallacy %s --help` says "%s").\n' \
			"$cmd" "$(head -1 <<<"$help")"
		if [ -n "${planned[$cmd]:-}" ]; then
			printf '\nPlanned synopsis (DESIGN.md):\n\n```\n%s\n```\n' "${planned[$cmd]}"
		fi
	fi
done >>"$tmp"
cp "$tmp" "$doc"
