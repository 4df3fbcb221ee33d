"""permessage-deflate (RFC 7692) on `ssews serve --option compression=on`,
against third-party clients with their default settings (Python websockets
and Node ws both offer it by default), a raw handshake for the negotiation,
and a decompression bomb."""
import asyncio
import json
import os
import socket
import subprocess
import zlib

import pytest
import websockets

from test_cli import ROOT, TIMEOUT, node_with_ws, serve  # noqa: F401 (fixture)

JSON_2K = json.dumps({"items": [{"id": i, "name": f"item {i}", "price": i * 1.25} for i in range(40)]})


def test_websockets_client_negotiates_and_echoes(serve):
    _, port = serve("--echo", "--option", "compression=on")

    async def run():
        async with websockets.connect(f"ws://127.0.0.1:{port}/e", max_size=None) as ws:
            ext = ws.response.headers.get("Sec-WebSocket-Extensions", "")
            assert "permessage-deflate" in ext and "server_no_context_takeover" in ext
            assert "client_no_context_takeover" in ext
            for msg in [JSON_2K, "", "short", "é" * 5000, bytes(range(256)) * 100, b"\x00" * 100000]:
                await ws.send(msg)
                got = await asyncio.wait_for(ws.recv(), TIMEOUT)
                assert got == msg and type(got) is type(msg)

    asyncio.run(run())


def test_compression_off_declines(serve):
    _, port = serve("--echo")

    async def run():
        async with websockets.connect(f"ws://127.0.0.1:{port}/e") as ws:
            assert "Sec-WebSocket-Extensions" not in ws.response.headers
            await ws.send(JSON_2K)
            assert await asyncio.wait_for(ws.recv(), TIMEOUT) == JSON_2K

    asyncio.run(run())


