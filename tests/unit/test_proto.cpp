// Unit tests of the pure modules of core/src: the hub (channels, subscriptions,
// history and replay), the bounded outbound queue, message encodings, the
// ssews.v1 codec, the RFC 6455 rules, base64, UTF-8 validation, static file
// path resolution and option parsing. No I/O except the temporary directory
// the static file tests build.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

// cmocka 1.1.5's header has no extern "C" guard of its own. It comes after the
// C++ headers: its fail() macro would clash with std::basic_ios::fail().
extern "C" {
#include <cmocka.h>
}

#include "test_util.h"
#include "base64.h"
#include "hub.h"
#include "message.h"
#include "option_table.h"
#include "options.h"
#include "outq.h"
#include "static_path.h"
#include "utf8.h"
#include "v1_codec.h"
#include "ws_frame.h"
#include "ws_rules.h"

using namespace std::literals;  // "...\0..."s and sv keep embedded NULs

namespace {

// ---------------------------------------------------------------------------
// Helpers

using test_util::escape;

void expect_str_at(std::string_view got, std::string_view want, const char *file, int line) {
  if (got == want) return;
  print_error("expected \"%s\"\n     got \"%s\"\n", escape(want).c_str(), escape(got).c_str());
  _fail(file, line);
}
#define EXPECT_STR(got, want) expect_str_at((got), (want), __FILE__, __LINE__)

void expect_contains_at(std::string_view hay, std::string_view needle, const char *file, int line) {
  if (hay.find(needle) != std::string_view::npos) return;
  print_error("\"%s\" does not contain \"%s\"\n", escape(hay).c_str(), escape(needle).c_str());
  _fail(file, line);
}
#define EXPECT_CONTAINS(hay, needle) expect_contains_at((hay), (needle), __FILE__, __LINE__)

// Prints the failing input with the location of the caller.
#define EXPECT_TRUE_FOR(cond, input)                                         \
  do {                                                                       \
    if (!(cond)) {                                                           \
      print_error("%s is false for \"%s\"\n", #cond, escape(input).c_str()); \
      _fail(__FILE__, __LINE__);                                             \
    }                                                                        \
  } while (0)

std::shared_ptr<sw::Message> mk(const std::string &channel, std::string_view payload = "x",
                                const std::string &id = "") {
  auto m = std::make_shared<sw::Message>();
  m->channel = channel;
  m->id = id;
  m->payload = sw::WireBuf(payload.data(), payload.size());
  return m;
}

std::vector<uint64_t> seqs(const std::vector<sw::MessagePtr> &v) {
  std::vector<uint64_t> out;
  for (const auto &m : v) out.push_back(m->seq);
  return out;
}

std::string seq_list(const std::vector<uint64_t> &v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); i++) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

void expect_seqs_at(const std::vector<sw::MessagePtr> &got, const std::vector<uint64_t> &want,
                    const char *file, int line) {
  std::vector<uint64_t> g = seqs(got);
  if (g == want) return;
  print_error("expected seqs %s\n     got seqs %s\n", seq_list(want).c_str(), seq_list(g).c_str());
  _fail(file, line);
}
#define EXPECT_SEQS(got, ...) expect_seqs_at((got), std::vector<uint64_t> __VA_ARGS__, __FILE__, __LINE__)

std::vector<sw::ConnId> sorted(std::vector<sw::ConnId> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// ===========================================================================
// Hub

void test_hub_publish_seq_and_ids(void **) {
  sw::Hub h(10, "EP");
  EXPECT_STR(h.epoch(), "EP");
  auto m1 = mk("a");
  const sw::Message *raw1 = m1.get();
  sw::MessagePtr p1 = h.publish(std::move(m1));
  assert_ptr_equal(p1.get(), raw1);  // the same object, not a copy
  assert_int_equal(p1->seq, 1);
  EXPECT_STR(p1->id, "EP-1");

  sw::MessagePtr p2 = h.publish(mk("b"));
  assert_int_equal(p2->seq, 2);
  EXPECT_STR(p2->id, "EP-2");

  // A publisher-given id is kept; the sequence still advances.
  sw::MessagePtr p3 = h.publish(mk("a", "x", "custom-id"));
  assert_int_equal(p3->seq, 3);
  EXPECT_STR(p3->id, "custom-id");

  sw::MessagePtr p4 = h.publish(mk("c"));
  assert_int_equal(p4->seq, 4);
  EXPECT_STR(p4->id, "EP-4");

  // Sequence numbers are endpoint-wide, not per channel, and keep increasing.
  uint64_t last = p4->seq;
  for (int i = 0; i < 50; i++) {
    sw::MessagePtr p = h.publish(mk(i % 2 ? "a" : "z"));
    assert_true(p->seq == last + 1);
    EXPECT_STR(p->id, "EP-" + std::to_string(p->seq));
    last = p->seq;
  }
}

void test_hub_history_bounded(void **) {
  sw::Hub h(3, "E");
  for (int i = 1; i <= 10; i++) h.publish(mk("a", std::to_string(i)));
  for (int i = 1; i <= 2; i++) h.publish(mk("b", std::to_string(i)));
  // Own id of the very first message: everything newer, but channel a has
  // only its last 3 (seq 8, 9, 10) and channel b both of its (11, 12).
  sw::Hub::Replay r = h.replay({"a"}, "E-7");
  assert_false(r.gap);
  EXPECT_SEQS(r.messages, {8, 9, 10});
  r = h.replay({"b"}, "E-0");
  assert_false(r.gap);
  EXPECT_SEQS(r.messages, {11, 12});
  // Oldest first out: the stale id gets exactly what is left.
  r = h.replay({"a", "b"}, "stale-1");
  assert_true(r.gap);
  EXPECT_SEQS(r.messages, {8, 9, 10, 11, 12});
  EXPECT_STR(r.messages[0]->payload.view(), "8");
}

void test_hub_history_zero_keeps_nothing(void **) {
  sw::Hub h(0, "E");
  h.publish(mk("a"));
  h.publish(mk("a"));
  assert_int_equal(h.channel_count(), 0);  // no history: no channel record at all
  sw::Hub::Replay r = h.replay({"a"}, "other-1");
  assert_true(r.gap);
  assert_true(r.messages.empty());
}

void test_hub_subscribe_unsubscribe(void **) {
  sw::Hub h(0, "E");
  assert_true(h.subscribe(1, "a"));
  assert_false(h.subscribe(1, "a"));  // already subscribed
  assert_true(h.subscribe(2, "a"));
  assert_true(h.subscribe(1, "b"));
  assert_int_equal(h.channel_count(), 2);
  assert_true(h.subscribers("a") == std::vector<sw::ConnId>({1, 2}));
  assert_true(h.subscribers("b") == std::vector<sw::ConnId>({1}));
  assert_true(h.subscribers("nope").empty());
  assert_int_equal(h.channel_count(), 2);  // asking does not create a channel
  assert_true(h.channels_of(1) == std::vector<std::string>({"a", "b"}));
  assert_true(h.channels_of(2) == std::vector<std::string>({"a"}));
  assert_true(h.channels_of(99).empty());

  assert_false(h.unsubscribe(1, "nope"));  // no such channel
  assert_false(h.unsubscribe(3, "a"));     // not a subscriber
  assert_int_equal(h.channel_count(), 2);
  assert_true(h.unsubscribe(1, "a"));
  assert_false(h.unsubscribe(1, "a"));  // second time: nothing to do
  assert_true(h.subscribers("a") == std::vector<sw::ConnId>({2}));
  assert_true(h.channels_of(1) == std::vector<std::string>({"b"}));

  assert_true(h.unsubscribe(1, "b"));
  assert_int_equal(h.channel_count(), 1);  // b had no one left and no history
  assert_true(h.channels_of(1).empty());
  assert_true(h.subscribers("b").empty());

  // Subscribing again after leaving works.
  assert_true(h.subscribe(1, "a"));
  assert_true(sorted(h.subscribers("a")) == std::vector<sw::ConnId>({1, 2}));
}

void test_hub_swap_remove_keeps_others(void **) {
  sw::Hub h(0, "E");
  for (sw::ConnId c = 1; c <= 5; c++) assert_true(h.subscribe(c, "ch"));
  // Removing from the middle moves the last one into the hole.
  assert_true(h.unsubscribe(2, "ch"));
  assert_true(h.subscribers("ch") == std::vector<sw::ConnId>({1, 5, 3, 4}));
  // The moved one's position was updated: it can be removed correctly.
  assert_true(h.unsubscribe(5, "ch"));
  assert_true(h.subscribers("ch") == std::vector<sw::ConnId>({1, 4, 3}));
  // First one.
  assert_true(h.unsubscribe(1, "ch"));
  assert_true(h.subscribers("ch") == std::vector<sw::ConnId>({3, 4}));
  // Last one (no swap needed).
  assert_true(h.unsubscribe(4, "ch"));
  assert_true(h.subscribers("ch") == std::vector<sw::ConnId>({3}));
  assert_false(h.subscribe(3, "ch"));
  assert_true(h.subscribe(4, "ch"));
  assert_true(h.subscribers("ch") == std::vector<sw::ConnId>({3, 4}));
  // remove() also swap-removes.
  assert_true(h.subscribe(6, "ch"));
  h.remove(3);
  assert_true(h.subscribers("ch") == std::vector<sw::ConnId>({6, 4}));
  assert_true(h.unsubscribe(6, "ch"));
  assert_true(h.subscribers("ch") == std::vector<sw::ConnId>({4}));
}

void test_hub_remove(void **) {
  sw::Hub h(2, "E");
  h.publish(mk("hist"));  // a channel with history and no subscribers
  assert_int_equal(h.channel_count(), 1);
  assert_true(h.subscribe(1, "a"));
  assert_true(h.subscribe(1, "b"));
  assert_true(h.subscribe(1, "hist"));
  assert_true(h.subscribe(2, "b"));
  assert_int_equal(h.channel_count(), 3);
  h.remove(1);
  assert_true(h.channels_of(1).empty());
  assert_true(h.subscribers("a").empty());
  assert_true(h.subscribers("b") == std::vector<sw::ConnId>({2}));
  assert_true(h.subscribers("hist").empty());
  // a is gone; b still has conn 2; hist keeps its history.
  assert_int_equal(h.channel_count(), 2);
  assert_false(h.unsubscribe(1, "b"));
  h.remove(1);   // twice: no-op
  h.remove(42);  // never seen: no-op
  assert_true(h.subscribers("b") == std::vector<sw::ConnId>({2}));
  h.remove(2);
  assert_int_equal(h.channel_count(), 1);
  sw::Hub::Replay r = h.replay({"hist"}, "E-0");
  EXPECT_SEQS(r.messages, {1});
}

void test_hub_channel_with_history_kept(void **) {
  sw::Hub h(1, "E");
  assert_true(h.subscribe(1, "x"));
  h.publish(mk("x"));
  assert_true(h.unsubscribe(1, "x"));
  assert_int_equal(h.channel_count(), 1);  // history stays for resuming clients
  assert_true(h.subscribers("x").empty());
  assert_true(h.subscribe(1, "y"));
  assert_int_equal(h.channel_count(), 2);
  assert_true(h.unsubscribe(1, "y"));
  assert_int_equal(h.channel_count(), 1);
}

// Random subscribe/unsubscribe/remove against a plain model.
void test_hub_model(void **) {
  sw::Hub h(0, "E");
  std::map<std::string, std::set<sw::ConnId>> model;
  const char *names[] = {"a", "b", "c", "d"};
  uint32_t rng = 12345;
  auto next = [&rng]() {
    rng = rng * 1103515245u + 12345u;
    return (rng >> 16) & 0x7fff;
  };
  for (int step = 0; step < 5000; step++) {
    sw::ConnId conn = 1 + next() % 8;
    std::string chan = names[next() % 4];
    unsigned op = next() % 10;
    if (op < 5) {
      bool want = model[chan].insert(conn).second;
      assert_int_equal(h.subscribe(conn, chan), want);
    } else if (op < 9) {
      bool want = model[chan].erase(conn) == 1;
      assert_int_equal(h.unsubscribe(conn, chan), want);
    } else {
      h.remove(conn);
      for (auto &e : model) e.second.erase(conn);
    }
    size_t live = 0;
    for (const auto &e : model) {
      const auto &subs = h.subscribers(e.first);
      std::set<sw::ConnId> got(subs.begin(), subs.end());
      assert_int_equal(got.size(), subs.size());  // no duplicates
      assert_true(got == e.second);
      if (!e.second.empty()) live++;
    }
    assert_int_equal(h.channel_count(), live);
    for (sw::ConnId c = 1; c <= 8; c++) {
      std::vector<std::string> of = h.channels_of(c);
      std::set<std::string> got(of.begin(), of.end()), want;
      assert_int_equal(got.size(), of.size());
      for (const auto &e : model)
        if (e.second.count(c)) want.insert(e.first);
      assert_true(got == want);
    }
  }
}

// Removing a connection's first subscription keeps the others in order.
void test_hub_unsubscribe_keeps_order(void **) {
  sw::Hub h(0, "E");
  for (const char *c : {"a", "b", "c", "d"}) assert_true(h.subscribe(7, c));
  assert_true(h.unsubscribe(7, "a"));
  assert_true(h.channels_of(7) == (std::vector<std::string>{"b", "c", "d"}));
  assert_true(h.unsubscribe(7, "c"));
  assert_true(h.channels_of(7) == (std::vector<std::string>{"b", "d"}));
  assert_true(h.subscribe(7, "a"));
  assert_true(h.channels_of(7) == (std::vector<std::string>{"b", "d", "a"}));
  assert_false(h.unsubscribe(7, "c"));
  assert_false(h.unsubscribe(8, "a"));
  h.remove(7);
  assert_true(h.channels_of(7).empty());
  assert_int_equal(h.channel_count(), 0);
}

// Thousands of subscribers on a few channels, removed in random order: every
// swap-remove must leave the moved subscriber findable.
void test_hub_many_subscribers(void **) {
  sw::Hub h(0, "E");
  const int n = 3000;
  for (int i = 1; i <= n; i++) {
    h.subscribe(i, "all");
    if (i % 3 == 0) h.subscribe(i, "third");
  }
  assert_int_equal(h.subscribers("all").size(), n);
  assert_int_equal(h.subscribers("third").size(), n / 3);
  uint32_t rng = 99;
  std::set<sw::ConnId> left;
  for (int i = 1; i <= n; i++) left.insert(i);
  while (!left.empty()) {
    rng = rng * 1103515245u + 12345u;
    auto it = left.begin();
    std::advance(it, (rng >> 8) % left.size());
    sw::ConnId c = *it;
    left.erase(it);
    if (rng & 1)
      h.remove(c);
    else {
      assert_true(h.unsubscribe(c, "all"));
      if (c % 3 == 0) assert_true(h.unsubscribe(c, "third"));
    }
    const auto &all = h.subscribers("all");
    assert_int_equal(all.size(), left.size());
    if (left.size() % 97 == 0) assert_true(std::set<sw::ConnId>(all.begin(), all.end()) == left);
  }
  assert_int_equal(h.channel_count(), 0);
}

// Six messages on three channels: seq 1 a, 2 b, 3 a, 4 c, 5 b, 6 a.
struct Six {
  sw::Hub h{10, "E"};
  std::vector<sw::MessagePtr> m;
  Six() {
    for (const char *c : {"a", "b", "a", "c", "b", "a"}) m.push_back(h.publish(mk(c)));
  }
};

void test_hub_replay_empty_last_id(void **) {
  Six s;
  sw::Hub::Replay r = s.h.replay({"a", "b", "c"}, "");
  assert_false(r.gap);
  assert_true(r.messages.empty());
}

void test_hub_replay_own_id(void **) {
  Six s;
  sw::Hub::Replay r = s.h.replay({"a", "b"}, "E-2");
  assert_false(r.gap);
  EXPECT_SEQS(r.messages, {3, 5, 6});
  // The same shared objects as published.
  assert_ptr_equal(r.messages[0].get(), s.m[2].get());

  r = s.h.replay({"a", "b"}, "E-1");
  assert_false(r.gap);
  EXPECT_SEQS(r.messages, {2, 3, 5, 6});

  // Channel order does not matter: merged in seq order.
  r = s.h.replay({"b", "c", "a"}, "E-1");
  assert_false(r.gap);
  EXPECT_SEQS(r.messages, {2, 3, 4, 5, 6});

  // The id may name a message of a channel not asked for.
  r = s.h.replay({"a"}, "E-4");
  assert_false(r.gap);
  EXPECT_SEQS(r.messages, {6});

  // The newest id: nothing missed.
  r = s.h.replay({"a", "b", "c"}, "E-6");
  assert_false(r.gap);
  assert_true(r.messages.empty());

  // Seq 0 is before everything.
  r = s.h.replay({"c"}, "E-0");
  assert_false(r.gap);
  EXPECT_SEQS(r.messages, {4});

  // A channel never seen: nothing, no gap.
  r = s.h.replay({"zzz"}, "E-1");
  assert_false(r.gap);
  assert_true(r.messages.empty());
  r = s.h.replay({}, "E-1");
  assert_false(r.gap);
  assert_true(r.messages.empty());
}

void test_hub_replay_no_duplicates(void **) {
  Six s;
  sw::Hub::Replay r = s.h.replay({"a", "b", "a", "b", "a"}, "E-1");
  assert_false(r.gap);
  EXPECT_SEQS(r.messages, {2, 3, 5, 6});
  // Also on the gap path, where everything is sent.
  r = s.h.replay({"c", "a", "c"}, "unknown");
  assert_true(r.gap);
  EXPECT_SEQS(r.messages, {1, 3, 4, 6});
}

void test_hub_replay_publisher_id(void **) {
  sw::Hub h(10, "E");
  h.publish(mk("a", "x", "p1"));  // 1
  h.publish(mk("a", "x", "p2"));  // 2
  h.publish(mk("b"));             // 3, E-3
  h.publish(mk("a", "x", "p3"));  // 4
  h.publish(mk("b", "x", "q1"));  // 5
  sw::Hub::Replay r = h.replay({"a", "b"}, "p2");
  assert_false(r.gap);
  EXPECT_SEQS(r.messages, {3, 4, 5});
  r = h.replay({"a"}, "p1");
  assert_false(r.gap);
  EXPECT_SEQS(r.messages, {2, 4});
  // Found in b's history while asking for a and b.
  r = h.replay({"a", "b"}, "q1");
  assert_false(r.gap);
  assert_true(r.messages.empty());
  r = h.replay({"b", "a"}, "p3");
  assert_false(r.gap);
  EXPECT_SEQS(r.messages, {5});
  // A publisher id that is only in a channel not asked for is unknown.
  r = h.replay({"b"}, "p1");
  assert_true(r.gap);
  EXPECT_SEQS(r.messages, {3, 5});
}

void test_hub_replay_evicted_own_id(void **) {
  sw::Hub h(2, "E");
  for (int i = 0; i < 5; i++) h.publish(mk("a"));  // seq 1..5, history 4, 5
  sw::Hub::Replay r = h.replay({"a"}, "E-1");
  assert_true(r.gap);
  EXPECT_SEQS(r.messages, {4, 5});
  r = h.replay({"a"}, "E-2");
  assert_true(r.gap);
  EXPECT_SEQS(r.messages, {4, 5});
  // Seq 3 left history, but the client saw it: nothing is missing.
  r = h.replay({"a"}, "E-3");
  assert_false(r.gap);
  EXPECT_SEQS(r.messages, {4, 5});
  r = h.replay({"a"}, "E-4");
  assert_false(r.gap);
  EXPECT_SEQS(r.messages, {5});
  r = h.replay({"a"}, "E-5");
  assert_false(r.gap);
  assert_true(r.messages.empty());
}

void test_hub_replay_evicted_other_channel(void **) {
  sw::Hub h(1, "E");
  h.publish(mk("a", "x", "p1"));  // 1
  h.publish(mk("b"));             // 2, evicted by 3
  h.publish(mk("b"));             // 3
  // Known publisher id on a, but b lost seq 2 which is newer: gap.
  sw::Hub::Replay r = h.replay({"a", "b"}, "p1");
  assert_true(r.gap);
  EXPECT_SEQS(r.messages, {3});
  // Only a asked for: no gap.
  r = h.replay({"a"}, "p1");
  assert_false(r.gap);
  assert_true(r.messages.empty());
  // Own id equal to the evicted one: no gap.
  r = h.replay({"a", "b"}, "E-2");
  assert_false(r.gap);
  EXPECT_SEQS(r.messages, {3});
}

void test_hub_replay_stale_or_unknown(void **) {
  Six s;
  const char *ids[] = {
      "OLD-3",                   // another epoch
      "garbage",                 // not an id at all
      "E-",                      // no digits
      "E",                       // just the epoch
      "E-3x",                    // trailing junk
      "E-+3",                    // sign
      "E--3",                    //
      "E-3 ",                    //
      "EE-3",                    // epoch is a prefix but not followed by '-'
      "e-3",                     // case matters
      "E13",                     // no '-' after the epoch
      "E_3",                     //
      "E-18446744073709551617",  // 20 digits: would wrap to 1
      "E-00000000000000000003",  // 20 digits
      "-3",                      //
  };
  for (const char *id : ids) {
    sw::Hub::Replay r = s.h.replay({"a", "b"}, id);
    EXPECT_TRUE_FOR(r.gap, std::string(id));
    EXPECT_TRUE_FOR(seqs(r.messages) == std::vector<uint64_t>({1, 2, 3, 5, 6}), std::string(id));
  }
  // The last own id is known (next would be 7).
  sw::Hub::Replay r = s.h.replay({"a", "b"}, "E-6");
  assert_false(r.gap);
  assert_true(r.messages.empty());
  // Unknown id on channels without history: gap, nothing to send.
  r = s.h.replay({"none"}, "OLD-1");
  assert_true(r.gap);
  assert_true(r.messages.empty());
}

// An own-epoch id with a seq not handed out yet (next is 7) cannot be ours
// (a client of an endpoint restarted with the same epoch, or a forged id): it
// is unknown, so gap and everything history holds, like any unknown id.
void test_hub_replay_future_id(void **) {
  Six s;
  for (const char *id : {"E-7", "E-8", "E-1000", "E-9999999999999999999"}) {
    sw::Hub::Replay r = s.h.replay({"a", "b"}, id);
    EXPECT_TRUE_FOR(r.gap, std::string(id));
    if (seqs(r.messages) != std::vector<uint64_t>({1, 2, 3, 5, 6})) {
      print_error("replay of future id \"%s\" gave %s, want [1,2,3,5,6]\n", id,
                  seq_list(seqs(r.messages)).c_str());
      fail();
    }
  }
}

void test_hub_epoch_prefix(void **) {
  sw::Hub h(10, "E1");
  for (int i = 0; i < 3; i++) h.publish(mk("a"));
  sw::Hub::Replay r = h.replay({"a"}, "E1-1");
  assert_false(r.gap);
  EXPECT_SEQS(r.messages, {2, 3});
  r = h.replay({"a"}, "E10-1");  // another epoch that starts with "E1"
  assert_true(r.gap);
  EXPECT_SEQS(r.messages, {1, 2, 3});
  r = h.replay({"a"}, "E");
  assert_true(r.gap);
  r = h.replay({"a"}, "E101");  // "E1" then "01", no '-'
  assert_true(r.gap);
  EXPECT_SEQS(r.messages, {1, 2, 3});
}

// ===========================================================================
// OutQueue

sw::MessagePtr msg_of_size(size_t n) {
  std::string s(n, 'x');
  return mk("", s);
}

// Issue 15 #11: a never-reading subscriber fed tiny messages. Counting only
// payload bytes let 4 MiB hold four million 1-byte messages (over 1 GB of
// message objects); the bound must hold whatever the message size.
void test_outq_bound_counts_real_cost(void **) {
  const size_t bound = 4u << 20;
  for (auto policy : {sw::OutQueue::Policy::DropOldest, sw::OutQueue::Policy::Close}) {
    sw::OutQueue q(bound, policy);
    size_t pushed = 0;
    for (; pushed < 1000000; pushed++) {
      auto r = q.push(msg_of_size(1), sw::Encoding::WsPlain);
      if (r != sw::OutQueue::Push::Ok) break;
    }
    // Each queued message really costs at least its object and slot.
    size_t per_msg = sizeof(sw::Message) + 1;
    assert_true(q.size() * per_msg <= bound);
    assert_true(q.bytes() <= bound);
    assert_true(pushed < 1000000);  // the bound was reached long before a million
  }
  // Names count too: a message with a long id costs more than one without.
  sw::OutQueue q(bound, sw::OutQueue::Policy::Close);
  auto plain = msg_of_size(1);
  auto named = std::make_shared<sw::Message>();
  named->id = std::string(500, 'i');
  named->payload = sw::WireBuf("x", 1);
  assert_true(q.cost(*named, sw::Encoding::WsPlain) >= q.cost(*plain, sw::Encoding::WsPlain) + 500);
}

void test_outq_accounting(void **) {
  sw::OutQueue q(100, sw::OutQueue::Policy::DropOldest, false);
  assert_true(q.empty());
  assert_int_equal(q.size(), 0);
  assert_int_equal(q.bytes(), 0);
  auto a = msg_of_size(10), b = msg_of_size(20), c = msg_of_size(30);
  assert_true(q.push(a, sw::Encoding::WsPlain) == sw::OutQueue::Push::Ok);
  assert_true(q.push(b, sw::Encoding::WsPlain) == sw::OutQueue::Push::Ok);
  assert_true(q.push(c, sw::Encoding::WsPlain) == sw::OutQueue::Push::Ok);
  assert_false(q.empty());
  assert_int_equal(q.size(), 3);
  assert_int_equal(q.bytes(), 60);
  assert_ptr_equal(q.front().get(), a.get());  // a reference, not a copy
  assert_true(q.front_encoding() == sw::Encoding::WsPlain);
  q.pop();
  assert_int_equal(q.size(), 2);
  assert_int_equal(q.bytes(), 50);
  assert_ptr_equal(q.front().get(), b.get());
  q.pop();
  q.pop();
  assert_true(q.empty());
  assert_int_equal(q.bytes(), 0);
  assert_int_equal(q.dropped(), 0);

  q.push(a, sw::Encoding::WsPlain);
  q.push(b, sw::Encoding::WsPlain);
  q.clear();
  assert_true(q.empty());
  assert_int_equal(q.size(), 0);
  assert_int_equal(q.bytes(), 0);
  assert_int_equal(q.dropped(), 0);
  assert_true(q.push(c, sw::Encoding::WsPlain) == sw::OutQueue::Push::Ok);
  assert_int_equal(q.bytes(), 30);
}

void test_outq_counts_wire_size(void **) {
  auto m = mk("ch", "hello");
  m->id = "E-1";
  m->event = "ev";
  sw::MessagePtr p = std::move(m);
  const size_t sse = p->encoded(sw::Encoding::Sse).size();
  const size_t v1 = p->encoded(sw::Encoding::WsV1).size();
  assert_true(sse != 5 && v1 != 5 && sse != v1);
  sw::OutQueue q(1000, sw::OutQueue::Policy::Close, false);
  q.push(p, sw::Encoding::Sse);
  assert_int_equal(q.bytes(), sse);
  assert_true(q.front_encoding() == sw::Encoding::Sse);
  q.push(p, sw::Encoding::WsV1);
  assert_int_equal(q.bytes(), sse + v1);
  q.push(p, sw::Encoding::WsPlain);
  assert_int_equal(q.bytes(), sse + v1 + 5);
  q.pop();
  assert_true(q.front_encoding() == sw::Encoding::WsV1);
  assert_int_equal(q.bytes(), v1 + 5);
  assert_int_equal(p.use_count(), 3);  // two queued references plus ours
}

void test_outq_exact_fit(void **) {
  sw::OutQueue q(30, sw::OutQueue::Policy::DropOldest, false);
  for (int i = 0; i < 3; i++)
    assert_true(q.push(msg_of_size(10), sw::Encoding::WsPlain) == sw::OutQueue::Push::Ok);
  assert_int_equal(q.bytes(), 30);  // exactly the bound is fine
  assert_int_equal(q.dropped(), 0);
  sw::OutQueue q2(30, sw::OutQueue::Policy::Close, false);
  assert_true(q2.push(msg_of_size(20), sw::Encoding::WsPlain) == sw::OutQueue::Push::Ok);
  assert_true(q2.push(msg_of_size(10), sw::Encoding::WsPlain) == sw::OutQueue::Push::Ok);
  assert_true(q2.push(msg_of_size(0), sw::Encoding::WsPlain) == sw::OutQueue::Push::Ok);
  assert_true(q2.push(msg_of_size(1), sw::Encoding::WsPlain) == sw::OutQueue::Push::Overflow);
}

void test_outq_drop_oldest(void **) {
  sw::OutQueue q(30, sw::OutQueue::Policy::DropOldest, false);
  std::vector<sw::MessagePtr> m;
  for (int i = 0; i < 3; i++) {
    m.push_back(msg_of_size(10));
    q.push(m.back(), sw::Encoding::WsPlain);
  }
  // One byte more: only the oldest goes.
  auto one = msg_of_size(1);
  assert_true(q.push(one, sw::Encoding::WsPlain) == sw::OutQueue::Push::Dropped);
  assert_int_equal(q.dropped(), 1);
  assert_int_equal(q.size(), 3);
  assert_int_equal(q.bytes(), 21);
  assert_ptr_equal(q.front().get(), m[1].get());
  // 30 bytes: everything else has to go, the newest too.
  auto big = msg_of_size(30);
  assert_true(q.push(big, sw::Encoding::WsPlain) == sw::OutQueue::Push::Dropped);
  assert_int_equal(q.dropped(), 4);
  assert_int_equal(q.size(), 1);
  assert_int_equal(q.bytes(), 30);
  assert_ptr_equal(q.front().get(), big.get());
  // An empty message still fits.
  assert_true(q.push(msg_of_size(0), sw::Encoding::WsPlain) == sw::OutQueue::Push::Ok);
  assert_int_equal(q.dropped(), 4);
  q.clear();
  // Dropping stops as soon as the new one fits: with 5+5+5+5 queued, 18
  // bytes drops two (20+18 -> 33 -> 28).
  std::vector<sw::MessagePtr> fives;
  for (int i = 0; i < 4; i++) {
    fives.push_back(msg_of_size(5));
    assert_true(q.push(fives.back(), sw::Encoding::WsPlain) == sw::OutQueue::Push::Ok);
  }
  assert_true(q.push(msg_of_size(18), sw::Encoding::WsPlain) == sw::OutQueue::Push::Dropped);
  assert_int_equal(q.dropped(), 6);
  assert_int_equal(q.size(), 3);
  assert_int_equal(q.bytes(), 28);
  assert_ptr_equal(q.front().get(), fives[2].get());
  // clear() does not reset the drop count.
  q.clear();
  assert_int_equal(q.dropped(), 6);
}

void test_outq_close_policy(void **) {
  sw::OutQueue q(30, sw::OutQueue::Policy::Close, false);
  auto a = msg_of_size(10);
  for (int i = 0; i < 3; i++)
    assert_true(q.push(i == 0 ? a : msg_of_size(10), sw::Encoding::WsPlain) == sw::OutQueue::Push::Ok);
  auto extra = msg_of_size(1);
  assert_true(q.push(extra, sw::Encoding::WsPlain) == sw::OutQueue::Push::Overflow);
  // Not queued, nothing dropped.
  assert_int_equal(q.size(), 3);
  assert_int_equal(q.bytes(), 30);
  assert_int_equal(q.dropped(), 0);
  assert_ptr_equal(q.front().get(), a.get());
  assert_int_equal(extra.use_count(), 1);
  // Room again after a write.
  q.pop();
  assert_true(q.push(extra, sw::Encoding::WsPlain) == sw::OutQueue::Push::Ok);
  assert_int_equal(q.bytes(), 21);
}

void test_outq_oversized_when_empty(void **) {
  {
    sw::OutQueue q(10, sw::OutQueue::Policy::DropOldest, false);
    assert_true(q.push(msg_of_size(50), sw::Encoding::WsPlain) == sw::OutQueue::Push::Ok);
    assert_int_equal(q.size(), 1);
    assert_int_equal(q.bytes(), 50);
    // Anything more makes room by dropping it.
    assert_true(q.push(msg_of_size(1), sw::Encoding::WsPlain) == sw::OutQueue::Push::Dropped);
    assert_int_equal(q.size(), 1);
    assert_int_equal(q.bytes(), 1);
    assert_int_equal(q.dropped(), 1);
    // A too-big one with others queued: drops them all, then is queued alone.
    assert_true(q.push(msg_of_size(40), sw::Encoding::WsPlain) == sw::OutQueue::Push::Dropped);
    assert_int_equal(q.size(), 1);
    assert_int_equal(q.bytes(), 40);
    assert_int_equal(q.dropped(), 2);
  }
  {
    sw::OutQueue q(10, sw::OutQueue::Policy::Close, false);
    assert_true(q.push(msg_of_size(50), sw::Encoding::WsPlain) == sw::OutQueue::Push::Ok);
    assert_int_equal(q.bytes(), 50);
    assert_true(q.push(msg_of_size(1), sw::Encoding::WsPlain) == sw::OutQueue::Push::Overflow);
    assert_int_equal(q.size(), 1);
    assert_int_equal(q.bytes(), 50);
    q.pop();
    assert_true(q.empty());
    assert_int_equal(q.bytes(), 0);
    assert_true(q.push(msg_of_size(11), sw::Encoding::WsPlain) == sw::OutQueue::Push::Ok);
  }
}

// ===========================================================================
// Message / WireBuf

// The ring under the queue: FIFO order through wrap-around and growth, and
// references released as messages leave.
void test_outq_ring_order(void **) {
  sw::OutQueue q(1u << 30, sw::OutQueue::Policy::Close, false);
  std::vector<sw::MessagePtr> m;
  for (int i = 0; i < 300; i++) m.push_back(msg_of_size(static_cast<size_t>(i % 7)));
  size_t next_in = 0, next_out = 0;
  uint32_t rng = 7;
  while (next_out < m.size()) {
    rng = rng * 1103515245u + 12345u;
    int pushes = (rng >> 10) % 5, pops = (rng >> 14) % 4;
    for (int k = 0; k < pushes && next_in < m.size(); k++) q.push(m[next_in++], sw::Encoding::WsPlain);
    assert_int_equal(q.size(), next_in - next_out);
    for (size_t i = 0; i < q.size(); i++) assert_ptr_equal(q.at(i).get(), m[next_out + i].get());
    for (int k = 0; k < pops && !q.empty(); k++) {
      assert_ptr_equal(q.front().get(), m[next_out].get());
      q.pop();
      assert_int_equal(m[next_out].use_count(), 1);  // the queue let go
      next_out++;
    }
    if (next_in == m.size())
      while (!q.empty()) {
        assert_ptr_equal(q.front().get(), m[next_out++].get());
        q.pop();
      }
  }
  assert_int_equal(q.bytes(), 0);
}

// WebSocket frame headers a server writes: FIN, opcode, no mask, and the
// three length forms at their boundaries (RFC 6455 section 5.2).
void test_ws_frame_header(void **) {
  struct {
    uint64_t len;
    bool binary;
    std::vector<uint8_t> want;
  } cases[] = {
      {0, false, {0x81, 0x00}},
      {5, true, {0x82, 0x05}},
      {125, false, {0x81, 125}},
      {126, false, {0x81, 126, 0x00, 126}},
      {65535, true, {0x82, 126, 0xff, 0xff}},
      {65536, false, {0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}},
      {0x0102030405060708ull, true, {0x82, 127, 1, 2, 3, 4, 5, 6, 7, 8}},
  };
  for (const auto &c : cases) {
    uint8_t out[sw::kWsMaxHeader + 1];
    memset(out, 0xee, sizeof out);
    size_t n = sw::ws_frame_header(out, c.binary, c.len);
    assert_int_equal(n, c.want.size());
    assert_memory_equal(out, c.want.data(), n);
    assert_int_equal(out[sw::kWsMaxHeader], 0xee);  // never past the room it was given
  }
}

void test_wirebuf(void **) {
  sw::WireBuf empty;
  assert_int_equal(empty.size(), 0);
  EXPECT_STR(empty.view(), "");
  sw::WireBuf b("ab\0c", 4);
  assert_int_equal(b.size(), 4);
  EXPECT_STR(b.view(), "ab\0c"sv);
  b.append("de", 2);
  b.append(std::string("\xff"));
  EXPECT_STR(b.view(), "ab\0cde\xff"sv);
  b.data()[0] = 'Z';
  EXPECT_STR(b.view(), "Zb\0cde\xff"sv);
}

void test_message_plain(void **) {
  auto m = mk("ch", "raw \0 bytes\n"sv, "E-1");
  m->event = "ev";
  const sw::WireBuf &w = m->encoded(sw::Encoding::WsPlain);
  assert_ptr_equal(&w, &m->payload);
  EXPECT_STR(w.view(), "raw \0 bytes\n"sv);
  assert_int_equal(m->wire_size(sw::Encoding::WsPlain), 12);
  assert_null(m->v1_enc.get());
  assert_null(m->sse_enc.get());
  m->binary = true;
  assert_ptr_equal(&m->encoded(sw::Encoding::WsPlain), &m->payload);
}

void test_message_sse_text(void **) {
  {
    auto m = mk("news", "line1\nline2", "E-7");
    m->event = "update";
    EXPECT_STR(m->encoded(sw::Encoding::Sse).view(), "id: E-7\nevent: update\ndata: line1\ndata: line2\n\n");
  }
  {
    auto m = mk("", "hi");
    EXPECT_STR(m->encoded(sw::Encoding::Sse).view(), "data: hi\n\n");
  }
  {
    auto m = mk("c", "", "1");
    EXPECT_STR(m->encoded(sw::Encoding::Sse).view(), "id: 1\ndata: \n\n");
  }
  {
    auto m = mk("c", "a\r\nb\rc");
    m->event = "e";
    EXPECT_STR(m->encoded(sw::Encoding::Sse).view(), "event: e\ndata: a\ndata: b\ndata: c\n\n");
  }
}

void test_message_sse_binary(void **) {
  {
    auto m = mk("c", "\x00\xff\x10"sv, "E-2");
    m->binary = true;
    EXPECT_STR(m->encoded(sw::Encoding::Sse).view(), "id: E-2\nevent: binary\ndata: AP8Q\n\n");
  }
  {
    auto m = mk("c", "hello\n");
    m->binary = true;
    m->event = "img";
    EXPECT_STR(m->encoded(sw::Encoding::Sse).view(), "event: img\ndata: aGVsbG8K\n\n");
  }
  {
    auto m = mk("c", "");
    m->binary = true;
    EXPECT_STR(m->encoded(sw::Encoding::Sse).view(), "event: binary\ndata: \n\n");
  }
}

void test_message_v1_text(void **) {
  {
    auto m = mk("news", "he said \"hi\"\n\\", "E-1");
    m->event = "upd";
    EXPECT_STR(m->encoded(sw::Encoding::WsV1).view(),
               R"({"channel":"news","event":"upd","id":"E-1","data":"he said \"hi\"\n\\"})");
  }
  {
    auto m = mk("", "x");
    EXPECT_STR(m->encoded(sw::Encoding::WsV1).view(), R"({"channel":"","event":"","id":"","data":"x"})");
  }
  {
    auto m = mk("c", "\x01\xc3\xa9"sv, "i");
    m->event = "e";
    EXPECT_STR(m->encoded(sw::Encoding::WsV1).view(),
               "{\"channel\":\"c\",\"event\":\"e\",\"id\":\"i\",\"data\":\"\\u0001\xc3\xa9\"}");
  }
}

void test_message_v1_binary(void **) {
  {
    auto m = mk("news", "\x00\xb1\xff"sv, "E-1");
    m->event = "upd";
    m->binary = true;
    EXPECT_STR(m->encoded(sw::Encoding::WsV1).view(),
               "\xb1\x00\x04news\x00\x03upd\x00\x03"
               "E-1\x00\xb1\xff"sv);
  }
  {
    // A channel name over 255 bytes: the high length byte matters.
    std::string chan(300, 'c');
    auto m = mk(chan, "");
    m->binary = true;
    std::string want = "\xb1\x01\x2c"s + chan + "\x00\x00\x00\x00"s;
    EXPECT_STR(m->encoded(sw::Encoding::WsV1).view(), want);
  }
}

void test_message_encoded_once(void **) {
  auto m = mk("c", "data", "E-1");
  const sw::WireBuf &s1 = m->encoded(sw::Encoding::Sse);
  const sw::WireBuf &v1 = m->encoded(sw::Encoding::WsV1);
  assert_ptr_equal(&s1, m->sse_enc.get());
  assert_ptr_equal(&v1, m->v1_enc.get());
  assert_ptr_not_equal(&s1, &v1);
  // Changing the payload afterwards shows the cached bytes are reused.
  m->payload = sw::WireBuf("other", 5);
  const sw::WireBuf &s2 = m->encoded(sw::Encoding::Sse);
  const sw::WireBuf &v2 = m->encoded(sw::Encoding::WsV1);
  assert_ptr_equal(&s1, &s2);
  assert_ptr_equal(&v1, &v2);
  EXPECT_STR(s2.view(), "id: E-1\ndata: data\n\n");
  EXPECT_STR(v2.view(), R"({"channel":"c","event":"","id":"E-1","data":"data"})");
  assert_int_equal(m->wire_size(sw::Encoding::Sse), s1.size());
  assert_int_equal(m->wire_size(sw::Encoding::WsV1), v1.size());
  assert_int_equal(m->wire_size(sw::Encoding::WsPlain), 5);
}

// ===========================================================================
// v1 codec

std::string quote(std::string_view s) {
  std::string out;
  sw::json_quote(out, s);
  return out;
}

void test_json_quote(void **) {
  EXPECT_STR(quote(""), R"("")");
  EXPECT_STR(quote("plain text"), R"("plain text")");
  EXPECT_STR(quote(R"(a"b\c)"), R"("a\"b\\c")");
  EXPECT_STR(quote("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_STR(quote("\0"sv), R"("\u0000")");
  EXPECT_STR(quote("\x01\x1f\x0b\x1b"), R"("\u0001\u001f\u000b\u001b")");
  EXPECT_STR(quote("/ \x7f"), "\"/ \x7f\"");
  // UTF-8 passes through unchanged: 2, 3 and 4 byte sequences, U+2028.
  EXPECT_STR(quote("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xe2\x80\xa8"),
             "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xe2\x80\xa8\"");
  // Bytes that are not UTF-8 become U+FFFD, each: the output stays valid JSON.
  EXPECT_STR(quote("a\xff"
                   "b"),
             R"("a\ufffdb")");
  EXPECT_STR(quote("\xc3"), R"("\ufffd")");                             // truncated
  EXPECT_STR(quote("\xc0\x80"), R"("\ufffd\ufffd")");                   // overlong NUL
  EXPECT_STR(quote("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");         // a surrogate
  EXPECT_STR(quote("\xe2\x82\xc3\xa9"), "\"\\ufffd\\ufffd\xc3\xa9\"");  // resyncs
  // Every control character, exactly.
  const char *short_esc[32] = {};
  short_esc[int('\b')] = "\\b";
  short_esc[int('\t')] = "\\t";
  short_esc[int('\n')] = "\\n";
  short_esc[int('\f')] = "\\f";
  short_esc[int('\r')] = "\\r";
  for (int c = 0; c < 0x20; c++) {
    char buf[16];
    if (short_esc[c])
      snprintf(buf, sizeof buf, "\"%s\"", short_esc[c]);
    else
      snprintf(buf, sizeof buf, "\"\\u%04x\"", c);
    EXPECT_STR(quote(std::string(1, char(c))), buf);
  }
  for (int c = 0x20; c < 0x80; c++) {
    if (c == '"' || c == '\\') continue;
    EXPECT_STR(quote(std::string(1, char(c))), "\""s + char(c) + "\"");
  }
  // Appends.
  std::string out = "x";
  sw::json_quote(out, "y");
  EXPECT_STR(out, "x\"y\"");
}

void test_v1_encode_text_exact(void **) {
  std::string out = "pre";
  sw::v1_encode_text(out, "ch", "ev", "id1", "d\"");
  EXPECT_STR(out, R"(pre{"channel":"ch","event":"ev","id":"id1","data":"d\""})");
}

std::vector<std::string> tricky_strings() {
  std::string all_controls;
  for (int c = 0; c < 0x20; c++) all_controls += char(c);
  std::string all_ascii;
  for (int c = 0; c < 0x80; c++) all_ascii += char(c);
  return {
      "",
      "plain",
      "\"quoted\"",
      "back\\slash\\",
      "\\\"",
      "line1\nline2\r\nline3\r",
      "\t\b\f",
      all_controls,
      all_ascii,
      "nul\0inside"s,
      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf",
      "\\u0041 \\ud83d\\ude00",  // backslash-u as literal text
      "</script>",
      "\xe2\x80\xa8\xe2\x80\xa9",
      "{\"channel\":\"x\",\"data\":\"y\"}",
      std::string(70000, 'z'),
  };
}

void test_v1_text_round_trip(void **) {
  const auto strs = tricky_strings();
  for (size_t i = 0; i < strs.size(); i++) {
    const std::string &a = strs[i];
    const std::string &b = strs[(i + 3) % strs.size()];
    const std::string &c = strs[(i + 7) % strs.size()];
    const std::string &d = strs[(i + 11) % strs.size()];
    std::string wire;
    sw::v1_encode_text(wire, a, b, c, d);
    sw::V1Message m;
    EXPECT_TRUE_FOR(sw::v1_decode_text(wire, m), wire);
    EXPECT_STR(m.channel, a);
    EXPECT_STR(m.event, b);
    EXPECT_STR(m.id, c);
    EXPECT_STR(m.data, d);
  }
  // Every byte value below 0x80 alone as data.
  for (int ch = 0; ch < 0x80; ch++) {
    std::string wire, data(1, char(ch));
    sw::v1_encode_text(wire, "c", "e", "i", data);
    sw::V1Message m;
    EXPECT_TRUE_FOR(sw::v1_decode_text(wire, m), wire);
    EXPECT_STR(m.data, data);
  }
}

struct Decoded {
  const char *json;
  const char *channel, *event, *id;
  std::string_view data;
};

void test_v1_decode_text_escapes(void **) {
  const Decoded cases[] = {
      {R"({"data":"x"})", "", "", "", "x"},
      {R"(  { "data" : "x" , "id" : "7" ,"channel":"c","event":"e" }  )", "c", "e", "7", "x"},
      {"\t\r\n{\n\"data\":\"x\"\n}\n", "", "", "", "x"},
      {R"({"data":"a\/b"})", "", "", "", "a/b"},
      {R"({"data":"\"\\\b\f\n\r\t"})", "", "", "", "\"\\\b\f\n\r\t"},
      {R"({"data":"\u0041\u00e9\u00E9"})", "", "", "", "A\xc3\xa9\xc3\xa9"},
      {R"({"data":"\u0000"})", "", "", "", "\0"sv},
      {R"({"data":"\u007f\u0080\u07ff\u0800\uffff"})", "", "", "",
       "\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf"},
      {R"({"data":"\u20AC"})", "", "", "", "\xe2\x82\xac"},
      {R"({"data":"\uD83D\uDE00"})", "", "", "", "\xf0\x9f\x98\x80"},
      {R"({"data":"\ud83d\ude00x"})", "", "", "", "\xf0\x9f\x98\x80x"},
      {R"({"data":"\ud800\udc00"})", "", "", "", "\xf0\x90\x80\x80"},
      {R"({"data":"\udbff\udfff"})", "", "", "", "\xf4\x8f\xbf\xbf"},
      {R"({"data":"\ud7ff\ue000"})", "", "", "", "\xed\x9f\xbf\xee\x80\x80"},
      {R"({"data":"caf)"
       "\xc3\xa9"
       R"("})",
       "", "", "", "caf\xc3\xa9"},
  };
  for (const auto &c : cases) {
    sw::V1Message m;
    m.channel = "stale";  // decode starts from a clean message
    EXPECT_TRUE_FOR(sw::v1_decode_text(c.json, m), std::string(c.json));
    EXPECT_STR(m.channel, c.channel);
    EXPECT_STR(m.event, c.event);
    EXPECT_STR(m.id, c.id);
    EXPECT_STR(m.data, c.data);
  }
}

