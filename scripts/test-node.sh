#!/usr/bin/env bash
# The Node.js binding: builds it the way users do (npm ci at the repository
# root runs cmake-js through the package's install script), type-checks the
# TypeScript example against bindings/node/index.d.ts, and runs the node:test
# suite (tests/node/), whose summary ends with "# pass N" and "# fail N".
# Assumes `bash scripts/setup.sh` has run (the apt packages of the C build);
# Node.js 20 or later and npm must be installed. Exits non-zero on failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
step() { echo; echo "=== $* ==="; }
fail=0

command -v node >/dev/null && command -v npm >/dev/null || { echo "test-node: node and npm are needed"; exit 1; }
echo "test-node: node $(node --version), npm $(npm --version)"

step "npm ci (dependencies from package-lock.json; builds the addon into build-node/)"
npm ci --no-audit --no-fund

step "TypeScript: tsc --noEmit -p examples/node"
if npx --no-install tsc --noEmit -p examples/node; then
  echo "tsc: examples/node/chat.ts type-checks against bindings/node/index.d.ts"
else
  echo "tsc: FAILED"
  fail=1
fi

step "node:test (npm test)"
npm test || fail=1

echo
if [ $fail -ne 0 ]; then echo "test-node: FAILED"; exit 1; fi
echo "test-node: all passed"
