// Endpoint lifecycle, the cross-thread command queue, event delivery and the
// public operations. Protocol handling lives in server.cpp.
#include "engine.h"

#include "client_state.h"

#include <arpa/inet.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>

#include "sse_encoder.h"
#include "ssews.h"
#include "utf8.h"
#include "url.h"
#include "ws_rules.h"

static_assert(LWS_PRE <= sw::kHeadroom, "WireBuf headroom must cover LWS_PRE");

namespace sw {

// A libwebsockets timer bound to an engine.
struct Engine::Sul {
  lws_sorted_usec_list_t sul;
  Engine *engine;
};

namespace {

constexpr size_t kMaxFieldBytes = 1024;  // channel, event and id names
constexpr int64_t kCloseGraceUs = 2 * 1000 * 1000;

int lws_callback(lws *wsi, enum lws_callback_reasons reason, void *, void *in, size_t len) {
  auto *e = static_cast<Engine *>(lws_context_user(lws_get_context(wsi)));
  if (!e) return 0;
  return e->on_lws(wsi, static_cast<int>(reason), in, len);
}

// "ssews" serves HTTP, SSE and plain WebSocket; "ssews.v1" is chosen by
// clients that want channel, event and id with each message.
// rx_buffer_size is what lws allocates per WebSocket connection for incoming
// frames and hands over per RECEIVE callback; longer messages arrive in pieces
// that ws_receive reassembles, so a small one keeps idle connections small.
// tx_packet_size keeps writes large (lws would otherwise cap them at rx_buffer_size).
constexpr size_t kRxChunk = 128;  // still holds a whole control frame (125 bytes)
constexpr size_t kTxChunk = 64 * 1024;
const lws_protocols kProtocols[] = {
    {"ssews", lws_callback, 0, kRxChunk, 0, nullptr, kTxChunk},
    {"ssews.v1", lws_callback, 0, kRxChunk, 0, nullptr, kTxChunk},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

int log_mask(const std::string &level) {
  if (level == "none") return 0;
  if (level == "warn") return LLL_ERR | LLL_WARN;
  if (level == "notice") return LLL_ERR | LLL_WARN | LLL_NOTICE;
  if (level == "info") return LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_INFO;
  return LLL_ERR;
}

Status fail(int code, std::string msg) {
  return Status{code, std::move(msg)};
}

bool readable_file(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), R_OK) == 0;
}

// Tries the bind ourselves first so a failure can say why (lws only says no).
Status check_bind(const std::string &host, int port) {
  if (port == 0) return Status::ok();
  sockaddr_storage ss{};
  socklen_t slen;
  int family;
  auto *v4 = reinterpret_cast<sockaddr_in *>(&ss);
  auto *v6 = reinterpret_cast<sockaddr_in6 *>(&ss);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    family = v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    slen = sizeof *v4;
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    family = v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    slen = sizeof *v6;
  } else {
    return Status::ok();  // an interface name: let lws resolve it
  }
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(SSEWS_ELISTEN, std::string("socket: ") + strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  int r = bind(fd, reinterpret_cast<sockaddr *>(&ss), slen);
  int err = errno;
  if (r == 0) r = listen(fd, 1), err = errno;
  close(fd);
  if (r != 0)
    return fail(SSEWS_ELISTEN,
                "cannot listen on " + host + " port " + std::to_string(port) + ": " + strerror(err));
  return Status::ok();
}

}  // namespace

std::string make_epoch() {
  // Start time in ms plus randomness, base36: differs at every start, so an
  // id from an earlier run is recognised as stale.
  static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  uint64_t ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
  std::random_device rd;
  uint64_t v = (ms << 12) ^ (rd() & 0xfff);
  std::string s;
  while (v) {
    s.insert(s.begin(), digits[v % 36]);
    v /= 36;
  }
  return s;
}

Engine::Engine(ssews *handle, Options opts, EventCallback cb, void *user)
    : handle_(handle), opts_(std::move(opts)), cb_(cb), user_(user), hub_(opts_.history, make_epoch()) {}

Engine::~Engine() = default;

