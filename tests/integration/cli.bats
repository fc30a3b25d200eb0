#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The command line itself: dispatch, global options, exit statuses, --help
# of every command, and docs/cli.md kept in step with --help.

load test_helper/common

CLI_DOC="$BATS_TEST_DIRNAME/../../docs/cli.md"

commands() {
	"$FALLACY" --help | awk '/^commands:/ {on = 1; next} on && /^  [a-z]/ {print $1} /^$/ && on {on = 0}'
}

@test "fallacy --help lists the commands and exits 0" {
	run -0 "$FALLACY" --help
	for c in doctor lab fault partition wrap run capture report cleanup; do
		assert_line --regexp "^  $c +[a-z]"
	done
	refute_output --partial __supervise
}

@test "no command, an unknown command or an unknown global option exit 2" {
	run -2 "$FALLACY"
	assert_output --partial "usage: fallacy"
	run -2 "$FALLACY" lba
	assert_output --partial "unknown command 'lba'"
	run -2 "$FALLACY" --frobnicate doctor
	assert_output --partial "unknown option '--frobnicate'"
}

@test "--version prints the version" {
	run -0 "$FALLACY" --version
	assert_output --regexp '^fallacy [0-9]+\.[0-9]+\.[0-9]+'
}

@test "global -q, -v and -vv are accepted before the command" {
	run -0 "$FALLACY" -q doctor
	run -0 "$FALLACY" -v doctor
	assert_output --partial "scratch namespace made with unshare"
	run -0 "$FALLACY" -vv doctor
}

@test "every command has a section in docs/cli.md" {
	[ -f "$CLI_DOC" ]
	for c in $(commands); do
		grep -q "^### fallacy $c\$" "$CLI_DOC" || fail "docs/cli.md has no section for '$c'"
	done
}

@test "every command's --help exits 0, shows EXAMPLES, and docs/cli.md is what the program prints" {
	for c in $(commands); do
		run "$FALLACY" "$c" --help
		[ "$status" -eq 0 ] || fail "fallacy $c --help exited $status"
		grep -qi '^examples' <<<"$output" || fail "fallacy $c --help has no EXAMPLES"
	done
	run -0 docs/gen-cli.sh "$FALLACY" "$BATS_TEST_TMPDIR/cli.md"
	run diff -u "$CLI_DOC" "$BATS_TEST_TMPDIR/cli.md"
	[ "$status" -eq 0 ] || fail "docs/cli.md differs from --help (run docs/gen-cli.sh): $output"
}
