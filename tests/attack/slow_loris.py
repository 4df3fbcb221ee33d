# Attack 16: slow-loris. N connections each send a request head one byte every INTERVAL seconds
# (and reconnect when cut), from 127.0.0.1 or, with --addresses K, spread over K addresses
# 127.0.1.1... (Linux routes all of 127/8 to loopback); meanwhile a legitimate client asks for a
# WebSocket upgrade once a second from 127.0.0.1 and from 127.0.0.2, and the time each took to
# be answered (101, or a refusal) is printed.
# Usage: slow_loris.py SSEWS_BINARY [--connections N] [--interval S] [--seconds S] [--addresses K]
#                      [--option key=value]...
import argparse
import selectors
import socket
import statistics
import time

from serve import Server

ap = argparse.ArgumentParser()
ap.add_argument("binary")
ap.add_argument("--connections", type=int, default=2000)
ap.add_argument("--interval", type=float, default=5.0)
ap.add_argument("--seconds", type=float, default=30.0)
ap.add_argument("--addresses", type=int, default=1)
ap.add_argument("--option", action="append", default=[])
a = ap.parse_args()
n, interval, seconds = a.connections, a.interval, a.seconds
srv = Server(a.binary, [x for kv in a.option for x in ("--option", kv)])
sources = ["127.0.0.1"] if a.addresses == 1 else [f"127.0.{1 + i // 250}.{1 + i % 250}" for i in range(a.addresses)]

HEAD = b"GET /c HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 4000 + b"\r\n\r\n"
sel = selectors.DefaultSelector()
slow = {}  # socket -> bytes sent
cuts = 0


opened = 0


def open_slow():
    global opened
    s = socket.socket()
    s.bind((sources[opened % len(sources)], 0))
    opened += 1
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", srv.port))
    except BlockingIOError:
        pass
    slow[s] = 0
    sel.register(s, selectors.EVENT_READ)


def drip():
    global cuts
    for s in list(slow):
        try:
            s.send(HEAD[slow[s]:slow[s] + 1])
            slow[s] += 1
        except OSError:
            pass
    for key, _ in sel.select(0):  # an answer (408, 429, 503) or a close: that slot is cut; reconnect
        s = key.fileobj
        sel.unregister(s)
        s.close()
        del slow[s]
        cuts += 1
        open_slow()


def legit(src):
    """Seconds until a WebSocket upgrade sent from src is answered, and the status (None: none)."""
    t0 = time.monotonic()
    c = socket.socket()
    c.settimeout(20)
    try:
        c.bind((src, 0))
        c.connect(("127.0.0.1", srv.port))
        c.sendall(b"GET /c HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        head = c.recv(4096)
        status = int(head.split()[1]) if head else None
    except OSError:
        status = None
    c.close()
    return time.monotonic() - t0, status


for _ in range(n):
    open_slow()
times = {"127.0.0.1": [], "127.0.0.2": []}
statuses = {"127.0.0.1": {}, "127.0.0.2": {}}
start = time.monotonic()
next_drip = start
next_probe = start + 2 * interval  # the attack is under way: every slow connection has sent bytes
while time.monotonic() - start < seconds:
    now = time.monotonic()
    if now >= next_drip:
        drip()
        next_drip += interval
    if now >= next_probe:
        # Probes are sequential and each can wait: the attack keeps dripping meanwhile only
        # between probes, which is what a single-threaded attacker would do anyway.
        for src in times:
            t, st = legit(src)
            times[src].append(t)
            statuses[src][st] = statuses[src].get(st, 0) + 1
        next_probe = time.monotonic() + 1
    time.sleep(0.05)

print(f"{n} slow connections from {len(sources)} address(es), 1 byte every {interval:g} s, {seconds:g} s; "
      f"{cuts} cut by the server; "
      f"server RSS {srv.rss_kb()} kB")
for src, ts in times.items():
    if ts:
        print(f"  legitimate client from {src}: {len(ts)} upgrades, answered in median "
              f"{statistics.median(ts) * 1000:.0f} ms, max {max(ts) * 1000:.0f} ms; statuses {statuses[src]}")
srv.stop()
