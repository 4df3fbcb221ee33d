// The server's front door (issue 15 #16): for a plain HTTP server, ssews
// listens itself and reads each new connection's request head before lws
// sees it. lws 4.1.6 closes a first request it cannot parse without a word
// (a head over max_header_size, a NUL, a bare CR, %00 in the target) or
// waits for the handshake timeout (a header name that starts a longer one it
// knows). The door answers those at once (431 or 400, a one-line text/plain
// body naming the problem, Connection: close) and hands every socket with a
// good head to lws (lws_adopt_socket_vhost).
//
// The door reads with MSG_PEEK: a good head stays in the socket, and lws
// reads it, and whatever follows (a body, the first WebSocket frames), as if
// it had accepted the socket itself. lws 4.1.6's way of taking bytes already
// read (lws_adopt_socket_vhost_readbuf) cannot be used: with a request body
// in the bytes, lws_http_action parses the same buffer again as the body and
// then spins forever in LRS_DEFERRING_ACTION (seen with a POST to the publish
// endpoint). Peeking costs a re-read of the head so far at each new segment,
// at most max_header_size bytes.
//
// Where it runs: on the service thread, inside lws' own poll. The door's
// sockets (the listen socket, heads being read) sit in an epoll set of its
// own, and that epoll descriptor (a dup: lws closes what it frees) is given
// to lws as a raw file descriptor; when it is readable, lws calls the role,
// which runs one pass of the door (service()), and a good socket is adopted
// there and then. No thread, no queue, no wake-up between the door and lws:
// a first version with a thread of its own handing sockets over through the
// command queue cost handshakes per second on a busy two-core machine.
// Adopting the half-read sockets themselves as raw descriptors would not do:
// lws 4.1 closes the descriptor of every wsi it frees
// (__lws_close_free_wsi_final), so none could be handed on without a dup().
//
// Bounds: a connection has head_timeout seconds (at most handshake_timeout)
// to send its head (408 after, if it sent anything; checked at each
// expire(), once a second): a slow-loris client, a header byte every few
// seconds, holds its place that long and no longer.
// A connection that has sent nothing is not handed over by the kernel until
// its first bytes come, or handshake_timeout has passed (TCP_DEFER_ACCEPT):
// an idle connection costs no descriptor and no entry here meanwhile.
// Heads being read are at most max_pending_heads (and max_connections):
// they are not lws connections yet, so the bound is their own. When it is
// reached, the head that has been arriving longest is answered 408 and the
// newcomer takes its place (503 only if none is left to give way). Per
// address (per_ip_limits.h; 429 with Retry-After beyond): a share of them
// (max_pending_heads_per_ip), new connections at handshake_rate_per_ip,
// and max_connections_per_ip heads and connections together, so a few slow
// or greedy addresses cannot fill the pool for all. A head that comes whole
// in its first segment, as clients send it, takes no place in the pool or
// the share. At most max_header_size + 1 bytes are peeked. A refused
// connection is read (and what it sends dropped) for up to a second after
// its answer, so the close does not reset the connection before the peer
// has read the answer.
//
// TLS (Config::tls set; docs/design-own-tls.md): the door peeks each new
// connection's ClientHello (tls_client_hello.h) and, when it is one, does
// the TLS handshake itself. A connection whose ALPN came out "h2" goes to the
// h2 taker at once (its first bytes are HTTP/2's preface, no head). For
// every other the door reads the request head decrypted, answers a bad one
// over TLS as above, and hands a good one, with its TLS session, to the TLS
// taker. The handshake counts as part of the head (head_timeout, the pool,
// the address's share). What cannot be answered over TLS (a refusal before
// the handshake, a failed or late handshake) is closed without a word; a
// plaintext HTTP request on the TLS port gets a plaintext 400 saying so.
//
// A host given by name is resolved to an address before the door opens
// (server_role.cpp): lws listens on nothing.
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "status.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace sw {

class PerIpLimits;

class FrontDoor {
 public:
  struct Config {
    std::string host;  // an IPv4 or IPv6 literal
    int port = 0;      // 0: the kernel picks one
    size_t max_header_size = 8192;
    int handshake_timeout_s = 10;
    int head_timeout_s = 5;      // for a head to arrive whole (at most handshake_timeout_s)
    size_t max_pending = 10000;  // heads being read at once
    std::string max_pending_option = "max_pending_heads";  // named in the 503
    std::vector<std::string> fragile;                      // see HeadChecker
    // Per-address shares and rates (null: none). Not owned; it outlives
    // the door. The door counts heads in it; lws' side counts connections.
    PerIpLimits *limits = nullptr;
    std::function<void(unsigned status)> on_refuse;  // counts the door's own refusals (metrics)
    // Every answer the door writes itself (its refusals, and those the
    // handoff returns), before it is written: the request as far as it came
    // (request_events). Null: not asked, nothing extra is done.
    struct Answered {
      int fd;                 // still open: the peer's address can be read
      unsigned status;        // of the answer
      std::string_view head;  // the request's first bytes (up to 2 KiB; may be none or partial)
      size_t bytes_in, bytes_out;
      double duration_ms;  // since the connection was accepted
    };
    std::function<void(const Answered &)> on_answered;
    // TLS: the server's context (not owned; it outlives the door; its ALPN
    // choice decides what is HTTP/2).
    SSL_CTX *tls = nullptr;
  };
  // Takes a connection whose head is good, from inside service(): head is
  // the request head, still unread in the socket (empty lines before it
  // already dropped). Returns "" when it took the descriptor (and then reads
  // the head itself, or leaves it to lws); otherwise a complete HTTP answer
  // that the door sends before closing the connection as it does for a bad
  // head (the descriptor stays the door's).
  using Handoff = std::function<std::string(int fd, std::string_view head)>;
  // TLS: takes a connection whose head is good, its handshake done by the
  // door: bytes holds the head (its first head_len bytes) and whatever came
  // decrypted behind it. Returns "" when it took fd and ssl (and the bytes it
  // needs); otherwise an answer the door sends over TLS before closing.
  using TlsHandoff = std::function<std::string(int fd, SSL *ssl, std::string &bytes, size_t head_len)>;
  // TLS: takes a connection whose handshake chose HTTP/2, with its session
  // (nothing read past the handshake).
  using H2Handoff = std::function<void(int fd, SSL *ssl)>;
  struct Takers {
    Handoff plain;
    TlsHandoff tls;
    H2Handoff h2;
  };

  FrontDoor();
  ~FrontDoor();  // stop()
  FrontDoor(const FrontDoor &) = delete;
  FrontDoor &operator=(const FrontDoor &) = delete;

  // Binds and listens (the error names the address and why).
  Status open(const Config &cfg);
  int port() const { return port_; }
  // Readable when service() has work: the descriptor to poll (-1 after stop()).
  int poll_fd() const;
  // One pass without waiting: accepts, reads heads, answers the bad ones,
  // hands the good ones to their taker.
  void service(const Takers &takers);
  // Answers heads past handshake_timeout (408) and ends lingering answers.
  void expire();
  // Stops listening and closes the heads being read. Idempotent.
  void stop();

  // True when host is a literal address the door can bind (else lws listens).
  static bool can_bind(const std::string &host);

 private:
  struct Loop;
  std::unique_ptr<Loop> loop_;
  int port_ = 0;
};

}  // namespace sw
