#include "endpoint.h"

#include <string>
#include <vector>

#include "close_worker.h"
#include "convert.h"
#include "errors.h"

namespace ssews_node {

namespace {
// Events handed to JavaScript per wake-up; the fd is level-triggered, so the
// rest wakes the loop again after other I/O had its turn.
constexpr int kBatch = 256;
}  // namespace

Napi::Function Endpoint::Define(Napi::Env env) {
  return DefineClass(env, "Endpoint",
                     {
                         InstanceMethod("port", &Endpoint::Port),
                         InstanceMethod("send", &Endpoint::Send),
                         InstanceMethod("publish", &Endpoint::Publish),
                         InstanceMethod("subscribe", &Endpoint::Subscribe),
                         InstanceMethod("unsubscribe", &Endpoint::Unsubscribe),
                         InstanceMethod("reject", &Endpoint::Reject),
                         InstanceMethod("publishAs", &Endpoint::PublishAs),
                         InstanceMethod("mayPublish", &Endpoint::MayPublish),
                         InstanceMethod("setHeaders", &Endpoint::SetHeaders),
                         InstanceMethod("closeConnection", &Endpoint::CloseConnection),
                         InstanceMethod("stats", &Endpoint::Stats),
                         InstanceMethod("setOption", &Endpoint::SetOption),
                         InstanceMethod("bufferedAmount", &Endpoint::BufferedAmount),
                         InstanceMethod("channelStats", &Endpoint::ChannelStats),
                         InstanceMethod("channelConns", &Endpoint::ChannelConns),
                         InstanceMethod("setLog", &Endpoint::SetLog),
                         InstanceMethod("close", &Endpoint::Close),
                         InstanceMethod("ref", &Endpoint::RefLoop),
                         InstanceMethod("unref", &Endpoint::UnrefLoop),
                     });
}

Endpoint::Endpoint(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Endpoint>(info) {
  Napi::Env env = info.Env();
  std::vector<std::string> opts = ToStringList(info[0], "options");
  if (opts.size() % 2) ThrowType(env, "The \"options\" argument must hold key, value pairs");
  if (!info[1].IsFunction()) ThrowType(env, "The \"onEvent\" argument must be a function");
  std::vector<const char *> kv;
  for (const auto &s : opts) kv.push_back(s.c_str());
  kv.push_back(nullptr);

  ssews *ep = nullptr;
  Check(env, ssews_open(&ep, kv.data(), nullptr, nullptr));  // pull mode
  int fd = -1;
  uv_loop_t *loop = nullptr;
  int rc = ssews_event_fd(ep, &fd);
  int uv_rc = 0;
  if (rc == SSEWS_OK && napi_get_uv_event_loop(env, &loop) == napi_ok)
    uv_rc = poller_.Start(loop, fd, &Endpoint::OnReadable, this);
  if (rc != SSEWS_OK || !loop || uv_rc < 0) {
    std::string why = rc != SSEWS_OK ? ssews_last_error()
                      : !loop        ? "no event loop"
                                     : std::string("cannot watch the event fd: ") + uv_strerror(uv_rc);
    ssews_close(&ep);
    throw MakeError(env, rc != SSEWS_OK ? rc : SSEWS_EINTERNAL, why);
  }
  ep_ = ep;
  on_event_ = Napi::Persistent(info[1].As<Napi::Function>());
  async_ = std::make_unique<Napi::AsyncContext>(env, "ssews");
  Ref();  // an open endpoint is never collected (its fd is watched)
  pinned_ = true;
  if (napi_add_env_cleanup_hook(env, &Endpoint::OnEnvExit, this) == napi_ok) hooked_ = true;
}

Endpoint::~Endpoint() {
  if (hooked_) napi_remove_env_cleanup_hook(Env(), &Endpoint::OnEnvExit, this);
  poller_.Close();
  if (ep_) ssews_close(&ep_);
  ReleaseLog();
}

void Endpoint::OnEnvExit(void *self) {
  // The environment ends (process.exit, a worker thread ending) with the
  // endpoint open: close it here, waiting for its thread. No JavaScript runs.
  auto *e = static_cast<Endpoint *>(self);
  e->hooked_ = false;
  e->poller_.Close();
  if (e->ep_) ssews_close(&e->ep_);
  e->ReleaseLog();
}

ssews *Endpoint::Handle(Napi::Env env) const {
  if (!ep_) throw MakeError(env, SSEWS_ECLOSED, "the endpoint is closed");
  return ep_;
}

// ---------------------------------------------------------------------------
// Events

void Endpoint::OnReadable(void *self) {
  static_cast<Endpoint *>(self)->Drain();
}

void Endpoint::Drain() {
  Napi::Env env = Env();
  for (int i = 0; i < kBatch && ep_; i++) {  // a handler may close the endpoint
    const ssews_event *ev = nullptr;
    if (ssews_next_event(ep_, &ev) != SSEWS_OK) break;
    // close() switches to callback mode first, so DONE reaches the pull queue
    // only if the service thread ended by itself: nothing JavaScript hears of.
    if (ssews_event_kind(ev) == SSEWS_EV_DONE) break;
    Deliver(env, ViewOf(ev));
  }
}

void Endpoint::Deliver(Napi::Env env, const EventView &ev) {
  if (on_event_.IsEmpty()) return;
  Napi::HandleScope scope(env);
  if (!JsAvailable(env)) {  // the environment is ending: its cleanup hook closes us
    poller_.Close();
    return;
  }
  try {
    Napi::Value obj = ToJs(env, ev);
    on_event_.MakeCallback(Value(), {obj}, *async_);
  } catch (const Napi::Error &e) {
    // A listener threw (or an 'error' nobody listens to): the same as a
    // throwing listener of any Node.js emitter, an uncaught exception.
    napi_fatal_exception(env, e.Value());
  }
}

void Endpoint::Finished() {
  Napi::Env env = Env();
  ReleaseLog();  // the service thread has ended: no line comes any more
  on_event_.Reset();
  async_.reset();
  if (hooked_) {
    napi_remove_env_cleanup_hook(env, &Endpoint::OnEnvExit, this);
    hooked_ = false;
  }
  if (pinned_) {
    pinned_ = false;
    Unref();
  }
}

// ---------------------------------------------------------------------------
// Operations

Napi::Value Endpoint::Port(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int port = 0;
  Check(env, ssews_port(Handle(env), &port));
  return Napi::Number::New(env, port);
}

// send(conn, data, event?, id?) -- a client passes conn 0.
Napi::Value Endpoint::Send(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ssews *ep = Handle(env);
  ssews_conn conn = ToConn(info[0]);
  Payload p;
  ToPayload(info[1], p);
  OptString event = ToOptString(info[2], "event");
  OptString id = ToOptString(info[3], "id");
  Check(env, ssews_send(ep, conn, p.data, p.len, p.flags, event.c_str(), id.c_str()));
  return env.Undefined();
}

namespace {
// publish(channel, data, event?, id?) and publishAs(conn, channel, data,
// event?, id?): the same arguments, `as` a connection's rights or not.
Napi::Value PublishWith(const Napi::CallbackInfo &info, ssews *ep, bool as) {
  Napi::Env env = info.Env();
  size_t a = as ? 1 : 0;
  ssews_conn conn = as ? ToConn(info[0]) : 0;
  Utf8 channel;
  ToUtf8(info[a], "channel", channel);
  Payload p;
  ToPayload(info[a + 1], p);
  OptString event = ToOptString(info[a + 2], "event");
  OptString id = ToOptString(info[a + 3], "id");
  Check(env,
        as ? ssews_publish_as(ep, conn, channel.c_str(), p.data, p.len, p.flags, event.c_str(), id.c_str())
           : ssews_publish(ep, channel.c_str(), p.data, p.len, p.flags, event.c_str(), id.c_str()));
  return env.Undefined();
}
}  // namespace

Napi::Value Endpoint::Publish(const Napi::CallbackInfo &info) {
  return PublishWith(info, Handle(info.Env()), false);
}

Napi::Value Endpoint::PublishAs(const Napi::CallbackInfo &info) {
  return PublishWith(info, Handle(info.Env()), true);
}

// mayPublish(conn, channel) -> boolean; other failures throw.
Napi::Value Endpoint::MayPublish(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ssews *ep = Handle(env);
  ssews_conn conn = ToConn(info[0]);
  Utf8 channel;
  ToUtf8(info[1], "channel", channel);
  int rc = ssews_may_publish(ep, conn, channel.c_str());
  if (rc == SSEWS_EACCES) return Napi::Boolean::New(env, false);
  Check(env, rc);
  return Napi::Boolean::New(env, true);
}

// setHeaders(['Name: value', ...])
Napi::Value Endpoint::SetHeaders(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ssews *ep = Handle(env);
  std::vector<std::string> lines;
  if (info[0].IsArray()) {
    Napi::Array a = info[0].As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) lines.push_back(ToString(a.Get(i), "header"));
  }
  std::vector<const char *> ptrs;
  for (const auto &l : lines) ptrs.push_back(l.c_str());
  ptrs.push_back(nullptr);
  Check(env, ssews_set_headers(ep, ptrs.data()));
  return env.Undefined();
}

Napi::Value Endpoint::Subscribe(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ssews *ep = Handle(env);
  ssews_conn conn = ToConn(info[0]);
  std::string channel = ToString(info[1], "channel");
  Check(env, ssews_subscribe(ep, conn, channel.c_str()));
  return env.Undefined();
}

Napi::Value Endpoint::Unsubscribe(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ssews *ep = Handle(env);
  ssews_conn conn = ToConn(info[0]);
  std::string channel = ToString(info[1], "channel");
  Check(env, ssews_unsubscribe(ep, conn, channel.c_str()));
  return env.Undefined();
}

// reject(conn, status?) -- status 0 or undefined means 403.
Napi::Value Endpoint::Reject(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ssews *ep = Handle(env);
  ssews_conn conn = ToConn(info[0]);
  int status = ToInt(info[1], "status", 0);
  Check(env, ssews_reject(ep, conn, status));
  return env.Undefined();
}

// closeConnection(conn, code?, reason?)
Napi::Value Endpoint::CloseConnection(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ssews *ep = Handle(env);
  ssews_conn conn = ToConn(info[0]);
  int code = ToInt(info[1], "code", 1000);
  OptString reason = ToOptString(info[2], "reason");
  Check(env, ssews_conn_close(ep, conn, code, reason.c_str()));
  return env.Undefined();
}

// stats() -> { name: number, ... } (ssews_stats)
Napi::Value Endpoint::Stats(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ssews *ep = Handle(env);
  size_t n = 0;
  Check(env, ssews_stats(ep, nullptr, nullptr, 0, &n));
  std::vector<const char *> names(n);
  std::vector<double> values(n);
  Check(env, ssews_stats(ep, names.data(), values.data(), n, &n));
  Napi::Object o = Napi::Object::New(env);
  for (size_t i = 0; i < n && i < names.size(); i++) o.Set(names[i], Napi::Number::New(env, values[i]));
  return o;
}

// setOption(key, value) -- value already a string (index.js)
Napi::Value Endpoint::SetOption(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ssews *ep = Handle(env);
  std::string key = ToString(info[0], "key");
  std::string value = ToString(info[1], "value");
  Check(env, ssews_set_option(ep, key.c_str(), value.c_str()));
  return env.Undefined();
}

// bufferedAmount(conn) -> number
Napi::Value Endpoint::BufferedAmount(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ssews *ep = Handle(env);
  size_t bytes = 0;
  Check(env, ssews_buffered_amount(ep, ToConn(info[0]), &bytes));
  return Napi::Number::New(env, static_cast<double>(bytes));
}

// channelStats(channel) -> { subscribers, maxQueuedBytes, maxQueuedMessages }
Napi::Value Endpoint::ChannelStats(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ssews *ep = Handle(env);
  std::string channel = ToString(info[0], "channel");
  size_t subs = 0, bytes = 0, msgs = 0;
  Check(env, ssews_channel_stats(ep, channel.c_str(), &subs, &bytes, &msgs));
  Napi::Object o = Napi::Object::New(env);
  o.Set("subscribers", Napi::Number::New(env, static_cast<double>(subs)));
  o.Set("maxQueuedBytes", Napi::Number::New(env, static_cast<double>(bytes)));
  o.Set("maxQueuedMessages", Napi::Number::New(env, static_cast<double>(msgs)));
  return o;
}

// channelConns(channel) -> number[] (presence)
Napi::Value Endpoint::ChannelConns(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ssews *ep = Handle(env);
  std::string channel = ToString(info[0], "channel");
  std::vector<ssews_conn> ids;
  size_t n = 0;
  // Subscribers may come between the two calls: ask again until it fits.
  do {
    ids.resize(n + 16);
    Check(env, ssews_channel_conns(ep, channel.c_str(), ids.data(), ids.size(), &n));
  } while (n > ids.size());
  Napi::Array a = Napi::Array::New(env, n);
  for (size_t i = 0; i < n; i++) a.Set(static_cast<uint32_t>(i), FromConn(env, ids[i]));
  return a;
}

// ---------------------------------------------------------------------------
// Logs

namespace {
struct LogLine {
  int level;
  std::string message;
};

void CallLog(Napi::Env env, Napi::Function fn, LogLine *line) {
  std::unique_ptr<LogLine> own(line);
  if (env == nullptr || fn == nullptr) return;  // the function is being torn down
  try {
    fn.Call({Napi::String::New(env, ssews_log_level_name(own->level)), Napi::String::New(env, own->message)});
  } catch (const Napi::Error &e) {
    napi_fatal_exception(env, e.Value());  // a throwing 'log' listener: an uncaught exception
  }
}
}  // namespace

void Endpoint::OnLog(ssews *, int level, const char *message, void *user) {
  auto *sink = static_cast<LogSink *>(user);
  auto *line = new LogLine{level, message ? message : ""};
  // Never blocks the service thread: the queue has no bound (lines come only
  // at the log_level asked for).
  if (sink->tsfn.NonBlockingCall(line, CallLog) != napi_ok) delete line;
}

void Endpoint::ReleaseLog() {
  if (!log_) return;
  log_->tsfn.Release();
  log_.reset();
}

// setLog(fn | null): fn(level, message) gets the endpoint's log lines on the
// loop thread; null sends them to stderr again.
Napi::Value Endpoint::SetLog(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ssews *ep = Handle(env);
  if (!info[0].IsFunction() && !info[0].IsNull() && !info[0].IsUndefined())
    ThrowType(env, "The \"fn\" argument must be a function or null");
  std::unique_ptr<LogSink> sink;
  if (info[0].IsFunction()) {
    sink = std::make_unique<LogSink>();
    sink->tsfn = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "ssews log", 0, 1);
    sink->tsfn.Unref(env);  // the process may exit with the endpoint logging
  }
  // Synchronous: once it returns, the old sink gets no more lines.
  int rc = ssews_on_log(ep, sink ? &Endpoint::OnLog : nullptr, sink.get());
  if (rc != SSEWS_OK) {
    if (sink) sink->tsfn.Release();
    Check(env, rc);
  }
  ReleaseLog();
  log_ = std::move(sink);
  return env.Undefined();
}

// close(code?, reason?) -> Promise<void>. A code (clients) is sent first.
Napi::Value Endpoint::Close(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  auto done = Napi::Promise::Deferred::New(env);
  if (!ep_) {
    done.Resolve(env.Undefined());
    return done.Promise();
  }
  if (!info[0].IsUndefined()) {
    int code = ToInt(info[0], "code", 1000);
    OptString reason = ToOptString(info[1], "reason");
    Check(env, ssews_conn_close(ep_, 0, code, reason.c_str()));
  }
  poller_.Close();
  ssews *ep = ep_;
  ep_ = nullptr;
  auto *worker = new CloseWorker(env, this, ep, done);  // deletes itself when done
  worker->Start();
  return done.Promise();
}

Napi::Value Endpoint::RefLoop(const Napi::CallbackInfo &info) {
  poller_.Ref();
  return info.This();
}

Napi::Value Endpoint::UnrefLoop(const Napi::CallbackInfo &info) {
  poller_.Unref();
  return info.This();
}

}  // namespace ssews_node
