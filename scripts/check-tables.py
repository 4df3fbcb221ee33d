#!/usr/bin/env python3
"""Checks that every copy of a table repeated outside its source agrees with it
(issue 14: one source of truth per table). Needs no build; run in CI.

  - docs/options.md is what scripts/gen-options-doc.py makes of
    core/src/option_table.h;
  - the option keys of bindings/node/index.d.ts (ServerOptions, ClientOptions)
    and of the Python stubs (ssews/__init__.pyi: _ServerOptions,
    _ClientOptions) are the table's keys for each role;
  - the error names of index.d.ts (ErrorCode) and of the Python stub
    (ErrorCode) are SSEWS_ERRNO_MAP's (capi/include/ssews.h.in); the
    runtime tables are built from the C library at load time;
  - package.json's version is CMake's project(VERSION), and pyproject.toml
    reads it from CMakeLists.txt instead of stating one.

Prints one line per failure and "tables: N passed, M failed".
"""
import importlib.util
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import option_table  # noqa: E402

ROOT = option_table.ROOT
results = []


def check(name, problems):
    results.append((name, problems))
    for p in problems:
        print("%s: %s" % (name, p))


def diff(what, got, want):
    out = []
    for k in sorted(want - got):
        out.append("%s lacks %s" % (what, k))
    for k in sorted(got - want):
        out.append("%s has %s, which the table does not" % (what, k))
    return out


def role_keys(rows, role):
    return {r["key"] for r in rows if r["role"] in (role, "both")}


def block(text, pattern):
    m = re.search(pattern + r"(.*?)\n\}", text, re.S)
    return m.group(1) if m else ""


def main():
    rows = option_table.read()
    server, client = role_keys(rows, "server"), role_keys(rows, "client")

    # docs/options.md
    spec = importlib.util.spec_from_file_location("gen_options_doc", HERE / "gen-options-doc.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    current = gen.OUT.read_text() if gen.OUT.exists() else ""
    check("options doc", [] if current == gen.generate() else
          ["docs/options.md is out of date: run scripts/gen-options-doc.py"])

    # Node typings: `headers` stands for `header`; the url is Client's argument.
    dts = (ROOT / "bindings/node/index.d.ts").read_text()
    keys = lambda body: set(re.findall(r"^\s+(\w+)\?:", body, re.M))  # noqa: E731
    node_server = keys(block(dts, r"export interface ServerOptions \{"))
    node_client = {"header" if k == "headers" else k for k in keys(block(dts, r"export interface ClientOptions \{"))}
    check("node option typings",
          diff("index.d.ts ServerOptions", node_server, server) +
          diff("index.d.ts ClientOptions", node_client, client - {"url"}))

    # Python stubs: Server's host and port are parameters.
    pyi = (ROOT / "bindings/python/ssews/__init__.pyi").read_text()
    pkeys = lambda body: set(re.findall(r"^    (\w+):", body, re.M))  # noqa: E731
    py_server = pkeys(re.search(r"class _ServerOptions\(TypedDict, total=False\):\n((?:    .*\n)*)", pyi).group(1))
    py_client = pkeys(re.search(r"class _ClientOptions\(TypedDict, total=False\):\n((?:    .*\n)*)", pyi).group(1))
    check("python option stubs",
          diff("__init__.pyi _ServerOptions", py_server, server - {"host", "port"}) +
          diff("__init__.pyi _ClientOptions", py_client, client - {"url"}))

    # Error names.
    header = (ROOT / "capi/include/ssews.h.in").read_text()
    codes = re.findall(r"XX\((\w+), (-?\d+), \"", header)
    names = {"SSEWS_" + n for n, _ in codes}
    values = [int(v) for _, v in codes]
    problems = [] if values == list(range(0, -len(values), -1)) else ["SSEWS_ERRNO_MAP: codes must run 0, -1, -2, ..."]
    dts_codes = set(re.findall(r"'(SSEWS_\w+)'", block(dts + "\n}", r"export type ErrorCode =")))
    problems += diff("index.d.ts ErrorCode", dts_codes, names - {"SSEWS_OK"})
    pyi_codes = {"SSEWS_" + n for n in
                 re.findall(r"^    (\w+) = -?\d+$",
                            re.search(r"class ErrorCode\(enum.IntEnum\):\n((?:    .*\n)*)", pyi).group(1), re.M)}
    problems += diff("__init__.pyi ErrorCode", pyi_codes, names)
    check("error names", problems)

    # Versions.
    version = re.search(r"project\(ssews VERSION (\d+\.\d+\.\d+)", (ROOT / "CMakeLists.txt").read_text()).group(1)
    problems = []
    pkg = json.loads((ROOT / "package.json").read_text())["version"]
    if pkg != version:
        problems.append("package.json has version %s, CMakeLists.txt project(VERSION) %s" % (pkg, version))
    lock = ROOT / "package-lock.json"
    if lock.exists():
        lj = json.loads(lock.read_text())
        for where, v in (("version", lj.get("version")), ("packages[''].version", lj.get("packages", {}).get("", {}).get("version"))):
            if v is not None and v != version:
                problems.append("package-lock.json %s is %s, not %s" % (where, v, version))
    pyproject = (ROOT / "pyproject.toml").read_text()
    if re.search(r"^version\s*=", pyproject, re.M) or 'dynamic = ["version"]' not in pyproject \
            or "scikit_build_core.metadata.regex" not in pyproject:
        problems.append("pyproject.toml must take its version from CMakeLists.txt (dynamic, regex provider)")
    check("versions", problems)

    failed = sum(1 for _, p in results if p)
    print("tables: %d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
