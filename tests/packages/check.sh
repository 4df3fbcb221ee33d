#!/usr/bin/env bash
# Installs the artifacts of scripts/build-packages.sh the way their users do,
# and tests each one there:
#  - wheel: a fresh venv, `pip install --no-index` of the wheel, then the
#    Python suite (tests/python) against it with SSEWS_BUNDLED=1 (ldd: every
#    library beyond glibc's baseline resolves in ssews.libs/), in a private
#    mount namespace where the system's libwebsockets cannot be read, and an
#    LD_DEBUG=libs trace of where the extension and libssews.so.0 load from;
#  - npm tarball: a fresh project, `npm install TARBALL --ignore-scripts` with
#    node and npm alone on PATH (no compiler, no cmake), then the Node suite
#    (copies of tests/node and examples/node/chat.js) against it, the system's
#    libwebsockets hidden the same way, and the same LD_DEBUG trace;
#  - .deb: `dpkg-deb -x` into a prefix, then tests/install/check.sh --prefix
#    (a C program built with pkg-config and with find_package against it).
# Ends with "packages: N passed, N failed" (one per artifact).
# Usage: tests/packages/check.sh [DIST_DIR]   (default dist/)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dist=$(cd "${1:-$root/dist}" && pwd)
py=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PIP_DISABLE_PIP_VERSION_CHECK=1
passed=0 failed=0
result() { # NAME STATUS
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); echo "packages: $1 ok"; else
    failed=$((failed + 1)); echo "packages: $1 FAILED"; fi
}

# Runs a command where the system's libwebsockets cannot be loaded: /dev/null
# is bound over each of its files in a mount namespace of the command's own.
without_system_lws() {
  unshare -m --propagation private bash -c '
    for f in $(find /usr/lib /lib -name "libwebsockets.so*" -type f 2>/dev/null); do mount --bind /dev/null "$f"; done
    exec "$@"' bash "$@"
}

# Fails unless `LD_DEBUG=libs CMD...` loads every file of DIR (the bundled
# libraries, and the Node addon) from DIR, and no libwebsockets from elsewhere.
loads_bundled_from() { # DIR CMD...
  local dir trace f
  dir=$(realpath "$1")
  shift
  trace=$(LD_DEBUG=libs "$@" 2>&1 >/dev/null | awk '/calling init: / { print $NF }' | xargs -r realpath | sort -u)
  for f in "$dir"/*; do
    echo "$trace" | grep -qxF "$f" || { echo "not loaded from $dir: ${f##*/}"; return 1; }
  done
  if echo "$trace" | grep '/libwebsockets' | grep -v "^$dir/"; then
    echo "libwebsockets loaded from outside $dir"
    return 1
  fi
  echo "LD_DEBUG=libs: all $(ls "$dir" | wc -l) files of $dir loaded from there, no other libwebsockets"
}

check_wheel() {
  local wheel venv site
  wheel=$(ls "$dist"/ssews-*-manylinux_*.whl)
  venv=$work/venv
  "$py" -m venv "$venv"
  "$venv/bin/pip" install -q -r "$root/tests/python/requirements.txt"
  "$venv/bin/pip" install -q --no-index "$wheel"
  site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')
  loads_bundled_from "$site/ssews.libs" without_system_lws "$venv/bin/python" -c \
    'import ctypes, ssews; ctypes.CDLL(ssews.library_path()); ssews.Server().close()'
  # From tests/python, so `import ssews` is the installed package.
  (cd "$root/tests/python" && SSEWS_WHEEL=$wheel SSEWS_BUNDLED=1 without_system_lws "$venv/bin/python" -m pytest -q .)
}

check_npm() {
  local tarball project
  tarball=$(ls "$dist"/ssews-*.tgz)
  project=$work/npm
  mkdir -p "$project/tests" "$project/examples/node" "$work/bin"
  cp -r "$root/tests/node" "$project/tests/"
  cp "$root/examples/node/chat.js" "$project/examples/node/"
  echo '{ "name": "ssews-package-check", "private": true }' >"$project/package.json"
  # The suite's peers (ws, eventsource, jsonwebtoken) at the versions the repository locks.
  local peers
  peers=$(cd "$root" && node -p "const l = require('./package-lock.json').packages;
    ['ws', 'eventsource', 'jsonwebtoken'].map((n) => n + '@' + l['node_modules/' + n].version).join(' ')")
  # node and npm, and openssl (the HTTP/2 tests make their certificate): no compiler, no cmake.
  ln -s "$(command -v node)" "$(command -v npm)" "$(command -v openssl)" "$work/bin/"
  # shellcheck disable=SC2086 # one peer a word
  (cd "$project" && PATH=$work/bin && ! command -v cc && ! command -v c++ && ! command -v cmake &&
    npm install --ignore-scripts --no-audit --no-fund --prefer-offline "$tarball" $peers >/dev/null)
  local prebuilds=$project/node_modules/ssews/prebuilds/linux-x64
  [ -f "$prebuilds/node.napi.glibc.node" ] && [ ! -e "$project/node_modules/ssews/build-node" ] || return 1
  cd "$project"
  loads_bundled_from "$prebuilds" without_system_lws env PATH="$work/bin" node -e \
    "const { Server } = require('ssews'); new Server({ port: 0 }).close()"
  without_system_lws env PATH="$work/bin" node --test tests/node/
}

check_deb() {
  local deb=$(ls "$dist"/libssews-dev_*.deb)
  dpkg-deb -f "$deb" Depends | grep -q libwebsockets17 || { echo "the .deb does not depend on libwebsockets17"; return 1; }
  dpkg-deb -x "$deb" "$work/deb"
  bash "$root/tests/install/check.sh" --prefix "$work/deb/usr"
}

for artifact in wheel npm deb; do
  echo "--- $artifact"
  # A subshell of its own, so that set -e stops the check at its first failure.
  set +e
  (set -e; "check_$artifact")
  status=$?
  set -e
  result "$artifact" $status
done
echo "packages: $passed passed, $failed failed"
[ $failed -eq 0 ]
