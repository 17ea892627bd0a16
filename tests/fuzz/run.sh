#!/usr/bin/env bash
# Runs every libFuzzer target of BUILD_DIR for SECONDS each, starting from the seeds in
# tests/fuzz/corpus/<target>/ plus what earlier runs found (kept in BUILD_DIR/fuzz-corpus/).
# Fails on any crash, leak, timeout or sanitizer report; the input that caused it is kept in
# BUILD_DIR/fuzz-findings/<target>/ and named in the output.
#   tests/fuzz/run.sh BUILD_DIR [SECONDS]
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${1:?usage: tests/fuzz/run.sh BUILD_DIR [SECONDS]}
SECONDS_EACH=${2:-60}
failed=0
for seeds in tests/fuzz/corpus/*/; do
  target=$(basename "$seeds")
  bin="$BUILD_DIR/bin/$target"
  if [[ ! -x $bin ]]; then
    echo "fuzz: $target: $bin is missing (make fuzz builds it)"
    failed=1
    continue
  fi
  work="$BUILD_DIR/fuzz-corpus/$target"
  findings="$BUILD_DIR/fuzz-findings/$target"
  mkdir -p "$work" "$findings"
  log="$BUILD_DIR/fuzz-findings/$target.log"
  before=$(find "$work" -type f | wc -l)
  "$bin" -max_total_time="$SECONDS_EACH" -timeout=30 -rss_limit_mb=3072 -print_final_stats=1 \
    -artifact_prefix="$findings/" "$work" "$seeds" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  after=$(find "$work" -type f | wc -l)
  if ((rc != 0)); then
    failed=1
    echo "fuzz: $target FAILED after ${execs:-?} runs (exit $rc); log $log; input:"
    ls -1 "$findings"/ 2>/dev/null | sed "s|^|  $findings/|"
    grep -m3 -E "ERROR: |runtime error|SUMMARY" "$log" | sed 's/^/  /'
  else
    echo "fuzz: $target ran ${SECONDS_EACH}s, ${execs:-?} runs, corpus $before -> $after inputs, nothing found"
  fi
done
exit $failed
