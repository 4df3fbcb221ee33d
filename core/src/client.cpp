// The client role on libwebsockets: a WebSocket client (ws://, wss://) and an
// SSE client with EventSource semantics (http://, https://), one logical
// connection that outlives its reconnects. Runs on the service thread.
#include <libwebsockets.h>

#include <cstring>
#include <random>

#include "client_state.h"
#include "engine.h"
#include "lws_util.h"
#include "ssews.h"
#include "v1_codec.h"

namespace sw {

namespace {
constexpr ConnId kClientConn = 1;  // a client's one logical connection
constexpr size_t kHttpReadChunk = 4096;

// The MIME type essence of a Content-Type value, lower-case ("text/event-stream").
std::string mime_essence(std::string v) {
  size_t semi = v.find(';');
  if (semi != std::string::npos) v.resize(semi);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.pop_back();
  size_t b = v.find_first_not_of(" \t");
  v = b == std::string::npos ? "" : v.substr(b);
  for (auto &c : v) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return v;
}

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

// ---------------------------------------------------------------------------
// Client state

void Engine::client_init() {
  cl_ = std::make_unique<Client>();
  std::string err;
  parse_url(opts_.url, cl_->url, err);  // validated in open()
  cl_->retry_ms = opts_.reconnect_delay_ms;
  cl_->parser.set_last_event_id(opts_.last_event_id);
  cl_->last_id = opts_.last_event_id;
  cl_->parser.on_event = [this](const SseEvent &e) { client_sse_event(e); };
  cl_->parser.on_retry = [this](uint64_t ms) {
    cl_->retry_ms = ms;
    cl_->retry_from_server = true;
  };
  std::string subs = opts_.v1 ? "ssews.v1" : "";
  if (!opts_.subprotocols.empty()) subs += (subs.empty() ? "" : ",") + opts_.subprotocols;
  cl_->subprotocols = subs;
  cl_->timer = std::make_unique<ClientTimer>();
  cl_->timer->engine = this;
  if (opts_.ping_interval) {
    cl_->retry_policy.secs_since_valid_ping = static_cast<uint16_t>(opts_.ping_interval);
    cl_->retry_policy.secs_since_valid_hangup =
        static_cast<uint16_t>(std::min<unsigned>(65535, opts_.ping_interval + opts_.pong_timeout));
  }
}

void Engine::client_timer_cb(lws_sorted_usec_list_t *sul) {
  auto *s = lws_container_of(sul, ClientTimer, sul);
  s->engine->client_connect();
  s->engine->kick_if_pending();
}

void Engine::client_schedule(uint64_t delay_ms) {
  lws_sul_schedule(ctx_, 0, &cl_->timer->sul, client_timer_cb, static_cast<lws_usec_t>(delay_ms) * 1000);
}

void Engine::client_connect() {
  Client &c = *cl_;
  if (c.stopped || c.closing || c.wsi) return;
  c.http_status = 0;
  c.v1 = false;
  c.close_sent = false;
  c.peer_close_code = 0;
  c.rx.clear();
  std::string path = c.url.path;
  if (c.url.websocket && !c.last_id.empty()) add_query(path, "last_event_id", c.last_id);
  std::string host = c.url.host_header();

  lws_client_connect_info ci;
  memset(&ci, 0, sizeof ci);
  ci.context = ctx_;
  ci.vhost = vhost_;
  ci.address = c.url.host.c_str();
  ci.port = c.url.port;
  ci.path = path.c_str();
  ci.host = host.c_str();
  ci.origin = host.c_str();
  if (c.url.tls) {
    ci.ssl_connection = LCCSCF_USE_SSL;
    if (opts_.insecure)
      ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                           LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
  }
  ci.local_protocol_name = "ssews";
  ci.alpn = "http/1.1";
  ci.retry_and_idle_policy = &c.retry_policy;
  if (c.url.websocket) {
    ci.protocol = c.subprotocols.empty() ? nullptr : c.subprotocols.c_str();
  } else {
    ci.method = "GET";
  }
  ci.pwsi = &c.wsi;
  if (!lws_client_connect_via_info(&ci)) {
    // Failed before any callback (e.g. name resolution): treat as a failed attempt.
    c.wsi = nullptr;
    client_dropped(SSEWS_ECONNECT, "cannot connect to " + host, true);
  }
}

// The connection ended or failed: report, then reconnect or stop for good.
void Engine::client_dropped(int err, const std::string &why, bool failed) {
  Client &c = *cl_;
  c.wsi = nullptr;
  bool was_open = c.connected;
  c.connected = false;
  if (!c.url.websocket) c.parser.end_of_stream();  // an unfinished event is dropped, per spec
  if (c.stopped) return;
  if (err) client_error(err, why);
  if (c.closing) {
    client_final_close(c.close_code, c.close_reason);
    return;
  }
  if (!opts_.reconnect) {
    int code = c.peer_close_code ? c.peer_close_code : was_open ? 1000 : 1006;
    client_final_close(code, c.peer_close_code ? c.peer_close_reason : why.empty() ? "stream ended" : why);
    return;
  }
  if (failed || !was_open)
    c.attempt++;
  else
    c.attempt = 1;  // a connection that worked ended: first retry after the base delay
  if (opts_.reconnect_max_attempts && failed && c.attempt > opts_.reconnect_max_attempts) {
    client_final_close(1006,
                       "gave up after " + std::to_string(opts_.reconnect_max_attempts) + " failed attempts");
    return;
  }
  // Exponential backoff from the base delay, capped, with +-20% jitter so a
  // crowd of clients does not reconnect in step after a server restart.
  uint64_t base = c.retry_ms;
  uint64_t delay = base;
  for (unsigned i = 1; i < c.attempt && delay < opts_.reconnect_max_delay_ms; i++) delay *= 2;
  if (delay > opts_.reconnect_max_delay_ms && !c.retry_from_server) delay = opts_.reconnect_max_delay_ms;
  if (c.attempt > 1 && delay > 0) {
    std::uniform_int_distribution<int64_t> jitter(-static_cast<int64_t>(delay / 5),
                                                  static_cast<int64_t>(delay / 5));
    delay = static_cast<uint64_t>(static_cast<int64_t>(delay) + jitter(c.rng));
  }
  auto ev = std::make_unique<ssews_event>();
  ev->kind = SSEWS_EV_RECONNECTING;
  ev->conn = kClientConn;
  ev->protocol = c.url.websocket ? SSEWS_PROTO_WS : SSEWS_PROTO_SSE;
  ev->code = static_cast<int>(c.attempt);
  ev->delay_ms = static_cast<int64_t>(delay);
  emit(std::move(ev));
  client_schedule(delay);
}

void Engine::client_error(int err, const std::string &why) {
  auto ev = std::make_unique<ssews_event>();
  ev->kind = SSEWS_EV_ERROR;
  ev->conn = kClientConn;
  ev->protocol = cl_->url.websocket ? SSEWS_PROTO_WS : SSEWS_PROTO_SSE;
  ev->code = err;
  ev->reason = why;
  emit(std::move(ev));
}

void Engine::client_final_close(int code, const std::string &reason) {
  Client &c = *cl_;
  if (c.stopped) return;
  c.stopped = true;
  lws_sul_cancel(&c.timer->sul);
  {
    std::lock_guard<std::mutex> lk(live_mu_);
    live_.erase(kClientConn);
  }
  auto ev = std::make_unique<ssews_event>();
  ev->kind = SSEWS_EV_CLOSE;
  ev->conn = kClientConn;
  ev->protocol = c.url.websocket ? SSEWS_PROTO_WS : SSEWS_PROTO_SSE;
  ev->code = code;
  ev->reason = reason;
  emit(std::move(ev));
  if (closing_.load()) stop_loop_ = true;
}

void Engine::client_opened() {
  Client &c = *cl_;
  c.connected = true;
  c.attempt = 0;
  auto ev = std::make_unique<ssews_event>();
  ev->kind = SSEWS_EV_OPEN;
  ev->conn = kClientConn;
  ev->protocol = c.url.websocket ? SSEWS_PROTO_WS : SSEWS_PROTO_SSE;
  size_t q = c.url.path.find('?');
  ev->path = c.url.path.substr(0, q);
  ev->query = q == std::string::npos ? "" : c.url.path.substr(q + 1);
  ev->peer = c.url.host;
  emit(std::move(ev));
  if (!c.sendq.empty() && c.wsi) lws_callback_on_writable(c.wsi);
}

void Engine::client_sse_event(const SseEvent &e) {
  if (e.type == "ssews-gap") {  // an ssews server's resume notice, not application data
    client_error(SSEWS_EGAP, "resumed after id '" + e.data +
                                 "', but messages may have been missed (no longer in the server's history)");
    return;
  }
  auto ev = std::make_unique<ssews_event>();
  ev->kind = SSEWS_EV_MESSAGE;
  ev->conn = kClientConn;
  ev->protocol = SSEWS_PROTO_SSE;
  ev->data = e.data;
  ev->has_name = true;
  ev->name = e.type;
  ev->has_id = true;
  ev->id = e.last_id;
  emit(std::move(ev));
}

Status Engine::client_send(const void *data, size_t len, bool binary) {
  if (!cl_->url.websocket)
    return Status{SSEWS_ENOTSUP, "not supported: SSE is one-way (the client cannot send)"};
  auto m = std::make_shared<Message>();
  m->binary = binary;
  m->payload = WireBuf(data, len);
  // Bound what waits while disconnected: refuse clearly rather than lose it.
  size_t now = client_queued_.fetch_add(len) + len;
  if (now > opts_.max_queue_bytes && now != len) {
    client_queued_.fetch_sub(len);
    return Status{SSEWS_EFULL, "send queue full (max_queue_bytes " + std::to_string(opts_.max_queue_bytes) +
                                   "): the connection is down or slow; try again later"};
  }
  MessagePtr msg = std::move(m);
  Status st = enqueue(len, [this, msg] {
    Client &c = *cl_;
    if (c.stopped) {
      client_queued_.fetch_sub(msg->payload.size());
      return;
    }
    c.sendq.push_back(msg);
    if (c.connected && c.wsi) lws_callback_on_writable(c.wsi);
  });
  if (st.failed()) client_queued_.fetch_sub(len);
  return st;
}

void Engine::client_shutdown(int code, const std::string &reason) {
  Client &c = *cl_;
  if (c.closing) return;
  c.closing = true;
  c.close_code = code;
  c.close_reason = reason;
  lws_sul_cancel(&c.timer->sul);
  if (c.wsi && c.url.websocket && c.connected) {
    lws_callback_on_writable(c.wsi);  // sends close 1000 once the queue is flushed
    lws_set_timeout(c.wsi, PENDING_TIMEOUT_CLOSE_SEND, 2);
  } else if (c.wsi) {
    // An SSE stream (or a connect in progress) has nothing to say goodbye
    // with: report the close now; the socket goes with the next timeout check.
    lws_set_timeout(c.wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
    c.wsi = nullptr;
    c.connected = false;
    client_final_close(code, reason);
  } else {
    client_final_close(code, reason);
  }
}

// ---------------------------------------------------------------------------
// lws callbacks for the client role

int Engine::client_lws(lws *wsi, int reason, void *in, size_t len) {
  Client &c = *cl_;
  if (c.wsi && wsi != c.wsi && reason != LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER) return 0;
  switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
      auto **p = static_cast<unsigned char **>(in);
      unsigned char *end = *p + len;
      auto add = [&](const std::string &name, const std::string &value) {
        return lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char *>(name.c_str()),
                                           reinterpret_cast<const unsigned char *>(value.data()),
                                           static_cast<int>(value.size()), p, end) == 0;
      };
      if (!c.url.websocket) {
        // (libwebsockets adds Cache-Control: no-cache itself.)
        if (!add("accept:", "text/event-stream")) return -1;
        const std::string &id = c.parser.last_event_id();
        if (!id.empty() && !add("last-event-id:", id)) return -1;
      }
      for (const auto &h : opts_.headers) {
        size_t colon = h.find(':');
        std::string name = h.substr(0, colon + 1), value = h.substr(colon + 1);
        while (!value.empty() && value[0] == ' ') value.erase(0, 1);
        for (auto &ch : name) ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
        if (!add(name, value)) {
          client_error(SSEWS_EINVAL, "request headers do not fit (max 4 KiB): " + h.substr(0, colon));
          return -1;
        }
      }
      return 0;
    }

    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
      std::string why =
          in ? std::string(static_cast<const char *>(in), strnlen(static_cast<const char *>(in), 256))
             : "connection failed";
      bool tls = why.find("cert") != std::string::npos || why.find("SSL") != std::string::npos ||
                 why.find("ssl") != std::string::npos || why.find("tls") != std::string::npos;
      if (tls) {
        // A certificate that does not verify will not verify next time either.
        c.wsi = nullptr;
        c.connected = false;
        client_error(SSEWS_ETLS,
                     "TLS: " + why + (opts_.ca_file.empty() ? "" : " (ca_file " + opts_.ca_file + ")"));
        client_final_close(1015, "TLS handshake failed");
        return 0;
      }
      client_dropped(SSEWS_ECONNECT, "cannot connect to " + c.url.host_header() + ": " + why, true);
      return 0;
    }

