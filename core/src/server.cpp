// The server role on libwebsockets: one port serving WebSocket upgrades, SSE
// streams and static files; connection bookkeeping; writing queued messages.
// Everything here runs on the endpoint's service thread.
#include <libwebsockets.h>

#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "ascii.h"
#include "engine.h"
#include "lws_util.h"
#include "sse_encoder.h"
#include "ssews.h"
#include "static_path.h"
#include "ws_frame.h"
#include "ws_rules.h"

namespace sw {

namespace {

// Queued messages coalesced into one write, per protocol (a larger message
// goes alone): one syscall carries everything a slow-ish peer has pending.
constexpr size_t kWriteChunk = 64 * 1024;
// Bytes from one peer in one pass (payload plus a minimal frame header per
// piece) that mean lws' read buffer was probably full, and how many more
// reads such a peer gets in the same pass (see reservice_busy).
constexpr size_t kRxBusy = 128;
constexpr uint32_t kWsMinClientHeader = 6;  // 2 bytes + the 4-byte mask
constexpr int kRxRereads = 64;

// The URL arguments, decoded by lws, one "k=v" per fragment.
std::vector<std::string> url_args(lws *wsi) {
  return lws_query_fragments(wsi);
}

bool arg_value(const std::string &arg, const char *key, std::string &v) {
  size_t k = strlen(key);
  if (arg.size() < k + 1 || arg.compare(0, k, key) != 0 || arg[k] != '=') return false;
  v = arg.substr(k + 1);
  return true;
}

bool accepts_event_stream(const std::string &accept) {
  return ascii_lower(accept).find("text/event-stream") != std::string::npos;  // media types ignore case
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

}  // namespace

// ---------------------------------------------------------------------------
// Connection bookkeeping

Conn *Engine::conn_of(lws *wsi) {
  return static_cast<Conn *>(lws_get_opaque_user_data(wsi));
}

Conn *Engine::find(ConnId id) {
  auto it = conns_.find(id);
  return it == conns_.end() ? nullptr : &it->second;
}

Conn *Engine::new_conn(lws *wsi, Proto proto) {
  ConnId id = next_id_++;
  Conn *c = &conns_
                 .emplace(std::piecewise_construct, std::forward_as_tuple(id),
                          std::forward_as_tuple(opts_.max_queue_bytes, opts_.queue_drop_oldest))
                 .first->second;
  c->id = id;
  c->wsi = wsi;
  c->proto = proto;
  c->enc = proto == Proto::Sse ? Encoding::Sse : Encoding::WsPlain;
  lws_set_opaque_user_data(wsi, c);
  return c;
}

void Engine::fill_request(lws *wsi, ssews_event &ev, std::string &path, std::string &query) {
  path = lws_header(wsi, WSI_TOKEN_GET_URI);
  if (path.empty()) path = lws_header(wsi, WSI_TOKEN_POST_URI);
  std::vector<std::string> args = url_args(wsi);
  for (size_t i = 0; i < args.size(); i++) {
    if (i) query += '&';
    query += args[i];
  }
  ev.path = path;
  ev.query = query;
  char peer[64] = "";
  lws_get_peer_simple(wsi, peer, sizeof peer);
  ev.peer = peer;
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
    ev.headers.emplace_back(n, lws_header(wsi, static_cast<enum lws_token_indexes>(t)));
  }
  // Headers lws does not know by name are kept only when asked for, so the
  // open event carries them in pull mode too (capture_headers option).
  for (const auto &name : opts_.capture_headers) {
    std::string v;
    if (custom_header(wsi, name.c_str(), v)) ev.headers.emplace_back(name, v);
  }
}

// Tells the application about a new connection and applies what it decided in
// the callback. Returns false (with the HTTP status) when it was rejected.
bool Engine::report_open(Conn *c, int &reject_status) {
  auto ev = std::make_unique<ssews_event>();
  ev->kind = SSEWS_EV_OPEN;
  ev->conn = c->id;
  ev->protocol = static_cast<int>(c->proto);
  std::string path, query;
  fill_request(c->wsi, *ev, path, query);
  ev->live_wsi = c->wsi;

  // Resume point: Last-Event-ID header (EventSource), or a query parameter
  // (WebSocket clients, and EventSource polyfills).
  std::string &last_id = c->more().last_event_id;
  custom_header(c->wsi, "last-event-id", last_id);
  std::vector<std::string> defaults;
  for (const auto &a : url_args(c->wsi)) {
    std::string v;
    if (arg_value(a, "channel", v) && !v.empty())
      defaults.push_back(v);
    else if (last_id.empty() && (arg_value(a, "last_event_id", v) || arg_value(a, "lastEventId", v)))
      last_id = v;
  }
  if (defaults.empty() && path.size() > 1) defaults.push_back(path.substr(1));
  ev->channels = defaults;

  {
    std::lock_guard<std::mutex> lk(live_mu_);
    live_.emplace(c->id, c->proto);
  }
  c->open_reported = true;
  in_open_ = c->id;
  open_reject_ = 0;
  open_subscribed_ = false;
  open_channels_.clear();
  emit(std::move(ev));
  in_open_ = 0;
  if (open_reject_) {
    reject_status = open_reject_;
    c->open_reported = false;  // a refused handshake never opened: no close event
    return false;
  }
  c->more().initial_channels = open_subscribed_ ? open_channels_ : defaults;
  return true;
}

// The connection is live: subscribe it, replay what it missed, then new messages follow.
void Engine::accept_conn(Conn *c) {
  c->established = true;
  c->last_write_us = lws_now_usecs();
  c->last_rx_ms = static_cast<uint32_t>(c->last_write_us / 1000);
  ConnMore &m = c->more();
  for (const auto &ch : m.initial_channels) hub_.subscribe(c->id, ch);
  if (!m.last_event_id.empty()) {
    Hub::Replay r = hub_.replay(hub_.channels_of(c->id), m.last_event_id);
    if (r.gap) {
      // Tell a resuming client it may have missed messages history no longer holds.
      auto gap = std::make_shared<Message>();
      gap->control = true;
      gap->event = "ssews-gap";
      gap->payload = WireBuf(m.last_event_id.data(), m.last_event_id.size());
      queue_to(c, gap);
    }
    for (const auto &msg : r.messages) queue_to(c, msg);
  }
  if (!c->closing) c->more_.reset();  // the request's details are used up
  mark_dirty(c);
}

// Asks lws for a writeable callback on c.
void Engine::want_write(Conn *c) {
  if (c->proto == Proto::Sse) lws_rx_flow_control(c->wsi, 1);
  lws_callback_on_writable(c->wsi);
}

void Engine::mark_dirty(Conn *c) {
  if (c->dirty) return;
  c->dirty = true;
  dirty_.push_back(c->id);
}

// lws reads a WebSocket peer at most rx_buffer_size bytes per poll round
// (kRxChunk in engine.cpp, small so idle connections stay small). A peer that
// filled that in this pass, such as a publisher sending fast, is read again
// now, while it has bytes waiting, up to a budget: busy peers get large reads
// and idle ones keep small buffers.
void Engine::reservice_busy() {
  for (int round = 0; round < kRxRereads && !busy_.empty(); round++) {
    std::vector<ConnId> list;
    list.swap(busy_);
    for (ConnId id : list) {
      Conn *c = find(id);
      if (!c) continue;
      c->busy = false;
      if (c->rx_paused || c->closing || c->fail_code) continue;
      int fd = lws_get_socket_fd(c->wsi);
      int pending = 0;
      if (fd < 0 || ioctl(fd, FIONREAD, &pending) != 0 || pending <= 0) continue;
      c->rx_pass_bytes = 0;  // a full read again puts it back on the list
      lws_pollfd pfd;
      pfd.fd = fd;
      pfd.events = LWS_POLLIN;
      pfd.revents = LWS_POLLIN;
      lws_service_fd(ctx_, &pfd);
    }
  }
  for (ConnId id : busy_) {
    if (Conn *c = find(id)) c->busy = false;
  }
  busy_.clear();
}

// Runs after each service pass (see run()), outside every lws callback: a
// connection with nothing in flight is written at once, with everything the
// pass queued for it in one write, so a delivery costs one send() rather than
// an epoll round trip per frame. A connection still flushing an earlier write
// is left to its writeable callback.
void Engine::flush_dirty() {
  if (dirty_.empty()) return;
  std::vector<ConnId> list;
  list.swap(dirty_);
  int64_t now = lws_now_usecs();
  for (ConnId id : list) {
    Conn *c = find(id);
    if (!c) continue;
    c->dirty = false;
    if (!c->established || c->close_sent) continue;
    if (c->q.empty() && !c->ping_due) {
      if (c->closing) want_write(c);
      continue;
    }
    // A peer whose frames were read in this pass may have sent a ping whose
    // pong lws has pending: lws sends that before the writeable callback, so
    // replies keep their order (pong, then the echo of what followed the ping).
    if (lws_partial_buffered(c->wsi) ||
        (c->proto == Proto::Ws && (c->rx_pass == pass_ || lws_get_close_length(c->wsi) >= 2))) {
      want_write(c);  // the writeable callback deals with it, in order
      continue;
    }
    int r = write_queued(c);
    if (r < 0) {  // the socket failed: lws closes it, and the close reports
      lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
      continue;
    }
    c->last_write_us = now;
    // More queued, a close to send, or bytes lws holds (a due ping went out above).
    if (!c->q.empty() || c->closing || lws_partial_buffered(c->wsi)) want_write(c);
  }
  if (dirty_.empty()) {
    list.clear();
    dirty_.swap(list);  // keep the capacity for the next pass
  }
}

// Writes the front of c's queue: one message in place (lws puts a WebSocket
// frame header in the shared buffer's headroom; only this thread writes, one
// frame at a time), or several gathered into one buffer and one write:
// WebSocket frames framed here (with a due ping first), SSE messages as they
// are. What the socket does not take at once lws keeps and sends before
// anything else.
int Engine::write_queued(Conn *c) {
  const bool ws = c->proto == Proto::Ws;
  if (!c->ping_due) {
    const Message &first = *c->q.front();
    const WireBuf &fb = first.encoded(c->q.front_encoding());
    if (c->q.size() == 1 || fb.size() >= kWriteChunk) {
      auto kind = !ws ? LWS_WRITE_HTTP : first.binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT;
      int n = lws_write(c->wsi, const_cast<uint8_t *>(fb.data()), fb.size(), kind);
      c->q.pop();
      return n < 0 ? -1 : 0;
    }
  }
  scratch_.resize(LWS_PRE);
  if (c->ping_due) {
    // The ping goes first (RFC 6455 5.5.2). Not empty: lws 4.1 hands only a
    // pong with a payload to the RECEIVE_PONG callback.
    static const uint8_t ping[] = {0x89, 5, 's', 's', 'e', 'w', 's'};
    scratch_.insert(scratch_.end(), ping, ping + sizeof ping);
    c->ping_due = false;
  }
  const size_t header_room = ws ? kWsMaxHeader : 0;
  while (!c->q.empty()) {
    const Message &m = *c->q.front();
    const WireBuf &b = m.encoded(c->q.front_encoding());
    size_t used = scratch_.size() - LWS_PRE;
    if (used && used + header_room + b.size() > kWriteChunk) break;
    if (ws) {
      uint8_t hdr[kWsMaxHeader];
      size_t h = ws_frame_header(hdr, m.binary, b.size());
      scratch_.insert(scratch_.end(), hdr, hdr + h);
    }
    scratch_.insert(scratch_.end(), b.data(), b.data() + b.size());
    c->q.pop();
  }
  // Complete frames or SSE text: lws passes LWS_WRITE_RAW (= LWS_WRITE_HTTP) through as is.
  int n = lws_write(c->wsi, scratch_.data() + LWS_PRE, scratch_.size() - LWS_PRE, LWS_WRITE_RAW);
  return n < 0 ? -1 : 0;
}

// Reports c closed now and has lws drop its socket without a goodbye (a
// hung-up SSE stream, a silent WebSocket peer).
void Engine::drop(Conn *c) {
  lws *wsi = c->wsi;
  finish(c);
  lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
}

void Engine::forget(Conn *c, int code, const std::string &reason) {
  lws_set_opaque_user_data(c->wsi, nullptr);
  hub_.remove(c->id);
  sse_conns_.erase(c->id);
  {
    std::lock_guard<std::mutex> lk(live_mu_);
    live_.erase(c->id);
  }
  bool report = c->open_reported;
  ConnId id = c->id;
  Proto proto = c->proto;
  conns_.erase(id);  // frees c
  if (report) {
    auto ev = std::make_unique<ssews_event>();
    ev->kind = SSEWS_EV_CLOSE;
    ev->conn = id;
    ev->protocol = static_cast<int>(proto);
    ev->code = code;
    ev->reason = reason;
    emit(std::move(ev));
  }
  if (closing_.load() && conns_.empty()) stop_loop_ = true;
}

void Engine::queue_to(Conn *c, const MessagePtr &m) {
  if (c->closing) return;
  if (m->control && c->enc == Encoding::WsPlain) return;  // plain peers get only published bytes
  switch (c->q.push(m, c->enc)) {
    case OutQueue::Push::Ok:
      c->overflow_reported = false;
      break;
    case OutQueue::Push::Dropped:
      if (!c->overflow_reported) {  // once per episode: the app learns, the log does not flood
        c->overflow_reported = true;
        auto ev = std::make_unique<ssews_event>();
        ev->kind = SSEWS_EV_ERROR;
        ev->conn = c->id;
        ev->protocol = static_cast<int>(c->proto);
        ev->code = SSEWS_ESLOW;
        ev->reason = "slow consumer: dropped its oldest queued messages (max_queue_bytes " +
                     std::to_string(opts_.max_queue_bytes) + ")";
        emit(std::move(ev));
      }
      break;
    case OutQueue::Push::Overflow:
      fail_conn(c, 1008, SSEWS_ESLOW,
                "slow consumer: outbound queue over max_queue_bytes (" +
                    std::to_string(opts_.max_queue_bytes) + "), connection closed");
      return;
  }
  if (c->established) mark_dirty(c);
}

size_t Engine::fan_out(const MessagePtr &msg) {
  // Copy: queue_to may close a connection, which edits the subscriber list.
  std::vector<ConnId> subs = hub_.subscribers(msg->channel);
  for (ConnId id : subs) {
    Conn *c = find(id);
    if (c) queue_to(c, msg);
  }
  return subs.size();
}

void Engine::queue_raw(Conn *c, std::string bytes) {
  auto m = std::make_shared<Message>();
  m->control = true;
  m->payload = WireBuf(bytes.data(), bytes.size());
  // Pre-rendered SSE bytes: the encoding is the payload itself.
  m->sse_enc = std::make_unique<WireBuf>(bytes.data(), bytes.size());
  queue_to(c, m);
}

void Engine::start_close(Conn *c, int code, const std::string &reason) {
  if (c->closing) return;
  c->closing = true;
  c->close_code = code;
  c->more().close_reason = reason;
  if (!c->established) {  // nothing to flush; the handshake never completed
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
    return;
  }
  want_write(c);
  // A peer that never reads must not hold the close up for ever.
  lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, 5);
}

