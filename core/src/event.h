// What an endpoint tells the application. The core's own type: capi/ maps it
// onto the opaque ssews_event of the C ABI.
#pragma once
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "jwt_verifier.h"

namespace sw {

// Event kinds and protocols; capi/ checks they equal SSEWS_EV_* / SSEWS_PROTO_*.
enum EventKind : int {
  kEvOpen = 1,
  kEvMessage = 2,
  kEvClose = 3,
  kEvError = 4,
  kEvReconnecting = 5,
  kEvDone = 6,
  kEvDrain = 7,    // a connection's queue fell to send_low_water after passing send_high_water
  kEvJoin = 8,     // presence: a connection subscribed to a channel
  kEvLeave = 9,    // presence: a connection left a channel
  kEvRequest = 10  // request_events: an HTTP request that did not become a stream was answered
};
enum class Proto : uint8_t { Ws = 1, Sse = 2 };

// A request whose open callback is running: any of its headers by name,
// also those not copied into the event (lws keeps only those it knows by
// name unless capture_headers asks for more).
struct LiveRequest {
  virtual ~LiveRequest() = default;
  virtual bool header(const char *name, std::string &out) const = 0;
};

struct Event {
  int kind = 0;
  uint64_t conn = 0;
  int protocol = 0;  // a Proto value, 0 when not about a connection
  std::string data;
  bool binary = false;
  bool has_name = false, has_id = false, has_channel = false;
  std::string name, id, channel;
  std::string path, query, peer;
  std::string subprotocol;                                   // WebSocket open: the one chosen ("" for none)
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::vector<std::string> channels;                         // open: the default subscriptions
  int code = 0;
  std::string reason;
  int64_t delay_ms = 0;
  GrantPtr grant;  // open (server): the connection's verified token, if any
  // Open event in callback mode: the live request, for headers lws does not
  // tokenise. Null once the callback has returned (pull
  // mode: always null).
  const LiveRequest *live_request = nullptr;
  // Custom headers looked up by name from live_request. A list: pointers stay
  // valid, and an empty one allocates nothing (a deque allocates on creation,
  // once per message event).
  std::list<std::pair<std::string, std::string>> extra_headers;
  // Close event of a server's connection, or a request event: its figures
  // (ssews_event_stat; a request has no messages_in / messages_out).
  struct ConnFigures {
    double duration_ms, bytes_in, bytes_out, messages_in, messages_out;
  };
  std::unique_ptr<ConnFigures> figures;
};

using EventPtr = std::unique_ptr<Event>;

inline EventPtr make_event(int kind, uint64_t conn, Proto proto) {
  auto ev = std::make_unique<Event>();
  ev->kind = kind;
  ev->conn = conn;
  ev->protocol = static_cast<int>(proto);
  return ev;
}

}  // namespace sw
