#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# fallacy agent --stdio in a coprocess, against a namespace pair on
# 198.18.0.0/15: put delay and loss (measured with ping and the counters),
# the same put again (nothing changes, counters kept), a smaller set, a
# lease nobody renews (the faults end by themselves), kill -9 of the agent
# (the faults end with their lease, fallacy cleanup leaves nothing, and
# the next agent ends the session it left).

bats_require_minimum_version 1.5.0
load test_helper/common

setup() {
	fl_require_root
	A=aga$$$((RANDOM % 1000)) B=agb$$$((RANDOM % 1000))
	VA=aa$$ VB=ab$$
	ip netns add "$A"
	ip netns add "$B"
	ip link add "$VA" netns "$A" type veth peer name "$VB" netns "$B"
	ip -n "$A" addr add 198.18.253.1/24 dev "$VA"
	ip -n "$B" addr add 198.18.253.2/24 dev "$VB"
	ip -n "$A" link set "$VA" up
	ip -n "$B" link set "$VB" up
	ip -n "$B" link set lo up
	TMP=$(mktemp -d /tmp/fallacy-agent.XXXXXX)
	AGENT_PID=
	BEFORE=$(tc_state)
}

teardown() {
	[ -n "$AGENT_PID" ] && kill -9 "$AGENT_PID" 2>/dev/null
	fl_cleanup_all
	ip netns del "$A" 2>/dev/null || true
	ip netns del "$B" 2>/dev/null || true
	rm -rf "$TMP"
}

tc_state() {
	tc -n "$B" -j qdisc show
	tc -n "$B" -j filter show dev "$VB" ingress
	tc -n "$B" -j filter show dev "$VB" egress
}

# The agent in a coprocess; its log in $TMP/agent.log.
agent_start() {
	coproc AGENT { exec "$FALLACY" -v agent --stdio 2>"$TMP/agent.log"; }
	AGENT_IN=${AGENT[1]} AGENT_OUT=${AGENT[0]}
}

# ask JSON: one request, its answer line in $ANSWER (printed for the log).
ask() {
	echo "$1" >&"$AGENT_IN"
	ANSWER=
	read -r -t 60 ANSWER <&"$AGENT_OUT" || fail "no answer to $1 (agent log: $(cat "$TMP/agent.log"))"
	echo "> $1" >&2
	echo "< $ANSWER" >&2
}

ok() {
	[ "$(jq -r .ok <<<"$ANSWER")" = true ] || fail "refused: $ANSWER"
}

TARGET='{"netns":"'
put() { # put LEASE FAULT...: the faults as a JSON list
	local lease=$1
	shift
	ask "{\"verb\":\"put\",\"target\":$TARGET$B\"},\"lease\":\"$lease\",\"faults\":$(jq -cn '$ARGS.positional' --args "$@")}"
}

# The smallest round trip of COUNT pings from A to B, in whole ms.
min_rtt() {
	ip netns exec "$A" ping -n -q -c "${1:-5}" -i 0.2 -W 3 198.18.253.2 |
		sed -n 's/^rtt [^=]*= \([0-9.]*\)\/.*/\1/p' | awk '{ print int($1) }'
}

# The round trip is under 20 ms again (no delay left)
undelayed() {
	local r
	r=$(min_rtt 2)
	[ -n "$r" ]
	[ "$r" -lt 20 ]
}

# A counter of fault ID on B, from the agent's list.
counter() {
	ask "{\"verb\":\"list\",\"target\":$TARGET$B\"}}"
	jq -r ".faults[] | select(.id == \"$1\") | .counters.$2" <<<"$ANSWER"
}