    // --- WebSocket ---
    case LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH:
      c.v1 = lws_header(wsi, WSI_TOKEN_PROTOCOL) == "ssews.v1";
      return 0;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
      client_opened();
      return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
      return client_ws_receive(wsi, in, len);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
      if (len >= 2) {
        const auto *b = static_cast<const unsigned char *>(in);
        c.peer_close_code = (b[0] << 8) | b[1];
        c.peer_close_reason.assign(static_cast<const char *>(in) + 2, len - 2);
      } else {
        c.peer_close_code = 1005;
      }
      return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
      return client_ws_writeable(wsi);
    case LWS_CALLBACK_CLIENT_CLOSED: {
      int code = c.peer_close_code ? c.peer_close_code : 1006;
      std::string why = c.peer_close_code
                            ? "server closed with " + std::to_string(code) +
                                  (c.peer_close_reason.empty() ? "" : " (" + c.peer_close_reason + ")")
                            : "connection lost";
      if (c.closing) {
        c.wsi = nullptr;
        client_final_close(c.close_code, c.close_reason);
      } else if (code == 1000) {
        // The server ended the conversation on purpose: do not come back.
        c.wsi = nullptr;
        c.connected = false;
        client_final_close(1000, c.peer_close_reason);
      } else {
        client_dropped(0, why, false);
      }
      return 0;
    }

