"""ssews.Server and ssews.Client: thin wrappers over the C ABI (ssews._core).

Nothing here knows the protocols: options go to the library by name, data
and events pass through. What lives here is Python plumbing: callbacks and
their exceptions, asyncio and blocking iteration over the event fd, context
managers and clean shutdown.
"""
import asyncio
import os
import threading
import time
import warnings
import weakref
from typing import (Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple, Union)

from . import _core
from ._errors import Error, ErrorCode
from ._event import KINDS, Event

__all__ = ["Endpoint", "Server", "Client"]

Handler = Callable[[Event], Any]
ExceptionHandler = Callable[[BaseException, Event], Any]
LogHandler = Callable[[str, str], Any]
Data = Union[str, bytes, bytearray, memoryview]
OptionValue = Union[str, int, float, bool, "os.PathLike[str]", None]


# ---------------------------------------------------------------------------
# Options: Python values to the library's strings.

def _option_value(key: str, value: Any) -> str:
    if isinstance(value, bool):  # before int: True is an int
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise Error(f"option {key!r}: expected str, int, float, bool or a path, not {type(value).__name__}",
                ErrorCode.EOPTION)


def _options(options: Mapping[str, Any]) -> List[str]:
    """key, value, key, value, ... for ssews_open. None leaves an option at its
    default; a list or tuple repeats the key (for repeatable keys)."""
    out: List[str] = []
    for key, value in options.items():
        if value is None:
            continue
        for v in value if isinstance(value, (list, tuple)) else (value,):
            if v is not None:
                out += [key, _option_value(key, v)]
    return out


def _header_lines(headers: Union[Mapping[str, str], Iterable[Tuple[str, str]], None]) -> List[str]:
    if headers is None:
        return []
    items = headers.items() if isinstance(headers, Mapping) else headers
    lines = []
    for name, value in items:
        if not isinstance(name, str) or not name or ":" in name or name != name.strip():
            raise Error(f"option 'header': {name!r} is not a header name", ErrorCode.EOPTION)
        lines.append(f"{name}: {_option_value('header', value)}")
    return lines


def _make_dispatch(endpoint: "Endpoint") -> Callable[[Event], None]:
    # The library holds this function, not the endpoint: an endpoint nobody
    # references any more can be collected (and is closed by its finalizer).
    ref = weakref.ref(endpoint)

    def dispatch(ev: Event) -> None:
        ep = ref()
        if ep is not None:
            ep._dispatch(ev)

    return dispatch


# ---------------------------------------------------------------------------

