// The server role: listening, lws callback dispatch, and the public
// operations (validated on the caller's thread, run on the service thread).
#include "server/server_role.h"
#include "server/tls_io.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libwebsockets.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "channel_pattern.h"
#include "engine.h"
#include "h2_preface.h"
#include "http_head.h"
#include "http_request.h"
#include "lws_util.h"
#include "sse_binary.h"
#include "v1_confirm_lws.h"

namespace sw {

namespace {

// Has lws poll fd (an epoll set of ssews') with its own sockets, as a raw
// descriptor: on_lws hears when it is readable. lws gets a dup, since it
// closes the descriptor of what it frees. Null when it cannot.
lws *poll_with_lws(lws_vhost *vh, int fd) {
  lws_sock_file_fd_type d;
  d.filefd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (d.filefd < 0) return nullptr;
  lws *w = lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, d, nullptr, nullptr);
  if (!w) close(d.filefd);
  return w;
}

// A text message named `binary` would reach ssews SSE clients as bytes.
Status check_reserved_name(bool binary, const char *event) {
  if (event && sse_name_reserved(binary, event))
    return fail(SSEWS_EINVAL,
                "event name 'binary' is reserved for binary messages (SSE carries them as base64 "
                "under it); name this text message otherwise");
  return Status::ok();
}

std::string listen_host(const Options &o) {
  return o.host == "localhost" ? "127.0.0.1" : o.host;
}

// The address to listen on for a host that is not one: an interface name
// (its first IPv4 address, else its first IPv6 one), else a host name (its
// first address). The front door binds addresses only, and only where it
// listens does ssews read heads, do TLS and frame WebSockets itself
// (libwebsockets resolved names before, and then did all three).
bool resolve_host(const std::string &name, std::string &out) {
  char text[INET6_ADDRSTRLEN] = "";
  ifaddrs *ifs = nullptr;
  if (getifaddrs(&ifs) == 0) {
    for (int family : {AF_INET, AF_INET6}) {
      for (ifaddrs *i = ifs; i && !*text; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != family || name != i->ifa_name) continue;
        const void *a =
            family == AF_INET
                ? static_cast<const void *>(&reinterpret_cast<sockaddr_in *>(i->ifa_addr)->sin_addr)
                : static_cast<const void *>(&reinterpret_cast<sockaddr_in6 *>(i->ifa_addr)->sin6_addr);
        inet_ntop(family, a, text, sizeof text);
      }
    }
    freeifaddrs(ifs);
  }
  if (!*text) {
    addrinfo hints{}, *res = nullptr;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    if (getaddrinfo(name.c_str(), nullptr, &hints, &res) == 0 && res) {
      const void *a =
          res->ai_family == AF_INET
              ? static_cast<const void *>(&reinterpret_cast<sockaddr_in *>(res->ai_addr)->sin_addr)
              : static_cast<const void *>(&reinterpret_cast<sockaddr_in6 *>(res->ai_addr)->sin6_addr);
      inet_ntop(res->ai_family, a, text, sizeof text);
    }
    if (res) freeaddrinfo(res);
  }
  out = text;
  return !out.empty();
}

PerIpConfig per_ip_config(const Options &o) {
  PerIpConfig c;
  c.max_connections = o.max_connections_per_ip;
  c.max_heads = o.max_pending_heads_per_ip;
  c.rate = o.handshake_rate_per_ip;
  c.burst = o.handshake_burst_per_ip;
  return c;
}

}  // namespace

ServerRole::ServerRole(Engine &e)
    : Role(e),
      limits_(per_ip_config(e.opts())),
      hub_(e.opts().broker.empty() ? e.opts().history : 0, new_epoch()) {}

ServerRole::~ServerRole() {
  if (broker_) broker_->stop();  // its thread posts to this role: joined before the role goes
  for (auto &kv : conns_) {
    if (kv.second.ssl) SSL_free(kv.second.ssl);
    if (kv.second.fd >= 0) close(kv.second.fd);  // own sockets (lws closes its own)
  }
  if (tls_ctx_) SSL_CTX_free(tls_ctx_);
}

const Options &ServerRole::opts() const {
  return e_.opts();
}

