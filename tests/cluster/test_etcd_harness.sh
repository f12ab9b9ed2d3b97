#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Self-test of etcd_lib.sh with etcdctl alone: the three members form one
# cluster (a write through one is read through each), TLS refuses a client
# without our client certificate, one member down leaves a working
# cluster, a restarted member catches up, and the cleanup leaves nothing
# behind even when the test dies.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/etcd_lib.sh"

cl_require
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

# A test that dies after setup: its namespaces, members and files must go.
child_out=$(bash -c '. "$1"; trap cl_cleanup EXIT; cl_setup || exit 3
                     echo "$CL_PREFIX $CL_DIR ${CL_MEMBER_PID[*]}"; exit 1' _ "$here/etcd_lib.sh")
child_rc=$?
read -r child_prefix child_dir child_pids <<<"$child_out"
if [ "$child_rc" -ne 1 ] || [ -z "${child_pids:-}" ]; then
  fail "child setup did not get as far as a healthy cluster (rc=$child_rc)"
else
  if ip netns list | grep -q "^$child_prefix-"; then
    fail "namespaces of a failed test were left behind"
    for ns in $(ip netns list | awk -v p="^$child_prefix-" '$1 ~ p {print $1}'); do
      ip netns del "$ns"
    done
  else
    ok "namespaces removed after a failing test"
  fi
  for pid in $child_pids; do
    kill -0 "$pid" 2>/dev/null && fail "etcd pid $pid survived the failing test"
  done
  [ -e "$child_dir" ] && fail "temp dir $child_dir left behind"
  ok "cleanup after a failing test checked"
fi

# cl_setup refuses to run without the cleanup trap.
if (cl_setup) 2>/dev/null; then
  fail "cl_setup ran without trap cl_cleanup EXIT"
fi

trap cl_cleanup EXIT
start=$SECONDS
cl_setup || { echo "FAIL: cluster setup"; exit 1; }
ok "3 members healthy in $((SECONDS - start)) s"

[ "$(stat -c %a "$CL_DIR")" = 700 ] && [ "$(stat -c %a "$CL_KEY")" = 600 ] ||
  fail "temp dir or key readable by others"

# get KEY N: the value of KEY read through member N alone
get_via() {
  ETCDCTL_API=3 cl_in hub etcdctl --endpoints="$(cl_member_url "$2")" --cacert="$CL_CA" \
    --cert="$CL_CERT" --key="$CL_KEY" --dial-timeout=2s --command-timeout=5s \
    get --print-value-only "$1"
}

cl_etcdctl put /harness/a one >/dev/null || fail "put"
for n in 1 2 3; do
  v=$(get_via /harness/a "$n")
  [ "$v" = one ] && ok "member $n reads the write" || fail "member $n read '$v'"
done

# TLS: another CA's client certificate, and no client certificate at all.
if out=$(ETCDCTL_API=3 cl_in hub etcdctl --endpoints="$(cl_member_url 1)" --cacert="$CL_CA" \
           --cert="$CL_ROGUE_CERT" --key="$CL_ROGUE_KEY" --dial-timeout=1s \
           --command-timeout=1s get /harness/a 2>&1); then
  fail "a client certificate of another CA was accepted: $out"
else
  ok "client certificate of another CA refused"
fi
if out=$(ETCDCTL_API=3 cl_in hub etcdctl --endpoints="$(cl_member_url 1)" --cacert="$CL_CA" \
           --dial-timeout=2s --command-timeout=1s get /harness/a 2>&1); then
  fail "a client without certificate was accepted: $out"
else
  ok "client without certificate refused"
fi
# and the members' certificates do not verify under another CA
if ETCDCTL_API=3 cl_in hub etcdctl --endpoints="$(cl_member_url 1)" --cacert="$CL_ROGUE_CA" \
     --cert="$CL_CERT" --key="$CL_KEY" --dial-timeout=2s --command-timeout=1s \
     get /harness/a >/dev/null 2>&1; then
  fail "a member's certificate verified under another CA"
else
  ok "member certificate does not verify under another CA"
fi

# One member down, the leader: the other two elect another and go on.
lead=$(cl_leader) || fail "no leader"
lead=${lead:-1}
cl_member_stop "$lead"
kill -0 "$(cl_member_pid "$lead" || echo 0)" 2>/dev/null && fail "member $lead still running"
other=$(( lead % 3 + 1 ))
last=$(( other % 3 + 1 ))
if cl_etcdctl put /harness/b two >"$CL_DIR/put.out" 2>&1 && [ "$(get_via /harness/b "$last")" = two ]; then
  ok "leader (member $lead) down: writes and reads work"
else
  fail "leader (member $lead) down: cluster does not answer: $(cat "$CL_DIR/put.out")"
fi

# Two down: no quorum, a write fails (bounded by etcdctl's timeout).
cl_member_stop "$other"
if cl_etcdctl --command-timeout=2s put /harness/c three >/dev/null 2>&1; then
  fail "a write succeeded without quorum"
else
  ok "two members down: write refused"
fi

cl_member_start "$lead" && cl_member_start "$other" && cl_wait_healthy || fail "restart"
v=$(get_via /harness/b "$lead")
[ "$v" = two ] && ok "restarted member $lead caught up" || fail "member $lead read '$v' after restart"
cl_etcdctl put /harness/d four >/dev/null 2>&1 && ok "writes again after restart" ||
  fail "no write after restart"

# cl_node_ns: another namespace on the bridge reaches the members.
cl_node_ns n1 198.51.100.11 || fail "cl_node_ns"
v=$(ETCDCTL_API=3 cl_in n1 etcdctl --endpoints="$(cl_endpoints)" --cacert="$CL_CA" \
      --cert="$CL_CERT" --key="$CL_KEY" --dial-timeout=2s get --print-value-only /harness/d)
[ "$v" = four ] && ok "node namespace reaches the cluster" || fail "node namespace read '$v'"
cl_node_ns hub 198.51.100.12 2>/dev/null && fail "cl_node_ns accepted a reserved name"
cl_node_ns x 192.0.2.1 2>/dev/null && fail "cl_node_ns accepted an address off the plan"

echo "harness: $((SECONDS - start)) s"
if [ "$fails" -ne 0 ]; then
  echo "$fails check(s) failed"
  exit 1
fi
echo "all harness checks passed"
