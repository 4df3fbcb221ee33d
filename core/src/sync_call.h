// Runs a question on the service thread and waits for the answer: how the
// public queries that read the server's state (stats, a connection's queue,
// a channel's subscribers) stay on the one thread that owns it. From the
// service thread itself (an event callback) it runs at once.
#pragma once
#include <chrono>
#include <future>
#include <memory>

#include "engine.h"
#include "status.h"

namespace sw {

template <typename Fn>
Status sync_call(Engine &e, Fn fn) {
  if (e.on_service_thread()) {
    fn();
    return Status::ok();
  }
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> fut = done->get_future();
  // fn is called while this function waits, so its references stay valid.
  Status st = e.enqueue(0, [&fn, done] {
    fn();
    done->set_value();
  });
  if (st.failed()) return st;
  // A question queued as the loop ended is never run (nor freed until the
  // engine is): stop waiting once the loop has ended without answering.
  while (fut.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready)
    if (e.ended() && fut.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
      return fail(SSEWS_ECLOSED, "the endpoint closed before answering");
  return Status::ok();
}

}  // namespace sw
