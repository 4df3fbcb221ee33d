#include "outq.h"

#include <utility>

namespace sw {

namespace {
constexpr size_t kFirstRing = 4;
constexpr size_t kKeepRing = 64;  // ring slots kept once empty; larger rings are freed
}  // namespace

size_t OutQueue::cost(const Message &m, Encoding enc) const {
  size_t wire = m.wire_size(enc);
  if (!real_cost_) return wire;
  // The plain payload exists beside another encoding; names are strings of their own.
  size_t extra = enc == Encoding::WsPlain ? 0 : m.payload.size();
  return wire + extra + kItemOverhead + m.channel.size() + m.event.size() + m.id.size();
}

OutQueue::Push OutQueue::push(MessagePtr msg, Encoding enc) {
  size_t size = cost(*msg, enc);
  Push result = Push::Ok;
  if (count_ && bytes_ + size > max_bytes_) {
    if (policy_ == Policy::Close) return Push::Overflow;
    while (count_ && bytes_ + size > max_bytes_) {
      pop();
      dropped_++;
    }
    result = Push::Dropped;
  }
  if (count_ == ring_.size()) grow();
  Item &slot = ring_[(head_ + count_) & (ring_.size() - 1)];
  slot.msg = std::move(msg);
  slot.enc = enc;
  slot.size = size;
  count_++;
  bytes_ += size;
  return result;
}

void OutQueue::grow() {
  std::vector<Item> bigger(ring_.empty() ? kFirstRing : ring_.size() * 2);
  for (size_t i = 0; i < count_; i++) bigger[i] = std::move(ring_[(head_ + i) & (ring_.size() - 1)]);
  ring_.swap(bigger);
  head_ = 0;
}

void OutQueue::pop() {
  Item &it = ring_[head_];
  bytes_ -= it.size;
  it.msg.reset();  // the last queue to let go frees the message
  head_ = static_cast<uint32_t>((head_ + 1) & (ring_.size() - 1));
  if (--count_ == 0) {
    head_ = 0;
    if (ring_.size() > kKeepRing) std::vector<Item>().swap(ring_);
  }
}

void OutQueue::clear() {
  std::vector<Item>().swap(ring_);
  head_ = count_ = 0;
  bytes_ = 0;
}

}  // namespace sw