void test_v1_decode_text_rejects(void **) {
  const std::string_view bad[] = {
      "",
      " ",
      "{",
      "}",
      "{}",
      "[]",
      "\"data\"",
      "null",
      R"({"channel":"a"})",                       // no data
      R"({"channel":"a","event":"b","id":"c"})",  // no data
      R"({"data":1})",                            // non-string values
      R"({"data":null})",
      R"({"data":true})",
      R"({"data":["x"]})",
      R"({"data":{"a":"b"}})",
      R"({"data":"x","id":5})",
      R"({"data":"x"} x)",  // trailing garbage
      R"({"data":"x"}})",
      R"({"data":"x"}{"data":"y"})",
      "{\"data\":\"x\"}\0"sv,
      R"({"data":"x",})",  // trailing comma
      R"({,"data":"x"})",
      R"({"data":"x" "id":"y"})",  // missing comma
      R"({"data":"x")",            // unterminated
      R"({"data":"x)",
      R"({"data":)",
      R"({"data")",
      R"({data:"x"})",    // unquoted key
      R"({"data" "x"})",  // missing colon
      R"({"data"::"x"})",
      R"({'data':'x'})",       // single quotes
      R"({"data":"\ud83d"})",  // lone high surrogate
      R"({"data":"\ud83dx"})",
      R"({"data":"\ud83d\n"})",
      R"({"data":"\ud83d\u0041"})",  // high + non-low
      R"({"data":"\ud83d\ud83d"})",  // high + high
      R"({"data":"\ude00"})",        // lone low surrogate
      R"({"data":"\udfff\ud83d"})",
      R"({"data":"\ud83d\ude0"})",  // short low
      R"({"data":"\x41"})",         // bad escapes
      R"({"data":"\a"})",
      R"({"data":"\'"})",
      R"({"data":"\U0041"})",
      R"({"data":"\u12"})",
      R"({"data":"\u12G4"})",
      R"({"data":"\u 123"})",
      R"({"data":"\)",
      R"({"data":"\"})",
      "{\"data\":\"a\nb\"}",  // raw control characters
      "{\"data\":\"a\tb\"}",
      "{\"data\":\"a\0b\"}"sv,
      "{\"data\":\"\x1f\"}",
  };
  for (std::string_view in : bad) {
    sw::V1Message m;
    EXPECT_TRUE_FOR(!sw::v1_decode_text(in, m), in);
  }
}