void Engine::fail_conn(Conn *c, int ws_code, int err, const std::string &why) {
  auto ev = std::make_unique<ssews_event>();
  ev->kind = SSEWS_EV_ERROR;
  ev->conn = c->id;
  ev->protocol = static_cast<int>(c->proto);
  ev->code = err;
  ev->reason = why;
  if (c->open_reported) emit(std::move(ev));
  c->fail_code = ws_code;
  c->q.clear();  // a failed connection gets no more data, only its close
  c->closing = false;
  start_close(c, ws_code, why.substr(0, 123));
}

// True when the peer of a plain-TCP SSE stream has closed its end. (Reads are
// off for SSE streams; a peek tells a hang-up apart from pending bytes.)
static bool sse_peer_gone(lws *wsi) {
  if (lws_is_ssl(wsi)) return false;  // TLS: the next write notices instead
  char b;
  ssize_t n = recv(lws_get_socket_fd(wsi), &b, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

// WebSocket liveness (ping_interval, pong_timeout): a peer silent for
// ping_interval gets a ping; one that sends nothing for pong_timeout after it
// is dropped (1006). At most kPingsPerTick new pings a second, so thousands
// of connections opened together are not all pinged in one burst.
void Engine::ping_silent_peers(uint32_t now_ms) {
  if (!opts_.ping_interval) return;
  constexpr int kPingsPerTick = 2048;
  const uint32_t interval = opts_.ping_interval * 1000u, timeout = opts_.pong_timeout * 1000u;
  int budget = kPingsPerTick;
  std::vector<Conn *> dead;
  for (auto &kv : conns_) {
    Conn *c = &kv.second;
    if (c->proto != Proto::Ws || !c->established || c->closing || c->fail_code) continue;
    uint32_t quiet = now_ms - c->last_rx_ms;  // unsigned: right across the wrap
    if (c->ping_out) {
      if (quiet >= timeout) dead.push_back(c);
    } else if (quiet >= interval && budget > 0) {
      budget--;
      c->ping_due = true;
      c->ping_out = true;
      c->last_rx_ms = now_ms;  // from now on: how long the pong takes
      mark_dirty(c);
    }
  }
  for (Conn *c : dead) {
    c->more().close_reason = "no pong within pong_timeout (" + std::to_string(opts_.pong_timeout) + " s)";
    c->close_code = 1006;
    c->close_sent = true;  // reported as this code and reason; no close frame to a silent peer
    drop(c);
  }
}

void Engine::heartbeat_tick() {
  int64_t now = lws_now_usecs();
  std::vector<Conn *> gone;
  for (ConnId id : sse_conns_) {
    Conn *c = find(id);
    // A stream written to in the last second learns of a hang-up from its
    // writes; only quiet ones need the peek (a syscall each, every second).
    if (c && now - c->last_write_us >= LWS_US_PER_SEC && sse_peer_gone(c->wsi)) gone.push_back(c);
  }
  for (Conn *c : gone) drop(c);
  ping_silent_peers(static_cast<uint32_t>(now / 1000));
  if (opts_.heartbeat) {
    int64_t period = static_cast<int64_t>(opts_.heartbeat) * LWS_US_PER_SEC;
    for (ConnId id : sse_conns_) {
      Conn *c = find(id);
      if (c && c->established && !c->closing && c->q.empty() && now - c->last_write_us >= period) {
        std::string hb;
        sse_comment(hb, "");
        queue_raw(c, std::move(hb));
      }
    }
  }
  if (closing_.load() && close_deadline_us_ && now > close_deadline_us_) stop_loop_ = true;
  if (stop_loop_) lws_cancel_service(ctx_);
}

// ---------------------------------------------------------------------------
// lws callback dispatch

int Engine::on_lws(lws *wsi, int reason, void *in, size_t len) {
  if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED) {
    drain_commands();
    return 0;
  }
  if (is_client()) return client_lws(wsi, reason, in, len);
  switch (reason) {
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
      if (in && ws_upgrade_is_websocket(static_cast<const char *>(in))) return confirm_upgrade(wsi);
      lws_return_http_status(wsi, HTTP_STATUS_FORBIDDEN, "unsupported upgrade");
      return 1;
    case LWS_CALLBACK_ESTABLISHED:
      return ws_established(wsi);
    case LWS_CALLBACK_RECEIVE:
      return ws_receive(wsi, in, len);
    case LWS_CALLBACK_RECEIVE_PONG:
      if (Conn *c = conn_of(wsi)) c->heard(static_cast<uint32_t>(lws_now_usecs() / 1000));
      return 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
      return ws_peer_close(wsi, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
      return ws_writeable(wsi);
    case LWS_CALLBACK_HTTP:
      return http_request(wsi, in);
    case LWS_CALLBACK_HTTP_BODY:
      return publish_body(wsi, in, len);  // other requests with a body were already answered
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
      if (posts_.count(wsi)) return publish_done(wsi);
      return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
      return sse_writeable(wsi);
    case LWS_CALLBACK_HTTP_FILE_COMPLETION:
      return lws_http_transaction_completed(wsi) ? -1 : 0;
    case LWS_CALLBACK_CLOSED:
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_WSI_DESTROY:
      publish_forget(wsi);
      return conn_gone(wsi);
    default:
      return 0;
  }
}

// ---------------------------------------------------------------------------
// WebSocket

// True when a Sec-WebSocket-Protocol list is absent or names one we serve.
bool Engine::offers_known_subprotocol(const std::string &list) {
  if (list.empty()) return true;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    size_t b = list.find_first_not_of(" \t", start), e = list.find_last_not_of(" \t", comma - 1);
    if (b != std::string::npos && b < comma && e != std::string::npos && e >= b) {
      std::string name = list.substr(b, e - b + 1);
      if (name == "ssews" || name == "ssews.v1") return true;
    }
    start = comma + 1;
  }
  return false;
}

// Answers a refused upgrade with a status and a short text; a 426 names the
// version we speak, as RFC 6455 section 4.4 asks.
int Engine::refuse_upgrade(lws *wsi, int status, const std::string &why) {
  uint8_t buf[LWS_PRE + 1024];
  uint8_t *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
  std::string body = why + "\n";
  if (lws_add_http_header_status(wsi, static_cast<unsigned>(status), &p, end) ||
      (status == 426 &&
       lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char *>("sec-websocket-version:"),
                                   reinterpret_cast<const unsigned char *>("13"), 2, &p, end)) ||
      lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char *>("content-type:"),
                                  reinterpret_cast<const unsigned char *>("text/plain"), 10, &p, end) ||
      lws_add_http_header_content_length(wsi, body.size(), &p, end) ||
      lws_finalize_write_http_header(wsi, start, &p, end))
    return -1;
  std::vector<uint8_t> out(LWS_PRE + body.size());
  memcpy(out.data() + LWS_PRE, body.data(), body.size());
  if (lws_write(wsi, out.data() + LWS_PRE, body.size(), LWS_WRITE_HTTP_FINAL) < 0) return -1;
  return 1;  // lws completes the transaction
}

