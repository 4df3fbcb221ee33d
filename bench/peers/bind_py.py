"""Scenario 7 of ssews' benchmark (bench/run): a publish loop from Python.

    python bind_py.py --impl ssews|websockets --port P --subs N --count M [--batch B]

Serves WebSocket subscribers on ?channel=bench; once N are connected, publishes M stamped
messages ("M <seq> <CLOCK_MONOTONIC ns> xxx…", 100 bytes, the load generator's format) in a loop,
letting the event loop run every B calls. Prints READY <port> when listening and one JSON line
after the loop (calls, µs of the caller's CPU per publish call, wall µs per call, loop seconds),
then serves on until SIGTERM. The load generator (mode subscribe)
measures delivery. --impl ssews uses the ssews binding; --impl websockets uses
websockets.broadcast() over the connected set, the library's own broadcast.
"""
import argparse
import asyncio
import json
import sys
import time


def clock_overhead_ns() -> int:
    """What reading the thread CPU clock twice costs, subtracted from each batch."""
    best = None
    for _ in range(2000):
        a = time.thread_time_ns()
        b = time.thread_time_ns()
        best = b - a if best is None else min(best, b - a)
    return best or 0


async def publish_loop(a, publish):
    """Publishes a.count stamped messages; the loop yields every a.batch calls.

    call_us is what one call costs its caller: CPU time of this thread inside the
    calls (a batch's payloads are made before the batch), clock overhead taken off.
    call_wall_us is wall time per call, which also counts whatever else ran on this
    core meanwhile (on a 2-core box: the server's own work)."""
    over = clock_overhead_ns()
    cpu = wall = 0
    t0 = time.perf_counter()
    for start in range(0, a.count, a.batch):
        msgs = [payload(i) for i in range(start, min(a.count, start + a.batch))]
        w0 = time.perf_counter_ns()
        c0 = time.thread_time_ns()
        for m in msgs:
            publish(m)
        c1 = time.thread_time_ns()
        wall += time.perf_counter_ns() - w0
        cpu += max(0, c1 - c0 - over)
        await asyncio.sleep(0)
    loop_s = time.perf_counter() - t0
    print(json.dumps({"impl": a.impl, "calls": a.count, "call_us": cpu / 1e3 / a.count,
                      "call_wall_us": wall / 1e3 / a.count, "loop_s": loop_s}), flush=True)


def payload(seq: int) -> str:
    s = f"M {seq} {time.monotonic_ns()} "
    return s + "x" * max(0, 100 - len(s))


async def run_ssews(a):
    import ssews  # noqa: the binding under test

    # The load comes from a few loopback addresses: no per-address limits.
    server = ssews.Server(host="127.0.0.1", port=a.port, max_connections=19000, max_connections_per_ip=0,
                          handshake_rate_per_ip=0)
    print(f"READY {server.port}", flush=True)
    opened = 0
    ready = asyncio.Event()

    async def events():
        nonlocal opened
        async for ev in server:
            if ev.kind == "open":
                opened += 1
                if opened >= a.subs:
                    ready.set()

    task = asyncio.create_task(events())
    await ready.wait()
    await asyncio.sleep(0.2)
    await publish_loop(a, lambda m: server.publish("bench", m))
    await asyncio.sleep(a.linger)
    task.cancel()
    server.close()


async def run_websockets(a):
    from websockets.asyncio.server import broadcast, serve

    members = set()
    ready = asyncio.Event()

    async def handler(ws):
        members.add(ws)
        if len(members) >= a.subs:
            ready.set()
        try:
            await ws.wait_closed()
        finally:
            members.discard(ws)

    async with serve(handler, "127.0.0.1", a.port, compression=None, max_queue=None):
        print(f"READY {a.port}", flush=True)
        await ready.wait()
        await asyncio.sleep(0.2)
        await publish_loop(a, lambda m: broadcast(members, m))
        await asyncio.sleep(a.linger)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--impl", choices=["ssews", "websockets"], required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--subs", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--linger", type=float, default=60.0, help="seconds to keep serving after the loop (until SIGTERM)")
    a = ap.parse_args()
    fn = run_ssews if a.impl == "ssews" else run_websockets
    asyncio.run(fn(a))


if __name__ == "__main__":
    sys.exit(main())
