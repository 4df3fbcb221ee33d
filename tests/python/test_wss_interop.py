"""A TLS ssews.Server and the `websockets` client at its default settings
(wss://, which offers no ALPN or http/1.1 only): the subprotocol the
application chooses in the open event reaches the client, and messages go
both ways (docs/design-own-tls.md: such clients get ssews' own WebSocket
over its own TLS; libwebsockets' TLS path answered only ssews/ssews.v1)."""
import asyncio
import shutil
import ssl

import pytest
from websockets.asyncio.client import connect as ws_connect

import ssews
from conftest import TIMEOUT, expect

pytestmark = pytest.mark.skipif(not shutil.which("openssl"), reason="needs openssl")


def trusting(cert_file):
    """A default client context that trusts the test certificate."""
    ctx = ssl.create_default_context()
    ctx.load_verify_locations(cert_file)
    return ctx


async def within(aw):
    return await asyncio.wait_for(aw, TIMEOUT)


async def test_websockets_wss_client_gets_the_subprotocol_the_application_chose(cert):
    server = ssews.Server(tls_cert=cert[0], tls_key=cert[1])
    chosen = []

    @server.on("open")
    def choose(ev):
        if "chat" in (ev.header("sec-websocket-protocol") or ""):
            server.accept_subprotocol(ev.conn, "chat")
            chosen.append(ev.conn)

    @server.on("message")
    def echo(ev):
        server.send(ev.conn, ev.data)

    async with server:
        url = f"wss://127.0.0.1:{server.port}/room"
        async with ws_connect(url, subprotocols=["chat"], ssl=trusting(cert[0])) as ws:
            assert ws.subprotocol == "chat"
            assert len(chosen) == 1
            await ws.send("hello over wss")
            assert await within(ws.recv()) == "hello over wss"
            await ws.send(b"\x00\x01\xff")
            assert await within(ws.recv()) == b"\x00\x01\xff"
            # A published message reaches the plain (not ssews.v1) peer as its bytes.
            server.publish("room", "to all", event="ignored-by-plain-peers")
            assert await within(ws.recv()) == "to all"


async def test_websockets_wss_client_offering_only_unknown_names_gets_none(cert):
    # Without a choice, an offer of names the server does not know is answered
    # 101 without a subprotocol (RFC 6455 4.2.2), never refused.
    async with ssews.Server(tls_cert=cert[0], tls_key=cert[1]) as server:
        url = f"wss://127.0.0.1:{server.port}/room"
        async with ws_connect(url, subprotocols=["chat"], ssl=trusting(cert[0])) as ws:
            assert ws.subprotocol is None
            await expect(server, "open")
