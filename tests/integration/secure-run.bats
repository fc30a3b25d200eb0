#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# "The network is secure" as scenarios: the plaintext and secure checks over
# a run's captures, cross-checked with tshark; tamper, replay and inject
# steps against redis with and without TLS; the run's certificates are
# removed with its lab, also after kill -9.

bats_require_minimum_version 1.5.0
load test_helper/common

setup() {
	fl_require_root
	command -v redis-server >/dev/null || skip "redis-server not installed"
	OUT=$BATS_TEST_TMPDIR/out
}

teardown() {
	fl_cleanup_all
}

shark() {
	tshark "$@" 2>/dev/null
}

@test "plain redis: the AUTH password in the capture fails plaintext with the packet tshark finds, not TLS, wrong values stored" {
	lab=$(fl_lab_name sr)
	run -1 "$FALLACY" run tests/data/scenarios/secure-short.yaml --target scenarios/targets/redis.yaml \
		--out "$OUT" --lab "$lab"
	run -0 jq -r '.checks[] | "\(.pass) \(.kind): \(.message)"' "$OUT/summary.json"
	echo "$output"
	assert_line --regexp "^false plaintext: measured [1-9][0-9]* packets \(first 's3cr3t' in pcap/n[1-3]\.pcap packet [0-9]+ at "
	assert_line --regexp '^false secure: measured ([1-9][0-9]*) of \1 connections'
	assert_line --regexp '^false command: measured exit 1'
	# availability during the replay is speed, not security: a busy
	# machine's clients time out (soak run, 2 Dec); it is only reported
	assert_line --regexp '^(true|false) availability: '
	# the packet the check names is the first one of that file with the password
	where=$(jq -r '.checks[0].message' "$OUT/summary.json" | sed -n 's/.*in \(pcap\/n[1-3]\.pcap\) packet \([0-9]*\) at .*/\1 \2/p')
	read -r file num <<<"$where"
	first=$(shark -r "$OUT/$file" -Y 'tcp.port == 6379 && frame contains "s3cr3t"' -T fields -e frame.number | head -1)
	echo "check: $file packet $num; tshark: packet $first"
	[ "$num" = "$first" ]
	run -0 shark -r "$OUT/$file" -Y "frame.number == $num" -T fields -e tcp.payload
	assert_output --partial "$(printf 'AUTH' | od -An -tx1 | tr -d ' \n')"
	# tampered requests were accepted: the verify command saw wrong values
	run -0 grep -c '^wrong: ' "$OUT/logs/check-n1.log"
	# the steps ran: tamper and replay counted, the forged segments were sent
	run -0 jq -s -e '[.[] | select(.event == "heal" and .id == "tamper")][0].counters[0].counters.tampered > 0' "$OUT/events.jsonl"
	run -0 jq -s -e '[.[] | select(.event == "heal" and .id == "replay")][0].counters[0].counters.replayed > 0' "$OUT/events.jsonl"
	run -0 jq -s -e '[.[] | select(.event == "inject" and .id == "forge")] | length == 1' "$OUT/events.jsonl"
	# every line, the inject step's included, has the documented shape
	run -0 jq -r -f tests/integration/test_helper/events.jq "$OUT/events.jsonl"
	assert_output ''
	fl_assert_lab_gone "$lab"
}

@test "redis over TLS: the same run passes plaintext, secure and the stored values; the certificates go with the lab" {
	command -v openssl >/dev/null || skip "openssl not installed"
	lab=$(fl_lab_name st)
	# exit 1 only for the availability check: on a busy machine the
	# replay window's clients may time out (soak run, 1 Dec: 0.68); the
	# security checks are what this test is about
	run "$FALLACY" run tests/data/scenarios/secure-short.yaml --target scenarios/targets/redis-tls.yaml \
		--out "$OUT" --lab "$lab"
	echo "$output"
	[ "$status" -le 1 ] || fail "run: exit $status"
	run -0 jq -r '.checks[] | "\(.pass) \(.kind): \(.message)"' "$OUT/summary.json"
	echo "$output"
	assert_line --regexp '^true plaintext: measured 0 packets \(none in [1-9][0-9]* payloads'
	assert_line --regexp '^true secure: measured 0 of [1-9][0-9]* connections'
	assert_line --regexp '^true command: measured exit 0'
	# tshark agrees: the first payload of every TCP stream on 6379 that
	# starts in the capture, each way, is a TLS record (type 0x14..0x18,
	# version 3.x); the forged segments belong to no connection; no password
	for f in "$OUT"/pcap/*.pcap; do
		shark -r "$f" -Y 'tcp.port == 6379' -T fields -e tcp.stream -e ip.src -e tcp.flags.syn \
			-e tcp.len -e tcp.payload |
			awk '$3 == 1 { syn[$1] = 1 }
			     $4 > 0 && syn[$1] && !seen[$1 " " $2]++ {
				n++; if ($5 !~ /^1[45678]03/) { bad++; print "not TLS:", $0 } }
			     END { print n " first payloads, " bad + 0 " not TLS"; exit (bad > 0 || n == 0) }'
		run -0 shark -r "$f" -Y 'frame contains "s3cr3t"'
		assert_output ''
	done
	# a CA and one certificate per node were made for the run
	run -0 grep -c '^# fallacy: openssl req -x509 ' "$OUT/logs/tls.log"
	assert_output 4
	fl_assert_lab_gone "$lab"
	run -1 compgen -G "/tmp/fallacy-$lab.*"
}

@test "kill -9 of a run with a TLS target, then cleanup --all: the run's keys and certificates are gone" {
	command -v openssl >/dev/null || skip "openssl not installed"
	lab=$(fl_lab_name sk)
	"$FALLACY" run tests/data/scenarios/secure-long.yaml --target scenarios/targets/redis-tls.yaml \
		--out "$OUT" --lab "$lab" >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 300); do
		grep -q '"event":"start"' "$OUT/events.jsonl" 2>/dev/null && break
		sleep 0.1
	done
	run -0 compgen -G "/tmp/fallacy-$lab.*/tls/n1.key"
	kill -9 "$pid"
	wait "$pid" || true
	run -0 "$FALLACY" cleanup --all
	fl_assert_lab_gone "$lab"
	run -1 compgen -G "/tmp/fallacy-$lab.*"
	run -1 pgrep -f "redis-server.*/tmp/fallacy-$lab\."
}
