#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Cluster-mode benchmark (issue 16, docs/CLUSTER.md): a real 3-member etcd
# cluster with TLS and client certificates and 3 spad nodes (a, b, c), each
# in a network namespace of its own (tests/cluster/etcd_lib.sh), knocked
# from client namespaces on the same bridge. All figures come from one run:
#   (c1) time to open (bench/spa_bench_net, as bench/lib.sh measures it),
#        p50 and p90, of a knock on node a: spad alone with STATE_STORE file;
#        the same node in cluster mode with GRANT_SCOPE local (the claim's
#        round trip to etcd is the added cost); GRANT_SCOPE cluster, probed
#        on node a and on node b (knock a, probe b: until the grant is open
#        on another node);
#   (c2) accepted knocks per second: N distinct pre-built knocks sent at
#        once by 3 client namespaces, one per node, each node's
#        "decision=grant" lines counted until they add up to N, N over the
#        wall time from the first send; GRANT_SCOPE local and cluster; as
#        the reference, the same N knocks from the same 3 senders to node a
#        alone in local mode.
# Every spad uses the nftables plugin (NFT_PROTECT_PORTS tcp/22).
#   bench/cluster.sh [build-dir]    (root needed; prints the figures and
#                                    puts its section in docs/PERFORMANCE.md)
# bench/run.sh sources this file for the report functions and runs it as a
# child (BENCH_CLUSTER [1]; 0 skips it), which saves its figures in
# BENCH_CLUSTER_SAVE instead of writing the page.
# Knobs: BENCH_TRIALS [30] (c1 trials per configuration, at most 70),
# BENCH_PROBE_US [75], BENCH_CLUSTER_KNOCKS [300] (c2's N, at most 630),
# BENCH_CLUSTER_ROUNDS [3] (c2 rounds, the median reported),
# BENCH_CLUSTER_MAX_S [60] (give up waiting for c2's grants after this),
# BENCH_CLUSTER_KEEP [unset] (a directory: the logs, configs and lists kept),
# BENCH_OUT [docs/PERFORMANCE.md].

CLB_SECTION="## Cluster mode (bench/cluster.sh)"

# bench_cluster: (from bench/run.sh) this script as a child process, with
# its own namespaces and EXIT trap; its figures into R.
bench_cluster() {
  local save="$BDIR/cluster" k v
  rm -rf "$save"; mkdir -p "$save"
  echo "== cluster mode (bench/cluster.sh)"
  BENCH_CLUSTER_SAVE=$save BENCH_NET=$NET TRIALS=$TRIALS BENCH_PROBE_US=$BENCH_PROBE_US \
    "$here/cluster.sh" "$build"
  [ -r "$save/values" ] || return 0
  while read -r k v; do R["$k"]=$v; done <"$save/values"
  CLB_RAW=$save/raw.txt
}

