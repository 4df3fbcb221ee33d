// The front door: accept, read each request head, answer a bad one, hand a
// good one on. See front_door.h for why it exists, where it runs and its bounds.
#include "server/front_door.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <unordered_map>

#include "http_head.h"
#include "per_ip_limits.h"
#include "server/tls_io.h"
#include "tls_client_hello.h"

namespace sw {

namespace {

using Clock = std::chrono::steady_clock;

// How long a refused connection is read (and what it sends dropped) after
// its answer, so that closing with unread bytes does not reset the
// connection before the peer has read the answer.
constexpr auto kLinger = std::chrono::seconds(1);
constexpr uint64_t kListenId = 0;

bool parse_addr(const std::string &host, int port, sockaddr_storage &ss, socklen_t &len) {
  memset(&ss, 0, sizeof ss);
  auto *v4 = reinterpret_cast<sockaddr_in *>(&ss);
  auto *v6 = reinterpret_cast<sockaddr_in6 *>(&ss);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    len = sizeof *v4;
    return true;
  }
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    len = sizeof *v6;
    return true;
  }
  return false;
}

// A status and a one-line message as the door answers them.
std::string answer(unsigned status, std::string message, unsigned retry_after = 0) {
  HeadVerdict v;
  v.status = status;
  v.message = std::move(message);
  v.retry_after = retry_after;
  return head_refusal(v);
}

void answer_and_shut(int fd, const std::string &answer) {
  // A few hundred bytes into a new connection's empty send buffer: one send.
  ssize_t n = send(fd, answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  (void)n;
  shutdown(fd, SHUT_WR);
}

// A plaintext HTTP request line begins (a method, then a space): what a
// client sends to a TLS port by mistake (http:// for https://).
bool looks_like_http(const char *p, size_t n) {
  size_t i = 0;
  while (i < n && i < 16 && p[i] >= 'A' && p[i] <= 'Z') i++;
  return i > 0 && i < n && p[i] == ' ';
}

// Answers a connection refused without a lingering entry (one would take a
// place the refusal protects): what it sent so far is read first, so the
// close is no reset that could beat the answer to the peer.
void answer_and_close(int fd, const std::string &answer) {
  char buf[16 * 1024];
  ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
  (void)n;
  answer_and_shut(fd, answer);
  close(fd);
}

}  // namespace

struct FrontDoor::Loop {
  // Where a connection is: reading a plain head, or (TLS) peeking its
  // ClientHello, in its handshake, reading its head decrypted.
  enum Stage : uint8_t { kPlain, kHello, kHandshake, kTlsHead };
  struct Pending {
    int fd;
    HeadChecker head;
    IpKey ip;  // the peer's address, for limits
    Stage stage = kPlain;
    SSL *ssl = nullptr;                      // kHandshake, kTlsHead: the door's until handed on
    std::string tls_in = {};                 // kTlsHead: the bytes decrypted so far
    bool ip_counted = false;                 // in limits' heads (the head did not come whole at once)
    size_t seen = 0;                         // bytes peeked and fed to head so far
    bool lingering = false;                  // answered: reading only to drop what comes
    bool watched = false;                    // in the epoll set
    Clock::time_point since = Clock::now();  // accepted
  };
  struct Due {
    Clock::time_point at;
    uint64_t id;
  };

  Config cfg;
  const Takers *takers = nullptr;  // during service()
  int listen_fd = -1, epoll_fd = -1;
  std::unordered_map<uint64_t, Pending> pending;
  size_t reading = 0;  // entries of pending not lingering: heads being read
  // Deadlines in the order they fall: every head gets the same timeout and
  // every linger the same time, so each list is sorted by construction.
  // Entries of connections already gone are skipped when they come up.
  std::deque<Due> heads_due, linger_due;
  uint64_t next_id = 1;
  std::vector<char> peek_buf;  // max_header_size + 1: one byte more says "too large"
  // After accept fails for want of descriptors the listen socket rests until
  // the next expire() (it stays readable: polling it again at once would spin).
  bool listen_resting = false;

  ~Loop() {
    for (auto &kv : pending) {
      if (kv.second.ssl) SSL_free(kv.second.ssl);
      close(kv.second.fd);
    }
    if (listen_fd >= 0) close(listen_fd);
    if (epoll_fd >= 0) close(epoll_fd);
  }

