// Endpoint handles of the C ABI. An ssews* is not the engine's address but
// an id (never reused in a process' life) looked up in a registry, as nng's
// handles are: a call racing ssews_close, or made after it, finds no engine
// and returns SSEWS_ECLOSED instead of touching freed memory. A call in
// progress holds a reference, so the engine outlives it.
#pragma once
#include <memory>

#include "engine.h"
#include "ssews.h"

namespace sw {

// The next handle, reserved before the engine starts (its events carry it).
ssews *handle_reserve();
void handle_register(ssews *h, std::shared_ptr<Engine> e);
// The engine behind h, or null with rc set: SSEWS_EINVAL for NULL or a value
// that never was a handle, SSEWS_ECLOSED for a closed endpoint.
std::shared_ptr<Engine> handle_get(ssews *h, int &rc);
// Takes h out of the registry; null when it was not (or no longer) there.
std::shared_ptr<Engine> handle_remove(ssews *h);

}  // namespace sw

// The engine behind ep for this call, or return its error.
#define GET_ENGINE(var, ep)                                  \
  int rc_ = SSEWS_OK;                                        \
  std::shared_ptr<sw::Engine> var = sw::handle_get(ep, rc_); \
  if (!var) return rc_
