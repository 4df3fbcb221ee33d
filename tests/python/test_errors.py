"""Errors: ssews.Error with a code and a message that names the problem."""
import asyncio
import pickle
import socket

import pytest

import ssews
from conftest import expect


def error_of(fn, *args, **kwargs):
    with pytest.raises(ssews.Error) as err:
        fn(*args, **kwargs)
    return err.value


@pytest.mark.parametrize("kwargs, names", [
    ({"port": 70000}, ["port", "70000"]),
    ({"history": -1}, ["history"]),
    ({"queue_policy": "sometimes"}, ["queue_policy", "sometimes"]),
    ({"heartbeat": "soon"}, ["heartbeat", "soon"]),
    ({"no_such_option": 1}, ["no_such_option"]),
    ({"reconnect": False}, ["reconnect"]),        # a client option on a server
    ({"history": {"a": 1}}, ["history", "dict"]),  # not a value at all
])
def test_bad_server_option_is_named(kwargs, names):
    err = error_of(ssews.Server, **kwargs)
    assert err.code == ssews.ErrorCode.EOPTION == -2
    for name in names:
        assert name in str(err)


def test_url_on_a_server_and_server_options_on_a_client():
    err = error_of(ssews.Server, url="ws://127.0.0.1:1/")
    assert err.code == ssews.ErrorCode.EOPTION and "url" in str(err) and "Client" in str(err)
    err = error_of(ssews.Client, "ws://127.0.0.1:1/", history=5)
    assert err.code == ssews.ErrorCode.EOPTION and "history" in str(err)
    err = error_of(ssews.Client, "ws://127.0.0.1:1/", reconnect_delay_ms="fast")
    assert "reconnect_delay_ms" in str(err) and "fast" in str(err)


def test_bad_header_names_and_values():
    err = error_of(ssews.Client, "ws://127.0.0.1:1/", headers={"Bad:Name": "x"})
    assert err.code == ssews.ErrorCode.EOPTION and "Bad:Name" in str(err)
    err = error_of(ssews.Client, "ws://127.0.0.1:1/", headers={"X-Inject": "a\r\nEvil: 1"})
    assert err.code == ssews.ErrorCode.EOPTION and "header" in str(err)


def test_bad_urls():
    for url in ("ftp://example.com/", "not a url", "ws://"):
        err = error_of(ssews.Client, url)
        assert err.code in (ssews.ErrorCode.EURL, ssews.ErrorCode.EOPTION), url
    with pytest.raises(TypeError):
        ssews.Client(b"ws://127.0.0.1/")


def test_port_in_use_is_elisten():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        err = error_of(ssews.Server, port=port)
        assert err.code == ssews.ErrorCode.ELISTEN and str(port) in str(err)


async def test_call_errors_on_a_live_server():
    async with ssews.Server(max_message_size=1000) as server, \
            ssews.Client(server.url + "/sse") as reader:
        conn = (await expect(server, "open")).conn
        assert error_of(server.send, 987654, "x").code == ssews.ErrorCode.ENOCONN
        err = error_of(server.send, conn, b"binary")
        assert err.code == ssews.ErrorCode.EINVAL and "SSE" in str(err)
        assert error_of(server.publish, "", "x").code == ssews.ErrorCode.EINVAL
        assert error_of(server.publish, "c", "x" * 1001).code == ssews.ErrorCode.ETOOBIG
        assert error_of(server.publish, "c", "x", id="a\nb").code == ssews.ErrorCode.EINVAL
        assert error_of(server.close_conn, conn, 1234).code == ssews.ErrorCode.EINVAL
        assert error_of(server.reject, conn, 200).code == ssews.ErrorCode.EINVAL
        assert error_of(reader.send, "x").code == ssews.ErrorCode.ENOTSUP  # SSE clients only listen
        with pytest.raises(TypeError):
            server.publish("c", 42)
        with pytest.raises(TypeError):
            server.send("not a conn id", "x")
        with pytest.raises(UnicodeEncodeError):
            server.publish("c", "\udcff")  # a lone surrogate is not text
        with pytest.raises(ValueError):
            server.on("nonsense", print)
        with pytest.raises(TypeError):
            server.on("open", "not callable")


async def test_calls_after_close_raise_eclosed():
    server = ssews.Server()
    client = ssews.Client(server.ws_url + "/")
    await server.aclose()
    await client.aclose()
    await client.aclose()  # closing twice is fine
    server.close()
    assert server.closed and client.closed
    for call in (lambda: server.publish("c", "x"), lambda: server.send(1, "x"),
                 lambda: server.subscribe(1, "c"), lambda: client.send("x")):
        assert error_of(call).code == ssews.ErrorCode.ECLOSED
    assert server.next_event(timeout=0) is None
    assert "closed" in repr(server) and "closed" in repr(client)


async def test_connect_failure_is_told_by_events():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with ssews.Client(f"ws://127.0.0.1:{port}/", reconnect_delay_ms=20,
                            reconnect_max_attempts=2) as client:
        kinds = []
        async for ev in client:
            kinds.append(ev.kind)
            if ev.kind == "error":
                assert ev.code == ssews.ErrorCode.ECONNECT and ev.reason
            if ev.kind == "reconnecting":
                assert ev.code >= 1 and ev.delay_ms >= 0
        assert "open" not in kinds and kinds[-1] == "close" and "reconnecting" in kinds


def test_error_object():
    err = ssews.Error("option 'x': bad", ssews.ErrorCode.EOPTION)
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is ssews.Error and again.code == ssews.ErrorCode.EOPTION
    assert str(again) == "option 'x': bad" == again.message
    assert "EOPTION" in repr(err)
    assert ssews.Error("future", -99).code == -99  # codes newer than the package stay ints
    assert isinstance(err, Exception)


def test_exceptions_inside_asyncio_code_propagate():
    async def main():
        async with ssews.Server() as server:
            server.publish("c", b"")
            raise KeyError("mine")

    with pytest.raises(KeyError):
        asyncio.run(main())


def test_error_codes_are_the_c_librarys():
    # ErrorCode is built from the C library at import (ssews_err_name); it must
    # be SSEWS_ERRNO_MAP, in order, and so must the stub's copy for type checkers.
    import pathlib
    import re

    from ssews import _core
    root = pathlib.Path(__file__).resolve().parent.parent.parent
    header = (root / "capi/include/ssews.h.in").read_text()
    want = [(name, int(value), text) for name, value, text in re.findall(r'XX\((\w+), (-?\d+), "([^"]*)"\)', header)]
    assert len(want) >= 21
    assert [(m.name, m.value) for m in ssews.ErrorCode] == [(n, v) for n, v, _ in want]
    for name, value, text in want:
        assert _core.err_name(value) == "SSEWS_" + name
        assert _core.strerror(value) == text
    assert _core.err_name(min(ssews.ErrorCode) - 1) == "SSEWS_EUNKNOWN"
    assert _core.err_name(1) == "SSEWS_EUNKNOWN"
    stub = (root / "bindings/python/ssews/__init__.pyi").read_text()
    block = re.search(r"class ErrorCode\(enum.IntEnum\):\n((?:    .*\n)*)", stub).group(1)
    assert re.findall(r"^    (\w+) = (-?\d+)$", block, re.M) == [(n, str(v)) for n, v, _ in want]