void test_v1_binary_round_trip(void **) {
  const auto strs = tricky_strings();
  std::vector<std::string> fields = {
      "", "c", "\xb1", std::string(255, 'a'), std::string(256, 'b'), std::string(65535, 'f'), "nul\0x"s};
  for (size_t i = 0; i < fields.size(); i++) {
    for (const auto &data : strs) {
      const std::string &chan = fields[i];
      const std::string &ev = fields[(i + 1) % fields.size()];
      const std::string &id = fields[(i + 2) % fields.size()];
      std::string wire = "junk";
      size_t before = wire.size();
      sw::v1_encode_binary(wire, chan, ev, id, data);
      assert_int_equal(wire.size() - before, 7 + chan.size() + ev.size() + id.size() + data.size());
      std::string_view w(wire);
      w.remove_prefix(before);
      sw::V1Message m;
      assert_true(sw::v1_decode_binary(w, m));
      assert_true(m.channel == chan);
      assert_true(m.event == ev);
      assert_true(m.id == id);
      assert_true(m.data == data);
    }
  }
}

void test_v1_binary_rejects(void **) {
  std::string wire;
  sw::v1_encode_binary(wire, "chan", "ev", "id", "payload");
  const size_t header = 1 + 2 + 4 + 2 + 2 + 2 + 2;  // up to the end of the id field
  sw::V1Message m;
  // Every cut before the end of the id field is malformed. Each cut is copied
  // to a buffer of its exact size, so ASan sees any read past its end.
  for (size_t n = 0; n < header; n++) {
    std::unique_ptr<char[]> buf(new char[n ? n : 1]);
    std::copy(wire.begin(), wire.begin() + n, buf.get());
    EXPECT_TRUE_FOR(!sw::v1_decode_binary(std::string_view(buf.get(), n), m), wire.substr(0, n));
  }
  // From there on it is valid with less data.
  for (size_t n = header; n <= wire.size(); n++) {
    std::unique_ptr<char[]> buf(new char[n]);
    std::copy(wire.begin(), wire.begin() + n, buf.get());
    assert_true(sw::v1_decode_binary(std::string_view(buf.get(), n), m));
    EXPECT_STR(m.data, wire.substr(header, n - header));
  }
  // Bad magic.
  for (int b = 0; b < 256; b++) {
    if (b == 0xB1) continue;
    std::string w = wire;
    w[0] = char(b);
    EXPECT_TRUE_FOR(!sw::v1_decode_binary(w, m), w);
  }
  // A length that runs past the end.
  EXPECT_TRUE_FOR(!sw::v1_decode_binary("\xb1\x00\x05"
                                        "abc"sv,
                                        m),
                  "len 5, 3 bytes");
  EXPECT_TRUE_FOR(!sw::v1_decode_binary("\xb1\x00\x00\x00\x00\xff\xff"sv, m), "id len 65535");
  EXPECT_TRUE_FOR(sw::v1_decode_binary("\xb1\x00\x00\x00\x00\x00\x00"sv, m), "all empty");
  EXPECT_STR(m.data, "");
}

