#include "command_queue.h"

#include <string>

namespace sw {

Status CommandQueue::reserve(size_t bytes) {
  if (!bytes) return Status::ok();
  size_t cur = bytes_.load(std::memory_order_relaxed);
  do {
    if (cur + bytes > max_bytes_)
      return fail(SSEWS_EFULL, "max_pending_bytes (" + std::to_string(max_bytes_) +
                                   ") of unsent data queued; try again later");
  } while (!bytes_.compare_exchange_weak(cur, cur + bytes, std::memory_order_relaxed));
  return Status::ok();
}

Status CommandQueue::push_remote(Cmd cmd, bool &first) {
  Status st = reserve(cmd.bytes);
  if (st.failed()) return st;
  std::lock_guard<std::mutex> lk(mu_);
  first = remote_.empty();
  remote_.push_back(std::move(cmd));
  return st;
}

Status CommandQueue::push_local(Cmd cmd) {
  Status st = reserve(cmd.bytes);
  if (st.failed()) return st;
  local_.push_back(std::move(cmd));
  return st;
}

bool CommandQueue::remote_pending() const {
  std::lock_guard<std::mutex> lk(mu_);
  return !remote_.empty();
}

std::vector<Cmd> CommandQueue::take_remote() {
  std::vector<Cmd> out;
  std::lock_guard<std::mutex> lk(mu_);
  out.swap(remote_);
  return out;
}

std::vector<Cmd> CommandQueue::take_local() {
  std::vector<Cmd> out;
  out.swap(local_);
  return out;
}

}  // namespace sw
