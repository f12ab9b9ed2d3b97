#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The firewalld plugin against a real firewalld (nftables backend) running
# inside the server namespace on a private system bus, driven without the
# engine by spa_plugin_drive: a timed rich rule opens the port only for the
# granted source, firewalld expires it by itself, a re-knock replaces the
# rule, close and flush remove exactly our rules and leave the admin's.
#
# spad's runner gives commands an empty environment, so firewall-cmd could
# not find the private bus: FIREWD_EXE points at a wrapper written here that
# sets DBUS_SYSTEM_BUS_ADDRESS and execs firewall-cmd (test-only device).
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

dir="$E2E_TMPDIR/fwd"
mkdir -p "$dir" && chmod 755 "$E2E_TMPDIR" "$dir" || exit 1
bus="unix:path=$dir/bus.sock"
cat > "$dir/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>$bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="root"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
CONF
# A private copy so that nothing the daemon saves can reach /etc.
cp -a /etc/firewalld "$dir/etc" || exit 1

bus_pid=$(e2e_srv dbus-daemon --config-file="$dir/bus.conf" --fork --print-pid --nosyslog) ||
  { echo "FAIL: dbus-daemon"; exit 1; }
E2E_PIDS+=("$bus_pid")
e2e_spawn e2e_srv env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DBUS_SYSTEM_BUS_ADDRESS="$bus" \
  firewalld --nofork --nopid --system-config "$dir/etc" --log-target console \
  >"$dir/firewalld.log" 2>&1
fwd_pid=$E2E_LAST_PID
stop_firewalld() { # before the bus, so that it can tidy up its nft table
  e2e_kill_pid "$fwd_pid"
  e2e_kill_pid "$bus_pid"
  return 0
}
E2E_CLEANUP_HOOKS+=(stop_firewalld)

cat > "$dir/firewall-cmd" <<WRAP
#!/bin/sh
DBUS_SYSTEM_BUS_ADDRESS='$bus'
export DBUS_SYSTEM_BUS_ADDRESS
exec /usr/bin/firewall-cmd "\$@"
WRAP
chmod 755 "$dir/firewall-cmd"
fcmd() { e2e_srv "$dir/firewall-cmd" "$@"; }

up=0
for _ in $(seq 1 60); do
  if [ "$(fcmd --state 2>/dev/null)" = running ]; then up=1; break; fi
  sleep 0.5
done
if [ "$up" -ne 1 ]; then
  echo "FAIL: firewalld did not come up in the namespace"
  tail -20 "$dir/firewalld.log"
  exit 1
fi
fcmd --zone=public --change-interface="$E2E_IF_SRV" >/dev/null

opts=(-o FIREWD_EXE="$dir/firewall-cmd" -o FIREWD_ZONE=public
      -o FLUSH_FIREWD_AT_INIT=N -o FLUSH_FIREWD_AT_EXIT=N)
drv() { e2e_srv "$drive" "${opts[@]}" "$plugin" "$@"; }
check() {
  if "$@"; then echo "ok: $*"; else echo "FAIL: $*"; E2E_FAILS=$((E2E_FAILS + 1)); fi
}
rule4() { echo "rule family=\"ipv4\" source address=\"$1\" port port=\"$port\" protocol=\"tcp\" accept"; }
rule6() { echo "rule family=\"ipv6\" source address=\"$1\" port port=\"$port\" protocol=\"tcp\" accept"; }
count_rich() { fcmd --zone=public --list-rich-rules | grep -cxF -- "$1"; }

# An admin rule (prefix, so not our shape) that must survive everything.
admin='rule family="ipv4" source address="203.0.113.0/24" port port="2222" protocol="tcp" accept'
check fcmd --zone=public --add-rich-rule="$admin"

echo "== before any grant"
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" "$port"
e2e_expect_blocked "$E2E_CLI6" "$E2E_SRV6" "$port"

now=$(date +%s)
check drv open "$E2E_CLI4" tcp "$port" $((now + 120)) -- open "$E2E_CLI6" tcp "$port" $((now + 120))

echo "== granted .2 and ::2 only"
e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" "$port"
e2e_expect_blocked "$E2E_CLI4_OTHER" "$E2E_SRV4" "$port"
e2e_expect_open "$E2E_CLI6" "$E2E_SRV6" "$port"
e2e_expect_blocked "$E2E_CLI6_OTHER" "$E2E_SRV6" "$port"
check test "$(count_rich "$(rule4 "$E2E_CLI4")")" = 1
check test "$(count_rich "$(rule6 "$E2E_CLI6")")" = 1
echo "== runtime only, nothing written to the permanent config"
check test "$(fcmd --permanent --zone=public --list-rich-rules | grep -c "$E2E_CLI4")" = 0

echo "== re-knock refreshes without duplicates"
check drv refresh "$E2E_CLI4" tcp "$port" $((now + 180))
check test "$(count_rich "$(rule4 "$E2E_CLI4")")" = 1
e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" "$port"

echo "== list shows our two rules, not the admin's"
listed=$(drv list)
echo "$listed"
check grep -q "^$E2E_CLI4 tcp $port " <<<"$listed"
check grep -q "^$E2E_CLI6 tcp $port " <<<"$listed"
check test "$(wc -l <<<"$listed")" = 2

echo "== close IPv4 only"
check drv close "$E2E_CLI4" tcp "$port" $((now + 180))
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" "$port"
e2e_expect_open "$E2E_CLI6" "$E2E_SRV6" "$port"

echo "== flush removes ours, keeps the admin's"
check drv flush
e2e_expect_blocked "$E2E_CLI6" "$E2E_SRV6" "$port"
check test "$(count_rich "$(rule6 "$E2E_CLI6")")" = 0
check test "$(count_rich "$admin")" = 1

echo "== firewalld expires the rule by itself (native timeout)"
now=$(date +%s)
check drv open "$E2E_CLI4" tcp "$port" $((now + 6))
e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" "$port"
sleep 8
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" "$port"
check test "$(count_rich "$(rule4 "$E2E_CLI4")")" = 0

echo "== an already expired grant is refused, nothing added"
if drv open "$E2E_CLI4" tcp "$port" $((now - 10)) 2>/dev/null; then
  echo "FAIL: expired grant opened"; E2E_FAILS=$((E2E_FAILS + 1))
else
  echo "ok: expired grant refused"
fi
check test "$(count_rich "$(rule4 "$E2E_CLI4")")" = 0

echo "== init without a reachable firewalld fails"
if e2e_srv "$drive" -o FIREWD_EXE=/usr/bin/firewall-cmd "$plugin" list >/dev/null 2>&1; then
  echo "FAIL: init succeeded without the bus"; E2E_FAILS=$((E2E_FAILS + 1))
else
  echo "ok: init refused without the bus"
fi

e2e_finish
