#include "close_worker.h"

#include "endpoint.h"
#include "errors.h"

namespace ssews_node {

CloseWorker::CloseWorker(Napi::Env env, Endpoint *owner, ssews *ep, Napi::Promise::Deferred done)
    : Napi::AsyncWorker(env, "ssews.close"), owner_(owner), ep_(ep), done_(done) {}

void CloseWorker::Start() {
  // Events still in the pull queue are handed to Collect in order, then
  // every later one (the close events of the shutdown included).
  if (ssews_on_event(ep_, &Collect, this) != SSEWS_OK) {
    const ssews_event *ev = nullptr;  // cannot happen while open; keep what is pending
    while (ssews_next_event(ep_, &ev) == SSEWS_OK) events_.emplace_back(ev);
  }
  Queue();
}

void CloseWorker::Collect(ssews *, const ssews_event *ev, void *user) {
  // SSEWS_EV_DONE, the endpoint's last callback, is no event for JavaScript:
  // Execute's join tells the same, and OnOK resolves the promise.
  if (ssews_event_kind(ev) == SSEWS_EV_DONE) return;
  auto *self = static_cast<CloseWorker *>(user);
  std::lock_guard<std::mutex> lk(self->mu_);
  self->events_.emplace_back(ev);
}

void CloseWorker::Execute() {
  ssews_close(&ep_);
}  // joins the service thread

void CloseWorker::OnOK() {
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  std::vector<OwnedEvent> events;
  {
    std::lock_guard<std::mutex> lk(mu_);
    events.swap(events_);
  }
  for (const auto &ev : events) owner_->Deliver(env, ev.View());
  owner_->Finished();
  if (JsAvailable(env)) done_.Resolve(env.Undefined());
}

}  // namespace ssews_node
