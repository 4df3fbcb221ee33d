// The server role: one port serving WebSocket upgrades, SSE streams, static
// files and the HTTP publish endpoint, all fed by one hub of channels. Its
// jobs live in files named for them:
//   server_role.cpp     listening, lws dispatch, the public operations
//   front_door.cpp      plain HTTP: accept and read request heads before lws
//   connections.cpp     connection bookkeeping: open, accept, close, forget
//   write_path.cpp      queueing to peers and writing, coalesced, per pass
//   liveness.cpp        SSE hang-up checks and heartbeats, WebSocket pings, token expiry
//   ws_tcp_server.cpp   WebSocket over plain TCP or ssews' TLS, framed by ssews (handshake,
//                       frames in through WsFrameReader, close handshake)
//   ws_server.cpp       WebSocket through lws (TLS, a host given by name)
//   sse_server.cpp      SSE streams
//   http_server.cpp     request routing and static files
//   publish_endpoint.cpp  POST publish_path
//   access_gate.cpp     the access policy from the options; a request's view for decide_access
//   metrics_endpoint.cpp  the figures (stats), GET metrics_path (Prometheus)
//   backpressure.cpp    queued bytes per connection, drain events, channel lag
//                       and presence (who is on a channel)
//   graceful_drain.cpp  drain_timeout: closes spread over a window at shutdown
//   presence.cpp        subscriptions with join/leave notices, GET .../presence
//   request_events.cpp  request_events: an event per HTTP request answered
//                       without becoming a stream (access logs)
#pragma once
#include <sys/socket.h>

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "broker/redis_broker.h"
#include "http_request.h"
#include "access_policy.h"
#include "hub.h"
#include "per_ip_limits.h"
#include "role.h"
#include "server/conn.h"
#include "server/front_door.h"
#include "server/metrics.h"
#include "server/socket_set.h"
#include "server/tls_relay.h"

struct lws_retry_bo;
struct lws_vhost;
struct lws_protocols;

namespace sw {

// The address of a peer socket (getpeername); false when it has none.
bool peer_address(int fd, sockaddr_storage &out);
// The address as text, e.g. "127.0.0.1" (what open and request events say).
std::string address_text(const sockaddr_storage &ss);
// Both: a socket's peer as text ("" when unknown).
std::string peer_text(int fd);
// The address a peer socket counts against (per_ip_limits.h; empty when not a peer).
IpKey peer_key(int fd);

class ServerRole final : public Role {
 public:
  static constexpr unsigned kServBuf = 32 * 1024;
  explicit ServerRole(Engine &e);
  ~ServerRole() override;

  void context_info(lws_context_creation_info &ci) override;
  Status start() override;
  int on_lws(lws *wsi, int reason, void *in, size_t len) override;
  void run_message(Cmd &cmd) override;
  void pass_reads() override { reservice_busy(); }
  void after_pass() override { flush_dirty(); }
  bool work_pending() const override { return !dirty_.empty(); }
  void tick() override;
  void shutdown() override;
  void resume_reading() override;
  Status options_changed() override;  // access_gate.cpp: the access policy follows

  Status send(ConnId conn, const void *data, size_t len, bool binary, const char *event,
              const char *id) override;
  Status publish(const char *channel, const void *data, size_t len, bool binary, const char *event,
                 const char *id) override;
  Status subscribe(ConnId conn, const char *channel, bool on) override;
  Status reject(ConnId conn, int status) override;
  Status accept_subprotocol(ConnId conn, const char *name) override;
  Status conn_close(ConnId conn, int code, const char *reason) override;
  Status port(int &out) const override;
  Status may_publish(ConnId conn, const char *channel) override;
  Status publish_as(ConnId conn, const char *channel, const void *data, size_t len, bool binary,
                    const char *event, const char *id) override;
  Status stats(Metrics &out) override;
  Status buffered(ConnId conn, size_t &out) override;
  Status channel_info(const char *channel, bool list, ChannelInfo &out) override;

 private:
  const Options &opts() const;
  Status check_live(ConnId conn, Proto *proto = nullptr) const;  // ENOCONN, from any thread
  Status queue_message(const char *channel, ConnId to, const void *data, size_t len, bool binary,
                       const char *event, const char *id);

