# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Helpers for bench/run.sh (sourced after tests/e2e/netns.sh): source
# addresses, configs for both daemons, starting/stopping them by pid, the
# firewall state between runs, CPU/RSS counters, and the time-to-open and
# garbage measurements. Results go into the associative array R; a figure
# that is absent there is reported as "not measured yet", never guessed.

declare -A R=()
BENCH_DAEMON_PID=""
BENCH_POLICY=none
BENCH_CONF_EXTRA=()
BENCH_SRCS=()
# Ports a grant asks for (tcp/1000 on), and at most this many per packet:
# spa-client refuses longer access messages than about 13 of them.
BENCH_GRANT_PORT0=1000
BENCH_PORTS_PER_PKT=10

bench_log() { printf 'bench: %s\n' "$*" >&2; }

# Client addresses for fresh sources: 198.51.100.4-254 (on the veth
# subnet) and 203.0.113.1-254 (host routes, the server routes them back).
bench_add_sources() {
  local i
  BENCH_SRCS=()
  for i in $(seq 4 254); do BENCH_SRCS+=("198.51.100.$i"); done
  for i in $(seq 1 254); do BENCH_SRCS+=("203.0.113.$i"); done
  {
    for i in $(seq 4 254); do echo "addr add 198.51.100.$i/24 dev $E2E_IF_CLI"; done
    for i in $(seq 1 254); do echo "addr add 203.0.113.$i/32 dev $E2E_IF_CLI"; done
  } | ip -n "$E2E_NS_CLI" -batch - || return 1
  ip -n "$E2E_NS_SRV" route add 203.0.113.0/24 dev "$E2E_IF_SRV" || return 1
  # Neighbour entries for every source up front, so no trial pays for ARP.
  e2e_cli ping -c1 -W1 "$E2E_SRV4" >/dev/null 2>&1
  return 0
}

bench_ports() { # <first> <count>: tcp/first,tcp/first+1,...
  local i out=""
  for i in $(seq "$1" $(($1 + $2 - 1))); do out+="${out:+,}tcp/$i"; done
  echo "$out"
}

# Stanza files: access1 (1 stanza) and access$NSTANZAS, where only the last
# stanza holds the keys the packets use, so every packet pays for all the
# others first; access-grants allows the grant ports with a long timeout
# (nothing expires during a run); access-cmdcycle drives ipset by command.
bench_make_configs() {
  BDIR=$E2E_TMPDIR
  KEY=$(head -c 32 /dev/urandom | base64 -w0)
  HMAC=$(head -c 64 /dev/urandom | base64 -w0)
  local n i f
  for n in 1 "$NSTANZAS"; do
    f="$BDIR/access$n.conf"
    : >"$f"
    for i in $(seq 2 "$n"); do
      printf 'SOURCE ANY\nOPEN_PORTS tcp/22\nKEY_BASE64 %s\nHMAC_KEY_BASE64 %s\nFW_ACCESS_TIMEOUT 60\n\n' \
        "$(head -c 32 /dev/urandom | base64 -w0)" "$(head -c 64 /dev/urandom | base64 -w0)" >>"$f"
    done
    printf 'SOURCE ANY\nOPEN_PORTS tcp/22\nKEY_BASE64 %s\nHMAC_KEY_BASE64 %s\nFW_ACCESS_TIMEOUT 60\n' \
      "$KEY" "$HMAC" >>"$f"
  done
  printf 'SOURCE ANY\nOPEN_PORTS tcp/22,%s\nKEY_BASE64 %s\nHMAC_KEY_BASE64 %s\nFW_ACCESS_TIMEOUT 7200\n' \
    "$(bench_ports "$BENCH_GRANT_PORT0" "$BENCH_MAX_PORTS")" "$KEY" "$HMAC" >"$BDIR/access-grants.conf"
  local ipset_exe
  ipset_exe=$(command -v ipset)
  printf 'SOURCE ANY\nOPEN_PORTS tcp/22\nKEY_BASE64 %s\nHMAC_KEY_BASE64 %s\nFW_ACCESS_TIMEOUT 60\n%s\n%s\n%s\n' \
    "$KEY" "$HMAC" "CMD_CYCLE_OPEN $ipset_exe -exist add spa_cc \$SRC,\$PROTO:\$PORT timeout 120" \
    "CMD_CYCLE_CLOSE $ipset_exe -exist del spa_cc \$SRC,\$PROTO:\$PORT" "CMD_CYCLE_TIMER 60" \
    >"$BDIR/access-cmdcycle.conf"
  chmod 600 "$BDIR"/access*.conf
}

