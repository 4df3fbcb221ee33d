// What ssews keeps in Redis and how it reads it back: key names, the two Lua
// scripts (publish, history), the pub/sub payload and stream entries decoded
// into Messages, and a resume computed from what Redis returned. Pure: no I/O,
// so it is unit-tested without a Redis.
//
// Layout under the prefix P (option broker_prefix):
//   P:meta         hash: `epoch` (random, set by the first publish) and `seq`
//                  (the cluster's one counter). One key, so a Redis that loses
//                  its data loses both and the next publish starts a new epoch.
//   P:s:<channel>  stream: the channel's history, entry id `<seq>-0`, fields
//                  i (message id), e (event), b ("1" binary), d (data)
//   P:ev:<channel> the highest seq trimmed from that stream (gap detection)
//   P:m:<channel>  pub/sub channel: live messages
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "message.h"

namespace sw {

namespace broker_keys {
std::string meta(const std::string &prefix);
std::string stream(const std::string &prefix, const std::string &channel);
std::string evicted(const std::string &prefix, const std::string &channel);
std::string pubsub(const std::string &prefix, const std::string &channel);
// The channel a pub/sub channel name carries; false when it is not ours.
bool channel_of_pubsub(const std::string &prefix, std::string_view name, std::string &channel);
}  // namespace broker_keys

// EVAL publish: KEYS meta, stream, evicted; ARGV candidate epoch, history,
// pub/sub channel, id ("" = assign), event, binary ("1"/"0"), data.
// Returns {epoch, seq, id}. One round trip does INCR, XADD (trimmed to
// history), the eviction mark and PUBLISH, atomically.
extern const char *const kPublishScript;
// EVAL history: KEYS meta, then stream and evicted per channel; ARGV XRANGE
// start. Returns {epoch, seq, evicted1, entries1, evicted2, entries2, ...}.
extern const char *const kHistoryScript;

// Ids assigned on the Redis side: "<epoch>-<seq>". True (with seq) when id
// is one of epoch's.
bool parse_cluster_id(std::string_view id, std::string_view epoch, uint64_t &seq);

// A live message (the pub/sub payload
// "<seq>\n<epoch>\n<id>\n<event>\n<b>\n<ms>\n<data>", ms the Redis clock
// when it was published, for the broker's lag) as a Message of channel; null
// when malformed. epoch receives its epoch, sent_ms the ms.
std::shared_ptr<Message> decode_live(const std::string &channel, std::string_view payload, std::string &epoch,
                                     uint64_t &sent_ms);
// A stream entry (id "<seq>-0", fields as name/value pairs) as a Message of
// channel; null when malformed.
std::shared_ptr<Message> decode_entry(
    const std::string &channel, std::string_view entry_id,
    const std::vector<std::pair<std::string_view, std::string_view>> &fields);

// One channel's part of a history reply.
struct ChannelHistory {
  uint64_t evicted = 0;             // highest seq trimmed away
  std::vector<MessagePtr> entries;  // in stream order
};

// Where XRANGE should start for a client resuming from last_id: after its seq
// when it is one of epoch's ("(<seq>-0"), else everything ("-": a publisher's
// own id is looked for, a stale one replays all that is kept).
std::string history_start(std::string_view last_id, const std::string &epoch);

// What a client that last saw last_id missed, from a history reply: like
// Hub::replay, in seq order without duplicates; gap when some of it is no
// longer kept (trimmed, a stale epoch, an unknown id, or no history at all
// while messages were published since).
struct BrokerReplay {
  std::vector<MessagePtr> messages;
  bool gap = false;
  uint64_t after = 0;  // the seq last_id names, when known: later live messages start after it
};
BrokerReplay broker_replay(std::string_view last_id, const std::string &epoch, uint64_t counter,
                           bool history_on, const std::vector<ChannelHistory> &channels);

}  // namespace sw
