"""ssews.Server <-> ssews.Client over loopback: WebSocket and SSE, asyncio and
callback styles, and the decisions a server makes in its open event."""
import asyncio
import dataclasses
import threading

import pytest

import ssews
from conftest import TIMEOUT, Recorder, expect, messages


# -- asyncio ----------------------------------------------------------------

async def test_ws_echo_text_and_binary():
    async with ssews.Server() as server, ssews.Client(server.ws_url + "/room") as client:
        async def echo():
            async for ev in server:
                if ev.kind == "message":
                    server.send(ev.conn, ev.data)

        task = asyncio.create_task(echo())
        client.send("héllo ✓")
        client.send(b"\x00\xffbin")
        client.send(bytearray(b"ba"))
        client.send(memoryview(b"xmvx")[1:3])
        client.send("")
        got = [ev.data for ev in await messages(client, 5)]
        assert got == ["héllo ✓", b"\x00\xffbin", b"ba", b"mv", ""]
        assert [type(d) for d in got] == [str, bytes, bytes, bytes, str]
        task.cancel()


async def test_sse_publish_event_id_and_multiline_data():
    async with ssews.Server() as server, ssews.Client(server.url + "/news") as reader:
        opened = await expect(server, "open")
        assert (opened.protocol, opened.path, opened.channels) == ("sse", "/news", ("news",))
        assert opened.headers["accept"] == "text/event-stream"
        await expect(reader, "open")
        server.publish("news", "line one\nline two", event="headline", id="n-1")
        server.publish("news", "plain")
        server.publish("news", b"\x01\x02")  # binary travels as base64; an ssews client decodes it
        first, second, third = await messages(reader, 3)
        assert (first.data, first.event, first.id, first.protocol) == ("line one\nline two", "headline", "n-1", "sse")
        assert (second.data, second.event) == ("plain", "message") and second.id  # EventSource default; an assigned id
        assert (third.event, third.data, third.binary) == ("binary", b"\x01\x02", True)


async def test_publish_reaches_ws_and_sse_subscribers_in_order():
    async with ssews.Server() as server:
        async with ssews.Client(server.ws_url + "/?channel=prices") as ws, \
                ssews.Client(server.url + "/?channel=prices&channel=other") as sse:
            await expect(ws, "open")
            await expect(sse, "open")
            for i in range(20):
                server.publish("prices", f"p{i}")
            server.publish("elsewhere", "nobody")
            assert [ev.data for ev in await messages(ws, 20)] == [f"p{i}" for i in range(20)]
            got = await messages(sse, 20)
            assert [ev.data for ev in got] == [f"p{i}" for i in range(20)]
            assert all(ev.channel in (None, "prices") for ev in got)


async def test_server_send_to_sse_connection_with_event_and_id():
    async with ssews.Server() as server, ssews.Client(server.url + "/x") as reader:
        conn = (await expect(server, "open")).conn
        await expect(reader, "open")
        server.send(conn, "direct", event="note", id="42")
        ev = await expect(reader, "message")
        assert (ev.data, ev.event, ev.id) == ("direct", "note", "42")


async def test_close_events_and_end_of_iteration():
    async with ssews.Server() as server:
        client = ssews.Client(server.ws_url + "/c", reconnect=False)
        conn = (await expect(server, "open")).conn
        await expect(client, "open")
        server.close_conn(conn, 4001, "go away")
        closed = await expect(client, "close")
        assert (closed.code, closed.reason) == (4001, "go away")
        # A client's close is final: iteration ends.
        assert await client.anext_event() is None
        assert [ev async for ev in client] == []
        server_close = await expect(server, "close")
        assert server_close.conn == conn
        await client.aclose()
    assert server.closed and await server.anext_event() is None


async def test_iteration_ends_when_closed_from_another_task():
    server = ssews.Server()

    async def drain():
        return [ev async for ev in server]

    task = asyncio.create_task(drain())
    await asyncio.sleep(0)  # let it start waiting on the event fd
    await server.aclose()
    assert await asyncio.wait_for(task, TIMEOUT) == []


async def test_two_tasks_iterate_one_endpoint():
    async with ssews.Server() as server, ssews.Client(server.ws_url + "/t") as client:
        got = []
        all_in = asyncio.Event()

        async def take():
            async for ev in server:
                got.append(ev)
                if sum(e.kind == "message" for e in got) == 10:
                    all_in.set()

        tasks = [asyncio.create_task(take()) for _ in range(2)]
        await expect(client, "open")
        for i in range(10):
            client.send(str(i))
        await asyncio.wait_for(all_in.wait(), TIMEOUT)
        assert [ev.data for ev in got if ev.kind == "message"] == [str(i) for i in range(10)]
        for t in tasks:
            t.cancel()


# -- callbacks --------------------------------------------------------------

