// The server's WebSocket side as libwebsockets sees it: an upgrade lws
// parsed (a later request on a keep-alive connection) is taken over for
// ws_tcp_server.cpp (take_later_upgrade); lws' own WebSocket callbacks
// below (the handshake checked beyond what lws 4.1.6 checks, messages in,
// the close handshake, writing queued frames) no longer serve any server
// WebSocket, and stay only until that path is removed with the lws branches
// of the write path.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "channel_pattern.h"
#include "engine.h"
#include "lws_util.h"
#include "server/server_role.h"
#include "ws_rules.h"

namespace sw {

namespace {

// Bytes from one peer in one pass (payload plus a minimal frame header per
// piece) that mean lws' read buffer was probably full, and how many more
// reads such a peer gets in the same pass (see reservice_busy).
constexpr size_t kRxBusy = 128;
constexpr uint32_t kWsMinClientHeader = 6;  // 2 bytes + the 4-byte mask
constexpr int kRxRereads = 64;

}  // namespace

// Answers a refused upgrade with a status, extra headers and a short text;
// a 426 names the version we speak, as RFC 6455 section 4.4 asks.
int ServerRole::refuse_upgrade(lws *wsi, int status, const std::string &why, HeaderList headers) {
  if (status == 426) headers.emplace_back("Sec-WebSocket-Version", "13");
  if (!write_answer(wsi, static_cast<unsigned>(status), headers, "text/plain", why + "\n", true)) return -1;
  return 1;  // lws completes the transaction
}

// An upgrade lws parsed: a later request on a keep-alive HTTP/1.1
// connection (the door reads first requests; plain, or relayed from TLS).
// ssews takes the connection over so that its WebSocket is framed as every
// other (ws_tcp_server.cpp): a client must wait for the 101 before it sends
// frames (RFC 6455 4.1), so lws holds nothing of the connection beyond this
// head. lws keeps its descriptor number, now a stand-in socket, so that its
// close of the wsi (a shutdown and a close) touches only that. lws frames no
// server WebSocket: what follows in this file (established, receive, close,
// writeable) serves none since, and an RFC 8441 stream is refused (RFC 8441 is
// advertised off: h2_preface.h; one sent anyway finds no connection at
// established and is closed).
int ServerRole::take_later_upgrade(lws *wsi) {
  int lfd = lws_get_socket_fd(wsi);
  int mine = lfd < 0 ? -1 : fcntl(lfd, F_DUPFD_CLOEXEC, 0);
  int stand_in = mine < 0 ? -1 : socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (stand_in < 0 || dup3(stand_in, lfd, O_CLOEXEC) < 0) {
    if (stand_in >= 0) close(stand_in);
    if (mine >= 0) close(mine);
    refused(503);
    return refuse_upgrade(wsi, 503,
                          "no descriptor left to take the connection over (open files at their limit)");
  }
  close(stand_in);
  OpenRequest o = lws_request(wsi);
  HttpRequest req;
  req.method = "GET";
  req.version = "HTTP/1.1";
  req.target = req.path = o.path;
  req.query = std::move(o.query);
  req.headers = std::move(o.headers);
  if (!o.last_event_id_header.empty()) req.headers.emplace_back("last-event-id", o.last_event_id_header);
  sockaddr_storage peer{};
  auto rp = relay_peer_.find(wsi);
  bool have_peer = rp != relay_peer_.end() ? (peer = rp->second, true) : peer_address(mine, peer);
  std::string refusal = ws_tcp_take(mine, 0, std::move(req), nullptr, {}, have_peer ? &peer : nullptr);
  if (!refusal.empty()) {
    ssize_t n = ::send(mine, refusal.data(), refusal.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)n;
    sockets_.linger(mine, 1);
  }
  return -1;  // lws lets its wsi go
}

int ServerRole::confirm_upgrade(lws *wsi, const char *upgrade) {
  // A later request on an HTTP/1.1 connection (HTTP/2 carries none: RFC 8441 is off).
  if (door_ && lws_get_network_wsi(wsi) == wsi && upgrade && ws_upgrade_is_websocket(upgrade))
    return take_later_upgrade(wsi);
  exchange_begin(wsi);
  // RFC 6455 4.2.1: the Upgrade value is compared case-insensitively.
  if (!upgrade || !ws_upgrade_is_websocket(upgrade)) return refuse_upgrade(wsi, 403, "unsupported upgrade");
  char *uri = nullptr;
  int uri_len = 0;
  int meth = lws_http_get_uri_and_method(wsi, &uri, &uri_len);
  const char *method = meth == LWSHUMETH_GET ? "GET" : meth == LWSHUMETH_POST ? "POST" : "OTHER";
  std::string why;
  int status =
      ws_check_handshake(method, lws_header(wsi, WSI_TOKEN_VERSION), lws_header(wsi, WSI_TOKEN_KEY), why);
  if (!status) why = lws_head_problem(wsi), status = why.empty() ? 0 : 400;
  if (!status && e_.closing()) status = 503, why = "server closing";
  if (!status && conns_.size() >= opts().max_connections)
    status = 503, why = "max_connections (" + std::to_string(opts().max_connections) + ") reached";
  std::vector<std::string> offered = split_list(lws_header(wsi, WSI_TOKEN_PROTOCOL));
  bool known = offered.empty();  // none offered: none answered
  for (const auto &p : offered) known = known || serves_subprotocol(p);
  if (!status && !known)
    status = 400, why = "no supported subprotocol offered (served here: 'ssews.v1', 'ssews'" +
                        std::string(accepted_protocols_.empty() ? "" : " and the subprotocols option") +
                        ", or none)";
  if (status) {
    refused(static_cast<unsigned>(status));
    return refuse_upgrade(wsi, status, why);
  }
  Verdict v = judge(wsi, AccessKind::Subscribe, true, requested_channels(wsi));
  if (!v.allowed()) {
    return refuse_upgrade(wsi, v.status, v.reason, std::move(v.headers));
  }
  Conn *c = new_conn(wsi, Proto::Ws);
  c->grant = std::move(v.grant);
  int reject = 0;
  if (!report_open(c, reject)) {
    forget(c, 0, "");
    return refuse_upgrade(wsi, reject, "connection refused");
  }
  exchange_drop(wsi);  // upgraded: the connection's open and close events tell of it
  return 0;
}

// lws serves these (ssews_protocols_with): ssews' own and the subprotocols option's.
bool ServerRole::serves_subprotocol(const std::string &name) const {
  if (name == "ssews.v1" || name == "ssews") return true;
  for (const auto &a : accepted_protocols_)
    if (a == name) return true;
  return false;
}

int ServerRole::ws_established(lws *wsi) {
  Conn *c = conn_of(wsi);
  if (!c) return -1;
  const lws_protocols *p = lws_get_protocol(wsi);
  if (p && p->name && !strcmp(p->name, "ssews.v1")) c->enc = Encoding::WsV1;
  if (c->closing) {  // rejected or closed while the handshake finished
    c->established = true;
    lws_callback_on_writable(wsi);
    return 0;
  }
  accept_conn(c);
  return 0;
}

int ServerRole::ws_receive(lws *wsi, void *in, size_t len) {
  Conn *c = conn_of(wsi);
  // Data after the peer's close (lws still delivers it): ignore it, so lws
  // goes on to echo the close instead of dropping the connection.
  if (!c) return 0;
  if (c->fail_code) return 0;  // already failing: ignore what is still arriving
  c->heard(e_.now_ms());
  if (c->rx_pass != e_.pass()) c->rx_pass = e_.pass(), c->rx_pass_bytes = 0;
  c->rx_pass_bytes += static_cast<uint32_t>(len) + kWsMinClientHeader;
  c->bytes_in += len + kWsMinClientHeader;  // about: lws hands over payloads
  if (c->rx_pass_bytes >= kRxBusy && !c->busy) {
    c->busy = true;
    busy_.push_back(c->id);
  }
  std::string *partial = c->more_ && !c->more_->rx.empty() ? &c->more_->rx : nullptr;
  size_t have = partial ? partial->size() : 0;
  if (!partial && lws_is_first_fragment(wsi)) c->rx_binary = lws_frame_is_binary(wsi);
  if (have + len > opts().max_message_size) {
    if (partial) {
      release(partial->size());
      std::string().swap(*partial);
    }
    fail_conn(
        c, 1009, SSEWS_ETOOBIG,
        "incoming message exceeds max_message_size (" + std::to_string(opts().max_message_size) + " bytes)");
    lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, nullptr, 0);
    finish(c);
    return -1;
  }
  bool complete = lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);
  if (!complete) {  // more pieces follow: collect them, within the endpoint-wide bound
    if (!hold(len)) {
      if (partial) {
        release(partial->size());
        std::string().swap(*partial);
      }
      fail_conn(c, 1013, SSEWS_EFULL,
                "unfinished incoming messages exceed max_partial_bytes (" +
                    std::to_string(opts().max_partial_bytes) + " bytes, all connections); try again later");
      lws_close_reason(wsi, static_cast<enum lws_close_status>(1013), nullptr, 0);
      finish(c);
      return -1;
    }
    c->more().rx.append(static_cast<const char *>(in), len);
    return 0;
  }

  EventPtr ev = make_event(kEvMessage, c->id, Proto::Ws);
  c->msgs_in++;
  ev->binary = c->rx_binary;
  if (partial) {
    release(partial->size());
    partial->append(static_cast<const char *>(in), len);
    ev->data = std::move(*partial);
    *partial = std::string();
  } else {  // the whole message in one piece, the common case: no staging copy
    ev->data.assign(static_cast<const char *>(in), len);
  }
  bool pull = e_.pull_mode();
  e_.emit(std::move(ev));
  // Pull mode and the application is behind: stop reading from this peer
  // (TCP pushes back) until it catches up, instead of queueing without bound.
  if (pull && e_.events_waiting() >= opts().max_event_queue && !c->rx_paused) {
    c->rx_paused = true;
    paused_.push_back(c->id);
    e_.events_paused();
    lws_rx_flow_control(wsi, 0);
  }
  return 0;
}

