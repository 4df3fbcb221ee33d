"""Access control from Python (issue 16): tokens made by PyJWT, peers from
the `websockets` package and `httpx`, the Python binding as server and client:
identity and claims in the open event, the application's last word,
publishing rights, and a client that takes a fresh token when its old one
expires."""
import asyncio
import time

import httpx
import jwt
import pytest
import websockets
from websockets.asyncio.client import connect as ws_connect

import ssews
from conftest import TIMEOUT, expect

SECRET = "python-test-secret-0123456789abcdef-0123456789abcdef-0123456789"  # 64 bytes


def token(sub="alice", exp_in=300, subscribe=("room",), publish=(), **claims):
    return jwt.encode({"sub": sub, "exp": int(time.time()) + exp_in,
                       "ssews": {"subscribe": list(subscribe), "publish": list(publish)}, **claims},
                      SECRET, algorithm="HS256")


def bearer(t):
    return {"Authorization": "Bearer " + t}


async def within(aw):
    return await asyncio.wait_for(aw, TIMEOUT)


async def test_open_event_carries_identity_and_claims_and_the_app_decides():
    server = ssews.Server(jwt_secret=SECRET, anonymous_subscribe="lobby")
    seen = []

    @server.on("open")
    def on_open(ev):
        seen.append(ev)
        if ev.claim("role") != "admin" and ev.identity is not None:
            server.reject(ev.conn, 403)

    async with server:
        async with ws_connect(server.ws_url + "/room",
                              additional_headers=bearer(token(role="admin", team=["a", "b"]))):
            pass
        with pytest.raises(websockets.InvalidStatus) as e:
            async with ws_connect(server.ws_url + "/room", additional_headers=bearer(token(role="guest"))):
                pass
        assert e.value.response.status_code == 403  # the application's refusal
        async with ws_connect(server.ws_url + "/lobby"):
            pass
    admin, guest, anonymous = seen
    assert admin.identity == "alice" and admin.claim("role") == "admin"
    assert admin.claims["team"] == ["a", "b"] and admin.claims["ssews"]["subscribe"] == ["room"]
    assert admin.claim("missing", 7) == 7
    assert guest.claim("role") == "guest"
    assert anonymous.identity is None and anonymous.claims == {}


async def test_refusals_before_any_stream_or_upgrade():
    async with ssews.Server(jwt_secret=SECRET) as server:
        app_saw = []
        server.on("open", app_saw.append)
        async with httpx.AsyncClient() as http:
            for headers, status, words in [
                ({}, 401, None),
                (bearer(token(exp_in=-100)), 401, "token expired"),
                (bearer(jwt.encode({"sub": "x"}, SECRET + "!", algorithm="HS256")), 401, "signature"),
                (bearer(jwt.encode({"sub": "x"}, None, algorithm="none")), 401, "alg none"),
                (bearer(token(subscribe=["other"])), 403, "channel 'room'"),
            ]:
                r = await within(http.get(server.url + "/room", headers={"Accept": "text/event-stream", **headers}))
                assert r.status_code == status
                if status == 401:
                    assert r.headers["www-authenticate"].startswith('Bearer realm="ssews"')
                if words:
                    assert words in r.text
        assert app_saw == []


async def test_publish_as_obeys_the_publish_claim():
    server = ssews.Server(jwt_secret=SECRET)
    rights = {}

    @server.on("message")
    def relay(ev):
        rights[ev.data] = server.may_publish(ev.conn, "room")
        try:
            server.publish_as(ev.conn, "room", ev.data)
        except ssews.Error as err:
            rights["error"] = err.code

    async with server:
        async with ws_connect(server.ws_url + "/room",
                              additional_headers=bearer(token(sub="reader", publish=[]))) as reader, \
                ws_connect(server.ws_url + "/room",
                           additional_headers=bearer(token(sub="writer", publish=["room"]))) as writer:
            await reader.send("from reader")
            with pytest.raises(websockets.ConnectionClosed) as e:
                await within(reader.recv())
            assert e.value.rcvd.code == 1008
            assert e.value.rcvd.reason == "not allowed to publish to channel 'room'"
            await writer.send("from writer")
            assert await within(writer.recv()) == "from writer"  # the first message it gets
    assert rights == {"from reader": False, "error": ssews.ErrorCode.EACCES, "from writer": True}


async def test_client_takes_a_fresh_token_after_expiry():
    server = ssews.Server(jwt_secret=SECRET, jwt_leeway=0)
    async with server:
        client = ssews.Client(server.ws_url + "/room", headers=bearer(token(sub="first", exp_in=2)),
                              reconnect_delay_ms=200)
        # On reconnecting, the application hands the client its next token.
        client.on("reconnecting", lambda ev: client.set_headers(bearer(token(sub="second"))))
        with client:
            first = await expect(server, "open")
            assert first.identity == "first"
            closed = await expect(server, "close", timeout=TIMEOUT)
            assert closed.conn == first.conn and closed.code == 1008 and closed.reason == "token expired"
            second = await expect(server, "open")
            assert second.identity == "second"
