// Connection bookkeeping of the server role: a new peer, its open event and
// the application's decision, acceptance (subscriptions, resume), closing,
// and the one close event each opened connection is owed.
#include <arpa/inet.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include "engine.h"
#include "ascii.h"
#include "channel_pattern.h"
#include "lws_util.h"
#include "server/server_role.h"

namespace sw {

namespace {

// The URL arguments, decoded by lws, one "k=v" per fragment, of any length.
std::vector<std::string> url_args(lws *wsi) {
  return lws_query_fragments(wsi);
}

bool arg_value(const std::string &arg, const char *key, std::string &v) {
  size_t k = strlen(key);
  if (arg.size() < k + 1 || arg.compare(0, k, key) != 0 || arg[k] != '=') return false;
  v = arg.substr(k + 1);
  return true;
}

// Request-line and pseudo tokens that are not headers.
bool is_pseudo_token(int t) {
  switch (t) {
    case WSI_TOKEN_GET_URI:
    case WSI_TOKEN_POST_URI:
    case WSI_TOKEN_OPTIONS_URI:
    case WSI_TOKEN_HEAD_URI:
    case WSI_TOKEN_PUT_URI:
    case WSI_TOKEN_PATCH_URI:
    case WSI_TOKEN_DELETE_URI:
    case WSI_TOKEN_CONNECT:
    case WSI_TOKEN_HTTP_URI_ARGS:
    case WSI_TOKEN_HTTP:
    case WSI_TOKEN_HTTP_COLON_AUTHORITY:
    case WSI_TOKEN_HTTP_COLON_METHOD:
    case WSI_TOKEN_HTTP_COLON_PATH:
    case WSI_TOKEN_HTTP_COLON_SCHEME:
    case WSI_TOKEN_HTTP_COLON_STATUS:
      return true;
    default:
      return false;
  }
}

struct LwsLiveRequest final : LiveRequest {
  lws *wsi;
  explicit LwsLiveRequest(lws *w) : wsi(w) {}
  bool header(const char *name, std::string &out) const override { return custom_header(wsi, name, out); }
};

}  // namespace

// Custom request headers lws does not tokenise are only reachable while the
// request is live (during the open callback).
bool custom_header(lws *wsi, const char *name, std::string &out) {
  std::string n = name;
  for (auto &ch : n) ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
  n += ':';
  int len = lws_hdr_custom_length(wsi, n.c_str(), static_cast<int>(n.size()));
  if (len < 0) return false;
  out.assign(static_cast<size_t>(len) + 1, '\0');
  int got = lws_hdr_custom_copy(wsi, &out[0], len + 1, n.c_str(), static_cast<int>(n.size()));
  if (got < 0) return false;
  out.resize(static_cast<size_t>(got));
  return true;
}

bool peer_address(int fd, sockaddr_storage &out) {
  socklen_t len = sizeof out;
  return fd >= 0 && getpeername(fd, reinterpret_cast<sockaddr *>(&out), &len) == 0;
}

std::string address_text(const sockaddr_storage &ss) {
  char buf[INET6_ADDRSTRLEN] = "";
  if (ss.ss_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in *>(&ss)->sin_addr, buf, sizeof buf);
  else if (ss.ss_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6 *>(&ss)->sin6_addr, buf, sizeof buf);
  return buf;
}

std::string peer_text(int fd) {
  sockaddr_storage ss{};
  return peer_address(fd, ss) ? address_text(ss) : std::string();
}

IpKey peer_key(int fd) {
  sockaddr_storage ss;
  return peer_address(fd, ss) ? ip_key(reinterpret_cast<const sockaddr *>(&ss)) : IpKey();
}

Conn *ServerRole::conn_of(lws *wsi) {
  return static_cast<Conn *>(lws_get_opaque_user_data(wsi));
}

Conn *ServerRole::find(ConnId id) {
  auto it = conns_.find(id);
  return it == conns_.end() ? nullptr : &it->second;
}

Conn *ServerRole::new_conn(lws *wsi, Proto proto) {
  ConnId id = next_id_++;
  Conn *c = &conns_
                 .emplace(std::piecewise_construct, std::forward_as_tuple(id),
                          std::forward_as_tuple(opts().max_queue_bytes, opts().queue_drop_oldest))
                 .first->second;
  c->id = id;
  c->opened_us = lws_now_usecs();
  c->proto = proto;
  c->enc = proto == Proto::Sse ? Encoding::Sse : Encoding::WsPlain;
  if (wsi) attach(c, wsi);
  return c;
}

// The channels a request asks for: its `channel` query parameters, else its
// path without the leading slash.
std::vector<std::string> ServerRole::channels_asked(const std::vector<std::string> &query,
                                                    const std::string &path) {
  std::vector<std::string> out;
  for (const auto &a : query) {
    std::string v;
    if (arg_value(a, "channel", v) && !v.empty()) out.push_back(v);
  }
  if (out.empty() && path.size() > 1) out.push_back(path.substr(1));
  return out;
}

std::vector<std::string> ServerRole::requested_channels(lws *wsi) {
  return channels_asked(url_args(wsi), lws_request_path(wsi));
}

void ServerRole::attach(Conn *c, lws *wsi) {
  c->wsi = wsi;
  lws_set_opaque_user_data(wsi, c);
}

ServerRole::OpenRequest ServerRole::lws_request(lws *wsi) {
  OpenRequest r;
  r.path = lws_request_path(wsi);
  r.query = url_args(wsi);
  r.peer = peer_name(wsi);
  for (int t = 0; t < WSI_TOKEN_COUNT; t++) {
    if (is_pseudo_token(t)) continue;
    if (lws_hdr_total_length(wsi, static_cast<enum lws_token_indexes>(t)) <= 0) continue;
    const char *name =
        reinterpret_cast<const char *>(lws_token_to_string(static_cast<enum lws_token_indexes>(t)));
    if (!name) continue;
    std::string n = name;
    if (!n.empty() && n.back() == ':') n.pop_back();
    if (n.empty() || n[0] == ':' || n.find(' ') != std::string::npos) continue;
    for (auto &ch : n) ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
    r.headers.emplace_back(n, lws_header(wsi, static_cast<enum lws_token_indexes>(t)));
  }
  // Headers lws does not know by name are kept only when asked for, so the
  // open event carries them in pull mode too (capture_headers option).
  for (const auto &name : opts().capture_headers) {
    std::string v;
    if (custom_header(wsi, name.c_str(), v)) r.headers.emplace_back(name, v);
  }
  custom_header(wsi, "last-event-id", r.last_event_id_header);
  r.live.reset(new LwsLiveRequest(wsi));
  // lws answers with the first offered of the protocols it serves.
  r.offered_protocols = split_list(lws_header(wsi, WSI_TOKEN_PROTOCOL));
  for (const auto &p : r.offered_protocols)
    if (serves_subprotocol(p)) {
      r.subprotocol = p;
      break;
    }
  return r;
}

bool ServerRole::report_open(Conn *c, int &reject_status) {
  return report_open(c, lws_request(c->wsi), reject_status);
}

// Tells the application about a new connection and applies what it decided in
// the callback. Returns false (with the HTTP status) when it was rejected.
bool ServerRole::report_open(Conn *c, OpenRequest req, int &reject_status) {
  EventPtr ev = make_event(kEvOpen, c->id, c->proto);
  for (size_t i = 0; i < req.query.size(); i++) {
    if (i) ev->query += '&';
    ev->query += req.query[i];
  }
  ev->path = req.path;
  ev->peer = std::move(req.peer);
  ev->headers = std::move(req.headers);
  ev->live_request = req.live.get();
  ev->subprotocol = req.subprotocol;
  open_offered_ = std::move(req.offered_protocols);
  open_protocol_ = std::move(req.subprotocol);
  open_any_protocol_ = req.any_subprotocol;
  ev->grant = c->grant;

  // Resume point: Last-Event-ID header (EventSource), or a query parameter
  // (WebSocket clients, and EventSource polyfills).
  std::string &last_id = c->more().last_event_id;
  last_id = std::move(req.last_event_id_header);
  for (const auto &a : req.query) {
    std::string v;
    if (last_id.empty() && (arg_value(a, "last_event_id", v) || arg_value(a, "lastEventId", v))) last_id = v;
  }
  std::vector<std::string> defaults = channels_asked(req.query, req.path);
  ev->channels = defaults;

  {
    std::lock_guard<std::mutex> lk(live_mu_);
    live_.emplace(c->id, Live{c->proto, c->grant});
  }
  c->open_reported = true;
  in_open_ = c->id;
  open_reject_ = 0;
  open_subscribed_ = false;
  open_channels_.clear();
  e_.emit(std::move(ev));
  in_open_ = 0;
  if (open_reject_) {
    m_.add(kMRefuseApp);
    reject_status = open_reject_;
    c->open_reported = false;  // a refused handshake never opened: no close event
    return false;
  }
  c->more().initial_channels = open_subscribed_ ? open_channels_ : defaults;
  return true;
}

// The connection is live: subscribe it, replay what it missed, then new messages follow.
void ServerRole::accept_conn(Conn *c) {
  c->established = true;
  m_.add(c->proto == Proto::Ws ? kMAcceptWs : kMAcceptSse);
  c->last_write_us = lws_now_usecs();
  c->last_rx_ms = static_cast<uint32_t>(c->last_write_us / 1000);
  ConnMore &m = c->more();
  for (const auto &ch : m.initial_channels) join(c, ch);
  if (broker_ && !m.last_event_id.empty()) {
    m.initial_channels.clear();
    broker_resume(c, m.last_event_id);  // history lives in Redis: resume_done finishes
    return;
  }
  if (!m.last_event_id.empty()) {
    Hub::Replay r = hub_.replay(hub_.channels_of(c->id), m.last_event_id);
    m_.add(r.gap ? kMResumeGap : kMResumeComplete);
    if (r.gap) queue_to(c, gap_notice(m.last_event_id));
    for (const auto &msg : r.messages) queue_to(c, msg);
  }
  m.initial_channels.clear();
  m.last_event_id.clear();
  c->trim_more();  // the request's details are used up
  mark_dirty(c);
}

// Tells a resuming client it may have missed messages history no longer holds.
MessagePtr ServerRole::gap_notice(const std::string &last_id) {
  auto gap = std::make_shared<Message>();
  gap->control = true;
  gap->event = "ssews-gap";
  gap->payload = WireBuf(last_id.data(), last_id.size());
  return gap;
}

void ServerRole::start_close(Conn *c, int code, const std::string &reason) {
  if (c->closing) return;
  c->closing = true;
  c->close_code = static_cast<uint16_t>(code);
  c->more().close_reason = reason;
  if (!c->established) {  // nothing to flush; the handshake never completed
    close_within(c, 0);
    return;
  }
  want_write(c);
  // A peer that never reads must not hold the close up for ever (one that
  // broke the rules or fell behind, not for long).
  close_within(c, c->fail_code ? 2 : 5);
}

void ServerRole::report_error(Conn *c, int err, const std::string &why) {
  if (!c->open_reported) return;
  EventPtr ev = make_event(kEvError, c->id, c->proto);
  ev->code = err;
  ev->reason = why;
  e_.emit(std::move(ev));
}

void ServerRole::fail_conn(Conn *c, int ws_code, int err, const std::string &why) {
  report_error(c, err, why);
  c->fail_code = static_cast<uint16_t>(ws_code);
  c->q.clear();                             // a failed connection gets no more data, only its close
  if (c->more_ && !c->more_->rx.empty()) {  // nor will its unfinished message complete
    release(c->more_->rx.size());
    std::string().swap(c->more_->rx);
  }
  c->closing = false;
  start_close(c, ws_code, why.substr(0, 123));
}

// Reports c closed now and has lws drop its socket without a goodbye (a
// hung-up SSE stream, a silent WebSocket peer).
void ServerRole::drop(Conn *c) {
  if (!c->wsi) return end_socket(c, false);
  lws *wsi = c->wsi;
  finish(c);
  lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
}

std::string ServerRole::peer_name(lws *wsi) {
  if (!relay_peer_.empty()) {
    auto it = relay_peer_.find(lws_get_network_wsi(wsi));
    if (it != relay_peer_.end()) return address_text(it->second);
  }
  char peer[64] = "";
  lws_get_peer_simple(wsi, peer, sizeof peer);
  return peer;
}

int ServerRole::conn_gone(lws *wsi) {
  relay_peer_.erase(wsi);
  auto ip = ip_of_.find(wsi);  // the first of the callbacks that end a wsi uncounts it
  if (ip != ip_of_.end()) {
    if (ip->second.head)
      limits_.head_done(ip->second.ip);
    else
      limits_.conn_closed(ip->second.ip);
    ip_of_.erase(ip);
  }
  if (Conn *c = conn_of(wsi)) finish(c);
  return 0;
}

// Every server connection lws holds counts against its address until it
// ends (conn_gone). The door handed it over once it had sent its head (or,
// relayed from the door's TLS, done its handshake), so it is a connection,
// no longer a head.
int ServerRole::count_conn(lws *wsi) {
  IpKey key;
  if (adopting_peer_) {  // relayed from the door's TLS (tls_server.cpp): lws sees a Unix socket
    key = ip_key(reinterpret_cast<const sockaddr *>(adopting_peer_));
    relay_peer_[wsi] = *adopting_peer_;
  } else {
    key = peer_key(lws_get_socket_fd(wsi));
  }
  if (key.empty()) return 0;  // the door's own descriptor, not a peer
  limits_.conn_open(key);
  ip_of_[wsi] = Counted{std::move(key), false};
  return 0;
}

void ServerRole::head_parsed(lws *wsi) {
  auto it = ip_of_.find(wsi);
  if (it == ip_of_.end() || !it->second.head) return;
  limits_.head_done(it->second.ip);
  limits_.conn_open(it->second.ip);
  it->second.head = false;
}

// Reports the close with the best code we know and forgets the connection.
// Called as soon as the close is certain (close handshake done, stream ended),
// not when lws finally frees the socket, which a lingering peer can delay.
void ServerRole::finish(Conn *c) {
  int code;
  std::string reason;
  if (c->fail_code) {
    code = c->fail_code;
    reason = c->more().close_reason;
  } else if (c->peer_close_code) {
    code = c->peer_close_code;
    reason = c->more().peer_close_reason;
  } else if (c->close_sent) {
    code = c->close_code;
    reason = c->more().close_reason;
  } else if (c->proto == Proto::Ws && !c->own_ws && c->established && lws_get_close_length(c->wsi) >= 2) {
    // lws failed the connection itself: report the code it sent.
    const unsigned char *b = lws_get_close_payload(c->wsi);
    code = (b[0] << 8) | b[1];
    reason = "protocol error detected by the server";
  } else {
    code = 1006;  // no close frame: the peer left or vanished
    reason = c->proto == Proto::Sse ? "stream closed by peer" : "connection lost";
  }
  forget(c, code, reason);
}

void ServerRole::forget(Conn *c, int code, const std::string &reason) {
  if (c->wsi) lws_set_opaque_user_data(c->wsi, nullptr);
  if (c->more_) release(c->more_->rx.size());  // an unfinished message dies with it
  leave_all(c);                                // presence notices, when asked for
  hub_remove(c->id);
  sse_conns_.erase(c->id);
  {
    std::lock_guard<std::mutex> lk(live_mu_);
    live_.erase(c->id);
  }
  bool report = c->open_reported;
  ConnId id = c->id;
  Proto proto = c->proto;
  Event::ConnFigures fig{static_cast<double>(lws_now_usecs() - c->opened_us) / 1000.0,
                         static_cast<double>(c->bytes_in), static_cast<double>(c->bytes_out),
                         static_cast<double>(c->msgs_in), static_cast<double>(c->msgs_out)};
  conns_.erase(id);  // frees c
  if (report) {
    EventPtr ev = make_event(kEvClose, id, proto);
    ev->figures.reset(new Event::ConnFigures(fig));
    ev->code = code;
    ev->reason = reason;
    e_.emit(std::move(ev));
  }
  if (e_.closing() && conns_.empty()) e_.stop();
}

bool ServerRole::carried_header(const std::string &lower_name) {
  if (carried_.empty()) {
    for (std::string n : lws_known_header_names()) {
      n.pop_back();  // the ':' or ' '
      carried_.insert(n);
    }
    for (const auto &n : opts().capture_headers) carried_.insert(ascii_lower(n));
  }
  return carried_.count(lower_name) != 0;
}

}  // namespace sw
