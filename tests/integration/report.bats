#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Reports over many runs: index.html beside the runs of one call (several
# scenarios, several targets), `fallacy report DIR` as a table and -j,
# --compare of two sets of runs, and report.html's per-node lanes and
# fault counters over time, looked at in headless Chromium.

bats_require_minimum_version 1.5.0
load test_helper/common

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

setup_file() {
	[ "$(id -u)" -eq 0 ] || return 0
	export RUNS="$BATS_FILE_TMPDIR/runs"
	cd "$REPO" || return 1
	# two scenarios (one with a fault window) against one target
	local rc=0
	# (tests/data's smoke: bounds a busy machine meets; the names: see below)
	"$FALLACY" run tests/data/scenarios/smoke.yaml tests/data/scenarios/impossible.yaml \
		--target http --out "$RUNS" \
		>"$BATS_FILE_TMPDIR/run.log" 2>&1 || rc=$?
	echo "$rc" >"$BATS_FILE_TMPDIR/run.status"
}

teardown_file() {
	fl_cleanup_all
}

setup() {
	fl_require_root
	cd "$REPO"
}

@test "a run of several scenarios writes index.html beside their folders: a row each, relative links" {
	run -0 cat "$BATS_FILE_TMPDIR/run.status"
	assert_output 1 # impossible fails, as it must
	run -0 cat "$BATS_FILE_TMPDIR/run.log"
	assert_output --partial "2 runs, listed in $RUNS/index.html"
	idx="$RUNS/index.html"
	[ -s "$idx" ]
	run -0 xmllint --html --xpath 'count(//table/tr[td])' "$idx"
	assert_output 2
	run -0 xmllint --html --xpath 'string(//tr[td[1]="impossible"]/td[3])' "$idx"
	assert_output fail
	run -0 xmllint --html --xpath 'string(//tr[td[1]="smoke"]/td[4])' "$idx"
	assert_output 3/3
	run -0 xmllint --html --xpath 'string(//tr[td[1]="smoke"]//a[1]/@href)' "$idx"
	assert_output smoke/report.html
	[ -s "$RUNS/smoke/report.html" ]
	run grep -E 'https?://|src=' "$idx"
	assert_failure
}

@test "report DIR prints the same rows as a table, and -j as JSON with latency per window" {
	run -1 "$FALLACY" report "$RUNS"
	assert_output --regexp 'impossible +http +fail +1/2 +0\.[0-9]+ +[0-9.]+(us|ms|s) +[0-9]+ '
	assert_output --regexp 'smoke +http +pass +3/3 +(1|0\.[0-9]+) +[0-9.]+(us|ms|s) +[0-9]+ '
	run -1 "$FALLACY" report "$RUNS" -j
	echo "$output" | jq -e 'length == 2' >/dev/null
	run -0 jq -r '.[] | select(.scenario == "impossible") | .windows[].window' <<<"$output"
	assert_output "$(printf '%s\n' all 'outside faults' blackout)"
	run -1 "$FALLACY" report "$RUNS" -j
	run -0 jq -r '.[] | select(.scenario == "impossible") | .windows[] | select(.window == "blackout") | (.availability < 1) and (.p99_ns > 0)' <<<"$output"
	assert_output true
	run -1 "$FALLACY" report "$RUNS" --index "$BATS_TEST_TMPDIR/again.html"
	run -0 xmllint --html --xpath 'count(//table/tr[td])' "$BATS_TEST_TMPDIR/again.html"
	assert_output 2
}

@test "report --compare puts two sets of runs side by side with the deltas, as text, JSON and HTML" {
	# the same again, as "after": the pairing is by scenario and target
	run -1 "$FALLACY" run tests/data/scenarios/impossible.yaml --target http \
		--out "$BATS_TEST_TMPDIR/after/impossible"
	run -1 "$FALLACY" report --compare "$RUNS" "$BATS_TEST_TMPDIR/after" --html "$BATS_TEST_TMPDIR/cmp.html"
	assert_output --partial "impossible against http: fail -> fail"
	assert_output --regexp 'availability >= 1.0 during blackout +FAIL [0-9.]+ +-> FAIL [0-9.]+'
	assert_output --regexp 'blackout +[0-9]+ -> [0-9]+ +[0-9.]+ -> [0-9.]+ +\([-+][0-9.e-]+\) p50 '
	assert_output --partial "smoke against http: only in the first set"
	run -1 "$FALLACY" report --compare "$RUNS" "$BATS_TEST_TMPDIR/after" -j
	run -0 jq -r '.[0].windows[] | select(.window == "all") | (.delta.p99_ns == (.after.p99_ns - .before.p99_ns))' <<<"$output"
	assert_output true
	run -0 xmllint --html --xpath 'count(//h2)' "$BATS_TEST_TMPDIR/cmp.html"
	assert_output 1
	run -2 "$FALLACY" report --compare "$RUNS"
	assert_output --partial "expected two results folders"
}

