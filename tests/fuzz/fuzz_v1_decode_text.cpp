// libFuzzer target for sw::v1_decode_text (ssews.v1 text frames, JSON).
//
// Invariants (abort() on violation):
//  - What decodes, re-encoded with v1_encode_text, is valid UTF-8 and decodes
//    again; when every decoded field is UTF-8 it decodes to the same fields.
//  - json_quote writes valid UTF-8 whatever it is given (the input itself is
//    quoted too).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "utf8.h"
#include "v1_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view in(reinterpret_cast<const char *>(data), size);
  std::string quoted;
  sw::json_quote(quoted, in);
  fuzz::check(sw::utf8_valid(quoted));
  sw::V1Message m;
  if (!sw::v1_decode_text(in, m)) return 0;
  std::string again;
  sw::v1_encode_text(again, m.channel, m.event, m.id, m.data);
  fuzz::check(sw::utf8_valid(again));
  sw::V1Message m2;
  fuzz::check(sw::v1_decode_text(again, m2));
  if (sw::utf8_valid(m.channel) && sw::utf8_valid(m.event) && sw::utf8_valid(m.id) && sw::utf8_valid(m.data))
    fuzz::check(m2.channel == m.channel && m2.event == m.event && m2.id == m.id && m2.data == m.data);
  return 0;
}
