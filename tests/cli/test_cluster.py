"""Several `ssews serve --broker URL` processes sharing channels through a real
redis-server (Debian's, started here on a free port): chat and publishes cross
nodes, a node killed with SIGKILL mid-stream loses nothing for its clients,
and Redis going away and coming back is survived (issue 17).

Run: SSEWS_BIN=build/tools/ssews python -m pytest tests/cli/test_cluster.py
"""
import asyncio
import json
import os
import signal
import socket
import sys
import time
import urllib.error
import urllib.request

import pytest
import websockets

from test_cli import TIMEOUT, Proc, free_port

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from redis_server import Redis, needs_redis, redis  # noqa: E402,F401 (shared with tests/python; redis: a fixture)

pytestmark = needs_redis


@pytest.fixture
def nodes():
    procs = []

    def start(redis, n=3, *extra):
        out = []
        for _ in range(n):
            port = free_port()
            # Tests publish in tight retry loops from one address: no handshake rate limit.
            p = Proc("serve", "--port", str(port), "--broker", redis.url, "--history", "1000",
                     "--publish-token", "t", "--handshake-rate-per-ip", "0", *extra)
            p.wait_line(lambda l: "serving on" in l)
            procs.append(p)
            out.append((p, port))
        return out

    yield start
    for p in procs:
        p.stop(signal.SIGKILL)


def publish(port, channel, body, id=None):
    """POST to a node's publish endpoint: (status, answer)."""
    q = f"channel={channel}" + (f"&id={id}" if id else "")
    req = urllib.request.Request(f"http://127.0.0.1:{port}/publish?{q}", data=body.encode(),
                                 headers={"Authorization": "Bearer t"})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def publish_until_ok(port, channel, body, deadline):
    """Publishes until a 200; returns how many 503s said the message may or
    may not have been published (Redis' answer lost): each of those may
    arrive as a message of its own, with an id of its own."""
    lost = 0
    while (answer := publish(port, channel, body))[0] != 200:
        assert answer[0] == 503 and time.monotonic() < deadline, answer
        lost += "may or may not have been published" in answer[1]["error"]
    return lost


def delivered_as(got, expected):
    """got (events) is expected: (data, least, most) runs in order. Every
    event of a run has its own id: a repeat is a publish Redis took whose
    answer was lost, never one message delivered twice."""
    i = 0
    for data, least, most in expected:
        run = []
        while i < len(got) and got[i]["data"] == data and len(run) < most:
            run.append(got[i])
            i += 1
        if len(run) < least or len({e.get("id") for e in run}) != len(run):
            return False
    return i == len(got)


class Sse:
    """An SSE stream read incrementally from a plain socket."""

    def __init__(self, port, path, last_id=None):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        extra = f"Last-Event-ID: {last_id}\r\n" if last_id else ""
        self.s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n{extra}\r\n".encode())
        self.buf = b""
        self.read_until(b"\r\n\r\n")
        self.buf = self.buf[self.buf.index(b"\r\n\r\n") + 4:]

    def read_until(self, needle, timeout=TIMEOUT):
        self.s.settimeout(timeout)
        while needle not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError(self.buf)
            self.buf += chunk

    def events(self):
        """The complete events received so far (consumed): dicts of id, event, data."""
        out = []
        while b"\n\n" in self.buf:
            block, self.buf = self.buf.split(b"\n\n", 1)
            ev = {}
            for line in block.decode().split("\n"):
                if line.startswith(":"):
                    continue
                k, _, v = line.partition(": ")
                ev[k] = ev[k] + "\n" + v if k in ev else v
            if ev:
                out.append(ev)
        return out

    def next_data(self, timeout=TIMEOUT):
        """Events up to and including the next one with data (a list)."""
        deadline = time.monotonic() + timeout
        got = []
        while not any("data" in e for e in got):
            evs = self.events()
            if evs:
                got += evs
                continue
            self.s.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError(self.buf)
            self.buf += chunk
        return got

    def close(self):
        self.s.close()