Engine *Engine::open(ssews *handle, const char *const *kv, EventCallback cb, void *user, Status &st) {
  Options o;
  std::string err;
  if (!parse_options(kv, o, err)) {
    st = fail(SSEWS_EOPTION, err);
    return nullptr;
  }
  if (!o.url.empty()) {
    Url u;
    std::string why;
    if (!parse_url(o.url, u, why)) {
      st = fail(SSEWS_EURL, "option 'url': " + why);
      return nullptr;
    }
    if (!o.ca_file.empty() && !readable_file(o.ca_file)) {
      st = fail(SSEWS_EOPTION, "option 'ca_file': cannot read file '" + o.ca_file + "'");
      return nullptr;
    }
  }
  if (!o.tls_cert.empty() && !readable_file(o.tls_cert)) {
    st = fail(SSEWS_EOPTION, "option 'tls_cert': cannot read file '" + o.tls_cert + "'");
    return nullptr;
  }
  if (!o.tls_key.empty() && !readable_file(o.tls_key)) {
    st = fail(SSEWS_EOPTION, "option 'tls_key': cannot read file '" + o.tls_key + "'");
    return nullptr;
  }
  if (!o.static_dir.empty()) {
    struct stat sb;
    if (stat(o.static_dir.c_str(), &sb) != 0 || !S_ISDIR(sb.st_mode)) {
      st = fail(SSEWS_EOPTION, "option 'static_dir': '" + o.static_dir + "' is not a directory");
      return nullptr;
    }
  }
  std::unique_ptr<Engine> e(new Engine(handle, std::move(o), cb, user));
  if (!e->events_.ok()) {
    st = fail(SSEWS_ENOMEM, std::string("eventfd: ") + strerror(errno));
    return nullptr;
  }
  st = e->start();
  if (st.failed()) return nullptr;
  return e.release();
}

Status Engine::start_client() {
  client_init();  // before the context: lws calls back while creating it
  lws_context_creation_info ci;
  memset(&ci, 0, sizeof ci);
  // No DO_SSL_GLOBAL_INIT on the context: OpenSSL 3 initialises itself, and
  // lws 4.1 leaks its client SSL_CTX when a second context in the process
  // (a TLS server) also asked for global init (seen with ASan).
  ci.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_VALIDATE_UTF8;
  ci.user = this;
  ci.timeout_secs = opts_.connect_timeout;
  ci.connect_timeout_secs = opts_.connect_timeout;
  ci.pcontext = &ctx_;
  ctx_ = lws_create_context(&ci);
  if (!ctx_) return fail(SSEWS_EINTERNAL, "cannot create the libwebsockets context");
  lws_context_creation_info vi;
  memset(&vi, 0, sizeof vi);
  vi.port = CONTEXT_PORT_NO_LISTEN;
  vi.protocols = kProtocols;
  vi.vhost_name = "ssews-client";
  vi.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  vi.timeout_secs = opts_.connect_timeout;
  vi.connect_timeout_secs = opts_.connect_timeout;
  if (!opts_.ca_file.empty()) vi.client_ssl_ca_filepath = opts_.ca_file.c_str();
  vhost_ = lws_create_vhost(ctx_, &vi);
  if (!vhost_) {
    lws_context_destroy(ctx_);
    ctx_ = nullptr;
    return fail(SSEWS_ETLS, "cannot set up the client (TLS with ca_file '" + opts_.ca_file + "')");
  }
  {
    std::lock_guard<std::mutex> lk(live_mu_);
    live_.emplace(1, cl_->url.websocket ? Proto::Ws : Proto::Sse);
  }
  heartbeat_sul_.reset(new Sul{});
  heartbeat_sul_->engine = this;
  ctx_alive_ = true;
  thread_ = std::thread([this] { run(); });
  return Status::ok();
}

