# Attack 11: a never-reading WebSocket subscriber fed N 1-byte messages; report server RSS.
import os, socket, struct, subprocess, sys, time
binp, n = sys.argv[1], int(sys.argv[2])
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
srv = subprocess.Popen([binp, "serve", "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
srv.stdout.readline()
def ws(path):
    c = socket.create_connection(("127.0.0.1", port))
    c.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    buf = b""
    while b"\r\n\r\n" not in buf: buf += c.recv(4096)
    return c
sub = ws("/?channel=room"); sub.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
pub = ws("/?channel=room"); pub.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
frame = bytes([0x81, 0x81, 0, 0, 0, 0]) + b"x"   # masked with a zero key
batch = frame * 10000
def rss():
    for l in open(f"/proc/{srv.pid}/status"):
        if l.startswith("VmRSS"): return int(l.split()[1])
base = rss(); t0 = time.time()
for i in range(n // 10000):
    pub.sendall(batch)
time.sleep(1.0)  # let the server work through what it read (measurement, not synchronisation)
# ping-pong round trip through a third connection to be sure the server caught up
probe = ws("/?channel=probe")
probe.sendall(bytes([0x89, 0x80, 0, 0, 0, 0])); probe.settimeout(60); probe.recv(16)
print(f"sent {n} 1-byte messages in {time.time()-t0:.1f}s; server RSS {base} kB -> {rss()} kB")
srv.terminate(); srv.wait()
