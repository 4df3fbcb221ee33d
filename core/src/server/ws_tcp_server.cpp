// WebSocket over plain TCP, framed by ssews. The front door hands over every
// request that asks for a WebSocket upgrade; ssews answers the handshake
// itself (ws_handshake.h), keeps the socket on an epoll set of its own that
// lws polls as one descriptor (socket_set.h), reads frames with its own
// reader (ws_frame_reader.h) and writes the frames it builds. This is what lets
// every ping get its own pong, in order (lws 4.1.6 keeps one), unmasked and
// oversized control frames be refused, a failed connection be closed at once
// after its close frame (lws waits seconds for an acknowledgement), and
// replies be written in the pass that read the request (through lws, a reply
// to a peer that has just sent waited for the writeable callback, behind the
// pong lws might owe), and a fan-out to 10,000 such connections start without
// lws' poll() scanning all of them first.
//
// Over TLS the same, once the door has done the handshake (tls_server.cpp):
// only the reads and writes go through the session (own_send, ws_tcp_read).
// An upgrade lws parsed after another request on the same connection is
// taken over and framed here too (take_later_upgrade, ws_server.cpp).
#include <arpa/inet.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

#include "ascii.h"
#include "engine.h"
#include "server/server_role.h"
#include "server/tls_io.h"
#include "v1_confirm.h"
#include "ws_frame.h"
#include "ws_handshake.h"

#include <unistd.h>

#include <cstring>