    // --- SSE over HTTP ---
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP: {
      if (c.url.websocket) return 0;  // lws reports the 101 here too
      c.http_status = static_cast<int>(lws_http_client_http_response(wsi));
      std::string type = mime_essence(lws_header(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE));
      if (c.http_status == 204) {
        // EventSource: 204 means "stop reconnecting".
        c.wsi = nullptr;
        client_final_close(1000, "HTTP 204: the server asked the client not to reconnect");
        return -1;
      }
      if (c.http_status != 200) {
        c.wsi = nullptr;
        client_error(SSEWS_EHTTP, "HTTP " + std::to_string(c.http_status) + " from " + c.url.host_header() +
                                      c.url.path + " (expected 200)");
        client_final_close(1006, "HTTP " + std::to_string(c.http_status));
        return -1;
      }
      if (type != "text/event-stream") {
        c.wsi = nullptr;
        client_error(SSEWS_EHTTP, "wrong content type '" + (type.empty() ? std::string("(none)") : type) +
                                      "' (expected text/event-stream)");
        client_final_close(1006, "wrong content type");
        return -1;
      }
      client_opened();
      return 0;
    }
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
      char buf[LWS_PRE + kHttpReadChunk];
      char *p = buf + LWS_PRE;
      int n = static_cast<int>(kHttpReadChunk);
      if (lws_http_client_read(wsi, &p, &n) < 0) return -1;
      return 0;
    }
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
      if (c.closing || !c.connected) return 0;
      if (!c.parser.feed(static_cast<const char *>(in), len)) {
        client_error(SSEWS_EPROTO, "event stream: " + c.parser.error());
        c.parser.end_of_stream();
        return -1;  // drop this stream; a reconnect starts clean
      }
      return 0;
    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
      if (c.wsi == wsi || (c.wsi == nullptr && c.connected)) client_dropped(0, "stream ended", false);
      return 0;

    case LWS_CALLBACK_CLIENT_HTTP_REDIRECT:
      return 0;  // followed by lws, as EventSource does
    default:
      return 0;
  }
}