class Endpoint:
    """What :class:`Server` and :class:`Client` share: taking events
    (callbacks, ``async for``, blocking iteration) and closing. Not made
    directly."""

    # Class defaults, so a failed __init__ leaves a consistent object. (The
    # finalizer reads attributes, never self.__dict__: in 3.11 that builds a
    # dict the cycle collector takes for a resurrection, delaying the close.)
    _core: Any = None
    _closing = False
    _reader_loop: Optional[asyncio.AbstractEventLoop] = None
    _afd: Optional[int] = None

    def __init__(self, options: List[str], on_event: Optional[Handler],
                 on_exception: Optional[ExceptionHandler], on_log: Optional[LogHandler] = None) -> None:
        if on_event is not None and not callable(on_event):
            raise TypeError("on_event must be callable")
        if on_log is not None and not callable(on_log):
            raise TypeError("on_log must be callable")
        if on_exception is not None and not callable(on_exception):
            raise TypeError("on_exception must be callable")
        self._lock = threading.Lock()
        self._handlers: Dict[Optional[str], Tuple[Handler, ...]] = {}
        if on_event is not None:
            self._handlers[None] = (on_event,)
        self._on_exception = on_exception
        self._closing = False
        self._ended = False  # a client's final close event was taken
        # asyncio: a private dup of the event fd, watched with loop.add_reader
        # while some task awaits an event.
        self._afd: Optional[int] = None
        self._reader_loop: Optional[asyncio.AbstractEventLoop] = None
        self._waiters: "set[asyncio.Future[None]]" = set()
        self._dispatcher = _make_dispatch(self)
        self._core = _core.Core(options, self._dispatcher if self._handlers else None)
        if on_log is not None:
            self._core.set_log(on_log)

    def _opened(self) -> None:
        self._core.ready()  # from now on callbacks may run

    # -- lifecycle -----------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called (or the interpreter is exiting)."""
        return self._closing or self._core is None or self._core.closed

    def close(self) -> None:
        """Close the endpoint gracefully and free it; calling it again does nothing.

        Queued data is flushed (for at most about two seconds), WebSocket
        peers get a close frame (1001 from a server, 1000 from a client), SSE
        streams end, and with callbacks every open connection's ``close``
        event is delivered before this returns. Safe from any thread,
        including the endpoint's own callbacks (the close then completes
        once the callback returns). It blocks while peers answer the close:
        in asyncio code use ``await endpoint.aclose()`` or ``async with``.
        Pending events not yet taken with ``async for`` are dropped.
        """
        core = self._core
        if core is None:
            return
        with self._lock:
            self._closing = True
        self._wake_async()
        core.close()  # releases the GIL while it waits for the service thread
        with self._lock:
            if self._reader_loop is None:
                self._close_afd()

    async def aclose(self) -> None:
        """Close the endpoint without blocking the event loop (see :meth:`close`)."""
        if self._core is None or self._core.closed:
            return
        with self._lock:
            self._closing = True
        self._wake_async()
        await asyncio.get_running_loop().run_in_executor(None, self.close)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    def __del__(self, _warn: Callable[..., None] = warnings.warn) -> None:
        core = self._core
        if core is None:
            return
        try:
            if not core.closed:
                _warn(f"unclosed {self!r}", ResourceWarning, source=self)
        finally:
            if not core.closed:
                core.detach()  # no callback into a dying object
                core.close()
            if self._reader_loop is None:
                self._close_afd()

    # -- callbacks -----------------------------------------------------------

    def on(self, kind: str, handler: Optional[Handler] = None):
        """Register a callback for one kind of event; usable as a decorator::

            @server.on("message")
            def echo(ev):
                server.send(ev.conn, ev.data)

        ``kind`` is one of :data:`ssews.KINDS`: ``"open"``, ``"message"``,
        ``"close"``, ``"error"``, ``"reconnecting"``, and on a server
        ``"drain"``, ``"join"``, ``"leave"`` and ``"request"``. Callbacks run on the endpoint's service thread,
        one event at a time, in order; they must not block (hand long work to
        a thread or, with asyncio, to ``loop.call_soon_threadsafe``). They
        may call any method of any endpoint. An exception a callback raises
        goes to ``on_exception`` if given, else to ``sys.unraisablehook``
        (printed with its traceback); the other callbacks still run.

        Registering the first callback switches the endpoint from
        iteration to callbacks: register them right after opening (or pass
        ``on_event=`` when opening, which guarantees the first event is
        seen). Returns the handler.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown event kind {kind!r} (expected one of {', '.join(KINDS)})")

        def register(fn: Handler) -> Handler:
            self._add_handler(kind, fn)
            return fn

        return register if handler is None else register(handler)

    def on_log(self, fn: Optional[LogHandler]) -> Optional[LogHandler]:
        """Send this endpoint's log lines to ``fn(level, message)`` instead of
        stderr (``None``: back to stderr); a decorator too. ``level`` is
        ``"error"``, ``"warn"``, ``"notice"`` or ``"info"``, as the
        ``log_level`` option names them (lines above ``log_level`` never
        come); ``message`` is one line without its newline. Each endpoint gets
        only its own lines, libwebsockets' among them. ``fn`` runs on the
        endpoint's service thread, with the GIL: keep it short and do not
        block (``logging`` is fine). It is never called once :meth:`close`
        has begun (the last lines of a close are dropped), and the callable
        it replaces is never called after this returns. Lines logged while
        the endpoint opens come before any callback and go to stderr; pass
        ``on_log=`` when opening to get all the others.
        """
        self._core.set_log(fn)
        return fn

    def on_event(self, handler: Handler) -> Handler:
        """Register a callback for every event (a decorator too); see :meth:`on`."""
        self._add_handler(None, handler)
        return handler

    def _add_handler(self, kind: Optional[str], fn: Handler) -> None:
        if not callable(fn):
            raise TypeError("an event handler must be callable")
        with self._lock:
            first = not self._handlers
            self._handlers[kind] = self._handlers.get(kind, ()) + (fn,)
        if first:
            self._core.set_dispatch(self._dispatcher)
            self._wake_async()  # a task awaiting events learns they go to callbacks now

    def _dispatch(self, ev: Event) -> None:
        # On the service thread, with the GIL.
        handlers = self._handlers
        for fn in handlers.get(None, ()) + handlers.get(ev.kind, ()):
            try:
                fn(ev)
            except BaseException as exc:  # noqa: B902 - reported, never swallowed
                self._report(exc, ev, fn)

    def _report(self, exc: BaseException, ev: Event, fn: Callable[..., Any]) -> None:
        on_exception = self._on_exception
        if on_exception is not None:
            try:
                on_exception(exc, ev)
                return
            except BaseException as exc2:  # chained to exc: both tracebacks are shown
                _core.report_unraisable(exc2, on_exception)
                return
        _core.report_unraisable(exc, fn)

    # -- iteration (pull mode) -----------------------------------------------

    def _check_pull(self) -> None:
        if self._handlers:
            raise Error("this endpoint delivers its events to callbacks (on_event / on); "
                        "iterate over an endpoint opened without them", ErrorCode.ESTATE)

    def _take(self) -> Optional[Event]:
        ev = self._core.next_event()
        if ev is not None and ev.kind == "close" and isinstance(self, Client):
            self._ended = True  # a client's close is final
        return ev

    def next_event(self, timeout: Optional[float] = None) -> Optional[Event]:
        """The next event, waiting for it (blocking, without the GIL).

        Returns None when ``timeout`` (seconds) expires, or at the end: once
        the endpoint is closed, or after a client's final ``close`` event.
        For threads and scripts; asyncio code uses ``async for`` or
        :meth:`anext_event`.
        """
        self._check_pull()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self._ended or self.closed:
                return None
            ev = self._take()
            if ev is not None:
                return ev
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not self._core.wait(left):
                return None  # timed out
            self._check_pull()

    def __iter__(self):
        return self

    def __next__(self) -> Event:
        ev = self.next_event()
        if ev is None:
            raise StopIteration
        return ev

    async def anext_event(self) -> Optional[Event]:
        """The next event, awaited on the running loop; None at the end (see
        :meth:`next_event`). Bound it with ``asyncio.wait_for`` if needed."""
        self._check_pull()
        while True:
            if self._ended or self.closed:
                return None
            ev = self._take()
            if ev is not None:
                return ev
            await self._readable()
            self._check_pull()

    def __aiter__(self):
        return self

    async def __anext__(self) -> Event:
        ev = await self.anext_event()
        if ev is None:
            raise StopAsyncIteration
        return ev

    async def _readable(self) -> None:
        # Waits until the event fd is readable (an event is pending) or the
        # endpoint closes. The fd is level-triggered, so nothing is missed
        # between taking the last event and watching the fd.
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._closing:
                return
            if self._reader_loop is None:
                if self._afd is None:
                    self._afd = os.dup(self._core.fd())
                loop.add_reader(self._afd, self._on_readable)
                self._reader_loop = loop
            elif self._reader_loop is not loop:
                raise RuntimeError("this endpoint's events are already awaited in another event loop")
            fut: "asyncio.Future[None]" = loop.create_future()
            self._waiters.add(fut)
        try:
            await fut
        finally:
            with self._lock:
                self._waiters.discard(fut)
                if not self._waiters:
                    self._stop_reader()

    def _on_readable(self) -> None:
        # On the loop: wake every waiter; each takes events or waits again.
        with self._lock:
            waiters = list(self._waiters)
            self._stop_reader()
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    def _stop_reader(self) -> None:  # lock held, on the loop's thread
        loop = self._reader_loop
        if loop is not None:
            self._reader_loop = None
            if not loop.is_closed() and self._afd is not None:
                loop.remove_reader(self._afd)
        if self._closing:
            self._close_afd()

    def _close_afd(self) -> None:
        if self._afd is not None:
            os.close(self._afd)
            self._afd = None

    def _wake_async(self) -> None:
        # Any thread: wakes tasks awaiting events on their loop.
        with self._lock:
            loop = self._reader_loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._on_readable()
        else:
            try:
                loop.call_soon_threadsafe(self._on_readable)
            except RuntimeError:  # that loop is closed
                pass


# ---------------------------------------------------------------------------

def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


class Server(Endpoint):
    """A server for WebSocket and Server-Sent Events on one port.

    ``Upgrade: websocket`` requests become WebSocket connections, requests
    with ``Accept: text/event-stream`` become SSE streams; both subscribe to
    channels, and :meth:`publish` reaches every subscriber of a channel
    whatever its protocol. The server listens when the constructor returns.

    Options (keywords) are passed to the library by name; values may be
    str, int, bool (``"true"``/``"false"``), float or a path, and None
    leaves the default. Among them: ``history`` (messages kept per channel
    for resume, 0), ``heartbeat`` (s, 15), ``ping_interval`` (s, 30),
    ``pong_timeout`` (s, 10), ``max_message_size``, ``max_connections``,
    ``max_queue_bytes``, ``queue_policy`` (``"drop_oldest"`` | ``"close"``),
    ``tls_cert`` + ``tls_key``, ``static_dir``, ``handshake_timeout``,
    ``capture_headers`` (custom request headers to put in open events, e.g.
    ``"X-Api-Key"``), ``log_level`` — the full list is docs/options.md. An unknown option or
    a bad value raises :class:`ssews.Error` (``code`` EOPTION) naming it.

    Events come one of two ways:

    - **callbacks**: ``on_event=fn`` or ``@server.on("message")``; called on
      the server's own thread. In the ``open`` callback the connection can
      be refused (:meth:`reject`: HTTP 403, nothing opens) or subscribed to
      chosen channels (:meth:`subscribe` replaces the default: its
      ``channel`` query parameters, else its path); returning without
      either accepts it.
    - **asyncio**: ``async for ev in server`` (or blocking ``for ev in
      server`` in a thread). There the handshake is already answered when
      the open event is taken, so decisions act on the live connection:
      :meth:`reject` closes it (WebSocket close 1008), :meth:`subscribe`
      adds to the default subscriptions.

    Example::

        async with ssews.Server(port=8080, history=100) as server:
            async for ev in server:
                if ev.kind == "message":          # a WebSocket peer said something
                    server.publish("chat", ev.data)

    Closing: :meth:`close` / ``with`` / ``async with``; an open server is
    also closed when garbage-collected (with a ResourceWarning) and when the
    interpreter exits.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *,
                 on_event: Optional[Handler] = None,
                 on_exception: Optional[ExceptionHandler] = None,
                 on_log: Optional[LogHandler] = None,
                 **options: Any) -> None:
        if "url" in options:
            raise Error("option 'url' makes a client: use ssews.Client(url, ...)", ErrorCode.EOPTION)
        self._host = "127.0.0.1" if host is None else str(host)
        self._tls = bool(options.get("tls_cert"))
        self._low_water = int(options.get("send_low_water", 65536))
        super().__init__(_options({"host": host, "port": port, **options}), on_event, on_exception, on_log)
        self._port = self._core.port()
        self._opened()

    @property
    def port(self) -> int:
        """The TCP port the server listens on (the one picked when ``port=0``)."""
        return self._port

    @property
    def url(self) -> str:
        """``http://host:port`` (``https`` with TLS): where SSE readers connect,
        e.g. ``server.url + "/news"``. An any-address host (0.0.0.0, ::) gives
        the loopback address."""
        return f"{'https' if self._tls else 'http'}://{_url_host(self._host)}:{self._port}"

    @property
    def ws_url(self) -> str:
        """``ws://host:port`` (``wss`` with TLS): where WebSocket clients connect."""
        return f"{'wss' if self._tls else 'ws'}://{_url_host(self._host)}:{self._port}"

    def publish(self, channel: str, data: Data, *, event: Optional[str] = None,
                id: Optional[str] = None) -> None:
        """Send ``data`` to every subscriber of ``channel``, in publish order.

        ``str`` is sent as text, bytes-like as binary (SSE subscribers get
        binary as base64 with ``event: binary``). ``event`` names the SSE event
        type; ``id`` is the message id (default: the next id the server
        assigns, which resume with Last-Event-ID relies on). Kept in the
        channel's history when the ``history`` option is above 0. Returns at
        once; any thread.
        """
        self._core.publish(channel, data, event, id)

    def send(self, conn: int, data: Data, *, event: Optional[str] = None,
             id: Optional[str] = None) -> None:
        """Send one message to one connection: ``str`` as text, bytes-like as
        binary (WebSocket only). On an SSE connection ``event`` and ``id`` set
        the ``event:`` and ``id:`` fields. Raises :class:`ssews.Error`
        (ENOCONN) for a connection that is not open. Returns at once; any thread.
        """
        self._core.send(conn, data, event, id)

    def publish_as(self, conn: int, channel: str, data: Data, *, event: Optional[str] = None,
                   id: Optional[str] = None) -> None:
        """:meth:`publish` on behalf of connection ``conn`` (say, a WebSocket
        message it sent for ``channel``): when its token's ``publish`` claim
        does not allow the channel, nothing is published, the connection is
        closed (WebSocket 1008 naming the channel) and :class:`ssews.Error`
        with code ``EACCES`` is raised. Without a token key configured it is
        :meth:`publish`."""
        self._core.publish_as(conn, channel, data, event, id)

    def may_publish(self, conn: int, channel: str) -> bool:
        """Whether connection ``conn`` may publish into ``channel`` (its
        token's ``publish`` claim; always True without a token key). Raises
        :class:`ssews.Error` (ENOCONN) for a connection that is not open."""
        return self._core.may_publish(conn, channel)

    def subscribe(self, conn: int, channel: str) -> None:
        """Subscribe a connection to a channel. Inside the ``open`` callback this
        replaces the default subscriptions (call it once per channel)."""
        self._core.subscribe(conn, channel)

    def unsubscribe(self, conn: int, channel: str) -> None:
        """Remove a connection's subscription to a channel."""
        self._core.unsubscribe(conn, channel)

    def reject(self, conn: int, status: int = 403) -> None:
        """Refuse a connection. Inside its ``open`` callback the handshake is
        answered with HTTP ``status`` (400-599) and no close event follows;
        later it closes the connection (WebSocket close 1008)."""
        self._core.reject(conn, status)

    def accept_subprotocol(self, conn: int, name: str) -> None:
        """Inside a WebSocket connection's ``open`` callback, answer its
        handshake with ``name``, one of the subprotocols the client offered
        (``event.header("sec-websocket-protocol")``). Without it the default
        (``event.subprotocol``: ssews.v1, ssews or the ``subprotocols``
        option, else none) is used."""
        self._core.accept_subprotocol(conn, name)

    def close_conn(self, conn: int, code: int = 1000, reason: str = "") -> None:
        """Close one connection: a WebSocket close frame with ``code`` (1000 or
        3000-4999) and ``reason`` (at most 123 bytes of UTF-8); an SSE stream
        simply ends. Queued messages go first; a ``close`` event follows."""
        self._core.conn_close(conn, code, reason)

    # -- operations -----------------------------------------------------------

    def stats(self) -> Dict[str, float]:
        """The server's counters and gauges by name (``connections_websocket``,
        ``messages_published``, ``deliveries_sse``, ``queued_bytes``, ...; see
        docs/operations.md), taken together as one snapshot. Any thread."""
        return self._core.stats()

    def set_option(self, key: str, value: Any) -> None:
        """Change an option while the server runs, without dropping a
        connection: the tokens (``publish_token``, ``metrics_token``), the
        token checks (``jwt_secret``, ``jwt_public_key``, ``jwt_audience``,
        ``jwt_issuer``, ``jwt_leeway``), ``allowed_origins``,
        ``anonymous_subscribe`` or ``log_level``. New requests are judged by
        the new value; open connections stay. Other keys raise
        :class:`ssews.Error` (ENOTSUP); a bad value or an unreadable key file
        raises (EOPTION) and changes nothing."""
        self._core.set_option(key, _option_value(key, value))

    def buffered_amount(self, conn: int) -> int:
        """Bytes queued for ``conn`` and not yet written (as ``ws``'
        ``bufferedAmount``). Raises :class:`ssews.Error` (ENOCONN) for a
        connection that is not open."""
        return self._core.buffered_amount(conn)

    async def drain(self, conn: int, low_water: Optional[int] = None) -> None:
        """Wait until at most ``low_water`` bytes (default: the
        ``send_low_water`` option) are queued for ``conn``: a sender that
        awaits this between sends keeps pace with a slow receiver instead of
        filling its queue. Returns at once when the queue is already that
        short; raises :class:`ssews.Error` (ENOCONN) if the connection closes
        meanwhile. It looks at the queue every few milliseconds (the
        ``"drain"`` event tells callback users the same without looking)."""
        limit = self._low_water if low_water is None else low_water
        delay = 0.002
        while self._core.buffered_amount(conn) > limit:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)

    def channel_stats(self, channel: str) -> Dict[str, int]:
        """``{"subscribers": N, "max_queued_bytes": B, "max_queued_messages": M}``:
        who is on ``channel`` and how far behind its slowest subscriber is,
        to look at before publishing."""
        subs, nbytes, msgs = self._core.channel_stats(channel)
        return {"subscribers": subs, "max_queued_bytes": nbytes, "max_queued_messages": msgs}

    def presence(self, channel: str) -> List[int]:
        """The connections subscribed to ``channel`` (ids as in their open
        events, which tell who they are)."""
        return self._core.channel_conns(channel)

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        where = self.url if getattr(self, "_port", None) is not None else getattr(self, "_host", "?")
        return f"<ssews.Server {where} {state}>"


