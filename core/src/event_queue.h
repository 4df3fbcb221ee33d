// Events for the application, and the pull-mode queue with its poll fd.
#pragma once
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

// The opaque ssews_event of the C ABI (global namespace to match the header).
struct ssews_event {
  int kind = 0;
  uint64_t conn = 0;
  int protocol = 0;
  std::string data;
  bool binary = false;
  bool has_name = false, has_id = false, has_channel = false;
  std::string name, id, channel;
  std::string path, query, peer;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::vector<std::string> channels;                         // open: the default subscriptions
  int code = 0;
  std::string reason;
  int64_t delay_ms = 0;
  // Open event in callback mode: the live request, for headers lws does not
  // tokenise. Null once the callback has returned (pull mode: always null).
  void *live_wsi = nullptr;
  // Custom headers looked up by name from live_wsi. A list: pointers stay
  // valid, and an empty one allocates nothing (a deque allocates on creation,
  // once per message event).
  std::list<std::pair<std::string, std::string>> extra_headers;
};

namespace sw {

using EventPtr = std::unique_ptr<ssews_event>;

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
  void clear();

 private:
  mutable std::mutex mu_;
  std::deque<EventPtr> q_;
  int fd_ = -1;
};

}  // namespace sw
