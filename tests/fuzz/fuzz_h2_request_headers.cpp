// libFuzzer target for sw::H2RequestHeaders (a client's HTTP/2 bytes on
// their way to lws through the TLS relay, header blocks decoded and encoded
// again).
//
// Input: the first byte is the piece size (1-256) the rest is fed in; the
// rest is what the client sent after its 24-byte preface (the target puts
// the preface in front). Half the inputs also get a real request's header
// block in front, so the decoder's dynamic table is in use.
//
// Invariants (abort() on violation): what comes out is the preface, then
// units of one whole frame each;
// once feed() refuses it gives a reason; the same input fed whole and in
// pieces gives the same output and verdict.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>

#include "fuzz_util.h"
#include "h2_request_headers.h"

namespace {

const std::string kPreface("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);

// Feeds in in pieces of piece bytes; out gets the units joined. Each unit
// is the preface or one whole frame.
bool run(const std::string &in, size_t piece, std::string &out) {
  sw::H2RequestHeaders h(4096);
  std::deque<std::string> units;
  for (size_t at = 0; at < in.size(); at += piece) {
    size_t n = std::min(piece, in.size() - at);
    if (!h.feed(in.data() + at, n, units)) {
      fuzz::check(!h.why().empty());
      return false;
    }
  }
  bool first = true;
  for (const auto &u : units) {
    if (first) {
      fuzz::check(u == kPreface);
    } else {
      fuzz::check(u.size() >= 9);
      size_t len =
          static_cast<uint8_t>(u[0]) << 16 | static_cast<uint8_t>(u[1]) << 8 | static_cast<uint8_t>(u[2]);
      fuzz::check(u.size() == 9 + len);
    }
    first = false;
    out += u;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  size_t piece = static_cast<size_t>(data[0]) + 1;
  std::string in = kPreface;
  // HEADERS for stream 1: ":method: GET" (indexed 2), ":path" literal with
  // incremental indexing, "last-event-id: 7" literal with a literal name.
  if (data[0] & 1) {
    static const char kBlock[] =
        "\x82\x44\x05/a?b=\x40\x0dlast-event-id\x01"
        "7";
    std::string block(kBlock, sizeof kBlock - 1);
    std::string f = {0, 0, static_cast<char>(block.size()), 0x1, 0x4, 0, 0, 0, 1};
    in += f + block;
  }
  in.append(reinterpret_cast<const char *>(data + 1), size - 1);
  std::string whole, cut;
  bool a = run(in, in.size(), whole);
  bool b = run(in, piece, cut);
  fuzz::check(a == b);
  if (a) {
    fuzz::check(whole == cut);
  }
  return 0;
}
