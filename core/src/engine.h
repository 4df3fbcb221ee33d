// The endpoint engine: one libwebsockets context, one service thread, a
// cross-thread command queue, and event delivery (callback or pull). Public
// calls from any thread validate, queue a command and wake the loop; all
// socket work happens on the service thread.
#pragma once
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "event_queue.h"
#include "hub.h"
#include "message.h"
#include "options.h"
#include "outq.h"
#include "sse_parser.h"
#include "url.h"

struct lws;
struct lws_context;
struct lws_vhost;
struct lws_retry_bo;
struct lws_sorted_usec_list;
struct ssews;

namespace sw {

// Result of a public call: a status code (SSEWS_*) plus a message for
// ssews_last_error when it failed.
struct Status {
  int code = 0;
  std::string msg;
  static Status ok() { return {}; }
  bool failed() const { return code != 0; }
};

enum class Proto : uint8_t { Ws = 1, Sse = 2 };

using EventCallback = void (*)(ssews *, const ssews_event *, void *);

// What a connection needs only now and then: kept out of Conn so that an idle
// connection stays small (allocated on first use, see Conn::more()).
struct ConnMore {
  std::string rx;            // a WebSocket message arriving in pieces
  std::string close_reason;  // what we send when closing
  std::string peer_close_reason;
  std::string last_event_id;                  // resume point asked for in the request (until accepted)
  std::vector<std::string> initial_channels;  // subscriptions to make once accepted
};

// One peer of a server. Owned by the engine, touched only on the service thread.
struct Conn {
  ConnId id = 0;
  lws *wsi = nullptr;
  OutQueue q;
  int64_t last_write_us = 0;
  std::unique_ptr<ConnMore> more_;
  uint32_t last_rx_ms = 0;       // a frame last came from the peer (or, ping_out: the ping went)
  uint32_t rx_pass = 0;          // the service pass that last delivered data from the peer
  uint32_t rx_pass_bytes = 0;    // wire bytes (about) delivered in that pass
  uint16_t close_code = 1000;    // what we send when closing
  uint16_t peer_close_code = 0;  // what the peer sent (0: none)
  uint16_t fail_code = 0;        // a protocol error we closed for
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
  bool dirty : 1;     // has queued data and is on the engine's flush list
  bool busy : 1;      // on the engine's list to read again in this pass
  bool ping_due : 1;  // a ping to write before anything else
  bool ping_out : 1;  // pinged; no frame from the peer since

  ConnMore &more() {
    if (!more_) more_.reset(new ConnMore);
    return *more_;
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
        ping_out(false) {}
};

class Engine {
 public:
  // Opens the endpoint: parses options, creates the context, starts the
  // service thread. On failure returns null and sets st.
  static Engine *open(ssews *handle, const char *const *kv, EventCallback cb, void *user, Status &st);

  // Graceful close; joins the service thread unless called on it.
  // Returns true when the caller must delete the engine (it was joined).
  bool close();

  Status set_callback(EventCallback cb, void *user);
  Status port(int &out) const;
  int event_fd() const { return events_.fd(); }
  Status next_event(const ssews_event **ev);

  Status send(ConnId conn, const void *data, size_t len, bool binary, const char *event, const char *id);
  Status publish(const char *channel, const void *data, size_t len, bool binary, const char *event,
                 const char *id);
  Status subscribe(ConnId conn, const char *channel, bool on);
  Status reject(ConnId conn, int status);
  Status conn_close(ConnId conn, int code, const char *reason);

  // --- service thread only (called from the lws protocol callback) ---
  int on_lws(lws *wsi, int reason, void *in, size_t len);
  bool is_client() const { return !opts_.url.empty(); }

  ~Engine();

 private:
  Engine(ssews *handle, Options opts, EventCallback cb, void *user);
  Status start();
  Status start_client();
  void run();
  bool on_service_thread() const { return std::this_thread::get_id() == service_tid_; }

  // Commands from other threads.
  Status enqueue(size_t bytes, std::function<void()> fn);
  void wake();  // lws_cancel_service, if the context still exists
  void drain_commands();
  void run_local();  // commands the service thread queued for itself
  // Timers run inside lws_service before it polls: when one left work
  // behind, make that poll return at once so run() gets to it.
  void kick_if_pending();

  // Events to the application.
  void emit(EventPtr ev);

  // Connections.
  Conn *conn_of(lws *wsi);
  Conn *find(ConnId id);
  Conn *new_conn(lws *wsi, Proto proto);
  bool report_open(Conn *c, int &reject_status);
  void accept_conn(Conn *c);
  void forget(Conn *c, int code, const std::string &reason);
  void queue_to(Conn *c, const MessagePtr &m);
  size_t fan_out(const MessagePtr &msg);  // to every subscriber; returns how many
  void want_write(Conn *c);
  void mark_dirty(Conn *c);
  void flush_dirty();         // writes what fan-out queued, outside any lws callback
  int write_queued(Conn *c);  // writes queued messages (and a due ping); <0: the connection failed
  void drop(Conn *c);
  void queue_raw(Conn *c, std::string bytes);
  void start_close(Conn *c, int code, const std::string &reason);
  void fail_conn(Conn *c, int ws_code, int err, const std::string &why);

