#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The shipped unit (scripts/systemd/spad.service.in) pointed at the built
# spad: systemd-analyze verify accepts it, and its sandboxing scores an
# exposure of 3.0 or less in systemd-analyze security --offline=true
# (printed whole, so the log shows what each setting earns).
# usage: test_systemd_unit.sh UNIT_TEMPLATE SPAD
set -u
template=$1 spad=$2
command -v systemd-analyze >/dev/null || { echo "SKIP: systemd-analyze not installed"; exit 77; }
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
unit=$dir/spad.service
sed "s|@SPA_SBINDIR@|$(dirname "$spad")|g" "$template" >"$unit" || exit 1
fails=0

# verify: only the man page may be missing (it is not installed here)
out=$(systemd-analyze verify "$unit" 2>&1)
bad=$(grep -v "man spad(8)" <<<"$out" | grep -v '^$')
if [ -n "$bad" ]; then
  echo "FAIL: systemd-analyze verify:"; echo "$bad"; fails=$((fails + 1))
fi
grep -q '^Type=notify$' "$unit" || { echo "FAIL: not Type=notify"; fails=$((fails + 1)); }
grep -q -- '--foreground' "$unit" || { echo "FAIL: ExecStart would fork (no --foreground)"; fails=$((fails + 1)); }

out=$(systemd-analyze security --offline=true --no-pager "$unit" 2>&1)
echo "$out"
level=$(sed -n 's/.*Overall exposure level for spad.service: \([0-9.]*\).*/\1/p' <<<"$out")
if [ -z "$level" ]; then
  echo "FAIL: no exposure level in the output"; fails=$((fails + 1))
elif ! awk -v l="$level" 'BEGIN { exit !(l <= 3.0) }'; then
  echo "FAIL: exposure $level is above 3.0"; fails=$((fails + 1))
else
  echo "ok: exposure $level (target: 3.0 or less)"
fi
((fails == 0)) || exit 1
echo "PASS: systemd unit"
