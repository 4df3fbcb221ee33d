// Unit tests of sw::SseParser against the WHATWG HTML "Server-sent events"
// parsing rules (9.2.6 "Interpreting an event stream") and the behaviour the
// web-platform-tests eventsource/ suite checks.
//
// Most tests go through check_stream(), which feeds the stream whole, one byte
// at a time, split in two at every position, and in pseudo-random pieces, and
// requires the same callbacks every time: the parser must not care where the
// network cut the bytes.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
// cmocka 1.1.5's header has no extern "C" guard of its own.
extern "C" {
#include <cmocka.h>
}

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "test_util.h"
#include "sse_parser.h"

using sw::SseEvent;
using sw::SseParser;
using namespace std::string_literals;  // "...\0..."s keeps embedded NULs

namespace {

// One callback seen: an event, or a retry value.
struct Item {
  bool is_retry = false;
  std::string type, data, id;
  uint64_t retry = 0;
  bool operator==(const Item &o) const {
    return is_retry == o.is_retry && type == o.type && data == o.data && id == o.id &&
           retry == o.retry;
  }
};
using Log = std::vector<Item>;

Item ev(std::string data, std::string type = "message", std::string id = "") {
  Item it;
  it.type = std::move(type);
  it.data = std::move(data);
  it.id = std::move(id);
  return it;
}

Item retry(uint64_t ms) {
  Item it;
  it.is_retry = true;
  it.retry = ms;
  return it;
}

// A parser whose callbacks append to log. Not movable: the callbacks hold `this`.
struct Rec {
  SseParser p;
  Log log;
  explicit Rec(size_t max = 16u << 20) : p(max) {
    p.on_event = [this](const SseEvent &e) { log.push_back(ev(e.data, e.type, e.last_id)); };
    p.on_retry = [this](uint64_t ms) { log.push_back(retry(ms)); };
  }
  Rec(const Rec &) = delete;
  Rec &operator=(const Rec &) = delete;
};

using test_util::escape;

std::string show(const Log &log) {
  std::string out;
  for (const Item &it : log) {
    if (it.is_retry) {
      out += "  retry " + std::to_string(it.retry) + "\n";
    } else {
      out += "  event type=\"" + escape(it.type) + "\" data=\"" + escape(it.data) + "\" id=\"" +
             escape(it.id) + "\"\n";
    }
  }
  return out.empty() ? "  (nothing)\n" : out;
}

void expect_log(const Log &got, const Log &want, const std::string &how) {
  if (got == want) return;
  print_error("%s:\nexpected:\n%sgot:\n%s", how.c_str(), show(want).c_str(), show(got).c_str());
  fail();
}

// Feeds s cut at the given offsets (ascending), then ends the stream.
Log run_cuts(std::string_view s, const std::vector<size_t> &cuts) {
  Rec r;
  size_t pos = 0;
  for (const size_t c : cuts) {
    assert_true(r.p.feed(s.data() + pos, c - pos));
    pos = c;
  }
  assert_true(r.p.feed(s.data() + pos, s.size() - pos));
  r.p.end_of_stream();
  return r.log;
}

// The stream, fed in every way listed above, gives exactly `want`.
void check_stream(std::string_view s, const Log &want) {
  const std::string name = "stream \"" + escape(s) + "\"";
  expect_log(run_cuts(s, {}), want, name + " fed whole");

  std::vector<size_t> cuts;
  for (size_t i = 1; i < s.size(); ++i) cuts.push_back(i);
  expect_log(run_cuts(s, cuts), want, name + " fed byte by byte");

  for (size_t i = 0; i <= s.size(); ++i) {
    expect_log(run_cuts(s, {i}), want, name + " split at " + std::to_string(i));
  }

  // Pseudo-random pieces of 1..7 bytes, fixed seeds so failures reproduce.
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    uint32_t x = seed * 2654435761u;
    cuts.clear();
    for (size_t pos = 0;;) {
      x = x * 1103515245u + 12345u;
      pos += 1 + (x >> 16) % 7;
      if (pos >= s.size()) break;
      cuts.push_back(pos);
    }
    expect_log(run_cuts(s, cuts), want, name + " random pieces, seed " + std::to_string(seed));
  }
}

const std::string kFffd = "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER in UTF-8

}  // namespace

// ---------------------------------------------------------------------------
// The examples of the spec, section 9.2.6 (and 9.2.1).

static void test_spec_example_messages(void **state) {
  (void)state;
  check_stream(
      "data: This is the first message.\n"
      "\n"
      "data: This is the second message, it\n"
      "data: has two lines.\n"
      "\n"
      "data: This is the third message.\n"
      "\n",
      {ev("This is the first message."), ev("This is the second message, it\nhas two lines."),
       ev("This is the third message.")});
}