void ServerRole::context_info(lws_context_creation_info &ci) {
  ci.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_VALIDATE_UTF8 |
               LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
  if (!opts().tls_cert.empty()) ci.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  // lws keeps what it parses of a head in this much room: the values, and
  // each unknown header's name with 8 bytes of its own; so a head the front
  // door lets through (max_header_size bytes, kMaxHeadHeaders headers) takes
  // up to 8 bytes a header more than it measures on the wire. Without the
  // margin lws closed such a head without a word.
  ci.max_http_header_data =
      static_cast<unsigned short>(std::min<size_t>(65535, opts().max_header_size + 8 * kMaxHeadHeaders + 64));
  // Requests being parsed at once (streams give theirs back). lws allocates
  // each as it is needed and frees it after: the later requests of
  // keep-alive connections and HTTP/2 streams (the door reads first heads).
  ci.max_http_header_pool =
      static_cast<unsigned short>(std::clamp<size_t>(opts().max_pending_heads, 256, 65535));
  ci.timeout_secs = opts().handshake_timeout;
  ci.keepalive_timeout = 30;
  // The one read buffer of the service thread: what a raw socket (the
  // WebSocket connections ssews frames) is read into, per read.
  ci.pt_serv_buf_size = kServBuf;
}

Status ServerRole::start() {
  const Options &o = opts();
  if (!o.tls_cert.empty() && !readable_file(o.tls_cert))
    return fail(SSEWS_EOPTION, "option 'tls_cert': cannot read file '" + o.tls_cert + "'");
  if (!o.tls_key.empty() && !readable_file(o.tls_key))
    return fail(SSEWS_EOPTION, "option 'tls_key': cannot read file '" + o.tls_key + "'");
  if (!o.static_dir.empty()) {
    struct stat sb;
    if (stat(o.static_dir.c_str(), &sb) != 0 || !S_ISDIR(sb.st_mode))
      return fail(SSEWS_EOPTION, "option 'static_dir': '" + o.static_dir + "' is not a directory");
  }
  Status access = setup_access();
  if (access.failed()) return access;
  std::string host = listen_host(o);
  if (!FrontDoor::can_bind(host) && !resolve_host(o.host, host))
    return fail(SSEWS_ELISTEN, "cannot listen on '" + o.host +
                                   "': not an address, an interface name or a host name that resolves");
  accepted_protocols_ = split_list(o.subprotocols);
  // The front door listens and reads each request head first (front_door.h);
  // lws gets the sockets whose heads are good. With TLS the door does the
  // handshake too, and lws gets plaintext (docs/design-own-tls.md). lws
  // itself listens on nothing.
  {
    FrontDoor::Config dc;
    if (!o.tls_cert.empty()) {
      std::string err;
      tls_ctx_ = tls_server_ctx(o.tls_cert, o.tls_key, o.http2, err);
      if (!tls_ctx_)
        return fail(SSEWS_ETLS, "cannot start TLS with tls_cert '" + o.tls_cert + "' and tls_key '" +
                                    o.tls_key + "': " + err);
      dc.tls = tls_ctx_;
    }
    dc.host = host;
    dc.port = o.port;
    dc.max_header_size = o.max_header_size;
    dc.handshake_timeout_s = static_cast<int>(o.handshake_timeout);
    dc.head_timeout_s = static_cast<int>(o.head_timeout);
    // Heads being read are connections too: the smaller bound holds.
    dc.max_pending = std::min<size_t>(o.max_pending_heads, o.max_connections);
    dc.max_pending_option =
        o.max_pending_heads <= o.max_connections ? "max_pending_heads" : "max_connections";
    dc.limits = &limits_;
    dc.fragile = lws_known_header_names();
    dc.on_refuse = [this](unsigned status) { refused(status); };
    if (o.request_events) dc.on_answered = [this](const FrontDoor::Config::Answered &a) { door_answered(a); };
    door_ = std::make_unique<FrontDoor>();
    Status st = door_->open(dc);
    if (st.failed()) return st;
  }

  // No validity pings from lws on the server: lws 4.1 keeps each
  // connection's timer in one sorted list, so 10k connections pinged in the
  // same second cost a multi-second stall re-inserting them. ssews pings
  // silent peers itself from the once-a-second tick (liveness.cpp).
  retry_.reset(new lws_retry_bo_t{});

  lws_context_creation_info vi;
  memset(&vi, 0, sizeof vi);
  vi.port = CONTEXT_PORT_NO_LISTEN_SERVER;  // the door listens
  lws_protocols_ = ssews_protocols_with(accepted_protocols_);
  vi.protocols = lws_protocols_.data();
  vi.vhost_name = "ssews";
  // lws' stock HTTP/2 settings, but for the streams a connection may open:
  // lws allows 24 and answers one more with GOAWAY, ending every stream on
  // the connection; SSE pages open many. max_header_size bounds a head as on
  // HTTP/1 (lws checks SETTINGS_MAX_HEADER_LIST_SIZE itself).
  constexpr uint32_t kH2Streams = 1000;
  vi.http2_settings[0] = 1;
  vi.http2_settings[1] = 65536;                                              // HEADER_TABLE_SIZE
  vi.http2_settings[2] = 0;                                                  // ENABLE_PUSH
  vi.http2_settings[3] = std::min<uint32_t>(kH2Streams, o.max_connections);  // MAX_CONCURRENT_STREAMS
  vi.http2_settings[4] = 0;            // INITIAL_WINDOW_SIZE: lws sends WINDOW_UPDATEs itself
  vi.http2_settings[5] = kH2MaxFrame;  // MAX_FRAME_SIZE
  vi.http2_settings[6] = static_cast<uint32_t>(o.max_header_size);  // MAX_HEADER_LIST_SIZE
  vi.retry_and_idle_policy = retry_.get();
  vi.timeout_secs = o.handshake_timeout;
  vi.keepalive_timeout = 30;
  lws_vhost *vh = lws_create_vhost(e_.ctx(), &vi);
  if (vh && tls_ctx_ && o.http2) {
    // HTTP/2 over the door's TLS (with TLS, h2 too: SSE streams, files and
    // publishes multiplex on one connection): relayed plaintext, which this
    // vhost reads as HTTP/2 from its first byte (ALPN chose it).
    vi.vhost_name = "ssews-h2";
    vi.options |= LWS_SERVER_OPTION_H2_PRIOR_KNOWLEDGE;
    lws_protocols_h2_ = ssews_protocols_with(accepted_protocols_, true);
    vi.protocols = lws_protocols_h2_.data();
    vhost_h2_ = lws_create_vhost(e_.ctx(), &vi);
    if (!vhost_h2_) return fail(SSEWS_ELISTEN, "cannot make the HTTP/2 vhost");
  }
  if (!vh) return fail(SSEWS_ELISTEN, "cannot make the server's libwebsockets vhost");
  vhost_ = vh;
  Status bst = start_broker();
  if (bst.failed()) return bst;
  bound_port_ = door_->port();
  {
    // lws polls the door's epoll descriptor with its own sockets and calls
    // on_lws when it is readable. A dup: lws closes the descriptor of what
    // it frees, and the door closes its own.
    door_wsi_ = poll_with_lws(vh, door_->poll_fd());
    if (!door_wsi_) return fail(SSEWS_ELISTEN, "cannot poll the listening socket on " + host);
    // The plain-TCP WebSocket connections' own set, polled the same way.
    Status sst = sockets_.open();
    if (sst.failed()) return sst;
    sockets_wsi_ = poll_with_lws(vh, sockets_.poll_fd());
    if (!sockets_wsi_) return fail(SSEWS_ELISTEN, "cannot poll the WebSocket connections' socket set");
    if (tls_ctx_) {
      Status rst = relays_.open();
      if (rst.failed()) return rst;
      relays_wsi_ = poll_with_lws(vh, relays_.poll_fd());
      if (!relays_wsi_) return fail(SSEWS_ELISTEN, "cannot poll the TLS relays");
    }
    // HTTP/2 (ALPN): relayed to lws' HTTP/2 vhost.
    hand_in_.h2 = [this](int s, SSL *ssl) {
      std::string none;
      relay_to_lws(s, ssl, none, true);
    };
    hand_in_.tls = [this](int s, SSL *ssl, std::string &bytes, size_t head_len) {
      return tls_take(s, ssl, bytes, head_len);
    };
    hand_in_.plain = [this, vh](int s, std::string_view head) -> std::string {
      // A WebSocket upgrade: ssews answers and frames it (ws_tcp_server.cpp).
      HttpRequest req;
      std::string err;
      if (parse_http_request(head, req, err) && req.header_has_token("upgrade", "websocket"))
        return ws_tcp_take(s, head.size(), std::move(req));
      // Anything else: lws reads the head (still in the socket) as from a
      // socket it accepted; on failure it closes the socket itself (lws-adopt.h).
      lws_adopt_socket_vhost(vh, s);
      return "";
    };
  }
  return Status::ok();
}

