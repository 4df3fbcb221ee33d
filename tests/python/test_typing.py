"""The type stubs (ssews/__init__.pyi, py.typed) describe the package: code
using it type-checks under mypy --strict, and misuse is caught."""
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("mypy")

HERE = os.path.dirname(__file__)
EXAMPLE = os.path.join(HERE, "..", "..", "examples", "python", "chat_notify.py")

GOOD = """
    import asyncio
    import ssews

    def on_open(ev: ssews.Event) -> None:
        token: str = ev.header("x-token", "")
        print(token, ev.headers.get("host"), ev.channels, ev.protocol)

    async def main() -> None:
        async with ssews.Server(port=0, history=10, heartbeat=5, queue_policy="close") as server:
            server.on("open", on_open)
            port: int = server.port
            url: str = server.url
            server.publish("news", "text", event="e", id="1")
            server.publish("news", b"binary")
            async with ssews.Client(url + "/news", headers={"A": "b"}, reconnect=False) as client:
                async for ev in client:
                    if ev.kind == "message" and isinstance(ev.data, str):
                        print(ev.data.upper(), port)
                    break
                nxt = client.next_event(timeout=0.1)
                if nxt is not None:
                    print(nxt.code)
        try:
            ssews.Server(port=70000)
        except ssews.Error as err:
            code: int = err.code
            print(code == ssews.ErrorCode.EOPTION, err.message)

    asyncio.run(main())
"""

BAD = """
    import ssews
    server = ssews.Server()
    server.publish("c", 42)
    server.send("conn", "x")
    ssews.Client("ws://x").publish("c", "x")
    server.on("open", lambda ev: None).bogus
    ev: ssews.Event = server.next_event()
"""


def mypy(tmp_path, name, source):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return run_mypy(str(path), tmp_path)


def run_mypy(path, tmp_path):
    return subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                           "--cache-dir", str(tmp_path / "cache"), path],
                          capture_output=True, text=True, timeout=300)


def test_correct_use_type_checks(tmp_path):
    p = mypy(tmp_path, "good.py", GOOD)
    assert p.returncode == 0, p.stdout


def test_misuse_is_caught(tmp_path):
    p = mypy(tmp_path, "bad.py", BAD)
    assert p.returncode == 1
    for line in (4, 5, 6, 7, 8):
        assert f"bad.py:{line}:" in p.stdout, p.stdout


def test_example_type_checks(tmp_path):
    p = run_mypy(EXAMPLE, tmp_path)
    assert p.returncode == 0, p.stdout


def test_stubs_match_the_runtime(tmp_path):
    # stubtest imports the installed package and compares it with the stubs.
    p = subprocess.run([sys.executable, "-m", "mypy.stubtest", "ssews", "--allowlist",
                        os.path.join(HERE, "stubtest-allowlist.txt")],
                       capture_output=True, text=True, timeout=300, cwd=str(tmp_path))
    assert p.returncode == 0, p.stdout + p.stderr
