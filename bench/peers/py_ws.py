"""Peer of ssews' benchmark (bench/run): Python `websockets` (asyncio), semantics of `ssews serve`.

    python py_ws.py --port P [--host H] [--echo]

--echo sends each message back to its sender. Otherwise a client joins the channel named by its
`channel` query parameter and each message it sends goes to every member of that channel (the
sender too) through websockets.broadcast(). Compression off.
"""
import argparse
import asyncio
import signal
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import broadcast, serve

chans: dict[str, set] = {}


async def echo_handler(ws):
    async for m in ws:
        await ws.send(m)


async def hub_handler(ws):
    name = parse_qs(urlsplit(ws.request.path).query).get("channel", [""])[0]
    members = chans.setdefault(name, set())
    members.add(ws)
    try:
        async for m in ws:
            broadcast(members, m)
    finally:
        members.discard(ws)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--echo", action="store_true")
    a = ap.parse_args()
    stop = asyncio.get_running_loop().create_future()
    for s in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(s, stop.set_result, None)
    async with serve(echo_handler if a.echo else hub_handler, a.host, a.port, compression=None,
                     max_size=16 * 1024 * 1024, max_queue=None):
        print(f"py_ws serving on http://{a.host}:{a.port}/", flush=True)
        await stop


if __name__ == "__main__":
    asyncio.run(main())