def test_callbacks_with_decorators_run_on_the_service_thread():
    rec = Recorder()
    server = ssews.Server()

    @server.on("message")
    def echo(ev):
        server.send(ev.conn, ev.data.upper() if isinstance(ev.data, str) else ev.data)

    server.on("open", rec)
    server.on("close", rec)
    client_rec = Recorder()
    client = ssews.Client(server.ws_url + "/cb", on_event=client_rec)
    try:
        client_rec.wait_kind("open")
        client.send("ping")
        client.send(b"raw")
        msgs = client_rec.wait_kind("message", n=2)
        assert [m.data for m in msgs] == ["PING", b"raw"]
        assert threading.get_ident() not in rec.threads | client_rec.threads
    finally:
        client.close()
    rec.wait_kind("close")
    server.close()
    assert rec.kinds() == ["open", "close"]  # exactly one close per open


def test_on_event_catch_all_and_per_kind_handlers_both_run():
    calls = []
    server = ssews.Server(on_event=lambda ev: calls.append(("all", ev.kind)))
    server.on("open", lambda ev: calls.append(("open", ev.kind)))
    rec = Recorder()
    server.on_event(rec)
    with server, ssews.Client(server.url + "/s"):
        rec.wait_kind("open")
    assert calls[:2] == [("all", "open"), ("open", "open")]


def test_reject_and_subscribe_in_the_open_callback():
    server = ssews.Server()

    @server.on("open")
    def decide(ev):
        if ev.header("x-token") != "s3cret":   # a header libwebsockets does not know by name
            server.reject(ev.conn, 403)
        else:
            server.subscribe(ev.conn, "vip")   # replaces the default ("lobby")

    with server:
        bad = Recorder()
        with ssews.Client(server.url + "/lobby", reconnect=False, on_event=bad):
            err = bad.wait(lambda e: e.kind == "error")
            assert err.code == ssews.ErrorCode.EHTTP and "403" in err.reason
            bad.wait_kind("close")
        good = Recorder()
        with ssews.Client(server.url + "/lobby", headers={"X-Token": "s3cret"}, on_event=good):
            good.wait_kind("open")
            server.publish("lobby", "not for you")
            server.publish("vip", "welcome")
            assert good.wait_kind("message")[0].data == "welcome"
            assert [e.data for e in good.events if e.kind == "message"] == ["welcome"]
        assert "open" not in bad.kinds()


def test_open_event_headers_in_callback_and_after():
    seen = {}
    server = ssews.Server()

    @server.on("open")
    def look(ev):
        seen["auth"] = ev.header("Authorization")
        seen["custom"] = ev.header("X-Custom-Thing")
        seen["missing"] = ev.header("X-Missing", "dflt")
        seen["event"] = ev

    rec = Recorder()
    server.on("open", rec)
    with server, ssews.Client(server.ws_url + "/h?a=1&b=2",
                              headers=[("Authorization", "Bearer abc"), ("X-Custom-Thing", "v 1")]) as client:
        rec.wait_kind("open")
        assert client.next_event(TIMEOUT).kind == "open"
    assert seen["auth"] == "Bearer abc"
    assert seen["custom"] == "v 1"
    assert seen["missing"] == "dflt"
    ev = seen["event"]
    assert ev.headers["authorization"] == "Bearer abc"
    assert ev.header("x-custom-thing") == "v 1"  # cached when read in the callback
    assert ev.header("x-other") is None          # the request is gone now
    assert (ev.path, ev.query, ev.peer) == ("/h", "a=1&b=2", "127.0.0.1")


async def test_headers_in_async_mode_with_capture_headers():
    # Without a callback, custom headers reach the open event when named in
    # the capture_headers option; well-known ones are always there.
    async with ssews.Server(capture_headers="X-Api-Key,X-Other") as server, \
            ssews.Client(server.ws_url + "/", headers={"Authorization": "Basic eDp5", "X-Api-Key": "k1",
                                                       "X-Not-Captured": "n"}):
        ev = await expect(server, "open")
        assert ev.header("authorization") == "Basic eDp5"
        assert ev.header("X-Api-Key") == ev.headers["x-api-key"] == "k1"
        assert ev.header("x-not-captured") is None and ev.header("x-other") is None
        assert ev.channels == ()


def test_callback_exceptions_go_to_on_exception_and_other_handlers_still_run():
    reported = []
    rec = Recorder()

    def boom(ev):
        raise RuntimeError(f"boom on {ev.kind}")

    server = ssews.Server(on_event=boom, on_exception=lambda exc, ev: reported.append((exc, ev)))
    server.on("open", rec)
    with server, ssews.Client(server.ws_url + "/e") as client:
        rec.wait_kind("open")
        assert client.next_event(TIMEOUT).kind == "open"  # (a client closes faster once open)
    assert reported and isinstance(reported[0][0], RuntimeError)
    assert str(reported[0][0]) == "boom on open" and reported[0][1].kind == "open"


