// WebSocket over plain TCP, framed by ssews. The front door hands over every
// request that asks for a WebSocket upgrade; ssews answers the handshake
// itself (ws_handshake.h), adopts the socket into lws as a raw socket (lws
// still polls it and buffers what a write leaves), reads frames with its own
// reader (ws_frame_reader.h) and writes frames it builds. This is what lets
// every ping get its own pong, in order (lws 4.1.6 keeps one), unmasked and
// oversized control frames be refused, a failed connection be closed at once
// after its close frame (lws waits seconds for an acknowledgement), and
// replies be written in the pass that read the request (through lws, a reply
// to a peer that has just sent waited for the writeable callback, behind the
// pong lws might owe).
//
// TLS connections and servers on a host given by name keep lws' WebSocket
// (ws_server.cpp): their handshake arrives through lws.
#include <arpa/inet.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

#include "ascii.h"
#include "engine.h"
#include "server/server_role.h"
#include "v1_confirm.h"
#include "ws_frame.h"
#include "ws_handshake.h"

namespace sw {

namespace {

// How long a connection that has sent its last close frame is still read (and
// what comes dropped) so that closing it does not reset the connection before
// the peer has read the close.
constexpr int kLingerS = 1;
// How long the peer has to answer a close ssews started.
constexpr int kCloseAckS = 5;

std::string peer_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  char buf[INET6_ADDRSTRLEN] = "";
  if (getpeername(fd, reinterpret_cast<sockaddr *>(&ss), &len) != 0) return "";
  if (ss.ss_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in *>(&ss)->sin_addr, buf, sizeof buf);
  else if (ss.ss_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6 *>(&ss)->sin6_addr, buf, sizeof buf);
  return buf;
}

// A close frame: the code (none when 0 or 1005) and a reason of at most 123 bytes.
std::string close_frame(int code, const std::string &reason) {
  std::string f;
  f += static_cast<char>(0x88);
  if (code == 0 || code == 1005) {
    f += '\0';
    return f;
  }
  std::string r = reason.substr(0, 123);
  f += static_cast<char>(2 + r.size());
  f += static_cast<char>(code >> 8);
  f += static_cast<char>(code & 0xff);
  f += r;
  return f;
}

// Every header of a request ssews parsed, for lookups from the open callback.
struct ParsedLiveRequest final : LiveRequest {
  std::vector<std::pair<std::string, std::string>> headers;
  explicit ParsedLiveRequest(std::vector<std::pair<std::string, std::string>> h) : headers(std::move(h)) {}
  bool header(const char *name, std::string &out) const override {
    std::string n = ascii_lower(name);
    for (const auto &h : headers)
      if (h.first == n) return out = h.second, true;
    return false;
  }
};

}  // namespace

// What the frame reader finds on one connection.
struct ServerRole::WsTcpSink final : WsFrameReader::Sink {
  ServerRole &s;
  Conn *c;
  bool peer_closed = false;
  WsTcpSink(ServerRole &role, Conn *conn) : s(role), c(conn) {}

  bool on_data(bool binary, bool first, bool last, std::string_view piece) override {
    if (c->closing || c->fail_code) return true;  // closing: what still comes is dropped
    if (first) c->rx_binary = binary;
    std::string *partial = c->more_ && !c->more_->rx.empty() ? &c->more_->rx : nullptr;
    if (!last) {  // more pieces follow: collect them, within the endpoint-wide bound
      if (!s.hold(piece.size())) {
        s.fail_conn(c, 1013, SSEWS_EFULL,
                    "unfinished incoming messages exceed max_partial_bytes (" +
                        std::to_string(s.opts().max_partial_bytes) +
                        " bytes, all connections); try again later");
        return false;
      }
      c->more().rx.append(piece.data(), piece.size());
      return true;
    }
    EventPtr ev = make_event(kEvMessage, c->id, Proto::Ws);
    ev->binary = c->rx_binary;
    if (partial) {
      s.release(partial->size());
      partial->append(piece.data(), piece.size());
      ev->data = std::move(*partial);
      *partial = std::string();
    } else {  // the whole message in one piece, the common case: no staging copy
      ev->data.assign(piece.data(), piece.size());
    }
    bool pull = s.e_.pull_mode();
    s.e_.emit(std::move(ev));
    // Pull mode and the application is behind: stop reading from this peer
    // (TCP pushes back) until it catches up, instead of queueing without bound.
    if (pull && s.e_.events_waiting() >= s.opts().max_event_queue && !c->rx_paused) {
      c->rx_paused = true;
      s.paused_.push_back(c->id);
      s.e_.events_paused();
      lws_rx_flow_control(c->wsi, 0);
    }
    return true;
  }

  bool on_ping(std::string_view payload) override {
    if (c->closing || c->fail_code) return true;
    // Each ping gets its own pong, in the order the pings came (RFC 6455 5.5.2).
    std::string &out = c->more().ctl_out;
    out += static_cast<char>(0x8A);
    out += static_cast<char>(payload.size());
    out.append(payload.data(), payload.size());
    s.mark_dirty(c);
    return true;
  }

  bool on_pong(std::string_view) override { return true; }

  void on_close(int code, std::string_view reason) override {
    peer_closed = true;
    if (c->close_sent) return;  // the answer to ours: the close is reported as ours
    c->peer_close_code = static_cast<uint16_t>(code);
    c->more().peer_close_reason.assign(reason.data(), reason.size());
  }