static void test_spec_example_event_types(void **state) {
  (void)state;
  check_stream(
      "event: add\n"
      "data: 73857293\n"
      "\n"
      "event: remove\n"
      "data: 2153\n"
      "\n"
      "event: add\n"
      "data: 113411\n"
      "\n",
      {ev("73857293", "add"), ev("2153", "remove"), ev("113411", "add")});
}

static void test_spec_example_stock(void **state) {
  (void)state;
  check_stream("data: YHOO\ndata: +2\ndata: 10\n\n", {ev("YHOO\n+2\n10")});
}

static void test_spec_example_ids(void **state) {
  (void)state;
  const std::string s =
      ": test stream\n"
      "\n"
      "data: first event\n"
      "id: 1\n"
      "\n"
      "data:second event\n"
      "id\n"
      "\n"
      "data:  third event\n";
  // As written, the stream ends without the blank line: the third event is
  // not dispatched ("the end of the stream is not enough").
  check_stream(s, {ev("first event", "message", "1"), ev("second event")});
  // With the blank line it is, keeping its one extra leading space.
  check_stream(s + "\n", {ev("first event", "message", "1"), ev("second event"),
                          ev(" third event")});
}

static void test_spec_example_empty_data(void **state) {
  (void)state;
  // "data" alone appends an empty line; the last block lacks its blank line.
  check_stream("data\n\ndata\ndata\n\ndata:", {ev(""), ev("\n")});
}

static void test_spec_example_one_space_removed(void **state) {
  (void)state;
  check_stream("data:test\n\ndata: test\n\n", {ev("test"), ev("test")});
}

// ---------------------------------------------------------------------------
// Byte order mark.

static void test_bom_stripped_at_start(void **state) {
  (void)state;
  check_stream("\xEF\xBB\xBF" "data: a\n\n", {ev("a")});
  check_stream("\xEF\xBB\xBF", {});
  check_stream("\xEF\xBB\xBF\n" "data: a\n\n", {ev("a")});
}

static void test_bom_only_one_stripped(void **state) {
  (void)state;
  // web-platform-tests format-bom-2: the second BOM is part of the first
  // field name ("\uFEFFdata"), an unknown field, so event "1" never happens.
  check_stream("\xEF\xBB\xBF\xEF\xBB\xBF" "data:1\n\ndata:2\n\ndata:3\n\n",
               {ev("2"), ev("3")});
  check_stream("\xEF\xBB\xBF\xEF\xBB\xBF" "data:1\n\n", {});
}

static void test_bom_not_at_start_kept(void **state) {
  (void)state;
  check_stream("data: a\n\n\xEF\xBB\xBF" "data: b\n\n", {ev("a")});
  check_stream("data: \xEF\xBB\xBFx\n\n", {ev("\xEF\xBB\xBFx")});
  check_stream("\n\xEF\xBB\xBF" "data: a\n\n", {});
}

static void test_bom_partial_is_not_a_bom(void **state) {
  (void)state;
  // EF BB then 'd': a truncated UTF-8 sequence, one U+FFFD glued to the name.
  check_stream("\xEF\xBB" "data: a\n\n", {});
  check_stream("\xEF" "data: a\n\n", {});
  // EF BB followed by LF: the U+FFFD line is an unknown field, the next works.
  check_stream("\xEF\xBB\n" "data: a\n\n", {ev("a")});
  // Input shorter than a BOM is decoded, not lost.
  check_stream("\xEF\xBB\n\n", {});
  check_stream("\xEF\n" "data:\xEF\xBB\n\n", {ev(kFffd)});
}

static void test_bom_stripped_again_after_end_of_stream(void **state) {
  (void)state;
  Rec r;
  assert_true(r.p.feed("\xEF\xBB\xBF" "data: a\n\n"));
  r.p.end_of_stream();
  assert_true(r.p.feed("\xEF\xBB"));
  assert_true(r.p.feed("\xBF" "data: b\n\n"));
  expect_log(r.log, {ev("a"), ev("b")}, "two streams each with a BOM");
}

// ---------------------------------------------------------------------------
// Line ends.

static void test_line_ends_lf_cr_crlf(void **state) {
  (void)state;
  check_stream("data: a\n\n", {ev("a")});
  check_stream("data: a\r\r", {ev("a")});
  check_stream("data: a\r\n\r\n", {ev("a")});
  check_stream("data: a\ndata: b\n\n", {ev("a\nb")});
  check_stream("data: a\rdata: b\r\r", {ev("a\nb")});
  check_stream("data: a\r\ndata: b\r\n\r\n", {ev("a\nb")});
}

