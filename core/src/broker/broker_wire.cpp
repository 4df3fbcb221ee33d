#include "broker/broker_wire.h"

#include <algorithm>

namespace sw {

namespace broker_keys {
std::string meta(const std::string &prefix) {
  return prefix + ":meta";
}
std::string stream(const std::string &prefix, const std::string &channel) {
  return prefix + ":s:" + channel;
}
std::string evicted(const std::string &prefix, const std::string &channel) {
  return prefix + ":ev:" + channel;
}
std::string pubsub(const std::string &prefix, const std::string &channel) {
  return prefix + ":m:" + channel;
}
bool channel_of_pubsub(const std::string &prefix, std::string_view name, std::string &channel) {
  if (name.size() < prefix.size() + 3 || name.compare(0, prefix.size(), prefix) != 0 ||
      name.compare(prefix.size(), 3, ":m:") != 0)
    return false;
  channel = std::string(name.substr(prefix.size() + 3));
  return true;
}
}  // namespace broker_keys

// Exact trimming (XTRIM MAXLEN, not ~) so the eviction mark is exact: one
// entry leaves per publish once the stream is full, O(1).
const char *const kPublishScript = R"lua(
local ep = redis.call('HGET', KEYS[1], 'epoch')
if not ep then
  ep = ARGV[1]
  redis.call('HSET', KEYS[1], 'epoch', ep)
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local id = ARGV[4]
if id == '' then id = ep .. '-' .. seq end
local hist = tonumber(ARGV[2])
if hist > 0 then
  redis.call('XADD', KEYS[2], seq .. '-0', 'i', id, 'e', ARGV[5], 'b', ARGV[6], 'd', ARGV[7])
  local n = redis.call('XLEN', KEYS[2])
  if n > hist then
    local old = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', n - hist)
    redis.call('XTRIM', KEYS[2], 'MAXLEN', hist)
    redis.call('SET', KEYS[3], string.match(old[#old][1], '^%d+'))
  end
end
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('PUBLISH', ARGV[3], seq .. '\n' .. ep .. '\n' .. id .. '\n' .. ARGV[5] .. '\n' .. ARGV[6] .. '\n' ..
  string.format('%d', ms) .. '\n' .. ARGV[7])
return {ep, seq, id}
)lua";

const char *const kHistoryScript = R"lua(
local out = {redis.call('HGET', KEYS[1], 'epoch') or '', redis.call('HGET', KEYS[1], 'seq') or '0'}
for i = 2, #KEYS, 2 do
  out[#out + 1] = redis.call('GET', KEYS[i + 1]) or '0'
  out[#out + 1] = redis.call('XRANGE', KEYS[i], ARGV[1], '+')
end
return out
)lua";

namespace {

bool parse_u64(std::string_view s, uint64_t &out) {
  if (s.empty() || s.size() > 19) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + uint64_t(c - '0');
  }
  out = v;
  return true;
}

// Splits off the text up to the next '\n'.
bool next_line(std::string_view &rest, std::string_view &line) {
  size_t nl = rest.find('\n');
  if (nl == std::string_view::npos) return false;
  line = rest.substr(0, nl);
  rest.remove_prefix(nl + 1);
  return true;
}

}  // namespace

bool parse_cluster_id(std::string_view id, std::string_view epoch, uint64_t &seq) {
  if (epoch.empty() || id.size() <= epoch.size() + 1 || id.compare(0, epoch.size(), epoch) != 0 ||
      id[epoch.size()] != '-')
    return false;
  return parse_u64(id.substr(epoch.size() + 1), seq) && seq > 0;
}

std::shared_ptr<Message> decode_live(const std::string &channel, std::string_view payload, std::string &epoch,
                                     uint64_t &sent_ms) {
  std::string_view seq, ep, id, event, bin, ms;
  if (!next_line(payload, seq) || !next_line(payload, ep) || !next_line(payload, id) ||
      !next_line(payload, event) || !next_line(payload, bin) || !next_line(payload, ms))
    return nullptr;
  auto m = std::make_shared<Message>();
  if (!parse_u64(seq, m->seq) || m->seq == 0 || ep.empty() || id.empty() || !parse_u64(ms, sent_ms))
    return nullptr;
  epoch = std::string(ep);
  m->channel = channel;
  m->id = std::string(id);
  m->event = std::string(event);
  m->binary = bin == "1";
  m->payload = WireBuf(payload.data(), payload.size());
  return m;
}

std::shared_ptr<Message> decode_entry(
    const std::string &channel, std::string_view entry_id,
    const std::vector<std::pair<std::string_view, std::string_view>> &fields) {
  size_t dash = entry_id.find('-');
  auto m = std::make_shared<Message>();
  if (dash == std::string_view::npos || !parse_u64(entry_id.substr(0, dash), m->seq) || m->seq == 0)
    return nullptr;
  m->channel = channel;
  bool have_data = false;
  for (const auto &f : fields) {
    if (f.first == "i")
      m->id = std::string(f.second);
    else if (f.first == "e")
      m->event = std::string(f.second);
    else if (f.first == "b")
      m->binary = f.second == "1";
    else if (f.first == "d")
      m->payload = WireBuf(f.second.data(), f.second.size()), have_data = true;
  }
  if (m->id.empty() || !have_data) return nullptr;
  return m;
}

std::string history_start(std::string_view last_id, const std::string &epoch) {
  uint64_t seq;
  if (parse_cluster_id(last_id, epoch, seq)) return "(" + std::to_string(seq) + "-0";
  return "-";
}

BrokerReplay broker_replay(std::string_view last_id, const std::string &epoch, uint64_t counter,
                           bool history_on, const std::vector<ChannelHistory> &channels) {
  BrokerReplay r;
  if (last_id.empty()) return r;  // a fresh client: nothing to catch up on
  uint64_t cutoff = 0;
  bool known = parse_cluster_id(last_id, epoch, cutoff) && cutoff <= counter;
  if (!known) {  // a publisher's own id: find it in the channels' history
    for (const auto &ch : channels)
      for (const auto &m : ch.entries)
        if (m->id == last_id) {
          cutoff = m->seq;
          known = true;
        }
  }
  if (!known) r.gap = true;  // stale epoch or unknown id: send all that is kept
  r.after = cutoff;
  if (!history_on && cutoff < counter) r.gap = true;
  for (const auto &ch : channels) {
    if (ch.evicted > cutoff) r.gap = true;
    for (const auto &m : ch.entries)
      if (m->seq > cutoff) r.messages.push_back(m);
  }
  std::sort(r.messages.begin(), r.messages.end(),
            [](const MessagePtr &a, const MessagePtr &b) { return a->seq < b->seq; });
  // A channel listed twice must not replay twice.
  r.messages.erase(std::unique(r.messages.begin(), r.messages.end(),
                               [](const MessagePtr &a, const MessagePtr &b) { return a->seq == b->seq; }),
                   r.messages.end());
  return r;
}

}  // namespace sw
