# SPDX-License-Identifier: MIT
# Sourced by test_spad_cycle.sh once its daemon has stopped: the faults a
# hole must survive and still close on time, against the real backend.
#  1. a grant opened before a reload (same files), then access.conf edited
#     with a stanza inserted above the grant's, closes on time;
#  2. a close the backend refuses (its command made to fail through a
#     wrapper) keeps the hole tracked and is retried until it succeeds;
#  3. reconciliation: a grant flushed from the backend is re-opened on
#     SIGUSR1, and an entry left without a journal is closed at start.
# Uses the cycle's backend, dir, spad, knock, check, rules, wait_rules,
# start_spad, stop_spad, TIMEOUT, WAIT and CLOSE_WAIT.

faults_log="$dir/spad.log"

# spad's output, also kept in a file the checks below read
faults_start() {
  start_spad > >(tee -a "$faults_log") 2>&1
}

faults_count() { grep -c -- "$1" "$faults_log" 2>/dev/null || true; }

faults_wait_log() { # <text> <count> <tenths>
  local end=$(( $(date +%s%N) / 100000000 + $3 ))
  while [ "$(faults_count "$1")" -lt "$2" ]; do
    [ $(( $(date +%s%N) / 100000000 )) -lt "$end" ] || return 1
    sleep 0.1
  done
}

faults_reload() {
  local before
  before=$(faults_count "configuration reloaded")
  kill -HUP "$spad_pid"
  faults_wait_log "configuration reloaded" $((before + 1)) "$WAIT"
}

echo "== a grant opened before a reload closes on time"
cp "$dir/access.conf" "$dir/access.conf.orig"
check faults_start
t0=$(date +%s) # before the knock: the grant's clock starts at its decision
check knock "$E2E_CLI4"
check wait_rules 1 "$WAIT"
check faults_reload
# another stanza inserted above: the grant's stanza moves down its file
key2=$(head -c 32 /dev/urandom | base64 -w0)
hmac2=$(head -c 64 /dev/urandom | base64 -w0)
{
  printf 'SOURCE 203.0.113.0/24\nOPEN_PORTS tcp/22\nKEY_BASE64 %s\nHMAC_KEY_BASE64 %s\n\n' \
    "$key2" "$hmac2"
  cat "$dir/access.conf.orig"
} >"$dir/access.conf"
check faults_reload
check test "$(rules)" = 1
e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" 22
check wait_rules 0 "$CLOSE_WAIT"
t1=$(date +%s)
echo "closed $((t1 - t0)) s after the knock"
check test $((t1 - t0)) -ge $((TIMEOUT - 1))
check test $((t1 - t0)) -le $((TIMEOUT + MARGIN))
check faults_wait_log "closed (expired)" 1 50
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 22
stop_spad
cp "$dir/access.conf.orig" "$dir/access.conf"

echo "== a close the backend refuses is retried until it succeeds"
flag="$dir/backend-down"
faults_wrap() { # <real command> <wrapper path>: fails while $flag exists
  printf '#!/bin/sh\nif [ -e %s ]; then echo "injected failure" >&2; exit 1; fi\nexec %s "$@"\n' \
    "$flag" "$1" >"$2"
  chmod 700 "$2"
}
cp "$dir/fwknopd.conf" "$dir/fwknopd.conf.orig"
case "$backend" in
  iptables)
    faults_wrap "$(command -v iptables-restore)" "$dir/wrap-restore"
    echo "IPT_RESTORE_EXE $dir/wrap-restore" >>"$dir/fwknopd.conf" ;;
  nftables)
    faults_wrap "$(command -v nft)" "$dir/wrap-nft"
    printf 'NFT_TRANSPORT exec\nNFT_EXE %s\n' "$dir/wrap-nft" >>"$dir/fwknopd.conf" ;;
  ipset)
    faults_wrap "$(command -v ipset)" "$dir/wrap-ipset"
    printf 'IPSET_TRANSPORT exec\nIPSET_EXE %s\n' "$dir/wrap-ipset" >>"$dir/fwknopd.conf" ;;
  firewalld)
    faults_wrap "$fwcmd" "$dir/wrap-fwcmd"
    # the wrapper can fail only what runs through it: the exec transport
    sed -i -e "s|^FIREWD_EXE .*|FIREWD_EXE $dir/wrap-fwcmd|" \
      -e "s|^FIREWD_TRANSPORT .*|FIREWD_TRANSPORT exec|" "$dir/fwknopd.conf" ;;
esac
check faults_start
[ "$backend" = firewalld ] && check faults_wait_log "transport exec" 1 "$WAIT"
check knock "$E2E_CLI4"
check wait_rules 1 "$WAIT"
touch "$flag"
# the expiry's close and at least one retry fail, and spad says so; the
# hole is still there, except where the backend expires it by itself
# (nftables and ipset element timeouts, firewalld --timeout)
check faults_wait_log "failed to close $E2E_CLI4 tcp/22" 2 "$CLOSE_WAIT"
[ "$backend" = iptables ] && check test "$(rules)" = 1
rm -f "$flag"
# backoff doubles from 1 s: the next retry comes within ~8 s
check wait_rules 0 "$CLOSE_WAIT"
check faults_wait_log "closed (retry)" 1 50
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 22
stop_spad
cp "$dir/fwknopd.conf.orig" "$dir/fwknopd.conf"

echo "== reconciliation: a grant the backend lost is opened again (SIGUSR1)"
check faults_start
check knock "$E2E_CLI4"
check wait_rules 1 "$WAIT"
# an administrator flushes the backend behind spad's back
spad_admin --fw-flush >/dev/null
check wait_rules 0 "$WAIT"
kill -USR1 "$spad_pid"
check faults_wait_log "missing from backend $backend (SIGUSR1); re-opened" 1 "$WAIT"
check wait_rules 1 "$WAIT"
e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" 22
# and it still closes on time
check wait_rules 0 "$CLOSE_WAIT"
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 22
stop_spad

echo "== reconciliation: an entry no grant covers is closed at start"
case "$backend" in
  iptables) fp=IPT ;; nftables) fp=NFT ;; ipset) fp=IPSET ;; firewalld) fp=FIREWD ;;
esac
cp "$dir/fwknopd.conf" "$dir/fwknopd.conf.orig"
# no flush at either end: only reconciliation can find the stale entry
printf 'FLUSH_%s_AT_INIT N\nFLUSH_%s_AT_EXIT N\n' "$fp" "$fp" >>"$dir/fwknopd.conf"
check faults_start
check knock "$E2E_CLI4"
check wait_rules 1 "$WAIT"
kill -9 "$spad_pid"
while kill -0 "$spad_pid" 2>/dev/null; do sleep 0.1; done
# the journal is lost (a tmpfs after a reboot that kept the rules)
rm -f "$dir/run/grants.json"
check faults_start
check faults_wait_log "no grant covers (start); closed" 1 "$WAIT"
check test "$(rules)" = 0
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 22
stop_spad
cp "$dir/fwknopd.conf.orig" "$dir/fwknopd.conf"