int ServerRole::ws_peer_close(lws *wsi, void *in, size_t len) {
  Conn *c = conn_of(wsi);
  std::string why;
  std::string_view payload(static_cast<const char *>(in), len);
  int code = ws_check_close_payload(payload, why);
  if (code) {
    if (c) {
      c->fail_code = static_cast<uint16_t>(code);
      report_error(c, SSEWS_EPROTO, "peer sent a bad close frame: " + why);
      finish(c);
    }
    // (lws 4.1 has no call to answer a close with another code than the
    // peer's: failing it sends ours, then waits for the acknowledgement.)
    lws_close_reason(wsi, static_cast<enum lws_close_status>(code), nullptr, 0);
    return -1;
  }
  if (c) {
    if (len >= 2) {
      c->peer_close_code = static_cast<uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                                 static_cast<unsigned char>(payload[1]));
      c->more().peer_close_reason.assign(payload.data() + 2, len - 2);
    } else {
      c->peer_close_code = 1005;  // no status code present
    }
    finish(c);
  }
  return 0;  // lws echoes the close frame
}

int ServerRole::ws_writeable(lws *wsi) {
  Conn *c = conn_of(wsi);
  if (!c) return 0;
  // lws failed the connection itself (bad frame, bad UTF-8) and has sent or
  // is sending its close: nothing may follow a close frame.
  if (!c->close_sent && !c->fail_code && lws_get_close_length(wsi) >= 2) {
    c->q.clear();
    finish(c);
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
  std::string &why = c->more().close_reason;
  lws_close_reason(wsi, static_cast<enum lws_close_status>(c->close_code),
                   reinterpret_cast<unsigned char *>(&why[0]), why.size());
  finish(c);
  return -1;
}

// lws reads a WebSocket peer at most rx_buffer_size bytes per poll round
// (kRxChunk in engine.cpp, small so idle connections stay small), and a raw
// socket (ws_tcp_server.cpp) kServBuf. A peer that filled that in this pass,
// such as a publisher sending fast, is read again now, while it has bytes
// waiting, up to a budget: busy peers get large reads and idle ones keep
// small buffers.
void ServerRole::reservice_busy() {
  for (int round = 0; round < kRxRereads && !busy_.empty(); round++) {
    std::vector<ConnId> list;
    list.swap(busy_);
    for (ConnId id : list) {
      Conn *c = find(id);
      if (!c) continue;
      c->busy = false;
      if (c->rx_paused || c->closing || c->fail_code) continue;
      int fd = lws_get_socket_fd(c->wsi);
      int pending = 0;
      if (fd < 0 || ioctl(fd, FIONREAD, &pending) != 0 || pending <= 0) continue;
      c->rx_pass_bytes = 0;  // a full read again puts it back on the list
      lws_pollfd pfd;
      pfd.fd = fd;
      pfd.events = LWS_POLLIN;
      pfd.revents = LWS_POLLIN;
      lws_service_fd(e_.ctx(), &pfd);
    }
  }
  for (ConnId id : busy_) {
    if (Conn *c = find(id)) c->busy = false;
  }
  busy_.clear();
}

}  // namespace sw
