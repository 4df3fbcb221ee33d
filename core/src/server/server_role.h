// The server role: one port serving WebSocket upgrades, SSE streams, static
// files and the HTTP publish endpoint, all fed by one hub of channels. Its
// jobs live in files named for them:
//   server_role.cpp     listening, lws dispatch, the public operations
//   front_door.cpp      plain HTTP: accept and read request heads before lws
//   connections.cpp     connection bookkeeping: open, accept, close, forget
//   write_path.cpp      queueing to peers and writing, coalesced, per pass
//   liveness.cpp        SSE hang-up checks and heartbeats, WebSocket pings
//   ws_tcp_server.cpp   WebSocket over plain TCP, framed by ssews (handshake,
//                       frames in through WsFrameReader, close handshake)
//   ws_server.cpp       WebSocket through lws (TLS, a host given by name)
//   sse_server.cpp      SSE streams
//   http_server.cpp     request routing and static files
//   publish_endpoint.cpp  POST publish_path
#pragma once
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "http_request.h"
#include "hub.h"
#include "role.h"
#include "server/conn.h"
#include "server/front_door.h"
#include "server/socket_set.h"

struct lws_retry_bo;
struct lws_vhost;

namespace sw {

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

  Status send(ConnId conn, const void *data, size_t len, bool binary, const char *event,
              const char *id) override;
  Status publish(const char *channel, const void *data, size_t len, bool binary, const char *event,
                 const char *id) override;
  Status subscribe(ConnId conn, const char *channel, bool on) override;
  Status reject(ConnId conn, int status) override;
  Status conn_close(ConnId conn, int code, const char *reason) override;
  Status port(int &out) const override;

 private:
  const Options &opts() const;
  Status check_live(ConnId conn, Proto *proto = nullptr) const;  // ENOCONN, from any thread
  Status queue_message(const char *channel, ConnId to, const void *data, size_t len, bool binary,
                       const char *event, const char *id);

  // connections.cpp
  // What the open event tells of a request, whoever parsed it (lws, or
  // ssews for the WebSocket connections it frames itself).
  struct RequestView {
    std::string path, peer, last_event_id_header;
    std::vector<std::string> query;                            // decoded "k=v" fragments
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
    std::unique_ptr<LiveRequest> live;                         // every header, while the open callback runs
  };
  Conn *conn_of(lws *wsi);
  Conn *find(ConnId id);
  Conn *new_conn(lws *wsi, Proto proto);
  void attach(Conn *c, lws *wsi);
  RequestView lws_request(lws *wsi);
  // The headers an open event carries: those lws knows by name and those
  // asked for (capture_headers), whoever parsed the request.
  bool carried_header(const std::string &lower_name);
  std::unordered_set<std::string> carried_;
  bool report_open(Conn *c, int &reject_status);
  bool report_open(Conn *c, RequestView req, int &reject_status);
  void accept_conn(Conn *c);
  void start_close(Conn *c, int code, const std::string &reason);
  void fail_conn(Conn *c, int ws_code, int err, const std::string &why);
  void drop(Conn *c);
  int conn_gone(lws *wsi);
  void finish(Conn *c);
  void forget(Conn *c, int code, const std::string &reason);
  void report_error(Conn *c, int err, const std::string &why);

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
  int write_queued(Conn *c);  // writes queued messages (and a due ping); <0: the connection failed
  enum class Drain { Failed, Busy, Idle, Close };
  Drain drain(Conn *c);  // a writeable callback's writing; Close: all out, time to close

  // liveness.cpp
  void ping_silent_peers(uint32_t now_ms);
  void check_sse_hangups(int64_t now_us);
  void sse_heartbeats(int64_t now_us);

  // ws_tcp_server.cpp: WebSocket over plain TCP, framed by ssews
  struct WsTcpSink;
  // The front door's handoff of an upgrade: "" when taken, else the answer.
  std::string ws_tcp_take(int fd, size_t head_len, HttpRequest req);
  void ws_tcp_service();  // the own sockets that are ready
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
  int refuse_upgrade(lws *wsi, int status, const std::string &why);
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

  // publish_endpoint.cpp
  struct PendingPost {
    std::string channel, event, id, body;
    bool binary = false;
  };
  bool is_publish_request(int method, const char *path) const;
  int publish_begin(lws *wsi);
  int publish_body(lws *wsi, const void *in, size_t len);
  int publish_done(lws *wsi);

  // Bytes held for unfinished incoming messages and publish bodies, all
  // connections together (max_partial_bytes): charged by hold(), given back
  // by release() when the message completes or its connection goes.
  bool hold(size_t bytes);
  void release(size_t bytes) { partial_bytes_ -= bytes; }
  size_t partial_bytes_ = 0;

  int bound_port_ = 0;
  lws_vhost *vhost_ = nullptr;
  std::unique_ptr<FrontDoor> door_;  // null when lws listens (TLS, a host given by name)
  lws *door_wsi_ = nullptr;          // the door's epoll descriptor, as lws polls it
  FrontDoor::Handoff hand_in_;       // gives a socket with a good head to lws
  std::unique_ptr<lws_retry_bo> retry_;
  Hub hub_;
  std::unordered_map<ConnId, Conn> conns_;  // by value: nodes do not move
  std::unordered_set<ConnId> sse_conns_;
  std::unordered_map<lws *, PendingPost> posts_;
  ConnId next_id_ = 1;

  // Live connection ids, readable from any thread for an early ENOCONN.
  mutable std::mutex live_mu_;
  std::unordered_map<ConnId, Proto> live_;

  // Open-event decisions made inside the callback (service thread only).
  ConnId in_open_ = 0;
  int open_reject_ = 0;
  bool open_subscribed_ = false;
  std::vector<std::string> open_channels_;

  std::vector<ConnId> paused_;  // peers not read until a pull-mode app catches up
  // Connections with newly queued data, written after the current service
  // pass: one write carries everything queued for a peer meanwhile.
  std::vector<ConnId> dirty_;
  std::vector<uint8_t> scratch_;  // coalesced frames for one write
  std::vector<uint8_t> h2_buf_;   // one HTTP/2 DATA frame being written
  std::vector<ConnId> busy_;      // WebSocket peers that filled lws' read buffer this pass
  SocketSet sockets_;             // the plain-TCP WebSocket connections (ws_tcp_server.cpp)
  lws *sockets_wsi_ = nullptr;    // their epoll descriptor, as lws polls it
  std::vector<uint8_t> rx_buf_;   // what an own socket is read into
  struct Due {
    int64_t at;
    ConnId id;
  };
  std::deque<Due> close_due_;  // own sockets: closes that must be over by then
};

}  // namespace sw
