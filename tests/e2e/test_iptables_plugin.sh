#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The iptables plugin against real iptables/ip6tables inside a network
# namespace, driven without the engine by spa_plugin_drive: holes open only
# for the granted source, a re-knock replaces rather than stacks, close and
# flush remove exactly our rules and leave the admin's alone. An open is
# one iptables-restore; when an admin changed our chain behind the plugin's
# back, the refused batch sends it to iptables-save and it still works;
# a close whose rule or chain is already gone returns 0, one that
# iptables-restore refuses does not (IPT_RESTORE_EXE: a wrapper that
# fails on demand).
# Usage: test_iptables_plugin.sh <spa_plugin_drive> <iptables.so>
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/netns.sh"

drive=${1:?drive binary}
plugin=${2:?plugin .so}

e2e_require_root
e2e_require_tools socat ss timeout iptables-save iptables-restore ip6tables-save ip6tables-restore
e2e_setup || { echo "FAIL: namespace setup"; exit 1; }
e2e_start_listener 22 || { echo "FAIL: listener"; exit 1; }
e2e_policy_iptables 62201 || { echo "FAIL: drop policy"; exit 1; }

# Keep state between driver runs, as a daemon would across operations.
opts=(-o FLUSH_IPT_AT_INIT=N -o FLUSH_IPT_AT_EXIT=N)
drv() { e2e_srv "$drive" "${opts[@]}" "$plugin" "$@"; }
check() {
  if "$@"; then echo "ok: $*"; else echo "FAIL: $*"; E2E_FAILS=$((E2E_FAILS + 1)); fi
}
count_rules() { # <save-cmd> <pattern>
  e2e_srv "$1" | grep -c -- "$2"
}
# The commands in a SPA_DRIVE_TRACE output, without the plugin's log lines.
runs() { grep '^run:' <<<"$1"; }

# An admin rule that must survive everything we do.
e2e_srv iptables -w -A INPUT -s 203.0.113.9/32 -p tcp --dport 2222 -j ACCEPT

echo "== before any grant"
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 22
e2e_expect_blocked "$E2E_CLI6" "$E2E_SRV6" 22

now=$(date +%s)
exp1=$((now + 60))
exp2=$((now + 120))
check drv open "$E2E_CLI4" tcp 22 "$exp1" -- open "$E2E_CLI6" tcp 22 "$exp1"

echo "== granted .2 and ::2"
e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" 22
e2e_expect_blocked "$E2E_CLI4_OTHER" "$E2E_SRV4" 22
e2e_expect_open "$E2E_CLI6" "$E2E_SRV6" 22
e2e_expect_blocked "$E2E_CLI6_OTHER" "$E2E_SRV6" 22

echo "== fwknop layout"
check test "$(count_rules iptables-save '^-A INPUT -j FWKNOP_INPUT$')" = 1
check test "$(count_rules iptables-save "^-A FWKNOP_INPUT -s $E2E_CLI4/32 -p tcp -m tcp --dport 22 -m comment --comment _exp_$exp1 -j ACCEPT\$")" = 1
check test "$(count_rules ip6tables-save "^-A FWKNOP_INPUT -s $E2E_CLI6/128 -p tcp -m tcp --dport 22 -m comment --comment _exp_$exp1 -j ACCEPT\$")" = 1

echo "== re-knock refreshes without duplicates"
check drv refresh "$E2E_CLI4" tcp 22 "$exp2" -- open "$E2E_CLI6" tcp 22 "$exp2"
check test "$(count_rules iptables-save "^-A FWKNOP_INPUT ")" = 1
check test "$(count_rules iptables-save "_exp_$exp2")" = 1
check test "$(count_rules ip6tables-save "^-A FWKNOP_INPUT ")" = 1
check test "$(count_rules ip6tables-save "^-A INPUT -j FWKNOP_INPUT$")" = 1
e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" 22

echo "== list"
listed=$(drv list)
echo "$listed"
check grep -qx "$E2E_CLI4 tcp 22 $exp2" <<<"$listed"
check grep -qx "$E2E_CLI6 tcp 22 $exp2" <<<"$listed"
check test "$(wc -l <<<"$listed")" = 2

