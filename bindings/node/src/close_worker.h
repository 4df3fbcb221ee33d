// Closes an endpoint off the loop thread: ssews_close flushes and joins the
// service thread, which may take a moment. The endpoint is switched to
// callback mode first, so every event up to the last close event is kept
// and then delivered on the loop thread before the promise resolves.
#pragma once
#include <napi.h>
#include <ssews.h>

#include <mutex>
#include <vector>

#include "event.h"

namespace ssews_node {

class Endpoint;

class CloseWorker : public Napi::AsyncWorker {
 public:
  CloseWorker(Napi::Env env, Endpoint *owner, ssews *ep, Napi::Promise::Deferred done);
  // Takes over the endpoint's events and queues the close on the thread pool.
  void Start();

 protected:
  void Execute() override;
  void OnOK() override;

 private:
  static void Collect(ssews *ep, const ssews_event *ev, void *user);  // service thread

  Endpoint *owner_;
  ssews *ep_;
  Napi::Promise::Deferred done_;
  std::mutex mu_;
  std::vector<OwnedEvent> events_;
};

}  // namespace ssews_node
