#!/usr/bin/env python3
"""Generates docs/api.md from the doc comments in capi/include/ssews.h.in (the
template CMake configures into the public ssews.h; the version comes from
project(VERSION) in CMakeLists.txt).

    scripts/gen-api-doc.py          write docs/api.md
    scripts/gen-api-doc.py --check  fail if docs/api.md is out of date
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = ROOT / "capi/include/ssews.h.in"
CMAKELISTS = ROOT / "CMakeLists.txt"
OUT = ROOT / "docs/api.md"


def clean_comment(c):
    lines = []
    for line in c.splitlines():
        line = re.sub(r"^\s*/\*\*?\s?", "", line)
        line = re.sub(r"\s*\*/\s*$", "", line)
        line = re.sub(r"^\s*\*\s?", "", line)
        lines.append(line.rstrip())
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def configure(src):
    """What configure_file does to the template: the version from project()."""
    m = re.search(r"project\(ssews VERSION (\d+)\.(\d+)\.(\d+)", CMAKELISTS.read_text())
    for part, value in zip(("MAJOR", "MINOR", "PATCH"), m.groups()):
        src = src.replace("@PROJECT_VERSION_%s@" % part, value)
    return src


def errno_table(text):
    """The rows of SSEWS_ERRNO_MAP: name, value, ssews_strerror text, meaning."""
    rows = ["| name | value | `ssews_strerror` | meaning |", "|---|---|---|---|"]
    for m in re.finditer(r'XX\((\w+), (-?\d+), "([^"]*)"\)(?:\s*/\* (.*?) \*/)?', text):
        rows.append("| `SSEWS_%s` | `%s` | %s | %s |" % (m.group(1), m.group(2), m.group(3), m.group(4) or m.group(3)))
    return rows


def generate():
    src = configure(HEADER.read_text())
    out = ["# ssews C API reference", "",
           "Generated from `capi/include/ssews.h.in` (configured into `ssews.h`) by `scripts/gen-api-doc.py`; the header is the source of truth.",
           ""]
    head = re.match(r"/\*(.*?)\*/", src, re.S)
    out += [clean_comment(head.group(0)), ""]
    token = re.compile(
        r"(?P<errmap>/\*\n \* SSEWS_ERRNO_MAP(?:(?!\*/).)*\*/\s*#define SSEWS_ERRNO_MAP\(XX\)(?:[^\n]*\\\n)*[^\n]*\n)"
        r"|(?P<section>/\* =+ \*/\s*/\* (?P<title>[^*]+?)\s*\*/\s*/\* =+ \*/)"
        r"|(?P<doc>/\*\*(?:(?!\*/).)*\*/)\s*(?P<decl>(?:SSEWS_API[^;]*;\s*|typedef[^;]*;\s*)+)"
        r"|(?P<define>#define (?P<dname>SSEWS_[A-Z_0-9]+) +(?P<dval>\\\n[^\n]+|\S+)(?: +/\* (?P<dcomment>.*?) \*/)?)"
        r"|(?P<note>/\*\*(?:(?!\*/).)*\*/)",
        re.S)
    defines = []
    for m in token.finditer(src):
        if m.group("errmap"):
            prose = re.match(r"/\*.*?\*/", m.group("errmap"), re.S).group(0)
            out += [clean_comment(prose), ""] + errno_table(m.group("errmap")) + [""]
        elif m.group("section"):
            if defines:
                out += ["| name | value | meaning |", "|---|---|---|"] + defines + [""]
                defines = []
            out += ["## " + m.group("title").strip(), ""]
        elif m.group("doc"):
            if defines:
                out += ["| name | value | meaning |", "|---|---|---|"] + defines + [""]
                defines = []
            decls = [" ".join(d.split()) for d in re.findall(r"(?:SSEWS_API|typedef)[^;]*;", m.group("decl"))]
            names = [re.search(r"(\w+)\s*\(", d) or re.search(r"(\w+);$", d) for d in decls]
            title = ", ".join("`%s`" % n.group(1) for n in names if n)
            out += ["### " + title, "", "```c"] + [d.replace("SSEWS_API ", "") for d in decls] + ["```", "",
                                                                                                  clean_comment(m.group("doc")), ""]
        elif m.group("note"):
            defines.append("| | | %s |" % " ".join(clean_comment(m.group("note")).split()))
        elif m.group("define"):
            if m.group("dname") in ("SSEWS_API", "SSEWS_H"):
                continue
            comment = (m.group("dcomment") or "").replace("|", "\\|")
            value = " ".join(m.group("dval").replace("\\", " ").split())
            defines.append("| `%s` | `%s` | %s |" % (m.group("dname"), value, comment))
    if defines:
        out += ["| name | value | meaning |", "|---|---|---|"] + defines + [""]
    return "\n".join(out).rstrip() + "\n"


def main():
    text = generate()
    if "--check" in sys.argv:
        if not OUT.exists() or OUT.read_text() != text:
            print("docs/api.md is out of date: run scripts/gen-api-doc.py")
            print("api doc check: 0 passed, 1 failed")
            return 1
        print("api doc check: 1 passed, 0 failed")
        return 0
    OUT.write_text(text)
    print("wrote", OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
