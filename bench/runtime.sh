# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# The plugin runtime's targets (sourced by bench/run.sh after lib.sh and
# phases.sh), measured with the flaky test plugin (tests/plugins/flaky),
# whose FLAKY_STATE_DIR holds one file per entry and ops.log a line per
# call:
#  (i)   time to open of an nftables stanza while a flaky stanza (500 ms a
#        call, a knock every 100 ms) keeps its backend busy, against the
#        same daemon idle; garbage datagrams decided per second, both ways;
#  (ii)  knocks on a backend failing 30% of its calls transiently: every
#        grant opened and closed exactly once, nothing left;
#  (iii) the same knocks with spad killed (-9) at random moments and
#        restarted: no entry outlives its grant (by default on a backend
#        that does not fail: a close it refuses is rightly late);
#  (iv)  iptables with thousands of live grants: new grants/s, and how long
#        a clean stop takes to close them all;
#  (v)   the monitor's resident memory at start and with 10,000 live grants
#        (flaky and nftables), after the burst has settled.
# Knobs (environment), defaults in brackets; a phase knob 0 skips it:
#   BENCH_RT_BUSY [1], BENCH_RT_FAIL [1], BENCH_RT_KILL [1], BENCH_RT_LIVE [1],
#   BENCH_RT_MEM [1]
#   BENCH_RT_TRIALS [15]      time-to-open trials, idle and busy each
#   BENCH_RT_GARBAGE_S [3]    seconds of garbage, idle and busy each
#   BENCH_RT_KNOCKS [1000]    knocks (one grant each) of (ii) and (iii)
#   BENCH_RT_TIMEOUT [30]     their FW_ACCESS_TIMEOUT
#   BENCH_RT_FAIL_MAX [5]     (ii): at most this many failures in a row per grant
#                             and op (0: no limit; closes back off to 300 s)
#   BENCH_RT_KILLS [3], BENCH_RT_SEND_RATE [200/s], BENCH_RT_KILL_FAIL_PCT [0] (iii)
#   BENCH_RT_MARGIN_S [5]     how late after its expiry a close may be tried
#   BENCH_RT_LIVE_GRANTS [5000], BENCH_RT_NEW [500], BENCH_RT_STOP_MAX_S [60] (iv)
#   BENCH_RT_MEM_GRANTS [10000], BENCH_RT_MEM_SETTLE_S [3],
#   BENCH_RT_MEM_BACKENDS [flaky nftables], BENCH_RT_MEM_HOOK (for analysis:
#   a command run with the monitor's pid, the backend and "start" or "live"
#   after each reading) (v)
#   BENCH_RT_MAX_S [240]      give up waiting for a phase's closes after this
#   BENCH_GRANT_MAX_S (bench/run.sh) bounds filling the live grants of (iv)

RT_TRIALS=${BENCH_RT_TRIALS:-15}
RT_GARBAGE_S=${BENCH_RT_GARBAGE_S:-3}
RT_KNOCKS=${BENCH_RT_KNOCKS:-1000}
RT_TIMEOUT=${BENCH_RT_TIMEOUT:-30}
RT_KILLS=${BENCH_RT_KILLS:-3}
RT_SEND_RATE=${BENCH_RT_SEND_RATE:-200}
RT_KILL_PCT=${BENCH_RT_KILL_FAIL_PCT:-0}
RT_FAIL_MAX=${BENCH_RT_FAIL_MAX:-5}
RT_MARGIN_S=${BENCH_RT_MARGIN_S:-5}
RT_LIVE=${BENCH_RT_LIVE_GRANTS:-5000}
RT_NEW=${BENCH_RT_NEW:-500}
RT_STOP_MAX_S=${BENCH_RT_STOP_MAX_S:-60}
RT_MAX_S=${BENCH_RT_MAX_S:-240}
RT_MEM_GRANTS=${BENCH_RT_MEM_GRANTS:-10000}
RT_MEM_SETTLE_S=${BENCH_RT_MEM_SETTLE_S:-3}
RT_MEM_BACKENDS=${BENCH_RT_MEM_BACKENDS:-flaky nftables}
RT_MEM_TARGET_KB=1536
RT_MEM_PLAN="sources x ports"
RT_FLAKY=${BENCH_RT_FLAKY:-$build/tests/plugins/flaky/flaky.so}