  // access_gate.cpp
  Status setup_access();
  Status build_access(AccessPolicy &out) const;  // from the options, reading key files
  Verdict judge(lws *wsi, AccessKind kind, bool websocket, std::vector<std::string> channels);
  // The same for a request ssews parsed itself (a WebSocket upgrade on plain TCP).
  Verdict judge(const HttpRequest &req, AccessKind kind, bool websocket, std::vector<std::string> channels);
  Verdict counted(Verdict v);  // counts a refusal in the metrics (auth or origin)

  // connections.cpp
  // What the open event tells of a request, whoever parsed it (lws, or
  // ssews for the WebSocket connections it frames itself).
  struct OpenRequest {
    std::string path, peer, last_event_id_header;
    std::vector<std::string> query;                            // decoded "k=v" fragments
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
    std::unique_ptr<LiveRequest> live;                         // every header, while the open callback runs
    std::vector<std::string> offered_protocols;                // WebSocket: Sec-WebSocket-Protocol, in order
    std::string subprotocol;       // WebSocket: chosen unless the callback chooses
    bool any_subprotocol = false;  // the callback may choose any offered name
  };
  // The channels a request asks for: its `channel` query parameters, else
  // its path without the leading slash (the default subscriptions).
  static std::vector<std::string> channels_asked(const std::vector<std::string> &query,
                                                 const std::string &path);
  std::vector<std::string> requested_channels(lws *wsi);
  Conn *conn_of(lws *wsi);
  Conn *find(ConnId id);
  Conn *new_conn(lws *wsi, Proto proto);
  void attach(Conn *c, lws *wsi);
  OpenRequest lws_request(lws *wsi);
  // The headers an open event carries: those lws knows by name and those
  // asked for (capture_headers), whoever parsed the request.
  bool carried_header(const std::string &lower_name);
  std::unordered_set<std::string> carried_;
  bool report_open(Conn *c, int &reject_status);
  bool report_open(Conn *c, OpenRequest req, int &reject_status);
  void accept_conn(Conn *c);
  void start_close(Conn *c, int code, const std::string &reason);
  void fail_conn(Conn *c, int ws_code, int err, const std::string &why);
  void drop(Conn *c);
  int conn_gone(lws *wsi);
  int count_conn(lws *wsi);    // lws holds a new server connection: per-address count
  void head_parsed(lws *wsi);  // its first request head is read (TLS path: no longer a head)
  void finish(Conn *c);
  void forget(Conn *c, int code, const std::string &reason);
  void report_error(Conn *c, int err, const std::string &why);
  static MessagePtr gap_notice(const std::string &last_id);

  // write_path.cpp
  void queue_to(Conn *c, const MessagePtr &m);
  size_t fan_out(const MessagePtr &msg);  // to every subscriber; returns how many
  void queue_raw(Conn *c, std::string bytes);
  void want_write(Conn *c);
  static bool has_ctl(const Conn *c) { return c->more_ && !c->more_->ctl_out.empty(); }
  void mark_dirty(Conn *c);
  // Writes what the pass queued, outside any lws callback; own_only: only the
  // own sockets (safe inside a callback), the rest stays for after the pass.
  void flush_dirty(bool own_only = false);
  const WireBuf *deflated(const Conn *c, const Message &m, Encoding e);
  int write_queued(Conn *c);  // writes queued messages (and a due ping); <0: the connection failed
  enum class Drain { Failed, Busy, Idle, Close };
  Drain drain(Conn *c);  // a writeable callback's writing; Close: all out, time to close

  // liveness.cpp
  void ping_silent_peers(uint32_t now_ms);
  void check_sse_hangups(int64_t now_us);
  void sse_heartbeats(int64_t now_us);
  void expire_tokens();  // token exp + leeway passed: WebSocket 1008 "token expired", SSE ended