@test "put delay and loss: ping sees both; the same put again keeps the faults and their counters; a smaller set keeps only the delay" {
	agent_start
	put 30s "delay 50ms --proto icmp" "loss 20% --proto icmp --dir in"
	ok
	[ "$(jq -c .added <<<"$ANSWER")" = '["f1","f2"]' ]
	# measured: 200 echo requests, each delayed, a fifth of them dropped
	read -r sent recv < <(ip netns exec "$A" ping -n -q -c 200 -i 0.01 -W 3 198.18.253.2 |
		awk '/transmitted/ { print $1, $4 }')
	dropped=$(counter f2 dropped)
	delayed=$(counter f1 delayed)
	rtt=$(min_rtt 3) # after the counters: its echoes may be dropped too
	echo "sent $sent received $recv; dropped $dropped, delayed $delayed; min rtt $rtt ms"
	[ "$dropped" -eq $((sent - recv)) ]
	[ "$dropped" -ge 10 ]
	[ "$dropped" -le 80 ]
	[ "$rtt" -ge 45 ]
	[ "$delayed" -ge "$recv" ]
	# the same set again, in other words: nothing added or removed, counters kept
	put 30s "loss 20%  --proto icmp --dir in" "delay 50ms --proto icmp"
	ok
	[ "$(jq -c '[.added, .removed, .kept]' <<<"$ANSWER")" = '[[],[],["f2","f1"]]' ]
	[ "$(counter f2 dropped)" -ge "$dropped" ]
	[ "$(counter f1 delayed)" -ge "$delayed" ]
	# a smaller set: the loss goes, the delay stays
	put 30s "delay 50ms --proto icmp"
	ok
	[ "$(jq -c '[.added, .removed, .kept]' <<<"$ANSWER")" = '[[],["f2"],["f1"]]' ]
	read -r sent recv < <(ip netns exec "$A" ping -n -q -c 20 -i 0.05 -W 3 198.18.253.2 |
		awk '/transmitted/ { print $1, $4 }')
	rtt=$(min_rtt 3)
	echo "after the smaller put: sent $sent received $recv; min rtt $rtt ms"
	[ "$recv" -eq "$sent" ]
	[ "$rtt" -ge 45 ]
	# reset: B is as it was
	ask "{\"verb\":\"reset\",\"target\":$TARGET$B\"}}"
	ok
	[ "$(jq -c .removed <<<"$ANSWER")" = '["f1"]' ]
	fl_wait_until 30 undelayed
	diff <(echo "$BEFORE") <(echo "$(tc_state)")
	fl_wait_until 30 test ! -e "$FALLACY_RUN_DIR/@netns-$B"
}

@test "renewed, the faults stay; no longer renewed, they end within the lease and B is as it was" {
	agent_start
	put 3s "delay 50ms --proto icmp"
	ok
	# renewed every second for twice the lease: still delayed
	for _ in 1 2 3 4 5 6; do
		sleep 1
		ask "{\"verb\":\"renew\",\"target\":$TARGET$B\"}}"
		ok
	done
	rtt=$(min_rtt 2)
	echo "after 6 s of renewals: min rtt $rtt ms"
	[ "$rtt" -ge 45 ]
	# nobody renews: within the lease (plus a busy machine's margin) the
	# delay is gone, and the agent took everything away
	start=$(date +%s)
	fl_wait_until 30 undelayed
	echo "undelayed after $(($(date +%s) - start)) s (lease 3s)"
	fl_wait_until 30 grep -q "lease on @netns-$B ran out" "$TMP/agent.log"
	fl_wait_until 30 test ! -e "$FALLACY_RUN_DIR/@netns-$B"
	diff <(echo "$BEFORE") <(echo "$(tc_state)")
	ask "{\"verb\":\"renew\",\"target\":$TARGET$B\"}}"
	[ "$(jq -r .ok <<<"$ANSWER")" = false ]
	[[ "$ANSWER" == *"nothing put on @netns-$B"* ]]
}

@test "kill -9 of the agent: its faults end within the lease, and fallacy cleanup leaves nothing" {
	agent_start
	put 3s "delay 50ms --proto icmp" "loss 5% --proto udp"
	ok
	rtt=$(min_rtt 2)
	[ "$rtt" -ge 45 ]
	sup=$(awk '$1 == "pid" { print $2 }' "$FALLACY_RUN_DIR/@netns-$B/journal")
	kill -9 "$AGENT_PID"
	AGENT_PID=
	# no agent left to remove them: their own --duration (the lease) ends them
	fl_wait_until 30 undelayed
	run -0 "$FALLACY" cleanup --all
	diff <(echo "$BEFORE") <(echo "$(tc_state)")
	[ ! -e "$FALLACY_RUN_DIR/@netns-$B" ]
	[ ! -e "$FALLACY_RUN_DIR/agent-sessions" ]
	fl_wait_until 10 bash -c "! kill -0 $sup 2>/dev/null"
}

@test "kill -9 of the agent: the next agent to start ends the session it left, once its faults expired" {
	agent_start
	put 2s "delay 50ms --proto icmp"
	ok
	grep -q "^@netns-$B $AGENT_PID " "$FALLACY_RUN_DIR/agent-sessions"
	sup=$(awk '$1 == "pid" { print $2 }' "$FALLACY_RUN_DIR/@netns-$B/journal")
	kill -9 "$AGENT_PID"
	AGENT_PID=
	fl_wait_until 30 undelayed
	# the fault healed itself; its session is still up, empty
	kill -0 "$sup"
	[ -e "$FALLACY_RUN_DIR/@netns-$B" ]
	run -0 --separate-stderr "$FALLACY" -v agent --stdio <<<'{"verb":"version"}'
	echo "$stderr"
	[[ "$stderr" == *"ending @netns-$B, left by agent"* ]]
	fl_wait_until 10 bash -c "! kill -0 $sup 2>/dev/null"
	[ ! -e "$FALLACY_RUN_DIR/@netns-$B" ]
	[ ! -e "$FALLACY_RUN_DIR/agent-sessions" ]
	diff <(echo "$BEFORE") <(echo "$(tc_state)")
}

