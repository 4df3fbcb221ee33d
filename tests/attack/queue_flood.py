# Attack 11: a never-reading WebSocket subscriber (and publisher) fed N 1-byte messages; prints server RSS.
# Usage: queue_flood.py SSEWS_BINARY N
import socket
import sys
import time

from serve import Server

srv = Server(sys.argv[1])
n = int(sys.argv[2])
sub = srv.ws("/?channel=room")
pub = srv.ws("/?channel=room")
for c in (sub, pub):
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # neither reads: both are slow consumers
batch = (bytes([0x81, 0x81, 0, 0, 0, 0]) + b"x") * 10000  # 1-byte text frames, zero mask key
base = srv.rss_kb()
t0 = time.time()
for _ in range(n // 10000):
    pub.sendall(batch)
# A ping on a third connection is answered once the server has worked through what it read before.
probe = srv.ws("/?channel=probe")
probe.sendall(bytes([0x89, 0x80, 0, 0, 0, 0]))
probe.settimeout(60)
probe.recv(16)
time.sleep(1.0)  # the last reads of pub's socket may trail the probe's pong
print(f"sent {n} 1-byte messages in {time.time() - t0:.1f}s; server RSS {base} kB -> {srv.rss_kb()} kB")
srv.stop()