  // ws_tcp_server.cpp: WebSocket over plain TCP or ssews' TLS, framed by ssews
  struct WsTcpSink;
  // The front door's handoff of an upgrade: "" when taken, else the answer.
  // Over TLS (ssl set: the door's handshake) the head is already read, and
  // after holds what came decrypted behind it; both are taken with fd.
  std::string ws_tcp_take(int fd, size_t head_len, HttpRequest req, SSL *ssl = nullptr,
                          std::string_view after = {}, const sockaddr_storage *peer = nullptr);
  // An upgrade lws parsed (a later request on a keep-alive connection):
  // ssews takes the connection over and frames it. Returns what the lws
  // callback returns.
  int take_later_upgrade(lws *wsi);
  void ws_tcp_service();        // the own sockets that are ready
  void ws_tcp_read(ConnId id);  // reads one ready own socket
  // A good head over the door's TLS: a WebSocket upgrade is framed by ssews,
  // any other request relayed to lws (tls_relay.h).
  std::string tls_take(int fd, SSL *ssl, std::string &bytes, size_t head_len);
  void relay_to_lws(int fd, SSL *ssl, std::string &bytes, bool h2);  // takes fd and ssl
  ssize_t own_send(Conn *c, const void *p, size_t n);                // >=0 taken (0: would block); <0 failed
  void ws_tcp_receive(Conn *c, uint8_t *in, size_t len);
  void ws_tcp_writeable(Conn *c);
  void end_socket(Conn *c, bool linger);

  // conn_io.cpp: a connection's socket, polled by lws or by ssews
  bool out_pending(const Conn *c) const;
  int conn_write(Conn *c, uint8_t *p, size_t n, int lws_kind);
  int flush_rest(Conn *c);
  int h2_write(Conn *c);  // the next frame of an HTTP/2 stream's out_rest
  static void h2_end(lws *wsi);
  void rx_enable(Conn *c, bool on);
  void close_within(Conn *c, int seconds);
  void expire_own(int64_t now_us);

  // ws_server.cpp: WebSocket through lws (TLS, or a host given by name)
  int confirm_upgrade(lws *wsi, const char *upgrade);
  int refuse_upgrade(lws *wsi, int status, const std::string &why, HeaderList headers = {});
  int ws_established(lws *wsi);
  int ws_receive(lws *wsi, void *in, size_t len);
  int ws_peer_close(lws *wsi, void *in, size_t len);
  int ws_writeable(lws *wsi);
  void reservice_busy();

  // sse_server.cpp
  int sse_open(lws *wsi, int method);
  int sse_writeable(lws *wsi);

  // http_server.cpp
  int http_request(lws *wsi, void *in);
  int http_status(lws *wsi, unsigned status, const char *why);  // a short answer, then end the transaction
  // Writes a whole answer: status, extra headers, a body of content type
  // `type` (none when the body is empty). False when lws could not.
  bool write_answer(lws *wsi, unsigned status, const HeaderList &headers, const char *type,
                    const std::string &body, bool upgrade = false);
  int refused(lws *wsi, const Verdict &v);  // an HTTP request refused by decide_access

  // broker_link.cpp: the hub's subscriptions, and what the broker brings back
  bool hub_subscribe(ConnId conn, const std::string &channel);  // false: it already was
  bool hub_unsubscribe(ConnId conn, const std::string &channel);
  void hub_remove(ConnId conn);
  Status start_broker();
  Status broker_publish(std::shared_ptr<Message> m);
  void broker_resume(Conn *c, const std::string &last_id);
  void resume_done(ConnId id, bool ok, BrokerReplay r);
  void broker_report(int level, int code, const std::string &msg);
  void broker_gap(const std::string &channel);
  bool hold_for_resume(Conn *c, const MessagePtr &m);  // true: held until the resume is in
  std::unique_ptr<RedisBroker> broker_;                // null without the broker option
 public:
  // Answers with a status and a body of the given type, then ends the transaction.
  int http_body(lws *wsi, unsigned status, const char *type, const std::string &body);