int Engine::confirm_upgrade(lws *wsi) {
  char *uri = nullptr;
  int uri_len = 0;
  int meth = lws_http_get_uri_and_method(wsi, &uri, &uri_len);
  const char *method = meth == LWSHUMETH_GET ? "GET" : meth == LWSHUMETH_POST ? "POST" : "OTHER";
  std::string why;
  int status =
      ws_check_handshake(method, lws_header(wsi, WSI_TOKEN_VERSION), lws_header(wsi, WSI_TOKEN_KEY), why);
  if (!status) why = lws_head_problem(wsi), status = why.empty() ? 0 : 400;
  if (!status && closing_.load()) status = 503, why = "server closing";
  if (!status && conns_.size() >= opts_.max_connections)
    status = 503, why = "max_connections (" + std::to_string(opts_.max_connections) + ") reached";
  if (!status && !offers_known_subprotocol(lws_header(wsi, WSI_TOKEN_PROTOCOL)))
    status = 400, why = "no supported subprotocol offered (ssews serves 'ssews.v1' or none)";
  if (status) return refuse_upgrade(wsi, status, why);
  Conn *c = new_conn(wsi, Proto::Ws);
  int reject = 0;
  if (!report_open(c, reject)) {
    forget(c, 0, "");
    return refuse_upgrade(wsi, reject, "connection refused");
  }
  return 0;
}

