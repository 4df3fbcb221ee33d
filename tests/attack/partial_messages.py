# Attack 12: 40 connections each holding an unfinished 15 MB WebSocket message; report server RSS.
import socket, subprocess, sys, time, struct
binp = sys.argv[1]
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
srv = subprocess.Popen([binp, "serve", "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
srv.stdout.readline()
def ws(path):
    c = socket.create_connection(("127.0.0.1", port))
    c.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    buf = b""
    while b"\r\n\r\n" not in buf: buf += c.recv(4096)
    return c
def rss():
    for l in open(f"/proc/{srv.pid}/status"):
        if l.startswith("VmRSS"): return int(l.split()[1])
size = 15 * 1024 * 1024
frame = bytes([0x01, 0x80 | 127]) + struct.pack(">Q", size) + b"\0\0\0\0" + b"a" * size  # FIN=0, text, zero mask
base = rss(); conns = []; closed = 0
for i in range(40):
    c = ws(f"/?channel=c{i}")
    try:
        c.sendall(frame)
    except OSError:
        closed += 1
    conns.append(c)
time.sleep(2)
for c in conns:
    c.settimeout(0.2)
    try:
        d = c.recv(16)
        if d[:1] == b"\x88": closed += 1
    except Exception:
        pass
print(f"40 x 15 MB unfinished: server RSS {base} kB -> {rss()} kB; {closed} connections refused with a close")
srv.terminate(); srv.wait()
