#include "client_request.h"

#include <cctype>

namespace sw {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto &c : out) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return out;
}

// "Name: value" (as the header option checked it) split, the name lower case
// with its colon, the value without leading blanks.
RequestHeader split(const std::string &h) {
  size_t colon = h.find(':');
  std::string value = h.substr(colon + 1);
  size_t b = value.find_first_not_of(" \t");
  return {lower(h.substr(0, colon + 1)), b == std::string::npos ? "" : value.substr(b)};
}

// Names lws writes into every request itself (client-http.c), and the
// length ssews derives from the body: a second one would contradict it.
constexpr const char *kOwnHeaders[] = {
    "host:", "pragma:", "cache-control:", "connection:", "upgrade:", "content-length:", "transfer-encoding:"};

}  // namespace

bool method_has_body(std::string_view method) {
  return method != "GET" && method != "HEAD";
}

bool method_idempotent(std::string_view m) {
  return m == "GET" || m == "HEAD" || m == "OPTIONS" || m == "TRACE" || m == "PUT" || m == "DELETE";
}

bool may_reconnect(const Options &o) {
  return o.reconnect && (method_idempotent(o.method) || o.reconnect_non_idempotent);
}

bool check_client_request(const Options &o, bool websocket, std::string &err) {
  if (websocket && o.method != "GET") {
    err = "option 'method': a WebSocket handshake is a GET ('" + o.method + "' applies to http(s) URLs)";
    return false;
  }
  if (websocket && (!o.body.empty() || !o.content_type.empty())) {
    err = std::string("option '") + (o.body.empty() ? "content_type" : "body") +
          "': a WebSocket handshake has no body (send messages instead)";
    return false;
  }
  if (!method_has_body(o.method) && !o.body.empty()) {
    err = "option 'body': method " + o.method + " has no body (set method, e.g. POST)";
    return false;
  }
  for (const auto &h : o.headers) {
    std::string name = split(h).first;
    for (const char *own : kOwnHeaders)
      if (name == own) {
        err = "option 'header': " + h.substr(0, h.find(':')) +
              (name == "content-length:" ? " is set from option 'body'" : " is written by the client itself");
        return false;
      }
  }
  return true;
}

bool user_origin(const Options &o) {
  for (const auto &h : o.headers)
    if (split(h).first == "origin:") return true;
  return false;
}

std::vector<RequestHeader> client_headers(const Options &o, bool websocket, const std::string &last_event_id,
                                          bool send_body) {
  std::vector<RequestHeader> out;
  if (!websocket) {
    out.emplace_back("accept:", "text/event-stream");
    if (!last_event_id.empty()) out.emplace_back("last-event-id:", last_event_id);
    if (send_body) {
      out.emplace_back("content-type:", o.content_type.empty() ? kDefaultBodyType : o.content_type);
      out.emplace_back("content-length:", std::to_string(o.body.size()));
    }
  }
  std::vector<RequestHeader> user;
  for (const auto &h : o.headers) user.push_back(split(h));
  for (auto it = out.begin(); it != out.end();) {
    bool replaced = false;
    for (const auto &u : user) replaced = replaced || u.first == it->first;
    it = replaced ? out.erase(it) : it + 1;
  }
  out.insert(out.end(), user.begin(), user.end());
  return out;
}

}  // namespace sw