 private:
 private:
  // publish_endpoint.cpp
  struct PendingPost {
    std::string channel, event, id, body;
    bool binary = false;
    HeaderList cors;  // for the answer
  };
  bool is_publish_request(int method, const char *path) const;
  int publish_begin(lws *wsi);
  int publish_body(lws *wsi, const void *in, size_t len);
  int publish_done(lws *wsi);
  int publish_answer(lws *wsi);  // a broker publish's answer, now it is in
  void publish_gone(lws *wsi);
  // Publish requests waiting for Redis' answer (by token: a wsi may be reused),
  // and answers ready to write.
  std::unordered_map<uint64_t, lws *> post_waits_;
  struct PostAnswer {
    unsigned status;
    HeaderList headers;  // CORS
    std::string json;
  };
  std::unordered_map<lws *, PostAnswer> answers_;
  uint64_t next_post_ = 1;
  int publish_answer(lws *wsi, unsigned status, const HeaderList &headers, const std::string &json);

  // metrics_endpoint.cpp
  void snapshot(Metrics &out);    // counters as they are, gauges measured now
  void refused(unsigned status);  // a request or handshake refused with this HTTP status
  bool is_metrics_request(int method, const char *path) const;
  int metrics_answer(lws *wsi);
  Metrics m_;

  // backpressure.cpp
  size_t buffered_bytes(const Conn *c) const;
  void check_high(Conn *c);  // after queueing: past send_high_water owes a drain event
  void check_low(Conn *c);   // after writing: the drain event, once back at send_low_water
  void delivered(Conn *c, const Message &m) {
    if (m.control) return;
    m_.add(c->proto == Proto::Ws ? kMDeliverWs : kMDeliverSse);
    c->msgs_out++;
  }

  // presence.cpp
  bool join(Conn *c, const std::string &channel);  // subscribes; false when it already was
  void leave(ConnId conn, const std::string &channel);
  void leave_all(Conn *c);  // before the hub forgets a closing connection
  void notice(const Conn *c, const std::string &channel, bool joined);
  // {"conn":N[,"identity":SUB]}: who a presence notice or list is about.
  static std::string presence_entry(const Conn *c);
  bool is_presence_request(int method, const char *path) const;
  int presence_answer(lws *wsi);

  // request_events.cpp: with the request_events option, one request event
  // per HTTP request answered without becoming a stream. Every answer ssews
  // writes through lws goes through write_answer or http_body, which call
  // exchange_answered (the one hook); static files end at their completion;
  // the front door's own answers come through door_answered. Without the
  // option each of these returns at once.
  struct Exchange {
    int64_t start_us = 0;
    std::string method, path, query, peer;
    size_t bytes_in = 0;
    unsigned status = 0;   // a file being served: its status, reported at the end
    size_t bytes_out = 0;  // ... and its size
  };
  void exchange_begin(lws *wsi);                                        // lws has read a request head
  void exchange_body(lws *wsi, size_t len);                             // body bytes came
  void exchange_answered(lws *wsi, unsigned status, size_t bytes_out);  // written whole: the event
  void exchange_file(lws *wsi, size_t bytes);  // a file answer started: the event at its end
  void exchange_end(lws *wsi);                 // a file answer ended: the event
  void exchange_drop(lws *wsi);                // a stream, or gone unanswered: no event
  void door_answered(const FrontDoor::Config::Answered &a);
  void emit_request(Exchange x, unsigned status, size_t bytes_out);
  std::unordered_map<lws *, Exchange> exchanges_;

  // graceful_drain.cpp
  bool begin_drain();  // shutdown with drain_timeout: true when the drain took over
  void drain_due(int64_t now_us);
  std::vector<std::pair<int64_t, ConnId>> drain_at_;  // when each connection is told to go, sorted
  struct DrainTimer;
  std::shared_ptr<DrainTimer> drain_timer_;  // shared_ptr: destroyed where the type is unknown

  // Bytes held for unfinished incoming messages and publish bodies, all
  // connections together (max_partial_bytes): charged by hold(), given back
  // by release() when the message completes or its connection goes.
  bool hold(size_t bytes);
  void release(size_t bytes) { partial_bytes_ -= bytes; }
  size_t partial_bytes_ = 0;

