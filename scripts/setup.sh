#!/usr/bin/env bash
# Installs what building and testing ssews needs on Debian 12 (run as root).
# Safe to run again: apt-get skips what is already there.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
pkgs=(
  build-essential cmake ninja-build pkg-config git
  libwebsockets-dev libssl-dev openssl zlib1g-dev  # the engine (zlib: permessage-deflate)
  libhiredis-dev redis-server              # the Redis broker (option broker) and its tests
  libjwt-dev libjansson-dev                # access tokens (JWT verification, claims)
  libnghttp2-dev                            # HPACK for HTTP/2 over ssews' TLS (h2_request_headers)
  libcmocka-dev                             # C tests
  clang libclang-rt-14-dev clang-format abigail-tools  # fuzzing (libFuzzer, sanitizer runtimes), style, ABI check
  curl python3 python3-venv python3-pip     # tools and bindings
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup: ok"