# bench_packet <src> <ports> <file>: one packet, built (never timed) with
# the run's keys; its timestamp is the build time. BENCH_DST, when set,
# names the server (bench/cluster.sh has no E2E namespaces).
bench_packet() {
  "$CLIENT" --no-rc-file -A "$2" -a "$1" -D "${BENCH_DST:-$E2E_SRV4}" --key-base64-rijndael "$KEY" \
    --key-base64-hmac "$HMAC" -T -B "$3" >/dev/null 2>&1
}

# bench_plan <grants>: sources and ports per source for that many grants
# (each source one grant per port), into PLAN_SRCS and PLAN_PORTS.
bench_plan() {
  local k=$1 max=${#BENCH_SRCS[@]}
  [ "$max" -gt 500 ] && max=500
  PLAN_SRCS=$k
  [ "$PLAN_SRCS" -gt "$max" ] && PLAN_SRCS=$max
  PLAN_PORTS=$(((k + PLAN_SRCS - 1) / PLAN_SRCS))
}

# bench_build_list <list> <grants>: packets for bench_plan's sources x
# ports, at most BENCH_PORTS_PER_PKT ports a packet, listed as "src file".
bench_build_list() {
  local list=$1 dir="$1.d" s p n ports
  bench_plan "$2"
  rm -rf "$dir"; mkdir -p "$dir"; : >"$list"
  for s in $(seq 0 $((PLAN_SRCS - 1))); do
    for ((p = 0; p < PLAN_PORTS; p += BENCH_PORTS_PER_PKT)); do
      n=$((PLAN_PORTS - p))
      [ "$n" -gt "$BENCH_PORTS_PER_PKT" ] && n=$BENCH_PORTS_PER_PKT
      ports=$(bench_ports $((BENCH_GRANT_PORT0 + p)) "$n")
      bench_packet "${BENCH_SRCS[$s]}" "$ports" "$dir/$s-$p" ||
        { bench_log "spa-client could not build a packet"; return 1; }
      echo "${BENCH_SRCS[$s]} $dir/$s-$p" >>"$list"
    done
  done
}

# The default-drop policy a run needs: "ipt" (iptables INPUT DROP, for
# fwknopd and spad's iptables/ipset/cmdcycle) or "none" (spad's nftables
# table drops tcp/22 itself; firewalld has its own zones).
bench_policy() {
  [ "$BENCH_POLICY" = "$1" ] && return 0
  if [ "$1" = ipt ]; then
    e2e_policy_iptables "$PORT" || return 1
  else
    e2e_policy_iptables_clear
  fi
  BENCH_POLICY=$1
}

# Removes what a daemon left behind (a killed one keeps its grants; the
# nftables table with its drop rule survives even a clean stop; a stopped
# firewalld leaves its table, which rejects tcp/22).
bench_fw_reset() {
  e2e_srv iptables -w -F FWKNOP_INPUT 2>/dev/null
  e2e_srv nft delete table inet spa 2>/dev/null
  e2e_srv nft delete table inet firewalld 2>/dev/null
  e2e_srv ipset flush spa4 2>/dev/null
  e2e_srv ipset flush spa_cc 2>/dev/null
  return 0
}

# bench_start <fwknopd|spad> <backend> <udp|pcap> <access file> <tag>;
# extra fwknopd.conf lines may be set in BENCH_CONF_EXTRA beforehand.
bench_start() {
  local daemon=$1 backend=$2 mode=$3 access=$4 tag=$5 run conf i
  run="$BDIR/run-$tag"
  conf="$BDIR/$tag.conf"
  rm -rf "$run"
  mkdir -p -m 700 "$run"
  {
    if [ "$mode" = udp ]; then echo "ENABLE_UDP_SERVER Y"; else echo "ENABLE_UDP_SERVER N"; fi
    echo "UDPSERV_PORT $PORT"
    echo "PCAP_INTF $E2E_IF_SRV"
    echo "PCAP_FILTER udp port $PORT"
    echo "FWKNOP_RUN_DIR $run"
    # Long lists of pre-built packets may wait minutes for a slow daemon.
    echo "MAX_SPA_PACKET_AGE 3600"
    if [ "$daemon" = spad ]; then
      echo "PLUGIN_DIR $PLUGINS"
      echo "FIREWALL_TYPE $backend"
      [ "$backend" = nftables ] && echo "NFT_PROTECT_PORTS tcp/22"
    fi
    for i in "${BENCH_CONF_EXTRA[@]}"; do echo "$i"; done
  } >"$conf"
  chmod 600 "$conf"
  if [ "$daemon" = fwknopd ]; then
    e2e_spawn ip netns exec "$E2E_NS_SRV" "$FWKNOPD" -f -c "$conf" -a "$access" \
      -d "$run/digest.cache" -p "$run/fwknopd.pid" 2>"$BDIR/$tag.log" >&2
  else
    local modeopt=(-U)
    [ "$mode" = pcap ] && modeopt=(-i "$E2E_IF_SRV")
    e2e_spawn ip netns exec "$E2E_NS_SRV" "$SPAD" -f "${modeopt[@]}" -c "$conf" \
      -a "$access" -r "$run" 2>"$BDIR/$tag.log" >&2
  fi
  BENCH_DAEMON_PID=$E2E_LAST_PID
  for i in $(seq 1 100); do
    kill -0 "$BENCH_DAEMON_PID" 2>/dev/null || break
    if [ "$mode" = udp ]; then
      e2e_srv ss -Hlun "sport = :$PORT" | grep -q . && return 0
    elif [ "$i" -ge 10 ]; then
      return 0 # no socket to wait for; a second is plenty to open the capture
    fi
    sleep 0.1
  done
  bench_log "$tag: daemon did not start; log:"
  tail -5 "$BDIR/$tag.log" >&2
  return 1
}

bench_stop() {
  [ -n "$BENCH_DAEMON_PID" ] && e2e_kill_pid "$BENCH_DAEMON_PID"
  BENCH_DAEMON_PID=""
}

# After runs with many grants: a clean stop would close them one by one,
# which measures nothing; kill and reset the firewall instead.
bench_kill() {
  if [ -n "$BENCH_DAEMON_PID" ]; then
    kill -KILL "$BENCH_DAEMON_PID" 2>/dev/null
    wait "$BENCH_DAEMON_PID" 2>/dev/null
  fi
  BENCH_DAEMON_PID=""
  bench_fw_reset
}

# Nearest-rank percentile of the numbers on stdin.
bench_pct() {
  sort -n | awk -v p="$1" '{ v[NR] = $1 } END {
    if (NR == 0) exit 1
    i = int(NR * p / 100); if (i < NR * p / 100) i++; if (i < 1) i = 1
    print v[i] }'
}

