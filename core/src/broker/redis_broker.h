// The hub's link to Redis (option `broker`): publishes go to Redis, which
// assigns their ids and keeps their history; live messages come back from
// Redis pub/sub for the channels this node has subscribers for; resumes are
// served from Redis streams. See docs/scaling.md for the model.
//
// Threading: all Redis I/O runs on the broker's own thread, with hiredis'
// async API on a poll() loop of its own. The service thread never waits on
// Redis: it queues requests here (a mutex and an eventfd), and everything
// coming back (messages, publish results, resumes, state changes) reaches it
// through the engine's command queue (Hooks::post).
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "broker/broker_url.h"
#include "broker/broker_wire.h"
#include "message.h"
#include "status.h"

namespace sw {

class RedisBroker {
 public:
  struct Hooks {
    // Runs fn on the service thread (the engine's command queue), counting
    // bytes against max_pending_bytes; false when it cannot (full, closing).
    std::function<bool(size_t bytes, std::function<void()> fn)> post;
    // Service thread: messages for local subscribers, in order per channel.
    std::function<void(const std::vector<MessagePtr> &)> deliver;
    // Service thread: a change worth a log line at level (log.h); code != 0
    // also makes an error event for the application.
    std::function<void(int level, int code, const std::string &msg)> report;
    // Service thread: subscribers of channel may have missed messages (Redis
    // trimmed them before this node caught up).
    std::function<void(const std::string &channel)> gap;
  };
  // Service thread: the publish's outcome (its id, or an SSEWS_EBROKER status).
  using PublishDone = std::function<void(const Status &st, const std::string &id)>;
  // Service thread: a resume's outcome; ok false when Redis could not be asked.
  using ReplayDone = std::function<void(bool ok, BrokerReplay r)>;

  RedisBroker(BrokerAddr addr, std::string prefix, size_t history, size_t max_pending_bytes, Hooks hooks);
  ~RedisBroker();
  RedisBroker(const RedisBroker &) = delete;
  RedisBroker &operator=(const RedisBroker &) = delete;

  // Starts the thread and waits (up to wait_ms) for Redis to be ready, so a
  // node opened next to a running Redis publishes at once. A Redis that is
  // not there is no error: the node serves, and connects when it comes.
  Status start(int wait_ms);
  void stop();  // joins the thread; pending results are dropped

  // Any thread.
  bool up() const { return up_.load(std::memory_order_acquire); }
  // What the metrics show of the link (any thread).
  struct Figures {
    bool up = false;
    size_t pending_bytes = 0;  // publishes queued for Redis and not yet answered
    double lag_seconds = 0;    // the last live message: Redis' clock at publish to its arrival here
    uint64_t received = 0;     // live messages received from Redis pub/sub
    uint64_t disconnects = 0;  // times the link to Redis was lost (or could not be made)
  };
  Figures figures() const;
  const BrokerAddr &addr() const { return addr_; }
  // Queues m for Redis; done (may be empty) gets the outcome. Fails at once
  // (SSEWS_EBROKER) while Redis is away, SSEWS_EFULL over max_pending_bytes.
  Status publish(std::shared_ptr<Message> m, PublishDone done);

  // Service thread.
  // The node has (on) or no longer has (off) subscribers for channel.
  void listen(const std::string &channel, bool on);
  // What a connection that last saw last_id missed on channels, asked once
  // those channels are subscribed here, so nothing falls between the history
  // and the live messages that follow. last_id empty: just that wait.
  void replay(std::vector<std::string> channels, std::string last_id, ReplayDone done);

  struct Impl;  // the broker thread's state (redis_broker.cpp)

 private:
  void run();
  void wake();

  BrokerAddr addr_;
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> up_{false};
  std::atomic<bool> stop_{false};
  std::atomic<bool> settled_{false};  // the first connection attempt is over
  std::atomic<size_t> pending_bytes_{0};
  std::atomic<int64_t> lag_ms_{0};
  std::atomic<uint64_t> received_{0}, disconnects_{0};
  const size_t max_pending_bytes_;
  int wake_fd_ = -1;
  std::thread thread_;
  friend struct Impl;
};

}  // namespace sw