Status Engine::start() {
  lws_set_log_level(log_mask(opts_.log_level), nullptr);
  if (is_client()) return start_client();
  std::string host = opts_.host == "localhost" ? "127.0.0.1" : opts_.host;
  Status st = check_bind(host, opts_.port);
  if (st.failed()) return st;

  lws_context_creation_info ci;
  memset(&ci, 0, sizeof ci);
  ci.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_VALIDATE_UTF8 |
               LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
  if (!opts_.tls_cert.empty()) ci.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  ci.user = this;
  ci.max_http_header_data = static_cast<unsigned short>(opts_.max_header_size);
  ci.max_http_header_pool = 256;  // requests being parsed at once; streams give theirs back
  ci.timeout_secs = opts_.handshake_timeout;
  ci.keepalive_timeout = 30;
  ci.pcontext = &ctx_;
  ctx_ = lws_create_context(&ci);
  if (!ctx_) return fail(SSEWS_EINTERNAL, "cannot create the libwebsockets context");

  // No validity pings from lws on the server: lws 4.1 keeps each
  // connection's timer in one sorted list, so 10k connections pinged in the
  // same second cost a multi-second stall re-inserting them. ssews pings
  // silent peers itself from the once-a-second tick (heartbeat_tick).
  retry_.reset(new lws_retry_bo_t{});

  lws_context_creation_info vi;
  memset(&vi, 0, sizeof vi);
  vi.port = opts_.port;  // 0: the kernel picks a free port
  vi.protocols = kProtocols;
  vi.vhost_name = "ssews";
  vi.alpn = "http/1.1";  // SSE streams and WebSocket upgrades are served over HTTP/1.1
  vi.retry_and_idle_policy = retry_.get();
  vi.timeout_secs = opts_.handshake_timeout;
  vi.keepalive_timeout = 30;
  if (host == "0.0.0.0") {
    vi.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
  } else if (host != "::") {
    vi.iface = host.c_str();
  }
  if (host.find(':') == std::string::npos) vi.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
  if (!opts_.tls_cert.empty()) {
    vi.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    vi.ssl_cert_filepath = opts_.tls_cert.c_str();
    vi.ssl_private_key_filepath = opts_.tls_key.c_str();
  }
  vhost_ = lws_create_vhost(ctx_, &vi);
  if (!vhost_) {
    lws_context_destroy(ctx_);
    ctx_ = nullptr;
    if (!opts_.tls_cert.empty())
      return fail(SSEWS_ETLS, "cannot start TLS with tls_cert '" + opts_.tls_cert + "' and tls_key '" +
                                  opts_.tls_key + "' (or cannot listen on " + host + ")");
    return fail(SSEWS_ELISTEN, "cannot listen on " + host + " port " + std::to_string(opts_.port));
  }
  bound_port_ = lws_get_vhost_listen_port(vhost_);

  heartbeat_sul_.reset(new Sul{});
  heartbeat_sul_->engine = this;
  ctx_alive_ = true;
  thread_ = std::thread([this] { run(); });
  return Status::ok();
}

void Engine::heartbeat_cb(lws_sorted_usec_list_t *sul) {
  auto *s = lws_container_of(sul, Sul, sul);
  s->engine->heartbeat_tick();
  lws_sul_schedule(s->engine->ctx_, 0, &s->sul, heartbeat_cb, LWS_US_PER_SEC);
  s->engine->kick_if_pending();
}

void Engine::run() {
  service_tid_ = std::this_thread::get_id();
  lws_sul_schedule(ctx_, 0, &heartbeat_sul_->sul, heartbeat_cb, LWS_US_PER_SEC);
  if (is_client()) client_schedule(0);
  while (!stop_loop_.load()) {
    polling_.store(true);
    bool pending;
    {
      std::lock_guard<std::mutex> lk(cmd_mu_);
      pending = !cmds_.empty();
    }
    // Queued while the last pass ran (nobody woke us for those): poll must
    // not sleep on them. The wake-up arrives as EVENT_WAIT_CANCELLED.
    if (pending) lws_cancel_service(ctx_);
    int r = lws_service(ctx_, 0);
    polling_.store(false);
    if (r < 0) break;
    now_ms_ = static_cast<uint32_t>(lws_now_usecs() / 1000);
    reservice_busy();
    // Outside every lws callback: run what callbacks asked for, then write
    // what this pass queued, coalesced, straight to the sockets.
    run_local();
    flush_dirty();
    pass_++;
  }
  lws_sul_cancel(&heartbeat_sul_->sul);
  {
    // From now on no other thread may touch the context (see wake()).
    std::lock_guard<std::mutex> lk(wake_mu_);
    ctx_alive_ = false;
  }
  // Destroying the context closes what is left; each close still reports.
  lws_context_destroy(ctx_);
  ctx_ = nullptr;
  drain_commands();  // run what was queued last (nothing can reach a socket now)
  run_local();
  dirty_.clear();
  if (close_from_callback_) {
    // Nobody will join us: detach and free ourselves.
    thread_.detach();
    ssews *h = handle_;
    delete this;
    delete h;
  }
}

