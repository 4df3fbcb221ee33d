"""What both attacks need: ssews serve on a free loopback port, WebSocket
connections that complete the handshake and then do as the attack says, and
the server's RSS."""
import socket
import subprocess


class Server:
    def __init__(self, binary, extra_args=()):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.proc = subprocess.Popen([binary, "serve", "--port", str(self.port), *extra_args], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        self.proc.stdout.readline()  # "ssews serving on ...": it listens

    def ws(self, path):
        c = socket.create_connection(("127.0.0.1", self.port))
        c.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            buf += c.recv(4096)
        return c

    def rss_kb(self):
        for line in open(f"/proc/{self.proc.pid}/status"):
            if line.startswith("VmRSS"):
                return int(line.split()[1])

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
