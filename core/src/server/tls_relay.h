// HTTP over ssews' own TLS, handed to libwebsockets (docs/design-own-tls.md,
// step 6). The front door did the handshake and read the head; a request that
// is not a WebSocket upgrade (SSE, a static file, the publish endpoint,
// metrics) is lws' to serve, and lws 4.1 cannot adopt a TLS session begun
// elsewhere. So the connection is relayed: lws adopts one end of a
// socketpair as a plain HTTP socket, and the relay moves bytes between the
// other end and the TLS session, decrypting what the client sends and
// encrypting what lws writes.
//
// Bounded: each direction holds at most one read (16 KiB) in the relay, and
// the socketpair's buffers are made small, so when the client does not read
// lws' writes stop being taken and its partial-write accounting (the
// slow-consumer policy, max_queue_bytes) sees it, as on a direct socket.
// Either side's end becomes the other's: the client's close (or close_notify)
// a shutdown of the pair towards lws, lws closing its end a close_notify and
// the end of the TCP connection once what it wrote has gone.
//
// HTTP/2 connections are relayed the same way, to a vhost where lws speaks
// HTTP/2 from the first byte (prior knowledge); the relay turns off RFC
// 8441's extended CONNECT in lws' first SETTINGS frame (h2_preface.h).
//
// Its sockets sit in an epoll set of its own that lws polls as one
// descriptor, like the own WebSocket connections' (socket_set.h).
// Level-triggered (but edge-triggered while waiting for lws to read an
// HTTP/2 frame: tls_relay.cpp). Service thread only.
#pragma once
#include <sys/epoll.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "status.h"

typedef struct ssl_st SSL;

namespace sw {

class TlsRelays {
 public:
  TlsRelays();
  ~TlsRelays();  // ends every relay (closes its sockets, frees its session)
  TlsRelays(const TlsRelays &) = delete;
  TlsRelays &operator=(const TlsRelays &) = delete;

  Status open();
  int poll_fd() const { return ep_; }

  // Relays fd (its TLS session ssl done; first: what was decrypted of the
  // request so far, head first; h2: the session chose HTTP/2). Takes fd and
  // ssl whatever happens. Returns the socketpair end for lws to adopt (its
  // owner's from then on), or -1 when the relay could not be made (fd and
  // ssl already ended).
  int add(int fd, SSL *ssl, std::string first, bool h2 = false);

  // One pass over the relays whose sockets are ready (no wait).
  void service();

  size_t size() const { return relays_.size(); }

 private:
  struct Relay;
  // client_in, pair_in: that side may have bytes to read (its readiness was
  // reported); a side not reported is not read, so a pass costs no reads
  // that could only say EAGAIN.
  void pump(uint64_t id, bool client_in, bool pair_in);
  void serve(const ::epoll_event *evs, int n);
  void end(uint64_t id);
  void rewatch(Relay &r);
  int ep_ = -1;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, std::unique_ptr<Relay>> relays_;
};

}  // namespace sw
