#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The kubectl carrier (docs/kubernetes.md) without a cluster: a `kubectl`
# stand-in on PATH (test_helper/kubectl-standin, for tests only) answers
# `get pods -o json` from a fixture and turns `exec -i -n NS POD -- CMD`
# into `ip netns exec NODE CMD`, NODE the namespace of the pod's node. The
# node is namespace H; its pod etcd-0 is namespace P1 behind a veth, its
# processes in cgroups named as the kubelet's cgroupfs driver names them;
# the agent pod fallacy-agent-x7k2p runs on that node.

bats_require_minimum_version 1.5.0
load test_helper/common
load test_helper/pods

setup() {
	fl_require_root
	pods_setup
	H=kbh$$$((RANDOM % 1000)) P1=kb1$$$((RANDOM % 1000))
	UID1=$(cat /proc/sys/kernel/random/uuid)
	TMP=$(mktemp -d /tmp/fallacy-kubectl.XXXXXX)
	ip netns add "$H"
	pod_net "$P1" 1
	in_cgroup "$P1" "$(cgroupfs_pod "$UID1")/pause"
	in_cgroup "$P1" "$(cgroupfs_pod "$UID1")/c0ffee01"
	# the stand-in, as "kubectl" on PATH, and its fixtures
	mkdir "$TMP/bin"
	ln -s "$BATS_TEST_DIRNAME/test_helper/kubectl-standin" "$TMP/bin/kubectl"
	export PATH="$TMP/bin:$PATH" FL_KUBECTL_DIR=$TMP
	echo "h1 $H" >"$TMP/nodes"
	echo "kind-lab" >"$TMP/contexts"
	jq -n --arg uid "$UID1" '{kind: "List", items: [
		{metadata: {name: "fallacy-agent-x7k2p", namespace: "fallacy",
			    labels: {"app.kubernetes.io/name": "fallacy-agent"}, uid: "a0000000-0000-4000-8000-000000000001"},
		 spec: {nodeName: "h1"}},
		{metadata: {name: "etcd-0", namespace: "db", labels: {app: "etcd"}, uid: $uid},
		 spec: {nodeName: "h1"}}]}' >"$TMP/pods.json"
	REMOTE="$FALLACY agent --stdio"
	BEFORE=$(tc_state)
}

teardown() {
	[ -n "${CALL_PID:-}" ] && kill -9 "$CALL_PID" 2>/dev/null
	pods_teardown
	fl_cleanup_all
	for ns in "$H" "$P1"; do ip netns del "$ns" 2>/dev/null || true; done
	rm -rf "$TMP"
}

tc_state() {
	tc -n "$P1" -j qdisc show
	tc -n "$P1" -j filter show dev "pp1$$" egress
}

call() {
	"$FALLACY" agent call --kubectl fallacy-agent-x7k2p --context kind-lab --remote "$REMOTE" "$@"
}

@test "the stand-in answers get pods from its fixture by namespace and selector" {
	run -0 kubectl get pods -n db -l app=etcd -o json
	[ "$(jq -r '.items[0].metadata.uid' <<<"$output")" = "$UID1" ]
	run -0 kubectl get pods -n db -l app=web -o json
	[ "$(jq '.items | length' <<<"$output")" -eq 0 ]
}

@test "over kubectl exec: the agent pod's targets list the pod by UID, in its node's namespace" {
	run -0 --separate-stderr call targets
	echo "$output"
	jq -e ".targets[] | select(.pod == \"$UID1\") | .inode == $(stat -c %i "/run/netns/$P1")" <<<"$output"
	# the agent ran on the node: its own namespace is H's
	[ "$(jq .host_inode <<<"$output")" -eq "$(stat -c %i "/run/netns/$H")" ]
	grep -qxF -- "--context=kind-lab exec -i -n fallacy fallacy-agent-x7k2p -- $REMOTE" "$TMP/calls"
}

@test "over kubectl exec: a held put by pod UID delays ping past its lease; SIGTERM resets it" {
	# the controller itself in the background (not a subshell): the signals are its
	"$FALLACY" agent call --kubectl fallacy-agent-x7k2p --context kind-lab --remote "$REMOTE" \
		--hold put "{\"target\":{\"pod\":\"$UID1\"},\"faults\":[\"delay 50ms --proto icmp\"],\"lease\":\"3s\"}" \
		>"$TMP/out" 2>"$TMP/err" &
	CALL_PID=$!
	fl_wait_until 60 grep -q '"ok":true' "$TMP/out" || fail "no answer: $(cat "$TMP/err")"
	jq -e ".target.pod == \"$UID1\"" "$TMP/out"
	[ "$(min_rtt 1)" -ge 45 ]
	sleep 5 # longer than the lease: renewed over kubectl exec
	r=$(min_rtt 1)
	echo "min rtt after 5 s of a 3 s lease: $r ms"
	[ "$r" -ge 45 ]
	kill -TERM "$CALL_PID"
	st=0
	wait "$CALL_PID" || st=$?
	CALL_PID=
	echo "agent call: status $st; $(cat "$TMP/err")"
	[ "$st" -eq 0 ]
	undelayed 1
	diff <(echo "$BEFORE") <(echo "$(tc_state)")
}

