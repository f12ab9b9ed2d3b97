#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Conformance of the etcd state-store module (plugins/etcd) to the store
# contract (sdk/include/spa/store.h), against a real 3-member etcd cluster
# with TLS client certificates (etcd_lib.sh), driven by store_drive from
# two node namespaces as two spad nodes would:
#   claim: NEW then SEEN, also from the other node; the key lives at least
#     its ttl and is gone after ttl + bucket; one NEW out of 8 threads and
#     out of 2 processes racing for a key; a revoked claim lease replaced;
#   put/del/watch: a watch sees puts and dels (an expired put too) in
#     order, nothing outside its prefix; a watch begun later lists the keys
#     present, then "synced"; one begun amid writes mirrors the store (no
#     gap); watch_stop ends a watch, also called before it; a put replaces
#     the ttl; keys and values at their limits and any text round trip;
#   failures: a member down, hung or cut off from its peers (the first
#     endpoint of the list): claims still work; a watch whose member dies,
#     is cut off, or hangs (SIGSTOP: noticed by a failed claim, or with
#     no claim by the watch's own probe) returns an error, and a new watch
#     then lists what was put meanwhile (a watch_stop during the probe
#     of a hung member returns at once); two down: claim and put return
#     SPA_ERR_TRANSIENT in bounded time, a watch an error; members back:
#     claims work again, earlier claims still SEEN;
#   TLS: a wrong CA, a client certificate of another CA or none: refused,
#     with an error naming the problem;
#   the sanitizer build: no leak (LeakSanitizer), and a small bench.
# Usage: test_store_etcd.sh STORE_DRIVE ETCD.so
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/etcd_lib.sh"

DRIVE=${1:-}
SO=${2:-}
cl_require
command -v iptables >/dev/null 2>&1 || cl_skip "iptables not installed (a member's partition)"
[ -x "$DRIVE" ] || cl_skip "store_drive not built ($DRIVE)"
[ -f "$SO" ] || cl_skip "etcd module not built ($SO)"

# In the sanitizer build, LeakSanitizer's exit-time check now and then
# crashes in its own tracer ("Tracer caught signal 11", a known sanitizer
# flake), which would fail a run whose answers were right: the runs below
# go without it, and one run of every op checks for leaks at the end,
# tried again only on that crash.
asan=0
if ldd "$DRIVE" 2>/dev/null | grep -q libasan; then
  asan=1
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
fi

TIMEOUT_MS=1000           # ETCD_TIMEOUT of every driver
PREFIX=/spatest/
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

trap cl_cleanup EXIT
t_start=$SECONDS
cl_setup || { echo "FAIL: etcd cluster setup"; exit 1; }
cl_node_ns a 198.51.100.11 && cl_node_ns b 198.51.100.12 || { echo "FAIL: node namespaces"; exit 1; }
ok "cluster and nodes up in $((SECONDS - t_start)) s"

keys=(ETCD_ENDPOINTS="$(cl_endpoints)" ETCD_CA_FILE="$CL_CA" ETCD_CERT_FILE="$CL_CERT"
      ETCD_KEY_FILE="$CL_KEY" ETCD_PREFIX="$PREFIX" ETCD_TIMEOUT="$TIMEOUT_MS")

# drv NODE [KEY=VALUE]... -- CMD...: the driver in a node's namespace, the
# common keys first (later ones override them)
drv() { local n=$1; shift; cl_in "$n" "$DRIVE" "$SO" "${keys[@]}" "$@"; }

