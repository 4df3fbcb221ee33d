"""ssews against peers written by others: the `websockets` package as client
and server, SSE streams read with `httpx`, and a raw asyncio SSE server."""
import asyncio
import json

import httpx
import pytest
import websockets
from websockets.asyncio.client import connect as ws_connect
from websockets.asyncio.server import serve as ws_serve

import ssews
from conftest import TIMEOUT, expect, messages


async def within(aw):
    return await asyncio.wait_for(aw, TIMEOUT)


_line_iters = {}


async def sse_events(response, n):
    """The next n events of an SSE response, as dicts of their fields
    (test-side parsing of text/event-stream)."""
    lines = _line_iters.setdefault(id(response), (response, response.aiter_lines()))[1]
    out, cur = [], {}
    while len(out) < n:
        line = await within(lines.__anext__())
        if line == "":
            if cur:
                out.append(cur)
            cur = {}
        elif not line.startswith(":"):
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            cur[field] = cur[field] + "\n" + value if field == "data" and field in cur else value
    return out


async def serve_echo(server):
    async for ev in server:
        if ev.kind == "message":
            server.send(ev.conn, ev.data)


# -- the websockets package as a client of ssews.Server ---------------------

async def test_websockets_client_talks_to_ssews_server():
    async with ssews.Server() as server:
        task = asyncio.create_task(serve_echo(server))
        async with ws_connect(server.ws_url + "/?channel=chat") as ws:
            assert ws.subprotocol is None  # a plain WebSocket peer
            await ws.send("hi ✓")
            assert await within(ws.recv()) == "hi ✓"
            await ws.send(b"\x00\x01")
            assert await within(ws.recv()) == b"\x00\x01"
            # Published messages reach a plain peer as the exact bytes.
            server.publish("chat", "to all", event="ignored-by-plain-peers")
            server.publish("chat", b"\xff")
            assert await within(ws.recv()) == "to all"
            assert await within(ws.recv()) == b"\xff"
        task.cancel()


async def test_websockets_client_with_ssews_v1_subprotocol_gets_channel_and_id():
    async with ssews.Server() as server:
        async with ws_connect(server.ws_url + "/news", subprotocols=["ssews.v1"]) as ws:
            assert ws.subprotocol == "ssews.v1"
            await expect(server, "open")
            server.publish("news", "hello", event="greeting", id="g1")
            frame = json.loads(await within(ws.recv()))
            assert frame == {"channel": "news", "event": "greeting", "id": "g1", "data": "hello"}


async def test_server_reject_in_open_callback_answers_websockets_with_403():
    server = ssews.Server()
    server.on("open", lambda ev: server.reject(ev.conn, 401 if ev.path == "/private" else 403)
              if ev.header("authorization") != "Bearer ok" else None)
    async with server:
        with pytest.raises(websockets.exceptions.InvalidHandshake) as err:
            async with ws_connect(server.ws_url + "/private"):
                pass
        # libwebsockets 4.1.6 answers a refused upgrade with an "HTTP/1.0 401"
        # status line, which websockets reports as InvalidMessage (the status
        # is in the cause) rather than InvalidStatus.
        response = getattr(err.value, "response", None)
        if response is not None:
            assert response.status_code == 401
        else:
            assert "HTTP/1.0 401" in str(err.value.__cause__)
        async with ws_connect(server.ws_url + "/private",
                              additional_headers={"Authorization": "Bearer ok"}) as ws:
            await ws.send("let in")  # the handshake succeeded
        async with httpx.AsyncClient() as http:
            r = await within(http.get(server.url + "/feed", headers={"Accept": "text/event-stream"}))
            assert r.status_code == 403


async def test_per_address_limits_answer_429_with_retry_after():
    """max_connections_per_ip and handshake_rate_per_ip (issue 16), passed through by name."""
    async with ssews.Server(max_connections_per_ip=1) as server:
        async with ws_connect(server.ws_url + "/held"):
            with pytest.raises(websockets.exceptions.InvalidStatus) as err:
                async with ws_connect(server.ws_url + "/more"):
                    pass
            r = err.value.response
            assert r.status_code == 429
            assert int(r.headers["Retry-After"]) >= 1
            assert b"max_connections_per_ip (1)" in r.body
    async with ssews.Server(handshake_rate_per_ip=1, handshake_burst_per_ip=2) as server:
        statuses = []
        for _ in range(3):
            async with httpx.AsyncClient() as http:  # a new connection each: a handshake each
                r = await within(http.get(server.url + "/none"))
                statuses.append(r.status_code)
        assert statuses == [404, 404, 429]
        assert r.headers["Retry-After"] == "1" and "handshake_rate_per_ip (1/s, burst 2)" in r.text


