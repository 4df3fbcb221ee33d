// Endpoint options: string key/value pairs from the C ABI parsed into typed
// settings, each with a safe default. A bad key or value is an error that
// names it, so bindings can pass keyword arguments straight through.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sw {

struct Options {
  // Role: a client when url is set (issue: clients), otherwise a server.
  std::string url;

  // Server
  std::string host = "127.0.0.1";
  int port = 0;
  std::string tls_cert, tls_key;
  bool http2 = true;  // with TLS, ALPN offers h2 (SSE, files, publish); WebSocket stays HTTP/1.1
  std::string static_dir;
  size_t history = 0;                    // messages kept per channel
  unsigned heartbeat = 15;               // seconds between SSE comments; 0 = off
  unsigned ping_interval = 30;           // seconds of silence before a WebSocket ping; 0 = off
  unsigned pong_timeout = 10;            // seconds to wait for the pong
  size_t max_message_size = 16u << 20;   // largest incoming WebSocket message
  size_t max_partial_bytes = 64u << 20;  // all unfinished incoming messages and publish bodies together
  unsigned max_connections = 10000;      // open connections at once
  size_t max_queue_bytes = 4u << 20;     // per-connection outbound queue
  bool queue_drop_oldest = true;         // queue_policy: drop_oldest | close
  bool compression = false;              // permessage-deflate: on | off
  unsigned compression_window_bits = 15;
  unsigned compression_level = 6;
  size_t compression_min_size = 64;
  size_t max_header_size = 8192;             // request head (all headers)
  unsigned handshake_timeout = 10;           // seconds to complete a request/handshake
  unsigned head_timeout = 5;                 // seconds for a request head to arrive whole
  size_t max_pending_heads = 1024;           // request heads being read at once, all clients
  size_t max_pending_heads_per_ip = 32;      // ...from one address
  size_t max_connections_per_ip = 256;       // heads being read + connections, one address
  unsigned handshake_rate_per_ip = 100;      // new connections a second from one address
  unsigned handshake_burst_per_ip = 200;     // ...at once
  size_t max_pending_bytes = 64u << 20;      // bytes of sends queued to the service thread
  size_t max_event_queue = 100000;           // pull mode: events waiting to be taken
  std::string log_level = "error";           // libwebsockets log: none|error|warn|notice|info
  std::vector<std::string> capture_headers;  // custom request headers the open event carries
  std::string publish_token;                 // enables POST publish_path with this bearer token
  std::string publish_path = "/publish";
  std::string broker;                    // redis://... or unix:...; empty = channels in memory
  std::string broker_prefix = "ssews";   // Redis key namespace
  std::string jwt_secret;                // HMAC key, or "@path"
  std::string jwt_public_key;            // path of a PEM public key
  std::string jwt_audience, jwt_issuer;  // "" = not checked
  unsigned jwt_leeway = 30;              // seconds
  std::string jwt_cookie = "ssewsAuthorization";
  std::string allowed_origins;                   // comma list; "" = no Origin check
  std::vector<std::string> anonymous_subscribe;  // patterns readable without a token
  std::string metrics_path;                      // GET here: Prometheus text (metrics.h); "" = off
  std::string metrics_token;                     // when set, metrics_path wants this bearer token
  size_t send_high_water = 1u << 20;             // queued bytes past which a drain event is owed
  size_t send_low_water = 64u << 10;             // ... once the queue is back at or below this
  bool presence = false;                         // join/leave notices and events
  bool request_events = false;                   // an event per answered HTTP request (access logs)
  unsigned drain_timeout = 0;                    // seconds to spread closes over at shutdown; 0 = at once

  // Client
  std::vector<std::string> headers;  // "Name: value", sent with every (re)connect
  std::string subprotocols;          // WebSocket: comma-separated, besides ssews.v1
  bool v1 = true;                    // WebSocket: offer ssews.v1 (channel, event, id)
  std::string ca_file;               // PEM bundle to verify the server with
  bool insecure = false;             // skip TLS verification (only when asked)
  unsigned connect_timeout = 10;     // seconds
  bool reconnect = true;
  unsigned reconnect_delay_ms = 1000;       // first delay; SSE `retry:` replaces it
  unsigned reconnect_max_delay_ms = 30000;  // cap of the exponential backoff
  unsigned reconnect_max_attempts = 0;      // consecutive failures before giving up; 0 = never
  std::string last_event_id;                // resume point for the first connect
  std::string method = "GET";               // SSE: the request's method (POST streams)
  std::string body;                         // SSE: sent with every (re)connect of a method with a body
  std::string content_type;                 // SSE: Content-Type of body ("" = text/plain;charset=UTF-8)
  bool reconnect_non_idempotent = false;    // reconnect (and resend) a POST/PATCH stream too
};

// Parses a NULL-terminated key, value, key, value, ... array (NULL = defaults).
// On error returns false with err naming the key and the problem.
bool parse_options(const char *const *kv, Options &out, std::string &err);

// A "Name: value" request header line as the `header` option takes it (a
// token name; no CR, LF or NUL anywhere). False with why.
bool check_header_line(const std::string &line, std::string &why);

// The keys parse_options accepts (the rows of kOptionTable, option_table.h).
const std::vector<std::string> &option_keys();

// True when kOptionTable and parse_options' setters list the same keys;
// otherwise false with err naming the odd one. For the unit tests.
bool options_table_check(std::string &err);

}  // namespace sw
