#!/usr/bin/env python3
"""Feeds the ssews demo room: publishes a live ticker once a second and a notice every few.

Any program can publish to an `ssews serve --publish-token T` hub with one HTTP request:

    POST /publish?channel=C&event=E   Authorization: Bearer T   body = the payload
    -> {"id": "...", "subscribers": N}

Each second this publishes, on channel `ticker`, an event `ticker` with JSON data
{"symbol", "price", "viewers", "time"}: a random-walk price and the viewer count, which is the
`subscribers` of the previous answer (the pages subscribed to `ticker`). Every fifth tick, from the
first, it also publishes an event `notice` on channel `notices` with JSON {"text", "level"}.

It uses only the standard library, survives a hub restart (it retries the same message until the
hub answers again), and exits cleanly on SIGINT or SIGTERM.

    python3 examples/python/publisher.py --url http://127.0.0.1:8080 --token T [--count N]
"""

import argparse
import http.client
import json
import os
import random
import signal
import ssl
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

NOTICES = [
    ("Welcome to the room! Say hi in the chat.", "info"),
    ("Poll opens in five minutes: what moves the market next?", "info"),
    ("Reminder: be kind in the chat.", "info"),
    ("Guest speaker joining shortly.", "success"),
    ("Volatility is picking up.", "warning"),
    ("Thanks for watching: share the room with a friend.", "success"),
]


class Fatal(Exception):
    """An answer that retrying will not fix (a wrong token, a bad request)."""


class Publisher:
    def __init__(self, url, token, insecure=False, timeout=5.0):
        self.base = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.context = ssl._create_unverified_context() if insecure else None  # noqa: SLF001

    def publish(self, channel, event, data):
        """Publishes once; returns the hub's answer as a dict. Raises OSError on network trouble."""
        query = urllib.parse.urlencode({"channel": channel, "event": event})
        req = urllib.request.Request(
            f"{self.base}/publish?{query}",
            data=json.dumps(data, separators=(",", ":")).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout, context=self.context) as resp:
                return json.loads(resp.read() or b"{}")
        except (http.client.HTTPException, ValueError) as e:  # cut short, or not JSON
            raise OSError(f"bad answer: {e!r}") from None
        except urllib.error.HTTPError as e:
            body = e.read().decode("utf-8", "replace").strip()
            if 400 <= e.code < 500:
                raise Fatal(f"the hub refused the publish: HTTP {e.code} {body}") from None
            raise OSError(f"HTTP {e.code} {body}") from None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default="http://127.0.0.1:8080", help="the hub (default %(default)s)")
    ap.add_argument("--token", default=os.environ.get("SSEWS_PUBLISH_TOKEN"),
                    help="its --publish-token (default: $SSEWS_PUBLISH_TOKEN)")
    ap.add_argument("--count", type=int, default=0, help="stop after N ticks (0: run until stopped)")
    ap.add_argument("--interval", type=float, default=1.0, help="seconds between ticks (default 1)")
    ap.add_argument("--symbol", default="SSWS", help="ticker symbol (default %(default)s)")
    ap.add_argument("--insecure", action="store_true", help="https: do not verify the certificate")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every publish")
    args = ap.parse_args(argv)
    if not args.token:
        ap.error("--token (or SSEWS_PUBLISH_TOKEN) is required")
    if args.count < 0 or args.interval <= 0:
        ap.error("--count must be >= 0 and --interval > 0")

    stop = threading.Event()

    def on_signal(signum, _frame):
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    pub = Publisher(args.url, args.token, insecure=args.insecure)
    price = 100.0 + random.uniform(-5, 5)
    viewers = 0
    ticks = published = 0
    down_since = None
    log = lambda msg: print(f"publisher: {msg}", flush=True)  # noqa: E731

    def send(channel, event, data):
        """Publishes, retrying with backoff while the hub is away. None if stopped first."""
        nonlocal down_since
        delay = 0.25
        while not stop.is_set():
            try:
                answer = pub.publish(channel, event, data)
            except OSError as e:  # refused, reset, timed out, 5xx: the hub is (re)starting
                if down_since is None:
                    down_since = time.monotonic()
                    log(f"hub unreachable at {args.url} ({getattr(e, 'reason', e)}); retrying")
                stop.wait(delay)
                delay = min(delay * 2, 5.0)
                continue
            if down_since is not None:
                log(f"hub back after {time.monotonic() - down_since:.1f} s")
                down_since = None
            return answer
        return None

    log(f"publishing to {args.url} every {args.interval:g} s"
        + (f", {args.count} ticks" if args.count else "") + " (Ctrl-C stops)")
    next_at = time.monotonic()
    try:
        while not stop.is_set() and (args.count == 0 or ticks < args.count):
            price = max(1.0, price * (1 + random.gauss(0, 0.004)))
            tick = {"symbol": args.symbol, "price": round(price, 2), "viewers": viewers,
                    "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            answer = send("ticker", "ticker", tick)
            if answer is None:
                break
            viewers = int(answer.get("subscribers", viewers))
            published += 1
            if args.verbose:
                log(f"ticker {tick['price']:.2f} viewers {tick['viewers']} id {answer.get('id')}"
                    f" ({viewers} subscribers)")
            if ticks % 5 == 0:
                text, level = NOTICES[(ticks // 5) % len(NOTICES)]
                answer = send("notices", "notice", {"text": text, "level": level})
                if answer is None:
                    break
                published += 1
                if args.verbose:
                    log(f"notice id {answer.get('id')}: {text}")
            ticks += 1
            if args.count and ticks >= args.count:
                break
            next_at += args.interval
            now = time.monotonic()
            if next_at < now:  # we were held up (a hub restart): do not burst to catch up
                next_at = now
            stop.wait(next_at - now)
    except Fatal as e:
        log(str(e))
        return 1
    log(f"stopped after {ticks} ticks ({published} publishes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
