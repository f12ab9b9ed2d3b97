# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# GnuPG phases of bench/run.sh (sourced after bench/lib.sh; issue 13,
# docs/GNUPG.md): fwknopd and spad with the same GnuPG stanza, knocked by
# the same client (Debian's fwknop, so both daemons read identical
# packets).
#   (g1) time to open of a signed GnuPG knock with an HMAC, and the CPU per
#        knock: the daemon, every process below it (gpg runs, spad's gpg
#        helper) and the gpg-agent of the server's keyring, which does the
#        private-key operation;
#   (g2) a flood of GnuPG garbage that costs a real private-key operation
#        (packets encrypted to the server's own public key, which anyone
#        has, with their encrypted data damaged), against a stanza without
#        and with an HMAC: the CPU it takes, and a Rijndael knock's time to
#        open during the flood.
# Knobs: BENCH_GPG [1] (0 skips), BENCH_GPG_TRIALS [10], BENCH_GPG_FLOOD_S
# [10], BENCH_GPG_FLOOD_RATE [50/s], BENCH_GPG_KNOCKS [5] (Rijndael knocks
# during a flood).

GPGB_TRIALS=${BENCH_GPG_TRIALS:-10}
GPGB_FLOOD_S=${BENCH_GPG_FLOOD_S:-10}
GPGB_FLOOD_RATE=${BENCH_GPG_FLOOD_RATE:-50}
GPGB_KNOCKS=${BENCH_GPG_KNOCKS:-5}
GPGB_GARBAGE_N=20
GPGB_PW=benchpw
GPGB_FWKNOP=${FWKNOP:-/usr/bin/fwknop}

gpgb_gpg() { gpg --batch --no-tty --quiet --pinentry-mode loopback "$@"; }

# gpgb_fpr <home> <email>: the primary key's fingerprint.
gpgb_fpr() {
  gpgb_gpg --homedir "$1" --with-colons --list-keys "$2" | awk -F: '/^fpr/ { print $10; exit }'
}

# Three keyrings: srv (the server's RSA-2048 key, with a passphrase, and the
# client's public key), cli (the client's key without passphrase and the
# server's public key). fwknop's "hQ" form needs an RSA recipient of 2048
# bits or more (docs/GNUPG.md).
gpgb_keys() {
  local d=$BDIR/gpg
  GPGB_SRV=$d/srv
  GPGB_CLI=$d/cli
  rm -rf "$d"
  mkdir -p -m 700 "$GPGB_SRV" "$GPGB_CLI"
  gpgb_gpg --homedir "$GPGB_SRV" --passphrase "$GPGB_PW" \
    --quick-gen-key "spa bench server <srv@example.org>" rsa2048 cert never || return 1
  GPGB_SF=$(gpgb_fpr "$GPGB_SRV" srv@example.org)
  gpgb_gpg --homedir "$GPGB_SRV" --passphrase "$GPGB_PW" --quick-add-key "$GPGB_SF" rsa2048 encr never ||
    return 1
  gpgb_gpg --homedir "$GPGB_CLI" --passphrase '' \
    --quick-gen-key "spa bench client <cli@example.org>" rsa2048 sign never || return 1
  GPGB_CF=$(gpgb_fpr "$GPGB_CLI" cli@example.org)
  gpgb_gpg --homedir "$GPGB_SRV" --export "$GPGB_SF" | gpgb_gpg --homedir "$GPGB_CLI" --import &&
    gpgb_gpg --homedir "$GPGB_CLI" --export "$GPGB_CF" | gpgb_gpg --homedir "$GPGB_SRV" --import ||
    return 1
  # fwknopd (and spad) accept a signature by a key of at least marginal
  # validity: the server certifies the client's key locally
  gpgb_gpg --homedir "$GPGB_SRV" --passphrase "$GPGB_PW" --quick-lsign-key "$GPGB_CF" || return 1
  # fwknopd's GPGME asks gpg-agent for the passphrase without loopback mode;
  # gpg 2.2 then wants a pinentry on a terminal and fails ("Inappropriate
  # ioctl for device"). gpg.conf's pinentry-mode makes it use the callback.
  echo "pinentry-mode loopback" >"$GPGB_SRV/gpg.conf"
  [ -n "$GPGB_SF" ] && [ -n "$GPGB_CF" ]
}

