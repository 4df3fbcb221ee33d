// The one table of endpoint options: key, role, type, default and a one-line
// doc per option. parse_options (options.cpp) takes each key's role from it
// and accepts only its keys (its unit test checks there is one setter per
// row and that every default parses); ssews_option_count/ssews_option_at
// hand it to FFI users; scripts/gen-options-doc.py generates docs/options.md
// from it, and scripts/check-tables.py checks the Node typings and the Python
// stubs against it. To add an option: a row here, a setter in options.cpp,
// then rerun scripts/gen-options-doc.py.
//
// Format (the scripts read this file): one brace-enclosed row per option,
// fields as plain string literals (clang-format may split a long one into
// adjacent literals) and an OptRole enumerator. Defaults are the values the
// Options struct starts with, written as the option's text ("" = none).
#pragma once
#include <cstddef>

namespace sw {

enum OptRole { kOptServer = 1, kOptClient = 2, kOptBoth = 3 };

struct OptionInfo {
  const char *key;
  OptRole role;
  const char *type;  // "string", "integer", "boolean", "enum" (choices in doc), "list" (comma-separated)
  const char *default_value;
  const char *doc;
};

// clang-format off
inline constexpr OptionInfo kOptionTable[] = {
    {"url", kOptClient, "string", "",
     "makes the endpoint a client: `ws://`, `wss://` for WebSocket; `http://`, `https://` for Server-Sent Events"},
    {"host", kOptServer, "string", "127.0.0.1",
     "address to listen on: an IPv4 or IPv6 address (`::1`), `0.0.0.0` for all IPv4, `::` for all, `localhost`, "
     "or an interface or host name (its first IPv4 address, else its first address)"},
    {"port", kOptServer, "integer", "0", "TCP port; `0` picks a free one (`ssews_port` tells which)"},
    {"tls_cert", kOptServer, "string", "", "PEM certificate file: serve https/wss (needs `tls_key`)"},
    {"tls_key", kOptServer, "string", "", "PEM private key file of `tls_cert` (needs `tls_cert`)"},
    {"http2", kOptServer, "boolean", "true",
     "with TLS, choose HTTP/2 in ALPN when a client offers it (else HTTP/1.1): SSE streams, static files and "
     "the publish endpoint then share one connection per client (no six-connections-per-origin cap in "
     "browsers). WebSocket stays on HTTP/1.1: RFC 8441 is advertised as off, so a browser opens a connection "
     "of its own for each WebSocket. `false`: HTTP/1.1 only"},
    {"static_dir", kOptServer, "string", "",
     "serve other GETs from this directory (no path escapes; `index.html` for directories)"},
    {"history", kOptServer, "integer", "0",
     "messages kept per channel for resume (`Last-Event-ID`, `last_event_id`); 0 = off"},
    {"heartbeat", kOptServer, "integer", "15",
     "seconds of silence before an SSE comment line keeps the stream alive; 0 = off"},
    {"ping_interval", kOptBoth, "integer", "30", "seconds of WebSocket silence before a ping; 0 = off"},
    {"pong_timeout", kOptBoth, "integer", "10", "seconds to wait for the pong before dropping the connection"},
    {"max_message_size", kOptBoth, "integer", "16777216",
     "largest WebSocket message accepted (larger: close 1009 and an error event) and sent"},
    {"max_partial_bytes", kOptServer, "integer", "67108864",
     "bytes held, over all connections together, for WebSocket messages still arriving in pieces and "
     "publish-endpoint bodies still arriving; a message or body that would pass it is refused (WebSocket close "
     "1013 and an `SSEWS_EFULL` error event; HTTP 503), so slow senders cannot hold `max_connections` x "
     "`max_message_size`"},
    {"max_connections", kOptServer, "integer", "10000", "open connections at once; more get HTTP 503"},
    {"max_queue_bytes", kOptBoth, "integer", "4194304",
     "server: bytes queued for one connection before the slow-consumer policy applies; client: bytes `ssews_send` "
     "may hold while disconnected or slow (beyond: `SSEWS_EFULL`)"},
    {"queue_policy", kOptServer, "enum", "drop_oldest",
     "`drop_oldest` (oldest queued messages dropped, one error event per episode) or `close` (WebSocket close "
     "1008, SSE stream ended)"},
    {"compression", kOptBoth, "enum", "off",
     "`on`: a server answers a WebSocket client's permessage-deflate offer (RFC 7692) on the WebSockets it "
     "frames (every WebSocket, plain or TLS), always with no context takeover either way, so a broadcast is compressed once and "
     "shared; a WebSocket client offers it; `off`: neither"},
    {"compression_window_bits", kOptServer, "integer", "15",
     "largest deflate window (9-15) ssews compresses with; a client's server_max_window_bits may lower it"},
    {"compression_level", kOptServer, "integer", "6", "zlib compression level (1 fastest - 9 smallest)"},
    {"compression_min_size", kOptServer, "integer", "64",
     "messages smaller than this many bytes are sent uncompressed (so are those compression does not shrink)"},
    {"max_header_size", kOptServer, "integer", "8192", "request head size (all headers)"},
    {"handshake_timeout", kOptServer, "integer", "10", "seconds for a request or handshake to complete"},
    {"head_timeout", kOptServer, "integer", "5",
     "seconds for a connection's first request head to arrive whole (at most `handshake_timeout`), over TLS "
     "counted from accept with the handshake included (for an HTTP/2 connection, the handshake alone); after "
     "it the connection gets 408 (closed without a word while its TLS handshake is unfinished) and its slot is "
     "free, so slow-loris clients (a header byte every few seconds) hold one only this long"},
    {"max_pending_heads", kOptServer, "integer", "1024",
     "first request heads the front door reads at once, all clients together (at most `max_connections`); "
     "when full, the head that has been arriving longest gets 408 (closed, if still in its TLS handshake) and "
     "gives way to the newcomer. On plain HTTP a head sent in one piece, as clients do, is read at once and "
     "holds none; a TLS connection holds its place from accept until its head is read (HTTP/2: until its "
     "handshake is done). Also sizes libwebsockets' pool of heads being parsed (at least 256): later requests "
     "of keep-alive connections, HTTP/2 streams"},
    {"max_pending_heads_per_ip", kOptServer, "integer", "32",
     "one address's share of `max_pending_heads`; beyond it 429 with `Retry-After`. Over TLS the handshake "
     "counts as part of the head: a connection holds its share from accept until its head is read (HTTP/2: "
     "until its handshake is done), and one past the share is closed at accept. An IPv6 address counts by its "
     "/64; 0 = no share (only the pool bounds)"},
    {"max_connections_per_ip", kOptServer, "integer", "256",
     "connections from one address at once (heads being read and connections held, TLS too); beyond it 429 "
     "with `Retry-After` (over TLS: closed at accept). Behind a proxy every client has the proxy's address: "
     "raise it or set 0 = off"},
    {"handshake_rate_per_ip", kOptServer, "integer", "100",
     "new connections a second from one address (a token bucket of `handshake_burst_per_ip`); beyond it 429 "
     "with `Retry-After` (over TLS: closed at accept); 0 = off"},
    {"handshake_burst_per_ip", kOptServer, "integer", "200",
     "new connections one address may open at once before `handshake_rate_per_ip` applies"},
    {"max_pending_bytes", kOptBoth, "integer", "67108864",
     "bytes of sends/publishes waiting for the service thread; beyond it calls return `SSEWS_EFULL`"},
    {"max_event_queue", kOptBoth, "integer", "100000",
     "pull mode: events waiting to be taken before reading from peers pauses"},
    {"log_level", kOptBoth, "enum", "error",
     "this endpoint's log level, libwebsockets' lines included: `none`, `error`, `warn`, `notice`, `info`; "
     "lines go to the `ssews_on_log` callback, else stderr; per endpoint, whatever others in the process chose; may change while running (`ssews_set_option`)"},
    {"capture_headers", kOptServer, "list", "",
     "comma-separated names of request headers libwebsockets does not know by name (e.g. `X-Api-Key`) to copy "
     "into open events, so pull-mode applications (and the Node binding) see them; well-known headers "
     "(`Authorization`, `Cookie`, `Origin`, ...) are always there"},
    {"publish_token", kOptServer, "string", "",
     "enables the HTTP publish endpoint: `POST <publish_path>?channel=C[&event=E][&id=I]` with `Authorization: "
     "Bearer <token>` publishes the body (text; binary with `Content-Type: application/octet-stream`) and "
     "answers `{\"id\":...,\"subscribers\":N}`. A refusal answers `{\"error\":\"...\"}` naming the problem: 400 for a "
     "missing, repeated or over-1024-byte `channel`/`event`/`id`, one holding CR, LF, NUL or another control "
     "character or not UTF-8, or a `Content-Length` that is not decimal; 411 without `Content-Length`; 413 over "
     "`max_message_size`; 503 over `max_partial_bytes`; 401 for a wrong token. With `jwt_secret` or "
     "`jwt_public_key` the endpoint is on even without it and also takes a JWT whose `publish` claim allows "
     "the channel (403 naming it otherwise). May change while running (`ssews_set_option`)"},
    {"publish_path", kOptServer, "string", "/publish", "path of the publish endpoint (starts with `/`, no query)"},
    {"broker", kOptServer, "string", "",
     "share channels and history with other nodes through Redis: `redis://[user:password@]host[:port][/db]` "
     "or `unix:/path/redis.sock[?db=N]` (`unix://:password@/path` with a password). Ids are assigned in Redis (one sequence for the cluster), history is "
     "one Redis stream per channel (`history` entries), and a client resumes on any node; see docs/scaling.md. "
     "While Redis is away, open connections are served and publishes fail with `SSEWS_EBROKER` (HTTP 503)"},
    {"broker_prefix", kOptServer, "string", "ssews",
     "namespace of the `broker`'s Redis keys and pub/sub channels, so several applications share one Redis"},
    {"jwt_secret", kOptServer, "string", "",
     "every WebSocket and SSE connection needs a JWT signed with this HMAC secret (HS256, HS384, HS512), unless "
     "its channels match `anonymous_subscribe`; `@path` reads the secret from a file (one trailing newline "
     "stripped). See docs/security.md. May change while running (`ssews_set_option`): new connections "
     "need a token of the new key, open ones keep theirs until it expires"},
    {"jwt_public_key", kOptServer, "string", "",
     "path of a PEM public key: like `jwt_secret`, for tokens signed RS256/384/512 or PS256/384/512 (RSA key), or ES256/384/512 "
     "(EC key on P-256/384/521); other algorithms, `none` included, are refused; may change while running (`ssews_set_option`)"},
    {"jwt_audience", kOptServer, "string", "", "tokens must carry this `aud` (a string, or in a list); may change while running (`ssews_set_option`)"},
    {"jwt_issuer", kOptServer, "string", "", "tokens must carry this `iss`; may change while running (`ssews_set_option`)"},
    {"jwt_leeway", kOptServer, "integer", "30", "seconds of clock skew allowed on `exp` and `nbf`; may change while running (`ssews_set_option`)"},
    {"jwt_cookie", kOptServer, "string", "ssewsAuthorization",
     "name of the cookie a token may come in (after `Authorization: Bearer` and the `authorization` query "
     "parameter); cookies are accepted only when `allowed_origins` is set too"},
    {"allowed_origins", kOptServer, "list", "",
     "web origins (`https://app.example:8443`, comma-separated; `*` = any) whose pages may open WebSockets and "
     "SSE streams and publish; another `Origin` gets 403. Requests without `Origin` (programs) are not judged. "
     "Unset: no Origin check and no CORS headers (safe only because cookies are then refused); may change while running (`ssews_set_option`)"},
    {"anonymous_subscribe", kOptServer, "list", "",
     "with a JWT key: channel patterns (`news`, `prices.*`, `*`; comma-separated) anyone may read without a "
     "token; may change while running (`ssews_set_option`)"},
    {"metrics_path", kOptServer, "string", "",
     "serve Prometheus metrics (text format 0.0.4) at this path on the server's own port, e.g. `/metrics`; "
     "every family is there from the start (docs/operations.md lists them); empty = off"},
    {"metrics_token", kOptServer, "string", "",
     "when set, `metrics_path` answers only requests with `Authorization: Bearer <token>` (else 401); may "
     "change while running (`ssews_set_option`)"},
    {"send_high_water", kOptServer, "integer", "1048576",
     "bytes queued for one connection past which it owes a drain event (`SSEWS_EV_DRAIN`, Node `'drain'`) "
     "once its queue is back at or below `send_low_water`"},
    {"send_low_water", kOptServer, "integer", "65536",
     "see `send_high_water`; must be below it"},
    {"drain_timeout", kOptServer, "integer", "0",
     "seconds a graceful shutdown spreads its closes over: listening stops at once, then each WebSocket peer "
     "gets close 1012 (service restart) and each SSE peer a random `retry:` within the window and the end of "
     "its stream, at a random moment within the window, so clients come back spread out, not in one burst; "
     "0 = close everything at once (1001)"},
    {"presence", kOptServer, "boolean", "false",
     "join/leave notices: a subscription made or ended gives the application a join or leave event (conn, "
     "channel), and subscribers of the channel that speak `ssews.v1` a message with event `join` or `leave` "
     "and data `{\"conn\":N}`"},
    {"request_events", kOptServer, "boolean", "false",
     "a request event (`SSEWS_EV_REQUEST`) for every HTTP request answered without becoming a stream: "
     "static files, publish and presence requests, `metrics_path`, CORS preflights, refusals (4xx, 5xx) of "
     "requests and of WebSocket upgrades, also those the server answers before reading a whole head (400, "
     "408, 429, 431, 503); method, path, query, peer, status and figures, what an access log writes"},
    {"header", kOptClient, "string", "",
     "`Name: value` sent with every (re)connect, e.g. `Authorization: Bearer ...`; repeatable; CR/LF refused"},
    {"subprotocols", kOptBoth, "string", "",
     "WebSocket subprotocols (comma-separated): a client offers them besides `ssews.v1`; a server accepts "
     "them besides `ssews.v1` and `ssews`, the first a client offers winning unless the open callback "
     "chooses (`ssews_accept_subprotocol`); an offer of none of them gets no subprotocol, not a refusal"},
    {"v1", kOptClient, "boolean", "true",
     "WebSocket: offer `ssews.v1`, so messages carry channel, event name and id and the client can resume with "
     "`last_event_id`; used only when the server confirms it (`X-Ssews: v1` on the 101, as ssews servers "
     "do), else the client is plain"},
    {"ca_file", kOptClient, "string", "",
     "PEM bundle to verify the server's certificate with (default: the system's CAs)"},
    {"insecure", kOptClient, "boolean", "false",
     "skip certificate verification (only for tests and known hosts)"},
    {"connect_timeout", kOptClient, "integer", "10", "seconds for the TCP, TLS and HTTP/WebSocket handshakes"},
    {"reconnect", kOptClient, "boolean", "true", "reconnect after the connection ends or fails"},
    {"reconnect_delay_ms", kOptClient, "integer", "1000",
     "first reconnect delay in milliseconds; an SSE `retry:` field replaces it. Every delay, the first "
     "too, is spread by +/-20 % so clients dropped together do not return together"},
    {"reconnect_max_delay_ms", kOptClient, "integer", "30000",
     "cap of the exponential backoff across failed attempts, in milliseconds (a larger SSE `retry:` is "
     "obeyed)"},
    {"reconnect_max_attempts", kOptClient, "integer", "0",
     "consecutive failed attempts before giving up (final close); 0 = never"},
    {"last_event_id", kOptClient, "string", "", "resume point for the first connect"},
    {"method", kOptClient, "string", "GET",
     "SSE: the request method, e.g. `POST` for streaming APIs that start a stream with a request body; "
     "WebSocket handshakes are GET"},
    {"body", kOptClient, "string", "",
     "SSE: the request body (text, e.g. JSON), sent with its `Content-Length` on every (re)connect; needs a "
     "method other than GET and HEAD"},
    {"content_type", kOptClient, "string", "",
     "SSE: `Content-Type` of a method with a body (default `text/plain;charset=UTF-8`); a `header` "
     "`Content-Type: ...` replaces it, as any `header` replaces a default of the same name"},
    {"reconnect_non_idempotent", kOptClient, "boolean", "false",
     "also reconnect a stream whose method is not idempotent (POST, PATCH; not GET, HEAD, OPTIONS, TRACE, PUT, "
     "DELETE), sending the body again; off: such a stream that ends or fails is a final close, so a POST is "
     "never repeated unasked"},
};
// clang-format on

inline constexpr size_t kOptionCount = sizeof(kOptionTable) / sizeof(kOptionTable[0]);

inline const char *opt_role_name(OptRole r) {
  return r == kOptServer ? "server" : r == kOptClient ? "client" : "both";
}

}  // namespace sw
