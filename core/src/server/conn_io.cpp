// What the write and close paths ask of a connection's socket, whoever polls
// it: lws (c->wsi: SSE, an HTTP/2 stream among them, and WebSocket over
// TLS) or ssews' own socket set
// (c->fd: WebSocket over plain TCP or the door's TLS, ws_tcp_server.cpp).
#include <libwebsockets.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "engine.h"
#include "h2_preface.h"
#include "server/server_role.h"

namespace sw {

bool ServerRole::out_pending(const Conn *c) const {
  if (c->wsi && !c->h2) return lws_partial_buffered(c->wsi) != 0;
  return c->more_ && !c->more_->out_rest.empty();
}

// An HTTP/2 stream writes, in its writeable callback, at most one frame of
// what its window allows; the rest waits in out_rest for the next callback
// (a WINDOW_UPDATE brings one). A stream whose reader stopped thus holds
// only its own bytes and never the connection, which lws writes for all.
int ServerRole::h2_write(Conn *c) {
  std::string &rest = c->more_->out_rest;
  // Nothing while the connection still holds bytes (it takes them for all
  // streams in turn), or while the peer's window for this stream is shut.
  if (lws_partial_buffered(lws_get_network_wsi(c->wsi))) return 0;
  lws_fileofs_t allowed = lws_get_peer_write_allowance(c->wsi);
  if (allowed <= 0) return 0;
  size_t n = std::min({rest.size(), kH2MaxFrame, static_cast<size_t>(allowed)});
  // A copy with room in front: lws writes the frame header before the data,
  // and what is queued is shared with other connections.
  h2_buf_.resize(LWS_PRE + n);
  memcpy(h2_buf_.data() + LWS_PRE, rest.data(), n);
  if (lws_write(c->wsi, h2_buf_.data() + LWS_PRE, n, LWS_WRITE_HTTP) < 0) return -1;
  rest.erase(0, n);
  if (rest.empty()) {
    std::string().swap(rest);
    c->trim_more();
  }
  return 0;
}

// Writes what the socket takes now and keeps the rest, which goes before
// anything else (callers write only while nothing is pending, so the rest is
// at most one write). Returns <0 when the socket failed.
int ServerRole::conn_write(Conn *c, uint8_t *p, size_t n, int lws_kind) {
  c->bytes_out += n;
  if (c->h2) {
    c->more().out_rest.append(reinterpret_cast<const char *>(p), n);
    return h2_write(c);
  }
  if (c->wsi) return lws_write(c->wsi, p, n, static_cast<enum lws_write_protocol>(lws_kind)) < 0 ? -1 : 0;
  if (c->fd < 0) return -1;
  if (out_pending(c)) {
    c->more_->out_rest.append(reinterpret_cast<const char *>(p), n);
    return 0;
  }
  ssize_t k = own_send(c, p, n);
  if (k < 0) return -1;
  // What TLS did not take is offered again first, the same bytes (tls_io.h).
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
  ssize_t k = own_send(c, rest.data(), rest.size());
  if (k < 0) return -1;
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
  // An HTTP/2 stream with bytes waiting and its window shut: lws calls every
  // stream of the connection back when a WINDOW_UPDATE comes; asking now
  // would only spin the loop.
  if (c->h2 && out_pending(c) && lws_get_peer_write_allowance(c->wsi) <= 0) return;
  if (c->wsi) {
    if (c->proto == Proto::Sse && !c->h2) lws_rx_flow_control(c->wsi, 1);
    lws_callback_on_writable(c->wsi);
    return;
  }
  if (c->fd < 0 || c->want_out) return;
  c->want_out = true;
  sockets_.watch(c->fd, c->id, !c->rx_paused, true);
}

void ServerRole::rx_enable(Conn *c, bool on) {
  if (c->h2) return;  // the connection's reads serve every stream on it
  if (c->wsi) {
    lws_rx_flow_control(c->wsi, on ? 1 : 0);
    return;
  }
  if (c->fd >= 0) sockets_.watch(c->fd, c->id, on, c->want_out || out_pending(c));
}

// Ends an HTTP/2 stream with END_STREAM (an empty DATA frame, which the
// peer's window does not limit): lws 4.1 frees a stream without a word to the
// peer, whose stream would then stay open as long as the connection.
void ServerRole::h2_end(lws *wsi) {
  uint8_t end[LWS_PRE + 1];
  lws_write(wsi, end + LWS_PRE, 0, LWS_WRITE_HTTP_FINAL);
}

// Ends the connection after `seconds` (0: at once) unless it ends before.
void ServerRole::close_within(Conn *c, int seconds) {
  // (lws keeps no timeout on an immortal HTTP/2 stream: the tick ends it.)
  if (c->wsi && !(c->h2 && seconds)) {
    if (c->h2) h2_end(c->wsi);
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, seconds ? seconds : LWS_TO_KILL_ASYNC);
    return;
  }
  if (!seconds) {
    end_socket(c, false);
    return;
  }
  close_due_.push_back({lws_now_usecs() + static_cast<int64_t>(seconds) * LWS_US_PER_SEC, c->id});
}

// Own sockets and HTTP/2 streams whose close is overdue (a peer that never
// reads or never answers our close), from the once-a-second tick.
void ServerRole::expire_own(int64_t now_us) {
  sockets_.expire();
  while (!close_due_.empty() && close_due_.front().at <= now_us) {
    ConnId id = close_due_.front().id;
    close_due_.pop_front();
    if (Conn *c = find(id)) c->h2 ? close_within(c, 0) : end_socket(c, false);
  }
}

}  // namespace sw
