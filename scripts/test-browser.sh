#!/usr/bin/env bash
# Real-browser tests of the demo page: headless Debian chromium (/usr/bin/chromium) driven by
# playwright-core from npm (tests/browser, its own package.json and lock; no browser download).
# The hub binary is $SSEWS_BIN; unset, build-release/tools/ssews (built here if missing).
# A screenshot of the demo lands in build-browser/demo.png.
# Usage: [SSEWS_BIN=path/to/ssews] scripts/test-browser.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export DEBIAN_FRONTEND=noninteractive

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v node >/dev/null && command -v npm >/dev/null || need+=(nodejs npm)
command -v python3 >/dev/null || need+=(python3)   # the example publisher
if [ ${#need[@]} -gt 0 ]; then
  echo "test-browser: installing ${need[*]}"
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ -z "${SSEWS_BIN:-}" ]; then
  if [ ! -x build-release/tools/ssews ]; then
    bash scripts/build.sh build-release -DCMAKE_BUILD_TYPE=Release -DSSEWS_BUILD_TESTS=OFF
  fi
  SSEWS_BIN=build-release/tools/ssews
fi
if [ ! -x "$SSEWS_BIN" ]; then echo "test-browser: SSEWS_BIN=$SSEWS_BIN is not an executable" >&2; exit 2; fi
SSEWS_BIN=$(realpath "$SSEWS_BIN")
export SSEWS_BIN
echo "test-browser: $(/usr/bin/chromium --version 2>/dev/null | head -1), node $(node --version), hub $SSEWS_BIN"

(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)

# An ASan build of the hub: leaks are the C tests' business, not a browser's.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
mkdir -p build-browser
start=$(date +%s)
rc=0
node --test --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination=build-browser/results.tap tests/browser/ || rc=$?
pass=$(sed -n 's/^# pass //p' build-browser/results.tap)
fail=$(sed -n 's/^# fail //p' build-browser/results.tap)
echo "test-browser: $(($(date +%s) - start)) s; screenshot build-browser/demo.png"
echo "browser: ${pass:-0} passed, ${fail:-0} failed"
[ -n "$pass" ] && [ "$pass" -gt 0 ] || rc=1   # no test ran: a failure too
exit "$rc"
