#!/usr/bin/env bash
# The main job: installs what is needed, builds, and runs the demo hub
# (ssews serve with the web page in examples/web) on http://127.0.0.1:8080.
# Usage: scripts/run-demo.sh [--port P] [other ssews serve options]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh" "$root/build" -DCMAKE_BUILD_TYPE=Release -DSSEWS_BUILD_TESTS=OFF
exec "$root/build/tools/ssews" serve --static "$root/examples/web" --history 1000 "$@"
