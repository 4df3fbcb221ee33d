// Events for the application, and the pull-mode queue with its poll fd.
#pragma once
#include <cstddef>
#include <deque>
#include <mutex>

#include "event.h"

namespace sw {

// A FIFO of events plus an eventfd that is readable exactly while the queue is
// not empty (level-triggered), so asyncio, libuv or poll() can wait on it.
class EventQueue {
 public:
  EventQueue();
  ~EventQueue();
  EventQueue(const EventQueue &) = delete;
  EventQueue &operator=(const EventQueue &) = delete;

  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  // Returns the queue length after the push.
  size_t push(EventPtr ev);
  // Takes the oldest event, or null when empty. Also reports the length left.
  EventPtr pop(size_t *left = nullptr);
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::deque<EventPtr> q_;
  int fd_ = -1;
};

}  // namespace sw