@test "SIGTERM: the agent removes its faults at once, long before their lease, and exits 0" {
	agent_start
	put 120s "delay 50ms --proto icmp"
	ok
	[ "$(min_rtt 2)" -ge 45 ]
	pid=$AGENT_PID
	kill -TERM "$pid"
	fl_wait_until 60 bash -c "! kill -0 $pid 2>/dev/null"
	wait "$pid"
	AGENT_PID=
	undelayed
	[ ! -e "$FALLACY_RUN_DIR/@netns-$B" ]
	diff <(echo "$BEFORE") <(echo "$(tc_state)")
}

@test "the end of stdin: the agent answers every line, waits for the lease, removes the faults and exits 0" {
	{
		echo '{"verb":"version","seq":1}'
		echo '{"verb":"put","target":{"netns":"'"$B"'"},"lease":"2s","faults":["delay 50ms --proto icmp"]}'
		printf '%s' '{"verb":"list"}' # the last line without its newline
	} >"$TMP/in"
	run -0 --separate-stderr "$FALLACY" agent --stdio <"$TMP/in"
	[ "${#lines[@]}" -eq 3 ]
	[ "$(jq -r .protocol <<<"${lines[0]}")" = 1 ]
	[ "$(jq -c .added <<<"${lines[1]}")" = '["f1"]' ]
	[ "$(jq -r '.targets[0].faults[0].kind' <<<"${lines[2]}")" = delay ]
	# it exited only after the lease ran out, and took its faults with it
	diff <(echo "$BEFORE") <(echo "$(tc_state)")
	[ ! -e "$FALLACY_RUN_DIR/@netns-$B" ]
}

@test "capture: start on B's interface, ping, stop: the pcap stays on the host with every echo request" {
	agent_start
	ask "{\"verb\":\"capture\",\"target\":$TARGET$B\"},\"capture\":{\"action\":\"start\",\"iface\":\"$VB\",\"filter\":\"icmp\",\"duration\":\"60s\"}}"
	ok
	id=$(jq -r .capture.id <<<"$ANSWER")
	file=$(jq -r .capture.file <<<"$ANSWER")
	[ -n "$id" ]
	[ "$file" != null ]
	# start answers once the capture is live: its file exists, and every
	# packet from now on is in it (no ping to wait for it to come up)
	[ -e "$file" ]
	run -0 ip netns exec "$A" ping -n -q -c 20 -i 0.05 -W 2 198.18.253.2
	ask "{\"verb\":\"capture\",\"target\":$TARGET$B\"},\"capture\":{\"action\":\"stop\",\"id\":\"$id\"}}"
	ok
	written=$(jq -r '.capture.summary.points[0].written' <<<"$ANSWER")
	requests=$(tcpdump -nr "$file" 'icmp[icmptype] == icmp-echo' 2>/dev/null | wc -l)
	echo "capture $id: $written packets written, $requests echo requests in $file"
	[ "$requests" -ge 20 ]
	[ "$written" -ge "$requests" ]
	rm -f "$file"
	ask "{\"verb\":\"capture\",\"target\":$TARGET$B\"},\"capture\":{\"action\":\"stop\",\"id\":\"$id\"}}"
	[ "$(jq -r .ok <<<"$ANSWER")" = false ]
	# an interface the target lacks: the capture ends at once, start says so
	ask "{\"verb\":\"capture\",\"target\":$TARGET$B\"},\"capture\":{\"action\":\"start\",\"iface\":\"nosuch0\"}}"
	[ "$(jq -r .ok <<<"$ANSWER")" = false ]
	[[ "$(jq -r .error <<<"$ANSWER")" == *"fallacy capture exited (status "*") before it captured"* ]]
}

