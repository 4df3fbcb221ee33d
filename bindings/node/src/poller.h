// Watches a file descriptor for readability with a uv_poll handle on Node's
// own event loop (no extra thread), as zeromq.js does. While the handle is
// referenced it keeps the process alive.
#pragma once
#include <uv.h>

namespace ssews_node {

class Poller {
 public:
  using Callback = void (*)(void *user);

  // Starts watching; returns a libuv error (< 0) or 0.
  int Start(uv_loop_t *loop, int fd, Callback cb, void *user);
  void Ref();
  void Unref();
  // Stops watching and closes the handle (it frees itself later on the
  // loop). Safe to call from the callback, and more than once.
  void Close();
  bool active() const { return h_ != nullptr; }

  Poller() = default;
  ~Poller() { Close(); }
  Poller(const Poller &) = delete;
  Poller &operator=(const Poller &) = delete;

 private:
  struct Handle {
    uv_poll_t poll;
    Callback cb;
    void *user;
  };
  static void OnPoll(uv_poll_t *poll, int status, int events);
  Handle *h_ = nullptr;
};

}  // namespace ssews_node
