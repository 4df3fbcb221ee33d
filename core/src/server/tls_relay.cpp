// HTTP/1.1 and HTTP/2 over ssews' TLS relayed to libwebsockets. See tls_relay.h.
#include "server/tls_relay.h"

#include <linux/sockios.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>

#include "h2_preface.h"
#include "h2_request_headers.h"
#include "server/tls_io.h"

namespace sw {

namespace {
constexpr size_t kChunk = 16384;        // one TLS record's worth: what each direction holds
constexpr int kPairBuffer = 64 * 1024;  // the socketpair's send buffers
constexpr uint64_t kPairSide = 1;       // epoll tag bit: the pair's end, not the client's
}  // namespace

struct TlsRelays::Relay {
  uint64_t id = 0;
  int fd = -1;  // the client's TCP socket, under ssl
  SSL *ssl = nullptr;
  int pair = -1;   // the relay's end of the socketpair (lws has the other)
  std::string up;  // decrypted from the client, not yet taken by the pair
  size_t up_off = 0;
  std::string down;  // read from lws, not yet taken by TLS (offered again as it was: tls_write)
  size_t down_off = 0;
  bool client_done = false;       // the client's close_notify or end of its stream
  bool pair_shut = false;         // lws was told (shutdown of the pair towards it)
  bool lws_done = false;          // lws closed its end, and all it wrote was read
  bool pair_hup = false;          // the pair hung up: no longer polled (read in the pass that drains down)
  bool read_wants_write = false;  // TLS: the last read waits for the socket to take bytes
  bool write_wants_read = false;  // TLS: the last write waits for bytes from the client
  bool preface_done = true;       // HTTP/2: lws' first SETTINGS frame has been seen to (h2_preface.h)
  // HTTP/2: the client's frames, header blocks encoded again for lws
  // (h2_request_headers.h), wait in units (the preface, then a frame each),
  // and lws is handed one at a time, the next only once it has read the
  // last: lws 4.1.6 fails a request body with GOAWAY ("More rx than
  // content_length told") when one read holds the end of a DATA frame and
  // more bytes behind it near the end of the body (it compares the body left
  // with all the bytes in its buffer). Reading TLS records it rarely met
  // that; reading everything a socketpair holds it would.
  std::unique_ptr<H2RequestHeaders> headers;
  std::deque<std::string> units;
  bool await_lws = false;  // a unit was handed over whole: the next waits until lws has read it
  uint32_t fd_events = 0, pair_events = 0;
  bool up_pending() const { return up_off < up.size(); }
  bool up_waiting() const { return up_pending() || !units.empty(); }
  bool down_pending() const { return preface_done && down_off < down.size(); }
};

TlsRelays::TlsRelays() = default;

TlsRelays::~TlsRelays() {
  for (auto &kv : relays_) {
    SSL_free(kv.second->ssl);
    close(kv.second->fd);
    close(kv.second->pair);
  }
  if (ep_ >= 0) close(ep_);
}

Status TlsRelays::open() {
  ep_ = epoll_create1(EPOLL_CLOEXEC);
  if (ep_ < 0)
    return fail(SSEWS_ELISTEN, std::string("cannot make the TLS relays' epoll set: ") + strerror(errno));
  return Status::ok();
}

int TlsRelays::add(int fd, SSL *ssl, std::string first, bool h2) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) {
    tls_end(ssl);
    close(fd);
    return -1;
  }
  for (int s : sv) setsockopt(s, SOL_SOCKET, SO_SNDBUF, &kPairBuffer, sizeof kPairBuffer);
  uint64_t id = next_id_++;
  auto r = std::make_unique<Relay>();
  r->id = id;
  r->fd = fd;
  r->ssl = ssl;
  r->pair = sv[0];
  r->up = std::move(first);
  r->preface_done = !h2;
  if (h2) r->headers = std::make_unique<H2RequestHeaders>();
  epoll_event ev{};
  ev.data.u64 = id << 1;
  bool ok = epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) == 0;
  ev.data.u64 = id << 1 | kPairSide;
  ok = ok && epoll_ctl(ep_, EPOLL_CTL_ADD, sv[0], &ev) == 0;
  relays_.emplace(id, std::move(r));
  if (!ok) {
    end(id);
    close(sv[1]);
    return -1;
  }
  // The head goes towards lws now, and what TLS decrypted beyond it (epoll
  // does not see bytes OpenSSL holds) is read in the same pass.
  pump(id, true, false);
  return sv[1];
}

