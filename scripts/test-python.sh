#!/usr/bin/env bash
# The Python binding's tests. In a fresh virtualenv (build-python-venv/):
#  - `pip wheel .` builds the wheel (scikit-build-core + pybind11 from PyPI,
#    CMake against the system's libwebsockets; the CMake tree is kept in
#    build-python/ so later runs are incremental),
#  - `pip install .` installs the package, plus tests/python/requirements.txt,
#  - pytest runs tests/python (loopback, interop with websockets/httpx,
#    resume, errors, lifecycle, the example, the type stubs, the wheel).
# Usage: scripts/test-python.sh [pytest args...]   (PYTHON=python3.X to pick one)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
py=${PYTHON:-python3}
venv=$root/build-python-venv
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2}
export PIP_DISABLE_PIP_VERSION_CHECK=1

# What building an extension needs from the system (Debian's own python3
# comes without them; pyenv's and python.org's have both).
if ! "$py" -c 'import venv, ensurepip' 2>/dev/null; then
  echo "test-python: installing python3-venv"
  apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
fi
inc=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
if [ ! -f "$inc/Python.h" ]; then
  echo "test-python: installing python3-dev (no Python.h in $inc)"
  apt-get install -y -qq --no-install-recommends python3-dev >/dev/null
fi

rm -rf "$venv" build-python/dist
"$py" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip

t0=$(date +%s)
"$venv/bin/pip" wheel -q --no-deps -w build-python/dist .
t1=$(date +%s)
"$venv/bin/pip" install -q .
t2=$(date +%s)
echo "test-python: pip wheel . took $((t1 - t0)) s, pip install . $((t2 - t1)) s ($(ls build-python/dist))"
"$venv/bin/pip" install -q -r tests/python/requirements.txt

# Run from outside the source tree so `import ssews` is the installed package.
cd tests/python
SSEWS_WHEEL=$(ls "$root"/build-python/dist/ssews-*.whl) \
  exec "$venv/bin/python" -m pytest -q "$@" .
