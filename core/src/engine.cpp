// Endpoint lifecycle, the service loop, the command queue and event delivery.
// What happens on the sockets is the role's (server/, client/).
#include "engine.h"

#include <libwebsockets.h>

#include <cerrno>
#include <cstring>

#include "client/client_role.h"
#include "h2_preface.h"
#include "log.h"
#include "lws_util.h"
#include "server/server_role.h"

static_assert(LWS_PRE <= sw::kHeadroom, "WireBuf headroom must cover LWS_PRE");

namespace sw {

// A libwebsockets timer bound to an engine.
struct Engine::Timer {
  lws_sorted_usec_list_t sul;
  Engine *engine;
};

namespace {

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
// that are reassembled, so a small one keeps idle connections small.
// tx_packet_size keeps writes large (lws would otherwise cap them at rx_buffer_size).
constexpr size_t kRxChunk = 128;  // still holds a whole control frame (125 bytes)
constexpr size_t kTxChunk = 64 * 1024;
const lws_protocols kProtocols[] = {
    {"ssews", lws_callback, 0, kRxChunk, 0, nullptr, kTxChunk},
    {"ssews.v1", lws_callback, 0, kRxChunk, 0, nullptr, kTxChunk},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

std::unique_ptr<Role> make_role(Engine &e) {
  if (!e.opts().url.empty()) return std::make_unique<ClientRole>(e);
  return std::make_unique<ServerRole>(e);
}

}  // namespace

const lws_protocols *ssews_protocols() {
  return kProtocols;
}

std::vector<lws_protocols> ssews_protocols_with(const std::vector<std::string> &names, bool h2) {
  std::vector<lws_protocols> out(std::begin(kProtocols), std::end(kProtocols) - 1);
  for (const auto &n : names) {
    bool known = false;
    for (const auto &p : out) known = known || n == p.name;
    if (!known) out.push_back({n.c_str(), lws_callback, 0, kRxChunk, 0, nullptr, kTxChunk});
  }
  if (h2)
    for (auto &p : out) p.tx_packet_size = kH2MaxFrame;
  out.push_back(kProtocols[std::size(kProtocols) - 1]);
  return out;
}

Engine::Engine(Options opts, void *owner, Invoker invoke, GenericFn cb, void *user)
    : opts_(std::move(opts)),
      owner_(owner),
      invoke_(invoke),
      cmds_(opts_.max_pending_bytes),
      cb_(cb),
      user_(user),
      pull_(cb == nullptr),
      log_level_(log_level_named(opts_.log_level)) {}

Engine::~Engine() {
  log_unregister(this);
}

std::shared_ptr<Engine> Engine::open(const char *const *kv, void *owner, Invoker invoke, GenericFn cb,
                                     void *user, Status &st) {
  Options o;
  std::string err;
  if (!parse_options(kv, o, err)) {
    st = fail(SSEWS_EOPTION, err);
    return nullptr;
  }
  std::shared_ptr<Engine> e(new Engine(std::move(o), owner, invoke, cb, user));
  e->role_ = make_role(*e);
  if (!e->events_.ok()) {
    st = fail(SSEWS_ENOMEM, std::string("eventfd: ") + strerror(errno));
    return nullptr;
  }
  st = e->start();
  if (st.failed()) return nullptr;
  return e;
}

void Engine::run_thread() {
  // The service thread keeps the engine alive until it ends: a close from
  // an event callback returns before that.
  thread_ = std::thread([self = shared_from_this()] { self->run(); });
}

Status Engine::start() {
  log_register(this, log_level_);
  LogScope scope(this);  // what lws says while creating the context is ours
  lws_context_creation_info ci;
  memset(&ci, 0, sizeof ci);
  role_->context_info(ci);
  ci.user = this;
  ci.pcontext = &ctx_;
  ctx_ = lws_create_context(&ci);
  if (!ctx_) return fail(SSEWS_EINTERNAL, "cannot create the libwebsockets context");
  Status st = role_->start();
  if (st.failed()) {
    lws_context_destroy(ctx_);
    ctx_ = nullptr;
    return st;
  }
  tick_.reset(new Timer{});
  tick_->engine = this;
  std::lock_guard<std::mutex> lk(wake_mu_);  // the role's own threads (the broker's) may wake us already
  ctx_alive_ = true;
  return st;
}

void Engine::tick_cb(lws_sorted_usec_list_t *sul) {
  auto *t = lws_container_of(sul, Timer, sul);
  Engine *e = t->engine;
  e->role_->tick();
  if (e->closing() && e->close_deadline_us_ && lws_now_usecs() > e->close_deadline_us_) e->stop();
  if (e->stop_loop_) lws_cancel_service(e->ctx_);
  lws_sul_schedule(e->ctx_, 0, &t->sul, tick_cb, LWS_US_PER_SEC);
  e->kick_if_pending();
}

void Engine::run() {
  service_tid_ = std::this_thread::get_id();
  LogScope scope(this);
  lws_sul_schedule(ctx_, 0, &tick_->sul, tick_cb, LWS_US_PER_SEC);
  role_->begin();
  while (!stop_loop_.load()) {
    polling_.store(true);
    // Queued while the last pass ran (nobody woke us for those): poll must
    // not sleep on them. The wake-up arrives as EVENT_WAIT_CANCELLED.
    if (cmds_.remote_pending()) lws_cancel_service(ctx_);
    int r = lws_service(ctx_, 0);
    polling_.store(false);
    if (r < 0) break;
    now_ms_ = static_cast<uint32_t>(lws_now_usecs() / 1000);
    // Outside every lws callback: the role's extra reads, what callbacks
    // asked for, then the role's writes of what this pass queued, coalesced.
    role_->pass_reads();
    run_local();
    role_->after_pass();
    pass_++;
  }
  lws_sul_cancel(&tick_->sul);
  {
    // From now on no other thread may touch the context (see wake()).
    std::lock_guard<std::mutex> lk(wake_mu_);
    ctx_alive_ = false;
  }
  // Destroying the context closes what is left; each close still reports.
  lws_context_destroy(ctx_);
  ctx_ = nullptr;
  drain_remote();  // run what was queued last (nothing can reach a socket now)
  run_local();
  ended_ = true;
  log_unregister(this);
  // The last event: after it the callback is never called again.
  emit(make_event(kEvDone, 0, Proto{}));
  if (close_from_callback_) thread_.detach();  // nobody joins; our own reference frees the engine
}

void Engine::close() {
  if (closing_.exchange(true)) return;
  Cmd shutdown;
  shutdown.fn = [this] {
    // A graceful drain (drain_timeout) spreads closes over its window first.
    close_deadline_us_ =
        lws_now_usecs() + kCloseGraceUs + static_cast<int64_t>(opts_.drain_timeout) * 1000000;
    role_->shutdown();
  };
  bool first;
  cmds_.push_remote(std::move(shutdown), first);
  if (on_service_thread()) {
    close_from_callback_ = true;
    wake();
    return;
  }
  wake();
  if (thread_.joinable()) thread_.join();
}

// ---------------------------------------------------------------------------
// Commands

Status Engine::enqueue(size_t bytes, std::function<void()> fn) {
  Cmd c;
  c.bytes = bytes;
  c.fn = std::move(fn);
  return enqueue(std::move(c));
}

Status Engine::enqueue(Cmd cmd) {
  if (closing()) return fail(SSEWS_ECLOSED, "the endpoint is closing");
  // From an event callback: no lock, no wake-up; run() runs it when the
  // current service pass ends (never inside the caller's callback).
  if (on_service_thread()) return cmds_.push_local(std::move(cmd));
  bool first = false;
  Status st = cmds_.push_remote(std::move(cmd), first);
  // The loop drains everything queued when it wakes, so only the command
  // that makes the queue non-empty needs to wake it, and only if the loop may
  // be asleep (run() checks the queue before it polls): one syscall per
  // batch at most, none while the loop is busy.
  if (!st.failed() && first && polling_.load()) wake();
  return st;
}

void Engine::wake() {
  std::lock_guard<std::mutex> lk(wake_mu_);
  if (ctx_alive_) lws_cancel_service(ctx_);
}

void Engine::drain_remote() {
  std::vector<Cmd> batch = cmds_.take_remote();
  size_t bytes = 0;
  for (auto &c : batch) {
    bytes += c.bytes;
    run_cmd(c);
  }
  cmds_.done(bytes);
}

void Engine::run_cmd(Cmd &c) {
  if (c.msg)
    role_->run_message(c);
  else
    c.fn();
}

void Engine::kick_if_pending() {
  if (cmds_.local_pending() || role_->work_pending()) lws_cancel_service(ctx_);
}

void Engine::run_local() {
  // A command may queue more (its events reach the callback, which may call
  // again): run until none is left, in order.
  while (cmds_.local_pending()) {
    std::vector<Cmd> batch = cmds_.take_local();
    for (auto &c : batch) {
      cmds_.done(c.bytes);
      run_cmd(c);
    }
  }
}

int Engine::on_lws(lws *wsi, int reason, void *in, size_t len) {
  if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED) {
    drain_remote();
    return 0;
  }
  return role_->on_lws(wsi, reason, in, len);
}

// ---------------------------------------------------------------------------
// Events

void Engine::emit(EventPtr ev) {
  std::lock_guard<std::recursive_mutex> lk(deliver_mu_);
  if (cb_) {
    deliver_waiting();
    invoke_(cb_, owner_, ev.get(), user_);
    return;
  }
  ev->live_request = nullptr;
  events_.push(std::move(ev));
}

// Events queued while in pull mode go to a new callback first, in order.
void Engine::deliver_waiting() {
  while (EventPtr q = events_.pop()) invoke_(cb_, owner_, q.get(), user_);
}

Status Engine::set_callback(GenericFn cb, void *user) {
  if (closing()) return fail(SSEWS_ECLOSED, "the endpoint is closing");
  {
    // On the service thread (from the callback) the lock is ours already.
    std::lock_guard<std::recursive_mutex> lk(deliver_mu_);
    cb_ = cb;
    user_ = user;
    pull_ = cb == nullptr;
  }
  if (!cb) return Status::ok();
  // Hand what waits in the pull queue to the new callback on the service
  // thread, and let peers paused for a slow puller go on.
  return enqueue(0, [this] {
    {
      std::lock_guard<std::recursive_mutex> lk(deliver_mu_);
      if (cb_) deliver_waiting();
    }
    role_->resume_reading();
  });
}

Status Engine::set_log(LogInvoker invoke, GenericFn cb, void *user) {
  if (closing()) return fail(SSEWS_ECLOSED, "the endpoint is closing");
  std::lock_guard<std::recursive_mutex> lk(log_mu_);
  log_invoke_ = invoke;
  log_cb_ = cb;
  log_user_ = user;
  return Status::ok();
}

void Engine::log_line(int level, const std::string &msg, int lws_level, const char *raw) {
  if (level > log_level_.load(std::memory_order_relaxed)) return;
  std::lock_guard<std::recursive_mutex> lk(log_mu_);
  if (log_cb_)
    log_invoke_(log_cb_, owner_, level, msg.c_str(), log_user_);
  else
    lwsl_emit_stderr(lws_level, raw);
}

Status Engine::next_event(const Event **ev) {
  size_t left = 0;
  current_ = events_.pop(&left);
  *ev = current_.get();
  if (!current_) return fail(SSEWS_EAGAIN, "no event pending");
  // Reading resumed: let paused connections deliver again once half drained.
  if (events_paused_.load() && left <= opts_.max_event_queue / 2) {
    if (events_paused_.exchange(false)) enqueue(0, [this] { role_->resume_reading(); });
  }
  return Status::ok();
}

}  // namespace sw