// ===========================================================================
// WebSocket rules

void test_close_code_valid_all(void **) {
  for (int code = -2; code <= 70000; code++) {
    bool want =
        (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
    if (sw::ws_close_code_valid(code) != want) {
      print_error("ws_close_code_valid(%d) should be %d\n", code, want);
      fail();
    }
  }
  // Spot checks against RFC 6455 7.4.1 and the IANA registry.
  assert_false(sw::ws_close_code_valid(1004));  // reserved
  assert_false(sw::ws_close_code_valid(1005));  // no status: never on the wire
  assert_false(sw::ws_close_code_valid(1006));  // abnormal: never on the wire
  assert_false(sw::ws_close_code_valid(1015));  // TLS failure: never on the wire
  assert_false(sw::ws_close_code_valid(999));
  assert_false(sw::ws_close_code_valid(2999));
  assert_false(sw::ws_close_code_valid(5000));
  assert_true(sw::ws_close_code_valid(1011));
  assert_true(sw::ws_close_code_valid(3000));
  assert_true(sw::ws_close_code_valid(4999));
}

void test_close_code_sendable_all(void **) {
  for (int code = -2; code <= 70000; code++) {
    bool want = code == 1000 || (code >= 3000 && code <= 4999);
    if (sw::ws_close_code_sendable(code) != want) {
      print_error("ws_close_code_sendable(%d) should be %d\n", code, want);
      fail();
    }
  }
}

std::string close_payload(int code, std::string_view reason = "") {
  std::string p;
  p += char((code >> 8) & 0xff);
  p += char(code & 0xff);
  p += reason;
  return p;
}

void test_close_payload(void **) {
  std::string why;
  assert_int_equal(sw::ws_check_close_payload("", why), 0);
  assert_true(why.empty());
  // One byte: a half code.
  why.clear();
  // The byte after the view would make 1000, a valid code: it must not be read.
  const char code1000[] = "\x03\xe8";
  assert_int_equal(sw::ws_check_close_payload(std::string_view(code1000, 1), why), 1002);
  assert_false(why.empty());
  assert_int_equal(sw::ws_check_close_payload("\x00"sv, why), 1002);
  // Every 16-bit code with an empty reason.
  for (int code = 0; code <= 0xffff; code++) {
    why.clear();
    int got = sw::ws_check_close_payload(close_payload(code), why);
    int want = sw::ws_close_code_valid(code) ? 0 : 1002;
    if (got != want || why.empty() != (want == 0)) {
      print_error("close code %d: got %d (why \"%s\"), want %d\n", code, got, why.c_str(), want);
      fail();
    }
  }
  why.clear();
  assert_int_equal(sw::ws_check_close_payload(close_payload(1005), why), 1002);
  EXPECT_CONTAINS(why, "1005");
  // Reasons.
  assert_int_equal(sw::ws_check_close_payload(close_payload(1000, "bye"), why), 0);
  assert_int_equal(sw::ws_check_close_payload(close_payload(4000, "caf\xc3\xa9 \xf0\x9f\x98\x80"), why), 0);
  assert_int_equal(sw::ws_check_close_payload(close_payload(1000, "nul\0ok"sv), why), 0);
  const char *bad_reasons[] = {"\xc0\x80", "\xe2\x82", "\xff", "ok\xed\xa0\x80", "\x80", "\xf4\x90\x80\x80"};
  for (const char *r : bad_reasons) {
    why.clear();
    int got = sw::ws_check_close_payload(close_payload(1000, r), why);
    EXPECT_TRUE_FOR(got == 1007, std::string(r));
    assert_false(why.empty());
  }
  // An invalid code wins over an invalid reason.
  assert_int_equal(sw::ws_check_close_payload(close_payload(1006, "\xff"), why), 1002);
}

void test_handshake(void **) {
  const char *key = "dGhlIHNhbXBsZSBub25jZQ==";  // RFC 6455 section 1.3
  std::string why;
  assert_int_equal(sw::ws_check_handshake("GET", "13", key, why), 0);
  assert_true(why.empty());

  for (const char *m : {"POST", "PUT", "HEAD", "get", "", "GET "}) {
    why.clear();
    EXPECT_TRUE_FOR(sw::ws_check_handshake(m, "13", key, why) == 405, std::string(m));
    assert_false(why.empty());
  }
  // The method is checked first.
  assert_int_equal(sw::ws_check_handshake("POST", "8", "", why), 405);

  for (const char *v : {"", "8", "7", "12", "14", "130", "013", " 13", "13,8"}) {
    why.clear();
    EXPECT_TRUE_FOR(sw::ws_check_handshake("GET", v, key, why) == 426, std::string(v));
    assert_false(why.empty());
  }
  why.clear();
  sw::ws_check_handshake("GET", "", key, why);
  EXPECT_CONTAINS(why, "missing");
  why.clear();
  sw::ws_check_handshake("GET", "8", key, why);
  EXPECT_CONTAINS(why, "8");

  std::string k15, k16, k17;
  sw::base64_encode(k15, std::string(15, '\x5a'));
  sw::base64_encode(k16, std::string(16, '\x5a'));
  sw::base64_encode(k17, std::string(17, '\x5a'));
  assert_int_equal(sw::ws_check_handshake("GET", "13", k16, why), 0);
  const std::string bad_keys[] = {
      "",                          // missing
      k15,                         // 15 bytes
      k17,                         // 17 bytes
      "not base64 at all!!!!!!!",  // 24 characters, not base64
      "dGhlIHNhbXBsZSBub25jZQ",    // padding missing
      "dGhlIHNhbXBsZSBub25jZQ= =",
      " dGhlIHNhbXBsZSBub25jZQ==",
      "dGhlIHNhbXBsZSBub25jZQ==\r\n",
      "dGhl-HNhbXBsZSBub25jZQ==",  // base64url alphabet
      "====",
  };
  for (const auto &k : bad_keys) {
    why.clear();
    EXPECT_TRUE_FOR(sw::ws_check_handshake("GET", "13", k, why) == 400, k);
    assert_false(why.empty());
  }
  why.clear();
  sw::ws_check_handshake("GET", "13", "", why);
  EXPECT_CONTAINS(why, "missing");
}

// ===========================================================================
// base64

void test_base64_vectors(void **) {
  const std::pair<const char *, const char *> v[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto &p : v) {
    std::string enc, dec = "leftover";
    sw::base64_encode(enc, p.first);
    EXPECT_STR(enc, p.second);
    assert_true(sw::base64_decode(p.second, dec));
    EXPECT_STR(dec, p.first);  // out was replaced, not appended to
  }
  // Binary bytes and the two non-alphanumeric characters.
  std::string enc;
  sw::base64_encode(enc, "\xfb\xff\xbf"sv);
  EXPECT_STR(enc, "+/+/");
  enc.clear();
  sw::base64_encode(enc, "\x00\x00\x00"sv);
  EXPECT_STR(enc, "AAAA");
  // encode appends.
  enc = "x:";
  sw::base64_encode(enc, "foo");
  EXPECT_STR(enc, "x:Zm9v");
}

void test_base64_round_trip(void **) {
  std::string all;
  for (int i = 0; i < 256; i++) all += char(i);
  for (size_t n = 0; n <= all.size(); n++) {
    std::string_view in = std::string_view(all).substr(256 - n);
    std::string enc, dec;
    sw::base64_encode(enc, in);
    assert_int_equal(enc.size(), (n + 2) / 3 * 4);
    assert_true(sw::base64_decode(enc, dec));
    assert_true(dec == in);
  }
}

void test_base64_rejects(void **) {
  const std::string_view bad[] = {
      // Bad length.
      "Z",
      "Zg",
      "Zg=",
      "Zm9vY",
      "Zm9vYg=",
      "Zg===",
      "Zm9v=",
      // Bad characters: punctuation, NUL, high bytes, the base64url alphabet.
      "Zm9*",
      "Zm9v!A==",
      "Zm\x80v"sv,
      "Zm\0v"sv,
      "Zm9v\xff\xff\xff\xff",
      "Zm-_",
      // Padding in the middle, too much, or data after it.
      "Zg==Zg==",
      "Zm8=Zm9v",
      "Z===",
      "====",
      "=Zg=",
      "Zg=A",
      "Z=g=",
      "Zm=v",
      // Whitespace.
      "Zm 9",
      " Zm9",
      "Zm9v    ",
      "Zm9v\r\n\r\n",
      "Zm9\tv   ",
      "Zm9v\n===",
  };
  for (std::string_view in : bad) {
    std::string out;
    EXPECT_TRUE_FOR(!sw::base64_decode(in, out), in);
  }
}

// ===========================================================================
// UTF-8

void test_utf8_valid(void **) {
  const std::string_view good[] = {
      "",
      "plain ASCII",
      "\0"sv,
      "\x7f",                                          // U+007F, last 1-byte
      "\xc2\x80",                                      // U+0080, first 2-byte
      "\xdf\xbf",                                      // U+07FF, last 2-byte
      "\xe0\xa0\x80",                                  // U+0800, first 3-byte
      "\xed\x9f\xbf",                                  // U+D7FF, before the surrogates
      "\xee\x80\x80",                                  // U+E000, after them
      "\xef\xbf\xbd",                                  // U+FFFD
      "\xef\xbf\xbe",                                  // U+FFFE (a noncharacter, still valid UTF-8)
      "\xef\xbf\xbf",                                  // U+FFFF, last 3-byte
      "\xf0\x90\x80\x80",                              // U+10000, first 4-byte
      "\xf3\xbf\xbf\xbf",                              // U+FFFFF
      "\xf4\x8f\xbf\xbf",                              // U+10FFFF, the last code point
      "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5",  // "kosme" (Kuhn 1)
      "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!",  // Autobahn 6.2
      "a\xf0\x9f\x98\x80z",
  };
  for (std::string_view s : good) EXPECT_TRUE_FOR(sw::utf8_valid(s), s);

  const std::string_view bad[] = {
      // Overlongs.
      "\xc0\x80",
      "\xc1\xbf",
      "\xc0\xaf",
      "\xe0\x80\x80",
      "\xe0\x80\xaf",
      "\xe0\x9f\xbf",
      "\xf0\x80\x80\x80",
      "\xf0\x80\x80\xaf",
      "\xf0\x8f\xbf\xbf",
      "\xf8\x80\x80\x80\xaf",
      "\xfc\x80\x80\x80\x80\xaf",
      // Surrogates, single and paired.
      "\xed\xa0\x80",
      "\xed\xad\xbf",
      "\xed\xae\x80",
      "\xed\xaf\xbf",
      "\xed\xb0\x80",
      "\xed\xbf\xbf",
      "\xed\xa0\x80\xed\xb0\x80",
      "\xed\xaf\xbf\xed\xbf\xbf",
      // Above U+10FFFF and bytes that never occur.
      "\xf4\x90\x80\x80",
      "\xf4\xbf\xbf\xbf",
      "\xf5\x80\x80\x80",
      "\xf7\xbf\xbf\xbf",
      "\xf8",
      "\xf9",
      "\xfa",
      "\xfb",
      "\xfc",
      "\xfd",
      "\xfe",
      "\xff",
      "\xfe\xfe\xff\xff",
      // Lone continuation bytes.
      "\x80",
      "\xbf",
      "\x80\xbf",
      "a\x80",
      "\xc2\x80\x80",
      "\xef\xbf\xbf\xbf",
      // Truncated sequences at the end.
      "\xc2",
      "\xdf",
      "\xe0\xa0",
      "\xe1",
      "\xef\xbf",
      "\xf0\x90\x80",
      "\xf0\x90",
      "\xf0",
      "\xf4\x8f\xbf",
      "abc\xe2\x82",
      // Truncated sequences in the middle.
      "\xc2\x41",
      "\xe0\xa0\x41",
      "\xf0\x90\x80\x41",
      "\xe2\x28\xa1",
      "\xe2\x82\x28",
      "\xf0\x28\x8c\xbc",
      "\xf0\x90\x28\xbc",
      "\xf0\x9f\x98\x28",
      // Start bytes followed by a space (Kuhn 3.2).
      "\xc0 ",
      "\xe0 ",
      "\xf0 ",
      "\xf8 ",
      "\xfc ",
      // Autobahn 6.3.1: valid text with a surrogate in the middle.
      "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64",
  };
  for (std::string_view s : bad) EXPECT_TRUE_FOR(!sw::utf8_valid(s), s);

  // Every lead byte with a valid-looking tail: only the right ones pass.
  for (int b = 0x80; b <= 0xff; b++) {
    std::string two = {char(b), '\x80'};
    std::string three = {char(b), '\xa0', '\x80'};
    std::string four = {char(b), '\x90', '\x80', '\x80'};
    EXPECT_TRUE_FOR(sw::utf8_valid(two) == (b >= 0xc2 && b <= 0xdf), two);
    EXPECT_TRUE_FOR(sw::utf8_valid(three) == (b >= 0xe0 && b <= 0xef && b != 0xed), three);
    EXPECT_TRUE_FOR(sw::utf8_valid(four) == (b >= 0xf0 && b <= 0xf4 && b != 0xf4), four);
  }

  // Inside ASCII text, at every offset and cut short at every length: the
  // eight-bytes-at-a-time ASCII skip must neither hide a bad byte nor split a
  // good sequence.
  for (std::string_view g : good) {
    for (size_t at = 0; at <= 17; at++) {
      std::string s = std::string(at, 'a') + std::string(g) + std::string(19, 'z');
      EXPECT_TRUE_FOR(sw::utf8_valid(s), s);
    }
  }
  for (std::string_view b : bad) {
    for (size_t at = 0; at <= 17; at++) {
      std::string s = std::string(at, 'a') + std::string(b) + std::string(19, 'z');
      EXPECT_TRUE_FOR(!sw::utf8_valid(s), s);
      std::string t = std::string(at, 'a') + std::string(b);  // bad bytes last
      EXPECT_TRUE_FOR(!sw::utf8_valid(t), t);
    }
  }
  for (size_t n = 1; n <= 24; n++) {  // a 4-byte sequence cut by the end of the text
    std::string s = std::string(n, 'a') + "\xf0\x9f\x98";
    EXPECT_TRUE_FOR(!sw::utf8_valid(s), s);
  }
}

// Checks utf8_valid on every code point against a straightforward encoder.
void test_utf8_all_code_points(void **) {
  for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
    std::string s;
    if (cp < 0x80) {
      s += char(cp);
    } else if (cp < 0x800) {
      s += char(0xC0 | (cp >> 6));
      s += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      s += char(0xE0 | (cp >> 12));
      s += char(0x80 | ((cp >> 6) & 0x3F));
      s += char(0x80 | (cp & 0x3F));
    } else {
      s += char(0xF0 | (cp >> 18));
      s += char(0x80 | ((cp >> 12) & 0x3F));
      s += char(0x80 | ((cp >> 6) & 0x3F));
      s += char(0x80 | (cp & 0x3F));
    }
    bool want = cp < 0xD800 || cp > 0xDFFF;
    if (sw::utf8_valid(s) != want) {
      print_error("U+%04X (%s): want %d\n", cp, escape(s).c_str(), want);
      fail();
    }
    // Cut short, never valid (except 1-byte).
    if (s.size() > 1 && sw::utf8_valid(s.substr(0, s.size() - 1))) {
      print_error("U+%04X truncated passes\n", cp);
      fail();
    }
  }
}

