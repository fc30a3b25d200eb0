#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# fallacy agent inventory (docs/kubernetes.md): an inventory's nodes
# mapped and checked against real agents. Hosts: this host's own agent
# (local: true) with named test namespaces as targets. Kubernetes: the
# kubectl stand-in (test_helper/kubectl-standin, for tests only) lists two
# "pods" etcd-0 and etcd-1 on node h1 (namespace H), whose processes sit
# in cgroups named as the kubelet names them, and the agent pod of h1;
# --check asks that agent, over the stand-in's exec, whether it sees them.

bats_require_minimum_version 1.5.0
load test_helper/common
load test_helper/pods

setup() {
	fl_require_root
	pods_setup
	H=ivh$$$((RANDOM % 1000)) P1=iv1$$$((RANDOM % 1000)) P2=iv2$$$((RANDOM % 1000))
	UID1=$(cat /proc/sys/kernel/random/uuid) UID2=$(cat /proc/sys/kernel/random/uuid)
	TMP=$(mktemp -d /tmp/fallacy-inventory.XXXXXX)
	ip netns add "$H"
	pod_net "$P1" 1
	pod_net "$P2" 2
	in_cgroup "$P1" "$(cgroupfs_pod "$UID1")/pause"
	in_cgroup "$P2" "$(systemd_pod "$UID2")/cri-containerd-aaaa.scope"
	mkdir "$TMP/bin"
	ln -s "$BATS_TEST_DIRNAME/test_helper/kubectl-standin" "$TMP/bin/kubectl"
	export PATH="$TMP/bin:$PATH" FL_KUBECTL_DIR=$TMP
	echo "h1 $H" >"$TMP/nodes"
	# etcd-10 sorts after etcd-1 (numbers as numbers); it is Pending: left out
	jq -n --arg u1 "$UID1" --arg u2 "$UID2" '{kind: "List", items: [
		{metadata: {name: "fallacy-agent-x7k2p", namespace: "fallacy", uid: "a0000000-0000-4000-8000-000000000001",
			    labels: {"app.kubernetes.io/name": "fallacy-agent"}},
		 spec: {nodeName: "h1"}, status: {phase: "Running"}},
		{metadata: {name: "etcd-1", namespace: "db", labels: {app: "etcd"}, uid: $u2},
		 spec: {nodeName: "h1"}, status: {phase: "Running"}},
		{metadata: {name: "etcd-0", namespace: "db", labels: {app: "etcd"}, uid: $u1},
		 spec: {nodeName: "h1"}, status: {phase: "Running"}},
		{metadata: {name: "etcd-10", namespace: "db", labels: {app: "etcd"}, uid: $u1},
		 spec: {nodeName: "h1"}, status: {phase: "Pending"}}]}' >"$TMP/pods.json"
	cat >"$TMP/k8s.yaml" <<-EOF2
		kubernetes:
		  namespace: db
		  selector: app=etcd
		  remote: $FALLACY agent --stdio
	EOF2
}

teardown() {
	pods_teardown
	fl_cleanup_all
	for ns in "$H" "$P1" "$P2"; do ip netns del "$ns" 2>/dev/null || true; done
	rm -rf "$TMP"
}

@test "hosts: nodes map by node: and by order; --check asks each agent, and one that does not see its namespace fails" {
	cat >"$TMP/hosts.yaml" <<-EOF2
		hosts:
		  - {name: a, local: true, netns: $P1}
		  - {name: b, local: true, netns: $P2, node: n1}
	EOF2
	run -0 --separate-stderr "$FALLACY" agent inventory "$TMP/hosts.yaml" --check -j
	echo "$output"
	[ "$(jq -c '[.nodes[] | [.node, .host, .target.netns, .check]]' <<<"$output")" = \
		"[[\"n1\",\"b\",\"$P2\",\"ok\"],[\"n2\",\"a\",\"$P1\",\"ok\"]]" ]
	echo "  - {name: c, local: true, netns: gone$$}" >>"$TMP/hosts.yaml"
	run -1 --separate-stderr "$FALLACY" agent inventory "$TMP/hosts.yaml" --check
	echo "$output"
	[[ "$output" == *"node n3 host c target {\"netns\":\"gone$$\"} via local check its agent does not see"* ]]
}

@test "kubernetes: pods by name map to nodes, each reached through its node's agent pod, which sees it" {
	run -0 --separate-stderr "$FALLACY" agent inventory "$TMP/k8s.yaml" --check -j
	echo "$output"
	[ "$(jq -c '[.nodes[] | [.node, .pod, .host, .target.pod, .agent, .check]]' <<<"$output")" = \
		"[[\"n1\",\"etcd-0\",\"h1\",\"$UID1\",\"fallacy-agent-x7k2p\",\"ok\"],[\"n2\",\"etcd-1\",\"h1\",\"$UID2\",\"fallacy-agent-x7k2p\",\"ok\"]]" ]
	grep -qxF "get pods -n db -l app=etcd -o json" "$TMP/calls"
	grep -qxF "get pods -n fallacy -l app.kubernetes.io/name=fallacy-agent -o json" "$TMP/calls"
	# more nodes than running pods: bad input
	run -2 --separate-stderr "$FALLACY" agent inventory "$TMP/k8s.yaml" --nodes 3
	[[ "$stderr" == *"2 running pods in namespace db with app=etcd, the scenario has 3 nodes"* ]]
}

