#!/usr/bin/env bash
# Installs the build into a temporary prefix (or takes a prefix something
# else installed into, such as the .deb unpacked by tests/packages/check.sh),
# then builds and runs a program against it three ways: find_package (shared
# and static) and pkg-config.
# Usage: tests/install/check.sh BUILD_DIR | --prefix PREFIX
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
if [ "$1" = --prefix ]; then
  prefix=$(cd "$2" && pwd)
  trap 'rm -rf "$work"' EXIT
else
  build=$(cd "$1" && pwd)
  prefix=$(mktemp -d)
  trap 'rm -rf "$prefix" "$work"' EXIT
  cmake --install "$build" --prefix "$prefix" >/dev/null
fi
# lib/ or Debian's multiarch lib/x86_64-linux-gnu/.
libdir=$(dirname "$(find "$prefix" -name libssews.so -print -quit)")
cmake -S "$here" -B "$work/cmake" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cmake" >/dev/null
LD_LIBRARY_PATH="$libdir" "$work/cmake/consumer_shared"
"$work/cmake/consumer_static"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
# shellcheck disable=SC2046 # pkg-config's flags are separate words
cc -o "$work/consumer_pc" "$here/consumer.c" $(pkg-config --cflags --libs ssews)
LD_LIBRARY_PATH="$libdir" "$work/consumer_pc"
# The shared library exports only ssews_* and carries the ABI major in its SONAME.
soname=$(objdump -p "$libdir/libssews.so" | awk '/SONAME/ {print $2}')
[ "$soname" = "libssews.so.0" ] || { echo "bad SONAME: $soname"; exit 1; }
bad=$(nm -D --defined-only "$libdir/libssews.so" | awk '{print $3}' | grep -v '^ssews_' | grep -v '^SSEWS_' || true)
[ -z "$bad" ] || { echo "unexpected exported symbols: $bad"; exit 1; }
echo "install check: 3 passed, 0 failed"