# run NODE ARGS...: drv, leaving OUT (stdout), ERR (stderr) and RC
run() {
  drv "$@" >"$CL_DIR/run.out" 2>"$CL_DIR/run.err"
  RC=$?
  OUT=$(cat "$CL_DIR/run.out")
  ERR=$(cat "$CL_DIR/run.err")
}
show() { echo "  rc=$RC out: ${OUT//$'\n'/ | }"; sed 's/^/  err: /' "$CL_DIR/run.err" | head -n 8; }
# expect WHAT RC OUT: RC and stdout as given, else a failure showing both
expect() {
  if [ "$RC" = "$2" ] && [ "$OUT" = "$3" ]; then
    ok "$1"
  else
    fail "$1: wanted rc=$2 '$3'"
    show
  fi
}
# op_ms OP: the time store_drive measured for the last OP of the run
op_ms() { sed -n "s/^time: $1 \\([0-9]*\\) ms$/\\1/p" "$CL_DIR/run.err" | tail -n 1; }

# timed WHAT OP RC: the last run exited RC and its OP took less than
# 4 x ETCD_TIMEOUT (the module promises 2.5 x; wide margin for a loaded box)
timed() {
  local ms limit=$((4 * TIMEOUT_MS))
  ms=$(op_ms "$2")
  if [ "$RC" = "$3" ] && [ -n "$ms" ] && [ "$ms" -lt "$limit" ]; then
    ok "$1: $2 exit $3 in $ms ms"
  else
    fail "$1: $2 wanted exit $3 within $limit ms, took ${ms:-?} ms"
    show
  fi
}