// ===========================================================================
// static_path

struct TempTree {
  std::string base;  // holds www/ and outside/
  std::string root;  // base/www
  std::string root_real;
};

bool write_file(const std::string &path, const std::string &content) {
  FILE *f = fopen(path.c_str(), "wb");
  if (!f) return false;
  bool ok = fwrite(content.data(), 1, content.size(), f) == content.size();
  return fclose(f) == 0 && ok;
}

int static_setup(void **state) {
  char tmpl[] = "/tmp/ssews_test_proto_XXXXXX";
  if (!mkdtemp(tmpl)) return -1;
  auto *t = new TempTree;
  t->base = tmpl;
  t->root = t->base + "/www";
  const std::string &r = t->root;
  const std::string out = t->base + "/outside";
  const std::string out2 = t->base + "/www2";  // shares the prefix "www"
  bool ok = mkdir(r.c_str(), 0755) == 0 && mkdir((r + "/sub").c_str(), 0755) == 0 &&
            mkdir((r + "/sub/deep").c_str(), 0755) == 0 && mkdir((r + "/noindex").c_str(), 0755) == 0 &&
            mkdir(out.c_str(), 0755) == 0 && mkdir(out2.c_str(), 0755) == 0;
  if (!ok) return -1;
  ok = write_file(r + "/index.html", "root index") && write_file(r + "/a.txt", "a") &&
       write_file(r + "/sub/index.html", "sub index") && write_file(r + "/sub/deep/file.css", "css") &&
       write_file(r + "/noindex/x.txt", "x") && write_file(r + "/sp ace.txt", "space") &&
       write_file(r + "/100%.txt", "pct") && write_file(out + "/secret.txt", "secret") &&
       write_file(out2 + "/secret.txt", "secret2") &&
       symlink((out + "/secret.txt").c_str(), (r + "/link_out").c_str()) == 0 &&
       symlink("../outside/secret.txt", (r + "/link_out_rel").c_str()) == 0 &&
       symlink(out.c_str(), (r + "/link_dir_out").c_str()) == 0 &&
       symlink("../www2/secret.txt", (r + "/link_prefix").c_str()) == 0 &&
       symlink("a.txt", (r + "/link_in").c_str()) == 0 && symlink("sub", (r + "/link_sub").c_str()) == 0 &&
       symlink("missing.txt", (r + "/link_dangling").c_str()) == 0 &&
       mkfifo((r + "/fifo").c_str(), 0644) == 0;
  if (!ok) return -1;
  char real[PATH_MAX];
  if (!realpath(r.c_str(), real)) return -1;
  t->root_real = real;
  *state = t;
  return 0;
}