bench_cluster_table() {
  local n=${R[cl_knocks]:-${BENCH_CLUSTER_KNOCKS:-300}}
  echo "| figure | spad, local mode (STATE_STORE file) | spad, cluster mode (3 nodes, etcd) | ratio cluster/local |"
  echo "|---|---|---|---|"
  bench_row "time to open on the knocked node, median: GRANT_SCOPE local" us open_cl_file_med open_cl_claim_med
  bench_row "time to open on the knocked node, p90: GRANT_SCOPE local" us open_cl_file_p90 open_cl_claim_p90
  bench_row "time to open on the knocked node, median: GRANT_SCOPE cluster" us open_cl_file_med open_cl_scope_med
  bench_row "time to open on the knocked node, p90: GRANT_SCOPE cluster" us open_cl_file_p90 open_cl_scope_p90
  bench_row "time to open on another node (knock a, probe b), median: GRANT_SCOPE cluster" us open_cl_file_med open_cl_other_med
  bench_row "time to open on another node (knock a, probe b), p90: GRANT_SCOPE cluster" us open_cl_file_p90 open_cl_other_p90
  bench_row_text "knocks opened; cluster mode: GRANT_SCOPE local (GRANT_SCOPE cluster: ${R[open_cl_scope_n]:-?} on a, ${R[open_cl_other_n]:-?} on b)" open_cl_file_n open_cl_claim_n
  bench_row "accepted knocks/s, $n distinct: one node vs 3 nodes, GRANT_SCOPE local" /s kps_cl_rfile kps_cl_rclaim
  bench_row "accepted knocks/s, $n distinct: one node vs 3 nodes, GRANT_SCOPE cluster" /s kps_cl_rfile kps_cl_rscope
  bench_row_text "knocks accepted, all rounds; cluster mode: GRANT_SCOPE local (GRANT_SCOPE cluster: ${R[kn_cl_rscope]:-?})" kn_cl_rfile kn_cl_rclaim
  bench_row "GRANT_SCOPE cluster: until every node holds all $n grants" s ks_cl_rfile ks_cl_rscope
  bench_row "CPU per accepted knock, spad (every node), GRANT_SCOPE local" us cpus_cl_rfile cpus_cl_rclaim
  bench_row "CPU per accepted knock, spad (every node), GRANT_SCOPE cluster" us cpus_cl_rfile cpus_cl_rscope
  bench_row "CPU per accepted knock, etcd members (idle in local mode), GRANT_SCOPE local" us cpue_cl_rfile cpue_cl_rclaim
  bench_row "CPU per accepted knock, etcd members (idle in local mode), GRANT_SCOPE cluster" us cpue_cl_rfile cpue_cl_rscope
  printf '| etcd put from node a, one at a time (curl, TLS connection reused): median, p90 | - | %s, %s | - |\n' \
    "$(bench_cell "${R[etcd_put_med]:-}" us)" "$(bench_cell "${R[etcd_put_p90]:-}" us)"
}

bench_cluster_method() {
  local n=${R[cl_knocks]:-${BENCH_CLUSTER_KNOCKS:-300}}
  if [ -n "${R[cl_when]:-}" ]; then
    echo "Measured ${R[cl_when]} on ${R[cl_machine]}, every figure in the same run."
  else
    echo "Not measured in this run (bench/cluster.sh was skipped)."
  fi
  cat <<EOF
A real 3-member etcd 3.4 cluster (TLS with client certificates, one member per
network namespace, tests/cluster/etcd_lib.sh) and 3 spad nodes a, b, c, each in a
namespace of its own with the nftables plugin (NFT_PROTECT_PORTS tcp/22, a listener on
tcp/22), STATE_STORE etcd over all three members, one bridge between them all. Everything
runs on this one host: the members' fsyncs share its disk, and the members, the nodes and
the clients share its CPUs, which a real deployment spreads over machines (and over network
round trips this bridge does not have). fwknopd has no cluster mode, hence no fwknopd
column; the local-mode column is spad on node a with STATE_STORE file, the etcd members
running idle meanwhile.

- Time to open (c1): bench/spa_bench_net as in the table above (a datagram from a fresh
  client address, then a connect every ${BENCH_PROBE_US:-75} us until one passes), ${R[cl_trials]:-30} trials per
  configuration, median and p90 (nearest rank). Local mode: node a alone. Cluster mode:
  all three nodes running; the knock goes to node a; GRANT_SCOPE local pays the claim of
  the packet's digest in etcd (one create-if-absent transaction) before node a opens;
  GRANT_SCOPE cluster also puts the grant in etcd, and "another node" probes node b, which
  opens it when its watch sees it. Each configuration starts its nodes afresh with a key
  prefix of its own.
- Accepted knocks/s (c2): $n distinct knocks (pre-built, each from its own source address and
  port pair, one grant each), split in three; three client namespaces send their share at
  once, unpaced except that a packet is held back while the receiving daemon's socket has
  64 KiB queued (bench/spa_bench_net send). In cluster mode each sender knocks its own
  node; in local mode all three knock node a. The figure is $n over the time from the first
  send until the nodes' own "decision=grant" log lines (written once the firewall holds
  the grant) add up to $n. With GRANT_SCOPE cluster every node also opens the other nodes'
  grants: a row gives the time until all three hold all $n (set elements counted), with
  one node's time to hold them in local mode beside it. CPU per knock: the nodes' spad
  processes and the three members (every thread's /proc schedstat) from just before
  the first send until every grant is in place, over the knocks accepted. ${R[cl_rounds]:-3}
  rounds of the three configurations, interleaved; each row gives the median round (the
  raw lines give them all).
EOF
}

