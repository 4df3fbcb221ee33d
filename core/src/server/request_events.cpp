// The request_events option: one SSEWS_EV_REQUEST per HTTP request that the
// server answered without it becoming a stream (static files, the publish
// and presence endpoints, metrics, CORS preflights, refusals of requests and
// of WebSocket upgrades), so an access log sees every request, not only the
// connections. Where the answer is written:
//  - through lws: write_answer and http_body, which every short answer uses,
//    report it once written whole (exchange_answered); a static file is
//    reported when lws has sent it (exchange_end);
//  - by the front door, on plain sockets (its refusals, and the answers the
//    WebSocket handoff refuses with): door_answered, from the door's one hook.
// A request that becomes a stream (SSE, a WebSocket upgrade) is the
// connection's, reported by its open and close events; one whose peer left
// before its answer is not reported (a file whose peer left midway is). Off (the default), every hook returns
// at once and nothing is kept. Service thread only.
#include <libwebsockets.h>

#include <cstring>

#include "engine.h"
#include "lws_util.h"
#include "server/server_role.h"

namespace sw {

namespace {

const char *method_name(int m) {
  static const char *const names[] = {"GET", "POST", "OPTIONS", "PUT", "PATCH", "DELETE", "CONNECT", "HEAD"};
  return m >= 0 && m < static_cast<int>(sizeof names / sizeof names[0]) ? names[m] : "";
}

// About the size of the head lws parsed: each header it kept, named, plus
// the request line (lws keeps no count of the bytes it read).
size_t lws_head_size(lws *wsi) {
  size_t n = 2;  // the empty line
  for (int t = 0; t < WSI_TOKEN_COUNT; t++) {
    int len = lws_hdr_total_length(wsi, static_cast<enum lws_token_indexes>(t));
    if (len <= 0) continue;
    const unsigned char *name = lws_token_to_string(static_cast<enum lws_token_indexes>(t));
    n += (name ? strlen(reinterpret_cast<const char *>(name)) : 0) + 1 + static_cast<size_t>(len) + 2;
  }
  return n;
}

// Printable ASCII only: a request line that is not text is not copied.
std::string printable(std::string_view s) {
  std::string out;
  for (char ch : s) out += ch > 0x20 && ch < 0x7f ? ch : '?';
  return out;
}

}  // namespace

void ServerRole::exchange_begin(lws *wsi) {
  if (!opts().request_events) return;
  Exchange x;
  x.start_us = lws_now_usecs();
  char *uri = nullptr;
  int uri_len = 0;
  int m = lws_http_get_uri_and_method(wsi, &uri, &uri_len);
  if (m == LWSHUMETH_COLON_PATH) {
    x.method = lws_header(wsi, WSI_TOKEN_HTTP_COLON_METHOD);
    x.path = lws_header(wsi, WSI_TOKEN_HTTP_COLON_PATH);
    size_t q = x.path.find('?');  // :path carries the query
    if (q != std::string::npos) x.path.resize(q);
  } else {
    x.method = method_name(m);
    if (uri && uri_len > 0) x.path.assign(uri, static_cast<size_t>(uri_len));
  }
  for (const auto &f : lws_query_fragments(wsi)) x.query += (x.query.empty() ? "" : "&") + f;
  x.peer = peer_name(wsi);
  x.bytes_in = lws_head_size(wsi);
  exchanges_[wsi] = std::move(x);
}

void ServerRole::exchange_body(lws *wsi, size_t len) {
  if (exchanges_.empty()) return;
  auto it = exchanges_.find(wsi);
  if (it != exchanges_.end()) it->second.bytes_in += len;
}

void ServerRole::exchange_answered(lws *wsi, unsigned status, size_t bytes_out) {
  if (exchanges_.empty()) return;
  auto it = exchanges_.find(wsi);
  if (it == exchanges_.end()) return;
  Exchange x = std::move(it->second);
  exchanges_.erase(it);
  emit_request(std::move(x), status, bytes_out);
}

void ServerRole::exchange_file(lws *wsi, size_t bytes) {
  if (exchanges_.empty()) return;
  auto it = exchanges_.find(wsi);
  if (it == exchanges_.end()) return;
  it->second.status = HTTP_STATUS_OK;
  it->second.bytes_out = bytes;
}

void ServerRole::exchange_end(lws *wsi) {
  if (exchanges_.empty()) return;
  auto it = exchanges_.find(wsi);
  if (it == exchanges_.end() || !it->second.status) return;
  exchange_answered(wsi, it->second.status, it->second.bytes_out);
}

void ServerRole::exchange_drop(lws *wsi) {
  if (!exchanges_.empty()) exchanges_.erase(wsi);
}

void ServerRole::door_answered(const FrontDoor::Config::Answered &a) {
  Exchange x;
  x.peer = peer_text(a.fd);
  // What the request line holds, if it came: METHOD SP target SP version.
  std::string_view h = a.head;
  size_t eol = h.find_first_of("\r\n");
  std::string_view line = h.substr(0, eol);
  size_t sp = line.find(' ');
  if (sp != std::string_view::npos) {
    x.method = printable(line.substr(0, sp));
    std::string_view target = line.substr(sp + 1);
    target = target.substr(0, target.find(' '));
    size_t q = target.find('?');
    x.path = printable(target.substr(0, q));
    if (q != std::string_view::npos) x.query = printable(target.substr(q + 1));
  }
  x.bytes_in = a.bytes_in;
  x.start_us = lws_now_usecs() - static_cast<int64_t>(a.duration_ms * 1000);
  emit_request(std::move(x), a.status, a.bytes_out);
}

void ServerRole::emit_request(Exchange x, unsigned status, size_t bytes_out) {
  EventPtr ev = make_event(kEvRequest, 0, Proto{});
  ev->protocol = 0;
  ev->has_name = true;
  ev->name = std::move(x.method);
  ev->path = std::move(x.path);
  ev->query = std::move(x.query);
  ev->peer = std::move(x.peer);
  ev->code = static_cast<int>(status);
  ev->figures.reset(new Event::ConnFigures{static_cast<double>(lws_now_usecs() - x.start_us) / 1000.0,
                                           static_cast<double>(x.bytes_in), static_cast<double>(bytes_out), 0,
                                           0});
  e_.emit(std::move(ev));
}

}  // namespace sw
