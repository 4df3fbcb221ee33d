// h2_refuse_connect_protocol: the server's SETTINGS frame loses RFC 8441's
// extended CONNECT, at every split point, and nothing else changes.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
// cmocka 1.1.5's header has no extern "C" guard of its own.
extern "C" {
#include <cmocka.h>
}

#include <algorithm>
#include <string>
#include <vector>

#include "h2_preface.h"

using sw::h2_refuse_connect_protocol;
using sw::H2Preface;

namespace {

std::string frame(uint8_t type, const std::string &payload) {
  std::string f;
  f += static_cast<char>(payload.size() >> 16);
  f += static_cast<char>(payload.size() >> 8);
  f += static_cast<char>(payload.size());
  f += static_cast<char>(type);
  f += '\0';
  f += std::string(4, '\0');
  return f + payload;
}

std::string param(uint16_t id, uint32_t v) {
  std::string p;
  p += static_cast<char>(id >> 8);
  p += static_cast<char>(id);
  for (int s = 24; s >= 0; s -= 8) p += static_cast<char>(v >> s);
  return p;
}

}  // namespace

static void test_enable_connect_protocol_is_zeroed_at_every_split(void **) {
  // What lws 4.1.6 sends: its settings, ENABLE_CONNECT_PROTOCOL = 1 among them.
  std::string settings = param(1, 65536) + param(3, 1000) + param(4, 0) + param(5, 16384) + param(8, 1);
  std::string expect = param(1, 65536) + param(3, 1000) + param(4, 0) + param(5, 16384) + param(8, 0);
  std::string after = frame(0x8, std::string("\0\0\0\x10", 4));  // a WINDOW_UPDATE behind it
  std::string wire = frame(0x4, settings) + after;
  std::string want = frame(0x4, expect) + after;
  for (size_t cut = 0; cut <= wire.size(); cut++) {
    std::string b = wire.substr(0, cut);
    H2Preface r = h2_refuse_connect_protocol(b);
    bool whole = cut >= 9 + settings.size();
    assert_int_equal(static_cast<int>(r), static_cast<int>(whole ? H2Preface::Done : H2Preface::NeedMore));
    if (whole) assert_true(b == want.substr(0, cut));  // only the parameter's value changes
  }
}

static void test_other_first_frames_are_left_alone(void **) {
  // Without the parameter: untouched.
  std::string plain = frame(0x4, param(3, 100));
  std::string copy = plain;
  assert_true(h2_refuse_connect_protocol(copy) == H2Preface::Done && copy == plain);
  // Not SETTINGS first, or a malformed length: left to the peer.
  std::string ping = frame(0x6, std::string(8, 'x'));
  copy = ping;
  assert_true(h2_refuse_connect_protocol(copy) == H2Preface::Done && copy == ping);
  std::string odd = frame(0x4, std::string(7, '\x08'));
  copy = odd;
  assert_true(h2_refuse_connect_protocol(copy) == H2Preface::Done && copy == odd);
  // An empty SETTINGS frame is whole at 9 bytes.
  std::string empty = frame(0x4, "");
  assert_true(h2_refuse_connect_protocol(empty) == H2Preface::Done);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_enable_connect_protocol_is_zeroed_at_every_split),
      cmocka_unit_test(test_other_first_frames_are_left_alone),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
