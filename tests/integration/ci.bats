#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# fallacy-tests: alone (installs the package for everyone; tests/run.sh)
# The CI recipes of docs/ci.md work: each recipe's YAML is parsed and its
# shell steps run in order on a fresh copy of the repository, as the
# pipeline would, then its artifacts are checked; whatever the steps
# installed is removed again (make uninstall, apt-get purge).

bats_require_minimum_version 1.5.0
load test_helper/common

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
PY=/usr/bin/python3 # Debian's, with python3-yaml
APT=(apt-get -y -q -o DPkg::Lock::Timeout=600)

setup() {
	fl_require_root
	"$PY" -c 'import yaml' 2>/dev/null || skip "python3-yaml is not installed (make deps)"
	unset SUDO_UID SUDO_GID
	WORK="$BATS_TEST_TMPDIR/checkout"
	mkdir -p "$WORK"
	# a fresh checkout: what git has
	git -C "$REPO" ls-files -z | (cd "$REPO" && xargs -0 tar -cf -) | tar -xf - -C "$WORK"
}

teardown() {
	if [ -f "$BATS_TEST_TMPDIR/installed-local" ]; then
		make -C "$WORK" -s uninstall PREFIX=/usr/local >/dev/null 2>&1
		# and the folders the install made (deepest first), if empty
		find /usr/local -xdev -type d | sort -r | while read -r d; do
			grep -qxF "$d" "$BATS_TEST_TMPDIR/dirs.before" || rmdir "$d" 2>/dev/null || true
		done
	fi
	if [ -f "$BATS_TEST_TMPDIR/selections.before" ]; then
		"${APT[@]}" purge fallacy >/dev/null 2>&1
		dpkg --get-selections | diff - "$BATS_TEST_TMPDIR/selections.before" |
			awk '/^< / && $3 == "install" { print $2 }' | xargs -r "${APT[@]}" purge >/dev/null 2>&1
	fi
	fl_cleanup_all
}

# Run the recipe's steps in order (bash -e, as the runners do); fails
# naming the step that failed.
run_recipe() {
	local name=$1 step
	run -0 "$PY" "$BATS_TEST_DIRNAME/test_helper/ci_steps.py" "$REPO/docs/ci.md" "$name" \
		"$BATS_TEST_TMPDIR/steps"
	echo "$output"
	for step in "$BATS_TEST_TMPDIR"/steps/*.sh; do
		(cd "$WORK" && bash -eo pipefail "$step") >"$step.log" 2>&1 ||
			fail "$name step $(basename "$step") failed: $(cat "$step") $(tail -20 "$step.log")"
	done
}

# Every artifact path the recipe keeps exists; JUnit files are valid.
check_artifacts() {
	local kind path
	while read -r kind path; do
		if [ "$kind" = junit ]; then
			run -0 xmllint --noout --schema "$REPO/tests/data/junit.xsd" "$WORK/$path"
		else
			[ -e "$WORK/$kind" ] || fail "artifact $kind is missing"
		fi
	done <"$BATS_TEST_TMPDIR/steps/artifacts.txt"
}

@test "the GitHub Actions recipe: built from source, the scenario run, results kept, a failed check fails the step" {
	[ ! -e /usr/local/bin/fallacy ] || skip "/usr/local/bin/fallacy exists: the recipe would overwrite it"
	find /usr/local -xdev -type d >"$BATS_TEST_TMPDIR/dirs.before"
	touch "$BATS_TEST_TMPDIR/installed-local"
	run_recipe github
	check_artifacts
	run -0 xmllint --noout --schema "$REPO/tests/data/junit.xsd" "$WORK/results/junit.xml"
	run -0 jq -r .result "$WORK/results/summary.json"
	assert_output pass
	[ -s "$WORK/results/report.html" ]
	grep -q 'Ran 8 tests' "$BATS_TEST_TMPDIR"/steps/04-*.log
	# the same step with a scenario whose check fails: the step (and job) fails
	sed 's|fallacy run ci-loss --target redis|fallacy run tests/data/scenarios/impossible.yaml --target http|' \
		"$BATS_TEST_TMPDIR/steps/03-fallacy.sh" >"$BATS_TEST_TMPDIR/fails.sh"
	grep -q impossible "$BATS_TEST_TMPDIR/fails.sh"
	run -1 bash -c "cd '$WORK' && bash -eo pipefail '$BATS_TEST_TMPDIR/fails.sh'"
	assert_output --partial "FAIL availability >= 1.0 during blackout"
}

@test "the GitLab CI recipe: the package built, installed and run, junit.xml as a report" {
	if dpkg-query -W -f='${Status}' fallacy 2>/dev/null | grep -q 'install ok'; then
		skip "the fallacy package is installed already: the recipe needs a clean state"
	fi
	[ ! -e /usr/local/bin/fallacy ] || skip "/usr/local/bin/fallacy exists and would be run instead"
	command -v dpkg-buildpackage >/dev/null || skip "dpkg-dev is missing (make deps)"
	dpkg --get-selections >"$BATS_TEST_TMPDIR/selections.before"
	run_recipe gitlab
	check_artifacts
	[ -x /usr/bin/fallacy ]
	run -0 jq -r .result "$WORK/results/summary.json"
	assert_output pass
	run -0 xmllint --xpath 'count(//testcase)' "$WORK/junit.xml"
	assert_output 3
}
