// The server role's side of the broker (option `broker`, broker/redis_broker.h):
// which channels this node listens to, publishes sent to Redis, resumes read
// from Redis, and what comes back, all on the service thread. Without the
// option only the hub_* wrappers run, and they only touch the hub.
#include <libwebsockets.h>

#include "engine.h"
#include "log.h"
#include "server/server_role.h"

namespace sw {

bool ServerRole::hub_subscribe(ConnId conn, const std::string &channel) {
  if (!hub_.subscribe(conn, channel)) return false;
  // The node's first subscriber of a channel: listen to it in Redis.
  if (broker_ && hub_.subscribers(channel).size() == 1) broker_->listen(channel, true);
  return true;
}

bool ServerRole::hub_unsubscribe(ConnId conn, const std::string &channel) {
  if (!hub_.unsubscribe(conn, channel)) return false;
  if (broker_ && hub_.subscribers(channel).empty()) broker_->listen(channel, false);
  return true;
}

void ServerRole::hub_remove(ConnId conn) {
  if (!broker_) {
    hub_.remove(conn);
    return;
  }
  std::vector<std::string> channels = hub_.channels_of(conn);
  hub_.remove(conn);
  for (const auto &ch : channels)
    if (hub_.subscribers(ch).empty()) broker_->listen(ch, false);
}

Status ServerRole::start_broker() {
  const Options &o = opts();
  if (o.broker.empty()) return Status::ok();
  BrokerAddr addr;
  std::string err;
  if (!parse_broker_url(o.broker, addr, err))
    return fail(SSEWS_EOPTION, "option 'broker': '" + o.broker + "' " + err);
  RedisBroker::Hooks h;
  h.post = [this](size_t bytes, std::function<void()> fn) {
    return !e_.enqueue(bytes, std::move(fn)).failed();
  };
  h.deliver = [this](const std::vector<MessagePtr> &msgs) {
    for (const auto &m : msgs) fan_out(m);
  };
  h.report = [this](int level, int code, const std::string &msg) { broker_report(level, code, msg); };
  h.gap = [this](const std::string &channel) { broker_gap(channel); };
  broker_ =
      std::make_unique<RedisBroker>(addr, o.broker_prefix, o.history, o.max_pending_bytes, std::move(h));
  // Waits a moment for Redis, so a node opened next to a running one can
  // publish as soon as ssews_open returns; an absent Redis is reported, not fatal.
  return broker_->start(static_cast<int>(o.handshake_timeout) * 200);
}

Status ServerRole::broker_publish(std::shared_ptr<Message> m) {
  // Every node, this one too, gets the message back from Redis pub/sub, so
  // all deliver one channel in the same order.
  return broker_->publish(std::move(m), nullptr);
}

void ServerRole::broker_resume(Conn *c, const std::string &last_id) {
  c->resuming = true;
  ConnId id = c->id;
  broker_->replay(hub_.channels_of(id), last_id,
                  [this, id](bool ok, BrokerReplay r) { resume_done(id, ok, std::move(r)); });
}

bool ServerRole::hold_for_resume(Conn *c, const MessagePtr &m) {
  if (!c->resuming) return false;
  ConnMore &more = c->more();
  more.held_bytes += m->payload.size();
  if (more.held_bytes > opts().max_queue_bytes) {
    more.held.clear();
    c->resuming = false;
    fail_conn(c, 1008, SSEWS_ESLOW,
              "slow resume: messages waiting for the history from Redis passed max_queue_bytes (" +
                  std::to_string(opts().max_queue_bytes) + "), connection closed");
    return true;
  }
  more.held.push_back(m);
  return true;
}

void ServerRole::resume_done(ConnId id, bool ok, BrokerReplay r) {
  Conn *c = find(id);
  if (!c || !c->resuming) return;
  c->resuming = false;
  ConnMore &m = c->more();
  std::vector<MessagePtr> held = std::move(m.held);
  m.held_bytes = 0;
  // Redis could not be asked: say so, as for a history that ran out.
  if (!ok || r.gap) queue_to(c, gap_notice(m.last_event_id));
  uint64_t seen = r.after;
  for (const auto &msg : r.messages) {
    queue_to(c, msg);
    if (msg->seq > seen) seen = msg->seq;
  }
  // What arrived live meanwhile, less what the history already carried.
  for (const auto &msg : held)
    if (!msg->seq || msg->seq > seen) queue_to(c, msg);
  m.last_event_id.clear();
  c->trim_more();
  mark_dirty(c);
}

void ServerRole::broker_report(int level, int code, const std::string &msg) {
  int lll = level == kLogError ? LLL_ERR : level == kLogWarn ? LLL_WARN : LLL_NOTICE;
  e_.log_line(level, msg, lll, (msg + "\n").c_str());
  if (!code) return;
  EventPtr ev = make_event(kEvError, 0, Proto{});
  ev->code = code;
  ev->reason = msg;
  e_.emit(std::move(ev));
}

void ServerRole::broker_gap(const std::string &channel) {
  // Resuming subscribers learn of it from the gap notice; those online get it now.
  MessagePtr gap = gap_notice("");
  std::vector<ConnId> subs = hub_.subscribers(channel);
  for (ConnId id : subs)
    if (Conn *c = find(id)) queue_to(c, gap);
  broker_report(
      kLogError, SSEWS_EGAP,
      "broker: channel '" + channel +
          "': Redis trimmed messages before this node caught up; its subscribers here may have missed "
          "some");
}

}  // namespace sw
