#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs ctest in each build directory given and prints one closing line
# "N passed, N failed". Exit status is non-zero if anything failed.
set -u
passed=0
failed=0
for dir in "$@"; do
  [ -d "$dir" ] || continue
  log="$dir/ctest.log"
  echo "== ctest in $dir"
  ctest --test-dir "$dir" --output-on-failure -j "$(nproc)" --timeout 600 >"$log" 2>&1
  grep -E '^ *[0-9]+/[0-9]+ Test|tests passed|The following tests|^\s+[0-9]+ - ' "$log" \
    | sed 's/^/  /'
  if grep -q 'Failed\|\*\*\*' "$log"; then
    # show what failed, with the test's own output
    grep -B2 -A40 -E '\*\*\*Failed|\*\*\*Exception|\*\*\*Timeout' "$log" | head -n 200
  fi
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
  if [ -z "$line" ]; then
    if grep -q 'No tests were found' "$log"; then continue; fi
    echo "run-tests: ctest in $dir did not report a summary" >&2
    failed=$((failed + 1))
    continue
  fi
  total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
  nfail=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
  passed=$((passed + total - nfail))
  failed=$((failed + nfail))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
