// Unit tests of what the server takes from an HTTP request: query arguments
// (http_query), publish requests (publish_request) and the Upgrade value
// (ws_rules). Issue 15, bugs 3, 14 and 15.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <string>
#include <string_view>
#include <vector>

// cmocka 1.1.5's header has no extern "C" guard of its own.
extern "C" {
#include <cmocka.h>
}

#include "ascii.h"
#include "http_query.h"
#include "publish_request.h"
#include "test_util.h"
#include "ws_rules.h"

using namespace std::literals;

namespace {

using Frags = std::vector<std::string>;

void expect_contains_at(std::string_view hay, std::string_view needle, const char *file, int line) {
  if (hay.find(needle) != std::string_view::npos) return;
  print_error("\"%s\" does not contain \"%s\"\n", test_util::escape(hay).c_str(),
              test_util::escape(needle).c_str());
  _fail(file, line);
}
#define EXPECT_CONTAINS(hay, needle) expect_contains_at((hay), (needle), __FILE__, __LINE__)

void test_query_params_split(void **) {
  std::vector<sw::QueryParam> p;
  std::string err;
  assert_true(sw::query_params({"a=1", "", "b", "c=x=y", "=v", "d="}, p, err));
  assert_int_equal(p.size(), 5);
  assert_string_equal(p[0].key.c_str(), "a");
  assert_string_equal(p[0].value.c_str(), "1");
  assert_string_equal(p[1].key.c_str(), "b");
  assert_string_equal(p[1].value.c_str(), "");
  assert_string_equal(p[2].key.c_str(), "c");
  assert_string_equal(p[2].value.c_str(), "x=y");  // only the first '=' splits
  assert_string_equal(p[3].key.c_str(), "");
  assert_string_equal(p[4].value.c_str(), "");
  // UTF-8 and '&' decoded from %26 are ordinary value bytes.
  assert_true(sw::query_params({"ch=caf\xc3\xa9&more"}, p, err));
  assert_string_equal(p[0].value.c_str(), "caf\xc3\xa9&more");
  // Any length: nothing is cut or dropped.
  std::string big(60000, 'x');
  assert_true(sw::query_params({"channel=" + big, "event=e"}, p, err));
  assert_int_equal(p.size(), 2);
  assert_int_equal(p[0].value.size(), big.size());
  std::string v;
  assert_int_equal(sw::query_value(p, "event", v), 1);
  assert_string_equal(v.c_str(), "e");
  assert_int_equal(sw::query_value(p, "id", v), 0);
  assert_true(sw::query_params({"a=1", "a=2"}, p, err));
  assert_int_equal(sw::query_value(p, "a", v), 2);
}

void test_query_params_refused(void **) {
  const struct {
    std::string frag;
    const char *why;
  } bad[] = {
      {"channel=c\r\nx", "'channel' holds CR or LF"},
      {"channel=c\nx", "'channel' holds CR or LF"},
      {"channel=c\0x"s, "'channel' holds a NUL"},
      {"id=\x01", "'id' holds a control"},
      {"id=\x7f", "'id' holds a control"},
      {"event=\xff", "'event' is not valid UTF-8"},
      {"event=\xc3", "'event' is not valid UTF-8"},
      {"id=\xed\xa0\x80", "'id' is not valid UTF-8"},  // a surrogate
      {"k\r=v", "name holds CR or LF"},
      {"\xff=v", "name is not valid UTF-8"},
  };
  for (const auto &b : bad) {
    std::vector<sw::QueryParam> p;
    std::string err;
    if (sw::query_params({"ok=1", b.frag}, p, err)) {
      print_error("accepted \"%s\"\n", test_util::escape(b.frag).c_str());
      fail();
    }
    EXPECT_CONTAINS(err, b.why);
  }
}

sw::PublishVerdict check(const Frags &f, const std::string &len, sw::PublishRequest &req, uint64_t max = 1000) {
  return sw::check_publish_request(f, len, max, req);
}

void test_publish_request_ok(void **) {
  sw::PublishRequest req;
  sw::PublishVerdict v = check({"channel=alerts", "event=warn", "id=a\"b", "other=ignored"}, "9", req);
  assert_int_equal(v.status, 0);
  assert_string_equal(req.channel.c_str(), "alerts");
  assert_string_equal(req.event.c_str(), "warn");
  assert_string_equal(req.id.c_str(), "a\"b");
  assert_int_equal(req.content_length, 9);
  // Fields up to the limit ssews_publish has, and any other argument of any
  // length before them.
  std::string ch(1024, 'c');
  sw::PublishRequest r2;
  v = check({"pad=" + std::string(5000, 'p'), "channel=" + ch, "event=e", "id=i"}, "0", r2);
  assert_int_equal(v.status, 0);
  assert_int_equal(r2.channel.size(), 1024);
  assert_string_equal(r2.id.c_str(), "i");
  assert_int_equal(check({"channel=c"}, "1000", req).status, 0);
}

void test_publish_request_refused(void **) {
  const struct {
    Frags frags;
    std::string len;
    unsigned status;
    const char *why;
  } bad[] = {
      {{"channel=c\r\nx"}, "1", 400, "'channel' holds CR or LF"},
      {{"channel=c\0x"s}, "1", 400, "'channel' holds a NUL"},
      {{"channel=c", "event=\xff"}, "1", 400, "'event' is not valid UTF-8"},
      {{"channel=c", "id=\xc0\x80"}, "1", 400, "'id' is not valid UTF-8"},
      {{"channel=c", "id=a\nb"}, "1", 400, "'id' holds CR or LF"},
      {{}, "1", 400, "'channel' is required"},
      {{"channel="}, "1", 400, "'channel' is required"},
      {{"event=e"}, "1", 400, "'channel' is required"},
      {{"channel=a", "channel=b"}, "1", 400, "'channel' is given more than once"},
      {{"channel=a", "id=1", "id=2"}, "1", 400, "'id' is given more than once"},
      {{"channel=" + std::string(1200, 'c')}, "1", 400, "'channel' is longer than 1024 bytes"},
      {{"channel=c", "event=" + std::string(1025, 'e')}, "1", 400, "'event' is longer than 1024 bytes"},
      {{"channel=c", "id=" + std::string(1025, 'i')}, "1", 400, "'id' is longer than 1024 bytes"},
      {{"channel=c"}, "", 411, "Content-Length is required"},
      {{"channel=c"}, "abc", 400, "Content-Length is not a decimal number"},
      {{"channel=c"}, "1x", 400, "Content-Length is not a decimal number"},
      {{"channel=c"}, "-1", 400, "Content-Length is not a decimal number"},
      {{"channel=c"}, " 1", 400, "Content-Length is not a decimal number"},
      {{"channel=c"}, "99999999999999999999999", 400, "Content-Length is not a decimal number"},
      {{"channel=c"}, "1001", 413, "max_message_size"},
  };
  for (const auto &b : bad) {
    sw::PublishRequest req;
    sw::PublishVerdict v = check(b.frags, b.len, req);
    if (v.status != b.status) {
      print_error("status %u for Content-Length \"%s\" (want %u): %s\n", v.status, b.len.c_str(), b.status,
                  v.error.c_str());
      fail();
    }
    EXPECT_CONTAINS(v.error, b.why);
  }
}

void test_content_length(void **) {
  uint64_t v = 7;
  assert_true(sw::parse_content_length("0", v));
  assert_int_equal(v, 0);
  assert_true(sw::parse_content_length("18446744073709551615", v));
  assert_true(v == UINT64_MAX);
  assert_false(sw::parse_content_length("18446744073709551616", v));
  for (const char *s : {"", "+1", "1.0", "0x1", "1 ", "1,1"}) assert_false(sw::parse_content_length(s, v));
}

void test_ascii_case(void **) {
  assert_string_equal(sw::ascii_lower("Text/Event-Stream; Q=1").c_str(), "text/event-stream; q=1");
  assert_string_equal(sw::ascii_lower("\xc3\x89" "A").c_str(), "\xc3\x89" "a");  // ASCII only
  assert_true(sw::starts_with_nocase("BeArEr x", "bearer "));
  assert_false(sw::starts_with_nocase("Bear", "bearer "));
  assert_false(sw::starts_with_nocase("Bearer", "bearer "));
}

void test_upgrade_value(void **) {
  for (const char *s : {"websocket", "WebSocket", "WEBSOCKET", "webSOCKET"})
    assert_true(sw::ws_upgrade_is_websocket(s));
  for (const char *s : {"", "websocket2", "web socket", "h2c", " websocket", "websocket,"})
    assert_false(sw::ws_upgrade_is_websocket(s));
}

}  // namespace

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_query_params_split),    cmocka_unit_test(test_query_params_refused),
      cmocka_unit_test(test_publish_request_ok),    cmocka_unit_test(test_publish_request_refused),
      cmocka_unit_test(test_content_length),        cmocka_unit_test(test_upgrade_value),
      cmocka_unit_test(test_ascii_case),
  };
  return cmocka_run_group_tests_name("http_input", tests, NULL, NULL);
}
