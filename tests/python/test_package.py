"""What `pip install .` / `pip wheel .` produce: the package, its stubs, and
an extension that carries the engine and needs only system libraries; and
what the repaired wheel of scripts/build-packages.sh adds (SSEWS_BUNDLED=1):
every library beyond glibc's baseline inside the package."""
import ctypes
import importlib.metadata
import os
import pathlib
import re
import subprocess
import zipfile

import pytest

import ssews
from ssews import _core

PKG = pathlib.Path(ssews.__file__).parent
ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
# The one source of the version: CMake's project(VERSION).
VERSION = re.search(r"project\(ssews VERSION (\d+\.\d+\.\d+)", (ROOT / "CMakeLists.txt").read_text()).group(1)


def test_versions_agree():
    assert ssews.__version__ == importlib.metadata.version("ssews") == _core.BINDING_VERSION
    assert ssews.library_version == ssews.__version__ == VERSION


def test_installed_package_has_stubs_and_marker():
    for name in ("__init__.py", "__init__.pyi", "_core.pyi", "py.typed"):
        assert (PKG / name).is_file(), name
    assert pathlib.Path(_core.__file__).parent == PKG


def test_extension_needs_only_system_libraries():
    out = subprocess.run(["readelf", "-d", _core.__file__], capture_output=True, text=True, check=True).stdout
    needed = [line.split("[")[1].rstrip("]") for line in out.splitlines() if "(NEEDED)" in line]
    assert any(n.startswith("libwebsockets") for n in needed), needed  # -HASH.so.17 when repaired
    assert not any("ssews" in n for n in needed), needed  # the engine is linked in


def test_extension_exports_only_its_init_function():
    out = subprocess.run(["nm", "-D", "--defined-only", _core.__file__], capture_output=True, text=True,
                         check=True).stdout
    names = {line.split()[-1] for line in out.splitlines() if line.strip()}
    assert "PyInit__core" in names
    assert not [n for n in names if n.startswith("ssews_") or "sw::" in n], names


def test_library_path_is_the_c_library_for_ctypes():
    lib = ctypes.CDLL(ssews.library_path())
    lib.ssews_version.restype = ctypes.c_char_p
    assert lib.ssews_version().decode() == ssews.library_version
    assert pathlib.Path(ssews.library_path()).parent == PKG


@pytest.mark.skipif("SSEWS_WHEEL" not in os.environ, reason="set by scripts/test-python.sh and tests/packages")
def test_wheel_holds_the_package_only():
    names = zipfile.ZipFile(os.environ["SSEWS_WHEEL"]).namelist()
    # ssews.libs/: the libraries auditwheel grafted into a repaired wheel.
    assert all(n.startswith(("ssews/", "ssews.libs/", f"ssews-{VERSION}.dist-info/")) for n in names), names
    for want in ("ssews/__init__.py", "ssews/__init__.pyi", "ssews/py.typed", "ssews/_endpoint.py",
                 "ssews/libssews.so.0"):
        assert want in names
    assert any(n.startswith("ssews/_core.") and n.endswith(".so") for n in names)


# What a manylinux wheel may take from the system (auditwheel's policy: glibc
# with the C++ runtime and zlib); everything else must come from inside the wheel.
SYSTEM_BASELINE = ("linux-vdso.so", "ld-linux", "libc.so", "libm.so", "libdl.so", "libpthread.so", "librt.so",
                   "libstdc++.so", "libgcc_s.so", "libz.so")


@pytest.mark.skipif(os.environ.get("SSEWS_BUNDLED") != "1", reason="set by tests/packages/check.sh")
@pytest.mark.parametrize("which", ["extension", "c_library"])
def test_repaired_wheel_resolves_dependencies_inside_itself(which):
    binary = _core.__file__ if which == "extension" else ssews.library_path()
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    libs = PKG.parent / "ssews.libs"
    seen = {}
    for line in out.splitlines():
        name, _, where = line.strip().partition(" => ")
        assert "not found" not in where, line
        if where and not name.startswith(SYSTEM_BASELINE):
            seen[name] = pathlib.Path(where.split(" (")[0]).resolve()
    assert any(n.startswith("libwebsockets") for n in seen), out
    assert all(p.parent == libs for p in seen.values()), seen