  AccessPolicy access_;  // set in start(), read-only afterwards (any thread)
  int bound_port_ = 0;
  lws_vhost *vhost_ = nullptr;
  lws_vhost *vhost_h2_ = nullptr;  // HTTP/2 relayed from the door's TLS (prior knowledge), when on
  // Per-address counts and rates (per_ip_limits.h): the door counts heads,
  // connections.cpp the connections lws holds, by their address (ip_of_),
  // as heads until lws has read their first head when lws listens (TLS).
  struct Counted {
    IpKey ip;
    bool head;
  };
  PerIpLimits limits_;
  std::unordered_map<lws *, Counted> ip_of_;
  std::unique_ptr<FrontDoor> door_;  // null when lws listens (TLS, a host given by name)
  lws *door_wsi_ = nullptr;          // the door's epoll descriptor, as lws polls it
  FrontDoor::Takers hand_in_;        // where sockets with a good head (or HTTP/2 over TLS) go
  SSL_CTX *tls_ctx_ = nullptr;       // the door's TLS (tls_cert/tls_key): all TLS on the server
  TlsRelays relays_;                 // HTTP/1.1 and HTTP/2 over the door's TLS, relayed to lws
  lws *relays_wsi_ = nullptr;        // their epoll descriptor, as lws polls it
  // A relayed connection's client address, by the wsi lws made of its
  // socketpair end (lws sees a Unix socket); adopting_peer_ carries it into
  // count_conn while lws adopts.
  const sockaddr_storage *adopting_peer_ = nullptr;
  std::unordered_map<lws *, sockaddr_storage> relay_peer_;
  std::string peer_name(lws *wsi);  // the client's address as text
  std::unique_ptr<lws_retry_bo> retry_;
  Hub hub_;
  // permessage-deflate: one compressor per window size in use (shared by
  // every connection), inflaters lent per compressed message. Before conns_:
  // their readers give inflaters back when they go.
  std::unique_ptr<PmdCompressor> compressors_[7];
  PmdCompressor &compressor(int bits);
  SimpleInflaterPool inflaters_;
  std::unordered_map<ConnId, Conn> conns_;  // by value: nodes do not move
  std::unordered_set<ConnId> sse_conns_;
  std::unordered_map<lws *, PendingPost> posts_;
  ConnId next_id_ = 1;

  // Live connection ids, readable from any thread for an early ENOCONN, and
  // the token each was opened with (may_publish).
  struct Live {
    Proto proto;
    GrantPtr grant;
  };
  mutable std::mutex live_mu_;
  std::unordered_map<ConnId, Live> live_;

  // Open-event decisions made inside the callback (service thread only).
  ConnId in_open_ = 0;
  int open_reject_ = 0;
  bool open_subscribed_ = false;
  std::vector<std::string> open_channels_;
  std::vector<std::string> open_offered_;        // the subprotocols the connection offered
  std::string open_protocol_;                    // its subprotocol: the default, or the callback's choice
  bool open_any_protocol_ = false;               // any offered name may be chosen (ssews frames it)
  std::vector<std::string> accepted_protocols_;  // the subprotocols option
  std::vector<lws_protocols> lws_protocols_;     // what the vhost serves: ssews' and those (lws_util.h)
  std::vector<lws_protocols> lws_protocols_h2_;  // the same, for the HTTP/2 vhost
  bool serves_subprotocol(const std::string &name) const;

  std::vector<ConnId> paused_;  // peers not read until a pull-mode app catches up
  // Connections with newly queued data, written after the current service
  // pass: one write carries everything queued for a peer meanwhile.
  std::vector<ConnId> dirty_;
  std::vector<uint8_t> scratch_;  // coalesced frames for one write
  std::vector<uint8_t> h2_buf_;   // one HTTP/2 DATA frame being written
  std::vector<ConnId> busy_;      // WebSocket peers that filled lws' read buffer this pass
  SocketSet sockets_;             // the WebSocket connections ssews frames (ws_tcp_server.cpp)
  lws *sockets_wsi_ = nullptr;    // their epoll descriptor, as lws polls it
  std::vector<uint8_t> rx_buf_;   // what an own socket is read into
  struct Due {
    int64_t at;
    ConnId id;
  };
  std::deque<Due> close_due_;              // own sockets: closes that must be over by then
  std::unordered_map<int, IpKey> own_ip_;  // own sockets: the address each counts against
};

}  // namespace sw
