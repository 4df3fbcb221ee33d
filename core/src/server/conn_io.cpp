// What the write and close paths ask of a connection's socket, whoever polls
// it: lws (c->wsi: SSE, and WebSocket over TLS) or ssews' own socket set
// (c->fd: WebSocket over plain TCP, ws_tcp_server.cpp).
#include <libwebsockets.h>
#include <sys/socket.h>

#include <cerrno>

#include "engine.h"
#include "server/server_role.h"

namespace sw {

bool ServerRole::out_pending(const Conn *c) const {
  if (c->wsi) return lws_partial_buffered(c->wsi) != 0;
  return c->more_ && !c->more_->out_rest.empty();
}

// Writes what the socket takes now and keeps the rest, which goes before
// anything else (callers write only while nothing is pending, so the rest is
// at most one write). Returns <0 when the socket failed.
int ServerRole::conn_write(Conn *c, uint8_t *p, size_t n, int lws_kind) {
  c->bytes_out += n;
  if (c->wsi) return lws_write(c->wsi, p, n, static_cast<enum lws_write_protocol>(lws_kind)) < 0 ? -1 : 0;
  if (c->fd < 0) return -1;
  if (out_pending(c)) {
    c->more_->out_rest.append(reinterpret_cast<const char *>(p), n);
    return 0;
  }
  ssize_t k;
  do {
    k = ::send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (k < 0 && errno == EINTR);
  if (k < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
    k = 0;
  }
  if (static_cast<size_t>(k) < n) {
    c->more().out_rest.assign(reinterpret_cast<const char *>(p) + k, n - static_cast<size_t>(k));
    sockets_.watch(c->fd, c->id, !c->rx_paused, true);
  }
  return 0;
}

// Writes what an earlier write left (own sockets). Returns <0 when the socket failed.
int ServerRole::flush_rest(Conn *c) {
  if (!out_pending(c)) return 0;
  std::string &rest = c->more_->out_rest;
  ssize_t k;
  do {
    k = ::send(c->fd, rest.data(), rest.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (k < 0 && errno == EINTR);
  if (k < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
  rest.erase(0, static_cast<size_t>(k));
  if (rest.empty()) {
    std::string().swap(rest);
    c->trim_more();
  }
  check_low(c);
  return 0;
}

// Asks for a writeable turn: lws' callback, or the next pass where the own
// socket can take bytes.
void ServerRole::want_write(Conn *c) {
  if (c->wsi) {
    if (c->proto == Proto::Sse) lws_rx_flow_control(c->wsi, 1);
    lws_callback_on_writable(c->wsi);
    return;
  }
  if (c->fd < 0 || c->want_out) return;
  c->want_out = true;
  sockets_.watch(c->fd, c->id, !c->rx_paused, true);
}

void ServerRole::rx_enable(Conn *c, bool on) {
  if (c->wsi) {
    lws_rx_flow_control(c->wsi, on ? 1 : 0);
    return;
  }
  if (c->fd >= 0) sockets_.watch(c->fd, c->id, on, c->want_out || out_pending(c));
}

// Ends the connection after `seconds` (0: at once) unless it ends before.
void ServerRole::close_within(Conn *c, int seconds) {
  if (c->wsi) {
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, seconds ? seconds : LWS_TO_KILL_ASYNC);
    return;
  }
  if (!seconds) {
    end_socket(c, false);
    return;
  }
  close_due_.push_back({lws_now_usecs() + static_cast<int64_t>(seconds) * LWS_US_PER_SEC, c->id});
}

// Own sockets whose close is overdue (a peer that never reads or never
// answers our close), from the once-a-second tick.
void ServerRole::expire_own(int64_t now_us) {
  sockets_.expire();
  while (!close_due_.empty() && close_due_.front().at <= now_us) {
    ConnId id = close_due_.front().id;
    close_due_.pop_front();
    if (Conn *c = find(id)) end_socket(c, false);
  }
}

}  // namespace sw
