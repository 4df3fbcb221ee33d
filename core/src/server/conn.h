// One peer of a server: its outbound queue and its state. Owned by the server
// role, touched only on the service thread.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "event.h"
#include "hub.h"
#include "jwt_verifier.h"
#include "outq.h"
#include "ws_frame_reader.h"

struct lws;
typedef struct ssl_st SSL;

namespace sw {

// What a connection needs only now and then: kept out of Conn so that an idle
// connection stays small (allocated on first use, see Conn::more()).
struct ConnMore {
  std::string rx;            // a WebSocket message arriving in pieces
  std::string close_reason;  // what we send when closing
  std::string peer_close_reason;
  std::string last_event_id;                  // resume point asked for in the request (until accepted)
  std::vector<std::string> initial_channels;  // subscriptions to make once accepted
  // broker: messages that arrived while the resume was asked of Redis
  std::vector<MessagePtr> held;
  size_t held_bytes = 0;
  std::string ctl_out;   // framed by ssews: the 101, pongs owed, written before queued messages
  std::string out_rest;  // own socket or HTTP/2 stream: what a write left, written before anything else
};

struct Conn {
  ConnId id = 0;
  lws *wsi = nullptr;  // polled by lws; or
  int fd = -1;         // polled by ssews (socket_set.h)
  SSL *ssl = nullptr;  // fd under ssews' own TLS (tls_io.h); null: plain TCP
  OutQueue q;
  int64_t last_write_us = 0;
  std::unique_ptr<ConnMore> more_;
  std::unique_ptr<WsFrameReader> reader;  // framed by ssews (ws_tcp_server.cpp): its frames in
  // What the access log reports at close (figures of the close event).
  int64_t opened_us = 0;
  uint64_t bytes_in = 0, bytes_out = 0;  // wire bytes read and handed to the socket
  uint32_t msgs_in = 0, msgs_out = 0;    // messages received and written
  uint32_t last_rx_ms = 0;               // a frame last came from the peer (or, ping_out: the ping went)
  uint32_t rx_pass = 0;                  // the service pass that last delivered data from the peer
  uint32_t rx_pass_bytes = 0;            // wire bytes (about) delivered in that pass
  uint16_t close_code = 1000;            // what we send when closing
  uint16_t peer_close_code = 0;          // what the peer sent (0: none)
  uint16_t fail_code = 0;                // a protocol error we closed for
  uint8_t deflate_bits = 0;              // permessage-deflate negotiated: our window bits (0: not)
  GrantPtr grant;                        // the verified token it opened with; null when anonymous or no key
  Proto proto = Proto::Ws;
  Encoding enc = Encoding::WsPlain;
  // Flags as bits: thousands of idle connections each carry them.
  bool established : 1;    // WebSocket upgraded / SSE headers written
  bool open_reported : 1;  // the app saw its open event: it is owed a close event
  bool closing : 1;        // flush the queue, then close
  bool close_sent : 1;
  bool overflow_reported : 1;
  bool rx_paused : 1;
  bool rx_binary : 1;
  bool dirty : 1;      // has queued data and is on the flush list
  bool busy : 1;       // on the list to read again in this pass
  bool ping_due : 1;   // a ping to write before anything else
  bool ping_out : 1;   // pinged; no frame from the peer since
  bool resuming : 1;   // broker: its history is being read from Redis; deliveries are held
  bool own_ws : 1;     // a WebSocket ssews frames itself (ws_tcp_server.cpp), not lws
  bool want_out : 1;   // own socket: a writeable turn asked for
  bool over_high : 1;  // passed send_high_water: a drain event is owed (backpressure.cpp)
  bool h2 : 1;         // an HTTP/2 stream: wsi is a stream, not the socket (conn_io.cpp)

  ConnMore &more() {
    if (!more_) more_.reset(new ConnMore);
    return *more_;
  }
  // Frees the rarely used part once nothing in it is needed.
  void trim_more() {
    if (more_ && !closing && more_->rx.empty() && more_->ctl_out.empty() && more_->out_rest.empty() &&
        more_->initial_channels.empty() && more_->last_event_id.empty() && more_->peer_close_reason.empty() &&
        more_->held.empty())
      more_.reset();
  }
  // A frame (data or pong) came from the peer: it is alive, no ping is owed.
  void heard(uint32_t now_ms) {
    last_rx_ms = now_ms;
    ping_out = false;
  }
  Conn(size_t max_q, bool drop_oldest)
      : q(max_q, drop_oldest ? OutQueue::Policy::DropOldest : OutQueue::Policy::Close),
        established(false),
        open_reported(false),
        closing(false),
        close_sent(false),
        overflow_reported(false),
        rx_paused(false),
        rx_binary(false),
        dirty(false),
        busy(false),
        ping_due(false),
        ping_out(false),
        resuming(false),
        own_ws(false),
        want_out(false),
        over_high(false),
        h2(false) {}
};

}  // namespace sw