static void test_line_ends_mixed(void **state) {
  (void)state;
  check_stream("data: a\rdata: b\ndata: c\r\n\r\n", {ev("a\nb\nc")});
  check_stream("data: a\r\n\n", {ev("a")});
  check_stream("data: a\n\r\n", {ev("a")});
  check_stream("data: a\n\r", {ev("a")});
  check_stream("data: a\r\n\r", {ev("a")});
  // CR, then CRLF: two line ends, so the second is a blank line.
  check_stream("data: a\r\r\ndata: b\n\n", {ev("a"), ev("b")});
  // LF then CR: two line ends as well.
  check_stream("data: a\n\rdata: b\n\n", {ev("a"), ev("b")});
  // CR LF LF: one line end, then a blank line.
  check_stream("data: a\r\n\ndata: b\r\n\n", {ev("a"), ev("b")});
  // Only line ends: blank lines with nothing to dispatch.
  check_stream("\r\n\r\n\n\r\r\n", {});
}

static void test_crlf_split_across_feeds(void **state) {
  (void)state;
  // The LF at the start of the second feed completes the CR of the first:
  // one line end, not a blank line, so a and b form one event.
  Rec r;
  assert_true(r.p.feed("data: a\r"));
  assert_true(r.p.feed("\ndata: b\r"));
  assert_true(r.p.feed("\n"));
  assert_true(r.log.empty());
  assert_true(r.p.feed("\r"));
  expect_log(r.log, {ev("a\nb")}, "CRLF split across feeds");
  assert_true(r.p.feed("\n"));  // completes the CRLF of the blank line: no new line
  assert_true(r.p.feed("data: c\n\n"));
  expect_log(r.log, {ev("a\nb"), ev("c")}, "CRLF split across feeds, then more");
}

static void test_crlf_split_by_empty_feeds(void **state) {
  (void)state;
  Rec r;
  assert_true(r.p.feed("data: a\r"));
  assert_true(r.p.feed(nullptr, 0));
  assert_true(r.p.feed("", 0));
  assert_true(r.p.feed("\n\r"));
  assert_true(r.p.feed(nullptr, 0));
  assert_true(r.p.feed("\n"));
  expect_log(r.log, {ev("a")}, "CRLF with empty feeds between");
}

static void test_cr_dispatches_without_waiting_for_lf(void **state) {
  (void)state;
  // A server ending lines with CR alone must see its event delivered at once,
  // not when the next byte arrives.
  Rec r;
  assert_true(r.p.feed("data: a\r\r"));
  expect_log(r.log, {ev("a")}, "event after CR CR, before any further byte");
}

static void test_event_delivered_as_soon_as_blank_line_ends(void **state) {
  (void)state;
  Rec r;
  assert_true(r.p.feed("data: a\n"));
  assert_true(r.log.empty());
  assert_true(r.p.feed("\n"));
  expect_log(r.log, {ev("a")}, "event right after its blank line");
}

// ---------------------------------------------------------------------------
// Field parsing.

static void test_data_without_colon(void **state) {
  (void)state;
  check_stream("data\n\n", {ev("")});
  check_stream("data\ndata\ndata\n\n", {ev("\n\n")});
  check_stream("data\ndata: x\n\n", {ev("\nx")});
}

static void test_data_space_after_colon(void **state) {
  (void)state;
  check_stream("data:\n\n", {ev("")});
  check_stream("data: \n\n", {ev("")});
  check_stream("data:x\n\n", {ev("x")});
  check_stream("data: x\n\n", {ev("x")});
  check_stream("data:  x\n\n", {ev(" x")});  // only one space removed
  check_stream("data:   \n\n", {ev("  ")});
  check_stream("data:\tx\n\n", {ev("\tx")});  // only a space, not a tab
  check_stream("data: x \n\n", {ev("x ")});  // trailing space kept
}

static void test_value_with_colons(void **state) {
  (void)state;
  check_stream("data: a:b: c\n\n", {ev("a:b: c")});
  check_stream("data::\n\n", {ev(":")});
  check_stream("data: data: x\n\n", {ev("data: x")});
  check_stream("event:a:b\ndata\n\n", {ev("", "a:b")});
}

static void test_field_names_exact(void **state) {
  (void)state;
  // Names are case-sensitive and whitespace is significant.
  check_stream("Data: x\n\n", {});
  check_stream("DATA: x\n\n", {});
  check_stream("data : x\n\n", {});
  check_stream(" data: x\n\n", {});
  check_stream("dataa: x\n\n", {});
  check_stream("dat: x\n\n", {});
  check_stream("da\0ta: x\n\n"s, {});
  check_stream("data\0: x\n\n"s, {});
}

static void test_unknown_fields_ignored(void **state) {
  (void)state;
  check_stream("foo: bar\ndata: x\nbaz\n:\nqux:\n\n", {ev("x")});
  check_stream("foo: bar\n\n", {});
  // An unknown field does not touch the buffers.
  check_stream("event: e\nid: 1\ndata: x\nfoo\n\n", {ev("x", "e", "1")});
}