void TlsRelays::service() {
  // A fan-out makes thousands of relays ready at once: they are all served
  // in this pass (in batches), not a batch per turn of lws' loop.
  constexpr int kBatch = 256, kBatches = 64;
  epoll_event evs[kBatch];
  for (int round = 0; round < kBatches; round++) {
    int n = epoll_wait(ep_, evs, kBatch, 0);
    serve(evs, n);
    if (n < kBatch) return;
  }
}

void TlsRelays::serve(const epoll_event *evs, int n) {
  for (int i = 0; i < n; i++) {
    uint64_t id = evs[i].data.u64 >> 1;
    auto it = relays_.find(id);
    if (it == relays_.end()) continue;
    bool hup = (evs[i].events & (EPOLLERR | EPOLLHUP)) != 0;
    bool in = (evs[i].events & EPOLLIN) != 0;
    if (evs[i].data.u64 & kPairSide) {
      it->second->pair_hup = it->second->pair_hup || hup;
      pump(id, false, in || hup);
    } else if (hup) {  // the client reset the connection: nothing more can pass
      end(id);
    } else {
      pump(id, in, false);
    }
  }
}

// Moves what can be moved, both ways, until nothing moves.
void TlsRelays::pump(uint64_t id, bool client_in, bool pair_in) {
  auto it = relays_.find(id);
  if (it == relays_.end()) return;
  Relay &r = *it->second;
  char buf[kChunk];
  for (bool moved = true; moved;) {
    moved = false;
    // Client to lws.
    if (r.await_lws) {
      int queued = 0;  // what lws has not read yet (SIOCOUTQ of a Unix socket)
      if (ioctl(r.pair, SIOCOUTQ, &queued) != 0 || queued <= 0) r.await_lws = false;
    }
    if (!r.up_pending() && !r.units.empty() && !r.await_lws) {
      r.up = std::move(r.units.front());
      r.units.pop_front();
      r.up_off = 0;
    }
    // (TLS: a read the client's socket did not announce may still find a
    // record OpenSSL holds, or one a write waited for.)
    if (!r.up_waiting() && !r.client_done &&
        (client_in || r.write_wants_read || r.read_wants_write || SSL_pending(r.ssl) > 0)) {
      r.up.clear();
      r.up_off = 0;
      TlsWait w;
      size_t n = tls_read(r.ssl, buf, sizeof buf, w);
      r.read_wants_write = w == TlsWait::Write;
      if (!n && (w == TlsWait::Read || w == TlsWait::Write)) client_in = false;
      if (n && r.headers) {
        if (!r.headers->feed(buf, n, r.units)) return end(id);  // (a COMPRESSION_ERROR: the connection ends)
        moved = true;
      } else if (n) {
        r.up.assign(buf, n);
        moved = true;
      } else if (w == TlsWait::Closed) {
        r.client_done = moved = true;
      } else if (w == TlsWait::Failed) {
        return end(id);
      }
    }
    if (r.up_pending() && !r.await_lws) {
      ssize_t k = send(r.pair, r.up.data() + r.up_off, r.up.size() - r.up_off, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (k > 0) {
        r.up_off += static_cast<size_t>(k);
        moved = true;
        if (r.headers && !r.up_pending()) r.await_lws = true;
      } else if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        return end(id);  // lws closed its end
      }
    }
    if (r.client_done && !r.up_waiting() && !r.pair_shut) {
      shutdown(r.pair, SHUT_WR);
      r.pair_shut = true;
    }
    // lws to the client.
    if (!r.down_pending() && !r.lws_done && (pair_in || r.pair_hup)) {
      if (r.preface_done) {
        r.down.clear();
        r.down_off = 0;
      }
      ssize_t n = recv(r.pair, buf, sizeof buf, MSG_DONTWAIT);
      // A short read emptied the pair (level-triggered epoll says when more comes).
      if (n >= 0 && static_cast<size_t>(n) < sizeof buf) pair_in = false;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) pair_in = false;
      if (n > 0) {
        r.down.append(buf, static_cast<size_t>(n));
        moved = true;
        // HTTP/2: lws' first frame is held until whole, then passed on
        // without extended CONNECT (a SETTINGS frame is small: kChunk
        // bounds what is held).
        if (!r.preface_done &&
            (h2_refuse_connect_protocol(r.down) == H2Preface::Done || r.down.size() >= kChunk))
          r.preface_done = true;
      } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        r.lws_done = moved = true;
        r.preface_done = true;  // what there is goes out as it is
      }
    }
    if (r.down_pending()) {
      TlsWait w;
      size_t k = tls_write(r.ssl, r.down.data() + r.down_off, r.down.size() - r.down_off, w);
      r.write_wants_read = w == TlsWait::Read;
      if (k) {
        r.down_off += k;
        moved = true;
      } else if (w == TlsWait::Closed || w == TlsWait::Failed) {
        return end(id);  // the client is gone
      }
    }
    if (r.lws_done && !r.down_pending()) return end(id);  // lws is done and all it wrote is out
  }
  rewatch(r);
}