bool ServerRole::hold(size_t bytes) {
  if (partial_bytes_ + bytes > opts().max_partial_bytes) return false;
  partial_bytes_ += bytes;
  return true;
}

// ---------------------------------------------------------------------------
// lws callback dispatch

int ServerRole::on_lws(lws *wsi, int reason, void *in, size_t len) {
  switch (reason) {
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
      return count_conn(wsi);
    case LWS_CALLBACK_FILTER_HTTP_CONNECTION:  // a request head read (not an upgrade)
      head_parsed(wsi);
      return 0;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
      head_parsed(wsi);
      return confirm_upgrade(wsi, static_cast<const char *>(in));
    case LWS_CALLBACK_ADD_HEADERS:  // the 101 confirms ssews.v1 (see v1_confirm.h)
      return v1_add_confirm_header(wsi, in) ? 0 : -1;
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
      exchange_body(wsi, len);
      return publish_body(wsi, in, len);  // other requests with a body were already answered
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
      if (posts_.count(wsi)) return publish_done(wsi);
      return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
      if (answers_.count(wsi)) return publish_answer(wsi);
      return sse_writeable(wsi);
    case LWS_CALLBACK_HTTP_FILE_COMPLETION:
      exchange_end(wsi);
      return lws_http_transaction_completed(wsi) ? -1 : 0;
    case LWS_CALLBACK_RAW_RX_FILE:
      if (door_ && wsi == door_wsi_) door_->service(hand_in_);
      if (wsi == sockets_wsi_) ws_tcp_service();
      if (wsi == relays_wsi_) relays_.service();
      return 0;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
      if (wsi == door_wsi_) door_wsi_ = nullptr;
      if (wsi == sockets_wsi_) sockets_wsi_ = nullptr;
      if (wsi == relays_wsi_) relays_wsi_ = nullptr;
      return 0;
    case LWS_CALLBACK_CLOSED:
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_WSI_DESTROY: {
      auto it = posts_.find(wsi);
      if (it != posts_.end()) {
        release(it->second.body.size());
        posts_.erase(it);
      }
      if (broker_) publish_gone(wsi);
      exchange_end(wsi);  // a file cut short is still reported (its status was sent)
      exchange_drop(wsi);
      return conn_gone(wsi);
    }
    default:
      return 0;
  }
}

