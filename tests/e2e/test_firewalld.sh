#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The firewalld plugin against a real firewalld (nftables backend) running
# inside the server namespace on a private system bus, driven without the
# engine by spa_plugin_drive: a timed rich rule opens the port only for the
# granted source, firewalld expires it by itself, a re-knock replaces the
# rule, close and flush remove exactly our rules and leave the admin's; a
# close whose rule is already gone returns 0, one firewall-cmd refuses does
# not (FIREWD_EXE: a wrapper that fails on demand).
#
# Every check runs once per transport, with the same assertions on
# firewalld's state: dbus (the plugin's own sd-bus connection, which finds
# the private bus through DBUS_SYSTEM_BUS_ADDRESS in the driver's
# environment) and exec (firewall-cmd). spad's runner gives commands an
# empty environment, so for exec FIREWD_EXE points at a wrapper that sets
# DBUS_SYSTEM_BUS_ADDRESS and execs firewall-cmd (test-only device). No run
# ever sees the host's system bus: where no private bus is meant, the
# address names a socket that does not exist.
# Usage: test_firewalld.sh <spa_plugin_drive> <firewalld.so>
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/netns.sh"

drive=${1:?drive binary}
plugin=${2:?plugin .so}
port=4422 # not among the public zone's default services (ssh is)

e2e_require_root
e2e_require_tools socat ss timeout dbus-daemon firewalld firewall-cmd nft
e2e_setup || { echo "FAIL: namespace setup"; exit 1; }
e2e_start_listener "$port" || { echo "FAIL: listener"; exit 1; }

e2e_firewalld_prepare "$E2E_TMPDIR/fwd" && chmod 755 "$E2E_TMPDIR" ||
  { echo "FAIL: firewalld files"; exit 1; }
e2e_firewalld_start || { echo "FAIL: firewalld did not come up in the namespace"; exit 1; }
fcmd() { e2e_srv "$E2E_FWD_CMD" "$@"; }
fcmd --zone=public --change-interface="$E2E_IF_SRV" >/dev/null

nobus="unix:path=$E2E_TMPDIR/no-such-bus"
opts=(-o FIREWD_EXE="$E2E_FWD_CMD" -o FIREWD_ZONE=public
      -o FLUSH_FIREWD_AT_INIT=N -o FLUSH_FIREWD_AT_EXIT=N)
xport=exec
# the leg's transport; dbus finds the private bus in the environment
drv() {
  local bus=$nobus
  [ "$xport" = dbus ] && bus=$E2E_FWD_BUS
  e2e_srv env DBUS_SYSTEM_BUS_ADDRESS="$bus" "$drive" -o FIREWD_TRANSPORT="$xport" \
    "${opts[@]}" "$plugin" "$@"
}
check() {
  if "$@"; then echo "ok: $*"; else echo "FAIL: $*"; E2E_FAILS=$((E2E_FAILS + 1)); fi
}
rule4() { echo "rule family=\"ipv4\" source address=\"$1\" port port=\"$port\" protocol=\"tcp\" accept"; }
rule6() { echo "rule family=\"ipv6\" source address=\"$1\" port port=\"$port\" protocol=\"tcp\" accept"; }
count_rich() { fcmd --zone=public --list-rich-rules | grep -cxF -- "$1"; }

# An admin rule (prefix, so not our shape) that must survive everything.
admin='rule family="ipv4" source address="203.0.113.0/24" port port="2222" protocol="tcp" accept'
check fcmd --zone=public --add-rich-rule="$admin"

leg() { # <transport>: the whole grant cycle through it
  xport=$1
  echo "== [$xport] before any grant"
  e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" "$port"
  e2e_expect_blocked "$E2E_CLI6" "$E2E_SRV6" "$port"

  now=$(date +%s)
  check drv open "$E2E_CLI4" tcp "$port" $((now + 120)) -- open "$E2E_CLI6" tcp "$port" $((now + 120))

  echo "== [$xport] granted .2 and ::2 only"
  e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" "$port"
  e2e_expect_blocked "$E2E_CLI4_OTHER" "$E2E_SRV4" "$port"
  e2e_expect_open "$E2E_CLI6" "$E2E_SRV6" "$port"
  e2e_expect_blocked "$E2E_CLI6_OTHER" "$E2E_SRV6" "$port"
  check test "$(count_rich "$(rule4 "$E2E_CLI4")")" = 1
  check test "$(count_rich "$(rule6 "$E2E_CLI6")")" = 1
  echo "== [$xport] runtime only, nothing written to the permanent config"
  check test "$(fcmd --permanent --zone=public --list-rich-rules | grep -c "$E2E_CLI4")" = 0

  echo "== [$xport] re-knock refreshes without duplicates"
  check drv refresh "$E2E_CLI4" tcp "$port" $((now + 180))
  check test "$(count_rich "$(rule4 "$E2E_CLI4")")" = 1
  e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" "$port"

  echo "== [$xport] list shows our two rules, not the admin's"
  listed=$(drv list)
  echo "$listed"
  check grep -q "^$E2E_CLI4 tcp $port " <<<"$listed"
  check grep -q "^$E2E_CLI6 tcp $port " <<<"$listed"
  check test "$(wc -l <<<"$listed")" = 2

  echo "== [$xport] close IPv4 only"
  check drv close "$E2E_CLI4" tcp "$port" $((now + 180))
  e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" "$port"
  e2e_expect_open "$E2E_CLI6" "$E2E_SRV6" "$port"

  echo "== [$xport] flush removes ours, keeps the admin's"
  check drv flush
  e2e_expect_blocked "$E2E_CLI6" "$E2E_SRV6" "$port"
  check test "$(count_rich "$(rule6 "$E2E_CLI6")")" = 0
  check test "$(count_rich "$admin")" = 1

  echo "== [$xport] firewalld expires the rule by itself (native timeout)"
  now=$(date +%s)
  check drv open "$E2E_CLI4" tcp "$port" $((now + 6))
  e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" "$port"
  sleep 8
  e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" "$port"
  check test "$(count_rich "$(rule4 "$E2E_CLI4")")" = 0

  echo "== [$xport] close succeeds when the rule is already gone"
  # firewalld expired it (above) ...
  check drv close "$E2E_CLI4" tcp "$port" $((now + 6))
  # ... or an admin removed it
  now=$(date +%s)
  check drv open "$E2E_CLI4" tcp "$port" $((now + 120))
  check fcmd --zone=public --remove-rich-rule="$(rule4 "$E2E_CLI4")"
  check test "$(count_rich "$(rule4 "$E2E_CLI4")")" = 0
  check drv close "$E2E_CLI4" tcp "$port" $((now + 120))

}