void TlsRelays::rewatch(Relay &r) {
  uint32_t fe = 0, pe = 0;
  if ((!r.up_waiting() && !r.client_done) || r.write_wants_read) fe |= EPOLLIN;
  if (r.down_pending() || r.read_wants_write) fe |= EPOLLOUT;
  if (!r.down_pending() && !r.lws_done) pe |= EPOLLIN;
  if (r.up_waiting()) pe |= EPOLLOUT;
  // Waiting for lws to read a frame: the pair is writable all along, so
  // only the moment lws reads may wake the relay (edge-triggered; what lws
  // writes meanwhile is read in the pass that handles it, see pump).
  if (r.await_lws) pe |= EPOLLET;
  epoll_event ev{};
  if (fe != r.fd_events) {
    ev.events = fe;
    ev.data.u64 = r.id << 1;
    epoll_ctl(ep_, EPOLL_CTL_MOD, r.fd, &ev);
    r.fd_events = fe;
  }
  // A hung-up pair stays reported whatever is asked: it leaves the set, and
  // what lws left in it is read in the pass that drains the client's side.
  if (r.pair_hup) {
    if (r.pair_events != ~0u) epoll_ctl(ep_, EPOLL_CTL_DEL, r.pair, nullptr);
    r.pair_events = ~0u;
  } else if (pe != r.pair_events) {
    ev.events = pe;
    ev.data.u64 = r.id << 1 | kPairSide;
    epoll_ctl(ep_, EPOLL_CTL_MOD, r.pair, &ev);
    r.pair_events = pe;
  }
}

void TlsRelays::end(uint64_t id) {
  auto it = relays_.find(id);
  if (it == relays_.end()) return;
  Relay &r = *it->second;
  tls_end(r.ssl);  // close_notify after what was written
  // Unread bytes at close would reset the connection, and a reset can
  // overtake the last bytes still on their way: read what is there first.
  char buf[kChunk];
  for (int i = 0; i < 4 && recv(r.fd, buf, sizeof buf, MSG_DONTWAIT) > 0; i++) {
  }
  shutdown(r.fd, SHUT_WR);
  close(r.fd);
  close(r.pair);  // lws sees its end of the stream
  relays_.erase(it);
}

}  // namespace sw