void ServerRole::run_message(Cmd &cmd) {
  if (cmd.to) {
    if (Conn *c = find(cmd.to)) queue_to(c, cmd.msg);
  } else {
    fan_out(hub_.publish(std::move(cmd.msg)));
  }
}

void ServerRole::tick() {
  int64_t now = lws_now_usecs();
  if (door_) door_->expire();
  expire_own(now);
  limits_.sweep(steady_ms());
  check_sse_hangups(now);
  ping_silent_peers(static_cast<uint32_t>(now / 1000));
  sse_heartbeats(now);
  expire_tokens();
}

void ServerRole::shutdown() {
  if (door_) door_->stop();   // no new connections, and heads half read are dropped
  if (begin_drain()) return;  // drain_timeout: closes spread over a window
  std::vector<Conn *> all;
  for (auto &kv : conns_) all.push_back(&kv.second);
  for (Conn *c : all) start_close(c, 1001, "server closing");
  if (conns_.empty()) e_.stop();
}

void ServerRole::resume_reading() {
  for (ConnId id : paused_) {
    Conn *c = find(id);
    if (c && c->rx_paused) {
      c->rx_paused = false;
      rx_enable(c, true);
    }
  }
  paused_.clear();
}

// ---------------------------------------------------------------------------
// Public operations: validate here, act on the service thread.

