#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Daemon benchmarks: Debian's fwknopd and our spad, started in turn with
# equivalent configurations inside a namespace pair (tests/e2e/netns.sh),
# measured from outside with bench/spa_bench_net. Prints the comparison
# table and writes it to docs/PERFORMANCE.md.
#   bench/run.sh [build-dir]          (root needed for the daemon figures)
# Knobs (environment), defaults in brackets:
#   BENCH_TRIALS [30]        time-to-open trials per configuration
#   BENCH_PROBE_US [75]      interval between connect attempts of the prober
#   BENCH_GARBAGE [20000], BENCH_RATE [5000/s]     garbage, 1 stanza
#   BENCH_GARBAGE_MANY [500], BENCH_RATE_MANY [100/s], BENCH_STANZAS [1000]
#   BENCH_GRANTS [400]       grants for grants/s and CPU per grant
#   BENCH_GRANT_MAX_S [120]  give up waiting for a daemon's grants after this
#   BENCH_IDLE_SECONDS [60], BENCH_IDLE_GRANTS [1000]
#   BENCH_RSS_GRANTS [10000], BENCH_RSS_FWKNOPD_S [150] (fwknopd's time limit)
#   BENCH_FLOOD_TRIALS [5], BENCH_FLOOD_TIMEOUT_MS [3000]
#   BENCH_FIREWALLD [1]      0 skips the firewalld run (slow to start)
#   BENCH_RUNTIME [1]        0 skips the plugin runtime phases (bench/runtime.sh,
#                            which lists their own knobs)
#   BENCH_RUNTIME_ONLY [0]   1 runs only those, prints their figures and writes
#                            nothing
#   BENCH_GPG [1]            0 skips the GnuPG phases (bench/gpg.sh, its knobs)
#   BENCH_GPG_ONLY [0]       1 runs only those, prints their table, writes nothing
#   BENCH_CLUSTER [1]        0 skips the cluster-mode phases (bench/cluster.sh,
#                            its knobs; run alone, it writes only its section)
#   BENCH_OUT [docs/PERFORMANCE.md]
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd) || exit 1

TRIALS=${BENCH_TRIALS:-30}
BENCH_PROBE_US=${BENCH_PROBE_US:-75}
GARBAGE=${BENCH_GARBAGE:-20000}
RATE=${BENCH_RATE:-5000}
GARBAGE_MANY=${BENCH_GARBAGE_MANY:-500}
RATE_MANY=${BENCH_RATE_MANY:-100}
NSTANZAS=${BENCH_STANZAS:-1000}
GRANTS=${BENCH_GRANTS:-400}
BENCH_GRANT_MAX_S=${BENCH_GRANT_MAX_S:-120}
IDLE_S=${BENCH_IDLE_SECONDS:-60}
IDLE_GRANTS=${BENCH_IDLE_GRANTS:-1000}
RSS_GRANTS=${BENCH_RSS_GRANTS:-10000}
RSS_FWKNOPD_S=${BENCH_RSS_FWKNOPD_S:-150}
FLOOD_TRIALS=${BENCH_FLOOD_TRIALS:-5}
FLOOD_TIMEOUT_MS=${BENCH_FLOOD_TIMEOUT_MS:-3000}
OUT=${BENCH_OUT:-$root/docs/PERFORMANCE.md}
PORT=62201
FWKNOPD=${FWKNOPD:-/usr/sbin/fwknopd}
SPAD=$build/engine/spad
CLIENT=$build/client/spa-client
PLUGINS=$build/plugins
NET=$build/bench/spa_bench_net
WIRE=$build/bench/spa_bench_wire

. "$root/tests/e2e/netns.sh"
. "$here/lib.sh"
. "$here/phases.sh"
. "$here/fwd.sh"
. "$here/report.sh"
. "$here/runtime.sh"
. "$here/gpg.sh"
. "$here/cluster.sh"

# The stanza must allow every port a grant plan asks for.
BENCH_MAX_PORTS=2
for k in "$GRANTS" "$IDLE_GRANTS" "$RSS_GRANTS"; do
  p=$(((k + 499) / 500))
  [ "$p" -gt "$BENCH_MAX_PORTS" ] && BENCH_MAX_PORTS=$p
done
PLAN_RSS_TEXT="not run"

echo "== micro-benchmark (bench/spa_bench_wire)"
if [ -x "$WIRE" ]; then
  wire_out=$("$WIRE" 0.3 "$NSTANZAS" 2>&1)
else
  wire_out="not measured yet (spa_bench_wire was not built)"
fi
echo "$wire_out"

machine="$(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), kernel $(uname -r)"
when=$(date -u '+%Y-%m-%d %H:%M UTC')

skip_reason=""
[ "$(id -u)" -eq 0 ] || skip_reason="needs root for network namespaces"
[ -z "$skip_reason" ] && ! ip netns add "spa-bench-probe-$$" 2>/dev/null &&
  skip_reason="ip netns not available here"
[ -z "$skip_reason" ] && ip netns del "spa-bench-probe-$$"
for t in socat iptables nft ipset "$FWKNOPD" "$SPAD" "$CLIENT"; do
  [ -z "$skip_reason" ] && ! command -v "$t" >/dev/null 2>&1 && skip_reason="$t not available"
done
if [ -z "$skip_reason" ] && [ ! -x "$NET" ]; then
  # A build without the bench target (e.g. a fuzz tree): build the helper here.
  NET=$(mktemp "${TMPDIR:-/tmp}/spa_bench_net.XXXXXX")
  bench_rm_net() { rm -f "$NET"; }
  E2E_CLEANUP_HOOKS+=(bench_rm_net)
  cc -std=c11 -D_GNU_SOURCE -O2 -o "$NET" "$here/spa_bench_net.c" || skip_reason="cannot build spa_bench_net"