def test_callback_exceptions_default_to_sys_unraisablehook(monkeypatch):
    hooked = []
    got = threading.Event()

    def hook(args):
        hooked.append(args)
        got.set()

    monkeypatch.setattr("sys.unraisablehook", hook)

    def bad_handler(ev):
        raise ValueError("not swallowed")

    server = ssews.Server()
    server.on("open", bad_handler)
    with server, ssews.Client(server.ws_url + "/u") as client:
        assert got.wait(TIMEOUT)
        assert client.next_event(TIMEOUT).kind == "open"
    assert hooked[0].exc_type is ValueError and str(hooked[0].exc_value) == "not swallowed"
    assert hooked[0].object is bad_handler
    assert hooked[0].exc_traceback is not None


def test_on_exception_that_raises_is_reported_too(monkeypatch):
    hooked = []
    got = threading.Event()
    monkeypatch.setattr("sys.unraisablehook", lambda args: (hooked.append(args), got.set()))

    def handler(exc, ev):
        raise KeyError("handler failed")

    server = ssews.Server(on_exception=handler)
    server.on("open", lambda ev: 1 / 0)
    with server, ssews.Client(server.ws_url + "/u") as client:
        assert got.wait(TIMEOUT)
        assert client.next_event(TIMEOUT).kind == "open"
    assert hooked[0].exc_type is KeyError
    assert isinstance(hooked[0].exc_value.__context__, ZeroDivisionError)


async def test_callbacks_and_iteration_are_exclusive():
    async with ssews.Server(on_event=lambda ev: None) as server:
        with pytest.raises(ssews.Error) as err:
            await server.anext_event()
        assert err.value.code == ssews.ErrorCode.ESTATE
        with pytest.raises(ssews.Error):
            next(iter(server))


async def test_registering_a_callback_later_takes_over_pending_events():
    async with ssews.Server() as server:
        client = ssews.Client(server.ws_url + "/late")
        await expect(client, "open")
        # The server's open event is queued (the client is open, so the server
        # saw the handshake); a callback registered now gets it first, in order.
        rec = Recorder()
        server.on_event(rec)
        client.send("later")
        await asyncio.get_running_loop().run_in_executor(None, rec.wait_kind, "message")
        assert [(e.kind, e.data) for e in rec.events][:2] == [("open", None), ("message", "later")]
        await client.aclose()


# -- blocking use from threads ---------------------------------------------

def test_blocking_iteration_in_a_thread_and_timeouts():
    with ssews.Server() as server:
        assert server.next_event(timeout=0.05) is None  # nothing yet: times out
        got = []
        opened = threading.Event()

        def reader():
            with ssews.Client(server.url + "/thr", reconnect=False) as client:
                for ev in client:
                    got.append(ev)
                    if ev.kind == "open":
                        opened.set()
                    if ev.kind == "message":
                        break

        t = threading.Thread(target=reader)
        t.start()
        ev = server.next_event(timeout=TIMEOUT)
        assert ev.kind == "open"
        assert opened.wait(TIMEOUT)
        server.publish("thr", "to the thread")
        t.join(TIMEOUT)
        assert not t.is_alive()
        assert [e.kind for e in got] == ["open", "message"] and got[1].data == "to the thread"


def test_close_wakes_a_thread_blocked_in_next_event():
    server = ssews.Server()
    result = []
    started = threading.Event()

    def wait():
        started.set()
        result.append(server.next_event())

    t = threading.Thread(target=wait)
    t.start()
    started.wait()
    server.close()
    t.join(TIMEOUT)
    assert not t.is_alive() and result == [None]


def test_publish_from_many_threads():
    with ssews.Server() as server:
        rec = Recorder()
        client = ssews.Client(server.ws_url + "/?channel=mt", on_event=rec)
        rec.wait_kind("open")
        assert server.next_event(TIMEOUT).kind == "open"

        def pub(k):
            for i in range(50):
                server.publish("mt", f"{k}:{i}")

        threads = [threading.Thread(target=pub, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        msgs = [e.data for e in rec.wait_kind("message", n=200)]
        for k in range(4):  # each publisher's messages arrive in its order
            assert [m for m in msgs if m.startswith(f"{k}:")] == [f"{k}:{i}" for i in range(50)]
        client.close()


# -- events as data ---------------------------------------------------------

async def test_events_are_frozen_dataclasses():
    async with ssews.Server() as server, ssews.Client(server.ws_url + "/d") as client:
        ev = await expect(server, "open")
        assert dataclasses.is_dataclass(ev)
        with pytest.raises(dataclasses.FrozenInstanceError):
            ev.kind = "close"
        d = dataclasses.asdict(ev)
        assert d["kind"] == "open" and d["protocol"] == "websocket" and d["path"] == "/d"
        assert "kind='open'" in repr(ev)
        await expect(client, "open")
        client.send('{"a": [1, 2]}')
        msg = await expect(server, "message")
        assert msg.json() == {"a": [1, 2]} and not msg.binary
        assert msg == dataclasses.replace(msg)
