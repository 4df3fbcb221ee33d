"""Logs and request events (issue 18): an endpoint's log lines reach its own
on_log callback with their level, and request events (request_events option)
tell of HTTP requests that did not become a stream. Over loopback."""
import threading
import time
import urllib.error
import urllib.request

import pytest

import ssews
from conftest import TIMEOUT, expect


def get(url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


class Lines:
    """What a log callback got, with a way to wait for a line."""

    def __init__(self):
        self.lines = []
        self.cv = threading.Condition()

    def __call__(self, level, message):
        with self.cv:
            self.lines.append((level, message))
            self.cv.notify_all()

    def wait_for(self, needle):
        deadline = time.monotonic() + TIMEOUT
        with self.cv:
            while True:
                for level, message in self.lines:
                    if needle in message:
                        return level, message
                left = deadline - time.monotonic()
                assert left > 0, f"no log line with {needle!r}; got {self.lines[-20:]}"
                self.cv.wait(left)


def test_log_lines_reach_each_endpoint_once():
    a_lines, b_lines = Lines(), Lines()
    # libwebsockets says "Method: 'GET' (0), request for '/path'" at info.
    with ssews.Server(log_level="info", on_log=a_lines) as a, ssews.Server(log_level="info") as b:
        b.on_log(b_lines)
        assert get(a.url + "/only-for-a") == 404
        assert get(b.url + "/only-for-b") == 404
        level, _ = a_lines.wait_for("request for '/only-for-a'")
        assert level == "info"
        b_lines.wait_for("request for '/only-for-b'")
        assert not any("only-for-b" in m for _, m in a_lines.lines)
        assert not any("only-for-a" in m for _, m in b_lines.lines)
        # None: back to stderr; the callable is not called once on_log returns.
        b.on_log(None)
        n = len(b_lines.lines)
        assert get(b.url + "/after") == 404
        assert get(b.url + "/after") == 404
        assert len(b_lines.lines) == n
    assert all(level in ("error", "warn", "notice", "info") for level, _ in a_lines.lines)
    n = len(a_lines.lines)
    time.sleep(0.05)
    assert len(a_lines.lines) == n  # nothing after close


def test_log_level_filters_and_errors():
    lines = Lines()
    with ssews.Server(log_level="error", on_log=lines) as s:
        assert get(s.url + "/quiet") == 404
        with pytest.raises(TypeError):
            s.on_log(42)
    assert not any("quiet" in m for _, m in lines.lines)
    with pytest.raises(ssews.Error) as e:
        s.on_log(lines)
    assert e.value.code == ssews.ErrorCode.ECLOSED


def test_log_callback_exception_is_reported(monkeypatch):
    got = []
    monkeypatch.setattr("sys.unraisablehook", lambda u: got.append(u.exc_value))

    def boom(level, message):
        raise RuntimeError("from the log callback")

    with ssews.Server(log_level="info", on_log=boom) as s:
        assert get(s.url + "/x") == 404
        deadline = time.monotonic() + TIMEOUT
        while not got and time.monotonic() < deadline:
            time.sleep(0.01)
    assert got and isinstance(got[0], RuntimeError)


async def test_request_events_for_publish_and_static(tmp_path):
    (tmp_path / "a.txt").write_text("hello\n")
    async with ssews.Server(request_events=True, publish_token="t", static_dir=str(tmp_path)) as s:
        assert get(s.url + "/publish?channel=c&authorization=x", b"hi", {"Authorization": "Bearer t"}) == 200
        ev = await expect(s, "request")
        assert (ev.method, ev.path, ev.query, ev.code) == ("POST", "/publish", "channel=c&authorization=x", 200)
        assert ev.peer == "127.0.0.1" and ev.conn == 0
        assert set(ev.stats) == {"duration_ms", "bytes_in", "bytes_out"} and ev.stats["bytes_in"] >= 2
        assert get(s.url + "/a.txt") == 200
        ev = await expect(s, "request")
        assert (ev.method, ev.path, ev.code) == ("GET", "/a.txt", 200)
        assert ev.stats["bytes_out"] >= 6
        assert get(s.url + "/missing") == 404
        ev = await expect(s, "request")
        assert (ev.path, ev.code) == ("/missing", 404)
    assert "request" in ssews.KINDS