int static_teardown(void **state) {
  auto *t = static_cast<TempTree *>(*state);
  std::error_code ec;
  std::filesystem::remove_all(t->base, ec);
  delete t;
  return ec ? -1 : 0;
}

void test_static_resolve(void **state) {
  const auto *t = static_cast<TempTree *>(*state);
  const std::string &R = t->root_real;
  const std::pair<const char *, std::string> ok[] = {
      {"/", R + "/index.html"},
      {"/index.html", R + "/index.html"},
      {"/a.txt", R + "/a.txt"},
      // The path arrives percent-decoded (lws decodes it): '%' is literal.
      {"/sp ace.txt", R + "/sp ace.txt"},
      {"/100%.txt", R + "/100%.txt"},
      {"/sub/", R + "/sub/index.html"},
      {"/sub", R + "/sub/index.html"},
      {"/sub/index.html", R + "/sub/index.html"},
      {"/sub/deep/file.css", R + "/sub/deep/file.css"},
      {"//a.txt", R + "/a.txt"},
      {"/./a.txt", R + "/a.txt"},
      {"/noindex/x.txt", R + "/noindex/x.txt"},
      {"/link_in", R + "/a.txt"},  // a symlink inside the root is allowed
      {"/link_sub/", R + "/sub/index.html"},
      {"/link_sub/deep/file.css", R + "/sub/deep/file.css"},
  };
  for (const auto &p : ok) {
    std::string file = "unset";
    EXPECT_TRUE_FOR(sw::static_resolve(t->root, p.first, file), std::string(p.first));
    EXPECT_STR(file, p.second);
  }
  // The root given with a trailing slash works the same.
  std::string file;
  assert_true(sw::static_resolve(t->root + "/", "/a.txt", file));
  EXPECT_STR(file, R + "/a.txt");

  const std::string_view bad[] = {
      "/%61.txt",                // decoded once only: not "/a.txt"
      "/100%25.txt",             //
      "/a.txt\0.html"sv,         // NUL
      "",                        // not absolute
      "a.txt",                   //
      "/../x",                   // parent segments, plain or encoded
      "/..",                     //
      "/../outside/secret.txt",  //
      "/../www/a.txt",           // even when it would come back inside
      "/sub/../a.txt",           //
      "/sub/..",                 //
      "/a/../../x",              //
      "/%2e%2e/x",               //
      "/%2E%2E/outside/secret.txt",
      "/.%2e/x",  //
      "/..%2fx",  //
      "/%2e%2e%2foutside%2fsecret.txt",
      "/sub/%2e%2e/%2e%2e/outside/secret.txt",
      "/..\\outside\\secret.txt",  // backslashes
      "/sub\\index.html",          //
      "/%5c..%5coutside",          //
      "/a.txt\\",                  //
      "/%00",                      // NUL
      "/a.txt%00.html",            //
      "/a.txt%",                   // bad escape
      "/link_out",                 // symlinks that leave the root
      "/link_out_rel",             //
      "/link_dir_out/secret.txt",  //
      "/link_prefix",              // into a sibling sharing the root's name prefix
      "/link_dangling",            //
      "/noindex/",                 // a directory without index.html
      "/noindex",                  //
      "/missing.txt",              // does not exist
      "/sub/missing/",             //
      "/a.txt/",                   // a file used as a directory
      "/fifo",                     // not a regular file
  };
  for (std::string_view p : bad) {
    std::string f = "unset";
    EXPECT_TRUE_FOR(!sw::static_resolve(t->root, p, f), p);
  }
  // A root that does not exist.
  assert_false(sw::static_resolve(t->base + "/nope", "/a.txt", file));
}

void test_mime_type(void **) {
  const std::pair<const char *, const char *> cases[] = {
      {"index.html", "text/html; charset=utf-8"},
      {"/a/b/page.htm", "text/html; charset=utf-8"},
      {"app.js", "text/javascript; charset=utf-8"},
      {"mod.mjs", "text/javascript; charset=utf-8"},
      {"site.css", "text/css; charset=utf-8"},
      {"data.json", "application/json"},
      {"app.js.map", "application/json"},
      {"readme.txt", "text/plain; charset=utf-8"},
      {"logo.svg", "image/svg+xml"},
      {"a.png", "image/png"},
      {"a.jpg", "image/jpeg"},
      {"a.jpeg", "image/jpeg"},
      {"a.gif", "image/gif"},
      {"a.webp", "image/webp"},
      {"favicon.ico", "image/x-icon"},
      {"m.wasm", "application/wasm"},
      {"f.woff2", "font/woff2"},
      {"f.woff", "font/woff"},
      {"feed.xml", "application/xml"},
      {"doc.pdf", "application/pdf"},
      // Case-insensitive.
      {"INDEX.HTML", "text/html; charset=utf-8"},
      {"Photo.JpG", "image/jpeg"},
      {"X.WOFF2", "font/woff2"},
      {"a.Js", "text/javascript; charset=utf-8"},
      // Unknown or no extension.
      {"", "application/octet-stream"},
      {"file", "application/octet-stream"},
      {"html", "application/octet-stream"},
      {"a.bin", "application/octet-stream"},
      {"a.html.gz", "application/octet-stream"},
      {"a.xhtml", "application/octet-stream"},
      {"dir.html/file", "application/octet-stream"},
      {"a.jsx", "application/octet-stream"},
  };
  for (const auto &c : cases) {
    const char *got = sw::mime_type(c.first);
    assert_non_null(got);
    if (std::string_view(got) != c.second) {
      print_error("mime_type(\"%s\") = \"%s\", want \"%s\"\n", c.first, got, c.second);
      fail();
    }
  }
}

// ===========================================================================
// Options
//
// A client endpoint is one with a 'url'; some keys apply to one role only.

enum KeyRole { kServerOnly, kClientOnly, kBothRoles };

struct NumKey {
  const char *key;
  KeyRole role;
  uint64_t lo, hi;
  std::function<uint64_t(const sw::Options &)> get;
};

const std::vector<NumKey> &num_keys() {
  using O = sw::Options;
  static const std::vector<NumKey> k = {
      {"port", kServerOnly, 0, 65535, [](const O &o) { return uint64_t(o.port); }},
      {"history", kServerOnly, 0, 1000000, [](const O &o) { return uint64_t(o.history); }},
      {"heartbeat", kServerOnly, 0, 86400, [](const O &o) { return uint64_t(o.heartbeat); }},
      {"ping_interval", kBothRoles, 0, 65535, [](const O &o) { return uint64_t(o.ping_interval); }},
      {"pong_timeout", kBothRoles, 1, 65535, [](const O &o) { return uint64_t(o.pong_timeout); }},
      {"max_message_size", kBothRoles, 1, uint64_t(1) << 31,
       [](const O &o) { return uint64_t(o.max_message_size); }},
      {"max_connections", kServerOnly, 1, 1000000, [](const O &o) { return uint64_t(o.max_connections); }},
      {"max_partial_bytes", kServerOnly, 1024, uint64_t(1) << 36,
       [](const O &o) { return uint64_t(o.max_partial_bytes); }},
      {"max_queue_bytes", kBothRoles, 1024, uint64_t(1) << 34,
       [](const O &o) { return uint64_t(o.max_queue_bytes); }},
      {"compression_window_bits", kServerOnly, 9, 15,
       [](const O &o) { return uint64_t(o.compression_window_bits); }},
      {"compression_level", kServerOnly, 1, 9, [](const O &o) { return uint64_t(o.compression_level); }},
      {"compression_min_size", kServerOnly, 0, uint64_t(1) << 31,
       [](const O &o) { return uint64_t(o.compression_min_size); }},
      {"max_header_size", kServerOnly, 256, 65535, [](const O &o) { return uint64_t(o.max_header_size); }},
      {"handshake_timeout", kServerOnly, 1, 3600, [](const O &o) { return uint64_t(o.handshake_timeout); }},
      {"head_timeout", kServerOnly, 1, 3600, [](const O &o) { return uint64_t(o.head_timeout); }},
      {"max_pending_heads", kServerOnly, 1, 1000000, [](const O &o) { return uint64_t(o.max_pending_heads); }},
      {"max_pending_heads_per_ip", kServerOnly, 0, 1000000, [](const O &o) { return uint64_t(o.max_pending_heads_per_ip); }},
      {"max_connections_per_ip", kServerOnly, 0, 1000000, [](const O &o) { return uint64_t(o.max_connections_per_ip); }},
      {"handshake_rate_per_ip", kServerOnly, 0, 1000000, [](const O &o) { return uint64_t(o.handshake_rate_per_ip); }},
      {"handshake_burst_per_ip", kServerOnly, 1, 1000000, [](const O &o) { return uint64_t(o.handshake_burst_per_ip); }},
      {"max_pending_bytes", kBothRoles, 1024, uint64_t(1) << 36,
       [](const O &o) { return uint64_t(o.max_pending_bytes); }},
      {"max_event_queue", kBothRoles, 1, 100000000, [](const O &o) { return uint64_t(o.max_event_queue); }},
      {"drain_timeout", kServerOnly, 0, 3600, [](const O &o) { return uint64_t(o.drain_timeout); }},
      {"connect_timeout", kClientOnly, 1, 3600, [](const O &o) { return uint64_t(o.connect_timeout); }},
      {"reconnect_delay_ms", kClientOnly, 0, 3600000,
       [](const O &o) { return uint64_t(o.reconnect_delay_ms); }},
      {"reconnect_max_delay_ms", kClientOnly, 0, 86400000,
       [](const O &o) { return uint64_t(o.reconnect_max_delay_ms); }},
      {"reconnect_max_attempts", kClientOnly, 0, 1000000000,
       [](const O &o) { return uint64_t(o.reconnect_max_attempts); }},
  };
  return k;
}

// Every key, its role and a value it accepts.
struct KeyInfo {
  const char *key;
  KeyRole role;
  const char *good;
};
const std::vector<KeyInfo> kAllKeys = {
    {"url", kClientOnly, "ws://example.com/x"},
    {"host", kServerOnly, "0.0.0.0"},
    {"port", kServerOnly, "8080"},
    {"tls_cert", kServerOnly, "/c.pem"},
    {"tls_key", kServerOnly, "/k.pem"},
    {"http2", kServerOnly, "false"},
    {"static_dir", kServerOnly, "/srv/www"},
    {"history", kServerOnly, "77"},
    {"heartbeat", kServerOnly, "5"},
    {"ping_interval", kBothRoles, "6"},
    {"pong_timeout", kBothRoles, "7"},
    {"max_message_size", kBothRoles, "1000"},
    {"max_connections", kServerOnly, "9"},
    {"max_partial_bytes", kServerOnly, "4096"},
    {"max_queue_bytes", kBothRoles, "2048"},
    {"queue_policy", kServerOnly, "close"},
    {"compression", kBothRoles, "on"},
    {"compression_window_bits", kServerOnly, "10"},
    {"compression_level", kServerOnly, "1"},
    {"compression_min_size", kServerOnly, "100"},
    {"max_header_size", kServerOnly, "512"},
    {"handshake_timeout", kServerOnly, "11"},
    {"head_timeout", kServerOnly, "4"},
    {"max_pending_heads", kServerOnly, "20"},
    {"max_pending_heads_per_ip", kServerOnly, "21"},
    {"max_connections_per_ip", kServerOnly, "22"},
    {"handshake_rate_per_ip", kServerOnly, "23"},
    {"handshake_burst_per_ip", kServerOnly, "24"},
    {"max_pending_bytes", kBothRoles, "4096"},
    {"max_event_queue", kBothRoles, "13"},
    {"log_level", kBothRoles, "info"},
    {"publish_token", kServerOnly, "s3cret"},
    {"capture_headers", kServerOnly, "x-api-key, X-Trace"},
    {"publish_path", kServerOnly, "/pub"},
    {"broker", kServerOnly, "redis://127.0.0.1:6379/2"},
    {"broker_prefix", kServerOnly, "app1"},
    {"jwt_secret", kServerOnly, "@/run/secret"},
    {"jwt_public_key", kServerOnly, "/k.pub.pem"},
    {"jwt_audience", kServerOnly, "ssews-tests"},
    {"jwt_issuer", kServerOnly, "https://issuer.example"},
    {"jwt_leeway", kServerOnly, "5"},
    {"jwt_cookie", kServerOnly, "tok"},
    {"allowed_origins", kServerOnly, "https://a.example, http://localhost:8080"},
    {"anonymous_subscribe", kServerOnly, "news, prices.*"},
    {"metrics_path", kServerOnly, "/metrics"},
    {"metrics_token", kServerOnly, "m3trics"},
    {"send_high_water", kServerOnly, "2000000"},
    {"send_low_water", kServerOnly, "1000"},
    {"drain_timeout", kServerOnly, "3"},
    {"presence", kServerOnly, "true"},
    {"request_events", kServerOnly, "true"},
    {"header", kClientOnly, "X-Token: abc"},
    {"subprotocols", kBothRoles, "chat,superchat"},
    {"v1", kClientOnly, "false"},
    {"ca_file", kClientOnly, "/ca.pem"},
    {"insecure", kClientOnly, "yes"},
    {"connect_timeout", kClientOnly, "14"},
    {"reconnect", kClientOnly, "off"},
    {"reconnect_delay_ms", kClientOnly, "15"},
    {"reconnect_max_delay_ms", kClientOnly, "16"},
    {"reconnect_max_attempts", kClientOnly, "17"},
    {"last_event_id", kClientOnly, "E-42"},
    {"method", kClientOnly, "POST"},
    {"body", kClientOnly, "{\"q\":1}"},
    {"content_type", kClientOnly, "application/json"},
    {"reconnect_non_idempotent", kClientOnly, "true"},
};