# PLUGIN_DIR is one directory: the shipped plugins and flaky side by side.
rt_plugin_dir() {
  local so
  RT_PLUGINS="$BDIR/rt-plugins"
  rm -rf "$RT_PLUGINS"
  mkdir -p "$RT_PLUGINS" || return 1
  for so in "$PLUGINS"/*.so "$RT_FLAKY"; do ln -s "$so" "$RT_PLUGINS/" || return 1; done
}

# rt_state <dir> [fwknopd.conf lines...]: a fresh flaky backend in <dir>
# (entries and ops.log in <dir>/flaky, the journal in <dir>, so that it
# outlives bench_start's fresh run directory across restarts); the lines
# go to BENCH_CONF_EXTRA.
rt_state() {
  local dir=$1
  shift
  rm -rf "$dir"
  mkdir -m 700 "$dir" || return 1
  BENCH_CONF_EXTRA=("PLUGIN_DIR $RT_PLUGINS" "SPA_JOURNAL_FILE $dir/grants.json"
    "FLAKY_STATE_DIR $dir/flaky" "FLUSH_FLAKY_AT_INIT N" "FLUSH_FLAKY_AT_EXIT N" "$@")
}

rt_entries() { find "$1" -maxdepth 1 -type f ! -name ops.log 2>/dev/null | wc -l; }

# rt_stats <ops.log>: per grant, from the lines of its open and close calls:
# "grants opened-once opened-more never-opened closed-once closed-more
# never-closed last-call-open open-failures close-failures
# worst-first-close-ms worst-removal-ms", the last two how long after the
# grant's expiry its first close was tried and its entry went.
rt_stats() {
  awk '
    function val(name,   i, kv) {
      for (i = 3; i <= NF; i++) if (split($i, kv, "=") == 2 && kv[1] == name) return kv[2]
      return ""
    }
    $1 == "open" || $1 == "close" {
      id = val("id"); seen[id] = 1
      late = val("wall") - 1000 * val("exp")
      if ($1 == "close" && !(id in first)) first[id] = late
      if ($2 != "ok") { fails[$1]++; next }
      ok[$1, id]++; last[id] = $1
      if ($1 == "close") removed[id] = late
    }
    END {
      for (id in seen) {
        n++; o = ok["open", id]; c = ok["close", id]
        once += o == 1; more += o > 1; never += o == 0
        c1 += c == 1; cmore += c > 1; unclosed += c == 0; lastopen += last[id] == "open"
        if (first[id] > fl) fl = first[id]
        if (removed[id] > rl) rl = removed[id]
      }
      printf "%d %d %d %d %d %d %d %d %d %d %d %d\n", n, once, more, never, c1, cmore,
        unclosed, lastopen, fails["open"], fails["close"], fl, rl
    }' "$1"
}

# rt_wait_closed <dir> <not before, $SECONDS>: waits until every grant the
# backend saw has been closed and it holds nothing, once every knock's
# grant has expired (or RT_MAX_S). RT_DONE_S: seconds from <not before>.
rt_wait_closed() {
  local dir=$1 t0=$2 s
  while [ "$SECONDS" -lt $((t0 + RT_TIMEOUT + 2)) ]; do sleep 1; done
  while [ "$SECONDS" -lt $((t0 + RT_MAX_S)) ]; do
    read -r -a s < <(rt_stats "$dir/flaky/ops.log")
    [ "${s[6]:-1}" = 0 ] && [ "${s[7]:-1}" = 0 ] && [ "$(rt_entries "$dir/flaky")" = 0 ] && break
    sleep 1
  done
  RT_DONE_S=$((SECONDS - t0))
}

# rt_record <key> <dir>: the stats of a phase into R[<key>_*].
rt_record() {
  local k=$1 s
  read -r -a s < <(rt_stats "$2/flaky/ops.log")
  R[${k}_grants]=${s[0]:-0} R[${k}_once]=${s[1]:-0} R[${k}_more]=${s[2]:-0}
  R[${k}_never]=${s[3]:-0} R[${k}_closed]=${s[4]:-0} R[${k}_cmore]=${s[5]:-0}
  R[${k}_unclosed]=${s[6]:-0} R[${k}_lastopen]=${s[7]:-0} R[${k}_ofail]=${s[8]:-0}
  R[${k}_cfail]=${s[9]:-0} R[${k}_first_ms]=${s[10]:-0} R[${k}_removed_ms]=${s[11]:-0}
  R[${k}_left]=$(rt_entries "$2/flaky")
  R[${k}_s]=$RT_DONE_S
}

# Garbage decided per second by the running daemon: RT_GARBAGE_S s of
# unpaced garbage, until its socket is drained; what the kernel dropped
# and what is still queued then was not decided (knocks queued with the
# garbage count as garbage there, hence the floor at 0).
rt_garbage() {
  local key=$1 d0 t0 sent left
  d0=$(bench_udp_drops)
  t0=$(bench_now_us)
  read -r sent _ < <(e2e_cli "$NET" blast "$E2E_CLI4" "$E2E_SRV4" "$PORT" "$RT_GARBAGE_S" "$PKTLEN")
  bench_wait_drained
  left=$(($(bench_udp_rxq) / PKTLEN))
  sent=${sent:-0}
  R[$key]=$(awk -v n=$((sent - $(bench_udp_drops) + d0 - left)) -v us=$(($(bench_now_us) - t0)) \
    'BEGIN { printf "%.0f", (n > 0 ? n : 0) / us * 1e6 }')
}

# (i) A busy slow backend against an idle one, in one daemon: stanza 1 is
# flaky (203.0.113.0/24, 500 ms a call), stanza 2 nftables (198.51.100.0/24).
rt_busy() {
  local dir="$BDIR/rt-busy" list="$BDIR/rt-busy.list" acc="$BDIR/access-rt-busy.conf" i p spid
  printf 'SOURCE 203.0.113.0/24\nOPEN_PORTS tcp/22,tcp/80\nKEY_BASE64 %s\nHMAC_KEY_BASE64 %s\nFW_ACCESS_TIMEOUT 600\nFIREWALL_TYPE flaky\n\nSOURCE 198.51.100.0/24\nOPEN_PORTS tcp/22\nKEY_BASE64 %s\nHMAC_KEY_BASE64 %s\nFW_ACCESS_TIMEOUT 60\n' \
    "$KEY" "$HMAC" "$KEY" "$HMAC" >"$acc"
  chmod 600 "$acc"
  # the busy load: one knock per 203.0.113.x source and port, 10 a second
  : >"$list"
  for i in $(seq 251 $((${#BENCH_SRCS[@]} - 1))); do
    for p in 22 80; do
      bench_packet "${BENCH_SRCS[$i]}" "tcp/$p" "$list.$i.$p" || return 0
      echo "${BENCH_SRCS[$i]} $list.$i.$p" >>"$list"
    done
  done
  rt_state "$dir" "FLAKY_DELAY_MS 500" || return 0
  bench_policy none
  bench_fw_reset
  bench_start spad nftables udp "$acc" rt-busy || { bench_kill; return 0; }
  TRIALS=$RT_TRIALS bench_open_trials rt_idle 0
  rt_garbage rt_garbage_idle
  ip netns exec "$E2E_NS_CLI" "$NET" send "$list" "$E2E_SRV4" "$PORT" 10 >/dev/null 2>&1 &
  spid=$!
  sleep 2
  TRIALS=$RT_TRIALS bench_open_trials rt_busy "$RT_TRIALS"
  # the knocks queued so far keep the backend busy for longer than the
  # garbage takes; without more of them the garbage is all there is to
  # decide
  kill -TERM "$spid" 2>/dev/null
  wait "$spid" 2>/dev/null
  i=$(grep -c '^open ' "$dir/flaky/ops.log")
  rt_garbage rt_garbage_busy
  R[rt_busy_calls]=$(($(grep -c '^open ' "$dir/flaky/ops.log") - i))
  # a clean stop would close the queued grants at 500 ms each
  bench_kill
  printf '%-16s garbage decided/s idle %s, busy %s (flaky calls done meanwhile: %s)\n' rt_busy \
    "${R[rt_garbage_idle]:-?}" "${R[rt_garbage_busy]:-?}" "${R[rt_busy_calls]:-?}" |
    tee -a "$BDIR/raw.txt"
}

rt_access_knocks() {
  printf 'SOURCE ANY\nOPEN_PORTS %s\nKEY_BASE64 %s\nHMAC_KEY_BASE64 %s\nFW_ACCESS_TIMEOUT %s\n' \
    "$(bench_ports "$BENCH_GRANT_PORT0" "$PLAN_PORTS")" "$KEY" "$HMAC" "$RT_TIMEOUT" \
    >"$BDIR/access-rt.conf"
  chmod 600 "$BDIR/access-rt.conf"
}

rt_line() { # <key> <tag>
  local k=$1
  printf '%-16s %s grants: %s opened once, %s more, %s never; %s closed once, %s more, %s never; %s open and %s close failures; first close <= %s ms after expiry, entry gone <= %s ms after; %s left, %s last opened; %s s\n' \
    "$2" "${R[${k}_grants]}" "${R[${k}_once]}" "${R[${k}_more]}" "${R[${k}_never]}" \
    "${R[${k}_closed]}" "${R[${k}_cmore]}" "${R[${k}_unclosed]}" "${R[${k}_ofail]}" \
    "${R[${k}_cfail]}" "${R[${k}_first_ms]}" "${R[${k}_removed_ms]}" "${R[${k}_left]}" \
    "${R[${k}_lastopen]}" "${R[${k}_s]}" | tee -a "$BDIR/raw.txt"
}

# (ii) Transient failures at 30%: the knocks sent as fast as the daemon
# takes them (held back at 64 KiB queued, so none is dropped).
rt_fail() {
  local dir="$BDIR/rt-fail" t0
  rt_state "$dir" "FLAKY_FAIL_PCT 30" "FLAKY_FAIL_MAX $RT_FAIL_MAX" "FLAKY_SEED $RANDOM" || return 0
  bench_start spad flaky udp "$BDIR/access-rt.conf" rt-fail || { bench_kill; return 0; }
  t0=$SECONDS
  ip netns exec "$E2E_NS_CLI" "$NET" send "$BDIR/rt-knocks.list" "$E2E_SRV4" "$PORT" 0 \
    "/proc/$BENCH_DAEMON_PID/net" 65536 >/dev/null 2>>"$BDIR/send.err"
  rt_wait_closed "$dir" "$t0"
  rt_record rt_fail "$dir"
  bench_stop
  rt_line rt_fail rt_fail
}

# (iii) The same knocks, paced (the daemon's pid changes), with kill -9 at
# RT_KILLS random moments while they are sent and live, each followed by a
# start on the same journal.
rt_kill() {
  local dir="$BDIR/rt-kill" t0 t0us spid m window kills=0
  rt_state "$dir" "FLAKY_FAIL_PCT $RT_KILL_PCT" "FLAKY_SEED $RANDOM" || return 0
  bench_start spad flaky udp "$BDIR/access-rt.conf" rt-kill || { bench_kill; return 0; }
  t0=$SECONDS
  t0us=$(bench_now_us)
  ip netns exec "$E2E_NS_CLI" "$NET" send "$BDIR/rt-knocks.list" "$E2E_SRV4" "$PORT" \
    "$RT_SEND_RATE" >/dev/null 2>>"$BDIR/send.err" &
  spid=$!
  window=$(((RT_KNOCKS / RT_SEND_RATE + RT_TIMEOUT) * 1000))
  for m in $(for _ in $(seq 1 "$RT_KILLS"); do echo $(((RANDOM * 32768 + RANDOM) % window)); done | sort -n); do
    while [ $(($(bench_now_us) - t0us)) -lt $((m * 1000)) ]; do sleep 0.05; done
    kill -KILL "$BENCH_DAEMON_PID" 2>/dev/null
    wait "$BENCH_DAEMON_PID" 2>/dev/null
    kills=$((kills + 1))
    bench_start spad flaky udp "$BDIR/access-rt.conf" rt-kill || { bench_kill; break; }
  done
  wait "$spid" 2>/dev/null
  rt_wait_closed "$dir" "$t0"
  rt_record rt_kill "$dir"
  R[rt_kill_kills]=$kills
  bench_stop
  rt_line rt_kill "rt_kill ($kills kills)"
}

# (iv) iptables with RT_LIVE live grants: the rate of RT_NEW more, then a
# clean stop timed until spad exits (no flush at exit: what is left in the
# chain is what the stop did not close).
rt_live() {
  local acc="$BDIR/access-rt-live.conf" ports pid t0 before
  bench_build_list "$BDIR/rt-live.list" "$RT_LIVE" || return 0
  ports=$PLAN_PORTS
  BENCH_GRANT_PORT0=$((BENCH_GRANT_PORT0 + ports)) BENCH_PORTS_PER_PKT=1 \
    bench_build_list "$BDIR/rt-new.list" "$RT_NEW" || return 0
  printf 'SOURCE ANY\nOPEN_PORTS %s\nKEY_BASE64 %s\nHMAC_KEY_BASE64 %s\nFW_ACCESS_TIMEOUT 7200\n' \
    "$(bench_ports "$BENCH_GRANT_PORT0" $((ports + PLAN_PORTS)))" "$KEY" "$HMAC" >"$acc"
  chmod 600 "$acc"
  BENCH_CONF_EXTRA=("FLUSH_IPT_AT_EXIT N")
  bench_policy ipt
  bench_start spad iptables udp "$acc" rt-live || { bench_kill; return 0; }
  pid=$BENCH_DAEMON_PID
  bench_fill iptables "$BDIR/rt-live.list" "$RT_LIVE" "$BENCH_GRANT_MAX_S" 0.1
  before=$FILL_N
  R[rt_live_n]=$before
  bench_fill iptables "$BDIR/rt-new.list" $((before + RT_NEW)) "$BENCH_GRANT_MAX_S" 0.05
  R[rt_new_n]=$((FILL_N - before))
  [ "$FILL_N" -gt "$before" ] &&
    R[rt_new_rate]=$(awk -v n=$((FILL_N - before)) -v s="$FILL_S" 'BEGIN { printf "%.1f", n / s }')
  # the socket may have held more than the fill saw
  R[rt_stop_grants]=$(bench_count iptables)
  t0=$(bench_now_us)
  kill -TERM "$pid" 2>/dev/null
  while kill -0 "$pid" 2>/dev/null && [ $(($(bench_now_us) - t0)) -lt $((RT_STOP_MAX_S * 1000000)) ]; do
    sleep 0.02
  done
  if kill -0 "$pid" 2>/dev/null; then
    R[rt_stop_s]="over $RT_STOP_MAX_S"
  else
    R[rt_stop_s]=$(awk -v us=$(($(bench_now_us) - t0)) 'BEGIN { printf "%.2f", us / 1e6 }')
  fi
  R[rt_stop_left]=$(bench_count iptables)
  bench_kill
  BENCH_CONF_EXTRA=()
  printf '%-16s %s live grants, %s more at %s/s; clean stop of %s grants: %s s, %s rules left\n' \
    rt_live "${R[rt_live_n]}" "${R[rt_new_n]}" "${R[rt_new_rate]:-n/a}" "${R[rt_stop_grants]}" \
    "${R[rt_stop_s]}" "${R[rt_stop_left]}" | tee -a "$BDIR/raw.txt"
}

# (v) The monitor's resident memory: VmRSS (and its anonymous part, which
# is where grants live) after start, then with RT_MEM_GRANTS live grants
# once RT_MEM_SETTLE_S s have passed since the last of them opened (the
# burst's ops and decision lines are gone by then). The packet process
# holds no grant; its private pages are printed beside, not counted.
rt_kb() { # <pid> <field of status>
  awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null
}
rt_child_private_kb() { # <monitor pid>
  local p s=0
  for p in $(bench_family "$1"); do
    [ "$p" = "$1" ] && continue
    s=$((s + $(awk '/^Private_(Clean|Dirty):/ { s += $2 } END { print s + 0 }' "/proc/$p/smaps_rollup")))
  done
  echo "$s"
}
rt_mem() { # <backend>
  local b=$1 k="rt_mem_$1" dir="$BDIR/rt-mem-$1" pid c0 c1
  BENCH_CONF_EXTRA=()
  if [ "$b" = flaky ]; then
    rt_state "$dir" || return 0
    RT_COUNT_DIR="$dir/flaky"
  fi
  bench_policy none
  bench_fw_reset
  bench_start spad "$b" udp "$BDIR/access-rt-mem.conf" "rt-mem-$b" || { bench_kill; return 0; }
  pid=$BENCH_DAEMON_PID
  sleep 1
  R[${k}_0]=$(rt_kb "$pid" VmRSS)
  R[${k}_anon0]=$(rt_kb "$pid" RssAnon)
  c0=$(rt_child_private_kb "$pid")
  [ -n "${BENCH_RT_MEM_HOOK:-}" ] && $BENCH_RT_MEM_HOOK "$pid" "$b" start
  bench_fill "$b" "$BDIR/rt-mem.list" "$RT_MEM_GRANTS" "$BENCH_GRANT_MAX_S" 0.1
  R[${k}_n]=$FILL_N
  sleep "$RT_MEM_SETTLE_S"
  if kill -0 "$pid" 2>/dev/null; then
    R[${k}_1]=$(rt_kb "$pid" VmRSS)
    R[${k}_anon1]=$(rt_kb "$pid" RssAnon)
    R[${k}_d]=$((R[${k}_1] - R[${k}_0]))
    c1=$(rt_child_private_kb "$pid")
    # analysis: a command given the monitor's pid and the backend
    [ -n "${BENCH_RT_MEM_HOOK:-}" ] && $BENCH_RT_MEM_HOOK "$pid" "$b" live
  fi
  bench_kill
  BENCH_CONF_EXTRA=()
  RT_COUNT_DIR=""
  printf '%-16s monitor VmRSS %s kB at start, %s kB with %s/%s live grants: +%s kB (target +%s kB); RssAnon %s -> %s kB; packet process private %s -> %s kB\n' \
    "$k" "${R[${k}_0]:-?}" "${R[${k}_1]:-?}" "${R[${k}_n]:-?}" "$RT_MEM_GRANTS" "${R[${k}_d]:-?}" \
    "$RT_MEM_TARGET_KB" "${R[${k}_anon0]:-?}" "${R[${k}_anon1]:-?}" "${c0:-?}" "${c1:-?}" |
    tee -a "$BDIR/raw.txt"
}

rt_memory() {
  local b
  BENCH_PORTS_PER_PKT=10 bench_build_list "$BDIR/rt-mem.list" "$RT_MEM_GRANTS" || return 0
  RT_MEM_PLAN="$PLAN_SRCS sources x $PLAN_PORTS ports"
  printf 'SOURCE ANY\nOPEN_PORTS %s\nKEY_BASE64 %s\nHMAC_KEY_BASE64 %s\nFW_ACCESS_TIMEOUT 7200\n' \
    "$(bench_ports "$BENCH_GRANT_PORT0" "$PLAN_PORTS")" "$KEY" "$HMAC" >"$BDIR/access-rt-mem.conf"
  chmod 600 "$BDIR/access-rt-mem.conf"
  for b in $RT_MEM_BACKENDS; do
    [ "$b" = flaky ] && [ ! -r "$RT_FLAKY" ] && continue
    rt_mem "$b"
  done
}

bench_runtime() {
  echo "== plugin runtime (tests/plugins/flaky)"
  if [ ! -r "$RT_FLAKY" ]; then
    echo "SKIP: runtime phases (i)-(iii): $RT_FLAKY not built (a build with tests builds it)"
  elif rt_plugin_dir; then
    [ "${BENCH_RT_BUSY:-1}" != 0 ] && rt_busy
    if [ "${BENCH_RT_FAIL:-1}" != 0 ] || [ "${BENCH_RT_KILL:-1}" != 0 ]; then
      BENCH_PORTS_PER_PKT=1 bench_build_list "$BDIR/rt-knocks.list" "$RT_KNOCKS" && {
        rt_access_knocks
        bench_policy none
        [ "${BENCH_RT_FAIL:-1}" != 0 ] && rt_fail
        [ "${BENCH_RT_KILL:-1}" != 0 ] && rt_kill
      }
    fi
    BENCH_CONF_EXTRA=()
  fi
  [ "${BENCH_RT_LIVE:-1}" != 0 ] && rt_live
  if [ "${BENCH_RT_MEM:-1}" != 0 ]; then
    [ -r "$RT_FLAKY" ] && [ -z "${RT_PLUGINS:-}" ] && rt_plugin_dir
    rt_memory
  fi
  return 0
}

# --- report (bench/report.sh writes it into docs/PERFORMANCE.md) ---

rt_row() { printf '| %s | %s | %s | %s |\n' "$@"; }

rt_verdict() { if [ "$1" = 1 ]; then echo met; else echo MISSED; fi; }

# rt_phase_row <key> <label> <required> <met: 1/0> <measured text>
rt_phase_row() {
  if [ -z "${R[${1}_grants]:-}" ]; then
    rt_row "$2" "$3" "not measured yet" -
  else
    rt_row "$2" "$3" "$5" "$(rt_verdict "$4")"
  fi
}

bench_runtime_targets() {
  local a=${R[open_rt_idle_med]:-} b=${R[open_rt_busy_med]:-} k ok late mb
  local open_label="(i) time to open, nftables stanza, while a flaky stanza keeps its backend busy (median, ratio to idle)"
  echo "| target | required | measured | verdict |"
  echo "|---|---|---|---|"
  if bench_is_num "$a" && bench_is_num "$b"; then
    rt_row "$open_label" "<= 2" \
      "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f (%s us busy, %s us idle)", b / a, b, a }')" \
      "$(rt_verdict "$(awk -v a="$a" -v b="$b" 'BEGIN { print (b <= 2 * a) ? 1 : 0 }')")"
  elif bench_is_num "$a" && [ "${R[open_rt_busy_n]:-}" != "" ] && [ "${R[open_rt_busy_n]%%/*}" = 0 ]; then
    rt_row "$open_label" "<= 2" "none of ${R[open_rt_busy_n]#*/} opened within 3 s busy ($a us idle)" MISSED
  else
    rt_row "$open_label" "<= 2" "not measured yet" -
  fi
  rt_row "(i) garbage datagrams decided per second, busy vs idle" "reported" \
    "$(bench_cell "${R[rt_garbage_busy]:-}" /s) vs $(bench_cell "${R[rt_garbage_idle]:-}" /s)" -
  k=rt_fail
  ok=$([ "${R[${k}_grants]:-0}" = "$RT_KNOCKS" ] && [ "${R[${k}_once]:-}" = "$RT_KNOCKS" ] &&
    [ "${R[${k}_closed]:-}" = "$RT_KNOCKS" ] && [ "${R[${k}_left]:-}" = 0 ] && echo 1 || echo 0)
  rt_phase_row $k "(ii) $RT_KNOCKS knocks, 30% of calls failing transiently: each grant opened and closed exactly once, backend empty" \
    "all $RT_KNOCKS, 0 left" "$ok" \
    "${R[${k}_grants]:-?} grants, ${R[${k}_once]:-?} opened once (${R[${k}_never]:-?} never), ${R[${k}_closed]:-?} closed once, ${R[${k}_left]:-?} left (${R[${k}_ofail]:-?} + ${R[${k}_cfail]:-?} failures injected)"
  k=rt_kill
  # with injected failures only the first close attempt is the engine's
  late=${R[${k}_removed_ms]:-}
  [ "$RT_KILL_PCT" != 0 ] && late=${R[${k}_first_ms]:-}
  ok=$([ "${R[${k}_grants]:-0}" -gt 0 ] && [ "$late" -le $((RT_MARGIN_S * 1000)) ] &&
    [ "${R[${k}_left]:-}" = 0 ] && [ "${R[${k}_lastopen]:-}" = 0 ] && [ "${R[${k}_unclosed]:-}" = 0 ] &&
    echo 1 || echo 0)
  rt_phase_row $k "(iii) the same knocks ($RT_KILL_PCT% failing), ${R[rt_kill_kills]:-$RT_KILLS} kill -9 and restarts: no entry past its expiry" \
    "<= ${RT_MARGIN_S} s late, 0 left" "$ok" \
    "${R[${k}_grants]:-?} grants, first close tried <= ${R[${k}_first_ms]:-?} ms and entry gone <= ${R[${k}_removed_ms]:-?} ms after expiry, ${R[${k}_left]:-?} left, ${R[${k}_lastopen]:-?} still open"
  if bench_is_num "${R[rt_new_rate]:-}"; then
    rt_row "(iv) new iptables grants/s with ${R[rt_live_n]} live" ">= 200/s" "${R[rt_new_rate]} /s" \
      "$(rt_verdict "$(awk -v r="${R[rt_new_rate]}" 'BEGIN { print (r >= 200) ? 1 : 0 }')")"
  else
    rt_row "(iv) new iptables grants/s with $RT_LIVE live" ">= 200/s" "not measured yet" -
  fi
  if bench_is_num "${R[rt_stop_s]:-}"; then
    rt_row "(iv) clean stop closing ${R[rt_stop_grants]} live iptables grants" "< 5 s" \
      "${R[rt_stop_s]} s, ${R[rt_stop_left]} left" \
      "$(rt_verdict "$(awk -v s="${R[rt_stop_s]}" -v l="${R[rt_stop_left]}" 'BEGIN { print (s < 5 && l == 0) ? 1 : 0 }')")"
  elif [ -n "${R[rt_stop_s]:-}" ]; then
    rt_row "(iv) clean stop closing ${R[rt_stop_grants]} live iptables grants" "< 5 s" \
      "${R[rt_stop_s]} s, ${R[rt_stop_left]} left" MISSED
  else
    rt_row "(iv) clean stop closing $RT_LIVE live iptables grants" "< 5 s" "not measured yet" -
  fi
  for mb in $RT_MEM_BACKENDS; do
    k="rt_mem_$mb"
    if [[ "${R[${k}_d]:-}" =~ ^-?[0-9]+$ ]] && [ "${R[${k}_n]:-0}" = "$RT_MEM_GRANTS" ]; then
      rt_row "(v) monitor's RSS added by $RT_MEM_GRANTS live grants, $mb" "<= $RT_MEM_TARGET_KB kB" \
        "${R[${k}_d]} kB (${R[${k}_0]} kB at start, ${R[${k}_1]} kB with them)" \
        "$(rt_verdict "$([ "${R[${k}_d]}" -le "$RT_MEM_TARGET_KB" ] && echo 1 || echo 0)")"
    elif [[ "${R[${k}_d]:-}" =~ ^-?[0-9]+$ ]]; then
      rt_row "(v) monitor's RSS added by $RT_MEM_GRANTS live grants, $mb" "<= $RT_MEM_TARGET_KB kB" \
        "only ${R[${k}_n]:-0} grants opened (${R[${k}_d]} kB)" MISSED
    else
      rt_row "(v) monitor's RSS added by $RT_MEM_GRANTS live grants, $mb" "<= $RT_MEM_TARGET_KB kB" \
        "not measured yet" -
    fi
  done
}

