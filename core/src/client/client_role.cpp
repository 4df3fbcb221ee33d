// The client role: connecting, reconnecting with backoff, the application's
// sends and close, and lws callback dispatch to the WebSocket or SSE side.
#include "client/client_role.h"

#include <libwebsockets.h>

#include <cstring>

#include "client_request.h"
#include "engine.h"
#include "lws_util.h"
#include "reconnect_policy.h"
#include "utf8.h"

namespace sw {

namespace {
constexpr ConnId kClientConn = 1;  // a client's one logical connection

// Appends "&key=value" (or "?key=value") with value percent-encoded.
void add_query(std::string &path, const char *key, const std::string &value) {
  static const char hex[] = "0123456789ABCDEF";
  path += path.find('?') == std::string::npos ? '?' : '&';
  path += key;
  path += '=';
  for (unsigned char c : value) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      path += static_cast<char>(c);
    } else {
      path += '%';
      path += hex[c >> 4];
      path += hex[c & 15];
    }
  }
}
}  // namespace

// The reconnect timer, bound to its role.
struct ClientRole::Timer {
  lws_sorted_usec_list_t sul;
  ClientRole *role;
};

ClientRole::ClientRole(Engine &e) : Role(e), timer_(new Timer{}), retry_policy_(new lws_retry_bo_t{}) {
  const Options &o = opts();
  std::string err;
  parse_url(o.url, url_, err);  // checked again, with its error, in start()
  retry_ms_ = o.reconnect_delay_ms;
  parser_.set_last_event_id(o.last_event_id);
  last_id_ = o.last_event_id;
  parser_.on_event = [this](const SseEvent &ev) { sse_event(ev); };
  parser_.on_retry = [this](uint64_t ms) {
    retry_ms_ = ms;
    retry_from_server_ = true;
  };
  std::string subs = o.v1 ? "ssews.v1" : "";
  if (!o.subprotocols.empty()) subs += (subs.empty() ? "" : ",") + o.subprotocols;
  subprotocols_ = subs;
  headers_ = o.headers;
  timer_->role = this;
  if (o.ping_interval) {
    retry_policy_->secs_since_valid_ping = static_cast<uint16_t>(o.ping_interval);
    retry_policy_->secs_since_valid_hangup =
        static_cast<uint16_t>(std::min<unsigned>(65535, o.ping_interval + o.pong_timeout));
  }
}

ClientRole::~ClientRole() = default;

const Options &ClientRole::opts() const {
  return e_.opts();
}

void ClientRole::context_info(lws_context_creation_info &ci) {
  // No DO_SSL_GLOBAL_INIT on the context: OpenSSL 3 initialises itself, and
  // lws 4.1 leaks its client SSL_CTX when a second context in the process
  // (a TLS server) also asked for global init (seen with ASan).
  ci.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_VALIDATE_UTF8;
  ci.timeout_secs = opts().connect_timeout;
  ci.connect_timeout_secs = opts().connect_timeout;
}

Status ClientRole::start() {
  const Options &o = opts();
  Url u;
  std::string why;
  if (!parse_url(o.url, u, why)) return fail(SSEWS_EURL, "option 'url': " + why);
  if (!check_client_request(o, u.websocket, why)) return fail(SSEWS_EOPTION, why);
  if (!o.ca_file.empty() && !readable_file(o.ca_file))
    return fail(SSEWS_EOPTION, "option 'ca_file': cannot read file '" + o.ca_file + "'");
  lws_context_creation_info vi;
  memset(&vi, 0, sizeof vi);
  vi.port = CONTEXT_PORT_NO_LISTEN;
  vi.protocols = ssews_protocols();
  vi.vhost_name = "ssews-client";
  vi.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  vi.timeout_secs = o.connect_timeout;
  vi.connect_timeout_secs = o.connect_timeout;
  if (!o.ca_file.empty()) vi.client_ssl_ca_filepath = o.ca_file.c_str();
  // compression=on: offer permessage-deflate (lws' own extension compresses
  // what the client sends and inflates what it receives; a message inflated
  // past max_message_size still fails with 1009 in ws_receive).
  static const lws_extension kDeflate[] = {
      {"permessage-deflate", lws_extension_callback_pm_deflate,
       "permessage-deflate; client_no_context_takeover; client_max_window_bits"},
      {nullptr, nullptr, nullptr},
  };
  if (o.compression && url_.websocket) vi.extensions = kDeflate;
  vhost_ = lws_create_vhost(e_.ctx(), &vi);
  if (!vhost_) return fail(SSEWS_ETLS, "cannot set up the client (TLS with ca_file '" + o.ca_file + "')");
  return Status::ok();
}

