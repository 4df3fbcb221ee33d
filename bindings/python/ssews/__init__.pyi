# Type stubs for the public API of ssews (the runtime lives in _endpoint.py,
# _event.py, _errors.py and the compiled _core module).
import enum
import os
import sys
from types import TracebackType
from typing import (Any, Callable, Dict, Iterable, Iterator, List, Literal, Mapping, Optional, Tuple, Type, TypedDict,
                    TypeVar, Union, overload)

__all__ = ["Server", "Client", "Endpoint", "Event", "Error", "ErrorCode", "KINDS", "__version__",
           "library_version", "library_path"]

__version__: str
library_version: str

def library_path() -> str:
    """The absolute path of the libssews.so.0 installed with this package (for ctypes/cffi)."""

_Kind = Literal["open", "message", "close", "error", "reconnecting", "drain", "join", "leave", "request"]
KINDS: Tuple[str, ...]

_Data = Union[str, bytes, bytearray, memoryview]
_OptionValue = Union[str, int, float, bool, "os.PathLike[str]", Iterable[Union[str, int, float, bool]], None]
_Handler = Callable[["Event"], Any]
_ExceptionHandler = Callable[[BaseException, "Event"], Any]
_LogLevel = Literal["error", "warn", "notice", "info"]
_LogHandler = Callable[[_LogLevel, str], Any]
_L = TypeVar("_L", bound=Callable[[Any, str], Any])
_H = TypeVar("_H", bound=Callable[["Event"], Any])
_E = TypeVar("_E", bound="Endpoint")

# The options each endpoint takes as keyword arguments (docs/options.md): one
# key per row of core/src/option_table.h, checked by scripts/check-tables.py.
# Server's host and port, and Client's url and headers, are parameters.
class _ServerOptions(TypedDict, total=False):
    tls_cert: Union[str, "os.PathLike[str]"]
    tls_key: Union[str, "os.PathLike[str]"]
    http2: Union[bool, str]
    static_dir: Union[str, "os.PathLike[str]"]
    history: Union[int, str]
    heartbeat: Union[int, str]
    ping_interval: Union[int, str]
    pong_timeout: Union[int, str]
    max_message_size: Union[int, str]
    max_partial_bytes: Union[int, str]
    max_connections: Union[int, str]
    max_queue_bytes: Union[int, str]
    queue_policy: Literal["drop_oldest", "close"]
    compression: Literal["on", "off"]
    subprotocols: str
    compression_window_bits: Union[int, str]
    compression_level: Union[int, str]
    compression_min_size: Union[int, str]
    max_header_size: Union[int, str]
    handshake_timeout: Union[int, str]
    head_timeout: Union[int, str]
    max_pending_heads: Union[int, str]
    max_pending_heads_per_ip: Union[int, str]
    max_connections_per_ip: Union[int, str]
    handshake_rate_per_ip: Union[int, str]
    handshake_burst_per_ip: Union[int, str]
    max_pending_bytes: Union[int, str]
    max_event_queue: Union[int, str]
    log_level: Literal["none", "error", "warn", "notice", "info"]
    capture_headers: str
    publish_token: str
    publish_path: str
    broker: str
    broker_prefix: str
    jwt_secret: str
    jwt_public_key: Union[str, "os.PathLike[str]"]
    jwt_audience: str
    jwt_issuer: str
    jwt_leeway: Union[int, str]
    jwt_cookie: str
    allowed_origins: str
    anonymous_subscribe: str
    metrics_path: str
    metrics_token: str
    send_high_water: Union[int, str]
    send_low_water: Union[int, str]
    drain_timeout: Union[int, str]
    presence: Union[bool, str]
    request_events: Union[bool, str]

class _ClientOptions(TypedDict, total=False):
    compression: Literal["on", "off"]
    ping_interval: Union[int, str]
    pong_timeout: Union[int, str]
    max_message_size: Union[int, str]
    max_queue_bytes: Union[int, str]
    max_pending_bytes: Union[int, str]
    max_event_queue: Union[int, str]
    log_level: Literal["none", "error", "warn", "notice", "info"]
    header: Union[str, Iterable[str]]
    subprotocols: str
    v1: Union[bool, str]
    ca_file: Union[str, "os.PathLike[str]"]
    insecure: Union[bool, str]
    connect_timeout: Union[int, str]
    reconnect: Union[bool, str]
    reconnect_delay_ms: Union[int, str]
    reconnect_max_delay_ms: Union[int, str]
    reconnect_max_attempts: Union[int, str]
    last_event_id: str
    method: str
    body: str
    content_type: str
    reconnect_non_idempotent: Union[bool, str]

class ErrorCode(enum.IntEnum):
    OK = 0
    EINVAL = -1
    EOPTION = -2
    ENOMEM = -3
    ECLOSED = -4
    ENOCONN = -5
    EAGAIN = -6
    EFULL = -7
    ETOOBIG = -8
    ENOTSUP = -9
    EPROTO = -10
    ETLS = -11
    ELISTEN = -12
    ECONNECT = -13
    ESTATE = -14
    EHTTP = -15
    ETIMEOUT = -16
    EINTERNAL = -17
    ESLOW = -18
    EURL = -19
    EGAP = -20
    EBROKER = -21
    EACCES = -22

