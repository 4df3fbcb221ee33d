// What the engine drives: the server role or the client role. The engine owns
// the libwebsockets context, the service thread, the command queue and event
// delivery; a role owns its protocol. Public operations are the role's, as
// their rules differ (a client has one connection, a server has channels).
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "command_queue.h"
#include "hub.h"
#include "message.h"
#include "options.h"
#include "status.h"

struct lws;
struct lws_context_creation_info;

namespace sw {

class Engine;
struct Metrics;

// What a publisher may ask of a channel before publishing (Role::channel_info).
struct ChannelInfo {
  size_t subscribers = 0;
  size_t max_queued_bytes = 0;  // the slowest subscriber's queue
  size_t max_queued_messages = 0;
  std::vector<ConnId> conns;  // filled when asked for
};

class Role {
 public:
  explicit Role(Engine &e) : e_(e) {}
  virtual ~Role() = default;
  Role(const Role &) = delete;
  Role &operator=(const Role &) = delete;

  // --- opening thread, in this order ---
  // Context-wide settings of this role.
  virtual void context_info(lws_context_creation_info &ci) = 0;
  // The context exists: create the vhost (listen, or prepare to connect).
  virtual Status start() = 0;

  // --- service thread ---
  virtual void begin() {}  // before the first service pass
  virtual int on_lws(lws *wsi, int reason, void *in, size_t len) = 0;
  virtual void run_message(Cmd &cmd) = 0;  // a queued publish or send
  // Outside every lws callback, once per pass: more reads (before the
  // commands event callbacks queued run), then writes (after them).
  virtual void pass_reads() {}
  virtual void after_pass() {}
  virtual bool work_pending() const { return false; }  // after_pass has something to do
  virtual void tick() {}                               // once a second
  // The endpoint is closing: close what is open, gracefully; the role calls
  // Engine::stop() once nothing is left.
  virtual void shutdown() = 0;
  // Pull mode: the application caught up; peers paused for it may go on.
  virtual void resume_reading() {}
  // An option changed while running (Engine::set_option), on the service
  // thread. A failure (a key file that cannot be read...) leaves the role as
  // it was, and the option is set back.
  virtual Status options_changed() { return Status::ok(); }

  // --- public operations, any thread: validate, then queue ---
  virtual Status send(ConnId conn, const void *data, size_t len, bool binary, const char *event,
                      const char *id) = 0;
  virtual Status publish(const char *channel, const void *data, size_t len, bool binary, const char *event,
                         const char *id);
  virtual Status subscribe(ConnId conn, const char *channel, bool on);
  virtual Status reject(ConnId conn, int status);
  virtual Status accept_subprotocol(ConnId conn, const char *name);
  virtual Status conn_close(ConnId conn, int code, const char *reason) = 0;
  virtual Status port(int &out) const;
  // Server: may conn publish into channel (its token's publish claim)? And
  // publish on its behalf, closing it (1008) instead when it may not.
  virtual Status may_publish(ConnId conn, const char *channel);
  virtual Status publish_as(ConnId conn, const char *channel, const void *data, size_t len, bool binary,
                            const char *event, const char *id);
  // Client: the request headers of the next (re)connects, replacing the
  // `header` options (a fresh token, say).
  virtual Status set_headers(std::vector<std::string> lines);
  // Queries of the server's state (answered on the service thread, sync_call.h).
  virtual Status stats(Metrics &out);
  virtual Status buffered(ConnId conn, size_t &out);
  virtual Status channel_info(const char *channel, bool list, ChannelInfo &out);

 protected:
  Engine &e_;
};

// The longest channel, event or id name a call may give.
constexpr size_t kMaxFieldBytes = 1024;

// Shared checks of the public operations (role.cpp).
Status check_size(const void *data, size_t len, size_t max_size);  // NULL data, max_message_size
Status check_text(const void *data, size_t len, bool binary);      // text is UTF-8
Status check_fields(const char *event, const char *id);
Status check_channel(const char *channel);
Status check_close(int code, const char *reason);
bool readable_file(const std::string &path);  // for options naming files

}  // namespace sw
