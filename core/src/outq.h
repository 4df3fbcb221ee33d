// A connection's bounded outbound queue. It holds references to shared
// messages, never copies, and enforces max_queue_bytes with a policy for a
// slow consumer: drop its oldest messages, or report overflow so the caller
// closes it. Either way memory stays bounded and other consumers are not delayed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "message.h"

namespace sw {

class OutQueue {
 public:
  enum class Policy : uint8_t { DropOldest, Close };
  enum class Push { Ok, Dropped, Overflow };

  // real_cost: count what a queued message costs in memory (its slot, the
  // message object, its names), not only its wire bytes, so the bound holds
  // for messages of any size (six million 1-byte messages would otherwise
  // fit in a 4 MiB bound). Off only in unit tests of the byte arithmetic.
  OutQueue(size_t max_bytes, Policy policy, bool real_cost = true)
      : max_bytes_(max_bytes), policy_(policy), real_cost_(real_cost) {}

  // What a queued message costs besides its wire bytes: its ring slot, the
  // message object and its shared_ptr control block (heap rounding included).
  static constexpr size_t kItemOverhead = 48 + 64 + sizeof(Message);
  size_t cost(const Message &m, Encoding enc) const;

  // Queues msg in the given encoding. Ok: queued. Dropped: queued after
  // dropping older messages to make room. Overflow: not queued; with policy
  // Close the caller must close the connection. A message larger than the
  // whole bound is still queued when the queue is empty, so nothing is
  // unsendable; the bound then holds as soon as it is written.
  Push push(MessagePtr msg, Encoding enc);

  bool empty() const { return count_ == 0; }
  const MessagePtr &front() const { return ring_[head_].msg; }
  Encoding front_encoding() const { return ring_[head_].enc; }
  // The i-th queued message (0 = front), i < size().
  const MessagePtr &at(size_t i) const { return ring_[(head_ + i) & (ring_.size() - 1)].msg; }
  void pop();
  void clear();

  size_t bytes() const { return bytes_; }
  size_t size() const { return count_; }
  uint64_t dropped() const { return dropped_; }

 private:
  struct Item {
    MessagePtr msg;
    Encoding enc = Encoding::WsPlain;
    size_t size = 0;
  };
  void grow();

  size_t max_bytes_;
  // A power-of-two ring, allocated on first use and given back when a burst
  // has drained: an idle connection holds no queue memory at all.
  std::vector<Item> ring_;
  size_t bytes_ = 0;
  uint64_t dropped_ = 0;
  uint32_t head_ = 0;
  uint32_t count_ = 0;
  Policy policy_;
  bool real_cost_;
};

}  // namespace sw