# html_xpath XPATH FILE: xmllint's answer, without its complaints about
# the inline SVG (not an HTML 4 tag)
html_xpath() {
	xmllint --html --xpath "$1" "$2" 2>/dev/null
}

# herd_run BACKOFF DIR: a herd of 240 clients on n2, n3 held to redis's
# primary, cut off for 3 s, with that reconnect policy (the same scenario
# name both times: --compare pairs by scenario and target)
herd_run() {
	cat >"$BATS_TEST_TMPDIR/herd-$1.yaml" <<EOF
name: herd
duration: 10s
herd:
  clients: 240
  from: rest
  to: leader
  every: 100ms
  timeout: 500ms
  reconnect: {backoff: $1, base: 100ms, max: 2s}
timeline:
  - {at: 3s, id: cut, partition: [[leader], [rest]], duration: 3s}
checks:
  - backoff: {after: cut}
EOF
	run "$FALLACY" run "$BATS_TEST_TMPDIR/herd-$1.yaml" --target scenarios/targets/redis.yaml \
		--out "$2" --lab "$(fl_lab_name rh)" --seed 1
	[ "$status" -le 1 ] || fail "exit $status: $output"
}

# The busiest 100 ms of connect attempts in the 5 s after the heal of
# run $1, from its herd.jsonl and events.jsonl (buckets from the start)
busiest() {
	jq -s -r --slurpfile ev "$1/events.jsonl" '
		($ev | map(select(.event == "start"))[0].mono_ns) as $t0 |
		($ev | map(select(.event == "heal" and .id == "cut"))[0].mono_ns) as $h |
		((($h - $t0) / 1e8) | floor) as $lo |
		map(select(.ev == "connect") | ((.start_ns - $t0) / 1e8 | floor)) |
		map(select(. >= $lo and . < $lo + 50)) | group_by(.) | map(length) | max' "$1/herd.jsonl"
}

@test "report --compare compares two herds (no backoff, then jitter): the busiest 100 ms after the heal and the backoff share; report DIR redraws the herd section" {
	command -v redis-server >/dev/null || skip "redis not installed (make deps)"
	herd_run none "$BATS_TEST_TMPDIR/before/herd"
	herd_run jitter "$BATS_TEST_TMPDIR/after/herd"
	run "$FALLACY" report --compare "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after" \
		--html "$BATS_TEST_TMPDIR/cmp.html"
	echo "$output"
	assert_output --partial "herd (heal of cut -> cut)"
	assert_output --regexp 'busiest 100 ms after a heal: connects +[0-9]+ -> [0-9]+'
	assert_output --regexp 'backoff check: share in 10 ms +[01]\.[0-9]{3} -> [01]\.[0-9]{3}'
	run -0 "$FALLACY" report --compare "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after" -j
	json=$output
	# the figures are the runs' own: the backoff check's measured share
	# and the busiest bucket counted here from herd.jsonl
	for side in before after; do
		dir="$BATS_TEST_TMPDIR/$side/herd"
		run -0 jq -r '.checks[] | select(.kind == "backoff") | .measured' "$dir/summary.json"
		share=$output
		run -0 jq -r --arg s "$side" '.[0].herd[$s].backoff_share' <<<"$json"
		awk -v a="$output" -v b="$share" 'BEGIN { exit !(a == b + 0) }' ||
			fail "$side: compare says share $output, the check measured $share"
		peak=$(busiest "$dir")
		run -0 jq -r --arg s "$side" '.[0].herd[$s].peak_connects' <<<"$json"
		echo "# $side: busiest 100 ms after the heal $output connects (herd.jsonl: $peak), backoff share $share" >&3
		[ "$output" -eq "$peak" ]
	done
	# lock-step comes back in one burst, jitter spreads it
	run -0 jq -e '.[0].herd | .before.peak_connects > .after.peak_connects' <<<"$json"
	run -0 html_xpath 'count(//table[tr/th[1]="herd"]/tr[td])' "$BATS_TEST_TMPDIR/cmp.html"
	assert_output 6
	# regenerated from the results folder, the herd section is the run's own
	run "$FALLACY" report "$BATS_TEST_TMPDIR/before/herd" --html "$BATS_TEST_TMPDIR/re.html"
	[ "$status" -le 1 ] || fail "exit $status: $output"
	run -0 html_xpath 'string(//table[@class="herd"])' "$BATS_TEST_TMPDIR/before/herd/report.html"
	want=$output
	[ -n "$want" ]
	run -0 html_xpath 'string(//table[@class="herd"])' "$BATS_TEST_TMPDIR/re.html"
	assert_output "$want"
}

