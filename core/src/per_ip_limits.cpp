// Per-client limits: counts and token buckets by address. See per_ip_limits.h.
#include "per_ip_limits.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace sw {

namespace {

// Retry-After for a refusal by count: a guess (when one of the address's
// connections ends is unknown), short enough for a browser's retry.
constexpr unsigned kCountRetryS = 5;

std::string limit_text(const char *option, size_t value) {
  return std::string(option) + " (" + std::to_string(value) + ")";
}

}  // namespace

IpKey ip_key(const sockaddr *sa) {
  if (!sa) return IpKey();
  if (sa->sa_family == AF_INET) {
    const auto *v4 = reinterpret_cast<const sockaddr_in *>(sa);
    return IpKey(reinterpret_cast<const char *>(&v4->sin_addr), 4);
  }
  if (sa->sa_family == AF_INET6) {
    const auto *v6 = reinterpret_cast<const sockaddr_in6 *>(sa);
    const char *b = reinterpret_cast<const char *>(&v6->sin6_addr);
    if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) return IpKey(b + 12, 4);
    return IpKey(b, 8);  // the /64
  }
  return IpKey();
}

void PerIpLimits::refill(Entry &e, int64_t now_ms) const {
  if (now_ms > e.at_ms) {
    e.tokens = std::min(cfg_.burst, e.tokens + cfg_.rate * static_cast<double>(now_ms - e.at_ms) / 1000.0);
    e.at_ms = now_ms;
  }
}

// A new address starts with a full bucket (at_ms 0: nothing to refill).
PerIpLimits::Entry &PerIpLimits::entry(const IpKey &key) {
  auto ins = by_ip_.try_emplace(key);
  if (ins.second) ins.first->second.tokens = cfg_.burst;
  return ins.first->second;
}

IpRefusal PerIpLimits::admit(const IpKey &key, int64_t now_ms) {
  IpRefusal r;
  if (key.empty()) return r;
  Entry &e = entry(key);
  if (cfg_.rate > 0) {
    refill(e, now_ms);
    if (e.tokens < 1) {
      r.status = 429;
      r.retry_after = static_cast<unsigned>(std::max(1.0, std::ceil((1 - e.tokens) / cfg_.rate)));
      r.message = "too many handshakes from your address: handshake_rate_per_ip (" +
                  std::to_string(static_cast<long long>(cfg_.rate)) + "/s, burst " +
                  std::to_string(static_cast<long long>(cfg_.burst)) + ")";
      return r;
    }
    e.tokens -= 1;
  }
  if (cfg_.max_connections && e.heads + e.conns >= cfg_.max_connections) {
    r.status = 429;
    r.retry_after = kCountRetryS;
    r.message = "too many connections from your address: " +
                limit_text("max_connections_per_ip", cfg_.max_connections);
  }
  return r;
}

IpRefusal PerIpLimits::head_check(const IpKey &key) const {
  IpRefusal r;
  if (cfg_.max_heads && !key.empty() && heads(key) >= cfg_.max_heads) {
    r.status = 429;
    r.retry_after = kCountRetryS;
    r.message = "too many request heads being read from your address: " +
                limit_text("max_pending_heads_per_ip", cfg_.max_heads);
  }
  return r;
}

IpRefusal PerIpLimits::head_begin(const IpKey &key) {
  IpRefusal r = head_check(key);
  if (!r && !key.empty()) entry(key).heads++;
  return r;
}

void PerIpLimits::head_done(const IpKey &key) {
  auto it = by_ip_.find(key);
  if (it == by_ip_.end() || !it->second.heads) return;
  it->second.heads--;
  maybe_drop(key);
}

void PerIpLimits::conn_open(const IpKey &key) {
  if (key.empty()) return;
  entry(key).conns++;
}

void PerIpLimits::conn_closed(const IpKey &key) {
  auto it = by_ip_.find(key);
  if (it == by_ip_.end() || !it->second.conns) return;
  it->second.conns--;
  maybe_drop(key);
}

// An entry with nothing counted and a full bucket says nothing a new one
// would not, so it can go.
bool PerIpLimits::idle(const Entry &e) const {
  return !e.heads && !e.conns && (cfg_.rate <= 0 || e.tokens >= cfg_.burst);
}

// (One with a bucket still refilling waits for sweep.)
void PerIpLimits::maybe_drop(const IpKey &key) {
  auto it = by_ip_.find(key);
  if (idle(it->second)) by_ip_.erase(it);
}

void PerIpLimits::sweep(int64_t now_ms) {
  for (auto it = by_ip_.begin(); it != by_ip_.end();) {
    refill(it->second, now_ms);
    if (idle(it->second))
      it = by_ip_.erase(it);
    else
      ++it;
  }
}

size_t PerIpLimits::heads(const IpKey &key) const {
  auto it = by_ip_.find(key);
  return it == by_ip_.end() ? 0 : it->second.heads;
}

size_t PerIpLimits::conns(const IpKey &key) const {
  auto it = by_ip_.find(key);
  return it == by_ip_.end() ? 0 : it->second.conns;
}

}  // namespace sw