def test_broadcast_reaches_compressing_plain_and_sse_subscribers(serve):
    _, port = serve("--option", "compression=on", "--option", "compression_window_bits=12")

    async def run():
        url = f"ws://127.0.0.1:{port}/?channel=prices"
        zipped = [await websockets.connect(url, max_size=None) for _ in range(3)]
        narrow = await websockets.connect(
            url, extensions=[websockets.extensions.permessage_deflate.ClientPerMessageDeflateFactory(
                server_max_window_bits=10)])
        plain = await websockets.connect(url, compression=None)
        assert "server_max_window_bits=10" in narrow.response.headers["Sec-WebSocket-Extensions"]
        assert "Sec-WebSocket-Extensions" not in plain.response.headers
        sse = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        sse.sendall(b"GET /?channel=prices HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        text = b""
        while b": ok" not in text:  # the stream's opening comment: it is subscribed
            text += sse.recv(65536)
        await plain.send(JSON_2K)  # a member's message is published to the channel
        for ws in zipped + [narrow, plain]:
            assert await asyncio.wait_for(ws.recv(), TIMEOUT) == JSON_2K
        while b'"id": 39' not in text:
            chunk = sse.recv(65536)
            assert chunk
            text += chunk
        sse.close()
        assert "data: " + JSON_2K in text.decode()
        for ws in zipped + [narrow, plain]:
            await ws.close()

    asyncio.run(run())


def test_decompression_bomb_is_stopped_at_max_message_size(serve):
    _, port = serve("--echo", "--option", "compression=on", "--option", "max_message_size=1000000")

    async def run():
        async with websockets.connect(f"ws://127.0.0.1:{port}/e", max_size=None) as ws:
            await ws.send(b"\x00" * 20_000_000)  # about 20 KB on the wire
            with pytest.raises(websockets.ConnectionClosed) as e:
                await asyncio.wait_for(ws.recv(), TIMEOUT)
            assert e.value.rcvd.code == 1009

    asyncio.run(run())


def raw_handshake(port, extensions):
    """The server's Sec-WebSocket-Extensions answer to a raw offer ('' for none)."""
    lines = "".join(f"Sec-WebSocket-Extensions: {e}\r\n" for e in extensions)
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
        s.sendall((f"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{lines}\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            assert chunk
            head += chunk
    status, *headers = head.split(b"\r\n\r\n")[0].decode().split("\r\n")
    assert status.startswith("HTTP/1.1 101"), status
    for h in headers:
        k, _, v = h.partition(":")
        if k.lower() == "sec-websocket-extensions":
            return v.strip()
    return ""


BASE = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"


@pytest.mark.parametrize("offers,want", [
    (["permessage-deflate"], BASE),
    (["permessage-deflate; client_max_window_bits"], BASE),
    (["permessage-deflate; server_max_window_bits=10"], BASE + "; server_max_window_bits=10"),
    (['permessage-deflate; server_max_window_bits="11"'], BASE + "; server_max_window_bits=11"),
    (["permessage-deflate; server_max_window_bits=8"], ""),  # zlib cannot keep to 8: declined
    (["permessage-deflate; server_max_window_bits=8, permessage-deflate"], BASE),  # the next offer
    (["permessage-deflate; server_max_window_bits=8", "permessage-deflate; client_no_context_takeover"], BASE),
    (["permessage-deflate; server_max_window_bits"], ""),
    (["permessage-deflate; server_max_window_bits=16"], ""),
    (["permessage-deflate; server_max_window_bits=010"], ""),
    (["permessage-deflate; client_max_window_bits=7"], ""),
    (["permessage-deflate; server_no_context_takeover=1"], ""),
    (["permessage-deflate; server_no_context_takeover; server_no_context_takeover"], ""),
    (["permessage-deflate; foo=1"], ""),
    (["x-webkit-deflate-frame"], ""),
    (["x-webkit-deflate-frame, permessage-deflate; server_no_context_takeover"], BASE),
])
def test_negotiation_answers_rfc7692_offers(serve, offers, want):
    _, port = serve("--echo", "--option", "compression=on")
    assert raw_handshake(port, offers) == want


NODE_WS_CLIENT = r"""
const WebSocket = require('ws');
const ws = new WebSocket(process.argv[1]);  // perMessageDeflate: on by default for a client
const want = process.argv[2];
ws.on('open', () => ws.send(want));
ws.on('message', (data) => {
  console.log(JSON.stringify({ ext: ws.extensions, ok: data.toString() === want }));
  ws.close();
});
ws.on('error', (e) => { console.error(String(e)); process.exit(2); });
"""


@pytest.mark.skipif(not node_with_ws() and not os.environ.get("CI"),
                    reason="node with the ws package (npm ci) is needed")
def test_default_node_ws_client_negotiates_and_echoes(serve):
    _, port = serve("--echo", "--option", "compression=on")
    r = subprocess.run(["node", "-e", NODE_WS_CLIENT, f"ws://127.0.0.1:{port}/n", JSON_2K], cwd=ROOT,
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["ok"] and "permessage-deflate" in out["ext"]


def test_compressed_frames_are_smaller_on_the_wire(serve):
    """A raw client that negotiated compression gets RSV1 frames that inflate
    to the message and are smaller than it."""
    _, port = serve("--option", "compression=on")
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sub:
        sub.sendall(("GET /?channel=c HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n").encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            buf += sub.recv(4096)
        buf = buf.split(b"\r\n\r\n", 1)[1]

        async def publish():
            async with websockets.connect(f"ws://127.0.0.1:{port}/?channel=c", compression=None) as ws:
                await ws.send(JSON_2K)
                await asyncio.wait_for(ws.recv(), TIMEOUT)

        asyncio.run(publish())
        while len(buf) < 4 or len(buf) < 4 + (buf[1] & 0x7f if buf[1] & 0x7f < 126 else int.from_bytes(buf[2:4], "big")):
            buf += sub.recv(65536)
        assert buf[0] == 0xC1  # FIN, RSV1, text
        n = buf[1] & 0x7f
        payload = buf[2:2 + n] if n < 126 else buf[4:4 + int.from_bytes(buf[2:4], "big")]
        assert len(payload) < len(JSON_2K) // 2
        assert zlib.decompressobj(-15).decompress(payload + b"\x00\x00\xff\xff").decode() == JSON_2K


def test_ssews_client_and_server_both_compress(serve):
    """ssews connect with compression=on against ssews serve with it on: the
    client (libwebsockets' permessage-deflate) and the server (ssews') agree."""
    from test_cli import Proc
    import signal
    _, port = serve("--echo", "--option", "compression=on")
    p = Proc("connect", "--json", "--option", "compression=on", f"ws://127.0.0.1:{port}/z", stdin=subprocess.PIPE)
    try:
        p.json_event("open")
        p.p.stdin.write(JSON_2K + "\n")
        p.p.stdin.flush()
        assert p.json_event("message")["data"] == JSON_2K
        assert p.stop(signal.SIGINT) == 0
    finally:
        if p.p.poll() is None:
            p.p.kill()
        p.p.wait(TIMEOUT)
