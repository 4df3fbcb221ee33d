"""SSE over HTTP/2 with curl: a TLS ssews.Server offers h2 in ALPN, and one
`curl --http2 --parallel` run opens 50 SSE streams multiplexed on one
connection (curl counts its connects); each gets what is published."""
import asyncio
import shutil
import subprocess

import pytest

import ssews
from conftest import TIMEOUT, expect

pytestmark = pytest.mark.skipif(not shutil.which("curl") or not shutil.which("openssl"),
                                reason="needs curl and openssl")


def curl_h2_supported():
    return "HTTP2" in subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout


async def test_curl_http2_fifty_streams_on_one_connection(cert):
    if not curl_h2_supported():
        pytest.skip("this curl has no HTTP/2")
    n = 50
    async with ssews.Server(tls_cert=cert[0], tls_key=cert[1]) as server:
        url = f"https://127.0.0.1:{server.port}/news"
        # Per transfer: HTTP version, status, new connections it made; then its body.
        fmt = "\n%{http_version} %{response_code} %{num_connects}\n"
        curl = await asyncio.create_subprocess_exec(
            "curl", "-sSk", "--http2", "--parallel", "--parallel-max", str(n), "-H", "Accept: text/event-stream",
            "-w", fmt, *([url] * n), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        conns = [(await expect(server, "open")).conn for _ in range(n)]
        server.publish("news", "to all fifty")
        for c in conns:  # each stream ends once it has the message (SSE has no close frame: the stream ends)
            server.close_conn(c)
        out, err = await asyncio.wait_for(curl.communicate(), TIMEOUT)
        assert curl.returncode == 0, err.decode()
        text = out.decode()
        assert text.count("data: to all fifty\n") == n
        stats = [line.split() for line in text.splitlines() if line.startswith("2 ")]
        assert len(stats) == n and all(s[1] == "200" for s in stats), stats
        assert sum(int(s[2]) for s in stats) == 1, "all 50 streams on one connection"


async def test_curl_http2_publishes_bodies_past_the_first_window(cert):
    """Publish bodies larger than the first HTTP/2 window (256 KiB): lws 4.1.6
    alone left some stalled for good; the server opens the window to the
    whole body (publish_endpoint.cpp). Each reaches an SSE subscriber whole."""
    if not curl_h2_supported():
        pytest.skip("this curl has no HTTP/2")
    body = b"x" * (600 * 1024)
    async with ssews.Server(tls_cert=cert[0], tls_key=cert[1], publish_token="tok") as server, \
            ssews.Client(server.url + "/bulk", insecure=True) as reader:
        await expect(server, "open")
        await expect(reader, "open")
        for i in range(10):
            curl = await asyncio.create_subprocess_exec(
                "curl", "-sSk", "--http2", "-X", "POST", "-H", "Authorization: Bearer tok", "--data-binary", "@-",
                "-w", "%{http_version} %{response_code}", f"https://127.0.0.1:{server.port}/publish?channel=bulk",
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            out, err = await asyncio.wait_for(curl.communicate(body), TIMEOUT)
            assert out.decode().endswith("2 200"), (i, out, err)
            msg = await expect(reader, "message")
            assert len(msg.data) == len(body)
