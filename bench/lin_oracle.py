#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A second, independent linearizability check of a register history in
fallacy's JSONL (one key, read/write/cas), for bench/jepsen.sh: a plain
depth-first search over (set of linearized ops, state), memoised, sharing
no code with harness/lin.c.

    bench/lin_oracle.py HISTORY.jsonl [MAX_STATES]

Prints linearizable, not-linearizable or undecided (more than MAX_STATES,
default 300 000). Semantics as docs/consistency.md: failed reads and
writes left out; a failed cas saw a value other than the one it expected;
an info op may take effect or not (an info read is left out)."""

import json
import sys

NEVER = float('inf')


def load(path):
    ops, open_ops = [], {}
    with open(path) as fh:
        for text in fh:
            if not text.strip():
                continue
            o = json.loads(text)
            if o['type'] == 'invoke':
                open_ops[o['process']] = {'f': o['f'], 'v': o.get('value'), 'call': o['time'],
                                          'ret': NEVER, 'res': 'info'}
                continue
            op = open_ops.pop(o['process'])
            op['res'] = o['type']
            if o['type'] != 'info':
                op['ret'] = o['time']
            if o['f'] == 'read' and o['type'] == 'ok':
                op['v'] = o.get('value')
            ops.append(op)
    ops.extend(open_ops.values())  # no completion: info
    keep = [op for op in ops if not (op['res'] == 'fail' and op['f'] != 'cas')
            and not (op['res'] == 'info' and op['f'] == 'read')]
    for op in keep:  # values as JSON text: 4 and "4" differ, null is nothing
        op['v'] = [json.dumps(x) for x in op['v']] if op['f'] == 'cas' else json.dumps(op['v'])
    return keep


def step(op, s):
    """(allowed, next state) of op in state s."""
    f, v, res = op['f'], op['v'], op['res']
    if f == 'read':
        return v == s, s
    if f == 'write':
        return True, v
    expect, new = v
    if res == 'ok':
        return s == expect, new
    if res == 'fail':
        return s != expect, s
    return True, new if s == expect else s  # info: either outcome


def check(ops, cap):
    must = 0  # ops with a completion: all must be linearized
    for i, op in enumerate(ops):
        if op['ret'] != NEVER:
            must |= 1 << i
    seen, stack = set(), [(0, 'null')]
    while stack:
        mask, s = stack.pop()
        if (mask, s) in seen:
            continue
        seen.add((mask, s))
        if len(seen) > cap:
            return 'undecided'
        if mask & must == must:
            return 'linearizable'  # the info ops left may all come after
        first_ret = min((op['ret'] for i, op in enumerate(ops) if not mask >> i & 1),
                        default=NEVER)
        for i, op in enumerate(ops):
            if mask >> i & 1 or op['call'] > first_ret:
                continue
            ok, ns = step(op, s)
            if ok:
                stack.append((mask | 1 << i, ns))
    return 'not-linearizable'


if __name__ == '__main__':
    print(check(load(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 300000))
