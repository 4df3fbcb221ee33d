// The WebSocket frame reader (ws_frame_reader.h) and what ssews' own
// handshake is built from (http_request.h, ws_handshake.h, Utf8Stream):
// every frame fed whole and split at every byte gives the same findings.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
// cmocka 1.1.5's header has no extern "C" guard of its own.
extern "C" {
#include <cmocka.h>
}

#include <cstring>
#include <string>
#include <vector>

#include "http_request.h"
#include "utf8.h"
#include "ws_frame_reader.h"
#include "ws_handshake.h"

namespace {

// A frame as a client sends it: masked with a fixed key unless told not to.
std::string frame(int opcode, std::string payload, bool fin = true, bool masked = true, int rsv = 0) {
  std::string f;
  f += static_cast<char>((fin ? 0x80 : 0) | (rsv << 4) | opcode);
  size_t n = payload.size();
  char m = masked ? static_cast<char>(0x80) : 0;
  if (n < 126) {
    f += static_cast<char>(m | static_cast<char>(n));
  } else if (n < 65536) {
    f += static_cast<char>(m | 126);
    f += static_cast<char>(n >> 8);
    f += static_cast<char>(n & 0xff);
  } else {
    f += static_cast<char>(m | 127);
    for (int k = 7; k >= 0; k--) f += static_cast<char>((static_cast<uint64_t>(n) >> (8 * k)) & 0xff);
  }
  if (masked) {
    const char key[4] = {0x12, 0x34, 0x56, 0x78};
    f.append(key, 4);
    for (size_t i = 0; i < n; i++) payload[i] = static_cast<char>(payload[i] ^ key[i & 3]);
  }
  return f + payload;
}

// What a reader found, as one line per finding (data pieces joined per message).
struct Log final : sw::WsFrameReader::Sink {
  std::vector<std::string> lines;
  std::string msg;
  bool on_data(bool binary, bool first, bool last, std::string_view piece) override {
    if (first) msg = binary ? "binary:" : "text:";
    msg.append(piece.data(), piece.size());
    if (last) lines.push_back(msg);
    return true;
  }
  bool on_ping(std::string_view p) override {
    lines.push_back("ping:" + std::string(p));
    return true;
  }
  bool on_pong(std::string_view p) override {
    lines.push_back("pong:" + std::string(p));
    return true;
  }
  void on_close(int code, std::string_view reason) override {
    lines.push_back("close:" + std::to_string(code) + ":" + std::string(reason));
  }
  void on_fail(int code, const std::string &) override { lines.push_back("fail:" + std::to_string(code)); }
};

std::string join(const std::vector<std::string> &v) {
  std::string s;
  for (const auto &l : v) s += l + "|";
  return s;
}

// Feeds bytes whole, then cut at every position, and checks each gives want.
void expect(const std::string &bytes, const std::string &want, uint64_t max = 0, bool server = true) {
  for (size_t cut = 0; cut <= bytes.size(); cut++) {
    std::string b = bytes;
    sw::WsFrameReader r(server, max);
    Log log;
    size_t used = r.feed(reinterpret_cast<uint8_t *>(&b[0]), cut, log);
    if (used == cut && !r.done()) r.feed(reinterpret_cast<uint8_t *>(&b[cut]), b.size() - cut, log);
    std::string got = join(log.lines);
    if (got != want) fail_msg("cut at %zu: got %s, want %s", cut, got.c_str(), want.c_str());
  }
  // And one byte at a time.
  std::string b = bytes;
  sw::WsFrameReader r(server, max);
  Log log;
  for (size_t i = 0; i < b.size() && !r.done(); i++) r.feed(reinterpret_cast<uint8_t *>(&b[i]), 1, log);
  assert_string_equal(join(log.lines).c_str(), want.c_str());
}

}  // namespace

static void test_messages_of_every_length_class(void **) {
  expect(frame(1, "hello"), "text:hello|");
  expect(frame(2, std::string("\0\1\2", 3)), std::string("binary:\0\1\2|", 11));
  expect(frame(1, ""), "text:|");
  std::string mid(300, 'a'), big(70000, 'b');
  expect(frame(1, mid), "text:" + mid + "|");
  std::string b = frame(2, big);  // one feed: the cut loop would be slow
  sw::WsFrameReader r(true, 0);
  Log log;
  r.feed(reinterpret_cast<uint8_t *>(&b[0]), b.size(), log);
  assert_string_equal(join(log.lines).c_str(), ("binary:" + big + "|").c_str());
}

