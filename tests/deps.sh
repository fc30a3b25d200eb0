#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages named on the command line, idempotently.
# Runs `apt-get update` only when something is missing (or the lists are empty).
set -euo pipefail
missing=()
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
	echo "deps: all ${#} packages present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing ${missing[*]}; run as root (sudo make deps)" >&2
	exit 2
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/fallacy-deps.log 2>&1; then
	apt-get update -qq
	apt-get install -y --no-install-recommends "${missing[@]}"
fi
# etcd, redis, postgres and openssh-server start system services; the lab
# (and agent-ssh.bats) starts its own.
for s in etcd redis-server redis-sentinel postgresql ssh; do
	if command -v systemctl >/dev/null 2>&1 && systemctl is-active -q "$s" 2>/dev/null; then
		systemctl stop "$s" || true
	fi
done