echo "== a listing with default settings (as spad --fw-list) changes nothing"
before=$(e2e_srv iptables-save | grep -c FWKNOP)
check e2e_srv "$drive" "$plugin" list
check test "$(e2e_srv iptables-save | grep -c FWKNOP)" = "$before"

echo "== close IPv4 only"
check drv close "$E2E_CLI4" tcp 22 "$exp2"
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 22
e2e_expect_open "$E2E_CLI6" "$E2E_SRV6" 22

echo "== an open is one exec once init has read the ruleset"
exp3=$((now + 180))
trace=$(SPA_DRIVE_TRACE=1 drv open "$E2E_CLI4" tcp 22 "$exp3" 2>&1 >/dev/null)
runs "$trace"
# init: iptables-save and ip6tables-save; the open: one restore
check test "$(grep -c '^run:' <<<"$trace")" = 3
check test "$(grep -c '^run: /usr/sbin/iptables-restore --noflush .* -> 0$' <<<"$trace")" = 1
e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" 22

# A stand-in for iptables-restore that plays the meddling admin: once, right
# before the batch containing the text in $hookdir/marker, it runs
# $hookdir/hook, then hands the batch to the real iptables-restore. The
# plugin's runner gives it an empty environment, hence the absolute paths.
hookdir=$E2E_TMPDIR/ipt-hook
mkdir -p "$hookdir"
cat >"$hookdir/restore" <<EOF
#!/bin/bash
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
last=\${!#}
if [ -f "\$last" ]; then batch=\$(<"\$last"); else batch=\$(cat); fi
if [ -f "$hookdir/marker" ] && grep -qF -- "\$(<"$hookdir/marker")" <<<"\$batch"; then
  rm -f "$hookdir/marker"
  bash "$hookdir/hook"
fi
exec /usr/sbin/iptables-restore "\$@" <<<"\$batch"
EOF
chmod 755 "$hookdir/restore"
hooked() { # <marker> <hook commands> <drive ops...>
  printf '%s\n' "$1" >"$hookdir/marker"
  printf '%s\n' "$2" >"$hookdir/hook"
  shift 2
  SPA_DRIVE_TRACE=1 e2e_srv "$drive" "${opts[@]}" -o IPT_RESTORE_EXE="$hookdir/restore" \
    "$plugin" "$@" 2>&1 >/dev/null
}
# The refused batch, then iptables-save, then the corrective batch.
fell_back() {
  runs "$1" | grep -A2 "^run: $hookdir/restore .* -> [1-9]" | tr '\n' ' ' |
    grep -q "iptables-save -> 0 run: $hookdir/restore .* -> 0"
}

echo "== the admin flushes our chain between two knocks"
exp4=$((now + 240))
exp5=$((now + 300))
trace=$(hooked "_exp_$exp5" "iptables -w -F FWKNOP_INPUT" \
  open "$E2E_CLI4" tcp 22 "$exp4" -- refresh "$E2E_CLI4" tcp 22 "$exp5")
rc=$?
runs "$trace"
check test "$rc" = 0
check test ! -e "$hookdir/marker"
check fell_back "$trace"
check test "$(count_rules iptables-save "^-A FWKNOP_INPUT ")" = 1
check test "$(count_rules iptables-save "^-A FWKNOP_INPUT -s $E2E_CLI4/32 .*_exp_$exp5 -j ACCEPT\$")" = 1
e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" 22

echo "== the admin deletes our chain and jump between two knocks"
exp6=$((now + 360))
trace=$(hooked "_exp_$exp6" \
  "iptables -w -D INPUT -j FWKNOP_INPUT; iptables -w -F FWKNOP_INPUT; iptables -w -X FWKNOP_INPUT" \
  refresh "$E2E_CLI4" tcp 22 "$exp6")
rc=$?
runs "$trace"
check test "$rc" = 0
check fell_back "$trace"
check test "$(count_rules iptables-save '^-A INPUT -j FWKNOP_INPUT$')" = 1
check test "$(count_rules iptables-save "^-A FWKNOP_INPUT ")" = 1
check test "$(count_rules iptables-save "^-A FWKNOP_INPUT -s $E2E_CLI4/32 .*_exp_$exp6 -j ACCEPT\$")" = 1
e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" 22

echo "== our rule is deleted behind our back before the close"
rule="-s $E2E_CLI4/32 -p tcp -m tcp --dport 22 -m comment --comment _exp_$exp6 -j ACCEPT"
trace=$(hooked "-D FWKNOP_INPUT $rule" "iptables -w -D FWKNOP_INPUT $rule" \
  close "$E2E_CLI4" tcp 22 "$exp6")
rc=$?
runs "$trace"
check test "$rc" = 0
check test ! -e "$hookdir/marker"
# refused, then read back: nothing left to delete, so no second restore
check grep -q "^run: /usr/sbin/iptables-save -> 0" <<<"$(runs "$trace" | grep -A1 "^run: $hookdir/restore .* -> [1-9]")"
check test "$(grep -c "^run: $hookdir/restore" <<<"$trace")" = 1
check test "$(count_rules iptables-save "^-A FWKNOP_INPUT ")" = 0
check test "$(count_rules iptables-save '^-A INPUT -j FWKNOP_INPUT$')" = 1
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 22
e2e_expect_open "$E2E_CLI6" "$E2E_SRV6" 22

echo "== close succeeds when our chain was flushed and deleted behind our back"
exp7=$((now + 420))
check drv open "$E2E_CLI4" tcp 22 "$exp7"
trace=$(hooked "-D FWKNOP_INPUT -s $E2E_CLI4/32" \
  "iptables -w -D INPUT -j FWKNOP_INPUT; iptables -w -F FWKNOP_INPUT; iptables -w -X FWKNOP_INPUT" \
  close "$E2E_CLI4" tcp 22 "$exp7")
rc=$?
runs "$trace"
check test "$rc" = 0
check test ! -e "$hookdir/marker"
check test "$(count_rules iptables-save FWKNOP)" = 0
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 22

echo "== a close iptables-restore refuses fails (IPT_RESTORE_EXE wrapper failing on demand)"
# The runner gives it an empty environment: absolute paths only; the
# batch arrives on stdin and goes on to the real command.
wrap=$E2E_TMPDIR/ipt-fail-restore
flag=$E2E_TMPDIR/ipt-fail
cat >"$wrap" <<EOF
#!/bin/bash
if [ -e "$flag" ]; then
  echo "injected failure" >&2
  exit 1
fi
exec /usr/sbin/iptables-restore "\$@"
EOF
chmod 755 "$wrap"
wdrv() { e2e_srv "$drive" "${opts[@]}" -o IPT_RESTORE_EXE="$wrap" "$plugin" "$@"; }
check wdrv open "$E2E_CLI4" tcp 22 "$exp7"
touch "$flag"
out=$(wdrv close "$E2E_CLI4" tcp 22 "$exp7" 2>&1)
check test $? -ne 0
check grep -q "^close failed" <<<"$out"
check test "$(count_rules iptables-save "^-A FWKNOP_INPUT -s $E2E_CLI4/32 .*_exp_$exp7 -j ACCEPT\$")" = 1
e2e_expect_open "$E2E_CLI4" "$E2E_SRV4" 22
rm -f "$flag"
check wdrv close "$E2E_CLI4" tcp 22 "$exp7"
check test "$(count_rules iptables-save "^-A FWKNOP_INPUT ")" = 0
e2e_expect_blocked "$E2E_CLI4" "$E2E_SRV4" 22

echo "== re-open after a restart does not duplicate"
check drv open "$E2E_CLI4" tcp 22 "$exp7"
check drv open "$E2E_CLI4" tcp 22 "$exp7"
check test "$(count_rules iptables-save "^-A FWKNOP_INPUT -s $E2E_CLI4/32 ")" = 1
check drv close "$E2E_CLI4" tcp 22 "$exp7"

echo "== flush"
check drv flush
e2e_expect_blocked "$E2E_CLI6" "$E2E_SRV6" 22
check test "$(count_rules iptables-save FWKNOP)" = 0
check test "$(count_rules ip6tables-save FWKNOP)" = 0
check test "$(count_rules iptables-save '^-A INPUT -s 203.0.113.9/32 -p tcp -m tcp --dport 2222 -j ACCEPT$')" = 1

echo "== init on a clean host says nothing on stderr"
err=$(e2e_srv "$drive" "$plugin" list 2>&1 >/dev/null)
check test -z "$err"

e2e_finish
