"""A real redis-server (Debian's) for the broker tests of tests/cli and
tests/python: started on a free loopback port in a directory of its own,
stopped and restarted at will."""
import shutil
import signal
import socket
import subprocess

import pytest

TIMEOUT = 10


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    """A redis-server on a free port, in a directory of its own."""

    def __init__(self, tmp_path, aof=False, extra=()):
        self.port = _free_port()
        self.dir = tmp_path
        self.aof = aof
        self.extra = list(extra)
        self.url = f"redis://127.0.0.1:{self.port}"
        self.start()

    def start(self, wait=True):
        self.p = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--save", "", "--appendonly", "yes" if self.aof else "no", "--logfile", "", *self.extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if not wait:  # up, but perhaps still loading its data
            for line in self.p.stdout:
                if "Loading" in line or "Ready to accept" in line:
                    break
            self.p.stdout.close()
            return
        for line in self.p.stdout:  # its log says when it is ready: no sleep
            if "Ready to accept connections" in line:
                break
        else:
            raise AssertionError("redis-server did not start")
        # Its log goes on into the pipe: let it run to nowhere.
        self.p.stdout.close()

    def cmd(self, *args):
        """One command through redis-cli; its answer."""
        return subprocess.run(["redis-cli", "-p", str(self.port), *args], capture_output=True, text=True,
                              timeout=60, check=True).stdout.strip()

    def stop(self, sig=signal.SIGTERM):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        self.p.wait(TIMEOUT)


# For test modules: `pytestmark = needs_redis`, and `redis` as a fixture.
needs_redis = pytest.mark.skipif(shutil.which("redis-server") is None,
                                 reason="redis-server is not installed (scripts/setup.sh)")


@pytest.fixture
def redis(tmp_path):
    """A fresh redis-server for one test, killed after it."""
    r = Redis(tmp_path)
    yield r
    r.stop(signal.SIGKILL)
