"""Access control of `ssews serve` (issue 16) over real sockets: tokens made by
PyJWT, WebSocket peers from the `websockets` package, HTTP from http.client
and raw sockets. Each case says what is tried and what the answer must be.

Run: SSEWS_BIN=build/tools/ssews python -m pytest tests/cli
"""
import asyncio
import http.client
import socket
import subprocess
import time

import jwt
import pytest
import websockets
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from test_cli import SSEWS, TIMEOUT, serve  # noqa: F401  (serve is a fixture)

SECRET = "cli-test-secret-0123456789abcdef-0123456789abcdef-0123456789abcd"  # 64 bytes


def token(key=SECRET, alg="HS256", exp_in=300, sub="alice", subscribe=("prices.*", "room"), publish=("room",),
          **claims):
    body = {"sub": sub, "exp": int(time.time()) + exp_in, "ssews": {"subscribe": list(subscribe),
                                                                       "publish": list(publish)}, **claims}
    if exp_in is None:
        del body["exp"]
    return jwt.encode(body, key, algorithm=alg)


@pytest.fixture
def secret_file(tmp_path):
    p = tmp_path / "secret"
    p.write_text(SECRET + "\n")  # one trailing newline is stripped
    return str(p)


def get(port, path, headers=None, method="GET"):
    """One HTTP request; the response's status, lower-case headers and body
    (an SSE stream that opened is not read further)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    h = {"Accept": "text/event-stream"}
    h.update(headers or {})
    c.request(method, path, headers=h)
    r = c.getresponse()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    body = "" if r.status == 200 and method == "GET" else r.read().decode()
    c.close()
    return r.status, hdrs, body


def ws_refusal(port, path, headers=None, origin=None):
    """The HTTP answer to a WebSocket handshake that must be refused."""
    async def run():
        with pytest.raises(websockets.InvalidStatus) as e:
            async with websockets.connect(f"ws://127.0.0.1:{port}{path}", additional_headers=headers or {},
                                          origin=origin, open_timeout=TIMEOUT):
                pass
        r = e.value.response
        return r.status_code, {k.lower(): v for k, v in r.headers.raw_items()}, r.body.decode()
    return asyncio.run(run())


def ws_opens(port, path, headers=None, origin=None):
    async def run():
        async with websockets.connect(f"ws://127.0.0.1:{port}{path}", additional_headers=headers or {},
                                      origin=origin, open_timeout=TIMEOUT):
            return True
    return asyncio.run(run())


def bearer(t):
    return {"Authorization": "Bearer " + t}


# --------------------------------------------------------------------------
# Tokens: where they come from, and which are refused why


def test_no_token_is_401_with_a_bearer_challenge(serve, secret_file):
    _, port = serve("--jwt-secret-file", secret_file)
    status, h, body = get(port, "/prices.eur")
    assert status == 401 and h["www-authenticate"] == 'Bearer realm="ssews"'
    assert "token is needed" in body
    status, h, _ = ws_refusal(port, "/prices.eur")
    assert status == 401 and h["www-authenticate"] == 'Bearer realm="ssews"'


def test_token_from_header_query_and_cookie(serve, secret_file):
    t = token()
    _, port = serve("--jwt-secret-file", secret_file)
    assert get(port, "/prices.eur", bearer(t))[0] == 200
    assert get(port, "/prices.eur?authorization=" + t)[0] == 200
    assert ws_opens(port, "/prices.eur", bearer(t))
    assert ws_opens(port, "/?channel=prices.eur&authorization=" + t)
    # Cookies are not accepted without an Origin check (CSWSH).
    assert get(port, "/prices.eur", {"Cookie": "ssewsAuthorization=" + t})[0] == 401
    _, port2 = serve("--jwt-secret-file", secret_file, "--allowed-origin", "https://app.test")
    assert get(port2, "/prices.eur", {"Cookie": "a=1; ssewsAuthorization=" + t})[0] == 200
    assert ws_opens(port2, "/prices.eur", {"Cookie": "ssewsAuthorization=" + t}, origin="https://app.test")
    _, port3 = serve("--jwt-secret-file", secret_file, "--allowed-origin", "https://app.test",
                     "--option", "jwt_cookie=tok")
    assert get(port3, "/prices.eur", {"Cookie": "tok=" + t})[0] == 200
    assert get(port3, "/prices.eur", {"Cookie": "ssewsAuthorization=" + t})[0] == 401


@pytest.mark.parametrize("case,make,reason", [
    ("expired", lambda: token(exp_in=-100), "token expired"),
    ("not yet valid", lambda: token(nbf=int(time.time()) + 1000), "not valid yet"),
    ("wrong key", lambda: token(key=SECRET + "x"), "signature does not verify"),
    ("alg none", lambda: jwt.encode({"sub": "alice", "ssews": {"subscribe": ["*"]}}, None, algorithm="none"),
     "alg none is not accepted"),
    ("wrong audience", lambda: token(aud="someone-else", iss="https://issuer.test"), "wrong audience"),
    ("no audience", lambda: token(iss="https://issuer.test"), "wrong audience"),
    ("wrong issuer", lambda: token(aud="cli-tests", iss="https://evil.test"), "wrong issuer"),
    ("garbage", lambda: "not.a.token", "malformed"),
])
def test_bad_tokens_are_401_naming_the_reason(serve, secret_file, case, make, reason):
    _, port = serve("--jwt-secret-file", secret_file, "--option", "jwt_audience=cli-tests",
                    "--option", "jwt_issuer=https://issuer.test")
    t = make()
    for status, h, body in (get(port, "/prices.eur", bearer(t)), ws_refusal(port, "/prices.eur", bearer(t))):
        assert status == 401, case
        assert h["www-authenticate"].startswith('Bearer realm="ssews", error="invalid_token", error_description="')
        assert reason in h["www-authenticate"] and reason in body, (case, h, body)
    good = token(aud="cli-tests", iss="https://issuer.test")
    assert get(port, "/prices.eur", bearer(good))[0] == 200


def test_public_key_tokens_and_algorithm_confusion(serve, tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pub = tmp_path / "key.pub.pem"
    pub.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo))
    priv = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    _, port = serve("--jwt-public-key", str(pub))
    assert get(port, "/room", bearer(token(key=priv, alg="RS256")))[0] == 200
    assert get(port, "/room", bearer(token(key=priv, alg="RS512")))[0] == 200
    assert get(port, "/room", bearer(token(key=priv, alg="PS256")))[0] == 200  # OpenSSL EVP: libjwt 1.10 lacks PS*
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    status, h, _ = get(port, "/room", bearer(token(key=other, alg="PS384")))
    assert status == 401 and "signature does not verify" in h["www-authenticate"]
    status, h, _ = get(port, "/room", bearer(token(key=SECRET, alg="HS256")))  # key confusion
    assert status == 401 and "alg HS256 does not match the configured key" in h["www-authenticate"]


def test_channel_patterns_and_403_naming_the_channel(serve, secret_file):
    _, port = serve("--jwt-secret-file", secret_file)
    t = token(subscribe=["prices.*", "room"])
    assert get(port, "/prices.eur", bearer(t))[0] == 200
    assert get(port, "/?channel=prices.eur.spot&channel=room", bearer(t))[0] == 200
    for path, channel in [("/prices", "prices"), ("/pricesx", "pricesx"), ("/?channel=room&channel=admin", "admin")]:
        status, h, body = get(port, path, bearer(t))
        assert status == 403 and f"channel '{channel}'" in body, (path, body)
        assert 'error="insufficient_scope"' in h["www-authenticate"]
        status, _, body = ws_refusal(port, path, bearer(t))
        assert status == 403 and f"channel '{channel}'" in body
    assert get(port, "/anything", bearer(token(subscribe=["*"])))[0] == 200


def test_anonymous_subscribe(serve, secret_file):
    _, port = serve("--jwt-secret-file", secret_file, "--anonymous-subscribe", "news, public.*")
    assert get(port, "/news")[0] == 200
    assert get(port, "/?channel=news&channel=public.x")[0] == 200
    assert ws_opens(port, "/public.x")
    assert get(port, "/?channel=news&channel=room")[0] == 401  # one private channel needs a token
    assert get(port, "/public")[0] == 401


# --------------------------------------------------------------------------
# Publishing: WebSocket messages obey the publish claim; the HTTP endpoint
# takes a JWT with a matching publish claim as well as the static token


def read_stream_until(sock, needle, buf=b""):
    while needle.encode() not in buf:
        chunk = sock.recv(65536)
        assert chunk, "stream ended early: %r" % buf
        buf += chunk
    return buf


def open_sse(port, path, t):
    s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
              f"Authorization: Bearer {t}\r\n\r\n".encode())
    read_stream_until(s, ": ok")  # subscribed
    return s


def test_websocket_publish_denied_closes_1008_and_publishes_nothing(serve, secret_file):
    _, port = serve("--jwt-secret-file", secret_file)
    listener = open_sse(port, "/room", token(subscribe=["room"], publish=[]))
    reader_only = token(subscribe=["room"], publish=[])
    writer = token(subscribe=["room"], publish=["room"])

    async def run():
        async with websockets.connect(f"ws://127.0.0.1:{port}/room", additional_headers=bearer(reader_only)) as ws:
            await ws.send("forbidden words")
            with pytest.raises(websockets.ConnectionClosed) as e:
                await asyncio.wait_for(ws.recv(), TIMEOUT)
            assert e.value.rcvd.code == 1008
            assert e.value.rcvd.reason == "not allowed to publish to channel 'room'"
        async with websockets.connect(f"ws://127.0.0.1:{port}/room", additional_headers=bearer(writer)) as ws:
            await ws.send("allowed words")
            assert await asyncio.wait_for(ws.recv(), TIMEOUT) == "allowed words"

    asyncio.run(run())
    got = read_stream_until(listener, "data: allowed words").decode()
    listener.close()
    assert "forbidden" not in got


def post(port, query, headers, body=b"hello"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    c.request("POST", "/publish?" + query, body=body, headers=headers)
    r = c.getresponse()
    out = r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode()
    c.close()
    return out


def test_publish_endpoint_takes_jwt_or_static_token(serve, secret_file):
    _, port = serve("--jwt-secret-file", secret_file, "--publish-token", "static-s3cret")
    listener = open_sse(port, "/room", token())
    assert post(port, "channel=room", bearer(token(publish=["room"])))[0] == 200
    assert post(port, "channel=room", bearer("static-s3cret"))[0] == 200
    status, h, body = post(port, "channel=room", bearer(token(publish=["other"])))
    assert status == 403 and "publishing to channel 'room'" in body
    status, h, body = post(port, "channel=room", bearer(token(exp_in=-100)))
    assert status == 401 and "token expired" in h["www-authenticate"]
    assert post(port, "channel=room", {})[0] == 401
    assert post(port, "channel=room&authorization=" + token(publish=["room"]), {})[0] == 200
    got = read_stream_until(listener, "data: hello\n\n" * 1).decode()
    listener.close()
    assert got.count("data: hello") >= 1


# --------------------------------------------------------------------------
# Expiry while connected


def test_expiry_while_connected_closes_websocket_and_ends_sse(serve, secret_file):
    _, port = serve("--jwt-secret-file", secret_file, "--option", "jwt_leeway=0")
    t = token(exp_in=2)
    sse = open_sse(port, "/room", t)

    async def run():
        async with websockets.connect(f"ws://127.0.0.1:{port}/room", additional_headers=bearer(t)) as ws:
            with pytest.raises(websockets.ConnectionClosed) as e:
                await asyncio.wait_for(ws.recv(), TIMEOUT)
            assert e.value.rcvd.code == 1008 and e.value.rcvd.reason == "token expired"

    asyncio.run(run())
    sse.settimeout(TIMEOUT)
    rest = b""
    while True:  # the stream ends (EOF) rather than going on with heartbeats
        chunk = sse.recv(65536)
        if not chunk:
            break
        rest += chunk
    sse.close()
    assert time.time() >= jwt.decode(t, options={"verify_signature": False})["exp"]


# --------------------------------------------------------------------------
# Origins and CORS


def test_origins_websocket_and_sse(serve, secret_file):
    t = token()
    _, port = serve("--jwt-secret-file", secret_file, "--allowed-origin", "https://good.test",
                    "--allowed-origin", "http://localhost:9000")
    status, _, body = ws_refusal(port, "/room", bearer(t), origin="https://evil.test")
    assert status == 403 and "origin 'https://evil.test' is not allowed" in body
    assert ws_opens(port, "/room", bearer(t), origin="https://good.test")
    assert ws_opens(port, "/room", bearer(t), origin="http://localhost:9000")
    assert ws_opens(port, "/room", bearer(t))  # no Origin: not a browser
    status, h, _ = get(port, "/room", {**bearer(t), "Origin": "https://evil.test"})
    assert status == 403 and "access-control-allow-origin" not in h
    status, h, _ = get(port, "/room", {**bearer(t), "Origin": "https://good.test"})
    assert status == 200
    assert h["access-control-allow-origin"] == "https://good.test"
    assert h["vary"] == "Origin" and h["access-control-allow-credentials"] == "true"
    status, h, _ = get(port, "/room", {"Origin": "https://good.test"})  # refused, but readable by the page
    assert status == 401 and h["access-control-allow-origin"] == "https://good.test"


def test_cors_preflight(serve, secret_file):
    _, port = serve("--jwt-secret-file", secret_file, "--allowed-origin", "https://good.test")
    status, h, _ = get(port, "/room", {"Origin": "https://good.test", "Access-Control-Request-Method": "GET",
                                       "Access-Control-Request-Headers": "authorization, last-event-id"},
                       method="OPTIONS")
    assert status == 204
    assert h["access-control-allow-origin"] == "https://good.test"
    assert h["access-control-allow-credentials"] == "true"
    assert "GET" in h["access-control-allow-methods"] and "POST" in h["access-control-allow-methods"]
    assert h["access-control-allow-headers"] == "Authorization, Last-Event-ID, Content-Type"
    status, h, _ = get(port, "/publish", {"Origin": "https://evil.test", "Access-Control-Request-Method": "POST"},
                       method="OPTIONS")
    assert status == 403 and "access-control-allow-origin" not in h


def test_origin_check_without_tokens(serve):
    _, port = serve("--allowed-origin", "https://good.test")
    assert ws_refusal(port, "/room", origin="https://evil.test")[0] == 403
    assert ws_opens(port, "/room", origin="https://good.test")
    assert get(port, "/room", {"Origin": "https://good.test"})[1]["access-control-allow-origin"] == \
        "https://good.test"


# --------------------------------------------------------------------------
# Option errors name the problem


@pytest.mark.parametrize("args,words", [
    (["--jwt-secret-file", "/no/such/file"], ["jwt_secret", "/no/such/file"]),
    (["--jwt-public-key", "/no/such/key.pem"], ["jwt_public_key", "/no/such/key.pem"]),
    (["--jwt-public-key", "/etc/hostname"], ["jwt_public_key", "PEM public key"]),
    (["--jwt-public-key", "/etc/hostname", "--option", "jwt_secret=x"], ["jwt_secret", "jwt_public_key"]),
    (["--option", "jwt_secret=x", "--option", "jwt_cookie=tok"], ["jwt_cookie", "allowed_origins", "hijacking"]),
    (["--allowed-origin", "good.test"], ["allowed_origins", "good.test"]),
])
def test_option_errors(args, words):
    r = subprocess.run([SSEWS, "serve", "--port", "0", *args], capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode != 0
    for w in words:
        assert w in r.stderr, (w, r.stderr)