for x in dbus exec; do
  leg "$x"
  check test "$(fcmd --zone=public --list-rich-rules | grep -c "$port")" = 0
done

echo "== auto: D-Bus when the bus answers, firewall-cmd when it does not"
now=$(date +%s)
out=$(e2e_srv env DBUS_SYSTEM_BUS_ADDRESS="$E2E_FWD_BUS" "$drive" "${opts[@]}" "$plugin" \
  open "$E2E_CLI4" tcp "$port" $((now + 120)) 2>&1)
check test $? = 0
check grep -q "transport dbus" <<<"$out"
out=$(e2e_srv env DBUS_SYSTEM_BUS_ADDRESS="$nobus" "$drive" "${opts[@]}" "$plugin" \
  close "$E2E_CLI4" tcp "$port" $((now + 120)) 2>&1)
check test $? = 0
check grep -q "falling back to $E2E_FWD_CMD" <<<"$out"
check grep -q "transport exec" <<<"$out"
check test "$(count_rich "$(rule4 "$E2E_CLI4")")" = 0
echo "== dbus: a close firewalld refuses (no such zone) fails"
out=$(e2e_srv env DBUS_SYSTEM_BUS_ADDRESS="$E2E_FWD_BUS" "$drive" -o FIREWD_TRANSPORT=dbus \
  -o FIREWD_ZONE=nosuchzone "${opts[@]}" "$plugin" close "$E2E_CLI4" tcp "$port" $((now + 120)) 2>&1)
check test $? -ne 0
check grep -q "INVALID_ZONE" <<<"$out"
echo "== dbus asked for explicitly does not fall back"
if e2e_srv env DBUS_SYSTEM_BUS_ADDRESS="$nobus" "$drive" -o FIREWD_TRANSPORT=dbus "${opts[@]}" \
  "$plugin" list >/dev/null 2>&1; then
  echo "FAIL: dbus init succeeded without the bus"; E2E_FAILS=$((E2E_FAILS + 1))
else
  echo "ok: dbus init refused without the bus"
fi

echo "== a close firewall-cmd refuses fails (FIREWD_EXE wrapper failing on demand)"
# A wrapper around the test's firewall-cmd wrapper; empty environment, so
# absolute paths only.
wrap=$E2E_TMPDIR/fwd-fail-cmd
flag=$E2E_TMPDIR/fwd-fail
cat >"$wrap" <<EOF
#!/bin/bash
if [ -e "$flag" ] && [[ "\$*" == *--remove-rich-rule=* ]]; then
  echo "injected failure" >&2
  exit 252
fi
exec "$E2E_FWD_CMD" "\$@"
EOF
chmod 755 "$wrap"
wdrv() {
  e2e_srv env DBUS_SYSTEM_BUS_ADDRESS="$nobus" "$drive" -o FIREWD_TRANSPORT=exec \
    -o FIREWD_EXE="$wrap" -o FIREWD_ZONE=public -o FLUSH_FIREWD_AT_INIT=N \
    -o FLUSH_FIREWD_AT_EXIT=N "$plugin" "$@"
}
check wdrv open "$E2E_CLI4" tcp "$port" $((now + 120))
touch "$flag"
out=$(wdrv close "$E2E_CLI4" tcp "$port" $((now + 120)) 2>&1)
check test $? -ne 0
check grep -q "^close failed" <<<"$out"
check test "$(count_rich "$(rule4 "$E2E_CLI4")")" = 1
rm -f "$flag"
check wdrv close "$E2E_CLI4" tcp "$port" $((now + 120))
check test "$(count_rich "$(rule4 "$E2E_CLI4")")" = 0

echo "== an already expired grant is refused, nothing added"
xport=exec
if drv open "$E2E_CLI4" tcp "$port" $((now - 10)) 2>/dev/null; then
  echo "FAIL: expired grant opened"; E2E_FAILS=$((E2E_FAILS + 1))
else
  echo "ok: expired grant refused"
fi
check test "$(count_rich "$(rule4 "$E2E_CLI4")")" = 0

echo "== init without a reachable firewalld fails"
if e2e_srv env DBUS_SYSTEM_BUS_ADDRESS="$nobus" "$drive" -o FIREWD_EXE=/usr/bin/firewall-cmd \
  "$plugin" list >/dev/null 2>&1; then
  echo "FAIL: init succeeded without the bus"; E2E_FAILS=$((E2E_FAILS + 1))
else
  echo "ok: init refused without the bus"
fi

e2e_finish