const char *const kUrl = "ws://example.com/x";

// Parses kv (a NULL is added); as a client when `client` (a url is added first).
bool parse(std::vector<const char *> kv, sw::Options &o, std::string &err, bool client = false) {
  if (client) kv.insert(kv.begin(), {"url", kUrl});
  kv.push_back(nullptr);
  return sw::parse_options(kv.data(), o, err);
}

void test_options_defaults(void **) {
  sw::Options o;
  std::string err;
  assert_true(sw::parse_options(nullptr, o, err));
  assert_true(err.empty());
  EXPECT_STR(o.url, "");
  EXPECT_STR(o.host, "127.0.0.1");
  assert_int_equal(o.port, 0);
  EXPECT_STR(o.tls_cert, "");
  EXPECT_STR(o.tls_key, "");
  EXPECT_STR(o.static_dir, "");
  assert_int_equal(o.history, 0);
  assert_int_equal(o.heartbeat, 15);
  assert_int_equal(o.ping_interval, 30);
  assert_int_equal(o.pong_timeout, 10);
  assert_int_equal(o.max_message_size, 16u << 20);
  assert_int_equal(o.max_connections, 10000);
  assert_int_equal(o.max_queue_bytes, 4u << 20);
  assert_true(o.queue_drop_oldest);
  assert_int_equal(o.max_header_size, 8192);
  assert_int_equal(o.handshake_timeout, 10);
  assert_int_equal(o.head_timeout, 5);
  assert_int_equal(o.max_pending_heads, 1024);
  assert_int_equal(o.max_pending_heads_per_ip, 32);
  assert_int_equal(o.max_connections_per_ip, 256);
  assert_int_equal(o.handshake_rate_per_ip, 100);
  assert_int_equal(o.handshake_burst_per_ip, 200);
  assert_int_equal(o.max_pending_bytes, 64u << 20);
  assert_int_equal(o.max_event_queue, 100000);
  EXPECT_STR(o.log_level, "error");
  EXPECT_STR(o.publish_token, "");
  EXPECT_STR(o.publish_path, "/publish");
  assert_true(o.headers.empty());
  EXPECT_STR(o.subprotocols, "");
  assert_true(o.v1);
  EXPECT_STR(o.ca_file, "");
  assert_false(o.insecure);
  assert_int_equal(o.connect_timeout, 10);
  assert_true(o.reconnect);
  assert_int_equal(o.reconnect_delay_ms, 1000);
  assert_int_equal(o.reconnect_max_delay_ms, 30000);
  assert_int_equal(o.reconnect_max_attempts, 0);
  EXPECT_STR(o.last_event_id, "");
  // An empty array is the defaults too.
  const char *empty[] = {nullptr};
  sw::Options o2;
  assert_true(sw::parse_options(empty, o2, err));
  assert_true(err.empty());
  assert_int_equal(o2.port, 0);
  assert_int_equal(o2.heartbeat, 15);
  EXPECT_STR(o2.url, "");
}

void test_options_every_server_key_sets(void **) {
  sw::Options o;
  std::string err;
  const bool ok = parse({"host",
                         "0.0.0.0",
                         "port",
                         "8080",
                         "tls_cert",
                         "/c.pem",
                         "tls_key",
                         "/k.pem",
                         "static_dir",
                         "/srv/www",
                         "history",
                         "77",
                         "heartbeat",
                         "5",
                         "ping_interval",
                         "6",
                         "pong_timeout",
                         "7",
                         "max_message_size",
                         "1000",
                         "max_connections",
                         "9",
                         "max_queue_bytes",
                         "2048",
                         "queue_policy",
                         "close",
                         "max_header_size",
                         "512",
                         "handshake_timeout",
                         "11",
                         "max_pending_bytes",
                         "4096",
                         "max_event_queue",
                         "13",
                         "log_level",
                         "info",
                         "publish_token",
                         "s3cret",
                         "publish_path",
                         "/api/pub"},
                        o, err);
  if (!ok) print_error("%s\n", err.c_str());
  assert_true(ok);
  EXPECT_STR(o.url, "");
  EXPECT_STR(o.host, "0.0.0.0");
  assert_int_equal(o.port, 8080);
  EXPECT_STR(o.tls_cert, "/c.pem");
  EXPECT_STR(o.tls_key, "/k.pem");
  EXPECT_STR(o.static_dir, "/srv/www");
  assert_int_equal(o.history, 77);
  assert_int_equal(o.heartbeat, 5);
  assert_int_equal(o.ping_interval, 6);
  assert_int_equal(o.pong_timeout, 7);
  assert_int_equal(o.max_message_size, 1000);
  assert_int_equal(o.max_connections, 9);
  assert_int_equal(o.max_queue_bytes, 2048);
  assert_false(o.queue_drop_oldest);
  assert_int_equal(o.max_header_size, 512);
  assert_int_equal(o.handshake_timeout, 11);
  assert_int_equal(o.max_pending_bytes, 4096);
  assert_int_equal(o.max_event_queue, 13);
  EXPECT_STR(o.log_level, "info");
  EXPECT_STR(o.publish_token, "s3cret");
  EXPECT_STR(o.publish_path, "/api/pub");
}

void test_options_every_client_key_sets(void **) {
  sw::Options o;
  std::string err;
  // The url need not come first: the role is known before any key is checked.
  const bool ok = parse({"header",
                         "X-Token: abc",
                         "url",
                         "wss://example.com:8443/ev?x=1",
                         "header",
                         "Accept-Language: fr",
                         "subprotocols",
                         "chat,superchat",
                         "v1",
                         "false",
                         "ca_file",
                         "/ca.pem",
                         "insecure",
                         "yes",
                         "connect_timeout",
                         "14",
                         "reconnect",
                         "off",
                         "reconnect_delay_ms",
                         "15",
                         "reconnect_max_delay_ms",
                         "16",
                         "reconnect_max_attempts",
                         "17",
                         "last_event_id",
                         "E-42",
                         "ping_interval",
                         "6",
                         "pong_timeout",
                         "7",
                         "max_message_size",
                         "1000",
                         "max_queue_bytes",
                         "2048",
                         "max_pending_bytes",
                         "4096",
                         "max_event_queue",
                         "13",
                         "log_level",
                         "warn"},
                        o, err);
  if (!ok) print_error("%s\n", err.c_str());
  assert_true(ok);
  EXPECT_STR(o.url, "wss://example.com:8443/ev?x=1");
  assert_true(o.headers == std::vector<std::string>({"X-Token: abc", "Accept-Language: fr"}));
  EXPECT_STR(o.subprotocols, "chat,superchat");
  assert_false(o.v1);
  EXPECT_STR(o.ca_file, "/ca.pem");
  assert_true(o.insecure);
  assert_int_equal(o.connect_timeout, 14);
  assert_false(o.reconnect);
  assert_int_equal(o.reconnect_delay_ms, 15);
  assert_int_equal(o.reconnect_max_delay_ms, 16);
  assert_int_equal(o.reconnect_max_attempts, 17);
  EXPECT_STR(o.last_event_id, "E-42");
  assert_int_equal(o.ping_interval, 6);
  assert_int_equal(o.pong_timeout, 7);
  assert_int_equal(o.max_message_size, 1000);
  assert_int_equal(o.max_queue_bytes, 2048);
  assert_int_equal(o.max_pending_bytes, 4096);
  assert_int_equal(o.max_event_queue, 13);
  EXPECT_STR(o.log_level, "warn");
}

void test_options_roles(void **) {
  for (const KeyInfo &k : kAllKeys) {
    if (!strcmp(k.key, "url")) continue;
    for (bool client : {false, true}) {
      sw::Options o;
      std::string err;
      bool applies = k.role == kBothRoles || (k.role == kClientOnly) == client;
      // tls_cert and tls_key go together.
      std::vector<const char *> kv = {k.key, k.good};
      if (!strcmp(k.key, "tls_cert")) kv = {"tls_cert", "/c.pem", "tls_key", "/k.pem"};
      if (!strcmp(k.key, "tls_key")) kv = {"tls_key", "/k.pem", "tls_cert", "/c.pem"};
      bool ok = parse(kv, o, err, client);
      if (ok != applies) {
        print_error("%s=%s as a %s: ok %d, err \"%s\"\n", k.key, k.good, client ? "client" : "server", ok,
                    err.c_str());
        fail();
      }
      if (!ok) {
        EXPECT_CONTAINS(err, "'"s + k.key + "'");
        EXPECT_CONTAINS(err, client ? "servers only" : "clients only");
      }
    }
  }
}

void test_options_numeric_bounds(void **) {
  for (const NumKey &k : num_keys()) {
    const bool client = k.role == kClientOnly;
    // Both bounds and a value in between are accepted, and set exactly.
    const uint64_t mid = k.lo + (k.hi - k.lo) / 3;
    for (uint64_t v : {k.lo, k.hi, mid}) {
      sw::Options o;
      std::string err, val = std::to_string(v);
      bool ok = parse({k.key, val.c_str()}, o, err, client);
      if (!ok || k.get(o) != v) {
        print_error("%s=%s: ok %d, got %llu, err \"%s\"\n", k.key, val.c_str(), ok,
                    (unsigned long long)k.get(o), err.c_str());
        fail();
      }
    }
    if (k.role == kBothRoles) {  // as a client too
      sw::Options o;
      std::string err, val = std::to_string(k.hi);
      assert_true(parse({k.key, val.c_str()}, o, err, true));
      assert_true(k.get(o) == k.hi);
    }
    // Leading zeros are still decimal.
    {
      sw::Options o;
      std::string err, val = "000" + std::to_string(k.hi);
      assert_true(parse({k.key, val.c_str()}, o, err, client));
      assert_true(k.get(o) == k.hi);
    }
    std::vector<std::string> bad = {std::to_string(k.hi + 1),
                                    "-1",
                                    "-0",
                                    "abc",
                                    "",
                                    "12abc",
                                    " 12",
                                    "12 ",
                                    "+12",
                                    "1.5",
                                    "1e3",
                                    "0x10",
                                    "\xef\xbc\x91\xef\xbc\x92",
                                    "99999999999999999999",
                                    "999999999999999999999999999",
                                    "18446744073709551616",
                                    std::to_string(k.hi) + "0"};
    if (k.lo > 0) bad.push_back(std::to_string(k.lo - 1));
    for (const std::string &v : bad) {
      sw::Options o, def;
      std::string err;
      if (parse({k.key, v.c_str()}, o, err, client)) {
        print_error("%s=\"%s\" was accepted (got %llu)\n", k.key, v.c_str(), (unsigned long long)k.get(o));
        fail();
      }
      EXPECT_CONTAINS(err, k.key);
      EXPECT_CONTAINS(err, "'" + v + "'");
      assert_true(k.get(o) == k.get(def));  // left alone
    }
  }
}

void test_options_strings(void **) {
  for (const char *key : {"host", "tls_cert", "tls_key", "static_dir", "publish_token"}) {
    sw::Options o;
    std::string err;
    assert_false(parse({key, ""}, o, err));
    EXPECT_CONTAINS(err, key);
  }
  {
    sw::Options o;
    std::string err;
    assert_false(parse({"url", ""}, o, err));
    EXPECT_CONTAINS(err, "url");
    err.clear();
    assert_false(parse({"ca_file", ""}, o, err, true));
    EXPECT_CONTAINS(err, "ca_file");
  }
  // Any non-empty text is taken as is.
  sw::Options o;
  std::string err;
  assert_true(parse({"host", "::1", "static_dir", "rel/dir with space"}, o, err));
  EXPECT_STR(o.host, "::1");
  EXPECT_STR(o.static_dir, "rel/dir with space");
  // A key given twice is an error that names it (only "header" repeats).
  assert_false(parse({"port", "1", "port", "2"}, o, err));
  assert_non_null(strstr(err.c_str(), "'port'"));
  assert_non_null(strstr(err.c_str(), "more than once"));
  sw::Options hc;
  assert_true(parse({"url", "ws://h/", "header", "A: 1", "header", "B: 2"}, hc, err));
  assert_int_equal(hc.headers.size(), 2);
  // publish_path: a path, without a query.
  for (const char *v : {"/", "/publish", "/a/b c", "/%3F"}) {
    sw::Options p;
    EXPECT_TRUE_FOR(parse({"publish_path", v}, p, err), std::string(v));
    EXPECT_STR(p.publish_path, v);
  }
  for (const char *v : {"", "publish", "./p", "/p?x=1", "/?", "http://h/p"}) {
    sw::Options p;
    err.clear();
    EXPECT_TRUE_FOR(!parse({"publish_path", v}, p, err), std::string(v));
    EXPECT_CONTAINS(err, "publish_path");
    EXPECT_CONTAINS(err, "'" + std::string(v) + "'");
    EXPECT_STR(p.publish_path, "/publish");
  }
  // These may be empty.
  sw::Options c;
  assert_true(parse({"subprotocols", "", "last_event_id", ""}, c, err, true));
  EXPECT_STR(c.subprotocols, "");
  EXPECT_STR(c.last_event_id, "");
}