bench_cluster_section() {
  bench_cluster_method
  echo
  echo "Raw lines:"
  echo
  echo '```'
  cat "${CLB_RAW:-/nonexistent}" 2>/dev/null
  echo '```'
  echo
  bench_cluster_table
  echo
  cat <<'EOF'
Notes:

- Ratios are cluster over local: above 1 for times means cluster mode is slower, below 1
  for knocks/s means it accepts fewer.
- What GRANT_SCOPE local adds to a knock's time to open is its claim: a store worker
  thread runs one create-if-absent transaction (a raft round: the WAL fsyncs of the
  leader and of at least one follower), and the result comes back to the main loop. The etcd put row
  is that round trip without spad, from the same namespace, for comparison.
  GRANT_SCOPE cluster then puts the grant; another node opens it when its watch
  delivers it, so that row adds a put and the watch's delivery to the claim.
- A node runs a fixed number of store worker threads (CLUSTER_THREADS in
  engine/spa_daemon_cluster.c): at most that many of its claims are in flight at once. The knocks/s rows are what three such nodes and the
  three members reach together on this one host, where they all share its CPUs; the
  CPU rows say how much of them each side took per knock (with GRANT_SCOPE cluster each
  node also opens the other nodes' grants: three firewall changes a knock).
EOF
}

# --- the run itself (executed, not sourced) ---------------------------------

# clb_conf <node> <file|etcd> <prefix>: fwknopd.conf of a node.
clb_conf() {
  local n=$1 store=$2 prefix=$3 d="$CLB_DIR/$1"
  rm -rf "$d"
  mkdir -m 700 "$d" "$d/run"
  {
    echo "ENABLE_UDP_SERVER Y"
    echo "UDPSERV_PORT $PORT"
    echo "FWKNOP_RUN_DIR $d/run"
    echo "MAX_SPA_PACKET_AGE 3600"
    echo "PLUGIN_DIR $PLUGINS"
    echo "FIREWALL_TYPE nftables"
    echo "NFT_PROTECT_PORTS tcp/22"
    if [ "$store" = etcd ]; then
      echo "STATE_STORE etcd"
      echo "ETCD_ENDPOINTS $(cl_endpoints)"
      echo "ETCD_CA_FILE $CL_CA"
      echo "ETCD_CERT_FILE $CL_CERT"
      echo "ETCD_KEY_FILE $CL_KEY"
      echo "ETCD_PREFIX $prefix"
      echo "CLUSTER_NODE_NAME $n"
    fi
  } >"$d/fwknopd.conf"
  chmod 600 "$d/fwknopd.conf"
}

# clb_start <node> <access file> <log>: spad in the node's namespace,
# until its UDP socket listens.
clb_start() {
  local n=$1 i
  cl_spawn ip netns exec "$(cl_ns "$n")" "$SPAD" -f -U -c "$CLB_DIR/$n/fwknopd.conf" -a "$2" \
    -r "$CLB_DIR/$n/run" 2>"$3" >&2
  CLB_PID[$n]=$CL_LAST_PID
  for i in $(seq 1 150); do
    kill -0 "${CLB_PID[$n]}" 2>/dev/null || break
    cl_in "$n" ss -Hlun "sport = :$PORT" | grep -q . && return 0
    sleep 0.1
  done
  bench_log "spad on node $n did not start; log:"
  tail -5 "$3" >&2
  return 1
}

# BENCH_CLUSTER_KEEP=<dir>: the logs, lists and configs kept there.
clb_keep() {
  [ -n "${BENCH_CLUSTER_KEEP:-}" ] && [ -n "${CLB_DIR:-}" ] && cp -a "$CLB_DIR" "$BENCH_CLUSTER_KEEP"
  return 0
}

# Every node stopped (SIGKILL: a clean stop would close grants one by one,
# which measures nothing) and its nftables table gone.
clb_stop_all() {
  local n
  for n in a b c; do
    if [ -n "${CLB_PID[$n]:-}" ]; then
      kill -KILL "${CLB_PID[$n]}" 2>/dev/null
      wait "${CLB_PID[$n]}" 2>/dev/null
      CLB_PID[$n]=""
    fi
    cl_in "$n" nft delete table inet spa 2>/dev/null
  done
  return 0
}

# clb_up <tag> <file|etcd> <access file> <nodes...>: the nodes named, started
# afresh with a key prefix of their own for this configuration.
clb_up() {
  local tag=$1 store=$2 access=$3 n
  shift 3
  clb_stop_all
  for n in "$@"; do
    clb_conf "$n" "$store" "/spa-bench-$tag/"
    clb_start "$n" "$access" "$CLB_DIR/$tag-$n.log" || return 1
  done
}

# clb_open <tag> <store> <access> <probe node> <nodes...>: c1 for one
# configuration, knocks to node a (bench_open_trials).
clb_open() {
  local tag=$1 store=$2 access=$3
  CLB_PROBE=${CLB_IP[$4]}
  shift 4
  if clb_up "$tag" "$store" "$access" "$@"; then
    bench_open_trials "cl_$tag"
  else
    R["open_cl_${tag}_n"]="0/$TRIALS (a node did not start)"
  fi
  if [ "${R[open_cl_${tag}_n]%%/*}" = 0 ]; then
    bench_log "$tag: nothing opened; node a's log tail:"
    tail -8 "$CLB_DIR/$tag-a.log" >&2
  fi
}

# clb_grants <node>: the node's own "decision=grant" lines in its log of
# this phase (not those of the other nodes' grants it opens).
clb_grants() {
  grep 'decision=grant' "$CLB_DIR/$CLB_TAG-$1.log" 2>/dev/null | grep -vc 'reason="cluster grant of node'
}
# clb_opens <node>: TCP connections the node's namespace has opened (to
# etcd: a knock that costs a connection shows here).
# shellcheck disable=SC2016
clb_opens() { cl_in "$1" awk '/^Tcp:/ { if (h) print $6; h = 1 }' /proc/net/snmp; }
# clb_elements <node>: grants in the node's nftables set.
clb_elements() { cl_in "$1" nft list set inet spa allow4 2>/dev/null | grep -o ' expires ' | wc -l; }

# clb_rate <tag> <round> <store> <access> <node for sender 1> <2> <3>: one
# round of c2. Each sender's share goes to the node named for it (a a a:
# local mode). Each figure is appended to CLB_ALL[<key>_cl_<tag>], of
# which clb_medians makes R's.
clb_rate() {
  local tag=$1 rt="$1$2" store=$3 access=$4 want=$CLB_KNOCKS i n got t_end first t mirror=""
  local -a dst=("$5" "$6" "$7") spid=() nodes
  local -A c0=()
  local kps="" ks="" cpus="" cpue=""
  CLB_TAG=$rt
  mapfile -t nodes < <(printf '%s\n' "${dst[@]}" | sort -u)
  CLB_ALL[want_cl_$tag]=$((${CLB_ALL[want_cl_$tag]:-0} + want))
  clb_up "$rt" "$store" "$access" "${nodes[@]}" || { bench_log "$rt: a node did not start"; return 0; }
  sleep 0.5
  for n in "${nodes[@]}"; do c0[$n]=$(bench_sched_ns "${CLB_PID[$n]}"); c0[o$n]=$(clb_opens "$n"); done
  for n in 1 2 3; do c0[m$n]=$(bench_sched_ns "$(cl_member_pid "$n")"); done
  for i in 0 1 2; do
    cl_in "cli$((i + 1))" "$NET" send "$CLB_DIR/c2-$i.list" "${CLB_IP[${dst[$i]}]}" "$PORT" 0 \
      "/proc/${CLB_PID[${dst[$i]}]}/net" 65536 >"$CLB_DIR/send-$rt-$i.out" 2>&1 &
    spid+=($!)
  done
  local deadline=$((SECONDS + CLB_MAX_S))
  while :; do
    got=0
    for n in "${nodes[@]}"; do got=$((got + $(clb_grants "$n"))); done
    [ "$got" -ge "$want" ] && break
    [ "$SECONDS" -ge "$deadline" ] && break
    sleep 0.01
  done
  t_end=$(bench_now_us)
  # until every node holds every grant (with GRANT_SCOPE cluster, each
  # node holds the others' too)
  if [ "$tag" = rscope ] || [ "$tag" = rfile ]; then
    while :; do
      local all=1
      for n in "${nodes[@]}"; do
        [ "$(clb_elements "$n")" -ge "$want" ] || { all=0; break; }
      done
      [ "$all" = 1 ] && { mirror=$(bench_now_us); break; }
      [ "$SECONDS" -ge "$deadline" ] && break
      sleep 0.05
    done
  fi
  # CPU once every grant is in place: of the nodes, of the members
  local cs=0 ce=0 co=0
  for n in "${nodes[@]}"; do
    t=$(bench_sched_ns "${CLB_PID[$n]}"); cs=$((cs + t - ${c0[$n]}))
    t=$(clb_opens "$n"); co=$((co + t - ${c0[o$n]}))
  done
  for n in 1 2 3; do
    t=$(bench_sched_ns "$(cl_member_pid "$n")"); ce=$((ce + t - ${c0[m$n]}))
  done
  for i in 0 1 2; do wait "${spid[$i]}" 2>/dev/null; done
  first=""
  for i in 0 1 2; do
    read -r t _ <"$CLB_DIR/send-$rt-$i.out" 2>/dev/null
    [[ "${t:-}" =~ ^[0-9]+$ ]] || continue
    { [ -z "$first" ] || [ "$t" -lt "$first" ]; } && first=$t
  done
  CLB_ALL[got_cl_$tag]=$((${CLB_ALL[got_cl_$tag]:-0} + got))
  if [ -n "$first" ] && [ "$got" -gt 0 ]; then
    kps=$(awk -v n="$got" -v a="$first" -v b="$t_end" 'BEGIN { printf "%.1f", n / ((b - a) / 1e6) }')
    cpus=$(awk -v d="$cs" -v n="$got" 'BEGIN { printf "%.0f", d / n / 1000 }')
    cpue=$(awk -v d="$ce" -v n="$got" 'BEGIN { printf "%.0f", d / n / 1000 }')
    [ -n "$mirror" ] && ks=$(awk -v a="$first" -v b="$mirror" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
    CLB_ALL[kps_cl_$tag]+="$kps "
    CLB_ALL[cpus_cl_$tag]+="$cpus "
    CLB_ALL[cpue_cl_$tag]+="$cpue "
    [ -n "$ks" ] && CLB_ALL[ks_cl_$tag]+="$ks "
  else
    bench_log "$rt: no knock accepted; send output and log tails:"
    cat "$CLB_DIR"/send-"$rt"-*.out >&2
    for n in "${nodes[@]}"; do tail -5 "$CLB_DIR/$rt-$n.log" >&2; done
  fi
  printf '%-16s %s/%s knocks accepted (%s) in %s s: %s knocks/s%s; CPU %s us a knock in spad, %s us in etcd; %s TCP connections opened by the nodes\n' \
    "c2-$rt" "$got" "$want" \
    "$(for n in "${nodes[@]}"; do printf '%s %s ' "$n" "$(clb_grants "$n")"; done | sed 's/ $//')" \
    "$(awk -v a="${first:-0}" -v b="$t_end" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')" \
    "${kps:-n/a}" "${ks:+; all grants on every node after $ks s}" "${cpus:-?}" "${cpue:-?}" "$co" |
    tee -a "$BDIR/raw.txt"
  clb_stop_all
}

# R's c2 figures: the median of each over the rounds, and the knocks
# accepted of all rounds together.
clb_medians() {
  local k tag
  for k in "${!CLB_ALL[@]}"; do
    case $k in
      want_cl_*) tag=${k#want_cl_}; R[kn_cl_$tag]="${CLB_ALL[got_cl_$tag]:-0}/${CLB_ALL[$k]}" ;;
      got_cl_*) ;;
      *) R[$k]=$(tr ' ' '\n' <<<"${CLB_ALL[$k]}" | grep . | bench_pct 50) ;;
    esac
  done
}