void ClientRole::begin() {
  schedule(0);
}

void ClientRole::timer_cb(lws_sorted_usec_list_t *sul) {
  auto *t = lws_container_of(sul, Timer, sul);
  t->role->connect();
  t->role->e_.kick_if_pending();
}

void ClientRole::schedule(uint64_t delay_ms) {
  lws_sul_schedule(e_.ctx(), 0, &timer_->sul, timer_cb, static_cast<lws_usec_t>(delay_ms) * 1000);
}

void ClientRole::connect() {
  if (stopped_ || closing_ || wsi_) return;
  http_status_ = 0;
  v1_ = false;
  sse_v1_ = false;
  body_due_ = false;
  body_off_ = 0;
  close_sent_ = false;
  cert_rejected_ = false;
  peer_close_code_ = 0;
  rx_.clear();
  std::string path = url_.path;
  if (url_.websocket && !last_id_.empty()) add_query(path, "last_event_id", last_id_);
  std::string host = url_.host_header();

  lws_client_connect_info ci;
  memset(&ci, 0, sizeof ci);
  ci.context = e_.ctx();
  ci.vhost = vhost_;
  ci.address = url_.host.c_str();
  ci.port = url_.port;
  ci.path = path.c_str();
  ci.host = host.c_str();
  ci.origin = user_origin(opts()) ? nullptr : host.c_str();  // a header Origin replaces it
  if (url_.tls) {
    ci.ssl_connection = LCCSCF_USE_SSL;
    if (opts().insecure)
      ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                           LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
  }
  ci.local_protocol_name = "ssews";
  ci.alpn = "http/1.1";
  ci.retry_and_idle_policy = retry_policy_.get();
  if (url_.websocket) {
    ci.protocol = subprotocols_.empty() ? nullptr : subprotocols_.c_str();
  } else {
    ci.method = opts().method.c_str();
  }
  ci.pwsi = &wsi_;
  if (!lws_client_connect_via_info(&ci)) {
    // Failed before any callback (e.g. name resolution): treat as a failed attempt.
    wsi_ = nullptr;
    dropped(SSEWS_ECONNECT, "cannot connect to " + host, true);
  }
}

// The connection ended or failed: report, then reconnect or stop for good.
void ClientRole::dropped(int err, const std::string &why, bool failed) {
  wsi_ = nullptr;
  bool was_open = connected_;
  connected_ = false;
  if (!url_.websocket) parser_.end_of_stream();  // an unfinished event is dropped, per spec
  if (stopped_) return;
  if (err) error(err, why);
  if (closing_) {
    final_close(close_code_, close_reason_);
    return;
  }
  const Options &o = opts();
  if (!may_reconnect(o)) {
    int code = peer_close_code_ ? peer_close_code_ : was_open ? 1000 : 1006;
    std::string reason = peer_close_code_ ? peer_close_reason_ : why.empty() ? "stream ended" : why;
    if (o.reconnect)  // the rule for POST streams and the like (client_request.h)
      reason += " (not reconnecting: a " + o.method + " is not repeated unless reconnect_non_idempotent)";
    final_close(code, reason);
    return;
  }
  if (failed || !was_open)
    attempt_++;
  else
    attempt_ = 1;  // a connection that worked ended: first retry after the base delay
  if (o.reconnect_max_attempts && failed && attempt_ > o.reconnect_max_attempts) {
    final_close(1006, "gave up after " + std::to_string(o.reconnect_max_attempts) + " failed attempts");
    return;
  }
  ReconnectPolicy policy;
  policy.base_ms = retry_ms_;
  policy.max_ms = o.reconnect_max_delay_ms;
  policy.base_from_server = retry_from_server_;
  uint64_t delay = policy.delay(attempt_, rng_);
  EventPtr ev = make_event(kEvReconnecting, kClientConn, proto());
  ev->code = static_cast<int>(attempt_);
  ev->delay_ms = static_cast<int64_t>(delay);
  e_.emit(std::move(ev));
  schedule(delay);
}