namespace sw {

namespace {

// How long a connection that has sent its last close frame is still read (and
// what comes dropped) so that closing it does not reset the connection before
// the peer has read the close.
constexpr int kLingerS = 1;

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
    c->msgs_in++;
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
      s.rx_enable(c, false);
    }
    return true;
  }

  bool on_ping(std::string_view payload) override {
    if (c->closing || c->fail_code) return true;
    // Each ping gets its own pong, in the order the pings came (RFC 6455 5.5.2).
    c->more().ctl_out += ws_control_frame(kWsOpPong, payload);
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

std::string ServerRole::ws_tcp_take(int fd, size_t head_len, HttpRequest req, SSL *ssl,
                                    std::string_view after, const sockaddr_storage *peer) {
  WsUpgradeVerdict v = ws_check_upgrade(req, accepted_protocols_);
  if (!v.status && e_.closing()) v.status = 503, v.why = "server closing";
  if (!v.status && conns_.size() >= opts().max_connections)
    v.status = 503, v.why = "max_connections (" + std::to_string(opts().max_connections) + ") reached";
  if (v.status) {
    refused(v.status);
    return ws_refusal(v.status, v.why);
  }
  // Who may open it (access_policy.h): the decision lws' handshakes get too.
  Verdict access = judge(req, AccessKind::Subscribe, true, channels_asked(req.query, req.path));
  if (!access.allowed()) {
    std::string extra;
    for (const auto &h : access.headers) extra += h.first + ": " + h.second + "\r\n";
    return ws_refusal(static_cast<unsigned>(access.status), access.reason, extra);
  }

  Conn *c = new_conn(nullptr, Proto::Ws);
  c->grant = std::move(access.grant);
  c->own_ws = true;
  OpenRequest rv;
  rv.path = req.path;
  rv.query = std::move(req.query);
  sockaddr_storage addr{};
  bool have_addr = peer ? (addr = *peer, true) : peer_address(fd, addr);
  rv.peer = have_addr ? address_text(addr) : "";
  if (const std::string *id = req.header("last-event-id")) rv.last_event_id_header = *id;
  std::string key = *req.header("sec-websocket-key");
  std::vector<std::string> ext_values;  // every Sec-WebSocket-Extensions line
  for (const auto &h : req.headers)
    if (h.first == "sec-websocket-extensions") ext_values.push_back(h.second);
  std::vector<std::string_view> extension_offers(ext_values.begin(), ext_values.end());
  for (const auto &h : req.headers)
    if (carried_header(h.first)) rv.headers.push_back(h);
  rv.live.reset(new ParsedLiveRequest(std::move(req.headers)));
  rv.offered_protocols = v.offered;
  rv.subprotocol = v.protocol;
  rv.any_subprotocol = true;
  int reject = 0;
  if (!report_open(c, std::move(rv), reject)) {
    forget(c, 0, "");
    return ws_refusal(static_cast<unsigned>(reject), "connection refused");
  }
  v.protocol = open_protocol_;  // the callback's choice, or the default

  // The head was only peeked: read it off, so the reader starts at the first
  // frame (over TLS the door has read it).
  for (size_t left = ssl ? 0 : head_len; left;) {
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
  if (!sockets_.add(fd, c->id)) {
    forget(c, 1006, std::string("cannot watch the connection: ") + strerror(errno));
    tls_end(ssl);
    close(fd);
    return "";
  }
  c->fd = fd;
  c->ssl = ssl;
  // It counts against its address until it ends (end_socket), as lws' do.
  IpKey ip = have_addr ? ip_key(reinterpret_cast<const sockaddr *>(&addr)) : IpKey();
  if (!ip.empty()) {
    limits_.conn_open(ip);
    own_ip_[fd] = std::move(ip);
  }
  c->reader.reset(new WsFrameReader(true, opts().max_message_size));
  std::string extra;
  if (v.protocol == kV1Protocol) {
    c->enc = Encoding::WsV1;
    extra = "X-Ssews: v1\r\n";
  }
  if (opts().compression) {
    PmdAgreement pmd = pmd_negotiate(extension_offers, static_cast<int>(opts().compression_window_bits));
    if (pmd.on) {
      c->deflate_bits = static_cast<uint8_t>(pmd.server_window_bits);
      inflaters_.set_cap(opts().max_partial_bytes / SimpleInflaterPool::kCost + 1);
      c->reader->enable_deflate(&inflaters_);
      extra += "Sec-WebSocket-Extensions: " + pmd.response + "\r\n";
    }
  }
  c->more().ctl_out = ws_switching_response(key, v.protocol, extra);
  ConnId id = c->id;
  accept_conn(c);
  if (ssl) {
    // Frames that came decrypted with the head, and any OpenSSL still holds
    // (epoll cannot see those): read now.
    c = find(id);
    if (c && !after.empty()) {
      std::string first(after);
      c->bytes_in += first.size();
      ws_tcp_receive(c, reinterpret_cast<uint8_t *>(&first[0]), first.size());
    }
    ws_tcp_read(id);
  }
  return "";
}

// One pass over the sockets that are ready: reads (several times while a read
// fills the buffer, so a fast sender is not held to one buffer a pass) and
// writes lws' loop would otherwise have called back for.
void ServerRole::ws_tcp_service() {
  SocketSet::Ready ready[256];
  size_t n = sockets_.ready(ready, 256);
  if (rx_buf_.empty()) rx_buf_.resize(kServBuf);
  for (size_t i = 0; i < n; i++) {
    ConnId id = ready[i].id;
    if (ready[i].in) ws_tcp_read(id);
    if (ready[i].out) {
      Conn *c = find(id);
      if (!c || c->fd < 0) continue;
      if (flush_rest(c) < 0) {
        end_socket(c, false);
        continue;
      }
      if (out_pending(c) || !c->want_out) continue;
      c->want_out = false;
      sockets_.watch(c->fd, c->id, !c->rx_paused, false);
      ws_tcp_writeable(c);
    }
  }
}

// Reads a ready own socket: several times while a read fills the buffer (TLS:
// while records come; each is read whole, so OpenSSL holds nothing back
// that the next readiness would not announce).
void ServerRole::ws_tcp_read(ConnId id) {
  if (rx_buf_.empty()) rx_buf_.resize(kServBuf);
  for (int round = 0; round < 16; round++) {
    Conn *c = find(id);
    if (!c || c->fd < 0 || c->rx_paused) break;
    ssize_t got;
    if (c->ssl) {
      TlsWait w;
      got = static_cast<ssize_t>(tls_read(c->ssl, rx_buf_.data(), rx_buf_.size(), w));
      if (!got && (w == TlsWait::Read || w == TlsWait::Write)) break;
    } else {
      got = recv(c->fd, rx_buf_.data(), rx_buf_.size(), 0);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    }
    if (got <= 0) {  // the peer left (or reset) without a close handshake
      end_socket(c, false);
      break;
    }
    bool tls = c->ssl != nullptr;
    c->bytes_in += static_cast<uint64_t>(got);
    ws_tcp_receive(c, rx_buf_.data(), static_cast<size_t>(got));  // may end c
    if (!tls && static_cast<size_t>(got) < rx_buf_.size()) break;
  }
}

void ServerRole::ws_tcp_receive(Conn *c, uint8_t *in, size_t len) {
  if (!c->reader || c->reader->done()) return;  // after a close: dropped
  c->heard(e_.now_ms());
  WsTcpSink sink(*this, c);
  c->reader->feed(in, len, sink);
  if (sink.peer_closed) {
    if (c->close_sent) {  // the answer to our close: done
      end_socket(c, true);
      return;
    }
    // Answer with the same code, after nothing more: queued data is dropped.
    c->q.clear();
    c->closing = false;
    start_close(c, c->peer_close_code, "");
  }
}

void ServerRole::ws_tcp_writeable(Conn *c) {
  if (c->close_sent) {  // our close is out once what is left is written
    if (out_pending(c))
      want_write(c);
    else
      end_socket(c, true);
    return;
  }
  switch (drain(c)) {
    case Drain::Failed:
      end_socket(c, false);
      return;
    case Drain::Busy:
    case Drain::Idle:
      return;
    case Drain::Close:
      break;
  }
  c->close_sent = true;
  std::string f = ws_close_frame(c->close_code, c->more().close_reason);
  if (conn_write(c, reinterpret_cast<uint8_t *>(&f[0]), f.size(), LWS_WRITE_RAW) < 0) {
    end_socket(c, false);
    return;
  }
  // Written: the close is certain (as through lws, reported now). Our side
  // ends; the peer's close, due now, is read and dropped while lingering.
  if (out_pending(c))
    want_write(c);
  else
    end_socket(c, true);
}

// The connection is over: report its close and let its socket go, lingering
// when our last bytes are written (see SocketSet::linger), at once otherwise.
void ServerRole::end_socket(Conn *c, bool linger) {
  int fd = c->fd;
  c->fd = -1;
  // TLS: close_notify behind our last bytes (a close frame) before the end.
  tls_end(c->ssl);
  c->ssl = nullptr;
  finish(c);
  if (fd < 0) return;
  auto ip = own_ip_.find(fd);
  if (ip != own_ip_.end()) {
    limits_.conn_closed(ip->second);
    own_ip_.erase(ip);
  }
  if (linger) {
    sockets_.linger(fd, kLingerS);
  } else {
    sockets_.remove(fd);
    close(fd);
  }
}

}  // namespace sw
