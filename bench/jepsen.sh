#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `fallacy check linearizable` against real Jepsen histories whose verdicts
# are known, from checkouts of two public repositories (not shipped with
# fallacy: their data have their own licenses):
#   PORCUPINE=DIR  github.com/anishathalye/porcupine: test_data/jepsen/
#                  etcd_NNN.log (Jepsen etcd runs, log format); the verdicts
#                  are its porcupine_test.go's checkJepsen(t, N, true|false)
#   KNOSSOS=DIR    github.com/jepsen-io/knossos: data/cas-register/good/ and
#                  bad/*.edn (linearizable or not); multi-register (txn) and
#                  mutex histories are of models fallacy has not: skipped
# DIR: a checkout or a bare git directory (read at HEAD). Defaults: the
# mirrors under /work/.mirror when present. Neither found: says so, exit 0.
# Each history: tools/jepsen-history.py (Porcupine's with --fail-cas
# mismatch: its model reads etcd's failed cas as a compare that did not
# match; Knossos's as Jepsen means :fail, did not happen), then the check (register model,
# one thread, one check at a time, TIMEOUT s each, default 60), compared
# with the known verdict, and (ORACLE=1, the default) with a second search
# that shares no code with the checker (bench/lin_oracle.py, 120 s and
# 300 000 states each). Writes OUT.json and a table; exit 1 when a verdict
# disagrees.        bench/jepsen.sh [OUT.json]
set -euo pipefail
cd "$(dirname "$0")/.."
FALLACY="${FALLACY:-$PWD/.output/fallacy}"
OUT=${1:-bench/out/jepsen.json}
TIMEOUT=${TIMEOUT:-60}
ORACLE=${ORACLE:-1}
PORCUPINE=${PORCUPINE-/work/.mirror/anishathalye+porcupine/repo}
KNOSSOS=${KNOSSOS-/work/.mirror/jepsen-io+knossos/repo}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A repository's files under a folder, and one file's text: from the work
# tree when there is one, else from a bare git directory's HEAD.
is_bare() { [ "$(git -C "$1" rev-parse --is-bare-repository 2>/dev/null)" = true ]; }
usable() { [ -n "$1" ] && [ -d "$1" ] && { is_bare "$1" || [ -d "$1/$2" ]; }; }
list() {
	if is_bare "$1"; then
		git -C "$1" ls-tree -r --name-only HEAD -- "$2"
	else
		(cd "$1" && find "$2" -type f | sort)
	fi
}
show() {
	if is_bare "$1"; then git -C "$1" show "HEAD:$2"; else cat "$1/$2"; fi
}

: >"$tmp/rows"
# check NAME EXPECTED(linearizable|not-linearizable) [CONVERTER OPTIONS] < history
check() {
	local name=$1 want=$2 rc=0 got secs states ops t0 t1 oracle=-
	shift 2
	if ! python3 tools/jepsen-history.py "$@" >"$tmp/h.jsonl" 2>"$tmp/conv.err"; then
		printf '%s\t%s\tunreadable\t0\t0\t0\t0\t-\t%s\n' "$name" "$want" \
			"$(head -1 "$tmp/conv.err")" >>"$tmp/rows"
		return
	fi
	t0=$(date +%s%N)
	timeout "$TIMEOUT" "$FALLACY" check linearizable "$tmp/h.jsonl" --threads 1 -j \
		>"$tmp/out.json" 2>"$tmp/err" || rc=$?
	t1=$(date +%s%N)
	if [ "$rc" = 124 ]; then
		got=timeout secs=$TIMEOUT states=0 ops=0
	elif [ "$rc" -le 2 ] && jq -e .verdict "$tmp/out.json" >/dev/null 2>&1; then
		read -r got secs states ops < <(jq -r \
			'[.verdict, (.elapsed_ns / 1e9), .states, .operations] | @tsv' "$tmp/out.json")
	else
		got=error secs=0 states=0 ops=0
	fi
	if [ "$ORACLE" != 0 ]; then
		oracle=$(timeout 120 python3 bench/lin_oracle.py "$tmp/h.jsonl" 300000) || oracle=timeout
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$want" "$got" "$secs" "$states" \
		"$ops" "$(((t1 - t0) / 1000000))" "$oracle" "$(head -1 "$tmp/err")" >>"$tmp/rows"
	printf '  %-45s %-17s %-17s %8.3f s %9s states  oracle %s\n' "$name" "$want" "$got" "$secs" \
		"$states" "$oracle"
}

