#!/usr/bin/env bash
# ABI check: compares libssews.so built with SSEWS_ABI_DEBUG=ON (debug info
# on the C ABI's sources only) against the committed baseline with abidiff.
# Usage: capi/abi/check.sh BUILD_DIR         compare
#        capi/abi/check.sh BUILD_DIR --update write a new baseline (after an
#                                             intended, reviewed ABI change)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lib="$1/capi/libssews.so"
baseline="$here/libssews.so.0.abi"
# The public header as configured into the build tree (capi/include/ssews.h.in
# is only its template).
headers="$1/capi/include"
if [ "${2:-}" = "--update" ]; then
  abidw --headers-dir "$headers" --drop-private-types --no-show-locs --no-corpus-path "$lib" > "$baseline"
  echo "abi baseline written: $baseline"
  exit 0
fi
# abidiff exit status: bit 2 = ABI change, bit 3 = incompatible change.
set +e
abidiff --headers-dir2 "$headers" --drop-private-types --no-added-syms "$baseline" "$lib"
rc=$?
set -e
if [ $rc -ne 0 ]; then
  echo "abi check: 0 passed, 1 failed (abidiff status $rc: the C ABI changed against $baseline)"
  exit 1
fi
echo "abi check: 1 passed, 0 failed"
