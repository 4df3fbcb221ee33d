# Attack 12: 40 connections each holding an unfinished 15 MB WebSocket message; prints server RSS.
# Usage: partial_messages.py SSEWS_BINARY
import struct
import sys
import time

from serve import Server

srv = Server(sys.argv[1])
size = 15 * 1024 * 1024
frame = bytes([0x01, 0x80 | 127]) + struct.pack(">Q", size) + b"\0\0\0\0" + b"a" * size  # FIN=0, text
base = srv.rss_kb()
conns, refused = [], 0
for i in range(40):
    c = srv.ws(f"/?channel=c{i}")
    try:
        c.sendall(frame)
    except OSError:
        refused += 1
    conns.append(c)
time.sleep(2)  # measurement settling, not synchronisation: RSS is read once, at the end
for c in conns:
    c.settimeout(0.2)
    try:
        if c.recv(16)[:1] == b"\x88":
            refused += 1
    except OSError:
        pass
print(f"40 x 15 MB unfinished: server RSS {base} kB -> {srv.rss_kb()} kB; {refused} connections refused with a close")
srv.stop()