skipped=()
found=0
if usable "$PORCUPINE" test_data/jepsen; then
	found=1
	show "$PORCUPINE" porcupine_test.go |
		sed -n 's/.*checkJepsen(t, \([0-9]*\), \(true\|false\)).*/\1 \2/p' >"$tmp/pv"
	while read -r f; do
		n=$(basename "$f" .log)
		n=$((10#${n#etcd_}))
		v=$(awk -v n="$n" '$1 == n { print $2 }' "$tmp/pv")
		if [ -z "$v" ]; then
			skipped+=("porcupine/$(basename "$f"): no known verdict in porcupine_test.go")
			continue
		fi
		{ show "$PORCUPINE" "$f" || echo "bench jepsen: cannot read $f" >&2; } |
			check "porcupine/$(basename "$f")" \
				"$([ "$v" = true ] && echo linearizable || echo not-linearizable)" \
				--fail-cas mismatch
	done < <(list "$PORCUPINE" test_data/jepsen | grep '/etcd_[0-9]*\.log$')
else
	echo "bench jepsen: no porcupine checkout at '${PORCUPINE}' (PORCUPINE=DIR)"
fi
if usable "$KNOSSOS" data; then
	found=1
	while read -r f; do
		case $f in
		data/cas-register/good/*.edn) want=linearizable ;;
		data/cas-register/bad/*.edn) want=not-linearizable ;;
		*.edn)
			skipped+=("knossos/${f#data/}: $(echo "$f" | cut -d/ -f2) is not a model of fallacy's")
			continue
			;;
		*) continue ;;
		esac
		{ show "$KNOSSOS" "$f" || echo "bench jepsen: cannot read $f" >&2; } | check "knossos/${f#data/}" "$want"
	done < <(list "$KNOSSOS" data)
else
	echo "bench jepsen: no knossos checkout at '${KNOSSOS}' (KNOSSOS=DIR)"
fi
if [ "$found" = 0 ]; then
	echo "bench jepsen: skipped: give PORCUPINE=DIR and/or KNOSSOS=DIR (checkouts of" \
		"github.com/anishathalye/porcupine and github.com/jepsen-io/knossos)"
	exit 0
fi

printf '%s\n' "${skipped[@]}" >"$tmp/skipped"
python3 - "$tmp/rows" "$tmp/skipped" "$OUT" "$TIMEOUT" <<'PY'
import json, statistics, sys, time
rows = [l.rstrip('\n').split('\t') for l in open(sys.argv[1]) if l.strip()]
skipped = [l.strip() for l in open(sys.argv[2]) if l.strip()]
hist = [{"name": r[0], "expected": r[1], "verdict": r[2], "seconds": float(r[3]),
         "states": int(r[4]), "operations": int(r[5]), "wall_ms": int(r[6]), "oracle": r[7],
         **({"message": r[8]} if len(r) > 8 and r[8] else {})} for r in rows]
agree = [h for h in hist if h["verdict"] == h["expected"]]
disagree = [h for h in hist if h["verdict"] in ("linearizable", "not-linearizable")
            and h["verdict"] != h["expected"]]
other = [h for h in hist if h["verdict"] not in ("linearizable", "not-linearizable")]
decided = ("linearizable", "not-linearizable")
odis = [h for h in hist if h["oracle"] in decided and h["verdict"] in decided
        and h["oracle"] != h["verdict"]]
oagree = [h for h in hist if h["oracle"] in decided and h["oracle"] == h["verdict"]]
ound = [h for h in hist if h["oracle"] != "-" and h["oracle"] not in decided]
secs = [h["seconds"] for h in hist if h["verdict"] != "timeout"]
slow = max(hist, key=lambda h: h["seconds"]) if hist else None
load = open('/proc/loadavg').read().split()[:3]
out = {"date": time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()), "load": load,
       "timeout_seconds": int(sys.argv[4]), "histories": len(hist), "agree": len(agree),
       "disagree": [h["name"] for h in disagree],
       "undecided": [h["name"] + ": " + h["verdict"] for h in other],
       "median_seconds": statistics.median(secs) if secs else None,
       "max_seconds": slow["seconds"] if slow else None, "max_name": slow["name"] if slow else None,
       "max_states": max((h["states"] for h in hist), default=0),
       "oracle": {"agree": len(oagree), "disagree": [h["name"] for h in odis],
                  "undecided": [h["name"] for h in ound]} if any(h["oracle"] != "-" for h in hist)
       else None,
       "skipped": skipped,
       "goals": [{"goal": "verdicts agreeing with Jepsen's known ones",
                  "measured": "%d/%d" % (len(agree), len(hist)), "target": "all",
                  "pass": len(agree) == len(hist)}],
       "per_history": hist}
with open(sys.argv[3], 'w') as f:
    json.dump(out, f, indent=1)
    f.write('\n')
print("\nhistories %d, agreeing %d, disagreeing %d, undecided/timeouts/errors %d"
      % (len(hist), len(agree), len(disagree), len(other)))
for h in disagree:
    print("  DISAGREES: %s: expected %s, checker says %s" % (h["name"], h["expected"], h["verdict"]))
for h in other:
    print("  UNDECIDED: %s: %s %s" % (h["name"], h["verdict"], h.get("message", "")))
if out["oracle"]:
    print("second search (bench/lin_oracle.py): agrees on %d, disagrees on %d, undecided on %d"
          % (len(oagree), len(odis), len(ound)))
for h in odis:
    print("  ORACLE DISAGREES: %s: checker %s, oracle %s" % (h["name"], h["verdict"], h["oracle"]))
if secs:
    print("check time: median %.4f s, max %.3f s (%s); load %s" %
          (out["median_seconds"], out["max_seconds"], out["max_name"], " ".join(load)))
for s in skipped:
    print("  skipped: " + s)
sys.exit(1 if disagree or other or odis else 0)
PY