# The daemon and its live children of the same name: spad's packet process
# (privilege separation, docs/SECURITY.md) does the per-packet work, so its
# CPU, wakeups and memory are the daemon's. Short-lived children (firewall
# commands) are counted through cutime/cstime once reaped.
bench_family() {
  local pid=$1 comm c
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 0
  echo "$pid"
  for c in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
    [ "$(cat "/proc/$c/comm" 2>/dev/null)" = "$comm" ] && echo "$c"
  done
}
# Clock ticks the daemon (family) and its reaped children have used.
bench_ticks() {
  local p t=0
  for p in $(bench_family "$1"); do
    t=$((t + $(sed 's/.*) //' "/proc/$p/stat" | awk '{ print $12 + $13 + $14 + $15 }')))
  done
  echo "$t"
}
bench_child_ticks() {
  sed 's/.*) //' "/proc/$1/stat" | awk '{ print $14 + $15 }'
}
# Nanoseconds on CPU, all threads of the family (finer than ticks; reaped
# children not included).
bench_sched_ns() {
  local p
  for p in $(bench_family "$1"); do cat /proc/"$p"/task/*/schedstat; done |
    awk '{ s += $1 } END { printf "%.0f\n", s }'
}
# Resident memory: the daemon's RSS, plus for each other process of the
# family (spad's packet process) only the pages it does not share with the
# monitor (Private_* of smaps_rollup): the copy-on-write pages they share
# are counted once, not twice, and nothing the second process costs is left
# out.
bench_rss_kb() {
  local p rss
  rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status")
  for p in $(bench_family "$1"); do
    [ "$p" = "$1" ] && continue
    rss=$((rss + $(awk '/^Private_(Clean|Dirty):/ { s += $2 } END { print s + 0 }' \
      "/proc/$p/smaps_rollup")))
  done
  echo "$rss"
}
# Context switches of all threads of the family: every wakeup is one.
bench_ctxt() {
  local p
  for p in $(bench_family "$1"); do cat /proc/"$p"/task/*/status; done |
    awk '/^(non)?voluntary_ctxt_switches:/ { s += $2 } END { print s + 0 }'
}
bench_now_us() { echo "${EPOCHREALTIME/./}"; }