bool Engine::close() {
  bool first = !closing_.exchange(true);
  if (!first) return false;
  std::function<void()> shutdown = [this] {
    close_deadline_us_ = lws_now_usecs() + kCloseGraceUs;
    if (is_client()) {
      client_shutdown(1000, "closed by application");
      if (cl_->stopped) stop_loop_ = true;
      return;
    }
    std::vector<Conn *> all;
    for (auto &kv : conns_) all.push_back(&kv.second);
    for (Conn *c : all) start_close(c, 1001, "server closing");
    if (conns_.empty()) stop_loop_ = true;
  };
  {
    std::lock_guard<std::mutex> lk(cmd_mu_);
    cmds_.push_back(Cmd{0, std::move(shutdown), nullptr});
  }
  if (on_service_thread()) {
    close_from_callback_ = true;
    wake();
    return false;
  }
  wake();
  if (thread_.joinable()) thread_.join();
  return true;
}

// ---------------------------------------------------------------------------
// Commands

Status Engine::enqueue(size_t bytes, std::function<void()> fn) {
  return enqueue_cmd(Cmd{bytes, std::move(fn), nullptr});
}

Status Engine::too_much_pending(size_t queued, size_t bytes) const {
  if (queued + bytes > opts_.max_pending_bytes && bytes > 0)
    return fail(SSEWS_EFULL, "max_pending_bytes (" + std::to_string(opts_.max_pending_bytes) +
                                 ") of unsent data queued; try again later");
  return Status::ok();
}

Status Engine::enqueue_cmd(Cmd cmd) {
  size_t bytes = cmd.bytes;
  if (closing_.load()) return fail(SSEWS_ECLOSED, "the endpoint is closing");
  if (on_service_thread()) {
    // From an event callback: no lock, no wake-up; run() runs it when the
    // current service pass ends (never inside the caller's callback).
    Status st = too_much_pending(local_bytes_, bytes);
    if (st.failed()) return st;
    local_bytes_ += bytes;
    local_cmds_.push_back(std::move(cmd));
    return Status::ok();
  }
  bool first;
  {
    std::lock_guard<std::mutex> lk(cmd_mu_);
    Status st = too_much_pending(cmd_bytes_, bytes);
    if (st.failed()) return st;
    cmd_bytes_ += bytes;
    first = cmds_.empty();
    cmds_.push_back(std::move(cmd));
  }
  // The loop drains everything queued when it wakes, so only the command
  // that makes the queue non-empty needs to wake it, and only if the loop may
  // be asleep (run() checks the queue before it polls): one syscall per
  // batch at most, none while the loop is busy.
  if (first && polling_.load()) wake();
  return Status::ok();
}

void Engine::wake() {
  std::lock_guard<std::mutex> lk(wake_mu_);
  if (ctx_alive_) lws_cancel_service(ctx_);
}

void Engine::drain_commands() {
  std::vector<Cmd> batch;
  {
    std::lock_guard<std::mutex> lk(cmd_mu_);
    batch.swap(cmds_);
  }
  size_t bytes = 0;
  for (auto &c : batch) {
    bytes += c.bytes;
    run_cmd(c);
  }
  if (bytes) {
    std::lock_guard<std::mutex> lk(cmd_mu_);
    cmd_bytes_ -= bytes;
  }
}

void Engine::run_cmd(Cmd &c) {
  if (c.pub && c.to) {
    if (Conn *conn = find(c.to)) queue_to(conn, c.pub);
  } else if (c.pub) {
    fan_out(hub_.publish(std::move(c.pub)));
  } else
    c.fn();
}

void Engine::kick_if_pending() {
  if (!local_cmds_.empty() || !dirty_.empty()) lws_cancel_service(ctx_);
}

void Engine::run_local() {
  // A command may queue more (its events reach the callback, which may call
  // again): run until none is left, in order.
  while (!local_cmds_.empty()) {
    std::vector<Cmd> batch;
    batch.swap(local_cmds_);
    for (auto &c : batch) {
      local_bytes_ -= c.bytes;
      run_cmd(c);
    }
  }
}

// ---------------------------------------------------------------------------
// Events

void Engine::emit(EventPtr ev) {
  EventCallback cb;
  void *user;
  {
    std::lock_guard<std::mutex> lk(cb_mu_);
    cb = cb_;
    user = user_;
  }
  if (cb) {
    cb(handle_, ev.get(), user);
    return;
  }
  ev->live_wsi = nullptr;
  events_.push(std::move(ev));
}

Status Engine::set_callback(EventCallback cb, void *user) {
  return enqueue(0, [this, cb, user] {
    {
      std::lock_guard<std::mutex> lk(cb_mu_);
      cb_ = cb;
      user_ = user;
    }
    if (cb) {  // hand what was waiting in the pull queue to the new callback, in order
      while (EventPtr ev = events_.pop()) cb(handle_, ev.get(), user);
      resume_paused();
    }
  });
}