static void test_comments(void **state) {
  (void)state;
  check_stream(": hello\n", {});
  check_stream(": hello\n\n", {});
  check_stream(":\n\n:\r\n\r\n:x\r\r", {});
  check_stream(":data: x\n\n", {});
  check_stream("data: a\n: comment between\ndata: b\n\n", {ev("a\nb")});
  // A comment line is not a blank line: it does not dispatch.
  check_stream("data: a\n:\ndata: b\n\n", {ev("a\nb")});
  // A line starting with a space then colon is a field named " ".
  check_stream(" :data: x\ndata: y\n\n", {ev("y")});
}

static void test_wpt_comment_fest(void **state) {
  (void)state;
  // web-platform-tests format-comments (message.py appends one more "\n").
  const std::string longstring(2 * 1024, 'x');
  const std::string s = "data:1\r:\0\n:\r\ndata:2\n:"s + longstring + "\rdata:3\n:data:fail\r:" +
                        longstring + "\ndata:4\n" + "\n";
  expect_log(run_cuts(s, {}), {ev("1\n2\n3\n4")}, "comment fest, whole");
  std::vector<size_t> cuts;
  for (size_t i = 1; i < s.size(); ++i) cuts.push_back(i);
  expect_log(run_cuts(s, cuts), {ev("1\n2\n3\n4")}, "comment fest, byte by byte");
}

static void test_wpt_data_field(void **state) {
  (void)state;
  // web-platform-tests format-field-data (message.py appends "\n\n" "\n").
  check_stream("data:\n\ndata\ndata\n\ndata:test\n\n\n", {ev(""), ev("\n"), ev("test")});
}

static void test_nul_in_data_and_event(void **state) {
  (void)state;
  // web-platform-tests format-null-character.
  check_stream("data:\0\n\n"s, {ev("\0"s)});
  check_stream("event: a\0b\ndata: x\0y\n\n"s, {ev("x\0y"s, "a\0b"s)});
}

// ---------------------------------------------------------------------------
// event

static void test_event_type_default_and_reset(void **state) {
  (void)state;
  check_stream("data: a\n\n", {ev("a", "message")});
  check_stream("event: add\ndata: a\n\ndata: b\n\n", {ev("a", "add"), ev("b", "message")});
  // The field's position in the block does not matter.
  check_stream("data: a\nevent: add\n\n", {ev("a", "add")});
  // The last event field wins.
  check_stream("event: a\nevent: b\ndata: x\n\n", {ev("x", "b")});
  // An explicit "message" type is just that.
  check_stream("event: message\ndata: x\n\n", {ev("x", "message")});
  // Leading space: one removed, the rest kept.
  check_stream("event:  sp\ndata: x\n\n", {ev("x", " sp")});
}

static void test_event_type_empty_means_message(void **state) {
  (void)state;
  // web-platform-tests format-field-event-empty.
  check_stream("event: \ndata:data\n\n", {ev("data")});
  check_stream("event:\ndata:data\n\n", {ev("data")});
  check_stream("event\ndata:data\n\n", {ev("data")});
  check_stream("event: a\nevent:\ndata:data\n\n", {ev("data")});
}

static void test_event_type_reset_without_data(void **state) {
  (void)state;
  // A blank line with an empty data buffer dispatches nothing but still
  // resets the event type buffer.
  check_stream("event: add\n\ndata: x\n\n", {ev("x")});
  check_stream("event: add\nid: 3\n\ndata: x\n\n", {ev("x", "message", "3")});
}

static void test_event_type_discarded_at_end_of_stream(void **state) {
  (void)state;
  Rec r;
  assert_true(r.p.feed("event: add\ndata: a\n"));
  r.p.end_of_stream();
  assert_true(r.p.feed("data: b\n\n"));
  expect_log(r.log, {ev("b")}, "event type of an unfinished event is dropped");
}

// ---------------------------------------------------------------------------
// id

static void test_id_persists(void **state) {
  (void)state;
  // web-platform-tests format-field-id-3 "persists".
  check_stream("id: 1\ndata: 1\n\ndata:2\n\n", {ev("1", "message", "1"), ev("2", "message", "1")});
  // "changes and persists".
  check_stream("id: 1\ndata: 1\n\nid: 2\ndata:2\n\ndata:3\n\n",
               {ev("1", "message", "1"), ev("2", "message", "2"), ev("3", "message", "2")});
}

static void test_id_empty_resets(void **state) {
  (void)state;
  // web-platform-tests format-field-id-3 "resets".
  check_stream("id: 1\ndata: 1\n\nid:\ndata:2\n\ndata:3\n\n",
               {ev("1", "message", "1"), ev("2"), ev("3")});
  check_stream("id: 1\ndata: 1\n\nid: \ndata:2\n\n", {ev("1", "message", "1"), ev("2")});
  check_stream("id: 1\ndata: 1\n\nid\ndata:2\n\n", {ev("1", "message", "1"), ev("2")});
}

