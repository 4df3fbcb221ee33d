// Per-client limits of the server (issue 16, "Limits per client"): what one
// address may hold and how fast it may come, so that a few hundred slow or
// greedy clients cannot deny service to the rest. Pure bookkeeping, no
// sockets: the front door (request heads being read) and the server role's
// connection bookkeeping (connections lws holds) call it, on the service
// thread only.
//
// Per address it counts
//  - heads: connections whose request head is still arriving at the front
//    door (max_pending_heads_per_ip, its share of the door's pool),
//  - conns: connections lws holds (handed over by the door, or accepted by
//    lws itself when it listens: TLS), established or not,
// and holds a token bucket of handshakes (handshake_rate_per_ip a second,
// handshake_burst_per_ip at once): each new connection takes a token.
// heads + conns is bounded by max_connections_per_ip. A limit of 0 is off.
//
// "Address": an IPv4 address (an IPv4-mapped IPv6 one counts as its IPv4),
// or an IPv6 /64, since one IPv6 host usually holds a whole /64.
//
// Memory: an entry exists while its address has heads or conns, or its
// bucket is not full again; sweep() drops the rest, so entries are bounded
// by the connections accepted within burst / rate seconds plus those open.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

struct sockaddr;

namespace sw {

// An address as the limits key it: 4 bytes (IPv4) or 8 (an IPv6 /64).
using IpKey = std::string;

// The clock admit() and sweep() want: milliseconds, monotonic.
inline int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The key of a socket address (AF_INET or AF_INET6); "" for anything else
// (a Unix socket), which no limit applies to.
IpKey ip_key(const sockaddr *sa);

struct PerIpConfig {
  size_t max_connections = 256;  // heads + conns per address
  size_t max_heads = 32;         // heads being read per address
  double rate = 100;             // handshakes a second per address
  double burst = 200;            // handshakes at once (the bucket's size)
};

// Why a new connection was refused: status 0 = admitted.
struct IpRefusal {
  unsigned status = 0;       // 429
  unsigned retry_after = 0;  // seconds, for Retry-After
  std::string message;       // names the limit (the option) and its value
  explicit operator bool() const { return status != 0; }
};

class PerIpLimits {
 public:
  explicit PerIpLimits(const PerIpConfig &cfg = PerIpConfig()) : cfg_(cfg) {}

  // A new connection from key, now_ms on a monotonic clock: takes a
  // handshake token, then checks heads + conns. Counts nothing: the door
  // counts it with head_begin() while its head is arriving, and
  // conn_open() once lws holds it.
  IpRefusal admit(const IpKey &key, int64_t now_ms);
  // The connection's head did not come whole at once: it takes a place in
  // the address's share of heads being read, if there is one, until
  // head_done().
  IpRefusal head_begin(const IpKey &key);
  // What head_begin() would say, counting nothing.
  IpRefusal head_check(const IpKey &key) const;
  // A head begun was read whole (the door hands it to lws: conn_open()
  // follows), refused or dropped.
  void head_done(const IpKey &key);
  // lws holds a connection (handed over by the door, or accepted itself),
  // until conn_closed().
  void conn_open(const IpKey &key);
  void conn_closed(const IpKey &key);

  // Drops entries with nothing counted and a full bucket (call now and then).
  void sweep(int64_t now_ms);

  size_t heads(const IpKey &key) const;
  size_t conns(const IpKey &key) const;
  size_t entries() const { return by_ip_.size(); }
  const PerIpConfig &config() const { return cfg_; }

 private:
  struct Entry {
    size_t heads = 0, conns = 0;
    double tokens = 0;
    int64_t at_ms = 0;  // when tokens was last brought up to date
  };
  Entry &entry(const IpKey &key);
  void refill(Entry &e, int64_t now_ms) const;
  bool idle(const Entry &e) const;
  void maybe_drop(const IpKey &key);

  PerIpConfig cfg_;
  std::unordered_map<IpKey, Entry> by_ip_;
};

}  // namespace sw
