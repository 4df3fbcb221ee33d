#include "capi_handles.h"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "capi_util.h"

namespace sw {

namespace {
std::atomic<uintptr_t> g_next{1};
std::shared_mutex g_mu;
// Leaked on purpose: calls made during static destruction still find it.
auto &g_live = *new std::unordered_map<uintptr_t, std::shared_ptr<Engine>>();

uintptr_t id_of(ssews *h) {
  return reinterpret_cast<uintptr_t>(h);
}
}  // namespace

ssews *handle_reserve() {
  return reinterpret_cast<ssews *>(g_next.fetch_add(1));
}

void handle_register(ssews *h, std::shared_ptr<Engine> e) {
  std::unique_lock<std::shared_mutex> lk(g_mu);
  g_live[id_of(h)] = std::move(e);
}

std::shared_ptr<Engine> handle_get(ssews *h, int &rc) {
  uintptr_t id = id_of(h);
  if (id) {
    std::shared_lock<std::shared_mutex> lk(g_mu);
    auto it = g_live.find(id);
    if (it != g_live.end()) return it->second;
  }
  if (!id || id >= g_next.load()) {
    rc = fail_rc(SSEWS_EINVAL, id ? "not an endpoint handle" : "endpoint is NULL");
  } else {
    rc = fail_rc(SSEWS_ECLOSED, "the endpoint is closed");
  }
  return nullptr;
}

std::shared_ptr<Engine> handle_remove(ssews *h) {
  std::unique_lock<std::shared_mutex> lk(g_mu);
  auto it = g_live.find(id_of(h));
  if (it == g_live.end()) return nullptr;
  std::shared_ptr<Engine> e = std::move(it->second);
  g_live.erase(it);
  return e;
}

}  // namespace sw
