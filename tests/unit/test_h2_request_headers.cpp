// H2RequestHeaders: a client's header blocks (written by nghttp2's own
// encoder, its dynamic table in use) come out for lws with last-event-id
// moved into :path, everything else as it was, however the bytes are cut;
// padded, prioritised and CONTINUATION-split blocks too; garbage is refused.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
// cmocka 1.1.5's header has no extern "C" guard of its own.
extern "C" {
#include <cmocka.h>
}

#include <nghttp2/nghttp2.h>

#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "h2_request_headers.h"

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

const std::string kPreface("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);

std::string frame(uint8_t type, uint8_t flags, uint32_t sid, const std::string &payload) {
  std::string f;
  f += static_cast<char>(payload.size() >> 16);
  f += static_cast<char>(payload.size() >> 8);
  f += static_cast<char>(payload.size());
  f += static_cast<char>(type);
  f += static_cast<char>(flags);
  for (int s = 24; s >= 0; s -= 8) f += static_cast<char>(sid >> s);
  return f + payload;
}

std::string encode(nghttp2_hd_deflater *d, Headers hs) {
  std::vector<nghttp2_nv> nva;
  for (auto &h : hs)
    nva.push_back({reinterpret_cast<uint8_t *>(&h.first[0]), reinterpret_cast<uint8_t *>(&h.second[0]),
                   h.first.size(), h.second.size(), NGHTTP2_NV_FLAG_NONE});
  std::string out(nghttp2_hd_deflate_bound(d, nva.data(), nva.size()), '\0');
  ssize_t n =
      nghttp2_hd_deflate_hd(d, reinterpret_cast<uint8_t *>(&out[0]), out.size(), nva.data(), nva.size());
  assert_true(n >= 0);
  out.resize(static_cast<size_t>(n));
  return out;
}

// Reads what came out: the preface, then frames; header blocks decoded
// (a table of their own, as lws keeps). Returns the blocks, and the types of
// all frames in order.
std::vector<Headers> decode(const std::string &out, std::vector<int> &types) {
  assert_true(out.compare(0, 24, kPreface) == 0);
  nghttp2_hd_inflater *in = nullptr;
  assert_int_equal(nghttp2_hd_inflate_new(&in), 0);
  std::vector<Headers> blocks;
  std::string block;
  for (size_t at = 24; at < out.size();) {
    assert_true(at + 9 <= out.size());
    size_t len = static_cast<uint8_t>(out[at]) << 16 | static_cast<uint8_t>(out[at + 1]) << 8 |
                 static_cast<uint8_t>(out[at + 2]);
    int type = static_cast<uint8_t>(out[at + 3]), flags = static_cast<uint8_t>(out[at + 4]);
    assert_true(at + 9 + len <= out.size());
    assert_true(len <= 16384);
    types.push_back(type);
    if (type == 0x1 || type == 0x9) {
      assert_int_equal(flags & 0x28, 0);  // no padding, no priority
      block.append(out, at + 9, len);
      if (flags & 0x4) {
        Headers hs;
        const auto *p = reinterpret_cast<const uint8_t *>(block.data());
        size_t left = block.size();
        for (;;) {
          nghttp2_nv nv;
          int f = 0;
          ssize_t used = nghttp2_hd_inflate_hd2(in, &nv, &f, p, left, 1);
          assert_true(used >= 0);
          p += used;
          left -= static_cast<size_t>(used);
          if (f & NGHTTP2_HD_INFLATE_EMIT)
            hs.emplace_back(std::string(reinterpret_cast<const char *>(nv.name), nv.namelen),
                            std::string(reinterpret_cast<const char *>(nv.value), nv.valuelen));
          if (f & NGHTTP2_HD_INFLATE_FINAL) {
            nghttp2_hd_inflate_end_headers(in);
            break;
          }
        }
        blocks.push_back(hs);
        block.clear();
      }
    }
    at += 9 + len;
  }
  nghttp2_hd_inflate_del(in);
  return blocks;
}

// Feeds len bytes in one call; returns the units joined, each checked to be
// the preface or one whole frame.
bool feed(sw::H2RequestHeaders &rh, const char *p, size_t len, std::string &out) {
  std::deque<std::string> units;
  bool ok = rh.feed(p, len, units);
  for (const auto &u : units) {
    if (u != kPreface) {
      assert_true(u.size() >= 9);
      assert_int_equal(u.size(), 9 + (static_cast<uint8_t>(u[0]) << 16 | static_cast<uint8_t>(u[1]) << 8 |
                                      static_cast<uint8_t>(u[2])));
    }
    out += u;
  }
  return ok;
}

Headers request(const char *path, const char *last_id) {
  Headers h = {{":method", "GET"},
               {":scheme", "https"},
               {":authority", "127.0.0.1:8443"},
               {":path", path},
               {"accept", "text/event-stream"}};
  if (last_id) h.emplace_back("last-event-id", last_id);
  h.emplace_back("user-agent", "test");
  return h;
}

}  // namespace

