"""Shared helpers for the Python binding's tests.

`async def` tests run under asyncio.run with a deadline (no plugin needed).
Everything goes over real loopback sockets on ports the kernel picks.
"""
import asyncio
import inspect
import os
import subprocess
import threading
import time

import pytest

TIMEOUT = 10.0  # seconds any single wait may take before the test fails


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}

        async def run():
            await asyncio.wait_for(pyfuncitem.obj(**args), 4 * TIMEOUT)

        asyncio.run(run())
        return True
    return None


async def expect(ep, kind, pred=None, timeout=TIMEOUT):
    """The next event of `kind` (and matching pred) from an endpoint iterated
    with asyncio; other events are skipped but shown if it never comes."""
    seen = []

    async def find():
        async for ev in ep:
            if ev.kind == kind and (pred is None or pred(ev)):
                return ev
            seen.append(ev)
        raise AssertionError(f"{ep!r} ended before a {kind} event; saw {seen}")

    try:
        return await asyncio.wait_for(find(), timeout)
    except asyncio.TimeoutError:
        raise AssertionError(f"no {kind} event from {ep!r} within {timeout}s; saw {seen}") from None


async def messages(ep, n, timeout=TIMEOUT):
    """The next n message events."""
    return [await expect(ep, "message", timeout=timeout) for _ in range(n)]


class Recorder:
    """Collects events delivered to callbacks (on the service thread) and lets
    the test thread wait for them."""

    def __init__(self):
        self.events = []
        self.threads = set()
        self.cv = threading.Condition()

    def __call__(self, ev):
        with self.cv:
            self.events.append(ev)
            self.threads.add(threading.get_ident())
            self.cv.notify_all()

    def wait(self, pred, timeout=TIMEOUT):
        """The first recorded event satisfying pred, waiting for it."""
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                for ev in self.events:
                    if pred(ev):
                        return ev
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out; events so far: {self.events}")
                self.cv.wait(left)

    def wait_kind(self, kind, timeout=TIMEOUT, n=1):
        self.wait(lambda _: sum(e.kind == kind for e in self.events) >= n, timeout)
        with self.cv:
            return [e for e in self.events if e.kind == kind][:n]

    def kinds(self):
        with self.cv:
            return [e.kind for e in self.events]


def wait_until(pred, timeout=TIMEOUT, what="condition"):
    """Polls a condition the test cannot await (e.g. a thread count)."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def fd_count():
    return len(os.listdir("/proc/self/fd"))


def thread_count():
    """Native threads of this process. Tests wait for it to fall back to (at
    most) what it was: a thread an earlier test's endpoint left ending may
    end meanwhile, so never wait for equality."""
    return len(os.listdir("/proc/self/task"))



@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, made with openssl (TLS tests skip without it)."""
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem"), "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return str(d / "cert.pem"), str(d / "key.pem")
