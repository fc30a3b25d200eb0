#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Least privilege: the supervisor drops the capabilities it does not need
# after setup; the state folder is 0700 and the control socket 0600, root
# only, and a request from anybody else is refused by SO_PEERCRED even if
# the modes were opened; `run` starts the target as --user, or as the sudo
# user, and the target file's user: wins over sudo.

bats_require_minimum_version 1.5.0
load test_helper/common

setup() {
	fl_require_root
	LAB=$(fl_lab_name p)
	OUT="$BATS_TEST_TMPDIR/results"
}

teardown() {
	fl_cleanup_all
}

sup_pid() {
	pgrep -f "__supervise $LAB\$"
}

# cap_has HEXMASK BIT: the capability set has that bit
cap_has() {
	local v=$((16#$1))
	[ $(((v >> $2) & 1)) -eq 1 ]
}

@test "a lab's supervisor keeps only the capabilities it needs, and its faults still work" {
	run -0 "$FALLACY" lab up "$LAB" --nodes 2
	pid=$(sup_pid)
	eff=$(awk '$1 == "CapEff:" { print $2 }' "/proc/$pid/status")
	bnd=$(awk '$1 == "CapBnd:" { print $2 }' "/proc/$pid/status")
	echo "supervisor CapEff $eff CapBnd $bnd"
	# gone: chown 0, setgid 6, setuid 7, sys_module 16, sys_rawio 17,
	# sys_ptrace 19, sys_boot 22, sys_time 25, mknod 27, syslog 34
	for bit in 0 6 7 16 17 19 22 25 27 34; do
		! cap_has "$eff" "$bit" || fail "capability $bit still effective"
		! cap_has "$bnd" "$bit" || fail "capability $bit still in the bounding set"
	done
	# kept: net_admin 12, sys_admin 21
	cap_has "$eff" 12
	cap_has "$eff" 21
	run -0 "$FALLACY" fault add "$LAB" partition n1 n2
	run -1 ip netns exec "fl-$LAB.n1" ping -c 2 -i 0.2 -W 1 198.18.0.2
	run -0 "$FALLACY" fault add "$LAB" delay 30ms --to n1
	run -0 "$FALLACY" fault clear "$LAB"
	fl_wait_until 20 ip netns exec "fl-$LAB.n1" ping -c 1 -W 1 198.18.0.2
}

@test "the state folder is 0700 root and the control socket 0600 root" {
	run -0 "$FALLACY" lab up "$LAB" --nodes 1
	run -0 stat -c '%a %U' "$FALLACY_RUN_DIR/$LAB" "$FALLACY_RUN_DIR/$LAB/ctl.sock"
	assert_output "700 root
600 root"
}

@test "SO_PEERCRED: a request from a user who is not root is refused even through an opened socket" {
	run -0 "$FALLACY" lab up "$LAB" --nodes 2
	run -0 "$FALLACY" fault add "$LAB" loss 5% --id keep
	modes=$(stat -c %a "$FALLACY_RUN_DIR" "$FALLACY_RUN_DIR/$LAB" "$FALLACY_RUN_DIR/$LAB/ctl.sock" | xargs)
	chmod 0711 "$FALLACY_RUN_DIR" "$FALLACY_RUN_DIR/$LAB"
	chmod 0666 "$FALLACY_RUN_DIR/$LAB/ctl.sock"
	# a "clear" request in the wire format (session.c): u32 length, 't', words
	# (nobody cannot walk the test's own 0700 temporary folders: python
	# enters the session folder as root, then becomes nobody and connects)
	run /usr/bin/python3 -c '
import os, socket, struct, sys
os.chdir(os.path.dirname(sys.argv[1]))
os.setgroups([])
os.setgid(65534)
os.setuid(65534)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect("ctl.sock")
body = b"tclear\0"
try:  # the supervisor may answer and close before it reads a byte
    s.sendall(struct.pack("=I", len(body)) + body)
except BrokenPipeError:
    pass
h = b""
while len(h) < 12:
    c = s.recv(12 - len(h))
    if not c:
        break
    h += c
st, ol, ml = struct.unpack("=III", h)
msg = b""
while len(msg) < ol + ml:
    c = s.recv(4096)
    if not c:
        break
    msg += c
print(st, msg.decode())' "$FALLACY_RUN_DIR/$LAB/ctl.sock"
	read -r m_run m_lab m_sock <<<"$modes"
	chmod "$m_run" "$FALLACY_RUN_DIR"
	chmod "$m_lab" "$FALLACY_RUN_DIR/$LAB"
	chmod "$m_sock" "$FALLACY_RUN_DIR/$LAB/ctl.sock"
	assert_success
	assert_output --partial "2 fault: only root may talk to this supervisor"
	run -0 "$FALLACY" fault list "$LAB"
	assert_output --partial "keep"
}

# the http target as a user: its three servers show up under that user
runs_as() { # runs_as USER LAB
	pgrep -u "$1" -f "8080.*/tmp/fallacy-$2\.[0-9a-f]{8}/" | wc -l
}

start_run() { # start_run LAB [ENV=V...] -- [RUN ARGS...]
	local lab=$1 envs=()
	shift
	while [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	shift
	env "${envs[@]}" "$FALLACY" run tests/data/scenarios/smoke.yaml --out "$OUT" --lab "$lab" \
		"$@" >"$BATS_TEST_TMPDIR/out" 2>&1 &
	RUN_PID=$!
	fl_wait_until 60 grep -q '"event":"start"' "$OUT/events.jsonl"
}

# The run ends with a verdict: exit 0 (checks passed) or 1 (checks failed),
# never an error; the target became ready (every node's server answered
# its ready check, as the user it runs as). Whether the probes' 1 s
# timeouts were met is speed, not privilege: a CI machine with fork+exec
# at 30 ms had none of the 43 probes of one 3 s run answered in time.
finish_run() {
	local rc=0
	wait "$RUN_PID" || rc=$?
	[ "$rc" -le 1 ] || { cat "$BATS_TEST_TMPDIR/out"; fail "run exited $rc"; }
	run -0 jq -r '"\(.result): \([.checks[] | "\(.name) \(.pass)"] | join(", "))"' "$OUT/summary.json"
	echo "$output"
	if [ "$rc" -eq 0 ]; then assert_output --regexp '^pass: '; else assert_output --regexp '^fail: '; fi
	run -0 grep -c '"event":"ready"' "$OUT/events.jsonl"
}

@test "run --user nobody starts the target's processes as nobody" {
	start_run "$LAB" -- --target scenarios/targets/http.yaml --user nobody
	[ "$(runs_as nobody "$LAB")" -eq 3 ]
	finish_run
	fl_assert_lab_gone "$LAB"
}

@test "run under sudo starts the target as the sudo user; --user root keeps root; the target's user: wins" {
	start_run "$LAB" SUDO_USER=nobody SUDO_UID=65534 SUDO_GID=65534 -- \
		--target scenarios/targets/http.yaml
	[ "$(runs_as nobody "$LAB")" -eq 3 ]
	finish_run
	grep -q "the target runs as nobody (the sudo user" "$BATS_TEST_TMPDIR/out"
	rm -rf "$OUT"
	L2=$(fl_lab_name p)
	start_run "$L2" SUDO_USER=nobody SUDO_UID=65534 SUDO_GID=65534 -- \
		--target scenarios/targets/http.yaml --user root
	[ "$(runs_as root "$L2")" -eq 3 ]
	finish_run
	rm -rf "$OUT"
	L3=$(fl_lab_name p)
	start_run "$L3" SUDO_USER=root SUDO_UID=0 -- --target tests/data/scenarios/http-nobody.yaml
	[ "$(runs_as nobody "$L3")" -eq 3 ]
	finish_run
}

@test "run --user with an unknown user is refused before anything is made" {
	run -2 "$FALLACY" run tests/data/scenarios/smoke.yaml --target scenarios/targets/http.yaml \
		--user no-such-user-fl --lab "$LAB"
	assert_output --partial "--user no-such-user-fl: no such user"
	run ip netns list
	refute_output --partial "fl-$LAB"
}
