// Unit tests of the SSE encoder: the exact bytes it writes, and that every
// message comes back unchanged (line ends as LF) through sw::SseParser,
// which follows the WHATWG parsing rules an EventSource applies.
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
#include "sse_encoder.h"
#include "sse_parser.h"

using sw::SseEvent;
using sw::SseParser;
using sw::sse_comment;
using sw::sse_encode;
using sw::sse_field_ok;
using sw::sse_retry;
using namespace std::literals;  // "...\0..."s and sv keep embedded NULs

namespace {

using test_util::escape;

void expect_bytes(std::string_view got, std::string_view want) {
  if (got == want) return;
  print_error("expected \"%s\"\n     got \"%s\"\n", escape(want).c_str(), escape(got).c_str());
  fail();
}

std::string encode(std::string_view data, std::string_view event = "", std::string_view id = "") {
  std::string out;
  sse_encode(out, data, event, id);
  return out;
}

// What an EventSource makes of data: every CRLF, CR or LF becomes LF.
std::string normalize_line_ends(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

struct Parsed {
  std::vector<SseEvent> events;
  std::vector<uint64_t> retries;
};

// Parses a whole stream, and again one byte at a time; both must agree.
Parsed parse(std::string_view stream) {
  Parsed whole, bytes;
  {
    SseParser p;
    p.on_event = [&](const SseEvent &e) { whole.events.push_back(e); };
    p.on_retry = [&](uint64_t ms) { whole.retries.push_back(ms); };
    assert_true(p.feed(stream));
    p.end_of_stream();
  }
  {
    SseParser p;
    p.on_event = [&](const SseEvent &e) { bytes.events.push_back(e); };
    p.on_retry = [&](uint64_t ms) { bytes.retries.push_back(ms); };
    for (const char c : stream) assert_true(p.feed(&c, 1));
    p.end_of_stream();
  }
  assert_int_equal(whole.events.size(), bytes.events.size());
  for (size_t i = 0; i < whole.events.size(); ++i) {
    assert_true(whole.events[i].type == bytes.events[i].type);
    assert_true(whole.events[i].data == bytes.events[i].data);
    assert_true(whole.events[i].last_id == bytes.events[i].last_id);
  }
  assert_true(whole.retries == bytes.retries);
  return whole;
}

// Encodes one message and checks the parser returns exactly one event with
// the data (line ends normalized), type and id put in.
void round_trip(std::string_view data, std::string_view event = "", std::string_view id = "") {
  const std::string wire = encode(data, event, id);
  const Parsed got = parse(wire);
  if (got.events.size() != 1) {
    print_error("wire \"%s\" gave %zu events\n", escape(wire).c_str(), got.events.size());
    fail();
  }
  const SseEvent &e = got.events[0];
  expect_bytes(e.data, normalize_line_ends(data));
  expect_bytes(e.type, event.empty() ? "message" : event);
  expect_bytes(e.last_id, id);
  assert_true(got.retries.empty());
}

const char *const kDataSamples[] = {
    "",     "x",       "a\nb",     "a\r\nb",        "a\rb",     "a\r\rb",      "a\n\rb",
    "a\n",  "a\r\n",   "a\r",      "\n",            "\r\n",     "\r",          "\n\n",
    "\r\r", "\r\n\r\n", "\n\r",    "a\n\nb",        " lead",    "  two lead",  "trail ",
    " ",    ":colon",  "data: x",  "id: 1\n\ndata", "\n data",  "line1\nline2\r\nline3\rline4",
    "\xF0\x9F\x98\x80 \xC3\xBCn\xC3\xAF\xC3\xA7\xC3\xB8\xC3\xB0\xC3\xA9 \xE2\x82\xAC",
    ("\xEF\xBB\xBF" "bom in data"),
};

}  // namespace

// ---------------------------------------------------------------------------
// sse_field_ok

static void test_field_ok(void **state) {
  (void)state;
  assert_true(sse_field_ok(""));
  assert_true(sse_field_ok("abc"));
  assert_true(sse_field_ok("with space: and colon"));
  assert_true(sse_field_ok(" leading"));
  assert_true(sse_field_ok("\xE2\x80\xA6"));
  assert_true(sse_field_ok("\t"));
  assert_false(sse_field_ok("a\rb"));
  assert_false(sse_field_ok("a\nb"));
  assert_false(sse_field_ok("\r\n"));
  assert_false(sse_field_ok("a\0b"s));
  assert_false(sse_field_ok("\0"s));
  assert_false(sse_field_ok("end\n"));
}

// ---------------------------------------------------------------------------
// Exact bytes.

static void test_encode_simple(void **state) {
  (void)state;
  expect_bytes(encode("hello"), "data: hello\n\n");
  expect_bytes(encode("hello", "greet"), "event: greet\ndata: hello\n\n");
  expect_bytes(encode("hello", "", "7"), "id: 7\ndata: hello\n\n");
  expect_bytes(encode("hello", "greet", "7"), "id: 7\nevent: greet\ndata: hello\n\n");
}

static void test_encode_empty_data(void **state) {
  (void)state;
  expect_bytes(encode(""), "data: \n\n");
  expect_bytes(encode("", "ping", "1"), "id: 1\nevent: ping\ndata: \n\n");
}

static void test_encode_line_ends(void **state) {
  (void)state;
  expect_bytes(encode("a\nb"), "data: a\ndata: b\n\n");
  expect_bytes(encode("a\r\nb"), "data: a\ndata: b\n\n");
  expect_bytes(encode("a\rb"), "data: a\ndata: b\n\n");
  expect_bytes(encode("a\r\rb"), "data: a\ndata: \ndata: b\n\n");
  expect_bytes(encode("a\n\rb"), "data: a\ndata: \ndata: b\n\n");
  expect_bytes(encode("a\n"), "data: a\ndata: \n\n");
  expect_bytes(encode("a\r"), "data: a\ndata: \n\n");
  expect_bytes(encode("\n"), "data: \ndata: \n\n");
  expect_bytes(encode("\r\n"), "data: \ndata: \n\n");
}

static void test_encode_cannot_inject_fields(void **state) {
  (void)state;
  // Every line of data gets its own "data: " prefix, lone CRs included.
  expect_bytes(encode("x\rid: evil\r\revent: evil"),
               "data: x\ndata: id: evil\ndata: \ndata: event: evil\n\n");
  const Parsed got = parse(encode("x\rid: evil\r\revent: evil"));
  assert_int_equal(got.events.size(), 1);
  assert_string_equal(got.events[0].type.c_str(), "message");
  assert_string_equal(got.events[0].last_id.c_str(), "");
}

static void test_encode_leading_space_kept(void **state) {
  (void)state;
  // The receiver removes exactly one space after the colon.
  expect_bytes(encode(" x"), "data:  x\n\n");
  expect_bytes(encode("x", " e", " i"), "id:  i\nevent:  e\ndata: x\n\n");
}

static void test_encode_appends(void **state) {
  (void)state;
  std::string out = "prefix";
  sse_encode(out, "a", "", "");
  sse_encode(out, "b", "", "");
  expect_bytes(out, "prefixdata: a\n\ndata: b\n\n");
}

static void test_encode_nul_in_data(void **state) {
  (void)state;
  expect_bytes(encode("a\0b"s), "data: a\0b\n\n"s);
}

static void test_comment(void **state) {
  (void)state;
  std::string out;
  sse_comment(out, "hi");
  expect_bytes(out, ": hi\n\n");
  out.clear();
  sse_comment(out, "");
  expect_bytes(out, ": \n\n");
  sse_comment(out, "x");
  expect_bytes(out, ": \n\n: x\n\n");
  // A comment dispatches nothing and reports nothing.
  const Parsed got = parse(out);
  assert_true(got.events.empty());
  assert_true(got.retries.empty());
}

static void test_retry(void **state) {
  (void)state;
  std::string out;
  sse_retry(out, 0);
  expect_bytes(out, "retry: 0\n\n");
  out.clear();
  sse_retry(out, 3000);
  expect_bytes(out, "retry: 3000\n\n");
  out.clear();
  sse_retry(out, UINT32_MAX);
  expect_bytes(out, "retry: 4294967295\n\n");
  const Parsed got = parse(out);
  assert_true(got.events.empty());
  assert_int_equal(got.retries.size(), 1);
  assert_true(got.retries[0] == UINT32_MAX);
}

// ---------------------------------------------------------------------------
// Round trips through the parser.

static void test_round_trip_data(void **state) {
  (void)state;
  for (const char *d : kDataSamples) round_trip(d);
  round_trip("a\0b"s);
  round_trip("\0"s);
  round_trip("\0\n\0"s);
}

static void test_round_trip_event_and_id(void **state) {
  (void)state;
  const char *const fields[] = {"",      "x",      "message", " lead", "  two", "trail ",
                                ":colon", "a:b",   "\xE2\x80\xA6",    "data",  "id: 1"};
  for (const char *event : fields) {
    for (const char *id : fields) {
      round_trip("payload\nline 2", event, id);
      round_trip("", event, id);
    }
  }
}

static void test_round_trip_stream(void **state) {
  (void)state;
  // Many messages, comments and retries in one buffer, as a server sends them.
  std::string wire;
  sse_comment(wire, "ok");
  sse_retry(wire, 1500);
  std::vector<std::string> want_data;
  int n = 0;
  for (const char *d : kDataSamples) {
    const std::string id = std::to_string(++n);
    sse_encode(wire, d, n % 3 == 0 ? "tick" : "", id);
    sse_comment(wire, "heartbeat");
    want_data.push_back(normalize_line_ends(d));
  }
  const Parsed got = parse(wire);
  assert_int_equal(got.events.size(), want_data.size());
  for (size_t i = 0; i < want_data.size(); ++i) {
    expect_bytes(got.events[i].data, want_data[i]);
    expect_bytes(got.events[i].type, (i + 1) % 3 == 0 ? "tick" : "message");
    expect_bytes(got.events[i].last_id, std::to_string(i + 1));
  }
  assert_int_equal(got.retries.size(), 1);
  assert_true(got.retries[0] == 1500);
}

static void test_round_trip_id_persists_when_omitted(void **state) {
  (void)state;
  // An empty id writes no id line, so the receiver keeps the previous id.
  std::string wire;
  sse_encode(wire, "a", "", "5");
  sse_encode(wire, "b", "", "");
  const Parsed got = parse(wire);
  assert_int_equal(got.events.size(), 2);
  assert_string_equal(got.events[1].last_id.c_str(), "5");
}

static void test_round_trip_random(void **state) {
  (void)state;
  // Random data over an alphabet rich in line ends, spaces and colons, plus
  // a multi-byte character: always the same data back, line ends as LF.
  const std::string_view alphabet[] = {"a", " ", ":", "\r", "\n", "\r\n", "\xC3\xA9",
                                       "\xF0\x9F\x98\x80", "\0"sv};
  uint32_t x = 12345;
  for (int round = 0; round < 2000; ++round) {
    std::string data;
    x = x * 1103515245u + 12345u;
    const int len = static_cast<int>((x >> 16) % 24);
    for (int i = 0; i < len; ++i) {
      x = x * 1103515245u + 12345u;
      data += alphabet[(x >> 16) % (sizeof alphabet / sizeof alphabet[0])];
    }
    round_trip(data, round % 2 ? "ev" : "", round % 3 ? std::to_string(round) : "");
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_field_ok),
      cmocka_unit_test(test_encode_simple),
      cmocka_unit_test(test_encode_empty_data),
      cmocka_unit_test(test_encode_line_ends),
      cmocka_unit_test(test_encode_cannot_inject_fields),
      cmocka_unit_test(test_encode_leading_space_kept),
      cmocka_unit_test(test_encode_appends),
      cmocka_unit_test(test_encode_nul_in_data),
      cmocka_unit_test(test_comment),
      cmocka_unit_test(test_retry),
      cmocka_unit_test(test_round_trip_data),
      cmocka_unit_test(test_round_trip_event_and_id),
      cmocka_unit_test(test_round_trip_stream),
      cmocka_unit_test(test_round_trip_id_persists_when_omitted),
      cmocka_unit_test(test_round_trip_random),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
