#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The documentation against the program: every command line it shows
# parses, the fault kinds' parameter tables are what `fault --help` prints,
# and the recipe for a new fault kind names files that exist.

load test_helper/common

setup() {
	cd "$BATS_TEST_DIRNAME/../.."
}

@test "every fallacy command line in README.md, docs/ and the EXAMPLES of --help parses" {
	run python3 tests/integration/test_helper/doc_commands.py "$FALLACY"
	[ "$status" -eq 0 ] || fail "$output"
	n=$(sed -n 's/^\([0-9]*\) command lines checked, 0 failed$/\1/p' <<<"$output")
	echo "$n command lines"
	# the extractor finds them (README alone has 12, every --help has examples)
	[ "$n" -ge 100 ]
}

@test "the doc checker names the file and line of a command that does not parse" {
	d=$BATS_TEST_TMPDIR
	cat >"$d/bad.md" <<-'EOF'
		# a page

		```sh
		sudo fallacy lab up demo --nodes 3
		fallacy fault add demo loss 5%% --from n1 \
		    --to n2
		fallacy fault add demo lose 5%
		fallacy fault add --pid "$pid" loss 5%
		```

		<!-- not-checked: a synopsis -->
		```
		fallacy fault add TARGET KIND [PARAMS...]
		```

		<!-- check: pid=4242 -->
		```
		fallacy fault add --pid "$pid" loss 5% | tee log
		```

		<!-- fails: a bad name -->
		```
		$ fallacy lab up Demo
		fallacy: Demo: invalid lab name, 'D' not allowed (use a-z, 0-9, '_' and '-', starting with a-z or 0-9)
		$ fallacy lab up ok
		```
	EOF
	run -1 python3 tests/integration/test_helper/doc_commands.py "$FALLACY" "$d/bad.md"
	assert_line --partial "$d/bad.md:5: fallacy fault add demo loss 5%% --from n1 --to n2: "
	assert_line --partial "$d/bad.md:7: fallacy fault add demo lose 5%: fallacy: fault add demo: unknown fault 'lose' (did you mean 'loss'?)"
	assert_line --partial "$d/bad.md:8: "
	assert_line --partial "'\$pid' is a shell expansion"
	assert_line --partial "$d/bad.md:25: fallacy lab up ok: the doc shows an error, but --check exited 0"
	assert_line "7 command lines checked, 4 failed"
}

@test "docs/faults.md's parameter tables are what fallacy fault --help prints (docs/gen-faults.sh)" {
	run -0 docs/gen-faults.sh "$FALLACY" "$BATS_TEST_TMPDIR/faults.md"
	run diff -u docs/faults.md "$BATS_TEST_TMPDIR/faults.md"
	[ "$status" -eq 0 ] || fail "docs/faults.md differs from fault --help (run docs/gen-faults.sh): $output"
	# every kind has its table
	for k in $("$FALLACY" fault --help | awk '/^KINDS$/ { on = 1; next } on && /^[A-Z]/ { exit } on && /^  [a-z]/ { print $1 }'); do
		grep -qx "### $k" docs/faults.md || fail "docs/faults.md has no table for '$k'"
	done
}