static void test_id_with_nul_ignored(void **state) {
  (void)state;
  check_stream("id: \0\0\ndata: hello\n\n"s, {ev("hello")});
  check_stream("id: 1\ndata: a\n\nid: 2\0\ndata: b\n\n"s,
               {ev("a", "message", "1"), ev("b", "message", "1")});
  check_stream("id: 1\nid: a\0\ndata: x\n\n"s, {ev("x", "message", "1")});
  Rec r;
  assert_true(r.p.feed("id: 5\n\nid: 6\0\n\n"s));
  assert_string_equal(r.p.last_event_id().c_str(), "5");
}

static void test_id_values(void **state) {
  (void)state;
  check_stream("id:  x\ndata\n\n", {ev("", "message", " x")});
  check_stream("id: a:b\ndata\n\n", {ev("", "message", "a:b")});
  check_stream("id: \xE2\x80\xA6\ndata\n\n", {ev("", "message", "\xE2\x80\xA6")});
  check_stream("data\nid: 9\n\n", {ev("", "message", "9")});  // after data, same block
  check_stream("id: 1\nid: 2\ndata\n\n", {ev("", "message", "2")});
}

static void test_last_event_id_set_on_dispatch(void **state) {
  (void)state;
  Rec r;
  assert_string_equal(r.p.last_event_id().c_str(), "");
  assert_true(r.p.feed("id: 7\n"));
  // The buffer is set; the last event ID string only at the blank line.
  assert_string_equal(r.p.last_event_id().c_str(), "");
  assert_true(r.p.feed("\n"));
  // Set even though nothing was dispatched (empty data buffer).
  assert_string_equal(r.p.last_event_id().c_str(), "7");
  assert_true(r.log.empty());
  assert_true(r.p.feed("data: x\n\n"));
  expect_log(r.log, {ev("x", "message", "7")}, "id from a data-less block");
  assert_true(r.p.feed("id\n\n"));
  assert_string_equal(r.p.last_event_id().c_str(), "");
}

static void test_last_event_id_survives_end_of_stream(void **state) {
  (void)state;
  Rec r;
  assert_true(r.p.feed("id: 1\ndata: a\n\nid: 2\ndata: b\n"));
  r.p.end_of_stream();
  // The unfinished block's id never took effect.
  assert_string_equal(r.p.last_event_id().c_str(), "1");
  assert_true(r.p.feed("data: c\n\n"));
  expect_log(r.log, {ev("a", "message", "1"), ev("c", "message", "1")},
             "id carried into the next stream");
}

static void test_wpt_data_before_final_empty_line(void **state) {
  (void)state;
  // web-platform-tests format-data-before-final-empty-line: the stream
  // "retry:1000\ndata:test1\n\nid:test\ndata:test2" (+ "\n") is served twice.
  const std::string s = "retry:1000\ndata:test1\n\nid:test\ndata:test2\n";
  Rec r;
  assert_true(r.p.feed(s));
  r.p.end_of_stream();
  assert_true(r.p.feed(s));
  r.p.end_of_stream();
  expect_log(r.log, {retry(1000), ev("test1"), retry(1000), ev("test1")},
             "second connection's event has an empty lastEventId");
  assert_string_equal(r.p.last_event_id().c_str(), "");
}

static void test_set_last_event_id(void **state) {
  (void)state;
  Rec r;
  r.p.set_last_event_id("42");
  assert_string_equal(r.p.last_event_id().c_str(), "42");
  assert_true(r.p.feed("data: a\n\nid: 43\ndata: b\n\ndata: c\n\n"));
  expect_log(r.log, {ev("a", "message", "42"), ev("b", "message", "43"), ev("c", "message", "43")},
             "restored last event id");
}

// ---------------------------------------------------------------------------
// retry

static void test_retry_valid(void **state) {
  (void)state;
  check_stream("retry: 1000\n", {retry(1000)});
  check_stream("retry:0\n", {retry(0)});
  check_stream("retry: 03000\n", {retry(3000)});  // base ten, not octal
  check_stream("retry: 2000\nretry: 1000x\ndata:x\n\n", {retry(2000), ev("x")});
  check_stream("retry: 18446744073709551615\n", {retry(UINT64_MAX)});
  check_stream("retry: 18446744073709551616\n", {retry(UINT64_MAX)});  // saturates
  check_stream("retry: 99999999999999999999999999\n", {retry(UINT64_MAX)});
}

static void test_retry_invalid_ignored(void **state) {
  (void)state;
  check_stream("retry: 1000x\n", {});
  check_stream("retry: x1000\n", {});
  check_stream("retry: -1\n", {});
  check_stream("retry: +1\n", {});
  check_stream("retry: 1.5\n", {});
  check_stream("retry: 1e3\n", {});
  check_stream("retry: 10 \n", {});
  check_stream("retry:  10\n", {});  // two spaces: the value starts with one
  check_stream("retry: \n", {});
  check_stream("retry:\n", {});
  check_stream("retry\n", {});
  check_stream("retry: \xD9\xA1\n", {});  // ARABIC-INDIC DIGIT ONE is no ASCII digit
  check_stream("Retry: 10\n", {});
}

