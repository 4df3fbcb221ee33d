// The client's request (client_request.h): which method/body/header options
// are refused, which headers go out, a user header replacing a default, the
// reconnect rule for methods that are not idempotent; and the SSE binary rule
// (sse_binary.h): bytes only on a stream an ssews server confirmed.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
// cmocka 1.1.5's header has no extern "C" guard of its own.
extern "C" {
#include <cmocka.h>
}

#include <string>

#include "client_request.h"
#include "sse_binary.h"

using namespace sw;

namespace {

// The headers as one "name value\n" string, for whole comparisons.
std::string flat(const std::vector<RequestHeader> &hs) {
  std::string s;
  for (const auto &h : hs) s += h.first + " " + h.second + "\n";
  return s;
}

bool refused(const Options &o, bool websocket, const char *needle) {
  std::string err;
  bool ok = check_client_request(o, websocket, err);
  if (!ok && err.find(needle) == std::string::npos) fail_msg("error '%s' lacks '%s'", err.c_str(), needle);
  return !ok;
}

}  // namespace

static void test_get_stream_headers(void **) {
  Options o;
  assert_string_equal(flat(client_headers(o, false, "", false)).c_str(), "accept: text/event-stream\n");
  assert_string_equal(flat(client_headers(o, false, "k-7", false)).c_str(),
                      "accept: text/event-stream\nlast-event-id: k-7\n");
  assert_string_equal(flat(client_headers(o, true, "k-7", false)).c_str(), "");  // WebSocket: none of these
}

static void test_post_stream_headers(void **) {
  Options o;
  o.method = "POST";
  o.body = "{\"q\":1}";
  assert_string_equal(
      flat(client_headers(o, false, "", true)).c_str(),
      "accept: text/event-stream\ncontent-type: text/plain;charset=UTF-8\ncontent-length: 7\n");
  o.content_type = "application/json";
  assert_string_equal(flat(client_headers(o, false, "", true)).c_str(),
                      "accept: text/event-stream\ncontent-type: application/json\ncontent-length: 7\n");
  // Redirected to a GET: no body headers.
  assert_string_equal(flat(client_headers(o, false, "", false)).c_str(), "accept: text/event-stream\n");
  o.body.clear();  // a POST without a body still says its length
  assert_string_equal(flat(client_headers(o, false, "", true)).c_str(),
                      "accept: text/event-stream\ncontent-type: application/json\ncontent-length: 0\n");
}

static void test_user_header_replaces_default(void **) {
  Options o;
  o.method = "POST";
  o.body = "x";
  o.content_type = "application/json";
  o.headers = {"Content-Type: application/vnd.api+json", "ACCEPT: text/event-stream; q=1", "X-Key:  k"};
  assert_string_equal(flat(client_headers(o, false, "9", true)).c_str(),
                      "last-event-id: 9\ncontent-length: 1\ncontent-type: application/vnd.api+json\n"
                      "accept: text/event-stream; q=1\nx-key: k\n");
  o.headers = {"Last-Event-ID: mine"};
  assert_string_equal(flat(client_headers(o, false, "9", false)).c_str(),
                      "accept: text/event-stream\nlast-event-id: mine\n");
  assert_false(user_origin(o));
  o.headers = {"origin: https://app.example"};
  assert_true(user_origin(o));
}

static void test_refused_requests(void **) {
  Options o;
  std::string err;
  assert_true(check_client_request(o, false, err));
  assert_true(check_client_request(o, true, err));
  o.body = "x";
  assert_true(refused(o, false, "method GET has no body"));
  o.method = "HEAD";
  assert_true(refused(o, false, "method HEAD has no body"));
  o.method = "POST";
  assert_true(check_client_request(o, false, err));
  assert_true(refused(o, true, "WebSocket handshake is a GET"));
  o.method = "GET";
  assert_true(refused(o, true, "option 'body'"));
  o.body.clear();
  o.content_type = "application/json";
  assert_true(refused(o, true, "option 'content_type'"));
  o.content_type.clear();
  o.headers = {"Content-Length: 5"};
  assert_true(refused(o, false, "set from option 'body'"));
  o.headers = {"X-A: 1", "host: evil"};
  assert_true(refused(o, false, "host is written by the client itself"));
}

static void test_reconnect_rule(void **) {
  Options o;
  assert_true(may_reconnect(o));
  for (const char *m : {"POST", "PATCH", "post", "QUERY"}) {
    o.method = m;
    assert_false(may_reconnect(o));
  }
  o.reconnect_non_idempotent = true;
  assert_true(may_reconnect(o));
  o.reconnect = false;
  assert_false(may_reconnect(o));  // reconnect off wins
  o.reconnect = true;
  o.reconnect_non_idempotent = false;
  for (const char *m : {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"}) {
    o.method = m;
    assert_true(may_reconnect(o));
  }
}

static void test_sse_binary(void **) {
  SseEvent e{"binary", "AAH/", ""};
  std::string out;
  assert_true(sse_binary_decode(true, e, out));
  assert_int_equal(out.size(), 3);
  assert_memory_equal(out.data(), "\x00\x01\xff", 3);
  assert_false(sse_binary_decode(false, e, out));  // a generic server's `event: binary` is text
  e.data = "not base64!";
  assert_false(sse_binary_decode(true, e, out));
  e = SseEvent{"message", "AAH/", ""};
  assert_false(sse_binary_decode(true, e, out));
  assert_true(sse_name_reserved(false, "binary"));
  assert_false(sse_name_reserved(true, "binary"));
  assert_false(sse_name_reserved(false, "Binary"));
  assert_false(sse_name_reserved(false, ""));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_get_stream_headers),
      cmocka_unit_test(test_post_stream_headers),
      cmocka_unit_test(test_user_header_replaces_default),
      cmocka_unit_test(test_refused_requests),
      cmocka_unit_test(test_reconnect_rule),
      cmocka_unit_test(test_sse_binary),
  };
  return cmocka_run_group_tests_name("client_request", tests, nullptr, nullptr);
}