# c0: etcd's own write latency as a node sees it, for reference: TRIALS
# puts one after the other from node a's namespace to member 1 (the first
# of ETCD_ENDPOINTS) over one TLS connection (the first, with the
# handshake, left out).
clb_etcd_put() {
  local i url samples="$BDIR/etcd-put.txt" args=()
  url="$(cl_member_url 1)/v3/kv/put"
  for ((i = 0; i <= TRIALS; i++)); do args+=(-o /dev/null "$url"); done
  cl_in a curl -s -w '%{time_total}\n' --cacert "$CL_CA" --cert "$CL_CERT" --key "$CL_KEY" \
    -X POST -d "{\"key\":\"$(printf /spa-bench-c0/k | base64 -w0)\",\"value\":\"eA==\"}" \
    "${args[@]}" 2>/dev/null | tail -n +2 | awk '{ printf "%.0f\n", $1 * 1e6 }' >"$samples"
  if [ -s "$samples" ]; then
    R[etcd_put_med]=$(bench_pct 50 <"$samples")
    R[etcd_put_p90]=$(bench_pct 90 <"$samples")
  fi
  printf '%-16s %s puts, median %s us, p90 %s us\n' etcd-put "$(wc -l <"$samples")" \
    "${R[etcd_put_med]:-n/a}" "${R[etcd_put_p90]:-n/a}" | tee -a "$BDIR/raw.txt"
}

