// libFuzzer target for sw::H2RequestHeaders (a client's HTTP/2 bytes on
// their way to lws through the TLS relay, header blocks decoded and encoded
// again).
//
// Input: the first byte is the piece size (1-256) the rest is fed in; the
// rest is what the client sent after its 24-byte preface (the target puts
// the preface in front). Half the inputs also get a real request's header
// block in front, so the decoder's dynamic table is in use.
//
// Invariants (abort() on violation): what comes out starts with the
// preface and is whole frames after it, none larger than the input allows;
// once feed() refuses it gives a reason; the same input fed whole and in
// pieces gives the same output and verdict.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "h2_request_headers.h"

namespace {

const std::string kPreface("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);

bool run(const std::string &in, size_t piece, std::string &out) {
  sw::H2RequestHeaders h(4096);
  for (size_t at = 0; at < in.size(); at += piece) {
    size_t n = std::min(piece, in.size() - at);
    if (!h.feed(in.data() + at, n, out)) {
      fuzz::check(!h.why().empty());
      return false;
    }
  }
  return true;
}

void frames_whole(const std::string &out) {
  fuzz::check(out.compare(0, kPreface.size(), kPreface) == 0 || out.size() < kPreface.size());
  for (size_t at = kPreface.size(); at < out.size();) {
    fuzz::check(at + 9 <= out.size());
    size_t len = static_cast<uint8_t>(out[at]) << 16 | static_cast<uint8_t>(out[at + 1]) << 8 |
                 static_cast<uint8_t>(out[at + 2]);
    fuzz::check(at + 9 + len <= out.size());
    at += 9 + len;
  }
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
    frames_whole(whole);
  }
  return 0;
}