@test "several targets: a folder per scenario and target, one index for all; names resolve or are refused" {
	# no --out: the call's own folder results/run-TIME, an older index kept
	mkdir -p "$BATS_TEST_TMPDIR/cwd/results"
	echo older >"$BATS_TEST_TMPDIR/cwd/results/index.html"
	cd "$BATS_TEST_TMPDIR/cwd"
	run -0 "$FALLACY" run "$REPO/tests/data/scenarios/smoke.yaml" --target http --target redis
	assert_output --regexp 'smoke +http +pass'
	assert_output --regexp 'smoke +redis +pass'
	assert_equal "$(cat results/index.html)" older
	two=$(ls -d "$PWD"/results/run-*)
	assert_output --partial "2 runs, listed in results/run-"
	[ -s "$two/smoke-http/summary.json" ]
	[ -s "$two/smoke-redis/summary.json" ]
	run -0 xmllint --html --xpath 'count(//table/tr[td])' "$two/index.html"
	assert_output 2
	cd "$REPO"
	run -0 "$FALLACY" run --dry-run smoke --target http --target redis
	assert_output --partial "against target $REPO/scenarios/targets/http.yaml"
	assert_output --partial "against target $REPO/scenarios/targets/redis.yaml"
	run -2 "$FALLACY" run smoke --target htp
	assert_output --partial "htp: no such target file or name (did you mean 'http'?)"
	run -2 "$FALLACY" run smok --target http
	assert_output --partial "smok: no such scenario file or name (did you mean 'smoke'?)"
}

# Debian's chromium, installed for this test only when missing.
chromium_or_skip() {
	if ! command -v chromium >/dev/null; then
		make -C "$REPO" -s deps-browser >"$BATS_TEST_TMPDIR/deps.log" 2>&1 ||
			skip "chromium is not installed and make deps-browser failed: $(tail -1 "$BATS_TEST_TMPDIR/deps.log")"
	fi
	command -v chromium >/dev/null || skip "chromium is not installed (make deps-browser)"
}

headless() {
	timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$BATS_TEST_TMPDIR/profile" "$@" 2>"$BATS_TEST_TMPDIR/chromium.log"
}

@test "report.html in headless Chromium: a screenshot, lanes per node, counters over time, the fault window, no external URL" {
	chromium_or_skip
	page="$RUNS/impossible/report.html"
	# nothing outside the page: no URL, no script, no external resource
	run grep -nE 'https?://|<script|src=|href=|@import|url\(' "$page"
	assert_failure
	headless --window-size=1000,2600 --screenshot="$BATS_TEST_TMPDIR/report.png" "file://$page"
	[ -s "$BATS_TEST_TMPDIR/report.png" ] || fail "no screenshot: $(tail -5 "$BATS_TEST_TMPDIR/chromium.log")"
	[ "$(head -c 8 "$BATS_TEST_TMPDIR/report.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
	[ "$(stat -c %s "$BATS_TEST_TMPDIR/report.png")" -gt 20000 ]
	# the DOM as Chromium built it
	headless --dump-dom "file://$page" >"$BATS_TEST_TMPDIR/dom.html"
	dom="$BATS_TEST_TMPDIR/dom.html"
	for chart in latency throughput lanes packets bytes; do
		grep -q "data-chart=\"$chart\"" "$dom" || fail "no $chart chart"
	done
	for n in n1 n2 n3; do
		grep -q "class=\"lane\" data-node=\"$n\"" "$dom" || fail "no latency lane for $n"
	done
	for series in dropped delayed bytes; do
		grep -q "data-series=\"$series\"" "$dom" || fail "no $series series"
	done
	# the fault window is shaded in every chart (lanes: once per lane)
	run -0 grep -o 'class="fault" data-id="blackout"' "$dom"
	[ "${#lines[@]}" -ge 7 ]
	# the dropped series rises during the window: the loss fault dropped packets
	run -0 jq -s '[.[] | .faults[] | select(.id == "blackout") | .dropped] | max' "$RUNS/impossible/fault-counters.jsonl"
	[ "$output" -gt 0 ]
}
