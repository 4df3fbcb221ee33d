#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test suite:
#  - C unit and integration tests (cmocka under ctest) with ASan + UBSan and -Werror,
#  - the threaded integration tests again under TSan,
#  - the ssews command against third-party peers (pytest), the demo page in
#    headless Chromium, and clang-format's check,
#  - the repeated tables against their one source (docs/options.md, the
#    bindings' typings, package.json's version: scripts/check-tables.py),
#  - the install check (find_package, pkg-config, SONAME, exported symbols),
#  - the ABI check against the committed baseline (abidiff),
#  - a short libFuzzer run of the SSE parser (clang),
#  - the benchmark harness at --quick sizes, so it never rots.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=$(nproc)
fail=0
step() { echo; echo "=== $* ==="; }

bash scripts/setup.sh

step "Style (clang-format)"
bash scripts/check-format.sh || fail=1

step "Tables (one source each: option table, error map, version; scripts/check-tables.py)"
python3 scripts/check-tables.py || fail=1

step "C tests (ASan + UBSan, -Werror)"
bash scripts/build.sh build-asan -DSSEWS_SANITIZE=ON -DSSEWS_WERROR=ON
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure -j "$jobs") || fail=1

step "Command-line tests (pytest, against the websockets package and raw servers)"
python3 -m venv build-venv
build-venv/bin/pip install -q --disable-pip-version-check -r tests/requirements.txt
(SSEWS_BIN=build-asan/tools/ssews ASAN_OPTIONS=detect_leaks=0 build-venv/bin/python -m pytest -q tests/cli) || fail=1

step "Python binding (pip install ., pytest)"
bash scripts/test-python.sh || fail=1

step "Node binding (npm install, tsc, node:test)"
bash scripts/test-node.sh || fail=1

step "Browser tests (headless Chromium, playwright-core)"
SSEWS_BIN=build-asan/tools/ssews bash scripts/test-browser.sh || fail=1

step "Threading tests (TSan)"
bash scripts/build.sh build-tsan -DSSEWS_TSAN=ON -DSSEWS_WERROR=ON
(cd build-tsan && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 ctest --output-on-failure -R 'test_(server|api|limits|client|ws|handles)') || fail=1

step "Install and ABI checks (release build)"
bash scripts/build.sh build-release -DCMAKE_BUILD_TYPE=Release -DSSEWS_ABI_DEBUG=ON -DSSEWS_BUILD_TESTS=OFF -DSSEWS_WERROR=ON
tests/install/check.sh build-release || fail=1
capi/abi/check.sh build-release || fail=1

step "Fuzz the SSE parser (libFuzzer, 30 s)"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DSSEWS_FUZZ=ON -DSSEWS_BUILD_TOOLS=OFF >/dev/null
cmake --build build-fuzz --target fuzz_sse_parser -j "$jobs"
mkdir -p build-fuzz/corpus
if build-fuzz/tests/fuzz_sse_parser -max_total_time=30 -print_final_stats=0 build-fuzz/corpus >build-fuzz/fuzz.log 2>&1; then
  echo "fuzz: 1 passed, 0 failed ($(grep -c . build-fuzz/fuzz.log) log lines, no crash)"
else
  tail -40 build-fuzz/fuzz.log
  echo "fuzz: 0 passed, 1 failed"
  fail=1
fi

step "Benchmark harness (bench/run --quick: runs every scenario small; no pass/fail on timings)"
bash bench/run --quick || fail=1

echo
if [ $fail -ne 0 ]; then echo "run-tests: FAILED"; exit 1; fi
echo "run-tests: all suites passed"