# Source addresses: 70 per client namespace (cli1 .30-.99, cli2 .100-.169,
# cli3 .170-.239), the nodes' neighbour entries for them made up front.
clb_sources() {
  local i c first ip
  for c in 1 2 3; do
    cl_node_ns "cli$c" "198.51.100.$((20 + c))" || return 1
    first=$((30 + (c - 1) * 70))
    CLB_POOL[c]=$(seq -f "198.51.100.%g" "$first" $((first + 69)) | tr '\n' ' ')
    for ip in ${CLB_POOL[c]}; do
      echo "addr add $ip/24 dev eth0"
    done | ip -n "$(cl_ns "cli$c")" -batch - || return 1
  done
  local -a pids=()
  for c in 1 2 3; do
    for ip in ${CLB_POOL[c]}; do
      for i in a b c; do
        ip netns exec "$(cl_ns "cli$c")" ping -c1 -W1 -I "$ip" "${CLB_IP[$i]}" >/dev/null 2>&1 &
        pids+=($!)
      done
    done
    # only these: a bare wait would wait for the members too
    wait "${pids[@]}"
    pids=()
  done
  return 0
}

# c2's lists: knock k goes to sender k % 3; a sender's i-th knock comes
# from its pool's address i % 70 and asks for tcp/(1000 + i / 70).
clb_lists() {
  local k c i src pool
  for c in 0 1 2; do : >"$CLB_DIR/c2-$c.list"; done
  mkdir -p "$CLB_DIR/c2"
  for ((k = 0; k < CLB_KNOCKS; k++)); do
    c=$((k % 3)); i=$((k / 3))
    read -r -a pool <<<"${CLB_POOL[$((c + 1))]}"
    src=${pool[$((i % 70))]}
    bench_packet "$src" "tcp/$((1000 + i / 70))" "$CLB_DIR/c2/$k" ||
      { bench_log "spa-client could not build a packet"; return 1; }
    echo "$src $CLB_DIR/c2/$k" >>"$CLB_DIR/c2-$c.list"
  done
}

