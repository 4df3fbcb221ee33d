// State of a client endpoint's one logical connection (service thread only).
#pragma once
#include <libwebsockets.h>

#include <deque>
#include <memory>
#include <random>
#include <string>

#include "engine.h"
#include "message.h"
#include "sse_parser.h"
#include "url.h"

namespace sw {

// The reconnect timer, bound to its engine.
struct ClientTimer {
  lws_sorted_usec_list_t sul;
  Engine *engine;
};

struct Engine::Client {
  Url url;
  lws *wsi = nullptr;
  bool connected = false;  // open event delivered for the current connection
  bool stopped = false;    // no more reconnects: the final close was reported
  bool closing = false;    // the application closes
  bool v1 = false;         // the server accepted ssews.v1
  bool close_sent = false;
  int close_code = 1000;  // what the application closes with
  std::string close_reason = "closed by application";
  int peer_close_code = 0;
  std::string peer_close_reason;
  unsigned attempt = 0;   // consecutive failures
  uint64_t retry_ms = 0;  // SSE `retry:` or the configured first delay
  bool retry_from_server = false;
  int http_status = 0;
  SseParser parser;
  std::string rx;
  bool rx_binary = false;
  std::string last_id;  // WebSocket (ssews.v1) resume point
  std::deque<MessagePtr> sendq;
  std::unique_ptr<ClientTimer> timer;
  std::string subprotocols;  // offered
  std::mt19937 rng{std::random_device{}()};
  lws_retry_bo_t retry_policy{};  // WebSocket ping / pong timeout
};

}  // namespace sw
