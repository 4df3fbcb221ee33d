// The native endpoint behind the JavaScript Server and Client: owns the
// ssews handle, watches its event fd on Node's loop (pull mode), and hands
// each event to a JavaScript function. Closing runs off the loop thread.
#pragma once
#include <napi.h>
#include <ssews.h>

#include <memory>

#include "event.h"
#include "poller.h"

namespace ssews_node {

class Endpoint : public Napi::ObjectWrap<Endpoint> {
 public:
  static Napi::Function Define(Napi::Env env);

  // new Endpoint(options: string[], onEvent: (event) => void)
  explicit Endpoint(const Napi::CallbackInfo &info);
  ~Endpoint() override;

  // For the close worker, on the loop thread.
  void Deliver(Napi::Env env, const EventView &ev);
  void Finished();

 private:
  ssews *Handle(Napi::Env env) const;  // throws SSEWS_ECLOSED once closing

  Napi::Value Port(const Napi::CallbackInfo &info);
  Napi::Value Send(const Napi::CallbackInfo &info);
  Napi::Value Publish(const Napi::CallbackInfo &info);
  Napi::Value Subscribe(const Napi::CallbackInfo &info);
  Napi::Value Unsubscribe(const Napi::CallbackInfo &info);
  Napi::Value Reject(const Napi::CallbackInfo &info);
  Napi::Value PublishAs(const Napi::CallbackInfo &info);
  Napi::Value MayPublish(const Napi::CallbackInfo &info);
  Napi::Value SetHeaders(const Napi::CallbackInfo &info);
  Napi::Value CloseConnection(const Napi::CallbackInfo &info);
  Napi::Value Stats(const Napi::CallbackInfo &info);
  Napi::Value SetOption(const Napi::CallbackInfo &info);
  Napi::Value BufferedAmount(const Napi::CallbackInfo &info);
  Napi::Value ChannelStats(const Napi::CallbackInfo &info);
  Napi::Value ChannelConns(const Napi::CallbackInfo &info);
  Napi::Value SetLog(const Napi::CallbackInfo &info);
  Napi::Value Close(const Napi::CallbackInfo &info);
  Napi::Value RefLoop(const Napi::CallbackInfo &info);
  Napi::Value UnrefLoop(const Napi::CallbackInfo &info);

  // The log callback: lines from the service thread reach JavaScript on the
  // loop thread through a thread-safe function, which never keeps the
  // process alive (unref'd) and is released once the endpoint no longer
  // logs to it (replaced, or the endpoint closed).
  struct LogSink {
    Napi::ThreadSafeFunction tsfn;
  };
  static void OnLog(ssews *ep, int level, const char *message, void *user);  // any thread
  void ReleaseLog();
  std::unique_ptr<LogSink> log_;

  static void OnReadable(void *self);
  void Drain();
  static void OnEnvExit(void *self);  // the environment ends with the endpoint open

  ssews *ep_ = nullptr;
  Poller poller_;
  Napi::FunctionReference on_event_;
  std::unique_ptr<Napi::AsyncContext> async_;
  bool hooked_ = false;  // env cleanup hook registered
  bool pinned_ = false;  // the wrapper is referenced (kept from GC) while open
};

}  // namespace ssews_node
