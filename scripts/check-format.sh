#!/usr/bin/env bash
# Fails when a C/C++ source differs from clang-format's output (.clang-format).
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files 'core/src/*.cpp' 'core/src/*.h' 'capi/src/*' 'tools/*.cpp' 'tools/*.h' 'examples/c/*.c' \
  'bindings/*/src/*')
bad=0
for f in $files; do
  if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then echo "not formatted: $f"; bad=$((bad + 1)); fi
done
n=$(echo "$files" | wc -w)
echo "format: $((n - bad)) passed, $bad failed"
[ $bad -eq 0 ]