int Engine::client_ws_receive(lws *wsi, void *in, size_t len) {
  Client &c = *cl_;
  if (c.rx.empty() && lws_is_first_fragment(wsi)) c.rx_binary = lws_frame_is_binary(wsi);
  if (c.rx.size() + len > opts_.max_message_size) {
    c.rx.clear();
    client_error(SSEWS_ETOOBIG, "incoming message exceeds max_message_size (" +
                                    std::to_string(opts_.max_message_size) + " bytes)");
    lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, nullptr, 0);
    return -1;
  }
  c.rx.append(static_cast<const char *>(in), len);
  if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi)) return 0;

  auto ev = std::make_unique<ssews_event>();
  ev->kind = SSEWS_EV_MESSAGE;
  ev->conn = kClientConn;
  ev->protocol = SSEWS_PROTO_WS;
  ev->binary = c.rx_binary;
  if (c.v1) {
    V1Message m;
    bool ok = c.rx_binary ? v1_decode_binary(c.rx, m) : v1_decode_text(c.rx, m);
    if (!ok) {
      client_error(SSEWS_EPROTO, "malformed ssews.v1 message from the server");
      c.rx.clear();
      return 0;
    }
    if (m.event == "ssews-gap" && m.channel.empty()) {
      client_error(SSEWS_EGAP,
                   "resumed after id '" + m.data +
                       "', but messages may have been missed (no longer in the server's history)");
      c.rx.clear();
      return 0;
    }
    ev->data = std::move(m.data);
    ev->has_channel = true;
    ev->channel = std::move(m.channel);
    ev->has_name = !m.event.empty();
    ev->name = std::move(m.event);
    ev->has_id = !m.id.empty();
    ev->id = m.id;
    if (!m.id.empty()) c.last_id = std::move(m.id);
  } else {
    ev->data = std::move(c.rx);
  }
  c.rx = std::string();
  emit(std::move(ev));
  return 0;
}

int Engine::client_ws_writeable(lws *wsi) {
  Client &c = *cl_;
  while (!c.sendq.empty()) {
    const Message &m = *c.sendq.front();
    auto *p = const_cast<uint8_t *>(m.payload.data());
    int n = lws_write(wsi, p, m.payload.size(), m.binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
    if (n < 0) return -1;
    client_queued_.fetch_sub(m.payload.size());
    c.sendq.pop_front();
    if (lws_send_pipe_choked(wsi)) {
      lws_callback_on_writable(wsi);
      return 0;
    }
  }
  if (c.closing) {
    c.close_sent = true;
    lws_close_reason(wsi, static_cast<enum lws_close_status>(c.close_code),
                     reinterpret_cast<unsigned char *>(&c.close_reason[0]), c.close_reason.size());
    return -1;
  }
  return 0;
}

}  // namespace sw