Status Engine::next_event(const ssews_event **ev) {
  size_t left = 0;
  current_ = events_.pop(&left);
  *ev = current_.get();
  if (!current_) return fail(SSEWS_EAGAIN, "no event pending");
  // Reading resumed: let paused connections deliver again once half drained.
  if (events_paused_.load() && left <= opts_.max_event_queue / 2) {
    if (events_paused_.exchange(false)) enqueue(0, [this] { resume_paused(); });
  }
  return Status::ok();
}

void Engine::resume_paused() {
  for (ConnId id : paused_) {
    Conn *c = find(id);
    if (c && c->rx_paused) {
      c->rx_paused = false;
      lws_rx_flow_control(c->wsi, 1);
    }
  }
  paused_.clear();
}

// ---------------------------------------------------------------------------
// Public operations: validate here, act on the service thread.

namespace {
// ssews.v1 carries event and id inside text frames: they must be UTF-8 too.
Status check_fields(const char *event, const char *id) {
  if (event && (!sse_field_ok(event) || strlen(event) > kMaxFieldBytes || !utf8_valid(event)))
    return fail(SSEWS_EINVAL, "event name must be at most 1024 bytes of UTF-8 without CR, LF or NUL");
  if (id && (!sse_field_ok(id) || strlen(id) > kMaxFieldBytes || !utf8_valid(id)))
    return fail(SSEWS_EINVAL, "id must be at most 1024 bytes of UTF-8 without CR, LF or NUL");
  return Status::ok();
}
}  // namespace

Status Engine::send(ConnId conn, const void *data, size_t len, bool binary, const char *event,
                    const char *id) {
  if (!data && len) return fail(SSEWS_EINVAL, "data is NULL but len is not 0");
  if (is_client()) {
    if (closing_.load()) return fail(SSEWS_ECLOSED, "the endpoint is closing");
    if (len > opts_.max_message_size)
      return fail(SSEWS_ETOOBIG, "message of " + std::to_string(len) + " bytes exceeds max_message_size (" +
                                     std::to_string(opts_.max_message_size) + ")");
    if (!binary && !utf8_valid(std::string_view(static_cast<const char *>(data), len)))
      return fail(SSEWS_EINVAL, "text message is not valid UTF-8");
    if (event || id) return fail(SSEWS_EINVAL, "event and id apply to SSE messages a server sends");
    return client_send(data, len, binary);
  }
  Proto proto;
  {
    std::lock_guard<std::mutex> lk(live_mu_);
    auto it = live_.find(conn);
    if (it == live_.end()) return fail(SSEWS_ENOCONN, "no open connection " + std::to_string(conn));
    proto = it->second;
  }
  if (closing_.load()) return fail(SSEWS_ECLOSED, "the endpoint is closing");
  if (len > opts_.max_message_size)
    return fail(SSEWS_ETOOBIG, "message of " + std::to_string(len) + " bytes exceeds max_message_size (" +
                                   std::to_string(opts_.max_message_size) + ")");
  Status st = check_fields(event, id);
  if (st.failed()) return st;
  if (binary && proto == Proto::Sse)
    return fail(SSEWS_EINVAL, "binary data cannot be sent on an SSE connection (SSE is text)");
  std::string_view view(static_cast<const char *>(data), len);
  if (!binary && !utf8_valid(view)) return fail(SSEWS_EINVAL, "text message is not valid UTF-8");
  auto m = std::make_shared<Message>();
  m->binary = binary;
  if (event) m->event = event;
  if (id) m->id = id;
  m->payload = WireBuf(data, len);
  Cmd cmd{len, nullptr, std::move(m)};
  cmd.to = conn;
  return enqueue_cmd(std::move(cmd));
}

