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
     "address to listen on: an IPv4 or IPv6 address (`::1`), `0.0.0.0` for all IPv4, `::` for all, `localhost`"},
    {"port", kOptServer, "integer", "0", "TCP port; `0` picks a free one (`ssews_port` tells which)"},
    {"tls_cert", kOptServer, "string", "", "PEM certificate file: serve https/wss (needs `tls_key`)"},
    {"tls_key", kOptServer, "string", "", "PEM private key file of `tls_cert` (needs `tls_cert`)"},
    {"http2", kOptServer, "boolean", "true",
     "with TLS, offer HTTP/2 in ALPN besides HTTP/1.1: SSE streams, static files and the publish endpoint then "
     "share one connection per client (no six-connections-per-origin cap in browsers); WebSocket stays on "
     "HTTP/1.1. `false` offers only HTTP/1.1"},
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
    {"max_header_size", kOptServer, "integer", "8192", "request head size (all headers)"},
    {"handshake_timeout", kOptServer, "integer", "10", "seconds for a request or handshake to complete"},
    {"max_pending_bytes", kOptBoth, "integer", "67108864",
     "bytes of sends/publishes waiting for the service thread; beyond it calls return `SSEWS_EFULL`"},
    {"max_event_queue", kOptBoth, "integer", "100000",
     "pull mode: events waiting to be taken before reading from peers pauses"},
    {"log_level", kOptBoth, "enum", "error",
     "this endpoint's log level, libwebsockets' lines included: `none`, `error`, `warn`, `notice`, `info`; "
     "lines go to the `ssews_on_log` callback, else stderr; per endpoint, whatever others in the process chose"},
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
     "`max_message_size`; 503 over `max_partial_bytes`; 401 for a wrong token"},
    {"publish_path", kOptServer, "string", "/publish", "path of the publish endpoint (starts with `/`, no query)"},
    {"header", kOptClient, "string", "",
     "`Name: value` sent with every (re)connect, e.g. `Authorization: Bearer ...`; repeatable; CR/LF refused"},
    {"subprotocols", kOptClient, "string", "",
     "WebSocket subprotocols to offer besides `ssews.v1` (comma-separated)"},
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