  void watch(int fd, uint64_t id, uint32_t events, int op = EPOLL_CTL_ADD) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = id;
    epoll_ctl(epoll_fd, op, fd, &ev);
  }

  void service();
  void accept_all();
  void admit(int fd, const sockaddr *peer);
  void head_done(Pending &p);
  bool evict_oldest();
  int head_timeout_s() const { return std::min(cfg.head_timeout_s, cfg.handshake_timeout_s); }
  void readable(uint64_t id, bool peer_done = false);
  void hello(uint64_t id, Pending &p, bool peer_done);
  void tls_step(uint64_t id, Pending &p);
  void judge(uint64_t id, Pending &p);
  void handed_on(uint64_t id, Pending &p);
  void refuse(uint64_t id, Pending &p, const HeadVerdict &v);
  void refuse_with(uint64_t id, Pending &p, const std::string &answer);
  void forget(uint64_t id);
  void expire(Clock::time_point now);
  void answered(int fd, const std::string &answer, size_t seen, Clock::time_point since,
                const std::string *decrypted = nullptr);
};

// Tells on_answered of an answer about to be written (the request's bytes
// are still in the socket: peeked again, the first 2 KiB; over TLS, those
// the door decrypted).
void FrontDoor::Loop::answered(int fd, const std::string &answer, size_t seen, Clock::time_point since,
                               const std::string *decrypted) {
  if (!cfg.on_answered) return;
  char buf[2048];
  size_t got = 0;
  if (decrypted) {
    got = std::min(decrypted->size(), sizeof buf);
    memcpy(buf, decrypted->data(), got);
  } else {
    ssize_t n;
    do {
      n = recv(fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    got = n > 0 ? static_cast<size_t>(n) : 0;
  }
  unsigned status = 0;  // "HTTP/1.1 NNN ..."
  if (answer.size() > 12)
    for (size_t i = 9; i < 12 && answer[i] >= '0' && answer[i] <= '9'; i++)
      status = status * 10 + static_cast<unsigned>(answer[i] - '0');
  Config::Answered a{fd,
                     status,
                     std::string_view(buf, got),
                     std::max(seen, got),
                     answer.size(),
                     std::chrono::duration<double, std::milli>(Clock::now() - since).count()};
  cfg.on_answered(a);
}

FrontDoor::FrontDoor() = default;

FrontDoor::~FrontDoor() {
  stop();
}

bool FrontDoor::can_bind(const std::string &host) {
  sockaddr_storage ss;
  socklen_t len;
  return parse_addr(host, 0, ss, len);
}

Status FrontDoor::open(const Config &cfg) {
  auto where = [&] { return "cannot listen on " + cfg.host + " port " + std::to_string(cfg.port) + ": "; };
  sockaddr_storage ss;
  socklen_t slen;
  if (!parse_addr(cfg.host, cfg.port, ss, slen)) return fail(SSEWS_ELISTEN, where() + "not an address");
  auto loop = std::make_unique<Loop>();
  loop->cfg = cfg;
  loop->peek_buf.resize(cfg.tls ? std::max(cfg.max_header_size + 1, kMaxClientHelloBytes)
                                : cfg.max_header_size + 1);
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(SSEWS_ELISTEN, where() + strerror(errno));
  loop->listen_fd = fd;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // The kernel hands over a connection once its first bytes are there (or
  // after this long), so the peek at accept usually finds the whole head and
  // the socket never joins the epoll set; one that never speaks costs no
  // descriptor meanwhile.
  int defer = cfg.handshake_timeout_s;
  setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof defer);
  if (bind(fd, reinterpret_cast<sockaddr *>(&ss), slen) != 0 || listen(fd, SOMAXCONN) != 0)
    return fail(SSEWS_ELISTEN, where() + strerror(errno));
  if (getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &slen) != 0)
    return fail(SSEWS_ELISTEN, where() + strerror(errno));
  port_ = ntohs(ss.ss_family == AF_INET ? reinterpret_cast<sockaddr_in *>(&ss)->sin_port
                                        : reinterpret_cast<sockaddr_in6 *>(&ss)->sin6_port);
  loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (loop->epoll_fd < 0) return fail(SSEWS_ELISTEN, where() + strerror(errno));
  loop->watch(loop->listen_fd, kListenId, EPOLLIN);
  loop_ = std::move(loop);
  return Status::ok();
}

int FrontDoor::poll_fd() const {
  return loop_ ? loop_->epoll_fd : -1;
}

void FrontDoor::service(const Takers &takers) {
  if (!loop_) return;
  loop_->takers = &takers;
  loop_->service();
  loop_->takers = nullptr;
}

void FrontDoor::expire() {
  if (loop_) loop_->expire(Clock::now());
}

void FrontDoor::stop() {
  loop_.reset();  // closes the listen socket and the heads being read
}

// ---------------------------------------------------------------------------
// The door's work, on the service thread

