// The endpoint engine: one libwebsockets context, one service thread, the
// command queue, and event delivery (callback or pull). It knows nothing of a
// protocol: the server or client role it drives does (role.h). Public calls
// from any thread validate, queue a command and wake the loop; all socket
// work happens on the service thread.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "command_queue.h"
#include "event_queue.h"
#include "options.h"
#include "role.h"
#include "status.h"

struct lws;
struct lws_context;
struct lws_sorted_usec_list;

namespace sw {

// The application's callback as the core keeps it: type-erased, and called
// through an invoker that capi/ supplies, so the core never names ABI types.
using GenericFn = void (*)();
using Invoker = void (*)(GenericFn fn, void *owner, const Event *ev, void *user);
using LogInvoker = void (*)(GenericFn fn, void *owner, int level, const char *msg, void *user);

class Engine : public std::enable_shared_from_this<Engine> {
 public:
  // Parses options and creates the context (a server listens from here on).
  // owner is what the invoker gets back as the endpoint. On failure returns
  // null and sets st. run_thread() then starts the service thread.
  static std::shared_ptr<Engine> open(const char *const *kv, void *owner, Invoker invoke, GenericFn cb,
                                      void *user, Status &st);
  void run_thread();
  ~Engine();
  Engine(const Engine &) = delete;
  Engine &operator=(const Engine &) = delete;

  // Graceful close. From another thread it returns once the service thread
  // has ended (the last event, kEvDone, delivered); from the service thread
  // (an event callback) it returns at once and the loop ends after it.
  void close();

  // Replaces the callback; from another thread it waits for a callback in
  // progress, so the old one is never called after it returns.
  Status set_callback(GenericFn cb, void *user);
  // The log callback (null: stderr). Like set_callback, synchronous.
  Status set_log(LogInvoker invoke, GenericFn cb, void *user);
  // A line for this endpoint (log.cpp routes lws' lines here): dropped above
  // the endpoint's level, else to the log callback, or stderr as lws prints it.
  void log_line(int level, const std::string &msg, int lws_level, const char *raw);
  // Changes an option that may change while running (live_options.cpp):
  // checked here, set on the service thread. ENOTSUP for the others.
  Status set_option(const char *key, const char *value);
  int event_fd() const { return events_.fd(); }
  Status next_event(const Event **ev);
  Role &role() { return *role_; }

  // --- for the roles ---
  const Options &opts() const { return opts_; }
  lws_context *ctx() const { return ctx_; }
  bool closing() const { return closing_.load(std::memory_order_relaxed); }
  bool on_service_thread() const { return std::this_thread::get_id() == service_tid_.load(); }
  // Queue work for the service thread (any thread). ECLOSED once closing.
  Status enqueue(size_t bytes, std::function<void()> fn);
  Status enqueue(Cmd cmd);
  // Service thread only:
  void emit(EventPtr ev);
  bool pull_mode() const { return pull_.load(std::memory_order_relaxed); }
  size_t events_waiting() const { return events_.size(); }
  void events_paused() { events_paused_ = true; }  // a role stopped reading until the app catches up
  void stop() { stop_loop_ = true; }               // the role closed everything: end the loop
  uint32_t now_ms() const { return now_ms_; }      // when the last pass ended (ms, wraps)
  uint32_t pass() const { return pass_; }          // service passes so far (wraps)
  // The loop has run its last commands: what is queued now never runs (sync_call.h).
  bool ended() const { return ended_.load(); }
  // Timers run inside lws_service before it polls: when one left work
  // behind, make that poll return at once so run() gets to it.
  void kick_if_pending();

  // The lws protocol callback (service thread).
  int on_lws(lws *wsi, int reason, void *in, size_t len);

 private:
  Engine(Options opts, void *owner, Invoker invoke, GenericFn cb, void *user);
  Status start();
  void run();
  void wake();  // lws_cancel_service, if the context still exists
  void drain_remote();
  void run_local();  // commands the service thread queued for itself
  void run_cmd(Cmd &c);
  void deliver_waiting();  // pull-mode events to a new callback, in order
  static void tick_cb(lws_sorted_usec_list *sul);

  Options opts_;
  std::unique_ptr<Role> role_;
  void *owner_;
  Invoker invoke_;

  lws_context *ctx_ = nullptr;
  // Guards waking the loop against the context's destruction at shutdown.
  std::mutex wake_mu_;
  bool ctx_alive_ = false;
  std::thread thread_;
  std::atomic<std::thread::id> service_tid_{};
  std::atomic<bool> closing_{false};
  std::atomic<bool> stop_loop_{false};
  std::atomic<bool> ended_{false};
  bool close_from_callback_ = false;
  int64_t close_deadline_us_ = 0;

  CommandQueue cmds_;
  // True while the service thread may be blocked in poll: only then does a
  // new command need the wake-up syscall (a busy loop drains on its own).
  std::atomic<bool> polling_{true};

  // Event delivery. deliver_mu_ is held while the callback runs, so
  // set_callback from another thread waits for it (recursive: a callback may
  // cause an event of its own).
  std::recursive_mutex deliver_mu_;
  GenericFn cb_;
  void *user_;
  std::atomic<bool> pull_;
  EventQueue events_;
  EventPtr current_;  // the event last handed out by next_event
  std::atomic<bool> events_paused_{false};

  std::atomic<int> log_level_;   // log_line reads it on any thread; set_option may change it
  std::recursive_mutex log_mu_;  // held while the log callback runs
  LogInvoker log_invoke_ = nullptr;
  GenericFn log_cb_ = nullptr;
  void *log_user_ = nullptr;

  uint32_t pass_ = 1;
  // The clock (ms, wraps) when the last pass ended: what callbacks in the next
  // pass see, up to one poll sleep (at most a second, the tick) behind.
  uint32_t now_ms_ = 0;
  struct Timer;
  std::unique_ptr<Timer> tick_;
};

}  // namespace sw
