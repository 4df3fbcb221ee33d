#!/usr/bin/env python3
"""The reconnect storm after a restart, with and without drain_timeout.

N WebSocket clients hold connections to `ssews serve`; the server gets
SIGTERM and a new one starts on the same port as soon as the port is free.
Each client reconnects as naive clients do: at once when its connection
ends, and every 50 ms while the port refuses. The figure is the peak of
handshakes completed per 100 ms after the restart (client side: the 101
read), and how long until every client was back.

  python3 bench/drain/reconnect_storm.py [--clients 5000] [--window 5]
      [--ssews build/tools/ssews]

It runs twice: drain_timeout 0 (every peer closed at once, 1001) and
drain_timeout WINDOW (closes, 1012, spread over the window). The clients
are raw asyncio sockets with a fixed handshake (no per-frame work), so the
client side costs little next to the server's handshakes."""
import argparse
import asyncio
import base64
import os
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RETRY_S = 0.05


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(binary, port, window):
    # Every client comes from 127.0.0.1: the per-address limits (256
    # connections, 100 handshakes/s) would refuse the storm this measures.
    args = [binary, "serve", "--port", str(port), "--option", "max_connections=20000",
            "--max-connections-per-ip", "0", "--handshake-rate-per-ip", "0"]
    if window:
        args += ["--drain-timeout", str(window)]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_serving(p):
    line = p.stdout.readline()
    return "serving on" in line


class Storm:
    def __init__(self, port, n):
        self.port = port
        self.n = n
        self.connected = 0
        self.restart_at = None  # monotonic time of the SIGTERM
        self.back = []          # handshake times after the restart
        self.all_up = asyncio.Event()
        self.all_back = asyncio.Event()
        self.key = base64.b64encode(os.urandom(16)).decode()

    async def handshake(self):
        r, w = await asyncio.open_connection("127.0.0.1", self.port)
        w.write((f"GET /storm HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 f"Sec-WebSocket-Key: {self.key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = await r.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            w.close()
            raise ConnectionError(head.split(b"\r\n", 1)[0].decode())
        return r, w

    async def client(self):
        first = True
        while True:
            try:
                r, w = await self.handshake()
            except (OSError, asyncio.IncompleteReadError, ConnectionError):
                await asyncio.sleep(RETRY_S)
                continue
            if first:
                first = False
                self.connected += 1
                if self.connected == self.n:
                    self.all_up.set()
            else:
                self.back.append(time.monotonic())
                if len(self.back) == self.n:
                    self.all_back.set()
                await asyncio.Event().wait()  # back: stay connected until the run ends
            # Wait for the server's close frame (nothing else is sent) or EOF.
            try:
                data = await r.read(64)
                if data[:1] == b"\x88":
                    w.write(b"\x88\x80\x00\x00\x00\x00")  # our close, masked, empty
                    await w.drain()
            except OSError:
                pass
            w.close()


async def run_once(binary, n, window):
    port = free_port()
    a = start_server(binary, port, window)
    assert wait_serving(a), a.stderr.read()
    storm = Storm(port, n)
    tasks = []
    for i in range(n):
        tasks.append(asyncio.create_task(storm.client()))
        if i % 200 == 199:
            await asyncio.sleep(0.05)  # a ramp: the first connects are not what is measured
    await asyncio.wait_for(storm.all_up.wait(), 120)

    storm.restart_at = time.monotonic()
    a.send_signal(signal.SIGTERM)
    b = None
    while b is None:  # the new server, as soon as the old one stopped listening
        p = start_server(binary, port, window)
        if wait_serving(p):
            b = p
        else:
            p.wait()
            await asyncio.sleep(0.01)
    b_up = time.monotonic() - storm.restart_at
    try:
        await asyncio.wait_for(storm.all_back.wait(), 3 * window + 60)
    except asyncio.TimeoutError:
        pass
    a_rc = a.wait(30)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    b.send_signal(signal.SIGTERM)
    b.wait(30)

    buckets = {}
    for t in storm.back:
        k = int((t - storm.restart_at) * 10)
        buckets[k] = buckets.get(k, 0) + 1
    peak = max(buckets.values()) if buckets else 0
    last = (max(storm.back) - storm.restart_at) if storm.back else float("nan")
    if os.environ.get("STORM_HIST"):
        print(sorted(buckets.items()), file=sys.stderr)
    return {"window": window, "clients": n, "back": len(storm.back), "peak_per_100ms": peak,
            "all_back_s": round(last, 2), "new_server_up_s": round(b_up, 3), "old_exit": a_rc}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=5000)
    ap.add_argument("--window", type=int, default=5)
    ap.add_argument("--ssews", default=os.path.join(ROOT, "build", "tools", "ssews"))
    args = ap.parse_args()
    for window in (0, args.window):
        res = asyncio.run(run_once(args.ssews, args.clients, window))
        label = f"drain_timeout {window}" if window else "no drain (1001 at once)"
        print(f"{label:24}: {res['back']}/{res['clients']} back, peak {res['peak_per_100ms']} handshakes "
              f"per 100 ms, all back after {res['all_back_s']} s (new server up after "
              f"{res['new_server_up_s']} s, old one exited {res['old_exit']})", flush=True)


if __name__ == "__main__":
    sys.exit(main())
