// libFuzzer target for sw::v1_decode_binary (ssews.v1 binary frames).
//
// Invariant (abort() on violation): the binary form is canonical, so what
// decodes re-encodes with v1_encode_binary to exactly the input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "v1_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view in(reinterpret_cast<const char *>(data), size);
  sw::V1Message m;
  if (!sw::v1_decode_binary(in, m)) return 0;
  std::string again;
  sw::v1_encode_binary(again, m.channel, m.event, m.id, m.data);
  fuzz::check(again == in);
  return 0;
}
