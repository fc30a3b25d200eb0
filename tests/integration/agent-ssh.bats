#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The ssh carrier: a "host" namespace H on a veth on 198.18.252.0/24 runs
# its own sshd (host key and authorized key made per test, listening on
# that address only); a controller in namespace C calls
# `fallacy agent call --ssh` through it to put, list and reset faults on a
# namespace pair A-B the host can see, measured with ping from A; and an
# inventory naming the host (fallacy agent inventory --check, --put --hold).

bats_require_minimum_version 1.5.0
load test_helper/common

setup() {
	fl_require_root
	[ -x /usr/sbin/sshd ] || skip "openssh-server is not installed (make deps)"
	command -v ssh-keygen >/dev/null || skip "openssh-client is not installed (make deps)"
	local s=$$$((RANDOM % 1000))
	C=asc$s H=ash$s A=asa$s B=asb$s
	for ns in "$C" "$H" "$A" "$B"; do ip netns add "$ns"; done
	ip link add "sc$$" netns "$C" type veth peer name "sh$$" netns "$H"
	ip -n "$C" addr add 198.18.252.1/24 dev "sc$$"
	ip -n "$H" addr add 198.18.252.2/24 dev "sh$$"
	ip link add "sa$$" netns "$A" type veth peer name "sb$$" netns "$B"
	ip -n "$A" addr add 198.18.251.1/24 dev "sa$$"
	ip -n "$B" addr add 198.18.251.2/24 dev "sb$$"
	VB=sb$$
	for dev in "$C sc$$" "$H sh$$" "$A sa$$" "$B sb$$"; do
		set -- $dev
		ip -n "$1" link set "$2" up
		ip -n "$1" link set lo up
	done
	TMP=$(mktemp -d /tmp/fallacy-agent-ssh.XXXXXX)
	SSHD_PID= CALL_PID= CALLER=
	sshd_start
	BEFORE=$(tc_state)
}

