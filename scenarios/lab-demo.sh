#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A tour of labs: a 3-node lab, reachability by name, teardown. Needs root.
#   scenarios/lab-demo.sh      (make demo runs the fallacy scenarios instead)
set -euo pipefail
cd "$(dirname "$0")/.."
FALLACY="${FALLACY:-$PWD/.output/fallacy}"
lab=${FALLACY_DEMO_LAB:-tour}
if "$FALLACY" lab list -j | grep -Eq "\"name\": ?\"$lab\""; then
	lab="tour$$"
fi

say() {
	local line="$*"
	printf '\n\033[1m$ %s\033[0m\n' "${line//$FALLACY/fallacy}"
}
run() {
	say "$*"
	"$@"
}

trap '"$FALLACY" lab down "$lab" >/dev/null 2>&1 || true' EXIT

run "$FALLACY" lab up "$lab" --nodes 3 --ipv6
run "$FALLACY" lab list
for a in n1 n2 n3; do
	for b in n1 n2 n3; do
		[ "$a" = "$b" ] && continue
		say "$FALLACY lab exec $lab $a -- ping -4 -c1 -W2 $b"
		"$FALLACY" lab exec "$lab" "$a" -- ping -4 -c1 -W2 "$b" | sed -n '2p'
	done
done
run "$FALLACY" lab exec "$lab" n1 -- ping -6 -c2 -i0.2 n3
run ip netns exec "fl-$lab.n2" getent hosts n1
run "$FALLACY" lab down "$lab"
trap - EXIT
say "ip netns list | grep -c fl-$lab"
ip netns list | grep -c "fl-$lab" || true
echo
echo "demo done: the lab is gone. Next: docs/getting-started.md"