static void test_fragments_with_pings_keep_order(void **) {
  std::string in = frame(2, "", false) + frame(0, "ab", false) + frame(9, "p1") + frame(9, "p2") +
                   frame(0, "cd", false) + frame(10, "x") + frame(0, "", true);
  expect(in, "ping:p1|ping:p2|pong:x|binary:abcd|");
  std::string ten;
  for (int i = 0; i < 10; i++) ten += frame(9, "ping" + std::to_string(i));
  std::string want;
  for (int i = 0; i < 10; i++) want += "ping:ping" + std::to_string(i) + "|";
  expect(ten, want);
}

static void test_protocol_errors(void **) {
  expect(frame(1, "x", true, false), "fail:1002|");           // unmasked from a client
  expect(frame(1, "x", true, true), "fail:1002|", 0, false);  // masked from a server
  expect(frame(1, "x", true, false), "text:x|", 0, false);
  for (int rsv = 1; rsv < 8; rsv++) expect(frame(1, "x", true, true, rsv), "fail:1002|");
  for (int op : {3, 4, 5, 6, 7, 11, 12, 13, 14, 15}) expect(frame(op, "x"), "fail:1002|");
  expect(frame(9, std::string(126, 'p')), "fail:1002|");  // control over 125 bytes
  expect(frame(9, std::string(125, 'p')), "ping:" + std::string(125, 'p') + "|");
  expect(frame(9, "p", false), "fail:1002|");                  // fragmented control
  expect(frame(0, "x"), "fail:1002|");                         // continuation with nothing started
  expect(frame(1, "a", false) + frame(1, "b"), "fail:1002|");  // new message inside one
  std::string huge("\x82\xff\x80\x00\x00\x00\x00\x00\x00\x01\0\0\0\0", 14);
  expect(huge, "fail:1002|");  // 64-bit length with the top bit set
}

static void test_max_message(void **) {
  expect(frame(1, "12345"), "text:12345|", 5);
  expect(frame(1, "123456"), "fail:1009|", 5);
  expect(frame(1, "123", false) + frame(0, "456"), "fail:1009|", 5);
  // Refused from the header alone, before any payload.
  std::string head = frame(2, std::string(1000, 'x')).substr(0, 8);
  expect(head, "fail:1009|", 100);
}