clb_access() { # <file> <scope>
  printf 'SOURCE ANY\nOPEN_PORTS tcp/22,%s\nKEY_BASE64 %s\nHMAC_KEY_BASE64 %s\nFW_ACCESS_TIMEOUT 900\nGRANT_SCOPE %s\n' \
    "$(bench_ports 1000 $(((CLB_KNOCKS / 3 + 69) / 70)))" "$KEY" "$HMAC" "$2" >"$1"
  chmod 600 "$1"
}

# Writes the section into BENCH_OUT: in place of the section there, else
# before the micro-benchmark's, else at the end.
clb_write_doc() {
  local body="$CLB_DIR/section.md"
  { echo "$CLB_SECTION"; echo; bench_cluster_section; echo; } >"$body"
  [ -e "$OUT" ] || { echo "<!-- SPDX-License-Identifier: MIT -->" >"$OUT"; }
  awk -v head="$CLB_SECTION" -v body="$body" '
    function put() { while ((getline l < body) > 0) print l; done = 1 }
    $0 == head { put(); skip = 1; next }
    skip && /^## / { skip = 0 }
    skip { next }
    !done && /^## Micro-benchmark/ { put() }
    { print }
    END { if (!done) { print ""; put() } }' "$OUT" >"$OUT.new" && mv "$OUT.new" "$OUT"
  echo "== written to $OUT"
}

