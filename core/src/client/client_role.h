// The client role: one logical connection to one URL that outlives its
// reconnects: a WebSocket client (ws://, wss://) or an SSE client with
// EventSource semantics (http://, https://). Its jobs by file:
//   client_role.cpp   connecting, reconnecting with backoff, the public operations
//   ws_client.cpp     WebSocket: handshake check, messages in and out, close
//   sse_client.cpp    SSE: response checks, the event stream parser
#pragma once
#include <atomic>
#include <deque>
#include <memory>
#include <random>
#include <string>

#include "event.h"
#include "message.h"
#include "role.h"
#include "sse_parser.h"
#include "client/tx_scratch.h"
#include "url.h"

struct lws;
struct lws_vhost;
struct lws_retry_bo;
struct lws_sorted_usec_list;

namespace sw {

class ClientRole final : public Role {
 public:
  explicit ClientRole(Engine &e);
  ~ClientRole() override;

  void context_info(lws_context_creation_info &ci) override;
  Status start() override;
  void begin() override;
  int on_lws(lws *wsi, int reason, void *in, size_t len) override;
  void run_message(Cmd &cmd) override;
  void shutdown() override;

  Status send(ConnId conn, const void *data, size_t len, bool binary, const char *event,
              const char *id) override;
  Status conn_close(ConnId conn, int code, const char *reason) override;
  Status set_headers(std::vector<std::string> lines) override;

 private:
  struct Timer;
  const Options &opts() const;
  Proto proto() const { return url_.websocket ? Proto::Ws : Proto::Sse; }
  static void timer_cb(lws_sorted_usec_list *sul);
  void schedule(uint64_t delay_ms);
  void connect();
  void dropped(int err, const std::string &why, bool failed);  // reconnect, or stop for good
  void error(int err, const std::string &why);
  void final_close(int code, const std::string &reason);
  void opened();
  void close_now(int code, const std::string &reason);  // the application closes
  int handshake_headers(lws *wsi, void *in, size_t len);
  int connection_error(void *in);

  // ws_client.cpp
  void ws_filter(lws *wsi);
  int ws_receive(lws *wsi, void *in, size_t len);
  void ws_peer_close(void *in, size_t len);
  int ws_writeable(lws *wsi);
  void ws_closed();

  // sse_client.cpp
  int sse_established(lws *wsi);
  int sse_data(const void *in, size_t len);
  int sse_body_writeable(lws *wsi);
  void sse_event(const SseEvent &e);

  Url url_;
  lws_vhost *vhost_ = nullptr;
  lws *wsi_ = nullptr;
  bool connected_ = false;  // open event delivered for the current connection
  bool stopped_ = false;    // no more reconnects: the final close was reported
  bool closing_ = false;    // the application closes
  bool v1_ = false;         // the server accepted ssews.v1
  bool sse_v1_ = false;     // the SSE stream is from an ssews server (X-Ssews: v1)
  bool body_due_ = false;   // this request's body is being sent
  size_t body_off_ = 0;     // bytes of the body written
  bool close_sent_ = false;
  // This attempt's server certificate failed verification (seen by OpenSSL's
  // verify callback, not guessed from error text): it will fail again, so the
  // client stops instead of retrying.
  bool cert_rejected_ = false;
  int close_code_ = 1000;  // what the application closes with
  std::string close_reason_ = "closed by application";
  int peer_close_code_ = 0;
  std::string peer_close_reason_;
  unsigned attempt_ = 0;   // consecutive failures
  uint64_t retry_ms_ = 0;  // SSE `retry:` or the configured first delay
  bool retry_from_server_ = false;
  int http_status_ = 0;
  SseParser parser_;
  std::string rx_;
  bool rx_binary_ = false;
  std::string last_id_;           // WebSocket (ssews.v1) resume point
  std::deque<MessagePtr> sendq_;  // never mutated: frames are written from tx_
  TxScratch tx_;
  std::unique_ptr<Timer> timer_;
  std::string subprotocols_;          // offered
  std::string subprotocol_;           // the server's selection (last handshake)
  std::vector<std::string> headers_;  // "Name: value", sent with each (re)connect (service thread)
  std::mt19937 rng_{std::random_device{}()};
  std::unique_ptr<lws_retry_bo> retry_policy_;  // WebSocket ping / pong timeout
  std::atomic<size_t> queued_{0};               // bytes held for sending, from any thread
};

}  // namespace sw
