// One channel a node listens to: how far it has delivered, and what to do
// with live messages while it catches up from the channel's stream after
// Redis was away (or the node fell behind). Pure, so the no-loss,
// no-duplicate, in-order rules are unit-tested without a Redis.
//
// Live messages come on the pub/sub connection, the catch-up on the command
// connection, in no fixed order between them; the catch-up is asked for only
// once the SUBSCRIBE is confirmed, so together they cover everything, and the
// seq (one cluster counter, increasing per channel) drops what both carry.
#pragma once
#include <cstdint>
#include <vector>

#include "message.h"

namespace sw {

class ChannelCursor {
 public:
  // A live message. Appends it to out unless a catch-up is in flight (then it
  // is held) or it was already delivered.
  void live(const MessagePtr &m, std::vector<MessagePtr> &out);
  // A catch-up starts (its XRANGE goes out): live messages are held from now.
  void begin_catch_up() { catching_up_ = true; }
  // The catch-up's entries (the stream after last()) arrived: appends, in
  // order and once each, those and then the held live messages.
  void end_catch_up(const std::vector<MessagePtr> &entries, std::vector<MessagePtr> &out);
  // The catch-up failed (Redis went away again): keep holding; a new one
  // will start.
  bool catching_up() const { return catching_up_; }
  // Everything up to seq happened before this node listened: a later
  // catch-up starts after it.
  void position(uint64_t seq) {
    if (seq > last_) last_ = seq;
  }
  // Delivery of messages up to seq failed (the service thread's queue was
  // full): go back to before them, to fetch them again from the stream.
  void rewind(uint64_t seq) {
    if (seq < last_) last_ = seq;
  }
  // Redis lost its data (a new epoch): the old seqs mean nothing any more.
  void reset() { last_ = 0; }
  uint64_t last() const { return last_; }

 private:
  uint64_t last_ = 0;  // highest seq delivered
  bool catching_up_ = false;
  std::vector<MessagePtr> held_;
};

}  // namespace sw
