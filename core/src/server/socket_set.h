// The sockets ssews reads and writes itself (WebSocket connections over plain
// TCP or ssews' own TLS, ws_tcp_server.cpp), on an epoll set of its own. lws polls that set as one
// descriptor (as it polls the front door's), so its poll() covers a handful
// of descriptors whatever the number of connections, and epoll reports only
// the sockets that are ready. lws 4.1's poll() scans every socket it holds at
// each wake-up: at 10,000 connections that scan came before the first byte of
// every fan-out (docs/performance.md).
//
// Level-triggered: a socket with more to read, or room to write while asked
// for, is reported again at the next pass. Service thread only.
#pragma once
#include <sys/epoll.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <unordered_map>

#include "status.h"

namespace sw {

class SocketSet {
 public:
  struct Ready {
    uint64_t id;
    bool in, out;  // readable (or hung up, or failed): read to find out; writable
  };

  SocketSet() = default;
  ~SocketSet();  // closes the set and the lingering sockets (not the ones added: their owner's)
  SocketSet(const SocketSet &) = delete;
  SocketSet &operator=(const SocketSet &) = delete;

  Status open();
  int poll_fd() const { return ep_; }

  // Watches fd for id: reading, and writing when out.
  bool add(int fd, uint64_t id);
  void watch(int fd, uint64_t id, bool in, bool out);
  void remove(int fd);

  // Sockets ready now (no wait), at most max. Lingering ones are dealt with
  // here and not reported.
  size_t ready(Ready *out, size_t max);

  // Takes over fd, whose last bytes are written: ends our side, reads and
  // drops what the peer still sends until it closes or `seconds` pass (so the
  // close does not reset the connection before the peer has read our last
  // bytes), then closes it.
  void linger(int fd, int seconds);
  // Closes lingering sockets whose time is up (from the once-a-second tick).
  void expire();

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr uint64_t kLingerTag = 1ull << 63;
  int ep_ = -1;
  std::unordered_map<int, Clock::time_point> lingering_;
};

}  // namespace sw
