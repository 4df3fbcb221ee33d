#include "broker/broker_cursor.h"

namespace sw {

void ChannelCursor::live(const MessagePtr &m, std::vector<MessagePtr> &out) {
  if (catching_up_) {
    held_.push_back(m);
    return;
  }
  // Outside a catch-up pub/sub delivers each message once, in order: no
  // dedup here (a position taken from the counter may be ahead of a message
  // still on its way, which must not be dropped).
  if (m->seq > last_) last_ = m->seq;
  out.push_back(m);
}

void ChannelCursor::end_catch_up(const std::vector<MessagePtr> &entries, std::vector<MessagePtr> &out) {
  for (const auto &m : entries)
    if (m->seq > last_) {
      last_ = m->seq;
      out.push_back(m);
    }
  for (const auto &m : held_)
    if (m->seq > last_) {
      last_ = m->seq;
      out.push_back(m);
    }
  held_.clear();
  catching_up_ = false;
}

}  // namespace sw
