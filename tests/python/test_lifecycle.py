"""Lifecycle: no leaked threads or fds, closing from anywhere (callbacks,
finalizers, other threads, interpreter exit), the GIL, and help()."""
import asyncio
import gc
import pydoc
import socket
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import pytest

import ssews
from conftest import TIMEOUT, Recorder, expect, fd_count, thread_count, wait_until


def open_and_close_sync():
    rec = Recorder()
    server = ssews.Server(on_event=rec)
    pull = ssews.Client(server.ws_url + "/a")              # pull mode
    cb = ssews.Client(server.url + "/a", on_event=rec)     # callback mode, SSE
    assert pull.next_event(TIMEOUT).kind == "open"
    rec.wait_kind("open", n=3)
    server.publish("a", "x")
    assert pull.next_event(TIMEOUT).kind == "message"
    rec.wait_kind("message")
    pull.close()
    cb.close()
    server.close()


async def open_and_close_async():
    async with ssews.Server() as server, ssews.Client(server.ws_url + "/b") as ws, \
            ssews.Client(server.url + "/b") as sse:
        await expect(ws, "open")
        await expect(sse, "open")
        server.publish("b", "y")
        await expect(ws, "message")
        await expect(sse, "message")


def test_many_endpoints_leak_no_threads_or_fds():
    open_and_close_sync()  # warm up (lazy library state)
    asyncio.run(open_and_close_async())
    gc.collect()
    threads, fds = thread_count(), fd_count()
    for _ in range(40):
        open_and_close_sync()
    for _ in range(20):
        asyncio.run(open_and_close_async())
    wait_until(lambda: thread_count() <= threads, what=f"{threads} threads (now {thread_count()})")
    gc.collect()
    assert fd_count() == fds


def test_garbage_collected_endpoints_are_closed_with_a_resource_warning():
    gc.collect()  # (garbage of earlier tests may hold fds)
    threads, fds = thread_count(), fd_count()
    server = ssews.Server()
    port = server.port
    client = ssews.Client(server.ws_url + "/gc")
    assert client.next_event(TIMEOUT).kind == "open"
    with pytest.warns(ResourceWarning, match="unclosed"):
        del client
        gc.collect()
    with pytest.warns(ResourceWarning, match="unclosed <ssews.Server"):
        del server
        gc.collect()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT).close()
    assert (thread_count(), fd_count()) == (threads, fds)


def test_endpoint_in_a_reference_cycle_with_its_callback_is_collected():
    gc.collect()
    fds = fd_count()
    server = ssews.Server()

    @server.on("message")
    def echo(ev):
        server.send(ev.conn, ev.data)  # the callback refers to the server: a cycle

    with pytest.warns(ResourceWarning):
        del server, echo
        gc.collect()
    assert fd_count() == fds


def test_close_from_inside_its_own_callback():
    threads = thread_count()
    rec = Recorder()
    server = ssews.Server()
    server.on_event(rec)

    @server.on("message")
    def stop(ev):
        if ev.data == "stop":
            server.close()  # completes after this callback returns
            rec(ssews.Event("message", data=f"closed={server.closed}"))

    client_rec = Recorder()
    client = ssews.Client(server.ws_url + "/s", reconnect=False, on_event=client_rec)
    client_rec.wait_kind("open")
    client.send("stop")
    closed = client_rec.wait_kind("close")[0]
    assert "1001" in closed.reason or closed.code == 1001
    rec.wait_kind("close")  # the shutdown still reports the connection's close
    assert any(e.data == "closed=True" for e in rec.events)
    client.close()
    wait_until(lambda: thread_count() <= threads, what="the helper thread to finish")


def test_last_reference_dropped_inside_its_own_callback():
    threads = thread_count()
    holder = [ssews.Server()]
    url = holder[0].ws_url
    holder[0].on("message", lambda ev: holder.clear())  # frees the server inside its callback
    client_rec = Recorder()
    client = ssews.Client(url + "/d", reconnect=False, on_event=client_rec)
    client_rec.wait_kind("open")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        client.send("drop it")
        client_rec.wait_kind("close")
    assert holder == []
    client.close()
    wait_until(lambda: thread_count() <= threads, what="the server's threads to end")


