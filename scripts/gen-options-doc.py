#!/usr/bin/env python3
"""Generates docs/options.md from the option table, core/src/option_table.h.

    scripts/gen-options-doc.py          write docs/options.md
    scripts/gen-options-doc.py --check  fail if docs/options.md is out of date
"""
import sys

import option_table

OUT = option_table.ROOT / "docs/options.md"

INTRO = """# Endpoint options

Generated from `core/src/option_table.h` by `scripts/gen-options-doc.py`: edit the table, not this
file. At run time `ssews_option_count` and `ssews_option_at` list the same table.

Options are string key/value pairs passed to `ssews_open` (`"key", "value", …, NULL`). An
unknown key or a bad value fails with `SSEWS_EOPTION` and a message naming both, e.g.
`option 'port': '70000' is not a whole number from 0 to 65535`. Types: `integer` is a decimal
whole number, `boolean` is `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`), `enum` one of
the words in the meaning, `list` comma-separated."""

CLIENT_INTRO = """`url` makes the endpoint a client: `ws://`, `wss://` for WebSocket; `http://`, `https://` for
Server-Sent Events with EventSource semantics. Server-only keys on a client (and client-only keys
on a server) are errors that say so."""

OUTRO = """Failures that will not get better end the client for good with an error event and a close
event: a server certificate that fails verification (`SSEWS_ETLS`; decided by OpenSSL's verdict,
so a connection reset or refused during a TLS connect is retried like any other), an SSE
response other than 200 (`SSEWS_EHTTP`),
an SSE content type other than `text/event-stream` (`SSEWS_EHTTP`). HTTP 204 ends an SSE client
normally (close 1000). A WebSocket server's close 1000 ends a WebSocket client; any other end
(1001 on a restart, a lost connection) is retried."""


def table(rows):
    out = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for r in rows:
        default = "`%s`" % r["default"] if r["default"] else "—"
        both = " (both roles)" if r["role"] == "both" else ""
        out.append("| `%s` | %s | %s | %s%s |" % (r["key"], r["type"], default, r["doc"].replace("|", "\\|"), both))
    return out


def generate():
    rows = option_table.read()
    out = [INTRO, "", "## Server", ""]
    out += table([r for r in rows if r["role"] in ("server", "both")])
    out += ["", "## Client", "", CLIENT_INTRO, ""]
    out += table([r for r in rows if r["role"] in ("client", "both")])
    out += ["", OUTRO]
    return "\n".join(out) + "\n"


def main():
    text = generate()
    if "--check" in sys.argv:
        if not OUT.exists() or OUT.read_text() != text:
            print("docs/options.md is out of date: run scripts/gen-options-doc.py")
            print("options doc check: 0 passed, 1 failed")
            return 1
        print("options doc check: 1 passed, 0 failed")
        return 0
    OUT.write_text(text)
    print("wrote", OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