Status Engine::publish(const char *channel, const void *data, size_t len, bool binary, const char *event,
                       const char *id) {
  if (is_client()) return fail(SSEWS_ENOTSUP, "not supported: publish is for server endpoints");
  if (!channel || !*channel) return fail(SSEWS_EINVAL, "channel must be a non-empty string");
  if (strlen(channel) > kMaxFieldBytes) return fail(SSEWS_EINVAL, "channel name longer than 1024 bytes");
  if (!utf8_valid(channel)) return fail(SSEWS_EINVAL, "channel name is not valid UTF-8");
  if (!data && len) return fail(SSEWS_EINVAL, "data is NULL but len is not 0");
  if (len > opts_.max_message_size)
    return fail(SSEWS_ETOOBIG, "message of " + std::to_string(len) + " bytes exceeds max_message_size (" +
                                   std::to_string(opts_.max_message_size) + ")");
  Status st = check_fields(event, id);
  if (st.failed()) return st;
  if (id && !*id) return fail(SSEWS_EINVAL, "id must not be empty (pass NULL to assign one)");
  std::string_view view(static_cast<const char *>(data), len);
  if (!binary && !utf8_valid(view)) return fail(SSEWS_EINVAL, "text message is not valid UTF-8");
  auto m = std::make_shared<Message>();
  m->channel = channel;
  m->binary = binary;
  if (event) m->event = event;
  if (id) m->id = id;
  m->payload = WireBuf(data, len);
  return enqueue_cmd(Cmd{len, nullptr, std::move(m)});
}

Status Engine::subscribe(ConnId conn, const char *channel, bool on) {
  if (is_client()) return fail(SSEWS_ENOTSUP, "not supported: subscriptions are made by server endpoints");
  if (!channel || !*channel) return fail(SSEWS_EINVAL, "channel must be a non-empty string");
  if (strlen(channel) > kMaxFieldBytes) return fail(SSEWS_EINVAL, "channel name longer than 1024 bytes");
  {
    std::lock_guard<std::mutex> lk(live_mu_);
    if (!live_.count(conn)) return fail(SSEWS_ENOCONN, "no open connection " + std::to_string(conn));
  }
  std::string ch = channel;
  if (on_service_thread() && in_open_ == conn) {  // a decision inside the open callback
    if (on) {
      open_subscribed_ = true;
      open_channels_.push_back(ch);
    } else {
      open_subscribed_ = true;
      for (auto it = open_channels_.begin(); it != open_channels_.end();)
        it = *it == ch ? open_channels_.erase(it) : it + 1;
    }
    return Status::ok();
  }
  return enqueue(0, [this, conn, ch, on] {
    Conn *c = find(conn);
    if (!c) return;
    if (!on) {
      hub_.unsubscribe(conn, ch);
      return;
    }
    if (!c->established) {
      c->more().initial_channels.push_back(ch);
      return;
    }
    hub_.subscribe(conn, ch);
  });
}

Status Engine::reject(ConnId conn, int status) {
  if (is_client()) return fail(SSEWS_ENOTSUP, "not supported: reject is for server endpoints");
  if (status == 0) status = 403;
  if (status < 400 || status > 599) return fail(SSEWS_EINVAL, "http_status must be 400-599");
  {
    std::lock_guard<std::mutex> lk(live_mu_);
    if (!live_.count(conn)) return fail(SSEWS_ENOCONN, "no open connection " + std::to_string(conn));
  }
  if (on_service_thread() && in_open_ == conn) {
    open_reject_ = status;
    return Status::ok();
  }
  return enqueue(0, [this, conn] {
    Conn *c = find(conn);
    if (c) start_close(c, 1008, "rejected");
  });
}

Status Engine::conn_close(ConnId conn, int code, const char *reason) {
  if (!ws_close_code_sendable(code))
    return fail(SSEWS_EINVAL,
                "close code " + std::to_string(code) + " cannot be sent (use 1000 or 3000-4999)");
  std::string r = reason ? reason : "";
  if (r.size() > 123) return fail(SSEWS_EINVAL, "close reason longer than 123 bytes");
  if (!utf8_valid(r)) return fail(SSEWS_EINVAL, "close reason is not valid UTF-8");
  if (is_client()) {  // a client closes its one connection, for good
    if (closing_.load()) return fail(SSEWS_ECLOSED, "the endpoint is closing");
    return enqueue(0, [this, code, r] { client_shutdown(code, r); });
  }
  {
    std::lock_guard<std::mutex> lk(live_mu_);
    if (!live_.count(conn)) return fail(SSEWS_ENOCONN, "no open connection " + std::to_string(conn));
  }
  return enqueue(0, [this, conn, code, r] {
    Conn *c = find(conn);
    if (c) start_close(c, code, r);
  });
}

Status Engine::port(int &out) const {
  if (is_client()) return fail(SSEWS_ENOTSUP, "not supported: a client does not listen");
  out = bound_port_;
  return Status::ok();
}

}  // namespace sw
