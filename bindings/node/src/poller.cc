#include "poller.h"

namespace ssews_node {

int Poller::Start(uv_loop_t *loop, int fd, Callback cb, void *user) {
  auto *h = new Handle{};
  h->cb = cb;
  h->user = user;
  int rc = uv_poll_init(loop, &h->poll, fd);
  if (rc < 0) {
    delete h;  // not registered with the loop: nothing to close
    return rc;
  }
  h->poll.data = h;
  rc = uv_poll_start(&h->poll, UV_READABLE, OnPoll);
  h_ = h;
  if (rc < 0) Close();
  return rc;
}

void Poller::OnPoll(uv_poll_t *poll, int /*status*/, int /*events*/) {
  // On an error status, still drain: taking events tells what is left.
  auto *h = static_cast<Handle *>(poll->data);
  if (h->cb) h->cb(h->user);
}

void Poller::Ref() {
  if (h_) uv_ref(reinterpret_cast<uv_handle_t *>(&h_->poll));
}

void Poller::Unref() {
  if (h_) uv_unref(reinterpret_cast<uv_handle_t *>(&h_->poll));
}

void Poller::Close() {
  Handle *h = h_;
  if (!h) return;
  h_ = nullptr;
  h->cb = nullptr;  // a callback already running finishes; no other starts
  uv_poll_stop(&h->poll);
  uv_close(reinterpret_cast<uv_handle_t *>(&h->poll),
           [](uv_handle_t *handle) { delete static_cast<Handle *>(handle->data); });
}

}  // namespace ssews_node