class Client(Endpoint):
    """A client of one URL: WebSocket for ``ws://`` / ``wss://``, Server-Sent
    Events (with EventSource semantics) for ``http://`` / ``https://``.

    It connects in the background and reconnects after the connection drops
    (with backoff; an SSE client resumes with Last-Event-ID, a WebSocket
    client talking to an ssews server resumes its channels too). Events tell
    the story: ``open`` on each connect, ``message``, ``error`` (``code``
    and ``reason``), ``reconnecting`` (attempt in ``code``, ``delay_ms``) and
    one final ``close`` when it stops for good — after which ``async for``
    ends.

    ``headers`` (a dict or (name, value) pairs) are sent with every
    connect. Options (keywords) are passed to the library by name, e.g.
    ``reconnect=False``, ``reconnect_delay_ms=500``,
    ``reconnect_max_attempts``, ``last_event_id``, ``connect_timeout``,
    ``ca_file``, ``insecure``, ``subprotocols``, ``v1``, ``ping_interval``,
    ``max_message_size``, ``max_queue_bytes`` (docs/options.md). A bad one
    raises :class:`ssews.Error` naming it.

    Example::

        async with ssews.Client("ws://127.0.0.1:8080/chat") as client:
            client.send("hello")                 # queued until connected
            async for ev in client:
                if ev.kind == "message":
                    print(ev.data)

    Callbacks (``on_event=``, ``@client.on(kind)``) work as for
    :class:`Server`.
    """

    #: A client's one logical connection id (stable across reconnects).
    conn = 1

    def __init__(self, url: str, *,
                 headers: Union[Mapping[str, str], Iterable[Tuple[str, str]], None] = None,
                 on_event: Optional[Handler] = None,
                 on_exception: Optional[ExceptionHandler] = None,
                 on_log: Optional[LogHandler] = None,
                 **options: Any) -> None:
        if not isinstance(url, str):
            raise TypeError(f"url must be a str, not {type(url).__name__}")
        self.url = url
        opts: Dict[str, Any] = {"url": url, **options}
        lines = _header_lines(headers)
        if lines:
            extra = opts.get("header")
            extra = [] if extra is None else list(extra) if isinstance(extra, (list, tuple)) else [extra]
            opts["header"] = extra + lines
        super().__init__(_options(opts), on_event, on_exception, on_log)
        self._opened()

    def send(self, data: Data) -> None:
        """Send a message (WebSocket): ``str`` as text, bytes-like as binary.

        While disconnected it is queued (up to ``max_queue_bytes``) and sent
        in order after the reconnect. An SSE client cannot send (ENOTSUP).
        Returns at once; any thread.
        """
        self._core.send(0, data, None, None)

    def set_headers(self, headers: Union[Mapping[str, str], Iterable[Tuple[str, str]], None]) -> None:
        """Replace the request headers (the ``headers`` given at creation)
        from the next connect or reconnect on: the way to hand the client a
        fresh token (``{"Authorization": "Bearer " + token}``) when the
        server ended its connection because the old one expired; call it on
        the ``reconnecting`` event, or whenever. ``None`` sends none."""
        self._core.set_headers(_header_lines(headers))

    def __repr__(self) -> str:
        return f"<ssews.Client {getattr(self, 'url', '?')} {'closed' if self.closed else 'open'}>"
