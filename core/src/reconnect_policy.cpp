#include "reconnect_policy.h"

namespace sw {

uint64_t ReconnectPolicy::nominal(unsigned attempt) const {
  // A server's `retry:` above the cap is obeyed as it is (it knows its load);
  // otherwise the cap bounds the growth.
  uint64_t cap = base_from_server && base_ms > max_ms ? base_ms : max_ms;
  uint64_t d = base_ms;
  // Doubling stops at the cap, so it can never overflow.
  for (unsigned i = 1; i < attempt && d && d < cap; i++) d *= 2;
  return d > cap ? cap : d;
}

uint64_t ReconnectPolicy::delay(unsigned attempt, std::mt19937 &rng) const {
  uint64_t d = nominal(attempt);
  uint64_t spread = d * jitter_percent / 100;
  if (spread == 0) return d;
  std::uniform_int_distribution<uint64_t> pick(0, 2 * spread);
  return d - spread + pick(rng);
}

}  // namespace sw