@test "kubernetes: a pod whose processes are gone fails the check; bad files are refused at FILE:LINE:COL" {
	kill -9 "${PIDS[1]}"
	fl_wait_until 10 bash -c "! grep -qs pod '/proc/${PIDS[1]}/cgroup'"
	run -1 --separate-stderr "$FALLACY" agent inventory "$TMP/k8s.yaml" --check
	echo "$output"
	[[ "$output" == *"node n2 host h1 pod etcd-1"*"its agent does not see {\"pod\":\"$UID2\"} there"* ]]
	printf 'kubernetes:\n  namespace: db\n  selectr: app=etcd\n' >"$TMP/bad.yaml"
	run -2 --separate-stderr "$FALLACY" agent inventory "$TMP/bad.yaml"
	[ "$stderr" = "fallacy: $TMP/bad.yaml:3:3: unknown key 'selectr' in kubernetes (did you mean 'selector'?)" ]
}

@test "--put through each pod's agent: faults by pod name and by node, held past their lease (ping), SIGTERM resets both" {
	BEFORE=$(tc -n "$P1" -j qdisc show; tc -n "$P2" -j qdisc show)
	"$FALLACY" agent inventory "$TMP/k8s.yaml" -j --lease 4s --hold \
		--put etcd-0 "delay 50ms --proto icmp" --put n2 "delay 80ms --proto icmp" \
		>"$TMP/out" 2>"$TMP/err" &
	HOLD=$!
	fl_wait_until 60 bash -c "[ \"\$(grep -c '\"ok\":true' '$TMP/out')\" -eq 2 ]" ||
		fail "puts not answered: $(cat "$TMP/out" "$TMP/err")"
	cat "$TMP/out"
	[ "$(jq -r 'select(.node == "n1") | .answer.target.pod' "$TMP/out")" = "$UID1" ]
	sleep 6 # longer than the lease: renewed
	kill -0 "$HOLD" || fail "--hold ended before it was told to: $(cat "$TMP/out" "$TMP/err")"
	r1=$(min_rtt 1) r2=$(min_rtt 2)
	echo "min rtt after 6 s of a 4 s lease: etcd-0 $r1 ms, etcd-1 $r2 ms"
	# never early, and each node has its own delay (minimums of several
	# pings: a busy machine adds to both, it does not swap them)
	[ "$r1" -ge 45 ]
	[ "$r2" -ge 75 ]
	[ "$r1" -lt "$r2" ]
	kill -TERM "$HOLD"
	st=0
	wait "$HOLD" || st=$?
	echo "status $st; $(cat "$TMP/err")"
	[ "$st" -eq 0 ]
	undelayed 1
	undelayed 2
	diff <(echo "$BEFORE") <(tc -n "$P1" -j qdisc show; tc -n "$P2" -j qdisc show)
}

@test "--put: an unknown node is bad input, and a put refused on n2 resets the one already on n1" {
	run -2 --separate-stderr "$FALLACY" agent inventory "$TMP/k8s.yaml" --put etcd-9 "delay 50ms"
	[[ "$stderr" == *"--put etcd-9: not a node of the inventory"* ]]
	BEFORE=$(tc -n "$P1" -j qdisc show; tc -n "$P1" -j filter show dev "pp1$$" egress)
	run -1 --separate-stderr "$FALLACY" agent inventory "$TMP/k8s.yaml" --lease 30s \
		--put n1 "delay 50ms --proto icmp" --put n2 "delay 50ms --bogus"
	echo "$output"
	echo "$stderr"
	[[ "$output" == *"node n1 host h1 answer"*'"ok":true'*"node n2 host h1 answer"*'"ok":false'* ]]
	# n1's put was reset at once, long before its 30 s lease
	undelayed 1
	diff <(echo "$BEFORE") <(tc -n "$P1" -j qdisc show; tc -n "$P1" -j filter show dev "pp1$$" egress)
}

@test "kill -9 of the controller holding --put: the faults end within their lease on each pod; cleanup leaves nothing" {
	BEFORE=$(tc -n "$P1" -j qdisc show; tc -n "$P2" -j qdisc show)
	"$FALLACY" agent inventory "$TMP/k8s.yaml" --lease 3s --hold \
		--put n1 "delay 50ms --proto icmp" --put n2 "delay 50ms --proto icmp" >"$TMP/out" 2>"$TMP/err" &
	HOLD=$!
	fl_wait_until 60 bash -c "[ \"\$(grep -c '\"ok\":true' '$TMP/out')\" -eq 2 ]" ||
		fail "puts not answered: $(cat "$TMP/out" "$TMP/err")"
	[ "$(min_rtt 1)" -ge 45 ]
	kill -9 "$HOLD"
	fl_wait_until 30 undelayed 1
	fl_wait_until 30 undelayed 2
	fl_wait_until 30 bash -c "! pgrep -f -- '^$FALLACY agent --stdio' >/dev/null"
	run -0 "$FALLACY" cleanup --all
	diff <(echo "$BEFORE") <(tc -n "$P1" -j qdisc show; tc -n "$P2" -j qdisc show)
	[ -z "$(ls "$FALLACY_RUN_DIR" | grep '^@' || true)" ]
}

@test "--target: nodes take the target's names and roles, and a host's role: picks a node of that role" {
	cat >"$TMP/roles.yaml" <<-EOF2
		hosts:
		  - {name: a, local: true, netns: $P1}
		  - {name: b, local: true, netns: $P2, role: primary}
	EOF2
	run -0 --separate-stderr "$FALLACY" agent inventory "$TMP/roles.yaml" --target redis --check -j
	echo "$output"
	[ "$(jq -c '[.nodes[] | [.node, .host, .role, .check]]' <<<"$output")" = \
		'[["n1","b","primary","ok"],["n2","a","replica","ok"]]' ]
	run -2 --separate-stderr "$FALLACY" agent inventory "$TMP/roles.yaml"
	[[ "$stderr" == *"host b: role primary, but no target says which node has which role (--target FILE)"* ]]
}
