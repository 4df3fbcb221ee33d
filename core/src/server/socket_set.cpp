#include "server/socket_set.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sw {

SocketSet::~SocketSet() {
  for (auto &kv : lingering_) close(kv.first);
  if (ep_ >= 0) close(ep_);
}

Status SocketSet::open() {
  ep_ = epoll_create1(EPOLL_CLOEXEC);
  if (ep_ < 0) return fail(SSEWS_ELISTEN, std::string("epoll_create1: ") + strerror(errno));
  return Status::ok();
}

bool SocketSet::add(int fd, uint64_t id) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.u64 = id;
  return epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

void SocketSet::watch(int fd, uint64_t id, bool in, bool out) {
  epoll_event ev{};
  ev.events = (in ? EPOLLIN | EPOLLRDHUP : 0u) | (out ? EPOLLOUT : 0u);
  ev.data.u64 = id;
  epoll_ctl(ep_, EPOLL_CTL_MOD, fd, &ev);
}

void SocketSet::remove(int fd) {
  epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
}

size_t SocketSet::ready(Ready *out, size_t max) {
  epoll_event evs[256];
  int n = epoll_wait(ep_, evs, static_cast<int>(max < 256 ? max : 256), 0);
  size_t k = 0;
  for (int i = 0; i < n; i++) {
    uint64_t id = evs[i].data.u64;
    if (id & kLingerTag) {  // read and drop; the end (or an error) closes it
      int fd = static_cast<int>(id & 0xffffffff);
      char buf[4096];
      ssize_t r;
      do {
        r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      } while (r > 0 || (r < 0 && errno == EINTR));
      if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        lingering_.erase(fd);
        close(fd);  // also leaves the set
      }
      continue;
    }
    uint32_t e = evs[i].events;
    out[k++] = Ready{id, (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0, (e & EPOLLOUT) != 0};
  }
  return k;
}

void SocketSet::linger(int fd, int seconds) {
  shutdown(fd, SHUT_WR);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.u64 = kLingerTag | static_cast<uint32_t>(fd);
  if (epoll_ctl(ep_, EPOLL_CTL_MOD, fd, &ev) != 0 && epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    close(fd);
    return;
  }
  lingering_[fd] = Clock::now() + std::chrono::seconds(seconds);
}

void SocketSet::expire() {
  auto now = Clock::now();
  for (auto it = lingering_.begin(); it != lingering_.end();) {
    if (it->second <= now) {
      close(it->first);
      it = lingering_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace sw