void ClientRole::error(int err, const std::string &why) {
  EventPtr ev = make_event(kEvError, kClientConn, proto());
  ev->code = err;
  ev->reason = why;
  e_.emit(std::move(ev));
}

void ClientRole::final_close(int code, const std::string &reason) {
  if (stopped_) return;
  stopped_ = true;
  lws_sul_cancel(&timer_->sul);
  EventPtr ev = make_event(kEvClose, kClientConn, proto());
  ev->code = code;
  ev->reason = reason;
  e_.emit(std::move(ev));
  if (e_.closing()) e_.stop();
}

void ClientRole::opened() {
  connected_ = true;
  attempt_ = 0;
  EventPtr ev = make_event(kEvOpen, kClientConn, proto());
  size_t q = url_.path.find('?');
  ev->path = url_.path.substr(0, q);
  ev->query = q == std::string::npos ? "" : url_.path.substr(q + 1);
  ev->peer = url_.host;
  if (proto() == Proto::Ws) ev->subprotocol = subprotocol_;
  e_.emit(std::move(ev));
  if (!sendq_.empty() && wsi_) lws_callback_on_writable(wsi_);
}

// ---------------------------------------------------------------------------
// Public operations

Status ClientRole::send(ConnId, const void *data, size_t len, bool binary, const char *event,
                        const char *id) {
  if (!data && len) return fail(SSEWS_EINVAL, "data is NULL but len is not 0");
  if (e_.closing()) return fail(SSEWS_ECLOSED, "the endpoint is closing");
  Status st = check_size(data, len, opts().max_message_size);
  if (st.failed()) return st;
  st = check_text(data, len, binary);
  if (st.failed()) return st;
  if (event || id) return fail(SSEWS_EINVAL, "event and id apply to SSE messages a server sends");
  if (!url_.websocket) return fail(SSEWS_ENOTSUP, "not supported: SSE is one-way (the client cannot send)");
  // Bound what waits while disconnected: refuse clearly rather than lose it.
  size_t now = queued_.fetch_add(len) + len;
  if (now > opts().max_queue_bytes && now != len) {
    queued_.fetch_sub(len);
    return fail(SSEWS_EFULL, "send queue full (max_queue_bytes " + std::to_string(opts().max_queue_bytes) +
                                 "): the connection is down or slow; try again later");
  }
  auto m = std::make_shared<Message>();
  m->binary = binary;
  m->payload = WireBuf(data, len);
  Cmd cmd;
  cmd.bytes = len;
  cmd.msg = std::move(m);
  cmd.to = kClientConn;
  st = e_.enqueue(std::move(cmd));
  if (st.failed()) queued_.fetch_sub(len);
  return st;
}

Status ClientRole::set_headers(std::vector<std::string> lines) {
  for (const auto &l : lines) {
    std::string why;
    if (!check_header_line(l, why)) return fail(SSEWS_EINVAL, "header '" + l.substr(0, 64) + "' " + why);
  }
  // Taken up by the next handshake: the one in progress keeps what it sent.
  return e_.enqueue(0, [this, lines] { headers_ = lines; });
}

void ClientRole::run_message(Cmd &cmd) {
  if (stopped_) {
    queued_.fetch_sub(cmd.msg->payload.size());
    return;
  }
  sendq_.push_back(std::move(cmd.msg));
  if (connected_ && wsi_) lws_callback_on_writable(wsi_);
}

Status ClientRole::conn_close(ConnId, int code, const char *reason) {
  Status st = check_close(code, reason);
  if (st.failed()) return st;
  if (e_.closing()) return fail(SSEWS_ECLOSED, "the endpoint is closing");
  std::string r = reason ? reason : "";
  return e_.enqueue(0, [this, code, r] { close_now(code, r); });
}

void ClientRole::shutdown() {
  close_now(1000, "closed by application");
  if (stopped_) e_.stop();
}