def wait_sse_listening(sse, pub_port, channel):
    """A node listens once Redis confirms its SUBSCRIBE, which no protocol
    tells a client: publish probes until one arrives, then a marker."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        assert publish(pub_port, channel, "probe")[0] == 200
        try:
            sse.read_until(b"data: probe\n\n", timeout=0.1)
            break
        except socket.timeout:
            continue
    status, ans = publish(pub_port, channel, "synced")
    assert status == 200
    sse.read_until(f"id: {ans['id']}\ndata: synced\n\n".encode())
    sse.buf = sse.buf[sse.buf.index(b"data: synced\n\n") + len(b"data: synced\n\n"):]


async def wait_ws_listening(ws, pub_port, channel):
    while True:
        assert publish(pub_port, channel, "probe")[0] == 200
        try:
            if await asyncio.wait_for(ws.recv(), 0.1) == "probe":
                break
        except asyncio.TimeoutError:
            continue
    assert publish(pub_port, channel, "synced")[0] == 200
    while await asyncio.wait_for(ws.recv(), TIMEOUT) != "synced":
        pass


def test_chat_crosses_three_nodes(redis, nodes):
    """A WebSocket message sent to one node reaches WebSocket and SSE
    subscribers on the others, with one id sequence."""
    (_, p1), (_, p2), (_, p3) = nodes(redis)
    sse = Sse(p2, "/?channel=room")
    wait_sse_listening(sse, p1, "room")

    async def run():
        async with websockets.connect(f"ws://127.0.0.1:{p1}/room") as a, \
                websockets.connect(f"ws://127.0.0.1:{p3}/room") as c:
            await wait_ws_listening(a, p2, "room")
            await wait_ws_listening(c, p2, "room")
            assert publish(p2, "room", "ready")[0] == 200  # both past each other's probes
            for ws in (a, c):
                while await asyncio.wait_for(ws.recv(), TIMEOUT) != "ready":
                    pass
            await c.send("hello from 3")
            assert await asyncio.wait_for(a.recv(), TIMEOUT) == "hello from 3"
            assert await asyncio.wait_for(c.recv(), TIMEOUT) == "hello from 3"

    asyncio.run(run())
    sse.read_until(b"data: hello from 3\n\n")
    evs = [e for e in sse.events() if "data" in e]
    status, ans = publish(p3, "room", "last")
    assert status == 200 and ans["subscribers"] == 0  # this node's own subscribers: none left
    evs += sse.next_data()
    assert [e["data"] for e in evs[-2:]] == ["hello from 3", "last"]
    assert evs[-1]["id"] == ans["id"]
    seqs = [int(e["id"].rsplit("-", 1)[1]) for e in evs]
    assert seqs == sorted(set(seqs))


def test_node_killed_mid_stream_clients_resume_elsewhere(redis, nodes):
    """SIGKILL of the node an SSE client and an ssews.v1 WebSocket client read
    from: they reconnect to another node with their last id and miss nothing."""
    (_, p1), (n2, p2), (_, p3) = nodes(redis)
    sse = Sse(p2, "/?channel=feed")
    wait_sse_listening(sse, p1, "feed")
    total = 120
    published = []
    got_sse = []

    async def run():
        ws = await websockets.connect(f"ws://127.0.0.1:{p2}/feed", subprotocols=["ssews.v1"])
        assert ws.subprotocol == "ssews.v1"

        async def ws_next():
            while True:
                m = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
                if m["data"] not in ("probe", "synced"):
                    return m

        # The v1 client is subscribed once it sees its own probe.
        while True:
            assert publish(p1, "feed", "probe")[0] == 200
            try:
                if json.loads(await asyncio.wait_for(ws.recv(), 0.1))["data"] == "probe":
                    break
            except asyncio.TimeoutError:
                continue
        got_ws = []
        for i in range(total):
            status, ans = publish(p1, "feed", f"m{i}")
            assert status == 200
            published.append((ans["id"], f"m{i}"))
            if i == total // 2:
                # Read a part, then the node dies under both clients.
                while not got_ws or got_ws[-1]["data"] != f"m{i}":
                    got_ws.append(await ws_next())
                while not got_sse or got_sse[-1]["data"] != f"m{i}":
                    got_sse.extend(e for e in sse.next_data() if e.get("data") not in ("probe", "synced"))
                n2.stop(signal.SIGKILL)
        try:
            await asyncio.wait_for(ws.close(), 1)
        except (asyncio.TimeoutError, websockets.ConnectionClosed):
            pass
        # Reconnect elsewhere with the last id each saw.
        ws = await websockets.connect(
            f"ws://127.0.0.1:{p3}/?channel=feed&last_event_id={got_ws[-1]['id']}", subprotocols=["ssews.v1"])
        while got_ws[-1]["data"] != f"m{total - 1}":
            got_ws.append(await ws_next())
        await ws.close()
        return got_ws

    got_ws = asyncio.run(run())
    sse.close()
    sse = Sse(p3, "/?channel=feed", last_id=got_sse[-1]["id"])
    while got_sse[-1]["data"] != f"m{total - 1}":
        got_sse.extend(sse.next_data())
    want = [d for _, d in published]
    assert [e["data"] for e in got_sse if e.get("event") != "ssews-gap"] == want
    assert [m["data"] for m in got_ws] == want
    assert [e["id"] for e in got_sse] == [i for i, _ in published]
    assert not any(e.get("event") == "ssews-gap" for e in got_sse)


def test_redis_down_then_back(tmp_path, nodes):
    """Redis stops: open streams stay, publishes answer 503 at once and the
    node says why; Redis returns (its AOF replayed): publishing works again
    and subscribers get everything Redis accepted, once, in order."""
    redis = Redis(tmp_path, aof=True)
    try:
        (n1, p1), (n2, p2) = nodes(redis, 2)
        sse = Sse(p2, "/news")
        wait_sse_listening(sse, p1, "news")
        accepted = []  # what Redis took: subscribers must get exactly that
        redis.stop()
        t0 = time.monotonic()
        while True:  # the node notices the loss at once (its connections close)
            status, ans = publish(p1, "news", "x")
            if status == 503:
                break
            accepted.append(("x", 1, 1))
            assert time.monotonic() - t0 < TIMEOUT
        assert "Redis" in ans["error"]
        if "may or may not have been published" in ans["error"]:
            accepted.append(("x", 0, 1))
        redis.start()
        lost = publish_until_ok(p1, "news", "back", time.monotonic() + TIMEOUT)
        accepted.append(("back", 1, 1 + lost))
        for i in range(20):
            assert publish(p1, "news", f"a{i}")[0] == 200
            accepted.append((f"a{i}", 1, 1))
        got = []
        while not got or got[-1]["data"] != "a19":
            got += [e for e in sse.next_data() if "data" in e]
        assert delivered_as(got, accepted), (got, accepted)
        sse.close()
    finally:
        redis.stop(signal.SIGKILL)
    # Each node told why publishing failed, in its log.
    n1.stop(signal.SIGTERM)
    assert "lost Redis at " + redis.url in n1.p.stderr.read()


def test_redis_loading_its_data_is_waited_for(tmp_path, nodes):
    """Redis restarting answers -LOADING while it reads its data (here a
    million keys): nodes wait for it, refusing publishes meanwhile, then
    catch up: no loss, no duplicate, no gap signal."""
    redis = Redis(tmp_path, extra=["--enable-debug-command", "yes"])
    try:
        (_, p1), (n2, p2) = nodes(redis, 2, "--option", "log_level=notice")
        sse = Sse(p2, "/news")
        wait_sse_listening(sse, p1, "news")
        assert publish(p1, "news", "one")[0] == 200
        sse.read_until(b"data: one\n\n")
        sse.events()
        redis.cmd("DEBUG", "POPULATE", "1000000")
        assert redis.cmd("SAVE") == "OK"
        redis.stop()
        redis.start(wait=False)  # accepting connections, and answering -LOADING
        lost = publish_until_ok(p1, "news", "two", time.monotonic() + 3 * TIMEOUT)
        got = sse.next_data()
        # Once, or once more for each publish whose answer was lost (with an
        # id of its own: one id twice would be a duplicate delivery).
        assert delivered_as([e for e in got if "data" in e], [("two", 1, 1 + lost)]), got
        assert not any(e.get("event") == "ssews-gap" for e in got)
        sse.close()
    finally:
        redis.stop(signal.SIGKILL)
    n2.stop(signal.SIGTERM)
    log = n2.p.stderr.read()
    assert "lost its data" not in log
    assert "is loading its data; waiting" in log


def test_password_database_and_unix_socket(tmp_path, nodes):
    """AUTH and SELECT from the URL, over TCP and a unix socket; a wrong
    password is reported (by its reply, never the password) and publishes
    answer 503."""
    sock = tmp_path / "redis.sock"
    redis = Redis(tmp_path, extra=["--requirepass", "s3cret", "--unixsocket", str(sock)])
    try:
        good = f"redis://:s3cret@127.0.0.1:{redis.port}/3"
        redis.url = good
        (_, p1), = nodes(redis, 1)
        redis.url = f"unix://:s3cret@{sock}?db=3"
        (_, p2), = nodes(redis, 1, "--option", "broker_prefix=ssews")
        sse = Sse(p2, "/c")
        wait_sse_listening(sse, p1, "c")
        status, ans = publish(p1, "c", "over tcp, read over unix")
        assert status == 200
        sse.read_until(f"id: {ans['id']}\ndata: over tcp, read over unix\n\n".encode())
        sse.close()
        assert redis.cmd("-a", "s3cret", "-n", "3", "EXISTS", "ssews:meta").endswith("1")
        redis.url = f"redis://:wrong@127.0.0.1:{redis.port}"
        (bad, p3), = nodes(redis, 1)
        status, ans = publish(p3, "c", "x")
        assert status == 503
        bad.stop(signal.SIGTERM)
        log = bad.p.stderr.read()
        assert "refused AUTH" in log and "wrong" not in log.replace("WRONGPASS", "")
    finally:
        redis.stop(signal.SIGKILL)


def test_frozen_redis_does_not_hold_publishes(redis, nodes):
    """A Redis that stops answering without closing (SIGSTOP: frozen) is
    given up after 5 s: the publish waiting for it answers 503, later ones at
    once; thawed, it is used again."""
    (_, p1), = nodes(redis, 1)
    assert publish(p1, "c", "before")[0] == 200
    redis.p.send_signal(signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        status, ans = publish(p1, "c", "frozen")
        assert status == 503 and "may or may not have been published" in ans["error"]
        assert 4 < time.monotonic() - t0 < TIMEOUT
        t0 = time.monotonic()
        assert publish(p1, "c", "x")[0] == 503
        assert time.monotonic() - t0 < 1  # fails fast now
    finally:
        redis.p.send_signal(signal.SIGCONT)
    deadline = time.monotonic() + TIMEOUT
    while publish(p1, "c", "thawed")[0] != 200:
        assert time.monotonic() < deadline
