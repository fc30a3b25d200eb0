#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Offline check of deploy/kubernetes/ (docs/kubernetes.md): parse every
manifest and check the fields that matter for the agent's safety and
function. Prints one line per problem and exits 1 when there is one.

    tests/deploy/check_manifests.py [DIR]
"""
import os
import sys

import yaml

CAPS = {"NET_ADMIN", "SYS_ADMIN", "BPF", "SYS_PTRACE"}
SOCKETS = ("containerd", "docker", "crio", "cri-dockerd", ".sock", "/var/run/", "kubelet")
LABEL = {"app.kubernetes.io/name": "fallacy-agent"}
NS = "fallacy"


def load(d):
    docs = []
    for name in sorted(os.listdir(d)):
        if name.endswith(".yaml"):
            with open(os.path.join(d, name)) as f:
                docs += [(name, x) for x in yaml.safe_load_all(f) if x]
    return docs


def by_kind(docs, kind):
    return [(n, x) for n, x in docs if x.get("kind") == kind]


def check_namespace(docs, bad):
    ns = [x for _, x in by_kind(docs, "Namespace") if x["metadata"]["name"] == NS]
    if len(ns) != 1:
        return bad("no Namespace %s" % NS)
    labels = ns[0]["metadata"].get("labels", {})
    if labels.get("pod-security.kubernetes.io/enforce") != "privileged":
        bad("Namespace %s: pod-security.kubernetes.io/enforce is not privileged" % NS)


def check_container(c, bad):
    sc = c.get("securityContext", {})
    if sc.get("privileged"):
        bad("container %s: privileged (capabilities are enough)" % c["name"])
    add = set(sc.get("capabilities", {}).get("add", []))
    if not CAPS <= add:
        bad("container %s: capabilities lack %s" % (c["name"], sorted(CAPS - add)))
    if "ALL" not in sc.get("capabilities", {}).get("drop", []):
        bad("container %s: capabilities do not drop ALL first" % c["name"])
    mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])}
    return mounts


def check_volumes(spec, mounts, bad):
    host = {}
    for v in spec.get("volumes", []):
        if "hostPath" in v:
            host[v["name"]] = v["hostPath"]["path"]
    for name, path in host.items():
        if any(s in path for s in SOCKETS):
            bad("hostPath %s: %s looks like a runtime socket or the kubelet's" % (name, path))
        if path == "/" or path == "/proc" or path == "/sys":
            bad("hostPath %s: %s is the whole node" % (name, path))
    run = [n for n, p in host.items() if p == "/run/fallacy"]
    if not run or mounts.get(run[0]) != "/run/fallacy":
        bad("no hostPath /run/fallacy mounted at /run/fallacy (the journal)")


def check_daemonset(docs, bad):
    ds = by_kind(docs, "DaemonSet")
    if len(ds) != 1:
        return bad("want one DaemonSet, have %d" % len(ds))
    d = ds[0][1]
    if d["metadata"].get("namespace") != NS:
        bad("DaemonSet: not in namespace %s" % NS)
    tmpl = d["spec"]["template"]
    if d["spec"]["selector"]["matchLabels"] != LABEL or tmpl["metadata"]["labels"] != LABEL:
        bad("DaemonSet: selector and pod labels are not %s" % LABEL)
    spec = tmpl["spec"]
    for key, want in (("hostPID", True), ("hostNetwork", True),
                      ("automountServiceAccountToken", False)):
        if spec.get(key) is not want:
            bad("DaemonSet: %s is not %s" % (key, want))
    mounts = {}
    for c in spec.get("containers", []) + spec.get("initContainers", []):
        mounts.update(check_container(c, bad))
    check_volumes(spec, mounts, bad)
    sa = spec.get("serviceAccountName", "default")
    for _, x in by_kind(docs, "ServiceAccount"):
        if x["metadata"]["name"] == sa and x.get("automountServiceAccountToken") is not False:
            bad("ServiceAccount %s: automountServiceAccountToken is not false" % sa)


def check_rbac(docs, bad):
    exec_roles = []
    for kind in ("Role", "ClusterRole"):
        for _, r in by_kind(docs, kind):
            for rule in r.get("rules", []):
                if "*" in rule.get("resources", []) + rule.get("verbs", []) + \
                        rule.get("apiGroups", []):
                    bad("%s %s: a wildcard rule" % (kind, r["metadata"]["name"]))
                if "pods/exec" in rule.get("resources", []):
                    exec_roles.append((kind, r))
                elif set(rule.get("verbs", [])) - {"get", "list", "watch"}:
                    bad("%s %s: writes %s" % (kind, r["metadata"]["name"], rule["resources"]))
    if not exec_roles:
        bad("no Role allows pods/exec on the agent pods")
    for kind, r in exec_roles:
        if kind != "Role" or r["metadata"].get("namespace") != NS:
            bad("%s %s: pods/exec outside namespace %s" % (kind, r["metadata"]["name"], NS))
    names = {r["metadata"]["name"] for _, r in exec_roles}
    bound = [b for _, b in by_kind(docs, "RoleBinding") if b["roleRef"]["name"] in names]
    if exec_roles and not bound:
        bad("no RoleBinding for the pods/exec Role")
    for _, b in by_kind(docs, "ClusterRoleBinding"):
        if b["roleRef"]["name"] in names:
            bad("ClusterRoleBinding %s: binds pods/exec cluster-wide" % b["metadata"]["name"])


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else "deploy/kubernetes"
    problems = []

    def bad(msg):
        problems.append(msg)

    docs = load(d)
    for name, x in docs:
        if x.get("kind") == "Kustomization":
            continue
        if not x.get("apiVersion") or not x.get("kind") or not x.get("metadata", {}).get("name"):
            bad("%s: a manifest without apiVersion, kind or metadata.name" % name)
    check_namespace(docs, bad)
    check_daemonset(docs, bad)
    check_rbac(docs, bad)
    for p in problems:
        print("%s: %s" % (d, p))
    if not problems:
        print("%s: %d manifests checked" % (d, len(docs)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