// The client closes its one connection, for good.
void ClientRole::close_now(int code, const std::string &reason) {
  if (closing_) return;
  closing_ = true;
  close_code_ = code;
  close_reason_ = reason;
  lws_sul_cancel(&timer_->sul);
  if (wsi_ && url_.websocket && connected_) {
    lws_callback_on_writable(wsi_);  // sends the close once the queue is flushed
    lws_set_timeout(wsi_, PENDING_TIMEOUT_CLOSE_SEND, 2);
  } else if (wsi_) {
    // An SSE stream (or a connect in progress) has nothing to say goodbye
    // with: report the close now; the socket goes with the next timeout check.
    lws_set_timeout(wsi_, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
    wsi_ = nullptr;
    connected_ = false;
    final_close(code, reason);
  } else {
    final_close(code, reason);
  }
}

// ---------------------------------------------------------------------------
// lws callbacks

int ClientRole::handshake_headers(lws *wsi, void *in, size_t len) {
  auto **p = static_cast<unsigned char **>(in);
  unsigned char *end = *p + len;
  // A 303 (or a 301/302 to a POST) turns the request into a GET: no body then.
  bool send_body = !url_.websocket && method_has_body(opts().method) && !lws_http_is_redirected_to_get(wsi);
  // The header options, or what ssews_set_headers gave since (a fresh token, say).
  Options o = opts();
  o.headers = headers_;
  for (const auto &h : client_headers(o, url_.websocket, parser_.last_event_id(), send_body)) {
    if (lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char *>(h.first.c_str()),
                                    reinterpret_cast<const unsigned char *>(h.second.data()),
                                    static_cast<int>(h.second.size()), p, end)) {
      error(SSEWS_EINVAL, "request headers do not fit (max 4 KiB): " + h.first);
      return -1;
    }
  }
  if (send_body && !opts().body.empty()) {
    // lws asks for the body through CLIENT_HTTP_WRITEABLE once the head is out.
    body_due_ = true;
    body_off_ = 0;
    lws_client_http_body_pending(wsi, 1);
  }
  return 0;
}

int ClientRole::connection_error(void *in) {
  std::string why =
      in ? std::string(static_cast<const char *>(in), strnlen(static_cast<const char *>(in), 256))
         : "connection failed";
  if (cert_rejected_) {
    // A certificate that does not verify will not verify next time either.
    wsi_ = nullptr;
    connected_ = false;
    error(SSEWS_ETLS, "TLS: " + why + (opts().ca_file.empty() ? "" : " (ca_file " + opts().ca_file + ")"));
    final_close(1015, "TLS handshake failed");
    return 0;
  }
  dropped(SSEWS_ECONNECT, "cannot connect to " + url_.host_header() + ": " + why, true);
  return 0;
}

int ClientRole::on_lws(lws *wsi, int reason, void *in, size_t len) {
  if (wsi_ && wsi != wsi_ && reason != LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER) return 0;
  switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
      return handshake_headers(wsi, in, len);
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
      return connection_error(in);
    case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
      // len is OpenSSL's preverify_ok. With `insecure`, lws itself overrules
      // the checks it was told to skip, so a failure here is not final.
      if (!len && !opts().insecure) cert_rejected_ = true;
      return 0;

    // --- WebSocket ---
    case LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH:
      ws_filter(wsi);
      return 0;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
      opened();
      return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
      return ws_receive(wsi, in, len);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
      ws_peer_close(in, len);
      return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
      return ws_writeable(wsi);
    case LWS_CALLBACK_CLIENT_CLOSED:
      ws_closed();
      return 0;

    // --- SSE over HTTP ---
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
      if (url_.websocket) return 0;  // lws reports the 101 here too
      return sse_established(wsi);
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
      constexpr int kHttpReadChunk = 4096;
      char buf[LWS_PRE + kHttpReadChunk];
      char *p = buf + LWS_PRE;
      int n = kHttpReadChunk;
      return lws_http_client_read(wsi, &p, &n) < 0 ? -1 : 0;
    }
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
      return sse_data(in, len);
    case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE:
      return sse_body_writeable(wsi);
    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
      if (wsi_ == wsi || (wsi_ == nullptr && connected_)) dropped(0, "stream ended", false);
      return 0;
    case LWS_CALLBACK_CLIENT_HTTP_REDIRECT:
      return 0;  // followed by lws, as EventSource does
    default:
      return 0;
  }
}

}  // namespace sw
