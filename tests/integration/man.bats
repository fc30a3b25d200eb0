#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Man pages and shell completion come from the program itself (fallacy
# __man, fallacy __complete), made from the same --help text as
# docs/cli.md: the rendered pages are diffed against --help word for
# word, and the completion scripts are run the way bash and zsh run them.

bats_require_minimum_version 1.5.0
load test_helper/common

setup() {
	command -v groff >/dev/null || skip "groff is not installed (make deps: groff-base)"
}

commands() {
	"$FALLACY" --help | awk '/^commands:/ {on = 1; next} on && /^  [a-z]/ {print $1} /^$/ && on {on = 0}'
}

# The words of a text, one per line; a trailing ':' dropped (a heading of
# --help is a .SH of the page).
words() {
	tr -s ' \t\n' '\n\n\n' | sed -e 's/:$//' -e '/^$/d'
}

# The page rendered as plain text, from SYNOPSIS to the section after the
# help text (SEE ALSO, or COMMANDS on fallacy(1)), without those headings.
rendered() {
	"$FALLACY" __man "$@" | groff -man -Tascii -rcR=1 -P-cbou 2>/dev/null |
		awk '/^SYNOPSIS$/ { on = 1; next } /^(SEE ALSO|COMMANDS)$/ { on = 0 } on && !/^DESCRIPTION$/'
}

@test "every command has a man page whose text is its --help, word for word" {
	run -0 "$FALLACY" __man --list
	assert_line fallacy
	for c in $(commands); do
		assert_line "fallacy-$c"
		diff -u <("$FALLACY" "$c" --help | sed 's/^usage: //' | words) \
			<(rendered "$c" | words) >"$BATS_TEST_TMPDIR/d" ||
			fail "fallacy-$c(1) differs from fallacy $c --help: $(head -30 "$BATS_TEST_TMPDIR/d")"
	done
	diff -u <("$FALLACY" --help | sed 's/^usage: //' | words) <(rendered | words)
}

@test "the man pages render without groff warnings and name the command, its version and the others" {
	for c in wrap run control; do
		run -0 --separate-stderr sh -c "'$FALLACY' __man $c | groff -man -Tascii -ww -z"
		# shellcheck disable=SC2154 # set by run --separate-stderr
		[ -z "$stderr" ] || fail "groff warns on fallacy-$c(1): $stderr"
	done
	run -0 "$FALLACY" __man wrap
	assert_line --regexp '^\.TH FALLACY-WRAP 1 "" "fallacy [0-9]+\.[0-9]+\.[0-9]+'
	assert_line 'fallacy\-wrap \- run a command (a test suite) under network faults'
	assert_line '.BR fallacy\-run (1),'
	run -0 "$FALLACY" __man
	assert_output --partial 'FALLACY_CONTROL'
	assert_line '.BR fallacy\-control (1)'
	run -2 "$FALLACY" __man nosuch
	assert_output --partial "no command 'nosuch'"
}

@test "man(1) shows a generated page" {
	command -v man >/dev/null || skip "man is not installed (make deps: man-db)"
	"$FALLACY" __man fault >"$BATS_TEST_TMPDIR/fallacy-fault.1"
	run -0 env MANWIDTH=100 man -l "$BATS_TEST_TMPDIR/fallacy-fault.1"
	assert_output --partial "fallacy-fault - add, change, list and remove faults live"
	assert_output --partial "loss gemodel"
}

# bash: the script completes as it would at a prompt (COMP_WORDS).
bash_complete() {
	bash -c 'source <("$0" __complete --script bash)
		COMP_WORDS=("$0" "$@"); COMP_CWORD=$#
		_fallacy; printf "%s\n" "${COMPREPLY[@]}"' "$FALLACY" "$@"
}

@test "bash completion: commands, subcommands, options, fault kinds and parameters" {
	run -0 bash_complete ""
	for c in $(commands); do assert_line "$c"; done
	refute_line __supervise
	run -0 bash_complete fa
	assert_output fault
	run -0 bash_complete fault ""
	assert_output "$(printf '%s\n' add change del clear list)"
	run -0 bash_complete fault add demo ""
	for k in loss partition delay rate reorder; do assert_line "$k"; done
	run -0 bash_complete fault add demo delay 50ms j
	assert_output jitter
	run -0 bash_complete wrap --del
	assert_output --delay
	run -0 bash_complete wrap --con
	assert_output --control
	# a subcommand's own options, where its usage lines list them
	run -0 bash_complete lab up demo --
	for o in --nodes --node --ipv6 --control-user --json; do assert_line -- "$o"; done
	run bash_complete lab down demo --
	refute_output --partial --nodes
	run -0 bash_complete lab list -
	assert_output "$(printf '%s\n' -j --json)"
	run -0 bash_complete fault del --
	assert_output "$(printf '%s\n' --netns --pid)"
	run -0 bash_complete fault add demo loss 1% --proto ""
	assert_line udp
	run -0 bash_complete -v --ch
	assert_output --check
}

@test "bash completion: scenario, target, lab and node names" {
	fl_require_root
	run -0 bash_complete run ""
	assert_line network-is-reliable
	assert_line smoke
	run -0 bash_complete run smoke --target ""
	assert_line etcd
	assert_line http
	lab=$(fl_lab_name m)
	"$FALLACY" lab up "$lab" --nodes 2 >/dev/null
	run -0 bash_complete lab down ""
	assert_line "$lab"
	run -0 bash_complete lab exec "$lab" ""
	assert_output "$(printf '%s\n' n1 n2)"
	run -0 bash_complete fault add "$lab/"
	assert_line "$lab/n2"
	run -0 bash_complete fault add "$lab" delay 5ms --to ""
	assert_line n1
	run -0 bash_complete partition "$lab" ""
	assert_line n2
	"$FALLACY" lab down "$lab"
}

@test "zsh completion: the script parses and offers what __complete offers" {
	command -v zsh >/dev/null || skip "zsh is not installed (make deps)"
	"$FALLACY" __complete --script zsh >"$BATS_TEST_TMPDIR/_fallacy"
	run -0 zsh -n "$BATS_TEST_TMPDIR/_fallacy"
	head -1 "$BATS_TEST_TMPDIR/_fallacy" | grep -qx '#compdef fallacy'
	# compadd and _files stand in for zsh's completion system
	run -0 zsh -fc 'compadd() { shift; print -rl -- "${(@P)1}"; }; _files() { print FILES; }
		words=("$1" fault add demo ""); CURRENT=5; source "$2"' zsh "$FALLACY" "$BATS_TEST_TMPDIR/_fallacy"
	assert_line loss
	assert_line partition
	run -0 zsh -fc 'compadd() { shift; print -rl -- "${(@P)1}"; }; _files() { print FILES; }
		words=("$1" run x --out ""); CURRENT=5; source "$2"' zsh "$FALLACY" "$BATS_TEST_TMPDIR/_fallacy"
	assert_line FILES
}
