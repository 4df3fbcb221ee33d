"""`ssews serve` operations (issue 18): --metrics read by the official
Prometheus parser, --drain-timeout's goodbyes and clean exit."""
import asyncio
import json
import signal
import socket
import time
import urllib.request

import websockets
from prometheus_client.parser import text_string_to_metric_families

from test_cli import TIMEOUT, serve  # noqa: F401 - the fixture

FAMILIES = ("ssews_connections", "ssews_messages_published", "ssews_deliveries",
            "ssews_handshakes_refused", "ssews_slow_consumer_drops")


def scrape(port, path="/metrics", token=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
        return {f.name: f for f in text_string_to_metric_families(r.read().decode())}


def value(fams, family, name, **labels):
    return next(s.value for s in fams[family].samples if s.name == name and s.labels == labels)


def test_serve_metrics_agree_with_a_chat(serve):
    _, port = serve("--metrics")
    fams = scrape(port)
    for f in FAMILIES:
        assert f in fams, f
    assert value(fams, "ssews_messages_published", "ssews_messages_published_total") == 0

    async def run():
        async with websockets.connect(f"ws://127.0.0.1:{port}/room") as a, \
                websockets.connect(f"ws://127.0.0.1:{port}/room") as b:
            for i in range(3):
                await a.send(f"m{i}")  # the hub publishes it to the room: both get it
            for ws in (a, b):
                assert [await asyncio.wait_for(ws.recv(), TIMEOUT) for _ in range(3)] == ["m0", "m1", "m2"]
            return scrape(port)

    fams = asyncio.run(run())
    assert value(fams, "ssews_connections", "ssews_connections", protocol="websocket") == 2
    assert value(fams, "ssews_messages_published", "ssews_messages_published_total") == 3
    assert value(fams, "ssews_deliveries", "ssews_deliveries_total", protocol="websocket") == 6


def test_serve_metrics_path_and_token(serve):
    _, port = serve("--metrics", "/ops/metrics", "--metrics-token", "sekret")
    try:
        scrape(port, "/ops/metrics")
        raise AssertionError("served without the token")
    except urllib.error.HTTPError as e:
        assert e.code == 401
    assert "ssews_connections" in scrape(port, "/ops/metrics", token="sekret")


def test_serve_drain_timeout_says_1012_and_exits_0(serve):
    p, port = serve("--drain-timeout", "1")
    codes = []

    async def run():
        conns = [await websockets.connect(f"ws://127.0.0.1:{port}/x") for _ in range(5)]
        p.p.send_signal(signal.SIGTERM)
        for ws in conns:
            try:
                await asyncio.wait_for(ws.recv(), TIMEOUT)
            except websockets.ConnectionClosed as e:
                codes.append(e.rcvd.code if e.rcvd else None)

    asyncio.run(run())
    assert p.p.wait(TIMEOUT) == 0
    assert codes == [1012] * 5


def read_json_lines(path, n):
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        with open(path) as f:
            lines = [json.loads(l) for l in f if l.strip()]
        if len(lines) >= n:
            return lines
        time.sleep(0.05)
    raise AssertionError(f"fewer than {n} access-log lines in {path}")


def test_serve_access_log_one_json_line_per_connection(serve, tmp_path):
    log = tmp_path / "access.log"
    p, port = serve("--access-log", str(log), "--echo")

    async def run():
        async with websockets.connect(f"ws://127.0.0.1:{port}/room?token=s3cret") as ws:
            for m in ("one", "two"):
                await ws.send(m)
                assert await asyncio.wait_for(ws.recv(), TIMEOUT) == m

    asyncio.run(run())
    (entry,) = read_json_lines(log, 1)
    assert entry["protocol"] == "websocket" and entry["path"] == "/room"
    assert entry["peer"] == "127.0.0.1" and entry["close_code"] == 1000
    assert entry["messages_in"] == 2 and entry["messages_out"] == 2
    assert entry["bytes_in"] > 0 and entry["bytes_out"] > 0 and entry["duration_ms"] >= 0
    assert entry["time"].endswith("Z")
    assert "s3cret" not in log.read_text()  # never a token

    # A rotation: SIGHUP opens the file again, and new lines go to the new file.
    log.rename(tmp_path / "access.log.1")
    p.p.send_signal(signal.SIGHUP)

    async def again():
        async with websockets.connect(f"ws://127.0.0.1:{port}/again"):
            pass

    t0 = time.monotonic()
    while not log.exists():  # the reopen is the signal thread's, right after the signal
        assert time.monotonic() - t0 < TIMEOUT
        time.sleep(0.02)
    asyncio.run(again())
    (entry,) = read_json_lines(log, 1)
    assert entry["path"] == "/again"


def http_status(port, path, data=None, headers=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, headers=headers or {},
                                 method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_serve_access_log_one_json_line_per_request(serve, tmp_path):
    log = tmp_path / "access.log"
    p, port = serve("--access-log", str(log), "--publish-token", "t0ken")
    # A publish POST (the query carries a token too), a 404, a refused upgrade.
    assert http_status(port, "/publish?channel=room&authorization=s3cret", b"hello",
                       {"Authorization": "Bearer t0ken"}) == 200
    assert http_status(port, "/nowhere?token=s3cret") == 404
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:  # no Sec-WebSocket-Key
        s.sendall(b"GET /room?authorization=s3cret HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                  b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 400 ")
    post, missing, upgrade = read_json_lines(log, 3)
    for entry in (post, missing, upgrade):
        assert entry["protocol"] == "http" and entry["peer"] == "127.0.0.1"
        assert entry["time"].endswith("Z") and entry["duration_ms"] >= 0
        assert entry["bytes_in"] > 0 and entry["bytes_out"] > 0
        assert "close_code" not in entry and "messages_in" not in entry
    assert (post["method"], post["path"], post["status"]) == ("POST", "/publish", 200)
    assert post["bytes_in"] >= len(b"hello")
    assert (missing["method"], missing["path"], missing["status"]) == ("GET", "/nowhere", 404)
    assert (upgrade["method"], upgrade["path"], upgrade["status"]) == ("GET", "/room", 400)
    text = log.read_text()
    assert "s3cret" not in text and "t0ken" not in text  # never a token


def publish_status(port, token):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/publish?channel=c", data=b"x", method="POST",
                                 headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_serve_sighup_reloads_tokens_from_config(serve, tmp_path):
    cfg = tmp_path / "hub.conf"
    cfg.write_text("# the hub's options\npublish_token = first\nhistory = 5\n")
    p, port = serve("--config", str(cfg))
    assert publish_status(port, "first") == 200
    async def hold():  # a connection that must survive the reload
        async with websockets.connect(f"ws://127.0.0.1:{port}/c") as ws:
            cfg.write_text("publish_token = second\nhistory = 9\n")
            p.p.send_signal(signal.SIGHUP)
            # history cannot change while running: said, not applied; then what was.
            p.wait_line(lambda l: "'history'" in l and "restart" in l)
            p.wait_line(lambda l: "reloaded publish_token" in l)
            assert publish_status(port, "second") == 200
            assert publish_status(port, "first") == 401
            assert await asyncio.wait_for(ws.recv(), TIMEOUT) == "x"  # the publish with the new token
    asyncio.run(hold())


def test_serve_sighup_reloads_origins_and_log_level(serve, tmp_path):
    """SIGHUP applies a changed allowed_origins and log_level to new requests
    while an open connection stays; an origin list that does not parse is
    said and leaves the old one in force."""
    cfg = tmp_path / "hub.conf"
    cfg.write_text("allowed_origins = https://a.example\n")
    p, port = serve("--config", str(cfg))

    async def status(origin):
        try:
            async with websockets.connect(f"ws://127.0.0.1:{port}/c", origin=origin):
                return 101
        except websockets.InvalidStatus as e:
            return e.response.status_code

    async def run():
        assert await status("https://a.example") == 101
        assert await status("https://b.example") == 403
        async with websockets.connect(f"ws://127.0.0.1:{port}/c", origin="https://a.example") as held:
            cfg.write_text("allowed_origins = https://b.example\nlog_level = notice\n")
            p.p.send_signal(signal.SIGHUP)
            p.wait_line(lambda l: "reloaded allowed_origins" in l)
            p.wait_line(lambda l: "reloaded log_level" in l)
            assert await status("https://b.example") == 101
            assert await status("https://a.example") == 403
            cfg.write_text("allowed_origins = not an origin\nlog_level = notice\n")
            p.p.send_signal(signal.SIGHUP)
            p.wait_line(lambda l: "SIGHUP" in l and "allowed_origins" in l and "reloaded" not in l)
            assert await status("https://b.example") == 101
            await asyncio.wait_for(await held.ping(), TIMEOUT)  # still open: the pong comes
    asyncio.run(run())