void FrontDoor::Loop::service() {
  // At most one batch a pass: what is left keeps the descriptor readable,
  // and lws comes back to it after serving its own sockets.
  epoll_event evs[64];
  int n = epoll_wait(epoll_fd, evs, 64, 0);
  for (int i = 0; i < n; i++) {
    uint64_t id = evs[i].data.u64;
    if (id == kListenId) {
      accept_all();
    } else {
      readable(id, (evs[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
    }
  }
}

void FrontDoor::Loop::accept_all() {
  // A bounded batch, so heads already accepted are read between batches.
  for (int i = 0; i < 64; i++) {
    sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    int fd = accept4(listen_fd, reinterpret_cast<sockaddr *>(&peer), &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      admit(fd, reinterpret_cast<sockaddr *>(&peer));
      continue;
    }
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      watch(listen_fd, kListenId, 0, EPOLL_CTL_MOD);
      listen_resting = true;
    }
    return;  // EAGAIN, or an error of that one connection (ECONNABORTED...)
  }
}

void FrontDoor::Loop::admit(int fd, const sockaddr *peer) {
  IpKey ip = cfg.limits ? ip_key(peer) : IpKey();
  if (cfg.limits) {
    // Per address first: one address at its limit is told so (429), and
    // does not learn how full the pool is.
    IpRefusal r = cfg.limits->admit(ip, steady_ms());
    if (r) {
      if (cfg.on_refuse) cfg.on_refuse(r.status);
      if (cfg.tls) {  // nothing can be said before a handshake, and one costs what the limit spares
        close(fd);
        return;
      }
      std::string a = answer(r.status, r.message, r.retry_after);
      answered(fd, a, 0, Clock::now());
      return answer_and_close(fd, a);
    }
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // as lws sets on what it accepts
  uint64_t id = next_id++;
  reading++;
  auto at = pending.emplace(
      id, Pending{fd, HeadChecker(cfg.max_header_size, kMaxHeadHeaders, &cfg.fragile), std::move(ip)});
  if (cfg.tls) at.first->second.stage = kHello;
  heads_due.push_back({Clock::now() + std::chrono::seconds(head_timeout_s()), id});
  // A client usually sends its head right behind the TCP handshake: when it
  // is all there, it is judged now, and the socket never joins the epoll set.
  // A TLS connection always waits (its handshake takes round trips), so its
  // place is taken first: a refusal must come before the server's flight,
  // or a TLS 1.3 client would believe itself connected.
  if (!cfg.tls) readable(id);
  auto it = pending.find(id);
  if (it == pending.end()) return;
  if (!it->second.lingering) {
    // Its head comes in pieces: it takes a place in its address's share of
    // the pool of heads being read, and in the pool.
    HeadVerdict v;
    IpRefusal r = cfg.limits ? cfg.limits->head_begin(it->second.ip) : IpRefusal();
    if (r) {
      v.status = r.status;
      v.message = r.message;
      v.retry_after = r.retry_after;
    } else {
      it->second.ip_counted = cfg.limits != nullptr;
      if (reading > cfg.max_pending && !evict_oldest()) {
        v.status = 503;
        v.message = "too many request heads being read at once (" + cfg.max_pending_option + " " +
                    std::to_string(cfg.max_pending) + ")";
        v.retry_after = 1;
      }
    }
    if (v.status) {
      refuse(id, it->second, v);
      it = pending.find(id);
      if (it == pending.end()) return;
    }
  }
  if (cfg.tls) {
    readable(id);
    it = pending.find(id);
    if (it == pending.end()) return;
  }
  // Edge-triggered: peeking leaves the bytes in the socket, so it stays
  // readable; only new bytes (or the peer's end) are news. Bytes that came
  // since the peek above make the socket ready when it is added.
  // A TLS handshake may wait to write as well (edge-triggered, so a socket
  // that stays writable is not reported again).
  it->second.watched = true;
  watch(fd, id, EPOLLIN | EPOLLRDHUP | EPOLLET | (cfg.tls ? static_cast<uint32_t>(EPOLLOUT) : 0u));
}

void FrontDoor::Loop::readable(uint64_t id, bool peer_done) {
  auto it = pending.find(id);
  if (it == pending.end()) return;
  Pending &p = it->second;
  if (p.lingering) {
    // Answered: drop what comes until the peer closes (edge-triggered, so
    // to the end of what is there).
    for (;;) {
      char buf[16 * 1024];
      ssize_t n = recv(p.fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n <= 0) return forget(id);
    }
  }
  if (p.stage == kHello) return hello(id, p, peer_done);
  if (p.stage != kPlain) return tls_step(id, p);
  ssize_t n;
  do {
    n = recv(p.fd, peek_buf.data(), peek_buf.size(), MSG_PEEK);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
  if (n <= 0) return forget(id);  // the peer went (or reset) before its head was whole
  if (static_cast<size_t>(n) > p.seen) {
    p.head.feed(std::string_view(peek_buf.data() + p.seen, static_cast<size_t>(n) - p.seen));
    p.seen = static_cast<size_t>(n);
  }
  if (p.head.verdict().kind != HeadVerdict::kNeedMore) return judge(id, p);
  if (peer_done) forget(id);  // it sent all it will, and that is no whole head
}

// TLS: the ClientHello, peeked; when it is one, the door does the handshake.
void FrontDoor::Loop::hello(uint64_t id, Pending &p, bool peer_done) {
  ssize_t n;
  do {
    n = recv(p.fd, peek_buf.data(), std::min(peek_buf.size(), kMaxClientHelloBytes), MSG_PEEK);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
  if (n <= 0) return forget(id);
  p.seen = static_cast<size_t>(n);
  ClientHelloResult r = parse_client_hello(reinterpret_cast<const uint8_t *>(peek_buf.data()), p.seen);
  switch (r.verdict) {
    case ClientHelloResult::Verdict::NeedMore:
      if (peer_done) forget(id);
      return;
    case ClientHelloResult::Verdict::NotTls: {
      if (!looks_like_http(peek_buf.data(), p.seen)) return forget(id);
      HeadVerdict v;
      v.status = 400;
      v.message = "this port speaks TLS: a plaintext HTTP request was sent to it (use https:// or wss://)";
      if (cfg.on_refuse) cfg.on_refuse(v.status);
      return refuse_with(id, p, head_refusal(v));  // in plaintext, as it was asked
    }
    case ClientHelloResult::Verdict::Complete:
      break;
  }
  p.ssl = SSL_new(cfg.tls);
  if (!p.ssl || SSL_set_fd(p.ssl, p.fd) != 1) return forget(id);
  p.stage = kHandshake;
  p.seen = 0;  // from here: decrypted bytes of the head
  tls_step(id, p);
}

// TLS: a step of the handshake, then the head as it comes decrypted.
void FrontDoor::Loop::tls_step(uint64_t id, Pending &p) {
  if (p.stage == kHandshake) {
    TlsWait w = tls_accept(p.ssl);
    if (w == TlsWait::Read || w == TlsWait::Write) return;
    if (w != TlsWait::None) return forget(id);  // a failed handshake: nothing can be said
    p.stage = kTlsHead;
    if (tls_is_h2(p.ssl)) {  // HTTP/2: no head to read, the taker's from here
      int fd = p.fd;
      SSL *ssl = p.ssl;
      p.ssl = nullptr;
      handed_on(id, p);
      takers->h2(fd, ssl);
      return;
    }
  }
  // At most one byte more than a head may take: that byte says "too large".
  const size_t cap = cfg.max_header_size + 1;
  while (p.tls_in.size() < cap) {
    char buf[16384];
    TlsWait w;
    size_t n = tls_read(p.ssl, buf, std::min(sizeof buf, cap - p.tls_in.size()), w);
    if (!n) {
      if (w == TlsWait::Read || w == TlsWait::Write) return;
      return forget(id);  // the peer went before its head was whole
    }
    p.head.feed(std::string_view(buf, n));
    p.tls_in.append(buf, n);
    p.seen += n;
    if (p.head.verdict().kind != HeadVerdict::kNeedMore) return judge(id, p);
  }
}

void FrontDoor::Loop::judge(uint64_t id, Pending &p) {
  const HeadVerdict &v = p.head.verdict();
  if (v.kind == HeadVerdict::kRefuse) return refuse(id, p, v);
  if (p.ssl) {
    // Empty lines before the request line are dropped here as below.
    p.tls_in.erase(0, v.start);
    std::string refusal = takers->tls(p.fd, p.ssl, p.tls_in, v.head_len - v.start);
    if (!refusal.empty()) return refuse_with(id, p, refusal);
    p.ssl = nullptr;  // the taker's now
    return handed_on(id, p);
  }
  // Empty lines before the request line, which lws 4.1.6 closes on: read
  // (they were peeked, so they are there) and dropped.
  if (v.start) {
    char buf[256];
    for (size_t left = v.start; left;) {
      ssize_t n = recv(p.fd, buf, std::min(left, sizeof buf), 0);
      if (n <= 0) return forget(id);
      left -= static_cast<size_t>(n);
    }
  }
  std::string refusal =
      takers->plain(p.fd, std::string_view(peek_buf.data() + v.start, v.head_len - v.start));
  if (!refusal.empty()) return refuse_with(id, p, refusal);
  handed_on(id, p);
}

// p's socket is a taker's now: out of the door's set and its count of heads
// (the taker counts it from here, PerIpLimits::conn_open).
void FrontDoor::Loop::handed_on(uint64_t id, Pending &p) {
  if (p.watched) epoll_ctl(epoll_fd, EPOLL_CTL_DEL, p.fd, nullptr);
  head_done(p);
  pending.erase(id);
}

// p's head is no longer being read (whole, refused or dropped). Called once:
// a lingering entry's head was done when it began to linger.
void FrontDoor::Loop::head_done(Pending &p) {
  if (p.lingering) return;
  reading--;
  if (p.ip_counted) cfg.limits->head_done(p.ip);
  p.ip_counted = false;
}

// The pool is full: rather than refuse the newcomer, the head that has been
// arriving longest gives way (408). A client sends its head in one piece
// behind the TCP handshake, so the oldest unfinished head is the likeliest
// to be a slow-loris one, and a newcomer always gets its chance: slow
// clients from many addresses cannot keep everyone out for head_timeout.
bool FrontDoor::Loop::evict_oldest() {
  while (!heads_due.empty()) {
    uint64_t id = heads_due.front().id;
    heads_due.pop_front();
    auto it = pending.find(id);
    if (it == pending.end() || it->second.lingering) continue;
    HeadVerdict v;
    v.status = 408;
    v.message = "request head not complete while the pool of heads being read was full (" +
                cfg.max_pending_option + " " + std::to_string(cfg.max_pending) + "): the oldest gives way";
    refuse(id, it->second, v);
    return true;
  }
  return false;
}

void FrontDoor::Loop::refuse(uint64_t id, Pending &p, const HeadVerdict &v) {
  if (cfg.on_refuse) cfg.on_refuse(v.status);
  // TLS before its head: no answer can be read by the peer.
  if (p.stage == kHello || p.stage == kHandshake) return forget(id);
  refuse_with(id, p, head_refusal(v));
}

void FrontDoor::Loop::refuse_with(uint64_t id, Pending &p, const std::string &answer) {
  answered(p.fd, answer, p.seen, p.since, p.ssl ? &p.tls_in : nullptr);
  head_done(p);  // lingering holds a descriptor, not a head
  p.lingering = true;
  // Over TLS the answer goes through the session (a few hundred bytes into
  // an empty buffer: one record, one write) with close_notify behind it;
  // what follows is the same, on the socket under TLS, with nothing more to send.
  std::string plain = answer;
  if (p.ssl) {
    TlsWait w;
    tls_write(p.ssl, answer.data(), answer.size(), w);
    tls_end(p.ssl);
    p.ssl = nullptr;
    plain.clear();
  }
  if (pending.size() - reading > cfg.max_pending) {
    // Lingering answers are bounded too (a flood of refusals): beyond the
    // pool's size they close at once.
    answer_and_close(p.fd, plain);
    pending.erase(id);
    return;
  }
  answer_and_shut(p.fd, plain);
  linger_due.push_back({Clock::now() + kLinger, id});
  readable(id);  // drops what is there already; EOF closes at once
}

void FrontDoor::Loop::forget(uint64_t id) {
  auto it = pending.find(id);
  if (it == pending.end()) return;
  head_done(it->second);
  if (it->second.ssl) SSL_free(it->second.ssl);
  close(it->second.fd);  // also takes it out of the epoll set
  pending.erase(it);
}

void FrontDoor::Loop::expire(Clock::time_point now) {
  while (!heads_due.empty() && heads_due.front().at <= now) {
    uint64_t id = heads_due.front().id;
    heads_due.pop_front();
    auto it = pending.find(id);
    if (it == pending.end() || it->second.lingering) continue;
    if (it->second.seen == 0) {
      forget(id);  // nothing sent (a browser's preconnect): nothing to answer
      continue;
    }
    HeadVerdict late;
    late.status = 408;
    late.message = std::string("request head not complete within ") +
                   (cfg.head_timeout_s < cfg.handshake_timeout_s ? "head_timeout" : "handshake_timeout") +
                   " (" + std::to_string(head_timeout_s()) + " s)";
    refuse(id, it->second, late);
  }
  while (!linger_due.empty() && linger_due.front().at <= now) {
    forget(linger_due.front().id);
    linger_due.pop_front();
  }
  if (listen_resting) {
    listen_resting = false;
    watch(listen_fd, kListenId, EPOLLIN, EPOLL_CTL_MOD);
  }
}

}  // namespace sw
