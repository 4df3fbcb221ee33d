// Backpressure for senders, as Node's ws has it: what a connection holds
// queued and not yet written (its bufferedAmount), a drain event when a
// queue that passed send_high_water is back at send_low_water, and, for a
// publisher, how far behind a channel's slowest subscriber is. Presence
// (who is on a channel) comes from the same look at the hub.
#include <algorithm>

#include "engine.h"
#include "server/server_role.h"
#include "sync_call.h"

namespace sw {

// The queue as max_queue_bytes counts it, plus what a write left over
// (own sockets; lws keeps a partial write of its own connections unseen).
size_t ServerRole::buffered_bytes(const Conn *c) const {
  size_t n = c->q.bytes();
  if (c->more_) n += c->more_->out_rest.size();
  return n;
}

void ServerRole::check_high(Conn *c) {
  if (!c->over_high && buffered_bytes(c) > opts().send_high_water) c->over_high = true;
}

void ServerRole::check_low(Conn *c) {
  if (!c->over_high || buffered_bytes(c) > opts().send_low_water) return;
  c->over_high = false;
  m_.add(kMDrainEvents);
  if (c->open_reported && !c->closing) e_.emit(make_event(kEvDrain, c->id, c->proto));
}

Status ServerRole::buffered(ConnId conn, size_t &out) {
  Status st = check_live(conn);
  if (st.failed()) return st;
  bool found = false;
  st = sync_call(e_, [&] {
    if (const Conn *c = find(conn)) found = true, out = buffered_bytes(c);
  });
  if (st.failed()) return st;
  if (!found) return fail(SSEWS_ENOCONN, "no open connection " + std::to_string(conn));
  return Status::ok();
}

Status ServerRole::channel_info(const char *channel, bool list, ChannelInfo &out) {
  Status st = check_channel(channel);
  if (st.failed()) return st;
  std::string ch = channel;
  return sync_call(e_, [&] {
    for (ConnId id : hub_.subscribers(ch)) {
      const Conn *c = find(id);
      if (!c || !c->established || c->closing) continue;
      out.subscribers++;
      out.max_queued_bytes = std::max(out.max_queued_bytes, buffered_bytes(c));
      out.max_queued_messages = std::max(out.max_queued_messages, c->q.size());
      if (list) out.conns.push_back(id);
    }
  });
}

}  // namespace sw