# wait_line FILE REGEX TENTHS: until a line of FILE matches
wait_line() {
  local i
  for ((i = 0; i < $3; i++)); do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# --- claims ------------------------------------------------------------------
# A ttl of 2 s: the bucket is 1 s (max(1, ttl/8)), so the key lives 2..3 s.
run a -- claim replay/ttl 2 -- claim replay/ttl 2
expect "claim with ttl 2: NEW, then SEEN" 2 $'NEW\nSEEN'
ttl_t0=$(date +%s%N)

# a put replaces the time to live too: checked once the first one is over
run b -- put ttl/x one 2 -- put ttl/x two 30
expect "put with ttl 2, put again with ttl 30" 0 $'ok\nok'
kt_t0=$(date +%s%N)

run a -- claim replay/k1 30 -- claim replay/k1 30
expect "claim, claim again: NEW then SEEN (exit 2)" 2 $'NEW\nSEEN'
run b -- claim replay/k1 30
expect "claim of node a, from node b: SEEN" 2 SEEN
v=$(cl_etcdctl get --print-value-only "${PREFIX}replay/k1" 2>/dev/null)
[ -n "$v" ] && ok "claimed key stored under ETCD_PREFIX" ||
  fail "no key ${PREFIX}replay/k1 in etcd"

run a -- race replay/race8 8
expect "8 threads claim one key: one NEW" 0 "new 1 seen 7 errors 0"

# two processes (two nodes), 4 threads each
drv a -- race replay/race2p 4 >"$CL_DIR/race.a" 2>&1 &
pa=$!
drv b -- race replay/race2p 4 >"$CL_DIR/race.b" 2>&1 &
pb=$!
wait "$pa"; ra=$?
wait "$pb"; rb=$?
na=$(sed -n 's/^new \([0-9]*\) .*/\1/p' "$CL_DIR/race.a")
nb=$(sed -n 's/^new \([0-9]*\) .*/\1/p' "$CL_DIR/race.b")
if [ "$ra" = 0 ] && [ "$rb" = 0 ] && [ $(( ${na:-9} + ${nb:-9} )) -eq 1 ]; then
  ok "2 nodes x 4 threads claim one key: one NEW"
else
  fail "2 nodes racing: rc $ra/$rb, NEW $na + $nb"
  sed 's/^/  a: /' "$CL_DIR/race.a"; sed 's/^/  b: /' "$CL_DIR/race.b"
fi

# --- put, del, watch -----------------------------------------------------------
w1=$CL_DIR/watch1.out
cl_spawn drv a -- watch grants/ 60 >"$w1" 2>"$CL_DIR/watch1.err"
w1_pid=$CL_LAST_PID
if wait_line "$w1" '^synced$' 50; then
  ok "watch of an empty prefix: synced"
else
  fail "watch did not report synced"
  sed 's/^/  /' "$w1" "$CL_DIR/watch1.err" | head -n 10
fi
run b -- put grants/b/1 '{"id":1,"src":"198.51.100.21"}' 30 -- del grants/b/1 \
  -- put other/x outside 30 -- put grants/b/2 short 2
expect "put, del, put outside, put with ttl 2" 0 $'ok\nok\nok\nok'
put_t0=$(date +%s%N)
# the put with ttl 2 must go at expiry: del within ttl + 3 s
if wait_line "$w1" '^del grants/b/2$' 50; then
  ok "watch saw the ttl-2 put expire after $(( ($(date +%s%N) - put_t0) / 1000000 )) ms"
else
  fail "watch did not see grants/b/2 expire"
fi
want=$'synced\nput grants/b/1 {"id":1,"src":"198.51.100.21"}\ndel grants/b/1\nput grants/b/2 short\ndel grants/b/2'
got=$(cat "$w1")
[ "$got" = "$want" ] && ok "watch: events in order, nothing outside the prefix" ||
  { fail "watch events"; echo "  got: ${got//$'\n'/ | }"; echo "  want: ${want//$'\n'/ | }"; }

# a watch begun later lists what is there, then synced, then changes
run b -- put grants/b/3 three 30 -- put grants/c/4 four 30
expect "two puts" 0 $'ok\nok'
w2=$CL_DIR/watch2.out
cl_spawn drv a -- watch grants/ 3 >"$w2" 2>"$CL_DIR/watch2.err"
w2_pid=$CL_LAST_PID
wait_line "$w2" '^synced$' 50
run b -- put grants/b/3 three-again 30
wait "$w2_pid"; rc=$?
got=$(cat "$w2")
want=$'put grants/b/3 three\nput grants/c/4 four\nsynced\nput grants/b/3 three-again\nstopped'
[ "$rc" = 0 ] && [ "$got" = "$want" ] &&
  ok "late watch: listing, synced, the change, stopped by watch_stop" ||
  { fail "late watch (rc $rc)"; echo "  got: ${got//$'\n'/ | }"; echo "  want: ${want//$'\n'/ | }"; }

# the claim of ttl 2 goes after ttl + bucket (3 s; etcd revokes expired
# leases within a second or so): gone 8 s after it was made at the latest
# (the checks above took some of that), then a claim is NEW again
while :; do
  life=$(( ($(date +%s%N) - ttl_t0) / 1000000 ))
  gone=$(cl_etcdctl get --keys-only "${PREFIX}replay/ttl" 2>&1) && [ -z "$gone" ] && break
  [ "$life" -gt 8000 ] && break
  sleep 0.1
done
[ -z "$gone" ] && ok "claim of ttl 2 gone (seen $life ms after it was made)" ||
  fail "claim of ttl 2 still there after $life ms: $gone"
run b -- claim replay/ttl 2
expect "claim after ttl + bucket: NEW again" 0 NEW

elapsed=$(( ($(date +%s%N) - kt_t0) / 1000000 ))
[ "$elapsed" -lt 4000 ] && sleep "$(( (4000 - elapsed) / 1000 + 1 ))"
v=$(cl_etcdctl get --print-value-only "${PREFIX}ttl/x" 2>&1)
[ "$v" = two ] && ok "a put replaces the value and the ttl (still there after 4 s)" ||
  fail "put again with ttl 30: '${PREFIX}ttl/x' is '$v' 4 s later"

# keys and values at their limits, and any text, round trip; beyond, refused
k192=limits/$(printf 'k%.0s' $(seq 1 185))
v2048=$(head -c 2048 /dev/zero | tr '\0' v)
text='a "quoted" \back\slash\ ünïcode {"j":[1,2]} ;$(x)'
run b -- put "$k192" "$v2048" 30 -- put limits/text "$text" 30 -- del limits/absent
expect "put a 192-byte key with a 2048-byte value, put any text, del a missing key" 0 $'ok\nok\nok'
run a -- watch limits/ 1
expect "both listed as they were put" 0 "put $k192 $v2048"$'\n'"put limits/text $text"$'\nsynced\nstopped'
for bad in "put ${k192}x v 30" "put limits/a\ b v 30" "put limits/v ${v2048}w 30"; do
  eval "run b -- $bad"
  if [ "$RC" = 1 ] && grep -q '^error -22 ' "$CL_DIR/run.out"; then
    ok "refused (EINVAL, not transient): ${bad:0:40}..."
  else
    fail "not refused: ${bad:0:40}..."; show
  fi
done

# watch_stop before the watch: the watch returns at once
run a -- stop -- watch grants/ 20
ms=$(op_ms watch)
[ "$RC" = 0 ] && [ "$OUT" = $'ok\nstopped' ] && [ -n "$ms" ] && [ "$ms" -lt 3000 ] &&
  ok "watch_stop before watch: the watch returns ($ms ms)" ||
  { fail "watch_stop before watch"; show; }

# no gap between a watch's listing and its events: a watch begun while a
# writer puts and deletes ends up with the store's own state
writes=()
for ((i = 1; i <= 60; i++)); do
  writes+=(-- put "gap/$i" "v$i" 30)
  ((i % 3 == 0)) && writes+=(-- del "gap/$((i - 1))")
done
w4=$CL_DIR/watch4.out
drv b "${writes[@]}" >"$CL_DIR/writer.out" 2>&1 &
writer=$!
wait_line "$CL_DIR/writer.out" '^ok$' 50   # the watch begins amid the writes
cl_spawn drv a -- watch gap/ 30 >"$w4" 2>"$CL_DIR/watch4.err"
w4_pid=$CL_LAST_PID
wait "$writer" || fail "writer failed: $(tail -n 3 "$CL_DIR/writer.out")"
actual=$(cl_etcdctl get --prefix "${PREFIX}gap/" | paste - - | sed "s|^${PREFIX}||; s|\t| |" | sort)
# the watch's mirror must come to equal the store (it may lag a moment)
for ((i = 0; i < 100; i++)); do
  mirror=$(awk '$1 == "put" { s[$2] = $3 } $1 == "del" { delete s[$2] }
                END { for (k in s) print k, s[k] }' "$w4" | sort)
  [ "$mirror" = "$actual" ] && break
  sleep 0.1
done
kill -0 "$w4_pid" 2>/dev/null; rc=$?   # still watching: 0
cl_kill_pid "$w4_pid"
listed=$(sed -n '/^synced$/q;p' "$w4" | wc -l)
if [ "$rc" = 0 ] && grep -qx synced "$w4" && [ "$mirror" = "$actual" ] && [ -n "$actual" ]; then
  ok "watch begun during writes ($listed keys listed): its mirror equals the store ($(wc -l <<<"$actual") keys)"
else
  fail "watch begun during writes (running: $((1 - rc))): mirror differs from the store"
  diff <(echo "$mirror") <(echo "$actual") | head -n 10 | sed 's/^/  /'
fi

# the first watch (on any member) must not see the members die below
cl_kill_pid "$w1_pid"

# --- failures -------------------------------------------------------------------
# watch_on N: a watch of grants/ on member N alone, synced (W_PID, W_OUT)
watch_on() {
  W_OUT=$CL_DIR/watch-m$1.out
  cl_spawn drv a ETCD_ENDPOINTS="$(cl_member_url "$1")" -- watch grants/ 30 \
    >"$W_OUT" 2>"$W_OUT.err"
  W_PID=$CL_LAST_PID
  wait_line "$W_OUT" '^synced$' 50 || fail "watch on member $1 did not sync"
  W_T0=$(date +%s%N)
}
# watch_ended WHAT: the watch of watch_on returned an error within 10 s
watch_ended() {
  local i rc
  for ((i = 0; i < 100; i++)); do
    kill -0 "$W_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$W_PID" 2>/dev/null; then
    fail "watch on a member $1 still running after 10 s"
    return
  fi
  wait "$W_PID"; rc=$?
  if [ "$rc" != 0 ] && grep -q '^watch error' "$W_OUT"; then
    ok "watch on a member $1: '$(tail -n 1 "$W_OUT")' (exit $rc) after $(( ($(date +%s%N) - W_T0) / 1000000 )) ms; $(grep -v '^time:' "$W_OUT.err" | tail -n 1 | cut -c1-120)"
  else
    fail "watch on a member $1: rc $rc, last line '$(tail -n 1 "$W_OUT")'"
  fi
}

# a member cut off from its peers, alive for its clients: a watch on it
# ends (etcd says "no leader"), a claim sent to it first moves on
watch_on 2
cl_member_partition 2 || fail "partition of member 2"
watch_ended "cut off from its peers"
run a ETCD_ENDPOINTS="$(cl_member_url 2),$(cl_member_url 1),$(cl_member_url 3)" -- claim replay/cut 30
timed "member 2 cut off, first endpoint (NEW)" claim 0
cl_member_heal 2
cl_wait_healthy || fail "member 2 back after the partition"

# a hung member (SIGSTOP) first in the list: a claim moves on after a
# timeout; a watch on it (its connection stays open, silent) ends once a
# request of the same process failed there, or its probe (below) did
# (plugins/etcd/README.md)
drv a -- bgwatch grants/ -- waitfile "$CL_DIR/frozen" -- claim replay/frozen 30 \
  -- endwatch 10 >"$CL_DIR/run.out" 2>"$CL_DIR/run.err" &
hp=$!
wait_line "$CL_DIR/run.out" '^synced$' 50 || fail "watch on member 1 did not sync"
cl_not_leader 1 || fail "leadership off member 1"
cl_member_freeze 1
touch "$CL_DIR/frozen"
wait "$hp"; RC=$?
OUT=$(cat "$CL_DIR/run.out")
RC=$(grep -qx NEW <<<"$OUT" && echo 0 || echo "$RC")
timed "member 1 hung, first endpoint (NEW)" claim 0
ms=$(op_ms endwatch)
if grep -q '^watch error' <<<"$OUT" && [ -n "$ms" ] && [ "$ms" -lt 5000 ]; then
  ok "watch on the hung member ended ${ms} ms after the claim: '$(grep '^watch error' <<<"$OUT")'"
else
  fail "watch on the hung member did not end after a claim failed there (endwatch ${ms:-?} ms)"; show
fi
cl_member_thaw 1
cl_wait_healthy || fail "member 1 back after the freeze"

# a watch on a hung member must not stay silent: its probe (a read on the
# same member every max(1 s, ETCD_TIMEOUT), within ETCD_TIMEOUT) ends it
# with an error within max(1 s, ETCD_TIMEOUT) + ETCD_TIMEOUT (2 s here;
# 3 x ETCD_TIMEOUT + 1 s allowed); a new watch,
# which then starts at another member, lists a put made meanwhile. The
# watch of a new process starts at the first endpoint: member 1.
w5=$CL_DIR/watch5.out
cl_spawn drv a -- watch hung/ 30 >"$w5" 2>"$CL_DIR/watch5.err"
w5_pid=$CL_LAST_PID
wait_line "$w5" '^synced$' 50 || fail "watch on member 1 did not sync"
cl_not_leader 1 || fail "leadership off member 1"
cl_member_freeze 1
freeze_t0=$(date +%s%N)
run b ETCD_ENDPOINTS="$(cl_member_url 2),$(cl_member_url 3)" -- put hung/k meanwhile 30
expect "member 1 hung: a put through the others" 0 ok
for ((i = 0; i < 150; i++)); do
  kill -0 "$w5_pid" 2>/dev/null || break
  sleep 0.05
done
ms=$(( ($(date +%s%N) - freeze_t0) / 1000000 ))
limit=$((3 * TIMEOUT_MS + 1000))
if kill -0 "$w5_pid" 2>/dev/null; then
  fail "watch on a hung member still silent after $ms ms"
  cl_kill_pid "$w5_pid"
else
  wait "$w5_pid"; rc=$?
  if [ "$rc" = 3 ] && grep -q '^watch error' "$w5" && [ "$ms" -lt "$limit" ] &&
     grep -q 'did not answer a read' "$CL_DIR/watch5.err"; then
    ok "watch on a hung member: '$(tail -n 1 "$w5")' $ms ms after the freeze"
  else
    fail "watch on a hung member: rc $rc after $ms ms (limit $limit), last line '$(tail -n 1 "$w5")'"
    sed 's/^/  err: /' "$CL_DIR/watch5.err" | tail -n 5
  fi
fi
run a -- watch hung/ 1
expect "member 1 still hung: a new watch lists the put made meanwhile" 0 \
  $'put hung/k meanwhile\nsynced\nstopped'
cl_member_thaw 1
cl_wait_healthy || fail "member 1 back after the second freeze"

# watch_stop while the probe waits for a hung member: the watch returns at
# once, not at the probe's timeout. With ETCD_TIMEOUT 3000 the probes start
# 3 s and 6 s after the listing; the first one's connection (its TLS
# handshake bounded by 1 s) is kept for the second, which the member, hung
# at 4 s, leaves waiting until 9 s: the stop comes at 7 s.
cl_not_leader 1 || fail "leadership off member 1"
drv a ETCD_TIMEOUT=3000 -- bgwatch hung/ -- waitfile "$CL_DIR/frozen2" -- sleep 3 -- stop \
  -- endwatch 10 >"$CL_DIR/run.out" 2>"$CL_DIR/run.err" &
hp=$!
wait_line "$CL_DIR/run.out" '^synced$' 50 || fail "watch on member 1 did not sync"
sleep 4
cl_member_freeze 1
touch "$CL_DIR/frozen2"
wait "$hp"; RC=$?
OUT=$(cat "$CL_DIR/run.out")
ms=$(op_ms endwatch)
if [ "$RC" = 0 ] && grep -qx stopped <<<"$OUT" && [ -n "$ms" ] && [ "$ms" -lt 1000 ]; then
  ok "watch_stop during a probe of a hung member: the watch returned $ms ms later"
else
  fail "watch_stop during a probe of a hung member (endwatch ${ms:-?} ms)"; show
fi
cl_member_thaw 1
cl_wait_healthy || fail "member 1 back after the third freeze"

# a watch on member 3 alone, which is then killed: the watch returns an error
watch_on 3
cl_member_stop 3
watch_ended "that died"

# one member down, first in the list: the module must move on
dead_first="$(cl_member_url 3),$(cl_member_url 1),$(cl_member_url 2)"
run a ETCD_ENDPOINTS="$dead_first" -- claim replay/down1 30 -- claim replay/down1 30
expect "member 3 down (first endpoint): claim NEW then SEEN" 2 $'NEW\nSEEN'
run b -- put grants/b/5 five 30 -- claim replay/down1b 30
expect "member 3 down: put and claim" 0 $'ok\nNEW'

# two down: no quorum; transient within 4 x ETCD_TIMEOUT
cl_member_stop 2
run a -- claim replay/noquorum 30
timed "two members down (transient)" claim 3
run a -- put grants/b/6 six 30
timed "two members down (transient)" put 3
run a -- watch grants/ 8
ms=$(op_ms watch)
if [ "$RC" != 0 ] && grep -q '^watch error' "$CL_DIR/run.out" && [ -n "$ms" ] && [ "$ms" -lt 8000 ]; then
  ok "two members down: watch returns an error in $ms ms"
else
  fail "two members down: watch wanted an error before its stop, took ${ms:-?} ms"
  show
fi

cl_member_start 2 && cl_member_start 3 && cl_wait_healthy || fail "members restarted"
run b -- claim replay/back 30 -- claim replay/k1 30
expect "members back: claim NEW, the old claim still SEEN" 2 $'NEW\nSEEN'

# the shared lease of a ttl revoked behind the module's back: the next
# claim of that ttl must get a new one (the revocation deleted the key)
drv a -- claim lease/1 31 -- waitfile "$CL_DIR/revoked" -- claim lease/2 31 -- claim lease/1 31 \
  >"$CL_DIR/lease.out" 2>"$CL_DIR/lease.err" &
lp=$!
for ((i = 0; i < 100; i++)); do
  lease=$(cl_etcdctl get -w json "${PREFIX}lease/1" 2>/dev/null | grep -o '"lease":[0-9]*' | cut -d: -f2)
  [ -n "$lease" ] && break
  sleep 0.1
done
[ -n "$lease" ] && cl_etcdctl lease revoke "$(printf '%x' "$lease")" >/dev/null || fail "lease of lease/1 not found"
touch "$CL_DIR/revoked"
wait "$lp"; RC=$?
OUT=$(cat "$CL_DIR/lease.out")
cp "$CL_DIR/lease.err" "$CL_DIR/run.err"
expect "claim after its lease was revoked: a new lease (NEW, NEW, and the deleted key NEW)" 0 $'NEW\nNEW\nNEW'

# --- TLS ---------------------------------------------------------------------------
# refused WHAT REGEX: the claim failed (not a store answer), and the
# module's error says why. A client certificate the member refuses shows
# as the TLS alert, or (libcurl, when the member's close wins the race
# with its read) as a connection gone: a member refusing is the point.
refused() {
  if [ "$RC" != 0 ] && [ "$RC" != 2 ] && grep -qiE "$2" "$CL_DIR/run.err"; then
    ok "$1 refused (exit $RC): $(grep -hiE -m1 -o "[^:]*($2).{0,60}" "$CL_DIR/run.err" | head -n 1)"
  else
    fail "$1 not refused with a reason matching '$2'"
    show
  fi
}
run a ETCD_CA_FILE="$CL_ROGUE_CA" -- claim replay/tls1 30
refused "a server certificate of another CA" 'certificate'
run a ETCD_CERT_FILE="$CL_ROGUE_CERT" ETCD_KEY_FILE="$CL_ROGUE_KEY" -- claim replay/tls2 30
refused "a client certificate of another CA" 'bad certificate|not connected|reset'
run a ETCD_CERT_FILE= ETCD_KEY_FILE= -- claim replay/tls3 30
refused "no client certificate" 'certificate|not connected|reset'

# --- leaks (sanitizer build): every op once, in one process ---------------------
if [ "$asan" = 1 ]; then
  for try in 1 2 3; do
    ASAN_OPTIONS=${ASAN_OPTIONS%detect_leaks=0}detect_leaks=1 \
      run a -- claim "leak/$try" 30 -- put "leak/p$try" v 30 -- del "leak/p$try" \
        -- watch leak/ 1 -- race "leak/r$try" 4 -- claim "leak/$try" 30
    grep -q 'LeakSanitizer has encountered a fatal error' "$CL_DIR/run.err" || break
    echo "note: LeakSanitizer's tracer crashed (try $try), again"
  done
  if [ "$RC" = 2 ] && ! grep -q 'LeakSanitizer' "$CL_DIR/run.err"; then
    ok "no leak after claim, put, del, watch, race (LeakSanitizer)"
  else
    fail "leak check"; show; grep -A12 'ERROR: LeakSanitizer' "$CL_DIR/run.err" | head -n 30
  fi
fi

# --- a small bench (shown, and no claim may fail) --------------------------------
run a -- bench 400 4
if [ "$RC" = 0 ] && grep -q ' errors 0$' <<<"$OUT"; then
  ok "bench: $OUT"
else
  fail "bench"; show
fi

echo "store_etcd: $((SECONDS - t_start)) s"
if [ "$fails" -ne 0 ]; then
  echo "$fails check(s) failed"
  exit 1
fi
echo "all store conformance checks passed"