@test "a process's namespace: targets lists it by pid; put by pid and by its /proc path is one target" {
	unshare -n sleep 120 &
	lone=$!
	fl_wait_until 10 bash -c "[ \"\$(stat -L -c %i /proc/$lone/ns/net)\" != \"\$(stat -L -c %i /proc/self/ns/net)\" ]"
	fl_bg_in_netns "$B" sleep 120
	inb=$BG_PID
	agent_start
	ask '{"verb":"targets"}'
	ok
	ino=$(stat -L -c %i "/proc/$lone/ns/net")
	jq -e ".targets[] | select(.inode == $ino) | .path == \"/proc/$lone/ns/net\"" <<<"$ANSWER"
	# B is listed once, by its name, not again by the pid of a process in it
	[ "$(jq "[.targets[] | select(.inode == $(stat -c %i "/run/netns/$B"))] | length" <<<"$ANSWER")" -eq 1 ]
	ask "{\"verb\":\"put\",\"target\":{\"pid\":$inb},\"lease\":\"30s\",\"faults\":[\"delay 50ms --proto icmp\"]}"
	ok
	[ "$(min_rtt 2)" -ge 45 ]
	ask "{\"verb\":\"put\",\"target\":{\"netns\":\"/proc/$inb/ns/net\"},\"lease\":\"30s\",\"faults\":[\"delay 50ms --proto icmp\"]}"
	ok
	[ "$(jq -c .kept <<<"$ANSWER")" = '["f1"]' ]
	ask "{\"verb\":\"reset\",\"target\":{\"pid\":$inb}}"
	ok
	fl_wait_until 30 undelayed
	kill "$lone" "$inb"
	diff <(echo "$BEFORE") <(echo "$(tc_state)")
	[ ! -e "$FALLACY_RUN_DIR/@pid-$inb" ]
}

@test "the Python controller keeps a put past its lease, and resets it when closed" {
	cat >"$TMP/ctl.py" <<-EOF
		import subprocess, sys, time
		sys.path.insert(0, "$BATS_TEST_DIRNAME/../../python")
		from fallacy.agent import Agent, AgentError

		def rtt():
		    out = subprocess.run(["ip", "netns", "exec", "$A", "ping", "-n", "-q", "-c", "2",
		                          "-i", "0.2", "-W", "3", "198.18.253.2"],
		                         capture_output=True, text=True).stdout
		    return float(out.split("=")[-1].split("/")[0])

		with Agent(local=True, fallacy="$FALLACY") as a:
		    print("put", a.put("$B", ["delay 50ms --proto icmp"], lease="3s")["added"])
		    time.sleep(7)
		    print("rtt after 7 s of a 3 s lease: %.1f ms" % rtt())
		    print("faults", [f["id"] for f in a.list("$B")])
		    try:
		        a.put("$B", ["lose 5%"])
		    except AgentError as e:
		        print("refused:", e)
		print("rtt after close: %.1f ms" % rtt())
	EOF
	run -0 python3 "$TMP/ctl.py"
	assert_line "put ['f1']"
	assert_line "faults ['f1']"
	assert_output --partial "refused: request:1:"
	after=$(sed -n 's/^rtt after 7 s of a 3 s lease: \([0-9]*\).*/\1/p' <<<"$output")
	closed=$(sed -n 's/^rtt after close: \([0-9]*\).*/\1/p' <<<"$output")
	[ "$after" -ge 45 ]
	[ "$closed" -lt 20 ]
	[ ! -e "$FALLACY_RUN_DIR/@netns-$B" ]
	diff <(echo "$BEFORE") <(echo "$(tc_state)")
}

@test "the pytest fixture fallacy_agents: the put is renewed during the test and reset after it" {
	/usr/bin/python3 -c 'import pytest' 2>/dev/null || skip "python3-pytest is not installed (make deps)"
	run -0 env AGENT_A="$A" AGENT_B="$B" AGENT_ADDR=198.18.253.2 \
		/usr/bin/python3 -m pytest -p no:cacheprovider -s -v "$BATS_TEST_DIRNAME/../data/pytest_agent"
	assert_output --partial "1 passed"
	undelayed
	[ ! -e "$FALLACY_RUN_DIR/@netns-$B" ]
	diff <(echo "$BEFORE") <(echo "$(tc_state)")
}

@test "bad requests: refused with line and column, and nothing is put" {
	agent_start
	put 10s "delay 50ms" "lose 5%"
	[ "$(jq -r .ok <<<"$ANSWER")" = false ]
	[[ "$(jq -r .error <<<"$ANSWER")" == request:1:*"unknown fault 'lose' (did you mean 'loss'?)" ]]
	ask '{"verb":"put","target":{"netns":"/tmp/elsewhere"},"faults":[]}'
	[[ "$(jq -r .error <<<"$ANSWER")" == *"a namespace path is /run/netns/NAME or /proc/PID/ns/net" ]]
	ask '{"verb":"put","target":{"netns":"no-such-ns-'$$'"},"faults":["delay 5ms"]}'
	[ "$(jq -r .ok <<<"$ANSWER")" = false ]
	ask '{"verb":"targets"}'
	ok
	jq -e ".targets[] | select(.netns == \"$B\") | .inode == $(stat -c %i "/run/netns/$B")" <<<"$ANSWER"
	[ ! -e "$FALLACY_RUN_DIR/@netns-$B" ]
	diff <(echo "$BEFORE") <(echo "$(tc_state)")
}