# gpgb_access <file> <hmac 0|1>: the GnuPG stanza, then a Rijndael stanza
# (the run's KEY/HMAC) for the knocks during a flood. fwknopd compares
# GPG_REMOTE_ID with the signer's last 8 hex digits; spad takes the whole
# fingerprint as well (both are given: both must match).
gpgb_access() {
  {
    echo "SOURCE ANY"
    echo "OPEN_PORTS tcp/22"
    echo "GPG_HOME_DIR $GPGB_SRV"
    echo "GPG_DECRYPT_ID $GPGB_SF"
    echo "GPG_DECRYPT_PW $GPGB_PW"
    echo "GPG_REMOTE_ID ${GPGB_CF: -8}"
    [ "$2" = 1 ] && echo "HMAC_KEY_BASE64 $HMAC"
    echo "FW_ACCESS_TIMEOUT 60"
    echo
    printf 'SOURCE ANY\nOPEN_PORTS tcp/22\nKEY_BASE64 %s\nHMAC_KEY_BASE64 %s\nFW_ACCESS_TIMEOUT 60\n' \
      "$KEY" "$HMAC"
  } >"$1"
  chmod 600 "$1"
}

# gpgb_packet <src> <file> <hmac 0|1> [unsigned]: a GnuPG knock for tcp/22.
gpgb_packet() {
  local a=(--no-rc-file --no-save-args -A tcp/22 -a "$1" -D "$E2E_SRV4" -g
    --gpg-recipient-key "$GPGB_SF" --gpg-home-dir "$GPGB_CLI" -T -B "$2")
  [ "${4:-}" = unsigned ] || a+=(--gpg-signer-key "$GPGB_CF" --gpg-no-signing-pw)
  [ "$3" = 1 ] && a+=(--use-hmac --key-base64-hmac "$HMAC")
  rm -f "$2"
  # -T decodes the packet again, which needs the server's secret key: the
  # client fails that step after writing the packet, so only the file counts
  HOME=$BDIR "$GPGB_FWKNOP" "${a[@]}" >/dev/null 2>&1
  [ -s "$2" ]
}