int Engine::ws_established(lws *wsi) {
  Conn *c = conn_of(wsi);
  if (!c) return -1;
  const lws_protocols *p = lws_get_protocol(wsi);
  if (p && p->name && !strcmp(p->name, "ssews.v1")) c->enc = Encoding::WsV1;
  if (c->closing) {  // rejected or closed while the handshake finished
    c->established = true;
    lws_callback_on_writable(wsi);
    return 0;
  }
  accept_conn(c);
  return 0;
}

int Engine::ws_receive(lws *wsi, void *in, size_t len) {
  Conn *c = conn_of(wsi);
  // Data after the peer's close (lws still delivers it): ignore it, so lws
  // goes on to echo the close instead of dropping the connection.
  if (!c) return 0;
  if (c->fail_code) return 0;  // already failing: ignore what is still arriving
  c->heard(now_ms_);
  if (c->rx_pass != pass_) c->rx_pass = pass_, c->rx_pass_bytes = 0;
  c->rx_pass_bytes += static_cast<uint32_t>(len) + kWsMinClientHeader;
  if (c->rx_pass_bytes >= kRxBusy && !c->busy) {
    c->busy = true;
    busy_.push_back(c->id);
  }
  std::string *partial = c->more_ && !c->more_->rx.empty() ? &c->more_->rx : nullptr;
  size_t have = partial ? partial->size() : 0;
  if (!partial && lws_is_first_fragment(wsi)) c->rx_binary = lws_frame_is_binary(wsi);
  if (have + len > opts_.max_message_size) {
    if (partial) std::string().swap(*partial);
    fail_conn(
        c, 1009, SSEWS_ETOOBIG,
        "incoming message exceeds max_message_size (" + std::to_string(opts_.max_message_size) + " bytes)");
    lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, nullptr, 0);
    finish(c);
    return -1;
  }
  bool complete = lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);
  if (!complete) {  // more pieces follow: collect them
    c->more().rx.append(static_cast<const char *>(in), len);
    return 0;
  }

  auto ev = std::make_unique<ssews_event>();
  ev->kind = SSEWS_EV_MESSAGE;
  ev->conn = c->id;
  ev->protocol = SSEWS_PROTO_WS;
  ev->binary = c->rx_binary;
  if (partial) {
    partial->append(static_cast<const char *>(in), len);
    ev->data = std::move(*partial);
    *partial = std::string();
  } else {  // the whole message in one piece, the common case: no staging copy
    ev->data.assign(static_cast<const char *>(in), len);
  }
  bool pull = false;
  {
    std::lock_guard<std::mutex> lk(cb_mu_);
    pull = cb_ == nullptr;
  }
  emit(std::move(ev));
  // Pull mode and the application is behind: stop reading from this peer
  // (TCP pushes back) until it catches up, instead of queueing without bound.
  if (pull && events_.size() >= opts_.max_event_queue && !c->rx_paused) {
    c->rx_paused = true;
    paused_.push_back(c->id);
    events_paused_ = true;
    lws_rx_flow_control(wsi, 0);
  }
  return 0;
}

