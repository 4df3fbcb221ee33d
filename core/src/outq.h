// A connection's bounded outbound queue. It holds references to shared
// messages, never copies, and enforces max_queue_bytes with a policy for a
// slow consumer: drop its oldest messages, or report overflow so the caller
// closes it. Either way memory stays bounded and other consumers are not delayed.
#pragma once
#include <cstddef>
#include <deque>

#include "message.h"

namespace sw {

class OutQueue {
 public:
  enum class Policy { DropOldest, Close };
  enum class Push { Ok, Dropped, Overflow };

  OutQueue(size_t max_bytes, Policy policy) : max_bytes_(max_bytes), policy_(policy) {}

  // Queues msg in the given encoding. Ok: queued. Dropped: queued after
  // dropping older messages to make room. Overflow: not queued; with policy
  // Close the caller must close the connection. A message larger than the
  // whole bound is still queued when the queue is empty, so nothing is
  // unsendable; the bound then holds as soon as it is written.
  Push push(MessagePtr msg, Encoding enc);

  bool empty() const { return items_.empty(); }
  const MessagePtr &front() const { return items_.front().msg; }
  Encoding front_encoding() const { return items_.front().enc; }
  void pop();
  void clear();

  size_t bytes() const { return bytes_; }
  size_t size() const { return items_.size(); }
  uint64_t dropped() const { return dropped_; }

 private:
  struct Item {
    MessagePtr msg;
    Encoding enc;
    size_t size;
  };
  size_t max_bytes_;
  Policy policy_;
  std::deque<Item> items_;
  size_t bytes_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace sw