bench_runtime_method() {
  cat <<EOF
Measured with the flaky test plugin (tests/plugins/flaky: a fake backend whose entries
are files, every call a line of its ops.log with the grant, its expiry and the time),
in the same namespaces, with spad's UDP server.

- (i) One daemon, two stanzas: 203.0.113.0/24 on flaky (FLAKY_DELAY_MS 500), 198.51.100.0/24
  on nftables. Time to open of the nftables stanza as above ($RT_TRIALS trials, fresh sources),
  first idle, then while bench/spa_bench_net sends a flaky knock every 100 ms (five times
  what the backend can take, so its queue only grows). Garbage decided per second: one
  sender thread's unpaced garbage for $RT_GARBAGE_S s, counted until the socket is drained,
  minus the kernel's drops and what was still queued.
- (ii) $RT_KNOCKS knocks, one grant each (sources x ports), FW_ACCESS_TIMEOUT $RT_TIMEOUT s,
  to flaky failing 30% of opens and closes transiently (FLAKY_FAIL_PCT 30, a random seed,
  at most $RT_FAIL_MAX failures in a row per grant and op, FLAKY_FAIL_MAX: without it, a grant's
  seventh close attempt comes 63 s after its expiry, its ninth over 4 min after), sent as
  fast as the daemon takes them; once every grant has expired and the backend holds
  nothing (or ${RT_MAX_S} s), ops.log says how often each grant was opened and closed.
- (iii) The same knocks paced at ${RT_SEND_RATE}/s to flaky failing ${RT_KILL_PCT}% of its calls, spad killed
  with SIGKILL at $RT_KILLS random moments while they are sent and live, each time started
  again on the same journal; from ops.log, how long after a grant's expiry its close was
  first tried and its entry went (with failures injected only the first is the engine's
  part: a close the backend refuses is retried with backoff), and what is left at the end.
- (iv) spad on iptables with $RT_LIVE live grants (FW_ACCESS_TIMEOUT 7200): $RT_NEW more grants,
  sent as for grants/s above, timed until the chain holds them all; then SIGTERM, timed
  until spad exits (FLUSH_IPT_AT_EXIT N, so the rules left are the closes not done).
- (v) For each of ${RT_MEM_BACKENDS// /, }: a fresh spad (one stanza, FW_ACCESS_TIMEOUT 7200),
  the monitor's VmRSS read 1 s after start, then $RT_MEM_GRANTS grants sent as for grants/s
  above ($RT_MEM_PLAN, 10 ports per packet), and VmRSS read again
  ${RT_MEM_SETTLE_S} s after the backend held them all. Only the monitor holds grants: the
  packet process's private pages are in the raw line, not in the figure (they grow as
  the monitor writes pages the two shared after the fork, and with the replay cache).
EOF
}