static void test_utf8(void **) {
  expect(frame(1, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"),
         "text:\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5|");
  // A character split between fragments is fine.
  expect(frame(1, "\xce", false) + frame(0, "\xba"), "text:\xce\xba|");
  // Fail fast: the bad byte fails in its own fragment, before the message ends.
  expect(frame(1, "ok\xff", false), "fail:1007|");
  expect(frame(1, "\xed\xa0\x80"), "fail:1007|");  // a surrogate
  expect(frame(1, "\xce"), "fail:1007|");          // unfinished at the end
  expect(frame(1, "\xce", false) + frame(0, ""), "fail:1007|");
  expect(frame(2, "\xff"), "binary:\xff|");  // binary is not checked
}

static void test_close_frames(void **) {
  expect(frame(8, ""), "close:1005:|");
  expect(frame(8, "\x03\xe8"), "close:1000:|");
  expect(frame(8,
               "\x0f\xa0"
               "bye"),
         "close:4000:bye|");
  expect(frame(8, "\x03"), "fail:1002|");                    // one byte
  expect(frame(8, "\x03\xed"), "fail:1002|");                // 1005 may not be sent
  expect(frame(8, "\x03\xe8\xff"), "fail:1007|");            // reason not UTF-8
  expect(frame(8, "") + frame(1, "after"), "close:1005:|");  // nothing after a close
}

static void test_utf8_stream_agrees_with_whole_check(void **) {
  const char *samples[] = {"plain",
                           "\xc3\xa9t\xc3\xa9",
                           "\xe2\x82\xac",
                           "\xf0\x9f\x98\x80",
                           "\xf4\x8f\xbf\xbf",
                           "\xf4\x90\x80\x80",
                           "\xc0\xaf",
                           "\xe0\x80\xaf",
                           "\xed\xbf\xbf",
                           "\x80",
                           "\xf8\x88\x80\x80\x80",
                           "a\xe2\x82"};
  for (const char *s : samples) {
    std::string v = s;
    bool whole = sw::utf8_valid(v);
    for (size_t cut = 0; cut <= v.size(); cut++) {
      for (size_t cut2 = cut; cut2 <= v.size(); cut2++) {
        sw::Utf8Stream u;
        bool ok = u.feed(std::string_view(v).substr(0, cut)) &&
                  u.feed(std::string_view(v).substr(cut, cut2 - cut)) &&
                  u.feed(std::string_view(v).substr(cut2)) && u.complete();
        if (ok != whole)
          fail_msg("'%s' cut at %zu,%zu: stream says %d, whole says %d", s, cut, cut2, ok, whole);
      }
    }
  }
}

static void test_request_parse_decodes_like_lws(void **) {
  sw::HttpRequest r;
  std::string err;
  assert_true(
      sw::parse_http_request("GET //a/./b/../c+d?channel=x%20y&last_event_id=7;k%3Dv=1 HTTP/1.1\r\nHost: "
                             "h\r\nUpgrade:  WebSocket \r\n"
                             "Connection: keep-alive, Upgrade\r\n\r\n",
                             r, err));
  assert_string_equal(r.method.c_str(), "GET");
  assert_string_equal(r.path.c_str(), "/a/c d");
  assert_int_equal(r.query.size(), 3);
  assert_string_equal(r.query[0].c_str(), "channel=x y");
  assert_string_equal(r.query[2].c_str(), "k_v=1");
  assert_string_equal(r.header("upgrade")->c_str(), "WebSocket");
  assert_true(r.header_has_token("upgrade", "websocket"));
  assert_true(r.header_has_token("connection", "upgrade"));
  assert_false(r.header_has_token("connection", "close"));
  assert_false(sw::parse_http_request("GET /a?x=%zz HTTP/1.1\r\n\r\n", r, err));
  assert_false(err.empty());
}

static void test_handshake(void **) {
  // RFC 6455 section 1.3's example.
  assert_string_equal(sw::ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==").c_str(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  auto check = [](const char *head) {
    sw::HttpRequest r;
    std::string err;
    assert_true(sw::parse_http_request(head, r, err));
    return sw::ws_check_upgrade(r);
  };
  const char *good =
      "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
  assert_int_equal(check((std::string(good) + "\r\n").c_str()).status, 0);
  auto v1 = check((std::string(good) + "Sec-WebSocket-Protocol: chat, ssews.v1\r\n\r\n").c_str());
  assert_int_equal(v1.status, 0);
  assert_string_equal(v1.protocol.c_str(), "ssews.v1");
  assert_int_equal(check((std::string(good) + "Sec-WebSocket-Protocol: chat\r\n\r\n").c_str()).status, 400);
  assert_int_equal(check("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n")
                       .status,
                   426);
  assert_int_equal(check("POST / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                       .status,
                   405);
  assert_int_equal(check("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n"
                         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                       .status,
                   400);
  assert_int_equal(check("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n")
                       .status,
                   400);
  std::string r = sw::ws_refusal(426, "unsupported Sec-WebSocket-Version 8");
  assert_non_null(strstr(r.c_str(), "HTTP/1.1 426 Upgrade Required\r\n"));
  assert_non_null(strstr(r.c_str(), "Sec-WebSocket-Version: 13\r\n"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_messages_of_every_length_class),
      cmocka_unit_test(test_fragments_with_pings_keep_order),
      cmocka_unit_test(test_protocol_errors),
      cmocka_unit_test(test_max_message),
      cmocka_unit_test(test_utf8),
      cmocka_unit_test(test_close_frames),
      cmocka_unit_test(test_utf8_stream_agrees_with_whole_check),
      cmocka_unit_test(test_request_parse_decodes_like_lws),
      cmocka_unit_test(test_handshake),
  };
  return cmocka_run_group_tests_name("ws_frame_reader", tests, nullptr, nullptr);
}
