#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# deploy/kubernetes/ validated offline (docs/kubernetes.md): yamllint, and
# tests/deploy/check_manifests.py on the fields that matter (host
# namespaces, capabilities, no runtime socket, no service-account token,
# the /run/fallacy journal, the privileged pod-security label, pods/exec
# only in the agents' namespace). Each of those, broken in a copy, makes
# the check fail with its message. Needs no root and no cluster.

bats_require_minimum_version 1.5.0
load test_helper/common

setup() {
	DIR=$BATS_TEST_DIRNAME/../../deploy/kubernetes
	CHECK=$BATS_TEST_DIRNAME/../deploy/check_manifests.py
	TMP=$(mktemp -d /tmp/fallacy-manifests.XXXXXX)
}

teardown() {
	rm -rf "$TMP"
}

# broken 'PYTHON': a copy of the manifests in $TMP/m with the statement
# applied to each document d (file name in f); then the check on it
broken() {
	rm -rf "$TMP/m"
	cp -r "$DIR" "$TMP/m"
	python3 - "$TMP/m" "$1" <<-'PY'
		import os, sys, yaml
		d0, code = sys.argv[1], sys.argv[2]
		for f in os.listdir(d0):
		    p = os.path.join(d0, f)
		    docs = [x for x in yaml.safe_load_all(open(p)) if x]
		    for d in docs:
		        exec(code)
		    yaml.safe_dump_all(docs, open(p, "w"))
	PY
	run -1 python3 "$CHECK" "$TMP/m"
	echo "$output"
}

@test "yamllint: the manifests are clean" {
	command -v yamllint >/dev/null || skip "yamllint is not installed (make deps)"
	run -0 yamllint -s -d '{extends: default, rules: {line-length: {max: 100}, document-start: disable}}' "$DIR"
}

@test "the manifests pass the check of the fields that matter" {
	run -0 python3 "$CHECK" "$DIR"
	echo "$output"
	[[ "$output" == *"manifests checked" ]]
}

@test "a runtime socket mounted from the node fails the check" {
	broken 'if d["kind"] == "DaemonSet": d["spec"]["template"]["spec"]["volumes"].append({"name": "cri", "hostPath": {"path": "/run/containerd/containerd.sock"}})'
	[[ "$output" == *"hostPath cri: /run/containerd/containerd.sock looks like a runtime socket"* ]]
}

@test "no hostPID, a service-account token, privileged mode, a missing capability: each fails the check" {
	broken 'if d["kind"] == "DaemonSet": d["spec"]["template"]["spec"]["hostPID"] = False'
	[[ "$output" == *"hostPID is not True"* ]]
	broken 'if d["kind"] == "DaemonSet": d["spec"]["template"]["spec"]["automountServiceAccountToken"] = True'
	[[ "$output" == *"automountServiceAccountToken is not False"* ]]
	broken 'if d["kind"] == "DaemonSet": d["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = True'
	[[ "$output" == *"privileged (capabilities are enough)"* ]]
	broken 'if d["kind"] == "DaemonSet": d["spec"]["template"]["spec"]["containers"][0]["securityContext"]["capabilities"]["add"].remove("BPF")'
	[[ "$output" == *"capabilities lack ['BPF']"* ]]
	broken 'if d["kind"] == "DaemonSet": d["spec"]["template"]["spec"]["volumes"] = [v for v in d["spec"]["template"]["spec"]["volumes"] if v["name"] != "run-fallacy"]'
	[[ "$output" == *"no hostPath /run/fallacy"* ]]
}

@test "pods/exec granted cluster-wide, or a namespace without the privileged label, fails the check" {
	broken 'if d["kind"] == "ClusterRole": d["rules"].append({"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]})'
	[[ "$output" == *"ClusterRole fallacy-read-pods: pods/exec outside namespace fallacy"* ]]
	broken 'if d["kind"] == "Role": d["rules"][0]["verbs"] = ["*"]'
	[[ "$output" == *"a wildcard rule"* ]]
	broken 'if d["kind"] == "Namespace": d["metadata"]["labels"].pop("pod-security.kubernetes.io/enforce")'
	[[ "$output" == *"enforce is not privileged"* ]]
}