fi

if [ -n "$skip_reason" ]; then
  echo "SKIP: daemon benchmarks: $skip_reason"
  # Never replace measured figures with a page of gaps.
  if [ -n "${BENCH_OUT:-}" ] || [ ! -e "$OUT" ]; then
    bench_write_doc
  else
    echo "($OUT left as it was)"
  fi
  exit 0
fi

bench_t0=$SECONDS
e2e_setup || { echo "FAIL: namespace setup"; exit 1; }
bench_add_sources || { echo "FAIL: source addresses"; exit 1; }
[ "$TRIALS" -le "${#BENCH_SRCS[@]}" ] || TRIALS=${#BENCH_SRCS[@]}
[ "$FLOOD_TRIALS" -le 100 ] || FLOOD_TRIALS=100
e2e_start_listener 22 || { echo "FAIL: listener"; exit 1; }
bench_make_configs
bench_packet "$E2E_CLI4" tcp/22 "$BDIR/pkt" || { echo "FAIL: spa-client cannot build packets"; exit 1; }
# Real packets' length, so garbage passes every shape check.
PKTLEN=$(tr -d '\r\n' <"$BDIR/pkt" | wc -c)
: >"$BDIR/raw.txt"

if [ "${BENCH_GPG_ONLY:-0}" = 1 ]; then
  bench_gpg
  bench_gpg_report
  echo "== GnuPG phases took $((SECONDS - bench_t0)) s"
  exit 0
fi

if [ "${BENCH_RUNTIME_ONLY:-0}" = 1 ]; then
  bench_runtime
  bench_runtime_targets
  echo "== runtime phases took $((SECONDS - bench_t0)) s"
  exit 0
fi

echo "== time to open ($TRIALS trials, fresh source each, a connect every $BENCH_PROBE_US us)"
# nftables first: its own table drops tcp/22, no iptables policy yet.
bench_open spad_nft spad nftables udp
bench_fw_reset
bench_policy ipt || { echo "FAIL: drop policy"; exit 1; }
bench_open fwknopd_udp fwknopd iptables udp
bench_open fwknopd_pcap fwknopd iptables pcap
bench_open spad_ipt spad iptables udp
bench_open spad_pcap spad iptables pcap
# The ipset plugin creates its set at start; the consuming rule follows.
bench_ipset_rule() { e2e_srv iptables -w -I INPUT 1 -m set --match-set spa4 src,dst -j ACCEPT; }
BENCH_OPEN_HOOK=bench_ipset_rule bench_open spad_ipset spad ipset udp
e2e_srv iptables -w -D INPUT -m set --match-set spa4 src,dst -j ACCEPT 2>/dev/null
e2e_srv ipset create spa_cc hash:ip,port timeout 120 &&
  e2e_srv iptables -w -I INPUT 1 -m set --match-set spa_cc src,dst -j ACCEPT &&
  bench_open spad_cc spad cmdcycle udp "$BDIR/access-cmdcycle.conf"
e2e_srv iptables -w -D INPUT -m set --match-set spa_cc src,dst -j ACCEPT 2>/dev/null
bench_fw_reset

echo "== CPU per garbage packet and RSS"
bench_garbage fwknopd_1 fwknopd 1 "$GARBAGE" "$RATE"
bench_garbage spad_1 spad 1 "$GARBAGE" "$RATE"
bench_garbage "fwknopd_$NSTANZAS" fwknopd "$NSTANZAS" "$GARBAGE_MANY" "$RATE_MANY"
bench_garbage "spad_$NSTANZAS" spad "$NSTANZAS" "$GARBAGE_MANY" "$RATE_MANY"

echo "== knock during a garbage flood ($FLOOD_TRIALS knocks)"
bench_flood_knock fwknopd fwknopd iptables
bench_policy none
bench_flood_knock spad spad nftables

echo "== grants/s and CPU per grant ($GRANTS distinct sources)"
bench_build_list "$BDIR/grants.list" "$GRANTS" || exit 1
bench_grants fwknopd fwknopd iptables
bench_grants spad_iptables spad iptables
bench_grants spad_nftables spad nftables
bench_grants spad_ipset spad ipset

echo "== idle cost (${IDLE_S} s, then with $IDLE_GRANTS grants pending)"
bench_build_list "$BDIR/idle.list" "$IDLE_GRANTS" || exit 1
bench_idle

echo "== RSS with $RSS_GRANTS live grants"
bench_build_list "$BDIR/rss.list" "$RSS_GRANTS" || exit 1
PLAN_RSS_TEXT="$PLAN_SRCS sources x $PLAN_PORTS ports"
bench_rss_grants spad spad nftables "$BENCH_GRANT_MAX_S"
bench_rss_grants fwknopd fwknopd iptables "$RSS_FWKNOPD_S"

if [ "${BENCH_FIREWALLD:-1}" != 0 ] && command -v firewalld >/dev/null 2>&1 &&
   command -v dbus-daemon >/dev/null 2>&1; then
  echo "== time to open through firewalld"
  bench_open_firewalld
fi

[ "${BENCH_RUNTIME:-1}" != 0 ] && bench_runtime
[ "${BENCH_GPG:-1}" != 0 ] && bench_gpg
[ "${BENCH_CLUSTER:-1}" != 0 ] && bench_cluster

echo "== daemon benchmarks took $((SECONDS - bench_t0)) s"
bench_write_doc
echo "== written to $OUT"
