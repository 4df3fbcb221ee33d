#include "event_queue.h"

#include <sys/eventfd.h>
#include <unistd.h>

namespace sw {

EventQueue::EventQueue() {
  fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

EventQueue::~EventQueue() {
  if (fd_ >= 0) close(fd_);
}

size_t EventQueue::push(EventPtr ev) {
  std::lock_guard<std::mutex> lk(mu_);
  q_.push_back(std::move(ev));
  if (q_.size() == 1) {
    uint64_t one = 1;  // counter goes non-zero: the fd becomes readable
    ssize_t r = write(fd_, &one, sizeof one);
    (void)r;
  }
  return q_.size();
}

EventPtr EventQueue::pop(size_t *left) {
  std::lock_guard<std::mutex> lk(mu_);
  if (q_.empty()) {
    if (left) *left = 0;
    return nullptr;
  }
  EventPtr ev = std::move(q_.front());
  q_.pop_front();
  if (q_.empty()) {
    uint64_t v;  // reset the counter: the fd stops being readable
    ssize_t r = read(fd_, &v, sizeof v);
    (void)r;
  }
  if (left) *left = q_.size();
  return ev;
}

size_t EventQueue::size() const {
  std::lock_guard<std::mutex> lk(mu_);
  return q_.size();
}

}  // namespace sw
