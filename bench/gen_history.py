#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A linearizable register history in Jepsen's shape, for the checker's
benchmark and tests: CLIENTS concurrent clients, N operations, a share of
them of unknown outcome (info). Each operation takes effect at one instant
inside its interval (info ones: with probability 1/2, possibly after their
recorded end, or never); reads return the value at that instant; writes
write unique values; cas compares with the current or a stale value.

  gen_history.py N [--clients 5] [--info 0.2] [--seed 1] [--stale-read]

--stale-read makes one read (near the middle) return an old value: the
history is then not linearizable."""
import argparse
import json
import random
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("--clients", type=int, default=5)
    ap.add_argument("--info", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--stale-read", action="store_true")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    # each client: its process number and when it is free again
    procs = list(range(a.clients))
    free = [0] * a.clients
    next_proc = a.clients
    ops = []  # (call, ret, proc, f, value, effect time or None, info)
    next_value = 1
    for i in range(a.n):
        c = rnd.randrange(a.clients)
        call = free[c] + rnd.randint(1, 2000)
        ret = call + rnd.randint(100, 5000)
        f = rnd.choice(["read", "read", "write", "cas"])
        info = rnd.random() < a.info
        if info:
            effect = rnd.randint(call, ret + 3000) if rnd.random() < 0.5 else None
        else:
            effect = rnd.randint(call, ret)
        value = None
        if f == "write":
            value = next_value
            next_value += 1
        elif f == "cas":
            value = [None, next_value]
            next_value += 1
        ops.append([call, ret, procs[c], f, value, effect, info])
        free[c] = ret
        if info:
            procs[c] = next_proc  # a crashed client comes back as a new process
            next_proc += 1
    # apply the effects in time order to learn what reads saw and cas did
    state = None
    history_state = []
    for op in sorted((o for o in ops if o[5] is not None), key=lambda o: o[5]):
        call, ret, proc, f, value, effect, info = op
        if f == "read":
            op[4] = state
        elif f == "write":
            state = value
        else:
            expected = state if rnd.random() < 0.6 else rnd.choice(history_state or [None])
            value[0] = expected
            if state == expected:
                state = value[1]
                op.append("ok")
            else:
                op.append("fail")
        history_state.append(state)
    for op in ops:  # cas that never took effect: any expected value
        if op[3] == "cas" and op[5] is None:
            op[4][0] = rnd.choice(history_state or [None])
    if a.stale_read:
        reads = [o for o in ops if o[3] == "read" and not o[6] and o[4] is not None]
        if len(reads) > 2:
            mid = reads[len(reads) // 2]
            older = [o[4] for o in reads if o[1] < mid[0] and o[4] != mid[4]]
            mid[4] = older[0] if older else -1
    lines = []
    for op in ops:
        call, ret, proc, f, value, effect, info = op[:7]
        outcome = "info" if info else (op[7] if f == "cas" else "ok")
        inv_value = None if f == "read" else value
        lines.append((call, 0, {"process": proc, "type": "invoke", "f": f, "value": inv_value, "time": call}))
        lines.append((ret, 1, {"process": proc, "type": outcome, "f": f, "value": value, "time": ret}))
    lines.sort(key=lambda l: (l[0], l[1]))
    out = sys.stdout
    for _, _, obj in lines:
        out.write(json.dumps(obj) + "\n")


if __name__ == "__main__":
    main()