# gpgb_garbage <dir> <count>: packets anyone can make that cost the server
# a private-key operation: a real unsigned knock encrypted to the server's
# public key, one character of its encrypted data changed (the session-key
# packet and the framing stay intact, so only gpg can tell). No HMAC.
gpgb_garbage() {
  local dir=$1 i p c at
  rm -rf "$dir"; mkdir -p "$dir"
  for i in $(seq 1 "$2"); do
    gpgb_packet "$E2E_CLI4" "$dir/src" 0 unsigned || return 1
    p=$(tr -d '\r\n' <"$dir/src")
    # well past the session-key packet (~360 characters for RSA-2048),
    # clear of the last characters (their spare bits must stay zero)
    at=$((${#p} - 40))
    c=${p:$at:1}
    if [ "$c" = A ]; then c=B; else c=A; fi
    printf '%s\n' "${p:0:$at}$c${p:$((at + 1))}" >"$dir/g$i"
  done
  rm -f "$dir/src"
}

# The gpg-agent serving a keyring (started by the first gpg that needs it).
gpgb_agent_pid() { pgrep -f "gpg-agent --homedir $1 " | head -1; }
gpgb_agent_kill() { gpgconf --homedir "$1" --kill gpg-agent 2>/dev/null; }

# CPU ticks of a process and everything below it (children that were
# reaped are in their parent's cutime/cstime), plus the keyring's agent.
gpgb_tree_ticks() {
  local pid=$1 home=$2 t=0 p a
  local queue=("$pid")
  while [ "${#queue[@]}" -gt 0 ]; do
    p=${queue[0]}; queue=("${queue[@]:1}")
    [ -r "/proc/$p/stat" ] || continue
    t=$((t + $(sed 's/.*) //' "/proc/$p/stat" | awk '{ print $12 + $13 + $14 + $15 }')))
    # shellcheck disable=SC2207
    queue+=($(cat /proc/"$p"/task/*/children 2>/dev/null))
  done
  a=$(gpgb_agent_pid "$home")
  [ -n "$a" ] && t=$((t + $(sed 's/.*) //' "/proc/$a/stat" | awk '{ print $12 + $13 + $14 + $15 }')))
  echo "$t"
}

# gpgb_start <daemon> <access> <tag>: iptables backend for both; spad gets
# its GnuPG defaults (GPG_MAX_CONCURRENT, GPG_MAX_PER_SECOND).
gpgb_start() {
  gpgb_agent_kill "$GPGB_SRV"
  bench_start "$1" iptables udp "$2" "$3"
}

# gpgb_open <daemon>: R[gopen_<daemon>_med/_p90/_n] and R[gcpu_<daemon>]
# (ms of CPU per knock, agent and gpg runs included). One knock first,
# not measured, starts the agent.
gpgb_open() {
  local daemon=$1 pid i src us n ok=0 t0 t1 hz samples="$BDIR/gopen-$1.txt"
  hz=$(getconf CLK_TCK)
  : >"$samples"
  gpgb_access "$BDIR/access-gpg-hmac.conf" 1
  gpgb_start "$daemon" "$BDIR/access-gpg-hmac.conf" "gpg-open-$daemon" || { bench_stop; return 0; }
  pid=$BENCH_DAEMON_PID
  gpgb_packet "${BENCH_SRCS[0]}" "$BDIR/gpkt" 1 && bench_knock "${BENCH_SRCS[0]}" "$BDIR/gpkt" 5000 >/dev/null
  t0=$(gpgb_tree_ticks "$pid" "$GPGB_SRV")
  for i in $(seq 1 "$GPGB_TRIALS"); do
    src=${BENCH_SRCS[$i]}
    gpgb_packet "$src" "$BDIR/gpkt" 1 || { bench_log "fwknop could not build a GnuPG packet"; break; }
    read -r us n < <(bench_knock "$src" "$BDIR/gpkt" 5000)
    if [[ "${us:-}" =~ ^[0-9]+$ ]]; then
      echo "$us" >>"$samples"
      ok=$((ok + 1))
    fi
  done
  t1=$(gpgb_tree_ticks "$pid" "$GPGB_SRV")
  R[gopen_${daemon}_n]="$ok/$GPGB_TRIALS"
  if [ "$ok" -gt 0 ]; then
    R[gopen_${daemon}_med]=$(bench_pct 50 <"$samples")
    R[gopen_${daemon}_p90]=$(bench_pct 90 <"$samples")
    R[gcpu_${daemon}]=$(awk -v d=$((t1 - t0)) -v hz="$hz" -v n="$ok" 'BEGIN { printf "%.1f", d / hz / n * 1000 }')
  else
    bench_log "gpg-open-$daemon: nothing opened; log tail:"
    tail -8 "$BDIR/gpg-open-$daemon.log" >&2
  fi
  bench_stop
  bench_fw_reset
  gpgb_agent_kill "$GPGB_SRV"
  printf '%-16s GnuPG knocks opened %s, median %s us, p90 %s us, CPU %s ms a knock (daemon, gpg, agent)\n' \
    "gpg-$daemon" "${R[gopen_${daemon}_n]}" "${R[gopen_${daemon}_med]:-n/a}" \
    "${R[gopen_${daemon}_p90]:-n/a}" "${R[gcpu_${daemon}]:-n/a}" | tee -a "$BDIR/raw.txt"
}

# gpgb_flood <daemon> <hmac 0|1>: the garbage at GPGB_FLOOD_RATE for
# GPGB_FLOOD_S seconds while Rijndael knocks come from fresh sources;
# R[gflood_<daemon>_<hmac>] = CPU in % of one core during the flood,
# R[gfknock_..._med/_n] = the knocks' time to open.
gpgb_flood() {
  local daemon=$1 hmac=$2 tag="$1_$2" pid list="$BDIR/gflood.list" i n t0 t1 w0 w1 spid ok=0 us src
  local hz samples="$BDIR/gflood-$tag.txt" first=$((${#BENCH_SRCS[@]} - 2 * GPGB_KNOCKS))
  hz=$(getconf CLK_TCK)
  : >"$samples"
  gpgb_access "$BDIR/access-gpg-$hmac.conf" "$hmac"
  gpgb_start "$daemon" "$BDIR/access-gpg-$hmac.conf" "gpg-flood-$tag" || { bench_stop; return 0; }
  pid=$BENCH_DAEMON_PID
  n=$((GPGB_FLOOD_S * GPGB_FLOOD_RATE))
  : >"$list"
  for i in $(seq 0 $((n - 1))); do
    echo "$E2E_CLI4 $BDIR/ggarbage/g$((i % GPGB_GARBAGE_N + 1))" >>"$list"
  done
  t0=$(gpgb_tree_ticks "$pid" "$GPGB_SRV"); w0=$(bench_now_us)
  ip netns exec "$E2E_NS_CLI" "$NET" send "$list" "$E2E_SRV4" "$PORT" "$GPGB_FLOOD_RATE" \
    >"$BDIR/gflood-$tag.out" 2>&1 &
  spid=$!
  sleep 1
  [ "$hmac" = 1 ] && first=$((first + GPGB_KNOCKS))
  for i in $(seq 0 $((GPGB_KNOCKS - 1))); do
    src=${BENCH_SRCS[$((first + i))]}
    bench_packet "$src" tcp/22 "$BDIR/pkt" || break
    read -r us _ < <(bench_knock "$src" "$BDIR/pkt" "$FLOOD_TIMEOUT_MS")
    if [[ "${us:-}" =~ ^[0-9]+$ ]]; then
      echo "$us" >>"$samples"
      ok=$((ok + 1))
    fi
    sleep 0.5
  done
  wait "$spid" 2>/dev/null
  t1=$(gpgb_tree_ticks "$pid" "$GPGB_SRV"); w1=$(bench_now_us)
  R[gflood_$tag]=$(awk -v d=$((t1 - t0)) -v hz="$hz" -v w=$((w1 - w0)) \
    'BEGIN { printf "%.0f", d / hz / (w / 1e6) * 100 }')
  R[gfknock_${tag}_n]="$ok/$GPGB_KNOCKS"
  R[gfknock_${tag}_med]="none opened"
  [ "$ok" -gt 0 ] && R[gfknock_${tag}_med]=$(bench_pct 50 <"$samples")
  R[gfstat_$tag]=$(grep -ciE 'budget|not tried' "$BDIR/gpg-flood-$tag.log" 2>/dev/null)
  bench_stop
  bench_fw_reset
  gpgb_agent_kill "$GPGB_SRV"
  printf '%-16s GnuPG garbage %s/s for %s s (HMAC %s): CPU %s%% of a core; Rijndael knocks opened %s, median %s\n' \
    "gflood-$daemon" "$GPGB_FLOOD_RATE" "$GPGB_FLOOD_S" "$hmac" "${R[gflood_$tag]}" \
    "${R[gfknock_${tag}_n]}" "$(bench_cell "${R[gfknock_${tag}_med]}" us)" | tee -a "$BDIR/raw.txt"
}

bench_gpg() {
  if ! command -v gpg >/dev/null 2>&1 || [ ! -x "$GPGB_FWKNOP" ]; then
    echo "SKIP: GnuPG phases: gpg or $GPGB_FWKNOP not available"
    return 0
  fi
  echo "== GnuPG (g1: $GPGB_TRIALS knocks; g2: garbage at $GPGB_FLOOD_RATE/s for $GPGB_FLOOD_S s)"
  gpgb_keys || { bench_log "GnuPG keys could not be made"; return 0; }
  gpgb_garbage "$BDIR/ggarbage" "$GPGB_GARBAGE_N" || { bench_log "GnuPG garbage could not be made"; return 0; }
  bench_policy ipt || return 0
  gpgb_open fwknopd
  gpgb_open spad
  gpgb_flood fwknopd 0
  gpgb_flood spad 0
  gpgb_flood fwknopd 1
  gpgb_flood spad 1
  gpgb_agent_kill "$GPGB_CLI"
}

# The markdown section of docs/PERFORMANCE.md.
bench_gpg_report() {
  echo "| figure | fwknopd 2.6.10 | spad | ratio spad/fwknopd |"
  echo "|---|---|---|---|"
  bench_row "GnuPG knock (signed, HMAC), time to open, median" us gopen_fwknopd_med gopen_spad_med
  bench_row "GnuPG knock (signed, HMAC), time to open, p90" us gopen_fwknopd_p90 gopen_spad_p90
  bench_row_text "GnuPG knocks opened" gopen_fwknopd_n gopen_spad_n
  bench_row "CPU per GnuPG knock (daemon, gpg, gpg-agent)" ms gcpu_fwknopd gcpu_spad
  bench_row "CPU during GnuPG garbage, stanza without HMAC (% of a core)" % gflood_fwknopd_0 gflood_spad_0
  bench_row "Rijndael knock during that flood, time to open, median" us gfknock_fwknopd_0_med gfknock_spad_0_med
  bench_row_text "Rijndael knocks opened during that flood" gfknock_fwknopd_0_n gfknock_spad_0_n
  bench_row "CPU during GnuPG garbage, stanza with HMAC (% of a core)" % gflood_fwknopd_1 gflood_spad_1
  bench_row "Rijndael knock during that flood, time to open, median" us gfknock_fwknopd_1_med gfknock_spad_1_med
  bench_row_text "Rijndael knocks opened during that flood" gfknock_fwknopd_1_n gfknock_spad_1_n
}

bench_gpg_method() {
  cat <<EOF
Both daemons use the iptables backend and the same access.conf: a GnuPG
stanza (RSA-2048 server key with a passphrase, GPG_REMOTE_ID of the client's
RSA-2048 signing key) and a Rijndael stanza. Every GnuPG packet is built by
Debian's fwknop client, so both daemons read the same kind of packet.
"CPU per GnuPG knock" counts the daemon and every process below it (gpg runs,
spad's gpg helper) and the gpg-agent of the server's keyring, which does the
RSA private-key operation; the agent is restarted before each daemon and one
knock warms it before the measured ones. The garbage is $GPGB_GARBAGE_N real
unsigned knocks encrypted to the server's public key with one base64
character of their encrypted data changed, sent in turn at
$GPGB_FLOOD_RATE/s for $GPGB_FLOOD_S s: each one costs a private-key
operation before gpg can tell, which anyone who has the public key can do.
spad runs gpg for packets without an HMAC within GPG_MAX_CONCURRENT (default
2), GPG_MAX_PER_SECOND (default 20) and GPG_MAX_BUSY_PERCENT (default 25: each
run's duration is paid back at a quarter of the clock); with an HMAC,
garbage never reaches gpg. fwknopd runs gpg for every packet in turn.
EOF
}
