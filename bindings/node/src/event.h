// ssews events as JavaScript objects. An EventView points at an event's
// fields, whether they live in a pulled ssews_event or in an OwnedEvent (a
// copy taken on the service thread while an endpoint closes).
#pragma once
#include <napi.h>
#include <ssews.h>

#include <string>
#include <utility>
#include <vector>

namespace ssews_node {

struct EventView {
  int kind = 0;
  ssews_conn conn = 0;
  int protocol = 0;
  const char *data = nullptr;
  size_t len = 0;
  bool binary = false;
  const char *name = nullptr;     // may be null
  const char *id = nullptr;       // may be null
  const char *channel = nullptr;  // may be null
  const char *path = "", *query = "", *peer = "", *subprotocol = "";
  std::vector<std::pair<const char *, const char *>> headers;
  std::vector<const char *> channels;
  int code = 0;
  const char *reason = "";
  int64_t delay_ms = 0;
  const char *identity = nullptr;                      // open (server): the verified token's sub; may be null
  const char *claims = nullptr;                        // open (server): its claims as JSON; may be null
  std::vector<std::pair<const char *, double>> stats;  // a server's close event (static names)
};

// A view of a pulled event (valid until the next ssews_next_event).
EventView ViewOf(const ssews_event *ev);

// A copy of an event that outlives it.
class OwnedEvent {
 public:
  explicit OwnedEvent(const ssews_event *ev);
  EventView View() const;

 private:
  int kind_, protocol_, code_;
  ssews_conn conn_;
  bool binary_, has_name_, has_id_, has_channel_, has_identity_, has_claims_;
  std::string data_, name_, id_, channel_, path_, query_, peer_, subprotocol_, reason_, identity_, claims_;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::vector<std::string> channels_;
  int64_t delay_ms_;
  std::vector<std::pair<const char *, double>> stats_;
};

// The event object handed to JavaScript:
//   open:         {type, conn, protocol, path, query, peer, headers, channels,
//                  subprotocol (WebSocket), identity, claims}
//   message:      {type, conn, protocol, data, binary, event, id, channel}
//   close:        {type, conn, protocol, code, reason, stats (server: figures)}
//   request:      {type, conn (0), protocol (null), method, path, query, peer,
//                  status, stats} (server, request_events option)
//   reconnecting: {type, conn, protocol, attempt, delay}
//   error:        an Error with {type, conn, protocol, code, errno}
// protocol is 'websocket', 'sse' or null.
Napi::Value ToJs(Napi::Env env, const EventView &ev);

}  // namespace ssews_node