async def test_close_conn_code_and_reason_reach_websockets_client():
    async with ssews.Server() as server:
        async with ws_connect(server.ws_url + "/x") as ws:
            conn = (await expect(server, "open")).conn
            server.send(conn, "last words")
            server.close_conn(conn, 4321, "bye now")
            assert await within(ws.recv()) == "last words"
            with pytest.raises(websockets.exceptions.ConnectionClosed):
                await within(ws.recv())
            assert (ws.close_code, ws.close_reason) == (4321, "bye now")
        closed = await expect(server, "close")
        assert closed.conn == conn and closed.code == 4321


# -- ssews.Client against a websockets server -------------------------------

async def test_ssews_client_talks_to_websockets_server():
    seen = {}

    async def handler(ws):
        seen["header"] = ws.request.headers.get("X-Hello")
        seen["path"] = ws.request.path
        await ws.send("welcome")
        async for msg in ws:
            if msg == "bye":
                await ws.close(1000, "done")
                return
            await ws.send(msg)

    async with ws_serve(handler, "127.0.0.1", 0) as wss:
        port = wss.sockets[0].getsockname()[1]
        async with ssews.Client(f"ws://127.0.0.1:{port}/echo?x=1", headers={"X-Hello": "there"}) as client:
            opened = await expect(client, "open")
            assert opened.protocol == "websocket" and opened.conn == 1
            assert (await expect(client, "message")).data == "welcome"
            client.send("text ✓")
            client.send(b"\x00binary")
            got = await messages(client, 2)
            assert [(m.data, m.binary) for m in got] == [("text ✓", False), (b"\x00binary", True)]
            client.send("bye")
            closed = await expect(client, "close")  # 1000 from the server ends the client
            assert closed.code == 1000
            assert await client.anext_event() is None
    assert seen == {"header": "there", "path": "/echo?x=1"}


async def test_ssews_client_gets_plain_messages_from_a_server_that_selects_ssews_v1():
    """A generic server that accepts the first subprotocol it is offered picks
    ssews.v1 without speaking it: the client must still get plain messages
    intact, with default options (issue 15, bug 0)."""
    selected = []

    async def handler(ws):
        selected.append(ws.subprotocol)
        await ws.send("plain text")
        await ws.send(b"\x00\xffraw")
        await ws.wait_closed()

    async with ws_serve(handler, "127.0.0.1", 0, subprotocols=["ssews.v1"]) as wss:
        port = wss.sockets[0].getsockname()[1]
        async with ssews.Client(f"ws://127.0.0.1:{port}/") as client:
            seen = []

            async def three():
                async for ev in client:
                    seen.append(ev)
                    if len(seen) == 3:
                        return

            await within(three())
            assert [e.kind for e in seen] == ["open", "message", "message"], seen
            assert [e.data for e in seen[1:]] == ["plain text", b"\x00\xffraw"]
            assert seen[1].channel is None  # plain: no ssews.v1 fields
    assert selected == ["ssews.v1"]  # the server did select it: the premise holds


async def test_ssews_client_reconnects_to_websockets_server_and_flushes_queued_sends():
    connections = []

    async def handler(ws):
        connections.append(ws)
        if len(connections) == 1:
            await ws.close(1011, "restarting")  # not 1000: the client comes back
            return
        async for msg in ws:
            await ws.send("echo:" + msg)

    async with ws_serve(handler, "127.0.0.1", 0) as wss:
        port = wss.sockets[0].getsockname()[1]
        async with ssews.Client(f"ws://127.0.0.1:{port}/", reconnect_delay_ms=50) as client:
            await expect(client, "open")
            rec = await expect(client, "reconnecting")
            assert rec.code == 1 and rec.delay_ms >= 0
            client.send("queued while away")
            await expect(client, "open")
            assert (await expect(client, "message")).data == "echo:queued while away"
    assert len(connections) == 2


