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

@test "docs/internals.md: the recipe for a new fault kind has five steps naming files and symbols that exist" {
	recipe=$(awk '/^### Adding a fault kind/ { on = 1; next } on && /^##/ { exit } on' docs/internals.md)
	[ -n "$recipe" ] || fail "no recipe section in docs/internals.md"
	[ "$(grep -cE '^[1-5]\. \*\*' <<<"$recipe")" -eq 5 ]
	paths=$(grep -oE '\b(injector|include|bpf|harness|tests|docs)/[A-Za-z0-9_./-]+\.(c|h|sh|md)\b' <<<"$recipe" | sort -u)
	[ "$(wc -l <<<"$paths")" -ge 8 ]
	for f in $paths; do
		case "$f" in
		*/NAME.c) [ -d "${f%/*}" ] || fail "recipe: no folder ${f%/*}" ;;
		*) [ -e "$f" ] || fail "recipe: $f does not exist" ;;
		esac
	done
	# the symbols it tells you to touch are where it says
	grep -q 'define FL_KINDS(KIND)' injector/faults/table.c
	grep -q 'fl_act(' bpf/dataplane.bpf.c
	grep -q 'FL_KIND_' include/fallacy/rule.h
	grep -q 'define FL_PARAM_END' injector/faults/fault.h
	grep -q 'fl_backend_tc_bpf' injector/faults/fault.h
	# step 1 and 2 hold for every kind there is: one definition, one table line
	for k in $("$FALLACY" fault --help | awk '/^KINDS$/ { on = 1; next } on && /^[A-Z]/ { exit } on && /^  [a-z]/ { print $1 }'); do
		# a '-' in a kind's name is '_' in C (mtu-blackhole: fl_fault_mtu_blackhole)
		[ "$(grep -lE "^const struct fault_ops fl_fault_${k//-/_} = " injector/faults/*.c | wc -l)" -eq 1 ] ||
			fail "kind $k: not exactly one definition in injector/faults/"
		grep -qE "KIND\(${k//-/_}\)" injector/faults/table.c || fail "kind $k: not in table.c"
	done
}