static void test_last_event_id_moves_into_the_path_at_every_split(void **) {
  nghttp2_hd_deflater *d = nullptr;
  assert_int_equal(nghttp2_hd_deflate_new(&d, 4096), 0);
  std::string wire = kPreface + frame(0x4, 0, 0, std::string(6, '\0'));  // SETTINGS
  wire += frame(0x1, 0x5, 1, encode(d, request("/events?channel=a", "42-7")));
  wire +=
      frame(0x1, 0x5, 3, encode(d, request("/events?channel=a", "id with space")));  // table entries reused
  wire += frame(0x1, 0x5, 5, encode(d, request("/plain", nullptr)));
  wire += frame(0x0, 0x1, 7, "body");
  nghttp2_hd_deflate_del(d);
  for (size_t piece = 1; piece <= wire.size(); piece = piece < 40 ? piece + 1 : piece * 2) {
    sw::H2RequestHeaders rh;
    std::string out;
    for (size_t at = 0; at < wire.size(); at += piece)
      assert_true(feed(rh, wire.data() + at, std::min(piece, wire.size() - at), out));
    std::vector<int> types;
    std::vector<Headers> blocks = decode(out, types);
    assert_true(types == std::vector<int>({0x4, 0x1, 0x1, 0x1, 0x0}));
    assert_int_equal(blocks.size(), 3);
    Headers want1 = request("/events?last_event_id=42-7&channel=a", nullptr);
    Headers want2 = request("/events?last_event_id=id%20with%20space&channel=a", nullptr);
    assert_true(blocks[0] == want1);
    assert_true(blocks[1] == want2);
    assert_true(blocks[2] == request("/plain", nullptr));
  }
}

static void test_padded_prioritised_and_continued_blocks(void **) {
  nghttp2_hd_deflater *d = nullptr;
  assert_int_equal(nghttp2_hd_deflate_new(&d, 4096), 0);
  std::string block = encode(d, request("/x", "9"));
  nghttp2_hd_deflate_del(d);
  // PADDED (3 bytes of padding) and PRIORITY, the block split over a CONTINUATION.
  std::string first =
      std::string("\x03", 1) + std::string("\x00\x00\x00\x00\x10", 5) + block.substr(0, 5) + "pad";
  std::string wire = kPreface + frame(0x1, 0x08 | 0x20 | 0x1, 1, first) + frame(0x9, 0x4, 1, block.substr(5));
  sw::H2RequestHeaders rh;
  std::string out;
  assert_true(feed(rh, wire.data(), wire.size(), out));
  std::vector<int> types;
  std::vector<Headers> blocks = decode(out, types);
  assert_int_equal(blocks.size(), 1);
  assert_true(blocks[0] == request("/x?last_event_id=9", nullptr));
  assert_int_equal(static_cast<uint8_t>(out[24 + 4]) & 0x1, 0x1);  // END_STREAM kept
}

static void test_bad_blocks_are_refused(void **) {
  {
    sw::H2RequestHeaders rh;
    std::string out, wire = kPreface + frame(0x1, 0x4, 1, std::string("\xff\xff\xff\xff\xff", 5));
    assert_false(feed(rh, wire.data(), wire.size(), out));
    assert_false(rh.why().empty());
  }
  {
    sw::H2RequestHeaders rh;  // a CONTINUATION out of the blue
    std::string out, wire = kPreface + frame(0x9, 0x4, 1, "x");
    assert_false(feed(rh, wire.data(), wire.size(), out));
  }
  {
    sw::H2RequestHeaders rh(100);  // a block over the bound
    std::string out,
        wire = kPreface + frame(0x1, 0x0, 1, std::string(80, 'a')) + frame(0x9, 0x0, 1, std::string(80, 'a'));
    assert_false(feed(rh, wire.data(), wire.size(), out));
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_last_event_id_moves_into_the_path_at_every_split),
      cmocka_unit_test(test_padded_prioritised_and_continued_blocks),
      cmocka_unit_test(test_bad_blocks_are_refused),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