@test "kill -9 of the controller over kubectl exec: the pod's faults end within the lease; cleanup leaves nothing" {
	# the controller itself in the background (not a subshell): the signals are its
	"$FALLACY" agent call --kubectl fallacy-agent-x7k2p --context kind-lab --remote "$REMOTE" \
		--hold put "{\"target\":{\"pod\":\"$UID1\"},\"faults\":[\"delay 50ms --proto icmp\"],\"lease\":\"3s\"}" \
		>"$TMP/out" 2>"$TMP/err" &
	CALL_PID=$!
	fl_wait_until 60 grep -q '"ok":true' "$TMP/out" || fail "no answer: $(cat "$TMP/err")"
	[ "$(min_rtt 1)" -ge 45 ]
	kill -9 "$CALL_PID"
	CALL_PID=
	fl_wait_until 30 undelayed 1
	# the agent saw the end of its input: it ended too (the pattern is anchored,
	# so it does not match the shell that runs pgrep)
	fl_wait_until 30 bash -c "! pgrep -f -- '^$REMOTE' >/dev/null"
	run -0 "$FALLACY" cleanup --all
	diff <(echo "$BEFORE") <(echo "$(tc_state)")
	[ -z "$(ls "$FALLACY_RUN_DIR" | grep '^@' || true)" ]
}

@test "an agent pod or a context that does not exist: exit 2 with kubectl's message" {
	run -2 --separate-stderr "$FALLACY" agent call --kubectl fallacy-agent-gone --remote "$REMOTE" version
	echo "$stderr"
	[[ "$stderr" == *'pods "fallacy-agent-gone" not found'* ]]
	run -2 --separate-stderr "$FALLACY" agent call --kubectl fallacy-agent-x7k2p --context nowhere --remote "$REMOTE" version
	[[ "$stderr" == *'context "nowhere" does not exist'* ]]
	run -2 --separate-stderr "$FALLACY" agent call --kubectl -it version
	[[ "$stderr" == *"is not a pod name"* ]]
}

@test "the Python controller over kubectl exec: a put by pod UID is renewed past its lease, and reset when closed" {
	cat >"$TMP/ctl.py" <<-EOF
		import subprocess, sys, time
		sys.path.insert(0, "$BATS_TEST_DIRNAME/../../python")
		from fallacy.agent import Agent, AgentError

		def rtt():
		    out = subprocess.run(["ip", "netns", "exec", "$H", "ping", "-n", "-q", "-c", "5",
		                          "-i", "0.2", "-W", "3", "198.18.241.2"],
		                         capture_output=True, text=True).stdout
		    return float(out.split("=")[-1].split("/")[0])

		with Agent(kubectl="fallacy-agent-x7k2p", context="kind-lab", remote="$REMOTE") as a:
		    print("put", a.put({"pod": "$UID1"}, ["delay 50ms --proto icmp"], lease="3s")["target"])
		    time.sleep(5)
		    print("rtt after 5 s of a 3 s lease: %.1f ms" % rtt())
		print("rtt after close: %.1f ms" % rtt())
		try:
		    Agent(kubectl="-it")
		except AgentError as e:
		    print("refused:", e)
	EOF
	run -0 python3 "$TMP/ctl.py"
	echo "$output"
	lowest=$(printf '%s\n' "${PIDS[@]}" | sort -n | head -n 1)
	assert_line "put {'pod': '$UID1', 'pid': $lowest}"
	r=$(sed -n 's/^rtt after 5 s of a 3 s lease: \([0-9]*\).*/\1/p' <<<"$output")
	c=$(sed -n 's/^rtt after close: \([0-9]*\).*/\1/p' <<<"$output")
	[ "$r" -ge 45 ]
	# the 50 ms delay is gone: the fastest of 5 pings is faster than the
	# fastest under the delay (an ordering, not a bound: a busy machine
	# slows both), and tc holds nothing of it (below)
	[ "$c" -lt "$r" ]
	assert_line "refused: kubectl='-it' is not a name"
	diff <(echo "$BEFORE") <(echo "$(tc_state)")
}