int Engine::ws_peer_close(lws *wsi, void *in, size_t len) {
  Conn *c = conn_of(wsi);
  std::string why;
  std::string_view payload(static_cast<const char *>(in), len);
  int code = ws_check_close_payload(payload, why);
  if (code) {
    if (c) {
      c->fail_code = code;
      auto ev = std::make_unique<ssews_event>();
      ev->kind = SSEWS_EV_ERROR;
      ev->conn = c->id;
      ev->protocol = SSEWS_PROTO_WS;
      ev->code = SSEWS_EPROTO;
      ev->reason = "peer sent a bad close frame: " + why;
      if (c->open_reported) emit(std::move(ev));
    }
    if (c) finish(c);
    if (len >= 2) {
      // lws echoes the close payload it hands us: answering with our code in
      // place closes at once, where failing it would wait seconds for an ack.
      auto *b = static_cast<unsigned char *>(in);
      b[0] = static_cast<unsigned char>(code >> 8);
      b[1] = static_cast<unsigned char>(code & 0xff);
      return 0;
    }
    lws_close_reason(wsi, static_cast<enum lws_close_status>(code), nullptr, 0);
    return -1;
  }
  if (c) {
    if (len >= 2) {
      c->peer_close_code =
          (static_cast<unsigned char>(payload[0]) << 8) | static_cast<unsigned char>(payload[1]);
      c->more().peer_close_reason.assign(payload.data() + 2, len - 2);
    } else {
      c->peer_close_code = 1005;  // no status code present
    }
    finish(c);
  }
  return 0;  // lws echoes the close frame
}

