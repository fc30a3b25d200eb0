#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The CI recipes of docs/ci.md as steps to run, for ci.bats.

    ci_steps.py DOC NAME OUT

Finds the ```yaml block after `<!-- ci-recipe: NAME -->`, parses it (PyYAML,
Debian's python3-yaml) and writes into OUT/: one file per shell step,
NN-JOB.sh (the job's env/variables exported first), in the order the
pipeline runs them (GitHub: jobs in order, their `run:` steps; GitLab:
stages in order, each job's before_script, script, after_script), and
artifacts.txt: the paths the recipe keeps as artifacts (one a line,
"junit PATH" for a JUnit report). `uses:` steps are not run: checkout is the
copy the test made, uploads are checked through artifacts.txt.
"""
import os
import re
import shlex
import sys

import yaml


def recipe(doc, name):
    text = open(doc, encoding="utf-8").read()
    m = re.search(r"<!--\s*ci-recipe:\s*%s\s*-->\s*\n```ya?ml\n(.*?)\n```" % re.escape(name),
                  text, re.S)
    if not m:
        sys.exit("%s: no ```yaml block after <!-- ci-recipe: %s -->" % (doc, name))
    return yaml.safe_load(m.group(1))


def exports(env):
    return "".join("export %s=%s\n" % (k, shlex.quote(str(v))) for k, v in (env or {}).items())


def github(y):
    steps, arts = [], []
    for job, spec in y["jobs"].items():
        for st in spec.get("steps", []):
            if "run" in st:
                env = dict(y.get("env") or {}, **(spec.get("env") or {}), **(st.get("env") or {}))
                steps.append((job, exports(env) + st["run"]))
            elif str(st.get("uses", "")).startswith("actions/upload-artifact"):
                arts += str(st["with"]["path"]).split()
    return steps, arts


def gitlab(y):
    steps, arts = [], []
    jobs = [(k, v) for k, v in y.items() if isinstance(v, dict) and "script" in v]
    for stage in y.get("stages", ["test"]):
        for job, spec in jobs:
            if spec.get("stage", "test") != stage:
                continue
            env = dict(y.get("variables") or {}, **(spec.get("variables") or {}))
            lines = spec.get("before_script", []) + spec["script"] + spec.get("after_script", [])
            steps.append((job, exports(env) + "\n".join(lines)))
            a = spec.get("artifacts", {})
            arts += a.get("paths", [])
            if "junit" in a.get("reports", {}):
                arts.append("junit " + a["reports"]["junit"])
    return steps, arts


def main():
    doc, name, out = sys.argv[1:4]
    y = recipe(doc, name)
    steps, arts = github(y) if name == "github" else gitlab(y)
    os.makedirs(out, exist_ok=True)
    for i, (job, script) in enumerate(steps, 1):
        with open(os.path.join(out, "%02d-%s.sh" % (i, job)), "w") as f:
            f.write(script + "\n")
    with open(os.path.join(out, "artifacts.txt"), "w") as f:
        f.write("".join(a + "\n" for a in arts))
    print("%d steps, %d artifacts" % (len(steps), len(arts)))


if __name__ == "__main__":
    main()
