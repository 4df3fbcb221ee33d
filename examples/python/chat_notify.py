#!/usr/bin/env python3
"""Chat over WebSocket and notifications over Server-Sent Events, on one port,
with asyncio and the ssews package.

    python3 chat_notify.py [--host H] [--port P]   # serve until Ctrl-C
    python3 chat_notify.py --demo                  # server + clients, then exit

Chat: WebSocket peers on ``/chat?name=NAME`` send text; the server relays each
line to the ``chat`` channel as JSON ``{"from": ..., "text": ...}``, so every
chatter sees it. Notifications: joins, leaves and @mentions go to the
``notifications`` channel, which SSE readers (``/notifications``, e.g. a
browser's EventSource) follow; the server keeps a history, so a reader that
reconnects gets what it missed.

Try it by hand::

    python3 chat_notify.py --port 8080 &
    curl -N -H 'Accept: text/event-stream' http://127.0.0.1:8080/notifications &
    python3 -m websockets 'ws://127.0.0.1:8080/chat?name=ann'   # then type lines
"""
import argparse
import asyncio
import json
import re
from typing import Dict, List
from urllib.parse import parse_qs

import ssews


async def run_hub(server: ssews.Server) -> None:
    """The server's whole logic: one loop over its events."""
    names: Dict[int, str] = {}  # WebSocket connection -> chatter's name

    def notify(kind: str, **fields: str) -> None:
        server.publish("notifications", json.dumps(fields), event=kind)

    async for ev in server:
        if ev.kind == "open" and ev.protocol == "websocket":
            if ev.path != "/chat":
                server.close_conn(ev.conn, 4004, "chat is at /chat")
                continue
            name = parse_qs(ev.query or "").get("name", [f"guest{ev.conn}"])[0]
            names[ev.conn] = name
            notify("join", name=name)
        elif ev.kind == "message" and ev.conn in names and isinstance(ev.data, str):
            sender = names[ev.conn]
            server.publish("chat", json.dumps({"from": sender, "text": ev.data}), event="chat")
            for mentioned in re.findall(r"@(\w+)", ev.data):
                if mentioned in names.values():
                    notify("mention", to=mentioned, by=sender, text=ev.data)
        elif ev.kind == "close" and ev.conn in names:
            notify("leave", name=names.pop(ev.conn))


async def serve(host: str, port: int) -> None:
    async with ssews.Server(host, port, history=100) as server:
        print(f"chat:          {server.ws_url}/chat?name=NAME (WebSocket)")
        print(f"notifications: {server.url}/notifications (SSE)", flush=True)
        await run_hub(server)


# -- the demo: a scripted conversation -------------------------------------

async def next_kind(client: ssews.Client, kind: str) -> ssews.Event:
    async for ev in client:
        if ev.kind == kind:
            return ev
    raise RuntimeError(f"{client!r} ended before a {kind} event")


async def chat_line(client: ssews.Client) -> str:
    msg = (await next_kind(client, "message")).json()
    return f"{msg['from']}: {msg['text']}"


async def notification(reader: ssews.Client) -> str:
    ev = await next_kind(reader, "message")
    fields = ev.json()
    if ev.event == "mention":
        return f"{fields['by']} mentioned {fields['to']}: {fields['text']}"
    return f"{ev.event}: {fields['name']}"


async def demo() -> List[str]:
    transcript: List[str] = []

    def say(line: str) -> None:
        transcript.append(line)
        print(line, flush=True)

    async with ssews.Server(history=100) as server:
        hub = asyncio.create_task(run_hub(server))
        async with ssews.Client(server.url + "/notifications") as reader:
            await next_kind(reader, "open")
            async with ssews.Client(server.ws_url + "/chat?name=alice") as alice:
                await next_kind(alice, "open")
                say(f"[notification] {await notification(reader)}")
                async with ssews.Client(server.ws_url + "/chat?name=bob") as bob:
                    await next_kind(bob, "open")
                    say(f"[notification] {await notification(reader)}")

                    alice.send("hi everyone")
                    say(f"[bob sees]     {await chat_line(bob)}")
                    say(f"[alice sees]   {await chat_line(alice)}")
                    bob.send("hello @alice, welcome")
                    say(f"[alice sees]   {await chat_line(alice)}")
                    say(f"[notification] {await notification(reader)}")
                say(f"[notification] {await notification(reader)}")  # bob left
        hub.cancel()
    say("demo: done")
    return transcript


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--demo", action="store_true", help="run a scripted conversation and exit")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8080)
    args = ap.parse_args()
    if args.demo:
        asyncio.run(asyncio.wait_for(demo(), 30))
    else:
        try:
            asyncio.run(serve(args.host, args.port))
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