Status ServerRole::check_live(ConnId conn, Proto *proto) const {
  std::lock_guard<std::mutex> lk(live_mu_);
  auto it = live_.find(conn);
  if (it == live_.end()) return fail(SSEWS_ENOCONN, "no open connection " + std::to_string(conn));
  if (proto) *proto = it->second.proto;
  return Status::ok();
}

Status ServerRole::send(ConnId conn, const void *data, size_t len, bool binary, const char *event,
                        const char *id) {
  if (!data && len) return fail(SSEWS_EINVAL, "data is NULL but len is not 0");
  Proto proto;
  Status st = check_live(conn, &proto);
  if (st.failed()) return st;
  if (e_.closing()) return fail(SSEWS_ECLOSED, "the endpoint is closing");
  st = check_size(data, len, opts().max_message_size);
  if (st.failed()) return st;
  st = check_fields(event, id);
  if (st.failed()) return st;
  st = check_reserved_name(binary, event);
  if (st.failed()) return st;
  if (binary && proto == Proto::Sse)
    return fail(SSEWS_EINVAL, "binary data cannot be sent on an SSE connection (SSE is text)");
  st = check_text(data, len, binary);
  if (st.failed()) return st;
  return queue_message(nullptr, conn, data, len, binary, event, id);
}

Status ServerRole::publish(const char *channel, const void *data, size_t len, bool binary, const char *event,
                           const char *id) {
  Status st = check_channel(channel);
  if (st.failed()) return st;
  st = check_size(data, len, opts().max_message_size);
  if (st.failed()) return st;
  st = check_fields(event, id);
  if (st.failed()) return st;
  st = check_reserved_name(binary, event);
  if (st.failed()) return st;
  if (id && !*id) return fail(SSEWS_EINVAL, "id must not be empty (pass NULL to assign one)");
  st = check_text(data, len, binary);
  if (st.failed()) return st;
  if (broker_) {
    if (e_.closing()) return fail(SSEWS_ECLOSED, "the endpoint is closing");
    auto m = std::make_shared<Message>();
    m->channel = channel;
    m->binary = binary;
    if (event) m->event = event;
    if (id) m->id = id;
    m->payload = WireBuf(data, len);
    return broker_publish(std::move(m));
  }
  return queue_message(channel, 0, data, len, binary, event, id);
}

// The payload copied once into a shared message, queued for the service
// thread: to one connection, or (to 0) published on channel.
Status ServerRole::queue_message(const char *channel, ConnId to, const void *data, size_t len, bool binary,
                                 const char *event, const char *id) {
  auto m = std::make_shared<Message>();
  if (channel) m->channel = channel;
  m->binary = binary;
  if (event) m->event = event;
  if (id) m->id = id;
  m->payload = WireBuf(data, len);
  Cmd cmd;
  cmd.bytes = len;
  cmd.msg = std::move(m);
  cmd.to = to;
  return e_.enqueue(std::move(cmd));
}

Status ServerRole::subscribe(ConnId conn, const char *channel, bool on) {
  Status st = check_channel(channel);
  if (st.failed()) return st;
  st = check_live(conn);
  if (st.failed()) return st;
  std::string ch = channel;
  if (e_.on_service_thread() && in_open_ == conn) {  // a decision inside the open callback
    open_subscribed_ = true;
    if (on) {
      open_channels_.push_back(ch);
    } else {
      for (auto it = open_channels_.begin(); it != open_channels_.end();)
        it = *it == ch ? open_channels_.erase(it) : it + 1;
    }
    return Status::ok();
  }
  return e_.enqueue(0, [this, conn, ch, on] {
    Conn *c = find(conn);
    if (!c) return;
    if (!on) {
      leave(conn, ch);
      return;
    }
    if (!c->established) {
      c->more().initial_channels.push_back(ch);
      return;
    }
    join(c, ch);
  });
}

