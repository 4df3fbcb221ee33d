// Unit tests of the front door's request head checker (http_head): each
// input is fed whole, in two pieces at every split point, and a byte at a
// time, and must get the same verdict every way. Issue 15 #16.
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

#include "http_head.h"
#include "test_util.h"

using namespace std::literals;
using sw::HeadChecker;
using sw::HeadVerdict;

namespace {

const std::vector<std::string> kFragile = {"get ", "host:", "x-auth-token:", "accept:", "accept-encoding:"};

HeadChecker make() {
  return HeadChecker(8192, sw::kMaxHeadHeaders, &kFragile);
}

void same_at(const HeadVerdict &a, const HeadVerdict &b, const std::string &input, const char *how, size_t at,
             const char *file, int line) {
  if (a.kind == b.kind && a.status == b.status && a.head_len == b.head_len && a.start == b.start &&
      a.message == b.message)
    return;
  print_error(
      "%s at %zu gave kind %d status %u len %zu (%s) for \"%s\", whole gave kind %d status %u len %zu\n", how,
      at, b.kind, b.status, b.head_len, b.message.c_str(), test_util::escape(input).c_str(), a.kind, a.status,
      a.head_len);
  _fail(file, line);
}

// The verdict for input fed whole, after checking every other feeding agrees.
HeadVerdict verdict_at(const std::string &input, const char *file, int line) {
  HeadChecker whole = make();
  HeadVerdict v = whole.feed(input);
  for (size_t cut = 0; cut <= input.size(); cut++) {
    HeadChecker c = make();
    c.feed(std::string_view(input).substr(0, cut));
    same_at(v, c.feed(std::string_view(input).substr(cut)), input, "split", cut, file, line);
  }
  HeadChecker bytes = make();
  for (char ch : input) bytes.feed(std::string_view(&ch, 1));
  same_at(v, bytes.verdict(), input, "byte by byte", 0, file, line);
  return v;
}
#define VERDICT(input) verdict_at((input), __FILE__, __LINE__)

void expect_refused_at(const std::string &input, unsigned status, std::string_view words, const char *file,
                       int line) {
  HeadVerdict v = verdict_at(input, file, line);
  if (v.kind == HeadVerdict::kRefuse && v.status == status && v.message.find(words) != std::string::npos &&
      v.message.find_first_of("\r\n") == std::string::npos)
    return;
  print_error("\"%s\": kind %d status %u \"%s\", want refused %u with \"%s\"\n",
              test_util::escape(input.substr(0, 200)).c_str(), v.kind, v.status, v.message.c_str(), status,
              std::string(words).c_str());
  _fail(file, line);
}
#define EXPECT_REFUSED(input, status, words) expect_refused_at((input), (status), (words), __FILE__, __LINE__)

void test_complete_heads(void **) {
  std::string head = "GET /a?b=c HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nX-Empty:\r\n\r\n";
  HeadVerdict v = VERDICT(head);
  assert_int_equal(v.kind, HeadVerdict::kOk);
  assert_int_equal(v.head_len, head.size());
  assert_int_equal(v.start, 0);
  // Bytes after the head (a body, pipelined frames) are not looked at.
  v = VERDICT(head + "\x81\x80\0\0\0\0 anything \r\r"s);
  assert_int_equal(v.kind, HeadVerdict::kOk);
  assert_int_equal(v.head_len, head.size());
  // No headers at all; HTTP/1.0; obs-text and tabs in a value; any method token.
  assert_int_equal(VERDICT("GET / HTTP/1.1\r\n\r\n").kind, HeadVerdict::kOk);
  assert_int_equal(VERDICT("POST /p HTTP/1.0\r\nZz: \t\xc3\xa9 v\t\r\n\r\n").kind, HeadVerdict::kOk);
  assert_int_equal(VERDICT("M-SEARCH * HTTP/1.1\r\n\r\n").kind, HeadVerdict::kOk);
  // Known names themselves, whatever their case, are not fragile.
  assert_int_equal(VERDICT("GET / HTTP/1.1\r\nHOST: a\r\nAccept: b\r\nx-auth-token: c\r\n\r\n").kind,
                   HeadVerdict::kOk);
}

void test_need_more(void **) {
  for (const char *part : {"", "G", "GET / HTTP/1.1", "GET / HTTP/1.1\r", "GET / HTTP/1.1\r\n",
                           "GET / HTTP/1.1\r\nHost: a\r\n", "GET / HTTP/1.1\r\nHost: a\r\n\r", "\r\n\r\n"}) {
    HeadChecker c = make();
    assert_int_equal(c.feed(part).kind, HeadVerdict::kNeedMore);
  }
}

void test_line_ends(void **) {
  // Bare LF throughout is accepted (RFC 9112 2.2; lws parses it).
  std::string head = "GET / HTTP/1.1\nHost: a\nB: c\n\n";
  HeadVerdict v = VERDICT(head + "body");
  assert_int_equal(v.kind, HeadVerdict::kOk);
  assert_int_equal(v.head_len, head.size());
  // Mixed, lws waits on it: refused.
  EXPECT_REFUSED("GET / HTTP/1.1\nHost: a\r\n\r\n", 400, "mix CRLF and bare LF");
  EXPECT_REFUSED("GET / HTTP/1.1\r\nHost: a\n\r\n", 400, "mix CRLF and bare LF");
  EXPECT_REFUSED("\r\nGET / HTTP/1.1\n\n", 400, "mix CRLF and bare LF");
  // Empty lines before the request line are skipped (start: bytes to drop).
  head = "\r\n\r\nGET / HTTP/1.1\r\n\r\n";
  v = VERDICT(head);
  assert_int_equal(v.kind, HeadVerdict::kOk);
  assert_int_equal(v.start, 4);
  assert_int_equal(v.head_len, head.size());
  v = VERDICT("\nGET / HTTP/1.1\n\n");
  assert_int_equal(v.start, 1);
  // A CR not followed by LF, anywhere.
  EXPECT_REFUSED("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400, "CR not followed by LF");
  EXPECT_REFUSED("GET /\r HTTP/1.1\r\n\r\n", 400, "CR not followed by LF");
  EXPECT_REFUSED("GET / HTTP/1.1\r\n\r\r", 400, "CR not followed by LF");
  EXPECT_REFUSED("\r\r\n", 400, "CR not followed by LF");
}

void test_nul(void **) {
  EXPECT_REFUSED("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n"s, 400, "NUL");
  EXPECT_REFUSED("GE\0T / HTTP/1.1\r\n\r\n"s, 400, "NUL");
  EXPECT_REFUSED("GET / HTTP/1.1\r\nX-\0: b\r\n\r\n"s, 400, "NUL");
  EXPECT_REFUSED("GET /%00 HTTP/1.1\r\n\r\n", 400, "%00 in the request target");
  EXPECT_REFUSED("GET /a?b=%00 HTTP/1.1\r\n\r\n", 400, "%00");
  // %000 is a %00 too; %100 is not.
  EXPECT_REFUSED("GET /%000 HTTP/1.1\r\n\r\n", 400, "%00");
  assert_int_equal(VERDICT("GET /%100 HTTP/1.1\r\n\r\n").kind, HeadVerdict::kOk);
}

void test_limits(void **) {
  // 9,000 bytes against 8,192: refused as soon as byte 8,193 arrives.
  std::string big = "GET / HTTP/1.1\r\nX-Big: " + std::string(9000, 'a') + "\r\n\r\n";
  HeadChecker c = make();
  assert_int_equal(c.feed(std::string_view(big).substr(0, 8192)).kind, HeadVerdict::kNeedMore);
  assert_int_equal(c.feed(std::string_view(big).substr(8192, 1)).kind, HeadVerdict::kRefuse);
  EXPECT_REFUSED(big, 431, "max_header_size (8192 bytes)");
  // Exactly 8,192 bytes fits.
  std::string fits = "GET / HTTP/1.1\r\nZ: ";
  fits += std::string(8192 - fits.size() - 4, 'b') + "\r\n\r\n";
  assert_int_equal(fits.size(), 8192);
  HeadChecker f = make();
  assert_int_equal(f.feed(fits).kind, HeadVerdict::kOk);
  // 100 headers fit; 101 do not, however short. 10,000 are refused too.
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 100; i++) many += "Zz: b\r\n";
  assert_int_equal(VERDICT(many + "\r\n").kind, HeadVerdict::kOk);
  EXPECT_REFUSED(many + "Zz: b\r\n\r\n", 431, "more than 100 header lines");
  std::string huge = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 10000; i++) huge += "Zz: b\r\n";
  HeadChecker h = make();
  HeadVerdict v = h.feed(huge + "\r\n");
  assert_int_equal(v.kind, HeadVerdict::kRefuse);
  assert_int_equal(v.status, 431);
  // A NUL beyond the size limit: the size is what is refused.
  EXPECT_REFUSED(big + "\0"s, 431, "max_header_size");
}

