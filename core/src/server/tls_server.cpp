// What a connection becomes once the front door has done its TLS handshake
// and read a good head (docs/design-own-tls.md): a WebSocket upgrade is
// framed by ssews over that TLS session exactly as over plain TCP
// (ws_tcp_server.cpp; every ping its pong, strict framing, any subprotocol);
// any other request (SSE, a file, a publish, metrics) is relayed to lws
// through a socketpair (tls_relay.h), lws believing it plain HTTP/1.1.
#include <libwebsockets.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/server_role.h"
#include "server/tls_io.h"

namespace sw {

std::string ServerRole::tls_take(int fd, SSL *ssl, std::string &bytes, size_t head_len) {
  HttpRequest req;
  std::string err;
  std::string_view head(bytes.data(), head_len);
  if (parse_http_request(head, req, err) && req.header_has_token("upgrade", "websocket"))
    return ws_tcp_take(fd, head_len, std::move(req), ssl, std::string_view(bytes).substr(head_len));
  relay_to_lws(fd, ssl, bytes, false);
  return "";
}

void ServerRole::relay_to_lws(int fd, SSL *ssl, std::string &bytes, bool h2) {
  sockaddr_storage peer{};
  bool have_peer = peer_address(fd, peer);
  int lws_end = relays_.add(fd, ssl, std::move(bytes), h2);
  if (lws_end < 0) return;  // the relay ended the connection (no descriptors left)
  // lws reads from the pair as from a plain socket it accepted (HTTP/1.1,
  // or HTTP/2 on its own vhost); on failure it closes that end, and the
  // relay ends the connection.
  lws_sock_file_fd_type d;
  d.sockfd = lws_end;
  adopting_peer_ = have_peer ? &peer : nullptr;
  lws_adopt_descriptor_vhost(h2 ? vhost_h2_ : vhost_,
                             static_cast<lws_adoption_type>(LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP), d, nullptr,
                             nullptr);
  adopting_peer_ = nullptr;
}

// Writes to an own socket, through TLS when it has it.
ssize_t ServerRole::own_send(Conn *c, const void *p, size_t n) {
  if (c->ssl) {
    TlsWait w;
    size_t k = tls_write(c->ssl, p, n, w);
    if (k) return static_cast<ssize_t>(k);
    return w == TlsWait::Read || w == TlsWait::Write || w == TlsWait::None ? 0 : -1;
  }
  ssize_t k;
  do {
    k = ::send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (k < 0 && errno == EINTR);
  if (k < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
  return k;
}

}  // namespace sw