# Datagrams the kernel dropped at the daemon's UDP socket (receive queue
# full): those cost the daemon nothing and must not dilute the average.
bench_udp_drops() {
  e2e_srv cat /proc/net/udp /proc/net/udp6 | awk -v p="$(printf ':%04X' "$PORT")" \
    '$2 ~ p"$" { d += $NF } END { print d + 0 }'
}
# The receive queue of the daemon's socket, in bytes: read the CPU counters
# only once the daemon has worked through everything that was queued.
bench_udp_rxq() {
  local sum=0 q
  for q in $(e2e_srv cat /proc/net/udp /proc/net/udp6 | awk -v p="$(printf ':%04X' "$PORT")" \
      '$2 ~ p"$" { split($5, q, ":"); print q[2] }'); do
    sum=$((sum + 16#$q))
  done
  echo "$sum"
}
bench_wait_drained() {
  local i
  for i in $(seq 1 300); do
    [ "$(bench_udp_rxq)" = 0 ] && return 0
    sleep 0.1
  done
  bench_log "receive queue still not empty after 30 s"
}

# bench_knock <src> <pkt> <timeout ms>: "<us> <connects>", the
# microseconds to the first connect that passes (or "timeout") and the
# connects the prober started.
bench_knock() {
  e2e_cli "$NET" knock "$1" "$E2E_SRV4" "$PORT" "$2" 22 "$3" "$BENCH_PROBE_US" 2>/dev/null
}

# The prober's real interval between connects over a sample file of
# bench_knock lines (it falls behind when the CPUs are busy).
bench_probe_every() {
  awk '$2 > 0 { s += $1 / $2; n++ } END { if (n) printf "%.0f", s / n; else print "?" }' "$1"
}

# bench_open_trials <tag> [first]: TRIALS knocks to the running daemon,
# each from a fresh source (BENCH_SRCS from index <first>, default 0), from
# the SPA datagram to the first TCP connect to tcp/22 that passes; results
# in R[open_<tag>_n/_med/_p90] and a raw line.
bench_open_trials() {
  local tag=$1 first=${2:-0} i src us n ok=0 fail=0 samples="$BDIR/open-$1.txt"
  : >"$samples"
  for i in $(seq "$first" $((first + TRIALS - 1))); do
    src=${BENCH_SRCS[$i]}
    # Built just before its trial (timestamps stay fresh), never timed.
    bench_packet "$src" tcp/22 "$BDIR/pkt" || { bench_log "spa-client could not build a packet"; break; }
    read -r us n < <(bench_knock "$src" "$BDIR/pkt" 3000)
    if [[ "${us:-}" =~ ^[0-9]+$ ]]; then
      echo "$us ${n:-0}" >>"$samples"
      ok=$((ok + 1))
    else
      fail=$((fail + 1))
    fi
    sleep 0.05
  done
  R[open_${tag}_n]="$ok/$((ok + fail))"
  if [ "$ok" -gt 0 ]; then
    R[open_${tag}_med]=$(bench_pct 50 <"$samples")
    R[open_${tag}_p90]=$(bench_pct 90 <"$samples")
  fi
  printf '%-16s opened %s  median %s us  p90 %s us  (a connect every %s us on average)\n' \
    "$tag" "${R[open_${tag}_n]}" "${R[open_${tag}_med]:-n/a}" "${R[open_${tag}_p90]:-n/a}" \
    "$(bench_probe_every "$samples")" | tee -a "$BDIR/raw.txt"
}

# bench_open <tag> <daemon> <backend> <udp|pcap> [access file]: time to
# open (bench_open_trials) against a daemon started for it. The
# policy/consuming rules must already be in place.
bench_open() {
  local tag=$1
  bench_start "$2" "$3" "$4" "${5:-$BDIR/access1.conf}" "open-$tag" || { bench_stop; return 0; }
  [ -n "${BENCH_OPEN_HOOK:-}" ] && "$BENCH_OPEN_HOOK"
  bench_open_trials "$tag"
  bench_stop
  if [ "${R[open_${tag}_n]%%/*}" = 0 ]; then
    bench_log "$tag: nothing opened; daemon log tail:"
    tail -8 "$BDIR/open-$tag.log" >&2
  fi
}

# bench_garbage <tag> <daemon> <stanzas> <count> <rate>: CPU per datagram
# that does not authenticate, at a fixed rate, and the resident size
# before/after.
bench_garbage() {
  local tag=$1 count=$4 rate=$5 pid t0 t1 s0 s1 c0 c1 d0 d1 secs hz handled
  hz=$(getconf CLK_TCK)
  bench_start "$2" iptables udp "$BDIR/access$3.conf" "garbage-$tag" || { bench_stop; return 0; }
  pid=$BENCH_DAEMON_PID
  sleep 0.5
  R[rss0_$tag]=$(bench_rss_kb "$pid")
  t0=$(bench_ticks "$pid"); s0=$(bench_sched_ns "$pid"); c0=$(bench_child_ticks "$pid")
  d0=$(bench_udp_drops)
  secs=$(e2e_cli "$NET" flood "$E2E_CLI4" "$E2E_SRV4" "$PORT" "$count" "$rate" "$PKTLEN")
  bench_wait_drained
  sleep 0.2
  if kill -0 "$pid" 2>/dev/null; then
    t1=$(bench_ticks "$pid"); s1=$(bench_sched_ns "$pid"); c1=$(bench_child_ticks "$pid")
    d1=$(bench_udp_drops)
    handled=$((count - (d1 - d0)))
    R[rss1_$tag]=$(bench_rss_kb "$pid")
    if [ "$handled" -gt 0 ]; then
      R[cpu_$tag]=$(awk -v d=$((t1 - t0)) -v hz="$hz" -v n="$handled" 'BEGIN { printf "%.2f", d / hz / n * 1e6 }')
      R[cpuns_$tag]=$(awk -v d=$((s1 - s0)) -v n="$handled" 'BEGIN { printf "%.2f", d / n / 1000 }')
    fi
    R[ticks_$tag]=$((t1 - t0))
    R[child_$tag]=$((c1 - c0))
    R[drops_$tag]=$((d1 - d0))
  else
    bench_log "$tag: daemon died during the flood"
  fi
  bench_stop
  printf '%-13s %s x %s B at %s/s in %s s, %s dropped: %s ticks (%s children), %s us/pkt (stat), %s us/pkt (schedstat), RSS %s -> %s kB\n' \
    "$tag" "$count" "$PKTLEN" "$rate" "${secs:-?}" "${R[drops_$tag]:-?}" "${R[ticks_$tag]:-?}" \
    "${R[child_$tag]:-?}" "${R[cpu_$tag]:-n/a}" "${R[cpuns_$tag]:-n/a}" "${R[rss0_$tag]:-?}" "${R[rss1_$tag]:-?}" |
    tee -a "$BDIR/raw.txt"
}
