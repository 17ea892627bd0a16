#!/usr/bin/env bash
# The portal's browser tests: starts `remote-code dev` (simulator + operator + portal) from the
# build in $1 (default build-asan), drives the pages in headless Chromium with
# tests/browser/portal.test.mjs, stops dev, and prints one closing line that tests/run-all.sh
# reads: "browser: N passed, M failed". Screenshots go to tests/browser/artifacts/.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${1:-build-asan}
BIN="$PWD/$BUILD_DIR/bin/remote-code"
HERE="$PWD/tests/browser"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

summary() {
  echo "browser: $1 passed, $2 failed"
}

if [[ ! -x $BIN ]]; then
  echo "no binary at $BIN: build it first"
  summary 0 1
  exit 1
fi
if [[ ! -x /usr/bin/chromium ]]; then
  echo "/usr/bin/chromium is missing (apt-get install chromium)"
  summary 0 1
  exit 1
fi
if [[ ! -d $HERE/node_modules/playwright-core ]]; then
  if ! (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error); then
    echo "npm ci failed in tests/browser"
    summary 0 1
    exit 1
  fi
fi

STATE=$(mktemp -d /tmp/rc-browser.XXXXXX)
DEV_OUT="$STATE/dev.stdout"
DEV_ERR="$STATE/dev.stderr"
DEV_PID=""

stop_dev() {
  [[ -n $DEV_PID ]] || return 0
  if kill -0 "$DEV_PID" 2>/dev/null; then
    kill -TERM "$DEV_PID" 2>/dev/null
    for _ in $(seq 1 300); do
      kill -0 "$DEV_PID" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$DEV_PID" 2>/dev/null; then
      echo "remote-code dev did not stop within 30 s; killing it"
      kill -KILL "$DEV_PID" 2>/dev/null
    fi
  fi
  wait "$DEV_PID" 2>/dev/null
  DEV_RC=$?
  DEV_PID=""
}
cleanup() {
  stop_dev
  rm -rf "$STATE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The pages compiled into the binary are what ships, so they are what is tested; set
# RC_WEBUI_DIR=webui to test the source tree's pages without rebuilding.
webui_args=()
if [[ -n ${RC_WEBUI_DIR:-} ]]; then webui_args=(--webui-dir "$RC_WEBUI_DIR"); fi

# Port 0 everywhere: dev prints the portal's real address.
"$BIN" dev --state-dir "$STATE/state" --listen 127.0.0.1:0 --portal-listen 127.0.0.1:0 \
  --pod-start-seconds 1 "${webui_args[@]}" >"$DEV_OUT" 2>"$DEV_ERR" &
DEV_PID=$!

PORTAL_URL=""
ADMIN_PASSWORD=""
ADMIN_USER=""
for _ in $(seq 1 1800); do  # up to 180 s: the ASan build starts slowly
  if ! kill -0 "$DEV_PID" 2>/dev/null; then break; fi
  PORTAL_URL=$(sed -n 's/^ *portal: *\(http[^ ]*\).*$/\1/p' "$DEV_OUT" | head -1)
  ADMIN_USER=$(sed -n 's/^ *admin user: *\([^ ]*\) *$/\1/p' "$DEV_OUT" | head -1)
  ADMIN_PASSWORD=$(sed -n 's/^ *admin password: *\([^ ]*\) *$/\1/p' "$DEV_OUT" | head -1)
  if [[ -n $PORTAL_URL && -n $ADMIN_PASSWORD ]]; then break; fi
  sleep 0.1
done
if [[ -z $PORTAL_URL || -z $ADMIN_PASSWORD ]]; then
  echo "remote-code dev did not print the portal's address and the admin password:"
  echo "--- stdout"
  tail -n 20 "$DEV_OUT"
  echo "--- stderr"
  tail -n 40 "$DEV_ERR"
  summary 0 1
  exit 1
fi
echo "portal at $PORTAL_URL"

mkdir -p "$HERE/artifacts"
rm -f "$HERE/artifacts/dev.stderr"
RESULTS="$STATE/results"
PORTAL_URL="$PORTAL_URL" ADMIN_USER="${ADMIN_USER:-admin}" ADMIN_PASSWORD="$ADMIN_PASSWORD" \
  STATE_DIR="$STATE/state" ARTIFACTS="$HERE/artifacts" RESULTS_FILE="$RESULTS" \
  node "$HERE/portal.test.mjs"
node_rc=$?

passed=0
failed=0
if [[ -f $RESULTS ]]; then
  read -r passed failed <"$RESULTS"
fi
if ((node_rc != 0 && failed == 0)); then failed=1; fi

# The server must survive the tests and stop cleanly (ASan reports count as failures).
DEV_RC=0
stop_dev
if ((DEV_RC != 0)) || grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:' "$DEV_ERR"; then
  echo "FAIL - remote-code dev stops cleanly (exit $DEV_RC); its stderr is in tests/browser/artifacts/dev.stderr"
  cp "$DEV_ERR" "$HERE/artifacts/dev.stderr"
  # The sanitizer's first report is what matters; otherwise the last words.
  if grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:' "$DEV_ERR"; then
    grep -m1 -A 40 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:' "$DEV_ERR"
  else
    tail -n 40 "$DEV_ERR"
  fi
  failed=$((failed + 1))
else
  echo "ok - remote-code dev stops cleanly"
  passed=$((passed + 1))
fi

summary "$passed" "$failed"
((failed == 0))