  void on_fail(int code, const std::string &why) override {
    s.fail_conn(c, code, code == 1009 ? SSEWS_ETOOBIG : SSEWS_EPROTO, why);
  }
};

std::string ServerRole::ws_tcp_take(int fd, size_t head_len, HttpRequest req) {
  WsUpgradeVerdict v = ws_check_upgrade(req);
  if (!v.status && e_.closing()) v.status = 503, v.why = "server closing";
  if (!v.status && conns_.size() >= opts().max_connections)
    v.status = 503, v.why = "max_connections (" + std::to_string(opts().max_connections) + ") reached";
  if (v.status) return ws_refusal(v.status, v.why);

  Conn *c = new_conn(nullptr, Proto::Ws);
  c->own_ws = true;
  RequestView rv;
  rv.path = req.path;
  rv.query = std::move(req.query);
  rv.peer = peer_of(fd);
  if (const std::string *id = req.header("last-event-id")) rv.last_event_id_header = *id;
  std::string key = *req.header("sec-websocket-key");
  for (const auto &h : req.headers)
    if (carried_header(h.first)) rv.headers.push_back(h);
  rv.live.reset(new ParsedLiveRequest(std::move(req.headers)));
  int reject = 0;
  if (!report_open(c, std::move(rv), reject)) {
    forget(c, 0, "");
    return ws_refusal(static_cast<unsigned>(reject), "connection refused");
  }

  // The head was only peeked: read it off, so the reader starts at the first frame.
  for (size_t left = head_len; left;) {
    char buf[4096];
    ssize_t n = recv(fd, buf, std::min(left, sizeof buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {  // it was there a moment ago: the peer reset the connection
      forget(c, 1006, "connection lost");
      close(fd);
      return "";
    }
    left -= static_cast<size_t>(n);
  }
  lws_sock_file_fd_type sfd;
  sfd.sockfd = fd;
  lws *wsi = lws_adopt_descriptor_vhost(vhost_, LWS_ADOPT_SOCKET, sfd, nullptr, nullptr);
  if (!wsi) {  // lws closed the descriptor
    forget(c, 1006, "cannot adopt the connection (out of memory?)");
    return "";
  }
  attach(c, wsi);
  c->reader.reset(new WsFrameReader(true, opts().max_message_size));
  std::string extra;
  if (v.protocol == kV1Protocol) {
    c->enc = Encoding::WsV1;
    extra = "X-Ssews: v1\r\n";
  }
  c->more().ctl_out = ws_switching_response(key, v.protocol, extra);
  lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
  if (c->closing) {  // closed from the open callback: the 101, then the close
    c->established = true;
    want_write(c);
    return "";
  }
  accept_conn(c);
  return "";
}

int ServerRole::ws_tcp_receive(lws *wsi, void *in, size_t len) {
  Conn *c = conn_of(wsi);
  if (!c || !c->reader || c->reader->done()) return 0;  // closed or lingering: dropped
  c->heard(e_.now_ms());
  // A read that filled the buffer: the peer (a publisher sending fast) has
  // more waiting; read it again in this pass (reservice_busy).
  if (len >= kServBuf - LWS_PRE && !c->busy) {
    c->busy = true;
    busy_.push_back(c->id);
  }
  WsTcpSink sink(*this, c);
  c->reader->feed(static_cast<uint8_t *>(in), len, sink);
  if (sink.peer_closed) {
    if (c->close_sent) {  // the answer to our close: done
      finish(c);
      ws_tcp_linger(wsi);
      return 0;
    }
    // Answer with the same code, after nothing more: queued data is dropped.
    c->q.clear();
    c->closing = false;
    start_close(c, c->peer_close_code, "");
  }
  return 0;
}

int ServerRole::ws_tcp_writeable(lws *wsi) {
  Conn *c = conn_of(wsi);
  if (!c) return 0;
  if (c->close_sent) {  // our close is written (what lws still holds first)
    if (lws_partial_buffered(wsi)) {
      lws_callback_on_writable(wsi);
      return 0;
    }
    if (c->fail_code || c->peer_close_code) {
      finish(c);
      ws_tcp_linger(wsi);
    }
    return 0;
  }
  switch (drain(c)) {
    case Drain::Failed:
      return -1;
    case Drain::Busy:
    case Drain::Idle:
      return 0;
    case Drain::Close:
      break;
  }
  c->close_sent = true;
  std::string f = close_frame(c->close_code, c->more().close_reason);
  if (lws_write(wsi, reinterpret_cast<unsigned char *>(&f[0]), f.size(), LWS_WRITE_RAW) < 0) return -1;
  if (c->fail_code || c->peer_close_code) {
    if (lws_partial_buffered(wsi)) {
      lws_callback_on_writable(wsi);
      return 0;
    }
    finish(c);
    ws_tcp_linger(wsi);
    return 0;
  }
  lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_ACK, kCloseAckS);  // the peer's close is due
  return 0;
}

// The last close is out: end our side, read and drop what still comes until
// the peer closes (lws then frees the socket) or kLingerS has passed.
void ServerRole::ws_tcp_linger(lws *wsi) {
  ::shutdown(lws_get_socket_fd(wsi), SHUT_WR);
  lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, kLingerS);
}

}  // namespace sw