# -- SSE read with httpx ----------------------------------------------------

async def test_httpx_reads_sse_stream_from_ssews_server():
    async with ssews.Server() as server, httpx.AsyncClient(timeout=TIMEOUT) as http:
        async with http.stream("GET", server.url + "/?channel=a&channel=b",
                               headers={"Accept": "text/event-stream"}) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            assert r.headers["cache-control"] == "no-cache"
            opened = await expect(server, "open")
            assert opened.protocol == "sse" and opened.channels == ("a", "b")
            server.publish("a", "first\nsecond line", event="tick", id="id-1")
            server.publish("b", "from b")
            server.publish("c", "not subscribed")
            server.publish("a", b"\x00\x01\x02")
            events = await sse_events(r, 3)
            assert events[0] == {"id": "id-1", "event": "tick", "data": "first\nsecond line"}
            assert events[1]["data"] == "from b" and "event" not in events[1] and events[1]["id"]
            assert events[2]["event"] == "binary" and events[2]["data"] == "AAEC"


async def test_httpx_resumes_with_last_event_id():
    async with ssews.Server(history=10) as server, httpx.AsyncClient(timeout=TIMEOUT) as http:
        for i in range(4):
            server.publish("feed", f"m{i}")
        # Find the assigned ids from a reader that starts from the beginning of history.
        async with http.stream("GET", server.url + "/feed",
                               headers={"Accept": "text/event-stream", "Last-Event-ID": "unknown-id"}) as r:
            events = await sse_events(r, 5)
        assert events[0]["event"] == "ssews-gap" and events[0]["data"] == "unknown-id"
        assert [e["data"] for e in events[1:]] == ["m0", "m1", "m2", "m3"]
        ids = [e["id"] for e in events[1:]]
        async with http.stream("GET", server.url + "/feed",
                               headers={"Accept": "text/event-stream", "Last-Event-ID": ids[1]}) as r:
            missed = await sse_events(r, 2)
            assert [(e["id"], e["data"]) for e in missed] == [(ids[2], "m2"), (ids[3], "m3")]
            server.publish("feed", "m4")
            (new,) = await sse_events(r, 1)
            assert new["data"] == "m4"


# -- ssews.Client (SSE) against a raw asyncio server ------------------------

async def test_ssews_sse_client_resumes_from_a_raw_server_with_last_event_id():
    requests = []
    second_seen = asyncio.Event()

    async def handle(reader, writer):
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        requests.append(head)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\n")
        if len(requests) == 1:
            writer.write(b"retry: 50\nid: a1\nevent: first\ndata: one\ndata: two\n\n")
            await writer.drain()
            writer.close()  # the stream ends: EventSource reconnects
            return
        writer.write(b": comment\nid: a2\ndata: three\n\n")
        await writer.drain()
        second_seen.set()
        await reader.read()  # until the client goes
        writer.close()

    raw = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = raw.sockets[0].getsockname()[1]
    async with raw:
        async with ssews.Client(f"http://127.0.0.1:{port}/stream") as client:
            first = await expect(client, "message")
            assert (first.data, first.event, first.id) == ("one\ntwo", "first", "a1")
            await expect(client, "reconnecting")
            second = await expect(client, "message")
            assert (second.data, second.event, second.id) == ("three", "message", "a2")
    assert "last-event-id: a1" in requests[1].lower()
    assert "accept: text/event-stream" in requests[0].lower()


async def test_server_chooses_the_subprotocol_in_the_open_callback():
    # Any name the websockets client offers may be chosen; without a choice,
    # an offer of unknown names is answered with none (never refused).
    server = ssews.Server()
    seen = []

    @server.on("open")
    def choose(ev):
        seen.append(ev.subprotocol)
        if "graphql-ws" in (ev.header("sec-websocket-protocol") or ""):
            server.accept_subprotocol(ev.conn, "graphql-ws")
        with pytest.raises(ssews.Error) as e:
            server.accept_subprotocol(ev.conn, "never-offered")
        assert e.value.code == ssews.ErrorCode.EINVAL and "not offered" in str(e.value)

    async with server:
        async with ws_connect(server.ws_url + "/q", subprotocols=["mqtt", "graphql-ws"]) as ws:
            assert ws.subprotocol == "graphql-ws"
        async with ws_connect(server.ws_url + "/q", subprotocols=["mqtt"]) as ws:
            assert ws.subprotocol is None
    assert seen == ["", ""]


