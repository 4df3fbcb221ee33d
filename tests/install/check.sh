#!/usr/bin/env bash
# Installs the build into a temporary prefix, then builds and runs a program
# against it three ways: find_package (shared and static) and pkg-config.
# Usage: tests/install/check.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
prefix=$(mktemp -d)
work=$(mktemp -d)
trap 'rm -rf "$prefix" "$work"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
cmake -S "$here" -B "$work/cmake" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cmake" >/dev/null
LD_LIBRARY_PATH="$prefix/lib" "$work/cmake/consumer_shared"
"$work/cmake/consumer_static"
PKG_CONFIG_PATH="$prefix/lib/pkgconfig" cc -o "$work/consumer_pc" "$here/consumer.c" $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs ssews)
LD_LIBRARY_PATH="$prefix/lib" "$work/consumer_pc"
# The shared library exports only ssews_* and carries the ABI major in its SONAME.
soname=$(objdump -p "$prefix/lib/libssews.so" | awk '/SONAME/ {print $2}')
[ "$soname" = "libssews.so.0" ] || { echo "bad SONAME: $soname"; exit 1; }
bad=$(nm -D --defined-only "$prefix/lib/libssews.so" | awk '{print $3}' | grep -v '^ssews_' | grep -v '^SSEWS_' || true)
[ -z "$bad" ] || { echo "unexpected exported symbols: $bad"; exit 1; }
echo "install check: 3 passed, 0 failed"