Status ServerRole::reject(ConnId conn, int status) {
  if (status == 0) status = 403;
  if (status < 400 || status > 599) return fail(SSEWS_EINVAL, "http_status must be 400-599");
  Status st = check_live(conn);
  if (st.failed()) return st;
  if (e_.on_service_thread() && in_open_ == conn) {
    open_reject_ = status;
    return Status::ok();
  }
  return e_.enqueue(0, [this, conn] {
    if (Conn *c = find(conn)) start_close(c, 1008, "rejected");
  });
}

Status ServerRole::accept_subprotocol(ConnId conn, const char *name) {
  if (!name || !*name) return fail(SSEWS_EINVAL, "subprotocol name is empty");
  Proto proto;
  Status st = check_live(conn, &proto);
  if (st.failed()) return st;
  if (proto != Proto::Ws) return fail(SSEWS_ENOTSUP, "not supported: an SSE stream has no subprotocol");
  if (!e_.on_service_thread() || in_open_ != conn)
    return fail(
        SSEWS_EINVAL,
        "a subprotocol is chosen inside the connection's open event callback (its handshake is answered "
        "when the callback returns; in pull mode the subprotocols option chooses)");
  std::string offered;
  bool found = false;
  for (const auto &p : open_offered_) {
    found = found || p == name;
    offered += (offered.empty() ? "" : ", ") + p;
  }
  if (!found)
    return fail(SSEWS_EINVAL, std::string("subprotocol '") + name +
                                  "' was not offered by the client (offered: " +
                                  (offered.empty() ? "none" : offered) + ")");
  // (lws answers its own handshakes with its own pick: none reaches here now.)
  if (!open_any_protocol_ && open_protocol_ != name)
    return fail(SSEWS_ENOTSUP, "not supported: this WebSocket's handshake is libwebsockets' to answer ('" +
                                   open_protocol_ + "')");
  open_protocol_ = name;
  return Status::ok();
}

Status ServerRole::conn_close(ConnId conn, int code, const char *reason) {
  Status st = check_close(code, reason);
  if (st.failed()) return st;
  st = check_live(conn);
  if (st.failed()) return st;
  std::string r = reason ? reason : "";
  return e_.enqueue(0, [this, conn, code, r] {
    if (Conn *c = find(conn)) start_close(c, code, r);
  });
}

Status ServerRole::may_publish(ConnId conn, const char *channel) {
  Status st = check_channel(channel);
  if (st.failed()) return st;
  GrantPtr grant;
  {
    std::lock_guard<std::mutex> lk(live_mu_);
    auto it = live_.find(conn);
    if (it == live_.end()) return fail(SSEWS_ENOCONN, "no open connection " + std::to_string(conn));
    grant = it->second.grant;
  }
  if (sw::may_publish(access_.jwt.enabled(), grant.get(), channel)) return Status::ok();
  return fail(SSEWS_EACCES, "connection " + std::to_string(conn) + " may not publish to channel '" + channel +
                                "' (" + (grant ? "not in its token's publish claim" : "it has no token") +
                                ")");
}

Status ServerRole::publish_as(ConnId conn, const char *channel, const void *data, size_t len, bool binary,
                              const char *event, const char *id) {
  Status st = may_publish(conn, channel);
  if (st.code == SSEWS_EACCES) {
    // Close reasons hold 123 bytes: the channel name is cut to fit.
    std::string ch = channel;
    if (ch.size() > 80) {
      size_t cut = 80;
      while (cut > 0 && (static_cast<unsigned char>(ch[cut]) & 0xC0) == 0x80)
        cut--;  // whole UTF-8 characters
      ch.resize(cut);
    }
    std::string why = "not allowed to publish to channel '" + ch + "'";
    std::string msg = st.msg;
    e_.enqueue(0, [this, conn, why] {
      if (Conn *c = find(conn)) start_close(c, 1008, why);
    });
    return fail(SSEWS_EACCES, msg);
  }
  if (st.failed()) return st;
  return publish(channel, data, len, binary, event, id);
}

Status ServerRole::port(int &out) const {
  out = bound_port_;
  return Status::ok();
}

}  // namespace sw