class Error(Exception):
    code: Union[ErrorCode, int]
    def __init__(self, message: str, code: int = ...) -> None: ...
    @property
    def message(self) -> str: ...

class Event:
    __match_args__ = ("kind", "conn", "protocol", "data", "event", "id", "channel", "path", "query", "peer",
                      "headers", "channels", "code", "reason", "delay_ms", "subprotocol", "identity", "claims",
                      "stats")
    kind: _Kind
    conn: int
    protocol: Optional[Literal["websocket", "sse"]]
    data: Union[str, bytes, None]
    event: Optional[str]
    id: Optional[str]
    channel: Optional[str]
    path: Optional[str]
    query: Optional[str]
    peer: Optional[str]
    headers: Dict[str, str]
    channels: Tuple[str, ...]
    code: int
    reason: str
    delay_ms: int
    subprotocol: Optional[str]
    identity: Optional[str]
    claims: Dict[str, Any]
    stats: Optional[Dict[str, float]]
    def __init__(self, kind: _Kind, conn: int = ..., protocol: Optional[Literal["websocket", "sse"]] = ...,
                 data: Union[str, bytes, None] = ..., event: Optional[str] = ..., id: Optional[str] = ...,
                 channel: Optional[str] = ..., path: Optional[str] = ..., query: Optional[str] = ...,
                 peer: Optional[str] = ..., headers: Dict[str, str] = ..., channels: Tuple[str, ...] = ...,
                 code: int = ..., reason: str = ..., delay_ms: int = ...,
                 subprotocol: Optional[str] = ..., identity: Optional[str] = ...,
                 claims: Dict[str, Any] = ..., stats: Optional[Dict[str, float]] = ...) -> None: ...
    def claim(self, name: str, default: Any = ...) -> Any: ...
    @property
    def binary(self) -> bool: ...
    @property
    def method(self) -> Optional[str]: ...
    @overload
    def header(self, name: str, default: None = None) -> Optional[str]: ...
    @overload
    def header(self, name: str, default: str) -> str: ...
    def json(self) -> Any: ...
    if sys.version_info >= (3, 13):
        def __replace__(self, **changes: Any) -> Event: ...

class Endpoint:
    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...
    async def aclose(self) -> None: ...
    def __enter__(self: _E) -> _E: ...
    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None: ...
    async def __aenter__(self: _E) -> _E: ...
    async def __aexit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                        tb: Optional[TracebackType]) -> None: ...
    @overload
    def on(self, kind: _Kind, handler: None = None) -> Callable[[_H], _H]: ...
    @overload
    def on(self, kind: _Kind, handler: _H) -> _H: ...
    def on_event(self, handler: _H) -> _H: ...
    @overload
    def on_log(self, fn: _L) -> _L: ...
    @overload
    def on_log(self, fn: None) -> None: ...
    def next_event(self, timeout: Optional[float] = ...) -> Optional[Event]: ...
    def __iter__(self) -> Iterator[Event]: ...
    def __next__(self) -> Event: ...
    async def anext_event(self) -> Optional[Event]: ...
    def __aiter__(self: _E) -> _E: ...
    async def __anext__(self) -> Event: ...

class Server(Endpoint):
    def __init__(self, host: str = ..., port: int = ..., *, on_event: Optional[_Handler] = ...,
                 on_exception: Optional[_ExceptionHandler] = ..., on_log: Optional[_LogHandler] = ...,
                 **options: _OptionValue) -> None: ...
    @property
    def port(self) -> int: ...
    @property
    def url(self) -> str: ...
    @property
    def ws_url(self) -> str: ...
    def publish(self, channel: str, data: _Data, *, event: Optional[str] = ..., id: Optional[str] = ...) -> None: ...
    def send(self, conn: int, data: _Data, *, event: Optional[str] = ..., id: Optional[str] = ...) -> None: ...
    def publish_as(self, conn: int, channel: str, data: _Data, *, event: Optional[str] = ...,
                   id: Optional[str] = ...) -> None: ...
    def may_publish(self, conn: int, channel: str) -> bool: ...
    def subscribe(self, conn: int, channel: str) -> None: ...
    def unsubscribe(self, conn: int, channel: str) -> None: ...
    def reject(self, conn: int, status: int = ...) -> None: ...
    def accept_subprotocol(self, conn: int, name: str) -> None: ...
    def close_conn(self, conn: int, code: int = ..., reason: str = ...) -> None: ...
    def stats(self) -> Dict[str, float]: ...
    def set_option(self, key: str, value: _OptionValue) -> None: ...
    def buffered_amount(self, conn: int) -> int: ...
    async def drain(self, conn: int, low_water: Optional[int] = ...) -> None: ...
    def channel_stats(self, channel: str) -> Dict[str, int]: ...
    def presence(self, channel: str) -> List[int]: ...

class Client(Endpoint):
    conn: int
    url: str
    def __init__(self, url: str, *, headers: Union[Mapping[str, str], Iterable[Tuple[str, str]], None] = ...,
                 on_event: Optional[_Handler] = ..., on_exception: Optional[_ExceptionHandler] = ...,
                 on_log: Optional[_LogHandler] = ..., **options: _OptionValue) -> None: ...
    def send(self, data: _Data) -> None: ...
    def set_headers(self, headers: Union[Mapping[str, str], Iterable[Tuple[str, str]], None]) -> None: ...
