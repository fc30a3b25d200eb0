#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Regenerates the fault kinds' parameter tables in docs/faults.md from what
# the built binary prints for `fallacy fault --help` (its KINDS part, made
# from the kinds' own parameter tables), so the page and the program cannot
# drift apart.   docs/gen-faults.sh [path/to/fallacy [OUT]]
# shellcheck disable=SC2016  # backquotes are Markdown here, not expansions
set -euo pipefail
cd "$(dirname "$0")/.."
fallacy=${1:-.output/fallacy}
doc=docs/faults.md
out=${2:-$doc}
begin='<!-- kinds: filled from `fallacy fault --help` by docs/gen-faults.sh -->'
end='<!-- end of kinds -->'
if ! grep -qxF "$begin" "$doc" || ! grep -qxF "$end" "$doc"; then
	echo "$doc: marker lines missing" >&2
	exit 2
fi
help=$("$fallacy" fault --help) || { echo "fallacy fault --help failed" >&2; exit 2; }
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
# KINDS lines: "  USAGE", "      HELP", then per parameter
# "      %-22s %s" = NAME [METAVAR], help, optionally
# " [words; default X; wrap --F; lab link]"
kinds='
function value(mv, words) {
	if (words != "") { gsub(/\|/, "`, `", words); return "one of `" words "`" }
	if (mv == "") return "flag (the bare word)"
	if (mv == "P") return "percentage"
	if (mv == "P...") return "percentages"
	if (mv == "D") return "duration"
	if (mv == "R") return "rate"
	if (mv == "B") return "size (bytes)"
	if (mv == "N") return "count"
	if (mv == "GROUP...") return "node groups"
	return mv
}
function jkey(name, mv) {
	if (mv == "D") return name "_ns"
	if (mv == "R") return name "_bps"
	if (mv == "B") return name "_bytes"
	return name
}
/^KINDS$/ { on = 1; next }
on && /^[A-Z]/ { exit }
on && /^  [a-z]/ {
	usage = substr($0, 3); split(usage, w, " ")
	printf "\n### %s\n\n`%s`\n\n", w[1], usage
	want_help = 1; next
}
on && /^      / && want_help {
	printf "%s.\n\n", substr($0, 7)
	print "| parameter | value | meaning | default | JSON key | wrap flag | lab link |"
	print "|---|---|---|---|---|---|---|"
	want_help = 0; next
}
on && /^      / {
	line = substr($0, 7)
	if (substr(line, 23, 1) != " ") { print "gen-faults: parameter name too long: " line > "/dev/stderr"; exit 2 }
	head = substr(line, 1, 22); sub(/ +$/, "", head)
	rest = substr(line, 24)
	n = split(head, h, " "); name = h[1]; mv = n > 1 ? h[2] : ""
	words = ""; def = ""; wrap = ""; link = ""
	i = index(rest, " [")
	if (i && substr(rest, length(rest)) == "]") {
		extra = substr(rest, i + 2, length(rest) - i - 2); rest = substr(rest, 1, i - 1)
		k = split(extra, e, "; ")
		for (j = 1; j <= k; j++) {
			if (e[j] ~ /^default /) def = "`" substr(e[j], 9) "`"
			else if (e[j] ~ /^wrap /) wrap = "`" substr(e[j], 6) "`"
			else if (e[j] == "lab link") link = "`" name "`"
			else words = e[j]
		}
	}
	printf "| `%s` | %s | %s | %s | `%s` | %s | %s |\n", name, value(mv, words), rest, def, jkey(name, mv), wrap, link
}
'
{
	awk -v b="$begin" '{ print } $0 == b { exit }' "$doc"
	awk "$kinds" <<<"$help"
	echo
	awk -v e="$end" '$0 == e { on = 1 } on { print }' "$doc"
} >"$tmp"
cp "$tmp" "$out"
