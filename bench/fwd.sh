# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# firewalld for bench/run.sh: a real firewalld (nftables backend) inside the
# server namespace on a private system bus, as tests/e2e/test_firewalld.sh
# runs it, so spad's firewalld plugin can be timed like the others. spad's
# runner gives commands an empty environment, so FIREWD_EXE is a wrapper
# that names the private bus.

BENCH_FWD_PID=""
BENCH_BUS_PID=""

bench_fwd_stop() { # before the bus, so that it can tidy up its nft table
  [ -n "$BENCH_FWD_PID" ] && e2e_kill_pid "$BENCH_FWD_PID"
  [ -n "$BENCH_BUS_PID" ] && e2e_kill_pid "$BENCH_BUS_PID"
  BENCH_FWD_PID=""
  BENCH_BUS_PID=""
  return 0
}

# Starts dbus + firewalld; tcp/22 is then rejected by the public zone
# (its ssh service removed), the SPA port accepted (spad's UDP server sits
# behind the firewall, unlike a capture). Sets FWD_CMD to the wrapper.
bench_fwd_start() {
  local dir="$BDIR/fwd" bus
  mkdir -p "$dir" && chmod 755 "$BDIR" "$dir" || return 1
  bus="unix:path=$dir/bus.sock"
  cat >"$dir/bus.conf" <<CONF
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
  cp -a /etc/firewalld "$dir/etc" || return 1
  E2E_CLEANUP_HOOKS+=(bench_fwd_stop)
  BENCH_BUS_PID=$(e2e_srv dbus-daemon --config-file="$dir/bus.conf" --fork --print-pid --nosyslog) ||
    return 1
  E2E_PIDS+=("$BENCH_BUS_PID")
  e2e_spawn e2e_srv env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DBUS_SYSTEM_BUS_ADDRESS="$bus" \
    firewalld --nofork --nopid --system-config "$dir/etc" --log-target console \
    >"$dir/firewalld.log" 2>&1
  BENCH_FWD_PID=$E2E_LAST_PID
  FWD_CMD="$dir/firewall-cmd"
  cat >"$FWD_CMD" <<WRAP
#!/bin/sh
DBUS_SYSTEM_BUS_ADDRESS='$bus'
export DBUS_SYSTEM_BUS_ADDRESS
exec /usr/bin/firewall-cmd "\$@"
WRAP
  chmod 755 "$FWD_CMD"
  for _ in $(seq 1 60); do
    [ "$(e2e_srv "$FWD_CMD" --state 2>/dev/null)" = running ] && break
    sleep 0.5
  done
  if [ "$(e2e_srv "$FWD_CMD" --state 2>/dev/null)" != running ]; then
    bench_log "firewalld did not come up; log tail:"
    tail -5 "$dir/firewalld.log" >&2
    return 1
  fi
  e2e_srv "$FWD_CMD" --zone=public --change-interface="$E2E_IF_SRV" >/dev/null &&
    e2e_srv "$FWD_CMD" --zone=public --remove-service=ssh >/dev/null &&
    e2e_srv "$FWD_CMD" --zone=public --add-port="$PORT/udp" >/dev/null
}

# Time to open through spad's firewalld plugin; leaves no firewalld behind.
bench_open_firewalld() {
  bench_policy none || return 0
  bench_fw_reset
  if ! bench_fwd_start; then
    bench_fwd_stop
    return 0
  fi
  BENCH_CONF_EXTRA=("FIREWD_EXE $FWD_CMD" "FIREWD_ZONE public")
  bench_open spad_fwd spad firewalld udp
  BENCH_CONF_EXTRA=()
  bench_fwd_stop
}
