// Work for the service thread: commands queued by public calls. Calls from
// other threads go through a locked list (the loop is woken for them); calls
// the service thread makes itself, from an event callback, go on a list of
// its own that needs no lock and no wake-up. Both count against one bound,
// max_pending_bytes, so the bound holds whichever threads the calls come from.
#pragma once
#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "hub.h"
#include "message.h"
#include "status.h"

namespace sw {

struct Cmd {
  size_t bytes = 0;              // payload bytes held, counted against the bound
  std::function<void()> fn;      // a general command, or
  std::shared_ptr<Message> msg;  // a publish or a send (the common ones): no closure to allocate
  ConnId to = 0;                 // with msg: send it to this connection only (0: publish)
};

class CommandQueue {
 public:
  explicit CommandQueue(size_t max_bytes) : max_bytes_(max_bytes) {}

  // From any thread but the service thread. EFULL when the bound would be
  // passed. first: the list was empty (the loop may need waking).
  Status push_remote(Cmd cmd, bool &first);
  // From the service thread itself.
  Status push_local(Cmd cmd);

  bool remote_pending() const;
  bool local_pending() const { return !local_.empty(); }
  // Service thread: takes a list to run; call done() with the bytes run.
  std::vector<Cmd> take_remote();
  std::vector<Cmd> take_local();
  void done(size_t bytes) { bytes_.fetch_sub(bytes, std::memory_order_relaxed); }

 private:
  Status reserve(size_t bytes);

  const size_t max_bytes_;
  std::atomic<size_t> bytes_{0};
  mutable std::mutex mu_;
  std::vector<Cmd> remote_;
  std::vector<Cmd> local_;
};

}  // namespace sw