teardown() {
	[ -n "$CALL_PID" ] && kill -9 "$CALL_PID" 2>/dev/null
	[ -n "$CALLER" ] && kill -9 "$CALLER" 2>/dev/null
	[ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null
	fl_cleanup_all
	for ns in "$C" "$H" "$A" "$B"; do ip netns del "$ns" 2>/dev/null || true; done
	rm -rf "$TMP"
}

tc_state() {
	tc -n "$B" -j qdisc show
	tc -n "$B" -j filter show dev "$VB" ingress
	tc -n "$B" -j filter show dev "$VB" egress
}

# sshd in H on 198.18.252.2:2222 only, keys of this test's own; the client
# options in SSH_OPTS (for agent call: -o OPT...).
sshd_start() {
	ssh-keygen -q -t ed25519 -N '' -C host -f "$TMP/host_key"
	ssh-keygen -q -t ed25519 -N '' -C controller -f "$TMP/id"
	ssh-keygen -q -t ed25519 -N '' -C stranger -f "$TMP/stranger"
	cp "$TMP/id.pub" "$TMP/authorized_keys"
	cat >"$TMP/sshd_config" <<-EOF
		ListenAddress 198.18.252.2:2222
		HostKey $TMP/host_key
		PidFile $TMP/sshd.pid
		AuthorizedKeysFile $TMP/authorized_keys
		PermitRootLogin prohibit-password
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		UsePAM no
		StrictModes no
		LogLevel VERBOSE
	EOF
	mkdir -p /run/sshd
	ip netns exec "$H" /usr/sbin/sshd -D -e -f "$TMP/sshd_config" 2>"$TMP/sshd.log" &
	SSHD_PID=$!
	fl_wait_until 20 fl_listening "$H" t 2222
	echo "[198.18.252.2]:2222 $(cut -d' ' -f1,2 "$TMP/host_key.pub")" >"$TMP/known_hosts"
	SSH_OPTS=(-o Port=2222 -o "IdentityFile=$TMP/id" -o IdentitiesOnly=yes
		-o "UserKnownHostsFile=$TMP/known_hosts" -o GlobalKnownHostsFile=/dev/null
		-o StrictHostKeyChecking=yes -o ConnectTimeout=20)
	REMOTE="env FALLACY_RUN_DIR=$FALLACY_RUN_DIR $FALLACY -v agent --stdio"
}

# fallacy agent call --ssh root@H from the controller's namespace
call() {
	ip netns exec "$C" "$FALLACY" agent call --ssh root@198.18.252.2 "${SSH_OPTS[@]}" \
		--remote "$REMOTE" "$@"
}

# A session of requests over one ssh connection, in a coprocess whose
# pid (in $CALLER) is fallacy's own.
call_start() {
	coproc CALL {
		exec ip netns exec "$C" "$FALLACY" agent call --ssh root@198.18.252.2 \
			"${SSH_OPTS[@]}" --remote "$REMOTE" --stdin 2>"$TMP/call.log"
	}
	CALLER=$CALL_PID CALL_IN=${CALL[1]} CALL_OUT=${CALL[0]}
}

# Processes in H other than the listening sshd: the agents of connections.
agents_on_host() {
	ip netns pids "$H" | grep -vx "$SSHD_PID" || true
}

no_agents_on_host() {
	[ -z "$(agents_on_host)" ]
}

ask() {
	echo "$1" >&"$CALL_IN"
	ANSWER=
	read -r -t 60 ANSWER <&"$CALL_OUT" ||
		fail "no answer to $1 (call: $(cat "$TMP/call.log"); sshd: $(cat "$TMP/sshd.log"))"
	echo "> $1" >&2
	echo "< $ANSWER" >&2
	[ "$(jq -r .ok <<<"$ANSWER")" = true ] || fail "refused: $ANSWER"
}

min_rtt() {
	ip netns exec "$A" ping -n -q -c "${1:-3}" -i 0.2 -W 3 198.18.251.2 |
		sed -n 's/^rtt [^=]*= \([0-9.]*\)\/.*/\1/p' | awk '{ print int($1) }'
}

undelayed() {
	local r
	r=$(min_rtt 2)
	[ -n "$r" ]
	[ "$r" -lt 20 ]
}

@test "through ssh: put a delay on the host's namespace, ping sees it, list counts it, reset removes it" {
	call_start
	ask '{"verb":"version"}'
	ask '{"verb":"targets"}'
	jq -e ".targets[] | select(.netns == \"$B\")" <<<"$ANSWER"
	ask '{"verb":"put","target":{"netns":"'"$B"'"},"faults":["delay 50ms --proto icmp"],"lease":"20s"}'
	rtt=$(min_rtt 3)
	echo "min rtt with the delay put over ssh: $rtt ms"
	[ "$rtt" -ge 45 ]
	ask '{"verb":"list","target":{"netns":"'"$B"'"}}'
	delayed=$(jq -r '.faults[0].counters.delayed' <<<"$ANSWER")
	echo "delayed: $delayed"
	[ "$delayed" -ge 3 ]
	ask '{"verb":"reset","target":{"netns":"'"$B"'"}}'
	[ "$(jq -c .removed <<<"$ANSWER")" = '["f1"]' ]
	fl_wait_until 30 undelayed
	diff <(echo "$BEFORE") <(echo "$(tc_state)")
	# the end of the controller's input ends the connection and the agent
	exec {CALL_IN}>&-
	fl_wait_until 30 bash -c "! kill -0 $CALLER 2>/dev/null"
	wait "$CALLER"
	CALLER=
	fl_wait_until 30 no_agents_on_host
	grep -q "Accepted publickey for root" "$TMP/sshd.log"
}

@test "a one-shot put over ssh lasts its lease, then the host's agent removes it and the call exits 0" {
	call put '{"target":{"netns":"'"$B"'"},"faults":["delay 50ms --proto icmp"],"lease":"3s"}' \
		>"$TMP/put.out" 2>"$TMP/put.err" &
	CALL_PID=$!
	fl_wait_until 60 grep -q '"ok":true' "$TMP/put.out"
	rtt=$(min_rtt 2)
	echo "min rtt during the one-shot put: $rtt ms"
	[ "$rtt" -ge 45 ] || undelayed # a machine slow enough may see the lease end first
	fl_wait_until 60 bash -c "! kill -0 $CALL_PID 2>/dev/null"
	wait "$CALL_PID"
	CALL_PID=
	undelayed
	diff <(echo "$BEFORE") <(echo "$(tc_state)")
	[ ! -e "$FALLACY_RUN_DIR/@netns-$B" ]
}

@test "kill -9 of the controller mid-fault: the host's agent sees the connection end and the fault ends with its lease" {
	call_start
	ask '{"verb":"put","target":{"netns":"'"$B"'"},"faults":["delay 50ms --proto icmp","loss 100% --proto udp"],"lease":"3s"}'
	[ "$(min_rtt 2)" -ge 45 ]
	[ -n "$(agents_on_host)" ]
	kill -9 "$CALLER"
	CALLER=
	fl_wait_until 30 undelayed
	# the host's agent saw its input end: it waited out the lease, removed
	# the faults and exited (with its session on the host)
	fl_wait_until 30 no_agents_on_host
	fl_wait_until 30 test ! -e "$FALLACY_RUN_DIR/@netns-$B"
	diff <(echo "$BEFORE") <(echo "$(tc_state)")
}

@test "--hold renews a put past its lease until SIGTERM, then resets; killed, it lets the faults end with the lease" {
	put='{"target":{"netns":"'"$B"'"},"faults":["delay 50ms --proto icmp"],"lease":"3s"}'
	ip netns exec "$C" "$FALLACY" -v agent call --ssh root@198.18.252.2 "${SSH_OPTS[@]}" \
		--remote "$REMOTE" --hold put "$put" >"$TMP/hold.out" 2>"$TMP/hold.err" &
	CALLER=$!
	fl_wait_until 60 grep -q '"ok":true' "$TMP/hold.out"
	sleep 7 # more than twice the lease
	rtt=$(min_rtt 2)
	echo "min rtt 7 s into a held 3 s lease: $rtt ms"
	[ "$rtt" -ge 45 ]
	kill -TERM "$CALLER"
	fl_wait_until 30 bash -c "! kill -0 $CALLER 2>/dev/null"
	wait "$CALLER"
	CALLER=
	grep -q '"verb":"reset".*"removed":\["f1"\]' "$TMP/hold.out"
	undelayed
	# held again, then the controller is killed: nobody renews
	ip netns exec "$C" "$FALLACY" agent call --ssh root@198.18.252.2 "${SSH_OPTS[@]}" \
		--remote "$REMOTE" --hold put "$put" >"$TMP/hold2.out" 2>&1 &
	CALLER=$!
	fl_wait_until 60 grep -q '"ok":true' "$TMP/hold2.out"
	[ "$(min_rtt 2)" -ge 45 ]
	kill -9 "$CALLER"
	CALLER=
	fl_wait_until 30 undelayed
	fl_wait_until 30 no_agents_on_host
	diff <(echo "$BEFORE") <(echo "$(tc_state)")
}

@test "kill -9 of the controller mid-partition: the partition ends within the lease, the control path never crossed it" {
	call_start
	ask '{"verb":"put","target":{"netns":"'"$B"'"},"faults":["partition"],"lease":"3s"}'
	run -1 ip netns exec "$A" ping -n -c 2 -i 0.2 -W 1 198.18.251.2
	ask '{"verb":"renew","target":{"netns":"'"$B"'"}}' # the agent still answers
	kill -9 "$CALLER"
	CALLER=
	fl_wait_until 30 ip netns exec "$A" ping -n -q -c 1 -W 1 198.18.251.2
	fl_wait_until 30 no_agents_on_host
	diff <(echo "$BEFORE") <(echo "$(tc_state)")
}

@test "a partition of the host's own namespace cuts the control path: it ends with its lease, and the held renewals are refused" {
	call_start
	ask '{"verb":"version"}'
	# the answer itself crosses the partition: it arrives once it ends
	ask '{"verb":"put","target":{"netns":"'"$H"'"},"faults":["partition"],"lease":"3s"}'
	fl_wait_until 30 grep -q "lease on @netns-$H ran out" "$TMP/call.log"
	fl_wait_until 30 ip netns exec "$C" ping -n -q -c 1 -W 1 198.18.252.2
	echo '{"verb":"renew","target":{"netns":"'"$H"'"}}' >&"$CALL_IN"
	read -r -t 60 ANSWER <&"$CALL_OUT"
	echo "< $ANSWER"
	[[ "$ANSWER" == *'"ok":false'*"nothing put on @netns-$H"* ]]
	fl_wait_until 30 test ! -e "$FALLACY_RUN_DIR/@netns-$H"
}

@test "a key the host does not know: the call exits 2 with ssh's reason, and nothing changes" {
	SSH_OPTS=(-o Port=2222 -o "IdentityFile=$TMP/stranger" -o IdentitiesOnly=yes
		-o "UserKnownHostsFile=$TMP/known_hosts" -o GlobalKnownHostsFile=/dev/null
		-o StrictHostKeyChecking=yes -o ConnectTimeout=20)
	run -2 call put '{"target":{"netns":"'"$B"'"},"faults":["loss 100%"]}'
	assert_output --partial "Permission denied"
	assert_output --partial "the connection ended"
	[ ! -e "$FALLACY_RUN_DIR/@netns-$B" ]
	diff <(echo "$BEFORE") <(echo "$(tc_state)")
	# and --ssh takes a host, never an option
	run -2 "$FALLACY" agent call --ssh -oProxyCommand=true version
	assert_output --partial "is not a host"
}

@test "an inventory of hosts over ssh: --check sees the host's namespace; --put --hold delays ping past the lease; SIGTERM resets" {
	{
		echo "hosts:"
		echo "  - name: h"
		echo "    ssh: root@198.18.252.2"
		echo "    ssh_options:"
		for ((i = 1; i < ${#SSH_OPTS[@]}; i += 2)); do echo "      - \"${SSH_OPTS[i]}\""; done
		echo "    remote: \"$REMOTE\""
		echo "    netns: $B"
	} >"$TMP/hosts.yaml"
	run -0 --separate-stderr ip netns exec "$C" "$FALLACY" agent inventory "$TMP/hosts.yaml" --check
	echo "$output"
	[ "$output" = "node n1 host h target {\"netns\":\"$B\"} via ssh ssh root@198.18.252.2 check ok" ]
	ip netns exec "$C" "$FALLACY" agent inventory "$TMP/hosts.yaml" --lease 3s --hold \
		--put h "delay 50ms --proto icmp" >"$TMP/inv.out" 2>"$TMP/inv.err" &
	CALLER=$!
	fl_wait_until 60 grep -q '"ok":true' "$TMP/inv.out" || fail "no answer: $(cat "$TMP/inv.err")"
	sleep 5 # longer than the lease: renewed over ssh
	r=$(min_rtt 3)
	echo "min rtt after 5 s of a 3 s lease: $r ms"
	[ "$r" -ge 45 ]
	kill -TERM "$CALLER"
	st=0
	wait "$CALLER" || st=$?
	CALLER=
	echo "status $st; $(cat "$TMP/inv.err")"
	[ "$st" -eq 0 ]
	undelayed
	fl_wait_until 30 no_agents_on_host
	diff <(echo "$BEFORE") <(echo "$(tc_state)")
}
