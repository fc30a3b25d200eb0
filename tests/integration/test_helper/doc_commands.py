#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Every `fallacy ...` command line the documentation shows must parse.

    doc_commands.py FALLACY [FILE.md ...]      (run from the repository root)

Takes the command lines from the code blocks of the Markdown files (default:
README.md, docs/*.md, docs/fallacies/*.md) and from the EXAMPLES of every
`fallacy COMMAND --help`, and runs each through `fallacy --check`, which
parses it with the command's own parser and touches nothing. Prints one line
per failure, `FILE:LINE: fallacy ARGS: <what fallacy said>`, and a count;
exits 1 when any line failed.

What counts as a command line:
  - a line of a code block (any fence but yaml/json/c/python) that starts
    with `fallacy `, `sudo fallacy `, `$ fallacy ` or `$ sudo fallacy `, at
    column 0, optionally after VAR=value assignments; lines ending in `\\`
    are joined with the next. In a block that has `$ ` prompts, only the
    prompt lines are commands (the others are output).
  - the line is split like a shell would (quotes, `#` comments) and cut at
    the first `|`, `&`, `;`, `>`, `<`; `*` and `?` words are expanded like
    globs when they match files (else kept, as a shell does); `sudo` and the
    assignments are dropped.
Marks a document may use (HTML comments, invisible when rendered), on the
line(s) right before a fence:
  <!-- not-checked: REASON -->   the block is a synopsis or an internal
                                  command, not something to type
  <!-- check: NAME=VALUE ... --> example values for shell variables the
                                  block uses ($NAME, ${NAME}, "$NAME")
  <!-- fails: REASON -->         the block shows an error: its commands must
                                  be refused (exit 2), and a `fallacy: ...`
                                  output line after a prompt must be what
                                  fallacy says
Any other `$` left in a word is an error: write a real example value.
"""
import glob
import os
import re
import shlex
import subprocess
import sys

SKIP_LANGS = {"yaml", "yml", "json", "c", "python", "xml", "html"}
CUT = {"|", "||", "&", "&&", ";", ";;", ">", ">>", "<", "<<", "(", ")", "2>", "&>"}
START = re.compile(r"^(\$ )?(sudo )?((?:[A-Z_][A-Z0-9_]*=\S* )*)fallacy( |$)")


def blocks(path):
    """(first line number, info string, lines, marks) of each code block."""
    marks, pending = {}, {}
    fence, start, info, body = None, 0, "", []
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for n, line in enumerate(lines, 1):
        if fence is None:
            m = re.match(r"^(```+|~~~+)\s*([\w-]*)", line)
            if m:
                fence, start, info, body = m.group(1), n + 1, m.group(2), []
                marks, pending = pending, {}
                continue
            c = re.match(r"^<!--\s*(not-checked|check|fails):\s*(.*?)\s*-->\s*$", line)
            if c:
                pending[c.group(1)] = c.group(2)
            elif line.strip():
                pending = {}
            continue
        if line.startswith(fence):
            yield start, info, body, marks
            fence = None
            continue
        body.append(line)


def commands(start, body):
    """(line number, text, output) of the command lines of one block;
    output: the lines after a prompt up to the next one."""
    prompts = any(l.startswith("$ ") for l in body)
    i = 0
    while i < len(body):
        line, n = body[i], start + i
        i += 1
        if (prompts and not line.startswith("$ ")) or not START.match(line):
            continue
        while line.endswith("\\") and i < len(body):
            line = line[:-1] + " " + body[i].strip()
            i += 1
        out = []
        while prompts and i + len(out) < len(body) and not body[i + len(out)].startswith("$ "):
            out.append(body[i + len(out)])
        yield n, line[2:] if line.startswith("$ ") else line, out


def words(text, values):
    """The argv after `fallacy`, or raise ValueError."""
    for name, value in values.items():
        text = re.sub(r"\$\{?%s\b\}?" % re.escape(name), value, text)
    lex = shlex.shlex(text, posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    toks = []
    for t in lex:
        if t in CUT or set(t) <= set("|&;<>()"):
            break
        toks.append(t)
    while toks and (toks[0] == "sudo" or re.match(r"^[A-Z_][A-Z0-9_]*=", toks[0])):
        toks.pop(0)
    if not toks or toks[0] != "fallacy":
        raise ValueError("not a fallacy command")
    out = []
    for t in toks[1:]:
        if "$" in t:
            raise ValueError(
                "'%s' is a shell expansion: write a real example value, or give "
                "one with <!-- check: NAME=VALUE --> before the block" % t)
        if "*" in t or "?" in t:
            hits = sorted(glob.glob(t))
            out.extend(hits if hits else [t])
        else:
            out.append(t)
    return out


def help_examples(fallacy):
    """(source, text) of the EXAMPLES lines of every command's --help."""
    top = subprocess.run([fallacy, "--help"], capture_output=True, text=True).stdout
    cmds = re.findall(r"^  ([a-z]+) ", top.split("commands:", 1)[1].split("\n\n", 1)[0], re.M)
    for cmd in [None] + cmds:
        argv = [fallacy, "--help"] if cmd is None else [fallacy, cmd, "--help"]
        out = subprocess.run(argv, capture_output=True, text=True).stdout
        on, lines = False, []
        for line in out.split("\n"):
            if re.match(r"^(EXAMPLES|examples:)\s*$", line):
                on = True
            elif on and not line.strip():
                on = False
            elif on:
                lines.append(line.strip())
        src = "fallacy %s--help" % (cmd + " " if cmd else "")
        for _, text, _ in commands(0, lines):
            yield src, text


def check(fallacy, source, text, values, fails=False, out=()):
    try:
        argv = words(text, values)
    except ValueError as e:
        return "%s: %s: %s" % (source, text, e)
    r = subprocess.run([fallacy, "--check"] + argv, capture_output=True, text=True)
    said = " ".join(r.stderr.split())
    if fails:
        shown = [l for l in out if l.startswith("fallacy: ")]
        if r.returncode != 2:
            return "%s: fallacy %s: the doc shows an error, but --check exited %d" % (
                source, " ".join(argv), r.returncode)
        for l in shown:
            if " ".join(l.split()) not in said:
                return "%s: fallacy %s: the doc shows '%s', fallacy says '%s'" % (
                    source, " ".join(argv), l, said)
        return None
    if r.returncode != 0:
        return "%s: fallacy %s: %s" % (source, " ".join(argv), said or
                                       "exit status %d" % r.returncode)
    return None


def main():
    fallacy = sys.argv[1]
    files = sys.argv[2:] or (["README.md"] + sorted(glob.glob("docs/*.md")) +
                             sorted(glob.glob("docs/fallacies/*.md")))
    failed = checked = 0
    todo = []
    for path in files:
        for start, info, body, marks in blocks(path):
            if info.lower() in SKIP_LANGS or "not-checked" in marks:
                continue
            values = dict(v.split("=", 1) for v in marks.get("check", "").split() if "=" in v)
            for n, text, out in commands(start, body):
                todo.append(("%s:%d" % (path, n), text, values, "fails" in marks, out))
    if len(sys.argv) == 2:
        todo += [(src, text, {}, False, []) for src, text in help_examples(fallacy)]
    for source, text, values, fails, out in todo:
        checked += 1
        err = check(fallacy, source, text, values, fails, out)
        if err:
            failed += 1
            print(err)
    print("%d command lines checked, %d failed" % (checked, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
