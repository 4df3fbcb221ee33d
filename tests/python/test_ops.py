"""Operations (issue 18) from Python: the figures (Server.stats and the
Prometheus text at metrics_path, read by the official parser), backpressure
(buffered_amount, the drain() coroutine, the "drain" event) and presence."""
import asyncio
import json

import httpx
import pytest
import websockets
from prometheus_client.parser import text_string_to_metric_families

import ssews
from conftest import TIMEOUT, expect

# The families dashboards rely on (issue 18), each with its type.
FAMILIES = {
    "ssews_connections": "gauge",
    "ssews_messages_published": "counter",
    "ssews_deliveries": "counter",
    "ssews_handshakes_refused": "counter",
    "ssews_slow_consumer_drops": "counter",
    "ssews_handshakes_accepted": "counter",
    "ssews_queued_bytes": "gauge",
    "ssews_loop_busy_seconds": "counter",
}


async def scrape(http, server, path="/metrics", token="t0ken"):
    r = await http.get(server.url + path, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {f.name: f for f in text_string_to_metric_families(r.text)}


def sample(families, family, sample_name, **labels):
    for s in families[family].samples:
        if s.name == sample_name and s.labels == labels:
            return s.value
    raise AssertionError(f"no sample {sample_name}{labels} in {families[family].samples}")


async def read_sse(stream_iter, n):
    """The data lines of the next n SSE messages (comments skipped)."""
    got, data = [], None
    while len(got) < n:
        line = await asyncio.wait_for(stream_iter.__anext__(), TIMEOUT)
        if line.startswith("data:"):
            data = line[5:].lstrip(" ")
        elif line == "" and data is not None:
            got.append(data)
            data = None
    return got


async def test_prometheus_parser_reads_figures_that_agree_with_the_traffic():
    opts = dict(metrics_path="/metrics", metrics_token="t0ken")
    async with ssews.Server(**opts) as server, httpx.AsyncClient(timeout=TIMEOUT) as http:
        # Before any traffic: every family is there, at zero.
        fams = await scrape(http, server)
        for name, kind in FAMILIES.items():
            assert fams[name].type == kind, name
        assert sample(fams, "ssews_messages_published", "ssews_messages_published_total") == 0
        assert sample(fams, "ssews_connections", "ssews_connections", protocol="websocket") == 0
        # Without the token: refused.
        assert (await http.get(server.url + "/metrics")).status_code == 401

        wss = [await websockets.connect(server.ws_url + "/feed") for _ in range(3)]
        async with http.stream("GET", server.url + "/feed", headers={"Accept": "text/event-stream"}) as s1, \
                http.stream("GET", server.url + "/feed", headers={"Accept": "text/event-stream"}) as s2:
            for _ in range(5):
                await expect(server, "open")
            lines = [s1.aiter_lines(), s2.aiter_lines()]
            for i in range(4):
                server.publish("feed", f"m{i}")
            server.publish("elsewhere", "nobody listens")
            for ws in wss:
                assert [await asyncio.wait_for(ws.recv(), TIMEOUT) for _ in range(4)] == ["m0", "m1", "m2", "m3"]
            for it in lines:
                assert await read_sse(it, 4) == ["m0", "m1", "m2", "m3"]
            # A handshake the server refuses (the head names no supported version).
            r = await http.get(server.url + "/feed", headers={"Upgrade": "websocket", "Connection": "Upgrade",
                                                              "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                                                              "Sec-WebSocket-Version": "8"})
            assert r.status_code >= 400

            fams = await scrape(http, server)
            assert sample(fams, "ssews_connections", "ssews_connections", protocol="websocket") == 3
            assert sample(fams, "ssews_connections", "ssews_connections", protocol="sse") == 2
            assert sample(fams, "ssews_messages_published", "ssews_messages_published_total") == 5
            assert sample(fams, "ssews_deliveries", "ssews_deliveries_total", protocol="websocket") == 12
            assert sample(fams, "ssews_deliveries", "ssews_deliveries_total", protocol="sse") == 8
            assert sample(fams, "ssews_handshakes_accepted", "ssews_handshakes_accepted_total",
                          protocol="websocket") == 3
            assert sample(fams, "ssews_handshakes_refused", "ssews_handshakes_refused_total",
                          reason="bad_request") == 1
            assert sample(fams, "ssews_handshakes_refused", "ssews_handshakes_refused_total", reason="auth") == 0
            assert sample(fams, "ssews_slow_consumer_drops", "ssews_slow_consumer_drops_total") == 0

            # The same figures as a dict.
            stats = server.stats()
            assert stats["connections_websocket"] == 3 and stats["connections_sse"] == 2
            assert stats["messages_published"] == 5
            assert stats["deliveries_websocket"] == 12 and stats["deliveries_sse"] == 8
        for ws in wss:
            await ws.close()


async def test_refusals_count_under_their_reason():
    """Access control's refusals count as auth or origin, whichever path
    (WebSocket, SSE, publish endpoint) was refused; a per-address limit as
    limit."""
    import time

    import jwt
    secret = "ops-test-secret-0123456789abcdef-0123456789abcdef-0123456789abcd"
    room_only = jwt.encode({"sub": "bob", "exp": int(time.time()) + 300, "ssews": {"subscribe": ["room"]}},
                           secret, algorithm="HS256")
    opts = dict(metrics_path="/metrics", metrics_token="t0ken", jwt_secret=secret,
                allowed_origins="https://good.example", publish_token="pub", max_connections_per_ip=3)
    async with ssews.Server(**opts) as server:
        ok = {"Authorization": "Bearer " + room_only}
        # Three connections from this address are the limit: a fourth is refused
        # (429). First, while nothing else of this test is connected.
        held = [await websockets.connect(server.ws_url + "/room", additional_headers=ok) for _ in range(3)]
        with pytest.raises(websockets.InvalidStatus) as e:
            await websockets.connect(server.ws_url + "/room", additional_headers=ok)
        assert e.value.response.status_code == 429
        for ws in held:
            await ws.close()
        for _ in held:
            await expect(server, "close")
        async with httpx.AsyncClient(timeout=TIMEOUT) as http:
            with pytest.raises(websockets.InvalidStatus) as e:  # origin not allowed
                await websockets.connect(server.ws_url + "/room", origin="https://evil.example",
                                         additional_headers=ok)
            assert e.value.response.status_code == 403
            r = await http.get(server.url + "/room", headers={"Accept": "text/event-stream"})  # no token
            assert r.status_code == 401
            with pytest.raises(websockets.InvalidStatus) as e:  # a token for another channel
                await websockets.connect(server.ws_url + "/secret", additional_headers=ok)
            assert e.value.response.status_code == 403
            r = await http.post(server.url + "/publish?channel=room", content=b"x",
                                headers={"Authorization": "Bearer wrong"})
            assert r.status_code == 401
            fams = await scrape(http, server)
        counts = {reason: sample(fams, "ssews_handshakes_refused", "ssews_handshakes_refused_total", reason=reason)
                  for reason in ("auth", "origin", "limit", "bad_request", "app", "closing")}
        assert counts == {"auth": 3, "origin": 1, "limit": 1, "bad_request": 0, "app": 0, "closing": 0}


async def test_drain_coroutine_and_event_after_a_slow_reader_catches_up():
    size, count = 64 * 1024, 320  # 20 MiB: more than loopback socket buffers hold
    opts = dict(send_high_water=1 << 20, send_low_water=64 << 10, max_queue_bytes=64 << 20)
    async with ssews.Server(**opts) as server:
        # max_queue=1: the client stops reading after one message until the test reads.
        async with websockets.connect(server.ws_url + "/feed", max_queue=1, max_size=None) as ws:
            conn = (await expect(server, "open")).conn
            payload = "x" * size
            for _ in range(count):
                server.publish("feed", payload)
            deadline = asyncio.get_running_loop().time() + TIMEOUT
            while server.buffered_amount(conn) <= 1 << 20:
                assert asyncio.get_running_loop().time() < deadline, "the queue never grew"
                await asyncio.sleep(0.01)
            lag = server.channel_stats("feed")
            assert lag["subscribers"] == 1 and lag["max_queued_bytes"] > 1 << 20

            async def read_all():
                for _ in range(count):
                    assert len(await asyncio.wait_for(ws.recv(), TIMEOUT)) == size

            reader = asyncio.create_task(read_all())
            await asyncio.wait_for(server.drain(conn), TIMEOUT)
            assert server.buffered_amount(conn) <= 64 << 10
            drained = await expect(server, "drain")
            assert drained.conn == conn and drained.protocol == "websocket"
            await reader
            assert server.stats()["drain_events"] >= 1  # one per episode; publishes may make two


async def test_presence_lists_a_channels_subscribers():
    async with ssews.Server() as server:
        async with websockets.connect(server.ws_url + "/room") as a, \
                websockets.connect(server.ws_url + "/room") as b, \
                websockets.connect(server.ws_url + "/hall"):
            ids = set()
            for _ in range(3):
                ev = await expect(server, "open")
                if ev.channels == ("room",):
                    ids.add(ev.conn)
            assert set(server.presence("room")) == ids
            assert server.channel_stats("room")["subscribers"] == 2
            assert server.presence("nobody") == []
            await a.close()
            await expect(server, "close")
            assert len(server.presence("room")) == 1
            del b


def test_stats_at_zero_and_unknown_connection():
    with ssews.Server() as server:
        assert server.stats()["connections_websocket"] == 0
        with pytest.raises(ssews.Error) as err:
            server.buffered_amount(999)
        assert err.value.code == ssews.ErrorCode.ENOCONN


async def test_presence_option_join_and_leave_events_and_v1_notices():
    async with ssews.Server(presence=True) as server:
        async with websockets.connect(server.ws_url + "/room", subprotocols=["ssews.v1"]) as a:
            joined = await expect(server, "join")
            assert joined.channel == "room"
            async with websockets.connect(server.ws_url + "/room"):
                other = await expect(server, "join")
                notice = json.loads(await asyncio.wait_for(a.recv(), TIMEOUT))
                assert notice["event"] == "join" and notice["channel"] == "room"
                assert json.loads(notice["data"]) == {"conn": other.conn}
            left = await expect(server, "leave")
            assert (left.conn, left.channel) == (other.conn, "room")
            closed = await expect(server, "close")  # the leave comes first, then the close
            assert closed.conn == other.conn
            # An access log's figures: the connection sent nothing and got nothing but the 101.
            assert closed.stats["messages_in"] == 0 and closed.stats["messages_out"] == 0
            assert closed.stats["bytes_out"] > 0 and closed.stats["duration_ms"] >= 0
            notice = json.loads(await asyncio.wait_for(a.recv(), TIMEOUT))
            assert notice["event"] == "leave"


async def test_presence_carries_the_identity_of_the_token():
    """Who is on a channel, by the `sub` of the token each connection came
    with: in join/leave events, in ssews.v1 notices and from the HTTP side."""
    import time

    import jwt
    secret = "presence-secret-0123456789abcdef-0123456789abcdef-0123456789abcd"

    def token(sub):
        return jwt.encode({"sub": sub, "exp": int(time.time()) + 300, "ssews": {"subscribe": ["room"]}},
                          secret, algorithm="HS256")

    async with ssews.Server(presence=True, jwt_secret=secret, anonymous_subscribe="room",
                            publish_token="tok") as server, httpx.AsyncClient(timeout=TIMEOUT) as http:
        async with websockets.connect(server.ws_url + "/room", subprotocols=["ssews.v1"],
                                      additional_headers={"Authorization": "Bearer " + token("alice")}) as a:
            joined = await expect(server, "join")
            assert joined.identity == "alice"
            async with websockets.connect(server.ws_url + "/room?authorization=" + token("bob")), \
                    websockets.connect(server.ws_url + "/room"):  # anonymous: no identity
                bob = await expect(server, "join")
                anon = await expect(server, "join")
                assert bob.identity == "bob" and anon.identity is None
                notices = [json.loads(json.loads(await asyncio.wait_for(a.recv(), TIMEOUT))["data"])
                           for _ in range(2)]
                assert notices == [{"conn": bob.conn, "identity": "bob"}, {"conn": anon.conn}]
                r = await http.get(server.url + "/publish/presence?channel=room",
                                   headers={"Authorization": "Bearer tok"})
                assert r.status_code == 200
                listed = {c["conn"]: c.get("identity") for c in r.json()["connections"]}
                assert listed == {joined.conn: "alice", bob.conn: "bob", anon.conn: None}
            left = [await expect(server, "leave") for _ in range(2)]
            assert {ev.identity for ev in left} == {"bob", None}


async def test_set_option_rotates_the_publish_token():
    async with ssews.Server(publish_token="old") as server, httpx.AsyncClient(timeout=TIMEOUT) as http:
        async def post(token):
            r = await http.post(server.url + "/publish?channel=c", content=b"x",
                                headers={"Authorization": f"Bearer {token}"})
            return r.status_code

        assert await post("old") == 200
        server.set_option("publish_token", "new")
        server.stats()  # answered after the change: it is in effect
        assert await post("old") == 401
        assert await post("new") == 200
        with pytest.raises(ssews.Error) as err:
            server.set_option("history", 5)
        assert err.value.code == ssews.ErrorCode.ENOTSUP