static void test_retry_does_not_touch_event(void **state) {
  (void)state;
  // Reported when its line ends, independent of dispatch.
  Rec r;
  assert_true(r.p.feed("data: a\nretry: 5\n"));
  expect_log(r.log, {retry(5)}, "retry reported at its line end");
  assert_true(r.p.feed("\n"));
  expect_log(r.log, {retry(5), ev("a")}, "then the event");
  check_stream("retry: 5\n\n", {retry(5)});
}

// ---------------------------------------------------------------------------
// End of stream.

static void test_end_of_stream_discards_incomplete_event(void **state) {
  (void)state;
  check_stream("data: x", {});
  check_stream("data: x\n", {});
  check_stream("data: x\r", {});
  check_stream("data: x\r\n", {});
  check_stream("data: x\ndata: y\n", {});
  check_stream("event: e\nid: 1\ndata: x\n", {});
}

static void test_end_of_stream_resets_for_next_stream(void **state) {
  (void)state;
  Rec r;
  assert_true(r.p.feed("data: a\n"));
  r.p.end_of_stream();
  // The dropped data line must not resurface with the next stream's event.
  assert_true(r.p.feed("\ndata: b\n\n"));
  expect_log(r.log, {ev("b")}, "data dropped at end of stream");
  // A partial line ("da") is dropped too.
  assert_true(r.p.feed("da"));
  r.p.end_of_stream();
  assert_true(r.p.feed("ta: c\n\ndata: d\n\n"));
  expect_log(r.log, {ev("b"), ev("d")}, "partial line dropped at end of stream");
  // A pending UTF-8 sequence is dropped: the next stream starts clean.
  assert_true(r.p.feed("data: \xE2\x82"));
  r.p.end_of_stream();
  assert_true(r.p.feed("data: e\n\n"));
  expect_log(r.log, {ev("b"), ev("d"), ev("e")}, "pending UTF-8 dropped at end of stream");
  // end_of_stream() twice, and on a fresh parser, is harmless.
  r.p.end_of_stream();
  r.p.end_of_stream();
  Rec fresh;
  fresh.p.end_of_stream();
  assert_true(fresh.p.feed("data: f\n\n"));
  expect_log(fresh.log, {ev("f")}, "end_of_stream on a fresh parser");
}

static void test_empty_streams(void **state) {
  (void)state;
  check_stream("", {});
  check_stream("\n", {});
  check_stream("\n\n\n", {});
  check_stream(":", {});
  Rec r;
  assert_true(r.p.feed(nullptr, 0));
  assert_true(r.log.empty());
}

static void test_no_callbacks_set(void **state) {
  (void)state;
  SseParser p;
  assert_true(p.feed("retry: 5\nid: 1\nevent: e\ndata: x\n\n"));
  assert_string_equal(p.last_event_id().c_str(), "1");
}

static void test_many_events_in_one_feed(void **state) {
  (void)state;
  std::string s;
  Log want;
  for (int i = 0; i < 1000; ++i) {
    s += "id: " + std::to_string(i) + "\ndata: " + std::to_string(i * 7) + "\n\n";
    want.push_back(ev(std::to_string(i * 7), "message", std::to_string(i)));
  }
  expect_log(run_cuts(s, {}), want, "1000 events in one feed");
}

// ---------------------------------------------------------------------------
// UTF-8 decoding (WHATWG Encoding "UTF-8 decode": each maximal invalid subpart
// becomes one U+FFFD).

static void test_utf8_valid_passes(void **state) {
  (void)state;
  // web-platform-tests format-utf-8: "ok\u2026".
  check_stream("data:ok\xE2\x80\xA6\n\n", {ev("ok\xE2\x80\xA6")});
  const std::string u = "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF\xEF\xBF\xBF";
  check_stream("data: " + u + "\n\n", {ev(u)});
  check_stream("event: " + u + "\nid: " + u + "\ndata: x\n\n", {ev("x", u, u)});
  // Boundary code points: U+0080, U+07FF, U+0800, U+D7FF, U+E000, U+10000.
  const std::string b = "\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xF0\x90\x80\x80";
  check_stream("data:" + b + "\n\n", {ev(b)});
}

