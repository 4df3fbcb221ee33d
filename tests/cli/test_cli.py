"""The `ssews` command against peers written by others: the `websockets`
package (client and server) and raw HTTP/SSE servers that send exact bytes.

Run: SSEWS_BIN=build/tools/ssews python -m pytest tests/cli
"""
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest
import websockets

SSEWS = os.environ.get("SSEWS_BIN", os.path.join(os.path.dirname(__file__), "../../build/tools/ssews"))
TIMEOUT = 10


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """A running ssews command whose stdout lines can be awaited."""

    def __init__(self, *args, stdin=subprocess.DEVNULL):
        self.p = subprocess.Popen([SSEWS, *args], stdin=stdin, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, bufsize=1)
        self.lines = []
        self.cv = threading.Condition()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.p.stdout:
            with self.cv:
                self.lines.append(line.rstrip("\n"))
                self.cv.notify_all()
        with self.cv:
            self.lines.append(None)  # EOF
            self.cv.notify_all()

    def wait_line(self, pred, timeout=TIMEOUT):
        """The first unseen line satisfying pred (lines before it are consumed)."""
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                while self.lines:
                    line = self.lines.pop(0)
                    if line is None:
                        self.lines.insert(0, None)
                        raise AssertionError("ssews exited: " + self.p.stderr.read())
                    if pred(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("timed out waiting for a line")
                self.cv.wait(left)

    def json_event(self, kind):
        return json.loads(self.wait_line(lambda l: l.startswith("{") and json.loads(l)["type"] == kind))

    def stop(self, sig=signal.SIGTERM):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        return self.p.wait(TIMEOUT)


@pytest.fixture
def serve():
    procs = []

    def start(*args):
        port = free_port()
        p = Proc("serve", "--port", str(port), *args)
        line = p.wait_line(lambda l: "serving on" in l)
        assert f"http://127.0.0.1:{port}/" in line
        procs.append(p)
        return p, port

    yield start
    for p in procs:
        p.stop()


def read_sse(port, path, until, headers=""):
    """Reads an SSE stream with a plain socket until `until` appears."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n{headers}\r\n".encode())
        buf = b""
        while until.encode() not in buf:
            chunk = s.recv(65536)
            assert chunk, "stream ended early: %r" % buf
            buf += chunk
        return buf.decode()


# --------------------------------------------------------------------------
# ssews serve


def test_serve_echo_with_websockets_client(serve):
    _, port = serve("--echo")

    async def run():
        async with websockets.connect(f"ws://127.0.0.1:{port}/any", max_size=None) as ws:
            for msg in ["hello", "", "é" * 1000, b"\x00\x01\x02", b"", bytes(range(256)) * 4096]:
                await ws.send(msg)
                got = await asyncio.wait_for(ws.recv(), TIMEOUT)
                assert got == msg and type(got) is type(msg)

    asyncio.run(run())


def test_serve_chat_reaches_websocket_and_sse(serve):
    _, port = serve("--history", "10")
    result = {}

    def sse_reader():
        result["sse"] = read_sse(port, "/?channel=room", "data: hi all")

    t = threading.Thread(target=sse_reader)

    async def run():
        async with websockets.connect(f"ws://127.0.0.1:{port}/room") as a, \
                websockets.connect(f"ws://127.0.0.1:{port}/?channel=room") as b:
            t.start()
            await asyncio.sleep(0.2)  # the SSE reader subscribes (history would cover it anyway)
            await a.send("hi all")
            assert await asyncio.wait_for(a.recv(), TIMEOUT) == "hi all"
            assert await asyncio.wait_for(b.recv(), TIMEOUT) == "hi all"

    asyncio.run(run())
    t.join(TIMEOUT)
    assert "data: hi all\n" in result["sse"]
    assert "content-type: text/event-stream" in result["sse"].lower()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_exits_cleanly_on_signal(serve, sig):
    p, port = serve()
    ws_closed = {}

    async def run():
        async with websockets.connect(f"ws://127.0.0.1:{port}/x") as ws:
            p.p.send_signal(sig)
            try:
                await asyncio.wait_for(ws.recv(), TIMEOUT)
            except websockets.ConnectionClosed as e:
                ws_closed["code"] = e.rcvd.code if e.rcvd else None

    asyncio.run(run())
    assert p.p.wait(TIMEOUT) == 0
    assert ws_closed["code"] == 1001


def test_serve_rejects_bad_option(tmp_path):
    r = subprocess.run([SSEWS, "serve", "--option", "max_queue_bytes=lots"], capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert r.returncode != 0
    assert "max_queue_bytes" in r.stderr and "lots" in r.stderr


# --------------------------------------------------------------------------
# ssews connect


class RawSse:
    """An HTTP server answering each connection with the next canned response."""

    def __init__(self, responses):
        self.responses = list(responses)
        self.requests = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while self.responses:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                req = b""
                while b"\r\n\r\n" not in req:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    req += chunk
                self.requests.append(req.decode())
                body, hold = self.responses.pop(0)
                conn.sendall(body)
                time.sleep(hold)

    def close(self):
        self.sock.close()


SSE_OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"


def test_connect_json_sse_lines_and_reconnect():
    srv = RawSse([
        (SSE_OK + b"retry: 100\n\nid: 7\nevent: price\ndata: 1.5\ndata: 2\n\ndata: x", 0),
        (SSE_OK + b"data: again\n\n", 0.5),
        (b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", 0),
    ])
    p = Proc("connect", "--json", "--header", "Authorization: Bearer abc", f"http://127.0.0.1:{srv.port}/feed")
    assert p.json_event("open") == {"type": "open"}
    assert p.json_event("message") == {"type": "message", "event": "price", "data": "1.5\n2", "id": "7"}
    rec = p.json_event("reconnecting")
    # The server's retry (100 ms), jittered by +-20% like every delay.
    assert rec["type"] == "reconnecting" and rec["attempt"] == 1 and 80 <= rec["delay_ms"] <= 120
    assert p.json_event("message") == {"type": "message", "event": "message", "data": "again", "id": "7"}
    close = p.json_event("close")
    assert close["type"] == "close" and isinstance(close["code"], int) and "204" in close["reason"]
    assert p.p.wait(TIMEOUT) == 0
    assert "authorization: bearer abc" in srv.requests[0].lower()
    assert "last-event-id: 7" in srv.requests[1].lower()
    srv.close()


def test_connect_fails_for_good_on_http_error():
    srv = RawSse([(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", 0)])
    p = Proc("connect", "--json", f"http://127.0.0.1:{srv.port}/")
    err = p.json_event("error")
    assert "503" in err["message"]
    p.json_event("close")
    assert p.p.wait(TIMEOUT) == 1
    srv.close()


def test_connect_no_reconnect_exits_at_stream_end():
    srv = RawSse([(SSE_OK + b"data: only\n\n", 0)])
    p = Proc("connect", f"http://127.0.0.1:{srv.port}/", "--no-reconnect")
    assert p.wait_line(lambda l: True) == "only"
    assert p.p.wait(TIMEOUT) == 0
    srv.close()


# A server that declines every subprotocol, and one that selects ssews.v1
# when offered (as any server accepting the first offer does) without
# speaking it: either way `ssews connect` prints the plain messages.
@pytest.mark.parametrize("subprotocols", [None, ["ssews.v1"]], ids=["declines", "selects-ssews.v1"])
def test_connect_json_against_websockets_server(subprotocols):
    port = free_port()
    ready = threading.Event()
    stop = threading.Event()
    selected = []

    async def handler(ws):
        selected.append(ws.subprotocol)
        async for msg in ws:
            await ws.send(msg)  # echo
            await ws.send(b"\x00\xffbin")

    def server():
        async def main():
            async with websockets.serve(handler, "127.0.0.1", port, subprotocols=subprotocols):
                ready.set()
                while not stop.is_set():
                    await asyncio.sleep(0.05)

        asyncio.run(main())

    t = threading.Thread(target=server, daemon=True)
    t.start()
    assert ready.wait(TIMEOUT)
    p = Proc("connect", "--json", f"ws://127.0.0.1:{port}/", stdin=subprocess.PIPE)
    assert p.json_event("open") == {"type": "open"}
    p.p.stdin.write("hello \"world\"\n")
    p.p.stdin.flush()
    assert p.json_event("message") == {"type": "message", "event": "message", "data": "hello \"world\"", "id": ""}
    assert p.json_event("message") == {"type": "message", "event": "message", "data_base64": "AP9iaW4=", "id": ""}
    assert selected == [subprotocols[0] if subprotocols else None]
    stop.set()
    t.join(TIMEOUT)
    p.json_event("reconnecting")  # the server went away (1001): the client retries
    assert p.stop(signal.SIGINT) == 0


ROOT = os.path.join(os.path.dirname(__file__), "..", "..")

# Node's `ws` with its defaults: it selects the first subprotocol offered.
NODE_WS_ECHO = """
const { WebSocketServer } = require('ws');
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
wss.on('listening', () => console.log(wss.address().port));
wss.on('connection', (sock) => {
  sock.send('selected ' + sock.protocol);
  sock.on('message', (data, isBinary) => sock.send(data, { binary: isBinary }));
});
"""


def node_with_ws():
    try:
        r = subprocess.run(["node", "-e", "require.resolve('ws')"], cwd=ROOT, capture_output=True, timeout=TIMEOUT)
    except FileNotFoundError:
        return False
    return r.returncode == 0


def wait_listening(port):
    """Until the port accepts a TCP connection (a child server has no other
    way to say it is ready)."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.02)
    raise AssertionError(f"nothing listens on {port}")


def connect_and_echo(url, greeting=None):
    p = Proc("connect", "--json", url, stdin=subprocess.PIPE)
    try:
        assert p.json_event("open") == {"type": "open"}
        if greeting:
            assert p.json_event("message")["data"] == greeting
        p.p.stdin.write("echo me\n")
        p.p.stdin.flush()
        assert p.json_event("message")["data"] == "echo me"
        return p.stop(signal.SIGINT)
    finally:
        if p.p.poll() is None:
            p.p.kill()
        p.p.wait(TIMEOUT)


@pytest.mark.skipif(not node_with_ws() and not os.environ.get("CI"),
                    reason="node with the ws package (npm ci) is needed")
def test_connect_against_default_node_ws_server():
    srv = subprocess.Popen(["node", "-e", NODE_WS_ECHO], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        port = int(srv.stdout.readline())
        # ws selected ssews.v1; the client still reads its plain messages.
        assert connect_and_echo(f"ws://127.0.0.1:{port}/", greeting="selected ssews.v1") == 0
    finally:
        srv.kill()
        srv.wait(TIMEOUT)


@pytest.fixture(scope="module")
def gorilla(tmp_path_factory):
    """bench/peers/go_gorilla built for the test (go fetches gorilla/websocket
    through the module proxy unless it is cached)."""
    out = str(tmp_path_factory.mktemp("gorilla") / "go_gorilla")
    try:
        r = subprocess.run(["go", "build", "-o", out, "."], cwd=os.path.join(ROOT, "bench/peers/go_gorilla"),
                           capture_output=True, text=True, timeout=300)
    except (FileNotFoundError, subprocess.TimeoutExpired):
        pytest.skip("go is needed")
    if r.returncode != 0:
        pytest.skip("go build failed: " + r.stderr[-300:])
    return out


def test_connect_against_go_gorilla_echo(gorilla):
    port = free_port()
    srv = subprocess.Popen([gorilla, "-host", "127.0.0.1", "-port", str(port), "-echo"])
    try:
        wait_listening(port)
        assert connect_and_echo(f"ws://127.0.0.1:{port}/") == 0
    finally:
        srv.kill()
        srv.wait(TIMEOUT)


def test_connect_bad_url_exits_nonzero():
    r = subprocess.run([SSEWS, "connect", "ftp://example/"], capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 1 and "scheme" in r.stderr
    r = subprocess.run([SSEWS, "connect"], capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 2


# --------------------------------------------------------------------------
# ssews serve: the publish endpoint's answers (issue 15, bugs 2 and 14)


def raw_http(port, request: bytes):
    """Sends request as it is; returns (status, body) once the body is read."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
        s.sendall(request)
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            assert chunk, "no answer: %r" % buf
            buf += chunk
        head, body = buf.split(b"\r\n\r\n", 1)
        length = next(int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:"))
        while len(body) < length:
            chunk = s.recv(65536)
            assert chunk, "body cut short"
            body += chunk
        return int(head.split()[1]), body


def publish_raw(port, query, content_length="1", body=b"x"):
    return raw_http(port, f"POST /publish?{query} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\n"
                          f"Content-Length: {content_length}\r\n\r\n".encode() + body)


def test_serve_publish_answers_are_json_naming_the_problem(serve):
    _, port = serve("--publish-token", "tok")
    status, body = publish_raw(port, "channel=c&id=a%22b%5C")
    assert status == 200
    assert json.loads(body) == {"id": 'a"b\\', "subscribers": 0}
    for query, length, want in [
        ("channel=c%0D%0Ax", "1", "CR or LF"),
        ("channel=c", "abc", "Content-Length is not a decimal number"),
        ("channel=c&event=%FF", "1", "'event' is not valid UTF-8"),
        ("channel=c&id=%ED%A0%80", "1", "'id' is not valid UTF-8"),
        ("channel=" + "c" * 1200, "1", "'channel' is longer than 1024 bytes"),
    ]:
        status, body = publish_raw(port, query, length)
        assert status == 400, (query, body)
        assert want in json.loads(body)["error"], (query, body)
    # A long argument before the channel hides nothing.
    status, body = publish_raw(port, "pad=" + "p" * 3000 + "&channel=c&id=later")
    assert status == 200 and json.loads(body)["id"] == "later", body


def test_serve_upgrade_value_is_case_insensitive(serve):
    _, port = serve()
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
        s.sendall(b"GET /c HTTP/1.1\r\nHost: x\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(4096)
            assert chunk, buf
            buf += chunk
        assert buf.startswith(b"HTTP/1.1 101 "), buf


# --------------------------------------------------------------------------
# ssews serve: request heads lws 4.1.6 dropped without a word (issue 15 #16)


@pytest.mark.parametrize("head, status, want", [
    (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", 431, b"max_header_size (8192 bytes)"),
    (b"GET / HTTP/1.1\r\n" + b"Zz: b\r\n" * 10000 + b"\r\n", 431, b"more than 100 header lines"),
    (b"GET /%00 HTTP/1.1\r\nHost: x\r\n\r\n", 400, b"%00 in the request target"),
    (b"GET / HTTP/1.1\r\nHost: x\r\nX-Thing: a\x00b\r\n\r\n", 400, b"NUL byte"),
    (b"GET / HTTP/1.1\r\nHost: x\rInjected: 1\r\n\r\n", 400, b"CR not followed by LF"),
    (b"GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\r\n", 400, b"'X-A'"),
])
def test_serve_answers_bad_request_heads_at_once(serve, head, status, want):
    _, port = serve()
    start = time.monotonic()
    got, body = raw_http(port, head)
    assert (got, want in body) == (status, True), body
    assert body.count(b"\n") == 1 and body.endswith(b"\n"), body
    assert time.monotonic() - start < 2  # handshake_timeout is 10 s


@pytest.mark.skipif(not shutil.which("curl"), reason="no curl")
def test_serve_big_head_is_431_for_curl(serve):
    _, port = serve()
    r = subprocess.run(["curl", "-sS", "--max-time", "5", "-o", "-", "-w", "%{http_code}", "-H",
                        "X-Big: " + "a" * 9000, f"http://127.0.0.1:{port}/"],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr  # curl said "Empty reply from server" before
    assert r.stdout.endswith("431"), r.stdout
    assert "max_header_size" in r.stdout


# --------------------------------------------------------------------------
# ssews serve: limits per client address (issue 16)


def curl_status(port, source="127.0.0.1"):
    """curl's GET / from a source address: (status, Retry-After or None, body)."""
    r = subprocess.run(["curl", "-sS", "--max-time", "5", "--interface", source, "-D", "-", "-o", "-",
                        f"http://127.0.0.1:{port}/"], capture_output=True, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    head, _, body = r.stdout.decode().partition("\r\n\r\n")  # bytes: text mode would fold the CRLFs
    retry = next((l.split(":", 1)[1].strip() for l in head.split("\r\n") if l.lower().startswith("retry-after:")),
                 None)
    return int(head.split()[1]), retry, body


@pytest.mark.skipif(not shutil.which("curl"), reason="no curl")
def test_serve_max_connections_per_ip(serve):
    _, port = serve("--max-connections-per-ip", "1")

    async def main():
        async with websockets.connect(f"ws://127.0.0.1:{port}/held"):
            held = curl_status(port)
            elsewhere = curl_status(port, "127.0.0.2")
        return held, elsewhere

    (status, retry, body), (other, _, _) = asyncio.run(main())
    assert (status, "max_connections_per_ip (1)" in body) == (429, True), body
    assert retry and int(retry) >= 1
    assert other == 404  # another address is not held back


@pytest.mark.skipif(not shutil.which("curl"), reason="no curl")
def test_serve_handshake_rate_per_ip(serve):
    _, port = serve("--handshake-rate-per-ip", "1", "--option", "handshake_burst_per_ip=2")
    assert [curl_status(port)[0] for _ in range(2)] == [404, 404]
    status, retry, body = curl_status(port)
    assert (status, "handshake_rate_per_ip (1/s, burst 2)" in body) == (429, True), body
    assert retry == "1"
    assert curl_status(port, "127.0.0.2")[0] == 404


def test_serve_slow_loris_leaves_room_for_others(serve):
    """Slow heads from one address take only its share; another address is answered at once."""
    _, port = serve("--option", "max_pending_heads_per_ip=8")
    slow = []
    try:
        for _ in range(8):
            s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
            s.sendall(b"GET / HTTP/1.1\r\nHo")
            slow.append(s)
        got, body = raw_http(port, b"GET / HTTP/1.1\r\nX-Slow: 1")  # a ninth slow head from the same address
        assert (got, b"max_pending_heads_per_ip (8)" in body) == (429, True), body
        with socket.socket() as c:
            c.settimeout(TIMEOUT)
            c.bind(("127.0.0.2", 0))
            c.connect(("127.0.0.1", port))
            start = time.monotonic()
            c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert c.recv(64).startswith(b"HTTP/1.1 404")
            assert time.monotonic() - start < 2
    finally:
        for s in slow:
            s.close()


# ssews connect: POST streams and binary over SSE (issue 19)


class PostSse:
    """A third-party SSE server (Python's http.server) that starts a stream
    only for a POST, as streaming APIs do: 405 for a GET. Each stream sends
    what it received as one event, then `event: binary` (from this generic
    server it is text), then ends."""

    def __init__(self):
        import http.server

        outer = self
        self.requests = []

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                self.send_response(405)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                seen = {"content_type": self.headers.get_all("Content-Type"),
                        "accept": self.headers.get_all("Accept"),
                        "last_event_id": self.headers.get("Last-Event-ID"), "body": body.decode()}
                outer.requests.append(seen)
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                n = len(outer.requests)
                self.wfile.write(f"retry: 50\nid: {n}\ndata: {json.dumps(seen)}\n\nevent: binary\ndata: AAEC\n\n"
                                 .encode())
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_connect_post_stream_with_json_body_is_not_repeated():
    srv = PostSse()
    p = Proc("connect", "--json", "--data", '{"prompt":"hi"}', "--header", "Content-Type: application/json",
             f"http://127.0.0.1:{srv.port}/v1/complete")
    assert p.json_event("open") == {"type": "open"}
    got = json.loads(p.json_event("message")["data"])
    # The user's Content-Type replaced the default one: one header, theirs.
    assert got == {"content_type": ["application/json"], "accept": ["text/event-stream"],
                   "last_event_id": None, "body": '{"prompt":"hi"}'}
    # A generic server's `event: binary` is text: only an ssews server's is bytes.
    assert p.json_event("message") == {"type": "message", "event": "binary", "data": "AAEC", "id": "1"}
    close = p.json_event("close")
    assert "not repeated unless reconnect_non_idempotent" in close["reason"]
    assert p.p.wait(TIMEOUT) == 0
    assert len(srv.requests) == 1
    srv.close()


def test_connect_post_stream_resent_when_asked():
    srv = PostSse()
    p = Proc("connect", "--json", "--method", "POST", "--data", "q=1", "--option", "reconnect_non_idempotent=true",
             "--option", "content_type=application/x-www-form-urlencoded", f"http://127.0.0.1:{srv.port}/")
    first = json.loads(p.json_event("message")["data"])
    assert p.json_event("reconnecting")["attempt"] == 1
    second = json.loads(p.json_event("message")["data"])
    assert p.stop(signal.SIGINT) == 0
    assert first == {"content_type": ["application/x-www-form-urlencoded"], "accept": ["text/event-stream"],
                     "last_event_id": None, "body": "q=1"}
    # The same request again, resuming after the last id seen.
    assert second == dict(first, last_event_id="1")
    srv.close()


def test_connect_get_to_post_only_server_fails_for_good():
    srv = PostSse()
    p = Proc("connect", "--json", f"http://127.0.0.1:{srv.port}/")
    assert "405" in p.json_event("error")["message"]
    assert p.p.wait(TIMEOUT) == 1
    srv.close()


def test_connect_refuses_a_body_with_get():
    r = subprocess.run([SSEWS, "connect", "--method", "GET", "--data", "x", "http://127.0.0.1:1/"],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 1 and "option 'body'" in r.stderr and "GET" in r.stderr


def test_connect_gets_binary_from_ssews_serve_as_bytes(serve):
    _, port = serve("--publish-token", "tok", "--history", "10")
    payload = bytes([0, 1, 2, 255, 10, 13])
    req = (b"POST /publish?channel=c HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\n"
           b"Content-Type: application/octet-stream\r\nContent-Length: 6\r\n\r\n" + payload)
    assert raw_http(port, req)[0] == 200
    p = Proc("connect", "--json", "--option", "last_event_id=old-0", f"http://127.0.0.1:{port}/c")
    m = p.json_event("message")
    assert m["event"] == "binary" and "data" not in m
    import base64
    assert base64.b64decode(m["data_base64"]) == payload
    # A text message may not take the name that means "base64 of bytes".
    status, body = raw_http(port, b"POST /publish?channel=c&event=binary HTTP/1.1\r\nHost: x\r\n"
                                  b"Authorization: Bearer tok\r\nContent-Length: 4\r\n\r\nAQI=")
    assert status == 400 and "reserved" in json.loads(body)["error"]
    assert p.stop(signal.SIGINT) == 0
