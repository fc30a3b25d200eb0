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

@test "--version prints the version, with the git describe of a checkout" {
	run -0 "$FALLACY" --version
	assert_output --regexp '^fallacy [0-9]+\.[0-9]+\.[0-9]+'
	if git -C "$BATS_TEST_DIRNAME" rev-parse --git-dir >/dev/null 2>&1; then
		assert_output --regexp '^fallacy [0-9]+\.[0-9]+\.[0-9]+ \(git [0-9A-Za-z._-]+\)$'
	fi
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

@test "--check validates a command line and runs nothing: no lab, namespace, state or process" {
	fl_require_root
	cd "$BATS_TEST_DIRNAME/../.."
	lab=$(fl_lab_name c)
	run -0 "$FALLACY" --check lab up "$lab" --nodes 3 --ipv6
	run -0 "$FALLACY" --check fault add "$lab" delay 50ms jitter 5ms --from n1 --to n2 --seed 7
	run -0 "$FALLACY" --check fault add "$lab/n3" loss gemodel 1% 30% --duration 2s
	run -0 "$FALLACY" --check fault change "$lab" f1 delay 80ms
	run -0 "$FALLACY" --check partition "$lab" n1,n2 n3 --oneway
	run -0 "$FALLACY" --check fault add --netns "fl$lab" rate 10mbit --dir in
	run -0 "$FALLACY" --check wrap --loss 5% --scenario tests/data/scenarios/wrap-loss-window.yaml \
		-- touch "$BATS_TEST_TMPDIR/ran"
	run -0 "$FALLACY" --check run scenarios/examples/smoke.yaml --target scenarios/targets/http.yaml
	run -0 "$FALLACY" --check capture "$lab/n2" --side after -w "$BATS_TEST_TMPDIR/x.pcap"
	[ ! -e "$BATS_TEST_TMPDIR/ran" ]
	[ ! -e "$BATS_TEST_TMPDIR/x.pcap" ]
	[ ! -e "$FALLACY_RUN_DIR/$lab" ]
	run -0 ip netns list
	refute_output --partial "fl-$lab"
	# a real lab survives the check of its removal
	run -0 "$FALLACY" lab up "$lab" --nodes 2
	run -0 "$FALLACY" --check lab down "$lab"
	run -0 "$FALLACY" --check cleanup --all
	run -0 "$FALLACY" --check fault clear "$lab"
	[ -e "$FALLACY_RUN_DIR/$lab/lab" ]
	run -0 ip netns list
	assert_output --partial "fl-$lab.n2"
	run -0 "$FALLACY" lab down "$lab"
}

@test "--check exits 2 with the message the command itself gives" {
	cd "$BATS_TEST_DIRNAME/../.."
	run -2 "$FALLACY" --check fault add demo lose 5%
	assert_output "fallacy: fault add demo: unknown fault 'lose' (did you mean 'loss'?)"
	run -2 "$FALLACY" --check fault add demo rate 1bit
	assert_output --partial "rate 1bit: out of range"
	run -2 "$FALLACY" --check fault add --netns blue loss 5% --from n1
	assert_output --partial "node names work in labs only"
	run -2 "$FALLACY" --check fault change demo f1 lose 5%
	assert_output --partial "unknown fault 'lose'"
	run -2 "$FALLACY" --check lab up Demo
	assert_output --partial "Demo: invalid lab name"
	run -2 "$FALLACY" --check run tests/data/scenarios/bad-kind.yaml --target scenarios/targets/http.yaml
	assert_output --partial "bad-kind.yaml:6:19: unknown fault 'lose' (did you mean 'loss'?)"
	run -2 "$FALLACY" --check run tests/data/scenarios/no-such.yaml --target scenarios/targets/http.yaml
	assert_output --partial "no-such.yaml: cannot read: No such file or directory"
	run -2 "$FALLACY" --check wrap --jitter 5ms -- true
	assert_output --partial "--jitter needs --delay"
	run -2 "$FALLACY" --check capture demo --filter 'tcp prot 80'
	assert_output --partial "capture filter 'tcp prot 80'"
	run -2 "$FALLACY" --check check linearizable
	run -2 "$FALLACY" --check report
	run -2 "$FALLACY" --check cleanup a/b
}

@test "--check refuses the internal commands and needs a command" {
	run -2 "$FALLACY" --check __supervise demo
	assert_output "fallacy: --check: '__supervise' cannot be checked"
	run -2 "$FALLACY" --check
	assert_output --partial "usage: fallacy"
	run -0 "$FALLACY" --help
	assert_output --partial "--check"
}