void test_options_client_values(void **) {
  // Booleans.
  const std::pair<const char *, bool> bools[] = {
      {"1", true},  {"true", true},   {"yes", true}, {"on", true},
      {"0", false}, {"false", false}, {"no", false}, {"off", false},
  };
  for (const char *key : {"v1", "insecure", "reconnect"}) {
    for (const auto &b : bools) {
      sw::Options o;
      o.v1 = o.insecure = o.reconnect = !b.second;
      std::string err;
      EXPECT_TRUE_FOR(parse({key, b.first}, o, err, true), std::string(key) + "=" + b.first);
      bool got = !strcmp(key, "v1") ? o.v1 : !strcmp(key, "insecure") ? o.insecure : o.reconnect;
      EXPECT_TRUE_FOR(got == b.second, std::string(key) + "=" + b.first);
    }
    for (const char *v : {"", "2", "TRUE", "True", "y", "n", "enable", " 1", "1 "}) {
      sw::Options o;
      std::string err;
      EXPECT_TRUE_FOR(!parse({key, v}, o, err, true), std::string(key) + "=" + v);
      EXPECT_CONTAINS(err, key);
      EXPECT_CONTAINS(err, "'" + std::string(v) + "'");
    }
  }
  // Headers: a token name, a colon, no CR or LF.
  for (const char *h : {"X-A: b", "X-A:", "x:y", "Cookie: a=b; c=d", "A!#$%&'*+-.^_`|~9: v"}) {
    sw::Options o;
    std::string err;
    EXPECT_TRUE_FOR(parse({"header", h}, o, err, true), std::string(h));
    assert_true(o.headers == std::vector<std::string>({h}));
  }
  for (const char *h : {"", "NoColon", ":v", " X: v", "X : v", "X\t: v", "X(a): v", "X\xc3\xa9: v",
                        "X: a\r\nInjected: 1", "X: a\nb", "X: a\r", "X\n: v"}) {
    sw::Options o;
    std::string err;
    EXPECT_TRUE_FOR(!parse({"header", h}, o, err, true), std::string(h));
    EXPECT_CONTAINS(err, "header");
    EXPECT_CONTAINS(err, "'" + std::string(h) + "'");
    assert_true(o.headers.empty());
  }
  // last_event_id: no CR or LF (it becomes a header line).
  for (const char *v : {"a\rb", "a\nb", "\r\n", "x\r"}) {
    sw::Options o;
    std::string err;
    EXPECT_TRUE_FOR(!parse({"last_event_id", v}, o, err, true), std::string(v));
    EXPECT_CONTAINS(err, "last_event_id");
    EXPECT_STR(o.last_event_id, "");
  }
  // subprotocols: no CR or LF (it becomes the Sec-WebSocket-Protocol line).
  for (const char *v : {"chat\r\nX-Injected: 1", "a\nb", "x\r"}) {
    sw::Options o;
    std::string err;
    EXPECT_TRUE_FOR(!parse({"subprotocols", v}, o, err, true), std::string(v));
    EXPECT_CONTAINS(err, "subprotocols");
    EXPECT_STR(o.subprotocols, "");
  }
}

void test_options_unknown_and_odd(void **) {
  sw::Options o;
  std::string err;
  assert_false(parse({"no_such_key", "1"}, o, err));
  EXPECT_CONTAINS(err, "no_such_key");
  err.clear();
  assert_false(parse({"no_such_key", "1"}, o, err, true));
  EXPECT_CONTAINS(err, "no_such_key");
  err.clear();
  assert_false(parse({"port", "1", "Port", "2"}, o, err));  // keys are case-sensitive
  EXPECT_CONTAINS(err, "Port");
  err.clear();
  assert_false(parse({"", "1"}, o, err));
  assert_false(err.empty());
  // A key with no value.
  err.clear();
  assert_false(parse({"port"}, o, err));
  EXPECT_CONTAINS(err, "port");
  err.clear();
  assert_false(parse({"port", "1", "host"}, o, err));
  EXPECT_CONTAINS(err, "host");
  err.clear();
  assert_false(parse({"no_such_key"}, o, err));
  EXPECT_CONTAINS(err, "no_such_key");
  err.clear();
  assert_false(parse({"url"}, o, err));
  EXPECT_CONTAINS(err, "url");
}

void test_options_enums(void **) {
  {
    sw::Options o;
    std::string err;
    assert_true(parse({"queue_policy", "close"}, o, err));
    assert_false(o.queue_drop_oldest);
    assert_true(parse({"queue_policy", "drop_oldest"}, o, err));
    assert_true(o.queue_drop_oldest);
  }
  for (const char *v : {"", "Close", "CLOSE", "drop-oldest", "dropoldest", "drop_oldest ", "block"}) {
    sw::Options o;
    std::string err;
    EXPECT_TRUE_FOR(!parse({"queue_policy", v}, o, err), std::string(v));
    EXPECT_CONTAINS(err, "queue_policy");
    EXPECT_CONTAINS(err, "'" + std::string(v) + "'");
  }
  for (const char *v : {"none", "error", "warn", "notice", "info"}) {
    sw::Options o;
    std::string err;
    EXPECT_TRUE_FOR(parse({"log_level", v}, o, err), std::string(v));
    EXPECT_STR(o.log_level, v);
  }
  for (const char *v : {"", "debug", "ERROR", "warning", "err", "info ", "all"}) {
    sw::Options o;
    std::string err;
    EXPECT_TRUE_FOR(!parse({"log_level", v}, o, err), std::string(v));
    EXPECT_CONTAINS(err, "log_level");
    EXPECT_CONTAINS(err, "'" + std::string(v) + "'");
    EXPECT_STR(o.log_level, "error");
  }
}

void test_options_tls_pair(void **) {
  {
    sw::Options o;
    std::string err;
    assert_false(parse({"tls_cert", "/c.pem"}, o, err));
    EXPECT_CONTAINS(err, "needs 'tls_key'");
  }
  {
    sw::Options o;
    std::string err;
    assert_false(parse({"tls_key", "/k.pem", "port", "1"}, o, err));
    EXPECT_CONTAINS(err, "needs 'tls_cert'");
  }
  {
    sw::Options o;
    std::string err;
    assert_true(parse({"tls_key", "/k.pem", "tls_cert", "/c.pem"}, o, err));
    assert_true(err.empty());
  }
}

// The drain event's marks: the low one must be below the high one.
void test_send_water_marks(void **) {
  sw::Options o;
  std::string err;
  assert_true(parse({"send_high_water", "1000", "send_low_water", "999"}, o, err));
  assert_int_equal(o.send_high_water, 1000);
  assert_int_equal(o.send_low_water, 999);
  sw::Options o2;
  assert_false(parse({"send_high_water", "1000", "send_low_water", "1000"}, o2, err));
  EXPECT_CONTAINS(err, "send_low_water");
  sw::Options o3;
  assert_false(parse({"send_low_water", "2000000"}, o3, err));  // above the default high mark
  EXPECT_CONTAINS(err, "below 'send_high_water'");
}

void test_option_keys(void **) {
  const std::vector<std::string> &keys = sw::option_keys();
  std::set<std::string> got(keys.begin(), keys.end());
  assert_int_equal(got.size(), keys.size());  // no duplicates
  for (const KeyInfo &k : kAllKeys) EXPECT_TRUE_FOR(got.count(k.key) == 1, std::string(k.key));
  for (const NumKey &k : num_keys()) EXPECT_TRUE_FOR(got.count(k.key) == 1, std::string(k.key));
  // Every listed key is one parse_options knows, in one role or the other.
  for (const auto &k : keys) {
    sw::Options o1, o2;
    std::string e1, e2;
    parse({k.c_str(), "\x01"}, o1, e1, false);
    parse({k.c_str(), "\x01"}, o2, e2, true);
    EXPECT_TRUE_FOR(e1.find("unknown") == std::string::npos || e2.find("unknown") == std::string::npos, k);
    // A key this test does not know yet: add it to kAllKeys.
    bool known = false;
    for (const KeyInfo &ki : kAllKeys) known = known || k == ki.key;
    EXPECT_TRUE_FOR(known, k);
  }
}

// The option table (option_table.h) is what parse_options accepts, roles and
// defaults included: the docs, ssews_option_at and the bindings' checks read it.
void test_option_table(void **) {
  std::string err;
  EXPECT_TRUE_FOR(sw::options_table_check(err), err);
  std::set<std::string> seen;
  for (const sw::OptionInfo &row : sw::kOptionTable) {
    std::string key = row.key;
    EXPECT_TRUE_FOR(seen.insert(key).second, key);  // no duplicates
    std::string type = row.type;
    EXPECT_TRUE_FOR(
        type == "string" || type == "integer" || type == "boolean" || type == "enum" || type == "list",
        key + ": type " + type);
    EXPECT_TRUE_FOR(row.doc && *row.doc && !strchr(row.doc, '\n') && !strchr(row.doc, '|'), key);
    // The role agrees with this file's own list.
    for (const KeyInfo &k : kAllKeys)
      if (key == k.key) {
        KeyRole want = row.role == sw::kOptServer   ? kServerOnly
                       : row.role == sw::kOptClient ? kClientOnly
                                                    : kBothRoles;
        EXPECT_TRUE_FOR(k.role == want, key);
      }
    // A stated default is a value the key accepts, in each role it has.
    if (*row.default_value && key != "url") {
      if (row.role & sw::kOptServer) {
        sw::Options o;
        std::string e;
        EXPECT_TRUE_FOR(parse({row.key, row.default_value}, o, e, false), key + ": " + e);
      }
      if (row.role & sw::kOptClient) {
        sw::Options o;
        std::string e;
        EXPECT_TRUE_FOR(parse({row.key, row.default_value}, o, e, true), key + ": " + e);
      }
    }
    // And it is what Options starts with.
    for (const NumKey &k : num_keys())
      if (key == k.key) EXPECT_TRUE_FOR(std::to_string(k.get(sw::Options{})) == row.default_value, key);
  }
  assert_int_equal(seen.size(), sw::kOptionCount);
  sw::Options d;
  EXPECT_STR(d.host, "127.0.0.1");
  for (const sw::OptionInfo &row : sw::kOptionTable) {
    std::string key = row.key;
    if (key == "host") EXPECT_STR(d.host, row.default_value);
    if (key == "log_level") EXPECT_STR(d.log_level, row.default_value);
    if (key == "publish_path") EXPECT_STR(d.publish_path, row.default_value);
    if (key == "queue_policy")
      EXPECT_TRUE_FOR(d.queue_drop_oldest == (std::string(row.default_value) == "drop_oldest"), key);
    if (key == "v1") EXPECT_TRUE_FOR(d.v1 == (std::string(row.default_value) == "true"), key);
    if (key == "insecure") EXPECT_TRUE_FOR(d.insecure == (std::string(row.default_value) == "true"), key);
    if (key == "reconnect") EXPECT_TRUE_FOR(d.reconnect == (std::string(row.default_value) == "true"), key);
  }
}

}  // namespace

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hub_publish_seq_and_ids),
      cmocka_unit_test(test_hub_history_bounded),
      cmocka_unit_test(test_hub_history_zero_keeps_nothing),
      cmocka_unit_test(test_hub_subscribe_unsubscribe),
      cmocka_unit_test(test_hub_swap_remove_keeps_others),
      cmocka_unit_test(test_hub_remove),
      cmocka_unit_test(test_hub_channel_with_history_kept),
      cmocka_unit_test(test_hub_model),
      cmocka_unit_test(test_hub_unsubscribe_keeps_order),
      cmocka_unit_test(test_hub_many_subscribers),
      cmocka_unit_test(test_hub_replay_empty_last_id),
      cmocka_unit_test(test_hub_replay_own_id),
      cmocka_unit_test(test_hub_replay_no_duplicates),
      cmocka_unit_test(test_hub_replay_publisher_id),
      cmocka_unit_test(test_hub_replay_evicted_own_id),
      cmocka_unit_test(test_hub_replay_evicted_other_channel),
      cmocka_unit_test(test_hub_replay_stale_or_unknown),
      cmocka_unit_test(test_hub_replay_future_id),
      cmocka_unit_test(test_hub_epoch_prefix),
      cmocka_unit_test(test_outq_accounting),
      cmocka_unit_test(test_outq_bound_counts_real_cost),
      cmocka_unit_test(test_outq_counts_wire_size),
      cmocka_unit_test(test_outq_exact_fit),
      cmocka_unit_test(test_outq_ring_order),
      cmocka_unit_test(test_ws_frame_header),
      cmocka_unit_test(test_outq_drop_oldest),
      cmocka_unit_test(test_outq_close_policy),
      cmocka_unit_test(test_outq_oversized_when_empty),
      cmocka_unit_test(test_wirebuf),
      cmocka_unit_test(test_message_plain),
      cmocka_unit_test(test_message_sse_text),
      cmocka_unit_test(test_message_sse_binary),
      cmocka_unit_test(test_message_v1_text),
      cmocka_unit_test(test_message_v1_binary),
      cmocka_unit_test(test_message_encoded_once),
      cmocka_unit_test(test_json_quote),
      cmocka_unit_test(test_v1_encode_text_exact),
      cmocka_unit_test(test_v1_text_round_trip),
      cmocka_unit_test(test_v1_decode_text_escapes),
      cmocka_unit_test(test_v1_decode_text_rejects),
      cmocka_unit_test(test_v1_binary_round_trip),
      cmocka_unit_test(test_v1_binary_rejects),
      cmocka_unit_test(test_close_code_valid_all),
      cmocka_unit_test(test_close_code_sendable_all),
      cmocka_unit_test(test_close_payload),
      cmocka_unit_test(test_handshake),
      cmocka_unit_test(test_base64_vectors),
      cmocka_unit_test(test_base64_round_trip),
      cmocka_unit_test(test_base64_rejects),
      cmocka_unit_test(test_utf8_valid),
      cmocka_unit_test(test_utf8_all_code_points),
      cmocka_unit_test_setup_teardown(test_static_resolve, static_setup, static_teardown),
      cmocka_unit_test(test_mime_type),
      cmocka_unit_test(test_options_defaults),
      cmocka_unit_test(test_options_every_server_key_sets),
      cmocka_unit_test(test_options_every_client_key_sets),
      cmocka_unit_test(test_options_roles),
      cmocka_unit_test(test_options_numeric_bounds),
      cmocka_unit_test(test_options_strings),
      cmocka_unit_test(test_options_client_values),
      cmocka_unit_test(test_options_unknown_and_odd),
      cmocka_unit_test(test_options_enums),
      cmocka_unit_test(test_options_tls_pair),
      cmocka_unit_test(test_option_keys),
      cmocka_unit_test(test_send_water_marks),
      cmocka_unit_test(test_option_table),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