int Engine::ws_writeable(lws *wsi) {
  Conn *c = conn_of(wsi);
  if (!c) return 0;
  // lws failed the connection itself (bad frame, bad UTF-8) and has sent or
  // is sending its close: nothing may follow a close frame.
  if (!c->close_sent && !c->fail_code && lws_get_close_length(wsi) >= 2) {
    c->q.clear();
    finish(c);
    return 0;
  }
  if (!c->q.empty() || c->ping_due) {
    if (write_queued(c) < 0) return -1;
    c->last_write_us = lws_now_usecs();
    // More to write, or a close to send once what lws may still hold is out.
    if (!c->q.empty() || c->closing) lws_callback_on_writable(wsi);
    return 0;
  }
  if (lws_partial_buffered(wsi)) {
    lws_callback_on_writable(wsi);
    return 0;
  }
  if (c->closing) {
    c->close_sent = true;
    std::string &why = c->more().close_reason;
    lws_close_reason(wsi, static_cast<enum lws_close_status>(c->close_code),
                     reinterpret_cast<unsigned char *>(&why[0]), why.size());
    finish(c);
    return -1;
  }
  return 0;
}

// ---------------------------------------------------------------------------
// HTTP: SSE streams and static files

int Engine::http_request(lws *wsi, void *in) {
  char *uri = nullptr;
  int uri_len = 0;
  int meth = lws_http_get_uri_and_method(wsi, &uri, &uri_len);
  if (is_publish_request(meth, static_cast<const char *>(in))) return publish_begin(wsi);
  std::string bad = lws_head_problem(wsi);
  if (!bad.empty()) {
    if (lws_return_http_status(wsi, HTTP_STATUS_BAD_REQUEST, bad.c_str())) return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
  }
  std::string accept = lws_header(wsi, WSI_TOKEN_HTTP_ACCEPT);
  bool sse = accepts_event_stream(accept);

  if (!sse) {
    if ((meth == LWSHUMETH_GET || meth == LWSHUMETH_HEAD) && !opts_.static_dir.empty()) {
      std::string file;
      const char *path = static_cast<const char *>(in);
      std::string p = path && *path ? path : "/";
      if (p[0] != '/') p = "/" + p;
      if (static_resolve(opts_.static_dir, p, file)) {
        int n = lws_serve_http_file(wsi, file.c_str(), mime_type(file), nullptr, 0);
        if (n < 0 || (n > 0 && lws_http_transaction_completed(wsi))) return -1;
        return 0;
      }
    }
    if (meth != LWSHUMETH_GET && meth != LWSHUMETH_HEAD) {
      if (lws_return_http_status(wsi, HTTP_STATUS_METHOD_NOT_ALLOWED, "method not allowed")) return -1;
    } else if (lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, "not found")) {
      return -1;
    }
    return lws_http_transaction_completed(wsi) ? -1 : 0;
  }

  unsigned status = 0;
  const char *why = nullptr;
  if (meth != LWSHUMETH_GET)
    status = HTTP_STATUS_METHOD_NOT_ALLOWED, why = "SSE streams need GET";
  else if (closing_.load())
    status = HTTP_STATUS_SERVICE_UNAVAILABLE, why = "server closing";
  else if (conns_.size() >= opts_.max_connections)
    status = HTTP_STATUS_SERVICE_UNAVAILABLE, why = "max_connections reached";
  if (status) {
    if (lws_return_http_status(wsi, status, why)) return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
  }

  Conn *c = new_conn(wsi, Proto::Sse);
  int reject = 0;
  if (!report_open(c, reject)) {
    forget(c, 0, "");
    if (lws_return_http_status(wsi, static_cast<unsigned>(reject), "connection refused")) return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
  }

  uint8_t buf[LWS_PRE + 1024];
  uint8_t *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
  if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, "text/event-stream", LWS_ILLEGAL_HTTP_CONTENT_LEN, &p,
                                  end) ||
      lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char *>("cache-control:"),
                                  reinterpret_cast<const unsigned char *>("no-cache"), 8, &p, end) ||
      lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char *>("x-accel-buffering:"),
                                  reinterpret_cast<const unsigned char *>("no"), 2, &p, end) ||
      lws_finalize_write_http_header(wsi, start, &p, end))
    return -1;
  lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
  // lws 4.1 keeps POLLIN armed on an h1 response in progress but never reads
  // it, so a client that hangs up would spin the loop. Reads stay off except
  // while a write is pending (lws skips POLLOUT on a flow-controlled wsi; see
  // want_write); heartbeat_tick notices a hang-up in between.
  lws_rx_flow_control(wsi, 0);
  // Everything needed from the request is copied: give its header storage
  // back to the pool, or every stream would pin one (8 KiB each, and the
  // pool's size would cap how many streams can be open).
  if (lws_http_headers_detach(wsi)) return -1;
  sse_conns_.insert(c->id);
  // An opening comment, so proxies and browsers open the stream at once.
  std::string hello;
  sse_comment(hello, "ok");
  queue_raw(c, std::move(hello));
  accept_conn(c);
  return 0;
}

