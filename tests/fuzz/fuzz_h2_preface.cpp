// libFuzzer target for lws' first HTTP/2 bytes as the TLS relay rewrites
// them (h2_refuse_connect_protocol, h2_preface.h).
//
// Input: the first byte is ignored (the seeds keep it); the rest is lws'
// output.
//
// Invariants (abort() on violation): NeedMore on every proper prefix of
// what makes Done; once Done, the bytes differ from the input only inside
// the first frame's payload, only in ENABLE_CONNECT_PROTOCOL values, which
// are 0.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "h2_preface.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
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

  return 0;
}