static void test_utf8_invalid_bytes(void **state) {
  (void)state;
  check_stream("data: \xFF\n\n", {ev(kFffd)});
  check_stream("data: \x80\n\n", {ev(kFffd)});                       // lone continuation
  check_stream("data: \xC0\x80\n\n", {ev(kFffd + kFffd)});           // C0 never valid
  check_stream("data: \xC1\xBF\n\n", {ev(kFffd + kFffd)});
  check_stream("data: \xF5\x80\n\n", {ev(kFffd + kFffd)});
  check_stream("data: \xF8\x88\x80\x80\x80\n\n", {ev(kFffd + kFffd + kFffd + kFffd + kFffd)});
  check_stream("data: a\xFE" "b\n\n", {ev("a" + kFffd + "b")});
}

static void test_utf8_truncated_sequences(void **state) {
  (void)state;
  // A valid prefix cut short is ONE U+FFFD, and the byte that cut it is kept.
  check_stream("data: \xC3\n\n", {ev(kFffd)});
  check_stream("data: \xE2\x82\n\n", {ev(kFffd)});
  check_stream("data: \xF0\x9F\x98\n\n", {ev(kFffd)});
  check_stream("data: \xE2\x82x\n\n", {ev(kFffd + "x")});
  check_stream("data: \xF0\x9F\x98\xF0\x9F\x98\x80\n\n", {ev(kFffd + "\xF0\x9F\x98\x80")});
  check_stream("data: \xE2\x28\xA1\n\n", {ev(kFffd + "(" + kFffd)});
  // Cut by CR or LF: the line still ends there.
  check_stream("data: a\xE2\r\n\r\n", {ev("a" + kFffd)});
  check_stream("data: a\xF0\x9F\ndata: b\n\n", {ev("a" + kFffd + "\nb")});
}

static void test_utf8_out_of_range_second_byte(void **state) {
  (void)state;
  // Overlongs, surrogates and code points above U+10FFFF: the lead byte is
  // one U+FFFD, and each following continuation byte another.
  check_stream("data: \xE0\x80\x80\n\n", {ev(kFffd + kFffd + kFffd)});
  check_stream("data: \xE0\x9F\xBF\n\n", {ev(kFffd + kFffd + kFffd)});
  check_stream("data: \xED\xA0\x80\n\n", {ev(kFffd + kFffd + kFffd)});
  check_stream("data: \xED\xBF\xBF\n\n", {ev(kFffd + kFffd + kFffd)});
  check_stream("data: \xF0\x80\x80\x80\n\n", {ev(kFffd + kFffd + kFffd + kFffd)});
  check_stream("data: \xF0\x8F\xBF\xBF\n\n", {ev(kFffd + kFffd + kFffd + kFffd)});
  check_stream("data: \xF4\x90\x80\x80\n\n", {ev(kFffd + kFffd + kFffd + kFffd)});
}

static void test_utf8_invalid_in_names_and_ids(void **state) {
  (void)state;
  check_stream("d\xFF" "ata: x\n\n", {});
  check_stream("data\xFF: x\n\n", {});
  check_stream("id: a\xFF\ndata: x\n\n", {ev("x", "message", "a" + kFffd)});
  check_stream("event: \xC3\ndata: x\n\n", {ev("x", kFffd)});
}

static void test_utf8_after_cr(void **state) {
  (void)state;
  // CR, then a sequence that LF cuts short: U+FFFD is a character between
  // them, so that LF is a line end of its own (not the second half of CRLF),
  // and the final LF is the blank line.
  check_stream("data: a\r\xE2\n\n", {ev("a")});
  check_stream("data: a\r\xE2\x82\n" "data: b\n\n", {ev("a\nb")});
}

// ---------------------------------------------------------------------------
// max_line_bytes

static void test_max_line_bytes_line(void **state) {
  (void)state;
  {
    Rec r(10);
    assert_true(r.p.feed("data:12345\n\n"));  // exactly 10 bytes: fine
    expect_log(r.log, {ev("12345")}, "line of exactly max bytes");
    assert_true(r.p.error().empty());
    assert_false(r.p.feed("data:123456\n\n"));  // 11 bytes
    assert_false(r.p.error().empty());
    assert_false(r.p.feed("data: x\n\n"));  // still failed
    expect_log(r.log, {ev("12345")}, "nothing after failure");
  }
  {
    // Comments and unknown fields are lines too.
    Rec r(10);
    assert_false(r.p.feed(": 3456789012\n"));
    Rec r2(10);
    assert_false(r2.p.feed("xxxxxxxxxxx"));  // no line end needed to fail
  }
  {
    // Byte by byte fails at the same byte.
    Rec r(10);
    const std::string s = "data: 1\n\ndata:123456\n\n";
    size_t i = 0;
    while (i < s.size() && r.p.feed(s.data() + i, 1)) ++i;
    assert_int_equal(i, std::string("data: 1\n\ndata:12345").size());
    expect_log(r.log, {ev("1")}, "byte by byte up to the failure");
  }
  {
    // Counted after decoding: each invalid byte becomes 3 bytes of U+FFFD.
    Rec r(10);
    assert_false(r.p.feed("data:\xFF\xFF\n\n"));
  }
}

