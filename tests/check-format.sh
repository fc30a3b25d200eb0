#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fails (exit 1) when a C file of the repository differs from what
# clang-format makes of it with the committed .clang-format (kernel style,
# 100 columns), listing each file and the first lines that differ.
#   tests/check-format.sh        (run by tests/run.sh with the unit tests)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
command -v clang-format >/dev/null 2>&1 || { echo "clang-format not installed (make deps)" >&2; exit 2; }
bad=0
while IFS= read -r f; do
	if ! out=$(clang-format "$f" | diff -u "$f" - 2>&1); then
		echo "$f: not formatted (make format):"
		echo "$out" | head -20
		bad=$((bad + 1))
	fi
done < <(find bpf harness include injector tests -name '*.[ch]' ! -name vmlinux.h | sort)
[ "$bad" -eq 0 ] || { echo "$bad file(s) not formatted"; exit 1; }