clb_main() {
  set -u
  here=$(cd "$(dirname "$0")" && pwd)
  root=$(cd "$here/.." && pwd)
  build=$(cd "${1:-$root/build}" && pwd) || exit 1
  TRIALS=${TRIALS:-${BENCH_TRIALS:-30}}
  BENCH_PROBE_US=${BENCH_PROBE_US:-75}
  CLB_KNOCKS=${BENCH_CLUSTER_KNOCKS:-300}
  CLB_MAX_S=${BENCH_CLUSTER_MAX_S:-60}
  CLB_ROUNDS=${BENCH_CLUSTER_ROUNDS:-3}
  OUT=${BENCH_OUT:-$root/docs/PERFORMANCE.md}
  PORT=62201
  SPAD=$build/engine/spad
  CLIENT=$build/client/spa-client
  PLUGINS=$build/plugins
  NET=${BENCH_NET:-$build/bench/spa_bench_net}
  declare -gA CLB_PID=() CLB_IP=([a]=198.51.100.11 [b]=198.51.100.12 [c]=198.51.100.13)
  declare -ga CLB_POOL=()
  declare -gA CLB_ALL=()
  [ "$TRIALS" -le 70 ] || TRIALS=70
  [ "$CLB_KNOCKS" -le 630 ] || CLB_KNOCKS=630
  [ "$CLB_KNOCKS" -ge 3 ] || CLB_KNOCKS=3

  [ -r "$root/tests/cluster/etcd_lib.sh" ] ||
    { echo "SKIP: cluster benchmark: tests/cluster/etcd_lib.sh missing"; exit 0; }
  . "$root/tests/cluster/etcd_lib.sh"
  . "$here/lib.sh"
  . "$here/report.sh"

  local t f
  for t in "$SPAD" "$CLIENT" "$NET" "$PLUGINS/etcd.so" "$PLUGINS/nftables.so"; do
    [ -e "$t" ] || { echo "SKIP: cluster benchmark: $t not built"; exit 0; }
  done
  command -v nft >/dev/null || { echo "SKIP: cluster benchmark: nft not installed"; exit 0; }
  cl_require

  # the time to open, as bench/lib.sh takes it, from client namespace cli1
  # to node a, the connects going to CLB_PROBE
  bench_knock() {
    cl_in cli1 "$NET" knock "$1" "${CLB_IP[a]}" "$PORT" "$2" 22 "$3" "$BENCH_PROBE_US" "$CLB_PROBE"
  }

  local t0=$SECONDS
  trap cl_cleanup EXIT
  CL_CLEANUP_HOOKS+=(clb_stop_all clb_keep)
  cl_setup || { echo "FAIL: etcd cluster setup"; exit 1; }
  CLB_DIR=$CL_DIR/bench
  BDIR=$CLB_DIR
  mkdir -m 700 "$CLB_DIR"
  : >"$BDIR/raw.txt"
  CLB_RAW=$BDIR/raw.txt
  for t in a b c; do
    cl_node_ns "$t" "${CLB_IP[$t]}" || { echo "FAIL: namespace $t"; exit 1; }
    cl_spawn ip netns exec "$(cl_ns "$t")" socat TCP-LISTEN:22,reuseaddr,fork "EXEC:echo spa-bench"
  done
  clb_sources || { echo "FAIL: client namespaces"; exit 1; }
  # bench_open_trials' sources and bench_packet's server (bench/lib.sh)
  # shellcheck disable=SC2034
  read -r -a BENCH_SRCS <<<"${CLB_POOL[1]}"
  KEY=$(head -c 32 /dev/urandom | base64 -w0)
  HMAC=$(head -c 64 /dev/urandom | base64 -w0)
  # shellcheck disable=SC2034
  BENCH_DST=${CLB_IP[a]}
  clb_access "$CLB_DIR/access-local.conf" local
  clb_access "$CLB_DIR/access-cluster.conf" cluster
  R[cl_trials]=$TRIALS
  R[cl_knocks]=$CLB_KNOCKS
  R[cl_rounds]=$CLB_ROUNDS
  R[cl_when]=$(date -u '+%Y-%m-%d %H:%M UTC')
  R[cl_machine]="$(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), kernel $(uname -r)"
  echo "== etcd and namespaces ready after $((SECONDS - t0)) s"

  echo "== c0: etcd put latency from a node ($TRIALS puts)"
  clb_etcd_put
  echo "== c1: time to open ($TRIALS trials, fresh source each, a connect every $BENCH_PROBE_US us)"
  clb_open file file "$CLB_DIR/access-local.conf" a a
  clb_open claim etcd "$CLB_DIR/access-local.conf" a a b c
  clb_open scope etcd "$CLB_DIR/access-cluster.conf" a a b c
  clb_open other etcd "$CLB_DIR/access-cluster.conf" b a b c

  echo "== c2: accepted knocks/s ($CLB_KNOCKS distinct knocks from 3 senders at once, $CLB_ROUNDS rounds)"
  clb_lists || exit 1
  # rounds interleaved, so that a change in the host's load meets all three
  for ((t = 1; t <= CLB_ROUNDS; t++)); do
    clb_rate rfile "$t" file "$CLB_DIR/access-local.conf" a a a
    clb_rate rclaim "$t" etcd "$CLB_DIR/access-local.conf" a b c
    clb_rate rscope "$t" etcd "$CLB_DIR/access-cluster.conf" a b c
  done
  clb_medians
  echo "== cluster benchmark took $((SECONDS - t0)) s"

  bench_cluster_table
  if [ -n "${BENCH_CLUSTER_SAVE:-}" ]; then
    for f in "${!R[@]}"; do printf '%s %s\n' "$f" "${R[$f]}"; done >"$BENCH_CLUSTER_SAVE/values"
    cp "$BDIR/raw.txt" "$BENCH_CLUSTER_SAVE/raw.txt"
  else
    clb_write_doc
  fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  clb_main "$@"
fi