int Engine::sse_writeable(lws *wsi) {
  Conn *c = conn_of(wsi);
  if (!c || c->proto != Proto::Sse) return 0;
  if (!c->q.empty()) {
    if (write_queued(c) < 0) return -1;
    c->last_write_us = lws_now_usecs();
    if (!c->q.empty() || c->closing || lws_partial_buffered(wsi))
      lws_callback_on_writable(wsi);
    else
      lws_rx_flow_control(wsi, 0);  // idle again: reads off (see http_request)
    return 0;
  }
  if (lws_partial_buffered(wsi)) {
    lws_callback_on_writable(wsi);
    return 0;
  }
  if (c->closing) {
    c->close_sent = true;
    finish(c);
    return -1;  // ends the stream: SSE has no close frame
  }
  lws_rx_flow_control(wsi, 0);
  return 0;
}

int Engine::conn_gone(lws *wsi) {
  Conn *c = conn_of(wsi);
  if (c) finish(c);
  return 0;
}

// Reports the close with the best code we know and forgets the connection.
// Called as soon as the close is certain (close handshake done, stream ended),
// not when lws finally frees the socket, which a lingering peer can delay.
void Engine::finish(Conn *c) {
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
  } else if (c->proto == Proto::Ws && c->established && lws_get_close_length(c->wsi) >= 2) {
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

// Custom request headers lws does not tokenise are only reachable while the
// request is live (during the open callback).
bool custom_header(void *live_wsi, const char *name, std::string &out) {
  auto *wsi = static_cast<lws *>(live_wsi);
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

}  // namespace sw
