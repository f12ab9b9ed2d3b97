# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# firewalld for bench/run.sh: a real firewalld (nftables backend) inside the
# server namespace on a private system bus, as tests/e2e/test_firewalld.sh
# runs it, so spad's firewalld plugin can be timed like the others, through
# both its transports in one run: dbus (spad's own sd-bus connection, which
# finds the private bus through DBUS_SYSTEM_BUS_ADDRESS in its environment)
# and exec (firewall-cmd; spad's runner gives commands an empty environment,
# so FIREWD_EXE is a wrapper that names the private bus).

bench_fwd_stop() { e2e_firewalld_stop; }

# Starts dbus + firewalld (tests/e2e/netns.sh); tcp/22 is then rejected by
# the public zone (its ssh service removed), the SPA port accepted (spad's
# UDP server sits behind the firewall, unlike a capture). Sets FWD_CMD to
# the wrapper.
bench_fwd_start() {
  chmod 755 "$BDIR" && e2e_firewalld_prepare "$BDIR/fwd" && e2e_firewalld_start || return 1
  FWD_CMD=$E2E_FWD_CMD
  e2e_srv "$FWD_CMD" --zone=public --change-interface="$E2E_IF_SRV" >/dev/null &&
    e2e_srv "$FWD_CMD" --zone=public --remove-service=ssh >/dev/null &&
    e2e_srv "$FWD_CMD" --zone=public --add-port="$PORT/udp" >/dev/null
}

# Time to open through spad's firewalld plugin, D-Bus (spad_fwd) then
# firewall-cmd (spad_fwdexec); leaves no firewalld behind.
bench_open_firewalld() {
  local had_bus=${DBUS_SYSTEM_BUS_ADDRESS+set} old_bus=${DBUS_SYSTEM_BUS_ADDRESS:-}
  bench_policy none || return 0
  bench_fw_reset
  if ! bench_fwd_start; then
    bench_fwd_stop
    return 0
  fi
  export DBUS_SYSTEM_BUS_ADDRESS=$E2E_FWD_BUS
  BENCH_CONF_EXTRA=("FIREWD_EXE $FWD_CMD" "FIREWD_ZONE public" "FIREWD_TRANSPORT dbus")
  bench_open spad_fwd spad firewalld udp
  BENCH_CONF_EXTRA=("FIREWD_EXE $FWD_CMD" "FIREWD_ZONE public" "FIREWD_TRANSPORT exec")
  bench_open spad_fwdexec spad firewalld udp
  BENCH_CONF_EXTRA=()
  if [ -n "$had_bus" ]; then
    DBUS_SYSTEM_BUS_ADDRESS=$old_bus
  else
    unset DBUS_SYSTEM_BUS_ADDRESS
  fi
  bench_fwd_stop
}
