# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# The measurements of bench/run.sh that need many grants or a flood (sourced
# after bench/lib.sh): sustained grants/s and CPU per grant, idle cost with
# and without pending grants, RSS with thousands of live grants, and a knock
# during a garbage flood.

# bench_count <backend>: grants the backend holds right now. Only the
# backends these phases use: one FWKNOP_INPUT rule per grant (fwknopd and
# spad's iptables plugin alike), one set element per grant otherwise.
bench_count() {
  local n
  case $1 in
    iptables) n=$(e2e_srv iptables -w -S FWKNOP_INPUT 2>/dev/null | grep -c '^-A') ;;
    nftables) n=$(e2e_srv nft list set inet spa allow4 2>/dev/null | grep -o ' expires ' | wc -l) ;;
    ipset) n=$(e2e_srv ipset -t list spa4 2>/dev/null | awk '/^Number of entries:/ { print $4 }') ;;
    # the flaky test plugin: a file per entry in RT_COUNT_DIR (bench/runtime.sh)
    flaky) n=$(find "$RT_COUNT_DIR" -maxdepth 1 -type f ! -name ops.log 2>/dev/null | wc -l) ;;
  esac
  echo "${n:-0}"
}

# bench_fill <backend> <list> <grants> <max seconds> <poll seconds>: sends
# every packet of the list to the running daemon, each held back while its
# socket has 64 KiB queued (so the kernel drops none), and polls the
# firewall until it holds <grants>. Sets FILL_N (grants reached), FILL_S
# (seconds from the first send until all were in place, or until giving
# up), FILL_HELD (times the sender waited), FILL_DROPS (kernel drops),
# FILL_POLL_MS (how long one poll of the firewall takes).
bench_fill() {
  local backend=$1 list=$2 want=$3 max=$4 poll=$5 pid=$BENCH_DAEMON_PID
  local out="$BDIR/send.out" spid t_start t_end d0 deadline first
  FILL_N=0; FILL_S=""; FILL_HELD=""; FILL_DROPS=""
  d0=$(bench_udp_drops)
  t_start=$(bench_now_us)
  ip netns exec "$E2E_NS_CLI" "$NET" send "$list" "$E2E_SRV4" "$PORT" 0 "/proc/$pid/net" 65536 \
    >"$out" 2>>"$BDIR/send.err" &
  spid=$!
  deadline=$((SECONDS + max))
  while :; do
    FILL_N=$(bench_count "$backend")
    [ "$FILL_N" -ge "$want" ] && break
    [ "$SECONDS" -ge "$deadline" ] && break
    kill -0 "$pid" 2>/dev/null || { bench_log "daemon died while granting"; break; }
    sleep "$poll"
  done
  t_end=$(bench_now_us)
  # One more poll, timed: it bounds how late the loop can have seen the end.
  FILL_POLL_MS=$(bench_now_us)
  bench_count "$backend" >/dev/null
  FILL_POLL_MS=$((($(bench_now_us) - FILL_POLL_MS) / 1000))
  kill -TERM "$spid" 2>/dev/null
  wait "$spid" 2>/dev/null
  read -r first _ _ FILL_HELD _ <"$out" 2>/dev/null
  [[ "${first:-}" =~ ^[0-9]+$ ]] && t_start=$first
  FILL_S=$(awk -v a="$t_start" -v b="$t_end" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
  FILL_DROPS=$(($(bench_udp_drops) - d0))
}

# bench_grants <tag> <daemon> <backend>: sustained grants/s with distinct
# sources, and CPU per grant (the daemon's threads, and with the firewall
# commands it ran and reaped).
bench_grants() {
  local tag=$1 daemon=$2 backend=$3 pid t0 t1 s0 s1 hz
  hz=$(getconf CLK_TCK)
  bench_start "$daemon" "$backend" udp "$BDIR/access-grants.conf" "grants-$tag" || { bench_kill; return 0; }
  pid=$BENCH_DAEMON_PID
  sleep 0.5
  t0=$(bench_ticks "$pid"); s0=$(bench_sched_ns "$pid")
  bench_fill "$backend" "$BDIR/grants.list" "$GRANTS" "$BENCH_GRANT_MAX_S" 0.002
  if kill -0 "$pid" 2>/dev/null; then
    t1=$(bench_ticks "$pid"); s1=$(bench_sched_ns "$pid")
    R[gn_$tag]="$FILL_N/$GRANTS"
    if [ "$FILL_N" -gt 0 ]; then
      R[gps_$tag]=$(awk -v n="$FILL_N" -v s="$FILL_S" 'BEGIN { printf "%.1f", n / s }')
      R[gcpu_$tag]=$(awk -v d=$((t1 - t0)) -v hz="$hz" -v n="$FILL_N" 'BEGIN { printf "%.1f", d / hz / n * 1e6 }')
      R[gcpuns_$tag]=$(awk -v d=$((s1 - s0)) -v n="$FILL_N" 'BEGIN { printf "%.1f", d / n / 1000 }')
    fi
  fi
  bench_kill
  printf '%-16s %s grants in %s s (one poll %s ms; sender held back %s times, %s dropped): %s grants/s, %s us CPU/grant incl. children, %s us threads only\n' \
    "$tag" "${R[gn_$tag]:-0/$GRANTS}" "$FILL_S" "$FILL_POLL_MS" "${FILL_HELD:-?}" "${FILL_DROPS:-?}" "${R[gps_$tag]:-n/a}" \
    "${R[gcpu_$tag]:-n/a}" "${R[gcpuns_$tag]:-n/a}" | tee -a "$BDIR/raw.txt"
}

# bench_idle_window <pid>:<key suffix>...: wakeups (context switches of
# every thread) and CPU of each daemon over the same IDLE_S seconds of
# nothing arriving.
bench_idle_window() {
  local pk pid k hz
  local -A w0=() t0=() s0=()
  hz=$(getconf CLK_TCK)
  for pk in "$@"; do
    pid=${pk%%:*}
    w0[$pid]=$(bench_ctxt "$pid"); t0[$pid]=$(bench_ticks "$pid"); s0[$pid]=$(bench_sched_ns "$pid")
  done
  sleep "$IDLE_S"
  for pk in "$@"; do
    pid=${pk%%:*} k=${pk#*:}
    kill -0 "$pid" 2>/dev/null || continue
    R[wake_$k]=$(($(bench_ctxt "$pid") - w0[$pid]))
    R[icpu_$k]=$(awk -v d=$(($(bench_ticks "$pid") - t0[$pid])) -v hz="$hz" 'BEGIN { printf "%.0f", d / hz * 1000 }')
    R[icpuns_$k]=$(awk -v d=$(($(bench_sched_ns "$pid") - s0[$pid])) 'BEGIN { printf "%.2f", d / 1e6 }')
  done
}

# bench_with_port <port> <command...>: the command talks to a daemon on
# another UDP port (bash's dynamic scoping hands PORT down).
bench_with_port() {
  local PORT=$1
  shift
  "$@"
}

# bench_idle: idle cost of fwknopd (iptables, port PORT) and spad (nftables,
# port PORT+1), both running at once so their windows overlap: with no
# grant, then with IDLE_GRANTS pending (FW_ACCESS_TIMEOUT 7200: none
# expires meanwhile). Each daemon's counters are its own.
bench_idle() {
  local fpid spid k
  bench_start fwknopd iptables udp "$BDIR/access-grants.conf" idle-fwknopd || { bench_kill; return 0; }
  fpid=$BENCH_DAEMON_PID
  bench_with_port $((PORT + 1)) bench_start spad nftables udp "$BDIR/access-grants.conf" idle-spad ||
    { bench_kill; BENCH_DAEMON_PID=$fpid; bench_kill; return 0; }
  spid=$BENCH_DAEMON_PID
  sleep 2
  bench_idle_window "$fpid:0_fwknopd" "$spid:0_spad"
  BENCH_DAEMON_PID=$fpid
  bench_fill iptables "$BDIR/idle.list" "$IDLE_GRANTS" "$BENCH_GRANT_MAX_S" 0.1
  R[idlen_fwknopd]="$FILL_N/$IDLE_GRANTS"
  BENCH_DAEMON_PID=$spid
  bench_with_port $((PORT + 1)) bench_fill nftables "$BDIR/idle.list" "$IDLE_GRANTS" "$BENCH_GRANT_MAX_S" 0.1
  R[idlen_spad]="$FILL_N/$IDLE_GRANTS"
  sleep 2
  bench_idle_window "$fpid:1_fwknopd" "$spid:1_spad"
  bench_kill
  BENCH_DAEMON_PID=$fpid
  bench_kill
  for k in fwknopd spad; do
    printf '%-16s idle %s s: %s wakeups, %s ms CPU (stat, incl. children), %s ms (schedstat); with %s grants: %s wakeups, %s ms, %s ms\n' \
      "idle-$k" "$IDLE_S" "${R[wake_0_$k]:-?}" "${R[icpu_0_$k]:-?}" "${R[icpuns_0_$k]:-?}" \
      "${R[idlen_$k]}" "${R[wake_1_$k]:-?}" "${R[icpu_1_$k]:-?}" "${R[icpuns_1_$k]:-?}"
  done | tee -a "$BDIR/raw.txt"
}

# bench_rss_grants <tag> <daemon> <backend> <max seconds>: resident size
# with RSS_GRANTS live grants (or as many as the daemon reached in time).
bench_rss_grants() {
  local tag=$1 daemon=$2 backend=$3 pid
  bench_start "$daemon" "$backend" udp "$BDIR/access-grants.conf" "rss-$tag" || { bench_kill; return 0; }
  pid=$BENCH_DAEMON_PID
  sleep 0.5
  bench_fill "$backend" "$BDIR/rss.list" "$RSS_GRANTS" "$4" 0.1
  if kill -0 "$pid" 2>/dev/null; then
    R[rssg_$tag]=$(bench_rss_kb "$pid")
    R[rssgn_$tag]=$FILL_N
    R[rssgs_$tag]=$FILL_S
    [ "$FILL_N" -gt 0 ] &&
      R[rssgps_$tag]=$(awk -v n="$FILL_N" -v s="$FILL_S" 'BEGIN { printf "%.1f", n / s }')
  fi
  bench_kill
  printf '%-16s %s/%s grants in %s s (limit %s s, one poll %s ms), RSS %s kB\n' "$tag" "$FILL_N" \
    "$RSS_GRANTS" "$FILL_S" "$4" "$FILL_POLL_MS" "${R[rssg_$tag]:-?}" | tee -a "$BDIR/raw.txt"
}

# bench_flood_knock <tag> <daemon> <backend>: valid knocks from fresh
# sources while one client core sends garbage as fast as it can; the
# policy for <backend> must be in place.
bench_flood_knock() {
  local tag=$1 daemon=$2 backend=$3 bpid i src us ok=0 d0 samples="$BDIR/flood-$1.txt"
  local first=$((${#BENCH_SRCS[@]} - FLOOD_TRIALS))
  : >"$samples"
  bench_start "$daemon" "$backend" udp "$BDIR/access1.conf" "flood-$tag" || { bench_stop; return 0; }
  d0=$(bench_udp_drops)
  ip netns exec "$E2E_NS_CLI" "$NET" blast "$E2E_CLI4" "$E2E_SRV4" "$PORT" 600 "$PKTLEN" \
    >"$BDIR/blast-$tag.out" 2>&1 &
  bpid=$!
  sleep 1
  for i in $(seq 0 $((FLOOD_TRIALS - 1))); do
    src=${BENCH_SRCS[$((first + i))]}
    bench_packet "$src" tcp/22 "$BDIR/pkt" || break
    read -r us _ < <(bench_knock "$src" "$BDIR/pkt" "$FLOOD_TIMEOUT_MS")
    if [[ "${us:-}" =~ ^[0-9]+$ ]]; then
      echo "$us" >>"$samples"
      ok=$((ok + 1))
    fi
    sleep 0.2
  done
  kill -TERM "$bpid" 2>/dev/null
  wait "$bpid" 2>/dev/null
  R[floodn_$tag]="$ok/$FLOOD_TRIALS"
  R[floodmed_$tag]="none opened"
  R[floodmax_$tag]="none opened"
  if [ "$ok" -gt 0 ]; then
    R[floodmed_$tag]=$(bench_pct 50 <"$samples")
    R[floodmax_$tag]=$(bench_pct 100 <"$samples")
  fi
  R[flooddrops_$tag]=$(($(bench_udp_drops) - d0))
  read -r _ R[floodrate_$tag] <"$BDIR/blast-$tag.out" 2>/dev/null
  bench_stop
  bench_fw_reset
  printf '%-16s garbage at %s/s (%s dropped by the kernel): knocks opened %s, median %s, max %s\n' \
    "$tag" "${R[floodrate_$tag]:-?}" "${R[flooddrops_$tag]}" "${R[floodn_$tag]}" \
    "$(bench_cell "${R[floodmed_$tag]}" us)" "$(bench_cell "${R[floodmax_$tag]}" us)" | tee -a "$BDIR/raw.txt"
}
