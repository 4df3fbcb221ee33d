// Liveness on the server: SSE streams whose peer hung up, SSE heartbeats,
// WebSocket pings to silent peers (ping_interval, pong_timeout), and
// connections whose token expired. Runs from the engine's once-a-second tick.
#include <libwebsockets.h>
#include <sys/socket.h>

#include <cerrno>
#include <ctime>

#include "engine.h"
#include "server/server_role.h"
#include "sse_encoder.h"

namespace sw {

namespace {

// True when the peer of a plain-TCP SSE stream has closed its end. (Reads are
// off for HTTP/1 SSE streams; a peek tells a hang-up apart from pending bytes.)
bool sse_peer_gone(lws *wsi) {
  if (lws_is_ssl(wsi)) return false;  // TLS: the next write notices instead
  char b;
  ssize_t n = recv(lws_get_socket_fd(wsi), &b, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

}  // namespace

void ServerRole::check_sse_hangups(int64_t now_us) {
  std::vector<Conn *> gone;
  for (ConnId id : sse_conns_) {
    Conn *c = find(id);
    // A stream written to in the last second learns of a hang-up from its
    // writes; only quiet ones need the peek (a syscall each, every second).
    // An HTTP/2 stream's socket is its connection's: a hang-up comes as
    // RST_STREAM or the connection's end, which lws reads and reports.
    if (c && !c->h2 && now_us - c->last_write_us >= LWS_US_PER_SEC && sse_peer_gone(c->wsi))
      gone.push_back(c);
  }
  for (Conn *c : gone) drop(c);
}

void ServerRole::sse_heartbeats(int64_t now_us) {
  if (!opts().heartbeat) return;
  int64_t period = static_cast<int64_t>(opts().heartbeat) * LWS_US_PER_SEC;
  for (ConnId id : sse_conns_) {
    Conn *c = find(id);
    if (c && c->established && !c->closing && c->q.empty() && now_us - c->last_write_us >= period) {
      std::string hb;
      sse_comment(hb, "");
      queue_raw(c, std::move(hb));
    }
  }
}

// A peer silent for ping_interval gets a ping; one that sends nothing for
// pong_timeout after it is dropped (1006). At most kPingsPerTick new pings a
// second, so thousands of connections opened together are not all pinged in
// one burst.
void ServerRole::ping_silent_peers(uint32_t now_ms) {
  if (!opts().ping_interval) return;
  constexpr int kPingsPerTick = 2048;
  const uint32_t interval = opts().ping_interval * 1000u, timeout = opts().pong_timeout * 1000u;
  int budget = kPingsPerTick;
  std::vector<Conn *> dead;
  for (auto &kv : conns_) {
    Conn *c = &kv.second;
    if (c->proto != Proto::Ws || !c->established || c->closing || c->fail_code) continue;
    uint32_t quiet = now_ms - c->last_rx_ms;  // unsigned: right across the wrap
    if (c->ping_out) {
      if (quiet >= timeout) dead.push_back(c);
    } else if (quiet >= interval && budget > 0) {
      budget--;
      c->ping_due = true;
      c->ping_out = true;
      m_.add(kMPingsSent);
      c->last_rx_ms = now_ms;  // from now on: how long the pong takes
      mark_dirty(c);
    }
  }
  for (Conn *c : dead) {
    m_.add(kMPongTimeouts);
    c->more().close_reason = "no pong within pong_timeout (" + std::to_string(opts().pong_timeout) + " s)";
    c->close_code = 1006;
    c->close_sent = true;  // reported as this code and reason; no close frame to a silent peer
    drop(c);
  }
}

// Connections whose token ran out (exp plus the leeway) end: a WebSocket
// with close 1008 "token expired", an SSE stream ended. From the tick.
void ServerRole::expire_tokens() {
  if (!access_.jwt.enabled()) return;
  const int64_t now = static_cast<int64_t>(time(nullptr)), leeway = access_.jwt.leeway();
  std::vector<Conn *> due;
  for (auto &kv : conns_) {
    Conn *c = &kv.second;
    if (c->grant && c->grant->exp && !c->closing && now >= c->grant->exp + leeway) due.push_back(c);
  }
  for (Conn *c : due) start_close(c, 1008, "token expired");
}

}  // namespace sw
