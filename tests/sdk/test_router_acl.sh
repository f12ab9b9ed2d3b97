#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# sdk/examples/router-acl built out of tree against the staged SDK, loaded
# into spad, driving fake_router.py (a router's management service on
# loopback: ~200 ms an answer, some adds and dels refused as busy). Legs:
# one entry per knock, numbered by the grant's token, gone at expiry; a
# refused add is not retried; after a router reboot and SIGUSR1 the live
# grants are back and a stray entry with our remark is removed, the admin's
# kept; after a kill -9 and a new start the grants still close on time, by
# their journaled tokens.
# Usage: test_router_acl.sh <source-dir> <build-dir> <spad> <spa-client>
# ROUTER_ACL_TEST_BUSY: the fraction of adds and dels the router answers
# "err busy" (default 0.3); ROUTER_ACL_TEST_SEED: its random seed.
# shellcheck disable=SC2086 # a hole, "<src> <proto> <port>", is split on purpose
# shellcheck source=sdk_lib.sh
. "$(dirname "$0")/sdk_lib.sh" "$@"
sdk_setup spa-racl cmake pkg-config make cc ss base64 python3

sdk_stage
sdk_build_example router-acl router-acl

router=("python3" "$src/tests/sdk/fake_router.py")
sdk_free_port -t
rport=$free_port
acl=$tmp/router.acl
rlog=$tmp/router.log
pwfile=$tmp/router.pw
password=$(head -c 18 /dev/urandom | base64 -w0)
(umask 077 && echo "$password" >"$pwfile")
sdk_write_conf "tcp/22, tcp/23, tcp/443, udp/5353" 30 "FIREWALL_TYPE router-acl
ROUTER_ACL_HOST 127.0.0.1
ROUTER_ACL_PORT $rport
ROUTER_ACL_PASSWORD_FILE $pwfile
ROUTER_ACL_TIMEOUT_MS 5000
FLUSH_ROUTER_ACL_AT_INIT N
PLUGIN_OP_TIMEOUT 20"
# (without AT_INIT N the start's flush would remove every entry of ours,
# and the restart leg would not show that close finds its token)

echo "== the schema: secret from a file, typos and names refused"
refused() { # <sed expression on fwknopd.conf> <what the error names>
  local out
  sed "$1" "$tmp/fwknopd.conf" >"$tmp/bad.conf" && chmod 600 "$tmp/bad.conf"
  out=$("$spad" --exit-parse-config -c "$tmp/bad.conf" -a "$tmp/access.conf" -r "$tmp/run" 2>&1) &&
    return 1
  grep -F -- "$2" <<<"$out"
}
check "$spad" --exit-parse-config "${spad_args[@]}"
# shellcheck disable=SC2016 # sed's $ (the last line)
check refused '$a ROUTER_ACL_PASWORD x' "ROUTER_ACL_PASWORD"
check refused 's/^ROUTER_ACL_HOST .*/ROUTER_ACL_HOST router.example/' \
  "ROUTER_ACL_HOST 'router.example'"
check refused '/^ROUTER_ACL_PASSWORD_FILE/d' "ROUTER_ACL_PASSWORD"
out=$("$spad" -D "${spad_args[@]}" 2>&1)
no_password() { ! grep -qF -- "$password" "$@"; }
check no_password <<<"$out"

busy=${ROUTER_ACL_TEST_BUSY:-0.3}
seed=${ROUTER_ACL_TEST_SEED:-$RANDOM}
echo "== router on 127.0.0.1:$rport, busy $busy, seed $seed"
"${router[@]}" serve --port "$rport" --password-file "$pwfile" --state "$acl" --log "$rlog" \
  --busy "$busy" --seed "$seed" --refuse-port 23 2>"$tmp/router.err" &
sdk_pids+=("$!")
listening() { ss -Hlnt "sport = :$rport" | grep -q . && [ -f "$acl" ]; }
wait_for 100 listening || { cat "$tmp/router.err"; die "the router did not start"; }
rsend() { # <command...>: as the router's admin, who tries again when it is busy
  local out _
  for _ in $(seq 1 50); do
    out=$("${router[@]}" send --port "$rport" --password-file "$pwfile" "$@")
    [ "$out" = "err busy" ] || break
  done
  echo "$out"
}

# The router's state: "acl <seq> permit <proto> <src> <port> <remark>".
count() { grep -c " permit $2 $1 $3 ${4:-spa}\$" "$acl"; } # <src> <proto> <port> [remark]
has() { [ "$(count "$@")" = 1 ]; }
gone() { [ "$(count "$@")" = 0 ]; }
seq_of() { sed -n "s/^acl \([0-9]*\) permit $2 $1 $3 spa\$/\1/p" "$acl"; }
# The grant the plugin logged as holding entry <seq> for <src>.
grant_of() { # <src> <proto> <port> <seq>
  sed -n "s/.*plugin router-acl: grant \([0-9]*\): $1 $2\/$3 is acl entry $4\$/\1/p" \
    "$spad_log" | tail -n 1
}
knock_holes() { # <seconds> <hole...>
  local secs=$1 h a p n
  shift
  for h in "$@"; do
    read -r a p n <<<"$h"
    knock "$a" "$p/$n" -f "$secs"
  done
}
all_have() { local h; for h in "$@"; do has $h || return 1; done; }
none_have() { local h; for h in "$@"; do gone $h || return 1; done; }