  // Protocol pieces (server.cpp).
  int http_request(lws *wsi, void *in);
  int confirm_upgrade(lws *wsi);
  static bool offers_known_subprotocol(const std::string &list);
  int refuse_upgrade(lws *wsi, int status, const std::string &why);
  int ws_established(lws *wsi);
  int ws_receive(lws *wsi, void *in, size_t len);
  int ws_peer_close(lws *wsi, void *in, size_t len);
  int ws_writeable(lws *wsi);
  int sse_writeable(lws *wsi);
  int conn_gone(lws *wsi);
  void finish(Conn *c);
  void fill_request(lws *wsi, ssews_event &ev, std::string &path, std::string &query);
  void heartbeat_tick();
  static void heartbeat_cb(struct lws_sorted_usec_list *sul);
  void resume_paused();

  // HTTP publish endpoint (publish_endpoint.cpp).
  struct PendingPost {
    std::string channel, event, id, body;
    bool binary = false;
  };
  bool is_publish_request(int method, const char *path) const;
  int publish_begin(lws *wsi);
  int publish_body(lws *wsi, const void *in, size_t len);
  int publish_done(lws *wsi);
  void publish_forget(lws *wsi);

  // Client role (client.cpp).
  struct Client;
  void client_init();
  static void client_timer_cb(struct lws_sorted_usec_list *sul);
  void client_schedule(uint64_t delay_ms);
  void client_connect();
  void client_dropped(int err, const std::string &why, bool failed);
  void client_error(int err, const std::string &why);
  void client_final_close(int code, const std::string &reason);
  void client_opened();
  void client_sse_event(const SseEvent &e);
  Status client_send(const void *data, size_t len, bool binary);
  void client_shutdown(int code, const std::string &reason);
  int client_lws(lws *wsi, int reason, void *in, size_t len);
  int client_ws_receive(lws *wsi, void *in, size_t len);
  int client_ws_writeable(lws *wsi);

  ssews *handle_;
  Options opts_;
  EventCallback cb_;
  void *user_;

  lws_context *ctx_ = nullptr;
  // Guards waking the loop against the context's destruction at shutdown.
  std::mutex wake_mu_;
  bool ctx_alive_ = false;
  lws_vhost *vhost_ = nullptr;
  std::unique_ptr<lws_retry_bo> retry_;
  int bound_port_ = 0;
  std::thread thread_;
  std::atomic<std::thread::id> service_tid_{};
  std::atomic<bool> closing_{false};
  std::atomic<bool> stop_loop_{false};
  bool close_from_callback_ = false;
  int64_t close_deadline_us_ = 0;

  // Command queue (any thread -> service thread).
  std::mutex cmd_mu_;
  struct Cmd {
    size_t bytes;  // payload bytes it holds, counted against max_pending_bytes
    std::function<void()> fn;
    std::shared_ptr<Message> pub;  // a publish or a send (the common commands): no closure to allocate
    ConnId to = 0;                 // with pub: send it to this connection only
  };
  // True while the service thread may be blocked in poll: only then does a
  // new command need the wake-up syscall (a busy loop drains on its own).
  std::atomic<bool> polling_{true};
  Status enqueue_cmd(Cmd cmd);
  Status too_much_pending(size_t queued, size_t bytes) const;  // EFULL, or ok
  void run_cmd(Cmd &c);
  std::vector<Cmd> cmds_;
  size_t cmd_bytes_ = 0;
  // Calls made on the service thread itself (from an event callback) skip the
  // lock and the wake-up: they run as soon as the current lws callback returns.
  std::vector<Cmd> local_cmds_;
  size_t local_bytes_ = 0;

  // Live connection ids, readable from any thread for early ENOCONN.
  mutable std::mutex live_mu_;
  std::unordered_map<ConnId, Proto> live_;

  // Event delivery.
  std::mutex cb_mu_;  // guards cb_/user_ changes against delivery
  EventQueue events_;
  EventPtr current_;  // the event last handed out by next_event
  std::atomic<bool> events_paused_{false};

  // Open-event decisions made inside the callback (service thread only).
  ConnId in_open_ = 0;
  int open_reject_ = 0;
  bool open_subscribed_ = false;
  std::vector<std::string> open_channels_;

  // Service-thread state.
  Hub hub_;
  std::unordered_map<ConnId, Conn> conns_;  // by value: nodes do not move
  std::unordered_set<ConnId> sse_conns_;
  std::unordered_map<lws *, PendingPost> posts_;
  std::vector<ConnId> paused_;
  // Connections with newly queued data, written after the current service
  // pass: one write carries everything queued for a peer meanwhile.
  std::vector<ConnId> dirty_;
  std::vector<uint8_t> scratch_;  // coalesced frames for one write
  uint32_t pass_ = 1;             // service passes, counted by run() (wraps; compared for equality)
  // The clock (ms, wraps) when the last pass ended: what callbacks in the next
  // pass see, up to one poll sleep (at most a second, the tick) behind.
  uint32_t now_ms_ = 0;
  void ping_silent_peers(uint32_t now_ms);
  std::vector<ConnId> busy_;  // WebSocket peers that filled lws' read buffer this pass
  void reservice_busy();
  ConnId next_id_ = 1;
  struct Sul;
  std::unique_ptr<Sul> heartbeat_sul_;
  std::unique_ptr<Client> cl_;
  std::atomic<size_t> client_queued_{0};  // bytes a client holds for sending

  friend struct EngineAccess;
};

std::string make_epoch();

// A request header lws keeps untokenised, read from a live request (server.cpp).
bool custom_header(void *live_wsi, const char *name, std::string &out);

}  // namespace sw

// The C ABI handle: what ssews_open returns.
struct ssews {
  sw::Engine *engine = nullptr;
};