void test_request_line(void **) {
  const char *bad[] = {
      "GET\r\n\r\n",
      "GET /\r\n\r\n",
      "GET  / HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1 \r\n\r\n",
      " GET / HTTP/1.1\r\n\r\n",
      "GET / / HTTP/1.1\r\n\r\n",
      "G(T / HTTP/1.1\r\n\r\n",
      "GET / http/1.1\r\n\r\n",
      "GET / HTTP/1.10\r\n\r\n",
      "GET / HTTP/1\r\n\r\n",
      "GET / HTTP/x.1\r\n\r\n",
      "GET /\t HTTP/1.1\r\n\r\n",
      "GET /\x7f HTTP/1.1\r\n\r\n",
  };
  for (const char *b : bad) {
    HeadVerdict v = VERDICT(b);
    assert_int_equal(v.kind, HeadVerdict::kRefuse);
    assert_int_equal(v.status, 400);
  }
  EXPECT_REFUSED("GET / HTTP/2.0\r\n\r\n", 505, "HTTP version");
  EXPECT_REFUSED("GET /\x01 HTTP/1.1\r\n\r\n", 400, "control character in the request target");
}

void test_header_lines(void **) {
  EXPECT_REFUSED("GET / HTTP/1.1\r\nZz: b\r\n c\r\n\r\n", 400, "obs-fold");
  EXPECT_REFUSED("GET / HTTP/1.1\r\n\tc\r\n\r\n", 400, "obs-fold");
  EXPECT_REFUSED("GET / HTTP/1.1\r\nNo colon\r\n\r\n", 400, "without a colon");
  EXPECT_REFUSED("GET / HTTP/1.1\r\n: b\r\n\r\n", 400, "empty name");
  EXPECT_REFUSED("GET / HTTP/1.1\r\nZz : b\r\n\r\n", 400, "bad character in a header name");
  EXPECT_REFUSED("GET / HTTP/1.1\r\nZz\x01: b\r\n\r\n", 400, "bad character in a header name");
  EXPECT_REFUSED("GET / HTTP/1.1\r\nAb: c\x01\r\n\r\n", 400, "control character in header 'Ab'");
  EXPECT_REFUSED("GET / HTTP/1.1\r\nAb: c\x7f\r\n\r\n", 400, "control character");
  // A long name is cut in the message.
  HeadVerdict v = VERDICT("GET / HTTP/1.1\r\n" + std::string(100, 'n') + ": \x02\r\n\r\n");
  assert_true(v.message.size() < 120);
}

