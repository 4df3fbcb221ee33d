#include "hub.h"

#include <algorithm>
#include <chrono>
#include <random>

namespace sw {

static const std::vector<ConnId> kNoSubscribers;

std::string new_epoch() {
  // Start time in ms plus randomness, base36: differs at every start, so an
  // id from an earlier run is recognised as stale.
  static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  uint64_t ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
  std::random_device rd;
  uint64_t v = (ms << 12) ^ (rd() & 0xfff);
  std::string s;
  while (v) {
    s.insert(s.begin(), digits[v % 36]);
    v /= 36;
  }
  return s;
}

Hub::Hub(size_t history_len, std::string epoch) : history_len_(history_len), epoch_(std::move(epoch)) {}

MessagePtr Hub::publish(std::shared_ptr<Message> msg) {
  msg->seq = next_seq_++;
  if (msg->id.empty()) msg->id = epoch_ + "-" + std::to_string(msg->seq);
  MessagePtr shared = std::move(msg);
  if (history_len_ > 0) {
    Channel &ch = channel(shared->channel);
    ch.history.push_back(shared);
    while (ch.history.size() > history_len_) {
      ch.evicted_max_seq = ch.history.front()->seq;
      ch.history.pop_front();
    }
  }
  return shared;
}

Hub::Channel &Hub::channel(const std::string &name) {
  auto it = channels_.try_emplace(name).first;
  it->second.name = &it->first;
  return it->second;
}

Hub::Sub *Hub::ConnSubs::find(const Channel *ch) {
  if (one.ch == ch) return &one;
  if (more)
    for (auto &s : *more)
      if (s.ch == ch) return &s;
  return nullptr;
}

bool Hub::subscribe(ConnId conn, const std::string &channel) {
  Channel &ch = this->channel(channel);
  ConnSubs &cs = by_conn_[conn];
  if (cs.find(&ch)) return false;
  Sub s{&ch, ch.subs.size()};
  ch.subs.push_back(conn);
  if (!cs.one.ch) {
    cs.one = s;
  } else {
    if (!cs.more) cs.more.reset(new std::vector<Sub>);
    cs.more->push_back(s);
  }
  return true;
}

void Hub::detach(const Sub &s) {
  Channel &ch = *s.ch;
  if (s.idx + 1 != ch.subs.size()) {  // swap-remove keeps removal O(1)
    ConnId moved = ch.subs.back();
    ch.subs[s.idx] = moved;
    auto m = by_conn_.find(moved);
    if (m != by_conn_.end())
      if (Sub *ms = m->second.find(&ch)) ms->idx = s.idx;
  }
  ch.subs.pop_back();
}

bool Hub::unsubscribe(ConnId conn, const std::string &channel) {
  auto it = channels_.find(channel);
  if (it == channels_.end()) return false;
  auto bc = by_conn_.find(conn);
  if (bc == by_conn_.end()) return false;
  ConnSubs &cs = bc->second;
  Sub *found = cs.find(&it->second);
  if (!found) return false;
  Sub s = *found;
  bool others = cs.more && !cs.more->empty();
  if (found == &cs.one) {  // keep the others in subscription order
    cs.one = others ? cs.more->front() : Sub{};
    if (others) cs.more->erase(cs.more->begin());
  } else {
    cs.more->erase(cs.more->begin() + (found - cs.more->data()));
  }
  if (cs.more && cs.more->empty()) cs.more.reset();
  if (!cs.one.ch) by_conn_.erase(bc);
  detach(s);
  drop_if_unused(channel);
  return true;
}

void Hub::remove(ConnId conn) {
  auto bc = by_conn_.find(conn);
  if (bc == by_conn_.end()) return;
  ConnSubs cs = std::move(bc->second);
  by_conn_.erase(bc);
  std::vector<Sub> all;
  if (cs.one.ch) all.push_back(cs.one);
  if (cs.more) all.insert(all.end(), cs.more->begin(), cs.more->end());
  for (const Sub &s : all) {
    std::string name = *s.ch->name;  // the channel may go below
    detach(s);
    drop_if_unused(name);
  }
}

void Hub::drop_if_unused(const std::string &name) {
  auto it = channels_.find(name);
  if (it != channels_.end() && it->second.subs.empty() && it->second.history.empty()) channels_.erase(it);
}

const std::vector<ConnId> &Hub::subscribers(const std::string &channel) const {
  auto it = channels_.find(channel);
  return it == channels_.end() ? kNoSubscribers : it->second.subs;
}

std::vector<std::string> Hub::channels_of(ConnId conn) const {
  std::vector<std::string> out;
  auto it = by_conn_.find(conn);
  if (it == by_conn_.end()) return out;
  const ConnSubs &cs = it->second;
  if (cs.one.ch) out.push_back(*cs.one.ch->name);
  if (cs.more)
    for (const auto &s : *cs.more) out.push_back(*s.ch->name);
  return out;
}

bool Hub::parse_own_id(std::string_view id, uint64_t &seq) const {
  if (id.size() <= epoch_.size() + 1 || id.compare(0, epoch_.size(), epoch_) != 0 || id[epoch_.size()] != '-')
    return false;
  std::string_view digits = id.substr(epoch_.size() + 1);
  if (digits.size() > 19) return false;
  uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + uint64_t(c - '0');
  }
  if (v >= next_seq_) return false;  // an id from the future is not ours
  seq = v;
  return true;  // an id from the future is not ours
}

Hub::Replay Hub::replay(const std::vector<std::string> &channels, std::string_view last_id) const {
  Replay r;
  if (last_id.empty()) return r;  // a fresh client: nothing to catch up on

  // Find the cut-off: everything published after the message last_id names.
  uint64_t cutoff = 0;
  bool known = parse_own_id(last_id, cutoff);
  if (!known) {
    for (const auto &name : channels) {
      auto it = channels_.find(name);
      if (it == channels_.end()) continue;
      for (const auto &m : it->second.history)
        if (m->id == last_id) {
          cutoff = m->seq;
          known = true;
        }
    }
  }
  if (!known) r.gap = true;  // stale epoch or unknown id: send all we still have
  // Without history nothing can be replayed: anything published since is a gap.
  if (history_len_ == 0 && cutoff + 1 < next_seq_) r.gap = true;

  for (const auto &name : channels) {
    auto it = channels_.find(name);
    if (it == channels_.end()) continue;
    const Channel &ch = it->second;
    if (ch.evicted_max_seq > cutoff) r.gap = true;
    for (const auto &m : ch.history)
      if (m->seq > cutoff) r.messages.push_back(m);
  }
  std::sort(r.messages.begin(), r.messages.end(),
            [](const MessagePtr &a, const MessagePtr &b) { return a->seq < b->seq; });
  // A channel listed twice must not replay twice.
  r.messages.erase(std::unique(r.messages.begin(), r.messages.end()), r.messages.end());
  return r;
}

}  // namespace sw