async def test_ssews_client_reports_the_subprotocol_the_server_selected():
    async with ssews.Server(subprotocols="chat") as server:
        client = ssews.Client(server.ws_url + "/c", subprotocols="chat", v1=False, reconnect=False)
        async with client:
            opened = await within(anext(aiter(client)))
            assert opened.kind == "open" and opened.subprotocol == "chat"


async def test_ssews_client_with_compression_talks_to_a_default_websockets_server():
    # websockets' server accepts permessage-deflate by default; the ssews
    # client offers it with compression="on" and inflates, within max_message_size.
    negotiated = []
    big = json.dumps([{"row": i, "text": "the same words again"} for i in range(200)])

    async def handler(ws):
        negotiated.append([type(e).__name__ for e in ws.protocol.extensions])
        msg = await ws.recv()
        await ws.send(msg)
        await ws.send(b"\x00" * 300_000)  # compresses to a few hundred bytes; over the client's limit

    async with ws_serve(handler, "127.0.0.1", 0) as wss:
        port = wss.sockets[0].getsockname()[1]
        async with ssews.Client(f"ws://127.0.0.1:{port}/", compression="on", max_message_size=100_000,
                                reconnect=False) as client:
            await expect(client, "open")
            client.send(big)
            assert (await expect(client, "message")).data == big
            err = await expect(client, "error")
            assert err.code == ssews.ErrorCode.ETOOBIG
    assert negotiated == [["PerMessageDeflate"]]


# -- ssews.Client (SSE) POST streams against Python's http.server -----------

class _PostOnlySse:
    """A streaming-API-like server (the standard library's http.server, in a
    thread): a GET gets 405; a POST gets a stream that echoes what came
    (headers and body) as one event, then a generic `event: binary`, then ends."""

    def __init__(self):
        import http.server
        import threading

        requests = self.requests = []

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                self.send_response(405)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                requests.append({"type": self.headers.get_all("Content-Type"),
                                 "auth": self.headers.get("Authorization"),
                                 "last_event_id": self.headers.get("Last-Event-ID"), "body": json.loads(body)})
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(f"retry: 50\nid: r{len(requests)}\ndata: {body.decode()}\n\n"
                                 "event: binary\ndata: AQI=\n\n".encode())
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1/stream"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


async def test_ssews_sse_client_post_stream_sends_json_once():
    with _PostOnlySse() as srv:
        prompt = {"model": "m", "messages": [{"role": "user", "content": "héllo"}]}
        async with ssews.Client(srv.url, method="POST", body=json.dumps(prompt),
                                headers={"Content-Type": "application/json", "Authorization": "Bearer k"}) as client:
            first, generic = await messages(client, 2)
            assert json.loads(first.data) == prompt and first.id == "r1"
            # Not from ssews (no X-Ssews: v1): `event: binary` stays the text it is.
            assert (generic.event, generic.data, generic.binary) == ("binary", "AQI=", False)
            close = await expect(client, "close")
            assert "reconnect_non_idempotent" in close.reason
        assert srv.requests == [{"type": ["application/json"], "auth": "Bearer k", "last_event_id": None,
                                 "body": prompt}]


async def test_ssews_sse_client_post_stream_resent_when_asked():
    with _PostOnlySse() as srv:
        async with ssews.Client(srv.url, method="POST", body='{"n":1}', content_type="application/json",
                                reconnect_non_idempotent=True) as client:
            await expect(client, "message")
            await expect(client, "reconnecting")
            again = await expect(client, "message")
            assert again.id == "r2"
        assert srv.requests[1] == {"type": ["application/json"], "auth": None, "last_event_id": "r1",
                                   "body": {"n": 1}}


def test_ssews_client_refuses_a_body_on_a_websocket():
    with pytest.raises(ssews.Error) as e:
        ssews.Client("ws://127.0.0.1:1/", method="POST")
    assert e.value.code == ssews.ErrorCode.EOPTION and "'method'" in str(e.value)
