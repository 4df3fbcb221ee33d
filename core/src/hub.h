// Channels, subscriptions and per-channel history: the publish/subscribe core,
// free of I/O. The server asks it who subscribes to what and what a resuming
// client missed; it never touches a socket.
#pragma once
#include <cstdint>
#include <memory>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "message.h"

namespace sw {

using ConnId = uint64_t;

// A fresh epoch: start time and randomness in base36, different at every call.
std::string new_epoch();

class Hub {
 public:
  // history_len: messages kept per channel (0 = none). epoch: the prefix of
  // assigned ids, different at every start so stale ids are recognised.
  Hub(size_t history_len, std::string epoch);

  const std::string &epoch() const { return epoch_; }

  // Gives msg the next sequence number (and, when it has none, the id
  // "<epoch>-<seq>") and records it in its channel's history.
  MessagePtr publish(std::shared_ptr<Message> msg);

  // True when conn was not subscribed to channel before.
  bool subscribe(ConnId conn, const std::string &channel);
  bool unsubscribe(ConnId conn, const std::string &channel);
  // Removes every subscription of conn (the connection closed).
  void remove(ConnId conn);

  // Subscribers of a channel (empty when none). Valid until the next change.
  const std::vector<ConnId> &subscribers(const std::string &channel) const;
  std::vector<std::string> channels_of(ConnId conn) const;

  // What a client that last saw last_id missed on the given channels, in
  // publish order, without duplicates. gap is true when messages it may have
  // missed are no longer in history (an expired, stale-epoch or unknown id).
  struct Replay {
    std::vector<MessagePtr> messages;
    bool gap = false;
  };
  Replay replay(const std::vector<std::string> &channels, std::string_view last_id) const;

  size_t channel_count() const { return channels_.size(); }
  // Messages held in every channel's history together.
  size_t history_size() const {
    size_t n = 0;
    for (const auto &kv : channels_) n += kv.second.history.size();
    return n;
  }

 private:
  struct Channel {
    const std::string *name = nullptr;  // its key in channels_ (nodes do not move)
    std::vector<ConnId> subs;
    std::deque<MessagePtr> history;
    uint64_t evicted_max_seq = 0;  // highest seq that left history
  };
  // One subscription: where the connection sits in its channel's subs, so
  // removal is O(1) without a per-channel index map.
  struct Sub {
    Channel *ch = nullptr;
    size_t idx = 0;
  };
  // A connection's subscriptions; the first inline, as most have just one.
  struct ConnSubs {
    Sub one;
    std::unique_ptr<std::vector<Sub>> more;  // the others, in subscription order
    Sub *find(const Channel *ch);
  };
  Channel &channel(const std::string &name);  // finds or makes it
  void detach(const Sub &s);                  // takes the subscriber out of s.ch->subs
  void drop_if_unused(const std::string &name);
  bool parse_own_id(std::string_view id, uint64_t &seq) const;

  size_t history_len_;
  std::string epoch_;
  uint64_t next_seq_ = 1;
  std::unordered_map<std::string, Channel> channels_;
  std::unordered_map<ConnId, ConnSubs> by_conn_;
};

}  // namespace sw
