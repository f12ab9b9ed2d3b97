#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Daemon benchmarks: Debian's fwknopd and our spad, started in turn with
# equivalent configurations inside a namespace pair (tests/e2e/netns.sh),
# measured from outside with bench/spa_bench_net. Prints the comparison
# table and writes it to docs/PERFORMANCE.md.
#   bench/run.sh [build-dir]          (root needed for the daemon figures)
# Knobs (environment): BENCH_TRIALS (30), BENCH_GARBAGE (20000),
# BENCH_RATE (5000 packets/s), with many stanzas BENCH_GARBAGE_MANY (500)
# and BENCH_RATE_MANY (100/s), BENCH_STANZAS (1000), BENCH_OUT (the doc).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd) || exit 1

TRIALS=${BENCH_TRIALS:-30}
GARBAGE=${BENCH_GARBAGE:-20000}
RATE=${BENCH_RATE:-5000}
GARBAGE_MANY=${BENCH_GARBAGE_MANY:-500}
RATE_MANY=${BENCH_RATE_MANY:-100}
NSTANZAS=${BENCH_STANZAS:-1000}
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

echo "== micro-benchmark (bench/spa_bench_wire)"
if [ -x "$WIRE" ]; then
  wire_out=$("$WIRE" 0.3 "$NSTANZAS" 2>&1)
  echo "$wire_out"
else
  wire_out="not measured yet (spa_bench_wire was not built)"
  echo "$wire_out"
fi

machine="$(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), kernel $(uname -r)"
when=$(date -u '+%Y-%m-%d %H:%M UTC')

skip_reason=""
[ "$(id -u)" -eq 0 ] || skip_reason="needs root for network namespaces"
[ -z "$skip_reason" ] && ! ip netns add "spa-bench-probe-$$" 2>/dev/null &&
  skip_reason="ip netns not available here"
[ -z "$skip_reason" ] && ip netns del "spa-bench-probe-$$"
for t in socat iptables nft "$FWKNOPD" "$SPAD" "$CLIENT"; do
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

e2e_setup || { echo "FAIL: namespace setup"; exit 1; }
for i in $(seq 10 $((10 + TRIALS))); do
  ip -n "$E2E_NS_CLI" addr add "198.51.100.$i/24" dev "$E2E_IF_CLI" || exit 1
done
e2e_start_listener 22 || { echo "FAIL: listener"; exit 1; }
bench_make_configs

echo "== time to open ($TRIALS trials, fresh source each)"
# nftables first: its own table drops tcp/22, no iptables policy yet.
bench_open spad_nft spad nftables udp
# The plugin keeps its table (and so the tcp/22 drop) after a clean stop;
# the iptables runs need it gone.
e2e_srv nft delete table inet spa 2>/dev/null
e2e_policy_iptables "$PORT" || { echo "FAIL: drop policy"; exit 1; }
bench_open fwknopd_udp fwknopd iptables udp
bench_open fwknopd_pcap fwknopd iptables pcap
bench_open spad_ipt spad iptables udp

echo "== CPU per garbage packet and RSS"
bench_garbage fwknopd_1 fwknopd 1 "$GARBAGE" "$RATE"
bench_garbage spad_1 spad 1 "$GARBAGE" "$RATE"
bench_garbage "fwknopd_$NSTANZAS" fwknopd "$NSTANZAS" "$GARBAGE_MANY" "$RATE_MANY"
bench_garbage "spad_$NSTANZAS" spad "$NSTANZAS" "$GARBAGE_MANY" "$RATE_MANY"

bench_write_doc
echo "== written to $OUT"
