#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The SDK as a third party sees it: install the SDK into a staging prefix,
# build sdk/examples/cloud-sg out of tree with pkg-config only, load the
# result into spad and knock over loopback. The group's file (the simulated
# provider) gains one rule per grant, carrying the id the plugin keeps as
# the grant's token (two ports of one knock: two rules, two ids);
# reconciliation (SIGUSR1) revokes a stray rule of ours and re-creates a
# lost one, leaving other rules alone; a throttled revoke at expiry is
# retried until it goes through.
# Usage: test_sdk_example.sh <source-dir> <build-dir> <spad> <spa-client>
# shellcheck source=sdk_lib.sh
. "$(dirname "$0")/sdk_lib.sh" "$@"
sdk_setup spa-sdk cmake pkg-config make cc ss base64 flock

sdk_stage
sdk_build_example cloud-sg cloudsg

state=$tmp/sg.rules
(umask 077 && head -c 24 /dev/urandom | base64 -w0 >"$tmp/api.token")
sdk_write_conf "tcp/22, tcp/443" 30 "FIREWALL_TYPE cloudsg
CLOUDSG_STATE_FILE $state
CLOUDSG_GROUP sg-test
CLOUDSG_API_TOKEN_FILE $tmp/api.token
FLUSH_CLOUDSG_AT_INIT N"

echo "== spad refuses a group-writable plugin, and a key the schema does not name"
chmod 0664 "$plugins/cloudsg.so"
out=$("$spad" --exit-parse-config "${spad_args[@]}" 2>&1)
echo "$out" | tail -n 2
check grep -q "writable" <<<"$out"
chmod 0644 "$plugins/cloudsg.so"
check "$spad" --exit-parse-config "${spad_args[@]}"
cp "$tmp/fwknopd.conf" "$tmp/typo.conf"
echo "CLOUDSG_GRUOP sg-x" >>"$tmp/typo.conf"
out=$("$spad" --exit-parse-config -c "$tmp/typo.conf" -a "$tmp/access.conf" -r "$tmp/run" 2>&1)
check grep -q "CLOUDSG_GRUOP" <<<"$out"

echo "== spad loads the example"
spad_start
check grep -q "plugin cloudsg: group sg-test" "$spad_log"

# A rule of the group: "<id> sg-test ingress tcp <port> <cidr> <description>"
rules() { grep -c " sg-test ingress tcp $2 $1/32 ${3:-spad}\$" "$state" 2>/dev/null; }
has() { [ "$(rules "$@")" = 1 ]; }
gone() { [ -f "$state" ] && [ "$(rules "$@")" = 0 ]; }
id_of() { sed -n "s/^\(sgr-[0-9a-f]*\) sg-test ingress tcp $2 $1\/32 spad\$/\1/p" "$state"; }
# The provider's other users write under its lock, as the plugin does.
as_admin() { flock "$state.lock" "$@"; }

echo "== knock: one rule, its id the grant's token"
not_yet() { ! has 198.51.100.7 22; }
check not_yet
knock 198.51.100.7 tcp/22
check wait_for 300 has 198.51.100.7 22
cat "$state"
id1=$(id_of 198.51.100.7 22)
check grep -q "grant [0-9]*: 198.51.100.7 tcp/22 is rule $id1\$" "$spad_log"

echo "== a re-knock keeps the one rule"
sleep 1.1
knock 198.51.100.7 tcp/22
t0=$(date +%s)
check wait_for 100 grep -q "198.51.100.7.*refreshed" "$spad_log"
check has 198.51.100.7 22
check test "$(id_of 198.51.100.7 22)" = "$id1"

echo "== --fw-list beside the daemon reads it back"
listed=$("$spad" --fw-list "${spad_args[@]}" 2>&1)
echo "$listed"
check grep -q "198.51.100.7 tcp/22" <<<"$listed"

echo "== two ports in one knock: two rules, each its own id"
knock 198.51.100.8 tcp/22,tcp/443 -f 5
both() { has 198.51.100.8 22 && has 198.51.100.8 443; }
check wait_for 300 both
check test "$(id_of 198.51.100.8 22)" != "$(id_of 198.51.100.8 443)"
grep "rules in one request" "$spad_log" || echo "(the engine handed them over one by one)"
neither() { gone 198.51.100.8 22 && gone 198.51.100.8 443; }
check wait_for 600 neither

echo "== SIGUSR1: a stray rule of ours is revoked, nobody else's"
as_admin sh -c "cat >>'$state'" <<RULES
sgr-00000000000000aa sg-test ingress tcp 8080 203.0.113.5/32 spad
sgr-00000000000000bb sg-test ingress tcp 8080 203.0.113.6/32 admin
sgr-00000000000000cc sg-other ingress tcp 22 198.51.100.9/32 spad
RULES
check usr1_until gone 203.0.113.5 8080
check has 203.0.113.6 8080 admin
check grep -q "^sgr-00000000000000cc sg-other " "$state"
check has 198.51.100.7 22
check grep -q "203.0.113.5 tcp/8080 (no grant covers it): revoked 1 rule(s)" "$spad_log"

echo "== SIGUSR1: a rule the group lost is created again, with a new id"
as_admin sed -i "/^$id1 /d" "$state"
check usr1_until has 198.51.100.7 22
id2=$(id_of 198.51.100.7 22)
check test -n "$id2"
check test "$id2" != "$id1"

echo "== expiry while the provider throttles: the revoke is retried, by the new id"
# one process that holds the lock (flock(1) would leave its command behind)
now=$(date +%s)
bash -c 'exec 9>>"$1" && flock 9 && exec sleep "$2"' _ "$state.lock" $((t0 + 30 + 3 - now)) &
sdk_pids+=("$!")
check wait_for 900 gone 198.51.100.7 22
t1=$(date +%s)
echo "revoked $((t1 - t0)) s after the re-knock"
check test $((t1 - t0)) -ge 29
check grep -q "revoke: throttled" "$spad_log"
check grep -q "grant [0-9]*: rule $id2 revoked" "$spad_log"
check has 203.0.113.6 8080 admin
cat "$state"

sdk_finish
