#!/usr/bin/env bash
# Runs every test suite against the build in $1 and prints one closing line:
# "N passed, N failed". Exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build-asan}
export RC_BIN="$PWD/$BUILD_DIR/bin/remote-code"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Debian's Python has python3-kubernetes; a pyenv python on PATH would not.
PY=/usr/bin/python3

passed=0
failed=0
skipped=0
failed_suites=()

# Seconds per suite, printed at the end: CI has a time budget, and this shows where it goes.
timings=()
suite_started=$SECONDS

record() {  # suite-name passed failed
  passed=$((passed + $2))
  failed=$((failed + $3))
  if (($3 > 0)); then failed_suites+=("$1"); fi
  timings+=("$((SECONDS - suite_started))s $1")
  suite_started=$SECONDS
}

echo "== unit tests"
# Each tests/unit/*_test.cpp is its own GoogleTest binary; count test cases, not binaries.
for bin in "$BUILD_DIR"/bin/*_test; do
  [[ -x $bin ]] || continue
  suite_started=$SECONDS
  out=$("$bin" 2>&1)
  rc=$?
  p=$(echo "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) tests\{0,1\}\..*/\1/p')
  f=$(echo "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) tests\{0,1\}, listed below:.*/\1/p')
  p=${p:-0}
  f=${f:-0}
  if ((rc != 0 && f == 0)); then f=1; echo "$out" | tail -n 30; fi
  echo "$(basename "$bin"): $p passed, $f failed"
  ((f > 0)) && echo "$out" | grep -E '^\[  FAILED  \]' | head -20
  record "$(basename "$bin")" "$p" "$f"
done

run_python_suite() {  # a unittest file; RC_TARGET=cluster runs it against a real control plane
  local t=$1 t_name out rc ran bad n skip
  [[ ${RC_TARGET:-} == cluster ]] && t_name="$t [real apiserver]" || t_name=$t
  echo "== $t_name"
  suite_started=$SECONDS
  out=$($PY -m unittest -v "$t" 2>&1)
  rc=$?
  echo "$out" | tail -n 60
  ran=$(echo "$out" | sed -n 's/^Ran \([0-9]*\) tests\{0,1\} in.*/\1/p' | tail -1)
  ran=${ran:-0}
  bad=0
  for n in $(echo "$out" | sed -n 's/^FAILED (\(.*\))$/\1/p' | grep -oE '(failures|errors)=[0-9]+' |
    cut -d= -f2); do
    bad=$((bad + n))
  done
  if ((rc != 0 && bad == 0)); then bad=1; fi
  skip=$(echo "$out" | grep -oE 'skipped=[0-9]+' | tail -1 | cut -d= -f2)
  skipped=$((skipped + ${skip:-0}))
  ran=$((ran - ${skip:-0}))
  record "$t_name" $((ran - bad < 0 ? 0 : ran - bad)) "$bad"
}

for suite in tests/integration tests/kubectl tests/python; do
  [[ -d $suite ]] || continue
  for t in "$suite"/test_*.py; do
    [[ -f $t ]] && run_python_suite "$t"
  done
done

# The end-to-end suites share one real control plane (scripts/cluster), started once here.
if compgen -G "tests/cluster/test_*.py" >/dev/null; then
  echo "== real control plane: scripts/cluster up"
  suite_started=$SECONDS
  cluster_dir="$PWD/$BUILD_DIR/e2e-cluster"
  bash scripts/cluster down --dir "$cluster_dir" >/dev/null 2>&1
  rm -rf "$cluster_dir"
  trap 'bash scripts/cluster down --dir "$cluster_dir" >/dev/null 2>&1' EXIT
  if bash scripts/cluster up --dir "$cluster_dir" --gpu-nodes 4; then
    record "scripts/cluster up" 0 0
    export RC_E2E_CLUSTER_DIR=$cluster_dir
    for t in tests/cluster/test_*.py; do run_python_suite "$t"; done
    unset RC_E2E_CLUSTER_DIR
    # The suites that hold the simulator to a real apiserver's behaviour, run against a real one
    # (each starts a fresh control plane of its own: they assume an empty cluster).
    for t in tests/kubectl/test_kubectl.py tests/python/test_client.py \
      tests/integration/test_api_semantics.py tests/integration/test_fixtures.py; do
      RC_TARGET=cluster run_python_suite "$t"
    done
  else
    tail -n 30 "$cluster_dir"/logs/*.log 2>/dev/null
    record "scripts/cluster up" 0 1
  fi
  bash scripts/cluster down --dir "$cluster_dir"
fi

if [[ -d tests/browser && -f tests/browser/run.sh ]]; then
  echo "== browser tests"
  suite_started=$SECONDS
  out=$(bash tests/browser/run.sh "$BUILD_DIR" 2>&1)
  rc=$?
  echo "$out" | tail -n 40
  p=$(echo "$out" | sed -n 's/^browser: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
  f=$(echo "$out" | sed -n 's/^browser: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
  record browser "${p:-0}" "${f:-$((rc != 0))}"
fi

# A short fuzzing run of every libFuzzer target (make fuzz runs them longer), when built.
if [[ -n ${RC_FUZZ_DIR:-} ]]; then
  echo "== fuzz (${RC_FUZZ_SECONDS:-10} s per target)"
  suite_started=$SECONDS
  out=$(bash tests/fuzz/run.sh "$RC_FUZZ_DIR" "${RC_FUZZ_SECONDS:-10}" 2>&1)
  echo "$out"
  p=$(echo "$out" | grep -c 'nothing found$')
  f=$(echo "$out" | grep -c -E 'FAILED|is missing')
  record fuzz "$p" "$f"
fi

echo
echo "seconds per suite (total ${SECONDS}s):"
printf '  %s\n' "${timings[@]}"
if ((${#failed_suites[@]})); then echo "failed suites: ${failed_suites[*]}"; fi
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
