#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs one fuzz harness from ctest on freshly generated seeds.
#   run_fuzz.sh fuzz   SEED_GEN HARNESS CORPUS WORKDIR [libFuzzer flags...]
#   run_fuzz.sh replay SEED_GEN DRIVER  CORPUS WORKDIR ITERATIONS [SEED]
# CORPUS names the sub-directory fuzz_seed_gen writes for this harness;
# with SEED_GEN "-" it is a directory of seeds kept in the repository.
# SPA_FUZZ_SECONDS overrides the run time given (-max_total_time), for
# make fuzz; each run is killed 120 s past its time in any case.
# SPA_FUZZ_WRAPPER (e.g. a valgrind command line) prefixes the replay driver.
set -u
if [ $# -lt 5 ]; then
  echo "usage: $0 fuzz|replay SEED_GEN HARNESS CORPUS WORKDIR [ARGS...]" >&2
  exit 2
fi
mode=$1 gen=$2 harness=$3 corpus=$4 work=$5
shift 5

# UBSan in the fuzz build only reports by default; a report must fail the run.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

rm -rf "$work"
mkdir -p "$work"
if [ "$gen" = - ]; then
  seeds=$corpus
else
  seeds=$work/seeds/$corpus
  if ! "$gen" "$work/seeds"; then
    echo "FAIL: seed generation failed" >&2
    exit 1
  fi
fi

case $mode in
fuzz)
  mkdir -p "$work/corpus" "$work/artifacts"
  cp "$seeds/"* "$work/corpus/"
  secs=15
  for a in "$@"; do
    case $a in -max_total_time=*) secs=${a#-max_total_time=} ;; esac
  done
  if [ -n "${SPA_FUZZ_SECONDS:-}" ]; then
    secs=$SPA_FUZZ_SECONDS
    set -- "$@" -max_total_time="$secs"   # the last one given wins
  fi
  echo "fuzzing $(basename "$harness") for ${secs}s from $(ls "$work/corpus" | wc -l) seeds"
  timeout -k 10 $((secs + 120)) \
    "$harness" "$@" -artifact_prefix="$work/artifacts/" "$work/corpus" \
    >"$work/fuzz.log" 2>&1
  rc=$?
  grep -E '^stat::|^Done [0-9]+ runs' "$work/fuzz.log"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log")
  echo "executions: ${execs:-unknown}, corpus now $(ls "$work/corpus" | wc -l) inputs"
  if [ "$rc" -ne 0 ] || ls "$work/artifacts/" | grep -q .; then
    echo "FAIL: fuzzer exit status $rc; artifacts:" >&2
    ls -l "$work/artifacts/" >&2
    tail -n 80 "$work/fuzz.log" >&2
    exit 1
  fi
  ;;
replay)
  # shellcheck disable=SC2086 # the wrapper is a command line on purpose
  ${SPA_FUZZ_WRAPPER:-} "$harness" "$seeds" "$@"
  rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "FAIL: replay exit status $rc" >&2
    exit 1
  fi
  ;;
*)
  echo "unknown mode $mode" >&2
  exit 2
  ;;
esac
exit 0
