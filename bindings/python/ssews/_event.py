"""ssews.Event: what an endpoint tells the application."""
from __future__ import annotations

import json as _json
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple, Union

__all__ = ["Event", "KINDS"]

#: The event kinds, in the order a connection meets them.
KINDS = ("open", "message", "close", "error", "reconnecting", "drain", "join", "leave", "request")


@dataclass(frozen=True, repr=False)
class Event:
    """One event from a :class:`~ssews.Server` or a :class:`~ssews.Client`.

    Events are plain, immutable data (a frozen dataclass), safe to keep and
    to pass between threads. Which fields are set depends on ``kind``:

    ``"open"``
        A connection is open (server: a new peer; client: each successful
        connect). ``protocol``, ``path``, ``query``, ``peer``, ``headers``
        (lower-case names) and ``channels`` (the subscriptions it will get
        unless the open callback decides otherwise). On a server that checks
        tokens (``jwt_secret``, ``jwt_public_key``): ``identity`` (the
        token's ``sub``; None when admitted without a token) and ``claims``
        (all of the verified token's claims; :meth:`claim` reads one).
    ``"message"``
        ``data`` is ``str`` for a text message and ``bytes`` for a binary one.
        ``event`` is the SSE event type (or ssews.v1 event name), ``id`` the
        message id, ``channel`` the channel (ssews.v1 clients).
    ``"close"``
        ``code`` (1000, 1001, 1006, ...) and ``reason``. A server's close
        event also has ``stats``: ``duration_ms``, ``bytes_in``,
        ``bytes_out``, ``messages_in``, ``messages_out`` (an access log's figures). Exactly once per
        open connection; a client's close is final (it will not reconnect).
    ``"error"``
        ``code`` is an :class:`~ssews.ErrorCode`, ``reason`` the message.
    ``"reconnecting"``
        A client will reconnect: ``code`` is the attempt number (1, 2, ...),
        ``delay_ms`` the delay before it.
    ``"drain"``
        Server: the connection's queue passed the ``send_high_water`` option
        and is back at ``send_low_water`` (see :meth:`Server.drain`).
    ``"join"``, ``"leave"``
        Server with the ``presence`` option: ``conn`` subscribed to, or left,
        ``channel``; ``identity`` and ``claims`` as in its open event.

    ``"request"``
        Server with the ``request_events`` option: an HTTP request was
        answered without becoming a stream (a static file, a publish, a
        refusal...): :attr:`method`, ``path``, ``query`` (may hold a token:
        never log it), ``peer``, ``code`` (the HTTP status) and ``stats``
        (``duration_ms``, ``bytes_in``, ``bytes_out``). ``conn`` is 0.

    ``protocol`` is ``"websocket"`` or ``"sse"`` (as in the Node binding).
    ``conn`` is the connection id: a server's peers have their own ids; a
    client's one connection is always 1.
    """

    kind: str
    conn: int = 0
    protocol: Optional[str] = None  # "websocket" | "sse" | None
    data: Union[str, bytes, None] = None
    event: Optional[str] = None
    id: Optional[str] = None
    channel: Optional[str] = None
    path: Optional[str] = None
    query: Optional[str] = None
    peer: Optional[str] = None
    headers: Dict[str, str] = field(default_factory=dict)
    channels: Tuple[str, ...] = ()
    code: int = 0
    reason: str = ""
    delay_ms: int = 0
    subprotocol: Optional[str] = None  # WebSocket open: the subprotocol ("" for none)
    identity: Optional[str] = None
    claims: Dict[str, Any] = field(default_factory=dict)

    stats: Optional[Dict[str, float]] = None  # a server's close event: the connection's figures

    def claim(self, name: str, default: Any = None) -> Any:
        """One claim of the connection's verified token (open events of a
        server checking tokens), e.g. ``ev.claim("role")``; ``default`` when
        it is absent or there is no token."""
        return self.claims.get(name, default)

    @property
    def method(self) -> Optional[str]:
        """A request event's HTTP method (``"GET"``, ``"POST"``, ...); None otherwise."""
        return self.event if self.kind == "request" else None

    @property
    def binary(self) -> bool:
        """True for a binary message (``data`` is ``bytes``)."""
        return isinstance(self.data, bytes)

    def header(self, name: str, default: Optional[str] = None) -> Optional[str]:
        """A request header of an open event, by name (any case).

        ``headers`` holds the well-known headers (``Authorization``,
        ``Cookie``, ``Origin``, ...) and those named in the server's
        ``capture_headers`` option. Inside a server's open *callback* any
        other header (``X-Api-Key``, ...) can be read here too; with
        ``async for``, name it in ``capture_headers``.
        """
        key = name.lower()
        value = self.headers.get(key)
        if value is not None:
            return value
        lookup = getattr(self, "_lookup", None)
        if lookup is not None:
            value = lookup(key)
            if value is not None:
                self.headers[key] = value
                return value
        return default

    def json(self) -> Any:
        """``data`` parsed as JSON."""
        if self.data is None:
            raise ValueError(f"a {self.kind} event has no data")
        return _json.loads(self.data)

    def __repr__(self) -> str:
        parts = [f"kind={self.kind!r}"]
        if self.conn:
            parts.append(f"conn={self.conn}")
        for name in ("protocol", "data", "event", "id", "channel", "path", "query", "peer", "subprotocol"):
            value = getattr(self, name)
            if value is not None and (value != "" or name == "data"):
                if isinstance(value, str) and len(value) > 80:
                    value = value[:77] + "..."
                elif isinstance(value, bytes) and len(value) > 80:
                    value = value[:77] + b"..."
                parts.append(f"{name}={value!r}")
        if self.identity is not None:
            parts.append(f"identity={self.identity!r}")
        if self.headers:
            parts.append(f"headers={self.headers!r}")
        if self.channels:
            parts.append(f"channels={self.channels!r}")
        if self.kind in ("close", "error", "reconnecting"):
            parts.append(f"code={self.code}")
            if self.reason:
                parts.append(f"reason={self.reason!r}")
        if self.kind == "reconnecting":
            parts.append(f"delay_ms={self.delay_ms}")
        return f"Event({', '.join(parts)})"