spad_start

echo "== three knocks: one entry each, numbered by the grant's token"
holes=("198.51.100.7 tcp 22" "198.51.100.8 tcp 443" "198.51.100.9 udp 5353")
t0=$(date +%s)
knock_holes 20 "${holes[@]}"
check wait_for 300 all_have "${holes[@]}"
cat "$acl"
declare -A seqs=()
for h in "${holes[@]}"; do
  seqs[$h]=$(seq_of $h)
  check test -n "$(grant_of $h "${seqs[$h]}")"
done

echo "== a refused add (port 23 is the router's) is permanent: not retried"
knock 198.51.100.20 tcp/23
check wait_for 300 grep -q "port 23 is reserved" "$spad_log"
sleep 3
check test "$(grep -c "add permit tcp 198.51.100.20 23 " "$rlog")" = 1
check gone 198.51.100.20 tcp 23

echo "== expiry: every entry deleted by its number"
check wait_for 900 none_have "${holes[@]}"
check test "$(date +%s)" -ge $((t0 + 20 - 1))
for h in "${holes[@]}"; do
  check grep -q "grant $(grant_of $h "${seqs[$h]}"): acl entry ${seqs[$h]} removed" "$spad_log"
done

echo "== router reboot, SIGUSR1: the live grants are back"
live=("198.51.100.10 tcp 22" "198.51.100.11 tcp 443")
t1=$(date +%s)
knock_holes 90 "${live[@]}"
check wait_for 300 all_have "${live[@]}"
declare -A old=()
for h in "${live[@]}"; do old[$h]=$(seq_of $h); done
check test "$(rsend reboot)" = ok
check test ! -s "$acl"
check usr1_until all_have "${live[@]}"
for h in "${live[@]}"; do
  check test "$(seq_of $h)" != "${old[$h]}"
done
cat "$acl"

echo "== a stray entry with our remark is removed, the admin's is not"
radd() { [[ $(rsend add permit "$@") == "ok "* ]]; }
check radd tcp 203.0.113.5 8080 spa
check radd tcp 203.0.113.6 8080 admin
check usr1_until gone 203.0.113.5 tcp 8080
check has 203.0.113.6 tcp 8080 admin
check all_have "${live[@]}"
check grep -q "203.0.113.5 tcp/8080 (no grant covers it): removed 1 entry(s)" "$spad_log"

echo "== --fw-list beside the daemon: our entries only"
listed=$("$spad" --fw-list "${spad_args[@]}" 2>&1)
echo "$listed"
check grep -q "198.51.100.10 tcp/22" <<<"$listed"
check grep -q "198.51.100.11 tcp/443" <<<"$listed"
not_listed() { ! grep -q "203.0.113.6" <<<"$listed"; }
check not_listed

echo "== kill -9, a grant expires meanwhile, start again: closed by its journaled token"
knock 198.51.100.12 tcp/22 -f 8
t2=$(date +%s)
check wait_for 300 has 198.51.100.12 tcp 22
seqF=$(seq_of 198.51.100.12 tcp 22)
idF=$(grant_of 198.51.100.12 tcp 22 "$seqF")
for h in "${live[@]}"; do seqs[$h]=$(seq_of $h); done
kill -KILL "$spad_pid"
wait "$spad_pid" 2>/dev/null
spad_pid=""
while [ "$(date +%s)" -le $((t2 + 9)) ]; do sleep 0.5; done
check has 198.51.100.12 tcp 22
mark=$(wc -l <"$spad_log")
spad_start
check wait_for 600 gone 198.51.100.12 tcp 22
since_restart() { tail -n +"$((mark + 1))" "$spad_log"; }
check grep -q "grant $idF: acl entry $seqF removed" <(since_restart)
no_fallback() { ! since_restart | grep -q "198.51.100.12 tcp/22 (its grant has no token)"; }
check no_fallback

echo "== the grants that lived through the restart close on time"
check all_have "${live[@]}"
for h in "${live[@]}"; do
  check test "$(seq_of $h)" = "${seqs[$h]}"
done
check wait_for 1200 none_have "${live[@]}"
check test "$(date +%s)" -ge $((t1 + 90 - 1))
for h in "${live[@]}"; do
  check grep -q "acl entry ${seqs[$h]} removed" <(since_restart)
done

echo "== a clean stop leaves the admin's entry alone"
kill -TERM "$spad_pid"
wait "$spad_pid" 2>/dev/null
spad_pid=""
cat "$acl"
check test "$(grep -c " spa\$" "$acl")" = 0
check has 203.0.113.6 tcp 8080 admin
check no_password "$spad_log"
echo "router: $(grep -c ' -> err busy' "$rlog") busy answers, $(grep -c ' -> ' "$rlog") commands"

sdk_finish
