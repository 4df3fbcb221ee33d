#include "outq.h"

namespace sw {

OutQueue::Push OutQueue::push(MessagePtr msg, Encoding enc) {
  size_t size = msg->wire_size(enc);
  Push result = Push::Ok;
  if (!items_.empty() && bytes_ + size > max_bytes_) {
    if (policy_ == Policy::Close) return Push::Overflow;
    while (!items_.empty() && bytes_ + size > max_bytes_) {
      pop();
      dropped_++;
    }
    result = Push::Dropped;
  }
  items_.push_back(Item{std::move(msg), enc, size});
  bytes_ += size;
  return result;
}

void OutQueue::pop() {
  bytes_ -= items_.front().size;
  items_.pop_front();
}

void OutQueue::clear() {
  items_.clear();
  bytes_ = 0;
}

}  // namespace sw