def test_close_delivers_close_events_to_callbacks_without_deadlock():
    rec = Recorder()
    server = ssews.Server()
    server.on_event(rec)
    clients = [ssews.Client(server.ws_url + f"/{i}") for i in range(5)]
    rec.wait_kind("open", n=5)
    for c in clients:  # let each client finish its handshake too
        assert c.next_event(TIMEOUT).kind == "open"
    server.close()  # the service thread needs the GIL for each close event
    assert rec.kinds().count("close") == 5
    for c in clients:
        c.close()


def test_concurrent_closes_all_return_after_the_end():
    rec = Recorder()
    server = ssews.Server(on_event=rec)
    clients = [ssews.Client(server.ws_url + f"/{i}") for i in range(3)]
    for c in clients:
        assert c.next_event(TIMEOUT).kind == "open"
    rec.wait_kind("open", n=3)
    seen = []

    def closer():
        server.close()
        seen.append(rec.kinds().count("close"))  # every close event was delivered

    threads = [threading.Thread(target=closer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert seen == [3, 3, 3, 3]
    for c in clients:
        c.close()


def start_publishers(server, n=3):
    """n threads publishing as fast as they can until a call fails with anything
    but EFULL; returns them once each is in its loop, and the list their
    errors go to."""
    errors = []
    running = [threading.Event() for _ in range(n)]

    def publish(started):
        while True:
            try:
                server.publish("race", "x" * 100)
                started.set()
            except ssews.Error as e:
                if e.code != ssews.ErrorCode.EFULL:  # (a full queue: try again)
                    errors.append(e.code)
                    return

    threads = [threading.Thread(target=publish, args=(ev,)) for ev in running]
    for t in threads:
        t.start()
    for ev in running:
        assert ev.wait(TIMEOUT)  # every publisher is in its loop
    return threads, errors


def test_publishers_racing_with_close():
    server = ssews.Server()
    threads, errors = start_publishers(server)
    server.close()
    for t in threads:
        t.join(TIMEOUT)
        assert not t.is_alive()
    assert errors == [ssews.ErrorCode.ECLOSED] * 3



def test_close_from_its_own_callback_while_other_threads_publish():
    # The callback closes its server while three threads publish to it: each
    # gets the closed error (never a crash), so does the callback's own next
    # call, and a close() from another thread afterwards returns once the
    # shutdown's close event was delivered.
    threads = thread_count()
    rec = Recorder()
    server = ssews.Server(on_event=rec)
    after_close = []

    @server.on("message")
    def stop(ev):
        if ev.data == "stop":
            server.close()  # returns at once; the close completes after this callback
            try:
                server.publish("race", "after")
            except ssews.Error as e:
                after_close.append(e.code)

    publishers, errors = start_publishers(server)
    client_rec = Recorder()
    client = ssews.Client(server.ws_url + "/s", reconnect=False, on_event=client_rec)
    client_rec.wait_kind("open")
    client.send("stop")
    for t in publishers:
        t.join(TIMEOUT)
        assert not t.is_alive()
    assert errors == [ssews.ErrorCode.ECLOSED] * 3
    server.close()  # a second close, from another thread: waits for the end
    assert after_close == [ssews.ErrorCode.ECLOSED]
    assert rec.kinds().count("close") == 1
    closed = client_rec.wait_kind("close")[0]
    assert "1001" in closed.reason or closed.code == 1001
    client.close()
    wait_until(lambda: thread_count() <= threads, what="the server's threads to end")

def test_the_gil_is_released_while_blocked():
    server = ssews.Server()
    started = threading.Event()
    out = []

    def blocked():
        started.set()
        out.append(server.next_event(timeout=20))  # blocks in poll() without the GIL

    t = threading.Thread(target=blocked)
    t.start()
    started.wait()
    t0 = time.monotonic()
    n = 0
    for _ in range(2_000_000):  # pure Python work: needs the GIL
        n += 1
    assert time.monotonic() - t0 < 10 and t.is_alive()
    server.close()
    t.join(TIMEOUT)
    assert out == [None]


def test_context_managers_close():
    with ssews.Server() as server:
        assert not server.closed
    assert server.closed

    async def main():
        async with ssews.Server() as s, ssews.Client(s.ws_url) as c:
            assert not s.closed and not c.closed
        return s, c

    s, c = asyncio.run(main())
    assert s.closed and c.closed


def test_help_reads_well():
    text = " ".join(pydoc.render_doc(ssews.Server, renderer=pydoc.plaintext).replace("|", " ").split())
    for needle in ("WebSocket", "Server-Sent Events", "publish(", "channel: str", "async for ev in server",
                   "reject(", "close_conn(", "code: int = 1000", "docs/options.md", "history",
                   "on(", "ssews.Error", "Example::"):
        assert needle in text, needle
    assert "reconnect" in pydoc.render_doc(ssews.Client, renderer=pydoc.plaintext)
    assert "kind" in (ssews.Event.__doc__ or "")
    assert ssews.__doc__ and ssews.Server.publish.__doc__ and ssews.Client.send.__doc__


# -- interpreter exit with endpoints still open -----------------------------

EXIT_SCRIPTS = {
    "pull mode, connected peers": """
        server = ssews.Server()
        ws = ssews.Client(server.ws_url + "/x")
        sse = ssews.Client(server.url + "/x")
        assert ws.next_event(10).kind == "open" and sse.next_event(10).kind == "open"
        server.publish("x", "pending, never read")
    """,
    "callbacks busy at exit": """
        server = ssews.Server()
        @server.on("message")
        def echo(ev):
            server.send(ev.conn, ev.data)
        got = threading.Event()
        def again(ev):
            if ev.kind == "message":
                got.set()
                client.send(ev.data)  # ping-pong forever
        client = ssews.Client(server.ws_url + "/pp", on_event=again)
        client.send("ball")
        assert got.wait(10)
    """,
    "a slow callback running at exit": """
        entered = threading.Event()
        def slow(ev):
            entered.set()
            time.sleep(0.3)
        server = ssews.Server(on_event=slow)
        client = ssews.Client(server.url + "/slow")
        assert entered.wait(10)
    """,
    "a daemon thread publishing, endpoints in a cycle": """
        server = ssews.Server()
        server.on("open", lambda ev: server.subscribe(ev.conn, "z"))
        reader = ssews.Client(server.url + "/z", on_event=lambda ev: None)
        def pump():
            while True:
                try:
                    server.publish("z", "tick")
                except ssews.Error:
                    time.sleep(0.001)
        threading.Thread(target=pump, daemon=True).start()
        time.sleep(0.1)
    """,
    "a forked child exits, the parent's endpoints still open": """
        server = ssews.Server(on_event=lambda ev: None)
        client = ssews.Client(server.ws_url + "/f")
        assert client.next_event(10).kind == "open"
        pid = os.fork()
        if pid == 0:  # the child has the objects but not the service threads
            sys.exit(0)
        assert os.waitpid(pid, 0)[1] == 0
    """,
    "asyncio.run left endpoints open": """
        async def main():
            server = ssews.Server()
            client = ssews.Client(server.ws_url + "/a")
            async for ev in client:
                break
            return server, client
        keep = asyncio.run(main())
    """,
}


@pytest.mark.parametrize("name", list(EXIT_SCRIPTS))
def test_interpreter_exits_cleanly_with_endpoints_open(name):
    code = "import asyncio, os, sys, threading, time, ssews\n" + textwrap.dedent(EXIT_SCRIPTS[name]) + \
        "\nprint('end of script', flush=True)\n"
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-X", "dev", "-c", code], capture_output=True, text=True,
                       timeout=60)
    elapsed = time.monotonic() - t0
    assert p.returncode == 0, p.stderr
    assert p.stdout == "end of script\n"
    assert "Fatal" not in p.stderr and "Exception ignored" not in p.stderr and "Traceback" not in p.stderr, \
        p.stderr
    assert elapsed < 20
