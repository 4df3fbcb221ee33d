// Unit tests of the broker's pure parts: the broker URL, ids and the
// pub/sub payload, resume from a history reply, and a channel's catch-up
// cursor (no loss, no duplicates, in order).
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <string>
#include <vector>

// cmocka 1.1.5's header has no extern "C" guard of its own.
extern "C" {
#include <cmocka.h>
}

#include "broker/broker_cursor.h"
#include "broker/broker_url.h"
#include "broker/broker_wire.h"

namespace {

sw::MessagePtr msg(uint64_t seq, const std::string &id = "", const std::string &channel = "c") {
  auto m = std::make_shared<sw::Message>();
  m->seq = seq;
  m->channel = channel;
  m->id = id.empty() ? "E-" + std::to_string(seq) : id;
  m->payload = sw::WireBuf("x", 1);
  return m;
}

std::vector<uint64_t> seqs(const std::vector<sw::MessagePtr> &v) {
  std::vector<uint64_t> out;
  for (const auto &m : v) out.push_back(m->seq);
  return out;
}

void test_url_forms(void **) {
  sw::BrokerAddr a;
  std::string err;
  assert_true(sw::parse_broker_url("redis://localhost", a, err));
  assert_string_equal(a.host.c_str(), "localhost");
  assert_int_equal(a.port, 6379);
  assert_int_equal(a.db, 0);
  assert_true(a.password.empty() && a.user.empty() && a.unix_path.empty());
  assert_true(sw::parse_broker_url("redis://app:p%40ss%3Aw@[::1]:7000/3", a, err));
  assert_string_equal(a.host.c_str(), "::1");
  assert_int_equal(a.port, 7000);
  assert_int_equal(a.db, 3);
  assert_string_equal(a.user.c_str(), "app");
  assert_string_equal(a.password.c_str(), "p@ss:w");
  assert_string_equal(a.display().c_str(), "redis://app@[::1]:7000/3");  // never the password
  assert_true(sw::parse_broker_url("redis://:secret@h:1/", a, err));
  assert_true(a.user.empty());
  assert_string_equal(a.password.c_str(), "secret");
  assert_true(sw::parse_broker_url("redis://secret@h", a, err));  // a password alone
  assert_string_equal(a.password.c_str(), "secret");
  assert_true(sw::parse_broker_url("unix:/run/redis/redis.sock?db=2", a, err));
  assert_string_equal(a.unix_path.c_str(), "/run/redis/redis.sock");
  assert_int_equal(a.db, 2);
  assert_true(sw::parse_broker_url("unix:///tmp/r.sock", a, err));
  assert_string_equal(a.unix_path.c_str(), "/tmp/r.sock");
  assert_true(sw::parse_broker_url("unix://:s%40c@/tmp/r.sock?db=1", a, err));
  assert_string_equal(a.unix_path.c_str(), "/tmp/r.sock");
  assert_string_equal(a.password.c_str(), "s@c");
  assert_string_equal(a.display().c_str(), "unix:/tmp/r.sock?db=1");
}

void test_url_bad(void **) {
  for (const char *bad : {"", "http://h", "redis://", "redis://h:0", "redis://h:65536", "redis://h:x",
                          "redis://h:", "redis://h/db", "redis://[::1", "redis://[::1]x", "redis://u:%zz@h",
                          "redis://u:%4@h", "unix:", "unix:/s?x=1", "redis://h\n"}) {
    sw::BrokerAddr a;
    std::string err;
    if (sw::parse_broker_url(bad, a, err)) fail_msg("accepted '%s'", bad);
    assert_false(err.empty());
  }
}

void test_ids(void **) {
  uint64_t seq = 0;
  assert_true(sw::parse_cluster_id("k3x9-1042", "k3x9", seq));
  assert_int_equal(seq, 1042);
  assert_false(sw::parse_cluster_id("k3x9-0", "k3x9", seq));
  assert_false(sw::parse_cluster_id("k3x8-5", "k3x9", seq));
  assert_false(sw::parse_cluster_id("k3x9-5a", "k3x9", seq));
  assert_false(sw::parse_cluster_id("k3x9-", "k3x9", seq));
  assert_false(sw::parse_cluster_id("k3x9-5", "", seq));
  assert_string_equal(sw::history_start("k3x9-7", "k3x9").c_str(), "(7-0");
  assert_string_equal(sw::history_start("other-7", "k3x9").c_str(), "-");
  assert_string_equal(sw::history_start("mine", "k3x9").c_str(), "-");
}

void test_keys(void **) {
  std::string ch;
  assert_string_equal(sw::broker_keys::pubsub("app", "a:b").c_str(), "app:m:a:b");
  assert_true(sw::broker_keys::channel_of_pubsub("app", "app:m:a:b", ch));
  assert_string_equal(ch.c_str(), "a:b");
  assert_false(sw::broker_keys::channel_of_pubsub("app", "apx:m:a", ch));
  assert_false(sw::broker_keys::channel_of_pubsub("app", "app:s:a", ch));
  assert_string_equal(sw::broker_keys::stream("p", "c").c_str(), "p:s:c");
  assert_string_equal(sw::broker_keys::evicted("p", "c").c_str(), "p:ev:c");
  assert_string_equal(sw::broker_keys::meta("p").c_str(), "p:meta");
}

void test_decode_live(void **) {
  std::string ep;
  uint64_t ms = 0;
  std::string payload = std::string("12\nE\nE-12\nnews\n1\n1733363000123\nbin\n\0ary", 40);
  auto m = sw::decode_live("c", payload, ep, ms);
  assert_true(m != nullptr);
  assert_string_equal(ep.c_str(), "E");
  assert_int_equal(ms, 1733363000123ULL);
  assert_int_equal(m->seq, 12);
  assert_string_equal(m->id.c_str(), "E-12");
  assert_string_equal(m->event.c_str(), "news");
  assert_true(m->binary);
  assert_int_equal(m->payload.size(), 9);  // data keeps its own newlines and NULs
  assert_memory_equal(m->payload.data(), "bin\n\0ary", 8);
  auto empty = sw::decode_live("c", "3\nE\nmy-id\n\n0\n5\n", ep, ms);
  assert_true(empty != nullptr);
  assert_int_equal(empty->payload.size(), 0);
  assert_false(empty->binary);
  for (const char *bad : {"", "x\nE\ni\ne\n0\n5\n", "0\nE\ni\ne\n0\n5\n", "1\n\ni\ne\n0\n5\n",
                          "1\nE\n\ne\n0\n5\n", "1\nE\ni\ne\n0\n5", "1\nE\ni\ne\n0\nx\n",
                          "1\nE\ni\ne\n0\n\n"})
    assert_true(sw::decode_live("c", bad, ep, ms) == nullptr);
}

void test_decode_entry(void **) {
  using F = std::vector<std::pair<std::string_view, std::string_view>>;
  auto m = sw::decode_entry("c", "7-0", F{{"i", "E-7"}, {"e", "ev"}, {"b", "0"}, {"d", "hi"}});
  assert_true(m != nullptr);
  assert_int_equal(m->seq, 7);
  assert_string_equal(m->event.c_str(), "ev");
  assert_int_equal(m->payload.size(), 2);
  assert_true(sw::decode_entry("c", "x-0", F{{"i", "E-7"}, {"d", ""}}) == nullptr);
  assert_true(sw::decode_entry("c", "7-0", F{{"d", "no id"}}) == nullptr);
  assert_true(sw::decode_entry("c", "7-0", F{{"i", "no data"}}) == nullptr);
}

void test_replay(void **) {
  sw::ChannelHistory a, b;
  a.entries = {msg(3), msg(5), msg(8, "own-id")};
  b.entries = {msg(4, "", "d"), msg(9, "", "d")};
  // After E-4 on two channels: 5, 8, 9 in seq order, no gap.
  sw::BrokerReplay r = sw::broker_replay("E-4", "E", 9, true, {a, b});
  assert_false(r.gap);
  assert_int_equal(r.after, 4);
  assert_true(seqs(r.messages) == (std::vector<uint64_t>{5, 8, 9}));
  // A publisher's own id is found in history.
  r = sw::broker_replay("own-id", "E", 9, true, {a, b});
  assert_false(r.gap);
  assert_true(seqs(r.messages) == (std::vector<uint64_t>{9}));
  // A stale epoch or an unknown id: everything kept, and the gap signal.
  r = sw::broker_replay("OLD-4", "E", 9, true, {a, b});
  assert_true(r.gap);
  assert_true(seqs(r.messages) == (std::vector<uint64_t>{3, 4, 5, 8, 9}));
  // An id from the future is not ours.
  r = sw::broker_replay("E-99", "E", 9, true, {a});
  assert_true(r.gap);
  // Trimmed past the resume point: gap.
  a.evicted = 2;
  r = sw::broker_replay("E-1", "E", 9, true, {a});
  assert_true(r.gap);
  r = sw::broker_replay("E-2", "E", 9, true, {a});
  assert_false(r.gap);
  // No history: anything published since is a gap.
  r = sw::broker_replay("E-9", "E", 9, false, {});
  assert_false(r.gap);
  r = sw::broker_replay("E-8", "E", 9, false, {});
  assert_true(r.gap);
  // A channel listed twice replays once; a fresh client replays nothing.
  r = sw::broker_replay("E-7", "E", 9, true, {a, a});
  assert_true(seqs(r.messages) == (std::vector<uint64_t>{8}));
  r = sw::broker_replay("", "E", 9, true, {a});
  assert_true(r.messages.empty() && !r.gap);
}

void test_cursor_live(void **) {
  sw::ChannelCursor c;
  std::vector<sw::MessagePtr> out;
  c.position(10);
  c.live(msg(9), out);  // in flight when the position was read: still delivered
  c.live(msg(11), out);
  assert_true(seqs(out) == (std::vector<uint64_t>{9, 11}));
  assert_int_equal(c.last(), 11);
}

void test_cursor_catch_up(void **) {
  sw::ChannelCursor c;
  std::vector<sw::MessagePtr> out;
  c.live(msg(2), out);
  c.begin_catch_up();
  c.live(msg(6), out);  // live messages wait while the history is read
  c.live(msg(7), out);
  assert_true(seqs(out) == (std::vector<uint64_t>{2}));
  // The history holds 3..6; 6 came live as well: delivered once, in order.
  c.end_catch_up({msg(3), msg(5), msg(6)}, out);
  assert_true(seqs(out) == (std::vector<uint64_t>{2, 3, 5, 6, 7}));
  assert_false(c.catching_up());
  // Delivery failed for 8 and 9: rewind, and fetch them again.
  c.live(msg(8), out);
  c.live(msg(9), out);
  c.rewind(7);
  c.begin_catch_up();
  c.live(msg(10), out);
  out.clear();
  c.end_catch_up({msg(8), msg(9), msg(10)}, out);
  assert_true(seqs(out) == (std::vector<uint64_t>{8, 9, 10}));
  // A new epoch starts again from 0.
  c.reset();
  assert_int_equal(c.last(), 0);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_url_forms),
      cmocka_unit_test(test_url_bad),
      cmocka_unit_test(test_ids),
      cmocka_unit_test(test_keys),
      cmocka_unit_test(test_decode_live),
      cmocka_unit_test(test_decode_entry),
      cmocka_unit_test(test_replay),
      cmocka_unit_test(test_cursor_live),
      cmocka_unit_test(test_cursor_catch_up),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
