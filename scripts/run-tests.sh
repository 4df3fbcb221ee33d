#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test suite:
#  - C unit and integration tests (cmocka under ctest) with ASan + UBSan and -Werror,
#  - the threaded integration tests again under TSan (tests/tsan.supp: lws-internal races only),
#  - the ssews command against third-party peers (pytest), the demo page in
#    headless Chromium, and clang-format's check,
#  - the repeated tables against their one source (docs/options.md, the
#    bindings' typings, package.json's version: scripts/check-tables.py),
#  - the install check (find_package, pkg-config, SONAME, exported symbols),
#  - the packages (scripts/build-packages.sh: manylinux wheel, sdist, npm
#    tarball with a prebuilt addon, .deb), each installed as users do and
#    tested (tests/packages/check.sh),
#  - the ABI check against the committed baseline (abidiff),
#  - a short libFuzzer run of every decoder (clang),
#  - the benchmark harness at --quick sizes, so it never rots.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=$(nproc)
fail=0
step() { echo; echo "=== $* ==="; }

bash scripts/setup.sh
# The interop tests of the C and command-line suites run peers from npm (a
# default Node ws server): install the dependencies now, without building the
# addon (the Node step builds it). Under CI a missing peer fails those tests
# instead of skipping them.
npm ci --ignore-scripts --no-audit --no-fund >/dev/null

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

step "Packages (scripts/build-packages.sh into dist/; tests/packages/check.sh installs and tests each)"
if bash scripts/build-packages.sh; then
  bash tests/packages/check.sh || fail=1
else
  echo "packages: 0 passed, 3 failed (scripts/build-packages.sh failed)"
  fail=1
fi

step "Browser tests (headless Chromium, playwright-core)"
SSEWS_BIN=build-asan/tools/ssews bash scripts/test-browser.sh || fail=1

step "Threading tests (TSan)"
bash scripts/build.sh build-tsan -DSSEWS_TSAN=ON -DSSEWS_WERROR=ON
(cd build-tsan && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/tsan.supp ctest --output-on-failure -R 'test_(server|api|limits|client|ws|handles|log|front_door|cluster|access|ops)') || fail=1

step "Install and ABI checks (release build)"
bash scripts/build.sh build-release -DCMAKE_BUILD_TYPE=Release -DSSEWS_ABI_DEBUG=ON -DSSEWS_BUILD_TESTS=OFF -DSSEWS_WERROR=ON
tests/install/check.sh build-release || fail=1
capi/abi/check.sh build-release || fail=1

step "Fuzz every decoder (libFuzzer, 8 s per target)"
fuzz_targets="fuzz_sse_parser fuzz_v1_decode_text fuzz_v1_decode_binary fuzz_url fuzz_options fuzz_http_query
  fuzz_publish_request fuzz_http_head fuzz_ws_frame_reader fuzz_jwt fuzz_tls_client_hello fuzz_h2_preface fuzz_h2_request_headers"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DSSEWS_FUZZ=ON -DSSEWS_BUILD_TOOLS=OFF >/dev/null
# shellcheck disable=SC2086 # one target name per word
cmake --build build-fuzz -j "$jobs" --target $fuzz_targets
fuzz_pass=0 fuzz_fail=0
for t in $fuzz_targets; do
  # New inputs go to a scratch copy; the committed seeds stay as they are.
  rm -rf "build-fuzz/corpus/$t" && mkdir -p "build-fuzz/corpus/$t"
  cp tests/fuzz/corpus/"$t"/* "build-fuzz/corpus/$t/"
  if "build-fuzz/tests/$t" -max_total_time=8 -print_final_stats=0 -artifact_prefix="build-fuzz/$t-" \
    "build-fuzz/corpus/$t" >"build-fuzz/$t.log" 2>&1; then
    fuzz_pass=$((fuzz_pass + 1))
  else
    tail -40 "build-fuzz/$t.log"
    echo "fuzz: $t failed (crash input build-fuzz/$t-crash-*, log build-fuzz/$t.log)"
    fuzz_fail=$((fuzz_fail + 1))
  fi
done
echo "fuzz: $fuzz_pass passed, $fuzz_fail failed"
[ $fuzz_fail -eq 0 ] || fail=1

step "Benchmark harness (bench/run --quick: runs every scenario small; no pass/fail on timings)"
bash bench/run --quick || fail=1
# The load generator's own unit tests (its wire protocols: Socket.IO,
# Centrifugo, SSE, payload stamps); bench/run has fetched its modules.
if (cd bench/loadgen && go test ./... 2>&1 | tail -5); then
  echo "loadgen: go test passed"
else
  echo "loadgen: go test FAILED"
  fail=1
fi

echo
if [ $fail -ne 0 ]; then echo "run-tests: FAILED"; exit 1; fi
echo "run-tests: all suites passed"