void test_fragile_names(void **) {
  // lws 4.1.6 hangs on (or swallows the next header after) a name that is a
  // proper prefix of one it knows.
  EXPECT_REFUSED("GET / HTTP/1.1\r\nX-A: 1\r\n\r\n", 400, "'X-A' cannot be parsed");
  EXPECT_REFUSED("GET / HTTP/1.1\r\nx-a:\r\nHost: b\r\n\r\n", 400, "prefix of 'x-auth-token'");
  EXPECT_REFUSED("GET / HTTP/1.1\r\nHos: 1\r\n\r\n", 400, "'host'");
  EXPECT_REFUSED("GET / HTTP/1.1\r\nAccept-Enc: 1\r\n\r\n", 400, "'accept-encoding'");
  EXPECT_REFUSED("GET / HTTP/1.1\r\nGet: 1\r\n\r\n", 400, "'get'");
  // Not prefixes: a name that goes past or away from a known one.
  assert_int_equal(VERDICT("GET / HTTP/1.1\r\nX-Auth-Token-2: 1\r\nX-B: 2\r\nHosts: 3\r\n\r\n").kind,
                   HeadVerdict::kOk);
}

void test_refusal_answer(void **) {
  HeadVerdict v = VERDICT("GET /%00 HTTP/1.1\r\n\r\n");
  std::string a = sw::head_refusal(v);
  std::string body = v.message + "\n";
  std::string want =
      "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  assert_string_equal(a.c_str(), want.c_str());
  v.status = 431;
  assert_true(sw::head_refusal(v).rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0) == 0);
}

}  // namespace

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_complete_heads), cmocka_unit_test(test_need_more),
      cmocka_unit_test(test_line_ends),      cmocka_unit_test(test_nul),
      cmocka_unit_test(test_limits),         cmocka_unit_test(test_request_line),
      cmocka_unit_test(test_header_lines),   cmocka_unit_test(test_fragile_names),
      cmocka_unit_test(test_refusal_answer),
  };
  return cmocka_run_group_tests_name("http_head", tests, NULL, NULL);
}
