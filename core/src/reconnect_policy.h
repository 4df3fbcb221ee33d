// How long a client waits before its next reconnect: exponential backoff from
// a base delay, capped, with jitter on every delay. Pure (no I/O, no clock);
// the random source is injectable so tests can seed it.
#pragma once
#include <cstdint>
#include <random>

namespace sw {

struct ReconnectPolicy {
  uint64_t base_ms = 1000;        // the first delay (configured, or an SSE `retry:`)
  uint64_t max_ms = 30000;        // cap of the growth (not of a server's `retry:`)
  bool base_from_server = false;  // an SSE `retry:` is obeyed even above the cap
  unsigned jitter_percent = 20;   // each delay is drawn from delay +- this share

  // The nominal delay before retry number `attempt` (1 = first retry after a
  // drop): base * 2^(attempt-1), capped at max_ms. No jitter.
  uint64_t nominal(unsigned attempt) const;

  // nominal(attempt) spread by +-jitter_percent, drawn from rng. Every delay
  // is jittered, the first one too: after a server restart every client's
  // first retry would otherwise land in the same millisecond.
  uint64_t delay(unsigned attempt, std::mt19937 &rng) const;
};

}  // namespace sw
