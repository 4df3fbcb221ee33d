// Graceful drain (drain_timeout): a server that shuts down stops accepting at
// once, then lets its peers go spread over the window, so that after a
// restart they come back spread out instead of in one burst of handshakes.
// SSE peers are told at once, each with a random `retry:` within the window
// (the browser's EventSource and ssews' client wait that long before they
// reconnect), and their streams end after what is queued. WebSocket peers
// have no such field: each gets its close (1012, service restart) at a
// random moment within the window, after what is queued for it. The engine
// waits for the window plus its usual grace before it gives up on a peer.
#include <libwebsockets.h>

#include <algorithm>
#include <random>

#include "engine.h"
#include "server/server_role.h"
#include "sse_encoder.h"

namespace sw {

// A timer finer than the engine's once-a-second tick, while a drain runs:
// a second's worth of closes at once would be a burst of its own.
struct ServerRole::DrainTimer {
  lws_sorted_usec_list_t sul;
  ServerRole *role = nullptr;
  static constexpr lws_usec_t kStepUs = 20 * 1000;
  static void fire(lws_sorted_usec_list_t *s) {
    auto *t = lws_container_of(s, DrainTimer, sul);
    t->role->drain_due(lws_now_usecs());
    if (!t->role->drain_at_.empty()) lws_sul_schedule(t->role->e_.ctx(), 0, &t->sul, fire, kStepUs);
  }
};

bool ServerRole::begin_drain() {
  const unsigned window_s = opts().drain_timeout;
  if (!window_s || !vhost_) return false;
  const int64_t window_us = static_cast<int64_t>(window_s) * LWS_US_PER_SEC;
  std::mt19937_64 rng(std::random_device{}());
  std::uniform_int_distribution<int64_t> spread(0, window_us - 1);
  int64_t now = lws_now_usecs();
  std::vector<Conn *> all;
  for (auto &kv : conns_) all.push_back(&kv.second);
  for (Conn *c : all) {
    if (!c->established || c->closing) {
      start_close(c, 1001, "server closing");
    } else if (c->proto == Proto::Sse) {
      std::string retry = "retry: " + std::to_string(spread(rng) / 1000) + "\n\n";
      queue_raw(c, std::move(retry));
      start_close(c, 1012, "service restart");
    } else {
      drain_at_.emplace_back(now + spread(rng), c->id);
    }
  }
  std::sort(drain_at_.begin(), drain_at_.end());
  if (!drain_at_.empty()) {
    drain_timer_ = std::make_shared<DrainTimer>();
    drain_timer_->role = this;
    lws_sul_schedule(e_.ctx(), 0, &drain_timer_->sul, DrainTimer::fire, DrainTimer::kStepUs);
  }
  if (conns_.empty()) e_.stop();
  return true;
}

void ServerRole::drain_due(int64_t now_us) {
  size_t n = 0;
  while (n < drain_at_.size() && drain_at_[n].first <= now_us) {
    if (Conn *c = find(drain_at_[n].second)) start_close(c, 1012, "service restart");
    n++;
  }
  drain_at_.erase(drain_at_.begin(), drain_at_.begin() + static_cast<std::ptrdiff_t>(n));
}

}  // namespace sw