static void test_max_line_bytes_data_buffer(void **state) {
  (void)state;
  Rec r(8);
  // The data buffer holds each value plus its LF: "abc\n" is 4 bytes.
  assert_true(r.p.feed("data:abc\ndata:abc\n"));  // 8: fine
  assert_true(r.p.error().empty());
  assert_false(r.p.feed("data\n"));  // 9: too long
  assert_false(r.p.error().empty());
  assert_false(r.p.feed("\n"));
  assert_true(r.log.empty());
  // end_of_stream() clears the failure; the next stream starts fresh.
  r.p.end_of_stream();
  assert_true(r.p.error().empty());
  assert_true(r.p.feed("data:abc\n\n"));
  expect_log(r.log, {ev("abc")}, "after end_of_stream");
  // Events dispatched before the failure within the same feed are delivered.
  assert_false(r.p.feed("data:1\n\ndata:123\ndata:123\ndata\n\n"));
  expect_log(r.log, {ev("abc"), ev("1")}, "events before the failure");
}

static void test_default_limit_allows_big_lines(void **state) {
  (void)state;
  Rec r;
  const std::string big(1u << 20, 'x');
  assert_true(r.p.feed("data: " + big + "\ndata: " + big + "\n\n"));
  assert_int_equal(r.log.size(), 1);
  assert_true(r.log[0].data == big + "\n" + big);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_spec_example_messages),
      cmocka_unit_test(test_spec_example_event_types),
      cmocka_unit_test(test_spec_example_stock),
      cmocka_unit_test(test_spec_example_ids),
      cmocka_unit_test(test_spec_example_empty_data),
      cmocka_unit_test(test_spec_example_one_space_removed),
      cmocka_unit_test(test_bom_stripped_at_start),
      cmocka_unit_test(test_bom_only_one_stripped),
      cmocka_unit_test(test_bom_not_at_start_kept),
      cmocka_unit_test(test_bom_partial_is_not_a_bom),
      cmocka_unit_test(test_bom_stripped_again_after_end_of_stream),
      cmocka_unit_test(test_line_ends_lf_cr_crlf),
      cmocka_unit_test(test_line_ends_mixed),
      cmocka_unit_test(test_crlf_split_across_feeds),
      cmocka_unit_test(test_crlf_split_by_empty_feeds),
      cmocka_unit_test(test_cr_dispatches_without_waiting_for_lf),
      cmocka_unit_test(test_event_delivered_as_soon_as_blank_line_ends),
      cmocka_unit_test(test_data_without_colon),
      cmocka_unit_test(test_data_space_after_colon),
      cmocka_unit_test(test_value_with_colons),
      cmocka_unit_test(test_field_names_exact),
      cmocka_unit_test(test_unknown_fields_ignored),
      cmocka_unit_test(test_comments),
      cmocka_unit_test(test_wpt_comment_fest),
      cmocka_unit_test(test_wpt_data_field),
      cmocka_unit_test(test_nul_in_data_and_event),
      cmocka_unit_test(test_event_type_default_and_reset),
      cmocka_unit_test(test_event_type_empty_means_message),
      cmocka_unit_test(test_event_type_reset_without_data),
      cmocka_unit_test(test_event_type_discarded_at_end_of_stream),
      cmocka_unit_test(test_id_persists),
      cmocka_unit_test(test_id_empty_resets),
      cmocka_unit_test(test_id_with_nul_ignored),
      cmocka_unit_test(test_id_values),
      cmocka_unit_test(test_last_event_id_set_on_dispatch),
      cmocka_unit_test(test_last_event_id_survives_end_of_stream),
      cmocka_unit_test(test_wpt_data_before_final_empty_line),
      cmocka_unit_test(test_set_last_event_id),
      cmocka_unit_test(test_retry_valid),
      cmocka_unit_test(test_retry_invalid_ignored),
      cmocka_unit_test(test_retry_does_not_touch_event),
      cmocka_unit_test(test_end_of_stream_discards_incomplete_event),
      cmocka_unit_test(test_end_of_stream_resets_for_next_stream),
      cmocka_unit_test(test_empty_streams),
      cmocka_unit_test(test_no_callbacks_set),
      cmocka_unit_test(test_many_events_in_one_feed),
      cmocka_unit_test(test_utf8_valid_passes),
      cmocka_unit_test(test_utf8_invalid_bytes),
      cmocka_unit_test(test_utf8_truncated_sequences),
      cmocka_unit_test(test_utf8_out_of_range_second_byte),
      cmocka_unit_test(test_utf8_invalid_in_names_and_ids),
      cmocka_unit_test(test_utf8_after_cr),
      cmocka_unit_test(test_max_line_bytes_line),
      cmocka_unit_test(test_max_line_bytes_data_buffer),
      cmocka_unit_test(test_default_limit_allows_big_lines),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
