"""Reads the option table, core/src/option_table.h, for the scripts that
generate docs/options.md and check the bindings' typings against it.

The table's format is fixed by a comment in that file: one brace-enclosed
row per option of string literals (adjacent literals concatenate) and an
OptRole enumerator. Keeping this parser tiny is the point: if it cannot read
a row, it fails loudly rather than guessing.
"""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "core/src/option_table.h"

_ROLES = {"kOptServer": "server", "kOptClient": "client", "kOptBoth": "both"}
_TOKEN = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|(kOpt\w+)|(,))', re.S)


def _unescape(s):
    return re.sub(r'\\(.)', lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), s)


def _fields(body):
    """The fields of one row: strings (concatenated) and role names."""
    fields, cur, pos = [], None, 0
    while pos < len(body):
        if body[pos:].strip() == "":
            break
        m = _TOKEN.match(body, pos)
        if not m:
            raise ValueError("option_table.h: cannot read %r" % body[pos:pos + 40])
        pos = m.end()
        if m.group(1) is not None:
            cur = (cur or "") + _unescape(m.group(1))
        elif m.group(2):
            cur = _ROLES[m.group(2)]
        else:
            fields.append(cur)
            cur = None
    if cur is not None:
        fields.append(cur)
    return fields


def read():
    """[{key, role, type, default, doc}] in table order."""
    src = TABLE.read_text()
    m = re.search(r"kOptionTable\[\] = \{(.*?)\n\};", src, re.S)
    if not m:
        raise ValueError("option_table.h: no kOptionTable")
    rows = []
    for row in re.finditer(r"\{(.*?)\},\s*(?=\{|$)", m.group(1), re.S):
        f = _fields(row.group(1))
        if len(f) != 5:
            raise ValueError("option_table.h: a row needs 5 fields: %r" % row.group(1))
        rows.append(dict(zip(("key", "role", "type", "default", "doc"), f)))
    starts = len(re.findall(r'^\s*\{"', m.group(1), re.M))
    if starts != len(rows):
        raise ValueError("option_table.h: %d rows start, %d read" % (starts, len(rows)))
    return rows
