// libFuzzer target for the HTTP/2 bytes the TLS relay looks at (h2_preface.h):
// lws' first frames (h2_refuse_connect_protocol) and a client's stream cut
// into its preface and frames (H2FrameEnds).
//
// Input: the first byte is the piece size the client's bytes are fed in
// (1-256); the rest is both lws' output and the client's stream.
//
// Invariants (abort() on violation):
// - refuse_connect_protocol: NeedMore on every proper prefix of what makes
//   Done; once Done, the bytes differ from the input only inside the first
//   frame's payload, only in ENABLE_CONNECT_PROTOCOL values, which are 0.
// - H2FrameEnds: every take() returns 1..n, ends a unit or takes all n, and
//   the units are the same whatever the piece size (compared with n = all).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "h2_preface.h"

namespace {

std::vector<size_t> units(const std::string &in, size_t piece, size_t &tail) {
  sw::H2FrameEnds ends;
  std::vector<size_t> out;
  size_t unit = 0;
  for (size_t at = 0; at < in.size();) {
    size_t n = std::min(piece, in.size() - at);
    size_t k = ends.take(reinterpret_cast<const unsigned char *>(in.data()) + at, n);
    fuzz::check(k >= 1 && k <= n);
    fuzz::check(ends.ended() || k == n);
    unit += k;
    at += k;
    if (ends.ended()) out.push_back(unit), unit = 0;
  }
  tail = unit;
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  size_t piece = static_cast<size_t>(data[0]) + 1;
  std::string in(reinterpret_cast<const char *>(data + 1), size - 1);

  std::string whole = in;
  sw::H2Preface r = sw::h2_refuse_connect_protocol(whole);
  if (r == sw::H2Preface::Done) {
    for (size_t cut = 0; cut < in.size(); cut++) {
      std::string prefix = in.substr(0, cut);
      sw::H2Preface p = sw::h2_refuse_connect_protocol(prefix);
      if (p == sw::H2Preface::NeedMore) continue;
      fuzz::check(prefix == whole.substr(0, cut));  // a prefix that is Done agrees with the whole
    }
    fuzz::check(whole.size() == in.size());
    for (size_t i = 0; i < in.size(); i++) {
      if (whole[i] == in[i]) continue;
      // Only inside the first frame's payload, a parameter's value bytes, made 0.
      fuzz::check(i >= 9 && whole[i] == 0);
      size_t at = (i - 9) / 6 * 6 + 9;
      fuzz::check(static_cast<uint8_t>(in[at]) == 0 && static_cast<uint8_t>(in[at + 1]) == 8 && i >= at + 2);
    }
  } else {
    fuzz::check(whole == in);
  }

  size_t tail_all = 0, tail_piece = 0;
  std::vector<size_t> all = units(in, in.size() ? in.size() : 1, tail_all);
  std::vector<size_t> cut = units(in, piece, tail_piece);
  fuzz::check(all == cut && tail_all == tail_piece);
  return 0;
}
